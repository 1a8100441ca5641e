//! `tacit serve` as a user starts it: the real binary, its first admin,
//! the API over real HTTP, a clean stop on SIGTERM; on SQLite and on the
//! real PostgreSQL.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use support::{World, import_runbook};

const RUNBOOK: &str = "\
# Flush the edge cache

## Steps

1. Purge the CDN.

   ```sh
   ./cdn purge --all
   ```
";

const TOKEN: &str = "tacit_the_operator_chose_this_one_0123456789";

/// Starts `tacit serve` on a free port; returns the process and its URL.
// The child is returned to the caller, which stops and waits on it.
#[allow(clippy::zombie_processes)]
fn start(world: &World, extra_env: &[(&str, &str)]) -> (Child, String, Vec<String>) {
    let mut cmd = world.command(&["serve", "--listen", "127.0.0.1:0"]);
    cmd.env("TACIT_ADMIN_TOKEN", TOKEN)
        .env_remove("TACIT_DATABASE_URL")
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = Vec::new();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            let status = child.wait();
            panic!("tacit serve ended early ({status:?}): {lines:?}");
        }
        lines.push(line.trim_end().to_string());
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            let url = url.to_string();
            // Keep draining stderr so the server never blocks on it.
            std::thread::spawn(move || for _ in reader.lines() {});
            return (child, url, lines);
        }
    }
}

fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = agent.get(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut resp = req.call().unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap())
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    child.wait().unwrap()
}

fn serves_the_library(world: &World, env: &[(&str, &str)], expect_store: &str) {
    let (child, url, lines) = start(world, env);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("created the first admin \"admin\" with TACIT_ADMIN_TOKEN")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.contains(expect_store)), "{lines:?}");
    assert_eq!(get(&format!("{url}/healthz"), None).0, 200);
    assert_eq!(get(&format!("{url}/api/sops"), None).0, 401);
    let (status, body) = get(&format!("{url}/api/sops/flush-edge-cache"), Some(TOKEN));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("./cdn purge --all"), "{body}");
    let (status, body) = get(&format!("{url}/api/openapi.json"), None);
    assert_eq!(status, 200);
    assert!(body.contains("\"openapi\""));
    let code = stop(child);
    assert!(code.success(), "{code:?}");
    // A second start keeps the accounts it has: no new admin.
    let (child, url, lines) = start(world, env);
    assert!(
        !lines.iter().any(|l| l.contains("created the first admin")),
        "{lines:?}"
    );
    assert_eq!(get(&format!("{url}/api/me"), Some(TOKEN)).0, 200);
    assert!(stop(child).success());
}

#[test]
fn serve_on_the_local_library() {
    let world = World::new();
    import_runbook(&world, "flush-edge-cache", RUNBOOK);
    serves_the_library(&world, &[], "tacit.db");
}

#[test]
fn serve_on_postgresql() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(pg) = rt.block_on(tacit_store::testing::postgres()) else {
        return;
    };
    // The library is imported into PostgreSQL through the server's own
    // store, then served from there.
    let world = World::new();
    let sop = tacit_sop::import_markdown(RUNBOOK, "flush-edge-cache")
        .unwrap()
        .sop;
    rt.block_on(tacit_library::save_version(
        &pg.store,
        sop,
        tacit_library::keeping::revision("ann", "imported".into(), vec![]),
        None,
    ))
    .unwrap();
    let url = format!("{}?options=-csearch_path%3D{}", pg.url, pg.schema);
    serves_the_library(&world, &[("TACIT_DATABASE_URL", &url)], "postgres://");
    rt.block_on(pg.cleanup());
}

#[test]
fn a_bad_database_url_is_a_usage_error() {
    let world = World::new();
    let out = world.tacit(&["serve", "--database-url", "mysql://root:hunter2@db/x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("postgres://"), "{err}");
    assert!(
        !err.contains("hunter2"),
        "the password stays out of messages: {err}"
    );
    let out = world.tacit(&[
        "serve",
        "--database-url",
        "postgres://nobody:hunter2@127.0.0.1:1/none",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot open the library"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// The server's view of a run, as the API gives it.
fn run_on_server(url: &str, id: &str) -> Option<serde_json::Value> {
    let (status, body) = get(&format!("{url}/api/runs/{id}"), Some(TOKEN));
    (status == 200).then(|| serde_json::from_str(&body).unwrap())
}

#[test]
fn a_shared_recording_is_on_the_server_while_it_happens() {
    if !support::require_shell("bash") {
        return;
    }
    let host = World::new();
    let (server, url, _) = start(&host, &[]);
    let laptop = World::new();
    let out = laptop.tacit(&["login", &url, "--token", TOKEN]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let work = laptop.dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let mut t = laptop.record("hotfix", "bash", &work, &["--share"]);
    t.run("echo patched-the-config");
    // While the recording goes on, a teammate already sees the command.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let seen = loop {
        if let Some(run) = run_on_server(&url, &t.run_id)
            && run["events"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["command"] == "echo patched-the-config"))
        {
            break run;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the command never reached the server"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(seen["run"]["status"], "recording");
    t.line("exit");
    t.expect("Shared with");
    t.wait();
    let done = run_on_server(&url, &t.run_id).unwrap();
    assert_eq!(done["run"]["status"], "completed");
    assert_eq!(done["chain"]["intact"], true, "{}", done["chain"]);
    assert!(stop(server).success());
}

#[test]
fn share_without_a_login_is_a_usage_error() {
    let laptop = World::new();
    let out = laptop.tacit(&["record", "x", "--share"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tacit login"));
}
