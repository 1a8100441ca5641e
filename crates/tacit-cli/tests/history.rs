//! The user's own history (issue "Secrets never reach the disk", 4): their
//! history settings hold inside a recording, tacit's integration never
//! writes its own lines into their history file, and a command typed with
//! a leading space is kept out of the record as it is kept out of history.

mod support;

use support::*;

fn record_lines(world: &World, shell: &str, lines: &[&str]) -> serde_json::Value {
    let dir = world.dir.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    let mut t = world.record("history", shell, &dir, &[]);
    for l in lines {
        t.run(l);
    }
    t.line("exit");
    assert!(t.wait().success());
    world.run_json(&t.run_id)
}

fn every_file_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

#[test]
fn bash_with_history_turned_off_writes_no_history_file() {
    if !require_shell("bash") {
        return;
    }
    let world = World::new();
    let rc = world.home().join(".bashrc");
    let mut text = std::fs::read_to_string(&rc).unwrap();
    text.push_str("set +o history\n");
    std::fs::write(&rc, text).unwrap();
    let run = record_lines(
        &world,
        "bash",
        &["echo first", "export APP_TOKEN=tok_9f8e7d6c5b4a; echo set"],
    );
    assert_eq!(commands(&run).len(), 2);
    assert!(
        !world.home().join(".bash_history").exists(),
        "{}",
        std::fs::read_to_string(world.home().join(".bash_history")).unwrap_or_default()
    );
}

#[test]
fn bash_history_holds_the_users_commands_and_none_of_tacits() {
    if !require_shell("bash") {
        return;
    }
    let world = World::new();
    let rc = world.home().join(".bashrc");
    let mut text = std::fs::read_to_string(&rc).unwrap();
    text.push_str("HISTFILE=~/.bash_history\nHISTCONTROL=ignoreboth\n");
    std::fs::write(&rc, text).unwrap();
    record_lines(&world, "bash", &["echo one", " echo private", "echo two"]);
    let history = std::fs::read_to_string(world.home().join(".bash_history")).unwrap();
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines, ["echo one", "echo two", "exit"], "{history}");
}

fn leading_space_is_not_recorded(shell: &str) {
    if !require_shell(shell) {
        return;
    }
    let world = World::new();
    let run = record_lines(
        &world,
        shell,
        &[
            "echo shown",
            " echo hidden-out-7f3a; echo APP_TOKEN=tok_1a2b3c4d5e6f",
        ],
    );
    let cmds = commands(&run);
    assert_eq!(cmds.len(), 2, "{run}");
    assert_eq!(cmds[0]["command"], "echo shown");
    assert_eq!(cmds[1]["command"], tacit_core::UNRECORDED_COMMAND);
    assert_eq!(cmds[1]["output"], "");
    // Neither the command nor its output reached any file tacit wrote.
    for (path, bytes) in every_file_under(&world.dir.path().join("lib")) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("hidden-out-7f3a") && !text.contains("tok_1a2b3c4d5e6f"),
            "{} holds the private command",
            path.display()
        );
    }
}

#[test]
fn a_leading_space_keeps_a_command_out_of_the_record_in_bash() {
    leading_space_is_not_recorded("bash");
}

#[test]
fn a_leading_space_keeps_a_command_out_of_the_record_in_zsh() {
    leading_space_is_not_recorded("zsh");
}

#[test]
fn a_leading_space_keeps_a_command_out_of_the_record_in_fish() {
    leading_space_is_not_recorded("fish");
}
