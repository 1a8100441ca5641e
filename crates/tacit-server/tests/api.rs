//! The JSON API over real HTTP, on SQLite and the real PostgreSQL: the
//! OpenAPI document against what the server answers, every role against
//! every endpoint, and bad input that must answer 4xx and store nothing.

mod common;

use std::sync::Arc;

use common::{Client, Server, seed, start};
use serde_json::{Value, json};
use tacit_library::accounts::{self, Role};
use tacit_server::ServerStore;

/// A small JSON Schema check: enough of the language `openapi.json` uses.
fn check(schema: &Value, value: &Value, doc: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return check(&doc["components"]["schemas"][name], value, doc, at);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(s, value, doc, at)?;
        }
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(|s| check(s, value, doc, at).is_ok())
    {
        return Err(format!("{at}: {value} matches none of anyOf"));
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let fits = types
            .iter()
            .any(|t| *t == actual || (*t == "number" && actual == "integer"));
        if !fits {
            return Err(format!("{at}: expected {types:?}, got {value}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {e:?}"));
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        return Err(format!("{at}: {value} is not {c}"));
    }
    if let Value::Object(map) = value {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = r.as_str().unwrap();
            if !map.contains_key(key) {
                return Err(format!("{at}: missing {key} in {value}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, v) in map {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(s, v, doc, &format!("{at}.{k}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: unexpected {k}"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            check(s, v, doc, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// A concrete URL and body for each documented route.
fn request_for(
    method: &str,
    path: &str,
    sop: &str,
    run: &str,
    proposal: &str,
    token_id: &str,
) -> (String, Option<Value>) {
    let url = path
        .replace(
            "{id}",
            if path.starts_with("/api/runs") || path.starts_with("/api/sync/runs") {
                run
            } else if path.starts_with("/api/tokens") {
                token_id
            } else {
                sop
            },
        )
        .replace("{proposal}", proposal)
        .replace("{name}", "platform")
        .replace("{version}", "1");
    let url = match path {
        "/api/search" => format!("{url}?q=worker"),
        "/api/sops" => format!("{url}?q=queue"),
        _ => url,
    };
    let body = match (method, path) {
        ("post", p) if p.ends_with("/accept") || p.ends_with("/reject") => {
            Some(json!({"base_version": 2, "reason": "not needed"}))
        }
        ("put", "/api/sops/{id}/owner") => Some(json!({"owner": "olga", "review_every": "30d"})),
        ("put", "/api/teams/{name}") => Some(json!({"members": ["olga", "oscar"]})),
        ("post", "/api/users") => Some(json!({"name": "new-user", "role": "viewer"})),
        ("post", "/api/tokens") => Some(json!({"label": "ci", "ttl_days": 30})),
        ("post", "/api/sync/runs") => Some(json!({
            "meta": {
                "id": "0190ffff-0000-7000-8000-000000000009", "name": "pushed", "shell": "bash",
                "started_at_ms": 1, "ended_at_ms": 2, "status": "completed", "host": "laptop",
                "user": "otto", "start_cwd": "/", "recorder_pid": null, "tacit_version": "0",
                "cols": 80, "rows": 24, "sop_id": null, "sop_version": null, "imported_at_ms": null
            },
            "events": [{"event": {"seq": 1, "at_ms": 1, "kind": "note", "text": "pushed"}, "hash": null}]
        })),
        ("post", "/api/sync/proposals") => Some(json!({
            "id": "pushed-proposal", "sop_id": sop, "sop_version": 1, "run_id": run,
            "kind": "edge_case", "summary": "pushed", "body": "{}", "status": "accepted",
            "created_at_ms": 1
        })),
        _ => None,
    };
    (url, body)
}

/// A pushed SOP version needs a real body: the seeded SOP's first.
async fn with_version_body<S: ServerStore>(
    store: &S,
    method: &str,
    path: &str,
    sop: &str,
    body: Option<Value>,
) -> Option<Value> {
    if (method, path) == ("post", "/api/sync/versions") {
        let v = tacit_library::sync::version_upload(store, sop, 1)
            .await
            .unwrap();
        return Some(serde_json::to_value(v).unwrap());
    }
    body
}

async fn send(
    client: &Client,
    server: &Server,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    client
        .call(
            &method.to_uppercase(),
            format!("{}{url}", server.base),
            token.map(str::to_string),
            body.map(|b| ("application/json".to_string(), b.to_string().into_bytes())),
        )
        .await
}

async fn every_route_answers_as_documented<S: ServerStore>(store: &S) {
    let (sop, run) = seed(store).await;
    let server = start(store).await;
    let client = Client::new();
    let doc: Value = serde_json::from_str(tacit_server::OPENAPI).unwrap();
    // The document lists exactly the routes the server has.
    let documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    let mut served: Vec<(String, String)> = tacit_server::api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let mut sorted = documented.clone();
    sorted.sort();
    served.sort();
    assert_eq!(sorted, served);

    let admin = server.tokens["admin"].clone();
    let proposals = store.proposals(&sop).await.unwrap();
    let token_id = store.tokens("vera").await.unwrap()[0].id.clone();
    let mut seen = 0;
    for (method, path) in tacit_server::api::ROUTES {
        // Accept one proposal, reject another.
        let proposal = if path.ends_with("/accept") {
            &proposals[0].id
        } else {
            &proposals[1].id
        };
        let (url, body) = request_for(method, path, &sop, &run, proposal, &token_id);
        let mut body = with_version_body(store, method, path, &sop, body).await;
        // A decision is made on the version the caller sees now.
        if let Some(b) = body.as_mut().filter(|b| b.get("base_version").is_some()) {
            let latest = store.sop_version(&sop, None).await.unwrap().unwrap();
            b["base_version"] = json!(latest.version);
        }
        // Revoking: use a token of the admin's own.
        let url = if *method == "delete" {
            let own = accounts::mint_token(store, "root", "to revoke", None, None)
                .await
                .unwrap();
            url.replace(&token_id, &own.token.id)
        } else {
            url
        };
        let (status, value) =
            send(&client, &server, method, &url, Some(&admin), body.as_ref()).await;
        let op = &doc["paths"][*path][*method];
        let response = &op["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {url}: status {status} is not documented: {value}"
        );
        assert!(
            (200..300).contains(&status),
            "{method} {url} as admin: {status} {value}"
        );
        let content = &response["content"];
        let schema = content["application/json"]["schema"].clone();
        if schema.is_object() {
            check(&schema, &value, &doc, &format!("{method} {path}"))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        seen += 1;
    }
    assert_eq!(seen, tacit_server::api::ROUTES.len());
    // Errors have the documented shape too.
    let (status, value) = send(
        &client,
        &server,
        "get",
        "/api/sops/nope",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 404);
    check(
        &json!({"$ref": "#/components/schemas/Error"}),
        &value,
        &doc,
        "error",
    )
    .unwrap();
    let (status, _) = send(
        &client,
        &server,
        "get",
        "/api/nothing-here",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

/// The lowest role each route needs; "review" needs the SOP's owner (or an
/// admin), and "self" only a valid token.
fn needs(method: &str, path: &str) -> &'static str {
    match (method, path) {
        ("get", "/healthz") | ("get", "/api/openapi.json") => "nobody",
        ("get", "/api/me") | (_, "/api/tokens") | (_, "/api/tokens/{id}") => "self",
        (_, "/api/users") | ("put", "/api/teams/{name}") => "admin",
        ("post", "/api/sync/runs" | "/api/sync/versions" | "/api/sync/proposals") => "operator",
        ("post", p) if p.contains("/proposals/") || p.ends_with("/reviewed") => "review",
        ("put", "/api/sops/{id}/owner") => "review",
        _ => "viewer",
    }
}

async fn every_role_against_every_endpoint<S: ServerStore>(store: &S) {
    let (sop, run) = seed(store).await;
    let server = start(store).await;
    let client = Client::new();
    let proposals = store.proposals(&sop).await.unwrap();
    let mut table = Vec::new();
    for (method, path) in tacit_server::api::ROUTES {
        for who in [
            None,
            Some("viewer"),
            Some("operator"),
            Some("other-owner"),
            Some("owner"),
            Some("admin"),
        ] {
            let token_id = match who {
                Some(w) if *method == "delete" => {
                    let user = match w {
                        "viewer" => "vera",
                        "operator" => "otto",
                        "owner" => "olga",
                        "other-owner" => "oscar",
                        _ => "root",
                    };
                    accounts::mint_token(store, user, "revoke me", None, None)
                        .await
                        .unwrap()
                        .token
                        .id
                }
                _ => "none".to_string(),
            };
            let (url, body) = request_for(method, path, &sop, &run, &proposals[2].id, &token_id);
            let body = with_version_body(store, method, path, &sop, body).await;
            let token = who.map(|w| server.tokens[w].clone());
            let (status, value) = send(
                &client,
                &server,
                method,
                &url,
                token.as_deref(),
                body.as_ref(),
            )
            .await;
            let need = needs(method, path);
            let allowed = match (need, who) {
                ("nobody", _) => true,
                (_, None) => false,
                ("self" | "viewer", Some(_)) => true,
                ("operator", Some(w)) => w != "viewer",
                ("review", Some(w)) => w == "owner" || w == "admin",
                ("admin", Some(w)) => w == "admin",
                _ => unreachable!(),
            };
            let expected_refusal = if who.is_none() { 401 } else { 403 };
            if allowed {
                assert!(
                    status != 401 && status != 403,
                    "{who:?} {method} {url}: refused ({status}) but should be allowed: {value}"
                );
            } else {
                assert_eq!(
                    status, expected_refusal,
                    "{who:?} {method} {url}: should be refused: {value}"
                );
            }
            table.push((method, path, who, status));
        }
    }
    assert_eq!(table.len(), tacit_server::api::ROUTES.len() * 6);
}

async fn tokens_expire_are_revoked_and_never_exceed_their_user<S: ServerStore>(store: &S) {
    seed(store).await;
    let server = start(store).await;
    let client = Client::new();
    let vera = server.tokens["viewer"].clone();
    let (status, me) = send(&client, &server, "get", "/api/me", Some(&vera), None).await;
    assert_eq!((status, me["role"].as_str()), (200, Some("viewer")));
    // A viewer cannot mint an admin token.
    let (status, _) = send(
        &client,
        &server,
        "post",
        "/api/tokens",
        Some(&vera),
        Some(&json!({"label": "x", "scope": "admin"})),
    )
    .await;
    assert_eq!(status, 403);
    // An admin's viewer-scoped token acts as a viewer.
    let admin = server.tokens["admin"].clone();
    let (status, scoped) = send(
        &client,
        &server,
        "post",
        "/api/tokens",
        Some(&admin),
        Some(&json!({"label": "read only", "scope": "viewer"})),
    )
    .await;
    assert_eq!(status, 201, "{scoped}");
    let secret = scoped["secret"].as_str().unwrap().to_string();
    let (status, _) = send(&client, &server, "get", "/api/users", Some(&secret), None).await;
    assert_eq!(status, 403);
    let (status, _) = send(&client, &server, "get", "/api/sops", Some(&secret), None).await;
    assert_eq!(status, 200);
    // Only the digest is stored.
    let stored = store.tokens("root").await.unwrap();
    assert!(
        stored
            .iter()
            .all(|t| t.digest != secret && !t.digest.contains(&secret[6..]))
    );
    let listed = send(&client, &server, "get", "/api/tokens", Some(&admin), None)
        .await
        .1;
    assert!(!listed.to_string().contains(&secret));
    // Revoked, then refused.
    let id = scoped["id"].as_str().unwrap();
    let (status, _) = send(
        &client,
        &server,
        "delete",
        &format!("/api/tokens/{id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = send(&client, &server, "get", "/api/sops", Some(&secret), None).await;
    assert_eq!(status, 401, "{body}");
    // Someone else's token cannot be revoked.
    let others = store.tokens("vera").await.unwrap()[0].id.clone();
    let (status, _) = send(
        &client,
        &server,
        "delete",
        &format!("/api/tokens/{others}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Expired.
    let expired = accounts::mint_token(store, "vera", "old", None, Some(1))
        .await
        .unwrap();
    let mut t = expired.token.clone();
    t.id = "expired-token".into();
    t.digest = accounts::token_digest("tacit_expired_secret_for_the_test");
    t.expires_at_ms = Some(tacit_core::now_ms() - 1);
    store.add_token(&t).await.unwrap();
    let (status, _) = send(
        &client,
        &server,
        "get",
        "/api/sops",
        Some("tacit_expired_secret_for_the_test"),
        None,
    )
    .await;
    assert_eq!(status, 401);
    // Garbage and missing headers.
    for bad in ["", "nonsense", "tacit_0000"] {
        let (status, _) = send(&client, &server, "get", "/api/sops", Some(bad), None).await;
        assert_eq!(status, 401, "{bad:?}");
    }
    // A disabled account's tokens stop working.
    let mut u = store.user("vera").await.unwrap().unwrap();
    u.disabled = true;
    store.update_user(&u).await.unwrap();
    let (status, _) = send(&client, &server, "get", "/api/sops", Some(&vera), None).await;
    assert_eq!(status, 401);
}

/// A request body: its content type and bytes.
type Body = Option<(String, Vec<u8>)>;

async fn bad_input_gets_a_clear_4xx_and_stores_nothing<S: ServerStore>(store: &S) {
    let (sop, _) = seed(store).await;
    let server = start(store).await;
    let client = Client::new();
    let admin = server.tokens["admin"].clone();
    let before = (
        store.users().await.unwrap().len(),
        store.sop_versions(&sop).await.unwrap().len(),
        store.teams().await.unwrap().len(),
    );
    let url = |p: &str| format!("{}{p}", server.base);
    let raw = |ctype: &str, bytes: Vec<u8>| Some((ctype.to_string(), bytes));
    let cases: Vec<(&str, String, Body, u16)> = vec![
        (
            "POST",
            url("/api/users"),
            raw("application/json", b"{\"name\": \"x\", ".to_vec()),
            400,
        ),
        (
            "POST",
            url("/api/users"),
            raw("application/json", b"\xff\xfe{}".to_vec()),
            400,
        ),
        (
            "POST",
            url("/api/users"),
            raw(
                "application/json",
                br#"{"name":"eve","role":"viewer","is_admin":true}"#.to_vec(),
            ),
            422,
        ),
        (
            "POST",
            url("/api/users"),
            raw("application/json", br#"{"name":"eve"}"#.to_vec()),
            422,
        ),
        (
            "POST",
            url("/api/users"),
            raw("text/plain", br#"{"name":"eve","role":"viewer"}"#.to_vec()),
            415,
        ),
        ("POST", url("/api/users"), None, 415),
        (
            "POST",
            url("/api/users"),
            raw(
                "application/json",
                br#"{"name":"Robert'); DROP TABLE users;--","role":"viewer"}"#.to_vec(),
            ),
            400,
        ),
        (
            "POST",
            url("/api/users"),
            raw(
                "application/json",
                br#"{"name":"eve","role":"root"}"#.to_vec(),
            ),
            400,
        ),
        (
            "POST",
            url("/api/users"),
            raw(
                "application/json",
                br#"{"name":"eve","role":"viewer","password":"short"}"#.to_vec(),
            ),
            400,
        ),
        (
            "PUT",
            url("/api/teams/a;b"),
            raw("application/json", br#"{"members":["x"]}"#.to_vec()),
            400,
        ),
        (
            "PUT",
            url("/api/teams/ops"),
            raw(
                "application/json",
                br#"{"members":["' OR 1=1 --"]}"#.to_vec(),
            ),
            400,
        ),
        (
            "PUT",
            url("/api/teams/ops"),
            raw("application/json", br#"{"members":[]}"#.to_vec()),
            400,
        ),
        (
            "PUT",
            url(&format!("/api/sops/{sop}/owner")),
            raw("application/json", br#"{"owner":"x\u0000y"}"#.to_vec()),
            400,
        ),
        (
            "PUT",
            url(&format!("/api/sops/{sop}/owner")),
            raw(
                "application/json",
                br#"{"owner":"ann","review_every":"banana"}"#.to_vec(),
            ),
            400,
        ),
        (
            "POST",
            url(&format!("/api/sops/{sop}/proposals/nope/accept")),
            raw("application/json", br#"{"base_version":2}"#.to_vec()),
            404,
        ),
        (
            "POST",
            url(&format!("/api/sops/{sop}/proposals/nope/accept")),
            raw("application/json", br#"{"base_version":-1}"#.to_vec()),
            422,
        ),
        (
            "POST",
            url(&format!("/api/sops/{sop}/proposals/nope/accept")),
            raw("application/json", br#"{"base_version":1}"#.to_vec()),
            409,
        ),
        (
            "GET",
            url(&format!("/api/sops/{sop}?version=abc")),
            None,
            400,
        ),
        (
            "GET",
            url(&format!("/api/sops/{sop}?format=pdf")),
            None,
            400,
        ),
        ("GET", url("/api/sops?overdue=maybe"), None, 400),
        (
            "GET",
            url("/api/runs/%27%3B%20DROP%20TABLE%20runs%3B--"),
            None,
            404,
        ),
        ("GET", url("/api/sops/%00%27"), None, 404),
        (
            "POST",
            url("/api/tokens"),
            raw(
                "application/json",
                br#"{"label":"x","ttl_days":0}"#.to_vec(),
            ),
            400,
        ),
    ];
    for (method, url, body, want) in cases {
        let shown = body
            .as_ref()
            .map(|b| String::from_utf8_lossy(&b.1).into_owned());
        let (status, value) = client
            .call(method, url.clone(), Some(admin.clone()), body)
            .await;
        assert_eq!(status, want, "{method} {url} {shown:?}: {value}");
        assert!(
            value["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{method} {url}: a clear message: {value}"
        );
    }
    // 100 MB: refused before it is parsed.
    let huge = format!(
        "{{\"name\":\"{}\",\"role\":\"viewer\"}}",
        "a".repeat(100 * 1024 * 1024)
    );
    let (status, _) = client
        .call(
            "POST",
            url("/api/users"),
            Some(admin.clone()),
            raw("application/json", huge.into_bytes()),
        )
        .await;
    assert!(status == 413 || status == 0, "{status}");
    let after = (
        store.users().await.unwrap().len(),
        store.sop_versions(&sop).await.unwrap().len(),
        store.teams().await.unwrap().len(),
    );
    assert_eq!(before, after, "nothing partial is stored");
    assert!(
        store
            .proposals(&sop)
            .await
            .unwrap()
            .iter()
            .all(|p| p.status == "pending")
    );
    // The server still answers.
    let (status, _) = send(&client, &server, "get", "/healthz", None, None).await;
    assert_eq!(status, 200);
}

async fn two_owners_deciding_at_once_cannot_lose_an_update<S: ServerStore>(store: &S) {
    let (sop, _) = seed(store).await;
    let server = Arc::new(start(store).await);
    let client = Client::new();
    let admin = server.tokens["admin"].clone();
    let owner = server.tokens["owner"].clone();
    let ps = store.proposals(&sop).await.unwrap();
    let a = format!("/api/sops/{sop}/proposals/{}/accept", ps[0].id);
    let b = format!("/api/sops/{sop}/proposals/{}/accept", ps[1].id);
    let body = json!({"base_version": 2});
    let (ra, rb) = tokio::join!(
        send(&client, &server, "post", &a, Some(&admin), Some(&body)),
        send(&client, &server, "post", &b, Some(&owner), Some(&body)),
    );
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{ra:?} {rb:?}");
    assert_eq!(store.sop_versions(&sop).await.unwrap().len(), 3);
    let pending = store
        .proposals(&sop)
        .await
        .unwrap()
        .iter()
        .filter(|p| p.status == "pending")
        .count();
    assert_eq!(pending, 2, "the refused one stays pending");
}

async fn recorded_text_comes_back_as_data<S: ServerStore>(store: &S) {
    let (sop, run) = seed(store).await;
    let server = start(store).await;
    let client = Client::new();
    let admin = server.tokens["admin"].clone();
    let (status, doc) = send(
        &client,
        &server,
        "get",
        &format!("/api/sops/{sop}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        doc["sop"]["title"].as_str().unwrap().contains("<script>"),
        "JSON keeps text as text: {doc}"
    );
    let (_, run) = send(
        &client,
        &server,
        "get",
        &format!("/api/runs/{run}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        run["events"][0]["text"],
        "<img src=x onerror=alert(1)> noted"
    );
    assert_eq!(
        run["chain"]["intact"], false,
        "seeded events carry no hash links"
    );
    let resp = client.agent.clone();
    let base = server.base.clone();
    let ctype = tokio::task::spawn_blocking(move || {
        resp.get(format!("{base}/api/sops"))
            .header("Authorization", format!("Bearer {admin}"))
            .call()
            .unwrap()
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    })
    .await
    .unwrap();
    assert_eq!(ctype, "application/json");
}

tacit_store::both_backends!(
    every_route_answers_as_documented,
    every_role_against_every_endpoint,
    tokens_expire_are_revoked_and_never_exceed_their_user,
    bad_input_gets_a_clear_4xx_and_stores_nothing,
    two_owners_deciding_at_once_cannot_lose_an_update,
    recorded_text_comes_back_as_data,
);

#[tokio::test]
async fn the_first_admin_is_created_once() {
    let store = tacit_store::SqliteStore::in_memory().await.unwrap();
    let made = accounts::bootstrap_admin(
        &store,
        "admin",
        Some("tacit_given_by_the_operator_123"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        made,
        accounts::Bootstrap::Created {
            user: "admin".into(),
            secret: None
        }
    );
    let again =
        accounts::bootstrap_admin(&store, "admin", Some("tacit_other_token_0000000000"), None)
            .await
            .unwrap();
    assert_eq!(again, accounts::Bootstrap::AlreadySetUp);
    let caller = accounts::authenticate(
        &store,
        "tacit_given_by_the_operator_123",
        tacit_core::now_ms(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!((caller.user.as_str(), caller.role), ("admin", Role::Admin));
    assert!(
        accounts::authenticate(&store, "tacit_other_token_0000000000", tacit_core::now_ms())
            .await
            .unwrap()
            .is_err()
    );
    assert!(
        accounts::bootstrap_admin(
            &tacit_store::SqliteStore::in_memory().await.unwrap(),
            "admin",
            Some("short"),
            None
        )
        .await
        .is_err()
    );
}
