//! Where a recording's events go: redacted, then appended to the journal.

use tacit_capture::session::{EventSink, Recorded};
use tacit_core::{Event, EventBody, RunStatus, now_ms};
use tacit_redact::Redactor;
use tacit_store::journal::JournalWriter;

/// Redacts every event, then journals it. A full disk never stops the
/// recording: events wait in memory and the operator is told once.
pub struct JournalSink {
    pub journal: JournalWriter,
    redactor: Redactor,
    next_seq: u64,
    warned: bool,
    /// Values known to be secret (a guided run's secret parameters), with
    /// the name their marker gets. Patterns cannot know these.
    secrets: Vec<(String, String)>,
}

impl JournalSink {
    pub fn new(journal: JournalWriter, redactor: Redactor) -> Self {
        JournalSink {
            journal,
            redactor,
            next_seq: 1,
            warned: false,
            secrets: Vec::new(),
        }
    }

    /// Continue numbering after `seq` events already in the journal.
    pub fn starting_at(mut self, next_seq: u64) -> Self {
        self.next_seq = next_seq;
        self
    }

    /// Also replace these literal values (`(value, name)`) wherever they
    /// appear, before the pattern rules run.
    pub fn with_secrets(mut self, secrets: Vec<(String, String)>) -> Self {
        self.secrets = secrets.into_iter().filter(|(v, _)| !v.is_empty()).collect();
        self
    }

    /// Closes the journal. On a full disk it tries a few more times, since
    /// space often frees up within seconds (a log rotated, a temp file gone).
    pub fn finish(&mut self, status: RunStatus) -> Result<(), tacit_store::StoreError> {
        let ended = now_ms();
        let mut last = Ok(());
        for attempt in 0..5 {
            if attempt > 0 {
                std::thread::sleep(std::time::Duration::from_millis(400));
            }
            last = self.journal.finish(status, ended);
            if last.is_ok() {
                break;
            }
        }
        last
    }
}

impl EventSink for JournalSink {
    fn record(&mut self, body: EventBody) -> Recorded {
        self.record_event(body).0
    }
}

impl JournalSink {
    /// Records `body` and returns the event as journaled (redacted), for a
    /// caller that reports back what was kept (the MCP server).
    pub fn record_event(&mut self, mut body: EventBody) -> (Recorded, Event) {
        // The run's own secret parameters first, by value; then the rules
        // the server applies to whatever it receives too.
        if !self.secrets.is_empty() {
            body.map_text(&|s| {
                let mut text = s.to_string();
                for (value, name) in &self.secrets {
                    if text.contains(value.as_str()) {
                        text = text.replace(value.as_str(), &format!("[REDACTED:{name}]"));
                    }
                }
                text
            });
        }
        crate::redaction::redact_event(&self.redactor, &mut body);
        let event = Event {
            seq: self.next_seq,
            at_ms: now_ms(),
            body,
        };
        self.next_seq += 1;
        let notice = match self.journal.append(&event) {
            Ok(()) if self.warned && self.journal.pending() == 0 => {
                self.warned = false;
                Some("space is back: every held event is now on disk.".to_string())
            }
            Ok(()) => None,
            Err(e) if !self.warned => {
                self.warned = true;
                let why = if e.is_disk_full() {
                    "the disk is full".to_string()
                } else {
                    format!("cannot write the journal ({e})")
                };
                Some(format!(
                    "{why}. Your shell keeps working; tacit holds {} event(s) in memory and writes them as soon as it can.",
                    self.journal.pending()
                ))
            }
            Err(_) => None,
        };
        (
            Recorded {
                seq: event.seq,
                notice,
            },
            event,
        )
    }
}
