//! The CLI's small promises: usage errors exit 2 with a useful message, a
//! closed pipe ends quietly, a typo gets a "did you mean", a library is
//! never created in a folder that does not exist.

mod support;

use support::{World, tacit_bin};

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn imported(world: &World) {
    let md = world.dir.path().join("rotate-logs.md");
    std::fs::write(
        &md,
        "# Rotate the logs\n\n## Steps\n\n1. Rotate:\n   ```sh\n   logrotate -f /etc/logrotate.d/<service>\n   ```\n",
    )
    .unwrap();
    let out = world.tacit(&["import", md.to_str().unwrap()]);
    assert!(out.status.success(), "{:?}", text(&out));
}

#[test]
fn usage_errors_exit_2_with_what_to_write() {
    let world = World::new();
    imported(&world);
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "rotate-logs", "--param", "service"],
            "--param service: write it as NAME=VALUE",
        ),
        (
            &["run", "rotate-logs", "--param", "servce=web"],
            "has no parameter `servce`; did you mean `service`? its parameters are service",
        ),
        (
            &[
                "own",
                "rotate-logs",
                "--owner",
                "ana",
                "--review-every",
                "banana",
            ],
            "\"banana\" is not an interval: use e.g. 90d, 12w or 3m",
        ),
        (&["record", "bad name!"], "use letters, digits"),
    ];
    for (args, says) in cases {
        let out = world.tacit(args);
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        // Said once, without a parser's internals.
        assert!(!stderr.contains("invalid digit"), "{stderr}");
        assert_eq!(stderr.matches(says).count(), 1, "{stderr}");
    }
}

#[test]
fn a_typo_in_a_name_gets_the_closest_one() {
    let world = World::new();
    imported(&world);
    let out = world.tacit(&["show", "rotate-log"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("did you mean \"rotate-logs\""), "{stderr}");
    // A run name too: `draft` of a name close to a recorded one.
    let hist = world.dir.path().join("history");
    std::fs::write(&hist, "cd /srv/app\n./deploy.sh 1.2.3\n").unwrap();
    let out = world.tacit(&[
        "import",
        "history",
        hist.to_str().unwrap(),
        "--format",
        "bash",
        "--name",
        "deploy-web",
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = world.tacit(&["draft", "deploy-wbe"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("did you mean \"deploy-web\""), "{stderr}");
    // Nothing close: no suggestion, the usual advice.
    let out = world.tacit(&["show", "zzz"]);
    let (_, stderr) = text(&out);
    assert!(!stderr.contains("did you mean"), "{stderr}");
    assert!(stderr.contains("tacit draft zzz"), "{stderr}");
}

#[test]
fn a_library_in_a_missing_folder_is_refused_not_created() {
    let world = World::new();
    let db = world.dir.path().join("no/such/dir/t.db");
    let out = std::process::Command::new(tacit_bin())
        .args(["--db", db.to_str().unwrap(), "list"])
        .env("HOME", world.home())
        .env_remove("TACIT_DB")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(
        !world.dir.path().join("no").exists(),
        "a folder was created"
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let world = World::new();
    imported(&world);
    for args in [
        vec!["completions", "fish"],
        vec!["list"],
        vec!["show", "rotate-logs"],
        vec!["export", "rotate-logs", "--format", "html"],
    ] {
        // Close the pipe before tacit writes: what it writes has nowhere
        // to go.
        let mut child = std::process::Command::new(tacit_bin())
            .args(&args)
            .env("TACIT_DB", world.db())
            .env("HOME", world.home())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[test]
fn tables_fit_the_terminal_width() {
    let world = World::new();
    imported(&world);
    let hist = world.dir.path().join("history");
    std::fs::write(&hist, "cd /srv/app\n./deploy.sh 1.2.3\n").unwrap();
    let long = "rotate-the-very-long-named-certificates-of-the-edge-proxies";
    let out = world.tacit(&[
        "import",
        "history",
        hist.to_str().unwrap(),
        "--format",
        "bash",
        "--name",
        long,
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    for args in [vec!["runs"], vec!["status"]] {
        let out = std::process::Command::new(tacit_bin())
            .args(&args)
            .env("TACIT_DB", world.db())
            .env("HOME", world.home())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "60")
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{args:?}: {stderr}");
        for line in stdout.lines().skip(1) {
            assert!(
                line.chars().count() <= 60,
                "{args:?}: {line:?} is wider than 60"
            );
        }
        assert!(stdout.contains('…'), "{args:?}: nothing was cut:\n{stdout}");
    }
    // Without a terminal or COLUMNS (a pipe to a file), nothing is cut.
    let out = world.tacit(&["runs"]);
    assert!(text(&out).0.contains(long));
}

#[test]
fn a_change_of_owner_is_marked_as_metadata_in_the_log() {
    let world = World::new();
    imported(&world);
    let out = world.tacit(&[
        "own",
        "rotate-logs",
        "--owner",
        "ana",
        "--review-every",
        "90d",
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let log = world.tacit(&["log", "rotate-logs"]);
    let (stdout, _) = text(&log);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("v2") && lines[0].contains("(metadata only) Owner: ana"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("v1") && !lines[1].contains("metadata only"),
        "{stdout}"
    );
    let json = world.tacit(&["log", "rotate-logs", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows[1]["metadata_only"], true);
    assert_eq!(rows[0]["metadata_only"], false);
}

#[test]
fn in_session_status_numbers_commands_as_it_counts_them() {
    if !support::require_shell("bash") {
        return;
    }
    let world = World::new();
    let mut t = world.record("status-count", "bash", world.dir.path(), &["--no-ask"]);
    t.run("echo one");
    t.run("false");
    t.run("tacit note hello");
    t.run("echo two");
    t.line("tacit status");
    t.expect("3 commands, 1 failed");
    t.expect("last command: echo two (command 3 of 3; #4 in `tacit runs show`)");
    t.expect(support::PROMPT);
    t.line("exit");
    assert!(t.wait().success());
    let out = String::from_utf8_lossy(&t.all_output()).into_owned();
    assert!(
        out.contains("next, draft the SOP: tacit draft status-count"),
        "{out}"
    );
}

#[test]
fn a_job_stopped_with_ctrl_z_is_recorded_as_stopped_in_every_shell() {
    for shell in ["bash", "zsh", "fish"] {
        if !support::require_shell(shell) {
            continue;
        }
        let world = World::new();
        let mut t = world.record("stop", shell, world.dir.path(), &["--no-ask"]);
        t.line("sleep 30");
        std::thread::sleep(std::time::Duration::from_millis(700));
        t.send("\x1a");
        t.expect(support::PROMPT);
        t.run("echo after");
        // Leave no stopped job behind: it would hold the exit.
        t.run("kill -9 %1");
        t.line("exit");
        let _ = t.expect_any(&["jobs", "stopped jobs", "There are still jobs", "exit"]);
        t.line("exit");
        t.wait();
        let run = world.run_json(&t.run_id);
        let cmds = support::commands(&run);
        let sleep = cmds
            .iter()
            .find(|c| c["command"] == "sleep 30")
            .expect("sleep recorded");
        assert_eq!(sleep["exit_code"], 148, "{shell}: {sleep:#}");
        let shown = world.tacit(&["runs", "show", &t.run_id]);
        let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
        assert!(shown.contains("148 stopped"), "{shell}: {shown}");
        assert!(shown.contains("0 failed"), "{shell}: {shown}");
    }
}

#[test]
fn a_damaged_library_is_named_once_with_what_to_do() {
    let world = World::new();
    let bad = world.dir.path().join("notes.db");
    std::fs::write(&bad, "these are my notes, not a database\n".repeat(200)).unwrap();
    let out = std::process::Command::new(tacit_bin())
        .args(["--db", bad.to_str().unwrap(), "list"])
        .env("HOME", world.home())
        .env_remove("TACIT_DB")
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("the library {}", bad.display())),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("file is not a database").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("move it aside, or choose another with --db"),
        "{stderr}"
    );
    // Nothing was written over the user's file.
    assert!(
        std::fs::read_to_string(&bad)
            .unwrap()
            .starts_with("these are my notes")
    );
}
