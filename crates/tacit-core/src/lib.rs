//! tacit's shared vocabulary.
//!
//! Every stage of the pipeline (capture → store → draft → runner → review)
//! speaks in the types defined here: a [`RunMeta`] describes one recording, and
//! an ordered list of [`Event`]s is everything that happened in it. Keeping
//! these in one small crate lets each stage depend on the data, not on each
//! other.

pub mod config;
pub mod event;
pub mod paths;

pub use config::{AskConfig, CaptureConfig, Config, ConfigError};
pub use event::{Answer, AskTrigger, CommandRecord, Event, EventBody, RunMeta, RunStatus};
pub use paths::Paths;

/// Milliseconds since the Unix epoch: the one time unit stored everywhere, so
/// SQLite, PostgreSQL and JSON all agree without a date library in between.
pub fn now_ms() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
