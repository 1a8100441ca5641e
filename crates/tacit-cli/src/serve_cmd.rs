//! `tacit serve`: the team server, on the local SQLite library or on
//! PostgreSQL.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use tacit_core::Paths;
use tacit_library::accounts::{self, Bootstrap};
use tacit_server::ServerStore;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
    /// `postgres://…` for a shared library; without it, the local SQLite
    /// library (`--db`).
    #[arg(long, env = "TACIT_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// The first admin's account name, used only while there is no account.
    #[arg(long, env = "TACIT_ADMIN_USER", default_value = "admin")]
    pub admin: String,
}

pub fn serve(paths: &Paths, args: ServeArgs) -> Result<ExitCode> {
    // What the server receives is redacted again, with the configuration's
    // own rules too.
    let config = crate::record::load_config(paths)?;
    let redactor = crate::record::redactor(&config)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        match args.database_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let store = tacit_store::PgStore::open(url)
                    .await
                    .with_context(|| format!("cannot open the library at {}", redact_url(url)))?;
                run(store, &args, &redact_url(url), redactor).await
            }
            Some(other) => Err(crate::UsageError(format!(
                "--database-url must be postgres://…, not {}; without it the server uses the local SQLite library",
                redact_url(other)
            ))
            .into()),
            None => {
                let store = crate::runs::open_synced(paths).await?;
                run(store, &args, &paths.db.display().to_string(), redactor).await
            }
        }
    })
}

/// The URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn run<S: ServerStore>(
    store: S,
    args: &ServeArgs,
    what: &str,
    redactor: tacit_redact::Redactor,
) -> Result<ExitCode> {
    let token = std::env::var("TACIT_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    let password = std::env::var("TACIT_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    match accounts::bootstrap_admin(&store, &args.admin, token.as_deref(), password.as_deref())
        .await
        .context("cannot create the first admin")?
    {
        Bootstrap::AlreadySetUp => {}
        Bootstrap::Created { user, secret: None } => {
            eprintln!("tacit serve: created the first admin \"{user}\" with TACIT_ADMIN_TOKEN");
        }
        Bootstrap::Created {
            user,
            secret: Some(secret),
        } => {
            eprintln!(
                "tacit serve: created the first admin \"{user}\". Its API token, shown only now:\n\n    {secret}\n\nUse it with `Authorization: Bearer …`. (Set TACIT_ADMIN_TOKEN to choose it yourself.)"
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!(
        "tacit serve: http://{} on {what} (Ctrl-C stops)",
        listener.local_addr()?
    );
    tacit_server::serve_with(store, redactor, listener, shutdown_signal())
        .await
        .context("the server stopped")?;
    eprintln!("tacit serve: stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = ctrl_c => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            super::redact_url("postgres://app:s3cret@db:5432/tacit"),
            "postgres://app:***@db:5432/tacit"
        );
        assert_eq!(
            super::redact_url("postgres://app@db/tacit"),
            "postgres://app@db/tacit"
        );
    }
}
