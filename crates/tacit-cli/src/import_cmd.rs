//! `tacit import cast` and `tacit import history`: runs from other sources.
//! What they hold is redacted before it is stored, like a recording.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use tacit_capture::import::{
    HistoryFormat, ImportedRun, detect_history_format, import_cast, import_history,
};
use tacit_core::Paths;
use tacit_store::Store;

fn name_from(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".into());
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    clean.trim_matches(['-', '.']).to_string()
}

async fn store_run(paths: &Paths, mut run: ImportedRun) -> Result<ImportedRun> {
    let config = crate::record::load_config(paths)?;
    let redactor = crate::record::redactor(&config)?;
    for e in &mut run.events {
        e.body.map_text(&|s| redactor.redact(s).into_owned());
    }
    let store = crate::runs::open_synced(paths).await?;
    store.upsert_run(&run.meta).await?;
    store.append_events(&run.meta.id, &run.events).await?;
    // Sealed as imported: later edits to the stored events are detectable.
    let mut link = tacit_store::chain::genesis(&run.meta.id);
    let links: Vec<(u64, String)> = run
        .events
        .iter()
        .map(|e| {
            link = tacit_store::chain::link(&link, e);
            (e.seq, link.clone())
        })
        .collect();
    store.set_event_hashes(&run.meta.id, &links).await?;
    store.refresh_health(&run.meta.name).await?;
    store.close().await;
    Ok(run)
}

fn report(run: &ImportedRun, what: &str) {
    for w in &run.warnings {
        eprintln!("tacit: warning: {w}");
    }
    let commands = run
        .events
        .iter()
        .filter(|e| matches!(e.body, tacit_core::EventBody::Command(_)))
        .count();
    let id = tacit_capture::session::short_id(&run.meta.id);
    println!(
        "Imported {what} as run {id} (\"{}\"): {commands} command{}.",
        run.meta.name,
        if commands == 1 { "" } else { "s" }
    );
    println!("  see it:   tacit runs show {id}");
    println!("  draft it: tacit draft {}", run.meta.name);
}

pub fn cast(paths: &Paths, file: PathBuf, name: Option<String>) -> Result<ExitCode> {
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let name = name.unwrap_or_else(|| name_from(&file));
    let run_id = uuid::Uuid::now_v7().to_string();
    let run = import_cast(&text, &name, &run_id)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let rt = crate::runtime()?;
    let run = rt.block_on(store_run(paths, run))?;
    report(&run, &file.display().to_string());
    Ok(ExitCode::SUCCESS)
}

/// The user's own history file for `shell`, where the shell keeps it.
fn default_history(format: Option<HistoryFormat>) -> Result<(PathBuf, Option<HistoryFormat>)> {
    if let Some(h) = std::env::var_os("HISTFILE").filter(|h| !h.is_empty()) {
        return Ok((PathBuf::from(h), format));
    }
    let home =
        PathBuf::from(std::env::var_os("HOME").context("HOME is not set; give the history file")?);
    let shell = format
        .map(|f| f.as_str().to_string())
        .or_else(|| {
            std::env::var("SHELL")
                .ok()
                .and_then(|s| s.rsplit('/').next().map(str::to_string))
        })
        .unwrap_or_else(|| "bash".into());
    let (path, fmt) = match shell.as_str() {
        "zsh" => (home.join(".zsh_history"), HistoryFormat::Zsh),
        "fish" => (
            std::env::var_os("XDG_DATA_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".local/share"))
                .join("fish/fish_history"),
            HistoryFormat::Fish,
        ),
        _ => (home.join(".bash_history"), HistoryFormat::Bash),
    };
    Ok((path, Some(format.unwrap_or(fmt))))
}

pub fn history(
    paths: &Paths,
    file: Option<PathBuf>,
    format: Option<String>,
    name: Option<String>,
    last: Option<usize>,
) -> Result<ExitCode> {
    let format = match format.as_deref() {
        Some(f) => Some(
            HistoryFormat::parse(f)
                .with_context(|| format!("unknown history format {f}: use bash, zsh or fish"))?,
        ),
        None => None,
    };
    let (file, format) = match file {
        Some(f) => (f, format),
        None => default_history(format)?,
    };
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let format = format.unwrap_or_else(|| detect_history_format(&String::from_utf8_lossy(&bytes)));
    let name = name.unwrap_or_else(|| format!("{}-history", format.as_str()));
    let run_id = uuid::Uuid::now_v7().to_string();
    let mut run = import_history(&bytes, format, &name, &run_id)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    if let Some(n) = last {
        if n == 0 {
            bail!("--last must be at least 1");
        }
        let skip = run.events.len().saturating_sub(n);
        run.events.drain(..skip);
        for (i, e) in run.events.iter_mut().enumerate() {
            e.seq = i as u64 + 1;
        }
    }
    let rt = crate::runtime()?;
    let run = rt.block_on(store_run(paths, run))?;
    report(&run, &format!("{} ({format} history)", file.display()));
    Ok(ExitCode::SUCCESS)
}
