//! `tacit run SOP`: a teammate runs the procedure; tacit leads.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use tacit_capture::driven::{CommandOutcome, DrivenOptions, DrivenShell};
use tacit_capture::integration::{ShellKind, find_program};
use tacit_capture::session::short_id;
use tacit_core::{Paths, RunStatus};
use tacit_runner::{
    AfterFailure, Choice, CommandChoice, Operator, OperatorAnswer, Outcome, Runner, StepView, fill,
    missing_params,
};
use tacit_sop::{DecisionRule, Sop};
use tacit_store::journal::{JournalWriter, read_journal};
use tacit_store::{SqliteStore, import_journal};

use crate::render::Style;
use tacit_library::sink::JournalSink;

/// The steps' shell when there is no terminal to take the size of (a pipe,
/// a script); with one, the shell follows its size.
const SHELL_SIZE: (u16, u16) = (100, 30);

pub const EXIT_FAILED: u8 = 10;
pub const EXIT_ESCALATED: u8 = 11;
pub const EXIT_UNRESOLVED: u8 = 12;
pub const EXIT_ABORTED: u8 = 13;

#[derive(Args, Debug)]
#[command(
    after_help = "Exit codes: 0 succeeded · 10 failed · 11 escalated (stop and call someone) · \
12 stopped at a situation the SOP does not cover (--yes; a proposal was stored) · 13 aborted · \
1 error · 2 bad usage or a missing parameter with --yes."
)]
pub struct RunArgs {
    /// The SOP to run.
    pub sop: String,
    /// A parameter value, e.g. --param version=1.4.2 (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Print the procedure with its parameters filled in; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run unattended: every step runs, known rules are applied, and the run
    /// stops at the first situation the SOP does not cover.
    #[arg(long)]
    pub yes: bool,
    /// The shell to run the steps in (default: $SHELL).
    #[arg(long, value_parser = ["bash", "zsh", "fish"])]
    pub shell: Option<String>,
    /// Continue the last interrupted or aborted run of this SOP (a killed
    /// process, a closed terminal, Ctrl-C at a prompt) from its first
    /// unfinished step, with the parameter values it used.
    #[arg(long)]
    pub resume: bool,
    /// With --yes: run risky steps too (`rm -rf`, `DROP TABLE`, a step
    /// recorded with a caution). Without it, --yes stops before them.
    #[arg(long)]
    pub allow_risky: bool,
    /// With --resume: allow a --param that differs from the value the run
    /// used (recorded as a deviation, with a reason).
    #[arg(long, requires = "resume")]
    pub force_param: bool,
    /// Seconds a single command may take.
    #[arg(long, default_value_t = 3600)]
    pub timeout: u64,
    /// Stream the run to the team server while it happens, so an incident
    /// lead can follow it live (needs `tacit login`).
    #[arg(long)]
    pub share: bool,
}

/// A parameter `--resume` was asked to change: (name, old, new).
type Forced = Vec<(String, String, String)>;

/// The parameter values: `stored` (the interrupted run's, when resuming)
/// first; a `--param` that changes one of them is refused unless `force`.
fn parse_params(
    sop: &Sop,
    raw: &[String],
    yes: bool,
    stored: Option<&BTreeMap<String, String>>,
    force: bool,
) -> Result<(BTreeMap<String, String>, Forced)> {
    let mut params = stored.cloned().unwrap_or_default();
    let mut forced = Vec::new();
    let known: Vec<&str> = sop.parameters.iter().map(|p| p.name.as_str()).collect();
    for p in raw {
        let Some((k, v)) = p.split_once('=') else {
            return Err(crate::UsageError(format!("--param {p}: write it as NAME=VALUE")).into());
        };
        let k = k.trim();
        if !known.contains(&k) {
            let hint = tacit_library::closest(k, known.iter().copied())
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            return Err(crate::UsageError(if known.is_empty() {
                format!("--param {k}: {} takes no parameters", sop.id)
            } else {
                format!(
                    "--param {k}: {} has no parameter `{k}`; {hint}its parameters are {}",
                    sop.id,
                    known.join(", ")
                )
            })
            .into());
        }
        if let Some(old) = stored.and_then(|s| s.get(k))
            && old != v
        {
            if !force {
                return Err(crate::UsageError(format!(
                    "--param {k}={v}: the interrupted run used {k}={old}, and --resume goes on with the same values. Changing one mid-procedure is refused; add --force-param to change it anyway (it is recorded as a deviation, with your reason)"
                ))
                .into());
            }
            forced.push((k.to_string(), old.clone(), v.to_string()));
        }
        params.insert(k.to_string(), v.to_string());
    }
    // A given value that does not fit the parameter counts as missing, so
    // it is asked again (or refused with --yes).
    for p in &sop.parameters {
        if let Some(v) = params.get(&p.name)
            && let Some(problem) = check_value(p, v)
        {
            eprintln!("tacit: --param {}: {problem}", p.name);
            params.remove(&p.name);
        }
    }
    let missing = missing_params(sop, &params);
    if missing.is_empty() {
        return Ok((params, forced));
    }
    if yes || !std::io::stdin().is_terminal() {
        eprintln!(
            "tacit: {} needs {}: give {}",
            sop.id,
            missing.join(", "),
            missing
                .iter()
                .map(|m| format!("--param {m}=…"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        std::process::exit(2);
    }
    for name in missing {
        let def = sop.parameters.iter().find(|p| p.name == name);
        let secret = def.is_some_and(|p| p.secret);
        let hint = def
            .map(|p| {
                let ex = p
                    .examples
                    .first()
                    .map(|e| format!(", e.g. {e}"))
                    .unwrap_or_default();
                format!("{}{ex}", p.description)
            })
            .unwrap_or_default();
        loop {
            eprint!("{name} ({hint}): ");
            let _ = std::io::stderr().flush();
            let value = if secret { read_secret()? } else { read_line()? };
            if value.trim().is_empty() {
                eprintln!("  {name} is needed; type a value.");
                continue;
            }
            if let Some(problem) = def.and_then(|p| check_value(p, value.trim())) {
                eprintln!("  {problem}; try again.");
                continue;
            }
            params.insert(name.clone(), value.trim().to_string());
            break;
        }
    }
    Ok((params, forced))
}

/// A parameter's type, inferred from the values seen in the runs: when every
/// example is a version (or a date, or a number), a new value must be too.
fn check_value(param: &tacit_sop::Parameter, value: &str) -> Option<String> {
    type Test = fn(&str) -> bool;
    let kinds: [(&str, Test); 3] = [
        ("a version", |v| {
            let core = v
                .trim_start_matches('v')
                .split(['-', '+'])
                .next()
                .unwrap_or("");
            let parts: Vec<&str> = core.split('.').collect();
            parts.len() >= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        }),
        ("a date", |v| {
            let b = v.as_bytes();
            b.len() == 10
                && b[4] == b'-'
                && b[7] == b'-'
                && v.chars()
                    .enumerate()
                    .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        }),
        ("a number", |v| {
            !v.is_empty() && v.chars().all(|c| c.is_ascii_digit())
        }),
    ];
    let seen = param.examples.first()?;
    for (what, test) in kinds {
        if param.examples.iter().all(|e| test(e)) && !test(value) {
            return Some(format!("\"{value}\" is not {what} like {seen}"));
        }
    }
    None
}

fn read_line() -> Result<String> {
    let mut line = String::new();
    let n = std::io::stdin().lock().read_line(&mut line)?;
    if n == 0 {
        bail!("input ended");
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Reads a line with echo off, restoring the terminal afterwards.
fn read_secret() -> Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let fd = rustix::stdio::stdin();
    let saved = tcgetattr(fd).ok();
    if let Some(t) = &saved {
        let mut quiet = t.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        let _ = tcsetattr(fd, OptionalActions::Now, &quiet);
    }
    let line = read_line();
    if let Some(t) = &saved {
        let _ = tcsetattr(fd, OptionalActions::Now, t);
    }
    eprintln!();
    line
}

fn dry_run(sop: &Sop, params: &BTreeMap<String, String>) {
    println!(
        "{} (version {}), with {}",
        sop.title,
        sop.version,
        if params.is_empty() {
            "no parameters".to_string()
        } else {
            params
                .iter()
                .map(|(k, v)| {
                    let secret = sop.parameters.iter().any(|p| &p.name == k && p.secret);
                    format!("{k}={}", if secret { "••••" } else { v })
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if !sop.prerequisites.is_empty() {
        println!("\nPrerequisites (checked first; nothing runs if one fails):");
        for p in &sop.prerequisites {
            println!(
                "  - {}{}",
                p.description,
                p.check
                    .as_ref()
                    .map(|c| format!(": {}", fill(c, params)))
                    .unwrap_or_default()
            );
        }
    }
    println!("\nSteps:");
    let mut heading: (Option<&str>, Option<&str>) = (None, None);
    for (i, s) in sop.steps.iter().enumerate() {
        // Imported runbooks: the section and sub-heading a step sits under.
        if (s.stage.as_deref(), s.group.as_deref()) != heading {
            if s.stage.as_deref() != heading.0
                && let Some(stage) = &s.stage
            {
                println!("  ── {stage}");
            }
            if let Some(group) = &s.group {
                println!("  ─ {group}");
            }
            heading = (s.stage.as_deref(), s.group.as_deref());
        }
        println!(
            "  {}. {}{}",
            i + 1,
            s.title,
            if s.optional { " (optional)" } else { "" }
        );
        if let Some(cwd) = s.cwd.as_deref().filter(|c| *c != ".") {
            println!("       in {cwd}/");
        }
        for c in &s.commands {
            // A multi-line command is one command: its lines stay together.
            let filled = fill(c, params);
            let mut lines = filled.lines();
            println!("       $ {}", lines.next().unwrap_or_default());
            for l in lines {
                println!("         {l}");
            }
        }
        for r in sop
            .rules
            .iter()
            .filter(|r| r.step.as_deref() == Some(&s.title))
        {
            println!("       if {}: {}", r.when.summary, r.then);
            for c in &r.then_commands {
                println!("          $ {}", fill(c, params));
            }
        }
    }
    if !sop.success_checks.is_empty() {
        println!("\nSuccess checks:");
        for c in &sop.success_checks {
            println!(
                "  - {}{}",
                c.description,
                c.command
                    .as_ref()
                    .map(|x| format!(": {}", fill(x, params)))
                    .unwrap_or_default()
            );
        }
    }
    if !sop.escalations.is_empty() {
        println!("\nStop and escalate when:");
        for e in &sop.escalations {
            println!(
                "  - {} → {}",
                e.when,
                e.contact.as_deref().unwrap_or("(contact not recorded)")
            );
        }
    }
}

/// A command that opens a text editor: a manual action of its own.
fn is_editor(command: &str) -> bool {
    let mut words = command.split_whitespace();
    let mut first = words.next().unwrap_or_default();
    if first == "sudoedit" {
        return true;
    }
    if first == "sudo" {
        first = words.find(|w| !w.starts_with('-')).unwrap_or_default();
    }
    let program = first.rsplit('/').next().unwrap_or(first);
    let editor = matches!(
        program,
        "vi" | "vim"
            | "nvim"
            | "nano"
            | "emacs"
            | "micro"
            | "ed"
            | "joe"
            | "pico"
            | "$EDITOR"
            | "${EDITOR}"
            | "visudo"
            | "vipw"
    );
    editor || (program == "crontab" && command.contains(" -e"))
}

/// The terminal side of a guided run; `yes` answers for the operator.
struct TerminalOperator {
    yes: bool,
    style: Style,
    /// For `open a shell here`: the SOP, the shell and the library.
    sop_id: String,
    shell: String,
    db: std::path::PathBuf,
    /// The line editor for every prompt (arrows, history, a prefilled
    /// command to edit); `None` when it cannot start.
    editor: Option<rustyline::DefaultEditor>,
    /// The recorder's risky-command patterns.
    risky: tacit_capture::ask::AskRules,
    allow_risky: bool,
    /// The `[llm]` model, asked for an idea at a failure the SOP does not
    /// cover.
    llm: Option<(tacit_library::polish::LlmSettings, tacit_redact::Redactor)>,
}

impl TerminalOperator {
    /// One line from the operator; `None` for Ctrl-C or Ctrl-D (or the end
    /// of input): the caller treats it as "stop here".
    fn ask(&mut self, prompt: &str) -> Option<String> {
        self.ask_with(prompt, "")
    }

    /// Like [`ask`], with `initial` already typed (the command to edit).
    fn ask_with(&mut self, prompt: &str, initial: &str) -> Option<String> {
        if self.editor.is_none() {
            self.editor = rustyline::DefaultEditor::new().ok();
        }
        let Some(editor) = self.editor.as_mut() else {
            eprint!("{prompt}");
            let _ = std::io::stderr().flush();
            return read_line().ok();
        };
        match editor.readline_with_initial(prompt, (initial, "")) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = editor.add_history_entry(line.as_str());
                }
                Some(line)
            }
            Err(_) => None,
        }
    }

    /// A one-line reason, asked until given; `None` if the operator stops.
    fn reason(&mut self, prompt: &str) -> Option<String> {
        loop {
            let r = self.ask(prompt)?;
            if !r.trim().is_empty() {
                return Some(r.trim().to_string());
            }
        }
    }
}

impl Operator for TerminalOperator {
    fn say(&mut self, text: &str) {
        println!("{}", self.style.dim(text));
    }

    fn output(&mut self, bytes: &[u8]) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(bytes);
        let _ = out.flush();
    }

    fn before_step(&mut self, view: &StepView) -> Choice {
        let StepView {
            number,
            total,
            title,
            why,
            caution,
            guidance,
            commands,
        } = *view;
        let header = if title.starts_with("Success check: ") {
            format!("{} ({number}/{total})", crate::render::safe(title))
        } else {
            format!("Step {number}/{total}: {}", crate::render::safe(title))
        };
        println!("\n{}", self.style.bold(&header));
        if let Some(g) = guidance {
            for line in g.lines() {
                println!("  {}", crate::render::safe(line));
            }
        }
        if let Some(w) = why {
            println!("  why: {}", crate::render::safe(w));
        }
        // A step flagged when it was recorded (its caution), or whose command
        // matches the risky patterns, stands out and needs a "yes".
        let risky = !commands.is_empty()
            && (caution.is_some() || commands.iter().any(|c| self.risky.is_risky(c)));
        if risky {
            println!(
                "  {}",
                self.style.red(
                    &self.style.bold(
                        "⚠ risky: this step can destroy or change things that are hard to undo"
                    )
                )
            );
            if let Some(c) = caution {
                println!(
                    "  {} {}",
                    self.style.bold("caution:"),
                    crate::render::safe(c)
                );
            }
            if self.yes && !self.allow_risky {
                println!(
                    "  --yes does not run a risky step: run it interactively, or add --allow-risky"
                );
                return Choice::Abort;
            }
        }
        if commands.is_empty() {
            println!("  (a manual step)");
        }
        if self.yes {
            return if commands.is_empty() {
                Choice::DoneByHand {
                    reason: "manual step confirmed by --yes".into(),
                }
            } else {
                Choice::Run
            };
        }
        for c in commands {
            println!("  $ {}", crate::render::safe(c));
        }
        // A step that opens an editor (or any full-screen manual action)
        // among other commands runs one command at a time.
        let has_editor = commands.len() > 1 && commands.iter().any(|c| is_editor(c));
        const WHY: &str = "  why (one line, kept with the run): ";
        loop {
            let prompt = if commands.is_empty() {
                "  [d]one  [s]kip  [a]bort > "
            } else if commands.len() > 1 {
                "  [r]un  [c]ommand by command  [e]dit  [s]kip  [d]one by hand  [o]pen a shell  [a]bort > "
            } else {
                "  [r]un  [e]dit  [s]kip  [d]one by hand  [o]pen a shell  [a]bort > "
            };
            // Ctrl-C or Ctrl-D at any prompt stops the run: it is stored as
            // aborted, with what happened so far, and can be resumed.
            let Some(answer) = self.ask(prompt) else {
                return Choice::Abort;
            };
            match answer.trim() {
                "r" | "run" | "" if !commands.is_empty() => {
                    if risky {
                        match self.ask("  this step is risky: type yes to run it > ") {
                            None => return Choice::Abort,
                            Some(a) if a.trim().eq_ignore_ascii_case("yes") => {}
                            Some(_) => continue,
                        }
                    }
                    if has_editor {
                        println!("  one command at a time: this step opens an editor");
                        return Choice::OneByOne;
                    }
                    return Choice::Run;
                }
                "c" | "command" if commands.len() > 1 => return Choice::OneByOne,
                "e" | "edit" if !commands.is_empty() => {
                    let Some(command) =
                        self.ask_with("  command to run instead: ", &commands.join(" && "))
                    else {
                        return Choice::Abort;
                    };
                    if command.trim().is_empty() {
                        continue;
                    }
                    let Some(reason) = self.reason(WHY) else {
                        return Choice::Abort;
                    };
                    return Choice::Edit {
                        command: command.trim().to_string(),
                        reason,
                    };
                }
                "s" | "skip" => {
                    let Some(reason) = self.reason(WHY) else {
                        return Choice::Abort;
                    };
                    return Choice::Skip { reason };
                }
                "d" | "done" => {
                    let reason = if commands.is_empty() {
                        "confirmed".into()
                    } else {
                        match self.reason(WHY) {
                            Some(r) => r,
                            None => return Choice::Abort,
                        }
                    };
                    return Choice::DoneByHand { reason };
                }
                "a" | "abort" => return Choice::Abort,
                "o" | "open" | "shell" => return Choice::OpenShell,
                _ if commands.len() > 1 => println!("  type r, c, e, s, d, o or a"),
                _ => println!("  type r, e, s, d, o or a"),
            }
        }
    }

    fn before_command(
        &mut self,
        step: &str,
        number: usize,
        total: usize,
        command: &str,
    ) -> CommandChoice {
        let _ = step;
        println!(
            "  {} {}",
            self.style.bold(&format!("command {number}/{total}:")),
            crate::render::safe(command)
        );
        if self.yes {
            return CommandChoice::Run;
        }
        const WHY: &str = "  why (one line, kept with the run): ";
        let editor = is_editor(command);
        loop {
            let prompt = if editor {
                "  [r]un the editor  [d]one by hand  [s]kip  [e]dit  [a]bort > "
            } else {
                "  [r]un  [e]dit  [s]kip  [d]one by hand  [a]bort > "
            };
            let Some(a) = self.ask(prompt) else {
                return CommandChoice::Abort;
            };
            match a.trim() {
                "r" | "run" | "" => return CommandChoice::Run,
                "e" | "edit" => {
                    let Some(new) = self.ask_with("  command to run instead: ", command) else {
                        return CommandChoice::Abort;
                    };
                    if new.trim().is_empty() {
                        continue;
                    }
                    let Some(reason) = self.reason(WHY) else {
                        return CommandChoice::Abort;
                    };
                    return CommandChoice::Edit {
                        command: new.trim().to_string(),
                        reason,
                    };
                }
                "s" | "skip" => {
                    let Some(reason) = self.reason(WHY) else {
                        return CommandChoice::Abort;
                    };
                    return CommandChoice::Skip { reason };
                }
                "d" | "done" => {
                    let Some(reason) = self.reason(WHY) else {
                        return CommandChoice::Abort;
                    };
                    return CommandChoice::DoneByHand { reason };
                }
                "a" | "abort" => return CommandChoice::Abort,
                _ => println!("  type r, e, s, d or a"),
            }
        }
    }

    fn after_failure(&mut self, context: &str, command: &str) -> AfterFailure {
        if self.yes {
            return AfterFailure::Stop;
        }
        const WHY: &str = "  why (one line, kept with the run): ";
        println!(
            "  {}",
            self.style.dim(&format!(
                "your answer is stored for the owner; now, for \"{}\":",
                crate::render::safe(context)
            ))
        );
        loop {
            let Some(a) =
                self.ask("  [r]etry  [e]dit  [o]pen a shell  [s]kip this step  [a]bort > ")
            else {
                return AfterFailure::Abort;
            };
            match a.trim() {
                "r" | "retry" => return AfterFailure::Retry,
                "e" | "edit" => {
                    let Some(new) = self.ask_with("  command to run instead: ", command) else {
                        return AfterFailure::Abort;
                    };
                    if new.trim().is_empty() {
                        continue;
                    }
                    let Some(reason) = self.reason(WHY) else {
                        return AfterFailure::Abort;
                    };
                    return AfterFailure::Edit {
                        command: new.trim().to_string(),
                        reason,
                    };
                }
                "o" | "open" | "shell" => return AfterFailure::OpenShell,
                "s" | "skip" => {
                    let Some(reason) = self.reason(WHY) else {
                        return AfterFailure::Abort;
                    };
                    return AfterFailure::Skip { reason };
                }
                "a" | "abort" => return AfterFailure::Abort,
                _ => println!("  type r, e, o, s or a"),
            }
        }
    }

    fn confirm_rule(&mut self, rule: &DecisionRule, commands: &[String]) -> bool {
        for c in commands {
            println!("  {} {c}", self.style.dim("fix: $"));
        }
        if self.yes {
            return true;
        }
        let _ = rule;
        let a = if commands.is_empty() {
            self.ask("  do it by hand now, then press Enter to check again (n stops) > ")
        } else {
            self.ask("  apply this rule? [Y/n] ")
        };
        a.is_some_and(|a| !matches!(a.trim(), "n" | "no" | "N"))
    }

    fn open_shell(&mut self, folder: &str) -> Option<(String, String)> {
        let run_id = uuid::Uuid::now_v7().to_string();
        println!("  a recorded shell opens in {folder}; `exit` brings you back to this step.");
        let status = std::process::Command::new(std::env::current_exe().ok()?)
            .args([
                "record",
                &format!("{}-investigation", self.sop_id),
                "--shell",
                &self.shell,
                "--run-id",
                &run_id,
            ])
            .arg("--db")
            .arg(&self.db)
            .current_dir(folder)
            .status();
        if let Err(e) = status {
            println!("  could not open a shell: {e}");
            return None;
        }
        let reason = self
            .reason("  why did you open a shell (one line, kept with the run): ")
            .unwrap_or_else(|| "(not given)".into());
        Some((format!("investigation run {}", short_id(&run_id)), reason))
    }

    fn unknown(&mut self, context: &str, outcome: &CommandOutcome) -> Option<OperatorAnswer> {
        println!(
            "\n{} \"{context}\": `{}` exited {} and the SOP does not cover this.",
            self.style.yellow("tacit ▸"),
            outcome.command,
            outcome.exit_code.map_or("?".into(), |c| c.to_string())
        );
        let similar = similar_elsewhere(&self.db, &self.sop_id, outcome);
        if !similar.is_empty() {
            println!(
                "{}",
                self.style
                    .bold("Elsewhere in the library, rules for something like it:")
            );
            for s in &similar {
                println!(
                    "  {} ({}): when {}\n    → {}\n    because {}",
                    crate::render::safe(&s.sop_title),
                    crate::render::safe(&s.sop_id),
                    crate::render::safe(&s.rule.when.summary),
                    crate::render::safe(&s.rule.then),
                    crate::render::safe(&s.rule.because)
                );
            }
        }
        if let Some((settings, redactor)) = &self.llm {
            let mut situation = format!(
                "Procedure: {}\nStep: {context}\nCommand: {}\nExit code: {}\nEnd of its output:\n{}\n",
                self.sop_id,
                outcome.command,
                outcome.exit_code.map_or("?".into(), |c| c.to_string()),
                tail_chars(&outcome.output, 3000)
            );
            for s in &similar {
                situation.push_str(&format!(
                    "Another procedure ({}) has this rule: when {} then {} because {}\n",
                    s.sop_id, s.rule.when.summary, s.rule.then, s.rule.because
                ));
            }
            match tacit_library::polish::suggest(settings, redactor, &situation) {
                Ok(text) => println!(
                    "{} {}\n  {}",
                    self.style.bold("A model's suggestion"),
                    self.style.dim(&format!(
                        "({}, unverified: weigh it yourself)",
                        settings.model
                    )),
                    crate::render::safe(&text).replace('\n', "\n  ")
                ),
                Err(why) => println!(
                    "{}",
                    self.style
                        .dim(&format!("(no suggestion from the model: {why})"))
                ),
            }
        }
        if self.yes {
            return None;
        }
        println!(
            "{}",
            self.style
                .bold("What did you do about this, and why? (your answer goes to the SOP's owner)")
        );
        let action = self.ask("  what did you do: ")?;
        if action.trim().is_empty() {
            return None;
        }
        let reason = self.ask("  why (the principle): ").unwrap_or_default();
        let escalate = self.ask("  escalate when (optional): ").unwrap_or_default();
        Some(OperatorAnswer {
            action: action.trim().into(),
            reason: reason.trim().into(),
            escalate: Some(escalate.trim().to_string()).filter(|e| !e.is_empty()),
        })
    }
}

/// The shell a run is driven in: `--shell`, else `$SHELL`, else bash.
pub(crate) fn driven_shell(asked: Option<&str>) -> Result<(ShellKind, std::path::PathBuf)> {
    let name = asked
        .map(str::to_string)
        .unwrap_or_else(|| std::env::var("SHELL").unwrap_or_else(|_| "bash".into()));
    let kind = ShellKind::from_program(&name).unwrap_or(ShellKind::Bash);
    let program = find_program(&name)
        .or_else(|| find_program(kind.name()))
        .with_context(|| format!("{} is not installed", kind.name()))?;
    Ok((kind, program))
}

/// The last `max` bytes of `text`, on a character boundary.
fn tail_chars(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// The library's rules most like this failure, other SOPs' included. The
/// operator is called inside the run's runtime, so the lookup gets its own
/// thread; any error just means no suggestion.
fn similar_elsewhere(
    db: &std::path::Path,
    sop_id: &str,
    outcome: &CommandOutcome,
) -> Vec<tacit_library::suggest::Suggestion> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let rt = crate::runtime().ok()?;
                rt.block_on(async {
                    let store = SqliteStore::open(db).await.ok()?;
                    let found = tacit_library::suggest::similar_rules(
                        &store,
                        &outcome.command,
                        outcome.exit_code,
                        &outcome.output,
                        Some(sop_id),
                        3,
                    )
                    .await
                    .ok();
                    store.close().await;
                    found
                })
            })
            .join()
            .ok()
            .flatten()
            .unwrap_or_default()
    })
}

pub fn run(paths: &Paths, args: RunArgs) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    let (sop, resumed) = rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        let resumed = if args.resume {
            Some(tacit_library::runs::interrupted_run(&store, &args.sop).await?)
        } else {
            None
        };
        let version = resumed.as_ref().and_then(|r| r.meta.sop_version);
        let sop = crate::sop_cmd::load_sop(&store, &args.sop, version).await;
        store.close().await;
        anyhow::Ok(sop.map(|s| (s, resumed))?)
    })?;
    let stored = resumed.as_ref().map(|r| r.params.clone());
    let (params, forced) = parse_params(
        &sop,
        &args.params,
        args.yes,
        stored.as_ref(),
        args.force_param,
    )?;
    if args.dry_run {
        dry_run(&sop, &params);
        return Ok(ExitCode::SUCCESS);
    }
    // A refused --share stops here, before the run writes anything.
    if args.share {
        crate::remote::Share::check(paths)?;
    }
    let config = crate::record::load_config(paths)?;
    let redactor = crate::record::redactor(&config)?;
    let (kind, program) = driven_shell(args.shell.as_deref())?;
    let secrets: Vec<(String, String)> = sop
        .parameters
        .iter()
        .filter(|p| p.secret)
        .filter_map(|p| {
            params
                .get(&p.name)
                .map(|v| (v.clone(), p.name.replace('_', "-")))
        })
        .collect();
    let (meta, mut sink, done_before, cwd) = match resumed {
        Some(tacit_library::runs::Resumable { meta, done, .. }) => {
            let path = tacit_store::journal::journal_path(&paths.journal_dir(), &meta.id);
            let (journal, next) = JournalWriter::reopen(&path).with_context(|| {
                format!("cannot reopen the journal of run {}", short_id(&meta.id))
            })?;
            let sink = JournalSink::new(journal, redactor)
                .with_secrets(secrets)
                .starting_at(next);
            let cwd = std::path::PathBuf::from(&meta.start_cwd);
            (meta, sink, done, cwd)
        }
        None => {
            let cwd = std::env::current_dir()?;
            let meta = crate::record::local_run(
                uuid::Uuid::now_v7().to_string(),
                &sop.id,
                kind,
                &cwd,
                tacit_capture::terminal::size().unwrap_or(SHELL_SIZE),
                Some((&sop.id, sop.version)),
            );
            let journal = JournalWriter::create(&paths.journal_dir(), &meta)?;
            let sink = JournalSink::new(journal, redactor).with_secrets(secrets);
            (meta, sink, Vec::new(), cwd)
        }
    };
    {
        use tacit_capture::session::EventSink;
        if !done_before.is_empty() || args.resume {
            sink.record(tacit_core::EventBody::Note {
                text: format!(
                    "resumed by {} after an interruption",
                    tacit_core::current_user()
                ),
            });
        }
        for (name, old, new) in &forced {
            let reason = if args.yes || !std::io::stdin().is_terminal() {
                "changed with --force-param".to_string()
            } else {
                loop {
                    eprint!(
                        "why change {name} from {old} to {new} mid-procedure (kept with the run): "
                    );
                    let _ = std::io::stderr().flush();
                    let r = read_line().unwrap_or_default();
                    if !r.trim().is_empty() {
                        break r.trim().to_string();
                    }
                }
            };
            sink.record(tacit_core::EventBody::Deviation {
                step: "(parameters)".into(),
                what: format!("changed {name} from `{old}` to `{new}` on resume"),
                reason,
            });
        }
        // The values, for a later --resume (secret ones are never kept).
        let values: BTreeMap<String, String> = params
            .iter()
            .filter(|(k, _)| !sop.parameters.iter().any(|p| &p.name == *k && p.secret))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        sink.record(tacit_core::EventBody::Params { values });
    }
    let journal_path = sink.journal.path().to_path_buf();
    let share = if args.share {
        Some(crate::remote::Share::start(paths, journal_path.clone())?)
    } else {
        None
    };
    let style = Style::stdout();
    println!(
        "{} {} version {} (run {})",
        style.bold("tacit run:"),
        sop.title,
        sop.version,
        short_id(&meta.id)
    );
    let llm = crate::sop_cmd::llm(paths)?;
    let risky = tacit_capture::ask::AskRules::new(&config.ask, &config.risky_patterns())
        .context("a risky pattern in the config file is not a valid regex")?;
    let report = rt.block_on(async {
        let mut shell = DrivenShell::start(DrivenOptions {
            kind,
            program,
            cwd: cwd.clone(),
            runtime_dir: Paths::runtime_dir(),
            session_id: meta.id.clone(),
            tacit_exe: std::env::current_exe().unwrap_or_else(|_| "tacit".into()),
            env: Vec::new(),
            cols: tacit_capture::terminal::size().unwrap_or(SHELL_SIZE).0,
            rows: tacit_capture::terminal::size().unwrap_or(SHELL_SIZE).1,
            max_output_bytes: config.capture.max_output_bytes,
        })
        .await?;
        let mut operator = TerminalOperator {
            yes: args.yes,
            style: Style::stdout(),
            sop_id: sop.id.clone(),
            shell: kind.name().to_string(),
            db: paths.db.clone(),
            editor: None,
            risky: risky.clone(),
            allow_risky: args.allow_risky,
            llm: llm.clone(),
        };
        let runner = Runner {
            sop: &sop,
            params: &params,
            shell: &mut shell,
            sink: &mut sink,
            operator: &mut operator,
            start_dir: cwd.display().to_string(),
            command_timeout: Duration::from_secs(args.timeout),
            done_before: done_before.clone(),
            forward_input: !args.yes,
            user: meta.user.clone(),
        };
        let report = runner.run().await;
        shell.close().await;
        report
    });
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            let _ = sink.finish(RunStatus::Interrupted);
            if let Some(share) = share {
                share.finish();
            }
            return Err(e).context("the run could not continue");
        }
    };
    // An aborted run stays resumable: it ends as interrupted, with its
    // outcome on record.
    let _ = sink.finish(if report.outcome == Outcome::Aborted {
        RunStatus::Interrupted
    } else {
        RunStatus::Completed
    });
    if let Some(share) = share {
        share.finish();
    }
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        import_journal(&store, &read_journal(&journal_path)?).await?;
        tacit_library::runs::file_proposals(&store, &sop, &meta.id, &report.proposals).await?;
        store.close().await;
        anyhow::Ok(())
    })?;

    println!("\n{}", style.bold("── outcome ──"));
    for s in &report.steps {
        println!(
            "  {:<13} {}  {}",
            s.status.as_str(),
            s.title,
            style.dim(&crate::render::duration(s.duration_ms))
        );
    }
    let word = report.outcome.as_str();
    let painted = match report.outcome {
        Outcome::Succeeded => style.green(word),
        Outcome::Escalated => style.red(word),
        _ => style.yellow(word),
    };
    println!("\n{painted}: {}", report.message);
    if !report.proposals.is_empty() {
        println!(
            "{} proposal(s) wait for the SOP's owner.",
            report.proposals.len()
        );
    }
    if report.outcome == Outcome::Escalated {
        println!(
            "\nFor the ticket or chat:\n  {} ({} v{}), run {} by {}: {}",
            sop.title,
            sop.id,
            sop.version,
            short_id(&meta.id),
            meta.user,
            report.message.replace('\n', "\n  ")
        );
    }
    println!("Timeline: tacit runs show {}", short_id(&meta.id));
    Ok(match report.outcome {
        Outcome::Succeeded => ExitCode::SUCCESS,
        Outcome::Failed => ExitCode::from(EXIT_FAILED),
        Outcome::Escalated => ExitCode::from(EXIT_ESCALATED),
        Outcome::Unresolved => ExitCode::from(EXIT_UNRESOLVED),
        Outcome::Aborted => ExitCode::from(EXIT_ABORTED),
    })
}
