//! Stage 0: a run's events flattened into commands with their marks and
//! answers attached, and `cd` folded into each command's working folder.

use tacit_core::{Answer, Event, EventBody, RunMeta};
use tacit_sop::SourceRef;

/// One recorded run, as the drafter receives it.
#[derive(Debug, Clone)]
pub struct RunInput {
    pub meta: RunMeta,
    pub events: Vec<Event>,
}

/// A command with everything the operator said about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cmd {
    pub source: SourceRef,
    /// The command line, with a leading `cd DIR &&` folded into `cwd`.
    pub command: String,
    /// Relative to the run's starting folder: `.` or `app` or an absolute path.
    pub cwd: String,
    pub exit_code: Option<i32>,
    pub output: String,
    /// The `tacit step` title in force when it ran.
    pub step_title: Option<String>,
    pub marked_check: bool,
    pub marked_prereq: bool,
    pub why: Vec<String>,
    pub answer: Option<Answer>,
    /// Source of the answer event.
    pub answer_source: Option<SourceRef>,
    /// Work done outside the shell (an agent's tool call): `command` is
    /// then what was done, in words, and the step is a manual one.
    pub tool: Option<ToolUse>,
}

/// A recorded action that was not a shell command.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolUse {
    pub tool: String,
    pub arguments: String,
}

impl Cmd {
    pub fn failed(&self) -> bool {
        self.exit_code.is_some_and(|c| c != 0)
    }

    /// The program and its first words, for classification and titles.
    pub fn words(&self) -> Vec<&str> {
        self.command.split_whitespace().collect()
    }
}

/// A run flattened for drafting.
#[derive(Debug, Clone)]
pub struct RunView {
    pub run_id: String,
    pub name: String,
    pub user: String,
    pub started_at_ms: i64,
    /// The absolute folder the run started in.
    pub start: String,
    pub cmds: Vec<Cmd>,
    pub escalations: Vec<(String, SourceRef)>,
    pub notes: Vec<(String, SourceRef)>,
}

pub fn view(run: &RunInput) -> RunView {
    let start = run.meta.start_cwd.trim_end_matches('/').to_string();
    let src = |seq: u64| SourceRef {
        run_id: run.meta.id.clone(),
        seq,
    };
    let mut cmds: Vec<Cmd> = Vec::new();
    let mut escalations = Vec::new();
    let mut notes = Vec::new();
    let mut step: Option<String> = None;
    for e in &run.events {
        match &e.body {
            EventBody::Command(c) => {
                let (command, cwd) = fold_cd(&c.command, &c.cwd);
                if command.is_empty() {
                    continue;
                }
                cmds.push(Cmd {
                    source: src(e.seq),
                    command,
                    cwd: relative(&cwd, &start),
                    exit_code: c.exit_code,
                    output: c.output.clone(),
                    step_title: step.clone(),
                    marked_check: false,
                    marked_prereq: false,
                    why: Vec::new(),
                    answer: None,
                    answer_source: None,
                    tool: None,
                });
            }
            EventBody::Action {
                tool,
                action,
                arguments,
                result,
                ..
            } if !action.trim().is_empty() => {
                // No exit code: an action's outcome is not a shell's, and a
                // failed one must never become a rule's fix to run.
                cmds.push(Cmd {
                    source: src(e.seq),
                    command: action.trim().to_string(),
                    cwd: ".".into(),
                    exit_code: None,
                    output: result.clone(),
                    step_title: step.clone(),
                    marked_check: false,
                    marked_prereq: false,
                    why: Vec::new(),
                    answer: None,
                    answer_source: None,
                    tool: Some(ToolUse {
                        tool: tool.clone(),
                        arguments: arguments.clone(),
                    }),
                });
            }
            EventBody::Step { title } => step = Some(title.clone()),
            EventBody::Answer(a) => {
                if let Some(c) = cmds
                    .iter_mut()
                    .rev()
                    .find(|c| c.source.seq == a.command_seq)
                {
                    c.answer = Some(a.clone());
                    c.answer_source = Some(src(e.seq));
                }
            }
            EventBody::Why { command_seq, text } => {
                if let Some(c) = cmds.iter_mut().find(|c| c.source.seq == *command_seq) {
                    c.why.push(text.clone());
                }
            }
            EventBody::Check { command_seq } => {
                if let Some(c) = cmds.iter_mut().find(|c| c.source.seq == *command_seq) {
                    c.marked_check = true;
                }
            }
            EventBody::Prereq { command_seq } => {
                if let Some(c) = cmds.iter_mut().find(|c| c.source.seq == *command_seq) {
                    c.marked_prereq = true;
                }
            }
            EventBody::Escalate { text } => escalations.push((text.clone(), src(e.seq))),
            EventBody::Note { text } => notes.push((text.clone(), src(e.seq))),
            EventBody::Warning { .. }
            | EventBody::RuleApplied { .. }
            | EventBody::Deviation { .. }
            | EventBody::Outcome { .. }
            | EventBody::StepDone { .. }
            | EventBody::Action { .. }
            | EventBody::Params { .. } => {}
        }
    }
    RunView {
        run_id: run.meta.id.clone(),
        name: run.meta.name.clone(),
        user: run.meta.user.clone(),
        started_at_ms: run.meta.started_at_ms,
        start,
        cmds,
        escalations,
        notes,
    }
}

/// `cd app && git pull` run in `/x` becomes `git pull` in `/x/app`.
/// A bare `cd app` becomes an empty command: the next command's recorded
/// folder already reflects it.
pub fn fold_cd(command: &str, cwd: &str) -> (String, String) {
    let mut rest = command.trim();
    let mut dir = cwd.to_string();
    while let Some(after) = rest.strip_prefix("cd ") {
        let (target, tail) = match after.find("&&") {
            Some(i) => (after[..i].trim(), after[i + 2..].trim()),
            None if !after.contains([';', '|', '&']) => (after.trim(), ""),
            None => break,
        };
        let target = target.trim_matches(|c| c == '"' || c == '\'');
        if target.is_empty() || target.contains('$') || target.starts_with('~') || target == "-" {
            break;
        }
        dir = join(&dir, target);
        rest = tail;
    }
    (rest.to_string(), dir)
}

fn join(base: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|p| !p.is_empty()).collect()
    };
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// A folder relative to the run's start: `.`, `app`, or absolute when outside.
pub fn relative(cwd: &str, start: &str) -> String {
    let cwd = cwd.trim_end_matches('/');
    if cwd == start {
        ".".into()
    } else if let Some(rest) = cwd.strip_prefix(start).and_then(|r| r.strip_prefix('/')) {
        rest.into()
    } else {
        cwd.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cd_is_folded_into_the_folder() {
        assert_eq!(
            fold_cd("cd app && git pull", "/s"),
            ("git pull".into(), "/s/app".into())
        );
        assert_eq!(
            fold_cd("cd ../x && cd y && make", "/s/a"),
            ("make".into(), "/s/x/y".into())
        );
        assert_eq!(fold_cd("cd app", "/s"), ("".into(), "/s/app".into()));
        assert_eq!(fold_cd("cd $DIR && make", "/s").0, "cd $DIR && make");
        assert_eq!(fold_cd("ls", "/s"), ("ls".into(), "/s".into()));
    }

    #[test]
    fn folders_are_relative_to_the_start() {
        assert_eq!(relative("/s", "/s"), ".");
        assert_eq!(relative("/s/app", "/s"), "app");
        assert_eq!(relative("/other", "/s"), "/other");
    }
}
