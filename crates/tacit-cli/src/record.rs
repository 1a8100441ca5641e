//! `tacit record NAME`: the recording shell.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use tacit_capture::ask::AskRules;
use tacit_capture::integration::{ShellKind, find_program};
use tacit_capture::session::{EndReason, SessionOptions, short_id};
use tacit_capture::{control, terminal};
use tacit_core::{Config, Paths, RunMeta, RunStatus};
use tacit_redact::{CustomRule, Redactor};
use tacit_store::journal::{JournalWriter, read_journal};
use tacit_store::{SqliteStore, import_journal};

use tacit_library::sink::JournalSink;

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// The procedure's name, e.g. deploy-web. Runs with the same name are
    /// drafted into one SOP.
    #[arg(value_parser = parse_name)]
    pub name: String,
    /// The shell to record (default: $SHELL).
    #[arg(long, value_parser = ["bash", "zsh", "fish"])]
    pub shell: Option<String>,
    /// Do not ask questions after failures and risky commands.
    #[arg(long)]
    pub no_ask: bool,
    /// Use this run id instead of a new one (for scripts that must know it).
    #[arg(long, hide = true)]
    pub run_id: Option<String>,
    /// Stream the run to the team server while you work, so teammates can
    /// follow it live (needs `tacit login`).
    #[arg(long)]
    pub share: bool,
}

pub fn load_config(paths: &Paths) -> Result<Config> {
    Config::load(&paths.config)
        .map_err(|e| anyhow::anyhow!("{e}\nFix the file, or point TACIT_CONFIG at another one."))
}

pub fn redactor(config: &Config) -> Result<Redactor> {
    let rules: Vec<CustomRule> = config
        .redact
        .rules
        .iter()
        .map(|r| CustomRule {
            name: r.name.clone(),
            pattern: r.pattern.clone(),
        })
        .collect();
    Redactor::with_custom(&rules).context("a [[redact.rules]] entry in the config file is invalid")
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// clap's check of a procedure name: a bad one is a usage error (exit 2).
pub fn parse_name(name: &str) -> std::result::Result<String, String> {
    if valid_name(name) {
        Ok(name.to_string())
    } else {
        Err("use letters, digits, '-', '_' or '.' (at most 100), e.g. deploy-web".into())
    }
}

pub fn run(paths: &Paths, args: RecordArgs) -> Result<ExitCode> {
    if let Some(id) = std::env::var_os(control::RUN_ID_ENV) {
        bail!(
            "this shell is already being recorded (run {}). Type `exit` to end that recording first.",
            id.to_string_lossy()
        );
    }
    if !valid_name(&args.name) {
        bail!(
            "\"{}\" is not a usable name: use letters, digits, '-', '_' or '.', e.g. deploy-web",
            args.name
        );
    }
    let config = load_config(paths)?;
    let redactor = redactor(&config)?;
    let rules = if args.no_ask {
        AskRules::disabled()
    } else {
        AskRules::new(&config.ask, &config.risky_patterns())
            .context("a risky-command pattern in the config file is not a valid regex")?
    };

    let shell_name = match &args.shell {
        Some(s) => s.clone(),
        None => std::env::var("SHELL").unwrap_or_else(|_| "bash".into()),
    };
    let kind = ShellKind::from_program(&shell_name).with_context(|| {
        format!("tacit records bash, zsh and fish; $SHELL is {shell_name}. Pick one with --shell bash|zsh|fish.")
    })?;
    let program = find_program(&shell_name)
        .or_else(|| find_program(kind.name()))
        .with_context(|| format!("{} is not installed (not found on PATH)", kind.name()))?;

    let cwd = std::env::current_dir().context("the current folder is not readable")?;
    let (cols, rows) = terminal::size().unwrap_or((80, 24));
    let id = args
        .run_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let meta = local_run(id, &args.name, kind, &cwd, (cols, rows), None);
    let journal_dir = paths.journal_dir();
    // Checked before anything is written: a refused login leaves no run.
    let share = if args.share {
        let path = tacit_store::journal::journal_path(&journal_dir, &meta.id);
        Some(crate::remote::Share::start(paths, path)?)
    } else {
        None
    };
    let journal = JournalWriter::create(&journal_dir, &meta).with_context(|| {
        format!(
            "cannot start the run's journal in {}",
            journal_dir.display()
        )
    })?;
    let journal_path = journal.path().to_path_buf();
    let mut sink = JournalSink::new(journal, redactor);

    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let options = SessionOptions {
        kind,
        program,
        cwd,
        run_id: meta.id.clone(),
        run_name: meta.name.clone(),
        runtime_dir: Paths::runtime_dir(),
        tacit_exe: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("tacit")),
        ask: rules,
        max_output_bytes: config.capture.max_output_bytes,
        color,
        extra_env: Vec::new(),
        fallback_size: (cols, rows),
    };

    let rt = crate::runtime()?;
    if color {
        eprintln!(
            "\x1b[1mtacit\x1b[0m recording \x1b[1m{}\x1b[0m in {} (run {}). Work as usual; `exit` ends it.",
            meta.name,
            kind.name(),
            short_id(&meta.id)
        );
    } else {
        eprintln!(
            "tacit recording {} in {} (run {}). Work as usual; `exit` ends it.",
            meta.name,
            kind.name(),
            short_id(&meta.id)
        );
    }
    let end = rt.block_on(tacit_capture::record(options, &mut sink));
    let end = match end {
        Ok(end) => end,
        Err(e) => {
            let _ = sink.finish(RunStatus::Interrupted);
            if let Some(share) = share {
                share.finish();
            }
            return Err(e).context("the recording could not run");
        }
    };
    let status = match end.reason {
        EndReason::ShellExited(_) => RunStatus::Completed,
        EndReason::Hangup | EndReason::Terminated => RunStatus::Interrupted,
    };
    let journal_ok = sink.finish(status);
    if let Some(share) = share {
        share.finish();
    }

    // The journal is complete; copy it into the library.
    let stored = rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let contents = read_journal(&journal_path)?;
        import_journal(&store, &contents).await?;
        store.close().await;
        Ok::<_, tacit_store::StoreError>(())
    });

    if end.reason == EndReason::Hangup {
        return Ok(ExitCode::SUCCESS);
    }
    let id = short_id(&meta.id);
    eprintln!();
    eprintln!(
        "tacit: recorded \"{}\": {} command{} ({} failed), {} answer{}, {} mark{}. Run {id}{}.",
        meta.name,
        end.commands,
        plural(end.commands),
        end.failures,
        end.answers,
        plural(end.answers),
        end.marks,
        plural(end.marks),
        if status == RunStatus::Interrupted {
            ", interrupted"
        } else {
            ""
        }
    );
    if let Err(e) = journal_ok {
        eprintln!(
            "tacit: the journal could not be closed ({e}); {} event(s) were not written.",
            sink.journal.pending()
        );
    }
    match stored {
        Ok(()) => {
            eprintln!("  next, draft the SOP: tacit draft {}", meta.name);
            eprintln!("  see the timeline:  tacit runs show {id}");
            eprintln!(
                "  export it:         tacit runs export {id} --format cast -o {}.cast",
                meta.name
            );
        }
        Err(e) => eprintln!(
            "tacit: the run is safe in its journal ({}) but could not be added to the library: {e}\n  it will be added the next time tacit runs: tacit runs",
            journal_path.display()
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// A run started on this machine by this process: a recording, or a guided
/// run of `sop` (id and version).
pub fn local_run(
    id: String,
    name: &str,
    kind: ShellKind,
    cwd: &std::path::Path,
    size: (u16, u16),
    sop: Option<(&str, u32)>,
) -> RunMeta {
    tacit_library::runs::local_run(
        id,
        name,
        kind.name(),
        cwd,
        size,
        sop,
        tacit_core::current_user(),
    )
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
