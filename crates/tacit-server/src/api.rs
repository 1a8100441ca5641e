//! The JSON API. Each handler checks the caller's role, calls one
//! operation of `tacit-library`, and answers JSON. `openapi.json` documents
//! every route here; a test holds the two together.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tacit_library::accounts::{self, Role};
use tacit_library::review::Review;
use tacit_library::{keeping, status, sync};

use crate::auth::Auth;
use crate::{ApiError, App, OPENAPI, ServerStore};

type AppState<S> = State<Arc<App<S>>>;
type ApiResult = Result<Response, ApiError>;

/// Every route, as (method, path): what the router serves and what
/// `openapi.json` must document.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/api/openapi.json"),
    ("get", "/api/me"),
    ("get", "/api/sops"),
    ("get", "/api/sops/{id}"),
    ("get", "/api/sops/{id}/versions"),
    ("get", "/api/sops/{id}/diff"),
    ("get", "/api/sops/{id}/proposals"),
    ("post", "/api/sops/{id}/proposals/{proposal}/accept"),
    ("post", "/api/sops/{id}/proposals/{proposal}/reject"),
    ("post", "/api/sops/{id}/reviewed"),
    ("put", "/api/sops/{id}/owner"),
    ("get", "/api/search"),
    ("get", "/api/status"),
    ("get", "/api/runs"),
    ("get", "/api/runs/{id}"),
    ("get", "/api/teams"),
    ("put", "/api/teams/{name}"),
    ("get", "/api/users"),
    ("post", "/api/users"),
    ("get", "/api/tokens"),
    ("post", "/api/tokens"),
    ("delete", "/api/tokens/{id}"),
    ("get", "/api/sync/runs"),
    ("post", "/api/sync/runs"),
    ("get", "/api/sync/runs/{id}"),
    ("get", "/api/sync/versions"),
    ("post", "/api/sync/versions"),
    ("get", "/api/sync/versions/{id}/{version}"),
    ("post", "/api/sync/proposals"),
];

pub fn routes<S: ServerStore>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/healthz", get(healthz::<S>))
        .route("/api/openapi.json", get(openapi))
        .route("/api/me", get(me))
        .route("/api/sops", get(list_sops::<S>))
        .route("/api/sops/{id}", get(get_sop::<S>))
        .route("/api/sops/{id}/versions", get(versions::<S>))
        .route("/api/sops/{id}/diff", get(diff::<S>))
        .route("/api/sops/{id}/proposals", get(proposals::<S>))
        .route(
            "/api/sops/{id}/proposals/{proposal}/accept",
            post(accept::<S>),
        )
        .route(
            "/api/sops/{id}/proposals/{proposal}/reject",
            post(reject::<S>),
        )
        .route("/api/sops/{id}/reviewed", post(reviewed::<S>))
        .route("/api/sops/{id}/owner", put(set_owner::<S>))
        .route("/api/search", get(search::<S>))
        .route("/api/status", get(library_status::<S>))
        .route("/api/runs", get(list_runs::<S>))
        .route("/api/runs/{id}", get(get_run::<S>))
        .route("/api/teams", get(teams::<S>))
        .route("/api/teams/{name}", put(set_team::<S>))
        .route("/api/users", get(users::<S>).post(create_user::<S>))
        .route("/api/tokens", get(tokens::<S>).post(create_token::<S>))
        .route("/api/tokens/{id}", delete(revoke_token::<S>))
        .route(
            "/api/sync/runs",
            get(sync_run_sizes::<S>).post(sync_push_run::<S>),
        )
        .route("/api/sync/runs/{id}", get(sync_pull_run::<S>))
        .route(
            "/api/sync/versions",
            get(sync_versions::<S>).post(sync_push_version::<S>),
        )
        .route(
            "/api/sync/versions/{id}/{version}",
            get(sync_pull_version::<S>),
        )
        .route("/api/sync/proposals", post(sync_push_proposal::<S>))
}

fn ok(value: Value) -> ApiResult {
    Ok(Json(value).into_response())
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint (see /api/openapi.json)".into())
}

/// A JSON body, read whole (within the size limit) and parsed strictly:
/// unknown fields are refused, so a typo never passes silently.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequest<St> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &St) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim() == "application/json")
            });
        if !json_type {
            return Err(ApiError::Unsupported(
                "send the body as Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(format!(
                    "the body is larger than {} MiB",
                    crate::MAX_BODY / (1024 * 1024)
                ))
            } else {
                ApiError::BadRequest(format!("cannot read the body: {e}"))
            }
        })?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| ApiError::BadRequest(format!("the body is not UTF-8: {e}")))?;
        serde_json::from_str(text).map(JsonBody).map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Data => ApiError::Unprocessable(format!("the body does not fit: {e}")),
                _ => ApiError::BadRequest(format!("the body is not valid JSON: {e}")),
            }
        })
    }
}

type Params = Query<BTreeMap<String, String>>;

fn number(q: &BTreeMap<String, String>, key: &str) -> Result<Option<u32>, ApiError> {
    q.get(key)
        .map(|v| {
            v.parse::<u32>().map_err(|_| {
                ApiError::BadRequest(format!("{key} must be a whole number, not \"{v}\""))
            })
        })
        .transpose()
}

async fn healthz<S: ServerStore>(State(app): AppState<S>) -> Response {
    match app.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok"}))).into_response(),
        Err(e) => {
            eprintln!("tacit serve: health check: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "database unavailable"})),
            )
                .into_response()
        }
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn me(auth: Auth) -> ApiResult {
    ok(to_value(&auth.0)?)
}

fn thresholds() -> tacit_review::health::Thresholds {
    tacit_review::health::Thresholds::default()
}

/// The library: every SOP with its health, filtered by search words,
/// owner, overdue review or trust.
async fn list_sops<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Query(q): Params,
) -> ApiResult {
    auth.require(Role::Viewer, "reading the library")?;
    let overdue = match q.get("overdue").map(String::as_str) {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(v) => {
            return Err(ApiError::BadRequest(format!(
                "overdue must be true or false, not \"{v}\""
            )));
        }
    };
    let filter = status::LibraryFilter {
        words: q.get("q").map(String::as_str),
        owner: q.get("owner").map(String::as_str),
        overdue,
        trust_below: number(&q, "trust_below")?,
    };
    let list = status::library(&app.store, &filter, tacit_core::now_ms(), thresholds()).await?;
    let sops: Vec<Value> = list
        .iter()
        .map(|l| {
            let mut v = to_value(&l.health)?;
            if let Some(s) = &l.snippet {
                v["snippet"] = json!(s);
            }
            Ok(v)
        })
        .collect::<Result<_, ApiError>>()?;
    ok(json!({ "sops": sops }))
}

/// One SOP version as tacit's JSON document (`?format=md` for Markdown).
async fn get_sop<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    auth.require(Role::Viewer, "reading an SOP")?;
    let version = number(&q, "version")?;
    let format = q.get("format").map(String::as_str);
    if matches!(format, None | Some("json"))
        && let Some(stored) = app.store.sop_version(&id, version).await?
    {
        // The stored body is the document: no parse, no re-serialisation.
        return Ok(([(header::CONTENT_TYPE, "application/json")], stored.body).into_response());
    }
    let sop = tacit_library::load_sop(&app.store, &id, version).await?;
    match format {
        None | Some("json") => ok(to_value(&sop)?),
        Some("md") => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            tacit_sop::render_markdown(&sop),
        )
            .into_response()),
        Some(other) => Err(ApiError::BadRequest(format!(
            "format must be json or md, not \"{other}\""
        ))),
    }
}

async fn versions<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult {
    auth.require(Role::Viewer, "reading an SOP's history")?;
    let history = keeping::history(&app.store, &id).await?;
    ok(json!({ "versions": to_value(&history)? }))
}

async fn diff<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    auth.require(Role::Viewer, "comparing versions")?;
    let cmp = keeping::compare(&app.store, &id, number(&q, "from")?, number(&q, "to")?).await?;
    let lines: Vec<Value> = cmp
        .lines
        .iter()
        .map(|l| {
            let mark = match l.mark {
                tacit_review::diff::Mark::Added => "added",
                tacit_review::diff::Mark::Removed => "removed",
                tacit_review::diff::Mark::Changed => "changed",
                tacit_review::diff::Mark::Same => "same",
            };
            json!({"mark": mark, "text": l.text})
        })
        .collect();
    ok(json!({"from": cmp.old.version, "to": cmp.new.version, "lines": lines}))
}

async fn proposals<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult {
    auth.require(Role::Viewer, "reading proposals")?;
    let sop = tacit_library::load_sop(&app.store, &id, None).await?;
    let list = app.store.proposals(&sop.id).await?;
    ok(json!({ "proposals": to_value(&list)? }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decide {
    /// The version the reviewer saw; a newer one means someone else saved
    /// meanwhile, and the decision is refused (409) rather than applied to
    /// something they did not see.
    base_version: u32,
    #[serde(default)]
    reason: Option<String>,
}

/// Starts a review for a decision on one proposal: refused unless the
/// caller may review this SOP and saw its latest version.
pub(crate) async fn start_review<S: ServerStore>(
    app: &App<S>,
    caller: &accounts::Caller,
    id: &str,
    base_version: u32,
) -> Result<Review, ApiError> {
    let review = Review::start(&app.store, id).await?;
    let base = review.base();
    if !accounts::may_review(&app.store, caller, base.owner.as_deref()).await? {
        return Err(ApiError::Forbidden(format!(
            "only {}'s owner ({}) or an admin may review it",
            base.id,
            base.owner.as_deref().unwrap_or("nobody yet")
        )));
    }
    if base.version != base_version {
        return Err(ApiError::Conflict(format!(
            "{} changed while you worked: you saw version {base_version}, the latest is {}. Nothing was saved; reload and decide again",
            base.id, base.version
        )));
    }
    Ok(review)
}

async fn accept<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path((id, proposal)): Path<(String, String)>,
    JsonBody(body): JsonBody<Decide>,
) -> ApiResult {
    let mut review = start_review(&app, &auth.0, &id, body.base_version).await?;
    let said = review.accept(&proposal)?;
    let done = review.finish(&app.store, &auth.0.user).await?;
    ok(json!({"accepted": proposal, "change": said, "version": done.saved.map(|s| s.version)}))
}

async fn reject<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path((id, proposal)): Path<(String, String)>,
    JsonBody(body): JsonBody<Decide>,
) -> ApiResult {
    let mut review = start_review(&app, &auth.0, &id, body.base_version).await?;
    review.reject(&proposal, body.reason.as_deref().unwrap_or(""))?;
    review.finish(&app.store, &auth.0.user).await?;
    ok(json!({"rejected": proposal}))
}

async fn reviewed<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult {
    let sop = tacit_library::load_sop(&app.store, &id, None).await?;
    if !accounts::may_review(&app.store, &auth.0, sop.owner.as_deref()).await? {
        return Err(ApiError::Forbidden(format!(
            "only {}'s owner or an admin may confirm it is still true",
            sop.id
        )));
    }
    let done = keeping::confirm_review(&app.store, &sop.id, &auth.0.user).await?;
    ok(to_value(&done)?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnerBody {
    owner: String,
    #[serde(default)]
    review_every: Option<String>,
}

async fn set_owner<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<OwnerBody>,
) -> ApiResult {
    let sop = tacit_library::load_sop(&app.store, &id, None).await?;
    // An unowned SOP may be claimed by any owner; an owned one is handed
    // on by its owner or an admin.
    let allowed = match &sop.owner {
        None => auth.0.role >= Role::Owner,
        Some(o) => accounts::may_review(&app.store, &auth.0, Some(o)).await?,
    };
    if !allowed {
        return Err(ApiError::Forbidden(format!(
            "only {}'s owner or an admin may change its owner",
            sop.id
        )));
    }
    let owner = body.owner.trim();
    if owner.is_empty() || owner.len() > 200 || owner.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "owner must be a name of 1-200 printable characters".into(),
        ));
    }
    let days = body
        .review_every
        .as_deref()
        .map(keeping::parse_interval)
        .transpose()?;
    let owned = keeping::set_owner(&app.store, &sop.id, owner, days, &auth.0.user).await?;
    ok(json!({"id": owned.sop.id, "version": owned.sop.version, "summary": owned.summary}))
}

async fn search<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Query(q): Params,
) -> ApiResult {
    auth.require(Role::Viewer, "searching")?;
    let words = q.get("q").map(String::as_str).unwrap_or_default();
    let hits: Vec<Value> = app
        .store
        .search(words)
        .await?
        .into_iter()
        .map(|(id, title, snippet)| json!({"id": id, "title": title, "snippet": snippet}))
        .collect();
    ok(json!({ "hits": hits }))
}

async fn library_status<S: ServerStore>(State(app): AppState<S>, auth: Auth) -> ApiResult {
    auth.require(Role::Viewer, "reading the library's health")?;
    let list = status::library_health(&app.store, tacit_core::now_ms(), thresholds()).await?;
    ok(json!({ "sops": to_value(&list)? }))
}

async fn list_runs<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Query(q): Params,
) -> ApiResult {
    auth.require(Role::Viewer, "reading runs")?;
    let runs = app
        .store
        .list_runs(q.get("name").map(String::as_str))
        .await?;
    ok(json!({ "runs": to_value(&runs)? }))
}

async fn get_run<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult {
    auth.require(Role::Viewer, "reading a run")?;
    let evidence = tacit_library::runs::evidence(&app.store, &id).await?;
    ok(evidence.to_json())
}

async fn teams<S: ServerStore>(State(app): AppState<S>, auth: Auth) -> ApiResult {
    auth.require(Role::Viewer, "reading teams")?;
    let teams: Vec<Value> = app
        .store
        .teams()
        .await?
        .into_iter()
        .map(|(name, members)| json!({"name": name, "members": members}))
        .collect();
    ok(json!({ "teams": teams }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamBody {
    members: Vec<String>,
}

async fn set_team<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<TeamBody>,
) -> ApiResult {
    auth.require(Role::Admin, "changing a team")?;
    accounts::check_name(&name)?;
    if body.members.is_empty() {
        return Err(ApiError::BadRequest(
            "a team needs at least one member".into(),
        ));
    }
    for m in &body.members {
        accounts::check_name(m)?;
    }
    app.store.set_team(&name, &body.members).await?;
    ok(json!({"name": name, "members": body.members}))
}

async fn users<S: ServerStore>(State(app): AppState<S>, auth: Auth) -> ApiResult {
    auth.require(Role::Admin, "listing accounts")?;
    ok(json!({ "users": to_value(&app.store.users().await?)? }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    name: String,
    role: String,
    #[serde(default)]
    password: Option<String>,
}

async fn create_user<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    JsonBody(body): JsonBody<UserBody>,
) -> ApiResult {
    auth.require(Role::Admin, "creating an account")?;
    let role = Role::parse(&body.role)?;
    let user =
        accounts::create_user(&app.store, &body.name, role, body.password.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(to_value(&user)?)).into_response())
}

async fn tokens<S: ServerStore>(State(app): AppState<S>, auth: Auth) -> ApiResult {
    ok(json!({ "tokens": to_value(&app.store.tokens(&auth.0.user).await?)? }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    label: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    ttl_days: Option<u32>,
}

async fn create_token<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    JsonBody(body): JsonBody<TokenBody>,
) -> ApiResult {
    let scope = body.scope.as_deref().map(Role::parse).transpose()?;
    // A token never acts above the one that made it.
    if scope.is_some_and(|s| s > auth.0.role) {
        return Err(ApiError::Forbidden(format!(
            "this token acts as {}: it cannot make a token with more",
            auth.0.role.as_str()
        )));
    }
    let scope = Some(scope.unwrap_or(auth.0.role));
    let new =
        accounts::mint_token(&app.store, &auth.0.user, &body.label, scope, body.ttl_days).await?;
    let mut v = to_value(&new.token)?;
    v["secret"] = json!(new.secret);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn revoke_token<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult {
    if !app
        .store
        .revoke_token(&auth.0.user, &id, tacit_core::now_ms())
        .await?
    {
        return Err(ApiError::NotFound(format!("you have no token {id}")));
    }
    ok(json!({"revoked": id}))
}

// ---- sync ----------------------------------------------------------------

async fn sync_run_sizes<S: ServerStore>(State(app): AppState<S>, auth: Auth) -> ApiResult {
    auth.require(Role::Viewer, "listing runs to sync")?;
    let sizes: BTreeMap<String, u64> = app
        .store
        .run_sizes()
        .await?
        .into_iter()
        .map(|(id, n, _)| (id, n))
        .collect();
    ok(json!({ "runs": sizes }))
}

async fn sync_push_run<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    JsonBody(run): JsonBody<sync::RunUpload>,
) -> ApiResult {
    auth.require(Role::Operator, "sending runs")?;
    let id = run.meta.id.clone();
    let events = run.events.len();
    sync::receive_run(&app.store, &app.redactor, run).await?;
    ok(json!({"run": id, "events": events}))
}

async fn sync_pull_run<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult {
    auth.require(Role::Viewer, "fetching runs")?;
    // The exact id only: a prefix could fetch a different run.
    let run = sync::run_upload(&app.store, &id).await?;
    if run.meta.id != id {
        return Err(ApiError::NotFound(format!("no run has the id {id}")));
    }
    ok(to_value(&run)?)
}

async fn sync_versions<S: ServerStore>(State(app): AppState<S>, auth: Auth) -> ApiResult {
    auth.require(Role::Viewer, "listing SOP versions")?;
    let rows: Vec<Value> = sync::version_list(&app.store)
        .await?
        .into_iter()
        .map(|(id, v, f)| json!({"sop_id": id, "version": v, "fingerprint": f}))
        .collect();
    ok(json!({ "versions": rows }))
}

async fn sync_push_version<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    JsonBody(v): JsonBody<sync::VersionUpload>,
) -> ApiResult {
    auth.require(Role::Operator, "sending SOP versions")?;
    // Changing an owned SOP without review is for its owner (or an admin);
    // anyone else's version waits for them as a proposal.
    let owner = app
        .store
        .sop_version(&v.sop_id, None)
        .await?
        .and_then(|latest| tacit_sop::Sop::from_json(&latest.body).ok())
        .and_then(|s| s.owner);
    let may_append = match owner.as_deref() {
        None => true,
        Some(o) => accounts::may_review(&app.store, &auth.0, Some(o)).await?,
    };
    let outcome = sync::receive_version(&app.store, &app.redactor, v, may_append).await?;
    ok(to_value(&outcome)?)
}

async fn sync_pull_version<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    Path((id, version)): Path<(String, u32)>,
) -> ApiResult {
    auth.require(Role::Viewer, "fetching SOP versions")?;
    ok(to_value(
        &sync::version_upload(&app.store, &id, version).await?,
    )?)
}

async fn sync_push_proposal<S: ServerStore>(
    State(app): AppState<S>,
    auth: Auth,
    JsonBody(mut p): JsonBody<tacit_store::Proposal>,
) -> ApiResult {
    auth.require(Role::Operator, "sending proposals")?;
    tacit_library::load_sop(&app.store, &p.sop_id, None).await?;
    if p.id.is_empty() || p.id.len() > 300 || p.id.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "a proposal id must be 1-300 printable characters".into(),
        ));
    }
    // What arrives is a proposal for the owner, whatever it claims.
    p.status = "pending".into();
    p.resolution = None;
    p.summary = app.redactor.redact_prose(&p.summary).into_owned();
    p.body = app.redactor.redact(&p.body).into_owned();
    app.store.add_proposal(&p).await?;
    ok(json!({"proposal": p.id}))
}
