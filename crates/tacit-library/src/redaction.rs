//! Redacting recorded events: one rule set for the recorder on the laptop
//! and for the server, which redacts again whatever it receives.

use tacit_core::EventBody;
use tacit_redact::Redactor;

/// Redacts every text of an event, the way the recorder does: prose with
/// the prose rules, everything else with the token rules, and the whole
/// output of a command that prints secrets.
pub fn redact_event(redactor: &Redactor, body: &mut EventBody) {
    let prose = matches!(
        body,
        EventBody::Note { .. }
            | EventBody::Answer(_)
            | EventBody::Why { .. }
            | EventBody::Escalate { .. }
            | EventBody::Deviation { .. }
    );
    let secret_output = match &*body {
        EventBody::Command(c) => tacit_redact::prints_secret(&c.command),
        _ => false,
    };
    body.map_text(&|s| {
        if prose {
            redactor.redact_prose(s).into_owned()
        } else {
            redactor.redact(s).into_owned()
        }
    });
    if secret_output && let EventBody::Command(c) = body {
        c.output = redactor.redact_secret_output(&c.output).into_owned();
    }
}
