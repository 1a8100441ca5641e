//! A section-aware diff of two SOP versions: steps added, removed, moved or
//! changed; rules, parameters, prerequisites, checks and escalations added
//! or removed. Changed text is shown line by line (the `similar` crate).

use similar::{ChangeTag, TextDiff};
use tacit_sop::{DecisionRule, Sop, Step};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    Added,
    Removed,
    Changed,
    Same,
}

/// One line of a diff report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub mark: Mark,
    pub text: String,
}

fn line(mark: Mark, text: impl Into<String>) -> Line {
    Line {
        mark,
        text: text.into(),
    }
}

fn step_text(s: &Step) -> String {
    let mut t = String::new();
    if let Some(cwd) = &s.cwd {
        t.push_str(&format!("folder: {cwd}\n"));
    }
    for c in &s.commands {
        t.push_str(&format!("$ {c}\n"));
    }
    if let Some(i) = &s.instruction {
        t.push_str(&format!("instruction: {i}\n"));
    }
    if let Some(code) = s.expect.exit_code {
        t.push_str(&format!("expect exit {code}\n"));
    }
    for o in &s.expect.output_contains {
        t.push_str(&format!("expect output: {o}\n"));
    }
    if let Some(w) = &s.why {
        t.push_str(&format!("why: {w}\n"));
    }
    if s.optional {
        t.push_str("optional\n");
    }
    t
}

fn rule_key(r: &DecisionRule) -> String {
    format!(
        "{} | {}",
        r.step.as_deref().unwrap_or("any step"),
        r.when.summary
    )
}

fn rule_text(r: &DecisionRule) -> String {
    format!(
        "when {} → then {} → because {}",
        r.when.summary, r.then, r.because
    )
}

/// Lines describing how `new` differs from `old`.
pub fn diff(old: &Sop, new: &Sop) -> Vec<Line> {
    let mut out = Vec::new();
    if old.title != new.title {
        out.push(line(
            Mark::Changed,
            format!("title: {} → {}", old.title, new.title),
        ));
    }
    if old.owner != new.owner {
        out.push(line(
            Mark::Changed,
            format!(
                "owner: {} → {}",
                old.owner.as_deref().unwrap_or("none"),
                new.owner.as_deref().unwrap_or("none")
            ),
        ));
    }
    if old.review_every_days != new.review_every_days {
        out.push(line(
            Mark::Changed,
            format!(
                "review every: {} → {}",
                old.review_every_days
                    .map_or("never".into(), |d| format!("{d} days")),
                new.review_every_days
                    .map_or("never".into(), |d| format!("{d} days"))
            ),
        ));
    }
    for p in &new.parameters {
        match old.parameters.iter().find(|o| o.name == p.name) {
            None => out.push(line(
                Mark::Added,
                format!("parameter <<{}>>: {}", p.name, p.description),
            )),
            Some(o) if o != p => out.push(line(Mark::Changed, format!("parameter <<{}>>", p.name))),
            _ => {}
        }
    }
    for p in &old.parameters {
        if !new.parameters.iter().any(|n| n.name == p.name) {
            out.push(line(Mark::Removed, format!("parameter <<{}>>", p.name)));
        }
    }
    let list = |out: &mut Vec<Line>, what: &str, old: Vec<String>, new: Vec<String>| {
        for n in &new {
            if !old.contains(n) {
                out.push(line(Mark::Added, format!("{what}: {n}")));
            }
        }
        for o in &old {
            if !new.contains(o) {
                out.push(line(Mark::Removed, format!("{what}: {o}")));
            }
        }
    };
    list(
        &mut out,
        "prerequisite",
        old.prerequisites
            .iter()
            .map(|p| p.description.clone())
            .collect(),
        new.prerequisites
            .iter()
            .map(|p| p.description.clone())
            .collect(),
    );
    for (i, s) in new.steps.iter().enumerate() {
        match old.steps.iter().position(|o| o.title == s.title) {
            None => {
                out.push(line(Mark::Added, format!("step {}. {}", i + 1, s.title)));
                for l in step_text(s).lines() {
                    out.push(line(Mark::Added, format!("    {l}")));
                }
            }
            Some(j) => {
                let o = &old.steps[j];
                let moved = j != i;
                let (a, b) = (step_text(o), step_text(s));
                if a != b || moved {
                    let head = if moved {
                        format!("step {}. {} (was {})", i + 1, s.title, j + 1)
                    } else {
                        format!("step {}. {}", i + 1, s.title)
                    };
                    out.push(line(Mark::Changed, head));
                    for change in TextDiff::from_lines(&a, &b).iter_all_changes() {
                        let text = format!("    {}", change.value().trim_end_matches('\n'));
                        match change.tag() {
                            ChangeTag::Insert => out.push(line(Mark::Added, text)),
                            ChangeTag::Delete => out.push(line(Mark::Removed, text)),
                            ChangeTag::Equal => {}
                        }
                    }
                }
            }
        }
    }
    for o in &old.steps {
        if !new.steps.iter().any(|s| s.title == o.title) {
            out.push(line(Mark::Removed, format!("step {}", o.title)));
        }
    }
    for r in &new.rules {
        match old.rules.iter().find(|o| rule_key(o) == rule_key(r)) {
            None => out.push(line(
                Mark::Added,
                format!(
                    "rule in \"{}\": {}",
                    r.step.as_deref().unwrap_or("any step"),
                    rule_text(r)
                ),
            )),
            Some(o) if rule_text(o) != rule_text(r) || o.then_commands != r.then_commands => out
                .push(line(
                    Mark::Changed,
                    format!(
                        "rule in \"{}\": {}",
                        r.step.as_deref().unwrap_or("any step"),
                        rule_text(r)
                    ),
                )),
            _ => {}
        }
    }
    for o in &old.rules {
        if !new.rules.iter().any(|r| rule_key(r) == rule_key(o)) {
            out.push(line(Mark::Removed, format!("rule: {}", rule_text(o))));
        }
    }
    list(
        &mut out,
        "edge case",
        old.edge_cases
            .iter()
            .map(|e| e.description.clone())
            .collect(),
        new.edge_cases
            .iter()
            .map(|e| e.description.clone())
            .collect(),
    );
    list(
        &mut out,
        "escalation",
        old.escalations
            .iter()
            .map(|e| format!("{} → {}", e.when, e.contact.as_deref().unwrap_or("?")))
            .collect(),
        new.escalations
            .iter()
            .map(|e| format!("{} → {}", e.when, e.contact.as_deref().unwrap_or("?")))
            .collect(),
    );
    list(
        &mut out,
        "success check",
        old.success_checks
            .iter()
            .map(|c| c.command.clone().unwrap_or_else(|| c.description.clone()))
            .collect(),
        new.success_checks
            .iter()
            .map(|c| c.command.clone().unwrap_or_else(|| c.description.clone()))
            .collect(),
    );
    if old.purpose != new.purpose {
        out.push(line(Mark::Changed, "purpose"));
    }
    if old.when_to_use != new.when_to_use {
        out.push(line(Mark::Changed, "when to use"));
    }
    out
}

/// Plain or coloured text of a diff.
pub fn render(lines: &[Line], color: bool) -> String {
    let mut s = String::new();
    for l in lines {
        let (sign, code) = match l.mark {
            Mark::Added => ('+', "32"),
            Mark::Removed => ('-', "31"),
            Mark::Changed => ('~', "33"),
            Mark::Same => (' ', "0"),
        };
        if color {
            s.push_str(&format!("\x1b[{code}m{sign} {}\x1b[0m\n", l.text));
        } else {
            s.push_str(&format!("{sign} {}\n", l.text));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacit_sop::Condition;

    fn sop() -> Sop {
        Sop {
            id: "x".into(),
            title: "X".into(),
            steps: vec![
                Step {
                    title: "Build".into(),
                    commands: vec!["make".into()],
                    ..Default::default()
                },
                Step {
                    title: "Ship".into(),
                    commands: vec!["./ship.sh".into()],
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn steps_and_rules_show_as_added_removed_or_changed() {
        let old = sop();
        let mut new = sop();
        new.steps[0].commands = vec!["make release".into()];
        new.steps.push(Step {
            title: "Announce".into(),
            commands: vec!["./announce.sh".into()],
            ..Default::default()
        });
        new.steps.remove(1);
        new.rules.push(DecisionRule {
            step: Some("Build".into()),
            when: Condition {
                summary: "disk full".into(),
                exit_code: Some(2),
                output_contains: None,
            },
            then: "clean".into(),
            because: "space".into(),
            ..Default::default()
        });
        let text = render(&diff(&old, &new), false);
        assert!(text.contains("~ step 1. Build"), "{text}");
        assert!(text.contains("-     $ make\n"), "{text}");
        assert!(text.contains("+     $ make release"), "{text}");
        assert!(text.contains("+ step 2. Announce"), "{text}");
        assert!(text.contains("- step Ship"), "{text}");
        assert!(
            text.contains("+ rule in \"Build\": when disk full → then clean → because space"),
            "{text}"
        );
        assert!(diff(&old, &old).is_empty());
        assert!(render(&diff(&old, &new), true).contains("\x1b[32m"));
    }
}
