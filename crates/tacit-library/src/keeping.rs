//! Keeping an SOP alive: its owner and review interval, confirmed reviews,
//! its history and what changed between two versions.

use tacit_review::diff::{self, Line};
use tacit_sop::{Revision, Sop};
use tacit_store::{SopVersion, Store};

use crate::sops::{load_sop, same_content, save_version};
use crate::{LibraryError, Result};

/// A revision entry written by `author` now; the version number is filled
/// in when it is saved.
pub fn revision(author: &str, summary: String, runs: Vec<String>) -> Revision {
    Revision {
        version: 0,
        date: tacit_core::utc_date(tacit_core::now_ms()),
        author: author.to_string(),
        summary,
        runs,
    }
}

/// `90d`, `12w`, `3m` (30-day months), `1y` or a bare number of days.
pub fn parse_interval(text: &str) -> Result<u32> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let bad = || {
        LibraryError::Invalid(format!(
            "\"{text}\" is not an interval: use e.g. 90d, 12w or 3m"
        ))
    };
    let n = num.parse::<u32>().map_err(|_| bad())?;
    let days = match unit {
        "" | "d" => Some(n),
        "w" => n.checked_mul(7),
        "m" => n.checked_mul(30),
        "y" => n.checked_mul(365),
        _ => return Err(bad()),
    }
    .ok_or_else(bad)?;
    if days == 0 {
        return Err(LibraryError::Invalid(
            "a review interval must be at least one day".into(),
        ));
    }
    Ok(days)
}

/// What [`set_owner`] saved.
#[derive(Debug, Clone)]
pub struct Owned {
    pub sop: Sop,
    /// The version's summary, e.g. "Owner: ann; review every 90 days".
    pub summary: String,
}

/// Makes `owner` (a person or a team) the owner of the latest version,
/// optionally with a new review interval. Saved as a new version made from
/// the latest (refused if another was saved meanwhile), and counted as a
/// review by `by` of what is there now.
pub async fn set_owner<S: Store>(
    store: &S,
    sop_id: &str,
    owner: &str,
    review_every_days: Option<u32>,
    by: &str,
) -> Result<Owned> {
    let mut sop = load_sop(store, sop_id, None).await?;
    let base = sop.version;
    sop.owner = Some(owner.to_string());
    if review_every_days.is_some() {
        sop.review_every_days = review_every_days;
    }
    let summary = match sop.review_every_days {
        Some(d) => format!("Owner: {owner}; review every {d} days"),
        None => format!("Owner: {owner}"),
    };
    let sop = save_version(
        store,
        sop,
        revision(by, summary.clone(), vec![]),
        Some(base),
    )
    .await?;
    store.add_review(&sop.id, sop.version, by).await?;
    Ok(Owned { sop, summary })
}

/// What [`confirm_review`] recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Confirmed {
    pub sop_id: String,
    pub version: u32,
    pub reviewer: String,
    /// When the next review is due, if the SOP has an interval.
    pub next_due_ms: Option<i64>,
}

/// Records that `by` confirmed the latest version is still true.
pub async fn confirm_review<S: Store>(store: &S, sop_id: &str, by: &str) -> Result<Confirmed> {
    let sop = load_sop(store, sop_id, None).await?;
    store.add_review(&sop.id, sop.version, by).await?;
    Ok(Confirmed {
        sop_id: sop.id,
        version: sop.version,
        reviewer: by.to_string(),
        next_due_ms: sop
            .review_every_days
            .map(|d| tacit_core::now_ms() + i64::from(d) * 86_400_000),
    })
}

/// One version in an SOP's history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryEntry {
    #[serde(flatten)]
    pub version: SopVersion,
    /// The content is its predecessor's: only the owner or the review
    /// interval changed.
    pub metadata_only: bool,
    /// The runs this version was drafted or reviewed from.
    #[serde(skip)]
    pub runs: Vec<String>,
}

/// Every version of an SOP, oldest first.
pub async fn history<S: Store>(store: &S, sop_id: &str) -> Result<Vec<HistoryEntry>> {
    history_of(sop_id, store.sop_versions(sop_id).await?)
}

/// The history made of these versions (oldest first) of `sop_id`.
pub fn history_of(sop_id: &str, versions: Vec<SopVersion>) -> Result<Vec<HistoryEntry>> {
    if versions.is_empty() {
        return Err(LibraryError::NotFound(format!(
            "there is no SOP called \"{sop_id}\" (tacit draft {sop_id} creates it)"
        )));
    }
    let parsed: Vec<Option<Sop>> = versions
        .iter()
        .map(|v| Sop::from_json(&v.body).ok())
        .collect();
    Ok(versions
        .into_iter()
        .enumerate()
        .map(|(i, version)| {
            let metadata_only = i > 0
                && matches!((&parsed[i - 1], &parsed[i]), (Some(a), Some(b)) if same_content(a, b));
            let runs = parsed[i]
                .as_ref()
                .and_then(|s| s.revisions.last())
                .map(|r| r.runs.clone())
                .unwrap_or_default();
            HistoryEntry {
                version,
                metadata_only,
                runs,
            }
        })
        .collect())
}

/// Two versions of an SOP and what changed between them.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub old: Sop,
    pub new: Sop,
    pub lines: Vec<Line>,
}

/// Compares `v1` with `v2`; by default the latest with the one before.
pub async fn compare<S: Store>(
    store: &S,
    sop_id: &str,
    v1: Option<u32>,
    v2: Option<u32>,
) -> Result<Comparison> {
    let new_v = match v2 {
        Some(v) => v,
        None => load_sop(store, sop_id, None).await?.version,
    };
    let old_v = v1.unwrap_or(new_v.saturating_sub(1));
    if old_v == 0 {
        return Err(LibraryError::Invalid(format!(
            "{sop_id} has only version 1: nothing to compare"
        )));
    }
    let old = load_sop(store, sop_id, Some(old_v)).await?;
    let new = load_sop(store, sop_id, Some(new_v)).await?;
    let lines = diff::diff(&old, &new);
    Ok(Comparison { old, new, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("90d").unwrap(), 90);
        assert_eq!(parse_interval("12").unwrap(), 12);
        assert_eq!(parse_interval("2w").unwrap(), 14);
        assert_eq!(parse_interval("3m").unwrap(), 90);
        assert_eq!(parse_interval("1y").unwrap(), 365);
        for bad in [
            "banana",
            "",
            "0d",
            "5x",
            "-3d",
            "99999999999y",
            "4294967295y",
        ] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
