//! `tacit import cast` and `tacit import history` through the binary.

mod support;

use support::*;

fn fixture(name: &str) -> String {
    format!(
        "{}/../tacit-capture/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn stdout_ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn latest_commands(world: &World) -> Vec<(String, String)> {
    let run = world.run_json("latest");
    commands(&run)
        .iter()
        .map(|c| {
            (
                c["command"].as_str().unwrap().to_string(),
                c["output"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_cast_tacit_exported_imports_back_into_the_same_commands_and_drafts() {
    let world = World::new();
    let scenario = world.scenario();
    let mut t = world.record("deploy-web", "bash", &scenario, &[]);
    play_session(&mut t, &[]);
    t.line("exit");
    assert!(t.wait().success());
    let original: Vec<(String, String)> = {
        let run = world.run_json(&t.run_id);
        commands(&run)
            .iter()
            .map(|c| {
                (
                    c["command"].as_str().unwrap().to_string(),
                    c["output"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let cast = world.dir.path().join("run.cast");
    stdout_ok(world.tacit(&[
        "runs",
        "export",
        &t.run_id,
        "--format",
        "cast",
        "-o",
        cast.to_str().unwrap(),
    ]));
    let out = stdout_ok(world.tacit(&[
        "import",
        "cast",
        cast.to_str().unwrap(),
        "--name",
        "from-cast",
    ]));
    assert!(out.contains("9 commands"), "{out}");
    assert_eq!(latest_commands(&world), original);
    // An imported run drafts like a recorded one (without the answer, which
    // a cast does not hold).
    let drafted = stdout_ok(world.tacit(&["draft", "from-cast"]));
    assert!(drafted.contains("Drafted from-cast version 1"), "{drafted}");
}

#[test]
fn a_cast_recorded_by_asciinema_imports() {
    let world = World::new();
    for f in [
        "asciinema3-bash-v3.cast",
        "asciinema3-bash-v2.cast",
        "asciinema3-bash-osc133-v3.cast",
    ] {
        let out = stdout_ok(world.tacit(&["import", "cast", &fixture(f)]));
        assert!(out.contains("Imported"), "{out}");
        let cmds = latest_commands(&world);
        let lines: Vec<&str> = cmds.iter().map(|(c, _)| c.as_str()).collect();
        assert!(lines.contains(&"echo hello"), "{f}: {lines:?}");
        let hello = cmds.iter().find(|(c, _)| c == "echo hello").unwrap();
        assert_eq!(hello.1, "hello", "{f}");
        let printf = cmds.iter().find(|(c, _)| c.starts_with("printf")).unwrap();
        assert_eq!(printf.1, "b", "{f}: the \\r is resolved");
    }
}

#[test]
fn shell_history_imports_and_garbage_is_a_clear_error() {
    let world = World::new();
    let hist = world.dir.path().join("zsh_history");
    std::fs::write(&hist, ": 1700000000:2;cd /srv/app\n: 1700000005:0;git pull\n: 1700000010:7;./deploy/build.sh 1.4.2\n").unwrap();
    let out = stdout_ok(world.tacit(&[
        "import",
        "history",
        hist.to_str().unwrap(),
        "--name",
        "hist",
    ]));
    assert!(out.contains("3 commands"), "{out}");
    let cmds = latest_commands(&world);
    assert_eq!(cmds[2].0, "./deploy/build.sh 1.4.2");
    let run = world.run_json("latest");
    assert_eq!(run["run"]["shell"], "zsh");

    let out = stdout_ok(world.tacit(&["import", "history", hist.to_str().unwrap(), "--last", "1"]));
    assert!(out.contains("1 command."), "{out}");

    let bad = world.dir.path().join("bad.cast");
    std::fs::write(
        &bad,
        "{\"version\": 2, \"width\": 80, \"height\": 24}\n{\"not\": \"an array\"}\n",
    )
    .unwrap();
    let out = world.tacit(&["import", "cast", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.cast") && err.contains("line 2"), "{err}");
}
