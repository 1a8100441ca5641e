//! Library health: what an owner (or a cron job) needs to know about each
//! SOP, and a trust score built from evidence, not edit dates.
//!
//! The trust score starts at 100 and loses points for:
//! - no owner: 15;
//! - review overdue: 20 (no review interval set: 5);
//! - no successful guided run ever: 25, or none in the last 90 days: 15;
//! - deviations: up to 20, by the share of recent runs that deviated;
//! - failures: up to 20, by the share of recent runs that failed, escalated
//!   or stopped unresolved;
//! - unanswered questions (runs that stopped with nobody to answer): 5 each,
//!   at most 15;
//! - proposals waiting longer than the threshold: 10.

use serde::Serialize;

const DAY_MS: i64 = 86_400_000;

/// One guided run of an SOP, as health sees it.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub at_ms: i64,
    pub user: String,
    /// succeeded, failed, aborted, escalated, unresolved; `None` while it
    /// runs or when it was interrupted.
    pub outcome: Option<String>,
    /// Titles of steps that deviated (skipped, edited, done by hand, …).
    pub deviated_steps: Vec<String>,
}

/// Everything known about one SOP.
#[derive(Debug, Clone)]
pub struct SopFacts {
    pub id: String,
    pub title: String,
    pub version: u32,
    pub owner: Option<String>,
    pub review_every_days: Option<u32>,
    /// The last `tacit reviewed`, else when the latest version was saved.
    pub reviewed_at_ms: i64,
    /// Creation times of pending proposals.
    pub pending_proposals: Vec<i64>,
    /// Guided runs, newest first.
    pub runs: Vec<RunFacts>,
    /// Everyone who ever recorded or ran it.
    pub people: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    /// Pending proposals older than this fail `status --check`.
    pub proposal_max_days: u32,
    /// How many recent runs rates are computed over.
    pub recent_runs: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            proposal_max_days: 14,
            recent_runs: 10,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub id: String,
    pub title: String,
    pub version: u32,
    pub owner: Option<String>,
    pub last_run_ms: Option<i64>,
    pub last_success_ms: Option<i64>,
    /// Share of recent guided runs that succeeded.
    pub success_rate: Option<f64>,
    pub pending_proposals: usize,
    pub review_due_ms: Option<i64>,
    pub review_overdue: bool,
    /// Steps where recent runs keep deviating.
    pub drift: Vec<String>,
    pub never_run: bool,
    /// Only one person has ever run or recorded it.
    pub single_person: bool,
    pub trust: u8,
    /// What `status --check` fails on.
    pub problems: Vec<String>,
    /// Everything worth a look, worst first.
    pub notes: Vec<String>,
}

pub fn assess(f: &SopFacts, now_ms: i64, th: Thresholds) -> Health {
    let recent: Vec<&RunFacts> = f.runs.iter().take(th.recent_runs).collect();
    let finished: Vec<&&RunFacts> = recent.iter().filter(|r| r.outcome.is_some()).collect();
    let succeeded = finished
        .iter()
        .filter(|r| r.outcome.as_deref() == Some("succeeded"))
        .count();
    let failed = finished
        .iter()
        .filter(|r| {
            matches!(
                r.outcome.as_deref(),
                Some("failed" | "escalated" | "unresolved")
            )
        })
        .count();
    let unanswered = recent
        .iter()
        .filter(|r| r.outcome.as_deref() == Some("unresolved"))
        .count();
    let deviated = recent
        .iter()
        .filter(|r| !r.deviated_steps.is_empty())
        .count();
    let success_rate = (!finished.is_empty()).then(|| succeeded as f64 / finished.len() as f64);
    let last_success_ms = f
        .runs
        .iter()
        .filter(|r| r.outcome.as_deref() == Some("succeeded"))
        .map(|r| r.at_ms)
        .max();
    let review_due_ms = f
        .review_every_days
        .map(|d| f.reviewed_at_ms + i64::from(d) * DAY_MS);
    let review_overdue = review_due_ms.is_some_and(|due| now_ms > due);
    let stale_proposals = f
        .pending_proposals
        .iter()
        .filter(|&&at| now_ms - at > i64::from(th.proposal_max_days) * DAY_MS)
        .count();
    // Drift: a step deviated in at least two of the recent runs.
    let mut drift: Vec<String> = Vec::new();
    for r in &recent {
        for s in &r.deviated_steps {
            let n = recent
                .iter()
                .filter(|x| x.deviated_steps.contains(s))
                .count();
            if n >= 2 && !drift.contains(s) {
                drift.push(s.clone());
            }
        }
    }
    let mut people = f.people.clone();
    people.sort();
    people.dedup();

    let mut trust: i64 = 100;
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    if f.owner.is_none() {
        trust -= 15;
        problems.push("no owner".to_string());
    }
    match (review_due_ms, review_overdue) {
        (Some(due), true) => {
            trust -= 20;
            problems.push(format!(
                "review overdue by {} days",
                (now_ms - due) / DAY_MS + 1
            ));
        }
        (None, _) => {
            trust -= 5;
            notes.push("no review interval".to_string());
        }
        _ => {}
    }
    match last_success_ms {
        None => {
            trust -= 25;
            notes.push(if f.runs.is_empty() {
                "never run".to_string()
            } else {
                "no successful run yet".to_string()
            });
        }
        Some(at) if now_ms - at > 90 * DAY_MS => {
            trust -= 15;
            notes.push("no successful run in 90 days".to_string());
        }
        _ => {}
    }
    if !recent.is_empty() {
        trust -= (20 * deviated / recent.len()) as i64;
        trust -= (20 * failed / recent.len().max(1)) as i64;
    }
    trust -= (5 * unanswered as i64).min(15);
    if unanswered > 0 {
        notes.push(format!("{unanswered} unanswered question(s)"));
    }
    if stale_proposals > 0 {
        trust -= 10;
        problems.push(format!(
            "{stale_proposals} proposal(s) waiting over {} days",
            th.proposal_max_days
        ));
    } else if !f.pending_proposals.is_empty() {
        notes.push(format!("{} pending proposal(s)", f.pending_proposals.len()));
    }
    if !drift.is_empty() {
        notes.push(format!("drift at: {}", drift.join(", ")));
    }
    if people.len() == 1 {
        notes.push(format!("only {} has ever run it", people[0]));
    }
    Health {
        id: f.id.clone(),
        title: f.title.clone(),
        version: f.version,
        owner: f.owner.clone(),
        last_run_ms: f.runs.iter().map(|r| r.at_ms).max(),
        last_success_ms,
        success_rate,
        pending_proposals: f.pending_proposals.len(),
        review_due_ms,
        review_overdue,
        drift,
        never_run: f.runs.is_empty(),
        single_person: people.len() == 1,
        trust: trust.clamp(0, 100) as u8,
        problems,
        notes,
    }
}

/// Worst first: lowest trust, then most problems, then by id.
pub fn sort_worst_first(list: &mut [Health]) {
    list.sort_by(|a, b| {
        a.trust
            .cmp(&b.trust)
            .then(b.problems.len().cmp(&a.problems.len()))
            .then(a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000 * DAY_MS;

    fn facts() -> SopFacts {
        SopFacts {
            id: "deploy".into(),
            title: "Deploy".into(),
            version: 2,
            owner: Some("ops".into()),
            review_every_days: Some(90),
            reviewed_at_ms: NOW - 10 * DAY_MS,
            pending_proposals: vec![],
            runs: vec![RunFacts {
                at_ms: NOW - DAY_MS,
                user: "ann".into(),
                outcome: Some("succeeded".into()),
                deviated_steps: vec![],
            }],
            people: vec!["ann".into(), "bob".into()],
        }
    }

    #[test]
    fn a_healthy_sop_scores_full_trust() {
        let h = assess(&facts(), NOW, Thresholds::default());
        assert_eq!(h.trust, 100, "{h:?}");
        assert!(h.problems.is_empty());
        assert_eq!(h.success_rate, Some(1.0));
    }

    #[test]
    fn overdue_unowned_and_stale_proposals_are_problems() {
        let mut f = facts();
        f.owner = None;
        f.reviewed_at_ms = NOW - 100 * DAY_MS;
        f.pending_proposals = vec![NOW - 20 * DAY_MS];
        let h = assess(&f, NOW, Thresholds::default());
        assert_eq!(h.problems.len(), 3, "{:?}", h.problems);
        assert!(h.review_overdue);
        assert_eq!(h.trust, 100 - 15 - 20 - 10);
    }

    #[test]
    fn drift_single_person_and_never_run_are_seen() {
        let mut f = facts();
        f.people = vec!["ann".into()];
        f.runs = (0..3)
            .map(|i| RunFacts {
                at_ms: NOW - i * DAY_MS,
                user: "ann".into(),
                outcome: Some("succeeded".into()),
                deviated_steps: vec!["Migrate".into()],
            })
            .collect();
        let h = assess(&f, NOW, Thresholds::default());
        assert_eq!(h.drift, ["Migrate"]);
        assert!(h.single_person);
        assert_eq!(h.trust, 80);
        let mut g = facts();
        g.runs.clear();
        let h = assess(&g, NOW, Thresholds::default());
        assert!(h.never_run);
        assert_eq!(h.trust, 75);
        let mut list = vec![assess(&facts(), NOW, Thresholds::default()), h];
        sort_worst_first(&mut list);
        assert!(list[0].never_run);
    }
}
