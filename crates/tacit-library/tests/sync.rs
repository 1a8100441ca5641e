//! Sync between a local library (SQLite) and a server's store (SQLite or
//! the real PostgreSQL), through the same operations the HTTP server runs.

use tacit_core::{CommandRecord, Event, EventBody, RunMeta, RunStatus};
use tacit_library::sync::{StoreRemote, sync};
use tacit_library::{keeping, save_version};
use tacit_store::{SqliteStore, Store};

const RUNBOOK: &str = "\
# Rotate the API key

## Steps

1. Create the new key.

   ```sh
   ./keys create
   ```

2. Retire the old key.

   ```sh
   ./keys retire
   ```
";

fn meta(id: &str, status: RunStatus) -> RunMeta {
    RunMeta {
        id: id.into(),
        name: "rotate-api-key".into(),
        shell: "bash".into(),
        started_at_ms: 1_700_000_000_000,
        ended_at_ms: Some(1_700_000_100_000),
        status,
        host: "laptop".into(),
        user: "ann".into(),
        start_cwd: "/".into(),
        recorder_pid: None,
        tacit_version: "0".into(),
        cols: 80,
        rows: 24,
        sop_id: None,
        sop_version: None,
        imported_at_ms: None,
    }
}

fn command(seq: u64, cmd: &str, output: &str) -> Event {
    Event {
        seq,
        at_ms: seq as i64,
        body: EventBody::Command(CommandRecord {
            command: cmd.into(),
            cwd: "/tmp".into(),
            started_at_ms: 0,
            duration_ms: 5,
            exit_code: Some(0),
            output: output.into(),
            output_bytes: output.len() as u64,
            output_dropped_bytes: 0,
            full_screen: false,
        }),
    }
}

/// Stores a run with a valid hash chain, as a recording would.
async fn record<S: Store>(store: &S, id: &str, events: &[Event], status: RunStatus) {
    store.upsert_run(&meta(id, status)).await.unwrap();
    store.append_events(id, events).await.unwrap();
    let mut previous = tacit_store::chain::genesis(id);
    let mut links = Vec::new();
    for e in events {
        previous = tacit_store::chain::link(&previous, e);
        links.push((e.seq, previous.clone()));
    }
    store.set_event_hashes(id, &links).await.unwrap();
}

async fn counts<S: Store>(store: &S) -> (usize, usize, usize) {
    let runs = store.run_sizes().await.unwrap();
    let events: u64 = runs.iter().map(|r| r.1).sum();
    let versions = tacit_library::sync::version_list(store)
        .await
        .unwrap()
        .len();
    (runs.len(), events as usize, versions)
}

async fn both_ways_repeatable_and_never_overwriting<S: Store + Sync>(server: &S) {
    let local = SqliteStore::in_memory().await.unwrap();
    let remote = StoreRemote {
        store: server,
        redactor: tacit_redact::Redactor::builtin(),
        may_append: true,
    };
    // A local recording (one secret slipped past a laptop without the
    // rule), a run still being recorded, and a drafted SOP in two versions.
    let token = format!("ghp_{}", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8");
    record(
        &local,
        "run-1",
        &[
            command(1, "./keys create", "created key k-2"),
            command(2, "echo done", &format!("the token is {token}")),
        ],
        RunStatus::Completed,
    )
    .await;
    record(
        &local,
        "run-live",
        &[command(1, "sleep 1", "")],
        RunStatus::Recording,
    )
    .await;
    let sop = tacit_sop::import_markdown(RUNBOOK, "rotate-api-key")
        .unwrap()
        .sop;
    let v1 = save_version(
        &local,
        sop,
        keeping::revision("ann", "drafted".into(), vec![]),
        None,
    )
    .await
    .unwrap();
    keeping::set_owner(&local, &v1.id, "ann", Some(90), "ann")
        .await
        .unwrap();

    let report = sync(&local, &remote, &tacit_redact::Redactor::builtin())
        .await
        .unwrap();
    assert_eq!(
        (
            report.runs_pushed,
            report.versions_pushed,
            report.runs_pulled
        ),
        (1, 2, 0),
        "{report:?}"
    );
    // The run arrived whole, its chain intact where nothing was redacted,
    // and the secret did not survive the server's own redaction.
    let events = server.events_with_hashes("run-1").await.unwrap();
    assert_eq!(events.len(), 2);
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(&token), "{text}");
    assert!(text.contains("REDACTED"), "{text}");
    assert!(
        server.find_run("run-live").await.is_err(),
        "a live run waits"
    );
    // The versions are the same bytes on both sides.
    assert_eq!(
        tacit_library::sync::version_list(server).await.unwrap(),
        tacit_library::sync::version_list(&local).await.unwrap()
    );

    // Again: nothing moves, nothing doubles.
    let before = counts(server).await;
    let again = sync(&local, &remote, &tacit_redact::Redactor::builtin())
        .await
        .unwrap();
    assert_eq!(again, Default::default(), "{again:?}");
    assert_eq!(counts(server).await, before);

    // The server moves on (a teammate's run, the owner's new version):
    // the local library fetches both.
    record(
        server,
        "run-2",
        &[command(1, "./keys retire", "retired k-1")],
        RunStatus::Completed,
    )
    .await;
    keeping::confirm_review(server, "rotate-api-key", "ann")
        .await
        .unwrap();
    keeping::set_owner(server, "rotate-api-key", "ann", Some(30), "ann")
        .await
        .unwrap();
    let pulled = sync(&local, &remote, &tacit_redact::Redactor::builtin())
        .await
        .unwrap();
    assert_eq!(
        (pulled.runs_pulled, pulled.versions_pulled),
        (1, 1),
        "{pulled:?}"
    );
    assert_eq!(local.events("run-2").await.unwrap().len(), 1);
    let linked = local.events_with_hashes("run-2").await.unwrap();
    assert!(tacit_store::chain::verify("run-2", &linked).is_ok());
    assert_eq!(
        tacit_library::load_sop(&local, "rotate-api-key", None)
            .await
            .unwrap()
            .review_every_days,
        Some(30)
    );

    // Both change the SOP: the server keeps its own, the local version
    // waits for the owner as a proposal, and repeating adds nothing.
    keeping::set_owner(&local, "rotate-api-key", "bob", None, "bob")
        .await
        .unwrap();
    keeping::set_owner(server, "rotate-api-key", "ann", Some(7), "ann")
        .await
        .unwrap();
    let diverged = sync(&local, &remote, &tacit_redact::Redactor::builtin())
        .await
        .unwrap();
    assert_eq!(
        diverged.proposed,
        [("rotate-api-key".to_string(), 4)],
        "{diverged:?}"
    );
    assert_eq!(diverged.diverged, ["rotate-api-key"]);
    let latest = tacit_library::load_sop(server, "rotate-api-key", None)
        .await
        .unwrap();
    assert_eq!((latest.version, latest.owner.as_deref()), (4, Some("ann")));
    let proposals = server.proposals("rotate-api-key").await.unwrap();
    assert_eq!(proposals.len(), 1);
    assert_eq!(proposals[0].kind, "redraft");
    sync(&local, &remote, &tacit_redact::Redactor::builtin())
        .await
        .unwrap();
    assert_eq!(server.proposals("rotate-api-key").await.unwrap().len(), 1);
    // The owner can review it like any redraft.
    let review = tacit_library::review::Review::start(server, "rotate-api-key")
        .await
        .unwrap();
    assert_eq!(review.pending().len(), 1);
    assert!(review.preview(&proposals[0].id).is_ok());
}

async fn a_half_sent_run_is_completed_by_the_next_sync<S: Store + Sync>(server: &S) {
    let local = SqliteStore::in_memory().await.unwrap();
    let remote = StoreRemote {
        store: server,
        redactor: tacit_redact::Redactor::builtin(),
        may_append: true,
    };
    let events: Vec<Event> = (1..=5_000)
        .map(|i| command(i, &format!("step {i}"), "ok"))
        .collect();
    record(&local, "long-run", &events, RunStatus::Completed).await;
    // An earlier sync died after the first part arrived.
    let first = tacit_library::sync::run_upload(&local, "long-run")
        .await
        .unwrap();
    tacit_library::sync::receive_run(
        server,
        &tacit_redact::Redactor::builtin(),
        tacit_library::sync::RunUpload {
            meta: first.meta.clone(),
            events: first.events[..1_234].to_vec(),
        },
    )
    .await
    .unwrap();
    let report = sync(&local, &remote, &tacit_redact::Redactor::builtin())
        .await
        .unwrap();
    assert_eq!(report.runs_pushed, 1);
    let stored = server.events_with_hashes("long-run").await.unwrap();
    assert_eq!(stored.len(), 5_000);
    assert!(tacit_store::chain::verify("long-run", &stored).is_ok());
}

async fn versions_of_an_owned_sop_from_others_become_proposals<S: Store + Sync>(server: &S) {
    let local = SqliteStore::in_memory().await.unwrap();
    let sop = tacit_sop::import_markdown(RUNBOOK, "rotate-api-key")
        .unwrap()
        .sop;
    save_version(
        &local,
        sop,
        keeping::revision("ann", "drafted".into(), vec![]),
        None,
    )
    .await
    .unwrap();
    // The caller may not change it without review (not its owner).
    let remote = StoreRemote {
        store: server,
        redactor: tacit_redact::Redactor::builtin(),
        may_append: false,
    };
    let report = sync(&local, &remote, &tacit_redact::Redactor::builtin())
        .await
        .unwrap();
    assert_eq!(report.versions_pushed, 0);
    assert_eq!(report.proposed, [("rotate-api-key".to_string(), 1)]);
    assert!(
        server
            .sop_versions("rotate-api-key")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_version_the_server_redacts_is_still_the_same_version<S: Store + Sync>(server: &S) {
    // An imported runbook is stored as written; the server redacts what it
    // receives. The two must still count as one version afterwards.
    let local = SqliteStore::in_memory().await.unwrap();
    let remote = StoreRemote {
        store: server,
        redactor: tacit_redact::Redactor::builtin(),
        may_append: true,
    };
    let md = RUNBOOK.replace(
        "./keys create",
        "./keys create --api-token prod-eu-restore-20240603",
    );
    let sop = tacit_sop::import_markdown(&md, "rotate-api-key")
        .unwrap()
        .sop;
    save_version(
        &local,
        sop,
        keeping::revision("ann", "imported".into(), vec![]),
        None,
    )
    .await
    .unwrap();
    let first = sync(&local, &remote, &tacit_redact::Redactor::builtin())
        .await
        .unwrap();
    assert_eq!(first.versions_pushed, 1);
    let stored = server
        .sop_version("rotate-api-key", None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored.body.contains("prod-eu-restore-20240603"),
        "the server redacted it"
    );
    let again = sync(&local, &remote, &tacit_redact::Redactor::builtin())
        .await
        .unwrap();
    assert_eq!(again, Default::default(), "{again:?}");
}

tacit_store::both_backends!(
    a_version_the_server_redacts_is_still_the_same_version,
    both_ways_repeatable_and_never_overwriting,
    a_half_sent_run_is_completed_by_the_next_sync,
    versions_of_an_owned_sop_from_others_become_proposals,
);
