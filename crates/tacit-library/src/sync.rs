//! Moving work between a local library and the team server, both ways:
//! runs with their events and hash links, SOP versions, proposals.
//!
//! Rules that make it safe to repeat and to interrupt:
//! - a run is keyed by its id and its events by `seq`, so a run pushed or
//!   pulled twice (or half-way, then again) ends up whole and single;
//! - an SOP version is identified by its number and the SHA-256 of its
//!   body. A version is appended only on top of the same history; when the
//!   two sides have diverged, the local version goes to the SOP's owner as
//!   a proposal. Nothing is ever overwritten;
//! - the server redacts again whatever it receives.
//!
//! The client side ([`sync`]) talks to a [`Remote`]; the CLI's is HTTP,
//! the tests' is a second store in the same process.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use sha2::{Digest, Sha256};
use tacit_core::{Event, EventBody, RunMeta, RunStatus};
use tacit_redact::Redactor;

use crate::redaction::redact_event;
use tacit_sop::Sop;
use tacit_store::{NewSopVersion, Proposal, Store, StoreError};

use crate::{LibraryError, Result};

/// A run as it travels: its meta and its events with their hash links.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunUpload {
    pub meta: RunMeta,
    pub events: Vec<LinkedEvent>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkedEvent {
    pub event: Event,
    #[serde(default)]
    pub hash: Option<String>,
}

/// One SOP version as it travels, body and all.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionUpload {
    pub sop_id: String,
    pub version: u32,
    pub author: String,
    pub summary: String,
    /// The SOP as tacit's JSON, exactly as stored.
    pub body: String,
}

/// What the server did with a pushed version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum VersionOutcome {
    /// Appended: the two histories were the same up to it.
    Stored,
    /// The server already had this very version.
    AlreadyThere,
    /// The histories differ: it went to the owner as this proposal.
    Proposed { proposal: String },
}

/// A version's identity beyond its number: the SHA-256 of its body.
pub fn fingerprint(body: &str) -> String {
    Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_text(what: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(LibraryError::Invalid(format!(
            "{what} must be 1-{max} printable characters"
        )));
    }
    Ok(())
}

/// Stores a run as it came (pulled from the server, whose copy is already
/// redacted), idempotently.
pub async fn store_run<S: Store>(store: &S, run: &RunUpload) -> Result<()> {
    store.upsert_run(&run.meta).await?;
    let events: Vec<Event> = run.events.iter().map(|l| l.event.clone()).collect();
    store.append_events(&run.meta.id, &events).await?;
    let links: Vec<(u64, String)> = run
        .events
        .iter()
        .filter_map(|l| l.hash.clone().map(|h| (l.event.seq, h)))
        .collect();
    store.set_event_hashes(&run.meta.id, &links).await?;
    if let Some(outcome) = events.iter().rev().find_map(|e| match &e.body {
        EventBody::Outcome { outcome, .. } => Some(outcome.clone()),
        _ => None,
    }) {
        store.set_outcome(&run.meta.id, &outcome).await?;
    }
    store.refresh_health(&run.meta.name).await?;
    Ok(())
}

/// The server's side of a pushed run: checked, redacted again, stored.
/// Pushing the same run (or more of it) again changes nothing else.
pub async fn receive_run<S: Store>(
    store: &S,
    redactor: &Redactor,
    mut run: RunUpload,
) -> Result<()> {
    check_text("a run id", &run.meta.id, 200)?;
    check_text("a run's name", &run.meta.name, 200)?;
    let mut last = 0;
    for l in &run.events {
        if l.event.seq <= last {
            return Err(LibraryError::Invalid(format!(
                "run {}: events must come in increasing seq order (seq {} after {last})",
                run.meta.id, l.event.seq
            )));
        }
        last = l.event.seq;
    }
    for l in &mut run.events {
        redact_event(redactor, &mut l.event.body);
    }
    store_run(store, &run).await
}

/// A run of the local library as it travels.
pub async fn run_upload<S: Store>(store: &S, id: &str) -> Result<RunUpload> {
    let meta = store.find_run(id).await?;
    let events = store
        .events_with_hashes(&meta.id)
        .await?
        .into_iter()
        .map(|(event, hash)| LinkedEvent { event, hash })
        .collect();
    Ok(RunUpload { meta, events })
}

/// Every version of every SOP: (id, version, fingerprint).
pub async fn version_list<S: Store>(store: &S) -> Result<Vec<(String, u32, String)>> {
    let mut out = Vec::new();
    for latest in store.list_sops().await? {
        for v in store.sop_versions(&latest.sop_id).await? {
            out.push((v.sop_id, v.version, fingerprint(&v.body)));
        }
    }
    Ok(out)
}

/// One stored version as it travels.
pub async fn version_upload<S: Store>(
    store: &S,
    sop_id: &str,
    version: u32,
) -> Result<VersionUpload> {
    let v = store
        .sop_version(sop_id, Some(version))
        .await?
        .ok_or_else(|| LibraryError::NotFound(format!("{sop_id} has no version {version}")))?;
    Ok(VersionUpload {
        sop_id: v.sop_id,
        version: v.version,
        author: v.author,
        summary: v.summary,
        body: v.body,
    })
}

/// Stores `v` as exactly that version, on top of the same history
/// (`v.version - 1` is the latest). `Ok(false)` when the history differs.
async fn append_exact<S: Store>(store: &S, v: &VersionUpload, sop: &Sop) -> Result<bool> {
    let search = crate::search_text(sop);
    let body = v.body.clone();
    let make = move |_: u32| body.clone();
    let new = NewSopVersion {
        base: Some(v.version - 1),
        title: &sop.title,
        author: &v.author,
        summary: &v.summary,
        search_text: &search,
        owner: sop.owner.as_deref(),
        review_every_days: sop.review_every_days,
        body: &make,
    };
    match store.add_sop_version(&v.sop_id, &new).await {
        Ok(n) if n == v.version => Ok(true),
        Ok(n) => Err(LibraryError::Unreadable(format!(
            "{} was stored as version {n}, not {}",
            v.sop_id, v.version
        ))),
        Err(StoreError::Conflict { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether a version whose number and body are `v`'s is already stored.
async fn already_there<S: Store>(store: &S, v: &VersionUpload) -> Result<bool> {
    Ok(store
        .sop_version(&v.sop_id, Some(v.version))
        .await?
        .is_some_and(|have| fingerprint(&have.body) == fingerprint(&v.body)))
}

/// The server's side of a pushed version. `may_append`: whether the
/// caller may change this SOP without review (its owner, an admin, or
/// anyone while the SOP has no owner). Otherwise, or when the histories
/// differ, the version becomes a proposal for the owner.
pub async fn receive_version<S: Store>(
    store: &S,
    redactor: &Redactor,
    mut v: VersionUpload,
    may_append: bool,
) -> Result<VersionOutcome> {
    check_text("an SOP id", &v.sop_id, 200)?;
    if v.version == 0 {
        return Err(LibraryError::Invalid("versions start at 1".into()));
    }
    v.body = redactor.redact(&v.body).into_owned();
    let sop = Sop::from_json(&v.body)
        .map_err(|e| LibraryError::Invalid(format!("the version's body is not an SOP: {e}")))?;
    if sop.id != v.sop_id || sop.version != v.version {
        return Err(LibraryError::Invalid(format!(
            "the body is {} v{}, not {} v{}",
            sop.id, sop.version, v.sop_id, v.version
        )));
    }
    if already_there(store, &v).await? {
        return Ok(VersionOutcome::AlreadyThere);
    }
    if may_append && append_exact(store, &v, &sop).await? {
        return Ok(VersionOutcome::Stored);
    }
    let latest = store
        .sop_version(&v.sop_id, None)
        .await?
        .map_or(0, |l| l.version);
    let id = format!("sync-{}-{}", v.sop_id, &fingerprint(&v.body)[..16]);
    store
        .add_proposal(&Proposal {
            id: id.clone(),
            sop_id: v.sop_id.clone(),
            sop_version: latest,
            run_id: String::new(),
            kind: "redraft".into(),
            summary: format!(
                "{}'s library has a different version {} ({}): review to take it",
                v.author, v.version, v.summary
            ),
            body: v.body.clone(),
            status: "pending".into(),
            created_at_ms: tacit_core::now_ms(),
            resolution: None,
        })
        .await?;
    Ok(VersionOutcome::Proposed { proposal: id })
}

/// The server, as the client side of sync sees it.
pub trait Remote {
    /// Every run the server has, with how many events it holds.
    fn run_sizes(&self) -> impl Future<Output = Result<BTreeMap<String, u64>>> + Send;
    fn push_run(&self, run: &RunUpload) -> impl Future<Output = Result<()>> + Send;
    fn pull_run(&self, id: &str) -> impl Future<Output = Result<RunUpload>> + Send;
    /// Every version of every SOP: (id, version, fingerprint).
    fn versions(&self) -> impl Future<Output = Result<Vec<(String, u32, String)>>> + Send;
    fn push_version(
        &self,
        v: &VersionUpload,
    ) -> impl Future<Output = Result<VersionOutcome>> + Send;
    fn pull_version(
        &self,
        sop_id: &str,
        version: u32,
    ) -> impl Future<Output = Result<VersionUpload>> + Send;
    fn push_proposal(&self, p: &Proposal) -> impl Future<Output = Result<()>> + Send;
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    pub runs_pushed: usize,
    pub runs_pulled: usize,
    pub versions_pushed: usize,
    pub versions_pulled: usize,
    pub proposals_pushed: usize,
    /// Local versions that went to the owner as proposals: (SOP, version).
    pub proposed: Vec<(String, u32)>,
    /// SOPs whose histories differ, so the server's newer versions were
    /// not pulled.
    pub diverged: Vec<String>,
}

/// How many events each local run holds.
async fn local_sizes<S: Store>(store: &S) -> Result<BTreeMap<String, (u64, RunStatus)>> {
    Ok(store
        .run_sizes()
        .await?
        .into_iter()
        .map(|(id, n, status)| (id, (n, status)))
        .collect())
}

/// The most events one push carries, so a long run stays under the
/// server's body limit; the rest follows in the next push of the same run.
const EVENTS_PER_PUSH: usize = 2_000;

/// Brings `local` and `remote` up to date with each other. `redactor` is
/// the local rule set: a local version is compared with the server's as
/// the server stores it, redacted, so a version the server had to redact
/// (an imported runbook is not redacted on import) still counts as the
/// same version and does not look diverged forever.
pub async fn sync<S: Store, R: Remote>(
    local: &S,
    remote: &R,
    redactor: &Redactor,
) -> Result<SyncReport> {
    let mut report = SyncReport::default();

    // Runs: push what the server lacks, pull what we lack.
    let theirs = remote.run_sizes().await?;
    let ours = local_sizes(local).await?;
    for (id, (n, status)) in &ours {
        if *status == RunStatus::Recording {
            continue;
        }
        let have = theirs.get(id).copied().unwrap_or(0);
        if have >= *n && theirs.contains_key(id) {
            continue;
        }
        let run = run_upload(local, id).await?;
        let mut sent = false;
        for chunk in run.events.chunks(EVENTS_PER_PUSH) {
            if chunk.last().is_some_and(|l| l.event.seq <= have) {
                continue;
            }
            remote
                .push_run(&RunUpload {
                    meta: run.meta.clone(),
                    events: chunk.to_vec(),
                })
                .await?;
            sent = true;
        }
        if !sent {
            remote
                .push_run(&RunUpload {
                    meta: run.meta.clone(),
                    events: Vec::new(),
                })
                .await?;
        }
        report.runs_pushed += 1;
    }
    for (id, n) in &theirs {
        let have = ours.get(id).map_or(0, |o| o.0);
        if ours.contains_key(id) && have >= *n {
            continue;
        }
        let run = remote.pull_run(id).await?;
        store_run(local, &run).await?;
        report.runs_pulled += 1;
    }

    // SOP versions.
    let mut server: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
    for (id, v, f) in remote.versions().await? {
        server.entry(id).or_default().push((v, f));
    }
    let mut mine: BTreeMap<String, Vec<(u32, String)>> = BTreeMap::new();
    for (id, v, _) in version_list(local).await? {
        let body = version_upload(local, &id, v).await?.body;
        let f = fingerprint(&redactor.redact(&body));
        mine.entry(id).or_default().push((v, f));
    }
    let ids: BTreeSet<&String> = server.keys().chain(mine.keys()).collect();
    for id in ids {
        let s = server.get(id).cloned().unwrap_or_default();
        let m = mine.get(id).cloned().unwrap_or_default();
        let common = s.iter().zip(&m).take_while(|(a, b)| a == b).count();
        if m.len() > common {
            if s.len() == common {
                // Ours goes on where theirs ends.
                for (v, _) in &m[common..] {
                    let up = version_upload(local, id, *v).await?;
                    match remote.push_version(&up).await? {
                        VersionOutcome::Stored | VersionOutcome::AlreadyThere => {
                            report.versions_pushed += 1
                        }
                        VersionOutcome::Proposed { .. } => {
                            report.proposed.push((id.clone(), *v));
                            break;
                        }
                    }
                }
            } else {
                // Both moved on: our latest goes to the owner.
                let (v, _) = m.last().expect("more than common");
                let up = version_upload(local, id, *v).await?;
                if let VersionOutcome::Proposed { .. } = remote.push_version(&up).await? {
                    report.proposed.push((id.clone(), *v));
                }
            }
        }
        if s.len() > common {
            if m.len() == common {
                for (v, _) in &s[common..] {
                    let up = remote.pull_version(id, *v).await?;
                    let sop = Sop::from_json(&up.body).map_err(|e| {
                        LibraryError::Unreadable(format!("{id} v{v} from the server: {e}"))
                    })?;
                    if !append_exact(local, &up, &sop).await? {
                        report.diverged.push(id.clone());
                        break;
                    }
                    report.versions_pulled += 1;
                }
            } else {
                report.diverged.push(id.clone());
            }
        }
    }

    // Proposals made by local guided runs, for owners on the server.
    for latest in local.list_sops().await? {
        for p in local.proposals(&latest.sop_id).await? {
            if p.status == "pending" && !p.run_id.is_empty() {
                remote.push_proposal(&p).await?;
                report.proposals_pushed += 1;
            }
        }
    }
    Ok(report)
}

/// A [`Remote`] that is another store in this process, with the server's
/// rules: for tests, and for syncing two local libraries.
pub struct StoreRemote<'a, T> {
    pub store: &'a T,
    pub redactor: Redactor,
    /// Whether pushed versions may be appended without review.
    pub may_append: bool,
}

impl<T: Store + Sync> Remote for StoreRemote<'_, T> {
    async fn run_sizes(&self) -> Result<BTreeMap<String, u64>> {
        Ok(local_sizes(self.store)
            .await?
            .into_iter()
            .map(|(id, (n, _))| (id, n))
            .collect())
    }
    async fn push_run(&self, run: &RunUpload) -> Result<()> {
        receive_run(self.store, &self.redactor, run.clone()).await
    }
    async fn pull_run(&self, id: &str) -> Result<RunUpload> {
        run_upload(self.store, id).await
    }
    async fn versions(&self) -> Result<Vec<(String, u32, String)>> {
        version_list(self.store).await
    }
    async fn push_version(&self, v: &VersionUpload) -> Result<VersionOutcome> {
        receive_version(self.store, &self.redactor, v.clone(), self.may_append).await
    }
    async fn pull_version(&self, sop_id: &str, version: u32) -> Result<VersionUpload> {
        version_upload(self.store, sop_id, version).await
    }
    async fn push_proposal(&self, p: &Proposal) -> Result<()> {
        Ok(self.store.add_proposal(p).await?)
    }
}
