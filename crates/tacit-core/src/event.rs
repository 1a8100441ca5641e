//! Runs and the events recorded in them.

use serde::{Deserialize, Serialize};

/// Where a run stands. `Interrupted` means the recorder died (SIGKILL, a
/// closed terminal) before the shell exited: every finished command is still
/// there, but the run did not end on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Recording,
    Completed,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Recording => "recording",
            RunStatus::Completed => "completed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "recording" => Some(RunStatus::Recording),
            "completed" => Some(RunStatus::Completed),
            "interrupted" => Some(RunStatus::Interrupted),
            _ => None,
        }
    }
}

/// One recording session, as known when it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub id: String,
    /// The procedure this run belongs to, e.g. `deploy-web`.
    pub name: String,
    /// `bash`, `zsh` or `fish`.
    pub shell: String,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub status: RunStatus,
    pub host: String,
    pub user: String,
    pub start_cwd: String,
    /// Lets a later `tacit` tell a live recording from a dead one.
    pub recorder_pid: Option<u32>,
    pub tacit_version: String,
    /// Terminal width and height at the start, for cast export.
    pub cols: u16,
    pub rows: u16,
    /// For a guided run: the SOP and version it followed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sop_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sop_version: Option<u32>,
    /// For a run imported from a cast or shell history: when it was
    /// imported (runs list by it, so a fresh import of an old cast is
    /// found at the top).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_at_ms: Option<i64>,
}

/// One event of a run. `seq` is dense and starts at 1 within a run, so a gap
/// or a duplicate is detectable when a journal is replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub at_ms: i64,
    #[serde(flatten)]
    pub body: EventBody,
}

/// What happened. Commands carry their own timing; everything else is a mark
/// the operator made (from the question prompt or an in-session command).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    Command(CommandRecord),
    /// The operator's answer to "What did you do about this, and why?".
    Answer(Answer),
    Note {
        text: String,
    },
    /// Groups the commands that follow under a named step.
    Step {
        title: String,
    },
    /// The reason for the command with sequence number `command_seq`.
    Why {
        command_seq: u64,
        text: String,
    },
    /// The command with sequence number `command_seq` verifies success.
    Check {
        command_seq: u64,
    },
    /// The command with sequence number `command_seq` checks a prerequisite.
    Prereq {
        command_seq: u64,
    },
    /// A condition under which someone must stop and call for help.
    Escalate {
        text: String,
    },
    /// Something tacit itself wants on the record (e.g. the disk filled up).
    Warning {
        text: String,
    },
    /// A guided run applied one of the SOP's decision rules.
    RuleApplied {
        step: String,
        when: String,
        then: String,
    },
    /// A guided run did not follow a step as written, and why.
    Deviation {
        step: String,
        /// skipped, done by hand, edited to …
        what: String,
        reason: String,
    },
    /// A guided run finished a step (`status`: ok, rule applied, edited,
    /// skipped, done by hand). `--resume` starts after the last of these.
    StepDone {
        title: String,
        status: String,
        #[serde(default)]
        duration_ms: i64,
    },
    /// How a guided run ended: succeeded, failed, aborted, escalated or
    /// unresolved.
    Outcome {
        outcome: String,
        summary: String,
    },
    /// Work done outside the shell, recorded by whoever did it: an API
    /// request, a browser action, a message sent (an agent's
    /// `record_step`). Kept apart from commands: it drafts into a manual
    /// step, never into a command to run.
    Action {
        /// The tool used (`http`, `browser`, `slack`…).
        tool: String,
        /// What was done, in a few words.
        action: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        arguments: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        result: String,
        /// Whether it worked, when the tool said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ok: Option<bool>,
    },
    /// The parameter values a guided run was started with (secret ones are
    /// never kept): `--resume` goes on with the same values.
    Params {
        values: std::collections::BTreeMap<String, String>,
    },
}

impl EventBody {
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Command(_) => "command",
            EventBody::Answer(_) => "answer",
            EventBody::Note { .. } => "note",
            EventBody::Step { .. } => "step",
            EventBody::Why { .. } => "why",
            EventBody::Check { .. } => "check",
            EventBody::Prereq { .. } => "prereq",
            EventBody::Escalate { .. } => "escalate",
            EventBody::Warning { .. } => "warning",
            EventBody::RuleApplied { .. } => "rule_applied",
            EventBody::Deviation { .. } => "deviation",
            EventBody::Outcome { .. } => "outcome",
            EventBody::StepDone { .. } => "step_done",
            EventBody::Params { .. } => "params",
            EventBody::Action { .. } => "action",
        }
    }

    /// Applies `f` to every free-text field the operator or a program
    /// produced. Redaction uses this so that no text field can be forgotten
    /// when a new event kind is added: the match below must name them all.
    pub fn map_text(&mut self, f: &dyn Fn(&str) -> String) {
        match self {
            EventBody::Command(c) => {
                c.command = f(&c.command);
                c.cwd = f(&c.cwd);
                c.output = f(&c.output);
            }
            EventBody::Answer(a) => {
                a.action = f(&a.action);
                a.reason = f(&a.reason);
                if let Some(e) = &mut a.escalate {
                    *e = f(e);
                }
            }
            EventBody::Note { text }
            | EventBody::Why { text, .. }
            | EventBody::Escalate { text }
            | EventBody::Warning { text } => *text = f(text),
            EventBody::Step { title } => *title = f(title),
            EventBody::RuleApplied { step, when, then } => {
                *step = f(step);
                *when = f(when);
                *then = f(then);
            }
            EventBody::Deviation { step, what, reason } => {
                *step = f(step);
                *what = f(what);
                *reason = f(reason);
            }
            EventBody::StepDone { title, status, .. } => {
                *title = f(title);
                *status = f(status);
            }
            EventBody::Outcome { outcome, summary } => {
                *outcome = f(outcome);
                *summary = f(summary);
            }
            EventBody::Action {
                tool,
                action,
                arguments,
                result,
                ..
            } => {
                *tool = f(tool);
                *action = f(action);
                *arguments = f(arguments);
                *result = f(result);
            }
            EventBody::Params { values } => {
                for v in values.values_mut() {
                    *v = f(v);
                }
            }
            EventBody::Check { .. } | EventBody::Prereq { .. } => {}
        }
    }
}

/// What is stored instead of a command typed with a leading space: the
/// shells' way of saying "keep this out of history" is honoured as "keep it
/// out of the record" (its output too). Only that a command ran, where, how
/// long and its exit code are kept.
pub const UNRECORDED_COMMAND: &str = "[not recorded: typed with a leading space]";

/// A finished command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// The command line exactly as typed (after redaction).
    pub command: String,
    /// The working folder the command started in.
    pub cwd: String,
    pub started_at_ms: i64,
    pub duration_ms: i64,
    /// `None` when the shell could not report one.
    pub exit_code: Option<i32>,
    /// What the screen showed: escape codes, `\r` and backspaces resolved.
    pub output: String,
    /// Raw bytes the command printed.
    pub output_bytes: u64,
    /// Raw bytes left out of `output` because of the per-command cap.
    pub output_dropped_bytes: u64,
    /// The command switched to the alternate screen (vim, less, top): what it
    /// drew there is not output.
    #[serde(default)]
    pub full_screen: bool,
}

/// Why tacit asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AskTrigger {
    Failure,
    Risky,
}

/// The operator's answer: the most valuable data tacit holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The command the question was about.
    pub command_seq: u64,
    pub trigger: AskTrigger,
    /// What they did.
    pub action: String,
    /// Why: the principle behind the action.
    pub reason: String,
    /// When someone should stop and escalate instead.
    pub escalate: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_json_with_a_kind_tag() {
        let e = Event {
            seq: 3,
            at_ms: 10,
            body: EventBody::Why {
                command_seq: 2,
                text: "because".into(),
            },
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains(r#""kind":"why""#), "{json}");
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn map_text_reaches_every_answer_field() {
        let mut body = EventBody::Answer(Answer {
            command_seq: 1,
            trigger: AskTrigger::Failure,
            action: "a".into(),
            reason: "r".into(),
            escalate: Some("e".into()),
        });
        body.map_text(&|s| s.to_uppercase());
        let EventBody::Answer(a) = body else { panic!() };
        assert_eq!(
            (a.action.as_str(), a.reason.as_str(), a.escalate.as_deref()),
            ("A", "R", Some("E"))
        );
    }
}
