//! Importing shell histories. The fixtures were written by the real shells
//! (bash 5, zsh 5.9, fish 3.6) driven through a pty; see
//! `fixtures/README.md`.

use tacit_capture::import::{
    HistoryFormat, ImportError, ImportedRun, detect_history_format, import_history,
};
use tacit_core::event::{CommandRecord, EventBody, RunStatus};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn commands(run: &ImportedRun) -> Vec<&CommandRecord> {
    run.events
        .iter()
        .map(|e| match &e.body {
            EventBody::Command(c) => c,
            other => panic!("only commands expected, got {other:?}"),
        })
        .collect()
}

fn command_lines(run: &ImportedRun) -> Vec<&str> {
    commands(run).iter().map(|c| c.command.as_str()).collect()
}

fn import(name: &str, format: HistoryFormat) -> ImportedRun {
    let run = import_history(&fixture(name), format, "hist", "run-1").unwrap();
    check_run(&run, format);
    run
}

fn check_run(run: &ImportedRun, format: HistoryFormat) {
    assert_eq!(run.meta.shell, format.as_str());
    assert_eq!(run.meta.status, RunStatus::Completed);
    assert_eq!(run.meta.tacit_version, "import");
    assert_eq!(
        (run.meta.id.as_str(), run.meta.name.as_str()),
        ("run-1", "hist")
    );
    for (i, e) in run.events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    for c in commands(run) {
        assert_eq!(c.cwd, "");
        assert_eq!(c.exit_code, None);
        assert_eq!(c.output, "");
        assert_eq!((c.output_bytes, c.output_dropped_bytes), (0, 0));
    }
}

const UNICODE: &str = "echo \"héllo — 日本\"";

/// What was typed into bash (the last entry, `exit`, is not work).
fn bash_typed(for_loop: &'static str) -> Vec<&'static str> {
    vec![
        "cd /tmp",
        UNICODE,
        for_loop,
        "echo one two",
        "printf '%s\\n' \"multi\nline string\"",
        "cat <<EOF2\nheredoc body\nEOF2",
        "ls /nonexistent | grep -c x || true",
    ]
}

#[test]
fn bash_with_timestamps() {
    let run = import("bash_history_timestamps", HistoryFormat::Bash);
    // Default `cmdhist` joins the loop into one line; the quoted newline and
    // the here-document stay on several lines and are put back together.
    assert_eq!(
        command_lines(&run),
        bash_typed("for f in a b; do echo $f; done")
    );
    let c = commands(&run);
    assert_eq!(c[0].started_at_ms, 1_795_534_686_000);
    assert_eq!(c[6].started_at_ms, 1_795_534_696_000);
    assert!(c.iter().all(|c| c.duration_ms == 0));
    assert_eq!(run.meta.started_at_ms, 1_795_534_686_000);
    assert_eq!(run.meta.ended_at_ms, Some(1_795_534_696_000));
    assert_eq!(run.events[6].at_ms, 1_795_534_696_000);
}

#[test]
fn bash_plain_and_with_lithist() {
    let plain = import("bash_history_plain", HistoryFormat::Bash);
    assert_eq!(
        command_lines(&plain),
        bash_typed("for f in a b; do echo $f; done")
    );
    assert!(commands(&plain).iter().all(|c| c.started_at_ms == 0));
    assert_eq!(plain.meta.started_at_ms, 0);
    // `shopt -s lithist` keeps the loop's newlines.
    let lithist = import("bash_history_lithist", HistoryFormat::Bash);
    assert_eq!(
        command_lines(&lithist),
        bash_typed("for f in a b; do\necho $f\ndone")
    );
}

#[test]
fn bash_lines_that_never_complete_stay_single_commands() {
    let text = b"echo 'oops\nls\npwd\n";
    let run = import_history(text, HistoryFormat::Bash, "n", "i").unwrap();
    assert_eq!(command_lines(&run), ["echo 'oops", "ls", "pwd"]);
}

#[test]
fn bash_times_carry_forward_to_untimed_commands() {
    let text = b"early\n#1700000000\nfirst\nsecond\n#1700000060\nthird\n";
    let run = import_history(text, HistoryFormat::Bash, "n", "i").unwrap();
    let starts: Vec<(&str, i64)> = commands(&run)
        .iter()
        .map(|c| (c.command.as_str(), c.started_at_ms))
        .collect();
    assert_eq!(
        starts,
        [
            ("early", 0),
            ("first", 1_700_000_000_000),
            ("second", 1_700_000_000_000),
            ("third", 1_700_000_060_000)
        ]
    );
    assert_eq!(run.meta.started_at_ms, 1_700_000_000_000);
}

/// What was typed into zsh (`exit` left out).
const ZSH_TYPED: [&str; 8] = [
    "cd /tmp",
    UNICODE,
    "sleep 2",
    "for f in a b; do\necho $f\ndone",
    // Typed as `echo one \` Enter `two`: zsh keeps the backslash-newline.
    "echo one \\\ntwo",
    // The tab went to completion, not into the line.
    "printf '%s\\n' 'back\\slash' \"tabhere\"",
    "git log --oneline | head -3",
    "ls /nonexistent",
];

#[test]
fn zsh_extended_history_with_metafied_text_and_durations() {
    let raw = fixture("zsh_history_extended");
    // The file really is metafied: "—" (E2 80 94) is written E2 80 83 B4.
    assert!(raw.windows(4).any(|w| w == b"\xe2\x80\x83\xb4"));
    let run = import("zsh_history_extended", HistoryFormat::Zsh);
    assert_eq!(command_lines(&run), ZSH_TYPED);
    let c = commands(&run);
    assert_eq!(c[2].started_at_ms, 1_795_534_634_000);
    assert_eq!(c[2].duration_ms, 2_000);
    assert_eq!(run.events[2].at_ms, 1_795_534_636_000);
    assert_eq!(run.meta.started_at_ms, 1_795_534_632_000);
}

#[test]
fn zsh_plain_history() {
    let run = import("zsh_history_plain", HistoryFormat::Zsh);
    assert_eq!(command_lines(&run), ZSH_TYPED);
    assert!(
        commands(&run)
            .iter()
            .all(|c| c.started_at_ms == 0 && c.duration_ms == 0)
    );
}

#[test]
fn zsh_text_that_was_never_metafied_is_kept() {
    // "σ" is CF 83: unmetafying it would break the text.
    let run = import_history("echo σ\n".as_bytes(), HistoryFormat::Zsh, "n", "i").unwrap();
    assert_eq!(command_lines(&run), ["echo σ"]);
}

#[test]
fn fish_history() {
    let run = import("fish_history", HistoryFormat::Fish);
    assert_eq!(
        command_lines(&run),
        [
            "cd /tmp",
            UNICODE,
            "for f in a b\necho $f\nend",
            "echo 'back\\slash' 'two\\\\slashes'",
            "ls /nonexistent",
            "echo \"line one\nline two\"",
        ]
    );
    let c = commands(&run);
    assert_eq!(c[0].started_at_ms, 1_795_534_667_000);
    assert_eq!(c[5].started_at_ms, 1_795_534_674_000);
}

#[test]
fn formats_are_detected() {
    let detect = |name: &str| detect_history_format(&String::from_utf8_lossy(&fixture(name)));
    assert_eq!(detect("bash_history_timestamps"), HistoryFormat::Bash);
    assert_eq!(detect("bash_history_plain"), HistoryFormat::Bash);
    assert_eq!(detect("bash_history_lithist"), HistoryFormat::Bash);
    assert_eq!(detect("zsh_history_extended"), HistoryFormat::Zsh);
    assert_eq!(detect("fish_history"), HistoryFormat::Fish);
    // Plain zsh history cannot be told from bash's.
    assert_eq!(detect("zsh_history_plain"), HistoryFormat::Bash);
    assert_eq!(detect_history_format(""), HistoryFormat::Bash);
    assert_eq!(
        detect_history_format("\u{0}\u{1}garbage"),
        HistoryFormat::Bash
    );
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    for format in [HistoryFormat::Bash, HistoryFormat::Zsh, HistoryFormat::Fish] {
        let text: &[u8] = match format {
            HistoryFormat::Fish => b"- cmd: echo \xff\xfe ok\n  when: 1\n",
            _ => b"echo \xff\xfe ok\n",
        };
        let run = import_history(text, format, "n", "i").unwrap();
        assert_eq!(
            command_lines(&run),
            ["echo \u{FFFD}\u{FFFD} ok"],
            "{format}"
        );
    }
}

#[test]
fn garbage_and_empty_input() {
    for format in [HistoryFormat::Bash, HistoryFormat::Zsh, HistoryFormat::Fish] {
        assert_eq!(
            import_history(b"", format, "n", "i"),
            Err(ImportError::Empty { what: "history" })
        );
        assert_eq!(
            import_history(b" \n\n", format, "n", "i"),
            Err(ImportError::Empty { what: "history" })
        );
        let e = import_history(b"ls\npwd\n\x00\x01\x02", format, "n", "i").unwrap_err();
        assert_eq!(e, ImportError::Binary { line: 3 });
        assert_eq!(
            e.to_string(),
            "line 3: not a shell history: it holds NUL bytes (binary data?)"
        );
    }
    let e =
        import_history(b"#1700000000\n#1700000001\n", HistoryFormat::Bash, "n", "i").unwrap_err();
    assert!(matches!(e, ImportError::NoCommands { .. }));
    assert!(
        e.to_string()
            .contains("bash history holds no command lines"),
        "{e}"
    );
    // A bash history given as fish has no `- cmd:` entries.
    let e = import_history(
        &fixture("bash_history_plain"),
        HistoryFormat::Fish,
        "n",
        "i",
    );
    assert!(matches!(e, Err(ImportError::NoCommands { .. })));
    // exit alone is not work.
    let e = import_history(b"exit\nlogout\n", HistoryFormat::Bash, "n", "i");
    assert!(matches!(e, Err(ImportError::NoCommands { .. })));
}

#[test]
fn zsh_odd_lines() {
    // A trailing backslash at the end of the file, a malformed extended
    // line (kept as a plain command), a huge timestamp.
    let text = b": 1700000000:0;echo a\n: x:0;weird\n: 99999999999999999:0;late\nlast \\";
    let run = import_history(text, HistoryFormat::Zsh, "n", "i").unwrap();
    assert_eq!(
        command_lines(&run),
        ["echo a", ": x:0;weird", "late", "last \\"]
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn format() -> impl Strategy<Value = HistoryFormat> {
        prop_oneof![
            Just(HistoryFormat::Bash),
            Just(HistoryFormat::Zsh),
            Just(HistoryFormat::Fish)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), format in format()) {
            let _ = detect_history_format(&String::from_utf8_lossy(&bytes));
            if let Ok(run) = import_history(&bytes, format, "n", "i") {
                for (i, e) in run.events.iter().enumerate() {
                    prop_assert_eq!(e.seq, i as u64 + 1);
                }
            }
        }

        #[test]
        fn shell_like_lines_never_panic(
            lines in proptest::collection::vec(
                prop_oneof![
                    Just("#1700000000".to_string()),
                    Just(": 1700000000:3;".to_string()),
                    Just("- cmd: ".to_string()),
                    Just("  when: 17".to_string()),
                    Just("cat <<EOF".to_string()),
                    Just("EOF".to_string()),
                    Just("for x in a; do".to_string()),
                    Just("done".to_string()),
                    "[ -~]{0,12}",
                    "['\"`\\\\|&;(){}<\\n -]{0,8}",
                ],
                0..40,
            ),
            format in format(),
        ) {
            let text = lines.join("\n");
            let _ = import_history(text.as_bytes(), format, "n", "i");
        }
    }
}
