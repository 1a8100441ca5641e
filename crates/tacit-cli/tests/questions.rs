//! When tacit asks, and what it takes as the answer (issue "Trustworthy
//! drafts", 5), through the real recorder in a PTY.

mod support;

use std::time::Duration;

use support::*;

const QUESTION: &str = "What did you do about this, and why?";

fn answers(run: &serde_json::Value) -> Vec<serde_json::Value> {
    run["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "answer")
        .cloned()
        .collect()
}

#[test]
fn keys_typed_as_a_question_appears_go_to_the_shell_not_into_the_answer() {
    if !require_shell("bash") {
        return;
    }
    let world = World::new();
    let dir = world.dir.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    let mut t = world.record("typeahead", "bash", &dir, &[]);
    t.line("false");
    t.expect(QUESTION);
    // The operator was already typing the next command.
    t.send("echo typed-ahead-xyz\r");
    t.expect("goes to your shell after it");
    t.expect("what did you do: ");
    t.line("");
    t.expect("typed-ahead-xyz");
    t.expect(PROMPT);
    t.line("exit");
    assert!(t.wait().success());
    let run = world.run_json(&t.run_id);
    assert!(answers(&run).is_empty(), "{run}");
    let cmds: Vec<String> = commands(&run)
        .iter()
        .map(|c| c["command"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cmds, ["false", "echo typed-ahead-xyz"]);
}

#[test]
fn destructive_commands_ask_and_typos_never_do() {
    if !require_shell("bash") {
        return;
    }
    let world = World::new();
    let dir = world.dir.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("old.log"), "x").unwrap();
    std::fs::write(dir.join("big.log"), "xxxxxxxx").unwrap();
    let mut t = world.record("cleanup", "bash", &dir, &[]);
    // A typo, even of a risky command, asks nothing.
    t.line("sudoo rm -rf /nonexistent-tacit");
    t.expect(PROMPT);
    // Removing, truncating and killing ask, even when they succeed.
    for (cmd, action) in [
        ("rm old.log", "Removed the rotated log"),
        ("truncate -s 0 big.log", "Emptied the live log"),
        ("sleep 60 & kill $!", "Stopped the stray sleeper"),
    ] {
        t.line(cmd);
        t.expect(QUESTION);
        t.expect("what did you do: ");
        t.line(action);
        t.expect("why (the principle): ");
        t.line("It filled the disk.");
        t.expect("escalate when (optional): ");
        t.line("");
        t.expect(PROMPT);
    }
    // Answers may hold Markdown and HTML; they are kept as typed.
    t.line("rm -f nothing-here");
    t.expect("what did you do: ");
    t.line("Ran `rm -f` <b>twice</b> | see *notes*");
    t.expect("why (the principle): ");
    t.line("");
    t.expect("escalate when (optional): ");
    t.line("");
    t.expect(PROMPT);
    std::thread::sleep(Duration::from_millis(100));
    t.line("exit");
    assert!(t.wait().success());
    let run = world.run_json(&t.run_id);
    let a = answers(&run);
    assert_eq!(a.len(), 4, "{run}");
    assert!(a.iter().all(|x| x["trigger"] == "risky"), "{a:?}");
    assert_eq!(a[3]["action"], "Ran `rm -f` <b>twice</b> | see *notes*");
    assert_eq!(a[3]["reason"], "");
    assert!(!dir.join("old.log").exists());
}
