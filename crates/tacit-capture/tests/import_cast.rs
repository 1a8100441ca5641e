//! Importing asciinema casts: real recordings by asciinema 3 (see
//! `fixtures/README.md`), tacit's own export, hand-made casts for the
//! corners, and broken input.

use tacit_capture::import::{ImportError, ImportedRun, import_cast};
use tacit_core::event::{CommandRecord, Event, EventBody, RunMeta, RunStatus};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn commands(run: &ImportedRun) -> Vec<&CommandRecord> {
    run.events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Command(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn lines_of(run: &ImportedRun) -> Vec<(&str, &str)> {
    commands(run)
        .into_iter()
        .map(|c| (c.command.as_str(), c.output.as_str()))
        .collect()
}

fn notes(run: &ImportedRun) -> Vec<&str> {
    run.events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Note { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// Every run: dense seq from 1, imported metadata, times in order.
fn check_run(run: &ImportedRun) {
    for (i, e) in run.events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    assert_eq!(run.meta.status, RunStatus::Completed);
    assert_eq!(run.meta.tacit_version, "import");
    assert_eq!(run.meta.recorder_pid, None);
    let mut last = i64::MIN;
    for e in &run.events {
        assert!(
            e.at_ms >= last,
            "events out of time order: {:?}",
            run.events
        );
        last = e.at_ms;
        assert!(e.at_ms >= run.meta.started_at_ms);
        assert!(Some(e.at_ms) <= run.meta.ended_at_ms);
        if let EventBody::Command(c) = &e.body {
            assert!(c.duration_ms >= 0);
            assert_eq!(e.at_ms, c.started_at_ms + c.duration_ms);
        }
    }
}

const DEMO: [(&str, &str); 3] = [
    ("echo hello", "hello"),
    (
        "ls /nonexistent",
        "ls: cannot access '/nonexistent': No such file or directory",
    ),
    // `a\rb`: the screen shows only `b`.
    ("printf 'a\\rb\\n'", "b"),
];

#[test]
fn a_real_asciinema_v3_recording_imports_by_its_prompts() {
    let run = import_cast(&fixture("asciinema3-bash-v3.cast"), "demo", "r1").unwrap();
    check_run(&run);
    assert_eq!(lines_of(&run), DEMO);
    assert_eq!(
        (run.meta.id.as_str(), run.meta.name.as_str()),
        ("r1", "demo")
    );
    assert_eq!(run.meta.shell, "bash");
    assert_eq!((run.meta.cols, run.meta.rows), (80, 24));
    assert_eq!(run.meta.started_at_ms, 1_795_534_394_000);
    assert_eq!((run.meta.host.as_str(), run.meta.user.as_str()), ("", ""));
    // No marks: exit codes are unknown.
    assert!(commands(&run).iter().all(|c| c.exit_code.is_none()));
    // Times come from the events: `echo hello` was entered about 0.8 s in,
    // each next command about 1.4 s later.
    let starts: Vec<i64> = commands(&run)
        .iter()
        .map(|c| c.started_at_ms - run.meta.started_at_ms)
        .collect();
    assert!((700..1000).contains(&starts[0]), "{starts:?}");
    assert!(
        (1200..1600).contains(&(starts[1] - starts[0])),
        "{starts:?}"
    );
    assert!(
        (1200..1600).contains(&(starts[2] - starts[1])),
        "{starts:?}"
    );
    // The last event is the exit of bash, 4.366 s after the start.
    assert_eq!(run.meta.ended_at_ms, Some(1_795_534_398_366));
}

#[test]
fn a_real_asciinema_v2_recording_imports_by_its_prompts() {
    let run = import_cast(&fixture("asciinema3-bash-v2.cast"), "demo", "r2").unwrap();
    check_run(&run);
    assert_eq!(lines_of(&run), DEMO);
    assert_eq!(run.meta.started_at_ms, 1_795_534_400_000);
    let c = commands(&run);
    // v2 times are absolute: Enter after `ls /nonexistent` was echoed at
    // 2.181981 s, and its one line of output ended at 2.184296 s.
    assert_eq!(c[1].started_at_ms - run.meta.started_at_ms, 2182);
    assert_eq!(c[1].duration_ms, 2184 - 2182);
}

#[test]
fn a_real_recording_with_osc_133_marks_gives_exit_codes() {
    // Recorded with `asciinema rec -I`, so it also holds "i" (input) events.
    let text = fixture("asciinema3-bash-osc133-v3.cast");
    assert!(text.contains(r#", "i", "#));
    let run = import_cast(&text, "demo", "r3").unwrap();
    check_run(&run);
    assert_eq!(lines_of(&run), DEMO);
    let exits: Vec<Option<i32>> = commands(&run).iter().map(|c| c.exit_code).collect();
    assert_eq!(exits, [Some(0), Some(2), Some(0)]);
    // `ls` printed its error 2 ms after Enter, and `D` came 1 ms later.
    assert_eq!(commands(&run)[1].duration_ms, 2);
}

// ---------------------------------------------------------------------------
// tacit's own export

/// The same shape as `tacit runs export --format cast`
/// (crates/tacit-cli/src/render.rs, `cast()`).
fn tacit_cast(meta: &RunMeta, events: &[Event]) -> String {
    let header = serde_json::json!({
        "version": 2,
        "width": meta.cols.max(2),
        "height": meta.rows.max(2),
        "timestamp": meta.started_at_ms / 1000,
        "title": format!("tacit: {}", meta.name),
        "env": { "SHELL": meta.shell, "TERM": "xterm-256color" },
    });
    let mut out = header.to_string();
    out.push('\n');
    let t = |ms: i64| ((ms - meta.started_at_ms).max(0) as f64) / 1000.0;
    let mut push = |time: f64, text: String| {
        let line = serde_json::json!([time, "o", text]);
        out.push_str(&line.to_string());
        out.push('\n');
    };
    for e in events {
        if let EventBody::Command(c) = &e.body {
            push(
                t(c.started_at_ms),
                format!("$ {}\r\n", c.command.replace('\n', "\r\n")),
            );
            if !c.output.is_empty() {
                push(
                    t(c.started_at_ms + c.duration_ms),
                    format!("{}\r\n", c.output.replace('\n', "\r\n")),
                );
            }
        }
    }
    out
}

fn recorded_run() -> (RunMeta, Vec<Event>) {
    let started = 1_795_000_000_000;
    let meta = RunMeta {
        id: "orig".into(),
        name: "deploy-web".into(),
        shell: "zsh".into(),
        started_at_ms: started,
        ended_at_ms: Some(started + 60_000),
        status: RunStatus::Completed,
        host: "box".into(),
        user: "ana".into(),
        start_cwd: "/srv".into(),
        recorder_pid: Some(42),
        tacit_version: "0.1.0".into(),
        cols: 120,
        rows: 40,
        sop_id: None,
        sop_version: None,
        imported_at_ms: None,
    };
    let cmds: [(&str, &str, i64, i64); 6] = [
        ("cd /srv/web", "", 1_250, 3),
        ("git pull --ff-only", "Already up to date.", 4_000, 812),
        (
            "for host in a b; do\n  ssh $host uptime\ndone",
            " 10:00:01 up 3 days\n\n 10:00:02 up 9 days",
            9_500,
            2_301,
        ),
        (
            "./deploy/migrate.sh --env prod",
            "migrating… 100%\nlock held by pid 4242: $ ps -p 4242\nERROR: could not obtain lock",
            20_000,
            15_007,
        ),
        ("rm -f /var/lock/migrate.lock", "", 40_000, 11),
        ("echo 'done ✓'", "done ✓", 41_000, 2),
    ];
    let mut events = Vec::new();
    for (i, (command, output, at, dur)) in cmds.into_iter().enumerate() {
        events.push(Event {
            seq: events.len() as u64 + 1,
            at_ms: started + at + dur,
            body: EventBody::Command(CommandRecord {
                command: command.into(),
                cwd: "/srv/web".into(),
                started_at_ms: started + at,
                duration_ms: dur,
                exit_code: Some(if i == 3 { 3 } else { 0 }),
                output: output.into(),
                output_bytes: output.len() as u64,
                output_dropped_bytes: 0,
                full_screen: false,
            }),
        });
        if i == 3 {
            events.push(Event {
                seq: events.len() as u64 + 1,
                at_ms: started + 36_000,
                body: EventBody::Note {
                    text: "stale lock".into(),
                },
            });
        }
    }
    (meta, events)
}

#[test]
fn tacit_export_imports_back_into_the_same_commands_and_outputs() {
    let (meta, events) = recorded_run();
    let text = tacit_cast(&meta, &events);
    let run = import_cast(&text, "deploy-web", "new").unwrap();
    check_run(&run);
    let original: Vec<&CommandRecord> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Command(c) => Some(c),
            _ => None,
        })
        .collect();
    let imported = commands(&run);
    assert_eq!(imported.len(), original.len());
    for (a, b) in imported.iter().zip(&original) {
        assert_eq!(a.command, b.command);
        assert_eq!(a.output, b.output);
        assert_eq!(a.started_at_ms, b.started_at_ms);
        // A command without output has no second event to time its end.
        if !b.output.is_empty() {
            assert_eq!(a.duration_ms, b.duration_ms, "{}", b.command);
        }
        // The export does not carry exit codes or folders.
        assert_eq!((a.exit_code, a.cwd.as_str()), (None, ""));
    }
    assert_eq!(run.meta.shell, "zsh");
    assert_eq!((run.meta.cols, run.meta.rows), (120, 40));
    assert_eq!(run.meta.started_at_ms, meta.started_at_ms);
}

#[test]
fn tacit_export_without_its_title_still_imports_by_prompts() {
    let (meta, events) = recorded_run();
    let text = tacit_cast(&meta, &events).replacen("tacit: deploy-web", "something else", 1);
    let run = import_cast(&text, "x", "y").unwrap();
    check_run(&run);
    let got = lines_of(&run);
    // Single-line commands and their outputs come back through the screen.
    assert_eq!(got[0], ("cd /srv/web", ""));
    assert_eq!(got[1], ("git pull --ff-only", "Already up to date."));
    assert_eq!(
        got[3],
        (
            "./deploy/migrate.sh --env prod",
            "migrating… 100%\nlock held by pid 4242: $ ps -p 4242\nERROR: could not obtain lock"
        )
    );
    assert_eq!(got.last(), Some(&("echo 'done ✓'", "done ✓")));
}

// ---------------------------------------------------------------------------
// Hand-made casts

fn v3(header_extra: &str, events: &[(f64, &str, &str)]) -> String {
    let mut out = format!(
        r#"{{"version":3,"term":{{"cols":80,"rows":24}},"timestamp":1700000000{header_extra}}}"#
    );
    out.push('\n');
    for (t, code, data) in events {
        out.push_str(&serde_json::json!([t, code, data]).to_string());
        out.push('\n');
    }
    out
}

const A: &str = "\x1b]133;A\x07";
const B: &str = "\x1b]133;B\x07";
const C: &str = "\x1b]133;C\x07";

#[test]
fn osc_marks_resolve_edits_continuations_folders_and_an_unfinished_last_command() {
    let text = v3(
        r#","env":{"SHELL":"/usr/bin/zsh","USER":"ana"}"#,
        &[
            (
                0.1,
                "o",
                "\x1b]7;file://box.example/home/ana/my%20src\x1b\\",
            ),
            (0.0, "o", &format!("{A}~/my src\r\nana% {B}")),
            // Typed `ech`, a typo fixed with backspace, then Enter.
            (0.5, "o", "ecj\x08 \x08ho hi\r\n"),
            (0.0, "o", C),
            (0.2, "o", "\x1b[32mhi\x1b[0m\r\n\x1b]133;D;0\x1b\\"),
            (0.0, "m", "before the loop"),
            (
                1.0,
                "o",
                &format!("{A}ana% {B}for f in a b; do\r\nfor> echo $f\r\nfor> done\r\n{C}"),
            ),
            (0.3, "o", "a\r\nb\r\n\x1b]133;D\x07"),
            // A prompt without `B`: the prompt is cut off by its shape.
            (1.0, "o", &format!("{A}ana% false\r\n{C}")),
            (0.1, "o", "\x1b]133;D;1\x07"),
            (0.5, "r", "100x30"),
            // The recording stops while `tail -f` runs.
            (
                1.0,
                "o",
                &format!("{A}ana% {B}tail -f log\r\n{C}line 1\r\n"),
            ),
            (2.0, "o", "line 2\r\n"),
            (0.5, "x", "0"),
        ],
    );
    let run = import_cast(&text, "n", "i").unwrap();
    check_run(&run);
    assert_eq!(
        lines_of(&run),
        [
            ("echo hi", "hi"),
            ("for f in a b; do\necho $f\ndone", "a\nb"),
            ("false", ""),
            ("tail -f log", "line 1\nline 2"),
        ]
    );
    let c = commands(&run);
    let exits: Vec<Option<i32>> = c.iter().map(|c| c.exit_code).collect();
    assert_eq!(exits, [Some(0), None, Some(1), None]);
    assert!(c.iter().all(|c| c.cwd == "/home/ana/my src"));
    assert_eq!(run.meta.start_cwd, "/home/ana/my src");
    assert_eq!(run.meta.host, "box.example");
    assert_eq!(
        (run.meta.shell.as_str(), run.meta.user.as_str()),
        ("zsh", "ana")
    );
    // v3 times are intervals: `echo hi` started at 0.6 s and took 0.2 s.
    assert_eq!(c[0].started_at_ms - run.meta.started_at_ms, 600);
    assert_eq!(c[0].duration_ms, 200);
    // The unfinished command lasts to the end of the recording.
    assert_eq!(c[3].started_at_ms - run.meta.started_at_ms, 4_700);
    assert_eq!(c[3].duration_ms, 2_500);
    assert_eq!(run.meta.ended_at_ms, Some(1_700_000_007_200));
    // The marker is a note, in time order between the commands.
    assert_eq!(notes(&run), ["before the loop"]);
    assert!(matches!(run.events[1].body, EventBody::Note { .. }));
}

#[test]
fn osc_cmd_parameter_and_full_screen_programs() {
    let text = v3(
        "",
        &[
            (0.1, "o", "$ \x1b]133;C;cmd=vim%20notes.txt\x07"),
            (0.1, "o", "\x1b[?1049h\x1b[2J\x1b[Hvim screen\x1b[?1049l"),
            (0.1, "o", "\x1b]133;D;0\x07"),
        ],
    );
    let run = import_cast(&text, "n", "i").unwrap();
    let c = commands(&run);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].command, "vim notes.txt");
    assert!(c[0].full_screen);
    assert!(!c[0].output.contains("vim screen"), "{:?}", c[0].output);
}

#[test]
fn exit_and_tacit_commands_are_not_work() {
    let text = v3(
        "",
        &[
            (
                0.1,
                "o",
                &format!("{A}$ {B}tacit note hi\r\n{C}\x1b]133;D;0\x07"),
            ),
            (
                0.1,
                "o",
                &format!("{A}$ {B}uptime\r\n{C}up\r\n\x1b]133;D;0\x07"),
            ),
            (0.1, "o", &format!("{A}$ {B}exit\r\n{C}")),
        ],
    );
    let run = import_cast(&text, "n", "i").unwrap();
    assert_eq!(lines_of(&run), [("uptime", "up")]);
}

/// Screen text as a cast: one output event per line, one second apart.
fn screen_cast(lines: &[&str]) -> String {
    let events: Vec<(f64, &str, String)> = lines
        .iter()
        .map(|l| (1.0, "o", format!("{l}\r\n")))
        .collect();
    let events: Vec<(f64, &str, &str)> = events
        .iter()
        .map(|(t, c, d)| (*t, *c, d.as_str()))
        .collect();
    v3("", &events)
}

#[test]
fn prompts_are_found_by_shape_and_output_lines_are_not_prompts() {
    let text = screen_cast(&[
        "Welcome to box!",
        "ana@box:~$ cd /etc/nginx",
        "ana@box:/etc/nginx$ cat nginx.conf",
        "# main settings",
        "user www-data;",
        "# workers",
        "worker_processes 4; # cost: $ 0",
        "ana@box:/etc/nginx$ for f in *.conf",
        "> do wc -l $f",
        "> done",
        "12 nginx.conf",
        "ana@box:/etc/nginx$ echo ready >> /tmp/log",
        "(venv) ana@box:/etc/nginx$ pip --version",
        "pip 24.0",
        "ana@box:/etc/nginx$",
    ]);
    let run = import_cast(&text, "n", "i").unwrap();
    check_run(&run);
    assert_eq!(
        lines_of(&run),
        [
            ("cd /etc/nginx", ""),
            (
                "cat nginx.conf",
                "# main settings\nuser www-data;\n# workers\nworker_processes 4; # cost: $ 0"
            ),
            ("for f in *.conf\ndo wc -l $f\ndone", "12 nginx.conf"),
            ("echo ready >> /tmp/log", ""),
            ("pip --version", "pip 24.0"),
        ]
    );
    // Line n (from 0) was printed, with its `\r\n`, at n + 1 seconds. A
    // command starts when the cursor reached the line after its prompt line
    // (Enter) and ends when it reached the next prompt line.
    let c = commands(&run);
    let rel = |ms: i64| ms - run.meta.started_at_ms;
    assert_eq!((rel(c[1].started_at_ms), c[1].duration_ms), (3_000, 4_000));
    assert_eq!((rel(c[4].started_at_ms), c[4].duration_ms), (13_000, 1_000));
    assert!(c.iter().all(|c| c.exit_code.is_none()));
}

#[test]
fn a_single_command_line_is_enough() {
    let run = import_cast(&screen_cast(&["host% make", "built"]), "n", "i").unwrap();
    assert_eq!(lines_of(&run), [("make", "built")]);
}

#[test]
fn a_right_hand_prompt_is_not_part_of_the_command() {
    let rprompt = |left: &str| format!("{left}{}~/src", " ".repeat(80 - left.len() - 5));
    let lines = [rprompt("ana% git status"), "clean".into(), rprompt("ana%")];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let run = import_cast(&screen_cast(&lines), "n", "i").unwrap();
    assert_eq!(lines_of(&run), [("git status", "clean")]);
}

#[test]
fn markers_and_comments() {
    let mut text = screen_cast(&["$ a", "$ b"]);
    text.push_str("# a comment line (v3)\n[0.5, \"m\", \"\"]\n");
    let run = import_cast(&text, "n", "i").unwrap();
    assert_eq!(notes(&run), ["marker"]);
    assert_eq!(run.events.last().map(|e| e.seq), Some(3));
}

// ---------------------------------------------------------------------------
// Broken casts

fn err(text: &str) -> ImportError {
    import_cast(text, "n", "i").expect_err("should not import")
}

#[test]
fn empty_casts_are_refused() {
    assert_eq!(err(""), ImportError::Empty { what: "cast" });
    assert_eq!(err(" \n\n"), ImportError::Empty { what: "cast" });
    assert_eq!(err("").to_string(), "nothing to import: the cast is empty");
}

#[test]
fn a_header_that_is_not_json_is_refused_on_line_1() {
    let e = err("hello world\n[0.1, \"o\", \"x\"]\n");
    assert!(matches!(e, ImportError::NotACast { line: 1, .. }), "{e:?}");
    assert!(
        e.to_string().starts_with("line 1: not an asciinema cast"),
        "{e}"
    );
    let e = err("[1, 2]\n");
    assert!(
        e.to_string()
            .contains("must be a JSON object, not an array"),
        "{e}"
    );
    let e = err("{\"width\": 80}\n");
    assert!(e.to_string().contains("no \"version\""), "{e}");
}

#[test]
fn unknown_versions_are_named() {
    let e = err("{\"version\": 4, \"term\": {\"cols\": 80, \"rows\": 24}}\n");
    assert_eq!(
        e,
        ImportError::UnsupportedVersion {
            line: 1,
            version: "4".into()
        }
    );
    assert!(e.to_string().contains("version 4 is not supported"), "{e}");
    // asciicast v1 is a single JSON document.
    let v1 = "{\n  \"version\": 1,\n  \"width\": 80,\n  \"height\": 24,\n  \"stdout\": [[0.1, \"hi\"]]\n}\n";
    assert!(matches!(err(v1), ImportError::UnsupportedVersion { version, .. } if version == "1"));
}

#[test]
fn a_bad_event_line_is_reported_with_its_line_number() {
    let header = r#"{"version":2,"width":80,"height":24}"#;
    let cases = [
        (
            format!("{header}\n[0.1,\"o\",\"a\"]\n{{\"t\":1}}\n[0.3,\"o\",\"b\"]\n"),
            3,
            "JSON array",
        ),
        (format!("{header}\n\n[0.1,\"o\"]\n"), 3, "3 elements"),
        (
            format!("{header}\n[\"soon\",\"o\",\"a\"]\n"),
            2,
            "number of seconds",
        ),
        (format!("{header}\n[0.1,1,\"a\"]\n"), 2, "event code"),
        (format!("{header}\n[0.1,\"o\",7]\n"), 2, "output data"),
        (
            format!("{header}\n[0.1,\"o\",\"a\"\n[0.2,\"o\",\"b\"]\n"),
            2,
            "not JSON",
        ),
    ];
    for (text, line, words) in cases {
        let e = err(&text);
        assert!(
            matches!(e, ImportError::BadEvent { line: l, .. } if l == line),
            "{text:?}: {e:?}"
        );
        let message = e.to_string();
        assert!(message.starts_with(&format!("line {line}: ")), "{message}");
        assert!(message.contains(words), "{message}");
    }
}

#[test]
fn a_truncated_last_line_is_tolerated() {
    let mut text = screen_cast(&["$ echo one", "one", "$ echo two", "two"]);
    text.push_str("[5.0, \"o\", \"$ echo thr");
    let run = import_cast(&text, "n", "i").unwrap();
    assert_eq!(lines_of(&run), [("echo one", "one"), ("echo two", "two")]);
    // And the user is told, with the line.
    assert!(
        run.warnings
            .iter()
            .any(|w| w.starts_with("line 6:") && w.contains("cut off")),
        "{:?}",
        run.warnings
    );
    // The same line with a newline after it was written whole: an error.
    text.push('\n');
    assert!(matches!(err(&text), ImportError::BadEvent { line: 6, .. }));
}

#[test]
fn a_cast_without_a_start_time_is_dated_by_its_import_not_1970() {
    let text = screen_cast(&["$ echo one", "one"]).replace(r#","timestamp":1700000000"#, "");
    assert!(!text.contains("timestamp"));
    let before = tacit_core::now_ms();
    let run = import_cast(&text, "n", "i").unwrap();
    assert!(
        run.meta.started_at_ms >= before,
        "{}",
        run.meta.started_at_ms
    );
    assert!(run.warnings.iter().any(|w| w.contains("no start time")));
    let c = commands(&run);
    assert!(c[0].started_at_ms >= before);
    // With a timestamp, that time is kept and nothing is said.
    let run = import_cast(&screen_cast(&["$ echo one", "one"]), "n", "i").unwrap();
    assert_eq!(run.meta.started_at_ms, 1_700_000_000_000);
    assert!(run.warnings.is_empty());
}

#[test]
fn progress_lines_are_output_not_prompts() {
    let text = screen_cast(&[
        "$ git clone https://git.example.com/app.git",
        "Cloning into 'app'...",
        "remote: Enumerating objects: 9, done.",
        "remote: Counting objects: 100% (9/9), done.",
        "remote: Compressing objects: 100% (7/7), done.",
        "Receiving objects: 100% (9/9), done.",
        "Resolving deltas: 100% (2/2), done.",
        "$ ls app",
        "README.md",
        "$",
    ]);
    let run = import_cast(&text, "n", "i").unwrap();
    let cmds: Vec<&str> = lines_of(&run).into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        cmds,
        ["git clone https://git.example.com/app.git", "ls app"]
    );
    assert!(
        lines_of(&run)[0]
            .1
            .contains("Receiving objects: 100% (9/9), done.")
    );

    // A prompt tacit cannot read, and two clones: the progress lines are the
    // only `…% …` shapes, and still not commands.
    let text = screen_cast(&[
        "➜ git clone https://git.example.com/a.git",
        "Receiving objects: 100% (9/9), done.",
        "➜ git clone https://git.example.com/b.git",
        "Receiving objects: 100% (4/4), done.",
    ]);
    assert!(matches!(err(&text), ImportError::NoCommands { .. }));
}

#[test]
fn binary_garbage_is_not_a_cast() {
    let garbage: Vec<u8> = (0..2048u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let text = String::from_utf8_lossy(&garbage);
    assert!(matches!(
        err(&text),
        ImportError::NotACast { .. } | ImportError::Empty { .. }
    ));
}

#[test]
fn a_cast_without_commands_says_so() {
    let e = err(&screen_cast(&["just some output", "no prompt here"]));
    assert!(matches!(e, ImportError::NoCommands { .. }));
    assert!(e.to_string().starts_with("no commands found"), "{e}");
    let e = err(r#"{"version":2,"width":80,"height":24}"#);
    assert!(matches!(e, ImportError::NoCommands { .. }));
}

#[test]
fn odd_but_valid_headers_fall_back_to_defaults() {
    let text = "{\"version\":2,\"width\":0,\"height\":\"big\",\"timestamp\":-5}\n[0.1,\"o\",\"$ ls\\r\\nfile\\r\\n\"]\n";
    let run = import_cast(text, "n", "i").unwrap();
    assert_eq!((run.meta.cols, run.meta.rows), (80, 24));
    assert_eq!(run.meta.shell, "");
    assert_eq!(lines_of(&run), [("ls", "file")]);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("\x1b]133;A\x07".to_string()),
            Just("\x1b]133;B\x07".to_string()),
            Just("\x1b]133;C\x07".to_string()),
            Just("\x1b]133;D;1\x07".to_string()),
            Just("\x1b]133;C;cmd=%ZZ%4".to_string()),
            Just("\x1b]7;file://h/%E2%82".to_string()),
            Just("\x1b[?1049h".to_string()),
            Just("\x1b[2J\x1b[H".to_string()),
            Just("$ ls\r\n".to_string()),
            Just("> ".to_string()),
            Just("\r\n".to_string()),
            Just("\u{FFFD}".to_string()),
            "[ -~]{0,20}",
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = import_cast(&text, "n", "i");
        }

        #[test]
        fn arbitrary_lines_after_a_header_never_panic(
            version in 2u8..=3,
            lines in proptest::collection::vec("[\\[\\]0-9.,\"oimrx ]{0,16}", 0..8),
        ) {
            let mut text = format!("{{\"version\":{version},\"width\":80,\"height\":24}}\n");
            text.push_str(&lines.join("\n"));
            let _ = import_cast(&text, "n", "i");
        }

        #[test]
        fn arbitrary_output_never_panics_and_numbers_events_densely(
            version in 2u8..=3,
            cols in 0u32..300,
            events in proptest::collection::vec(
                (-1.0f64..5.0, prop_oneof![Just("o"), Just("m"), Just("r"), Just("i"), Just("x")],
                 proptest::collection::vec(fragment(), 0..6)),
                0..12,
            ),
        ) {
            let mut text = format!(
                "{{\"version\":{version},\"width\":{cols},\"height\":24,\"term\":{{\"cols\":{cols},\"rows\":24}},\"title\":\"tacit: x\"}}\n"
            );
            for (t, code, parts) in &events {
                text.push_str(&serde_json::json!([t, code, parts.concat()]).to_string());
                text.push('\n');
            }
            if let Ok(run) = import_cast(&text, "n", "i") {
                for (i, e) in run.events.iter().enumerate() {
                    prop_assert_eq!(e.seq, i as u64 + 1);
                }
            }
        }
    }
}

#[test]
fn timing_survives_scrolling_and_wrapped_lines() {
    let long = "x".repeat(200); // wraps over three rows at 80 columns
    let mut lines: Vec<String> = vec!["$ seq 40".into()];
    lines.extend((1..=40).map(|i| i.to_string()));
    lines.push(long.clone());
    lines.push("$ echo after".into());
    lines.push("after".into());
    lines.extend((0..30).map(|_| String::new()));
    lines.push("$ true".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let run = import_cast(&screen_cast(&refs), "n", "i").unwrap();
    let c = commands(&run);
    assert_eq!(c.len(), 3);
    assert!(
        c[0].output.ends_with(&format!("40\n{long}")),
        "{:?}",
        c[0].output
    );
    let rel = |ms: i64| ms - run.meta.started_at_ms;
    // Line n (from 0) is printed, with its `\r\n`, at n + 1 seconds: the
    // cursor reaches line 42 (`$ echo after`) at 42 s, line 74 (`$ true`,
    // after 30 empty lines) at 74 s.
    assert_eq!((rel(c[0].started_at_ms), c[0].duration_ms), (1_000, 41_000));
    assert_eq!(
        (rel(c[1].started_at_ms), c[1].duration_ms),
        (43_000, 31_000)
    );
    assert_eq!(c[2].command, "true");
}
