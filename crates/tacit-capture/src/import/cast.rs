//! asciinema casts (asciicast v2 and v3) to runs.
//!
//! A cast is a header line (JSON object) and one `[time, code, data]` JSON
//! array per line. v2 times are seconds since the start; v3 times are
//! seconds since the previous event, and v3 allows `#` comment lines. Codes:
//! `o` output, `i` input, `m` marker, `r` resize (`COLSxROWS`), `x` exit of
//! the recorded process (v3). Only `o` forms the screen; each `m` becomes a
//! note; `x` and the last event time end the run.
//!
//! Commands are found, in order of preference:
//!
//! 1. **tacit's own export** (`tacit runs export --format cast`): a v2 cast
//!    titled `tacit: NAME` whose output events alternate `$ COMMAND\r\n` and
//!    the command's output. Read back event by event, so commands (even
//!    multi-line ones) and outputs come back exactly. An output that itself
//!    starts with `$ ` is read as a command (the export does not mark them
//!    apart).
//! 2. **Shell-integration marks** (OSC 133, as printed by the shell
//!    integrations of VS Code, kitty, WezTerm, iTerm2, Ghostty, starship…):
//!    `A` prompt starts, `B` input starts, `C` output starts, `D[;exit]`
//!    command finished, each ended by BEL or `ESC \`. The command line is
//!    what the screen showed between the end of the prompt and `C` (typed
//!    echo rendered, so cursor moves and deletions resolve; PS2 continuation
//!    prompts removed); the output is the screen text between `C` and `D`;
//!    the exit code comes from `D`; times come from the events holding the
//!    marks. A `cmd=`/`cmdline_url=` (percent-encoded) parameter of `C` wins
//!    over the screen. The working folder comes from OSC 7
//!    (`file://host/path`) or a `cwd=` parameter.
//! 3. **Prompt heuristics**, when there are no `C` marks: the whole output is
//!    rendered into screen lines; a line like `PROMPT$ command` (the prompt
//!    is at most 80 characters and ends in `$`, `#`, `%`, `>` or `❯`) is a
//!    candidate. Prompts are compared by *shape* (digits and paths folded, so
//!    `me@box:~$` and `me@box:/etc$` are one prompt); the shape that occurs
//!    at least twice and shows up first is the prompt (when no shape
//!    repeats, as with a single command, the first candidate's), plus longer
//!    prompts ending in it (a virtualenv's `(venv) ` prefix). Each prompt line starts a command,
//!    `> `-style continuation lines of an unfinished command are joined to
//!    it, and its output runs up to the next prompt line (a trailing empty
//!    prompt only ends the last command). Exit codes are unknown.
//!
//!    Times: the output is replayed event by event through the same terminal
//!    emulator, remembering when each screen line was first reached, so a
//!    command starts when the line after its prompt line was reached (Enter
//!    was pressed) and ends when the next prompt line was. If that replay
//!    does not produce exactly the text of the one-shot rendering, times are
//!    spread evenly over the recording by line number instead.
//!
//!    Limits: output that contains lines shaped like the prompt (a `cat` of
//!    a shell transcript) is split there; a prompt that changes shape (a new
//!    host after `ssh`, a different prompt theme) is not seen, so commands
//!    typed there stay output of the command before (as with the recorder,
//!    where nested programs are output); the whole recording is rendered at
//!    its initial width, so resizes can change wrapping; a right-hand prompt
//!    (zsh `RPROMPT`) is removed only when it sits at the right edge after a
//!    run of three or more spaces.
//!
//! `exit`/`logout` and tacit's in-session commands are left out, as the
//! recorder does. Output is capped like the recorder's
//! ([`super::MAX_OUTPUT_BYTES`], head and tail kept).

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;
use tacit_core::event::{CommandRecord, EventBody, RunMeta, RunStatus};

use super::{IMPORT_VERSION, ImportError, ImportedRun, MAX_OUTPUT_BYTES, is_not_work, secs_to_ms};
use crate::screen::{OutputBuffer, screen_text};

const DEFAULT_COLS: u16 = 80;
const DEFAULT_ROWS: u16 = 24;
/// Widths past this are clamped when rendering (never in the run's
/// metadata): a corrupt header must not make every render allocate a huge
/// screen.
const MAX_RENDER_COLS: u16 = 1000;
/// Rows of the emulator used for timing; the same as `screen_text`'s.
const TIMING_ROWS: u16 = 24;

/// Reads a cast (asciicast v2 or v3) into a run named `name` with id
/// `run_id`. See the [module documentation](self) for how commands are found.
pub fn import_cast(text: &str, name: &str, run_id: &str) -> Result<ImportedRun, ImportError> {
    let cast = parse(text)?;
    let found = if let Some(commands) = tacit_export(&cast) {
        Found {
            commands,
            ..Found::default()
        }
    } else {
        let marks = scan_marks(&cast.output);
        if marks.iter().any(|m| m.kind == MarkKind::Output) {
            osc_commands(&cast, &marks)
        } else {
            prompt_commands(&cast)
        }
    };
    if found.commands.is_empty() {
        return Err(ImportError::NoCommands {
            reason: "the cast has neither shell-integration marks (OSC 133) nor lines that \
                     look like a prompt followed by a command"
                .into(),
        });
    }

    let mut warnings = Vec::new();
    if let Some(line) = cast.truncated_line {
        warnings.push(format!(
            "line {line}: the last event is cut off (the recording ended mid-write); everything before it was imported"
        ));
    }
    // Never 1970: a cast without a start time is dated by its import.
    let base = cast.started_at_ms.unwrap_or_else(|| {
        warnings.push(
            "the cast has no start time (`timestamp`): the run is dated by this import".into(),
        );
        tacit_core::now_ms()
    });
    let mut items: Vec<(i64, EventBody)> = Vec::new();
    for mut c in found.commands {
        c.started_at_ms = base.saturating_add(c.started_at_ms);
        items.push((
            c.started_at_ms.saturating_add(c.duration_ms),
            EventBody::Command(c),
        ));
    }
    for (at, label) in &cast.markers {
        let text = if label.trim().is_empty() {
            "marker".to_string()
        } else {
            label.clone()
        };
        items.push((base.saturating_add(*at), EventBody::Note { text }));
    }
    // Stable: at equal times, commands stay before markers and in order.
    items.sort_by_key(|(at, _)| *at);

    let meta = RunMeta {
        id: run_id.to_string(),
        name: name.to_string(),
        shell: cast.shell.clone(),
        started_at_ms: base,
        ended_at_ms: Some(base.saturating_add(cast.end_ms)),
        status: RunStatus::Completed,
        host: found.host,
        user: cast.user.clone(),
        start_cwd: found.start_cwd,
        recorder_pid: None,
        tacit_version: IMPORT_VERSION.to_string(),
        cols: cast.cols,
        rows: cast.rows,
        sop_id: None,
        sop_version: None,
        imported_at_ms: Some(tacit_core::now_ms()),
    };
    Ok(ImportedRun {
        meta,
        events: super::number(items),
        warnings,
    })
}

/// Commands found in a cast, with start times relative to its start, and
/// what the marks said about the machine.
#[derive(Default)]
struct Found {
    commands: Vec<CommandRecord>,
    start_cwd: String,
    host: String,
}

/// A parsed cast: the header's facts and the output as one byte stream.
#[derive(Debug)]
struct Cast {
    version: u64,
    cols: u16,
    rows: u16,
    /// `None`: the header has no `timestamp`.
    started_at_ms: Option<i64>,
    /// The line of a last event cut off mid-write.
    truncated_line: Option<usize>,
    shell: String,
    user: String,
    title: String,
    /// Every event was `o` (tacit's export writes nothing else).
    only_output: bool,
    /// All `o` data, concatenated.
    output: Vec<u8>,
    /// Where each non-empty `o` event starts in `output`, and its time (ms
    /// since the start). Offsets and times never decrease.
    chunks: Vec<Chunk>,
    /// Terminal width from each `r` event on, by output offset.
    resizes: Vec<(usize, u16)>,
    markers: Vec<(i64, String)>,
    /// Time of the last event (ms since the start).
    end_ms: i64,
}

#[derive(Debug, Clone, Copy)]
struct Chunk {
    offset: usize,
    at: i64,
}

impl Cast {
    /// Time of the event that wrote byte `offset` of the output.
    fn time_at(&self, offset: usize) -> i64 {
        let i = self.chunks.partition_point(|c| c.offset <= offset);
        self.chunks.get(i.saturating_sub(1)).map_or(0, |c| c.at)
    }

    fn cols_at(&self, offset: usize) -> u16 {
        let i = self.resizes.partition_point(|(o, _)| *o <= offset);
        let cols = match i {
            0 => self.cols,
            i => self.resizes[i - 1].1,
        };
        cols.clamp(2, MAX_RENDER_COLS)
    }

    fn last_output_ms(&self) -> i64 {
        self.chunks.last().map_or(0, |c| c.at)
    }

    fn chunk_bytes(&self, i: usize) -> &[u8] {
        let start = self.chunks[i].offset;
        let end = self
            .chunks
            .get(i + 1)
            .map_or(self.output.len(), |c| c.offset);
        &self.output[start..end]
    }
}

fn parse(text: &str) -> Result<Cast, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ImportError::Empty { what: "cast" });
    }
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .skip_while(|(_, l)| l.trim().is_empty())
        .peekable();
    let Some((header_line, header_text)) = lines.next() else {
        return Err(ImportError::Empty { what: "cast" });
    };
    let header: Value = match serde_json::from_str(header_text) {
        Ok(v) => v,
        Err(e) => {
            // asciicast v1 is one JSON document over many lines.
            if let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(text)
                && let Some(v) = doc.get("version")
            {
                return Err(ImportError::UnsupportedVersion {
                    line: header_line,
                    version: short(v),
                });
            }
            return Err(ImportError::NotACast {
                line: header_line,
                reason: format!("the header line is not JSON ({e})"),
            });
        }
    };
    let Value::Object(header) = header else {
        return Err(ImportError::NotACast {
            line: header_line,
            reason: format!("the header must be a JSON object, not {}", kind(&header)),
        });
    };
    let version = match header.get("version") {
        None => {
            return Err(ImportError::NotACast {
                line: header_line,
                reason: "the header has no \"version\"".into(),
            });
        }
        Some(v) => match v.as_u64() {
            Some(n @ (2 | 3)) => n,
            _ => {
                return Err(ImportError::UnsupportedVersion {
                    line: header_line,
                    version: short(v),
                });
            }
        },
    };
    let dim = |v: Option<&Value>| {
        v.and_then(Value::as_u64)
            .filter(|n| (1..=u64::from(u16::MAX)).contains(n))
            .map(|n| n as u16)
    };
    let (cols, rows) = if version == 2 {
        (dim(header.get("width")), dim(header.get("height")))
    } else {
        let term = header.get("term");
        (
            dim(term.and_then(|t| t.get("cols"))),
            dim(term.and_then(|t| t.get("rows"))),
        )
    };
    let env = header.get("env").and_then(Value::as_object);
    let env_var = |key: &str| {
        env.and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let shell_path = env_var("SHELL");
    let shell = shell_path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();

    let mut cast = Cast {
        version,
        cols: cols.unwrap_or(DEFAULT_COLS),
        rows: rows.unwrap_or(DEFAULT_ROWS),
        started_at_ms: header
            .get("timestamp")
            .and_then(Value::as_f64)
            .map(secs_to_ms),
        truncated_line: None,
        shell,
        user: env_var("USER"),
        title: header
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        only_output: true,
        output: Vec::new(),
        chunks: Vec::new(),
        resizes: Vec::new(),
        markers: Vec::new(),
        end_ms: 0,
    };

    let ends_with_newline = text.ends_with('\n');
    let mut clock = 0f64;
    while let Some((line_no, line)) = lines.next() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let is_last = lines.peek().is_none();
        let bad = |reason: String| ImportError::BadEvent {
            line: line_no,
            reason,
        };
        let event: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            // A recording cut short (the recorder crashed, the disk filled
            // up) ends in a partial line: keep everything before it.
            Err(_) if is_last && !ends_with_newline => {
                cast.truncated_line = Some(line_no);
                break;
            }
            Err(e) => return Err(bad(format!("an event line is not JSON ({e})"))),
        };
        let Value::Array(event) = event else {
            return Err(bad(format!(
                "an event must be a JSON array [time, code, data], not {}",
                kind(&event)
            )));
        };
        if event.len() < 3 {
            return Err(bad(format!(
                "an event must have 3 elements [time, code, data], this one has {}",
                event.len()
            )));
        }
        let Some(time) = event[0].as_f64() else {
            return Err(bad(format!(
                "the event time must be a number of seconds, not {}",
                short(&event[0])
            )));
        };
        let Some(code) = event[1].as_str() else {
            return Err(bad(format!(
                "the event code must be a string such as \"o\", not {}",
                short(&event[1])
            )));
        };
        let at = if version == 2 {
            secs_to_ms(time)
        } else {
            clock += time.max(0.0);
            secs_to_ms(clock)
        }
        .max(cast.end_ms);
        cast.end_ms = at;
        let data = event[2].as_str();
        match code {
            "o" => {
                let Some(data) = data else {
                    return Err(bad(format!(
                        "output data must be a string, not {}",
                        short(&event[2])
                    )));
                };
                if !data.is_empty() {
                    cast.chunks.push(Chunk {
                        offset: cast.output.len(),
                        at,
                    });
                    cast.output.extend_from_slice(data.as_bytes());
                }
            }
            "r" => {
                cast.only_output = false;
                if let Some(cols) = data
                    .and_then(|d| d.split_once('x'))
                    .and_then(|(c, _)| c.trim().parse::<u16>().ok())
                    .filter(|c| *c > 0)
                {
                    cast.resizes.push((cast.output.len(), cols));
                }
            }
            "m" => {
                cast.only_output = false;
                cast.markers.push((at, data.unwrap_or("").to_string()));
            }
            _ => cast.only_output = false,
        }
    }
    Ok(cast)
}

/// A JSON value's kind, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON value for a message, cut to a readable length.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 40 {
        s
    } else {
        let cut: String = s.chars().take(40).collect();
        format!("{cut}…")
    }
}

// ---------------------------------------------------------------------------
// 1. tacit's own export

/// Reads back a cast written by tacit's `runs export --format cast`, or
/// `None` when the cast does not have exactly that shape.
fn tacit_export(cast: &Cast) -> Option<Vec<CommandRecord>> {
    if cast.version != 2 || !cast.title.starts_with("tacit: ") || !cast.only_output {
        return None;
    }
    let mut commands: Vec<CommandRecord> = Vec::new();
    let mut has_output = true;
    for i in 0..cast.chunks.len() {
        let data = std::str::from_utf8(cast.chunk_bytes(i)).ok()?;
        let at = cast.chunks[i].at;
        if let Some(command) = data.strip_prefix("$ ").and_then(|d| d.strip_suffix("\r\n")) {
            commands.push(CommandRecord {
                command: command.replace("\r\n", "\n"),
                cwd: String::new(),
                started_at_ms: at,
                duration_ms: 0,
                exit_code: None,
                output: String::new(),
                output_bytes: 0,
                output_dropped_bytes: 0,
                full_screen: false,
            });
            has_output = false;
        } else if !has_output && let Some(output) = data.strip_suffix("\r\n") {
            let c = commands.last_mut()?;
            c.output = output.replace("\r\n", "\n");
            c.output_bytes = c.output.len() as u64;
            c.duration_ms = (at - c.started_at_ms).max(0);
            has_output = true;
        } else {
            return None;
        }
    }
    commands.retain(|c| !is_not_work(&c.command));
    Some(commands)
}

// ---------------------------------------------------------------------------
// 2. OSC 133 shell-integration marks

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MarkKind {
    /// `133;A`
    Prompt,
    /// `133;B`
    Input,
    /// `133;C`
    Output,
    /// `133;D`
    End,
    /// OSC 7
    Cwd,
}

#[derive(Debug)]
struct Mark {
    start: usize,
    end: usize,
    kind: MarkKind,
    exit: Option<i32>,
    cwd: Option<String>,
    host: Option<String>,
    command: Option<String>,
}

/// Longest OSC body looked at; a longer one is not a mark.
const MAX_OSC: usize = 16 * 1024;

/// Finds OSC 133 marks and OSC 7 working-folder reports, in stream order.
fn scan_marks(bytes: &[u8]) -> Vec<Mark> {
    let mut marks = Vec::new();
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&bytes[from..], b"\x1b]") {
        let start = from + p;
        let body_start = start + 2;
        let mut end = None;
        let mut j = body_start;
        while j < bytes.len() && j - body_start <= MAX_OSC {
            match bytes[j] {
                0x07 => {
                    end = Some((j, j + 1));
                    break;
                }
                0x1b => {
                    if bytes.get(j + 1) == Some(&b'\\') {
                        end = Some((j, j + 2));
                    }
                    break;
                }
                _ => j += 1,
            }
        }
        let Some((body_end, end)) = end else {
            from = body_start;
            continue;
        };
        from = end;
        let body = String::from_utf8_lossy(&bytes[body_start..body_end]);
        if let Some(rest) = body.strip_prefix("133;") {
            let mut parts = rest.split(';');
            let kind = match parts.next() {
                Some("A") => MarkKind::Prompt,
                Some("B") => MarkKind::Input,
                Some("C") => MarkKind::Output,
                Some("D") => MarkKind::End,
                _ => continue,
            };
            let mut mark = Mark {
                start,
                end,
                kind,
                exit: None,
                cwd: None,
                host: None,
                command: None,
            };
            for (i, param) in parts.enumerate() {
                if let Some(v) = param.strip_prefix("exit=") {
                    mark.exit = v.trim().parse().ok();
                } else if let Some(v) = param.strip_prefix("cwd=") {
                    mark.cwd = Some(percent_decode(v));
                } else if let Some(v) = param
                    .strip_prefix("cmd=")
                    .or_else(|| param.strip_prefix("cmdline_url="))
                {
                    mark.command = Some(percent_decode(v));
                } else if i == 0 && kind == MarkKind::End {
                    mark.exit = param.trim().parse().ok();
                }
            }
            marks.push(mark);
        } else if let Some(url) = body.strip_prefix("7;") {
            let (host, path) = match url.split_once("://") {
                Some((_, rest)) => match rest.find('/') {
                    Some(slash) => (&rest[..slash], &rest[slash..]),
                    None => (rest, ""),
                },
                None => ("", url),
            };
            if path.starts_with('/') {
                marks.push(Mark {
                    start,
                    end,
                    kind: MarkKind::Cwd,
                    exit: None,
                    cwd: Some(percent_decode(path)),
                    host: Some(percent_decode(host)).filter(|h| !h.is_empty()),
                    command: None,
                });
            }
        }
    }
    marks
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Running {
    command: String,
    cwd: String,
    out_start: usize,
    start_ms: i64,
}

fn osc_commands(cast: &Cast, marks: &[Mark]) -> Found {
    let bytes = &cast.output;
    let mut found = Found::default();
    let mut cwd = String::new();
    let mut prompt_at: Option<usize> = None;
    let mut input_at: Option<(usize, usize)> = None;
    let mut region_start = 0;
    let mut running: Option<Running> = None;

    let finish =
        |run: Running, end: usize, end_ms: i64, exit_code: Option<i32>, found: &mut Found| {
            if is_not_work(&run.command) {
                return;
            }
            let end = end.max(run.out_start).min(bytes.len());
            let raw = &bytes[run.out_start.min(end)..end];
            let mut buffer = OutputBuffer::new(MAX_OUTPUT_BYTES);
            buffer.push(raw);
            let (output, dropped) = buffer.render(cast.cols_at(run.out_start));
            found.commands.push(CommandRecord {
                command: run.command,
                cwd: run.cwd,
                started_at_ms: run.start_ms,
                duration_ms: end_ms.saturating_sub(run.start_ms).max(0),
                exit_code,
                output,
                output_bytes: raw.len() as u64,
                output_dropped_bytes: dropped,
                full_screen: buffer.used_alt_screen(),
            });
        };

    for m in marks {
        if let Some(c) = &m.cwd {
            cwd.clone_from(c);
            if found.start_cwd.is_empty() {
                found.start_cwd.clone_from(c);
            }
        }
        if let Some(h) = &m.host
            && found.host.is_empty()
        {
            found.host.clone_from(h);
        }
        match m.kind {
            MarkKind::Cwd => {}
            MarkKind::Prompt => {
                // A prompt without a `D` before it ends the command anyway.
                if let Some(run) = running.take() {
                    finish(run, m.start, cast.time_at(m.start), None, &mut found);
                }
                prompt_at = Some(m.end);
                input_at = None;
            }
            MarkKind::Input => input_at = Some((m.start, m.end)),
            MarkKind::Output => {
                if let Some(run) = running.take() {
                    finish(run, m.start, cast.time_at(m.start), None, &mut found);
                }
                let command = match &m.command {
                    Some(c) => c.trim().to_string(),
                    None => typed_command(cast, prompt_at, input_at, region_start, m.start),
                };
                running = Some(Running {
                    command,
                    cwd: cwd.clone(),
                    out_start: m.end,
                    start_ms: cast.time_at(m.start),
                });
                prompt_at = None;
                input_at = None;
                region_start = m.end;
            }
            MarkKind::End => {
                if let Some(run) = running.take() {
                    finish(run, m.start, cast.time_at(m.start), m.exit, &mut found);
                }
                region_start = m.end;
            }
        }
    }
    // The recording ended (or was cut short) while a command ran.
    if let Some(run) = running.take() {
        finish(run, bytes.len(), cast.end_ms, None, &mut found);
    }
    found
}

/// The command line as the screen showed it before the `C` mark at `c_at`.
fn typed_command(
    cast: &Cast,
    prompt_at: Option<usize>,
    input_at: Option<(usize, usize)>,
    region_start: usize,
    c_at: usize,
) -> String {
    let bytes = &cast.output;
    let cols = cast.cols_at(c_at);
    if let Some((b_start, b_end)) = input_at {
        // Rendering from the prompt start puts the echo at its real column,
        // so wrapping and cursor moves land where they did on screen.
        if let Some(a) = prompt_at.filter(|a| *a <= b_start) {
            let prompt = screen_text(&bytes[a..b_start], cols);
            let full = screen_text(&bytes[a..c_at], cols);
            let prompt_lines = prompt.split('\n').count();
            let mut lines: Vec<&str> = full.split('\n').collect();
            let last_prompt_line = prompt.rsplit('\n').next().unwrap_or("");
            if let Some(line) = lines.get_mut(prompt_lines - 1) {
                *line = strip_right_prompt(line, cols, last_prompt_line.len());
            }
            let full = lines.join("\n");
            if let Some(rest) = full.strip_prefix(prompt.as_str()) {
                return clean_command(rest);
            }
        }
        return clean_command(&screen_text(&bytes[b_end.min(c_at)..c_at], cols));
    }
    // No `B` mark: prompt and command are one text; cut the prompt off by
    // its shape.
    let from = prompt_at.unwrap_or(region_start).min(c_at);
    let text = screen_text(&bytes[from..c_at], cols);
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let line = strip_right_prompt(line, cols, 0);
        if let Some(c) = PROMPT_RE.captures(line) {
            let mut command = c["cmd"].to_string();
            for more in &lines[i + 1..] {
                command.push('\n');
                command.push_str(more);
            }
            return clean_command(&command);
        }
    }
    clean_command(lines.last().copied().unwrap_or(""))
}

/// Trims a command line and removes PS2 continuation prompts from its
/// second and later lines.
fn clean_command(text: &str) -> String {
    let mut lines = text.trim().split('\n');
    let mut out = lines.next().unwrap_or("").trim_end().to_string();
    for line in lines {
        out.push('\n');
        out.push_str(CONTINUATION_RE.replace(line.trim_end(), "").as_ref());
    }
    out.trim().to_string()
}

/// Removes a right-hand prompt (zsh `RPROMPT`) from a screen line: text at
/// the right edge after a run of three or more spaces, on a line that fills
/// the screen width. Never cuts into the first `keep` bytes.
fn strip_right_prompt(line: &str, cols: u16, keep: usize) -> &str {
    let width = line.chars().count();
    let cols = usize::from(cols);
    if width > cols || width + 2 < cols {
        return line;
    }
    match line.rfind("   ") {
        Some(pos) if pos >= keep => line[..pos].trim_end(),
        _ => line,
    }
}

// ---------------------------------------------------------------------------
// 3. Prompt heuristics

/// A prompt (at most 80 characters, ending in a prompt character) followed
/// by a space and a command.
static PROMPT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<prompt>.{0,80}?[$#%>❯]) (?P<cmd>\S.*)$").expect("valid regex")
});
/// A prompt with nothing typed after it.
static EMPTY_PROMPT_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?P<prompt>.{0,80}?[$#%>❯])\s*$").expect("valid regex"));
/// Paths inside a prompt (`~`, `~/src`, `/etc/nginx`), folded so a prompt
/// that shows the working folder keeps one shape.
static PATH_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[~/][^\s:$#%>\])]*").expect("valid regex"));
/// PS2 continuation prompts: bash's `> `, zsh's `for> `, `dquote> `, ….
static CONTINUATION_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:for|while|until|if|then|else|elif|foreach|select|case|function|cursh|subsh|quote|dquote|bquote|heredoc|heredocd|cmdsubst|cmdand|cmdor|pipe|mathsubst|array|brace|braceparam|repeat|always|coproc)\s?)*> ",
    )
    .expect("valid regex")
});

/// The shape of a prompt: digits and paths folded.
fn prompt_key(prompt: &str) -> String {
    PATH_RE
        .replace_all(prompt, "~")
        .chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .collect()
}

struct Candidate {
    line: usize,
    key: String,
    command: Option<String>,
}

fn prompt_commands(cast: &Cast) -> Found {
    let cols = cast.cols.clamp(2, MAX_RENDER_COLS);
    let text = screen_text(&cast.output, cols);
    let lines: Vec<&str> = text.split('\n').collect();

    let mut candidates = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let line = strip_right_prompt(line.trim_end(), cols, 0);
        if let Some(c) = PROMPT_RE.captures(line)
            && !is_percentage(&c["prompt"])
        {
            candidates.push(Candidate {
                line: i,
                key: prompt_key(&c["prompt"]),
                command: Some(c["cmd"].to_string()),
            });
        } else if let Some(c) = EMPTY_PROMPT_RE.captures(line) {
            candidates.push(Candidate {
                line: i,
                key: prompt_key(&c["prompt"]),
                command: None,
            });
        }
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for c in &candidates {
        *counts.entry(c.key.as_str()).or_default() += 1;
    }
    let count = |k: &str| counts.get(k).copied().unwrap_or(0);
    // A bare `>` is the continuation prompt far more often than a prompt.
    let primary = candidates
        .iter()
        .find(|c| count(&c.key) >= 2 && c.key != ">")
        .or_else(|| {
            candidates
                .iter()
                .find(|c| c.command.is_some() && c.key != ">")
        })
        .or_else(|| candidates.iter().find(|c| c.command.is_some()))
        .map(|c| c.key.clone());
    let Some(primary) = primary else {
        return Found::default();
    };
    let accepted = |key: &str| {
        key == primary || (primary.chars().count() >= 2 && key.ends_with(primary.as_str()))
    };
    let boundaries: Vec<&Candidate> = candidates.iter().filter(|c| accepted(&c.key)).collect();

    let times = line_times(cast, cols, &text);
    let first_ms = cast.chunks.first().map_or(0, |c| c.at);
    let last_ms = cast.last_output_ms();
    let total_lines = lines.len().max(1) as i64;
    let time_of_line = |i: usize| -> i64 {
        match &times {
            Some(t) => t.get(i).copied().unwrap_or(last_ms),
            None => {
                let i = (i as i64).min(total_lines);
                first_ms + (last_ms - first_ms).saturating_mul(i) / total_lines
            }
        }
    };

    let mut found = Found::default();
    for (k, b) in boundaries.iter().enumerate() {
        let Some(first) = &b.command else { continue };
        let next = boundaries.get(k + 1).map(|n| n.line);
        let stop = next.unwrap_or(lines.len());
        let mut command = first.clone();
        let mut j = b.line + 1;
        while j < stop && super::is_incomplete(&command) && CONTINUATION_RE.is_match(lines[j]) {
            command.push('\n');
            command.push_str(CONTINUATION_RE.replace(lines[j].trim_end(), "").as_ref());
            j += 1;
        }
        let command = command.trim().to_string();
        if is_not_work(&command) {
            continue;
        }
        let output = lines[j.min(stop)..stop].join("\n").trim_end().to_string();
        let output_bytes = output.len() as u64;
        let (output, dropped) = cap_text(output);
        let start = if j < lines.len() {
            time_of_line(j)
        } else {
            last_ms
        };
        let end = match next {
            Some(n) => time_of_line(n),
            None => last_ms,
        }
        .max(start);
        found.commands.push(CommandRecord {
            command,
            cwd: String::new(),
            started_at_ms: start,
            duration_ms: end - start,
            exit_code: None,
            output,
            output_bytes,
            output_dropped_bytes: dropped,
            full_screen: false,
        });
    }
    found
}

/// `Receiving objects: 100% (9/9), done.`: progress, not a `%` prompt.
fn is_percentage(prompt: &str) -> bool {
    prompt
        .strip_suffix('%')
        .is_some_and(|p| p.trim_end().ends_with(|c: char| c.is_ascii_digit()))
}

/// Keeps the head and tail of an overlong output, like the recorder.
fn cap_text(text: String) -> (String, u64) {
    if text.len() <= MAX_OUTPUT_BYTES {
        return (text, 0);
    }
    let half = MAX_OUTPUT_BYTES / 2;
    let mut head_end = half;
    while !text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = text.len() - half;
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    let dropped = (tail_start - head_end) as u64;
    let mut out = text[..head_end].to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "[… tacit: {dropped} bytes of output not kept …]\n"
    ));
    out.push_str(&text[tail_start..]);
    (out, dropped)
}

/// When each line of `text` (the one-shot rendering of the whole output)
/// was first reached, in ms since the start: the output is replayed event by
/// event, noting the time a screen row first held the cursor. `None` when
/// the replay does not produce exactly `text`, so lines cannot be matched.
fn line_times(cast: &Cast, cols: u16, text: &str) -> Option<Vec<i64>> {
    let rows = std::num::NonZeroU16::new(TIMING_ROWS)?;
    let cols = std::num::NonZeroU16::new(cols.max(2))?;
    let mut parser = vt100::Parser::new_with_callbacks(
        rows,
        cols,
        0,
        RowClock {
            row_times: vec![None; usize::from(TIMING_ROWS)],
            cols: usize::from(cols.get()),
            ..RowClock::default()
        },
    );
    for i in 0..cast.chunks.len() {
        let bytes = cast.chunk_bytes(i);
        parser.callbacks_mut().now = cast.chunks[i].at;
        let chunk = String::from_utf8_lossy(bytes);
        if chunk.contains('\u{FFFD}') {
            parser.process(chunk.replace('\u{FFFD}', STAND_IN).as_bytes());
        } else {
            parser.process(chunk.as_bytes());
        }
        let now = cast.chunks[i].at;
        if parser.screen().alternate_screen() {
            continue;
        }
        let (cursor_row, _) = parser.screen().cursor_position();
        let cursor_row = usize::from(cursor_row);
        // After a clear, rows that are empty again get a fresh time.
        if memchr::memchr(b'J', bytes).is_some() || memchr::memmem::find(bytes, b"\x1bc").is_some()
        {
            let empty: Vec<bool> = parser
                .screen()
                .rows(0, cols.get())
                .map(|r| r.trim().is_empty())
                .collect();
            let clock = parser.callbacks_mut();
            for (r, is_empty) in empty.into_iter().enumerate() {
                if is_empty && let Some(t) = clock.row_times.get_mut(r) {
                    *t = None;
                }
            }
        }
        let clock = parser.callbacks_mut();
        for t in clock.row_times.iter_mut().take(cursor_row + 1) {
            t.get_or_insert(now);
        }
    }
    if parser.screen().alternate_screen() {
        parser.process(b"\x1b[?1049l");
    }
    let end = cast.last_output_ms();
    let screen = parser.screen();
    let visible = screen.contents();
    let wrapped: Vec<bool> = (0..TIMING_ROWS).map(|r| screen.row_wrapped(r)).collect();
    let clock = parser.callbacks();
    let mut replay = clock.text.clone();
    if clock.scrolled_any && !clock.last_row_full {
        replay.push('\n');
    }
    replay.push_str(&visible);
    let trimmed = replay.trim_end().len();
    replay.truncate(trimmed);
    if replay.replace(STAND_IN, "\u{FFFD}") != text {
        return None;
    }
    let mut times = clock.scrolled_times.clone();
    // A last scrolled row that wrapped continues on the first visible row:
    // one line, timed by the scrolled part.
    let first_visible_continues = clock.scrolled_any && clock.last_row_full;
    for r in 0..usize::from(TIMING_ROWS) {
        let starts_line = if r == 0 {
            !first_visible_continues
        } else {
            !wrapped[r - 1]
        };
        if starts_line {
            times.push(clock.row_times[r].unwrap_or(end));
        }
    }
    Some(times)
}

/// Stand-in for U+FFFD while rendering, as `screen_text` does.
const STAND_IN: &str = "\u{E000}";

/// Tracks when each screen row was first reached, and collects the rows
/// that scroll off (as `screen_text` does) with those times.
#[derive(Default)]
struct RowClock {
    now: i64,
    row_times: Vec<Option<i64>>,
    scrolled_times: Vec<i64>,
    text: String,
    state: vt100::capture::BasicFormattedCaptureState,
    scratch: String,
    scrolled_any: bool,
    cols: usize,
    /// As in `screen_text`: the last scrolled row filled the width.
    last_row_full: bool,
}

impl vt100::Callbacks for RowClock {
    fn on_scroll(&mut self, row: vt100::capture::RowContents<'_>, alternate_screen: bool) {
        if alternate_screen {
            return;
        }
        let t = if self.row_times.is_empty() {
            self.now
        } else {
            let t = self.row_times.remove(0).unwrap_or(self.now);
            self.row_times.push(None);
            t
        };
        self.scratch.clear();
        if row
            .write_formatted_basic(&mut self.scratch, &mut self.state)
            .is_ok()
        {
            // A row starts a new line unless the row before it wrapped.
            if !self.scrolled_any || self.scratch.starts_with('\n') {
                self.scrolled_times.push(t);
            }
            self.scrolled_any = true;
            let plain: String = vt100::capture::basic_formatted_to_plain(&self.scratch).collect();
            self.last_row_full = plain.trim_start_matches('\n').chars().count() >= self.cols;
            self.text.push_str(&plain);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_shapes_fold_paths_and_digits() {
        assert_eq!(prompt_key("me@box:~/src$"), prompt_key("me@box:/etc$"));
        assert_eq!(
            prompt_key("[12:03:59] demo$"),
            prompt_key("[09:00:00] demo$")
        );
        assert_ne!(prompt_key("demo$"), prompt_key("root#"));
    }

    #[test]
    fn right_prompts_are_cut_only_at_the_right_edge() {
        let line = format!("demo% ls{}~/src", " ".repeat(67));
        assert_eq!(line.chars().count(), 80);
        assert_eq!(strip_right_prompt(&line, 80, 0), "demo% ls");
        assert_eq!(
            strip_right_prompt("demo% echo 'a   b'", 80, 0),
            "demo% echo 'a   b'"
        );
    }

    #[test]
    fn marks_parse_with_either_terminator() {
        let s = b"\x1b]133;A\x07p$ \x1b]133;B\x1b\\ls\x1b]133;C\x07out\x1b]133;D;2\x07\x1b]7;file://box/tmp/a%20b\x07";
        let marks = scan_marks(s);
        let kinds: Vec<MarkKind> = marks.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [
                MarkKind::Prompt,
                MarkKind::Input,
                MarkKind::Output,
                MarkKind::End,
                MarkKind::Cwd
            ]
        );
        assert_eq!(marks[3].exit, Some(2));
        assert_eq!(marks[4].cwd.as_deref(), Some("/tmp/a b"));
        assert_eq!(marks[4].host.as_deref(), Some("box"));
    }

    #[test]
    fn unterminated_marks_are_ignored() {
        assert!(scan_marks(b"\x1b]133;C").is_empty());
        assert!(scan_marks(b"\x1b]133;C\x1b[0m").is_empty());
    }

    #[test]
    fn overlong_output_keeps_head_and_tail() {
        let text = "é".repeat(MAX_OUTPUT_BYTES);
        let (out, dropped) = cap_text(text.clone());
        assert!(dropped > 0);
        assert!(out.len() < text.len());
        assert!(out.contains("bytes of output not kept"));
    }
}
