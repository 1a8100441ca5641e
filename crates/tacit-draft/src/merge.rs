//! Stage: several runs, one SOP. Steps are aligned with a longest common
//! subsequence over their keys (normalized, parametrized commands, or the
//! `tacit step` title). The common path is the procedure; steps seen in only
//! some runs are marked optional. Rules, edge cases, escalations, checks and
//! parameters are the union, without duplicates.

use tacit_sop::{DecisionRule, EdgeCase, Escalation, Parameter, Prerequisite, Step, SuccessCheck};

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
    let (n, m) = (a.len(), b.len());
    let mut table = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i][j] = if a[i] == b[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut pairs = Vec::new();
    while i < n && j < m {
        if a[i] == b[j] {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if table[i + 1][j] >= table[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
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
            merged.push(s);
        }
        slots = merged;
    }
    let runs = drafts.len();
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
                Some(x) => extend(&mut x.sources, &c.sources),
                None => out.success_checks.push(c.clone()),
            }
        }
        for r in &d.rules {
            let mut r = r.clone();
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

/// With several runs, tokens that differ between them become parameters:
/// steps with the same title and the same number of words, that differ in
/// a few words (`--env staging` / `--env prod`), are the same step with a
/// `<<env>>` placeholder. The values found become the parameter's examples.
pub fn unify_differing_tokens(drafts: &mut [RunDraft]) {
    if drafts.len() < 2 {
        return;
    }
    let is_placeholder = |w: &str| w.starts_with("<<") && w.ends_with(">>");
    // Group step occurrences by (title, word count) across runs.
    // (title, word count) → where it occurs: (run, step) pairs.
    type Occurrences = Vec<(usize, usize)>;
    let mut groups: Vec<(String, usize, Occurrences)> = Vec::new();
    for (r, d) in drafts.iter().enumerate() {
        for (i, st) in d.steps.iter().enumerate() {
            if st.key.starts_with("step:") || st.step.commands.len() != 1 {
                continue;
            }
            let words = st.step.commands[0].split(' ').count();
            match groups
                .iter_mut()
                .find(|(t, n, _)| *t == st.step.title && *n == words)
            {
                Some((_, _, members)) => members.push((r, i)),
                None => groups.push((st.step.title.clone(), words, vec![(r, i)])),
            }
        }
    }
    for (_, _, members) in groups {
        let runs: std::collections::BTreeSet<usize> = members.iter().map(|(r, _)| *r).collect();
        if runs.len() < 2 {
            continue;
        }
        let lines: Vec<Vec<String>> = members
            .iter()
            .map(|(r, i)| {
                drafts[*r].steps[*i].step.commands[0]
                    .split(' ')
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        let first = &lines[0];
        let differing: Vec<usize> = (0..first.len())
            .filter(|&w| lines.iter().any(|l| l[w] != first[w]))
            .collect();
        // Only a few words may differ, never the program itself.
        if differing.is_empty() || differing.len() > 2 || differing.contains(&0) {
            continue;
        }
        if differing
            .iter()
            .any(|&w| lines.iter().any(|l| is_placeholder(&l[w])))
        {
            continue;
        }
        for &w in &differing {
            let name = param_name(if w > 0 { &first[w - 1] } else { "" }, w);
            for ((r, i), line) in members.iter().zip(&lines) {
                let value = line[w].clone();
                let d = &mut drafts[*r];
                let step = &mut d.steps[*i];
                let mut words: Vec<String> = step.step.commands[0]
                    .split(' ')
                    .map(str::to_string)
                    .collect();
                words[w] = format!("<<{name}>>");
                step.step.commands[0] = words.join(" ");
                step.key = format!("cmd:{}", step.step.commands[0]);
                if !d.params.iter().any(|f| f.name == name && f.value == value) {
                    d.params.push(crate::params::Found {
                        name: name.clone(),
                        description: format!("Differs between runs (e.g. {value})"),
                        value,
                        secret: false,
                    });
                }
            }
        }
    }
}

/// `--env` → `env`; otherwise `arg_N`.
fn param_name(previous: &str, position: usize) -> String {
    let flag = previous.trim_start_matches('-');
    let valid = previous.starts_with('-')
        && flag.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && flag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        flag.to_ascii_lowercase().replace('-', "_")
    } else {
        format!("arg_{position}")
    }
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

    fn draft_with(id: &str, lines: &[&str]) -> RunDraft {
        RunDraft {
            run_id: id.into(),
            steps: lines
                .iter()
                .map(|l| DraftStep {
                    key: format!("cmd:{l}"),
                    step: Step {
                        title: crate::titles::title_for(l),
                        commands: vec![l.to_string()],
                        ..Default::default()
                    },
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn tokens_that_differ_between_runs_become_parameters() {
        let mut drafts = vec![
            draft_with(
                "a",
                &["git pull", "./deploy.sh --env staging", "make smoke"],
            ),
            draft_with("b", &["git pull", "./deploy.sh --env prod", "make smoke"]),
        ];
        unify_differing_tokens(&mut drafts);
        let merged = merge(&drafts);
        let commands: Vec<&str> = merged
            .steps
            .iter()
            .map(|s| s.commands[0].as_str())
            .collect();
        assert_eq!(
            commands,
            ["git pull", "./deploy.sh --env <<env>>", "make smoke"]
        );
        assert!(merged.steps.iter().all(|s| !s.optional));
        let env = merged.parameters.iter().find(|p| p.name == "env").unwrap();
        assert_eq!(env.examples, ["prod", "staging"]);
    }

    #[test]
    fn alignment_finds_the_common_path() {
        let a = keys(&["pull", "build", "migrate", "release"]);
        let b = keys(&["pull", "build", "smoke", "release"]);
        assert_eq!(align(&a, &b), vec![(0, 0), (1, 1), (3, 3)]);
        assert!(align(&a, &keys(&[])).is_empty());
    }
}
