//! Import: turns work done *outside* tacit into a run.
//!
//! Two sources are understood, both as text the caller has already read:
//!
//! - asciinema casts (asciicast v2 and v3), including tacit's own
//!   `runs export --format cast` ([`import_cast`], see [`cast`]);
//! - shell history files of bash, zsh and fish ([`import_history`], see
//!   [`history`]).
//!
//! Nothing here touches the disk, the terminal or the clock: the result is an
//! [`ImportedRun`] the caller stores like any recorded run. Every input,
//! however broken, either imports or comes back as an [`ImportError`] with a
//! message a person can act on; nothing panics.
//!
//! What an import cannot know stays empty rather than guessed: a history has
//! no output and no exit codes, a cast without shell-integration marks has no
//! exit codes, and neither knows the working folder unless the cast reported
//! it (OSC 7 or a `cwd=` mark parameter).

pub mod cast;
pub mod history;

pub use cast::import_cast;
pub use history::{HistoryFormat, detect_history_format, import_history};

use tacit_core::event::{Event, EventBody, RunMeta};

/// A run rebuilt from a cast or a history: what a recording would have
/// produced. `events` have dense `seq` numbers from 1, and hold commands (and,
/// for casts, a note per asciinema marker).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRun {
    pub meta: RunMeta,
    pub events: Vec<Event>,
    /// What the user should know about the import (a cut-off last line,
    /// a missing start time).
    pub warnings: Vec<String>,
}

/// Why an input could not be imported. Line numbers count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("nothing to import: the {what} is empty")]
    Empty { what: &'static str },
    #[error("line {line}: not an asciinema cast: {reason}")]
    NotACast { line: usize, reason: String },
    #[error(
        "line {line}: asciicast version {version} is not supported (tacit imports versions 2 \
         and 3; `asciinema convert` turns older recordings into version 3)"
    )]
    UnsupportedVersion { line: usize, version: String },
    #[error("line {line}: {reason}")]
    BadEvent { line: usize, reason: String },
    #[error("line {line}: not a shell history: it holds NUL bytes (binary data?)")]
    Binary { line: usize },
    #[error("no commands found: {reason}")]
    NoCommands { reason: String },
}

/// The `tacit_version` of every imported run, so a run that was not recorded
/// can always be told apart.
pub const IMPORT_VERSION: &str = "import";

/// Per-command output cap for casts, the same as the recorder's default
/// (`capture.max_output_bytes`): head and tail are kept, the rest counted.
pub const MAX_OUTPUT_BYTES: usize = 131_072;

/// Numbers `(at_ms, body)` pairs densely from 1, in the order given.
fn number(items: Vec<(i64, EventBody)>) -> Vec<Event> {
    items
        .into_iter()
        .zip(1u64..)
        .map(|((at_ms, body), seq)| Event { seq, at_ms, body })
        .collect()
}

/// Commands that are not work: ending the shell, and tacit's own in-session
/// commands. The recorder leaves both out; so does an import.
fn is_not_work(command: &str) -> bool {
    let command = command.trim();
    command.is_empty()
        || crate::control::is_session_end(command)
        || crate::control::is_in_session_command(command)
}

/// Seconds (as a float, possibly huge or negative) to milliseconds, without
/// overflow: `as` saturates.
fn secs_to_ms(secs: f64) -> i64 {
    if secs.is_nan() {
        return 0;
    }
    (secs * 1000.0).round() as i64
}

/// Whether a POSIX-shell command line is unfinished: the shell would have
/// shown its continuation prompt (PS2) instead of running it. Puts
/// multi-line commands back together where the source splits them into
/// lines (bash history, a screen with `> ` continuation lines).
pub(crate) fn is_incomplete(src: &str) -> bool {
    !tacit_core::shell::is_complete(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_lines() {
        for ok in [
            "ls -la",
            "echo 'it''s' \"a b\"",
            "for f in a b; do echo $f; done",
            "if true; then echo y; fi",
            "case $x in a) echo a;; b) echo b;; esac",
            "echo done if fi",
            "f() { echo hi; }",
            "echo $(date) `id`",
            "echo $'it\\'s'",
            "cat <<EOF\nbody\nEOF",
            "cat <<-'EOF' | wc -l\n\tbody\n\tEOF",
            "echo a # it's a comment",
            "cmd &",
            "echo one \\\ntwo",
            "cat <<<word",
        ] {
            assert!(!is_incomplete(ok), "{ok:?} should be complete");
        }
    }

    #[test]
    fn incomplete_lines() {
        for open in [
            "echo 'unterminated",
            "printf '%s\\n' \"multi",
            "for f in a b; do",
            "for f in a b",
            "if true; then",
            "while read l; do echo",
            "echo one \\",
            "ls |",
            "make &&",
            "false ||",
            "cat <<EOF",
            "cat <<EOF\nbody",
            "( cd /tmp",
            "{ echo a",
            "case x in",
        ] {
            assert!(is_incomplete(open), "{open:?} should be incomplete");
        }
    }
}
