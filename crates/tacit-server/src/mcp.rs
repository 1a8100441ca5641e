//! `/mcp`: tacit's MCP tools (crate `tacit-mcp`) over streamable HTTP,
//! behind the same tokens and roles as the API: no token, no answer; a
//! viewer reads; an operator may also propose changes. Runs are not driven
//! here: they happen where their shell is, and arrive by sync.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use crate::auth::Auth;
use crate::{App, ServerStore};

pub fn routes<S: ServerStore>(app: Arc<App<S>>) -> Router {
    let service = tacit_mcp::http_service(app.store.clone(), app.redactor.clone());
    Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(app, authenticate::<S>))
}

/// Lets in only a request with a valid token, and tells the tools who it
/// is (they check the role per tool).
async fn authenticate<S: ServerStore>(
    State(app): State<Arc<App<S>>>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    match Auth::from_request_parts(&mut parts, &app).await {
        Ok(Auth(caller)) => {
            parts.extensions.insert(caller);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(refused) => refused.into_response(),
    }
}
