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

/// Whether a POSIX-shell command line is unfinished, i.e. the shell would
/// have shown its continuation prompt (PS2) instead of running it: an open
/// quote, a trailing backslash, `|`, `&&` or `||` at the end, an open
/// `if`/`case`/loop/`{`/`(`, or a here-document whose end line has not come.
///
/// Used to put multi-line commands back together where the source splits
/// them into lines (bash history, a screen with `> ` continuation lines). It
/// is a small lexer, not a parser: good enough for what people type.
pub(crate) fn is_incomplete(src: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Open {
        If,
        Case,
        Loop,
        Brace,
        Paren,
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Quote {
        Single,
        Double,
        Back,
        AnsiC,
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut quote: Option<Quote> = None;
    let mut heredocs: std::collections::VecDeque<(String, bool)> = Default::default();
    let mut in_heredoc: Option<(String, bool)> = None;
    let mut trailing_backslash = false;
    let mut trailing_op = false;

    for line in src.split('\n') {
        if let Some((delim, strip_tabs)) = &in_heredoc {
            let body = if *strip_tabs {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if body == delim {
                in_heredoc = heredocs.pop_front();
            }
            continue;
        }
        trailing_backslash = false;
        let chars: Vec<char> = line.chars().collect();
        let mut word = String::new();
        let mut word_quoted = false;
        let mut command_position = quote.is_none();
        let mut i = 0;
        // Ends the current word, applying it if it is a keyword in command
        // position. Returns whether the next word is in command position.
        let end_word = |word: &mut String,
                        quoted: &mut bool,
                        command_position: &mut bool,
                        stack: &mut Vec<Open>,
                        trailing_op: &mut bool| {
            if word.is_empty() && !*quoted {
                return;
            }
            *trailing_op = false;
            let keyword = if *quoted || !*command_position {
                ""
            } else {
                word.as_str()
            };
            let pop = |stack: &mut Vec<Open>, open: Open| {
                if stack.last() == Some(&open) {
                    stack.pop();
                }
            };
            *command_position = match keyword {
                "if" => {
                    stack.push(Open::If);
                    true
                }
                "case" => {
                    stack.push(Open::Case);
                    false
                }
                "for" | "while" | "until" | "select" => {
                    stack.push(Open::Loop);
                    keyword != "for" && keyword != "select"
                }
                "{" => {
                    stack.push(Open::Brace);
                    true
                }
                "fi" => {
                    pop(stack, Open::If);
                    false
                }
                "esac" => {
                    pop(stack, Open::Case);
                    false
                }
                "done" => {
                    pop(stack, Open::Loop);
                    false
                }
                "}" => {
                    pop(stack, Open::Brace);
                    false
                }
                "then" | "do" | "else" | "elif" | "!" | "time" => true,
                _ => false,
            };
            word.clear();
            *quoted = false;
        };
        while i < chars.len() {
            let c = chars[i];
            match quote {
                Some(Quote::Single) => {
                    if c == '\'' {
                        quote = None;
                    }
                    i += 1;
                    continue;
                }
                Some(q @ (Quote::Double | Quote::Back | Quote::AnsiC)) => {
                    let close = match q {
                        Quote::Double => '"',
                        Quote::Back => '`',
                        _ => '\'',
                    };
                    if c == '\\' {
                        if i + 1 == chars.len() {
                            trailing_backslash = q != Quote::AnsiC;
                        }
                        i += 2;
                        continue;
                    }
                    if c == close {
                        quote = None;
                    }
                    i += 1;
                    continue;
                }
                None => {}
            }
            match c {
                '\\' => {
                    if i + 1 == chars.len() {
                        trailing_backslash = true;
                    }
                    word.push('\\');
                    i += 2;
                    continue;
                }
                '\'' | '"' | '`' => {
                    quote = Some(match c {
                        '\'' if word.ends_with('$') => Quote::AnsiC,
                        '\'' => Quote::Single,
                        '"' => Quote::Double,
                        _ => Quote::Back,
                    });
                    word_quoted = true;
                    trailing_op = false;
                }
                '#' if word.is_empty() && !word_quoted => break,
                ' ' | '\t' => end_word(
                    &mut word,
                    &mut word_quoted,
                    &mut command_position,
                    &mut stack,
                    &mut trailing_op,
                ),
                ';' | '&' | '|' => {
                    end_word(
                        &mut word,
                        &mut word_quoted,
                        &mut command_position,
                        &mut stack,
                        &mut trailing_op,
                    );
                    let next = chars.get(i + 1).copied();
                    trailing_op = match (c, next) {
                        ('|', Some('|')) | ('&', Some('&')) => {
                            i += 1;
                            true
                        }
                        ('|', _) => true,
                        _ => false,
                    };
                    if c == ';' && next == Some(';') {
                        i += 1;
                    }
                    command_position = true;
                }
                '(' => {
                    end_word(
                        &mut word,
                        &mut word_quoted,
                        &mut command_position,
                        &mut stack,
                        &mut trailing_op,
                    );
                    stack.push(Open::Paren);
                    command_position = true;
                    trailing_op = false;
                }
                ')' => {
                    end_word(
                        &mut word,
                        &mut word_quoted,
                        &mut command_position,
                        &mut stack,
                        &mut trailing_op,
                    );
                    if stack.last() == Some(&Open::Paren) {
                        stack.pop();
                    }
                    command_position = true;
                    trailing_op = false;
                }
                '<' if chars.get(i + 1) == Some(&'<') && chars.get(i + 2) == Some(&'<') => {
                    // A here-string, `<<<word`: nothing follows on later lines.
                    trailing_op = false;
                    i += 3;
                    continue;
                }
                '<' if chars.get(i + 1) == Some(&'<') => {
                    // A here-document: `<<END`, `<<-END`, `<<'END'`, `<< "END"`.
                    let mut j = i + 2;
                    let strip_tabs = chars.get(j) == Some(&'-');
                    if strip_tabs {
                        j += 1;
                    }
                    while chars.get(j).is_some_and(|c| *c == ' ' || *c == '\t') {
                        j += 1;
                    }
                    let mut delim = String::new();
                    while let Some(&d) = chars.get(j) {
                        if d.is_whitespace() || matches!(d, ';' | '&' | '|' | '<' | '>' | ')') {
                            break;
                        }
                        if !matches!(d, '\'' | '"' | '\\') {
                            delim.push(d);
                        }
                        j += 1;
                    }
                    if !delim.is_empty() {
                        heredocs.push_back((delim, strip_tabs));
                    }
                    trailing_op = false;
                    i = j;
                    continue;
                }
                _ => {
                    word.push(c);
                    trailing_op = false;
                }
            }
            i += 1;
        }
        if quote.is_none() {
            end_word(
                &mut word,
                &mut word_quoted,
                &mut command_position,
                &mut stack,
                &mut trailing_op,
            );
        }
        if in_heredoc.is_none() && quote.is_none() && !trailing_backslash {
            in_heredoc = heredocs.pop_front();
        }
    }
    quote.is_some()
        || trailing_backslash
        || trailing_op
        || !stack.is_empty()
        || in_heredoc.is_some()
        || !heredocs.is_empty()
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
