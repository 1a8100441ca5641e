//! `cargo bench -p tacit-cli --bench library`: `tacit status` and `tacit
//! search` on a generated library of 10,000 SOPs and 1,000,000 events.
//!
//! Targets (issue "Keep alive"): status under 100 ms, search under 50 ms,
//! measured as the wall time of the real binary, process start included.
//! `BENCH_SOPS` and `BENCH_EVENTS` scale the library down for a quick look;
//! `BENCH_DB=FILE` keeps the generated library for the next run.

use std::process::Command;
use std::time::{Duration, Instant};

use tacit_core::{CommandRecord, Event, EventBody, RunMeta, RunStatus};
use tacit_sop::{DecisionRule, Sop, Step};
use tacit_store::{NewSopVersion, SqliteStore, Store};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sop(i: usize) -> Sop {
    Sop {
        id: format!("procedure-{i:05}"),
        title: format!("Procedure {i}"),
        version: 1,
        purpose: format!("Keep service {} healthy", i % 97),
        steps: (0..6)
            .map(|s| Step {
                title: format!("Step {s} of {i}"),
                commands: vec![format!("./scripts/task-{s}.sh --service svc-{}", i % 97)],
                ..Default::default()
            })
            .collect(),
        rules: vec![DecisionRule {
            step: Some(format!("Step 2 of {i}")),
            then: "Remove the stale lock and rerun".into(),
            because: format!("A lock whose process is gone is left over from a crashed run ({i})"),
            ..Default::default()
        }],
        owner: (!i.is_multiple_of(3)).then(|| "ops".to_string()),
        review_every_days: Some(90),
        ..Default::default()
    }
}

async fn generate(path: &std::path::Path, sops: usize, events: usize) {
    let store = SqliteStore::open(path).await.unwrap();
    for i in 0..sops {
        let s = sop(i);
        let text = format!("{} {} {}", s.title, s.purpose, s.rules[0].because);
        let body = s.to_json();
        let json = move |_v: u32| body.clone();
        store
            .add_sop_version(
                &s.id,
                &NewSopVersion {
                    base: None,
                    title: &s.title,
                    author: "bench",
                    summary: "generated",
                    search_text: &text,
                    owner: s.owner.as_deref(),
                    review_every_days: s.review_every_days,
                    body: &json,
                },
            )
            .await
            .unwrap();
    }
    // Guided runs of 50 events each, spread over the SOPs.
    let per_run = 50;
    let runs = events / per_run;
    for r in 0..runs {
        let sop_id = format!("procedure-{:05}", r % sops);
        let meta = RunMeta {
            id: format!("run-{r:07}"),
            name: sop_id.clone(),
            shell: "bash".into(),
            started_at_ms: 1_700_000_000_000 + r as i64 * 60_000,
            ended_at_ms: None,
            status: RunStatus::Completed,
            host: "h".into(),
            user: format!("user{}", r % 7),
            start_cwd: "/srv".into(),
            recorder_pid: None,
            tacit_version: "bench".into(),
            cols: 80,
            rows: 24,
            sop_id: Some(sop_id),
            sop_version: Some(1),
            imported_at_ms: None,
        };
        store.upsert_run(&meta).await.unwrap();
        let evs: Vec<Event> = (1..=per_run as u64)
            .map(|seq| Event {
                seq,
                at_ms: meta.started_at_ms + seq as i64,
                body: if seq == per_run as u64 {
                    EventBody::Outcome {
                        outcome: if r.is_multiple_of(5) {
                            "failed".into()
                        } else {
                            "succeeded".into()
                        },
                        summary: String::new(),
                    }
                } else if seq.is_multiple_of(17) {
                    EventBody::Deviation {
                        step: "Step 2".into(),
                        what: "skipped".into(),
                        reason: "bench".into(),
                    }
                } else {
                    EventBody::Command(CommandRecord {
                        command: format!("./scripts/task-{}.sh", seq % 6),
                        cwd: "/srv".into(),
                        started_at_ms: 0,
                        duration_ms: 5,
                        exit_code: Some(0),
                        output: "ok".into(),
                        output_bytes: 2,
                        output_dropped_bytes: 0,
                        full_screen: false,
                    })
                },
            })
            .collect();
        store.append_events(&meta.id, &evs).await.unwrap();
        store
            .set_outcome(
                &meta.id,
                if r.is_multiple_of(5) {
                    "failed"
                } else {
                    "succeeded"
                },
            )
            .await
            .unwrap();
    }
    for i in 0..sops {
        store
            .refresh_health(&format!("procedure-{i:05}"))
            .await
            .unwrap();
    }
    store.close().await;
}

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
