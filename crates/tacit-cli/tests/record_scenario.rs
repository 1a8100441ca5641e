//! The deploy-webapp scenario of SESSION.md, recorded end to end through the
//! real binary in a real PTY, in bash, zsh and fish.

mod support;

use support::*;

fn record_scenario(shell: &str) {
    if !require_shell(shell) {
        return;
    }
    let world = World::new();
    let scenario = world.scenario();
    let mut t = world.record("deploy-web", shell, &scenario, &[]);
    play_session(&mut t, &[]);
    t.line("exit");
    t.expect("tacit: recorded \"deploy-web\": 9 commands (1 failed), 1 answer");
    assert!(t.wait().success());

    let run = world.run_json(&t.run_id);
    assert_eq!(run["run"]["status"], "completed");
    assert_eq!(run["run"]["shell"], shell);
    let cmds = commands(&run);
    let lines: Vec<&str> = cmds
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "cd app && git pull",
            "./deploy/check-env.sh",
            "./deploy/build.sh 1.4.2",
            "./deploy/migrate.sh",
            "cat ../state/migrate.lock",
            "ps -p 4242 || rm ../state/migrate.lock",
            "./deploy/migrate.sh",
            "./deploy/release.sh 1.4.2",
            "./deploy/health.sh 1.4.2",
        ],
        "{shell}"
    );

    // The working folder follows `cd`.
    let root = scenario.canonicalize().unwrap();
    let app = root.join("app");
    assert_eq!(cmds[0]["cwd"].as_str().unwrap(), root.to_str().unwrap());
    for c in &cmds[1..] {
        assert_eq!(c["cwd"].as_str().unwrap(), app.to_str().unwrap(), "{c}");
    }

    // Exit codes, and the failure's answer in three parts, linked to it.
    let exits: Vec<i64> = cmds
        .iter()
        .map(|c| c["exit_code"].as_i64().unwrap())
        .collect();
    assert_eq!(exits, [0, 0, 0, 3, 0, 0, 0, 0, 0]);
    let events = run["events"].as_array().unwrap();
    let answer = events
        .iter()
        .find(|e| e["kind"] == "answer")
        .expect("an answer");
    assert_eq!(answer["command_seq"], cmds[3]["seq"]);
    assert_eq!(answer["trigger"], "failure");
    assert_eq!(answer["action"], ACTION);
    assert_eq!(answer["reason"], REASON);
    assert_eq!(answer["escalate"], ESCALATE);
    assert!(
        cmds[3]["output"]
            .as_str()
            .unwrap()
            .contains("migration lock held by pid 4242")
    );

    // The progress bar is resolved as the screen showed it.
    let build = cmds[2]["output"].as_str().unwrap();
    assert!(build.contains("building... 100%"), "{build:?}");
    assert!(!build.contains('\r'), "{build:?}");
    assert!(!build.contains("building... 20%"), "{build:?}");

    // The answer did not leak into what the next command printed.
    let cat = cmds[4]["output"].as_str().unwrap();
    assert_eq!(cat.trim(), "4242");

    // Timing is recorded.
    for c in &cmds {
        assert!(
            c["started_at_ms"].as_i64().unwrap() >= run["run"]["started_at_ms"].as_i64().unwrap()
        );
        assert!(c["duration_ms"].as_i64().unwrap() >= 0);
    }
    // The user's own rc file was loaded.
    let build_ms = cmds[2]["duration_ms"].as_i64().unwrap();
    assert!(build_ms >= 200, "build.sh sleeps 0.25s, took {build_ms}ms");
}

#[test]
fn scenario_in_bash() {
    record_scenario("bash");
}

#[test]
fn scenario_in_zsh() {
    record_scenario("zsh");
}

#[test]
fn scenario_in_fish() {
    record_scenario("fish");
}
