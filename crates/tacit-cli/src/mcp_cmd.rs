//! `tacit mcp`: the Model Context Protocol server over stdio, on the local
//! library. Everything MCP is in the `tacit-mcp` crate; this edge only
//! reads the configuration and opens the library.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
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
    let (shell, shell_program) = crate::run_cmd::driven_shell(args.shell.as_deref())?;
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
