//! When a failure matches none of its SOP's rules: the most similar rules
//! from the whole library, before the person is asked. Another team may
//! have met the same error and written down what to do, and why.
//!
//! Candidates come from the store's full-text search (each distinctive
//! word of the failure on its own, since the search wants every word of a
//! query); their rules are then scored by the words they share with the
//! failure, an exact match of a rule's output line counting most.

use std::collections::{BTreeMap, BTreeSet};

use tacit_sop::{DecisionRule, Sop};
use tacit_store::Store;

use crate::Result;

/// A rule from another SOP that looks like the failure at hand.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Suggestion {
    pub sop_id: String,
    pub sop_title: String,
    pub rule: DecisionRule,
    /// 0 to 1: how much of the failure the rule's words cover.
    pub score: f64,
}

/// Words too common in failures to tell one from another.
const COMMON: &[&str] = &[
    "the", "and", "for", "with", "not", "was", "are", "has", "have", "this", "that", "from",
    "error", "errors", "failed", "failure", "fatal", "cannot", "can't", "could", "unable", "exit",
    "code", "status", "warning", "info", "line", "file", "command", "bash", "zsh", "sh", "run",
    "running", "usage", "true", "false", "null", "none", "see", "try", "please", "more", "details",
];

/// Candidate SOPs looked at, and searches made, at most.
const CANDIDATES: usize = 12;
const WORDS: usize = 8;

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '\''))
        .map(|w| {
            w.trim_matches(|c: char| c == '-' || c == '\'')
                .to_lowercase()
        })
        .filter(|w| w.chars().count() >= 3 && w.chars().any(char::is_alphabetic))
        .filter(|w| !COMMON.contains(&w.as_str()))
        .collect()
}

/// The failure's distinctive words, the most telling first: its signal
/// line, then the end of its output, then the command's words.
fn failure_words(command: &str, output: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |w: String| {
        if !out.contains(&w) {
            out.push(w);
        }
    };
    if let Some((line, _)) = tacit_draft::rules::signal(output) {
        words(&line).into_iter().for_each(&mut push);
    }
    let lines: Vec<&str> = output.lines().collect();
    let tail = lines[lines.len().saturating_sub(5)..].join("\n");
    words(&tail).into_iter().for_each(&mut push);
    words(command).into_iter().for_each(&mut push);
    out
}

/// The rules of the library most like this failure (at most `limit`),
/// leaving out `exclude` (the SOP being run, whose rules did not match).
pub async fn similar_rules<S: Store>(
    store: &S,
    command: &str,
    exit_code: Option<i32>,
    output: &str,
    exclude: Option<&str>,
    limit: usize,
) -> Result<Vec<Suggestion>> {
    let wanted = failure_words(command, output);
    let searched: Vec<&String> = wanted.iter().take(WORDS).collect();
    if searched.is_empty() {
        return Ok(Vec::new());
    }
    let mut hits: BTreeMap<String, usize> = BTreeMap::new();
    for w in &searched {
        for (id, _, _) in store.search(w).await? {
            if Some(id.as_str()) != exclude {
                *hits.entry(id).or_default() += 1;
            }
        }
    }
    let mut candidates: Vec<(String, usize)> = hits.into_iter().collect();
    candidates.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let wanted_set: BTreeSet<&str> = searched.iter().map(|w| w.as_str()).collect();
    let mut found = Vec::new();
    for (id, _) in candidates.into_iter().take(CANDIDATES) {
        let Some(version) = store.sop_version(&id, None).await? else {
            continue;
        };
        let Ok(sop) = Sop::from_json(&version.body) else {
            continue;
        };
        for rule in &sop.rules {
            let text = format!(
                "{} {} {}",
                rule.when.summary,
                rule.when.output_contains.as_deref().unwrap_or_default(),
                rule.then
            );
            let theirs: BTreeSet<String> = words(&text).into_iter().collect();
            let shared = wanted_set.iter().filter(|w| theirs.contains(**w)).count();
            let mut score = shared as f64 / wanted_set.len() as f64;
            // The rule's own output line, verbatim: the same situation.
            if rule
                .when
                .output_contains
                .as_deref()
                .is_some_and(|o| !o.trim().is_empty() && output.contains(o))
            {
                score = (score + 0.5).min(1.0);
            }
            if score > 0.0 && rule.when.exit_code.is_some() && rule.when.exit_code == exit_code {
                score = (score + 0.05).min(1.0);
            }
            if score >= 0.25 {
                found.push(Suggestion {
                    sop_id: sop.id.clone(),
                    sop_title: sop.title.clone(),
                    rule: rule.clone(),
                    score,
                });
            }
        }
    }
    found.sort_by(|a, b| {
        b.score
            .partial_cmp(&a.score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.sop_id.cmp(&b.sop_id))
    });
    found.truncate(limit);
    Ok(found)
}
