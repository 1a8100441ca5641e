//! The generated library the benchmarks share: SOPs with steps and a rule,
//! and guided runs of 50 events spread over them.

#![allow(dead_code)]

use tacit_core::{CommandRecord, Event, EventBody, RunMeta, RunStatus};
use tacit_sop::{DecisionRule, Sop, Step};
use tacit_store::{NewSopVersion, SqliteStore, Store};

pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn sop(i: usize) -> Sop {
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

pub async fn generate(path: &std::path::Path, sops: usize, events: usize) {
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
