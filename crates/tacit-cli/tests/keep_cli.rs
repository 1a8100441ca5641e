//! Keeping SOPs alive (issue "Keep alive"): the proposal path end to end,
//! status --check, no lost update, and the webhook.

mod support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use support::*;

fn wrong_version(world: &World, name: &str) -> std::path::PathBuf {
    let dir = fresh(world, name);
    let health = dir.join("app/deploy/health.sh");
    let script = std::fs::read_to_string(&health).unwrap();
    std::fs::write(
        &health,
        script.replace("got=$(cat \"$root/current/VERSION\")", "got=1.3.9"),
    )
    .unwrap();
    dir
}

fn restore_health(dir: &Path) {
    let health = dir.join("app/deploy/health.sh");
    let script = std::fs::read_to_string(&health).unwrap();
    std::fs::write(
        &health,
        script.replace("got=1.3.9", "got=$(cat \"$root/current/VERSION\")"),
    )
    .unwrap();
}

/// Runs the SOP in a PTY on `dir`, answering the unknown health failure.
fn run_and_answer(world: &World, dir: &Path) {
    let mut t = run_deploy_web(world, dir);
    walk_to_the_health_check(&mut t);
    t.expect("what did you do: ");
    t.line("Restarted the app so it rereads VERSION");
    t.expect("why (the principle): ");
    t.line("The app caches its version when it starts");
    t.expect("escalate when (optional): ");
    t.line("");
    abort_after_answer(&mut t);
    assert_eq!(t.wait().code(), Some(13));
}

#[test]
fn a_proposal_is_reviewed_into_version_2_and_the_next_run_applies_it() {
    let world = drafted();
    let dir = wrong_version(&world, "first");
    run_and_answer(&world, &dir);

    // The owner reviews and accepts it, in a PTY.
    let mut t = Term::spawn(tacit_in(&world, world.dir.path()).args(["review", "deploy-web"]));
    t.expect("1 pending proposal");
    t.expect("what they did: Restarted the app so it rereads VERSION");
    t.expect("[q]uit > ");
    t.line("a");
    t.expect("deploy-web version 2");
    t.expect("+ rule in");
    assert!(t.wait().success());

    let log = String::from_utf8_lossy(&world.tacit(&["log", "deploy-web"]).stdout).into_owned();
    assert!(
        log.contains("v2") && log.contains("Review: accepted 1 proposal"),
        "{log}"
    );
    let diff = String::from_utf8_lossy(&world.tacit(&["diff", "deploy-web"]).stdout).into_owned();
    assert!(diff.contains("version 1 → 2"), "{diff}");
    assert!(
        diff.contains("+ rule in \"Success check: Check health\"")
            || diff.contains("+ rule in \"any step\""),
        "{diff}"
    );
    assert!(
        diff.contains("The app caches its version when it starts"),
        "{diff}"
    );
    let props = world.tacit(&["proposals", "deploy-web", "--json"]);
    let props: serde_json::Value = serde_json::from_slice(&props.stdout).unwrap();
    assert_eq!(props[0]["status"], "accepted");

    // The next run meets the same situation and applies the new rule: the
    // operator does the manual action, and the check passes.
    let dir = wrong_version(&world, "second");
    let mut t = run_deploy_web(&world, &dir);
    walk_to_the_health_check(&mut t);
    t.expect("known situation: unhealthy: running");
    t.expect("The app caches its version when it starts");
    t.expect("then press Enter to check again");
    restore_health(&dir);
    t.line("");
    t.expect("succeeded");
    assert!(t.wait().success());
    let runs = guided_runs(&world);
    let latest = world.run_json(runs[0]["id"].as_str().unwrap());
    assert_eq!(latest["run"]["sop_version"], 2);
    assert!(
        latest["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "rule_applied")
    );
}

fn sqlite(world: &World, sql: &str) {
    let ok = Command::new("sqlite3").arg(world.db()).arg(sql).status();
    match ok {
        Ok(s) => assert!(s.success()),
        Err(e) => panic!("sqlite3 is needed for this test (.ci/run installs it): {e}"),
    }
}

#[test]
fn status_check_fails_on_unowned_and_overdue_sops_until_owned_and_reviewed() {
    let world = drafted();
    let check = |w: &World| w.tacit(&["status", "--check"]);
    let out = check(&world);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no owner"));

    let owned = world.tacit(&[
        "own",
        "deploy-web",
        "--owner",
        "ops",
        "--review-every",
        "30d",
    ]);
    assert!(
        owned.status.success(),
        "{}",
        String::from_utf8_lossy(&owned.stderr)
    );
    assert!(check(&world).status.success());

    // Forty days pass without a review.
    sqlite(
        &world,
        "UPDATE reviews SET at_ms = at_ms - 40 * 86400000; UPDATE sop_versions SET created_at_ms = created_at_ms - 40 * 86400000;",
    );
    let out = check(&world);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("review overdue"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = world.tacit(&["status", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(list[0]["review_overdue"], true);
    assert!(list[0]["trust"].as_u64().unwrap() < 100);

    assert!(world.tacit(&["reviewed", "deploy-web"]).status.success());
    assert!(check(&world).status.success());

    // A team owns it; the team's members show, and rotate without edits.
    assert!(
        world
            .tacit(&["team", "dbops", "--members", "ann,bob"])
            .status
            .success()
    );
    assert!(
        world
            .tacit(&["own", "deploy-web", "--owner", "dbops"])
            .status
            .success()
    );
    let table = String::from_utf8_lossy(&world.tacit(&["status"]).stdout).into_owned();
    assert!(table.contains("dbops (team: ann"), "{table}");
}

#[test]
fn two_concurrent_reviews_the_second_is_refused_and_nothing_is_lost() {
    let world = drafted();
    let dir = wrong_version(&world, "concurrent");
    run_and_answer(&world, &dir);

    let mut first = Term::spawn(tacit_in(&world, world.dir.path()).args(["review", "deploy-web"]));
    first.expect("[q]uit > ");
    let mut second = Term::spawn(tacit_in(&world, world.dir.path()).args(["review", "deploy-web"]));
    second.expect("[q]uit > ");
    second.line("a");
    second.expect("deploy-web version 2");
    assert!(second.wait().success());
    first.line("a");
    first.expect("changed while you worked: you started from version 1, the latest is 2");
    assert_eq!(first.wait().code(), Some(1));

    let log =
        String::from_utf8_lossy(&world.tacit(&["log", "deploy-web", "--json"]).stdout).into_owned();
    let versions: serde_json::Value = serde_json::from_str(&log).unwrap();
    assert_eq!(
        versions.as_array().unwrap().len(),
        2,
        "only the second review made a version"
    );
    let v2 = String::from_utf8_lossy(&world.tacit(&["show", "deploy-web"]).stdout).into_owned();
    assert!(
        v2.contains("The app caches its version when it starts"),
        "{v2}"
    );
}

#[test]
fn status_notify_posts_a_slack_compatible_summary() {
    let world = drafted();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut data = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = conn.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&data);
            if let Some(head_end) = text.find("\r\n\r\n") {
                let len: usize = text[..head_end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if data.len() >= head_end + 4 + len {
                    break;
                }
            }
        }
        conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .unwrap();
        String::from_utf8(data).unwrap()
    });
    let out = world.tacit(&[
        "status",
        "--notify",
        &format!("http://127.0.0.1:{port}/hooks/tacit"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let request = server.join().unwrap();
    assert!(
        request.starts_with("POST /hooks/tacit HTTP/1.1"),
        "{request}"
    );
    let body = &request[request.find("\r\n\r\n").unwrap() + 4..];
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert!(
        json["text"].as_str().unwrap().contains("deploy-web"),
        "{json}"
    );
    assert_eq!(json["blocks"][0]["type"], "header");
    assert_eq!(json["sops"][0]["id"], "deploy-web");
}

#[test]
fn a_folder_round_trips_and_search_finds_sops_by_their_reasons() {
    let world = drafted();
    let dir = world.dir.path().join("sops");
    let out = world.tacit(&["export", "--all", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir.join("deploy-web.md");
    let md = std::fs::read_to_string(&file).unwrap();

    // Importing the untouched folder changes nothing.
    let same = String::from_utf8_lossy(&world.tacit(&["import", dir.to_str().unwrap()]).stdout)
        .into_owned();
    assert!(same.contains("unchanged"), "{same}");

    // An edit made in git comes back as a new version.
    std::fs::write(
        &file,
        md.replace(
            "### 2. Build the release",
            "### 2. Build the release tarball",
        ),
    )
    .unwrap();
    let edited = String::from_utf8_lossy(&world.tacit(&["import", dir.to_str().unwrap()]).stdout)
        .into_owned();
    assert!(edited.contains("updated deploy-web v2"), "{edited}");
    let shown = String::from_utf8_lossy(&world.tacit(&["show", "deploy-web"]).stdout).into_owned();
    assert!(shown.contains("2. Build the release tarball"), "{shown}");
    let again = String::from_utf8_lossy(&world.tacit(&["import", dir.to_str().unwrap()]).stdout)
        .into_owned();
    assert!(again.contains("unchanged"), "{again}");

    let list = world.tacit(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["id"], "deploy-web");
    assert_eq!(list[0]["version"], 2);

    let hits = world.tacit(&["search", "crashed", "lock", "--json"]);
    assert!(hits.status.success());
    let hits: serde_json::Value = serde_json::from_slice(&hits.stdout).unwrap();
    assert_eq!(hits[0]["id"], "deploy-web");
    assert!(hits[0]["snippet"].as_str().unwrap().contains("["), "{hits}");
    let none = world.tacit(&["search", "kubernetes"]);
    assert_eq!(none.status.code(), Some(1));
}

#[test]
fn stats_show_runs_success_and_where_runs_fail() {
    let world = drafted();
    for (name, wrong) in [("ok-1", false), ("ok-2", false), ("bad", true)] {
        let dir = if wrong {
            wrong_version(&world, name)
        } else {
            fresh(&world, name)
        };
        let out = run_yes(&world, &dir, &["--param", "version=1.4.2"]);
        assert!(
            out.status.code() == Some(0) || wrong,
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = world.tacit(&["stats", "deploy-web", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["runs"], 3);
    let rate = s["success_rate"].as_f64().unwrap();
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
    let migrate = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["step"] == "Run database migrations")
        .unwrap();
    assert_eq!(migrate["runs"], 3);
    assert!(migrate["p90_ms"].as_i64().unwrap() >= migrate["median_ms"].as_i64().unwrap());
    let text = String::from_utf8_lossy(&world.tacit(&["stats", "deploy-web"]).stdout).into_owned();
    assert!(text.contains("3 guided runs, success rate 67%"), "{text}");
}

#[test]
fn a_new_draft_of_an_owned_sop_is_a_proposal_for_its_owner() {
    let world = drafted();
    assert!(
        world
            .tacit(&["own", "deploy-web", "--owner", "ops"])
            .status
            .success()
    );
    // A second recording adds a step.
    let scenario = fresh(&world, "second-recording");
    let mut t = world.record("deploy-web", "bash", &scenario, &[]);
    play_session(&mut t, &["touch ../state/announced"]);
    t.line("exit");
    assert!(t.wait().success());

    let out = world.tacit(&["draft", "deploy-web"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("owned by ops: the new draft waits for them"),
        "{text}"
    );
    let log =
        String::from_utf8_lossy(&world.tacit(&["log", "deploy-web", "--json"]).stdout).into_owned();
    let before: serde_json::Value = serde_json::from_str(&log).unwrap();
    let versions = before.as_array().unwrap().len();

    let mut r = Term::spawn(tacit_in(&world, world.dir.path()).args(["review", "deploy-web"]));
    r.expect("Redrafted from 2 runs");
    r.expect("+ step");
    r.expect("[s]kip > ");
    r.line("a");
    r.expect(&format!("deploy-web version {}", versions + 1));
    assert!(r.wait().success());
    let shown = String::from_utf8_lossy(&world.tacit(&["show", "deploy-web"]).stdout).into_owned();
    assert!(shown.contains("touch ../state/announced"), "{shown}");
    assert!(shown.contains("owner: ops"), "{shown}");
}

#[test]
fn review_can_edit_the_sop_with_the_proposal_applied_in_the_editor() {
    let world = drafted();
    let dir = wrong_version(&world, "edit");
    run_and_answer(&world, &dir);
    // An "editor" that rewrites the proposed rule's action, as a person would.
    let editor = world.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/Restarted the app so it rereads VERSION/Restart the app (systemctl restart webapp)/' \"$1\"\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()
        .unwrap();
    let mut t = Term::spawn(
        tacit_in(&world, world.dir.path())
            .env("EDITOR", &editor)
            .env_remove("VISUAL")
            .args(["review", "deploy-web"]),
    );
    t.expect("[q]uit > ");
    t.line("e");
    t.expect("accepted with your edits");
    t.expect("deploy-web version 2");
    assert!(t.wait().success());
    let shown = String::from_utf8_lossy(&world.tacit(&["show", "deploy-web"]).stdout).into_owned();
    assert!(
        shown.contains("Restart the app (systemctl restart webapp)"),
        "{shown}"
    );
    assert!(
        !shown.contains("Restarted the app so it rereads VERSION"),
        "{shown}"
    );
}
