//! `tacit demo`: the whole loop on the bundled deploy-webapp scenario, in
//! four paced sections:
//! 1. an operator records the deploy in a real `tacit record` session (a
//!    PTY, their keystrokes and answers scripted from SESSION.md), and tacit
//!    asks about the failed migration;
//! 2. the SOP drafted from that run;
//! 3. a teammate runs the SOP on a fresh copy of the scenario: the same
//!    failure meets the rule the first operator's answer became, and the fix
//!    is applied;
//! 4. `tacit status`.
//!
//! Nothing is faked: the same binary, shell integration, journal and store a
//! user gets. It needs no network and asks nothing. `--fast` drops the
//! pacing (for tests).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use tacit_core::Paths;
use tacit_store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::render::{self, Style};

/// The scenario ships inside the binary, so the demo works from any folder.
const SETUP_SH: &str = include_str!("../../../examples/deploy-webapp/setup.sh");

const PROMPT: &str = "demo$ ";

/// The operator's answer to the migration failure, from SESSION.md.
pub const ANSWER_ACTION: &str = "Check whether pid in the lock file is still running; if not, remove the stale lock and rerun the migration.";
pub const ANSWER_REASON: &str = "A lock whose process is gone is left over from a crashed run. Never remove a lock held by a live process: wait, and escalate to the database on-call if it is held for more than 30 minutes.";
pub const ANSWER_ESCALATE: &str =
    "The lock is held by a live process for more than 30 minutes: call the database on-call.";

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep the scenario folder instead of deleting it.
    #[arg(long)]
    keep: bool,
    /// The shell to record the demo in.
    #[arg(long, default_value = "bash", value_parser = ["bash", "zsh", "fish"])]
    shell: String,
    /// Don't echo the live session, only the result.
    #[arg(long)]
    quiet: bool,
    /// No pauses and no typing at human speed (for tests and scripts).
    #[arg(long)]
    fast: bool,
}

/// The demo's pace: a pause to read, and typing a human can follow.
#[derive(Clone, Copy)]
struct Pace {
    fast: bool,
}

impl Pace {
    async fn pause(self, ms: u64) {
        if !self.fast {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }

    fn pause_blocking(self, ms: u64) {
        if !self.fast {
            std::thread::sleep(Duration::from_millis(ms));
        }
    }
}

fn section(style: &Style, pace: Pace, n: usize, title: &str, what: &str) {
    pace.pause_blocking(900);
    println!("\n{}", style.bold(&format!("── {n}/4  {title} ──")));
    println!("{}\n", style.dim(what));
    pace.pause_blocking(1200);
}

/// One scripted operator action.
enum Act {
    /// Type a command and wait for the next prompt.
    Run(&'static str),
    /// Type a command that fails, then answer tacit's question.
    RunAndAnswer(&'static str),
    /// Type a risky command and let tacit's question pass (Enter).
    RunAndSkip(&'static str),
}

const SCRIPT: &[Act] = &[
    Act::Run("cd app && git pull"),
    Act::Run("./deploy/check-env.sh"),
    Act::Run("tacit prereq"),
    Act::Run("./deploy/build.sh 1.4.2"),
    Act::RunAndAnswer("./deploy/migrate.sh"),
    Act::Run("cat ../state/migrate.lock"),
    Act::RunAndSkip("ps -p 4242 || rm ../state/migrate.lock"),
    Act::Run("./deploy/migrate.sh"),
    Act::Run("./deploy/release.sh 1.4.2"),
    Act::Run("./deploy/health.sh 1.4.2"),
    Act::Run("tacit check"),
];

pub fn run(paths: &Paths, args: DemoArgs) -> Result<ExitCode> {
    let work = tempfile::Builder::new()
        .prefix("tacit-demo-")
        .tempdir()
        .context("cannot create a temporary folder for the demo")?;
    let root = work.path().to_path_buf();
    let scenario = root.join("scenario");
    let home = root.join("home");
    std::fs::create_dir_all(&home)?;
    // A known prompt, so the script knows when the shell is ready.
    std::fs::write(home.join(".bashrc"), format!("PS1='{PROMPT}'\n"))?;
    std::fs::write(home.join(".zshrc"), format!("PROMPT='{PROMPT}'\n"))?;
    let fish_conf = home.join(".config/fish");
    std::fs::create_dir_all(&fish_conf)?;
    std::fs::write(
        fish_conf.join("config.fish"),
        format!("set -g fish_greeting\nfunction fish_prompt; printf '%s' '{PROMPT}'; end\n"),
    )?;

    let setup = root.join("setup.sh");
    std::fs::write(&setup, SETUP_SH)?;
    build_scenario(&setup, &scenario, &home)?;

    let run_id = uuid::Uuid::now_v7().to_string();
    let style = Style::stdout();
    let pace = Pace { fast: args.fast };
    println!(
        "{} the whole loop on a small web-app deploy, in {} ({})",
        style.bold("tacit demo:"),
        args.shell,
        scenario.display()
    );
    section(
        &style,
        pace,
        1,
        "Ana records the deploy",
        "She works in her own shell; tacit keeps every command, output and exit code. The migration fails on a stale lock, and tacit asks her what she did and why.",
    );
    let exe = std::env::current_exe().context("cannot find the tacit binary")?;
    let rt = crate::runtime()?;
    rt.block_on(drive(&exe, paths, &scenario, &home, &args, &run_id, pace))?;

    let (meta, events, sop) = rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        let meta = store.find_run(&run_id).await?;
        let events = store.events(&run_id).await?;
        // Draft from this run alone: the library may hold other deploy-web runs.
        let opts = tacit_library::DraftOptions {
            runs: vec![run_id.clone()],
            author: tacit_core::current_user(),
            date: tacit_draft::date(tacit_core::now_ms()),
            ..Default::default()
        };
        let sop = match tacit_library::draft_into_store(&store, "deploy-web", &opts).await? {
            tacit_library::Drafted::Saved(sop) => *sop,
            _ => tacit_library::load_sop(&store, "deploy-web", None).await?,
        };
        store.close().await;
        anyhow::Ok((meta, events, sop))
    })?;
    println!("\n{}\n", style.bold("── the recorded run ──"));
    print!("{}", render::timeline(&meta, &events, &style, 4));
    section(
        &style,
        pace,
        2,
        "The SOP drafted from that one run",
        "Steps, the prerequisite, the success check, and her answer as a decision rule: when the lock is held, then what she did, because of her reason.",
    );
    print!("{}", crate::sop_view::render(&sop, &style, false));

    section(
        &style,
        pace,
        3,
        "Ben runs it on a fresh copy",
        "He has never deployed this app. tacit leads him step by step; the migration fails the same way, and the rule from Ana's answer is applied.",
    );
    let fresh = root.join("fresh");
    build_scenario(&setup, &fresh, &home)?;
    let guided = std::process::Command::new(&exe)
        .args([
            "run",
            "deploy-web",
            "--yes",
            "--param",
            "version=1.4.2",
            "--shell",
            &args.shell,
        ])
        .arg("--db")
        .arg(&paths.db)
        .current_dir(&fresh)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("TACIT_CONFIG", home.join("no-config.toml"))
        .env_remove("TACIT_SOCKET")
        .env_remove("TACIT_RUN_ID")
        .env_remove("ZDOTDIR")
        .stdin(std::process::Stdio::null())
        .status()
        .context("cannot start `tacit run`")?;
    if !guided.success() {
        bail!("the guided run in the demo did not succeed ({guided})");
    }

    section(
        &style,
        pace,
        4,
        "The library",
        "Who owns each SOP, when it is due for review, how its runs went.",
    );
    let status = std::process::Command::new(&exe)
        .arg("status")
        .arg("--db")
        .arg(&paths.db)
        .env("HOME", &home)
        .env("TACIT_CONFIG", home.join("no-config.toml"))
        .env_remove("TACIT_SOCKET")
        .status()
        .context("cannot start `tacit status`")?;
    if !status.success() {
        bail!("`tacit status` failed in the demo ({status})");
    }
    println!(
        "\nStored in {}. Next: `tacit show deploy-web --sources`, `tacit export deploy-web --format md`, `tacit runs show {}`.",
        paths.db.display(),
        tacit_capture::session::short_id(&run_id)
    );
    if args.keep {
        let kept = work.keep();
        println!("Scenario kept in {}", kept.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// A tiny expect: reads the PTY until a string shows up.
struct Driver {
    pty_read: pty_process::OwnedReadPty,
    pty_write: pty_process::OwnedWritePty,
    seen: Vec<u8>,
    echo: bool,
    pace: Pace,
}

impl Driver {
    async fn expect(&mut self, needle: &str) -> Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut buf = [0u8; 8192];
        loop {
            if let Some(pos) = memfind(&self.seen, needle.as_bytes()) {
                self.seen.drain(..pos + needle.len());
                return Ok(());
            }
            let n = tokio::time::timeout_at(deadline, self.pty_read.read(&mut buf))
                .await
                .with_context(|| format!("the demo waited 60s for {needle:?}"))?
                .unwrap_or(0);
            if n == 0 {
                bail!("the recording ended before {needle:?} appeared");
            }
            if self.echo {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(&buf[..n]);
                let _ = out.flush();
            }
            self.seen.extend_from_slice(&buf[..n]);
        }
    }

    async fn type_line(&mut self, line: &str) -> Result<()> {
        if self.pace.fast {
            self.pty_write.write_all(line.as_bytes()).await?;
        } else {
            // At a pace a viewer can follow.
            for c in line.chars() {
                let mut b = [0u8; 4];
                self.pty_write
                    .write_all(c.encode_utf8(&mut b).as_bytes())
                    .await?;
                tokio::time::sleep(Duration::from_millis(18)).await;
            }
        }
        self.pty_write.write_all(b"\r").await?;
        Ok(())
    }

    async fn drain(&mut self) {
        let mut buf = [0u8; 8192];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_secs(10), self.pty_read.read(&mut buf)).await
        {
            if n == 0 {
                break;
            }
            if self.echo {
                let _ = std::io::stdout().write_all(&buf[..n]);
            }
        }
    }
}

fn build_scenario(setup: &Path, target: &Path, home: &Path) -> Result<()> {
    let status = std::process::Command::new("bash")
        .arg(setup)
        .arg(target)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot run bash to build the scenario")?;
    if !status.success() {
        bail!(
            "building the deploy-webapp scenario failed ({status}); it needs git, python3 and tar"
        );
    }
    Ok(())
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn drive(
    exe: &Path,
    paths: &Paths,
    scenario: &Path,
    home: &Path,
    args: &DemoArgs,
    run_id: &str,
    pace: Pace,
) -> Result<()> {
    let (pty, pts) = pty_process::open()?;
    pty.resize(pty_process::Size::new(30, 110))?;
    let mut child = pty_process::Command::new(exe)
        .args([
            "record",
            "deploy-web",
            "--shell",
            &args.shell,
            "--run-id",
            run_id,
        ])
        .arg("--db")
        .arg(&paths.db)
        .current_dir(scenario)
        .env("HOME", home)
        .env("SHELL", &args.shell)
        .env("TERM", "xterm-256color")
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("TACIT_CONFIG", home.join("no-config.toml"))
        .env_remove("TACIT_SOCKET")
        .env_remove("TACIT_RUN_ID")
        .env_remove("ZDOTDIR")
        .spawn(pts)
        .context("cannot start `tacit record`")?;
    let (pty_read, pty_write) = pty.into_split();
    let mut d = Driver {
        pty_read,
        pty_write,
        seen: Vec::new(),
        echo: !args.quiet,
        pace,
    };
    d.expect(PROMPT).await?;
    for act in SCRIPT {
        pace.pause(500).await;
        match act {
            Act::Run(cmd) => {
                d.type_line(cmd).await?;
                d.expect(cmd).await?;
                d.expect(PROMPT).await?;
            }
            Act::RunAndSkip(cmd) => {
                d.type_line(cmd).await?;
                d.expect(tacit_capture::ask::FIELDS[0]).await?;
                d.type_line("").await?;
                d.expect(PROMPT).await?;
            }
            Act::RunAndAnswer(cmd) => {
                d.type_line(cmd).await?;
                d.expect("What did you do about this").await?;
                d.expect(tacit_capture::ask::FIELDS[0]).await?;
                d.type_line(ANSWER_ACTION).await?;
                d.expect(tacit_capture::ask::FIELDS[1]).await?;
                d.type_line(ANSWER_REASON).await?;
                d.expect(tacit_capture::ask::FIELDS[2]).await?;
                d.type_line(ANSWER_ESCALATE).await?;
                d.expect(PROMPT).await?;
            }
        }
    }
    d.type_line("exit").await?;
    d.drain().await;
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .context("`tacit record` did not end after `exit`")??;
    if !status.success() {
        bail!("`tacit record` failed in the demo ({status})");
    }
    Ok(())
}
