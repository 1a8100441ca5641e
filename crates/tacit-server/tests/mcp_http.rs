//! `/mcp` on the team server (issue "AI agents work inside tacit"): the
//! MCP tools over streamable HTTP, refused without a token, read by any
//! role, written only from the operator up; no run is driven on the
//! server. On SQLite and the real PostgreSQL.

mod common;

use common::*;
use serde_json::{Value, json};
use tacit_server::ServerStore;

/// One JSON-RPC request to /mcp: (HTTP status, the response).
async fn rpc(
    c: &Client,
    base: &str,
    token: Option<&str>,
    method: &str,
    params: Value,
) -> (u16, Value) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut headers = vec![
        ("Accept", "application/json, text/event-stream".to_string()),
        ("MCP-Protocol-Version", "2025-11-25".to_string()),
    ];
    if let Some(t) = token {
        headers.push(("Authorization", format!("Bearer {t}")));
    }
    let (status, _, text) = c
        .raw(
            "POST",
            format!("{base}/mcp"),
            headers,
            Some(("application/json".into(), body.to_string().into_bytes())),
        )
        .await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn initialize(c: &Client, base: &str, token: &str) {
    let (status, init) = rpc(
        c,
        base,
        Some(token),
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {},
               "clientInfo": {"name": "http-agent", "version": "1"}}),
    )
    .await;
    assert_eq!(status, 200, "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "tacit", "{init}");
}

/// (is it a tool error, its text).
async fn tool(c: &Client, base: &str, token: &str, name: &str, args: Value) -> (bool, String) {
    let (status, r) = rpc(
        c,
        base,
        Some(token),
        "tools/call",
        json!({"name": name, "arguments": args}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let result = &r["result"];
    assert!(result.is_object(), "{name}: {r}");
    (
        result["isError"] == json!(true),
        result["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

async fn mcp_over_http_follows_tokens_and_roles<S: ServerStore>(store: &S) {
    let (sop, _) = seed(store).await;
    let server = start(store).await;
    let c = Client::new();
    let base = server.base.clone();

    // No token, a wrong one: refused before any MCP is spoken.
    let (status, body) = rpc(&c, &base, None, "tools/list", json!({})).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = rpc(&c, &base, Some("tacit_0000"), "tools/list", json!({})).await;
    assert_eq!(status, 401);

    let viewer = server.tokens["viewer"].clone();
    let operator = server.tokens["operator"].clone();
    initialize(&c, &base, &viewer).await;

    // A viewer reads: the tools are listed, but none that drives a run.
    let (_, list) = rpc(&c, &base, Some(&viewer), "tools/list", json!({})).await;
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for t in [
        "search_sops",
        "get_sop",
        "list_runs",
        "get_run",
        "propose_change",
    ] {
        assert!(names.contains(&t), "{t}: {names:?}");
    }
    assert!(
        !names.contains(&"start_run") && !names.contains(&"run_step"),
        "{names:?}"
    );
    let (err, text) = tool(
        &c,
        &base,
        &viewer,
        "search_sops",
        json!({"query": "worker"}),
    )
    .await;
    assert!(!err, "{text}");
    assert!(text.contains(&sop), "{text}");
    let (err, text) = tool(&c, &base, &viewer, "get_sop", json!({"sop": sop})).await;
    assert!(!err && text.contains("systemctl restart worker"), "{text}");

    // ...and is refused the write tools.
    let (err, text) = tool(
        &c,
        &base,
        &viewer,
        "propose_change",
        json!({"sop": sop, "text": "Check the queue first"}),
    )
    .await;
    assert!(err && text.contains("operator role"), "{text}");
    let before = store.proposals(&sop).await.unwrap().len();

    // An operator proposes; the owner will review it. Secrets are redacted.
    let secret = "ghp_R8tY2kW9qLm4Zp7Xc1Vb6Nn3Hs5Dd0Ff2Gg8";
    let (err, text) = tool(
        &c,
        &base,
        &operator,
        "propose_change",
        json!({"sop": sop, "text": "Drain the queue before restarting", "evidence": format!("token {secret} in the log")}),
    )
    .await;
    assert!(!err, "{text}");
    let proposals = store.proposals(&sop).await.unwrap();
    assert_eq!(proposals.len(), before + 1);
    let mine = proposals.iter().find(|p| p.kind == "suggestion").unwrap();
    assert!(mine.body.contains("Drain the queue"), "{}", mine.body);
    assert!(!mine.body.contains(secret), "{}", mine.body);

    // No run is driven on the server, whatever the role.
    let admin = server.tokens["admin"].clone();
    let (err, text) = tool(&c, &base, &admin, "start_run", json!({"sop": sop})).await;
    assert!(err && text.contains("where their shell is"), "{text}");
}

tacit_store::both_backends!(mcp_over_http_follows_tokens_and_roles);
