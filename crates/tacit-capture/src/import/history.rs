//! Shell history files (bash, zsh, fish) to runs.
//!
//! A history holds command lines only: every imported command has an empty
//! working folder (unknown), no exit code, no output. Times come from the
//! file when it has them (bash `HISTTIMEFORMAT` comments, zsh
//! `EXTENDED_HISTORY`, fish `when:`), in which case a command without its
//! own time takes the time of the one before it, so times never jump back to
//! zero; a file without any times gives every command time 0, in file order.
//! Durations are known only from zsh's extended history (whole seconds).
//!
//! - **bash**: one command per line; `#1700000000` lines (written when
//!   `HISTTIMEFORMAT` is set) time the command after them. bash writes a
//!   multi-line command as several lines (always for a newline inside quotes
//!   or a here-document, and for every multi-line command under `shopt -s
//!   lithist`), and the file does not mark where a command ends. The lines
//!   are put back together when the first one is unfinished as shell syntax
//!   (open quote, trailing `\`, `|`/`&&`/`||`, open `if`/loop/`case`/`{`/`(`,
//!   a here-document) and the lines after complete it within 200 lines;
//!   otherwise each line is a command. So two commands that were really
//!   separate but only make sense together can come back as one, and a
//!   command whose syntax was broken stays on its own line.
//! - **zsh**: `: START:ELAPSED;COMMAND` (extended history) or plain lines; a
//!   line ending in `\` goes on with the next (zsh writes a newline inside a
//!   command as `\` + newline). zsh "metafies" some bytes of non-ASCII text
//!   (0x83 then the byte xor 0x20); they are restored, unless the file reads
//!   as UTF-8 only as it is (then it was not metafied).
//! - **fish**: `- cmd: COMMAND` entries with `  when: SECONDS` (and `paths:`,
//!   ignored); `\n` and `\\` in the command are unescaped.
//!
//! Bytes that are not UTF-8 become U+FFFD. `exit`/`logout` and tacit's
//! in-session commands are left out.

use std::sync::LazyLock;

use regex::bytes::Regex;
use tacit_core::event::{CommandRecord, EventBody, RunMeta, RunStatus};

use super::{IMPORT_VERSION, ImportError, ImportedRun, is_incomplete, is_not_work};

/// The history file formats tacit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryFormat {
    Bash,
    Zsh,
    Fish,
}

impl HistoryFormat {
    /// The shell's name, also the run's `shell`.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryFormat::Bash => "bash",
            HistoryFormat::Zsh => "zsh",
            HistoryFormat::Fish => "fish",
        }
    }

    /// `bash`, `zsh` or `fish` (as a command-line flag gives it).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bash" => Some(HistoryFormat::Bash),
            "zsh" => Some(HistoryFormat::Zsh),
            "fish" => Some(HistoryFormat::Fish),
            _ => None,
        }
    }
}

impl std::fmt::Display for HistoryFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many non-empty lines detection looks at.
const DETECT_LINES: usize = 2000;

/// Guesses the format from the text: fish's `- cmd: ` entries, zsh's
/// `: 1700000000:0;` lines, else bash (plain zsh history looks like bash's
/// and reads the same, bar metafied bytes).
pub fn detect_history_format(text: &str) -> HistoryFormat {
    let (mut fish, mut zsh) = (0usize, 0usize);
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(DETECT_LINES)
    {
        if line.starts_with("- cmd:") {
            fish += 1;
        } else if ZSH_EXTENDED.is_match(line.as_bytes()) {
            zsh += 1;
        }
    }
    if fish > 0 && fish >= zsh {
        HistoryFormat::Fish
    } else if zsh > 0 {
        HistoryFormat::Zsh
    } else {
        HistoryFormat::Bash
    }
}

/// `: START:ELAPSED;COMMAND`
static ZSH_EXTENDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^: *(?P<start>[0-9]{1,18}):(?P<elapsed>[0-9]{1,18});").expect("valid regex")
});
/// `#1700000000`
static BASH_TIME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^#(?P<t>[0-9]{1,18})\s*$").expect("valid regex"));

/// Lines an unfinished bash command may take before it is given up on.
const MAX_COMMAND_LINES: usize = 200;

/// Reads a history file's bytes in `format` into a run named `name` with id
/// `run_id`. See the [module documentation](self).
pub fn import_history(
    text: &[u8],
    format: HistoryFormat,
    name: &str,
    run_id: &str,
) -> Result<ImportedRun, ImportError> {
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty { what: "history" });
    }
    if let Some(nul) = memchr::memchr(0, text) {
        let line = 1 + memchr::memchr_iter(b'\n', &text[..nul]).count();
        return Err(ImportError::Binary { line });
    }
    let entries = match format {
        HistoryFormat::Bash => bash(text),
        HistoryFormat::Zsh => zsh(text),
        HistoryFormat::Fish => fish(text),
    };

    let mut items = Vec::new();
    let mut last_known: Option<i64> = None;
    let mut first_known: Option<i64> = None;
    for e in entries {
        if is_not_work(&e.command) {
            continue;
        }
        let start = match e.time_s {
            Some(s) => {
                let ms = s.saturating_mul(1000);
                last_known = Some(ms);
                first_known.get_or_insert(ms);
                ms
            }
            None => last_known.unwrap_or(0),
        };
        let duration = e.elapsed_s.unwrap_or(0).saturating_mul(1000);
        items.push((
            start.saturating_add(duration),
            EventBody::Command(CommandRecord {
                command: e.command,
                cwd: String::new(),
                started_at_ms: start,
                duration_ms: duration,
                exit_code: None,
                output: String::new(),
                output_bytes: 0,
                output_dropped_bytes: 0,
                full_screen: false,
            }),
        ));
    }
    if items.is_empty() {
        return Err(ImportError::NoCommands {
            reason: format!("the {format} history holds no command lines"),
        });
    }
    let started = first_known.unwrap_or(0);
    let ended = items.iter().map(|(at, _)| *at).max().unwrap_or(started);
    let meta = RunMeta {
        id: run_id.to_string(),
        name: name.to_string(),
        shell: format.as_str().to_string(),
        started_at_ms: started,
        ended_at_ms: Some(ended),
        status: RunStatus::Completed,
        host: String::new(),
        user: String::new(),
        start_cwd: String::new(),
        recorder_pid: None,
        tacit_version: IMPORT_VERSION.to_string(),
        cols: 80,
        rows: 24,
        sop_id: None,
        sop_version: None,
        imported_at_ms: Some(tacit_core::now_ms()),
    };
    // File order, not time order: merged histories can go back in time.
    Ok(ImportedRun {
        meta,
        events: super::number(items),
        warnings: Vec::new(),
    })
}

struct Entry {
    command: String,
    /// Seconds since the epoch.
    time_s: Option<i64>,
    elapsed_s: Option<i64>,
}

fn lines(text: &[u8]) -> Vec<&[u8]> {
    text.split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn parse_i64(bytes: &[u8]) -> Option<i64> {
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}

fn bash(text: &[u8]) -> Vec<Entry> {
    let lines: Vec<String> = lines(text).into_iter().map(lossy).collect();
    let is_time = |l: &str| {
        BASH_TIME
            .captures(l.as_bytes())
            .and_then(|c| parse_i64(&c["t"]))
    };
    let mut entries = Vec::new();
    let mut time: Option<i64> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        if let Some(t) = is_time(line) {
            time = Some(t);
            i += 1;
            continue;
        }
        if line.trim().is_empty() {
            i += 1;
            continue;
        }
        // Put a multi-line command back together, if the lines after an
        // unfinished one finish it before the next timestamp.
        let mut command = line.clone();
        let mut end = i + 1;
        if is_incomplete(&command) {
            let mut joined = command.clone();
            let mut j = i + 1;
            while j < lines.len() && j - i < MAX_COMMAND_LINES && is_time(&lines[j]).is_none() {
                joined.push('\n');
                joined.push_str(&lines[j]);
                j += 1;
                if !is_incomplete(&joined) {
                    command = joined.trim_end().to_string();
                    end = j;
                    break;
                }
            }
            // With timestamps, bash itself reads every line up to the next
            // timestamp as one entry: trust that over the syntax check.
            if end == i + 1 && time.is_some() && j < lines.len() && is_time(&lines[j]).is_some() {
                command = joined.trim_end().to_string();
                end = j;
            }
        }
        entries.push(Entry {
            command,
            time_s: time.take(),
            elapsed_s: None,
        });
        i = end;
    }
    entries
}

/// Undoes zsh's metafication: 0x83 (Meta) then the byte xor 0x20.
fn unmetafy(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.iter();
    while let Some(&b) = bytes.next() {
        if b == 0x83 {
            if let Some(&next) = bytes.next() {
                out.push(next ^ 0x20);
            }
        } else {
            out.push(b);
        }
    }
    out
}

fn zsh(text: &[u8]) -> Vec<Entry> {
    let unmetafied = unmetafy(text);
    // A file that is UTF-8 as it is but not once "unmetafied" was never
    // metafied (written by something else than zsh): keep it as it is.
    let text = if std::str::from_utf8(text).is_ok() && std::str::from_utf8(&unmetafied).is_err() {
        text.to_vec()
    } else {
        unmetafied
    };
    let lines = lines(&text);
    let mut entries = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        let (mut command, time_s, elapsed_s) = match ZSH_EXTENDED.captures(line) {
            Some(c) => {
                let rest = &line[c.get(0).map_or(0, |m| m.end())..];
                (
                    rest.to_vec(),
                    parse_i64(&c["start"]),
                    parse_i64(&c["elapsed"]),
                )
            }
            None => (line.to_vec(), None, None),
        };
        // `\` + newline: the command goes on.
        while command.last() == Some(&b'\\') && i < lines.len() {
            command.pop();
            command.push(b'\n');
            command.extend_from_slice(lines[i]);
            i += 1;
        }
        let command = lossy(&command);
        if command.trim().is_empty() {
            continue;
        }
        entries.push(Entry {
            command,
            time_s,
            elapsed_s,
        });
    }
    entries
}

/// Undoes fish's escaping of the history file: `\\` and `\n`.
fn fish_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                    continue;
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

fn fish(text: &[u8]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    for line in lines(text) {
        let line = lossy(line);
        if let Some(cmd) = line.strip_prefix("- cmd:") {
            let cmd = cmd.strip_prefix(' ').unwrap_or(cmd);
            entries.push(Entry {
                command: fish_unescape(cmd),
                time_s: None,
                elapsed_s: None,
            });
        } else if let Some(when) = line.trim_start().strip_prefix("when:")
            && line.starts_with(' ')
            && let Some(last) = entries.last_mut()
        {
            last.time_s = when.trim().parse().ok();
        }
    }
    entries.retain(|e| !e.command.trim().is_empty());
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmetafy_restores_bytes() {
        // "—" is E2 80 94; zsh writes the 0x94 as 0x83 0xB4.
        assert_eq!(unmetafy(b"\xe2\x80\x83\xb4"), "—".as_bytes());
        assert_eq!(unmetafy(b"plain"), b"plain");
        assert_eq!(unmetafy(b"cut\x83"), b"cut");
    }

    #[test]
    fn fish_escapes() {
        assert_eq!(fish_unescape(r"a\nb"), "a\nb");
        assert_eq!(fish_unescape(r"back\\slash"), r"back\slash");
        assert_eq!(fish_unescape(r"two\\\\"), r"two\\");
        assert_eq!(fish_unescape(r"keep\t"), r"keep\t");
    }

    #[test]
    fn formats_parse_by_name() {
        for f in [HistoryFormat::Bash, HistoryFormat::Zsh, HistoryFormat::Fish] {
            assert_eq!(HistoryFormat::parse(f.as_str()), Some(f));
        }
        assert_eq!(HistoryFormat::parse("csh"), None);
    }
}
