//! Stage: several runs, one SOP. Steps are aligned with a longest common
//! subsequence over their keys (normalized commands with parameters already
//! substituted, or the `tacit step` title). The common path is the procedure; steps seen in only
//! some runs are marked optional. Rules, edge cases, escalations, checks and
//! parameters are the union, without duplicates.

use tacit_sop::{
    DecisionRule, EdgeCase, Escalation, Expectation, Parameter, Prerequisite, Step, SuccessCheck,
};

use crate::{DraftStep, RunDraft};

#[derive(Debug, Default)]
pub struct Merged {
    pub parameters: Vec<Parameter>,
    pub prerequisites: Vec<Prerequisite>,
    pub steps: Vec<Step>,
    pub rules: Vec<DecisionRule>,
    pub edge_cases: Vec<EdgeCase>,
    pub escalations: Vec<Escalation>,
    pub success_checks: Vec<SuccessCheck>,
}

/// Pairs of indices (a, b) of equal keys, in order: a longest common
/// subsequence.
pub fn align(a: &[String], b: &[String]) -> Vec<(usize, usize)> {
    crate::params::align_by(a, b, |x, y| x == y)
}

/// A merged step: the step, in how many runs it was seen, and its key.
struct Slot {
    key: String,
    step: Step,
    seen: usize,
}

pub fn merge(drafts: &[RunDraft]) -> Merged {
    let mut slots: Vec<Slot> = Vec::new();
    for d in drafts {
        let keys: Vec<String> = slots.iter().map(|s| s.key.clone()).collect();
        let theirs: Vec<String> = d.steps.iter().map(|s| s.key.clone()).collect();
        let pairs = align(&keys, &theirs);
        let mut merged: Vec<Slot> = Vec::with_capacity(slots.len() + d.steps.len());
        let mut old = std::mem::take(&mut slots)
            .into_iter()
            .enumerate()
            .peekable();
        let mut new = d.steps.iter().enumerate().peekable();
        for (a, b) in pairs
            .iter()
            .copied()
            .chain(std::iter::once((usize::MAX, usize::MAX)))
        {
            while let Some((_, s)) = old.next_if(|(i, _)| *i < a) {
                merged.push(s);
            }
            while let Some((_, s)) = new.next_if(|(j, _)| *j < b) {
                merged.push(new_slot(s));
            }
            if a == usize::MAX {
                break;
            }
            let (_, mut s) = old.next().expect("aligned index exists");
            let (_, theirs) = new.next().expect("aligned index exists");
            s.seen += 1;
            for src in &theirs.step.sources {
                if !s.step.sources.contains(src) {
                    s.step.sources.push(src.clone());
                }
            }
            if s.step.why.is_none() {
                s.step.why = theirs.step.why.clone();
            }
            if s.step.caution.is_none() {
                s.step.caution = theirs.step.caution.clone();
            }
            if s.step.instruction.is_none() {
                s.step.instruction = theirs.step.instruction.clone();
            }
            merge_expectation(&mut s.step.expect, &theirs.step.expect);
            merged.push(s);
        }
        slots = merged;
    }
    let runs = drafts.len();
    let fixes = fixes_from_other_runs(drafts, &mut slots);
    let titles: Vec<(String, String)> = slots
        .iter()
        .map(|s| (s.key.clone(), s.step.title.clone()))
        .collect();
    let mut steps: Vec<Step> = slots
        .into_iter()
        .map(|mut s| {
            s.step.optional = s.seen < runs;
            s.step
        })
        .collect();
    dedupe_titles(&mut steps);
    let title_of = |key: &str| {
        titles
            .iter()
            .position(|(k, _)| k == key)
            .map(|i| steps[i].title.clone())
    };

    let mut out = Merged {
        parameters: crate::parameters(drafts),
        ..Default::default()
    };
    for d in drafts {
        for p in &d.prereqs {
            match out.prerequisites.iter_mut().find(|x| x.check == p.check) {
                Some(x) => extend(&mut x.sources, &p.sources),
                None => out.prerequisites.push(p.clone()),
            }
        }
        for c in &d.checks {
            match out
                .success_checks
                .iter_mut()
                .find(|x| x.command == c.command)
            {
                Some(x) => {
                    extend(&mut x.sources, &c.sources);
                    merge_expectation(&mut x.expect, &c.expect);
                }
                None => out.success_checks.push(c.clone()),
            }
        }
        for r in &d.rules {
            let mut r = r.clone();
            if let Some(more) = r
                .step
                .as_ref()
                .and_then(|k| fixes.get(&(d.run_id.clone(), k.clone())))
            {
                for c in more {
                    if !r.then_commands.contains(c) {
                        r.then_commands.push(c.clone());
                    }
                }
            }
            r.step = r.step.as_deref().and_then(title_of);
            match out.rules.iter_mut().find(|x| {
                x.step == r.step
                    && x.when.output_contains == r.when.output_contains
                    && x.when.exit_code == r.when.exit_code
            }) {
                Some(x) => extend(&mut x.sources, &r.sources),
                None => out.rules.push(r),
            }
        }
        for e in &d.edge_cases {
            match out
                .edge_cases
                .iter_mut()
                .find(|x| x.description == e.description)
            {
                Some(x) => extend(&mut x.sources, &e.sources),
                None => out.edge_cases.push(e.clone()),
            }
        }
        for e in &d.escalations {
            crate::add_escalation(&mut out.escalations, e.clone());
        }
    }
    out.steps = steps;
    out
}

/// Steps that only the runs which met a failure took, right after the step
/// that failed there, are how those runs fixed it: the other runs went
/// straight on. They leave the procedure and join the failure's rule, as
/// its commands (`ALTER USER` failed for want of the user, and `CREATE
/// USER` followed, in that run only). Returns the commands to add, by (run,
/// step key of the rule).
fn fixes_from_other_runs(
    drafts: &[RunDraft],
    slots: &mut Vec<Slot>,
) -> std::collections::HashMap<(String, String), Vec<String>> {
    use std::collections::{BTreeSet, HashMap};
    let mut out: HashMap<(String, String), Vec<String>> = HashMap::new();
    if drafts.len() < 2 {
        return out;
    }
    let runs_of = |s: &Slot| -> BTreeSet<String> {
        s.step
            .sources
            .iter()
            .map(|src| src.run_id.clone())
            .collect()
    };
    let failed_at = |run: &str, key: &str| {
        drafts
            .iter()
            .find(|d| d.run_id == run)
            .is_some_and(|d| d.rules.iter().any(|r| r.step.as_deref() == Some(key)))
    };
    let mut i = 1;
    let mut anchor: Option<(usize, BTreeSet<String>)> = None;
    while i < slots.len() {
        // The step the failure happened at: the nearest earlier step that
        // stays, and the runs that failed there.
        if anchor.as_ref().is_none_or(|(a, _)| *a != i - 1) {
            let prev = &slots[i - 1];
            let failing: BTreeSet<String> = runs_of(prev)
                .into_iter()
                .filter(|r| failed_at(r, &prev.key))
                .collect();
            anchor = Some((i - 1, failing));
        }
        let (at, failing) = anchor.clone().expect("just set");
        let here = runs_of(&slots[i]);
        let only_failing = slots[i].seen < drafts.len()
            && !failing.is_empty()
            && !slots[i].step.commands.is_empty()
            && here.iter().all(|r| failing.contains(r));
        if only_failing {
            let fix = slots.remove(i);
            for run in &here {
                out.entry((run.clone(), slots[at].key.clone()))
                    .or_default()
                    .extend(fix.step.commands.iter().cloned());
            }
            // The next step is compared with the same failing step.
            anchor = Some((at, failing));
            if i == at + 1 {
                continue;
            }
        }
        i += 1;
    }
    out
}

/// What every run agrees on: an output line only if each run showed it; an
/// exit code of 0 if any run succeeded (a run that accepted a failure does
/// not make failure the expectation).
fn merge_expectation(into: &mut Expectation, other: &Expectation) {
    if into.exit_code.is_none() || other.exit_code.is_none() {
        into.exit_code = into.exit_code.or(other.exit_code);
        if other.output_contains.is_empty() || into.output_contains.is_empty() {
            let mut lines = std::mem::take(&mut into.output_contains);
            lines.extend(other.output_contains.iter().cloned());
            into.output_contains = lines;
        }
        return;
    }
    into.output_contains
        .retain(|l| other.output_contains.contains(l));
}

fn new_slot(s: &DraftStep) -> Slot {
    Slot {
        key: s.key.clone(),
        step: s.step.clone(),
        seen: 1,
    }
}

fn extend(into: &mut Vec<tacit_sop::SourceRef>, from: &[tacit_sop::SourceRef]) {
    for s in from {
        if !into.contains(s) {
            into.push(s.clone());
        }
    }
}

/// Two steps with the same title would be ambiguous in rules and in the
/// Markdown: number the repeats ("Run the tests (2)").
fn dedupe_titles(steps: &mut [Step]) {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for step in steps.iter_mut() {
        let count = seen.entry(step.title.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            step.title = format!("{} ({})", step.title, count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn runs_agree_on_expectations_or_drop_them() {
        let mut a = Expectation {
            exit_code: Some(0),
            output_contains: vec!["count 1200".into(), "ok".into()],
        };
        merge_expectation(
            &mut a,
            &Expectation {
                exit_code: Some(0),
                output_contains: vec!["ok".into()],
            },
        );
        assert_eq!(a.output_contains, ["ok"]);
        // A run that accepted a failure does not make failure expected.
        let mut b = Expectation::default();
        merge_expectation(&mut b, &a);
        assert_eq!(b.exit_code, Some(0));
    }

    #[test]
    fn alignment_finds_the_common_path() {
        let a = keys(&["pull", "build", "migrate", "release"]);
        let b = keys(&["pull", "build", "smoke", "release"]);
        assert_eq!(align(&a, &b), vec![(0, 0), (1, 1), (3, 3)]);
        assert!(align(&a, &keys(&[])).is_empty());
    }
}
