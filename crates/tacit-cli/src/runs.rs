//! `tacit runs`: list, show and export recorded runs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use tacit_core::Paths;
use tacit_store::{SqliteStore, Store, sync_journals};

use crate::render::{self, Style};

#[derive(Args, Debug)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    /// Only runs of this procedure.
    #[arg(long)]
    pub name: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// Print a run's timeline: commands, exit codes, durations, answers, notes.
    Show {
        /// Run id, a unique part of it, or `latest`.
        id: String,
        #[arg(long)]
        json: bool,
        /// Show every output line instead of the first few.
        #[arg(long)]
        full: bool,
    },
    /// Check a run's hash chain: exits 1 when any event was changed,
    /// removed or reordered after it was recorded.
    Verify { id: String },
    /// Write a run as JSON (with each event's hash link: evidence for a
    /// change ticket) or as an asciinema v2 cast.
    Export {
        id: String,
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// Write to this file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    Json,
    Cast,
}

/// Opens the library and brings it up to date with the journals, so a run
/// whose recorder was killed shows up, marked interrupted.
pub async fn open_synced(paths: &Paths) -> Result<SqliteStore> {
    let store = SqliteStore::open(&paths.db)
        .await
        .with_context(|| format!("cannot open the library {}", paths.db.display()))?;
    sync_journals(&store, &paths.journal_dir())
        .await
        .context("cannot read the run journals")?;
    Ok(store)
}

pub fn run(paths: &Paths, args: RunsArgs) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = open_synced(paths).await?;
        let style = Style::stdout();
        match args.command {
            None => list(&store, args.name.as_deref(), args.json, &style).await?,
            Some(RunsCommand::Show { id, json, full }) => {
                let meta = store.find_run(&id).await?;
                let events = store.events(&meta.id).await?;
                if json || args.json {
                    let doc = serde_json::json!({ "run": meta, "events": events });
                    println!("{}", serde_json::to_string_pretty(&doc)?);
                } else {
                    let max = if full { usize::MAX } else { 6 };
                    print!("{}", render::timeline(&meta, &events, &style, max));
                }
            }
            Some(RunsCommand::Verify { id }) => {
                let evidence = tacit_library::runs::evidence(&store, &id).await?;
                store.close().await;
                let id = &evidence.meta.id;
                return Ok(match &evidence.chain {
                    Ok(head) => {
                        println!(
                            "run {id}: {} events, hash chain intact (head {head})",
                            evidence.events.len()
                        );
                        ExitCode::SUCCESS
                    }
                    Err(broken) => {
                        eprintln!("tacit: run {id}: {broken}");
                        ExitCode::from(1)
                    }
                });
            }
            Some(RunsCommand::Export { id, format, output }) => {
                let evidence = tacit_library::runs::evidence(&store, &id).await?;
                let text = match format {
                    ExportFormat::Json => serde_json::to_string_pretty(&evidence.to_json())? + "\n",
                    ExportFormat::Cast => {
                        let events: Vec<tacit_core::Event> =
                            evidence.events.iter().map(|(e, _)| e.clone()).collect();
                        render::cast(&evidence.meta, &events)
                    }
                };
                match output {
                    Some(path) => {
                        std::fs::write(&path, text)
                            .with_context(|| format!("cannot write {}", path.display()))?;
                        eprintln!("wrote {}", path.display());
                    }
                    None => print!("{text}"),
                }
            }
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn list(store: &SqliteStore, name: Option<&str>, json: bool, style: &Style) -> Result<()> {
    let runs = store.list_runs(name).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(());
    }
    if runs.is_empty() {
        println!("No runs yet. Record one with `tacit record NAME`, or try `tacit demo`.");
        return Ok(());
    }
    println!(
        "{}",
        style.bold(&format!(
            "{:<10} {:<20} {:<12} {:<24} {:>8} {:>6} {:>7}",
            "RUN", "NAME", "STATUS", "STARTED", "COMMANDS", "FAILED", "ANSWERS"
        ))
    );
    let width = render::table_width();
    for r in runs {
        let line = format!(
            "{:<10} {} {:<12} {:<24} {:>8} {:>6} {:>7}",
            tacit_capture::session::short_id(&r.meta.id),
            render::column(&r.meta.name, 20, width),
            // A guided run says how it ended, not just that it did.
            r.outcome.as_deref().unwrap_or(r.meta.status.as_str()),
            render::utc(r.meta.started_at_ms),
            r.commands,
            r.failed_commands,
            r.answers
        );
        println!("{}", width.map_or(line.clone(), |w| render::cut(&line, w)));
        // An imported run is listed by its import; both times are shown.
        if let Some(at) = r.meta.imported_at_ms {
            println!("{:<10} imported {}", "", render::utc(at));
        }
    }
    Ok(())
}
