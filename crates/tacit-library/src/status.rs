//! The library's health (`tacit status`, the dashboard) and one SOP's run
//! statistics (`tacit stats`).

use std::collections::BTreeMap;

use tacit_core::EventBody;
use tacit_review::health::{self, Health, RunFacts, SopFacts, Thresholds};
use tacit_store::Store;

use crate::Result;
use crate::sops::load_sop;

/// The facts health needs about every SOP: a handful of queries for the
/// whole library, so status stays fast with thousands of SOPs. A team owner
/// is shown with its members.
pub async fn facts<S: Store>(store: &S) -> Result<Vec<SopFacts>> {
    facts_of(store, None).await
}

async fn facts_of<S: Store>(store: &S, only: Option<&str>) -> Result<Vec<SopFacts>> {
    facts_from(store, store.health_rows(only).await?).await
}

async fn facts_from<S: Store>(
    store: &S,
    rows: Vec<tacit_store::HealthRow>,
) -> Result<Vec<SopFacts>> {
    // Teams only matter when something is owned.
    let teams = if rows.iter().any(|r| r.owner.is_some()) {
        store.teams().await?
    } else {
        Vec::new()
    };
    Ok(rows
        .into_iter()
        .map(|h| {
            let owner = h.owner.map(|o| match teams.iter().find(|(n, _)| *n == o) {
                Some((n, m)) => format!("{n} (team: {})", m.join(", ")),
                None => o,
            });
            SopFacts {
                id: h.sop_id,
                title: h.title,
                version: h.version,
                owner,
                review_every_days: h.review_every_days,
                reviewed_at_ms: h.last_review_ms.unwrap_or(h.version_created_ms),
                pending_proposals: h.pending,
                runs: h
                    .runs
                    .into_iter()
                    .map(|(at_ms, user, outcome, deviated_steps)| RunFacts {
                        at_ms,
                        user,
                        outcome,
                        deviated_steps,
                    })
                    .collect(),
                people: h.people,
            }
        })
        .collect())
}

/// Every SOP's health at `now_ms`, worst first.
pub async fn library_health<S: Store>(
    store: &S,
    now_ms: i64,
    thresholds: Thresholds,
) -> Result<Vec<Health>> {
    let mut list: Vec<Health> = facts(store)
        .await?
        .iter()
        .map(|f| health::assess(f, now_ms, thresholds))
        .collect();
    health::sort_worst_first(&mut list);
    Ok(list)
}

/// Which SOPs a listing of the library shows (the API's and the web page's).
#[derive(Debug, Clone, Default)]
pub struct LibraryFilter<'a> {
    /// Search words, all required; the listing is then in search order.
    pub words: Option<&'a str>,
    /// A person or team (a team owner is shown with its members).
    pub owner: Option<&'a str>,
    pub overdue: Option<bool>,
    pub trust_below: Option<u32>,
}

/// An SOP in a listing, with where the search words matched.
#[derive(Debug, Clone)]
pub struct Listed {
    pub health: Health,
    pub snippet: Option<String>,
}

/// The library's SOPs with their health, filtered: worst first, or best
/// match first when there are search words.
pub async fn library<S: Store>(
    store: &S,
    filter: &LibraryFilter<'_>,
    now_ms: i64,
    thresholds: Thresholds,
) -> Result<Vec<Listed>> {
    let mut list = library_health(store, now_ms, thresholds).await?;
    let mut snippets = std::collections::BTreeMap::new();
    if let Some(words) = filter.words.filter(|w| !w.trim().is_empty()) {
        let hits = store.search(words).await?;
        let order: Vec<String> = hits.iter().map(|h| h.0.clone()).collect();
        snippets = hits.into_iter().map(|(id, _, snip)| (id, snip)).collect();
        list.retain(|h| snippets.contains_key(&h.id));
        list.sort_by_key(|h| order.iter().position(|id| *id == h.id));
    }
    if let Some(owner) = filter.owner {
        let team = format!("{owner} (team:");
        list.retain(|h| {
            h.owner
                .as_deref()
                .is_some_and(|o| o == owner || o.starts_with(&team))
        });
    }
    if let Some(overdue) = filter.overdue {
        list.retain(|h| h.review_overdue == overdue);
    }
    if let Some(max) = filter.trust_below {
        list.retain(|h| u32::from(h.trust) < max);
    }
    Ok(list
        .into_iter()
        .map(|health| Listed {
            snippet: snippets.remove(&health.id),
            health,
        })
        .collect())
}

/// One SOP's health (a page about it), without assessing the library.
pub async fn sop_health<S: Store>(
    store: &S,
    sop_id: &str,
    now_ms: i64,
    thresholds: Thresholds,
) -> Result<Option<Health>> {
    Ok(facts_of(store, Some(sop_id))
        .await?
        .first()
        .map(|f| health::assess(f, now_ms, thresholds)))
}

/// An SOP's history and health together: what its page shows, in as few
/// round trips as the store can.
pub async fn history_and_health<S: Store + Sync>(
    store: &S,
    sop_id: &str,
    now_ms: i64,
    thresholds: Thresholds,
) -> Result<(Vec<crate::keeping::HistoryEntry>, Option<Health>)> {
    let (versions, row) = store.sop_with_health(sop_id).await?;
    let history = crate::keeping::history_of(sop_id, versions)?;
    let health = facts_from(store, row.into_iter().collect())
        .await?
        .first()
        .map(|f| health::assess(f, now_ms, thresholds));
    Ok((history, health))
}

/// Guided runs of one SOP on one day.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Day {
    pub date: String,
    pub runs: u32,
    pub succeeded: u32,
}

/// How one step fares across guided runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StepStats {
    pub step: String,
    /// Runs that finished the step.
    pub runs: usize,
    pub median_ms: i64,
    pub p90_ms: i64,
    /// Runs that ended failed (or escalated) while on this step.
    pub failed: u32,
    pub deviated: u32,
    pub escalated: u32,
}

/// An SOP's guided runs: how many, how often they succeed, per day and per
/// step.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SopStats {
    pub sop: String,
    #[serde(skip)]
    pub title: String,
    pub version: u32,
    pub runs: usize,
    /// Of the runs that ended, the share that succeeded.
    pub success_rate: Option<f64>,
    pub per_day: Vec<Day>,
    pub steps: Vec<StepStats>,
}

/// The `p` percentile (0–1) of sorted values, nearest rank; 0 when empty.
pub fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Run statistics of one SOP, from the events of its guided runs.
pub async fn stats<S: Store>(store: &S, sop_id: &str) -> Result<SopStats> {
    let sop = load_sop(store, sop_id, None).await?;
    let runs: Vec<_> = store
        .list_runs(Some(sop_id))
        .await?
        .into_iter()
        .filter(|r| r.meta.sop_id.as_deref() == Some(sop_id))
        .collect();
    let mut per_day: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut durations: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut fails: BTreeMap<String, u32> = BTreeMap::new();
    let mut deviates: BTreeMap<String, u32> = BTreeMap::new();
    let mut escalates: BTreeMap<String, u32> = BTreeMap::new();
    let (mut succeeded, mut finished) = (0u32, 0u32);
    for r in &runs {
        let events = store.events(&r.meta.id).await?;
        let mut current: Option<String> = None;
        let mut outcome = None;
        for e in &events {
            match &e.body {
                EventBody::Step { title } => current = Some(title.clone()),
                EventBody::StepDone {
                    title, duration_ms, ..
                } => durations
                    .entry(title.clone())
                    .or_default()
                    .push(*duration_ms),
                EventBody::Deviation { step, .. } => {
                    *deviates.entry(step.clone()).or_default() += 1
                }
                EventBody::Outcome { outcome: o, .. } => outcome = Some(o.clone()),
                _ => {}
            }
        }
        let day = per_day
            .entry(tacit_core::utc_date(r.meta.started_at_ms))
            .or_default();
        day.0 += 1;
        if let Some(o) = &outcome {
            finished += 1;
            if o == "succeeded" {
                succeeded += 1;
                day.1 += 1;
            } else if let Some(step) = &current {
                let into = if o == "escalated" {
                    &mut escalates
                } else {
                    &mut fails
                };
                *into.entry(step.clone()).or_default() += 1;
            }
        }
    }
    let steps = sop
        .steps
        .iter()
        .map(|s| {
            let mut d = durations.get(&s.title).cloned().unwrap_or_default();
            d.sort_unstable();
            StepStats {
                step: s.title.clone(),
                runs: d.len(),
                median_ms: percentile(&d, 0.5),
                p90_ms: percentile(&d, 0.9),
                failed: fails.get(&s.title).copied().unwrap_or(0),
                deviated: deviates.get(&s.title).copied().unwrap_or(0),
                escalated: escalates.get(&s.title).copied().unwrap_or(0),
            }
        })
        .collect();
    Ok(SopStats {
        sop: sop.id,
        title: sop.title,
        version: sop.version,
        runs: runs.len(),
        success_rate: (finished > 0).then(|| f64::from(succeeded) / f64::from(finished)),
        per_day: per_day
            .into_iter()
            .map(|(date, (runs, succeeded))| Day {
                date,
                runs,
                succeeded,
            })
            .collect(),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.9), 7);
        assert_eq!(percentile(&[1, 2, 3, 4], 0.5), 2);
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), 9);
    }
}
