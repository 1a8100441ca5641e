//! Types a scenario's session into the real `tacit record`, in a real PTY,
//! in the scenario's shells, and exports the stored runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::term::{PROMPT, TIMEOUT, Term};
use crate::{Item, Scenario};

/// The question tacit asks, and the labels of its three fields.
const QUESTION: &str = "What did you do about this, and why?";
const ACTION: &str = "what did you do: ";
const REASON: &str = "why (the principle): ";
const ESCALATE: &str = "escalate when (optional): ";

/// A HOME whose rc files set the prompt the driver waits for, in bash, zsh
/// and fish alike. Returns the HOME folder.
pub fn prepare_home(root: &Path) -> std::io::Result<PathBuf> {
    let home = root.join("home");
    std::fs::create_dir_all(home.join(".config/fish"))?;
    std::fs::write(
        home.join(".bashrc"),
        format!("PS1='{PROMPT}'\nexport TACIT_E2E_RC=bash\n"),
    )?;
    std::fs::write(
        home.join(".zshrc"),
        format!("PROMPT='{PROMPT}'\nexport TACIT_E2E_RC=zsh\n"),
    )?;
    std::fs::write(
        home.join(".config/fish/config.fish"),
        format!(
            "set -g fish_greeting\nfunction fish_prompt; printf '%s' '{PROMPT}'; end\nset -gx TACIT_E2E_RC fish\n"
        ),
    )?;
    Ok(home)
}

/// A place to record into: a HOME, a library and folders for the runs.
pub struct Bench {
    pub root: PathBuf,
    pub home: PathBuf,
    pub tacit: PathBuf,
}

impl Bench {
    pub fn new(root: &Path, tacit: &Path) -> Result<Bench> {
        let home = prepare_home(root)?;
        Ok(Bench {
            root: root.to_path_buf(),
            home,
            tacit: tacit.to_path_buf(),
        })
    }

    pub fn db(&self) -> PathBuf {
        self.root.join("lib/tacit.db")
    }

    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// `tacit ARGS` against this library, outside any PTY.
    pub fn tacit(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new(&self.tacit)
            .args(args)
            .env("TACIT_DB", self.db())
            .env("HOME", &self.home)
            .env("TACIT_CONFIG", self.config())
            .env("NO_COLOR", "1")
            .env_remove("TACIT_SOCKET")
            .env_remove("TACIT_RUN_ID")
            .output()
            .expect("tacit runs")
    }
}

/// What recording a scenario produced.
pub struct Recorded {
    pub run_ids: Vec<String>,
    /// Each run's variables, as used.
    pub vars: Vec<BTreeMap<String, String>>,
}

/// Options for one recording of a scenario.
#[derive(Default, Clone)]
pub struct Options {
    /// Every run in this shell instead of the planned one.
    pub shell: Option<String>,
    /// Each run's variables instead of the planned ones (for isolation, e.g.
    /// a database name unique to this test run).
    pub vars: Option<Vec<BTreeMap<String, String>>>,
}

/// Records every run of `s` into `bench`'s library.
pub fn record(bench: &Bench, s: &Scenario, opts: &Options) -> Result<Recorded> {
    let vars = opts.vars.clone().unwrap_or_else(|| s.planned_vars());
    let mut run_ids = Vec::new();
    for (i, plan) in s.runs.iter().enumerate() {
        let n = i + 1;
        let shell = opts.shell.clone().unwrap_or_else(|| plan.shell.clone());
        let v = &vars[i];
        let dir = bench.root.join(format!("{}-run-{n}", s.name));
        setup(bench, s, &dir, v)?;
        let id = format!("eval-{}-{n}-{}", s.name, std::process::id());
        record_one(bench, s, n, &shell, &dir, v, &id)
            .with_context(|| format!("{} run {n} in {shell}", s.name))?;
        run_ids.push(id);
    }
    Ok(Recorded { run_ids, vars })
}

fn setup(bench: &Bench, s: &Scenario, dir: &Path, vars: &BTreeMap<String, String>) -> Result<()> {
    let out = std::process::Command::new("bash")
        .arg(s.dir.join("setup.sh"))
        .arg(dir)
        .envs(vars)
        .env("HOME", &bench.home)
        .output()
        .context("running setup.sh")?;
    if !out.status.success() {
        bail!(
            "{}/setup.sh failed: {}{}",
            s.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn record_one(
    bench: &Bench,
    s: &Scenario,
    n: usize,
    shell: &str,
    dir: &Path,
    vars: &BTreeMap<String, String>,
    run_id: &str,
) -> Result<()> {
    let path = std::env::var("PATH").unwrap_or_default();
    let bin = dir.join("bin");
    let path = if bin.is_dir() {
        format!("{}:{path}", bin.display())
    } else {
        path
    };
    let cmd = pty_process::blocking::Command::new(&bench.tacit)
        .args(["record", &s.name, "--shell", shell, "--run-id", run_id])
        .current_dir(dir)
        .env("PATH", path)
        .env("HOME", &bench.home)
        .env("SHELL", shell)
        .env("TERM", "xterm-256color")
        .env("TACIT_DB", bench.db())
        .env("TACIT_CONFIG", bench.config())
        .env("XDG_CONFIG_HOME", bench.home.join(".config"))
        .env("XDG_DATA_HOME", bench.home.join(".local/share"))
        .env_remove("TACIT_SOCKET")
        .env_remove("TACIT_RUN_ID")
        .env_remove("ZDOTDIR")
        .env_remove("PROMPT_COMMAND");
    let mut t = Term::spawn(cmd);
    t.try_expect_any(&[PROMPT], TIMEOUT)
        .map_err(anyhow::Error::msg)?;
    for item in s.items_for(n, vars) {
        play(&mut t, &item).with_context(|| format!("at `{}`", item.cmd))?;
    }
    t.line("exit");
    let status = t.wait();
    if !status.success() {
        bail!("tacit record exited with {status}");
    }
    Ok(())
}

fn key_bytes(k: &str) -> String {
    match k {
        "<esc>" => "\x1b".into(),
        "<enter>" => "\r".into(),
        "<ctrl-c>" => "\x03".into(),
        "<ctrl-d>" => "\x04".into(),
        "<tab>" => "\t".into(),
        other => other.into(),
    }
}

/// One session item: type it, press keys, answer or skip the question.
fn play(t: &mut Term, item: &Item) -> Result<()> {
    let err = anyhow::Error::msg;
    t.line(&item.cmd);
    if !item.keys.is_empty() {
        // A full-screen program announces itself by switching screens; only
        // then are keys its own.
        let _ = t.try_expect_any(&["\x1b[?1049h", "\x1b[?47h"], Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(300));
        for k in &item.keys {
            t.send(&key_bytes(k));
            std::thread::sleep(Duration::from_millis(120));
        }
    }
    if item.interrupt {
        std::thread::sleep(Duration::from_millis(800));
        t.send("\x03");
    }
    match t
        .try_expect_any(&[QUESTION, PROMPT], TIMEOUT)
        .map_err(err)?
    {
        0 => {
            t.try_expect_any(&[ACTION], TIMEOUT).map_err(err)?;
            match &item.answer {
                Some(a) => {
                    t.line(&a.action);
                    t.try_expect_any(&[REASON], TIMEOUT).map_err(err)?;
                    t.line(&a.reason);
                    t.try_expect_any(&[ESCALATE], TIMEOUT).map_err(err)?;
                    t.line(a.escalate.as_deref().unwrap_or(""));
                }
                None => t.line(""),
            }
            t.try_expect_any(&[PROMPT], TIMEOUT).map_err(err)?;
        }
        _ if item.answer.is_some() => {
            bail!("the session plans an answer, but tacit did not ask")
        }
        _ => {}
    }
    Ok(())
}

/// Writes each recorded run as `tacit runs export --format json` gives it.
pub fn export(bench: &Bench, rec: &Recorded, into: &[PathBuf]) -> Result<()> {
    for (id, path) in rec.run_ids.iter().zip(into) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let out = bench.tacit(&[
            "runs",
            "export",
            id,
            "--format",
            "json",
            "-o",
            &path.display().to_string(),
        ]);
        if !out.status.success() {
            bail!(
                "export of {id} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Ok(())
}
