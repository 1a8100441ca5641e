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
pub mod web;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tacit_store::{Accounts, Store};

pub use error::ApiError;

/// A store the server can run on.
pub trait ServerStore: Store + Accounts + Clone + Send + Sync + 'static {}
impl<T: Store + Accounts + Clone + Send + Sync + 'static> ServerStore for T {}

/// What every request sees.
pub struct App<S> {
    pub store: S,
}

/// The largest request body accepted (a pushed run with its events fits
/// many times over; anything bigger is refused with 413 before parsing).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// The OpenAPI document the API is tested against.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The whole server.
pub fn router<S: ServerStore>(store: S) -> Router {
    let app = Arc::new(App { store });
    api::routes::<S>()
        .merge(web::routes::<S>())
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

/// Serves until `shutdown` completes, then finishes the requests in
/// flight.
pub async fn serve<S: ServerStore>(
    store: S,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(store))
        .with_graceful_shutdown(shutdown)
        .await
}
