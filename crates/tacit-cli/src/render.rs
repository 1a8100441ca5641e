//! Text for people: timelines, durations, times, colour.

use std::io::IsTerminal;

use tacit_core::{AskTrigger, Event, EventBody, RunMeta};

pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn stdout() -> Style {
        Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub fn cyan(&self, s: &str) -> String {
        self.paint("36", s)
    }
}

/// Text from an SOP or a run, made safe to print: control characters (an
/// ESC that would start a terminal sequence, a BEL, a C1 code) are shown as
/// `^[`-style carets instead of acting on the terminal. Tabs and newlines
/// stay.
pub fn safe(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| (c.is_control() && c != '\n' && c != '\t') || c == '\u{7f}';
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            let n = c as u32;
            if n < 0x20 {
                out.push('^');
                out.push(char::from_u32(n + 0x40).unwrap_or('?'));
            } else {
                out.push_str(&format!("<U+{n:04X}>"));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The width tables must fit: the terminal's (stdout), or `$COLUMNS`;
/// `None` when output goes to a file or a pipe with no width asked for
/// (nothing is cut then; `--json` is the format for programs).
pub fn table_width() -> Option<usize> {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(c);
    }
    let ws = rustix::termios::tcgetwinsize(rustix::stdio::stdout()).ok()?;
    (ws.ws_col > 0).then_some(ws.ws_col as usize)
}

/// A table cell for a listing of `width` (see [`table_width`]): cut to its
/// column when the table must fit, whole otherwise.
pub fn column(s: &str, w: usize, width: Option<usize>) -> String {
    match width {
        Some(_) => cell(s, w),
        None => format!("{s:<w$}"),
    }
}

/// `s` in exactly `w` columns, left-aligned: padded, or cut with `…`.
pub fn cell(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w {
        format!("{s}{}", " ".repeat(w - n))
    } else {
        cut(s, w)
    }
}

/// `s` in at most `w` columns: cut with `…` when longer. Colour codes
/// take no column and are kept (and closed, if the cut falls inside one).
pub fn cut(s: &str, w: usize) -> String {
    let visible = |s: &str| {
        let mut n = 0;
        let mut in_esc = false;
        for c in s.chars() {
            match (in_esc, c) {
                (false, '\u{1b}') => in_esc = true,
                (true, c) if c.is_ascii_alphabetic() => in_esc = false,
                (true, _) => {}
                (false, _) => n += 1,
            }
        }
        n
    };
    if visible(s) <= w {
        return s.to_string();
    }
    let mut out = String::new();
    let (mut n, mut in_esc, mut styled) = (0, false, false);
    for c in s.chars() {
        if in_esc {
            out.push(c);
            in_esc = !c.is_ascii_alphabetic();
            continue;
        }
        if c == '\u{1b}' {
            in_esc = true;
            styled = true;
            out.push(c);
            continue;
        }
        if n + 1 >= w {
            break;
        }
        out.push(c);
        n += 1;
    }
    if w > 0 {
        out.push('…');
    }
    if styled {
        out.push_str("\u{1b}[0m");
    }
    out
}

pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// `2026-11-24 14:55:02 UTC`.
pub fn utc(ms: i64) -> String {
    let (y, m, d, tod) = tacit_core::civil_utc(ms);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    )
}

/// Shortens `path` relative to the run's starting folder.
fn short_cwd(cwd: &str, base: &str) -> String {
    if cwd == base {
        ".".into()
    } else if let Some(rest) = cwd.strip_prefix(base).and_then(|r| r.strip_prefix('/')) {
        format!("./{rest}")
    } else {
        cwd.into()
    }
}

/// The timeline of a run, as `tacit runs show` prints it.
pub fn timeline(meta: &RunMeta, events: &[Event], style: &Style, max_lines: usize) -> String {
    let mut out = String::new();
    let commands = events
        .iter()
        .filter(|e| matches!(e.body, EventBody::Command(_)))
        .count();
    let failed = events
        .iter()
        .filter(|e| {
            matches!(&e.body, EventBody::Command(c)
                if c.exit_code.is_some_and(|x| x != 0 && !(147..=150).contains(&x)))
        })
        .count();
    let answers = events
        .iter()
        .filter(|e| matches!(e.body, EventBody::Answer(_)))
        .count();
    let took = meta
        .ended_at_ms
        .map(|end| duration(end - meta.started_at_ms))
        .unwrap_or_else(|| "still running".into());
    out.push_str(&format!(
        "{} {}  {}\n",
        style.bold("run"),
        meta.id,
        style.bold(&meta.name)
    ));
    out.push_str(&format!(
        "{}  ·  {}  ·  {} in {}  ·  {}\n",
        meta.status.as_str(),
        utc(meta.started_at_ms),
        took,
        meta.shell,
        meta.start_cwd
    ));
    let s = |n: usize| if n == 1 { "" } else { "s" };
    out.push_str(&format!(
        "{commands} command{}, {failed} failed, {answers} answer{}\n\n",
        s(commands),
        s(answers)
    ));
    for e in events {
        match &e.body {
            EventBody::Command(c) => {
                let status = match c.exit_code {
                    Some(0) => style.green("✓ 0"),
                    // 128 + SIGTSTP/SIGSTOP/SIGTTIN/SIGTTOU: Ctrl-Z, not a failure.
                    Some(code @ 147..=150) => style.yellow(&format!("‖ {code} stopped")),
                    Some(code) => style.red(&format!("✗ {code}")),
                    None => style.yellow("? "),
                };
                out.push_str(&format!(
                    "{:>4}  {}  {}  {}  {}\n",
                    style.dim(&format!("#{}", e.seq)),
                    status,
                    style.bold(&c.command),
                    style.dim(&short_cwd(&c.cwd, &meta.start_cwd)),
                    style.dim(&duration(c.duration_ms)),
                ));
                let lines: Vec<&str> = c.output.lines().collect();
                for line in lines.iter().take(max_lines) {
                    out.push_str(&format!("        {} {line}\n", style.dim("│")));
                }
                if lines.len() > max_lines {
                    out.push_str(&format!(
                        "        {}\n",
                        style.dim(&format!(
                            "… {} more lines (--full shows all)",
                            lines.len() - max_lines
                        ))
                    ));
                }
                if c.full_screen {
                    out.push_str(&format!("        {}\n", style.dim("(full-screen program)")));
                }
                if c.output_dropped_bytes > 0 {
                    out.push_str(&format!(
                        "        {}\n",
                        style.dim(&format!(
                            "({} of {} output bytes not kept)",
                            c.output_dropped_bytes, c.output_bytes
                        ))
                    ));
                }
            }
            EventBody::Answer(a) => {
                let q = match a.trigger {
                    AskTrigger::Failure => "after the failure",
                    AskTrigger::Risky => "about the risky command",
                };
                out.push_str(&format!(
                    "        {} {}\n",
                    style.cyan("? what did you do, and why"),
                    style.dim(&format!("({q} #{})", a.command_seq))
                ));
                out.push_str(&format!("          action:   {}\n", a.action));
                out.push_str(&format!("          reason:   {}\n", a.reason));
                if let Some(esc) = &a.escalate {
                    out.push_str(&format!("          escalate: {esc}\n"));
                }
            }
            EventBody::Note { text } => {
                out.push_str(&format!("        {} {text}\n", style.cyan("note:")))
            }
            EventBody::Step { title } => out.push_str(&format!(
                "\n  {} {}\n",
                style.cyan("▸ step"),
                style.bold(title)
            )),
            EventBody::Why { command_seq, text } => out.push_str(&format!(
                "        {} {text}\n",
                style.cyan(&format!("why #{command_seq}:"))
            )),
            EventBody::Check { command_seq } => out.push_str(&format!(
                "        {}\n",
                style.cyan(&format!("#{command_seq} is a success check"))
            )),
            EventBody::Prereq { command_seq } => out.push_str(&format!(
                "        {}\n",
                style.cyan(&format!("#{command_seq} checks a prerequisite"))
            )),
            EventBody::Escalate { text } => {
                out.push_str(&format!("        {} {text}\n", style.yellow("escalate:")))
            }
            EventBody::Warning { text } => {
                out.push_str(&format!("        {} {text}\n", style.yellow("warning:")))
            }
            EventBody::RuleApplied { step, when, then } => out.push_str(&format!(
                "        {} in \"{step}\": {when} → {then}\n",
                style.cyan("rule applied")
            )),
            EventBody::Deviation { step, what, reason } => out.push_str(&format!(
                "        {} \"{step}\" {what}: {reason}\n",
                style.yellow("deviation:")
            )),
            EventBody::StepDone {
                title,
                status,
                duration_ms,
            } => out.push_str(&format!(
                "        {} {title}: {status} in {}\n",
                style.dim("step done:"),
                duration(*duration_ms)
            )),
            EventBody::Outcome { outcome, summary } => out.push_str(&format!(
                "\n  {} {summary}\n",
                style.bold(&format!("outcome: {outcome}"))
            )),
            EventBody::Action {
                tool,
                action,
                arguments,
                result,
                ok,
            } => {
                let mark = match ok {
                    Some(false) => style.red("failed"),
                    _ => style.green("ok"),
                };
                // Sent by an agent, not drawn by a terminal: shown, not obeyed.
                out.push_str(&format!(
                    "  {} {} {}\n",
                    style.cyan(&format!("[{}]", safe(tool))),
                    safe(action),
                    mark
                ));
                for (label, text) in [("with:", arguments), ("got:", result)] {
                    if !text.trim().is_empty() {
                        let text = safe(text);
                        let lines: Vec<&str> = text.lines().collect();
                        let shown = lines.len().min(max_lines.max(1));
                        out.push_str(&format!(
                            "        {} {}\n",
                            style.dim(label),
                            lines[..shown].join("\n        ")
                        ));
                        if lines.len() > shown {
                            out.push_str(&format!(
                                "        {}\n",
                                style.dim(&format!("… {} more lines", lines.len() - shown))
                            ));
                        }
                    }
                }
            }
            EventBody::Params { values } => {
                let list: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!(
                    "        {} {}\n",
                    style.dim("parameters:"),
                    if list.is_empty() {
                        "none".into()
                    } else {
                        list.join(", ")
                    }
                ));
            }
        }
    }
    out
}

/// An asciinema v2 cast of the run, rebuilt from what was stored: the command
/// lines and their screen text, at their recorded times. Raw bytes are never
/// stored (they would bypass redaction), so this replays what was seen, not
/// every escape code.
pub fn cast(meta: &RunMeta, events: &[Event]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_795_961_702_000), "2026-11-29 14:15:02 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn cells_keep_their_width() {
        assert_eq!(cell("deploy", 8), "deploy  ");
        assert_eq!(cell("deploy-the-web-app", 8), "deploy-…");
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("a long note", 6), "a lon…");
        assert_eq!(
            cut("\u{1b}[31mred text\u{1b}[0m", 4),
            "\u{1b}[31mred…\u{1b}[0m"
        );
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(safe("plain text\tand tab"), "plain text\tand tab");
        assert_eq!(safe("\u{1b}]0;pwned\u{7}title"), "^[]0;pwned^Gtitle");
        assert_eq!(safe("a\u{9b}31mb"), "a<U+009B>31mb");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(250), "250ms");
        assert_eq!(duration(1500), "1.5s");
        assert_eq!(duration(125_000), "2m05s");
    }
}
