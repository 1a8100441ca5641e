//! `tacit draft`, `tacit show`, `tacit export` and `tacit import sop`: SOPs in
//! the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tacit_core::Paths;
use tacit_library::{Drafted, same_content};
use tacit_sop::{Revision, Sop};
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
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The SOP to export (or --all).
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

pub use tacit_library::{load_sop, save_version};

pub fn draft(paths: &Paths, args: DraftArgs) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        let opts = tacit_library::DraftOptions {
            runs: args.runs.clone(),
            include_guided: args.include_guided,
            author: tacit_core::current_user(),
            date: tacit_draft::date(tacit_core::now_ms()),
        };
        let result = tacit_library::draft_into_store(&store, &args.name, &opts).await;
        let sop = match result? {
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

/// `tacit import DIR` (every `*.md`) or `tacit import FILE.md`: idempotent;
/// an edited file becomes a new version.
pub fn import_path(paths: &Paths, path: PathBuf) -> Result<ExitCode> {
    if !path.is_dir() {
        return import_sop(paths, path);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("md"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{} holds no .md files", path.display());
    }
    let mut failed = 0;
    for f in files {
        if let Err(e) = import_sop(paths, f) {
            eprintln!("tacit: {e:#}");
            failed += 1;
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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

pub fn import_sop(paths: &Paths, file: PathBuf) -> Result<ExitCode> {
    let text = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = String::from_utf8(text)
        .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", file.display()))?;
    let sop =
        tacit_sop::parse_markdown(&text).map_err(|e| anyhow::anyhow!("{}:{e}", file.display()))?;
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let mut sop = sop;
        if let Some(prev) = store.sop_version(&sop.id, None).await? {
            let prev = Sop::from_json(&prev.body)
                .map_err(|e| anyhow::anyhow!("stored SOP is unreadable: {e}"))?;
            if same_content(&sop, &prev) {
                println!("{} is unchanged (version {}).", sop.id, prev.version);
                store.close().await;
                return Ok(ExitCode::SUCCESS);
            }
            sop.revisions = prev.revisions;
        }
        let revision = Revision {
            version: 0,
            date: tacit_draft::date(tacit_core::now_ms()),
            author: tacit_core::current_user(),
            summary: format!(
                "Imported from {}",
                file.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
            runs: Vec::new(),
        };
        let sop = save_version(&store, sop, revision, None).await?;
        println!("Imported {} as version {}.", sop.id, sop.version);
        store.close().await;
        Ok(ExitCode::SUCCESS)
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
