//! `tacit demo`: builds the bundled deploy-webapp scenario in a temporary
//! folder and drives a real `tacit record` session through a PTY, with the
//! operator's keystrokes and answers scripted from the scenario's SESSION.md.
//! Nothing is faked: the same binary, shell integration, journal and store a
//! user gets. It needs no network and asks nothing. It ends by drafting the
//! SOP of the recorded run and printing it.

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
    let status = std::process::Command::new("bash")
        .arg(&setup)
        .arg(&scenario)
        .env("HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot run bash to build the scenario")?;
    if !status.success() {
        bail!(
            "building the deploy-webapp scenario failed ({status}); it needs git, python3 and tar"
        );
    }

    let run_id = uuid::Uuid::now_v7().to_string();
    let style = Style::stdout();
    println!(
        "{} recording the deploy-webapp scenario in {} ({})\n",
        style.bold("tacit demo:"),
        args.shell,
        scenario.display()
    );
    let exe = std::env::current_exe().context("cannot find the tacit binary")?;
    let rt = crate::runtime()?;
    rt.block_on(drive(&exe, paths, &scenario, &home, &args, &run_id))?;

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
    println!("\n{}\n", style.bold("── the SOP drafted from it ──"));
    print!("{}", crate::sop_view::render(&sop, &style, false));
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
        self.pty_write.write_all(line.as_bytes()).await?;
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
    };
    d.expect(PROMPT).await?;
    for act in SCRIPT {
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
