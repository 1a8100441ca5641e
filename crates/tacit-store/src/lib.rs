//! Store: where runs and their events live.
//!
//! Two layers, as the data flows:
//! - [`journal`]: an append-only file per run, written while recording. It is
//!   crash-safe and needs no database.
//! - [`Store`]: the queryable library. [`SqliteStore`] is the embedded
//!   default; [`PgStore`] is the team server's, over the same tables.
//!
//! [`sync_journals`] brings the store up to date with the journals, and is
//! how a run whose recorder was killed becomes an `interrupted` run.

mod accounts;
pub mod chain;
pub mod journal;
mod postgres;
mod rows;
mod sqlite;
#[doc(hidden)]
pub mod testing;

use std::future::Future;
use std::path::Path;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
use tacit_core::{Event, RunMeta, RunStatus};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("no run matches \"{0}\" (see `tacit runs`)")]
    NoSuchRun(String),
    #[error("\"{0}\" matches several runs; give more of the id")]
    AmbiguousRun(String),
    /// A name that must be unique is taken.
    #[error("{0} already exists")]
    Exists(String),
    /// Someone saved a newer version since this change started from `base`.
    #[error(
        "{sop_id} changed while you worked: you started from version {base}, the latest is {current}. Nothing was saved; start again from the latest"
    )]
    Conflict {
        sop_id: String,
        base: u32,
        current: u32,
    },
}

impl StoreError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// True when the disk (or quota) is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Io { source, .. } => {
                source.kind() == std::io::ErrorKind::StorageFull
                    || source.raw_os_error() == Some(28)
                    || source.raw_os_error() == Some(122)
            }
            StoreError::Db(e) => e.to_string().contains("full"),
            _ => false,
        }
    }
}

/// A run and what it holds, for listings.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunSummary {
    #[serde(flatten)]
    pub meta: RunMeta,
    pub commands: i64,
    pub failed_commands: i64,
    pub answers: i64,
    /// How a guided run ended (succeeded, failed, aborted, escalated,
    /// unresolved); `None` for a recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// The library of runs. Methods are idempotent where a replay could repeat
/// them: importing the same journal twice changes nothing.
pub trait Store {
    /// Inserts the run, or updates it when it exists.
    fn upsert_run(&self, meta: &RunMeta) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Adds events; those already stored (same run and seq) are left alone.
    fn append_events(
        &self,
        run_id: &str,
        events: &[Event],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn set_status(
        &self,
        run_id: &str,
        status: RunStatus,
        ended_at_ms: Option<i64>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Runs, newest first, optionally only those of one procedure name.
    fn list_runs(
        &self,
        name: Option<&str>,
    ) -> impl Future<Output = Result<Vec<RunSummary>, StoreError>> + Send;
    /// A run by full id, by a unique prefix or suffix of it, or `latest`.
    fn find_run(&self, id: &str) -> impl Future<Output = Result<RunMeta, StoreError>> + Send;
    fn events(&self, run_id: &str) -> impl Future<Output = Result<Vec<Event>, StoreError>> + Send;
    /// Recomputes the health summary (last guided runs, people) of one
    /// procedure; called whenever one of its runs is stored.
    fn refresh_health(&self, name: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// How a guided run ended.
    fn set_outcome(
        &self,
        run_id: &str,
        outcome: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records events' hash-chain links (`(seq, link)`).
    fn set_event_hashes(
        &self,
        run_id: &str,
        links: &[(u64, String)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Events with their stored links, in order.
    fn events_with_hashes(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Vec<(Event, Option<String>)>, StoreError>> + Send;

    /// Stores `body` (an SOP as JSON) as the next version of `sop_id` and
    /// returns that version number. Versions are immutable: this never
    /// overwrites one.
    fn add_sop_version(
        &self,
        sop_id: &str,
        new: &NewSopVersion<'_>,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
    /// One version of an SOP, or the latest when `version` is `None`.
    fn sop_version(
        &self,
        sop_id: &str,
        version: Option<u32>,
    ) -> impl Future<Output = Result<Option<SopVersion>, StoreError>> + Send;
    /// The latest version of every SOP, by id.
    fn list_sops(&self) -> impl Future<Output = Result<Vec<SopVersion>, StoreError>> + Send;
    /// Stores a proposal for an SOP's owner (idempotent by id).
    fn add_proposal(
        &self,
        proposal: &Proposal,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every proposal made to an SOP, oldest first.
    fn proposals(
        &self,
        sop_id: &str,
    ) -> impl Future<Output = Result<Vec<Proposal>, StoreError>> + Send;
    /// Accepts or rejects a proposal, keeping why.
    fn resolve_proposal(
        &self,
        id: &str,
        status: &str,
        resolution: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records that `reviewer` confirmed `version` is still true.
    fn add_review(
        &self,
        sop_id: &str,
        version: u32,
        reviewer: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The latest review: (version, reviewer, at_ms).
    fn last_review(
        &self,
        sop_id: &str,
    ) -> impl Future<Output = Result<Option<(u32, String, i64)>, StoreError>> + Send;
    fn set_team(
        &self,
        name: &str,
        members: &[String],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn teams(&self) -> impl Future<Output = Result<Vec<(String, Vec<String>)>, StoreError>> + Send;
    /// SOPs matching `query` (words, all required), best first:
    /// (sop id, title, snippet).
    fn search(
        &self,
        query: &str,
    ) -> impl Future<Output = Result<Vec<(String, String, String)>, StoreError>> + Send;
    /// Everything library health needs about every SOP, in a few queries.
    /// With `only`, just that SOP's row (a page about one SOP).
    fn health_rows(
        &self,
        only: Option<&str>,
    ) -> impl Future<Output = Result<Vec<HealthRow>, StoreError>> + Send;
    /// The last machine draft of an SOP (JSON), the base of a redraft's
    /// three-way merge.
    fn draft_base(
        &self,
        sop_id: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// Records the machine draft people are shown, replacing the last.
    fn set_draft_base(
        &self,
        sop_id: &str,
        body: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every run with how many events it holds and its status (what sync
    /// compares).
    fn run_sizes(
        &self,
    ) -> impl Future<Output = Result<Vec<(String, u64, RunStatus)>, StoreError>> + Send;
    /// Whether the database answers (a health check).
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Every version of an SOP, oldest first.
    fn sop_versions(
        &self,
        sop_id: &str,
    ) -> impl Future<Output = Result<Vec<SopVersion>, StoreError>> + Send;
    /// What an SOP's page reads: every version, oldest first, and the
    /// SOP's health row; in one round trip where a round trip costs (the
    /// page is the server's busiest).
    fn sop_with_health(
        &self,
        sop_id: &str,
    ) -> impl Future<Output = Result<(Vec<SopVersion>, Option<HealthRow>), StoreError>> + Send
    where
        Self: Sync,
    {
        async move {
            let versions = self.sop_versions(sop_id).await?;
            if versions.is_empty() {
                return Ok((versions, None));
            }
            let health = self.health_rows(Some(sop_id)).await?.into_iter().next();
            Ok((versions, health))
        }
    }
}

/// An account on the team server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub name: String,
    /// `viewer`, `operator`, `owner` or `admin`.
    pub role: String,
    /// An argon2id PHC string; `None` for a token-only account.
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub created_at_ms: i64,
    pub disabled: bool,
}

/// An API token. Only the digest of its secret is stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    pub id: String,
    pub user: String,
    pub label: String,
    #[serde(skip)]
    pub digest: String,
    /// The highest role the token may act with.
    pub scope: String,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
}

/// A browser session. Only the digest of the cookie's secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub digest: String,
    pub user: String,
    /// The anti-CSRF token every form of this session carries.
    pub csrf: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// Accounts and API tokens, for the team server.
pub trait Accounts {
    /// Adds an account; [`StoreError::Exists`] when the name is taken.
    fn add_user(&self, user: &User) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn user(&self, name: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    fn users(&self) -> impl Future<Output = Result<Vec<User>, StoreError>> + Send;
    /// Changes role, password or disabled; false when there is no such user.
    fn update_user(&self, user: &User) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn add_token(&self, token: &ApiToken) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn token_by_digest(
        &self,
        digest: &str,
    ) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;
    /// A user's tokens, newest first.
    fn tokens(&self, user: &str) -> impl Future<Output = Result<Vec<ApiToken>, StoreError>> + Send;
    /// Revokes one of `user`'s tokens; false when they have no such token.
    fn revoke_token(
        &self,
        user: &str,
        id: &str,
        at_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn touch_token(
        &self,
        id: &str,
        at_ms: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A token and its account in one round trip (every API request asks).
    fn token_and_user(
        &self,
        digest: &str,
    ) -> impl Future<Output = Result<Option<(ApiToken, User)>, StoreError>> + Send;
    /// A session and its account in one round trip (every page asks).
    fn session_and_user(
        &self,
        digest: &str,
    ) -> impl Future<Output = Result<Option<(Session, User)>, StoreError>> + Send;
    fn add_session(&self, session: &Session)
    -> impl Future<Output = Result<(), StoreError>> + Send;
    fn session(
        &self,
        digest: &str,
    ) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;
    fn delete_session(&self, digest: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A change a run proposes to an SOP: a new edge case and rule, with its
/// evidence as JSON in `body`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Proposal {
    pub id: String,
    pub sop_id: String,
    pub sop_version: u32,
    pub run_id: String,
    /// `edge_case`, `deviation`, …
    pub kind: String,
    pub summary: String,
    pub body: String,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    pub created_at_ms: i64,
    /// Why it was accepted or rejected.
    #[serde(default)]
    pub resolution: Option<String>,
}

/// What [`Store::add_sop_version`] writes.
#[derive(Clone, Copy)]
pub struct NewSopVersion<'a> {
    /// The version this change was made from; when another version was
    /// saved since, the change is refused (no lost update).
    pub base: Option<u32>,
    pub title: &'a str,
    pub author: &'a str,
    pub summary: &'a str,
    /// The words `tacit search` finds this SOP by.
    pub search_text: &'a str,
    pub owner: Option<&'a str>,
    pub review_every_days: Option<u32>,
    /// Builds the JSON body once the version number is known.
    pub body: &'a (dyn Fn(u32) -> String + Sync),
}

/// One SOP as library health sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthRow {
    pub sop_id: String,
    pub title: String,
    pub version: u32,
    pub owner: Option<String>,
    pub review_every_days: Option<u32>,
    pub version_created_ms: i64,
    pub last_review_ms: Option<i64>,
    /// Creation times of pending proposals.
    pub pending: Vec<i64>,
    /// Guided runs, newest first: (started, user, outcome, deviated steps).
    pub runs: Vec<(i64, String, Option<String>, Vec<String>)>,
    /// Everyone who recorded or ran it.
    pub people: Vec<String>,
}

/// One SOP's row as both backends return it: (sop id, title, version,
/// owner, review interval, version created, last review, pending proposals'
/// times comma-separated, the health summary's runs and people).
type RawHealth = (
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Decodes a [`RawHealth`]. Runs are separated by GS, a run's fields by
/// RS and its deviated steps by US (see the `health_summary` migration).
fn health_row(raw: RawHealth) -> HealthRow {
    let (sop_id, title, version, owner, review, created, at, pending, runs, people) = raw;
    let mut runs: Vec<(i64, String, Option<String>, Vec<String>)> = runs
        .unwrap_or_default()
        .split('\u{1d}')
        .filter(|x| !x.is_empty())
        .filter_map(|run| {
            let mut f = run.split('\u{1e}');
            let at = f.next()?.parse().ok()?;
            let user = f.next()?.to_string();
            let outcome = f.next().filter(|o| !o.is_empty()).map(str::to_string);
            let steps = f
                .next()
                .unwrap_or_default()
                .split('\u{1f}')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            Some((at, user, outcome, steps))
        })
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.0));
    HealthRow {
        sop_id,
        title,
        version: version as u32,
        owner,
        review_every_days: review.map(|d| d as u32),
        version_created_ms: created,
        last_review_ms: at,
        pending: pending
            .unwrap_or_default()
            .split(',')
            .filter_map(|p| p.parse().ok())
            .collect(),
        runs,
        people: people
            .unwrap_or_default()
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

/// A stored SOP version.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SopVersion {
    pub sop_id: String,
    pub version: u32,
    pub title: String,
    pub created_at_ms: i64,
    pub author: String,
    pub summary: String,
    #[serde(skip)]
    pub body: String,
}

/// Whether the recorder with this pid is still running here.
fn recorder_alive(meta: &RunMeta) -> bool {
    let Some(pid) = meta.recorder_pid else {
        return false;
    };
    if meta.host != tacit_core_host() {
        // Another machine's run: it cannot be checked, so trust the journal.
        return true;
    }
    match rustix::process::Pid::from_raw(pid as i32) {
        Some(p) => rustix::process::test_kill_process(p).is_ok(),
        None => false,
    }
}

fn tacit_core_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The host name as tacit records it.
pub fn hostname() -> String {
    tacit_core_host()
}

/// Imports every journal in `dir` that the store has not fully seen, and
/// marks runs whose recorder died as interrupted. Returns how many runs were
/// updated. A damaged journal is skipped, not fatal: one bad file must not
/// hide the rest of the library.
pub async fn sync_journals<S: Store + JournalBookkeeping>(
    store: &S,
    dir: &Path,
) -> Result<usize, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(StoreError::io(dir, e)),
    };
    let mut updated = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("jsonl") {
            continue;
        }
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        let run_id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let known = store.journal_bytes(&run_id).await?;
        let status = store.status_of(&run_id).await?;
        let settled = matches!(status, Some(RunStatus::Completed | RunStatus::Interrupted));
        if known == Some(size) && settled {
            continue;
        }
        let Ok(journal) = journal::read_journal(&path) else {
            continue;
        };
        if import_journal(store, &journal).await? {
            updated += 1;
        }
    }
    Ok(updated)
}

/// Brings one run up to date with its journal. Returns whether anything was
/// written.
pub async fn import_journal<S: Store + JournalBookkeeping>(
    store: &S,
    journal: &journal::JournalContents,
) -> Result<bool, StoreError> {
    let mut meta = journal.meta.clone();
    let last_at = journal.events.last().map(|e| e.at_ms);
    match journal.end {
        Some((status, ended)) => {
            meta.status = status;
            meta.ended_at_ms = Some(ended);
        }
        None if recorder_alive(&meta) => meta.status = RunStatus::Recording,
        None => {
            meta.status = RunStatus::Interrupted;
            meta.ended_at_ms = Some(last_at.unwrap_or(meta.started_at_ms));
        }
    }
    store.upsert_run(&meta).await?;
    store.append_events(&meta.id, &journal.events).await?;
    let links: Vec<(u64, String)> = journal
        .events
        .iter()
        .zip(&journal.hashes)
        .filter_map(|(e, h)| h.clone().map(|h| (e.seq, h)))
        .collect();
    store.set_event_hashes(&meta.id, &links).await?;
    let outcome = journal.events.iter().rev().find_map(|e| match &e.body {
        tacit_core::EventBody::Outcome { outcome, .. } => Some(outcome.clone()),
        _ => None,
    });
    if let Some(o) = outcome {
        store.set_outcome(&meta.id, &o).await?;
    }
    store.refresh_health(&meta.name).await?;
    store.set_journal_bytes(&meta.id, journal.bytes).await?;
    Ok(true)
}

/// What [`sync_journals`] needs beyond [`Store`]: how far each journal has
/// been imported.
pub trait JournalBookkeeping {
    fn journal_bytes(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;
    fn set_journal_bytes(
        &self,
        run_id: &str,
        bytes: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn status_of(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<RunStatus>, StoreError>> + Send;
}
