//! The hash chain that makes a run's record tamper-evident.
//!
//! Link 0 is `sha256("tacit-run:" + run id)`; link n is `sha256(link n-1 ||
//! the event's JSON)`, hex-encoded. The JSON is `serde_json` of [`Event`],
//! whose field order is fixed, so the same event always hashes the same.

use sha2::{Digest, Sha256};
use tacit_core::Event;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The chain's starting link for a run.
pub fn genesis(run_id: &str) -> String {
    hex(&Sha256::digest(format!("tacit-run:{run_id}").as_bytes()))
}

/// The link after `previous` for `event`.
pub fn link(previous: &str, event: &Event) -> String {
    let json = serde_json::to_string(event).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(previous.as_bytes());
    h.update(json.as_bytes());
    hex(&h.finalize())
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// Event `seq` is missing its link (recorded before chains existed, or
    /// the link was removed).
    Unlinked { seq: u64 },
    /// Event `seq` (or an earlier one) was changed, removed or reordered.
    Mismatch { seq: u64 },
    /// Sequence numbers skip: an event was removed.
    Gap { after: u64 },
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Unlinked { seq } => write!(f, "event #{seq} has no hash link"),
            Broken::Mismatch { seq } => write!(
                f,
                "event #{seq} does not match its hash: it, or an event before it, was changed after it was recorded"
            ),
            Broken::Gap { after } => write!(f, "an event after #{after} is missing"),
        }
    }
}

/// Checks `events` (in order, with their stored links) and returns the head
/// link when the chain holds.
pub fn verify(run_id: &str, events: &[(Event, Option<String>)]) -> Result<String, Broken> {
    let mut previous = genesis(run_id);
    let mut last_seq = 0;
    for (event, stored) in events {
        if event.seq != last_seq + 1 {
            return Err(Broken::Gap { after: last_seq });
        }
        let Some(stored) = stored else {
            return Err(Broken::Unlinked { seq: event.seq });
        };
        let expected = link(&previous, event);
        if &expected != stored {
            return Err(Broken::Mismatch { seq: event.seq });
        }
        previous = expected;
        last_seq = event.seq;
    }
    Ok(previous)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacit_core::EventBody;

    fn chain(run: &str, events: &[Event]) -> Vec<(Event, Option<String>)> {
        let mut prev = genesis(run);
        events
            .iter()
            .map(|e| {
                prev = link(&prev, e);
                (e.clone(), Some(prev.clone()))
            })
            .collect()
    }

    fn note(seq: u64, text: &str) -> Event {
        Event {
            seq,
            at_ms: 1,
            body: EventBody::Note { text: text.into() },
        }
    }

    #[test]
    fn an_intact_chain_verifies_and_any_change_breaks_it() {
        let events = vec![note(1, "a"), note(2, "b"), note(3, "c")];
        let good = chain("r", &events);
        assert!(verify("r", &good).is_ok());
        assert_eq!(verify("other-run", &good), Err(Broken::Mismatch { seq: 1 }));

        let mut edited = good.clone();
        edited[1].0 = note(2, "B");
        assert_eq!(verify("r", &edited), Err(Broken::Mismatch { seq: 2 }));

        let mut removed = good.clone();
        removed.remove(1);
        assert_eq!(verify("r", &removed), Err(Broken::Gap { after: 1 }));

        let mut unlinked = good;
        unlinked[2].1 = None;
        assert_eq!(verify("r", &unlinked), Err(Broken::Unlinked { seq: 3 }));
    }
}
