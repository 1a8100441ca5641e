//! `tacit login` and `tacit sync` against a real `tacit serve` on the real
//! PostgreSQL: two laptops syncing at once, and a server killed mid-sync.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::World;
use tacit_core::{CommandRecord, Event, EventBody, RunMeta, RunStatus};
use tacit_store::{SqliteStore, Store};

const TOKEN: &str = "tacit_sync_test_admin_token_0123456789abcdef";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `tacit serve` on PostgreSQL (the test's schema) at `port`.
// The child is returned to the caller, which stops and waits on it.
#[allow(clippy::zombie_processes)]
fn serve(world: &World, url: &str, port: u16) -> Child {
    let mut child = world
        .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("TACIT_DATABASE_URL", url)
        .env("TACIT_ADMIN_TOKEN", TOKEN)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            let status = child.wait();
            panic!("tacit serve ended early: {status:?}");
        }
        if line.contains("http://") {
            std::thread::spawn(move || for _ in reader.lines() {});
            return child;
        }
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Fills a world's library with `n` finished runs of `events` events each.
fn fill(world: &World, prefix: &str, n: usize, events: u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&world.db()).await.unwrap();
        for i in 0..n {
            let id = format!("{prefix}-{i:05}");
            store
                .upsert_run(&RunMeta {
                    id: id.clone(),
                    name: format!("{prefix}-procedure"),
                    shell: "bash".into(),
                    started_at_ms: 1_700_000_000_000 + i as i64,
                    ended_at_ms: Some(1_700_000_000_500 + i as i64),
                    status: RunStatus::Completed,
                    host: prefix.into(),
                    user: prefix.into(),
                    start_cwd: "/".into(),
                    recorder_pid: None,
                    tacit_version: "0".into(),
                    cols: 80,
                    rows: 24,
                    sop_id: None,
                    sop_version: None,
                    imported_at_ms: None,
                })
                .await
                .unwrap();
            let evs: Vec<Event> = (1..=events)
                .map(|s| Event {
                    seq: s,
                    at_ms: s as i64,
                    body: EventBody::Command(CommandRecord {
                        command: format!("step {s} of {id}"),
                        cwd: "/".into(),
                        started_at_ms: 0,
                        duration_ms: 1,
                        exit_code: Some(0),
                        output: "ok".into(),
                        output_bytes: 2,
                        output_dropped_bytes: 0,
                        full_screen: false,
                    }),
                })
                .collect();
            store.append_events(&id, &evs).await.unwrap();
        }
        store.close().await;
    });
}

fn login(world: &World, port: u16) {
    let out = world.tacit(&[
        "login",
        &format!("http://127.0.0.1:{port}"),
        "--token",
        TOKEN,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("as admin (admin)"), "{said}");
    use std::os::unix::fs::PermissionsExt;
    let file = world.dir.path().join("remote.toml");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the token is readable only by its owner");
}

fn sizes(world: &World) -> Vec<(String, u64)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&world.db()).await.unwrap();
        let s = store
            .run_sizes()
            .await
            .unwrap()
            .into_iter()
            .map(|(id, n, _)| (id, n))
            .collect();
        store.close().await;
        s
    })
}

fn server_sizes(
    pg: &tacit_store::testing::TestPg,
    rt: &tokio::runtime::Runtime,
) -> Vec<(String, u64)> {
    rt.block_on(pg.store.run_sizes())
        .unwrap()
        .into_iter()
        .map(|(id, n, _)| (id, n))
        .collect()
}

fn pg_url(pg: &tacit_store::testing::TestPg) -> String {
    format!("{}?options=-csearch_path%3D{}", pg.url, pg.schema)
}

#[test]
fn two_laptops_sync_at_once_and_end_with_the_same_library() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(pg) = rt.block_on(tacit_store::testing::postgres()) else {
        return;
    };
    let (a, b, host) = (World::new(), World::new(), World::new());
    let port = free_port();
    let server = serve(&host, &pg_url(&pg), port);
    fill(&a, "ann", 120, 12);
    fill(&b, "bob", 120, 12);
    support::import_runbook(
        &a,
        "rotate-key",
        "# Rotate the key\n\n## Steps\n\n1. Rotate.\n\n   ```sh\n   ./rotate\n   ```\n",
    );
    support::import_runbook(
        &b,
        "flush-cache",
        "# Flush the cache\n\n## Steps\n\n1. Flush.\n\n   ```sh\n   ./flush\n   ```\n",
    );
    login(&a, port);
    login(&b, port);
    // A wrong token is refused and nothing is kept.
    let c = World::new();
    let out = c.tacit(&[
        "login",
        &format!("http://127.0.0.1:{port}"),
        "--token",
        "tacit_wrong",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
    assert!(!c.dir.path().join("remote.toml").exists());
    let out = c.tacit(&["sync"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tacit login"));

    // Both at once, then each once more to fetch what the other sent.
    let ta = a.command(&["sync"]).stdout(Stdio::piped()).spawn().unwrap();
    let tb = b.command(&["sync"]).stdout(Stdio::piped()).spawn().unwrap();
    for t in [ta, tb] {
        let out = t.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    for w in [&a, &b] {
        let out = w.tacit(&["sync"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let on_server = server_sizes(&pg, &rt);
    assert_eq!(on_server.len(), 240, "no run lost or doubled");
    assert!(
        on_server.iter().all(|(_, n)| *n == 12),
        "every event arrived once"
    );
    assert_eq!(sizes(&a), on_server);
    assert_eq!(sizes(&b), on_server);
    let versions = rt
        .block_on(tacit_library::sync::version_list(&pg.store))
        .unwrap();
    let ids: Vec<(&str, u32)> = versions
        .iter()
        .map(|(id, v, _)| (id.as_str(), *v))
        .collect();
    assert_eq!(ids, [("flush-cache", 1), ("rotate-key", 1)]);
    // Once more changes nothing.
    let out = a.tacit(&["sync", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["runs_pushed"], 0);
    assert_eq!(report["runs_pulled"], 0);
    assert_eq!(report["versions_pushed"], 0);
    stop(server);
    rt.block_on(pg.cleanup());
}

#[test]
fn a_server_killed_mid_sync_comes_back_and_the_sync_finishes() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(pg) = rt.block_on(tacit_store::testing::postgres()) else {
        return;
    };
    let (laptop, host) = (World::new(), World::new());
    let port = free_port();
    let url = pg_url(&pg);
    let server = serve(&host, &url, port);
    fill(&laptop, "ann", 300, 60);
    login(&laptop, port);
    let mut sync = laptop
        .command(&["sync"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill the server once part of the library has arrived.
    let started = Instant::now();
    loop {
        let arrived = server_sizes(&pg, &rt).len();
        if arrived >= 20 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut server = server;
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&server),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let _ = server.wait();
    let partial = server_sizes(&pg, &rt).len();
    assert!(
        sync.try_wait().unwrap().is_none(),
        "the sync was still running when the server died"
    );
    assert!(partial < 300, "killed mid-sync ({partial} runs)");
    std::thread::sleep(Duration::from_millis(800));
    let server = serve(&host, &url, port);
    let status = sync.wait().unwrap();
    assert!(status.success(), "the sync carried on after the restart");
    let on_server = server_sizes(&pg, &rt);
    assert_eq!(on_server.len(), 300);
    assert!(on_server.iter().all(|(_, n)| *n == 60));
    // And a second sync finds nothing left to do.
    let out = laptop.tacit(&["sync", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            report["runs_pushed"].as_u64(),
            report["runs_pulled"].as_u64()
        ),
        (Some(0), Some(0))
    );
    stop(server);
    rt.block_on(pg.cleanup());
}
