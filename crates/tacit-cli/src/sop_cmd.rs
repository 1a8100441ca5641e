//! `tacit draft`, `tacit show`, `tacit export` and `tacit import sop`: SOPs in
//! the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use tacit_core::Paths;
use tacit_draft::RunInput;
use tacit_sop::{Revision, Sop};
use tacit_store::{NewSopVersion, SqliteStore, Store};

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
    pub sop: String,
    #[arg(long, value_enum, default_value_t = ExportFormat::Md)]
    pub format: ExportFormat,
    #[arg(long)]
    pub version: Option<u32>,
    /// Write to this file instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub async fn load_sop(store: &SqliteStore, id: &str, version: Option<u32>) -> Result<Sop> {
    let Some(stored) = store.sop_version(id, version).await? else {
        match version {
            Some(v) => bail!("{id} has no version {v} (see `tacit show {id}` for the latest)"),
            None => bail!(
                "there is no SOP called \"{id}\". Draft one from its runs with `tacit draft {id}`, or list runs with `tacit runs`."
            ),
        }
    };
    Sop::from_json(&stored.body)
        .map_err(|e| anyhow::anyhow!("stored SOP {id} v{} is unreadable: {e}", stored.version))
}

/// The parts of an SOP that a new draft may change; versions and history are
/// bookkeeping.
fn same_content(a: &Sop, b: &Sop) -> bool {
    let strip = |s: &Sop| Sop {
        version: 0,
        revisions: Vec::new(),
        ..s.clone()
    };
    strip(a) == strip(b)
}

/// Stores `sop` as the next version, appending `revision` to its history.
/// `base`: the version the change was made from; a newer one saved in
/// the meantime makes this fail instead of overwriting it.
pub async fn save_version(
    store: &SqliteStore,
    mut sop: Sop,
    mut revision: Revision,
    base: Option<u32>,
) -> Result<Sop> {
    let author = revision.author.clone();
    let summary = revision.summary.clone();
    let title = sop.title.clone();
    let id = sop.id.clone();
    let template = sop.clone();
    let rev_template = revision.clone();
    let body = move |v: u32| {
        let mut s = template.clone();
        let mut r = rev_template.clone();
        s.version = v;
        r.version = v;
        s.revisions.push(r);
        s.to_json()
    };
    let version = store
        .add_sop_version(
            &id,
            &NewSopVersion {
                base,
                title: &title,
                author: &author,
                summary: &summary,
                body: &body,
            },
        )
        .await?;
    sop.version = version;
    revision.version = version;
    sop.revisions.push(revision);
    Ok(sop)
}

pub async fn draft_into_store(
    store: &SqliteStore,
    name: &str,
    run_ids: &[String],
) -> Result<Option<Sop>> {
    let metas = if run_ids.is_empty() {
        store
            .list_runs(Some(name))
            .await?
            .into_iter()
            .filter(|r| r.meta.status != tacit_core::RunStatus::Recording)
            .map(|r| r.meta)
            .collect::<Vec<_>>()
    } else {
        let mut metas = Vec::new();
        for id in run_ids {
            metas.push(store.find_run(id).await?);
        }
        metas
    };
    if metas.is_empty() {
        bail!(
            "no finished runs are recorded as \"{name}\". Record one with `tacit record {name}` (see `tacit runs` for names)."
        );
    }
    let mut inputs = Vec::new();
    for meta in metas {
        let events = store.events(&meta.id).await?;
        inputs.push(RunInput { meta, events });
    }
    let mut sop =
        tacit_draft::draft(&inputs).map_err(|e| anyhow::anyhow!("cannot draft {name}: {e}"))?;
    let mut revision = sop.revisions.pop().unwrap_or_default();
    if let Some(prev) = store.sop_version(&sop.id, None).await? {
        let prev = Sop::from_json(&prev.body)
            .map_err(|e| anyhow::anyhow!("stored SOP is unreadable: {e}"))?;
        // The owner's settings and the history carry over to the new draft.
        sop.owner = prev.owner.clone();
        sop.review_every_days = prev.review_every_days;
        sop.revisions = prev.revisions.clone();
        if same_content(&sop, &prev) {
            return Ok(None);
        }
        revision.summary = format!(
            "Redrafted from {} run{}",
            inputs.len(),
            if inputs.len() == 1 { "" } else { "s" }
        );
    }
    Ok(Some(save_version(store, sop, revision, None).await?))
}

pub fn draft(paths: &Paths, args: DraftArgs) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        let result = draft_into_store(&store, &args.name, &args.runs).await;
        let sop = match result? {
            Some(sop) => sop,
            None => {
                println!("{} is unchanged: the runs say nothing new since the latest version.", args.name);
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
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let sop = load_sop(&store, &args.sop, args.version).await?;
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
