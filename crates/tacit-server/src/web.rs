//! The web UI: server-rendered pages (askama, escaping by default) that
//! work without JavaScript. Browser sessions live in the database (a
//! cookie holds the secret, the database its digest), and every form
//! carries the session's CSRF token; a cross-site post is refused.
//!
//! Recorded output, answers, titles and Markdown are untrusted: templates
//! escape every value, and Markdown is rendered then cleaned by ammonia.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tacit_core::EventBody;
use tacit_library::accounts::{self, Caller, Role};
use tacit_library::review::{Change, Review};
use tacit_library::{keeping, status};
use tacit_sop::{Sop, StepBlock};
use tacit_store::Session;

use crate::{ApiError, App, ServerStore};

type AppState<S> = State<Arc<App<S>>>;

const COOKIE: &str = "tacit_session";
const CSS: &str = include_str!("../assets/tacit.css");
const LIVE_JS: &str = include_str!("../assets/live.js");

pub fn routes<S: ServerStore>() -> Router<Arc<App<S>>> {
    Router::new()
        .route("/", get(library::<S>))
        .route("/assets/tacit.css", get(css))
        .route("/login", get(login_page).post(login::<S>))
        .route("/logout", post(logout::<S>))
        .route("/sops/{id}", get(sop_page::<S>))
        .route("/sops/{id}/diff", get(diff_page::<S>))
        .route("/runs/{id}", get(run_page::<S>))
        .route("/runs/{id}/live", get(run_live::<S>))
        .route("/assets/live.js", get(live_js))
        .route("/review", get(review_page::<S>))
        .route(
            "/sops/{id}/proposals/{proposal}/edit",
            get(edit_page::<S>).post(save_edit::<S>),
        )
        .route(
            "/sops/{id}/proposals/{proposal}/{decision}",
            post(decide::<S>),
        )
        .route("/status", get(status_page::<S>))
        .route("/teams", get(teams_page::<S>))
        .route("/tokens", get(tokens_page::<S>).post(create_token::<S>))
        .route("/tokens/{id}/revoke", post(revoke_token::<S>))
}

/// The signed-in user as every page's header shows them.
#[derive(Clone)]
pub struct Viewer {
    pub name: String,
    pub role: &'static str,
    pub csrf: String,
}

/// A page that could not be shown: a status and a sentence.
pub struct PageError(StatusCode, String);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = MessagePage {
            user: None,
            heading: self.0.canonical_reason().unwrap_or("Error").to_string(),
            text: self.1,
        };
        (self.0, render(&page)).into_response()
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        let status = e.clone_status();
        let text = match &e {
            ApiError::Internal(detail) => {
                eprintln!("tacit serve: internal error: {detail}");
                "Something went wrong on the server.".to_string()
            }
            other => other.to_string(),
        };
        PageError(status, text)
    }
}

impl From<tacit_library::LibraryError> for PageError {
    fn from(e: tacit_library::LibraryError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<tacit_store::StoreError> for PageError {
    fn from(e: tacit_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            eprintln!("tacit serve: template: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

async fn live_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        LIVE_JS,
    )
        .into_response()
}

fn cookie_secret(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

async fn signed_in<S: ServerStore>(
    app: &App<S>,
    headers: &HeaderMap,
) -> Result<Option<(Caller, Session)>, PageError> {
    let Some(secret) = cookie_secret(headers) else {
        return Ok(None);
    };
    Ok(accounts::session_caller(&app.store, &secret, tacit_core::now_ms()).await?)
}

/// The signed-in caller, or a redirect to the login page.
async fn require<S: ServerStore>(
    app: &App<S>,
    headers: &HeaderMap,
    here: &str,
) -> Result<(Caller, Session, Viewer), Response> {
    match signed_in(app, headers).await {
        Ok(Some((caller, session))) => {
            let viewer = Viewer {
                name: caller.user.clone(),
                role: caller.role.as_str(),
                csrf: session.csrf.clone(),
            };
            Ok((caller, session, viewer))
        }
        Ok(None) => Err(Redirect::to(&format!("/login?next={}", urlencode(here))).into_response()),
        Err(e) => Err(e.into_response()),
    }
}

/// Refuses a form that did not come from this site's own page: a
/// cross-site `Sec-Fetch-Site` or `Origin`, or a missing or wrong CSRF
/// token.
fn check_form(headers: &HeaderMap, session: &Session, csrf: &str) -> Result<(), PageError> {
    let refuse = || {
        PageError(
            StatusCode::FORBIDDEN,
            "This form did not come from tacit's own page (cross-site request refused). Reload the page and try again.".into(),
        )
    };
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return Err(refuse());
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
        if origin == "null" || origin_host != host {
            return Err(refuse());
        }
    }
    if !accounts::csrf_matches(session, csrf) {
        return Err(refuse());
    }
    Ok(())
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Markdown from a runbook or an answer, as HTML that cannot run script:
/// rendered by pulldown-cmark, then cleaned by ammonia (which drops
/// `<script>`, event handlers and `javascript:` links, and adds
/// `rel="noopener noreferrer"`).
pub fn markdown_html(text: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let mut raw = String::new();
    html::push_html(
        &mut raw,
        Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH),
    );
    ammonia::clean(&raw)
}

fn trust_class(trust: u8) -> &'static str {
    if trust < 50 {
        "bad"
    } else if trust < 80 {
        "warn"
    } else {
        "good"
    }
}

fn date(ms: i64) -> String {
    tacit_core::utc_date(ms)
}

// ---- login ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    user: Option<Viewer>,
    next: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    user: Option<Viewer>,
    heading: String,
    text: String,
}

/// Only a path on this site may be the page to return to.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

async fn login_page(Query(q): Query<BTreeMap<String, String>>) -> Response {
    render(&LoginPage {
        user: None,
        next: safe_next(q.get("next").map(String::as_str)),
        error: None,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    // A login form posted from another site could sign the victim into
    // the attacker's account: same-origin only.
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            "cross-site login refused".into(),
        ));
    }
    let next = safe_next(form.next.as_deref());
    match accounts::login(&app.store, form.name.trim(), &form.password).await? {
        Ok(caller) => {
            let (secret, _) = accounts::start_session(&app.store, &caller.user).await?;
            let mut resp = Redirect::to(&next).into_response();
            let cookie = format!(
                "{COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}",
                accounts::SESSION_DAYS * 86_400
            );
            resp.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie)
                    .map_err(|e| PageError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
            );
            Ok(resp)
        }
        Err(why) => Ok((
            StatusCode::UNAUTHORIZED,
            render(&LoginPage {
                user: None,
                next,
                error: Some(why.to_string()),
            }),
        )
            .into_response()),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if let Some((_, session)) = signed_in(&app, &headers).await? {
        check_form(&headers, &session, &form.csrf)?;
        app.store.delete_session(&session.digest).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("tacit_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
    );
    Ok(resp)
}

// ---- the library ---------------------------------------------------------

struct LibraryRow {
    id: String,
    title: String,
    trust: u8,
    trust_class: &'static str,
    version: u32,
    owner: String,
    problems: Vec<String>,
    notes: Vec<String>,
    snippet: String,
}

#[derive(Template)]
#[template(path = "library.html")]
struct LibraryPage {
    user: Option<Viewer>,
    q: String,
    owner: String,
    overdue: bool,
    /// (trust ceiling, chosen).
    trust_choices: Vec<(u32, bool)>,
    rows: Vec<LibraryRow>,
}

async fn library<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (_, _, viewer) = match require(&app, &headers, "/").await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let words = q.get("q").cloned().unwrap_or_default();
    let owner = q.get("owner").cloned().unwrap_or_default();
    let overdue = q.get("overdue").is_some_and(|v| v == "true");
    let trust_below = q.get("trust_below").and_then(|v| v.parse::<u32>().ok());
    let filter = status::LibraryFilter {
        words: Some(words.as_str()),
        owner: Some(owner.trim()).filter(|o| !o.is_empty()),
        overdue: overdue.then_some(true),
        trust_below,
    };
    let list = status::library(
        &app.store,
        &filter,
        tacit_core::now_ms(),
        tacit_review::health::Thresholds::default(),
    )
    .await?;
    let rows = list
        .into_iter()
        .map(|l| (l.health, l.snippet))
        .map(|(h, snippet)| LibraryRow {
            snippet: snippet.unwrap_or_default(),
            trust_class: trust_class(h.trust),
            owner: h.owner.unwrap_or_else(|| "— none —".into()),
            id: h.id,
            title: h.title,
            trust: h.trust,
            version: h.version,
            problems: h.problems,
            notes: h.notes,
        })
        .collect();
    Ok(render(&LibraryPage {
        user: Some(viewer),
        q: words,
        owner,
        overdue,
        trust_choices: [50, 80]
            .into_iter()
            .map(|t| (t, trust_below == Some(t)))
            .collect(),
        rows,
    }))
}

// ---- an SOP --------------------------------------------------------------

struct StepView {
    title: String,
    why: Option<String>,
    caution: Option<String>,
    /// Already safe HTML.
    body: String,
    commands: Vec<String>,
}

struct VersionRow {
    version: u32,
    when: String,
    author: String,
    summary: String,
    metadata_only: bool,
}

#[derive(Template)]
#[template(path = "sop.html")]
struct SopPage {
    user: Option<Viewer>,
    shown: Arc<RenderedSop>,
    latest: bool,
    owner: String,
    trust: u8,
    trust_class: &'static str,
    versions: Vec<VersionRow>,
}

fn step_view(s: &tacit_sop::Step) -> StepView {
    let mut body = String::new();
    for b in &s.body {
        match b {
            StepBlock::Text { markdown } => body.push_str(&markdown_html(markdown)),
            StepBlock::Commands { commands, .. } => {
                body.push_str("<pre>");
                for c in commands {
                    body.push_str(&escape(&c.command));
                    body.push('\n');
                    if let Some(o) = &c.output {
                        body.push_str(&format!("<span class=\"muted\">{}</span>\n", escape(o)));
                    }
                }
                body.push_str("</pre>");
            }
            StepBlock::Snippet { lang, code } => {
                body.push_str(&format!(
                    "<pre data-lang=\"{}\">{}</pre>",
                    escape(lang),
                    escape(code)
                ));
            }
        }
    }
    let commands = if s.body.is_empty() {
        s.commands.clone()
    } else {
        Vec::new()
    };
    if s.body.is_empty()
        && let Some(i) = &s.instruction
    {
        body.push_str(&markdown_html(i));
    }
    StepView {
        title: s.title.clone(),
        why: s.why.clone(),
        caution: s.caution.clone(),
        body,
        commands,
    }
}

async fn sop_page<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let here = format!("/sops/{}", urlencode(&id));
    let (_, _, viewer) = match require(&app, &headers, &here).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let version = match q.get("version").filter(|v| !v.is_empty()) {
        Some(v) => Some(v.parse::<u32>().map_err(|_| {
            PageError(
                StatusCode::BAD_REQUEST,
                format!("\"{v}\" is not a version number"),
            )
        })?),
        None => None,
    };
    // One read serves the version shown, the list and the health.
    let (history, health) = status::history_and_health(
        &app.store,
        &id,
        tacit_core::now_ms(),
        tacit_review::health::Thresholds::default(),
    )
    .await?;
    let entry = match version {
        Some(v) => history
            .iter()
            .find(|h| h.version.version == v)
            .ok_or_else(|| PageError(StatusCode::NOT_FOUND, format!("{id} has no version {v}")))?,
        None => history.last().expect("history is never empty"),
    };
    let latest = history
        .last()
        .is_some_and(|h| h.version.version == entry.version.version);
    let shown = app.pages.get_or_render(&entry.version)?;
    let trust = health.as_ref().map_or(0, |h| h.trust);
    let page = SopPage {
        user: Some(viewer),
        owner: health
            .and_then(|h| h.owner)
            .or_else(|| shown.sop.owner.clone())
            .unwrap_or_else(|| "— none —".into()),
        trust,
        trust_class: trust_class(trust),
        versions: history
            .iter()
            .rev()
            .map(|h| VersionRow {
                version: h.version.version,
                when: date(h.version.created_at_ms),
                author: h.version.author.clone(),
                summary: h.version.summary.clone(),
                metadata_only: h.metadata_only,
            })
            .collect(),
        latest,
        shown,
    };
    Ok(render(&page))
}

/// What an SOP version's page shows that never changes: versions are
/// immutable, so its rendering (Markdown cleaned by ammonia, the SVG) is
/// kept, keyed by the version's identity. Anything that changes (health,
/// history, who is looking) is read on every request, so a cache on one
/// instance never shows another instance stale data.
#[derive(Default)]
pub struct PageCache {
    entries: std::sync::Mutex<std::collections::HashMap<(String, u32, i64), Arc<RenderedSop>>>,
}

/// Pages kept; past that the cache starts over (a few MB at most).
const PAGE_CACHE_SIZE: usize = 512;

pub struct RenderedSop {
    sop: Sop,
    /// (title, safe HTML).
    sections: Vec<(String, String)>,
    steps: Vec<StepView>,
    /// Safe SVG (every label escaped).
    flowchart: String,
}

impl PageCache {
    fn get_or_render(&self, v: &tacit_store::SopVersion) -> Result<Arc<RenderedSop>, PageError> {
        let key = (v.sop_id.clone(), v.version, v.created_at_ms);
        if let Some(hit) = self.entries.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(hit);
        }
        let sop = Sop::from_json(&v.body).map_err(|e| {
            PageError(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("stored SOP {} v{} is unreadable: {e}", v.sop_id, v.version),
            )
        })?;
        let sections = std::iter::once((String::new(), markdown_html(&sop.procedure_intro)))
            .filter(|(_, h)| !h.trim().is_empty())
            .chain(
                sop.sections
                    .iter()
                    .map(|s| (s.title.clone(), markdown_html(&s.markdown))),
            )
            .collect();
        let rendered = Arc::new(RenderedSop {
            sections,
            steps: sop.steps.iter().map(step_view).collect(),
            flowchart: tacit_sop::svg::render_svg(&sop),
            sop,
        });
        if let Ok(mut m) = self.entries.lock() {
            if m.len() >= PAGE_CACHE_SIZE {
                m.clear();
            }
            m.insert(key, rendered.clone());
        }
        Ok(rendered)
    }
}

#[derive(Template)]
#[template(path = "diff.html")]
struct DiffPage {
    user: Option<Viewer>,
    id: String,
    from: u32,
    to: u32,
    /// (css class, text).
    lines: Vec<(&'static str, String)>,
}

async fn diff_page<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let here = format!("/sops/{}/diff", urlencode(&id));
    let (_, _, viewer) = match require(&app, &headers, &here).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let num = |k: &str| -> Result<Option<u32>, PageError> {
        match q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            Some(v) => v.parse().map(Some).map_err(|_| {
                PageError(
                    StatusCode::BAD_REQUEST,
                    format!("\"{v}\" is not a version number"),
                )
            }),
            None => Ok(None),
        }
    };
    let cmp = keeping::compare(&app.store, &id, num("from")?, num("to")?).await?;
    use tacit_review::diff::Mark;
    let lines = cmp
        .lines
        .iter()
        .map(|l| {
            let (class, sign) = match l.mark {
                Mark::Added => ("good", "+ "),
                Mark::Removed => ("bad", "- "),
                Mark::Changed => ("warn", "~ "),
                Mark::Same => ("muted", "  "),
            };
            (class, format!("{sign}{}", l.text))
        })
        .collect();
    Ok(render(&DiffPage {
        user: Some(viewer),
        id: cmp.new.id.clone(),
        from: cmp.old.version,
        to: cmp.new.version,
        lines,
    }))
}

// ---- a run ---------------------------------------------------------------

struct EventView {
    seq: u64,
    offset: String,
    kind: &'static str,
    headline: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage {
    user: Option<Viewer>,
    /// Still being recorded: the page follows it live.
    live: bool,
    last_seq: u64,
    run: tacit_core::RunMeta,
    started: String,
    chain_ok: bool,
    chain: String,
    events: Vec<EventView>,
}

fn event_view(e: &tacit_core::Event, start: i64) -> EventView {
    let (headline, detail) = match &e.body {
        EventBody::Command(c) => (
            format!(
                "$ {}  → {}  ({} ms, in {})",
                c.command,
                c.exit_code.map_or("?".into(), |x| format!("exit {x}")),
                c.duration_ms,
                c.cwd
            ),
            c.output.clone(),
        ),
        other => {
            let v = serde_json::to_value(other).unwrap_or_default();
            let mut fields: Vec<String> = v
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(k, _)| *k != "kind")
                        .map(|(k, v)| match v {
                            serde_json::Value::String(s) => format!("{k}: {s}"),
                            v => format!("{k}: {v}"),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let first = if fields.is_empty() {
                String::new()
            } else {
                fields.remove(0)
            };
            (first, fields.join("\n"))
        }
    };
    EventView {
        seq: e.seq,
        offset: format!("{:.1}s", (e.at_ms - start).max(0) as f64 / 1000.0),
        kind: e.body.kind(),
        headline,
        detail,
    }
}

async fn run_page<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let here = format!("/runs/{}", urlencode(&id));
    let (_, _, viewer) = match require(&app, &headers, &here).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let ev = tacit_library::runs::evidence(&app.store, &id).await?;
    let start = ev.meta.started_at_ms;
    Ok(render(&RunPage {
        user: Some(viewer),
        live: ev.meta.status == tacit_core::RunStatus::Recording,
        last_seq: ev.events.last().map_or(0, |(e, _)| e.seq),
        started: tacit_core::utc_date(start),
        chain_ok: ev.chain.is_ok(),
        chain: ev.chain.clone().err().unwrap_or_default(),
        events: ev
            .events
            .iter()
            .map(|(e, _)| event_view(e, start))
            .collect(),
        run: ev.meta,
    }))
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventFragment<'a> {
    e: &'a EventView,
}

/// How often a live page's stream looks for new events. Polling the
/// database (not an in-process channel) keeps the server stateless: the
/// laptop may push to one instance and the page follow another.
const LIVE_POLL: std::time::Duration = std::time::Duration::from_millis(400);

/// Server-sent events for a run being recorded: `events` carries the new
/// events as HTML fragments (escaped like the page), `end` the run's final
/// status once it stops.
async fn run_live<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    use axum::response::sse::{Event as Sse, KeepAlive};
    if signed_in(&app, &headers).await?.is_none() {
        return Err(PageError(StatusCode::UNAUTHORIZED, "log in first".into()));
    }
    let meta = app.store.find_run(&id).await?;
    let after: u64 = q.get("after").and_then(|v| v.parse().ok()).unwrap_or(0);
    let state = (app.clone(), meta, after, false);
    let stream = futures_util::stream::unfold(state, |(app, meta, after, done)| async move {
        if done {
            return None;
        }
        loop {
            tokio::time::sleep(LIVE_POLL).await;
            let events = match app.store.events(&meta.id).await {
                Ok(e) => e,
                Err(_) => continue,
            };
            let status = app
                .store
                .find_run(&meta.id)
                .await
                .map(|m| m.status)
                .unwrap_or(meta.status);
            let fresh: Vec<&tacit_core::Event> = events.iter().filter(|e| e.seq > after).collect();
            if let Some(last) = fresh.last().map(|e| e.seq) {
                let html: String = fresh
                    .iter()
                    .filter_map(|e| {
                        EventFragment {
                            e: &event_view(e, meta.started_at_ms),
                        }
                        .render()
                        .ok()
                    })
                    .collect();
                let item = Sse::default().event("events").data(html);
                return Some((
                    Ok::<_, std::convert::Infallible>(item),
                    (app, meta, last, false),
                ));
            }
            if status != tacit_core::RunStatus::Recording {
                let item = Sse::default().event("end").data(status.as_str());
                return Some((Ok(item), (app, meta, after, true)));
            }
        }
    });
    Ok(axum::response::Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

// ---- review --------------------------------------------------------------

struct ReviewItem {
    id: String,
    sop_id: String,
    base_version: u32,
    summary: String,
    run_id: String,
    kind: String,
    detail: String,
    may_decide: bool,
    owner: String,
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    user: Option<Viewer>,
    csrf: String,
    message: Option<String>,
    error: Option<String>,
    items: Vec<ReviewItem>,
}

async fn review_items<S: ServerStore>(
    app: &App<S>,
    caller: &Caller,
) -> Result<Vec<ReviewItem>, PageError> {
    let mut items = Vec::new();
    for v in app.store.list_sops().await? {
        let review = Review::start(&app.store, &v.sop_id).await?;
        if review.pending().is_empty() {
            continue;
        }
        let base = review.base();
        let may = accounts::may_review(&app.store, caller, base.owner.as_deref()).await?;
        for p in review.pending() {
            let detail = match &p.change {
                Change::Evidence(e) => {
                    let mut d = format!(
                        "$ {}  → exit {}\n{}",
                        e.command,
                        e.exit_code.map_or("?".into(), |c| c.to_string()),
                        e.output.trim_end()
                    );
                    if let Some(a) = &e.answer {
                        d.push_str(&format!("\nwhat they did: {}\nwhy: {}", a.action, a.reason));
                        if let Some(x) = &a.escalate {
                            d.push_str(&format!("\nescalate: {x}"));
                        }
                    }
                    d
                }
                Change::Redraft {
                    additions, stale, ..
                } => {
                    let mut d = additions.join("\n");
                    if *stale {
                        d.push_str("\n(made from an older version: draft again to merge)");
                    }
                    d
                }
                Change::Unreadable(why) => format!("unreadable: {why}"),
            };
            items.push(ReviewItem {
                id: p.proposal.id.clone(),
                sop_id: base.id.clone(),
                base_version: base.version,
                summary: p.proposal.summary.clone(),
                run_id: p.proposal.run_id.clone(),
                kind: p.proposal.kind.clone(),
                detail,
                may_decide: may,
                owner: base.owner.clone().unwrap_or_else(|| "nobody yet".into()),
            });
        }
    }
    // What the caller can decide comes first.
    items.sort_by_key(|i| !i.may_decide);
    Ok(items)
}

async fn review_page<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Result<Response, PageError> {
    let (caller, session, viewer) = match require(&app, &headers, "/review").await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let items = review_items(&app, &caller).await?;
    Ok(render(&ReviewPage {
        user: Some(viewer),
        csrf: session.csrf,
        message: q.get("done").cloned(),
        error: None,
        items,
    }))
}

#[derive(Deserialize)]
struct DecideForm {
    #[serde(default)]
    csrf: String,
    base_version: u32,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    decide: Option<String>,
}

async fn decide<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Path((id, proposal, decision)): Path<(String, String, String)>,
    Form(form): Form<DecideForm>,
) -> Result<Response, PageError> {
    let Some((caller, session)) = signed_in(&app, &headers).await? else {
        return Err(PageError(StatusCode::UNAUTHORIZED, "log in first".into()));
    };
    check_form(&headers, &session, &form.csrf)?;
    let outcome = async {
        let mut review = crate::api::start_review(&app, &caller, &id, form.base_version).await?;
        let said = match decision.as_str() {
            "accept" => format!("accepted: {}", review.accept(&proposal)?),
            "reject" => {
                review.reject(&proposal, form.reason.as_deref().unwrap_or(""))?;
                "rejected".to_string()
            }
            other => {
                return Err(ApiError::NotFound(format!("no decision called {other}")));
            }
        };
        review.finish(&app.store, &caller.user).await?;
        Ok::<_, ApiError>(said)
    }
    .await;
    match outcome {
        Ok(said) => Ok(Redirect::to(&format!(
            "/review?done={}",
            urlencode(&format!("{id}: {said}"))
        ))
        .into_response()),
        // A refusal re-shows the queue with why, and the right status.
        Err(e) => {
            let status = e.clone_status();
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                return Err(e.into());
            }
            let items = review_items(&app, &caller).await?;
            let page = ReviewPage {
                user: Some(Viewer {
                    name: caller.user.clone(),
                    role: caller.role.as_str(),
                    csrf: session.csrf.clone(),
                }),
                csrf: session.csrf,
                message: None,
                error: Some(e.to_string()),
                items,
            };
            Ok((status, render(&page)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "edit.html")]
struct EditPage {
    user: Option<Viewer>,
    csrf: String,
    sop_id: String,
    proposal: String,
    summary: String,
    base_version: u32,
    markdown: String,
    error: Option<String>,
}

/// The SOP with the proposal applied, as Markdown to edit before
/// accepting (the same as `tacit review`'s edit in $EDITOR).
async fn edit_page<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Path((id, proposal)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let here = format!(
        "/sops/{}/proposals/{}/edit",
        urlencode(&id),
        urlencode(&proposal)
    );
    let (caller, session, viewer) = match require(&app, &headers, &here).await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let review = Review::start(&app.store, &id).await?;
    let base = review.base().clone();
    if !accounts::may_review(&app.store, &caller, base.owner.as_deref()).await? {
        return Err(PageError(
            StatusCode::FORBIDDEN,
            format!(
                "only {}'s owner or an admin may decide its proposals",
                base.id
            ),
        ));
    }
    let pending = review
        .pending()
        .iter()
        .find(|p| p.proposal.id == proposal)
        .ok_or_else(|| {
            PageError(
                StatusCode::NOT_FOUND,
                format!("{} has no pending proposal {proposal}", base.id),
            )
        })?;
    // A proposal that cannot be applied as it is still opens the SOP to
    // edit by hand.
    let draft = review.preview(&proposal).unwrap_or_else(|_| base.clone());
    Ok(render(&EditPage {
        user: Some(viewer),
        csrf: session.csrf,
        sop_id: base.id.clone(),
        summary: pending.proposal.summary.clone(),
        proposal,
        base_version: base.version,
        markdown: tacit_sop::render_markdown(&draft),
        error: None,
    }))
}

#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    csrf: String,
    base_version: u32,
    markdown: String,
}

async fn save_edit<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Path((id, proposal)): Path<(String, String)>,
    Form(form): Form<EditForm>,
) -> Result<Response, PageError> {
    let Some((caller, session)) = signed_in(&app, &headers).await? else {
        return Err(PageError(StatusCode::UNAUTHORIZED, "log in first".into()));
    };
    check_form(&headers, &session, &form.csrf)?;
    let text = form.markdown.replace("\r\n", "\n");
    let outcome = async {
        let edited = tacit_library::read_edited(&text, &id)?;
        let mut review = crate::api::start_review(&app, &caller, &id, form.base_version).await?;
        review.accept_edited(&proposal, edited)?;
        review.finish(&app.store, &caller.user).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!(
            "/review?done={}",
            urlencode(&format!("{id}: accepted with your edits"))
        ))
        .into_response()),
        Err(e) if e.clone_status() != StatusCode::INTERNAL_SERVER_ERROR => {
            // Nothing is lost: the text comes back with why.
            let status = e.clone_status();
            let page = EditPage {
                user: Some(Viewer {
                    name: caller.user.clone(),
                    role: caller.role.as_str(),
                    csrf: session.csrf.clone(),
                }),
                csrf: session.csrf,
                sop_id: id,
                summary: proposal.clone(),
                proposal,
                base_version: form.base_version,
                markdown: text,
                error: Some(e.to_string()),
            };
            Ok((status, render(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ---- status and teams ----------------------------------------------------

struct StatusRow {
    id: String,
    trust: u8,
    trust_class: &'static str,
    version: u32,
    owner: String,
    last_run: String,
    success: String,
    pending: usize,
    problems: Vec<String>,
    notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    user: Option<Viewer>,
    rows: Vec<StatusRow>,
}

async fn status_page<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (_, _, viewer) = match require(&app, &headers, "/status").await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let list = status::library_health(
        &app.store,
        tacit_core::now_ms(),
        tacit_review::health::Thresholds::default(),
    )
    .await?;
    let rows = list
        .into_iter()
        .map(|h| StatusRow {
            trust_class: trust_class(h.trust),
            last_run: h.last_run_ms.map(date).unwrap_or_else(|| "never".into()),
            success: h
                .success_rate
                .map(|r| format!("{:.0}%", r * 100.0))
                .unwrap_or_else(|| "–".into()),
            owner: h.owner.unwrap_or_else(|| "— none —".into()),
            id: h.id,
            trust: h.trust,
            version: h.version,
            pending: h.pending_proposals,
            problems: h.problems,
            notes: h.notes,
        })
        .collect();
    Ok(render(&StatusPage {
        user: Some(viewer),
        rows,
    }))
}

#[derive(Template)]
#[template(path = "teams.html")]
struct TeamsPage {
    user: Option<Viewer>,
    /// (team, members joined).
    teams: Vec<(String, String)>,
    /// (owner, SOP ids).
    owners: Vec<(String, Vec<String>)>,
}

async fn teams_page<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (_, _, viewer) = match require(&app, &headers, "/teams").await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let teams = app
        .store
        .teams()
        .await?
        .into_iter()
        .map(|(n, m)| (n, m.join(", ")))
        .collect();
    let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in app.store.health_rows(None).await? {
        owners
            .entry(row.owner.unwrap_or_else(|| "— none —".into()))
            .or_default()
            .push(row.sop_id);
    }
    Ok(render(&TeamsPage {
        user: Some(viewer),
        teams,
        owners: owners.into_iter().collect(),
    }))
}

// ---- API tokens ----------------------------------------------------------

struct TokenRow {
    id: String,
    label: String,
    scope: String,
    created: String,
    expires: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    user: Option<Viewer>,
    csrf: String,
    secret: Option<String>,
    error: Option<String>,
    tokens: Vec<TokenRow>,
    scopes: Vec<&'static str>,
}

async fn tokens_view<S: ServerStore>(
    app: &App<S>,
    caller: &Caller,
    session: &Session,
    secret: Option<String>,
    error: Option<String>,
) -> Result<TokensPage, PageError> {
    let tokens = app
        .store
        .tokens(&caller.user)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            created: date(t.created_at_ms),
            expires: t.expires_at_ms.map(date).unwrap_or_else(|| "never".into()),
            last_used: t.last_used_ms.map(date).unwrap_or_else(|| "never".into()),
            revoked: t.revoked_at_ms.is_some(),
            id: t.id,
            label: t.label,
            scope: t.scope,
        })
        .collect();
    Ok(TokensPage {
        user: Some(Viewer {
            name: caller.user.clone(),
            role: caller.role.as_str(),
            csrf: session.csrf.clone(),
        }),
        csrf: session.csrf.clone(),
        secret,
        error,
        tokens,
        scopes: Role::ALL
            .into_iter()
            .filter(|r| *r <= caller.role)
            .rev()
            .map(Role::as_str)
            .collect(),
    })
}

async fn tokens_page<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (caller, session, _) = match require(&app, &headers, "/tokens").await {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    Ok(render(
        &tokens_view(&app, &caller, &session, None, None).await?,
    ))
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    label: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    ttl_days: Option<String>,
}

async fn create_token<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Result<Response, PageError> {
    let Some((caller, session)) = signed_in(&app, &headers).await? else {
        return Err(PageError(StatusCode::UNAUTHORIZED, "log in first".into()));
    };
    check_form(&headers, &session, &form.csrf)?;
    let made = async {
        let scope = form
            .scope
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(Role::parse)
            .transpose()?;
        let ttl = match form
            .ttl_days
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(t) => Some(t.parse::<u32>().map_err(|_| {
                tacit_library::LibraryError::Invalid(format!("\"{t}\" is not a number of days"))
            })?),
            None => None,
        };
        accounts::mint_token(&app.store, &caller.user, form.label.trim(), scope, ttl).await
    }
    .await;
    let page = match made {
        Ok(new) => tokens_view(&app, &caller, &session, Some(new.secret), None).await?,
        Err(e) => tokens_view(&app, &caller, &session, None, Some(e.to_string())).await?,
    };
    Ok(render(&page))
}

async fn revoke_token<S: ServerStore>(
    State(app): AppState<S>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let Some((caller, session)) = signed_in(&app, &headers).await? else {
        return Err(PageError(StatusCode::UNAUTHORIZED, "log in first".into()));
    };
    check_form(&headers, &session, &form.csrf)?;
    if !app
        .store
        .revoke_token(&caller.user, &id, tacit_core::now_ms())
        .await?
    {
        return Err(PageError(
            StatusCode::NOT_FOUND,
            format!("you have no token {id}"),
        ));
    }
    Ok(Redirect::to("/tokens").into_response())
}
