//! Test support: drives the real `tacit` binary in a real PTY, as a person at
//! a terminal would, and builds the deploy-webapp scenario.
//!
//! The driver blocks on a condition variable instead of polling, so several
//! PTY tests can run at once on a small CI machine.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub const PROMPT: &str = "tacit-e2e$ ";
pub const TIMEOUT: Duration = Duration::from_secs(30);

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
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".config/fish")).unwrap();
        std::fs::write(
            home.join(".bashrc"),
            format!("PS1='{PROMPT}'\nexport TACIT_E2E_RC=bash\n"),
        )
        .unwrap();
        std::fs::write(
            home.join(".zshrc"),
            format!("PROMPT='{PROMPT}'\nexport TACIT_E2E_RC=zsh\n"),
        )
        .unwrap();
        std::fs::write(
            home.join(".config/fish/config.fish"),
            format!(
                "set -g fish_greeting\nfunction fish_prompt; printf '%s' '{PROMPT}'; end\nset -gx TACIT_E2E_RC fish\n"
            ),
        )
        .unwrap();
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
        std::process::Command::new(tacit_bin())
            .args(args)
            .env("TACIT_DB", self.db())
            .env("HOME", self.home())
            .env("TACIT_CONFIG", self.dir.path().join("config.toml"))
            .env("NO_COLOR", "1")
            .env_remove("TACIT_SOCKET")
            .env_remove("TACIT_RUN_ID")
            .output()
            .unwrap()
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

struct Shared {
    bytes: Mutex<(Vec<u8>, bool)>,
    grew: Condvar,
}

/// A program running in a PTY, seen as a person would see it.
pub struct Term {
    pty: Arc<pty_process::blocking::Pty>,
    pub child: std::process::Child,
    shared: Arc<Shared>,
    /// Everything before this offset has been matched already.
    pos: usize,
    pub run_id: String,
}

impl Term {
    pub fn spawn(cmd: pty_process::blocking::Command) -> Term {
        let (pty, pts) = pty_process::blocking::open().unwrap();
        pty.resize(pty_process::Size::new(30, 120)).unwrap();
        let child = cmd.spawn(pts).unwrap();
        let pty = Arc::new(pty);
        let shared = Arc::new(Shared {
            bytes: Mutex::new((Vec::new(), false)),
            grew: Condvar::new(),
        });
        let (reader, sink) = (pty.clone(), shared.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            loop {
                match (&*reader).read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut g = sink.bytes.lock().unwrap_or_else(|p| p.into_inner());
                        g.0.extend_from_slice(&buf[..n]);
                        sink.grew.notify_all();
                    }
                }
            }
            sink.bytes.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
            sink.grew.notify_all();
        });
        Term {
            pty,
            child,
            shared,
            pos: 0,
            run_id: String::new(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits until `needle` appears after what was matched before.
    pub fn expect(&mut self, needle: &str) {
        self.expect_within(needle, TIMEOUT)
    }

    pub fn expect_within(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut g = self.shared.bytes.lock().unwrap();
        // Only new bytes are searched on each wake-up, so a program printing
        // megabytes costs linear time, not quadratic.
        let mut from = self.pos;
        loop {
            if let Some(at) = find(&g.0[from..], needle.as_bytes()) {
                self.pos = from + at + needle.len();
                return;
            }
            from = g.0.len().saturating_sub(needle.len() - 1).max(self.pos);
            let now = Instant::now();
            if g.1 || now >= deadline {
                let tail_start = g.0.len().saturating_sub(2000);
                panic!(
                    "expected {needle:?} ({}); the terminal's last output was:\n{}",
                    if g.1 {
                        "the program ended"
                    } else {
                        "timed out"
                    },
                    String::from_utf8_lossy(&g.0[tail_start..])
                );
            }
            g = self.shared.grew.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    pub fn send(&mut self, bytes: &str) {
        (&*self.pty).write_all(bytes.as_bytes()).unwrap();
    }

    /// Types a line and presses Enter.
    pub fn line(&mut self, text: &str) {
        self.send(text);
        self.send("\r");
    }

    /// Types a command and waits for the next prompt. The echo is not
    /// matched: fish highlights as you type, splitting it with escapes.
    pub fn run(&mut self, command: &str) {
        self.line(command);
        self.expect(PROMPT);
    }

    /// Resizes the terminal, as dragging the window would.
    pub fn resize(&self, rows: u16, cols: u16) {
        self.pty.resize(pty_process::Size::new(rows, cols)).unwrap();
    }

    /// Whether the terminal is in canonical (cooked) mode with echo on, as a
    /// shell leaves it between commands. Raw mode turns both off.
    pub fn is_cooked(&self) -> bool {
        let t = rustix::termios::tcgetattr(&*self.pty).unwrap();
        t.local_modes.contains(rustix::termios::LocalModes::ICANON)
            && t.local_modes.contains(rustix::termios::LocalModes::ECHO)
    }

    /// Everything the program printed so far.
    pub fn all_output(&self) -> Vec<u8> {
        self.shared.bytes.lock().unwrap().0.clone()
    }

    /// The screen a person would be looking at now.
    pub fn screen(&self) -> String {
        let mut p = vt100::Parser::new(
            std::num::NonZeroU16::new(30).unwrap(),
            std::num::NonZeroU16::new(120).unwrap(),
            0,
        );
        p.process(&self.all_output());
        p.screen().contents()
    }

    /// Waits for the program to end.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "tacit did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
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
    t.run("ps -p 4242 || rm ../state/migrate.lock");
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
    std::process::Command::new(tacit_bin())
        .args(&args)
        .current_dir(cwd)
        .env("TACIT_DB", world.db())
        .env("HOME", world.home())
        .env("TACIT_CONFIG", world.dir.path().join("config.toml"))
        .env("NO_COLOR", "1")
        .env_remove("TACIT_SOCKET")
        .env_remove("TACIT_RUN_ID")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
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
}

/// SESSION.md's answer to the migration failure.
pub const ACTION: &str = "Check whether pid in the lock file is still running; if not, remove the stale lock and rerun the migration.";
pub const REASON: &str = "A lock whose process is gone is left over from a crashed run. Never remove a lock held by a live process: wait, and escalate to the database on-call if it is held for more than 30 minutes.";
pub const ESCALATE: &str =
    "Lock held by a live process for over 30 minutes: call the database on-call.";
