//! The owner's review: what runs proposed for an SOP, and accepting,
//! editing or rejecting each, saved as one new version with no lost update.
//!
//! A [`Review`] is a session over the latest version. The CLI walks it one
//! proposal at a time; the server accepts or rejects a single proposal per
//! request. Either way [`Review::finish`] saves once: if another version
//! was saved since the review began, nothing is saved and the proposals
//! stay pending.

use tacit_review::apply::Evidence;
use tacit_sop::{Sop, SourceRef};
use tacit_store::{Proposal, Store, StoreError};

use crate::keeping::revision;
use crate::sops::{load_sop, save_version};
use crate::{LibraryError, Result};

/// What a pending proposal would change.
#[derive(Debug, Clone)]
pub enum Change {
    /// A redraft of the SOP from new runs, merged with people's edits.
    Redraft {
        sop: Box<Sop>,
        /// What the runs add (people's edits are kept).
        additions: Vec<String>,
        /// Where the runs and people's edits disagree (people's are kept).
        conflicts: Vec<String>,
        /// It was made from an older version than the latest: accepting it
        /// would drop what changed since.
        stale: bool,
    },
    /// A new edge case or rule, or a deviation, with the run's evidence.
    Evidence(Box<Evidence>),
    /// The stored proposal does not parse; says why.
    Unreadable(String),
}

/// A pending proposal and what it would change.
#[derive(Debug, Clone)]
pub struct Pending {
    pub proposal: Proposal,
    pub change: Change,
}

/// Reads a stored proposal made for an SOP now at version `latest`.
pub fn read_proposal(proposal: Proposal, latest: u32) -> Pending {
    let change = if proposal.kind == "redraft" {
        match Sop::from_json(&proposal.body) {
            Ok(sop) => {
                let doc: serde_json::Value =
                    serde_json::from_str(&proposal.body).unwrap_or_default();
                let listed = |key: &str| -> Vec<String> {
                    doc[key]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                Change::Redraft {
                    sop: Box::new(sop),
                    additions: listed("additions"),
                    conflicts: listed("conflicts"),
                    stale: proposal.sop_version != latest,
                }
            }
            Err(e) => Change::Unreadable(e.to_string()),
        }
    } else {
        match serde_json::from_str::<Evidence>(&proposal.body) {
            Ok(e) => Change::Evidence(Box::new(e)),
            Err(e) => Change::Unreadable(e.to_string()),
        }
    };
    Pending { proposal, change }
}

/// A review of one SOP's pending proposals, started from its latest
/// version.
#[derive(Debug, Clone)]
pub struct Review {
    original: Sop,
    sop: Sop,
    pending: Vec<Pending>,
    accepted: Vec<(String, String)>,
    rejected: Vec<(String, String)>,
    runs: Vec<String>,
}

/// What [`Review::finish`] saved.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The SOP before the review.
    pub original: Sop,
    /// The new version, when anything was accepted.
    pub saved: Option<Sop>,
    pub accepted: usize,
    pub rejected: usize,
}

impl Review {
    /// Starts a review of `sop_id`'s latest version.
    pub async fn start<S: Store>(store: &S, sop_id: &str) -> Result<Review> {
        let original = load_sop(store, sop_id, None).await?;
        let latest = original.version;
        let pending = store
            .proposals(&original.id)
            .await?
            .into_iter()
            .filter(|p| p.status == "pending")
            .map(|p| read_proposal(p, latest))
            .collect();
        Ok(Review {
            sop: original.clone(),
            original,
            pending,
            accepted: Vec::new(),
            rejected: Vec::new(),
            runs: Vec::new(),
        })
    }

    /// The version the review started from.
    pub fn base(&self) -> &Sop {
        &self.original
    }

    /// The SOP with what was accepted so far.
    pub fn current(&self) -> &Sop {
        &self.sop
    }

    /// The proposals that were pending when the review started.
    pub fn pending(&self) -> &[Pending] {
        &self.pending
    }

    fn find(&self, proposal_id: &str) -> Result<Pending> {
        self.pending
            .iter()
            .find(|p| p.proposal.id == proposal_id)
            .cloned()
            .ok_or_else(|| {
                LibraryError::NotFound(format!(
                    "{} has no pending proposal {proposal_id}",
                    self.original.id
                ))
            })
    }

    /// The SOP as it would be with this proposal accepted on top of what is
    /// accepted so far: for showing the change, or as the text to edit.
    pub fn preview(&self, proposal_id: &str) -> Result<Sop> {
        let p = self.find(proposal_id)?;
        let mut sop = self.sop.clone();
        match &p.change {
            Change::Redraft {
                sop: redraft,
                stale,
                ..
            } => {
                if *stale {
                    return Err(LibraryError::Invalid(format!(
                        "this redraft was made from version {}, and version {} has changed since: run `tacit draft {}` again to merge the runs with the latest version",
                        p.proposal.sop_version, self.original.version, self.original.id
                    )));
                }
                let mut redraft = (**redraft).clone();
                // The redraft's content; the bookkeeping stays the SOP's.
                redraft.owner = sop.owner.clone();
                redraft.review_every_days = sop.review_every_days;
                redraft.revisions = sop.revisions.clone();
                redraft.version = sop.version;
                sop = redraft;
            }
            Change::Evidence(evidence) => {
                tacit_review::apply::apply(&mut sop, evidence, source(&p.proposal))
                    .map_err(LibraryError::Invalid)?;
            }
            Change::Unreadable(why) => {
                return Err(LibraryError::Unreadable(format!(
                    "proposal {} is unreadable: {why}",
                    p.proposal.id
                )));
            }
        }
        Ok(sop)
    }

    /// Accepts a proposal as it stands and says what changed.
    pub fn accept(&mut self, proposal_id: &str) -> Result<String> {
        let p = self.find(proposal_id)?;
        let said = match &p.change {
            Change::Redraft { .. } => {
                self.sop = self.preview(proposal_id)?;
                "accepted the new draft".to_string()
            }
            Change::Evidence(evidence) => {
                tacit_review::apply::apply(&mut self.sop, evidence, source(&p.proposal))
                    .map_err(LibraryError::Invalid)?
            }
            Change::Unreadable(why) => {
                return Err(LibraryError::Unreadable(format!(
                    "proposal {} is unreadable: {why}",
                    p.proposal.id
                )));
            }
        };
        self.settle(&p, true, said.clone());
        Ok(said)
    }

    /// Accepts a proposal with the reviewer's edit of the whole SOP.
    pub fn accept_edited(&mut self, proposal_id: &str, mut edited: Sop) -> Result<()> {
        let p = self.find(proposal_id)?;
        if edited.id != self.original.id {
            return Err(LibraryError::Invalid(format!(
                "the edit changes the SOP's id from {} to {}; keep the id",
                self.original.id, edited.id
            )));
        }
        edited.version = self.sop.version;
        edited.revisions = self.sop.revisions.clone();
        self.sop = edited;
        self.settle(&p, true, "accepted with edits".into());
        Ok(())
    }

    /// Rejects a proposal; the reason is kept so it is not raised again.
    pub fn reject(&mut self, proposal_id: &str, reason: &str) -> Result<()> {
        let p = self.find(proposal_id)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(LibraryError::Invalid(
                "say why it is rejected: the reason is kept so the proposal is not raised again"
                    .into(),
            ));
        }
        self.settle(&p, false, reason.to_string());
        Ok(())
    }

    fn settle(&mut self, p: &Pending, accepted: bool, said: String) {
        let id = p.proposal.id.clone();
        self.accepted.retain(|(a, _)| *a != id);
        self.rejected.retain(|(r, _)| *r != id);
        if accepted {
            self.accepted.push((id, said));
            self.runs.push(p.proposal.run_id.clone());
        } else {
            self.rejected.push((id, said));
        }
    }

    /// How many proposals were accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.len()
    }

    /// Saves what was decided: one new version by `reviewer` when anything
    /// was accepted (refused, with nothing changed, when another version
    /// was saved since the review began), then the proposals' resolutions.
    pub async fn finish<S: Store>(mut self, store: &S, reviewer: &str) -> Result<Finished> {
        let mut saved = None;
        if !self.accepted.is_empty() {
            self.runs.sort();
            self.runs.dedup();
            let summary = format!("Review: accepted {} proposal(s)", self.accepted.len());
            let sop = save_version(
                store,
                self.sop.clone(),
                revision(reviewer, summary, std::mem::take(&mut self.runs)),
                Some(self.original.version),
            )
            .await?;
            for (id, said) in &self.accepted {
                store.resolve_proposal(id, "accepted", said).await?;
            }
            saved = Some(sop);
        }
        for (id, reason) in &self.rejected {
            store.resolve_proposal(id, "rejected", reason).await?;
        }
        Ok(Finished {
            original: self.original,
            saved,
            accepted: self.accepted.len(),
            rejected: self.rejected.len(),
        })
    }
}

fn source(p: &Proposal) -> SourceRef {
    SourceRef {
        run_id: p.run_id.clone(),
        seq: 0,
    }
}

/// Whether an error is a refused lost update.
pub fn is_conflict(e: &LibraryError) -> bool {
    matches!(e, LibraryError::Store(StoreError::Conflict { .. }))
}
