//! Draft: turns recorded runs into an SOP.
//!
//! [`draft`] is a pure, deterministic function: the same runs always give the
//! same SOP, with no clock, network or store involved. Its stages live in
//! their own modules and are tested alone:
//!
//! 1. [`view`]: events flattened into commands, marks and answers attached,
//!    `cd` folded into working folders;
//! 2. [`classify`]: noise (typos, `ls`, `pwd`, …), inspection, and whether a
//!    command is a prerequisite, an action or a check;
//! 3. retries (here): a failure that was fixed and rerun becomes one step
//!    plus an edge case and, with the operator's answer, a decision rule;
//! 4. [`params`]: versions, dates, hosts, SHAs, tickets and redacted secrets
//!    become parameters;
//! 5. [`titles`]: step titles from `tacit step`, a table of common tools, or
//!    the script's name;
//! 6. [`rules`]: decision rules and escalations from the operator's words;
//! 7. [`merge`]: several runs aligned into one procedure.
//!
//! Every item keeps the [`SourceRef`]s of the events it came from.

pub mod classify;
pub mod merge;
pub mod params;
pub mod rules;
pub mod titles;
pub mod view;

use tacit_core::AskTrigger;
use tacit_sop::{
    Condition, DecisionRule, EdgeCase, Escalation, Expectation, Parameter, Prerequisite, Revision,
    Sop, SourceRef, Step, SuccessCheck,
};

use classify::Kind;
pub use view::RunInput;
use view::{Cmd, RunView};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftError {
    NoRuns,
    /// Nothing in the runs can become a procedure; says why.
    NothingToDraft(String),
}

impl std::fmt::Display for DraftError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DraftError::NoRuns => write!(f, "no runs to draft from"),
            DraftError::NothingToDraft(why) => write!(f, "nothing to draft: {why}"),
        }
    }
}

impl std::error::Error for DraftError {}

/// One run's contribution, before merging.
#[derive(Debug, Clone, Default)]
pub struct RunDraft {
    pub run_id: String,
    pub user: String,
    pub started_at_ms: i64,
    pub prereqs: Vec<Prerequisite>,
    pub steps: Vec<DraftStep>,
    pub checks: Vec<SuccessCheck>,
    /// Rules with `step` holding the *key* of their step until merged.
    pub rules: Vec<DecisionRule>,
    pub edge_cases: Vec<EdgeCase>,
    pub escalations: Vec<Escalation>,
    pub notes: Vec<String>,
    pub params: Vec<params::Found>,
}

/// A step before merging: `key` identifies it across runs.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftStep {
    pub key: String,
    pub step: Step,
}

/// Drafts one SOP from one or more runs of the same procedure.
pub fn draft(runs: &[RunInput]) -> Result<Sop, DraftError> {
    let first = runs.first().ok_or(DraftError::NoRuns)?;
    let mut ordered: Vec<&RunInput> = runs.iter().collect();
    ordered.sort_by(|a, b| {
        (a.meta.started_at_ms, &a.meta.id).cmp(&(b.meta.started_at_ms, &b.meta.id))
    });
    let mut drafts: Vec<RunDraft> = ordered.iter().map(|r| draft_run(&view::view(r))).collect();
    merge::unify_differing_tokens(&mut drafts);
    let merged = merge::merge(&drafts);
    if merged.steps.is_empty()
        && merged.prerequisites.is_empty()
        && merged.success_checks.is_empty()
    {
        let commands: usize = ordered.iter().map(|r| view::view(r).cmds.len()).sum();
        let why = if commands == 0 {
            "the run has no commands. Record the procedure with `tacit record NAME` and work in that shell.".to_string()
        } else {
            format!(
                "none of the {commands} recorded commands succeeded as a step (failures without a successful rerun, typos and listings are not steps)."
            )
        };
        return Err(DraftError::NothingToDraft(why));
    }
    let name = &first.meta.name;
    let title = titles::humanize(name);
    let latest = drafts.last().expect("at least one run");
    let notes: Vec<String> = drafts
        .iter()
        .flat_map(|d| d.notes.iter().cloned())
        .collect();
    let purpose = if notes.is_empty() {
        format!(
            "{title}, as done in {} recorded run{}. Follow the steps in order; the decision rules say what to do when something goes wrong, and why.",
            drafts.len(),
            if drafts.len() == 1 { "" } else { "s" }
        )
    } else {
        notes.join(" ")
    };
    let mut sop = Sop {
        id: name.clone(),
        title: title.clone(),
        owner: None,
        review_every_days: None,
        version: 1,
        parameters: merged.parameters,
        purpose,
        when_to_use: format!("When you need to {}.", lower_first(&title)),
        prerequisites: merged.prerequisites,
        steps: merged.steps,
        rules: merged.rules,
        edge_cases: merged.edge_cases,
        escalations: merged.escalations,
        success_checks: merged.success_checks,
        revisions: Vec::new(),
    };
    sop.revisions.push(Revision {
        version: 1,
        date: date(latest.started_at_ms),
        author: if latest.user.is_empty() {
            "unknown".into()
        } else {
            latest.user.clone()
        },
        summary: format!(
            "Drafted from {} recorded run{}",
            drafts.len(),
            if drafts.len() == 1 { "" } else { "s" }
        ),
        runs: drafts.iter().map(|d| d.run_id.clone()).collect(),
    });
    Ok(sop)
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `YYYY-MM-DD` of an epoch-ms instant (UTC).
pub fn date(ms: i64) -> String {
    tacit_core::utc_date(ms)
}

/// Exit codes that say "the operator stopped it", not "it failed".
fn interrupted(code: Option<i32>) -> bool {
    matches!(code, Some(130 | 127 | 147 | 148 | 149 | 150))
}

/// A command as it will run from the procedure's starting folder.
fn from_start(cwd: &str, command: &str) -> String {
    if cwd == "." {
        command.to_string()
    } else {
        format!("cd {cwd} && {command}")
    }
}

/// The last line of output, when it is short and stable enough to expect.
fn expected_line(
    output: &str,
    params: &mut params::Params,
    run_values: &mut Vec<(String, String)>,
) -> Vec<String> {
    let Some(last) = output.lines().map(str::trim).rev().find(|l| !l.is_empty()) else {
        return Vec::new();
    };
    if last.len() > 80 || last.starts_with("[… tacit") {
        return Vec::new();
    }
    let line = params.substitute(last, run_values);
    let without_params = tacit_sop::placeholder_regex().replace_all(&line, "");
    if without_params.chars().any(|c| c.is_ascii_digit()) {
        return Vec::new();
    }
    vec![line]
}

/// Drafts what one run contributes.
pub fn draft_run(v: &RunView) -> RunDraft {
    let mut params = params::Params::default();
    let mut run_values: Vec<(String, String)> = Vec::new();
    let parametrized: Vec<String> = v
        .cmds
        .iter()
        .map(|c| params.substitute(&c.command, &mut run_values))
        .collect();
    let mut out = RunDraft {
        run_id: v.run_id.clone(),
        user: v.user.clone(),
        started_at_ms: v.started_at_ms,
        notes: v.notes.iter().map(|(t, _)| t.clone()).collect(),
        ..Default::default()
    };
    let main: Vec<usize> = (0..v.cmds.len())
        .filter(|&i| !classify::is_noise(&v.cmds[i]))
        .collect();
    let mut consumed = vec![false; v.cmds.len()];
    // The step a rule belongs to: the index of the command that succeeded.
    let mut rules_at: Vec<(usize, DecisionRule)> = Vec::new();

    for (pos, &i) in main.iter().enumerate() {
        let c = &v.cmds[i];
        if consumed[i] || !c.failed() || interrupted(c.exit_code) {
            continue;
        }
        consumed[i] = true;
        let rerun = main[pos + 1..]
            .iter()
            .take(25)
            .copied()
            .find(|&j| parametrized[j] == parametrized[i] && !v.cmds[j].failed());
        let mut fix: Vec<usize> = Vec::new();
        let mut answer_from: Vec<&Cmd> = vec![c];
        if let Some(j) = rerun {
            for &k in main[pos + 1..].iter().take_while(|&&k| k != j) {
                if parametrized[k] == parametrized[i] {
                    answer_from.push(&v.cmds[k]);
                } else if !v.cmds[k].failed() {
                    fix.push(k);
                }
                consumed[k] = true;
            }
        }
        // Fix commands run where the failure happened.
        let mut fix_commands: Vec<String> = fix
            .iter()
            .map(|&k| {
                let f = &v.cmds[k];
                if f.cwd == c.cwd {
                    parametrized[k].clone()
                } else {
                    from_start(&f.cwd, &parametrized[k])
                }
            })
            .collect();
        let fix_outputs: Vec<&str> = fix.iter().map(|&k| v.cmds[k].output.trim()).collect();
        generalize_fix(&mut fix_commands, &fix_outputs);
        let signal = rules::signal(&c.output);
        let answer = answer_from
            .iter()
            .rev()
            .find_map(|a| a.answer.as_ref().map(|ans| (ans, a)));
        let mut sources = vec![c.source.clone()];
        sources.extend(fix.iter().map(|&k| v.cmds[k].source.clone()));
        if let Some(j) = rerun {
            sources.push(v.cmds[j].source.clone());
        }
        let code = c.exit_code.unwrap_or(-1);
        let description = match &signal {
            Some((line, _)) => format!("`{}` failed with exit {code}: {line}", parametrized[i]),
            None => format!("`{}` failed with exit {code}", parametrized[i]),
        };
        let handling = match (&answer, rerun) {
            (Some((a, _)), _) => a.action.clone(),
            (None, Some(_)) if !fix_commands.is_empty() => format!(
                "Ran {} and then ran it again.",
                fix_commands
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, Some(_)) => "Ran it again.".into(),
            (None, None) => "Not resolved in this run.".into(),
        };
        out.edge_cases.push(EdgeCase {
            description,
            handling,
            sources: sources.clone(),
        });
        if let Some((a, from)) = answer {
            let mut rule_sources = sources.clone();
            if let Some(s) = &from.answer_source {
                rule_sources.push(s.clone());
            }
            rule_sources.sort();
            rule_sources.dedup();
            let (summary, contains) = match &signal {
                Some((_, phrase)) => (phrase.clone(), Some(phrase.clone())),
                None => (format!("`{}` exits {code}", parametrized[i]), None),
            };
            let rule = DecisionRule {
                step: None,
                when: Condition {
                    summary,
                    exit_code: c.exit_code,
                    output_contains: contains,
                },
                then: a.action.clone(),
                then_commands: fix_commands.clone(),
                because: a.reason.clone(),
                sources: rule_sources.clone(),
            };
            rules_at.push((rerun.unwrap_or(i), rule));
            let context = signal.as_ref().map(|(_, phrase)| phrase.as_str());
            push_escalations(
                &mut out.escalations,
                a.escalate.as_deref(),
                &a.reason,
                context,
                rule_sources,
            );
        }
    }

    // What is left is the procedure: prerequisites, steps and checks.
    let remaining: Vec<usize> = main
        .iter()
        .copied()
        .filter(|&i| !consumed[i] && !v.cmds[i].failed())
        .filter(|&i| !classify::is_inspection(&v.cmds[i]))
        .collect();
    let kinds: Vec<Kind> = remaining
        .iter()
        .map(|&i| classify::classify(&v.cmds[i]))
        .collect();
    let last_action = kinds.iter().rposition(|k| *k == Kind::Action);
    let mut step_of_cmd: Vec<(usize, usize)> = Vec::new();
    for (n, &i) in remaining.iter().enumerate() {
        let c = &v.cmds[i];
        let cmd_line = &parametrized[i];
        let expect = Expectation {
            exit_code: Some(0),
            output_contains: expected_line(&c.output, &mut params, &mut run_values),
        };
        let why = (!c.why.is_empty()).then(|| c.why.join(" "));
        let risky_reason = c
            .answer
            .as_ref()
            .filter(|a| a.trigger == AskTrigger::Risky)
            .map(|a| a.reason.clone());
        if let Some(a) = c.answer.as_ref().filter(|a| a.trigger == AskTrigger::Risky) {
            push_escalations(
                &mut out.escalations,
                a.escalate.as_deref(),
                &a.reason,
                None,
                vec![c.source.clone()],
            );
        }
        let trailing_check = kinds[n] == Kind::Check && last_action.is_none_or(|la| n > la);
        match kinds[n] {
            Kind::Prereq => out.prereqs.push(Prerequisite {
                description: titles::title_for(&c.command),
                check: Some(from_start(&c.cwd, cmd_line)),
                sources: vec![c.source.clone()],
            }),
            Kind::Check if trailing_check || c.marked_check => out.checks.push(SuccessCheck {
                description: titles::title_for(&c.command),
                command: Some(from_start(&c.cwd, cmd_line)),
                expect,
                sources: vec![c.source.clone()],
            }),
            Kind::Check | Kind::Action => {
                let explicit = c.step_title.clone();
                let joins_previous = explicit.is_some()
                    && out.steps.last().is_some_and(|s| {
                        Some(&s.step.title) == explicit.as_ref() && s.key.starts_with("step:")
                    });
                if joins_previous {
                    let last = out.steps.last_mut().expect("checked");
                    let base = last.step.cwd.clone().unwrap_or_else(|| ".".into());
                    let line = if c.cwd == base {
                        cmd_line.clone()
                    } else {
                        from_start(&c.cwd, cmd_line)
                    };
                    last.step.commands.push(line);
                    last.step.expect = expect;
                    last.step.sources.push(c.source.clone());
                    if let Some(w) = why.or(risky_reason) {
                        last.step.why = Some(match &last.step.why {
                            Some(prev) => format!("{prev} {w}"),
                            None => w,
                        });
                    }
                } else {
                    let key = match &explicit {
                        Some(t) => format!("step:{t}"),
                        None => format!(
                            "cmd:{}",
                            cmd_line.split_whitespace().collect::<Vec<_>>().join(" ")
                        ),
                    };
                    out.steps.push(DraftStep {
                        key,
                        step: Step {
                            title: explicit.unwrap_or_else(|| titles::title_for(&c.command)),
                            commands: vec![cmd_line.clone()],
                            instruction: None,
                            cwd: Some(c.cwd.clone()),
                            expect,
                            why: why.or(risky_reason),
                            optional: false,
                            sources: vec![c.source.clone()],
                        },
                    });
                }
                step_of_cmd.push((i, out.steps.len() - 1));
            }
        }
    }
    for (at, mut rule) in rules_at {
        rule.step = step_of_cmd
            .iter()
            .find(|(i, _)| *i == at)
            .map(|(_, s)| out.steps[*s].key.clone());
        out.rules.push(rule);
    }
    for (text, source) in &v.escalations {
        let (when, contact) = rules::escalation(text);
        add_escalation(
            &mut out.escalations,
            Escalation {
                when,
                contact,
                sources: vec![source.clone()],
            },
        );
    }
    out.params = params.found;
    out
}

/// Escalation triggers from an answer: its explicit third part, or an
/// "escalate to X if Y" inside the reason. A condition taken from a reason
/// ("it is held for over 30 minutes") gets the failure it is about in front,
/// so it reads on its own.
fn push_escalations(
    into: &mut Vec<Escalation>,
    explicit: Option<&str>,
    reason: &str,
    context: Option<&str>,
    sources: Vec<SourceRef>,
) {
    let parsed = match explicit {
        Some(text) => Some(rules::escalation(text)),
        None => rules::escalation_in_reason(reason).map(|(when, contact)| match context {
            Some(ctx) => (
                format!("{}: {}", upper_first(ctx), lower_first(&when)),
                contact,
            ),
            None => (when, contact),
        }),
    };
    if let Some((when, contact)) = parsed {
        add_escalation(
            into,
            Escalation {
                when,
                contact,
                sources,
            },
        );
    }
}

fn add_escalation(into: &mut Vec<Escalation>, e: Escalation) {
    match into
        .iter_mut()
        .find(|x| x.when.eq_ignore_ascii_case(&e.when))
    {
        Some(existing) => {
            for s in e.sources {
                if !existing.sources.contains(&s) {
                    existing.sources.push(s);
                }
            }
            if existing.contact.is_none() {
                existing.contact = e.contact;
            }
        }
        None => into.push(e),
    }
}

/// A value an operator read with one fix command and typed into the next
/// (`cat lock` shows 4242, then `ps -p 4242`) is the same next time only by
/// luck: the later command reads it again instead (`ps -p $(cat lock)`).
pub fn generalize_fix(commands: &mut [String], outputs: &[&str]) {
    for j in 0..commands.len() {
        let value = outputs[j];
        let usable = !value.is_empty()
            && value.len() <= 64
            && !value.contains(char::is_whitespace)
            && !value.contains(['\'', '"', '$', '`']);
        if !usable {
            continue;
        }
        let source = format!("$({})", commands[j]);
        for later in commands.iter_mut().skip(j + 1) {
            let replaced: Vec<String> = later
                .split(' ')
                .map(|w| {
                    if w == value {
                        source.clone()
                    } else {
                        w.to_string()
                    }
                })
                .collect();
            *later = replaced.join(" ");
        }
    }
}

/// Builds the SOP's parameter list from what the runs found, most recent
/// run's values first.
fn parameters(drafts: &[RunDraft]) -> Vec<Parameter> {
    let mut out: Vec<Parameter> = Vec::new();
    for d in drafts.iter().rev() {
        for f in &d.params {
            let p = match out.iter_mut().find(|p| p.name == f.name) {
                Some(p) => p,
                None => {
                    out.push(Parameter {
                        name: f.name.clone(),
                        description: f.description.to_string(),
                        examples: Vec::new(),
                        secret: f.secret,
                    });
                    out.last_mut().expect("just pushed")
                }
            };
            if !f.value.is_empty() && !p.examples.contains(&f.value) {
                p.examples.push(f.value.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_read_by_one_fix_command_is_read_again_by_the_next() {
        let mut fix = vec!["cat lock".to_string(), "ps -p 4242 || rm lock".to_string()];
        generalize_fix(&mut fix, &["4242", "  PID TTY"]);
        assert_eq!(fix[1], "ps -p $(cat lock) || rm lock");
        // Multi-word or quoted output is not a value to substitute.
        let mut fix = vec!["cat f".to_string(), "echo a b".to_string()];
        generalize_fix(&mut fix, &["a b", ""]);
        assert_eq!(fix[1], "echo a b");
    }
}
