//! The library's operations, driven through the `Store` trait as every
//! edge calls them. Each scenario is written once over `S: Store` and run
//! against every backend this machine has.

use std::collections::BTreeMap;

use tacit_core::{Event, EventBody, RunMeta, RunStatus};
use tacit_library::review::{Change, Review};
use tacit_library::{LibraryError, keeping, runs, status};
use tacit_runner::{OperatorAnswer, Proposal};
use tacit_sop::Sop;
use tacit_store::Store;

const RUNBOOK: &str = "\
# Restart the worker

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

async fn saved_sop<S: Store>(store: &S) -> Sop {
    let imported = tacit_sop::import_markdown(RUNBOOK, "restart-worker").unwrap();
    tacit_library::save_version(
        store,
        imported.sop,
        keeping::revision("ann", "imported".into(), vec![]),
        None,
    )
    .await
    .unwrap()
}

fn meta(id: &str, sop: &Sop, status: RunStatus, started: i64) -> RunMeta {
    RunMeta {
        id: id.into(),
        name: sop.id.clone(),
        shell: "bash".into(),
        started_at_ms: started,
        ended_at_ms: Some(started + 1000),
        status,
        host: "elsewhere".into(),
        user: "bob".into(),
        start_cwd: "/".into(),
        recorder_pid: None,
        tacit_version: "0".into(),
        cols: 80,
        rows: 24,
        sop_id: Some(sop.id.clone()),
        sop_version: Some(sop.version),
        imported_at_ms: None,
    }
}

fn event(seq: u64, body: EventBody) -> Event {
    Event {
        seq,
        at_ms: seq as i64,
        body,
    }
}

fn failure(step: &str, command: &str, action: &str, reason: &str) -> Proposal {
    Proposal {
        kind: "edge_case".into(),
        step: step.into(),
        command: command.into(),
        exit_code: Some(3),
        output: "error: queue locked by another worker\n".into(),
        answer: Some(OperatorAnswer {
            action: action.into(),
            reason: reason.into(),
            escalate: None,
        }),
        summary: format!("{command} failed: {action}"),
    }
}

async fn ownership_review_and_history<S: Store>(store: &S) {
    let sop = saved_sop(store).await;
    assert_eq!(sop.version, 1);
    let err = keeping::compare(store, &sop.id, None, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("only version 1"), "{err}");

    let owned = keeping::set_owner(store, &sop.id, "platform", Some(30), "ann")
        .await
        .unwrap();
    assert_eq!(owned.sop.version, 2);
    assert_eq!(owned.summary, "Owner: platform; review every 30 days");
    assert_eq!(owned.sop.owner.as_deref(), Some("platform"));
    // Taking ownership is a review of what is there.
    assert_eq!(
        store
            .last_review(&sop.id)
            .await
            .unwrap()
            .map(|r| (r.0, r.1)),
        Some((2, "ann".to_string()))
    );

    let history = keeping::history(store, &sop.id).await.unwrap();
    let marks: Vec<(u32, bool)> = history
        .iter()
        .map(|h| (h.version.version, h.metadata_only))
        .collect();
    assert_eq!(marks, [(1, false), (2, true)]);
    assert_eq!(history[1].version.author, "ann");

    let confirmed = keeping::confirm_review(store, &sop.id, "carol")
        .await
        .unwrap();
    assert_eq!(
        (confirmed.version, confirmed.reviewer.as_str()),
        (2, "carol")
    );
    let due = confirmed.next_due_ms.unwrap() - tacit_core::now_ms();
    assert!((29 * 86_400_000..=30 * 86_400_000).contains(&due), "{due}");

    let cmp = keeping::compare(store, &sop.id, None, None).await.unwrap();
    assert_eq!((cmp.old.version, cmp.new.version), (1, 2));
    assert!(matches!(
        keeping::history(store, "no-such-sop").await,
        Err(LibraryError::NotFound(_))
    ));
    assert!(matches!(
        keeping::compare(store, &sop.id, Some(1), Some(9)).await,
        Err(LibraryError::NotFound(_))
    ));
}

async fn proposals_are_filed_reviewed_and_never_lost<S: Store>(store: &S) {
    let sop = saved_sop(store).await;
    let run = meta("run-0001-aaaaaaaa", &sop, RunStatus::Completed, 10);
    store.upsert_run(&run).await.unwrap();
    let proposals = [
        failure(
            "Restart the worker",
            "systemctl restart worker",
            "removed /run/worker.lock",
            "a crashed worker leaves its lock behind",
        ),
        failure(
            "Check the queue depth.",
            "./queue depth",
            "waited a minute",
            "the depth endpoint warms up after a deploy",
        ),
    ];
    let filed = runs::file_proposals(store, &sop, &run.id, &proposals)
        .await
        .unwrap();
    assert_eq!(filed, 2);
    // Filing the same run again doubles nothing.
    runs::file_proposals(store, &sop, &run.id, &proposals)
        .await
        .unwrap();
    assert_eq!(store.proposals(&sop.id).await.unwrap().len(), 2);

    // Two reviewers start from the same version.
    let mut first = Review::start(store, &sop.id).await.unwrap();
    let mut second = Review::start(store, &sop.id).await.unwrap();
    assert_eq!(first.pending().len(), 2);
    assert!(matches!(first.pending()[0].change, Change::Evidence(_)));
    let (a, b) = (
        first.pending()[0].proposal.id.clone(),
        first.pending()[1].proposal.id.clone(),
    );
    let said = first.accept(&a).unwrap();
    assert!(!said.is_empty());
    assert!(
        first.reject(&b, "  ").is_err(),
        "a rejection needs its reason"
    );
    first.reject(&b, "the endpoint is fixed since 2.3").unwrap();
    let done = first.finish(store, "platform-lead").await.unwrap();
    let saved = done.saved.expect("an accepted proposal saves a version");
    assert_eq!((saved.version, done.accepted, done.rejected), (2, 1, 1));
    assert!(
        saved
            .rules
            .iter()
            .any(|r| r.because.contains("lock behind"))
            || saved
                .edge_cases
                .iter()
                .any(|e| e.handling.contains("worker.lock")),
        "the accepted answer is in the SOP: {saved:?}"
    );
    assert_eq!(
        saved.revisions.last().map(|r| r.author.as_str()),
        Some("platform-lead")
    );

    // The second reviewer started from version 1: refused, nothing saved,
    // nothing resolved.
    second.accept(&b).unwrap();
    let err = second.finish(store, "bob").await.unwrap_err();
    assert!(tacit_library::review::is_conflict(&err), "{err}");
    assert_eq!(store.sop_versions(&sop.id).await.unwrap().len(), 2);
    let stored = store.proposals(&sop.id).await.unwrap();
    let state: BTreeMap<&str, (&str, Option<&str>)> = stored
        .iter()
        .map(|p| (p.id.as_str(), (p.status.as_str(), p.resolution.as_deref())))
        .collect();
    assert_eq!(state[a.as_str()].0, "accepted");
    assert_eq!(
        state[b.as_str()],
        ("rejected", Some("the endpoint is fixed since 2.3"))
    );

    // A rejected proposal is not raised again by a later run.
    let later = meta("run-0002-bbbbbbbb", &saved, RunStatus::Completed, 20);
    store.upsert_run(&later).await.unwrap();
    let filed = runs::file_proposals(store, &saved, &later.id, &proposals[1..])
        .await
        .unwrap();
    assert_eq!(filed, 0);
    assert!(
        Review::start(store, &sop.id)
            .await
            .unwrap()
            .pending()
            .is_empty()
    );
    assert!(matches!(
        Review::start(store, &sop.id).await.unwrap().accept("nope"),
        Err(LibraryError::NotFound(_))
    ));
}

async fn an_unreadable_proposal_is_reported_not_applied<S: Store>(store: &S) {
    let sop = saved_sop(store).await;
    store
        .add_proposal(&tacit_store::Proposal {
            id: "p-broken".into(),
            sop_id: sop.id.clone(),
            sop_version: 1,
            run_id: "r".into(),
            kind: "edge_case".into(),
            summary: "broken".into(),
            body: "{not json".into(),
            status: "pending".into(),
            created_at_ms: 1,
            resolution: None,
        })
        .await
        .unwrap();
    let mut review = Review::start(store, &sop.id).await.unwrap();
    assert!(matches!(review.pending()[0].change, Change::Unreadable(_)));
    assert!(matches!(
        review.accept("p-broken"),
        Err(LibraryError::Unreadable(_))
    ));
    let done = review.finish(store, "ann").await.unwrap();
    assert!(done.saved.is_none());
    assert_eq!(store.proposals(&sop.id).await.unwrap()[0].status, "pending");
}

async fn an_interrupted_run_resumes_with_its_values<S: Store>(store: &S) {
    let sop = saved_sop(store).await;
    assert!(matches!(
        runs::interrupted_run(store, &sop.id).await,
        Err(LibraryError::NotFound(_))
    ));
    let run = meta("run-0003-cccccccc", &sop, RunStatus::Interrupted, 30);
    store.upsert_run(&run).await.unwrap();
    let values: BTreeMap<String, String> = [("host".to_string(), "db-2".to_string())].into();
    store
        .append_events(
            &run.id,
            &[
                event(
                    1,
                    EventBody::Params {
                        values: values.clone(),
                    },
                ),
                event(
                    2,
                    EventBody::StepDone {
                        title: "Check the queue depth.".into(),
                        status: "done".into(),
                        duration_ms: 40,
                    },
                ),
            ],
        )
        .await
        .unwrap();
    let resumable = runs::interrupted_run(store, &sop.id).await.unwrap();
    assert_eq!(resumable.meta.id, run.id);
    assert_eq!(resumable.done, ["Check the queue depth."]);
    assert_eq!(resumable.params, values);

    // A run that ended (not aborted) is not resumed.
    store
        .append_events(
            &run.id,
            &[event(
                3,
                EventBody::Outcome {
                    outcome: "failed".into(),
                    summary: "stopped".into(),
                },
            )],
        )
        .await
        .unwrap();
    let err = runs::interrupted_run(store, &sop.id).await.unwrap_err();
    assert!(err.to_string().contains("already ended"), "{err}");
}

async fn stats_and_health_come_from_guided_runs<S: Store>(store: &S) {
    let sop = saved_sop(store).await;
    for (i, outcome) in ["succeeded", "failed", "succeeded"].iter().enumerate() {
        let id = format!("run-10{i}-dddddddd");
        let run = meta(&id, &sop, RunStatus::Completed, 1_000 + i as i64);
        store.upsert_run(&run).await.unwrap();
        store
            .append_events(
                &id,
                &[
                    event(
                        1,
                        EventBody::Step {
                            title: sop.steps[0].title.clone(),
                        },
                    ),
                    event(
                        2,
                        EventBody::StepDone {
                            title: sop.steps[0].title.clone(),
                            status: "done".into(),
                            duration_ms: 100 * (i as i64 + 1),
                        },
                    ),
                    event(
                        3,
                        EventBody::Step {
                            title: sop.steps[1].title.clone(),
                        },
                    ),
                    event(
                        4,
                        EventBody::Outcome {
                            outcome: outcome.to_string(),
                            summary: String::new(),
                        },
                    ),
                ],
            )
            .await
            .unwrap();
        store.set_outcome(&id, outcome).await.unwrap();
        store.refresh_health(&sop.id).await.unwrap();
    }
    let stats = status::stats(store, &sop.id).await.unwrap();
    assert_eq!(stats.runs, 3);
    assert_eq!(stats.success_rate, Some(2.0 / 3.0));
    assert_eq!(stats.steps[0].runs, 3);
    assert_eq!(stats.steps[0].median_ms, 200);
    assert_eq!(stats.steps[1].failed, 1);
    assert_eq!(
        stats
            .per_day
            .iter()
            .map(|d| (d.runs, d.succeeded))
            .collect::<Vec<_>>(),
        [(3, 2)]
    );

    let health = status::library_health(
        store,
        tacit_core::now_ms(),
        tacit_review::health::Thresholds {
            proposal_max_days: 14,
            recent_runs: 10,
        },
    )
    .await
    .unwrap();
    let h = health.iter().find(|h| h.id == sop.id).unwrap();
    assert_eq!(h.success_rate.map(|r| (r * 3.0).round()), Some(2.0));
}

async fn empty_library<S: Store>(store: &S) {
    let list = status::library_health(
        store,
        0,
        tacit_review::health::Thresholds {
            proposal_max_days: 14,
            recent_runs: 10,
        },
    )
    .await
    .unwrap();
    assert!(list.is_empty());
    assert!(matches!(
        status::stats(store, "nothing").await,
        Err(LibraryError::NotFound(_))
    ));
    assert!(matches!(
        keeping::set_owner(store, "nothing", "ann", None, "ann").await,
        Err(LibraryError::NotFound(_))
    ));
}

tacit_store::both_backends!(
    ownership_review_and_history,
    proposals_are_filed_reviewed_and_never_lost,
    an_unreadable_proposal_is_reported_not_applied,
    an_interrupted_run_resumes_with_its_values,
    stats_and_health_come_from_guided_runs,
    empty_library,
);

#[test]
fn an_edited_imported_runbook_reads_back() {
    // An imported runbook writes `text: markdown` in its front matter,
    // which the strict reader refuses: editing one in review used to fail.
    let sop = tacit_sop::import_markdown(RUNBOOK, "restart-worker")
        .unwrap()
        .sop;
    let text = tacit_sop::render_markdown(&sop);
    assert!(tacit_sop::parse_markdown(&text).is_err());
    let edited = text.replace(
        "Restart the worker.",
        "Restart the worker, then watch the queue.",
    );
    let back = tacit_library::read_edited(&edited, "restart-worker").unwrap();
    assert_eq!(
        back.steps[1].title,
        "Restart the worker, then watch the queue."
    );
    assert_eq!(back.steps.len(), sop.steps.len());
    // The id stays the SOP's, whatever the text says.
    let renamed = edited.replace("id: restart-worker", "id: something-else");
    assert_eq!(
        tacit_library::read_edited(&renamed, "restart-worker")
            .unwrap()
            .id,
        "restart-worker"
    );
    // An edit that leaves no step, or breaks the front matter, is refused.
    let err = tacit_library::read_edited("# Restart\n\n## Steps\n", "restart-worker").unwrap_err();
    assert!(err.to_string().contains("no steps"), "{err}");
    let err =
        tacit_library::read_edited("---\nid: [unclosed\n---\n# x\n", "restart-worker").unwrap_err();
    assert!(err.to_string().contains("does not parse"), "{err}");
}
