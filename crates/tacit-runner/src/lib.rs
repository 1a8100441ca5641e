//! Runner: the tool leads the procedure.
//!
//! [`Runner::run`] walks an SOP in one persistent shell ([`DrivenShell`]):
//! prerequisites first, then each step (after the operator's choice), then
//! the success checks. When a step does not meet its expectation it applies
//! the SOP's matching decision rule; when the rule's fix does not help it
//! takes the escalation path; when nothing in the SOP covers the situation it
//! asks the operator what they did and why, and returns that as a
//! [`Proposal`] for the SOP's owner. Every command and decision goes to the
//! [`EventSink`], so a guided run is evidence like a recording.
//!
//! The operator's side is a trait ([`Operator`]): a terminal UI for people,
//! an automatic one for `--yes`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use tacit_capture::CaptureError;
use tacit_capture::driven::{CommandOutcome, DrivenShell};
use tacit_capture::session::EventSink;
use tacit_core::{Answer, AskTrigger, CommandRecord, EventBody};
use tacit_sop::{DecisionRule, Escalation, Expectation, Sop, placeholder_regex};

/// Fills `<<name>>` placeholders. Unknown names are left as they are (the
/// caller checks completeness with [`missing_params`]).
pub fn fill(template: &str, params: &BTreeMap<String, String>) -> String {
    placeholder_regex()
        .replace_all(template, |c: &regex::Captures| {
            params
                .get(&c[1])
                .cloned()
                .unwrap_or_else(|| c[0].to_string())
        })
        .into_owned()
}

/// The reverse of [`fill`]: a command the operator typed with this run's
/// values, written back with its placeholders, so that an edit proposed from
/// a run fits every run. Secret values are never written back (they are
/// scrubbed from the record anyway); values under three characters are too
/// likely to stand for something else.
pub fn unfill(command: &str, params: &BTreeMap<String, String>, secret: &[String]) -> String {
    let mut by_length: Vec<(&String, &String)> = params
        .iter()
        .filter(|(name, value)| !secret.contains(name) && value.chars().count() >= 3)
        .collect();
    by_length.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    let mut out = command.to_string();
    for (name, value) in by_length {
        out = tacit_sop::replace_subtoken(&out, value, &tacit_sop::placeholder(name));
    }
    out
}

/// Parameters the SOP uses that have no value.
pub fn missing_params(sop: &Sop, params: &BTreeMap<String, String>) -> Vec<String> {
    let mut names: Vec<String> = sop.parameters.iter().map(|p| p.name.clone()).collect();
    for n in sop.placeholders() {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names
        .into_iter()
        .filter(|n| !params.contains_key(n))
        .collect()
}

/// What the operator chose before a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Run,
    /// Run this command instead (a deviation), with the reason.
    Edit {
        command: String,
        reason: String,
    },
    Skip {
        reason: String,
    },
    DoneByHand {
        reason: String,
    },
    /// Investigate in a shell of one's own, in the step's folder; what is
    /// typed there is recorded as its own run.
    OpenShell,
    /// Decide for each command of the step before it runs.
    OneByOne,
    Abort,
}

/// What to do with one command of a step taken one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandChoice {
    Run,
    Edit {
        command: String,
        reason: String,
    },
    Skip {
        reason: String,
    },
    /// Done outside tacit (an editor, a console click).
    DoneByHand {
        reason: String,
    },
    Abort,
}

/// The operator's answer to an unknown situation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorAnswer {
    pub action: String,
    pub reason: String,
    pub escalate: Option<String>,
}

/// The operator's side of a guided run.
pub trait Operator {
    /// Text for the operator.
    fn say(&mut self, text: &str);
    /// Live output of a running command.
    fn output(&mut self, bytes: &[u8]);
    fn before_step(&mut self, step: &StepView) -> Choice;
    /// May the rule's fix run?
    fn confirm_rule(&mut self, rule: &DecisionRule, commands: &[String]) -> bool;
    /// Nothing in the SOP covers this: what did you do about it, and why?
    /// `None` when nobody can answer (`--yes`).
    fn unknown(&mut self, context: &str, outcome: &CommandOutcome) -> Option<OperatorAnswer>;
    /// Opens a recorded shell in `folder`; returns what to put on the record
    /// (e.g. the investigation's run id) and the operator's reason.
    fn open_shell(&mut self, folder: &str) -> Option<(String, String)>;
    /// A failure the SOP does not cover was answered: what now? The answer
    /// is already on its way to the owner as a proposal. The default (and
    /// `--yes`) stops the run there.
    fn after_failure(&mut self, context: &str, command: &str) -> AfterFailure {
        let _ = (context, command);
        AfterFailure::Stop
    }
    /// For a step taken one by one: this command, now?
    fn before_command(
        &mut self,
        step: &str,
        number: usize,
        total: usize,
        command: &str,
    ) -> CommandChoice {
        let _ = (step, number, total, command);
        CommandChoice::Run
    }
}

/// A step (or a success check) as the operator sees it before acting.
#[derive(Debug, Clone, Copy)]
pub struct StepView<'a> {
    pub number: usize,
    pub total: usize,
    pub title: &'a str,
    pub why: Option<&'a str>,
    /// What to be careful about: the operator who recorded it flagged the
    /// step as risky.
    pub caution: Option<&'a str>,
    /// What to read before acting (a manual step's instruction, an imported
    /// step's prose and snippets).
    pub guidance: Option<&'a str>,
    /// The commands, parameters filled in.
    pub commands: &'a [String],
}

/// What the operator does after a failure the SOP does not cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// End the run here (failed, or unresolved when nobody answered).
    Stop,
    /// Run the same command again (the operator fixed something).
    Retry,
    /// Run this instead.
    Edit {
        command: String,
        reason: String,
    },
    /// Open a recorded shell to investigate, then decide again.
    OpenShell,
    /// Go on with the next step.
    Skip {
        reason: String,
    },
    Abort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Failed,
    Aborted,
    Escalated,
    /// Stopped at a situation the SOP does not cover, with nobody to ask.
    Unresolved,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Aborted => "aborted",
            Outcome::Escalated => "escalated",
            Outcome::Unresolved => "unresolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Ok,
    RuleApplied,
    Edited,
    Skipped,
    DoneByHand,
    Failed,
    NotRun,
    /// Finished by the run this one resumes.
    DoneEarlier,
}

impl StepStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            StepStatus::Ok => "ok",
            StepStatus::RuleApplied => "rule applied",
            StepStatus::Edited => "edited",
            StepStatus::Skipped => "skipped",
            StepStatus::DoneByHand => "done by hand",
            StepStatus::Failed => "failed",
            StepStatus::NotRun => "not run",
            StepStatus::DoneEarlier => "done earlier",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub title: String,
    pub status: StepStatus,
    pub duration_ms: i64,
}

/// What a run proposes to the SOP's owner.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub kind: String,
    pub step: String,
    pub command: String,
    pub exit_code: Option<i32>,
    /// The last lines of output, as evidence.
    pub output: String,
    pub answer: Option<OperatorAnswer>,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub outcome: Outcome,
    pub message: String,
    pub steps: Vec<StepReport>,
    pub proposals: Vec<Proposal>,
    pub escalations: Vec<Escalation>,
}

pub struct Runner<'a> {
    pub sop: &'a Sop,
    pub params: &'a BTreeMap<String, String>,
    pub shell: &'a mut DrivenShell,
    pub sink: &'a mut dyn EventSink,
    pub operator: &'a mut dyn Operator,
    /// The folder the procedure starts in.
    pub start_dir: String,
    pub command_timeout: Duration,
    /// Steps an interrupted run already finished (`--resume`): not run again.
    pub done_before: Vec<String>,
    /// Pass the operator's keystrokes to a running command (not in `--yes`).
    pub forward_input: bool,
    /// Who is running it (a person, or an agent by its name).
    pub user: String,
}

/// What happened so far at one failing command.
#[derive(Default)]
struct Tries {
    /// Its decision rule was applied (a second failure escalates).
    applied: bool,
    /// The operator answered the question (not asked again on a retry).
    answered: bool,
}

enum Handled {
    Fixed,
    Stop(Outcome, String),
    /// Run the command again.
    Retry,
    /// Run this command in its place.
    Replace(String),
    /// Leave the rest of this step (or this check) and go on.
    Skip,
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn meets(
    expect: &Expectation,
    outcome: &CommandOutcome,
    params: &BTreeMap<String, String>,
) -> Result<(), String> {
    if let Some(code) = expect.exit_code
        && outcome.exit_code != Some(code)
    {
        return Err(format!(
            "expected exit {code}, got {}",
            outcome
                .exit_code
                .map_or("none".to_string(), |c| c.to_string())
        ));
    }
    for want in &expect.output_contains {
        let want = fill(want, params);
        if !outcome.output.contains(&want) {
            return Err(format!("expected the output to contain \"{want}\""));
        }
    }
    Ok(())
}

fn rule_matches(rule: &DecisionRule, step: &str, outcome: &CommandOutcome) -> bool {
    rule.step.as_deref().is_none_or(|s| s == step)
        && rule
            .when
            .exit_code
            .is_none_or(|c| outcome.exit_code == Some(c))
        && rule
            .when
            .output_contains
            .as_deref()
            .is_none_or(|o| outcome.output.contains(o))
}

impl Runner<'_> {
    async fn exec(&mut self, command: &str) -> Result<(u64, CommandOutcome), CaptureError> {
        self.operator.say(&format!("$ {command}"));
        let op = &mut *self.operator;
        // A command the shell would wait on (an open quote, a heredoc
        // without its end) goes in as a script: a syntax error, never a hang.
        let outcome = if tacit_sop::shell::is_complete(command) {
            self.shell
                .run_with_input(
                    command,
                    &mut |b| op.output(b),
                    self.command_timeout,
                    self.forward_input,
                )
                .await?
        } else {
            self.shell
                .run_script(
                    command,
                    &mut |b| op.output(b),
                    self.command_timeout,
                    self.forward_input,
                )
                .await?
        };
        let seq = self
            .sink
            .record(EventBody::Command(CommandRecord {
                command: outcome.command.clone(),
                cwd: outcome.cwd.clone(),
                started_at_ms: outcome.started_at_ms,
                duration_ms: outcome.duration_ms,
                exit_code: outcome.exit_code,
                output: outcome.output.clone(),
                output_bytes: outcome.output_bytes,
                output_dropped_bytes: outcome.output_dropped_bytes,
                full_screen: false,
            }))
            .seq;
        Ok((seq, outcome))
    }

    /// Moves the shell to `folder` (relative to the start) without recording
    /// it: plumbing, not work.
    async fn go_to(&mut self, folder: Option<&str>) -> Result<(), CaptureError> {
        let target = match folder {
            None | Some(".") => self.start_dir.clone(),
            Some(f) if f.starts_with('/') => f.to_string(),
            Some(f) => format!("{}/{f}", self.start_dir.trim_end_matches('/')),
        };
        if self.shell.cwd() != target {
            self.shell
                .run(
                    &format!("cd {}", shell_quote(&target)),
                    &mut |_| {},
                    self.command_timeout,
                )
                .await?;
        }
        Ok(())
    }

    /// A command did not do what was expected: apply a rule, escalate, or
    /// ask.
    async fn handle_failure(
        &mut self,
        context: &str,
        command: &str,
        mut seq_outcome: (u64, CommandOutcome),
        expect: &Expectation,
        report: &mut Report,
        tries: &mut Tries,
    ) -> Result<Handled, CaptureError> {
        loop {
            let (seq, outcome) = &seq_outcome;
            let rule = self
                .sop
                .rules
                .iter()
                .find(|r| rule_matches(r, context, outcome))
                .cloned();
            match rule {
                Some(rule) if tries.applied => {
                    // The known fix did not help: this is where the SOP says stop.
                    let _ = rule;
                    report.escalations = self.sop.escalations.clone();
                    let mut msg =
                        format!("\"{context}\" still fails after its decision rule was applied.");
                    for e in &self.sop.escalations {
                        msg.push_str(&format!(
                            "\n  escalate: {} → call {}",
                            e.when,
                            e.contact.as_deref().unwrap_or("(contact not recorded)")
                        ));
                    }
                    self.sink.record(EventBody::Escalate { text: msg.clone() });
                    return Ok(Handled::Stop(Outcome::Escalated, msg));
                }
                Some(rule) => {
                    let commands: Vec<String> = rule
                        .then_commands
                        .iter()
                        .map(|c| fill(c, self.params))
                        .collect();
                    self.operator.say(&format!(
                        "known situation: {}\n  then:    {}\n  because: {}",
                        rule.when.summary, rule.then, rule.because
                    ));
                    if !self.operator.confirm_rule(&rule, &commands) {
                        return Ok(Handled::Stop(
                            Outcome::Aborted,
                            format!(
                                "the operator declined the rule for \"{}\"",
                                rule.when.summary
                            ),
                        ));
                    }
                    // The fix and the retry run where the failed command ran
                    // (it may have changed folder itself, as `cd app && …`).
                    let folder = outcome.cwd.clone();
                    for c in &commands {
                        self.go_to(Some(&folder)).await?;
                        self.exec(c).await?;
                    }
                    self.sink.record(EventBody::RuleApplied {
                        step: context.to_string(),
                        when: rule.when.summary.clone(),
                        then: rule.then.clone(),
                    });
                    tries.applied = true;
                    self.go_to(Some(&folder)).await?;
                    seq_outcome = self.exec(command).await?;
                    if meets(expect, &seq_outcome.1, self.params).is_ok() {
                        return Ok(Handled::Fixed);
                    }
                }
                None if tries.answered => {
                    // Asked already at this command: only what to do next.
                    let folder = outcome.cwd.clone();
                    return self.after_failure(context, command, report, &folder).await;
                }
                None => {
                    let answer = self.operator.unknown(context, outcome);
                    tries.answered = answer.is_some();
                    if let Some(a) = &answer {
                        self.sink.record(EventBody::Answer(Answer {
                            command_seq: *seq,
                            trigger: AskTrigger::Failure,
                            action: a.action.clone(),
                            reason: a.reason.clone(),
                            escalate: a.escalate.clone(),
                        }));
                    }
                    let why = meets(expect, outcome, self.params)
                        .err()
                        .unwrap_or_default();
                    let summary =
                        format!("\"{context}\": `{command}` {why}; the SOP has no rule for it");
                    report.proposals.push(Proposal {
                        kind: "edge_case".into(),
                        step: context.to_string(),
                        command: command.to_string(),
                        exit_code: outcome.exit_code,
                        output: tail_lines(&outcome.output, 20),
                        answer: answer.clone(),
                        summary: summary.clone(),
                    });
                    let folder = outcome.cwd.clone();
                    match self
                        .after_failure(context, command, report, &folder)
                        .await?
                    {
                        Handled::Stop(Outcome::Aborted, msg) => {
                            return Ok(Handled::Stop(Outcome::Aborted, msg));
                        }
                        Handled::Stop(..) => {}
                        other => return Ok(other),
                    }
                    return Ok(Handled::Stop(
                        if answer.is_some() {
                            Outcome::Failed
                        } else {
                            Outcome::Unresolved
                        },
                        format!("{summary}. A proposal for the SOP's owner was stored."),
                    ));
                }
            }
        }
    }

    /// After an answered failure: retry, edit, investigate, skip or stop.
    /// A retry or an edit runs where the failed command started.
    async fn after_failure(
        &mut self,
        context: &str,
        command: &str,
        report: &mut Report,
        folder: &str,
    ) -> Result<Handled, CaptureError> {
        loop {
            return Ok(match self.operator.after_failure(context, command) {
                AfterFailure::Stop => Handled::Stop(
                    Outcome::Failed,
                    format!(
                        "stopped at \"{context}\": `{command}` failed. A proposal for the SOP's owner was stored."
                    ),
                ),
                AfterFailure::Abort => Handled::Stop(
                    Outcome::Aborted,
                    format!("aborted at \"{context}\" after `{command}` failed"),
                ),
                AfterFailure::Retry => {
                    self.deviation(
                        context,
                        "retried after a failure",
                        "the operator retried",
                        report,
                    );
                    self.go_to(Some(folder)).await?;
                    Handled::Retry
                }
                AfterFailure::Edit {
                    command: new,
                    reason,
                } => {
                    let template = self.template(&new);
                    self.deviation(context, &format!("edited to `{template}`"), &reason, report);
                    self.go_to(Some(folder)).await?;
                    Handled::Replace(new)
                }
                AfterFailure::Skip { reason } => {
                    self.deviation(context, "skipped after a failure", &reason, report);
                    Handled::Skip
                }
                AfterFailure::OpenShell => {
                    let folder = self.shell.cwd().to_string();
                    if let Some((what, reason)) = self.operator.open_shell(&folder) {
                        self.deviation(
                            context,
                            &format!("opened a shell ({what})"),
                            &reason,
                            report,
                        );
                    }
                    continue;
                }
            });
        }
    }

    /// Runs the procedure to its end.
    pub async fn run(mut self) -> Result<Report, CaptureError> {
        let mut report = Report {
            outcome: Outcome::Succeeded,
            message: String::new(),
            steps: self
                .sop
                .steps
                .iter()
                .map(|s| StepReport {
                    title: s.title.clone(),
                    status: StepStatus::NotRun,
                    duration_ms: 0,
                })
                .collect(),
            proposals: Vec::new(),
            escalations: Vec::new(),
        };
        let stop = self.body(&mut report).await?;
        if let Some((outcome, message)) = stop {
            report.outcome = outcome;
            report.message = message;
        } else {
            report.message = finished_message(self.sop, &report, &self.user);
        }
        self.sink.record(EventBody::Outcome {
            outcome: report.outcome.as_str().into(),
            summary: report.message.clone(),
        });
        Ok(report)
    }

    async fn body(
        &mut self,
        report: &mut Report,
    ) -> Result<Option<(Outcome, String)>, CaptureError> {
        let sop = self.sop;
        // Prerequisites: nothing has changed yet if one fails.
        for p in &sop.prerequisites {
            let Some(check) = &p.check else { continue };
            self.go_to(None).await?;
            self.operator
                .say(&format!("prerequisite: {}", p.description));
            let (_, outcome) = self.exec(&fill(check, self.params)).await?;
            if outcome.exit_code != Some(0) {
                return Ok(Some((
                    Outcome::Failed,
                    format!(
                        "prerequisite not met: {} (`{}` exited {}). Nothing was changed.",
                        p.description,
                        fill(check, self.params),
                        outcome.exit_code.map_or("?".into(), |c| c.to_string())
                    ),
                )));
            }
        }
        let total = sop.steps.len();
        for (i, step) in sop.steps.iter().enumerate() {
            if self.done_before.contains(&step.title) {
                self.operator.say(&format!(
                    "step {}: {} (done before the interruption)",
                    i + 1,
                    step.title
                ));
                report.steps[i].status = StepStatus::DoneEarlier;
                continue;
            }
            let commands: Vec<String> =
                step.commands.iter().map(|c| fill(c, self.params)).collect();
            self.sink.record(EventBody::Step {
                title: step.title.clone(),
            });
            let started = std::time::Instant::now();
            let guidance = step.guidance();
            let view = StepView {
                number: i + 1,
                total,
                title: &step.title,
                why: step.why.as_deref(),
                caution: step.caution.as_deref(),
                guidance: guidance.as_deref(),
                commands: &commands,
            };
            let mut choice = self.operator.before_step(&view);
            while choice == Choice::OpenShell {
                self.go_to(step.cwd.as_deref()).await?;
                let folder = self.shell.cwd().to_string();
                if let Some((what, reason)) = self.operator.open_shell(&folder) {
                    self.deviation(
                        &step.title,
                        &format!("opened a shell ({what})"),
                        &reason,
                        report,
                    );
                }
                choice = self.operator.before_step(&view);
            }
            let one_by_one = choice == Choice::OneByOne;
            let (commands, status) = match choice {
                Choice::OpenShell => unreachable!("handled by the loop above"),
                Choice::OneByOne => (commands, StepStatus::Ok),
                Choice::Abort => {
                    return Ok(Some((
                        Outcome::Aborted,
                        format!("aborted before step {}: {}", i + 1, step.title),
                    )));
                }
                Choice::Skip { reason } => {
                    self.deviation(&step.title, "skipped", &reason, report);
                    report.steps[i].status = StepStatus::Skipped;
                    self.step_done(&step.title, "skipped", 0);
                    continue;
                }
                Choice::DoneByHand { reason } => {
                    // A manual step done by hand is the step as written; a
                    // step with commands done by hand is a deviation.
                    if !step.commands.is_empty() {
                        self.deviation(&step.title, "done by hand", &reason, report);
                    }
                    report.steps[i].status = StepStatus::DoneByHand;
                    self.step_done(&step.title, "done by hand", 0);
                    continue;
                }
                Choice::Edit { command, reason } => {
                    let template = self.template(&command);
                    self.deviation(
                        &step.title,
                        &format!("edited to `{template}`"),
                        &reason,
                        report,
                    );
                    (vec![command], StepStatus::Edited)
                }
                Choice::Run => (commands, StepStatus::Ok),
            };
            self.go_to(step.cwd.as_deref()).await?;
            let mut status = status;
            let mut tries = Tries::default();
            let mut commands = commands;
            let mut n = 0;
            while n < commands.len() {
                if one_by_one {
                    let shown = commands[n].clone();
                    match self
                        .operator
                        .before_command(&step.title, n + 1, commands.len(), &shown)
                    {
                        CommandChoice::Run => {}
                        CommandChoice::Abort => {
                            return Ok(Some((
                                Outcome::Aborted,
                                format!("aborted in step {}: {}", i + 1, step.title),
                            )));
                        }
                        CommandChoice::Skip { reason } => {
                            self.deviation(
                                &step.title,
                                &format!("skipped `{}`", self.template(&shown)),
                                &reason,
                                report,
                            );
                            status = StepStatus::Edited;
                            n += 1;
                            continue;
                        }
                        CommandChoice::DoneByHand { reason } => {
                            self.deviation(
                                &step.title,
                                &format!("did `{}` by hand", self.template(&shown)),
                                &reason,
                                report,
                            );
                            status = StepStatus::Edited;
                            n += 1;
                            continue;
                        }
                        CommandChoice::Edit { command, reason } => {
                            self.deviation(
                                &step.title,
                                &format!(
                                    "edited `{}` to `{}`",
                                    self.template(&shown),
                                    self.template(&command)
                                ),
                                &reason,
                                report,
                            );
                            commands[n] = command;
                            status = StepStatus::Edited;
                        }
                    }
                }
                let command = commands[n].clone();
                let result = self.exec(&command).await?;
                // Only the last command of a step carries the expectation.
                let expect = if n + 1 == commands.len() {
                    step.expect.clone()
                } else {
                    Expectation {
                        exit_code: Some(0),
                        output_contains: Vec::new(),
                    }
                };
                if meets(&expect, &result.1, self.params).is_err() {
                    match self
                        .handle_failure(&step.title, &command, result, &expect, report, &mut tries)
                        .await?
                    {
                        Handled::Fixed => status = StepStatus::RuleApplied,
                        Handled::Stop(outcome, msg) => {
                            report.steps[i].status = StepStatus::Failed;
                            report.steps[i].duration_ms = started.elapsed().as_millis() as i64;
                            return Ok(Some((outcome, msg)));
                        }
                        Handled::Retry => continue,
                        Handled::Replace(new) => {
                            commands[n] = new;
                            status = StepStatus::Edited;
                            continue;
                        }
                        Handled::Skip => {
                            status = StepStatus::Skipped;
                            break;
                        }
                    }
                }
                n += 1;
            }
            let took = started.elapsed().as_millis() as i64;
            self.step_done(&step.title, status.as_str(), took);
            report.steps[i].status = status;
            report.steps[i].duration_ms = started.elapsed().as_millis() as i64;
        }
        let checks: Vec<_> = sop
            .success_checks
            .iter()
            .filter(|c| c.command.is_some())
            .collect();
        for (k, c) in checks.iter().enumerate() {
            let Some(cmd) = &c.command else { continue };
            self.go_to(None).await?;
            let context = format!("Success check: {}", c.description);
            let mut command = fill(cmd, self.params);
            // The same menu as a step: run, edit, skip, do by hand.
            let shown = [command.clone()];
            let view = StepView {
                number: k + 1,
                total: checks.len(),
                title: &context,
                why: None,
                caution: None,
                guidance: None,
                commands: &shown,
            };
            let mut choice = self.operator.before_step(&view);
            while choice == Choice::OpenShell {
                let folder = self.shell.cwd().to_string();
                if let Some((what, reason)) = self.operator.open_shell(&folder) {
                    self.deviation(
                        &context,
                        &format!("opened a shell ({what})"),
                        &reason,
                        report,
                    );
                }
                choice = self.operator.before_step(&view);
            }
            match choice {
                Choice::Abort => {
                    return Ok(Some((
                        Outcome::Aborted,
                        format!("aborted at the success check \"{}\"", c.description),
                    )));
                }
                Choice::Skip { reason } => {
                    self.deviation(&context, "skipped", &reason, report);
                    continue;
                }
                Choice::DoneByHand { reason } => {
                    self.deviation(&context, "done by hand", &reason, report);
                    continue;
                }
                Choice::Edit {
                    command: new,
                    reason,
                } => {
                    self.deviation(&context, "edited", &reason, report);
                    command = new;
                }
                Choice::Run | Choice::OpenShell | Choice::OneByOne => {}
            }
            let mut tries = Tries::default();
            loop {
                let result = self.exec(&command).await?;
                if meets(&c.expect, &result.1, self.params).is_ok() {
                    break;
                }
                match self
                    .handle_failure(&context, &command, result, &c.expect, report, &mut tries)
                    .await?
                {
                    Handled::Fixed | Handled::Skip => break,
                    Handled::Stop(outcome, msg) => return Ok(Some((outcome, msg))),
                    Handled::Retry => continue,
                    Handled::Replace(new) => command = new,
                }
            }
        }
        Ok(None)
    }

    /// A filled-in command with its parameters back (secret values never
    /// reach a deviation).
    fn template(&self, command: &str) -> String {
        let secret: Vec<String> = self
            .sop
            .parameters
            .iter()
            .filter(|p| p.secret)
            .map(|p| p.name.clone())
            .collect();
        unfill(command, self.params, &secret)
    }

    fn step_done(&mut self, title: &str, status: &str, duration_ms: i64) {
        self.sink.record(EventBody::StepDone {
            title: title.to_string(),
            status: status.to_string(),
            duration_ms,
        });
    }

    fn deviation(&mut self, step: &str, kind: &str, reason: &str, report: &mut Report) {
        self.sink.record(EventBody::Deviation {
            step: step.to_string(),
            what: kind.to_string(),
            reason: reason.to_string(),
        });
        report.proposals.push(Proposal {
            kind: "deviation".into(),
            step: step.to_string(),
            command: String::new(),
            exit_code: None,
            output: String::new(),
            answer: Some(OperatorAnswer {
                action: kind.to_string(),
                reason: reason.to_string(),
                escalate: None,
            }),
            summary: format!("\"{step}\" was {kind}: {reason}"),
        });
    }
}

/// The end of a run that went to its end: "every step and success check
/// passed" only when that is true; otherwise what was not done as written,
/// and by whom.
fn finished_message(sop: &Sop, report: &Report, user: &str) -> String {
    let deviations: Vec<String> = report
        .proposals
        .iter()
        .filter(|p| p.kind == "deviation")
        .map(|p| {
            let what = p.answer.as_ref().map_or("changed", |a| a.action.as_str());
            let why = p.answer.as_ref().map_or("", |a| a.reason.as_str());
            if why.is_empty() {
                format!("\"{}\" {what}", p.step)
            } else {
                format!("\"{}\" {what} (\"{why}\")", p.step)
            }
        })
        .collect();
    if deviations.is_empty() {
        return format!("{}: every step and success check passed.", sop.title);
    }
    format!(
        "{}: finished, not all as written; by {}: {}.",
        sop.title,
        user,
        deviations.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edited_command_gets_its_placeholders_back() {
        let params: BTreeMap<String, String> = [
            ("version".to_string(), "1.4.2".to_string()),
            ("tenant".to_string(), "acme".to_string()),
            ("password".to_string(), "hunter22".to_string()),
            ("n".to_string(), "3".to_string()),
        ]
        .into();
        assert_eq!(
            unfill(
                "./build.sh 1.4.2 --fast --tenant tenant_acme -p hunter22 -j 3",
                &params,
                &["password".to_string()]
            ),
            "./build.sh <<version>> --fast --tenant tenant_<<tenant>> -p hunter22 -j 3"
        );
        assert_eq!(
            fill(&unfill("./x 1.4.2", &params, &[]), &params),
            "./x 1.4.2"
        );
    }
}
