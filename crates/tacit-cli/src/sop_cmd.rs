//! `tacit draft`, `tacit show`, `tacit export` and `tacit import sop`: SOPs in
//! the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tacit_core::Paths;
use tacit_library::Drafted;
use tacit_sop::Sop;
use tacit_store::{SqliteStore, Store};

use crate::render::Style;

#[derive(Args, Debug)]
pub struct DraftArgs {
    /// The procedure's name: the name its runs were recorded under.
    pub name: String,
    /// Only these runs (comma-separated ids); default: every run of NAME.
    #[arg(long, value_delimiter = ',')]
    pub runs: Vec<String>,
    /// Print the drafted SOP afterwards.
    #[arg(long)]
    pub show: bool,
    /// Also draft from guided runs (by default only recordings: a guided
    /// run's findings reach the SOP as proposals).
    #[arg(long)]
    pub include_guided: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ShowFormat {
    Text,
    Md,
    Json,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    pub sop: String,
    /// A past version (default: the latest).
    #[arg(long)]
    pub version: Option<u32>,
    /// Show which run events each item came from.
    #[arg(long)]
    pub sources: bool,
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ExportFormat {
    Md,
    Json,
    Html,
    /// Agent skills: DIR/<name>/SKILL.md for every SOP (the argument is
    /// the folder).
    Skill,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The SOP to export (or --all); with `--format skill`, the folder to
    /// write every SOP's skill into.
    #[arg(required_unless_present = "all")]
    pub sop: Option<String>,
    /// Write every SOP as DIR/<id>.md (Markdown), for docs-as-code in git.
    #[arg(long, value_name = "DIR", conflicts_with = "sop")]
    pub all: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ExportFormat::Md)]
    pub format: ExportFormat,
    #[arg(long)]
    pub version: Option<u32>,
    /// Write to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub use tacit_library::load_sop;

/// The `[llm]` model, when the configuration turns it on.
pub(crate) fn llm(
    paths: &Paths,
) -> Result<Option<(tacit_library::polish::LlmSettings, tacit_redact::Redactor)>> {
    let config = crate::record::load_config(paths)?;
    let c = &config.llm;
    if !c.enabled {
        return Ok(None);
    }
    if c.model.trim().is_empty() || c.base_url.trim().is_empty() {
        return Err(crate::UsageError(
            "[llm] is enabled but has no model or base_url: set both in the config file, or enabled = false".into(),
        )
        .into());
    }
    let settings = tacit_library::polish::LlmSettings {
        base_url: c.base_url.clone(),
        model: c.model.clone(),
        api_key: std::env::var(&c.api_key_env).ok().filter(|k| !k.is_empty()),
        timeout: std::time::Duration::from_secs(c.timeout_secs.max(1)),
        retries: c.retries,
    };
    Ok(Some((settings, crate::record::redactor(&config)?)))
}

pub fn draft(paths: &Paths, args: DraftArgs) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    let llm = llm(paths)?;
    rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        let opts = tacit_library::DraftOptions {
            runs: args.runs.clone(),
            include_guided: args.include_guided,
            author: tacit_core::current_user(),
            date: tacit_draft::date(tacit_core::now_ms()),
            llm,
        };
        let report = tacit_library::draft_with(&store, &args.name, &opts).await?;
        match &report.polished {
            Some(tacit_library::polish::PolishOutcome::Applied { model, parts }) if !parts.is_empty() => {
                println!("{model} reworded: {} (commands, rules and reasons checked unchanged).", parts.join(", "));
            }
            Some(tacit_library::polish::PolishOutcome::Applied { model, .. }) => {
                println!("{model} had nothing to reword.");
            }
            Some(tacit_library::polish::PolishOutcome::Kept { reason }) => {
                eprintln!("kept the deterministic draft: {reason}");
            }
            None => {}
        }
        let sop = match report.drafted {
            Drafted::Saved(sop) => *sop,
            Drafted::Unchanged => {
                println!("{} is unchanged: the runs say nothing new since the latest version.", args.name);
                store.close().await;
                return Ok(ExitCode::SUCCESS);
            }
            Drafted::Proposed { owner, additions, conflicts } => {
                let who = match &owner {
                    Some(o) => format!("its owner, {o}"),
                    None => "review".to_string(),
                };
                if additions.is_empty() && conflicts.is_empty() {
                    println!(
                        "{} is owned by {}: the new draft waits for them as a proposal (`tacit review {}`).",
                        args.name,
                        owner.as_deref().unwrap_or("someone"),
                        args.name
                    );
                } else {
                    println!(
                        "{} has edits made by people since its last draft; they are kept. What the runs add waits for {who} as one proposal (`tacit review {}`):",
                        args.name, args.name
                    );
                    for a in &additions {
                        println!("  + {a}");
                    }
                    for c in &conflicts {
                        println!("  ! {c}");
                    }
                }
                store.close().await;
                return Ok(ExitCode::SUCCESS);
            }
        };
        let style = Style::stdout();
        if args.show {
            print!("{}", crate::sop_view::render(&sop, &style, false));
            println!();
        }
        println!(
            "Drafted {} version {}: {} steps, {} decision rules, {} prerequisites, {} success checks, {} escalations.",
            sop.id,
            sop.version,
            sop.steps.len(),
            sop.rules.len(),
            sop.prerequisites.len(),
            sop.success_checks.len(),
            sop.escalations.len()
        );
        println!("  read it:   tacit show {}", sop.id);
        println!("  export it: tacit export {} --format md -o {}.md", sop.id, sop.id);
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn show(paths: &Paths, args: ShowArgs) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let sop = load_sop(&store, &args.sop, args.version).await?;
        match args.format {
            ShowFormat::Text => print!(
                "{}",
                crate::sop_view::render(&sop, &Style::stdout(), args.sources)
            ),
            ShowFormat::Md => print!("{}", tacit_sop::render_markdown(&sop)),
            ShowFormat::Json => print!("{}", sop.to_json()),
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn export(paths: &Paths, args: ExportArgs) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    if let ExportFormat::Skill = args.format {
        let dir = args
            .all
            .clone()
            .or_else(|| args.sop.as_ref().map(PathBuf::from))
            .unwrap_or_default();
        return rt.block_on(export_skills(paths, &dir));
    }
    if let Some(dir) = &args.all {
        return rt.block_on(export_all(paths, dir));
    }
    let id = args.sop.clone().unwrap_or_default();
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let sop = load_sop(&store, &id, args.version).await?;
        let text = match args.format {
            ExportFormat::Md => tacit_sop::render_markdown(&sop),
            ExportFormat::Json => sop.to_json(),
            ExportFormat::Html => tacit_sop::render_html(&sop),
            ExportFormat::Skill => unreachable!("handled above"),
        };
        match &args.output {
            Some(path) => {
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            None => print!("{text}"),
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

async fn export_all(paths: &Paths, dir: &std::path::Path) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let store = SqliteStore::open(&paths.db).await?;
    let all = store.list_sops().await?;
    for v in &all {
        let sop = Sop::from_json(&v.body)
            .map_err(|e| anyhow::anyhow!("stored SOP {} is unreadable: {e}", v.sop_id))?;
        let path = dir.join(format!("{}.md", sop.id));
        std::fs::write(&path, tacit_sop::render_markdown(&sop))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    store.close().await;
    println!("wrote {} SOP(s) to {}", all.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// `tacit export --format skill DIR`: one folder per SOP, named as agent
/// skill loaders want, holding its `SKILL.md`.
async fn export_skills(paths: &Paths, dir: &std::path::Path) -> Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let store = SqliteStore::open(&paths.db).await?;
    let all = store.list_sops().await?;
    let mut names: std::collections::BTreeMap<String, String> = Default::default();
    for v in &all {
        let sop = Sop::from_json(&v.body)
            .map_err(|e| anyhow::anyhow!("stored SOP {} is unreadable: {e}", v.sop_id))?;
        let name = tacit_sop::skill::skill_name(&sop);
        // Two ids can make one name ("Deploy Web", "deploy-web").
        if let Some(other) = names.insert(name.clone(), sop.id.clone()) {
            anyhow::bail!(
                "the SOPs \"{other}\" and \"{}\" would both be the skill \"{name}\": rename one",
                sop.id
            );
        }
        let folder = dir.join(&name);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        let path = folder.join("SKILL.md");
        std::fs::write(&path, tacit_sop::render_skill(&sop))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    store.close().await;
    println!("wrote {} skill(s) to {}", all.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// `tacit import DIR` (every Markdown file below it) or `tacit import
/// FILE.md`: one report line per file, warnings with their file and line,
/// then "N of M imported, K with warnings". Idempotent; a changed file is a
/// new version.
pub fn import_path(paths: &Paths, path: PathBuf, strict: bool, dry_run: bool) -> Result<ExitCode> {
    let files = if path.is_dir() {
        let (files, skipped) = collection(&path)?;
        for (p, why) in &skipped {
            eprintln!("{p}: left out: {why}");
        }
        if files.is_empty() {
            bail!(
                "{} holds no Markdown files (.md, .markdown)",
                path.display()
            );
        }
        files
    } else {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        vec![source_file(&path, name, None)]
    };
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let report = tacit_library::import_files(
            &store,
            files,
            tacit_library::ImportOptions { strict, dry_run },
            &tacit_core::current_user(),
            &tacit_draft::date(tacit_core::now_ms()),
        )
        .await?;
        store.close().await;
        print_import(&report);
        Ok(if report.failed() == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

fn print_import(report: &tacit_library::ImportReport) {
    use tacit_library::FileOutcome;
    let would = if report.dry_run { "would be " } else { "" };
    for f in &report.files {
        let id = f.id.as_deref().unwrap_or("?");
        match &f.outcome {
            FileOutcome::Saved { version, new } => println!(
                "{}: {would}{} {id} v{version} ({} steps)",
                f.path,
                if *new { "imported as" } else { "updated" },
                f.steps
            ),
            FileOutcome::Unchanged { version } => {
                println!("{}: unchanged ({id} v{version})", f.path)
            }
            FileOutcome::Failed { line, reason } => match line {
                Some(l) => eprintln!("{}:{l}: not imported: {reason}", f.path),
                None => eprintln!("{}: not imported: {reason}", f.path),
            },
        }
        for w in &f.warnings {
            eprintln!("{}:{}: warning: {}", f.path, w.line, w.message);
        }
    }
    println!(
        "{} of {} {}imported, {} with warnings ({} new, {} updated, {} unchanged{})",
        report.imported(),
        report.files.len(),
        would,
        report.with_warnings(),
        report.saved(true),
        report.saved(false),
        report.unchanged(),
        if report.dry_run {
            "; dry run, nothing saved"
        } else {
            ""
        }
    );
}

/// A file or folder not imported, and why.
type LeftOut = (String, String);

/// The Markdown files below `root`, in path order, and what was left out
/// (with why). Hidden folders and symlinked folders are not entered; a
/// README or a Hugo `_index.md` lists a folder, it is not a runbook.
fn collection(root: &std::path::Path) -> Result<(Vec<tacit_library::SourceFile>, Vec<LeftOut>)> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    let mut found: Vec<PathBuf> = Vec::new();
    while let Some(dir) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                skipped.push((
                    dir.display().to_string(),
                    format!("cannot read the folder: {e}"),
                ));
                continue;
            }
        };
        for entry in entries.flatten() {
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !name.starts_with('.') && name != "node_modules" {
                    dirs.push(p);
                }
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
            {
                found.push(p);
            }
        }
    }
    found.sort();
    for p in found {
        let rel = p.strip_prefix(root).unwrap_or(&p).display().to_string();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if matches!(
            name.as_str(),
            "readme.md"
                | "_index.md"
                | "changelog.md"
                | "contributing.md"
                | "license.md"
                | "summary.md"
        ) {
            skipped.push((rel, "lists or describes the folder, not a runbook".into()));
            continue;
        }
        // A Hugo page bundle: `restart-web/index.md` is the page `restart-web`.
        let id_source = if name == "index.md" {
            p.parent().map(|d| d.to_path_buf())
        } else {
            None
        };
        files.push(source_file(&p, rel, id_source));
    }
    Ok((files, skipped))
}

fn source_file(
    p: &std::path::Path,
    shown: String,
    id_source: Option<PathBuf>,
) -> tacit_library::SourceFile {
    use tacit_sop::import::{id_from_path, slug};
    let id_path = id_source.clone().unwrap_or_else(|| p.to_path_buf());
    let default_id = id_from_path(&id_path);
    let parent = id_path
        .parent()
        .and_then(|d| d.file_name())
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let qualified_id = if parent.is_empty() {
        default_id.clone()
    } else {
        slug(&format!("{parent}-{default_id}"))
    };
    let bytes = std::fs::read(p).map_err(|e| format!("cannot read it: {e}"));
    tacit_library::SourceFile {
        path: shown,
        bytes,
        default_id,
        qualified_id,
    }
}

pub fn list(paths: &Paths, json: bool) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let all = store.list_sops().await?;
        let sops: Vec<Sop> = all.iter().filter_map(|v| Sop::from_json(&v.body).ok()).collect();
        if json {
            let rows: Vec<serde_json::Value> = sops
                .iter()
                .map(|s| serde_json::json!({"id": s.id, "title": s.title, "version": s.version, "owner": s.owner, "steps": s.steps.len(), "rules": s.rules.len()}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        } else if sops.is_empty() {
            println!("No SOPs yet. Record a procedure with `tacit record NAME`, then `tacit draft NAME`.");
        } else {
            for s in &sops {
                println!(
                    "{:<24} v{:<3} {:<16} {} ({} steps, {} rules)",
                    s.id,
                    s.version,
                    s.owner.as_deref().unwrap_or("no owner"),
                    s.title,
                    s.steps.len(),
                    s.rules.len()
                );
            }
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn search(paths: &Paths, query: String, json: bool) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let hits = store.search(&query).await?;
        if json {
            let rows: Vec<serde_json::Value> = hits
                .iter()
                .map(|(id, title, snip)| serde_json::json!({"id": id, "title": title, "snippet": snip}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        } else if hits.is_empty() {
            println!("Nothing matches \"{query}\".");
        } else {
            for (id, title, snip) in &hits {
                println!("{id:<24} {title}\n    {}", snip.replace('\n', " "));
            }
        }
        store.close().await;
        Ok(if hits.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
    })
}

/// `tacit proposals SOP`: what runs proposed, waiting for the owner.
pub fn proposals(paths: &Paths, sop: String, json: bool) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let list = store.proposals(&sop).await?;
        if json {
            let docs: Vec<serde_json::Value> = list
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "id": p.id, "sop_id": p.sop_id, "sop_version": p.sop_version, "run_id": p.run_id,
                        "kind": p.kind, "summary": p.summary, "status": p.status,
                        "created_at_ms": p.created_at_ms,
                        "evidence": serde_json::from_str::<serde_json::Value>(&p.body).unwrap_or_default(),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&docs)?);
        } else if list.is_empty() {
            println!("No proposals for {sop}.");
        } else {
            for p in &list {
                println!("{}  {}  {}  (run {}, v{})", p.status, p.kind, p.summary, tacit_capture::session::short_id(&p.run_id), p.sop_version);
            }
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
