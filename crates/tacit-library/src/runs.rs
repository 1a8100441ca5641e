//! Run bookkeeping: finding the run `--resume` continues, filing what a
//! guided run proposes, and a run's evidence with its hash chain.

use std::collections::BTreeMap;

use tacit_core::{Event, EventBody, RunMeta, RunStatus};
use tacit_sop::Sop;
use tacit_store::{Proposal, Store};

use crate::{LibraryError, Result};

/// An interrupted guided run that can be resumed.
#[derive(Debug, Clone)]
pub struct Resumable {
    pub meta: RunMeta,
    /// The titles of the steps it finished.
    pub done: Vec<String>,
    /// The parameter values it ran with (secret ones are never stored).
    pub params: BTreeMap<String, String>,
}

/// The latest guided run of `sop_id`, if it stopped part-way: interrupted
/// (a killed process, a closed terminal) or aborted by the operator.
pub async fn interrupted_run<S: Store>(store: &S, sop_id: &str) -> Result<Resumable> {
    let run = store
        .list_runs(Some(sop_id))
        .await?
        .into_iter()
        .find(|r| {
            r.meta.sop_id.as_deref() == Some(sop_id) && r.meta.status == RunStatus::Interrupted
        })
        .ok_or_else(|| {
            LibraryError::NotFound(format!(
                "there is no interrupted run of {sop_id} to resume (see `tacit runs --name {sop_id}`)"
            ))
        })?;
    let events = store.events(&run.meta.id).await?;
    if events
        .iter()
        .any(|e| matches!(&e.body, EventBody::Outcome { outcome, .. } if outcome != "aborted"))
    {
        return Err(LibraryError::Invalid(format!(
            "run {} already ended; start a new one",
            tacit_capture::session::short_id(&run.meta.id)
        )));
    }
    let done = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::StepDone { title, .. } => Some(title.clone()),
            _ => None,
        })
        .collect();
    let params = events
        .iter()
        .rev()
        .find_map(|e| match &e.body {
            EventBody::Params { values } => Some(values.clone()),
            _ => None,
        })
        .unwrap_or_default();
    Ok(Resumable {
        meta: run.meta,
        done,
        params,
    })
}

/// Files what a guided run of `sop` proposes for its owner, except what
/// the owner already rejected (by summary): a rejected proposal is not
/// raised again. Idempotent: filing the same run twice adds nothing.
/// Returns how many were filed.
pub async fn file_proposals<S: Store>(
    store: &S,
    sop: &Sop,
    run_id: &str,
    proposals: &[tacit_runner::Proposal],
) -> Result<usize> {
    let rejected: Vec<String> = store
        .proposals(&sop.id)
        .await?
        .into_iter()
        .filter(|p| p.status == "rejected")
        .map(|p| p.summary)
        .collect();
    let mut filed = 0;
    for (i, p) in proposals.iter().enumerate() {
        if rejected.contains(&p.summary) {
            continue;
        }
        let body = serde_json::to_string(p)
            .map_err(|e| LibraryError::Invalid(format!("a proposal does not serialise: {e}")))?;
        store
            .add_proposal(&Proposal {
                id: format!("{run_id}-{}", i + 1),
                sop_id: sop.id.clone(),
                sop_version: sop.version,
                run_id: run_id.to_string(),
                kind: p.kind.clone(),
                summary: p.summary.clone(),
                body,
                status: "pending".into(),
                created_at_ms: tacit_core::now_ms(),
                resolution: None,
            })
            .await?;
        filed += 1;
    }
    Ok(filed)
}

/// A run with its events and each event's hash link, and whether the
/// chain is intact.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub meta: RunMeta,
    pub events: Vec<(Event, Option<String>)>,
    /// The chain's head, or what is wrong with it.
    pub chain: std::result::Result<String, String>,
}

/// A run as evidence (for `tacit runs verify` and export).
pub async fn evidence<S: Store>(store: &S, id: &str) -> Result<Evidence> {
    let meta = store.find_run(id).await?;
    let events = store.events_with_hashes(&meta.id).await?;
    let chain = tacit_store::chain::verify(&meta.id, &events).map_err(|b| b.to_string());
    Ok(Evidence {
        meta,
        events,
        chain,
    })
}

impl Evidence {
    /// The exported document: `format: tacit-run`, version 1, the run, the
    /// chain's verdict and every event with its `hash` link.
    pub fn to_json(&self) -> serde_json::Value {
        let events: Vec<serde_json::Value> = self
            .events
            .iter()
            .map(|(e, h)| {
                let mut v = serde_json::to_value(e).unwrap_or_default();
                v["hash"] = serde_json::json!(h);
                v
            })
            .collect();
        serde_json::json!({
            "format": "tacit-run",
            "format_version": 1,
            "run": self.meta,
            "chain": match &self.chain {
                Ok(head) => serde_json::json!({"intact": true, "head": head}),
                Err(problem) => serde_json::json!({"intact": false, "problem": problem}),
            },
            "events": events,
        })
    }
}

/// A run that starts now on this machine, by `user` (a person, or an agent
/// by its name), recorded by this process.
pub fn local_run(
    id: String,
    name: &str,
    shell: &str,
    cwd: &std::path::Path,
    (cols, rows): (u16, u16),
    sop: Option<(&str, u32)>,
    user: String,
) -> RunMeta {
    RunMeta {
        id,
        name: name.to_string(),
        shell: shell.into(),
        started_at_ms: tacit_core::now_ms(),
        ended_at_ms: None,
        status: tacit_core::RunStatus::Recording,
        host: tacit_store::hostname(),
        user,
        start_cwd: cwd.display().to_string(),
        recorder_pid: Some(std::process::id()),
        tacit_version: env!("CARGO_PKG_VERSION").into(),
        cols,
        rows,
        sop_id: sop.map(|(id, _)| id.to_string()),
        sop_version: sop.map(|(_, v)| v),
        imported_at_ms: None,
    }
}
