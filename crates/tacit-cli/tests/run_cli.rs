//! `tacit run`: a teammate runs the SOP drafted from a recording, on fresh
//! copies of the deploy-webapp scenario (issue "Run").

mod support;

use std::process::Command;

use support::*;

#[test]
fn the_lock_rule_is_shown_with_its_reason_applied_and_the_run_succeeds_in_a_pty() {
    let world = drafted();
    let dir = fresh(&world, "run-here");
    let mut t = run_deploy_web(&world, &dir);
    for step in [
        "Pull the latest code",
        "Build the release",
        "Run database migrations",
    ] {
        t.expect(step);
        t.expect("[a]bort > ");
        t.line("r");
    }
    t.expect("known situation: migration lock held");
    t.expect(REASON);
    t.expect("apply this rule? [Y/n]");
    t.line("y");
    t.expect("migrations complete");
    t.expect("Release the new version");
    t.expect("[a]bort > ");
    t.line("r");
    t.expect("Success check: ");
    t.expect("[a]bort > ");
    t.line("r");
    t.expect("healthy: version 1.4.2");
    t.expect("succeeded");
    assert!(t.wait().success());

    let runs = guided_runs(&world);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["sop_version"], 1);
    let run = world.run_json(runs[0]["id"].as_str().unwrap());
    assert_eq!(outcome_of(&run), "succeeded");
    let events = run["events"].as_array().unwrap();
    let applied = events
        .iter()
        .find(|e| e["kind"] == "rule_applied")
        .expect("rule applied");
    assert_eq!(applied["step"], "Run database migrations");
    let steps: Vec<&str> = events
        .iter()
        .filter(|e| e["kind"] == "step")
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "Pull the latest code",
            "Build the release",
            "Run database migrations",
            "Release the new version"
        ]
    );
    // The lock really is gone, and the release is live.
    assert!(!dir.join("state/migrate.lock").exists());
    assert!(dir.join("current").exists());
}

#[test]
fn an_unknown_failure_stops_unattended_runs_and_stores_a_proposal() {
    let world = drafted();
    let dir = fresh(&world, "wrong-version");
    // A variant the SOP never saw: health reports another version.
    let health = dir.join("app/deploy/health.sh");
    let script = std::fs::read_to_string(&health).unwrap();
    std::fs::write(
        &health,
        script.replace("got=$(cat \"$root/current/VERSION\")", "got=1.3.9"),
    )
    .unwrap();
    // (`git pull` does not touch health.sh, so the local edit survives it.)

    let out = run_yes(&world, &dir, &["--param", "version=1.4.2"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(12),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("does not cover this"), "{stdout}");
    assert!(stdout.contains("proposal"), "{stdout}");

    let props = world.tacit(&["proposals", "deploy-web", "--json"]);
    let props: serde_json::Value = serde_json::from_slice(&props.stdout).unwrap();
    let p = &props.as_array().unwrap()[0];
    assert_eq!(p["kind"], "edge_case");
    assert_eq!(p["status"], "pending");
    assert!(
        p["evidence"]["output"]
            .as_str()
            .unwrap()
            .contains("unhealthy: running 1.3.9, expected 1.4.2"),
        "{p}"
    );
    assert_eq!(p["evidence"]["exit_code"], 1);
    let run = world.run_json(guided_runs(&world)[0]["id"].as_str().unwrap());
    assert_eq!(outcome_of(&run), "unresolved");
}

#[test]
fn a_lock_held_by_a_live_process_takes_the_escalation_path() {
    let world = drafted();
    let dir = fresh(&world, "live-lock");
    let mut sleeper = Command::new("sleep").arg("300").spawn().unwrap();
    std::fs::write(dir.join("state/migrate.lock"), sleeper.id().to_string()).unwrap();
    let out = run_yes(&world, &dir, &["--param", "version=1.4.2"]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(11), "{stdout}");
    assert!(stdout.contains("escalated"), "{stdout}");
    assert!(stdout.contains("database on-call"), "{stdout}");
    // The live lock was left alone.
    assert!(dir.join("state/migrate.lock").exists());
    let run = world.run_json(guided_runs(&world)[0]["id"].as_str().unwrap());
    assert_eq!(outcome_of(&run), "escalated");
}

#[test]
fn unattended_success_dry_run_and_missing_parameters() {
    let world = drafted();
    let dir = fresh(&world, "yes");
    let out = run_yes(&world, &dir, &["--param", "version=1.4.2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let missing = run_yes(&world, &dir, &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--param version="));

    let dry = world.tacit(&["run", "deploy-web", "--dry-run", "--param", "version=2.0.1"]);
    assert!(dry.status.success());
    insta::assert_snapshot!("deploy_web_dry_run", String::from_utf8_lossy(&dry.stdout));
}

#[test]
fn an_unknown_failure_asks_the_operator_and_their_answer_becomes_the_proposal() {
    let world = drafted();
    let dir = fresh(&world, "ask");
    let health = dir.join("app/deploy/health.sh");
    let script = std::fs::read_to_string(&health).unwrap();
    std::fs::write(
        &health,
        script.replace("got=$(cat \"$root/current/VERSION\")", "got=1.3.9"),
    )
    .unwrap();
    let mut t = run_deploy_web(&world, &dir);
    walk_to_the_health_check(&mut t);
    t.expect("the SOP does not cover this");
    t.expect("what did you do: ");
    t.line("Restarted the app so it reads the new VERSION file");
    t.expect("why (the principle): ");
    t.line("The running process caches the version at start");
    t.expect("escalate when (optional): ");
    t.line("");
    abort_after_answer(&mut t);
    t.expect("aborted");
    assert_eq!(t.wait().code(), Some(13));

    let props = world.tacit(&["proposals", "deploy-web", "--json"]);
    let props: serde_json::Value = serde_json::from_slice(&props.stdout).unwrap();
    let p = &props.as_array().unwrap()[0];
    assert_eq!(
        p["evidence"]["answer"]["action"],
        "Restarted the app so it reads the new VERSION file"
    );
    assert_eq!(
        p["evidence"]["answer"]["reason"],
        "The running process caches the version at start"
    );
    assert!(
        p["evidence"]["step"]
            .as_str()
            .unwrap()
            .contains("Check health")
    );
    let run = world.run_json(guided_runs(&world)[0]["id"].as_str().unwrap());
    assert_eq!(outcome_of(&run), "aborted");
    // The answer is on the record of the run, linked to the failed command.
    assert!(
        run["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "answer")
    );
}

#[test]
fn resume_continues_a_killed_run_from_its_first_unfinished_step() {
    let world = drafted();
    let dir = fresh(&world, "resume");
    // The build hangs while this file exists: the run gets killed there.
    let gate = world.dir.path().join("slow-build");
    std::fs::write(&gate, "").unwrap();
    let build = dir.join("app/deploy/build.sh");
    let script = std::fs::read_to_string(&build).unwrap();
    std::fs::write(
        &build,
        script.replacen(
            "set -e\n",
            &format!(
                "set -e\nwhile [ -e {} ]; do sleep 0.1; done\n",
                gate.display()
            ),
            1,
        ),
    )
    .unwrap();

    let mut child = Command::new(tacit_bin())
        .args([
            "run",
            "deploy-web",
            "--yes",
            "--shell",
            "bash",
            "--param",
            "version=1.4.2",
        ])
        .current_dir(&dir)
        .env("TACIT_DB", world.db())
        .env("HOME", world.home())
        .env("TACIT_CONFIG", world.dir.path().join("config.toml"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the build step has started, then kill the runner.
    let journal_dir = world.journal_dir();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let started = std::fs::read_dir(&journal_dir)
            .map(|d| {
                d.flatten().any(|e| {
                    std::fs::read_to_string(e.path()).is_ok_and(|t| {
                        t.contains("\"step_done\"")
                            && t.contains("Pull the latest code")
                            && t.contains("Build the release")
                    })
                })
            })
            .unwrap_or(false);
        if started {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run never reached the build"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_file(&gate).unwrap();

    let out = Command::new(tacit_bin())
        .args([
            "run",
            "deploy-web",
            "--resume",
            "--yes",
            "--shell",
            "bash",
            "--param",
            "version=1.4.2",
        ])
        .current_dir(world.dir.path())
        .env("TACIT_DB", world.db())
        .env("HOME", world.home())
        .env("TACIT_CONFIG", world.dir.path().join("config.toml"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Pull the latest code (done before the interruption)"),
        "{stdout}"
    );

    // One run, continued: the pull ran once, everything after it ran once.
    let runs = guided_runs(&world);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = world.run_json(runs[0]["id"].as_str().unwrap());
    assert_eq!(outcome_of(&run), "succeeded");
    assert_eq!(run["run"]["status"], "completed");
    let cmds: Vec<&str> = commands(&run)
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        cmds.iter().filter(|c| **c == "git pull").count(),
        1,
        "{cmds:?}"
    );
    assert_eq!(
        cmds.iter()
            .filter(|c| c.starts_with("./deploy/release.sh"))
            .count(),
        1,
        "{cmds:?}"
    );
    assert!(dir.join("current").exists());
    // The chain holds across the interruption.
    let verify = world.tacit(&["runs", "verify", runs[0]["id"].as_str().unwrap()]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn open_a_shell_records_what_was_typed_and_deviations_need_a_reason() {
    let world = drafted();
    let dir = fresh(&world, "investigate");
    let mut t = run_deploy_web(&world, &dir);
    t.expect("[a]bort > ");
    t.line("o");
    t.expect("a recorded shell opens in");
    t.expect(PROMPT);
    t.run("git log --oneline | head -1");
    t.line("exit");
    t.expect("why did you open a shell");
    t.line("wanted to see what the pull would bring");
    t.expect("[a]bort > ");
    t.line("s");
    t.expect("why (one line");
    t.line("already pulled by hand");
    t.expect("[a]bort > ");
    t.line("a");
    assert_eq!(t.wait().code(), Some(13));

    let runs = guided_runs(&world);
    let run = world.run_json(runs[0]["id"].as_str().unwrap());
    assert_eq!(outcome_of(&run), "aborted");
    let deviations: Vec<&serde_json::Value> = run["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "deviation")
        .collect();
    assert_eq!(deviations.len(), 2, "{deviations:?}");
    assert!(
        deviations[0]["what"]
            .as_str()
            .unwrap()
            .starts_with("opened a shell (investigation run")
    );
    assert_eq!(
        deviations[0]["reason"],
        "wanted to see what the pull would bring"
    );
    assert_eq!(deviations[1]["what"], "skipped");
    assert_eq!(deviations[1]["reason"], "already pulled by hand");
    // What was typed in the shell is its own recorded run.
    let list = world.tacit(&["runs", "--name", "deploy-web-investigation", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let inv = world.run_json(list[0]["id"].as_str().unwrap());
    assert_eq!(commands(&inv)[0]["command"], "git log --oneline | head -1");
    // Both deviations go to the owner.
    let props = world.tacit(&["proposals", "deploy-web", "--json"]);
    let props: serde_json::Value = serde_json::from_slice(&props.stdout).unwrap();
    assert_eq!(
        props
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "deviation")
            .count(),
        2
    );
}

#[test]
fn parameters_are_asked_for_and_a_bad_value_gets_a_second_try() {
    let world = drafted();
    let dir = fresh(&world, "params");
    let cmd = tacit_in(&world, &dir).args(["run", "deploy-web", "--shell", "bash"]);
    let mut t = Term::spawn(cmd);
    t.expect("version (The version to release, e.g. 1.4.2): ");
    t.line("latest");
    t.expect("\"latest\" is not a version like 1.4.2; try again.");
    t.expect("version (");
    t.line("1.4.2");
    t.expect("Step 1/4: Pull the latest code");
    t.expect("[a]bort > ");
    t.line("a");
    assert_eq!(t.wait().code(), Some(EXIT_ABORTED));

    let bad = run_yes(&world, &dir, &["--param", "version=latest"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a version like"));
}

const EXIT_ABORTED: i32 = 13;
