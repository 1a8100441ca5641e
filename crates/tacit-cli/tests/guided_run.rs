//! A guided run that asks where it used to stop (issue "The guided run and
//! the CLI, hardened"), driven by keystrokes in a real PTY.

mod support;

use support::*;

fn answer_the_failure(t: &mut Term) {
    t.expect("the SOP does not cover this");
    t.expect("what did you do: ");
    t.line("Restarted the app so it reads the new VERSION file");
    t.expect("why (the principle): ");
    t.line("The running process caches the version at start");
    t.expect("escalate when (optional): ");
    t.line("");
}

#[test]
fn after_an_unknown_failure_the_operator_can_fix_it_and_retry() {
    let world = drafted();
    let dir = fresh(&world, "retry");
    broken_health(&dir);
    let mut t = run_deploy_web(&world, &dir);
    walk_to_the_health_check(&mut t);
    answer_the_failure(&mut t);
    // The run does not end: it offers what to do next.
    t.expect("[r]etry  [e]dit  [o]pen a shell  [s]kip this step  [a]bort > ");
    std::fs::write(dir.join("state/fixed"), "").unwrap();
    t.line("r");
    let got = t.expect_any(&["healthy: version 1.4.2", "what did you do: ", "[a]bort > "]);
    let all = String::from_utf8_lossy(&t.all_output()).into_owned();
    assert_eq!(got, 0, "{}", &all[all.len().saturating_sub(2500)..]);
    t.expect("finished, not all as written");
    assert_eq!(t.wait().code(), Some(0));

    // The answer still reached the owner.
    let props = world.tacit(&["proposals", "deploy-web", "--json"]);
    let props: serde_json::Value = serde_json::from_slice(&props.stdout).unwrap();
    assert!(
        props
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["evidence"]["answer"]["action"]
                == "Restarted the app so it reads the new VERSION file"),
        "{props:#}"
    );
    let run = world.run_json(guided_runs(&world)[0]["id"].as_str().unwrap());
    assert_eq!(outcome_of(&run), "succeeded");
}

#[test]
fn a_skipped_step_is_said_in_the_outcome_and_runs_show_how_runs_ended() {
    let world = drafted();
    let dir = fresh(&world, "skip");
    broken_health(&dir);
    let mut t = run_deploy_web(&world, &dir);
    walk_to_the_health_check(&mut t);
    answer_the_failure(&mut t);
    t.expect("[s]kip this step  [a]bort > ");
    t.line("s");
    t.expect("why (one line, kept with the run): ");
    t.line("the dashboard shows the new version; the check reads a stale file");
    t.expect("finished, not all as written");
    t.expect("skipped after a failure");
    let out = String::from_utf8_lossy(&t.all_output()).into_owned();
    assert!(
        !out.contains("every step and success check passed"),
        "a skipped check is not a pass"
    );
    assert_eq!(t.wait().code(), Some(0));

    // `tacit runs` says how the guided run ended, not "completed".
    let runs = world.tacit(&["runs"]);
    let runs = String::from_utf8_lossy(&runs.stdout).into_owned();
    let line = runs
        .lines()
        .find(|l| l.contains("deploy-web") && !l.contains("completed"))
        .unwrap_or_default();
    assert!(line.contains("succeeded"), "{runs}");
}

#[test]
fn ctrl_c_at_a_menu_stores_the_run_as_aborted_and_it_resumes_with_its_values() {
    let world = drafted();
    let dir = fresh(&world, "ctrl-c");
    let mut t = run_deploy_web(&world, &dir);
    t.expect("Pull the latest code");
    t.expect("[a]bort > ");
    t.line("r");
    t.expect("Build the release");
    t.expect("[a]bort > ");
    t.send("\x03");
    t.expect("aborted");
    assert_eq!(t.wait().code(), Some(13));

    let runs = guided_runs(&world);
    assert_eq!(runs.len(), 1, "the run was stored");
    let run = world.run_json(runs[0]["id"].as_str().unwrap());
    assert_eq!(outcome_of(&run), "aborted");

    // A different value mid-procedure is refused...
    let changed = world.tacit(&["run", "deploy-web", "--resume", "--param", "version=9.9.9"]);
    assert_eq!(changed.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&changed.stderr).contains("used version=1.4.2"),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );

    // ...and --resume goes on with the stored value, without asking for it,
    // from the first unfinished step.
    let mut t = Term::spawn(tacit_in(&world, &dir).args([
        "run",
        "deploy-web",
        "--resume",
        "--shell",
        "bash",
    ]));
    t.expect("Pull the latest code (done before the interruption)");
    t.expect("Build the release");
    t.expect("./deploy/build.sh 1.4.2");
    t.expect("[a]bort > ");
    t.send("\x04");
    t.expect("aborted");
    assert_eq!(t.wait().code(), Some(13));
    let out = String::from_utf8_lossy(&t.all_output()).into_owned();
    assert!(
        !out.contains("version ("),
        "asked for a stored value: {out}"
    );
}

#[test]
fn forcing_a_different_value_on_resume_is_recorded_as_a_deviation() {
    let world = drafted();
    let dir = fresh(&world, "force");
    let mut t = run_deploy_web(&world, &dir);
    t.expect("[a]bort > ");
    t.line("a");
    assert_eq!(t.wait().code(), Some(13));
    let out = run_yes(
        &world,
        &dir,
        &["--resume", "--force-param", "--param", "version=1.4.3"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(stdout.contains("./deploy/build.sh 1.4.3"), "{stdout}");
    let run = world.run_json(guided_runs(&world)[0]["id"].as_str().unwrap());
    let deviation = run["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "deviation")
        .expect("a deviation")
        .clone();
    assert_eq!(
        deviation["what"],
        "changed version from `1.4.2` to `1.4.3` on resume"
    );
}

#[test]
fn the_edit_prompt_is_a_line_editor_prefilled_with_the_command() {
    let world = drafted();
    let dir = fresh(&world, "edit");
    let mut t = run_deploy_web(&world, &dir);
    t.expect("Pull the latest code");
    t.expect("[a]bort > ");
    // An arrow key at a menu is editing, not text.
    t.send("\x1b[A");
    t.line("r");
    t.expect("Build the release");
    t.expect("[a]bort > ");
    t.line("e");
    t.expect("command to run instead: ");
    // The command is already there: add a flag at its end.
    t.line(" --verbose");
    t.expect("why (one line, kept with the run): ");
    t.line("more output to see where it is slow");
    t.expect("./deploy/build.sh 1.4.2 --verbose");
    t.expect("[a]bort > ");
    t.line("a");
    assert_eq!(t.wait().code(), Some(13));
    let out = String::from_utf8_lossy(&t.all_output()).into_owned();
    assert!(!out.contains("^[[A"), "the arrow key was typed as text");
    let run = world.run_json(guided_runs(&world)[0]["id"].as_str().unwrap());
    let edited = run["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "deviation")
        .expect("a deviation")
        .clone();
    assert_eq!(
        edited["what"],
        "edited to `./deploy/build.sh <<version>> --verbose`"
    );
}

fn cleanup_sop(world: &World) -> std::path::PathBuf {
    let work = import_runbook(
        world,
        "clean-build",
        "# Clean the build\n\n## Steps\n\n1. Look at what is there:\n   ```sh\n   ls\n   ```\n2. Remove the old build:\n   ```sh\n   rm -rf old-build\n   ```\n3. Say done:\n   ```sh\n   echo cleaned\n   ```\n",
    );
    std::fs::create_dir_all(work.join("old-build")).unwrap();
    work
}

#[test]
fn a_risky_step_stands_out_and_needs_a_yes_even_under_yes() {
    let world = World::new();
    let work = cleanup_sop(&world);
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "clean-build", "--yes", "--shell", "bash"];
        args.extend_from_slice(extra);
        world.command(&args).current_dir(&work).output().unwrap()
    };
    // Unattended, the run stops before the risky step: nothing is removed.
    let out = run(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(13), "{stdout}");
    assert!(stdout.contains("⚠ risky"), "{stdout}");
    assert!(stdout.contains("--allow-risky"), "{stdout}");
    assert!(work.join("old-build").exists());
    // --allow-risky runs it.
    let out = run(&["--allow-risky"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert!(!work.join("old-build").exists());

    // Interactively, Enter is not enough: it takes a "yes".
    std::fs::create_dir_all(work.join("old-build")).unwrap();
    let mut t =
        Term::spawn(tacit_in(&world, &work).args(["run", "clean-build", "--shell", "bash"]));
    t.expect("[a]bort > ");
    t.line("r");
    t.expect("⚠ risky");
    t.expect("[a]bort > ");
    t.line("");
    t.expect("type yes to run it > ");
    t.line("no");
    t.expect("[a]bort > ");
    assert!(work.join("old-build").exists(), "ran without a yes");
    t.line("r");
    t.expect("type yes to run it > ");
    t.line("yes");
    t.expect("[a]bort > ");
    t.line("r");
    t.expect("cleaned");
    assert_eq!(t.wait().code(), Some(0));
    assert!(!work.join("old-build").exists());
}

#[test]
fn a_step_runs_in_a_terminal_of_the_operators_size_and_follows_a_resize() {
    let world = World::new();
    let work = import_runbook(
        &world,
        "size",
        "# Terminal size\n\n## Steps\n\n1. Size now:\n   ```sh\n   stty size\n   ```\n2. Size after a resize:\n   ```sh\n   sleep 2; stty size\n   ```\n",
    );
    // Term starts at 30 rows x 120 columns.
    let mut t = Term::spawn(tacit_in(&world, &work).args(["run", "size", "--shell", "bash"]));
    t.expect("[a]bort > ");
    t.line("r");
    t.expect("30 120");
    t.expect("[a]bort > ");
    t.line("r");
    t.expect("$ sleep 2; stty size");
    std::thread::sleep(std::time::Duration::from_millis(500));
    t.resize(45, 90);
    t.expect("45 90");
    assert_eq!(t.wait().code(), Some(0));
}

#[test]
fn a_step_of_several_commands_can_be_taken_one_by_one_and_an_editor_is_its_own_choice() {
    let world = World::new();
    let work = import_runbook(
        &world,
        "config",
        "# Change the config\n\n## Steps\n\n1. Write, edit and show the config:\n   ```sh\n   echo 'port = 80' > app.conf\n   vim app.conf\n   cat app.conf\n   ```\n2. Three checks:\n   ```sh\n   echo first\n   echo second\n   echo third\n   ```\n",
    );
    let mut t = Term::spawn(tacit_in(&world, &work).args(["run", "config", "--shell", "bash"]));
    t.expect("[a]bort > ");
    t.line("r");
    t.expect("one command at a time: this step opens an editor");
    t.expect("command 1/3:");
    t.expect("[a]bort > ");
    t.line("r");
    t.expect("command 2/3:");
    t.expect("[r]un the editor  [d]one by hand");
    t.line("d");
    t.expect("why (one line, kept with the run): ");
    t.line("edited it in the web console instead");
    t.expect("command 3/3:");
    t.expect("[a]bort > ");
    t.line("r");
    t.expect("port = 80");
    // Step 2: chosen one by one, the middle command skipped.
    t.expect("[c]ommand by command");
    t.line("c");
    t.expect("command 1/3:");
    t.line("r");
    t.expect("command 2/3:");
    t.line("s");
    t.expect("why (one line, kept with the run): ");
    t.line("not needed here");
    t.expect("command 3/3:");
    t.line("r");
    t.expect("third");
    assert_eq!(t.wait().code(), Some(0));
    let out = String::from_utf8_lossy(&t.all_output()).into_owned();
    assert!(!out.contains("\r\nsecond"), "a skipped command ran");
    let run = world.run_json("latest");
    let what: Vec<String> = run["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "deviation")
        .map(|e| e["what"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        what,
        vec!["did `vim app.conf` by hand", "skipped `echo second`"]
    );
}

#[test]
fn a_manual_step_done_is_the_step_as_written_not_a_deviation() {
    let world = World::new();
    let work = import_runbook(
        &world,
        "manual",
        "# Manual check\n\n## Steps\n\n- [ ] Look at the dashboard\n- [ ] Say so:\n  ```sh\n  echo looked\n  ```\n",
    );
    let out = world
        .command(&["run", "manual", "--yes", "--shell", "bash"])
        .current_dir(&work)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("every step and success check passed"),
        "{stdout}"
    );
    assert!(!stdout.contains("proposal(s) wait"), "{stdout}");
}
