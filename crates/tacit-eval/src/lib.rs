//! The drafting corpus and its scorer.
//!
//! Each scenario under `scenarios/` is a procedure written in the shape real
//! operators work in: a setup script, a scripted session, and an answer key
//! (see `scenarios/README.md`). [`record`] types the session into the real
//! `tacit record` in a PTY and keeps the stored runs as fixtures, so drafting
//! is measured on what the recorder really stores; [`score`] compares the
//! drafted SOP with the key.
//!
//! The scorer is deliberately blind to how drafting works: it reads only the
//! SOP and its Markdown, as a colleague would.

pub mod record;
pub mod score;
pub mod secrets;
pub mod term;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use tacit_core::{Event, RunMeta};
use tacit_draft::RunInput;

/// Where the corpus lives in the source tree.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// One scripted procedure: its runs and what the operator types.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(skip)]
    pub name: String,
    #[serde(skip)]
    pub dir: PathBuf,
    pub description: String,
    pub shape: String,
    #[serde(default)]
    pub needs: Vec<String>,
    pub runs: Vec<RunPlan>,
    pub session: Vec<Item>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunPlan {
    pub shell: String,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

/// One thing the operator does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub cmd: String,
    #[serde(default)]
    pub answer: Option<PlannedAnswer>,
    /// Keystrokes sent after the command starts (for editors and pagers).
    #[serde(default)]
    pub keys: Vec<String>,
    /// Ctrl-C after it starts.
    #[serde(default)]
    pub interrupt: bool,
    /// Only in these runs (1-based).
    #[serde(default)]
    pub only: Vec<usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedAnswer {
    pub action: String,
    pub reason: String,
    #[serde(default)]
    pub escalate: Option<String>,
}

impl Scenario {
    pub fn load(dir: &Path) -> Result<Scenario> {
        let path = dir.join("scenario.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let mut s: Scenario =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        s.name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        s.dir = dir.to_path_buf();
        if s.runs.is_empty() {
            bail!("{}: no [[runs]]", path.display());
        }
        Ok(s)
    }

    pub fn key(&self) -> Result<score::Key> {
        let path = self.dir.join("key.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// The session items of run `n` (1-based), with its variables filled in.
    pub fn items_for(&self, n: usize, vars: &BTreeMap<String, String>) -> Vec<Item> {
        self.session
            .iter()
            .filter(|i| i.only.is_empty() || i.only.contains(&n))
            .map(|i| {
                let mut i = i.clone();
                i.cmd = fill(&i.cmd, vars);
                i.keys = i.keys.iter().map(|k| fill(k, vars)).collect();
                if let Some(a) = &mut i.answer {
                    a.action = fill(&a.action, vars);
                    a.reason = fill(&a.reason, vars);
                    a.escalate = a.escalate.as_ref().map(|e| fill(e, vars));
                }
                i
            })
            .collect()
    }

    /// Every run's variables, as planned.
    pub fn planned_vars(&self) -> Vec<BTreeMap<String, String>> {
        self.runs.iter().map(|r| r.vars.clone()).collect()
    }

    pub fn fixture_path(&self, n: usize) -> PathBuf {
        self.dir.join("runs").join(format!("run-{n}.json"))
    }

    /// The recorded runs kept as fixtures, in order.
    pub fn fixtures(&self) -> Result<Vec<RunInput>> {
        (1..=self.runs.len())
            .map(|n| load_run(&self.fixture_path(n)))
            .collect()
    }
}

/// `@name@` → the run's value.
pub fn fill(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("@{k}@"), v);
    }
    out
}

/// A run as `tacit runs export --format json` writes it.
pub fn load_run(path: &Path) -> Result<RunInput> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading {} (record it with `cargo run -p tacit-eval -- record`)",
            path.display()
        )
    })?;
    parse_run(&text).with_context(|| format!("parsing {}", path.display()))
}

pub fn parse_run(text: &str) -> Result<RunInput> {
    let doc: serde_json::Value = serde_json::from_str(text)?;
    Ok(RunInput {
        meta: serde_json::from_value::<RunMeta>(doc["run"].clone())?,
        events: serde_json::from_value::<Vec<Event>>(doc["events"].clone())?,
    })
}

/// Every scenario in the corpus, by name.
pub fn scenarios() -> Result<Vec<Scenario>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(corpus_dir())? {
        let path = entry?.path();
        if path.join("scenario.toml").is_file() {
            out.push(Scenario::load(&path)?);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Drafts a scenario's fixtures and scores the SOP against its key.
pub fn evaluate(s: &Scenario) -> Result<score::Report> {
    let runs = s.fixtures()?;
    let key = s.key()?;
    let sop = tacit_draft::draft(&runs).map_err(|e| anyhow::anyhow!("{}: {e}", s.name))?;
    Ok(score::score(&sop, &key, &s.planned_vars()))
}
