//! Test support: drives the real `tacit` binary in a real PTY, as a person at
//! a terminal would, and builds the deploy-webapp scenario.
//!
//! The driver blocks on a condition variable instead of polling, so several
//! PTY tests can run at once on a small CI machine.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Instant;

#[allow(unused_imports)]
pub use tacit_eval::term::{PROMPT, TIMEOUT, Term, find};

pub fn tacit_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tacit"))
}

/// The shells the end-to-end tests need. Under `CI=true` a missing shell is
/// a failure; elsewhere the test says so and returns.
pub fn require_shell(name: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    if !found {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{name} is not installed, and CI=true: .ci/run must install it");
        }
        eprintln!("SKIPPED: {name} is not installed (install it to run this test)");
    }
    found
}

/// A temporary world: a HOME with rc files that set a known prompt, a
/// library database, and a folder to work in.
pub struct World {
    pub dir: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::Builder::new()
            .prefix("tacit-e2e-")
            .tempdir()
            .unwrap();
        tacit_eval::record::prepare_home(dir.path()).unwrap();
        World { dir }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("lib/tacit.db")
    }

    pub fn journal_dir(&self) -> PathBuf {
        self.dir.path().join("lib/tacit.journal")
    }

    /// Builds the deploy-webapp scenario and returns its folder.
    pub fn scenario(&self) -> PathBuf {
        let target = self.dir.path().join("scenario");
        let setup =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy-webapp/setup.sh");
        let status = std::process::Command::new("bash")
            .arg(&setup)
            .arg(&target)
            .env("HOME", self.home())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "setup.sh failed");
        target
    }

    /// `tacit ARGS` against this world's library, outside any PTY.
    pub fn tacit(&self, args: &[&str]) -> std::process::Output {
        self.command(args).output().unwrap()
    }

    /// The command `tacit ARGS` against this world's library, with no
    /// terminal and no input (set its folder, then run or spawn it).
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(tacit_bin());
        c.args(args)
            .env("TACIT_DB", self.db())
            .env("HOME", self.home())
            .env("TACIT_CONFIG", self.dir.path().join("config.toml"))
            .env("NO_COLOR", "1")
            .env_remove("TACIT_SOCKET")
            .env_remove("TACIT_RUN_ID")
            .stdin(std::process::Stdio::null());
        c
    }

    /// A run as JSON (`tacit runs show ID --json`).
    pub fn run_json(&self, id: &str) -> serde_json::Value {
        let out = self.tacit(&["runs", "show", id, "--json"]);
        assert!(
            out.status.success(),
            "runs show failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Starts `tacit record NAME --shell SHELL` in a PTY, in `cwd`.
    pub fn record(&self, name: &str, shell: &str, cwd: &Path, extra: &[&str]) -> Term {
        let run_id = format!("e2e-{}-{}", shell, uuid_like());
        let mut args = vec!["record", name, "--shell", shell, "--run-id", &run_id];
        args.extend_from_slice(extra);
        let cmd = pty_process::blocking::Command::new(tacit_bin())
            .args(&args)
            .current_dir(cwd)
            .env("HOME", self.home())
            .env("SHELL", shell)
            .env("TERM", "xterm-256color")
            .env("TACIT_DB", self.db())
            .env("TACIT_CONFIG", self.dir.path().join("config.toml"))
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env_remove("TACIT_SOCKET")
            .env_remove("TACIT_RUN_ID")
            .env_remove("ZDOTDIR")
            .env_remove("PROMPT_COMMAND");
        let mut term = Term::spawn(cmd);
        term.run_id = run_id;
        term.expect(PROMPT);
        term
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        Instant::now().elapsed().subsec_nanos()
    )
}

/// The commands of a run (from `runs show --json`), in order.
pub fn commands(run: &serde_json::Value) -> Vec<&serde_json::Value> {
    run["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "command")
        .collect()
}

/// Types SESSION.md's session into a recording started in the scenario
/// folder, answering the migration failure; `extra` commands run after the
/// build (noise, for the drafting tests). Leaves the shell at its prompt.
pub fn play_session(t: &mut Term, extra: &[&str]) {
    t.run("cd app && git pull");
    t.run("./deploy/check-env.sh");
    for e in extra {
        t.run(e);
    }
    t.run("./deploy/build.sh 1.4.2");
    t.line("./deploy/migrate.sh");
    t.expect("What did you do about this, and why?");
    t.expect("what did you do: ");
    t.line(ACTION);
    t.expect("why (the principle): ");
    t.line(REASON);
    t.expect("escalate when (optional): ");
    t.line(ESCALATE);
    t.expect(PROMPT);
    t.run("cat ../state/migrate.lock");
    // `rm` is risky: tacit asks, and this operator lets it pass.
    t.line("ps -p 4242 || rm ../state/migrate.lock");
    t.expect("what did you do: ");
    t.line("");
    t.expect(PROMPT);
    t.run("./deploy/migrate.sh");
    t.run("./deploy/release.sh 1.4.2");
    t.run("./deploy/health.sh 1.4.2");
}

/// Records SESSION.md and drafts the SOP; returns the world.
pub fn drafted() -> World {
    let world = World::new();
    let scenario = world.scenario();
    let mut t = world.record("deploy-web", "bash", &scenario, &[]);
    play_session(&mut t, &[]);
    t.line("exit");
    assert!(t.wait().success());
    let out = world.tacit(&["draft", "deploy-web"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    world
}

/// A fresh copy of the scenario, in its own folder.
pub fn fresh(world: &World, name: &str) -> PathBuf {
    let dir = world.dir.path().join(name);
    let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/deploy-webapp/setup.sh");
    let ok = std::process::Command::new("bash")
        .arg(setup)
        .arg(&dir)
        .env("HOME", world.home())
        .output()
        .unwrap();
    assert!(ok.status.success());
    dir
}

pub fn run_yes(world: &World, cwd: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "deploy-web", "--yes", "--shell", "bash"];
    args.extend_from_slice(extra);
    world.command(&args).current_dir(cwd).output().unwrap()
}

/// Imports `markdown` as the runbook `name` and returns a fresh folder to
/// run it in.
pub fn import_runbook(world: &World, name: &str, markdown: &str) -> PathBuf {
    let md = world.dir.path().join(format!("{name}.md"));
    std::fs::write(&md, markdown).unwrap();
    let out = world.tacit(&["import", md.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let work = world.dir.path().join(format!("work-{name}"));
    std::fs::create_dir_all(&work).unwrap();
    work
}

pub fn guided_runs(world: &World) -> Vec<serde_json::Value> {
    let out = world.tacit(&["runs", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    runs.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["sop_id"] == "deploy-web")
        .cloned()
        .collect()
}

pub fn outcome_of(run: &serde_json::Value) -> String {
    run["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "outcome")
        .map(|e| e["outcome"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// `tacit` in a PTY, in `cwd`, against this world's library (for
/// interactive commands: run, review).
pub fn tacit_in(world: &World, cwd: &Path) -> pty_process::blocking::Command {
    pty_process::blocking::Command::new(tacit_bin())
        .current_dir(cwd)
        .env("TACIT_DB", world.db())
        .env("HOME", world.home())
        .env("TACIT_CONFIG", world.dir.path().join("config.toml"))
        .env("TERM", "xterm-256color")
        .env("NO_COLOR", "1")
        .env_remove("TACIT_SOCKET")
        .env_remove("TACIT_RUN_ID")
}

/// `tacit run deploy-web --param version=1.4.2` in a PTY, in `dir`.
pub fn run_deploy_web(world: &World, dir: &Path) -> Term {
    Term::spawn(tacit_in(world, dir).args([
        "run",
        "deploy-web",
        "--param",
        "version=1.4.2",
        "--shell",
        "bash",
    ]))
}

/// Runs pull, build and migrate (accepting the lock rule) and release, so
/// the next thing the run does is the health check.
pub fn walk_to_the_health_check(t: &mut Term) {
    for _ in 0..3 {
        t.expect("[a]bort > ");
        t.line("r");
    }
    t.expect("apply this rule? [Y/n]");
    t.line("");
    t.expect("[a]bort > ");
    t.line("r");
    // The health check has the same menu as a step.
    t.expect("Success check: ");
    t.expect("[a]bort > ");
    t.line("r");
}

/// After an answered failure, the run offers retry, edit, a shell, skip or
/// abort: abort here (exit 13, resumable).
pub fn abort_after_answer(t: &mut Term) {
    t.expect("[s]kip this step  [a]bort > ");
    t.line("a");
}

/// SESSION.md's answer to the migration failure.
pub const ACTION: &str = "Check whether pid in the lock file is still running; if not, remove the stale lock and rerun the migration.";
pub const REASON: &str = "A lock whose process is gone is left over from a crashed run. Never remove a lock held by a live process: wait, and escalate to the database on-call if it is held for more than 30 minutes.";
pub const ESCALATE: &str =
    "Lock held by a live process for over 30 minutes: call the database on-call.";

/// The health check fails (the app reports an old version) until
/// `state/fixed` exists.
pub fn broken_health(dir: &std::path::Path) {
    let health = dir.join("app/deploy/health.sh");
    let script = std::fs::read_to_string(&health).unwrap();
    std::fs::write(
        &health,
        script.replace(
            "got=$(cat \"$root/current/VERSION\")",
            "if [ -e \"$root/state/fixed\" ]; then got=$(cat \"$root/current/VERSION\"); else got=1.3.9; fi",
        ),
    )
    .unwrap();
}
