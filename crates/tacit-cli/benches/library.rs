//! `cargo bench -p tacit-cli --bench library`: `tacit status` and `tacit
//! search` on a generated library of 10,000 SOPs and 1,000,000 events.
//!
//! Targets (issue "Keep alive"): status under 100 ms, search under 50 ms,
//! measured as the wall time of the real binary, process start included.
//! `BENCH_SOPS` and `BENCH_EVENTS` scale the library down for a quick look;
//! `BENCH_DB=FILE` keeps the generated library for the next run.

use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{env_or, generate};

fn median_ms(rounds: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<Duration> = (0..rounds)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[rounds / 2].as_secs_f64() * 1e3
}

fn main() {
    let sops = env_or("BENCH_SOPS", 10_000);
    let events = env_or("BENCH_EVENTS", 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    // BENCH_DB keeps (and reuses) the generated library between runs.
    let db = std::env::var_os("BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("library.db"));
    if !db.exists() {
        let started = Instant::now();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(generate(&db, sops, events));
        eprintln!(
            "generated {sops} SOPs and {events} events in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    let bin = env!("CARGO_BIN_EXE_tacit");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .env("TACIT_DB", &db)
            .env("TACIT_CONFIG", dir.path().join("none.toml"))
            .output()
            .unwrap();
        assert!(
            out.status.success() || args[0] == "status",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    // Warm the page cache once, as a second invocation would find it.
    let check = run(&["status", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), sops);
    let status = median_ms(7, || {
        run(&["status", "--json"]);
    });
    let search = median_ms(7, || {
        run(&["search", "crashed", "lock"]);
    });
    let verdict = |t: f64, limit: f64| if t < limit { "met" } else { "NOT met" };
    println!("| benchmark ({sops} SOPs, {events} events) | median | target | |");
    println!("|---|---|---|---|");
    println!(
        "| `tacit status --json` | {status:.1} ms | < 100 ms | {} |",
        verdict(status, 100.0)
    );
    println!(
        "| `tacit search crashed lock` | {search:.1} ms | < 50 ms | {} |",
        verdict(search, 50.0)
    );
}
