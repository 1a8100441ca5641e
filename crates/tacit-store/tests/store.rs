//! The store's contract, written once over the `Store` trait and run
//! against SQLite and the real PostgreSQL (`both_backends!`).

use tacit_core::{CommandRecord, Event, EventBody, RunMeta, RunStatus};
use tacit_store::journal::{JournalWriter, read_journal};
use tacit_store::{JournalBookkeeping, NewSopVersion, Proposal, Store, StoreError, both_backends};

fn meta(id: &str, name: &str, started: i64) -> RunMeta {
    RunMeta {
        id: id.into(),
        name: name.into(),
        shell: "bash".into(),
        started_at_ms: started,
        ended_at_ms: None,
        status: RunStatus::Recording,
        host: tacit_store::hostname(),
        user: "u".into(),
        start_cwd: "/".into(),
        // A pid that cannot be alive.
        recorder_pid: Some(u32::MAX / 2),
        tacit_version: "0".into(),
        cols: 80,
        rows: 24,
        sop_id: None,
        sop_version: None,
        imported_at_ms: None,
    }
}

fn command(seq: u64, cmd: &str, exit: i32) -> Event {
    Event {
        seq,
        at_ms: seq as i64 * 10,
        body: EventBody::Command(CommandRecord {
            command: cmd.into(),
            cwd: "/tmp".into(),
            started_at_ms: 0,
            duration_ms: 5,
            exit_code: Some(exit),
            output: "out".into(),
            output_bytes: 3,
            output_dropped_bytes: 0,
            full_screen: false,
        }),
    }
}

fn version<'a>(body: &'a (dyn Fn(u32) -> String + Sync), base: Option<u32>) -> NewSopVersion<'a> {
    NewSopVersion {
        base,
        search_text: "migrate the database; clear the stale lock file",
        owner: Some("ops"),
        review_every_days: Some(30),
        title: "Deploy web",
        author: "ops",
        summary: "drafted",
        body,
    }
}

fn json_body(v: u32) -> String {
    format!("{{\"v\":{v}}}")
}

async fn runs_and_events_round_trip_and_replays_are_idempotent<S: Store>(store: &S) {
    store
        .upsert_run(&meta("0001aaaa", "deploy", 1))
        .await
        .unwrap();
    let events = vec![command(1, "make", 0), command(2, "make test", 2)];
    store.append_events("0001aaaa", &events).await.unwrap();
    store.append_events("0001aaaa", &events).await.unwrap();
    assert_eq!(store.events("0001aaaa").await.unwrap(), events);
    let runs = store.list_runs(Some("deploy")).await.unwrap();
    assert_eq!((runs[0].commands, runs[0].failed_commands), (2, 1));
    assert!(store.list_runs(Some("other")).await.unwrap().is_empty());
    store
        .set_status("0001aaaa", RunStatus::Completed, Some(99))
        .await
        .unwrap();
    let run = &store.list_runs(None).await.unwrap()[0];
    assert_eq!(run.meta.status, RunStatus::Completed);
    assert_eq!(run.meta.ended_at_ms, Some(99));
    // Many events at once arrive whole and in order.
    let many: Vec<Event> = (3..=2_502)
        .map(|i| command(i, &format!("step {i}"), 0))
        .collect();
    store.append_events("0001aaaa", &many).await.unwrap();
    let stored = store.events("0001aaaa").await.unwrap();
    assert_eq!(stored.len(), 2_502);
    assert!(stored.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
}

async fn hash_links_are_set_once<S: Store>(store: &S) {
    store.upsert_run(&meta("run-h", "deploy", 1)).await.unwrap();
    store
        .append_events("run-h", &[command(1, "a", 0), command(2, "b", 0)])
        .await
        .unwrap();
    store
        .set_event_hashes("run-h", &[(1, "h1".into()), (2, "h2".into())])
        .await
        .unwrap();
    store
        .set_event_hashes("run-h", &[(1, "forged".into())])
        .await
        .unwrap();
    let links: Vec<Option<String>> = store
        .events_with_hashes("run-h")
        .await
        .unwrap()
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    assert_eq!(links, [Some("h1".into()), Some("h2".into())]);
}

async fn sop_versions_are_numbered_and_immutable<S: Store>(store: &S) {
    let new = version(&json_body, None);
    assert_eq!(store.add_sop_version("deploy-web", &new).await.unwrap(), 1);
    assert_eq!(store.add_sop_version("deploy-web", &new).await.unwrap(), 2);
    assert_eq!(store.add_sop_version("other", &new).await.unwrap(), 1);
    let latest = store
        .sop_version("deploy-web", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((latest.version, latest.body.as_str()), (2, "{\"v\":2}"));
    let first = store
        .sop_version("deploy-web", Some(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.body, "{\"v\":1}");
    assert!(
        store
            .sop_version("deploy-web", Some(9))
            .await
            .unwrap()
            .is_none()
    );
    // A change made from version 1 after version 2 exists is refused.
    assert!(matches!(
        store
            .add_sop_version("deploy-web", &version(&json_body, Some(1)))
            .await,
        Err(StoreError::Conflict {
            base: 1,
            current: 2,
            ..
        })
    ));
    assert_eq!(
        store
            .add_sop_version("deploy-web", &version(&json_body, Some(2)))
            .await
            .unwrap(),
        3
    );
    let health = store.health_rows(None).await.unwrap();
    let row = health.iter().find(|h| h.sop_id == "deploy-web").unwrap();
    assert_eq!(
        (row.version, row.owner.as_deref(), row.review_every_days),
        (3, Some("ops"), Some(30))
    );
    let all = store.list_sops().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|s| (s.sop_id.as_str(), s.version))
            .collect::<Vec<_>>(),
        [("deploy-web", 3), ("other", 1)]
    );
    assert_eq!(
        store
            .sop_versions("deploy-web")
            .await
            .unwrap()
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
}

async fn concurrent_saves_from_one_base_let_exactly_one_through<S: Store>(store: &S) {
    store
        .add_sop_version("race", &version(&json_body, None))
        .await
        .unwrap();
    let from_1 = version(&json_body, Some(1));
    let save = || store.add_sop_version("race", &from_1);
    let r = tokio::join!(save(), save(), save(), save(), save(), save());
    let results = [r.0, r.1, r.2, r.3, r.4, r.5];
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict { .. })))
        .count();
    assert_eq!((ok, conflicts), (1, 5), "{results:?}");
    assert_eq!(store.sop_versions("race").await.unwrap().len(), 2);
}

async fn search_finds_words_and_never_errors<S: Store>(store: &S) {
    store
        .add_sop_version("deploy-web", &version(&json_body, None))
        .await
        .unwrap();
    let other = NewSopVersion {
        title: "Rotate certificates",
        search_text: "openssl x509 renew; a stale certificate breaks the lock screen",
        ..version(&json_body, None)
    };
    store.add_sop_version("rotate-certs", &other).await.unwrap();
    let found = store.search("stale LOCK").await.unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().any(|f| f.2.contains("[stale]")), "{found:?}");
    let found = store.search("openssl").await.unwrap();
    assert_eq!(
        found.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["rotate-certs"]
    );
    // Every word is required.
    assert!(store.search("openssl migrate").await.unwrap().is_empty());
    // A user's query syntax is just text: nothing errors.
    for q in [
        "\"unbalanced",
        "-",
        "a & | ! ( )",
        "NEAR(stale lock)",
        "'; DROP TABLE sop_versions; --",
        "*",
        "",
        "   ",
        "lock\0nul",
    ] {
        store
            .search(q)
            .await
            .unwrap_or_else(|e| panic!("{q:?}: {e}"));
    }
    // A new version replaces what search finds.
    let renamed = NewSopVersion {
        search_text: "nothing about that any more",
        ..version(&json_body, Some(1))
    };
    store.add_sop_version("deploy-web", &renamed).await.unwrap();
    assert!(store.search("migrate").await.unwrap().is_empty());
    assert_eq!(store.list_sops().await.unwrap().len(), 2);
}

async fn runs_are_found_by_prefix_suffix_or_latest<S: Store>(store: &S) {
    store.upsert_run(&meta("0001-aaaa", "a", 1)).await.unwrap();
    store.upsert_run(&meta("0002-bbbb", "b", 2)).await.unwrap();
    assert_eq!(store.find_run("0001").await.unwrap().id, "0001-aaaa");
    assert_eq!(store.find_run("bbbb").await.unwrap().id, "0002-bbbb");
    assert_eq!(store.find_run("latest").await.unwrap().id, "0002-bbbb");
    assert!(matches!(
        store.find_run("000").await,
        Err(StoreError::AmbiguousRun(_))
    ));
    assert!(matches!(
        store.find_run("zzz").await,
        Err(StoreError::NoSuchRun(_))
    ));
}

async fn untrusted_text_is_stored_as_text<S: Store>(store: &S) {
    let evil = "'; DROP TABLE runs; -- \" \\ $1 ? %s \u{202e}";
    let mut m = meta("run-evil", evil, 1);
    m.user = evil.into();
    store.upsert_run(&m).await.unwrap();
    let events = vec![
        command(1, evil, 0),
        command(2, "printf 'a\\0b'; echo \0 done", 0),
        Event {
            seq: 3,
            at_ms: 3,
            body: EventBody::Note {
                text: "\u{1b}[31mred\u{1b}[0m <script>alert(1)</script>".into(),
            },
        },
    ];
    store.append_events("run-evil", &events).await.unwrap();
    let back = store.events("run-evil").await.unwrap();
    assert_eq!(back.len(), 3);
    assert_eq!(back[0], events[0]);
    assert_eq!(back[2], events[2]);
    let EventBody::Command(c) = &back[1].body else {
        panic!("{back:?}")
    };
    assert!(c.command.starts_with("printf 'a\\0b'; echo "), "{c:?}");
    assert!(c.command.ends_with(" done"), "{c:?}");
    let runs = store.list_runs(Some(evil)).await.unwrap();
    assert_eq!(runs[0].meta.user, evil);
    store.set_team(evil, &[evil.to_string()]).await.unwrap();
    assert_eq!(store.teams().await.unwrap()[0].1, [evil]);
}

async fn proposals_reviews_teams_and_draft_bases<S: Store>(store: &S) {
    let p = Proposal {
        id: "p1".into(),
        sop_id: "deploy-web".into(),
        sop_version: 1,
        run_id: "r1".into(),
        kind: "edge_case".into(),
        summary: "stale lock".into(),
        body: "{}".into(),
        status: "pending".into(),
        created_at_ms: 5,
        resolution: None,
    };
    store.add_proposal(&p).await.unwrap();
    store.add_proposal(&p).await.unwrap();
    assert_eq!(store.proposals("deploy-web").await.unwrap(), vec![p]);
    store
        .resolve_proposal("p1", "rejected", "fixed upstream")
        .await
        .unwrap();
    let back = &store.proposals("deploy-web").await.unwrap()[0];
    assert_eq!(
        (back.status.as_str(), back.resolution.as_deref()),
        ("rejected", Some("fixed upstream"))
    );
    assert!(store.last_review("deploy-web").await.unwrap().is_none());
    store.add_review("deploy-web", 1, "ann").await.unwrap();
    let (v, who, _) = store.last_review("deploy-web").await.unwrap().unwrap();
    assert_eq!((v, who.as_str()), (1, "ann"));
    store
        .set_team("platform", &["ann".into(), "bob".into()])
        .await
        .unwrap();
    store.set_team("platform", &["carol".into()]).await.unwrap();
    assert_eq!(
        store.teams().await.unwrap(),
        [("platform".to_string(), vec!["carol".to_string()])]
    );
    assert!(store.draft_base("deploy-web").await.unwrap().is_none());
    store
        .set_draft_base("deploy-web", "{\"a\":1}")
        .await
        .unwrap();
    store
        .set_draft_base("deploy-web", "{\"a\":2}")
        .await
        .unwrap();
    assert_eq!(
        store.draft_base("deploy-web").await.unwrap().as_deref(),
        Some("{\"a\":2}")
    );
}

async fn health_rows_summarise_guided_runs<S: Store + Sync>(store: &S) {
    store
        .add_sop_version("deploy-web", &version(&json_body, None))
        .await
        .unwrap();
    for i in 0..12 {
        let mut m = meta(&format!("g-{i:02}"), "deploy-web", 100 + i);
        m.sop_id = Some("deploy-web".into());
        m.user = if i % 2 == 0 { "ann" } else { "bob" }.into();
        store.upsert_run(&m).await.unwrap();
        if i == 11 {
            store
                .append_events(
                    &m.id,
                    &[Event {
                        seq: 1,
                        at_ms: 1,
                        body: EventBody::Deviation {
                            step: "Migrate".into(),
                            what: "skipped".into(),
                            reason: "already done".into(),
                        },
                    }],
                )
                .await
                .unwrap();
            store.set_outcome(&m.id, "failed").await.unwrap();
        }
    }
    store
        .add_proposal(&Proposal {
            id: "p".into(),
            sop_id: "deploy-web".into(),
            sop_version: 1,
            run_id: "g-11".into(),
            kind: "deviation".into(),
            summary: "s".into(),
            body: "{}".into(),
            status: "pending".into(),
            created_at_ms: 77,
            resolution: None,
        })
        .await
        .unwrap();
    store.refresh_health("deploy-web").await.unwrap();
    let rows = store.health_rows(None).await.unwrap();
    assert_eq!(
        store.health_rows(Some("deploy-web")).await.unwrap().len(),
        1
    );
    assert!(store.health_rows(Some("other")).await.unwrap().is_empty());
    let row = &rows[0];
    assert_eq!(row.runs.len(), 10, "the last ten guided runs");
    assert_eq!(row.runs[0].0, 111);
    assert_eq!(row.runs[0].2.as_deref(), Some("failed"));
    assert_eq!(row.runs[0].3, ["Migrate"]);
    let mut people = row.people.clone();
    people.sort();
    assert_eq!(people, ["ann", "bob"]);
    assert_eq!(row.pending, [77]);

    // The page's single read agrees with the two it replaces, over several
    // versions and with a review on record.
    let mut second = version(&json_body, Some(1));
    second.owner = Some("sre");
    second.review_every_days = Some(7);
    store.add_sop_version("deploy-web", &second).await.unwrap();
    store.add_review("deploy-web", 2, "sre").await.unwrap();
    let (versions, health) = store.sop_with_health("deploy-web").await.unwrap();
    assert_eq!(versions, store.sop_versions("deploy-web").await.unwrap());
    assert_eq!(versions.len(), 2);
    let expected = store.health_rows(Some("deploy-web")).await.unwrap();
    assert_eq!(health.as_ref(), expected.first());
    let health = health.unwrap();
    assert_eq!((health.version, health.owner.as_deref()), (2, Some("sre")));
    assert_eq!(health.review_every_days, Some(7));
    assert!(health.last_review_ms.is_some());
    let (none, no_health) = store.sop_with_health("other").await.unwrap();
    assert!(none.is_empty() && no_health.is_none());
}

async fn a_journal_without_end_from_a_dead_recorder_becomes_interrupted<
    S: Store + JournalBookkeeping,
>(
    store: &S,
) {
    let dir = tempfile::tempdir().unwrap();
    let jdir = dir.path().join("journal");
    let mut w = JournalWriter::create(&jdir, &meta("run-x", "deploy", 5)).unwrap();
    for i in 1..=5 {
        w.append(&command(i, &format!("step {i}"), 0)).unwrap();
    }
    drop(w); // the recorder "dies" here
    assert_eq!(tacit_store::sync_journals(store, &jdir).await.unwrap(), 1);
    let run = store.find_run("run-x").await.unwrap();
    assert_eq!(run.status, RunStatus::Interrupted);
    assert_eq!(run.ended_at_ms, Some(50));
    assert_eq!(store.events("run-x").await.unwrap().len(), 5);
    // Nothing changed since: the second sync skips it.
    assert_eq!(tacit_store::sync_journals(store, &jdir).await.unwrap(), 0);
    let j = read_journal(&tacit_store::journal::journal_path(&jdir, "run-x")).unwrap();
    assert!(j.end.is_none());
    // The chain the journal wrote is stored and verifies.
    let linked = store.events_with_hashes("run-x").await.unwrap();
    assert!(tacit_store::chain::verify("run-x", &linked).is_ok());
}

both_backends!(
    runs_and_events_round_trip_and_replays_are_idempotent,
    hash_links_are_set_once,
    sop_versions_are_numbered_and_immutable,
    concurrent_saves_from_one_base_let_exactly_one_through,
    search_finds_words_and_never_errors,
    runs_are_found_by_prefix_suffix_or_latest,
    untrusted_text_is_stored_as_text,
    proposals_reviews_teams_and_draft_bases,
    health_rows_summarise_guided_runs,
    a_journal_without_end_from_a_dead_recorder_becomes_interrupted,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_file_store_opens_migrates_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/lib.db");
    let store = tacit_store::SqliteStore::open(&path).await.unwrap();
    store.upsert_run(&meta("r", "n", 1)).await.unwrap();
    store.close().await;
    let store = tacit_store::SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.list_runs(None).await.unwrap().len(), 1);
    // A file library has several connections (readers side by side): the
    // writers still take turns, so racing saves conflict cleanly instead of
    // failing with "database is locked".
    concurrent_saves_from_one_base_let_exactly_one_through(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_schemas_keep_stores_apart_and_bad_names_are_refused() {
    let Some(a) = tacit_store::testing::postgres().await else {
        return;
    };
    let Some(b) = tacit_store::testing::postgres().await else {
        return;
    };
    a.store.upsert_run(&meta("only-a", "n", 1)).await.unwrap();
    assert!(b.store.list_runs(None).await.unwrap().is_empty());
    a.store.ping().await.unwrap();
    for bad in ["", "x; DROP", "a\"b", "a-b"] {
        assert!(
            tacit_store::PgStore::open_in_schema(&a.url, bad)
                .await
                .is_err(),
            "{bad:?}"
        );
    }
    assert!(
        tacit_store::PgStore::open("postgres://nobody@127.0.0.1:1/none")
            .await
            .is_err()
    );
    a.cleanup().await;
    b.cleanup().await;
}
