//! The web UI in a real browser: Debian's headless Chromium driven through
//! chromedriver's WebDriver protocol. Under `CI=true` a missing browser is
//! a failure; elsewhere the test says it skipped.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, PASSWORD, start};
use serde_json::{Value, json};
use tacit_store::Store;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one browser session in it.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .agent
            .delete(format!("{}/session/{}", self.base, self.session))
            .call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn find_program(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {n}"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    })
}

impl Browser {
    fn start() -> Option<Browser> {
        let chromium = find_program(&["chromium", "chromium-browser"]);
        let driver = find_program(&["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "chromium and chromedriver are required under CI=true (apt-get install chromium chromium-driver)"
                );
            }
            eprintln!("SKIPPED: chromium or chromedriver is not installed");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1200,1600"]
            }
        }}});
        let mut browser = Browser {
            driver: child,
            base,
            session: String::new(),
            agent,
        };
        let v = browser.send("POST", "/session", Some(caps));
        browser.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        Some(browser)
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut resp = match body {
            Some(b) => self
                .agent
                .post(&url)
                .content_type("application/json")
                .send(b.to_string())
                .unwrap(),
            None if method == "GET" => self.agent.get(&url).call().unwrap(),
            None => self
                .agent
                .post(&url)
                .content_type("application/json")
                .send("{}")
                .unwrap(),
        };
        let text = resp.body_mut().read_to_string().unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        v["value"].clone()
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.send(method, &format!("/session/{}{path}", self.session), body)
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", None).as_str().unwrap().to_string()
    }

    fn find(&self, css: &str) -> Option<String> {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v[ELEMENT].as_str().map(str::to_string)
    }

    fn el(&self, css: &str) -> String {
        self.find(css)
            .unwrap_or_else(|| panic!("no {css} on {}: {}", self.url(), self.text("body")))
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.el(css);
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn click(&self, css: &str) {
        let e = self.el(css);
        self.cmd("POST", &format!("/element/{e}/click"), None);
    }

    fn text(&self, css: &str) -> String {
        match self.find(css) {
            Some(e) => self
                .cmd("GET", &format!("/element/{e}/text"), None)
                .as_str()
                .unwrap_or_default()
                .to_string(),
            None => String::new(),
        }
    }

    fn displayed(&self, css: &str) -> bool {
        let e = self.el(css);
        self.cmd("GET", &format!("/element/{e}/displayed"), None) == json!(true)
    }

    /// The rendered size of an element, to see that it is really drawn.
    fn size(&self, css: &str) -> (f64, f64) {
        let e = self.el(css);
        let r = self.cmd("GET", &format!("/element/{e}/rect"), None);
        (r["width"].as_f64().unwrap(), r["height"].as_f64().unwrap())
    }

    fn log_in(&self, server: &str, name: &str) {
        self.goto(&format!("{server}/"));
        assert!(self.url().contains("/login"), "{}", self.url());
        self.type_into("input[name=name]", name);
        self.type_into("input[name=password]", PASSWORD);
        self.click("form[action='/login'] button");
        self.wait_until(&format!("{name} is logged in"), || {
            self.text("header .who").starts_with(name)
        });
    }

    fn log_out(&self) {
        self.click("form[action='/logout'] button");
        self.wait_until("the login page", || self.url().contains("/login"));
    }

    /// Waits (up to 10 s) for a page that a click started to load.
    fn wait_until(&self, what: &str, mut ok: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ok() {
            assert!(
                Instant::now() < deadline,
                "waited for {what}; at {}: {}",
                self.url(),
                self.text("body")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_works_in_the_browser() {
    let store = tacit_store::SqliteStore::in_memory().await.unwrap();
    let (sop, _) = common::seed(&store).await;
    // A run being recorded right now, for the live page.
    let live = serde_json::json!({
        "id": "live-run-0042", "name": "hotfix", "shell": "bash", "started_at_ms": 1000,
        "ended_at_ms": null, "status": "recording", "host": "laptop", "user": "otto",
        "start_cwd": "/", "recorder_pid": null, "tacit_version": "0", "cols": 80, "rows": 24,
        "sop_id": null, "sop_version": null, "imported_at_ms": null
    });
    store
        .upsert_run(&serde_json::from_value(live.clone()).unwrap())
        .await
        .unwrap();
    let server = start(&store).await;
    let base = server.base.clone();
    let admin = server.tokens["admin"].clone();
    let sop_for_browser = sop.clone();
    let secret_holder = tokio::task::spawn_blocking(move || {
        let b = Browser::start()?;
        let sop = sop_for_browser;
        // A viewer logs in, searches, opens the SOP: its flowchart is drawn.
        b.log_in(&base, "vera");
        b.type_into("input[name=q]", "queue depth");
        b.click("form[role=search] button");
        b.wait_until("the search", || b.url().contains("q=queue"));
        b.click(&format!("a[href='/sops/{sop}']"));
        b.wait_until("the SOP", || b.url().ends_with(&format!("/sops/{sop}")));
        assert!(b.text("h1").contains("<script>"), "the title shows as text");
        assert!(b.displayed("#flowchart svg"));
        let (w, h) = b.size("#flowchart svg");
        assert!(w > 200.0 && h > 80.0, "flowchart {w}x{h}");
        assert!(b.text("#flowchart").contains("Restart the worker."));
        // The viewer is refused approval: no buttons, and the reason.
        b.goto(&format!("{base}/review"));
        assert!(b.find("button[value=accept]").is_none());
        assert!(
            b.text("main")
                .contains("Only the SOP's owner (olga) or an admin decides")
        );
        // A token made and revoked in the browser; refused afterwards.
        b.goto(&format!("{base}/tokens"));
        b.type_into("input[name=label]", "laptop");
        b.click("form[action='/tokens'] button");
        b.wait_until("the new token", || b.find("#new-token").is_some());
        let secret = b.text("#new-token");
        assert!(secret.starts_with("tacit_"), "{secret}");
        b.click("tr[id^=token-] form button");
        b.wait_until("the revocation", || b.text("main").contains("revoked"));
        b.log_out();
        // The owner accepts a proposal from her queue.
        b.log_in(&base, "olga");
        b.goto(&format!("{base}/review"));
        let before = b.text("main");
        assert!(before.contains("restart failed 0"), "{before}");
        b.click("button[value=accept]");
        b.wait_until("the decision", || b.url().contains("/review?done="));
        assert!(b.text(".notice").contains("accepted"), "{}", b.text("main"));
        // A live run's page shows a command the moment it is recorded.
        b.goto(&format!("{base}/runs/live-run-0042"));
        assert!(b.text("#live-note").contains("being recorded"));
        let push = serde_json::json!({
            "meta": live,
            "events": [{"event": {"seq": 1, "at_ms": 1500, "kind": "command",
                "command": "systemctl restart worker", "cwd": "/", "started_at_ms": 1500,
                "duration_ms": 20, "exit_code": 0, "output": "ok", "output_bytes": 2,
                "output_dropped_bytes": 0, "full_screen": false}, "hash": null}]
        });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let resp = agent
            .post(format!("{base}/api/sync/runs"))
            .header("Authorization", format!("Bearer {admin}"))
            .content_type("application/json")
            .send(push.to_string())
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        b.wait_until("the live command", || {
            b.text("#timeline").contains("systemctl restart worker")
        });
        Some(secret)
    })
    .await
    .unwrap();
    let Some(secret) = secret_holder else {
        return;
    };
    // What the browser did is in the library.
    let latest = store.sop_version(&sop, None).await.unwrap().unwrap();
    assert_eq!((latest.version, latest.author.as_str()), (3, "olga"));
    let accepted = store
        .proposals(&sop)
        .await
        .unwrap()
        .iter()
        .filter(|p| p.status == "accepted")
        .count();
    assert_eq!(accepted, 1);
    let (status, _) = Client::new()
        .call("GET", format!("{}/api/me", server.base), Some(secret), None)
        .await;
    assert_eq!(status, 401, "the revoked token is refused");
}
