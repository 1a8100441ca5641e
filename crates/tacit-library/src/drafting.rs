//! Drafting an SOP from its runs, and drafting it again without losing
//! anyone's work.
//!
//! - Only recordings are drafted from, unless asked: a guided run is an
//!   execution of a version, and what it found reaches the SOP through its
//!   proposals, not by being read as a new recording.
//! - The machine draft people are shown is kept as the *draft base*. When
//!   the latest version differs from it, people edited the SOP (in review,
//!   by hand, by importing Markdown); a new draft is then merged three ways
//!   ([`tacit_review::redraft`]): their edits win, and what the runs add is
//!   proposed for review, with any conflicts. Nothing is replaced silently.
//! - The author of a draft is whoever ran it.

use tacit_core::RunStatus;
use tacit_draft::RunInput;
use tacit_sop::Sop;
use tacit_store::{Proposal, Store};

use crate::sops::{same_content, save_version};
use crate::{LibraryError, Result};

/// How to draft.
#[derive(Debug, Clone, Default)]
pub struct DraftOptions {
    /// Only these runs (ids, prefixes, `latest`); empty: every finished
    /// recording of the procedure.
    pub runs: Vec<String>,
    /// Also draft from guided runs of the SOP.
    pub include_guided: bool,
    /// Who is drafting (the revision's author).
    pub author: String,
    /// Today, `YYYY-MM-DD` (the revision's date).
    pub date: String,
    /// A model that may reword the draft (see [`crate::polish`]), and the
    /// redaction applied to what it is sent. `None`: the draft as made.
    pub llm: Option<(crate::polish::LlmSettings, tacit_redact::Redactor)>,
}

/// What drafting did, and what the model did to the wording.
#[derive(Debug)]
pub struct DraftReport {
    pub drafted: Drafted,
    /// `None` when no model is configured.
    pub polished: Option<crate::polish::PolishOutcome>,
}

/// What drafting did.
#[derive(Debug)]
pub enum Drafted {
    /// A new version.
    Saved(Box<Sop>),
    /// The runs say nothing new.
    Unchanged,
    /// The draft waits for the owner (or for whoever reviews an SOP with no
    /// owner) as a proposal. `additions` and `conflicts` are set when people
    /// had edited the SOP and the draft was merged with their edits.
    Proposed {
        owner: Option<String>,
        additions: Vec<String>,
        conflicts: Vec<String>,
    },
}

/// The runs a draft is made from.
async fn runs_to_draft<S: Store>(
    store: &S,
    name: &str,
    opts: &DraftOptions,
) -> Result<Vec<RunInput>> {
    let metas = if opts.runs.is_empty() {
        let all: Vec<_> = store
            .list_runs(Some(name))
            .await?
            .into_iter()
            .filter(|r| r.meta.status != RunStatus::Recording)
            .map(|r| r.meta)
            .collect();
        let guided = all.iter().filter(|m| m.sop_id.is_some()).count();
        let chosen: Vec<_> = all
            .into_iter()
            .filter(|m| opts.include_guided || m.sop_id.is_none())
            .collect();
        if chosen.is_empty() {
            return Err(LibraryError::NotFound(if guided > 0 {
                format!(
                    "\"{name}\" has {guided} guided run(s) but no recordings. A guided run follows the SOP; what it found reaches the SOP as proposals (`tacit review {name}`). Record the procedure with `tacit record {name}`, or draft from the guided runs anyway with --include-guided."
                )
            } else {
                let names: Vec<String> = store
                    .list_runs(None)
                    .await?
                    .into_iter()
                    .map(|r| r.meta.name)
                    .collect();
                match crate::closest(name, names.iter().map(String::as_str)) {
                    Some(near) => format!(
                        "no finished runs are recorded as \"{name}\"; did you mean \"{near}\"? (see `tacit runs` for names)"
                    ),
                    None => format!(
                        "no finished runs are recorded as \"{name}\". Record one with `tacit record {name}` (see `tacit runs` for names)."
                    ),
                }
            }));
        }
        chosen
    } else {
        let mut metas = Vec::new();
        for id in &opts.runs {
            metas.push(store.find_run(id).await?);
        }
        metas
    };
    let mut inputs = Vec::new();
    for meta in metas {
        let events = store.events(&meta.id).await?;
        inputs.push(RunInput { meta, events });
    }
    Ok(inputs)
}

/// Drafts `name` from its runs into the library (see the module docs).
pub async fn draft_into_store<S: Store>(
    store: &S,
    name: &str,
    opts: &DraftOptions,
) -> Result<Drafted> {
    Ok(draft_with(store, name, opts).await?.drafted)
}

/// [`draft_into_store`], saying what the model (if any) did. The model is
/// called synchronously: drafting is a command someone waits for.
pub async fn draft_with<S: Store>(
    store: &S,
    name: &str,
    opts: &DraftOptions,
) -> Result<DraftReport> {
    let inputs = runs_to_draft(store, name, opts).await?;
    let mut new = tacit_draft::draft(&inputs)
        .map_err(|e| LibraryError::Draft(format!("cannot draft {name}: {e}")))?;
    let polished = opts.llm.as_ref().map(|(settings, redactor)| {
        let p = crate::polish::polish(&new, &inputs, settings, redactor);
        new = p.sop;
        p.outcome
    });
    let credit = polished.as_ref().and_then(|p| p.credit());
    let drafted = save_draft(store, name, new, &inputs, opts, credit).await?;
    Ok(DraftReport { drafted, polished })
}

async fn save_draft<S: Store>(
    store: &S,
    name: &str,
    mut new: Sop,
    inputs: &[RunInput],
    opts: &DraftOptions,
    credit: Option<String>,
) -> Result<Drafted> {
    let with_credit = |summary: String| match &credit {
        Some(c) => format!("{summary}; {c}"),
        None => summary,
    };
    let mut revision = new.revisions.pop().unwrap_or_default();
    revision.summary = with_credit(revision.summary);
    revision.author = opts.author.clone();
    if !opts.date.is_empty() {
        revision.date = opts.date.clone();
    }
    let runs_word = |n: usize| format!("{n} run{}", if n == 1 { "" } else { "s" });
    let Some(prev) = store.sop_version(&new.id, None).await? else {
        store.set_draft_base(&new.id, &new.to_json()).await?;
        return Ok(Drafted::Saved(Box::new(
            save_version(store, new, revision, None).await?,
        )));
    };
    let prev = Sop::from_json(&prev.body)
        .map_err(|e| LibraryError::Unreadable(format!("stored SOP {name} is unreadable: {e}")))?;
    let base = match store.draft_base(&new.id).await? {
        Some(body) => Sop::from_json(&body).map_err(|e| {
            LibraryError::Unreadable(format!("the last draft of {name} is unreadable: {e}"))
        })?,
        // An SOP that was never drafted here (imported, written by hand):
        // all of it is people's work.
        None => Sop {
            id: new.id.clone(),
            ..Sop::default()
        },
    };
    // The owner's settings and the history carry over.
    new.owner = prev.owner.clone();
    new.review_every_days = prev.review_every_days;
    new.revisions = prev.revisions.clone();
    new.version = prev.version;
    let edited = !same_content(&prev, &base);
    if !edited && same_content(&new, &prev) {
        return Ok(Drafted::Unchanged);
    }
    // Drafting again with nothing new since the last draft people saw.
    if edited && same_content(&new, &base) {
        return Ok(Drafted::Unchanged);
    }
    revision.summary = with_credit(format!("Redrafted from {}", runs_word(inputs.len())));
    let (body, additions, conflicts) = if edited {
        let merged = tacit_review::redraft::merge(&base, &prev, &new);
        if merged.additions.is_empty() && merged.conflicts.is_empty() {
            store.set_draft_base(&new.id, &new.to_json()).await?;
            return Ok(Drafted::Unchanged);
        }
        let mut doc: serde_json::Value =
            serde_json::from_str(&merged.sop.to_json()).unwrap_or_default();
        doc["additions"] = serde_json::json!(merged.additions);
        doc["conflicts"] = serde_json::json!(merged.conflicts);
        (
            serde_json::to_string_pretty(&doc).unwrap_or_default(),
            merged.additions,
            merged.conflicts,
        )
    } else if prev.owner.is_some() {
        (new.to_json(), Vec::new(), Vec::new())
    } else {
        // Nobody owns it and nobody edited it: the new draft is the SOP.
        store.set_draft_base(&new.id, &new.to_json()).await?;
        return Ok(Drafted::Saved(Box::new(
            save_version(store, new, revision, None).await?,
        )));
    };
    // An older redraft still waiting is replaced by this one.
    for p in store.proposals(&new.id).await? {
        if p.kind == "redraft" && p.status == "pending" {
            store
                .resolve_proposal(&p.id, "superseded", "a newer draft replaced it")
                .await?;
        }
    }
    let summary = if edited {
        format!(
            "{}: {} addition(s) to your edits{}",
            revision.summary,
            additions.len(),
            if conflicts.is_empty() {
                String::new()
            } else {
                format!(", {} conflict(s)", conflicts.len())
            }
        )
    } else {
        revision.summary.clone()
    };
    store
        .add_proposal(&Proposal {
            id: format!("redraft-{}-{}", new.id, uuid::Uuid::now_v7()),
            sop_id: new.id.clone(),
            sop_version: prev.version,
            run_id: revision.runs.last().cloned().unwrap_or_default(),
            kind: "redraft".into(),
            summary,
            body,
            status: "pending".into(),
            created_at_ms: tacit_core::now_ms(),
            resolution: None,
        })
        .await?;
    // The owner has now been shown this draft: it is what the next one is
    // compared with, so a rejected addition is not proposed again.
    store.set_draft_base(&new.id, &new.to_json()).await?;
    Ok(Drafted::Proposed {
        owner: prev.owner.clone(),
        additions,
        conflicts,
    })
}
