//! Draft: turns recorded runs into an SOP.
//!
//! [`draft`] is a pure, deterministic function: the same runs always give the
//! same SOP, with no clock, network or store involved. Its stages live in
//! their own modules and are tested alone:
//!
//! 1. [`view`]: events flattened into commands, marks and answers attached,
//!    `cd` folded into working folders;
//! 2. [`classify`]: noise (typos, `ls`, `pwd`, …), inspection, editors, and
//!    whether a command is a prerequisite, an action or a check;
//! 3. [`params`]: values of known kinds, and values that differ between
//!    runs, become parameters, in commands and in the output expectations
//!    are cut from;
//! 4. failures (here): each failure with what the operator did about it: a
//!    retry, a fix and a rerun, a failure inside a fix, a diagnosis that
//!    opened an incident;
//! 5. [`titles`]: step titles from `tacit step`, common command shapes, or
//!    the script's name;
//! 6. [`rules`]: decision rules and escalations from the operator's words;
//! 7. [`merge`]: several runs aligned into one procedure;
//! 8. [`prose`]: purpose, when to use and notes, in the operator's words or
//!    left as a visible to-do.
//!
//! Every item keeps the [`SourceRef`]s of the events it came from.

pub mod classify;
pub mod merge;
pub mod params;
pub mod prose;
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
use view::RunView;

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
    /// The operator's notes; `true` for those made before any work.
    pub notes: Vec<(String, bool)>,
    /// The titles the operator gave with `tacit step`, in order.
    pub step_titles: Vec<String>,
    /// When the run opened with a failing diagnostic: when to use the SOP.
    pub when: Option<String>,
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
    let views: Vec<RunView> = ordered.iter().map(|r| view::view(r)).collect();
    // Values that differ between runs are found on commands whose values of
    // known kinds (versions, dates, …) are already placeholders.
    // Only commands that succeeded are aligned: a failed attempt with a
    // wrong value is not the same step with another parameter.
    let mut found: Vec<Vec<params::Found>> = Vec::new();
    let kinded: Vec<Vec<String>> = views
        .iter()
        .map(|v| {
            let mut p = params::Params::default();
            let cmds = work(v)
                .filter(|&i| !v.cmds[i].failed())
                .map(|i| p.substitute(&v.cmds[i].command))
                .collect();
            found.push(p.found);
            cmds
        })
        .collect();
    let plan = params::plan(&kinded);
    // With several runs, a host every run used alike is a constant (the one
    // registry, the one database server). Versions, dates and tickets are
    // chosen anew each time even when the recordings happened to agree.
    let constants: Vec<String> = if views.len() < 2 {
        Vec::new()
    } else {
        found[0]
            .iter()
            .filter(|f| !f.secret && f.name.starts_with("host"))
            .filter(|f| {
                found[1..]
                    .iter()
                    .all(|run| run.iter().any(|g| g.value == f.value))
                    && found
                        .iter()
                        .all(|run| run.iter().filter(|g| g.name == f.name).count() == 1)
            })
            .map(|f| f.value.clone())
            .collect()
    };
    let drafts: Vec<RunDraft> = views
        .iter()
        .enumerate()
        .map(|(r, v)| draft_run(v, params::Params::for_run(&plan, &constants, r)))
        .collect();
    let merged = merge::merge(&drafts);
    if merged.steps.is_empty()
        && merged.prerequisites.is_empty()
        && merged.success_checks.is_empty()
    {
        let commands: usize = views.iter().map(|v| v.cmds.len()).sum();
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
    let prose = prose::prose(&drafts, &merged.steps);
    let latest = drafts.last().expect("at least one run");
    let mut sop = Sop {
        id: name.clone(),
        title: titles::humanize(name),
        owner: None,
        review_every_days: None,
        version: 1,
        parameters: merged.parameters,
        purpose: prose.purpose,
        when_to_use: prose.when_to_use,
        prerequisites: merged.prerequisites,
        steps: merged.steps,
        rules: merged.rules,
        edge_cases: merged.edge_cases,
        escalations: merged.escalations,
        success_checks: merged.success_checks,
        notes: prose.notes,
        revisions: Vec::new(),
        ..Default::default()
    };
    drop_unused_parameters(&mut sop);
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

/// A parameter no command uses would be asked for and never used.
fn drop_unused_parameters(sop: &mut Sop) {
    let used = sop.placeholders();
    let in_expectations = |name: &str| {
        let ph = tacit_sop::placeholder(name);
        sop.steps
            .iter()
            .any(|s| s.expect.output_contains.iter().any(|o| o.contains(&ph)))
    };
    let keep: Vec<bool> = sop
        .parameters
        .iter()
        .map(|p| used.contains(&p.name) || in_expectations(&p.name))
        .collect();
    let mut k = keep.iter();
    sop.parameters.retain(|_| *k.next().unwrap_or(&true));
}

pub(crate) fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub(crate) fn lower_first(s: &str) -> String {
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

/// The commands of a run that are work: not noise, not interrupted.
fn work(v: &RunView) -> impl Iterator<Item = usize> + '_ {
    (0..v.cmds.len())
        .filter(|&i| !classify::is_noise(&v.cmds[i]) && !interrupted(v.cmds[i].exit_code))
}

/// A command as it will run from the procedure's starting folder.
fn from_start(cwd: &str, command: &str) -> String {
    if cwd == "." {
        command.to_string()
    } else {
        format!("cd {cwd} && {command}")
    }
}

/// Lines that carry no result: psql's row counts, blank decoration.
fn is_footer(line: &str) -> bool {
    let l = line.trim();
    (l.starts_with('(') && l.ends_with(')') && l.contains("row"))
        || l.chars()
            .all(|c| matches!(c, '-' | '+' | '=' | '─' | '│' | ' '))
}

/// A word whose value will differ next time: numbers, times, ids, and the
/// names of days and months that dates are written with.
fn volatile(word: &str) -> bool {
    let without = tacit_sop::placeholder_regex().replace_all(word, "");
    let bare = without.trim_matches(|c: char| !c.is_alphanumeric());
    rules::has_number(&without)
        || matches!(
            bare,
            "Mon"
                | "Tue"
                | "Wed"
                | "Thu"
                | "Fri"
                | "Sat"
                | "Sun"
                | "Jan"
                | "Feb"
                | "Mar"
                | "Apr"
                | "May"
                | "Jun"
                | "Jul"
                | "Aug"
                | "Sep"
                | "Oct"
                | "Nov"
                | "Dec"
        )
}

/// Words a program prints when things are fine.
fn says_ok(line: &str) -> bool {
    const OK: &[&str] = &[
        "ok",
        "active",
        "running",
        "healthy",
        "ready",
        "success",
        "successful",
        "successfully",
        "succeeded",
        "passed",
        "complete",
        "completed",
        "done",
        "available",
        "valid",
        "verified",
        "matches",
        "up-to-date",
        "synced",
        "online",
    ];
    line.split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .any(|w| OK.contains(&w.to_ascii_lowercase().as_str()))
}

/// What a command is expected to print. A success check looks first for the
/// last line that says things are fine; otherwise the last meaningful lines are
/// tried, newest first. From the line, the part that will read the same
/// next time is kept (see [`stable_part`]). A check whose output is a bare
/// number (a count) expects it.
fn expected_output(output: &str, check: bool) -> Vec<String> {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !is_footer(l) && !l.starts_with("[… tacit") && l.len() <= 240)
        .collect();
    let Some(last) = lines.last() else {
        return Vec::new();
    };
    // A count, bare or in a table cell (`|     1250 |`).
    let cell = last.trim_matches(|c: char| c == '|' || c.is_whitespace());
    if check && !cell.is_empty() && cell.len() <= 15 && cell.chars().all(|c| c.is_ascii_digit()) {
        return vec![cell.to_string()];
    }
    // A table's header row ("NAME  READY  STATUS") is not a result.
    let header = |l: &str| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words.len() >= 2
            && words
                .iter()
                .all(|w| w.chars().all(|c| !c.is_ascii_lowercase()))
    };
    // The verdict is usually the last line that says so.
    let ok_line = check
        .then(|| lines.iter().rev().find(|l| says_ok(l) && !header(l)))
        .flatten();
    // A last line that opens with a stable word reads as the verdict
    // ("… is fully offboarded"); one that opens with a time is a log line.
    let verdict = lines
        .last()
        .filter(|l| l.split_whitespace().next().is_some_and(|w| !volatile(w)) && !header(l));
    let candidates = verdict.into_iter().chain(ok_line).chain(
        lines
            .iter()
            .rev()
            .take(if check { 5 } else { 1 })
            .filter(|l| !header(l)),
    );
    for line in candidates {
        if let Some(part) = stable_part(line)
            // A step (not a check) expects only what opens its last line:
            // " 2 files changed" must not become "files changed".
            && (check || line.starts_with(part.as_str()))
        {
            return vec![part];
        }
    }
    Vec::new()
}

/// The part of a line that will read the same next time, cut from the line
/// itself (spacing kept): the first run of stable words when it has two of
/// its own (a verdict comes first: "smoke: ok …"), else the longest run,
/// trimmed to clause boundaries.
fn stable_part(line: &str) -> Option<String> {
    let words: Vec<(usize, &str)> = line
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - line.as_ptr() as usize, w))
        .collect();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for i in 0..=words.len() {
        if i == words.len() || volatile(words[i].1) {
            if i > start {
                runs.push((start, i));
            }
            start = i + 1;
        }
    }
    let own_words = |(s, e): (usize, usize)| {
        words[s..e]
            .iter()
            .filter(|(_, w)| {
                !tacit_sop::placeholder_regex()
                    .replace_all(w, "")
                    .trim()
                    .is_empty()
            })
            .count()
    };
    let &(s, e) = runs
        .iter()
        .find(|&&r| r.0 == 0 && own_words(r) >= 2)
        .or_else(|| {
            runs.iter()
                .max_by_key(|r| (r.1 - r.0, std::cmp::Reverse(r.0)))
        })?;
    if (s, e) == (0, words.len()) {
        return Some(line.to_string());
    }
    let from = words[s].0;
    let to = words[e - 1].0 + words[e - 1].1.len();
    let mut text = &line[from..to];
    // Start and end at clause boundaries, not mid-clause: after the first
    // comma when it starts mid-line, before an unclosed parenthesis or the
    // last comma when it stops short of the end.
    // (A comma inside a token, as in `a=b,c=d`, is not a clause boundary.)
    let boundary = |t: &str| t.find(", ").or_else(|| t.find("; "));
    if s > 0
        && let Some(at) = boundary(text)
    {
        text = &text[at + 1..];
    }
    if e < words.len() {
        if let Some(open) = text.rfind('(')
            && !text[open..].contains(')')
        {
            text = &text[..open];
        } else if let Some(at) = text.rfind(", ").or_else(|| text.rfind("; ")) {
            text = &text[..at];
        } else if text.ends_with([',', ';']) {
            text = &text[..text.len() - 1];
        }
    }
    let text = text.trim().trim_end_matches([':', '-', '=', ',']).trim();
    (text.split_whitespace().count() >= 2 && text.len() >= 8).then(|| text.to_string())
}

/// What the operator said about a failure or a risky command.
fn answer_text(a: &tacit_core::Answer) -> String {
    match (a.action.trim(), a.reason.trim()) {
        ("", r) => r.to_string(),
        (x, "") => x.to_string(),
        (x, r) => format!("{x} ({r})"),
    }
}

/// Drafts what one run contributes.
pub fn draft_run(v: &RunView, mut params: params::Params) -> RunDraft {
    let n = v.cmds.len();
    let pc: Vec<String> = v
        .cmds
        .iter()
        .map(|c| params.substitute(&c.command))
        .collect();
    // Output names the run's own folder; relative to where the procedure
    // starts, it reads the same on every machine.
    let outputs: Vec<String> = v
        .cmds
        .iter()
        .map(|c| {
            let o = if v.start.len() > 1 {
                c.output.replace(&format!("{}/", v.start), "./")
            } else {
                c.output.clone()
            };
            params.substitute_known(&o)
        })
        .collect();
    // Notes made before the first action (prerequisites and looks aside)
    // say what the procedure is for.
    let first_work_seq = work(v)
        .find(|&i| {
            let c = &v.cmds[i];
            !classify::is_inspection(c) && classify::classify(c) != Kind::Prereq
        })
        .map(|i| v.cmds[i].source.seq);
    let mut out = RunDraft {
        run_id: v.run_id.clone(),
        user: v.user.clone(),
        started_at_ms: v.started_at_ms,
        notes: v
            .notes
            .iter()
            .map(|(t, s)| (t.clone(), first_work_seq.is_none_or(|f| s.seq < f)))
            .collect(),
        ..Default::default()
    };
    let main: Vec<usize> = work(v).collect();
    let mut consumed = vec![false; n];
    // Commands that failed, were answered and not rerun: the operator
    // accepted the failure and went on, so the command is still a step.
    let mut accepted_failure = vec![false; n];
    // Rules with the index of the command their step is built from.
    let mut rules_at: Vec<(usize, DecisionRule)> = Vec::new();
    let mut diagnosis: Option<DraftStep> = None;
    // (fix command, the failure it fixed): a fix that corrects an earlier
    // step's command supersedes it.
    let mut fixes: Vec<(usize, usize)> = Vec::new();
    let mut diagnosis_check: Option<SuccessCheck> = None;

    // An incident: the run opens with a failing diagnostic, the operator
    // works, and the same diagnostic passes at the end.
    if let Some(&d) = main.first()
        && v.cmds[d].failed()
        && classify::is_check_like(&v.cmds[d])
    {
        let rerun = main
            .iter()
            .rev()
            .copied()
            .find(|&j| j > d && pc[j] == pc[d] && !v.cmds[j].failed());
        let worked_between = |end: usize| {
            main.iter().any(|&k| {
                k > d && k < end && pc[k] != pc[d] && !classify::is_inspection(&v.cmds[k])
            })
        };
        if rerun.is_none_or(worked_between) {
            let c = &v.cmds[d];
            consumed[d] = true;
            let mut commands = vec![pc[d].clone()];
            let mut sources = vec![c.source.clone()];
            // The looks that followed are how the problem was diagnosed.
            for &k in main.iter().skip(1) {
                let look = &v.cmds[k];
                if look.failed() || !classify::is_inspection(look) {
                    break;
                }
                consumed[k] = true;
                commands.push(if look.cwd == c.cwd {
                    pc[k].clone()
                } else {
                    from_start(&look.cwd, &pc[k])
                });
                sources.push(look.source.clone());
            }
            let signal = rules::signal(&outputs[d]);
            out.when = Some(match &signal {
                Some((line, _)) => format!("When `{}` reports: {line}", pc[d]),
                None => format!(
                    "When `{}` fails (exit {}).",
                    pc[d],
                    c.exit_code.unwrap_or(-1)
                ),
            });
            diagnosis = Some(DraftStep {
                key: format!("diagnose:{}", pc[d]),
                step: Step {
                    title: "Diagnose the problem".into(),
                    commands,
                    instruction: None,
                    cwd: Some(c.cwd.clone()),
                    // It fails when the problem is there: any exit is fine.
                    expect: Expectation::default(),
                    why: None,
                    caution: None,
                    optional: false,
                    sources: sources.clone(),
                    ..Default::default()
                },
            });
            if let Some(a) = &c.answer {
                // What the operator made of the diagnosis is the rule that
                // leads into the remediation.
                let mut rule_sources = sources;
                rule_sources.extend(c.answer_source.clone());
                rules_at.push((
                    d,
                    rule(&pc[d], c.exit_code, &signal, a, Vec::new(), rule_sources),
                ));
                push_escalations(
                    &mut out.escalations,
                    a.escalate.as_deref(),
                    &a.reason,
                    signal.as_ref().map(|(_, p)| p.as_str()),
                    vec![c.source.clone()],
                );
            }
            let check_from = rerun.unwrap_or(d);
            if let Some(j) = rerun {
                consumed[j] = true;
            }
            let cc = &v.cmds[check_from];
            diagnosis_check = Some(SuccessCheck {
                description: titles::title_for(&pc[check_from]),
                command: Some(from_start(&cc.cwd, &pc[check_from])),
                expect: Expectation {
                    exit_code: cc.exit_code.map(|_| 0),
                    output_contains: if rerun.is_some() {
                        expected_output(&outputs[check_from], true)
                    } else {
                        Vec::new()
                    },
                },
                sources: vec![cc.source.clone()],
            });
        }
    }

    // Failures, each with what the operator did about it.
    for (pos, &i) in main.iter().enumerate() {
        let c = &v.cmds[i];
        if consumed[i] || !c.failed() {
            continue;
        }
        consumed[i] = true;
        let rerun = main[pos + 1..]
            .iter()
            .take(40)
            .copied()
            .find(|&j| !consumed[j] && pc[j] == pc[i] && !v.cmds[j].failed());
        // An answered failure the operator finished by running part of it
        // again (one day of a loop, the same tool with the same flags): that
        // run is the end of the fix, and the failed command stays the step.
        let partial = match (rerun, &c.answer) {
            (None, Some(_)) => main[pos + 1..].iter().take(40).copied().find(|&j| {
                !consumed[j]
                    && !v.cmds[j].failed()
                    && !classify::is_inspection(&v.cmds[j])
                    && reruns_part_of(&pc[i], &pc[j])
            }),
            _ => None,
        };
        let window: Vec<usize> = match rerun.or(partial) {
            Some(_) => main[pos + 1..]
                .iter()
                .copied()
                .take_while(|&k| Some(k) != rerun)
                .take_while(|&k| partial.is_none_or(|p| k <= p))
                .filter(|&k| !consumed[k])
                .collect(),
            None => Vec::new(),
        };
        // Attempts of the same command, failures inside the fix, and the fix.
        let mut attempts: Vec<usize> = vec![i];
        let mut inner: Vec<usize> = Vec::new();
        let mut fix: Vec<usize> = Vec::new();
        for &k in &window {
            consumed[k] = true;
            if pc[k] == pc[i] {
                attempts.push(k);
            } else if v.cmds[k].failed() {
                inner.push(k);
            } else {
                fix.push(k);
            }
        }
        fixes.extend(fix.iter().map(|&f| (f, i)));
        let answer = attempts
            .iter()
            .rev()
            .find_map(|&a| v.cmds[a].answer.as_ref().map(|ans| (ans, a)));
        if rerun.is_none() {
            match answer {
                // Answered and not rerun: accepted, the command stays a step.
                Some(_) => {
                    consumed[i] = false;
                    accepted_failure[i] = true;
                }
                // Neither answered nor rerun: a dead end, unless the run
                // ended on it unresolved.
                None if main.last() == Some(&i) => {}
                None => continue,
            }
        }
        let anchor = rerun.unwrap_or(i);
        let fix_of = |from: &[usize]| -> Vec<String> {
            let mut cmds: Vec<String> = from
                .iter()
                .map(|&k| {
                    let f = &v.cmds[k];
                    if f.cwd == c.cwd {
                        pc[k].clone()
                    } else {
                        from_start(&f.cwd, &pc[k])
                    }
                })
                .collect();
            let outs: Vec<&str> = from.iter().map(|&k| v.cmds[k].output.trim()).collect();
            generalize_fix(&mut cmds, &outs);
            cmds
        };
        // Each failure inside the fix gets the fix commands that followed it.
        let outer_fix: Vec<usize> = fix
            .iter()
            .copied()
            .filter(|&k| inner.first().is_none_or(|&g| k < g))
            .collect();
        let fix_commands = fix_of(&outer_fix);
        let mut sources = vec![c.source.clone()];
        sources.extend(fix.iter().map(|&k| v.cmds[k].source.clone()));
        if let Some(j) = rerun {
            sources.push(v.cmds[j].source.clone());
        }
        let signal = rules::signal(&outputs[i]);
        let code = c.exit_code.unwrap_or(-1);
        let description = match &signal {
            Some((line, _)) => format!("`{}` failed with exit {code}: {line}", pc[i]),
            None => format!("`{}` failed with exit {code}", pc[i]),
        };
        // What was done by hand around the fix, in the operator's words.
        let asides: Vec<String> = fix
            .iter()
            .filter_map(|&k| {
                v.cmds[k]
                    .answer
                    .as_ref()
                    .map(|a| format!("`{}`: {}", pc[k], answer_text(a)))
            })
            .collect();
        let mut handling = match (&answer, rerun) {
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
        if !asides.is_empty() {
            handling = format!("{handling} {}", asides.join(" "));
        }
        out.edge_cases.push(EdgeCase {
            description,
            handling,
            sources: sources.clone(),
        });
        if let Some((a, from)) = answer {
            let mut rule_sources = sources.clone();
            if let Some(s) = &v.cmds[from].answer_source {
                rule_sources.push(s.clone());
            }
            rule_sources.sort();
            rule_sources.dedup();
            rules_at.push((
                anchor,
                rule(
                    &pc[i],
                    c.exit_code,
                    &signal,
                    a,
                    fix_commands,
                    rule_sources.clone(),
                ),
            ));
            push_escalations(
                &mut out.escalations,
                a.escalate.as_deref(),
                &a.reason,
                signal.as_ref().map(|(_, p)| p.as_str()),
                rule_sources,
            );
        }
        // Failures inside the fix are rules of their own, on the same step.
        for (x, &g) in inner.iter().enumerate() {
            let gc = &v.cmds[g];
            let until = inner.get(x + 1).copied().unwrap_or(usize::MAX);
            let its_fix: Vec<usize> = fix
                .iter()
                .copied()
                .filter(|&k| k > g && k < until)
                .collect();
            let gsignal = rules::signal(&outputs[g]);
            let gcode = gc.exit_code.unwrap_or(-1);
            let mut gsources = vec![gc.source.clone()];
            gsources.extend(its_fix.iter().map(|&k| v.cmds[k].source.clone()));
            out.edge_cases.push(EdgeCase {
                description: match &gsignal {
                    Some((line, _)) => format!("`{}` failed with exit {gcode}: {line}", pc[g]),
                    None => format!("`{}` failed with exit {gcode}", pc[g]),
                },
                handling: gc
                    .answer
                    .as_ref()
                    .map(|a| a.action.clone())
                    .unwrap_or_else(|| "Worked around while fixing the step.".into()),
                sources: gsources.clone(),
            });
            if let Some(a) = &gc.answer {
                if let Some(s) = &gc.answer_source {
                    gsources.push(s.clone());
                }
                rules_at.push((
                    anchor,
                    rule(
                        &pc[g],
                        gc.exit_code,
                        &gsignal,
                        a,
                        fix_of(&its_fix),
                        gsources.clone(),
                    ),
                ));
                push_escalations(
                    &mut out.escalations,
                    a.escalate.as_deref(),
                    &a.reason,
                    gsignal.as_ref().map(|(_, p)| p.as_str()),
                    gsources,
                );
            }
        }
    }

    // The operator corrected an earlier step while fixing a failure
    // (`helm upgrade … tag=v1.9.0`, then `… tag=1.9.0`): the step is the
    // corrected command, and the rule keeps the correction as its fix.
    let mut pc = pc;
    for &(f, failed) in &fixes {
        let earlier = main
            .iter()
            .copied()
            .filter(|&k| k < failed && !consumed[k] && !v.cmds[k].failed())
            .rfind(|&k| corrects(&pc[k], &pc[f]));
        if let Some(k) = earlier {
            pc[k] = pc[f].clone();
        }
    }
    let pc = pc;

    // What is left is the procedure: prerequisites, steps and checks.
    let has_check = diagnosis_check.is_some()
        || main.iter().any(|&i| {
            let c = &v.cmds[i];
            !consumed[i] && !c.failed() && (c.marked_check || classify::classify(c) == Kind::Check)
        });
    let anchors: Vec<usize> = rules_at.iter().map(|(a, _)| *a).collect();
    let remaining: Vec<usize> = main
        .iter()
        .copied()
        .filter(|&i| !consumed[i] && (!v.cmds[i].failed() || accepted_failure[i]))
        .filter(|&i| {
            !classify::is_inspection(&v.cmds[i])
                || anchors.contains(&i)
                || accepted_failure[i]
                || (Some(&i) == main.last() && !has_check)
        })
        .collect();
    let kinds: Vec<Kind> = remaining
        .iter()
        .map(|&i| {
            let k = classify::classify(&v.cmds[i]);
            // A command the operator handled a failure of is a step.
            if anchors.contains(&i) && k == Kind::Check && !v.cmds[i].marked_check {
                Kind::Action
            } else if Some(&i) == main.last() && classify::is_inspection(&v.cmds[i]) {
                // The last look at the end of the work checks its result,
                // when nothing else does.
                Kind::Check
            } else {
                k
            }
        })
        .collect();
    let last_action = kinds.iter().rposition(|k| *k == Kind::Action);
    let first_action = kinds.iter().position(|k| *k == Kind::Action);
    let mut step_of_cmd: Vec<(usize, usize)> = Vec::new();
    if let Some(d) = diagnosis {
        out.steps.push(d);
        if let Some(&first) = main.first() {
            step_of_cmd.push((first, 0));
        }
    }
    for (nth, &i) in remaining.iter().enumerate() {
        let c = &v.cmds[i];
        let cmd_line = &pc[i];
        let expect = Expectation {
            // Unknown (a cast read by its prompts): nothing is invented.
            exit_code: if accepted_failure[i] || c.exit_code.is_none() {
                None
            } else {
                Some(0)
            },
            output_contains: if accepted_failure[i] {
                Vec::new()
            } else {
                expected_output(&outputs[i], kinds[nth] == Kind::Check)
            },
        };
        let risky = c.answer.as_ref().filter(|a| a.trigger == AskTrigger::Risky);
        let mut why_parts: Vec<String> = c.why.clone();
        if let Some(a) = risky
            && !a.reason.trim().is_empty()
        {
            why_parts.push(a.reason.trim().to_string());
        }
        let why = (!why_parts.is_empty()).then(|| why_parts.join(" "));
        let caution = risky
            .map(|a| a.action.trim().to_string())
            .filter(|a| !a.is_empty());
        if let Some(a) = risky {
            push_escalations(
                &mut out.escalations,
                a.escalate.as_deref(),
                &a.reason,
                None,
                vec![c.source.clone()],
            );
        }
        let trailing_check = kinds[nth] == Kind::Check && last_action.is_none_or(|la| nth > la);
        // A check before any work is a look at how things stand, not a step.
        if kinds[nth] == Kind::Check
            && !trailing_check
            && !c.marked_check
            && !anchors.contains(&i)
            && first_action.is_some_and(|fa| nth < fa)
        {
            continue;
        }
        match kinds[nth] {
            Kind::Prereq => out.prereqs.push(Prerequisite {
                description: titles::title_for(cmd_line),
                check: Some(from_start(&c.cwd, cmd_line)),
                sources: vec![c.source.clone()],
            }),
            Kind::Check if trailing_check || c.marked_check => out.checks.push(SuccessCheck {
                description: titles::title_for(cmd_line),
                command: Some(from_start(&c.cwd, cmd_line)),
                expect,
                sources: vec![c.source.clone()],
            }),
            Kind::Check | Kind::Action => {
                let explicit = c.step_title.clone();
                // A manual step (an editor, another tool) takes its group's
                // title when it is all the group did; otherwise `fallback`.
                let manual_title = |fallback: String| match &explicit {
                    Some(title)
                        if remaining
                            .iter()
                            .filter(|&&k| v.cmds[k].step_title == explicit)
                            .count()
                            == 1 =>
                    {
                        title.clone()
                    }
                    _ => fallback,
                };
                if let Some(t) = &c.tool {
                    // Done with another tool (an API, a browser, a chat):
                    // a manual step that says what was done and with what.
                    let mut instruction = format!("{} (with {}", sentence(cmd_line), t.tool);
                    if !t.arguments.trim().is_empty() {
                        instruction.push_str(&format!(": `{}`", one_line(&t.arguments)));
                    }
                    instruction.push_str(").");
                    out.steps.push(DraftStep {
                        key: format!("tool:{}:{}", t.tool, c.command.to_lowercase()),
                        step: Step {
                            title: manual_title(sentence(cmd_line)),
                            commands: Vec::new(),
                            instruction: Some(instruction),
                            cwd: None,
                            expect: Expectation::default(),
                            why,
                            caution,
                            optional: false,
                            sources: vec![c.source.clone()],
                            ..Default::default()
                        },
                    });
                    step_of_cmd.push((i, out.steps.len() - 1));
                    continue;
                }
                if let Some(file) = classify::editor_target(&c.command) {
                    // An editor's work is done by hand.
                    let what = match &file {
                        Some(f) => format!("Edit {f}"),
                        None => "Edit the file".to_string(),
                    };
                    let title = manual_title(what.clone());
                    out.steps.push(DraftStep {
                        key: format!("edit:{}", file.clone().unwrap_or_default()),
                        step: Step {
                            title,
                            commands: Vec::new(),
                            instruction: Some(format!("{what} (by hand, in your editor).")),
                            cwd: Some(c.cwd.clone()),
                            expect: Expectation::default(),
                            why,
                            caution,
                            optional: false,
                            sources: vec![c.source.clone()],
                            ..Default::default()
                        },
                    });
                    step_of_cmd.push((i, out.steps.len() - 1));
                    continue;
                }
                let joins_previous = explicit.is_some()
                    && out.steps.last().is_some_and(|s| {
                        Some(&s.step.title) == explicit.as_ref()
                            && s.key.starts_with("step:")
                            && s.step.sources.last().is_some_and(|src| {
                                // Only the commands right after it: an
                                // editor in between starts a new part.
                                remaining[..nth]
                                    .last()
                                    .is_some_and(|&p| v.cmds[p].source == *src)
                            })
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
                    if let Some(w) = why {
                        last.step.why = Some(match &last.step.why {
                            Some(prev) => format!("{prev} {w}"),
                            None => w,
                        });
                    }
                    if let Some(w) = caution {
                        last.step.caution = Some(match &last.step.caution {
                            Some(prev) => format!("{prev} {w}"),
                            None => w,
                        });
                    }
                } else {
                    let key = match &explicit {
                        Some(t) => format!("step:{t}"),
                        None => format!("cmd:{}", command_key(cmd_line)),
                    };
                    out.steps.push(DraftStep {
                        key,
                        step: Step {
                            title: explicit.unwrap_or_else(|| titles::title_for(cmd_line)),
                            commands: vec![cmd_line.clone()],
                            instruction: None,
                            cwd: Some(c.cwd.clone()),
                            expect,
                            why,
                            caution,
                            optional: false,
                            sources: vec![c.source.clone()],
                            ..Default::default()
                        },
                    });
                }
                step_of_cmd.push((i, out.steps.len() - 1));
            }
        }
    }
    out.checks.extend(diagnosis_check);
    out.step_titles = {
        let mut t: Vec<String> = Vec::new();
        for c in &v.cmds {
            if let Some(s) = &c.step_title
                && !t.contains(s)
            {
                t.push(s.clone());
            }
        }
        t
    };
    for (at, mut r) in rules_at {
        r.step = step_of_cmd
            .iter()
            .find(|(i, _)| *i == at)
            .map(|(_, s)| out.steps[*s].key.clone());
        out.rules.push(r);
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

/// `fixed` is `earlier` with one word corrected, as a typo or a wrong prefix
/// is corrected (`tag=v<<version>>` → `tag=<<version>>`): one word differs,
/// and one of the two holds the other. Running the same command on another
/// target (`analytics_wh` → `analytics_scratch`) is not a correction.
fn corrects(earlier: &str, fixed: &str) -> bool {
    let a: Vec<&str> = earlier.split_whitespace().collect();
    let b: Vec<&str> = fixed.split_whitespace().collect();
    if a.len() != b.len() || a == b {
        return false;
    }
    let differing: Vec<(&&str, &&str)> = a.iter().zip(&b).filter(|(x, y)| x != y).collect();
    let [(x, y)] = differing.as_slice() else {
        return false;
    };
    // One is the other with at most three characters put in one place.
    let (short, long) = if x.len() <= y.len() {
        (**x, **y)
    } else {
        (**y, **x)
    };
    let prefix = short
        .bytes()
        .zip(long.bytes())
        .take_while(|(p, q)| p == q)
        .count();
    let suffix = short
        .bytes()
        .rev()
        .zip(long.bytes().rev())
        .take_while(|(p, q)| p == q)
        .count();
    long.len() - short.len() <= 3 && prefix + suffix >= short.len()
}

/// The program a command line runs, or for a shell loop the program its
/// body runs, with the flag names it is given.
fn tool_and_flags(command: &str) -> (String, Vec<String>) {
    let body = match command.trim().strip_prefix("for ") {
        Some(rest) => rest
            .split_once("do ")
            .map(|(_, b)| b.split(';').next().unwrap_or(b))
            .unwrap_or(rest),
        None => command,
    };
    let prog = classify::program(body).to_string();
    let flags = body
        .split_whitespace()
        .filter(|w| w.starts_with('-'))
        .map(|w| w.split('=').next().unwrap_or(w).to_string())
        .collect();
    (prog, flags)
}

/// `failed` is a shell loop and `later` runs its body's tool with no flag it
/// did not have: one pass of the loop run again, not a new action.
fn reruns_part_of(failed: &str, later: &str) -> bool {
    if !failed.trim_start().starts_with("for ") {
        return false;
    }
    let (p1, f1) = tool_and_flags(failed);
    let (p2, f2) = tool_and_flags(later);
    !p1.is_empty() && p1 == p2 && !f2.is_empty() && f2.iter().all(|f| f1.contains(f))
}

/// What identifies a command across runs: its words, with `source` and `.`
/// alike and a shell's own flavour of a sourced file (`activate.fish`)
/// read as the same file, so runs in different shells align.
fn command_key(command: &str) -> String {
    let mut words: Vec<&str> = command.split_whitespace().collect();
    if words.first() == Some(&"source") {
        words[0] = ".";
    }
    let mut key = words.join(" ");
    if words.first() == Some(&".") {
        for suffix in [".fish", ".csh", ".zsh", ".bash"] {
            if let Some(k) = key.strip_suffix(suffix) {
                key = k.to_string();
            }
        }
    }
    key
}

/// A decision rule from a failure and the operator's answer.
fn rule(
    command: &str,
    exit_code: Option<i32>,
    signal: &Option<(String, String)>,
    a: &tacit_core::Answer,
    then_commands: Vec<String>,
    sources: Vec<SourceRef>,
) -> DecisionRule {
    let code = exit_code.unwrap_or(-1);
    let (summary, contains) = match signal {
        Some((_, phrase)) => (phrase.clone(), Some(phrase.clone())),
        None => (format!("`{command}` exits {code}"), None),
    };
    DecisionRule {
        step: None,
        when: Condition {
            summary,
            exit_code,
            output_contains: contains,
        },
        then: a.action.clone(),
        then_commands,
        because: a.reason.clone(),
        sources,
    }
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
        Some(text) if !text.trim().is_empty() => Some(rules::escalation(text)),
        _ => rules::escalation_in_reason(reason).map(|(when, contact)| match context {
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
    for p in &mut out {
        if p.description == "Differs between runs" {
            p.description = match p.examples.as_slice() {
                [] => "Differs between runs".into(),
                ex => format!(
                    "The {} (differs between runs: {})",
                    p.name.replace('_', " "),
                    ex.join(", ")
                ),
            };
        }
    }
    out
}

/// `posted the release note` → `Posted the release note`.
fn sentence(text: &str) -> String {
    let text = text.trim().trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Arguments on one line, cut to a readable length.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 200 {
        format!("{}…", flat.chars().take(200).collect::<String>())
    } else {
        flat
    }
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

    #[test]
    fn expected_output_is_stable_and_cut_at_a_clause() {
        assert_eq!(
            expected_output("healthy: version <<version>>", true),
            ["healthy: version <<version>>"]
        );
        assert_eq!(
            expected_output("ingest: ok, disk 41% full", true),
            ["ingest: ok"]
        );
        assert_eq!(
            expected_output("registered tenant <<tenant>> (id 17)", false),
            ["registered tenant <<tenant>>"]
        );
        assert_eq!(
            expected_output(" count \n-------\n  1200\n(1 row)\n", true),
            ["1200"]
        );
        assert_eq!(expected_output("1200", false), Vec::<String>::new());
        assert!(expected_output("Plan: 1 to add, 2 to change", false).is_empty());
        assert_eq!(
            expected_output("<<date>> daily_totals: 4 stores, matches orders", true),
            ["matches orders"]
        );
        assert_eq!(
            expected_output(
                "verify-drop: ok w-<<version>>.tgz (sha256 matches, VERSION <<version>>)",
                true
            ),
            ["verify-drop: ok w-<<version>>.tgz (sha256 matches, VERSION <<version>>)"]
        );
        // Spacing is the output's own, so the expectation is a substring.
        assert_eq!(
            expected_output(
                "NAME  READY\nweb   3/3   registry/shop/web:<<tag>>   app=web",
                true
            ),
            ["registry/shop/web:<<tag>>   app=web"]
        );
        // A status report: the line that says it is fine, without its date.
        assert_eq!(
            expected_output(
                "● api.service\n   Active: active (running) since Sun 2026-11-29 22:31:54 UTC\nNov 29 app[1]: listening",
                true
            ),
            ["Active: active (running) since"]
        );
        assert_eq!(
            expected_output(
                "subject=CN = <<host>>\nnotAfter=Feb 27 22:31:35 2027 GMT",
                true
            ),
            ["subject=CN = <<host>>"]
        );
        assert_eq!(
            expected_output(
                "tenant <<t>>\n  db tenant_<<t>>   ok (3 tables)\ntenant <<t>> is ready",
                true
            ),
            ["tenant <<t>> is ready"]
        );
        assert_eq!(
            expected_output(
                "verify-drop: ok widget-<<version>>.tar.gz (sha256 matches, VERSION <<version>>, changelog has <<version>>)",
                true
            ),
            [
                "verify-drop: ok widget-<<version>>.tar.gz (sha256 matches, VERSION <<version>>, changelog has <<version>>)"
            ]
        );
    }
}
