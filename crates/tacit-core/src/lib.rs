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
pub mod shell;

pub use config::{AskConfig, CaptureConfig, Config, ConfigError};
pub use event::{
    Answer, AskTrigger, CommandRecord, Event, EventBody, RunMeta, RunStatus, UNRECORDED_COMMAND,
};
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

/// `(year, month, day, seconds into the day)` of an epoch-ms instant, in
/// UTC, without a date library (Howard Hinnant's civil-from-days).
pub fn civil_utc(ms: i64) -> (i64, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, secs.rem_euclid(86_400))
}

/// `YYYY-MM-DD` (UTC).
pub fn utc_date(ms: i64) -> String {
    let (y, m, d, _) = civil_utc(ms);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The user's login name: `$USER`, `$LOGNAME`, or the passwd entry of the
/// process's uid (containers often set neither variable).
pub fn current_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return v;
        }
    }
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id: u32 = f.nth(1)?.parse().ok()?;
            Some((name, id))
        })
        .find(|(_, id)| Some(*id) == uid)
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| "unknown".into())
}
