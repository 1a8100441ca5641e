//! `tacit mcp`: the Model Context Protocol server over stdio, on the local
//! library. Everything MCP is in the `tacit-mcp` crate; this edge only
//! reads the configuration and opens the library.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tacit_capture::integration::{ShellKind, find_program};
use tacit_core::Paths;

#[derive(Args, Debug)]
pub struct McpArgs {
    /// Offer the tools that start runs, run commands and change the
    /// library (start_run, run_step, record_step, ask_human,
    /// record_decision, finish_run, propose_change). Without it an agent
    /// can only read.
    #[arg(long)]
    pub allow_write: bool,
    /// The shell runs are driven in (default: $SHELL).
    #[arg(long)]
    pub shell: Option<String>,
    /// Seconds a command may run before it is stopped.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
}

pub fn mcp(paths: &Paths, args: McpArgs) -> Result<ExitCode> {
    let config = crate::record::load_config(paths)?;
    let redactor = crate::record::redactor(&config)?;
    let shell_name = args
        .shell
        .clone()
        .unwrap_or_else(|| std::env::var("SHELL").unwrap_or_else(|_| "bash".into()));
    let shell = ShellKind::from_program(&shell_name).unwrap_or(ShellKind::Bash);
    let shell_program = find_program(&shell_name)
        .or_else(|| find_program(shell.name()))
        .with_context(|| format!("{} is not installed", shell.name()))?;
    let opts = tacit_mcp::Options {
        allow_write: args.allow_write,
        redactor,
        runs: Some(tacit_mcp::RunOptions {
            journal_dir: paths.journal_dir(),
            runtime_dir: Paths::runtime_dir(),
            tacit_exe: std::env::current_exe().unwrap_or_else(|_| "tacit".into()),
            shell,
            shell_program,
            max_output_bytes: config.capture.max_output_bytes,
            command_timeout: Duration::from_secs(args.timeout.max(1)),
            start_dir: std::env::current_dir()?,
        }),
    };
    // stdout is the protocol's: nothing else may print there.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        tacit_mcp::serve_stdio(store, opts)
            .await
            .map_err(anyhow::Error::msg)
    })?;
    Ok(ExitCode::SUCCESS)
}
