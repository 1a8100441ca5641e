//! The team server: the library over HTTP.
//!
//! One [`router`] serves the JSON API on any [`ServerStore`] (SQLite or
//! PostgreSQL). It keeps no state of its own beyond the database, so
//! several instances can stand behind one load balancer: every request is
//! authenticated from its token, and every write is checked against the
//! database (a version saved from a stale base is refused, not merged).
//!
//! Layout: [`api`] holds the JSON handlers (each a thin call into
//! `tacit-library`), [`web`] the pages, [`auth`] who is asking, [`error`]
//! how failures answer.

pub mod api;
pub mod auth;
pub mod error;
pub mod mcp;
pub mod web;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tacit_store::{Accounts, JournalBookkeeping, Store};

pub use error::ApiError;

/// A store the server can run on.
pub trait ServerStore:
    Store + Accounts + JournalBookkeeping + Clone + Send + Sync + 'static
{
}
impl<T: Store + Accounts + JournalBookkeeping + Clone + Send + Sync + 'static> ServerStore for T {}

/// What every request sees.
pub struct App<S> {
    pub store: S,
    /// What the server redacts again in everything it receives.
    pub redactor: tacit_redact::Redactor,
    /// Rendered SOP versions (immutable, so safe to keep).
    pub pages: web::PageCache,
}

/// The largest request body accepted (a pushed run with its events fits
/// many times over; anything bigger is refused with 413 before parsing).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// The OpenAPI document the API is tested against.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The whole server, redacting with the built-in rules.
pub fn router<S: ServerStore>(store: S) -> Router {
    router_with(store, tacit_redact::Redactor::builtin())
}

/// The whole server, redacting what it receives with `redactor` (the
/// built-in rules and the configuration's own).
pub fn router_with<S: ServerStore>(store: S, redactor: tacit_redact::Redactor) -> Router {
    let app = Arc::new(App {
        store,
        redactor,
        pages: web::PageCache::default(),
    });
    api::routes::<S>()
        .merge(web::routes::<S>())
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app.clone())
        .merge(mcp::routes(app))
}

/// Serves until `shutdown` completes, then finishes the requests in
/// flight.
pub async fn serve<S: ServerStore>(
    store: S,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(store, tacit_redact::Redactor::builtin(), listener, shutdown).await
}

/// [`serve`] with the given redaction rules.
pub async fn serve_with<S: ServerStore>(
    store: S,
    redactor: tacit_redact::Redactor,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router_with(store, redactor))
        .with_graceful_shutdown(shutdown)
        .await
}
