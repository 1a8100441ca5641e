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
}

impl JournalSink {
    pub fn new(journal: JournalWriter, redactor: Redactor) -> Self {
        JournalSink {
            journal,
            redactor,
            next_seq: 1,
            warned: false,
        }
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
    fn record(&mut self, mut body: EventBody) -> Recorded {
        body.map_text(&|s| self.redactor.redact(s).into_owned());
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
        Recorded {
            seq: event.seq,
            notice,
        }
    }
}
