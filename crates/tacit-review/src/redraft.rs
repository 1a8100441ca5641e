//! A new draft of an SOP that people have edited: a three-way merge.
//!
//! `base` is the machine draft the people's edits started from, `ours` is
//! the latest version (their edits), `theirs` is the new machine draft from
//! the runs. People's edits win: the result starts from `ours`, and only
//! what the runs add since `base` (new steps, rules, edge cases, checks,
//! parameters and examples) is added to it. Where the runs changed
//! something the people also changed, the people's version stays and the
//! difference is reported as a conflict for the owner to see in review.
//! Nothing in `ours` is removed or replaced.

use tacit_sop::{DecisionRule, Sop, Step};

/// The merged SOP and what the owner must know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Redraft {
    /// `ours` plus what the runs added.
    pub sop: Sop,
    /// What was added, one line each.
    pub additions: Vec<String>,
    /// Where the runs and the people disagree; `ours` was kept.
    pub conflicts: Vec<String>,
}

/// What identifies a step across versions: its commands, or for a manual
/// step its title.
fn step_key(s: &Step) -> String {
    if s.commands.is_empty() {
        format!("title:{}", s.title.to_lowercase())
    } else {
        s.commands
            .iter()
            .map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn rule_key(r: &DecisionRule) -> (Option<String>, Option<String>, Option<i32>) {
    (
        r.step.clone(),
        r.when.output_contains.clone(),
        r.when.exit_code,
    )
}

pub fn merge(base: &Sop, ours: &Sop, theirs: &Sop) -> Redraft {
    let mut sop = ours.clone();
    let mut additions = Vec::new();
    let mut conflicts = Vec::new();

    // Steps: new ones go after the step that precedes them in the new draft.
    let base_steps: Vec<String> = base.steps.iter().map(step_key).collect();
    for (i, t) in theirs.steps.iter().enumerate() {
        let key = step_key(t);
        if sop.steps.iter().any(|s| step_key(s) == key) {
            continue;
        }
        if base_steps.contains(&key) {
            // The people removed or rewrote it since the draft: theirs.
            continue;
        }
        // A step of the same title that people edited, which the runs now
        // do differently, is a conflict, not a new step.
        let same_title_in_base = base.steps.iter().find(|b| b.title == t.title);
        let same_title_in_ours = sop.steps.iter().position(|s| s.title == t.title);
        if let (Some(b), Some(o)) = (same_title_in_base, same_title_in_ours) {
            if step_key(&sop.steps[o]) != step_key(b) {
                conflicts.push(format!(
                    "step \"{}\": you changed it to `{}`; the runs now do `{}`. Kept yours.",
                    t.title,
                    sop.steps[o].commands.join(" ; "),
                    t.commands.join(" ; ")
                ));
            } else {
                sop.steps[o].commands = t.commands.clone();
                additions.push(format!(
                    "step \"{}\" now runs `{}`, as the runs do",
                    t.title,
                    t.commands.join(" ; ")
                ));
            }
            continue;
        }
        let after = theirs.steps[..i]
            .iter()
            .rev()
            .find_map(|p| sop.steps.iter().position(|s| step_key(s) == step_key(p)));
        let at = after.map_or(0, |a| a + 1);
        let mut step = t.clone();
        // A title already taken would make rules ambiguous.
        if sop.steps.iter().any(|s| s.title == step.title) {
            step.title = format!("{} (new)", step.title);
        }
        additions.push(format!("new step \"{}\"", step.title));
        sop.steps.insert(at, step);
    }

    // Rules: by step, signal and exit code. The operator's reason is kept
    // as the runs recorded it.
    let base_rules: Vec<_> = base.rules.iter().map(rule_key).collect();
    for r in &theirs.rules {
        let key = rule_key(r);
        if base_rules.contains(&key) || sop.rules.iter().any(|x| rule_key(x) == key) {
            continue;
        }
        let mut rule = r.clone();
        // Filed under a step the people renamed: keep it with that step.
        if let Some(t) = &rule.step
            && !sop.steps.iter().any(|s| &s.title == t)
        {
            let same_commands = |from: &Sop| {
                from.steps
                    .iter()
                    .find(|s| &s.title == t)
                    .and_then(|ts| sop.steps.iter().find(|s| step_key(s) == step_key(ts)))
                    .map(|s| s.title.clone())
            };
            rule.step = same_commands(theirs).or_else(|| same_commands(base));
        }
        additions.push(format!(
            "new rule: when {} → {}",
            rule.when.summary, rule.then
        ));
        sop.rules.push(rule);
    }

    for e in &theirs.edge_cases {
        let known = |s: &Sop| s.edge_cases.iter().any(|x| x.description == e.description);
        if !known(base) && !known(&sop) {
            additions.push(format!("new edge case: {}", e.description));
            sop.edge_cases.push(e.clone());
        }
    }
    for e in &theirs.escalations {
        let known = |s: &Sop| {
            s.escalations
                .iter()
                .any(|x| x.when.eq_ignore_ascii_case(&e.when))
        };
        if !known(base) && !known(&sop) {
            additions.push(format!("new escalation: {}", e.when));
            sop.escalations.push(e.clone());
        }
    }
    for p in &theirs.prerequisites {
        let known = |s: &Sop| s.prerequisites.iter().any(|x| x.check == p.check);
        if !known(base) && !known(&sop) {
            additions.push(format!("new prerequisite: {}", p.description));
            sop.prerequisites.push(p.clone());
        }
    }
    for c in &theirs.success_checks {
        let known = |s: &Sop| s.success_checks.iter().any(|x| x.command == c.command);
        if !known(base) && !known(&sop) {
            additions.push(format!("new success check: {}", c.description));
            sop.success_checks.push(c.clone());
        }
    }
    for n in &theirs.notes {
        if !base.notes.contains(n) && !sop.notes.contains(n) {
            additions.push(format!("new note: {n}"));
            sop.notes.push(n.clone());
        }
    }

    // Parameters: new ones, and new examples of known ones.
    for p in &theirs.parameters {
        match sop.parameters.iter_mut().find(|x| x.name == p.name) {
            Some(x) => {
                for ex in &p.examples {
                    if !x.examples.contains(ex) {
                        additions.push(format!("example {ex} for <<{}>>", p.name));
                        x.examples.push(ex.clone());
                    }
                }
            }
            None if !base.parameters.iter().any(|x| x.name == p.name) => {
                additions.push(format!("new parameter <<{}>>", p.name));
                sop.parameters.push(p.clone());
            }
            None => {}
        }
    }
    Redraft {
        sop,
        additions,
        conflicts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacit_sop::{Condition, Parameter};

    fn step(title: &str, cmd: &str) -> Step {
        Step {
            title: title.into(),
            commands: vec![cmd.into()],
            ..Default::default()
        }
    }

    fn base() -> Sop {
        Sop {
            id: "deploy".into(),
            purpose: "TODO".into(),
            parameters: vec![Parameter {
                name: "version".into(),
                examples: vec!["1.4.2".into()],
                ..Default::default()
            }],
            steps: vec![
                step("Pull", "git pull"),
                step("Build", "./build.sh <<version>>"),
                step("Release", "./release.sh <<version>>"),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn human_edits_win_and_new_evidence_is_added() {
        let base = base();
        // People: wrote the purpose, renamed a step, edited a command.
        let mut ours = base.clone();
        ours.purpose = "Ship the web app.".into();
        ours.steps[0].title = "Pull the latest code".into();
        ours.steps[2].commands = vec!["./release.sh <<version>> --canary".into()];
        // Runs: a new step, a new rule on the renamed step, a new example,
        // and a different release command.
        let mut theirs = base.clone();
        theirs.steps.insert(2, step("Migrate", "./migrate.sh"));
        theirs.steps[3].commands = vec!["./release.sh <<version>> --fast".into()];
        theirs.parameters[0].examples.insert(0, "1.5.0".into());
        theirs.rules.push(DecisionRule {
            step: Some("Pull".into()),
            when: Condition {
                summary: "not a git repository".into(),
                exit_code: Some(128),
                output_contains: Some("not a git repository".into()),
            },
            then: "cd into the checkout".into(),
            because: "The deploy runs from the checkout.".into(),
            ..Default::default()
        });
        let r = merge(&base, &ours, &theirs);
        assert_eq!(r.sop.purpose, "Ship the web app.");
        let titles: Vec<&str> = r.sop.steps.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Pull the latest code", "Build", "Migrate", "Release"]
        );
        assert_eq!(
            r.sop.steps[3].commands,
            ["./release.sh <<version>> --canary"]
        );
        assert_eq!(r.sop.rules[0].step.as_deref(), Some("Pull the latest code"));
        assert_eq!(r.sop.parameters[0].examples, ["1.4.2", "1.5.0"]);
        assert_eq!(r.conflicts.len(), 1, "{:?}", r.conflicts);
        assert!(r.conflicts[0].contains("--canary"), "{:?}", r.conflicts);
        assert_eq!(r.additions.len(), 3, "{:?}", r.additions);
    }

    #[test]
    fn what_people_removed_stays_removed_and_nothing_new_is_nothing() {
        let base = base();
        let mut ours = base.clone();
        ours.steps.remove(0);
        let r = merge(&base, &ours, &base);
        assert_eq!(r.sop, ours);
        assert!(r.additions.is_empty() && r.conflicts.is_empty());
    }
}
