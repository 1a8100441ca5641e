//! `tacit`: turns work done once into an SOP a team can run.
//!
//! This binary is the edge of the pipeline: it parses arguments, wires the
//! stages (capture → store → …) together and turns their typed errors into
//! messages that say what to do next.

mod demo;
mod import_cmd;
mod in_session;
mod keep;
mod mcp_cmd;
mod notify;
mod record;
mod remote;
mod render;
mod run_cmd;
mod runs;
mod serve_cmd;
mod sop_cmd;
mod sop_view;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tacit_core::Paths;

const AFTER_HELP: &str = "\
The loop: record → draft → run → review.

  tacit record deploy-web     work in your own shell; tacit keeps every command,
                              its output, exit code, folder and timing, and asks
                              what you did and why when something fails
  tacit runs                  list recorded runs
  tacit runs show latest      the timeline of a run, answers included
  tacit draft deploy-web      draft the SOP from its runs: steps, decision rules,
                              edge cases, escalation, success checks
  tacit show deploy-web       read it (--sources: where each item came from)
  tacit export deploy-web --format md|json|html
  tacit run deploy-web        a teammate runs it: tacit leads step by step, applies
                              the decision rules, and asks when the SOP is silent
  tacit review deploy-web     the owner accepts what runs proposed: a new version
  tacit status --check        library health for cron or CI (trust, overdue, unowned)
  tacit serve                 the team server: JSON API and web UI (--database-url postgres://…)
  tacit login URL; tacit sync share runs, SOPs and proposals with the team server
  tacit demo                  record the bundled deploy scenario and draft its SOP

Inside a recording: tacit note | step | why | check | prereq | escalate | status

Files: the library is $XDG_DATA_HOME/tacit/tacit.db (override with --db or
TACIT_DB); journals sit beside it in tacit.journal/; configuration is read
from $XDG_CONFIG_HOME/tacit/config.toml (override with TACIT_CONFIG).
NO_COLOR turns colour off.

Exit codes: 0 success · 1 error (or `status --check` found problems) · 2 bad
usage · 3 an in-session command run outside a recording · 4 the recorder
could not be reached · 10-13 `tacit run` outcomes (see `tacit run --help`).";

#[derive(Parser)]
#[command(
    name = "tacit",
    version,
    about = "Do the work once in a recording shell; tacit captures the commands and the why, and drafts the SOP your team can run.",
    after_help = AFTER_HELP
)]
struct Cli {
    /// The library database (default: $XDG_DATA_HOME/tacit/tacit.db).
    #[arg(long, global = true, env = "TACIT_DB", value_name = "FILE")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Record a run: opens your own shell; type `exit` or Ctrl-D to finish.
    Record(record::RecordArgs),
    /// List recorded runs, show one, or export it.
    Runs(runs::RunsArgs),
    /// Draft an SOP (or a new version of it) from the runs recorded under NAME.
    Draft(sop_cmd::DraftArgs),
    /// Print an SOP, readable in a terminal (or as Markdown / JSON).
    Show(sop_cmd::ShowArgs),
    /// Write an SOP as Markdown, JSON or standalone HTML.
    Export(sop_cmd::ExportArgs),
    /// Run an SOP: tacit leads, step by step, in a real shell.
    Run(run_cmd::RunArgs),
    /// What runs proposed to an SOP's owner (new edge cases, deviations).
    Proposals {
        sop: String,
        #[arg(long)]
        json: bool,
    },
    /// Import Markdown runbooks (a file, or a folder and its subfolders)
    /// as SOPs, or runs from casts and shell history.
    #[command(args_conflicts_with_subcommands = true)]
    Import {
        #[command(subcommand)]
        what: Option<ImportWhat>,
        /// A Markdown runbook, or a folder of them: any layout, with or
        /// without front matter; tacit's own exports come back exactly.
        path: Option<PathBuf>,
        /// tacit's own format only, with its exact checks (for CI).
        #[arg(long)]
        strict: bool,
        /// Show what would be imported; save nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List the SOPs in the library.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Full-text search over titles, steps, rules, reasons and notes.
    Search {
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Record the bundled deploy-webapp scenario unattended, then draft and show its SOP.
    Demo(demo::DemoArgs),
    /// (in a recording) Add a note to the run.
    Note {
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// (in a recording) Start a named step: the next commands belong to it.
    Step {
        #[arg(required = true, num_args = 1..)]
        title: Vec<String>,
    },
    /// (in a recording) Say why you ran the last command.
    Why {
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// (in a recording) Mark the last command as a success check.
    Check,
    /// (in a recording) Mark the last command as a prerequisite check.
    Prereq,
    /// (in a recording) Record when someone must stop and call for help.
    Escalate {
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// In a recording: the run so far. Outside: the library's health, worst
    /// first.
    ///
    /// Per SOP: owner and version, last run and success rate, pending
    /// proposals, review due or overdue, drift (runs keep deviating at a
    /// step), never run, only one person has run it, and a trust score. The
    /// trust score starts at 100 and loses: 15 without an owner; 20 when the
    /// review is overdue (5 without a review interval); 25 without any
    /// successful guided run (15 if none in 90 days); up to 20 by the share of
    /// recent runs that deviated and up to 20 by the share that failed,
    /// escalated or stopped unresolved; 5 per unanswered question (at most
    /// 15); 10 for proposals waiting longer than `[status] proposal_max_days`.
    Status {
        #[arg(long)]
        json: bool,
        /// Exit 1 when any SOP is overdue, unowned, or has proposals waiting
        /// too long (for cron or CI).
        #[arg(long)]
        check: bool,
        /// Post the summary to this webhook (Slack-compatible JSON).
        #[arg(long, value_name = "URL")]
        notify: Option<String>,
    },
    /// Set an SOP's owner (a person or a team) and review interval.
    Own {
        sop: String,
        #[arg(long)]
        owner: String,
        /// e.g. 90d, 12w, 3m.
        #[arg(long, value_name = "INTERVAL", value_parser = keep::interval_arg)]
        review_every: Option<String>,
    },
    /// Define a team (a named list of people) that can own SOPs; change its
    /// members to rotate ownership without touching any SOP.
    Team {
        name: Option<String>,
        #[arg(long, value_delimiter = ',')]
        members: Vec<String>,
    },
    /// Confirm an SOP is still true: resets its review due date.
    Reviewed { sop: String },
    /// List an SOP's versions.
    Log {
        sop: String,
        #[arg(long)]
        json: bool,
    },
    /// What changed between two versions (default: the last two).
    Diff {
        sop: String,
        v1: Option<u32>,
        v2: Option<u32>,
    },
    /// Walk the proposals runs made: accept, edit in $EDITOR, or reject.
    Review { sop: String },
    /// Runs over time, success rate, step durations (median, p90), and the
    /// steps where runs fail, deviate or escalate.
    Stats {
        sop: String,
        #[arg(long)]
        json: bool,
    },
    /// Log in to a team server: checks the API token and keeps it (readable
    /// only by you) for `tacit sync`.
    Login {
        /// The server, e.g. https://tacit.example.com
        url: String,
        /// The API token (asked for, unechoed, when not given).
        #[arg(long)]
        token: Option<String>,
    },
    /// Send runs, SOP versions and proposals to the team server and fetch
    /// everyone else's. Safe to repeat or interrupt: it carries on where
    /// it stopped, and never overwrites a version (a differing one goes to
    /// the owner as a proposal).
    Sync {
        #[arg(long)]
        json: bool,
    },
    /// Serve the library to the team over HTTP: a web UI and a JSON API
    /// (/api/openapi.json), on the local library or PostgreSQL.
    Serve(serve_cmd::ServeArgs),
    /// Serve the library to an AI agent over the Model Context Protocol
    /// (stdio): it searches and reads SOPs, and with --allow-write follows
    /// them step by step in a recorded shell and asks you why.
    Mcp(mcp_cmd::McpArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// A Markdown SOP (tacit's own export, or a hand-edited one).
    Sop {
        file: PathBuf,
        #[arg(long)]
        strict: bool,
        #[arg(long)]
        dry_run: bool,
    },
    /// An asciinema v2 or v3 cast, as a run (OSC 133 marks when present,
    /// prompt heuristics otherwise).
    Cast {
        file: PathBuf,
        /// The procedure name (default: the file's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Shell history (bash, zsh or fish) as a run without outputs. Default
    /// file: $HISTFILE, or your shell's own history file.
    History {
        file: Option<PathBuf>,
        #[arg(long, value_parser = ["bash", "zsh", "fish"])]
        format: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Only the last N commands.
        #[arg(long)]
        last: Option<usize>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if prints_only(&cli.command) {
        // `tacit list | head` ends quietly, as `ls | head` does, instead of
        // panicking on a closed pipe. Only for commands that just print: the
        // ones that drive a shell must survive a closed terminal.
        // SAFETY: sets a signal disposition before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let paths = Paths::resolve(cli.db.as_deref());
    // A library named on the command line (`--db`) in a folder that does not
    // exist is a typo, not a request to create folders; the default
    // location and a configured TACIT_DB are created as needed.
    let from_env = std::env::var_os("TACIT_DB").map(std::path::PathBuf::from);
    if cli.db.is_some() && cli.db != from_env {
        let parent = paths.db.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent
            && !parent.is_dir()
        {
            eprintln!(
                "tacit: the library {} cannot be created: the folder {} does not exist (create it first, or choose another --db)",
                paths.db.display(),
                parent.display()
            );
            return ExitCode::from(2);
        }
    }
    let result = match cli.command {
        Command::Record(args) => record::run(&paths, args),
        Command::Runs(args) => runs::run(&paths, args),
        Command::Demo(args) => demo::run(&paths, args),
        Command::Draft(args) => sop_cmd::draft(&paths, args),
        Command::Run(args) => run_cmd::run(&paths, args),
        Command::Proposals { sop, json } => sop_cmd::proposals(&paths, sop, json),
        Command::Show(args) => sop_cmd::show(&paths, args),
        Command::Export(args) => sop_cmd::export(&paths, args),
        Command::Import {
            what:
                Some(ImportWhat::Sop {
                    file,
                    strict,
                    dry_run,
                }),
            ..
        } => sop_cmd::import_path(&paths, file, strict, dry_run),
        Command::Import {
            what: None,
            path: Some(path),
            strict,
            dry_run,
        } => sop_cmd::import_path(&paths, path, strict, dry_run),
        Command::Import {
            what: None,
            path: None,
            ..
        } => {
            eprintln!(
                "tacit: import what? `tacit import DIR`, `tacit import sop FILE.md`, `tacit import cast FILE`, `tacit import history`"
            );
            Ok(ExitCode::from(2))
        }
        Command::List { json } => sop_cmd::list(&paths, json),
        Command::Search { query, json } => sop_cmd::search(&paths, query.join(" "), json),
        Command::Import {
            what: Some(ImportWhat::Cast { file, name }),
            ..
        } => import_cmd::cast(&paths, file, name),
        Command::Import {
            what:
                Some(ImportWhat::History {
                    file,
                    format,
                    name,
                    last,
                }),
            ..
        } => import_cmd::history(&paths, file, format, name, last),
        Command::Note { text } => in_session::note(text.join(" ")),
        Command::Step { title } => in_session::step(title.join(" ")),
        Command::Why { text } => in_session::why(text.join(" ")),
        Command::Check => in_session::check(),
        Command::Prereq => in_session::prereq(),
        Command::Escalate { text } => in_session::escalate(text.join(" ")),
        Command::Status {
            json,
            check,
            notify,
        } => {
            if std::env::var_os(tacit_capture::control::SOCKET_ENV).is_some()
                && !json
                && !check
                && notify.is_none()
            {
                in_session::status()
            } else {
                keep::status(&paths, json, check, notify)
            }
        }
        Command::Own {
            sop,
            owner,
            review_every,
        } => keep::own(&paths, sop, owner, review_every),
        Command::Team { name, members } => keep::team(&paths, name, members),
        Command::Reviewed { sop } => keep::reviewed(&paths, sop),
        Command::Log { sop, json } => keep::log(&paths, sop, json),
        Command::Diff { sop, v1, v2 } => keep::diff(&paths, sop, v1, v2),
        Command::Review { sop } => keep::review(&paths, sop),
        Command::Stats { sop, json } => keep::stats(&paths, sop, json),
        Command::Serve(args) => serve_cmd::serve(&paths, args),
        Command::Mcp(args) => mcp_cmd::mcp(&paths, args),
        Command::Login { url, token } => remote::login(&paths, url, token),
        Command::Sync { json } => remote::sync(&paths, json),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "tacit", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tacit: {}", error_text(&e, &paths.db));
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// An error as one message: each cause once (sqlx repeats its source in its
/// own text), and a database error names the library file and what to do.
fn error_text(e: &anyhow::Error, db: &std::path::Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if parts.iter().any(|p| p.contains(&s)) {
            continue;
        }
        parts.push(s);
    }
    let mut text = parts.join(": ");
    let db_error = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<tacit_store::StoreError>(),
            Some(tacit_store::StoreError::Db(_) | tacit_store::StoreError::Migrate(_))
        )
    });
    if db_error {
        let lower = text.to_lowercase();
        let hint = if lower.contains("not a database") {
            "it is not a tacit library (an SQLite file): move it aside, or choose another with --db"
        } else if lower.contains("locked") || lower.contains("busy") {
            "another tacit is writing to it: try again in a moment"
        } else if lower.contains("readonly")
            || lower.contains("read-only")
            || lower.contains("permission")
        {
            "tacit cannot write to it: check the file's and its folder's permissions"
        } else if lower.contains("full") {
            "the disk is full: free some space and try again"
        } else if lower.contains("migration") {
            "it was written by a newer tacit, or is damaged: upgrade tacit, or choose another library with --db"
        } else {
            "check the file, or choose another library with --db"
        };
        text = format!("the library {}: {text}\n  {hint}", db.display());
    }
    text
}

fn prints_only(command: &Command) -> bool {
    matches!(
        command,
        Command::Runs(_)
            | Command::Show(_)
            | Command::Export(_)
            | Command::Proposals { .. }
            | Command::Import { .. }
            | Command::List { .. }
            | Command::Search { .. }
            | Command::Status { .. }
            | Command::Log { .. }
            | Command::Diff { .. }
            | Command::Stats { .. }
            | Command::Team { .. }
            | Command::Completions { .. }
    )
}

/// A mistake in how tacit was called (a malformed `--param`, an unknown
/// parameter, a library folder that does not exist): exit 2, like clap's own
/// usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A current-thread runtime: tacit's work is I/O on a handful of files and
/// one PTY, and one thread keeps the recorder's footprint small.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
