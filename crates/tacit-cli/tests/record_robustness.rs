//! What must never go wrong while recording: killed recorders, two sessions
//! at once, full-screen programs, hostile output, terminal handling.

mod support;

use std::time::Duration;

use support::*;

fn kill(pid: i32, signal: rustix::process::Signal) {
    rustix::process::kill_process(rustix::process::Pid::from_raw(pid).unwrap(), signal).unwrap();
}

fn five_commands(t: &mut Term) {
    for i in 1..=5 {
        t.run(&format!("echo finished-{i}"));
    }
}

fn assert_interrupted_with_five(world: &World, id: &str) {
    let run = world.run_json(id);
    assert_eq!(run["run"]["status"], "interrupted");
    let cmds = commands(&run);
    assert_eq!(cmds.len(), 5, "{run}");
    for (i, c) in cmds.iter().enumerate() {
        assert_eq!(c["command"], format!("echo finished-{}", i + 1));
        assert_eq!(c["output"], format!("finished-{}", i + 1));
    }
    // The run shows up in listings too.
    let list = world.tacit(&["runs", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap();
    assert_eq!(listed["status"], "interrupted");
    assert_eq!(listed["commands"], 5);
}

#[test]
fn sigkill_of_the_recorder_keeps_every_finished_command() {
    let world = World::new();
    let mut t = world.record("killed", "bash", world.dir.path(), &["--no-ask"]);
    five_commands(&mut t);
    // A sixth command is running when the recorder dies: it never finished.
    t.line("sleep 30");
    std::thread::sleep(Duration::from_millis(200));
    kill(t.pid(), rustix::process::Signal::KILL);
    t.wait();
    assert_interrupted_with_five(&world, &t.run_id);
}

#[test]
fn a_closed_terminal_keeps_every_finished_command() {
    let world = World::new();
    let mut t = world.record("hangup", "bash", world.dir.path(), &["--no-ask"]);
    five_commands(&mut t);
    kill(t.pid(), rustix::process::Signal::HUP);
    t.wait();
    assert_interrupted_with_five(&world, &t.run_id);
}

#[test]
fn two_recordings_at_once_do_not_mix() {
    let world = World::new();
    let mut a = world.record("alpha", "bash", world.dir.path(), &["--no-ask"]);
    let mut b = world.record("beta", "bash", world.dir.path(), &["--no-ask"]);
    a.run("echo alpha-1");
    b.run("echo beta-1");
    a.run("tacit note from-alpha");
    b.run("tacit note from-beta");
    b.run("tacit why beta reason");
    a.run("tacit step Alpha step");
    a.run("echo alpha-2");
    b.run("echo beta-2");
    a.line("exit");
    b.line("exit");
    assert!(a.wait().success() && b.wait().success());
    for (t, me, other) in [(&a, "alpha", "beta"), (&b, "beta", "alpha")] {
        let run = world.run_json(&t.run_id);
        let text = run["events"].to_string();
        assert!(text.contains(&format!("{me}-1")) && text.contains(&format!("{me}-2")));
        assert!(text.contains(&format!("from-{me}")), "{text}");
        assert!(
            !text.contains(other),
            "{me}'s run holds {other}'s events: {text}"
        );
        // In-session commands are marks, not work.
        assert_eq!(commands(&run).len(), 2, "{text}");
    }
    let b_run = world.run_json(&b.run_id);
    let why = b_run["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "why")
        .unwrap();
    assert_eq!(why["text"], "beta reason");
    assert_eq!(why["command_seq"], commands(&b_run)[0]["seq"]);
}

#[test]
fn less_and_vim_open_and_close_without_corrupting_the_capture() {
    for p in ["less", "vim"] {
        if !require_shell(p) {
            return;
        }
    }
    let world = World::new();
    let file = world.dir.path().join("notes.txt");
    std::fs::write(&file, "first line of the notes\nsecond line\n").unwrap();
    let mut t = world.record("fullscreen", "bash", world.dir.path(), &["--no-ask"]);
    t.run("echo before");
    t.line("less notes.txt");
    t.expect("second line");
    std::thread::sleep(Duration::from_millis(200));
    t.send("q");
    t.expect(PROMPT);
    t.line("vim -u NONE -N notes.txt");
    t.expect("second line");
    std::thread::sleep(Duration::from_millis(200));
    t.send("\x1b:q!\r");
    t.expect(PROMPT);
    t.run("echo after");
    // A person sees their prompt and the last output, not a broken screen.
    let screen = t.screen();
    assert!(screen.contains("after"), "{screen}");
    t.line("exit");
    assert!(t.wait().success());

    let run = world.run_json(&t.run_id);
    let cmds = commands(&run);
    let lines: Vec<&str> = cmds
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "echo before",
            "less notes.txt",
            "vim -u NONE -N notes.txt",
            "echo after"
        ]
    );
    for c in &cmds[1..3] {
        assert_eq!(c["full_screen"], true, "{c}");
        assert_eq!(c["exit_code"], 0, "{c}");
        // What the program drew on the alternate screen is not output.
        assert!(
            !c["output"].as_str().unwrap().contains("second line"),
            "{c}"
        );
    }
    assert_eq!(cmds[3]["output"], "after");
    assert_eq!(cmds[0]["output"], "before");
}

#[test]
fn hostile_output_yields_clean_bounded_capture() {
    let world = World::new();
    let mut t = world.record("hostile", "bash", world.dir.path(), &["--no-ask"]);
    t.run("cat /bin/ls");
    t.run(r"printf 'bad \377\376 utf8 \300\n'");
    t.line("head -c 10000000 /dev/zero | tr '\\0' x; echo; echo end-of-$((6*7))");
    t.expect_within("end-of-42\r\n", Duration::from_secs(120));
    t.expect(PROMPT);
    // Forged marks: the right shape, without this session's nonce.
    t.run(r"printf '\033]133;D;exit=0\007\033]133;C;tacit=0123456789abcdef0123456789abcdef;cmd=rm%%20-rf%%20/;cwd=/\007forged-done\n'");
    t.run(r"printf '\033]133;A\033\\\033]133;D;tacit=;exit=1\007ok\n'");
    t.run("echo still-alive");
    t.line("exit");
    assert!(t.wait().success());

    let run = world.run_json(&t.run_id);
    let cmds = commands(&run);
    assert_eq!(
        cmds.len(),
        6,
        "{:#?}",
        cmds.iter().map(|c| &c["command"]).collect::<Vec<_>>()
    );
    let cap = 128 * 1024;
    for c in &cmds {
        let out = c["output"].as_str().unwrap();
        assert!(
            out.len() < 2 * cap,
            "output of {} is {} bytes",
            c["command"],
            out.len()
        );
        assert!(
            !out.contains('\x1b') && !out.contains('\r'),
            "{}",
            c["command"]
        );
    }
    // Binary output: kept within the cap, the rest counted.
    assert!(cmds[0]["output_bytes"].as_u64().unwrap() > 50_000);
    // Invalid UTF-8 becomes replacement characters.
    assert!(
        cmds[1]["output"].as_str().unwrap().contains("bad \u{FFFD}"),
        "{}",
        cmds[1]
    );
    // The 10 MB line: counted, head and tail kept, the middle dropped.
    let big = &cmds[2];
    assert!(big["output_bytes"].as_u64().unwrap() >= 10_000_000);
    assert!(big["output_dropped_bytes"].as_u64().unwrap() >= 10_000_000 - cap as u64);
    assert!(big["output"].as_str().unwrap().ends_with("end-of-42"));
    // Forged marks forged nothing.
    assert!(cmds.iter().all(|c| c["command"] != "rm -rf /"));
    assert!(cmds[3]["output"].as_str().unwrap().contains("forged-done"));
    assert_eq!(cmds[4]["output"], "ok");
    assert_eq!(cmds[5]["output"], "still-alive");
}

#[test]
fn ctrl_c_and_job_control_behave_as_in_a_plain_terminal() {
    let world = World::new();
    let mut t = world.record("jobs", "bash", world.dir.path(), &[]);
    t.line("sleep 30");
    std::thread::sleep(Duration::from_millis(300));
    t.send("\x03");
    t.expect(PROMPT);
    t.line("sleep 1");
    std::thread::sleep(Duration::from_millis(300));
    t.send("\x1a");
    t.expect("Stopped");
    t.expect(PROMPT);
    // A stopped job's status (148) is not a failure worth a question either.
    t.run("fg");
    t.run("echo resumed");
    t.line("exit");
    assert!(t.wait().success());
    let run = world.run_json(&t.run_id);
    let cmds = commands(&run);
    // Ctrl-C's 130 asks nothing (excluded by default).
    assert!(!run["events"].to_string().contains("\"answer\""));
    assert_eq!(cmds[0]["command"], "sleep 30");
    assert_eq!(cmds[0]["exit_code"], 130);
    let lines: Vec<&str> = cmds
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(lines, ["sleep 30", "sleep 1", "fg", "echo resumed"]);
    assert_eq!(cmds[1]["exit_code"], 148);
    assert_eq!(cmds[2]["exit_code"], 0);
    assert_eq!(cmds[3]["output"], "resumed");
}

#[test]
fn window_resizes_reach_the_shell() {
    let world = World::new();
    let mut t = world.record("resize", "bash", world.dir.path(), &["--no-ask"]);
    t.resize(40, 100);
    std::thread::sleep(Duration::from_millis(200));
    t.run("stty size");
    t.line("exit");
    t.wait();
    let run = world.run_json(&t.run_id);
    assert_eq!(commands(&run)[0]["output"], "40 100");
}

#[test]
fn the_terminal_is_raw_while_recording_and_restored_after() {
    let world = World::new();
    let mut t = world.record("termios", "bash", world.dir.path(), &["--no-ask"]);
    assert!(!t.is_cooked(), "tacit must pass keys through in raw mode");
    t.line("exit");
    assert!(t.wait().success());
    assert!(
        t.is_cooked(),
        "the terminal must be restored when tacit exits"
    );
}

#[test]
fn a_risky_command_asks_and_enter_skips_without_leaking() {
    let world = World::new();
    std::fs::create_dir_all(world.dir.path().join("scratch/sub")).unwrap();
    let mut t = world.record("risky", "bash", world.dir.path(), &[]);
    t.line("rm -rf scratch");
    t.expect("looks risky");
    t.expect("what did you do: ");
    t.send("\r");
    t.expect("(skipped)");
    t.expect(PROMPT);
    t.run("echo next");
    t.line("false");
    t.expect("failed (exit 1)");
    t.expect("what did you do: ");
    t.line("nothing, it was a test");
    t.expect("why (the principle): ");
    t.line("false always fails");
    t.expect("escalate when (optional): ");
    t.send("\r");
    t.expect(PROMPT);
    t.line("exit");
    assert!(t.wait().success());
    let run = world.run_json(&t.run_id);
    let cmds = commands(&run);
    assert_eq!(cmds[1]["output"], "next");
    let answers: Vec<_> = run["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "answer")
        .collect();
    assert_eq!(answers.len(), 1, "the skipped question stores nothing");
    assert_eq!(answers[0]["action"], "nothing, it was a test");
    assert_eq!(answers[0]["escalate"], serde_json::Value::Null);
    assert_eq!(answers[0]["command_seq"], cmds[2]["seq"]);
}

#[test]
fn no_ask_never_asks() {
    let world = World::new();
    let mut t = world.record("quiet", "bash", world.dir.path(), &["--no-ask"]);
    t.run("false");
    t.run("echo next");
    t.line("exit");
    assert!(t.wait().success());
    let out = String::from_utf8_lossy(&t.all_output()).into_owned();
    assert!(!out.contains("What did you do"), "{out}");
}

#[test]
fn in_session_commands_outside_a_recording_say_so() {
    let world = World::new();
    let out = world.tacit(&["note", "hello"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not inside a recording"));
}

#[test]
fn recording_inside_a_recording_is_refused() {
    let world = World::new();
    let mut t = world.record("outer", "bash", world.dir.path(), &["--no-ask"]);
    t.line("tacit record inner");
    t.expect("already being recorded");
    t.expect(PROMPT);
    t.line("exit");
    assert!(t.wait().success());
}
