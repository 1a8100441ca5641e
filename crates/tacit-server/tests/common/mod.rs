//! What the server's tests share: a seeded library, a server on a free
//! port with one token (and one password) per role, and an HTTP client.

#![allow(dead_code)]

use std::collections::BTreeMap;

use serde_json::Value;
use tacit_core::{Event, EventBody, RunMeta, RunStatus};
use tacit_library::accounts::{self, Role};
use tacit_server::ServerStore;

/// Every seeded account's password.
pub const PASSWORD: &str = "a long enough password";

pub const RUNBOOK: &str = "\
# Restart the worker <script>alert('title')</script>

Use when the queue stops draining.

## Steps

1. Check the queue depth.

   ```sh
   ./queue depth
   ```

2. Restart the worker.

   ```sh
   systemctl restart worker
   ```
";

/// A running server on a free port, and the secrets of one token per role.
pub struct Server {
    pub base: String,
    pub tokens: BTreeMap<&'static str, String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
    }
}

/// A small HTTP client: (status, parsed JSON or the text as a string).
#[derive(Clone)]
pub struct Client {
    pub agent: ureq::Agent,
}

impl Client {
    pub fn new() -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A server may close a kept-alive connection after refusing a
            // request whose body it did not read; a fresh connection per
            // request keeps that from looking like a failure here.
            .max_idle_connections(0)
            .max_redirects(0)
            .build()
            .into();
        Client { agent }
    }

    /// Any request with any headers: (status, response headers, body text).
    pub async fn raw(
        &self,
        method: &str,
        url: String,
        headers: Vec<(&'static str, String)>,
        body: Option<(String, Vec<u8>)>,
    ) -> (u16, BTreeMap<String, String>, String) {
        let agent = self.agent.clone();
        let method = method.to_string();
        tokio::task::spawn_blocking(move || {
            let mut req = ureq::http::Request::builder()
                .method(method.as_str())
                .uri(&url);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let result = match body {
                Some((ctype, bytes)) => {
                    agent.run(req.header("Content-Type", ctype).body(bytes).unwrap())
                }
                None => agent.run(req.body(()).unwrap()),
            };
            let mut resp = result.unwrap();
            let status = resp.status().as_u16();
            let heads = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        v.to_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            (status, heads, text)
        })
        .await
        .unwrap()
    }

    pub async fn call(
        &self,
        method: &str,
        url: String,
        token: Option<String>,
        body: Option<(String, Vec<u8>)>,
    ) -> (u16, Value) {
        let agent = self.agent.clone();
        let method = method.to_string();
        tokio::task::spawn_blocking(move || {
            let mut req = ureq::http::Request::builder()
                .method(method.as_str())
                .uri(&url);
            if let Some(t) = token {
                req = req.header("Authorization", format!("Bearer {t}"));
            }
            let result = match body {
                Some((ctype, bytes)) => {
                    let req = req.header("Content-Type", ctype).body(bytes).unwrap();
                    agent.run(req)
                }
                None => agent.run(req.body(()).unwrap()),
            };
            match result {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let text = resp
                        .body_mut()
                        .with_config()
                        .limit(64 * 1024 * 1024)
                        .read_to_string()
                        .unwrap_or_default();
                    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                    (status, value)
                }
                // The server may close the connection on a body it refuses
                // before reading it all.
                Err(e) => (0, Value::String(e.to_string())),
            }
        })
        .await
        .unwrap()
    }
}

pub async fn seed<S: ServerStore>(store: &S) -> (String, String) {
    let imported = tacit_sop::import_markdown(RUNBOOK, "restart-worker").unwrap();
    let sop = tacit_library::save_version(
        store,
        imported.sop,
        tacit_library::keeping::revision("ann", "imported".into(), vec![]),
        None,
    )
    .await
    .unwrap();
    let sop = tacit_library::keeping::set_owner(store, &sop.id, "olga", Some(90), "olga")
        .await
        .unwrap()
        .sop;
    let run = RunMeta {
        id: "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0001".into(),
        name: sop.id.clone(),
        shell: "bash".into(),
        started_at_ms: 1_700_000_000_000,
        ended_at_ms: Some(1_700_000_060_000),
        status: RunStatus::Completed,
        host: "h".into(),
        user: "bob".into(),
        start_cwd: "/".into(),
        recorder_pid: None,
        tacit_version: "0".into(),
        cols: 80,
        rows: 24,
        sop_id: Some(sop.id.clone()),
        sop_version: Some(sop.version),
        imported_at_ms: None,
    };
    store.upsert_run(&run).await.unwrap();
    store
        .append_events(
            &run.id,
            &[Event {
                seq: 1,
                at_ms: 1,
                body: EventBody::Note {
                    text: "<img src=x onerror=alert(1)> noted".into(),
                },
            }],
        )
        .await
        .unwrap();
    let proposals: Vec<tacit_runner::Proposal> = (0..3)
        .map(|i| tacit_runner::Proposal {
            kind: "edge_case".into(),
            step: sop.steps[1].title.clone(),
            command: "systemctl restart worker".into(),
            exit_code: Some(3),
            output: format!("error: queue locked ({i})\n"),
            answer: Some(tacit_runner::OperatorAnswer {
                action: format!("removed the lock {i}"),
                reason: "a crashed worker leaves it".into(),
                escalate: None,
            }),
            summary: format!("restart failed {i}"),
        })
        .collect();
    tacit_library::runs::file_proposals(store, &sop, &run.id, &proposals)
        .await
        .unwrap();
    (sop.id, run.id)
}

pub async fn start<S: ServerStore>(store: &S) -> Server {
    let mut tokens = BTreeMap::new();
    let boot = accounts::bootstrap_admin(store, "root", None, None)
        .await
        .unwrap();
    let accounts::Bootstrap::Created {
        secret: Some(admin),
        ..
    } = boot
    else {
        panic!("{boot:?}")
    };
    tokens.insert("admin", admin);
    for (name, role) in [
        ("vera", Role::Viewer),
        ("otto", Role::Operator),
        ("olga", Role::Owner),
        ("oscar", Role::Owner),
    ] {
        accounts::create_user(store, name, role, Some(PASSWORD))
            .await
            .unwrap();
        let t = accounts::mint_token(store, name, "test", None, Some(1))
            .await
            .unwrap();
        tokens.insert(
            match name {
                "vera" => "viewer",
                "otto" => "operator",
                "olga" => "owner",
                _ => "other-owner",
            },
            t.secret,
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let store = store.clone();
    tokio::spawn(async move {
        tacit_server::serve(store, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Server {
        base,
        tokens,
        shutdown: Some(tx),
    }
}
