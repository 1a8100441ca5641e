//! Who is asking: `Authorization: Bearer <token>` on every API request.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use tacit_library::accounts::{self, Caller, Role};

use crate::{ApiError, App, ServerStore};

/// The authenticated caller of a request.
pub struct Auth(pub Caller);

impl<S: ServerStore> FromRequestParts<Arc<App<S>>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App<S>>,
    ) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::Unauthorized(
                "send an API token: Authorization: Bearer <token>".into(),
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
        match accounts::authenticate(&app.store, token, tacit_core::now_ms()).await? {
            Ok(caller) => Ok(Auth(caller)),
            Err(why) => Err(ApiError::Unauthorized(format!(
                "the token does not let you in: {why}"
            ))),
        }
    }
}

impl Auth {
    /// Refuses a caller below `role`.
    pub fn require(&self, role: Role, to: &str) -> Result<&Caller, ApiError> {
        if self.0.role >= role {
            Ok(&self.0)
        } else {
            Err(ApiError::Forbidden(format!(
                "{} needs the {} role; {} acts as {} here",
                to,
                role.as_str(),
                self.0.user,
                self.0.role.as_str()
            )))
        }
    }
}
