//! `cargo bench -p tacit-cli --bench server`: the team server under load.
//!
//! A generated library of 10,000 SOPs and 2,000 guided runs is served by
//! the release `tacit serve`, on SQLite and on the real PostgreSQL (filled
//! by `tacit sync` from the SQLite library, which is the sync figure). Then
//! `wrk` (64 connections, 30 s) asks for one SOP through the API and for
//! its page, side by side with `/healthz` on the same server: the floor any
//! request pays (HTTP, routing, one database round trip).
//!
//! Target (issue "Team server"): at least 5,000 requests/s with p99 under
//! 25 ms on this 2-core machine, wrk included. `BENCH_SECONDS`,
//! `BENCH_SOPS` and `BENCH_EVENTS` scale it down for a quick look;
//! `BENCH_HOLD=1` keeps the loaded servers up for profiling by hand.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use common::{env_or, generate};

const TOKEN: &str = "tacit_bench_admin_token_00000000000000000000";
const PASSWORD: &str = "bench password, long enough";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `tacit serve`; returns it and its base URL.
// The child is returned to the caller, which kills and waits on it.
#[allow(clippy::zombie_processes)]
fn serve(
    db: &std::path::Path,
    config: &std::path::Path,
    database_url: Option<&str>,
) -> (Child, String) {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tacit"));
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("TACIT_DB", db)
        .env("TACIT_CONFIG", config)
        .env("TACIT_ADMIN_TOKEN", TOKEN)
        .env("TACIT_ADMIN_PASSWORD", PASSWORD)
        .env_remove("TACIT_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(url) = database_url {
        cmd.env("TACIT_DATABASE_URL", url);
    }
    let mut child = cmd.spawn().unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            let _ = child.wait();
            panic!("tacit serve did not start");
        }
        if line.contains("http://") {
            std::thread::spawn(move || for _ in reader.lines() {});
            return (child, format!("http://127.0.0.1:{port}"));
        }
    }
}

/// A browser session cookie for the admin.
fn session(base: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let resp = agent
        .post(format!("{base}/login"))
        .content_type("application/x-www-form-urlencoded")
        .send(format!(
            "name=admin&password={}",
            PASSWORD.replace(' ', "+").replace(',', "%2C")
        ))
        .unwrap();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap();
    cookie.split(';').next().unwrap().to_string()
}

struct Load {
    rps: f64,
    p99_ms: f64,
    errors: String,
}

/// `wrk` for `seconds` with 64 connections; requests/s and p99.
fn wrk(url: &str, header: &str, seconds: usize) -> Load {
    let out = Command::new("wrk")
        .args([
            "-t2",
            "-c64",
            &format!("-d{seconds}s"),
            "--latency",
            "-H",
            header,
            url,
        ])
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in: {text}"));
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| {
            let v = v.trim();
            let (num, unit) = v.split_at(v.find(|c: char| c.is_alphabetic()).unwrap_or(v.len()));
            let n: f64 = num.parse().unwrap_or(f64::NAN);
            match unit {
                "us" => n / 1000.0,
                "ms" => n,
                "s" => n * 1000.0,
                _ => f64::NAN,
            }
        })
        .unwrap_or(f64::NAN);
    let errors = text
        .lines()
        .filter(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    Load {
        rps,
        p99_ms: p99,
        errors,
    }
}

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed (apt-get install wrk): nothing measured");
        return;
    }
    let sops = env_or("BENCH_SOPS", 10_000);
    let events = env_or("BENCH_EVENTS", 100_000);
    let seconds = env_or("BENCH_SECONDS", 30);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("library.db");
    let config = dir.path().join("config.toml");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    rt.block_on(generate(&db, sops, events));
    let runs = events / 50;
    eprintln!(
        "generated {sops} SOPs and {runs} runs in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let id = format!("procedure-{:05}", sops / 2);
    let mut rows = Vec::new();
    let mut sync_line = String::new();

    let (sqlite_server, sqlite_base) = serve(&db, &config, None);
    let mut servers = vec![(sqlite_server, sqlite_base, "SQLite")];
    let pg = rt.block_on(tacit_store::testing::postgres());
    if let Some(pg) = &pg {
        let url = format!("{}?options=-csearch_path%3D{}", pg.url, pg.schema);
        let empty = dir.path().join("unused.db");
        let (pg_server, pg_base) = serve(&empty, &config, Some(&url));
        // The PostgreSQL library is filled the way a team's is: by sync.
        let laptop = |args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_tacit"))
                .args(args)
                .env("TACIT_DB", &db)
                .env("TACIT_CONFIG", &config)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out
        };
        laptop(&["login", &pg_base, "--token", TOKEN]);
        let t = Instant::now();
        let out = laptop(&["sync", "--json"]);
        let took = t.elapsed().as_secs_f64();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let pushed = report["runs_pushed"].as_u64().unwrap_or(0);
        let versions = report["versions_pushed"].as_u64().unwrap_or(0);
        sync_line = format!(
            "`tacit sync` to PostgreSQL: {pushed} runs ({events} events) and {versions} SOP versions in {took:.1} s: **{:.0} runs/s** ({:.0} events/s) with the versions in the same sync.",
            pushed as f64 / took,
            events as f64 / took
        );
        assert_eq!(pushed as usize, runs);
        servers.push((pg_server, pg_base, "PostgreSQL"));
    } else {
        eprintln!("PostgreSQL is not answering: measuring SQLite only");
    }

    let bearer = format!("Authorization: Bearer {TOKEN}");
    if std::env::var_os("BENCH_HOLD").is_some() {
        // For profiling by hand: the servers stay up with their data.
        for (child, base, backend) in &servers {
            eprintln!(
                "{backend}: {base} (pid {}), page {base}/sops/{id}, -H 'Cookie: {}', -H '{bearer}'",
                child.id(),
                session(base)
            );
        }
        eprintln!("holding; interrupt to stop");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
    for (_, base, backend) in &servers {
        let cookie = format!("Cookie: {}", session(base));
        for (what, path, header) in [
            (
                "`GET /healthz` (floor)",
                "/healthz".to_string(),
                bearer.clone(),
            ),
            (
                "`GET /api/sops/{id}`",
                format!("/api/sops/{id}"),
                bearer.clone(),
            ),
            (
                "`GET /sops/{id}` (page)",
                format!("/sops/{id}"),
                cookie.clone(),
            ),
        ] {
            let load = wrk(&format!("{base}{path}"), &header, seconds);
            rows.push((what, *backend, load));
        }
    }
    for (mut child, _, _) in servers {
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Some(pg) = pg {
        rt.block_on(pg.cleanup());
    }

    println!(
        "| endpoint ({sops} SOPs, {runs} runs; wrk -t2 -c64 -d{seconds}s) | backend | req/s | p99 | vs floor | target | |"
    );
    println!("|---|---|---:|---:|---:|---|---|");
    for (what, backend, load) in &rows {
        let floor = rows
            .iter()
            .find(|(w, b, _)| w.starts_with("`GET /healthz`") && b == backend)
            .map(|(_, _, l)| l.rps)
            .unwrap_or(f64::NAN);
        let met = load.rps >= 5000.0 && load.p99_ms < 25.0;
        println!(
            "| {what} | {backend} | {:.0} | {:.1} ms | {:.2}x | ≥ 5,000 req/s, p99 < 25 ms | {}{} |",
            load.rps,
            load.p99_ms,
            load.rps / floor,
            if what.contains("floor") {
                "–"
            } else if met {
                "met"
            } else {
                "NOT met"
            },
            if load.errors.is_empty() {
                String::new()
            } else {
                format!(" ({})", load.errors)
            }
        );
    }
    if !sync_line.is_empty() {
        println!("\n{sync_line}");
    }
}
