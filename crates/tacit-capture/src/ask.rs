//! The question tacit asks after a failure or a risky command, and the small
//! line editor that reads the answer straight from the user's keystrokes.
//!
//! The answer never reaches the shell: while a question is open the recorder
//! routes keystrokes here instead of to the PTY, and holds back the shell's
//! prompt until the question is closed. Nothing of it can leak into the next
//! command's captured output, which only starts at the next command mark.

use regex::RegexSet;
use tacit_core::{AskConfig, AskTrigger};

/// Decides whether a finished command deserves a question.
#[derive(Debug, Clone)]
pub struct AskRules {
    pub enabled: bool,
    pub ignore_exit_codes: Vec<i32>,
    risky: RegexSet,
}

impl AskRules {
    pub fn new(config: &AskConfig, risky_patterns: &[String]) -> Result<Self, regex::Error> {
        Ok(AskRules {
            enabled: config.enabled,
            ignore_exit_codes: config.ignore_exit_codes.clone(),
            risky: RegexSet::new(risky_patterns)?,
        })
    }

    /// Whether a command matches the risky patterns (`rm -rf`, `DROP`,
    /// `kubectl delete`…), whatever its exit code.
    pub fn is_risky(&self, command: &str) -> bool {
        self.risky.is_match(command)
    }

    pub fn disabled() -> Self {
        AskRules {
            enabled: false,
            ignore_exit_codes: Vec::new(),
            risky: RegexSet::empty(),
        }
    }

    pub fn trigger(&self, command: &str, exit_code: Option<i32>) -> Option<AskTrigger> {
        if !self.enabled {
            return None;
        }
        match exit_code {
            // "command not found": nothing ran, so nothing is worth asking.
            Some(127) => None,
            Some(code) if code != 0 && !self.ignore_exit_codes.contains(&code) => {
                Some(AskTrigger::Failure)
            }
            _ if self.risky.is_match(command) => Some(AskTrigger::Risky),
            _ => None,
        }
    }
}

/// The three parts of an answer, in the order they are asked.
pub const FIELDS: [&str; 3] = [
    "what did you do",
    "why (the principle)",
    "escalate when (optional)",
];

/// What feeding keystrokes to a question produced.
#[derive(Debug, PartialEq, Eq)]
pub enum QuestionStep {
    /// Still reading; nothing to report.
    Reading,
    /// The operator answered. Bytes typed after the final Enter are in
    /// `rest`, to be passed on to the shell.
    Answered {
        action: String,
        reason: String,
        escalate: Option<String>,
        rest: Vec<u8>,
    },
    /// Enter on an empty first field, Ctrl-C or Ctrl-D: no answer.
    Skipped { rest: Vec<u8> },
}

/// A question being answered: a minimal line editor over raw keystrokes.
/// It echoes what it accepts into `echo`, which the caller writes to the
/// user's terminal.
#[derive(Debug, Default)]
pub struct Question {
    answers: Vec<String>,
    line: String,
    /// Inside an escape sequence (arrow keys and the like), which is ignored.
    in_escape: bool,
    utf8: Vec<u8>,
}

impl Question {
    pub fn new() -> Self {
        Question::default()
    }

    /// The label of the field being read.
    pub fn current_field(&self) -> &'static str {
        FIELDS[self.answers.len().min(FIELDS.len() - 1)]
    }

    pub fn feed(&mut self, input: &[u8], echo: &mut Vec<u8>) -> QuestionStep {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            i += 1;
            if self.in_escape {
                // CSI/SS3 sequences end with a byte in 0x40..=0x7e after the
                // introducer; a lone ESC followed by a letter ends at once.
                if (0x40..=0x7e).contains(&b) && b != b'[' && b != b'O' {
                    self.in_escape = false;
                }
                continue;
            }
            match b {
                b'\r' | b'\n' => {
                    let line = std::mem::take(&mut self.line);
                    echo.extend_from_slice(b"\r\n");
                    if self.answers.is_empty() && line.trim().is_empty() {
                        return QuestionStep::Skipped {
                            rest: skip_lf(&input[i..]),
                        };
                    }
                    self.answers.push(line.trim().to_string());
                    if self.answers.len() == FIELDS.len() {
                        let mut parts = std::mem::take(&mut self.answers).into_iter();
                        let action = parts.next().unwrap_or_default();
                        let reason = parts.next().unwrap_or_default();
                        let escalate = parts.next().filter(|e| !e.is_empty());
                        return QuestionStep::Answered {
                            action,
                            reason,
                            escalate,
                            rest: skip_lf(&input[i..]),
                        };
                    }
                    echo.extend_from_slice(prompt_for(self.current_field()).as_bytes());
                }
                0x03 | 0x04 => {
                    echo.extend_from_slice(b"^C\r\n");
                    return QuestionStep::Skipped {
                        rest: input[i..].to_vec(),
                    };
                }
                0x7f | 0x08 => {
                    if self.line.pop().is_some() {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                }
                0x15 => {
                    // Ctrl-U: clear the line.
                    for _ in 0..self.line.chars().count() {
                        echo.extend_from_slice(b"\x08 \x08");
                    }
                    self.line.clear();
                }
                0x1b => self.in_escape = true,
                0x00..=0x1f => {}
                _ => {
                    self.utf8.push(b);
                    match std::str::from_utf8(&self.utf8) {
                        Ok(s) => {
                            self.line.push_str(s);
                            echo.extend_from_slice(&self.utf8);
                            self.utf8.clear();
                        }
                        Err(e) if e.error_len().is_some() => self.utf8.clear(),
                        Err(_) => {}
                    }
                }
            }
        }
        QuestionStep::Reading
    }
}

/// A terminal sends `\r` for Enter; a pasted `\r\n` must not leave a stray
/// newline for the shell.
fn skip_lf(rest: &[u8]) -> Vec<u8> {
    rest.strip_prefix(b"\n").unwrap_or(rest).to_vec()
}

pub fn prompt_for(field: &str) -> String {
    format!("  {field}: ")
}

/// How long after a question appears keystrokes still count as typed
/// before it was seen: a person typing ahead (the next command) must not
/// find it taken as their answer. The first field's prompt appears when this
/// has passed.
pub const ARM_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// The lines shown when a question opens; the first field's prompt follows
/// [`ARM_AFTER`] later.
pub fn header(command: &str, exit_code: Option<i32>, trigger: AskTrigger, color: bool) -> String {
    let (bold, dim, reset) = if color {
        ("\x1b[1;33m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let short: String = command.chars().take(60).collect();
    let ellipsis = if command.chars().count() > 60 {
        "…"
    } else {
        ""
    };
    let what = match trigger {
        AskTrigger::Failure => format!(
            "`{short}{ellipsis}` failed (exit {})",
            exit_code.map_or("?".to_string(), |c| c.to_string())
        ),
        AskTrigger::Risky => format!("`{short}{ellipsis}` looks risky"),
    };
    format!(
        "\r\n{bold}tacit ▸{reset} {what}.\r\n{bold}What did you do about this, and why?{reset} {dim}(Enter skips){reset}\r\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn rules() -> AskRules {
        AskRules::new(
            &AskConfig::default(),
            &tacit_core::config::DEFAULT_RISKY_PATTERNS
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[rstest]
    #[case("./deploy/migrate.sh", Some(3), Some(AskTrigger::Failure))]
    #[case("sleep 100", Some(130), None)]
    #[case("gti status", Some(127), None)]
    #[case("true", Some(0), None)]
    #[case("rm -rf build", Some(0), Some(AskTrigger::Risky))]
    #[case("systemctl restart nginx", Some(0), Some(AskTrigger::Risky))]
    #[case("ls", None, None)]
    // Destructive commands ask even when they succeed.
    #[case("rm old.log", Some(0), Some(AskTrigger::Risky))]
    #[case("sudo rm -f /var/log/app/*.gz", Some(0), Some(AskTrigger::Risky))]
    #[case("truncate -s 0 app.log", Some(0), Some(AskTrigger::Risky))]
    #[case("kill 4242", Some(0), Some(AskTrigger::Risky))]
    #[case("pkill -f worker", Some(0), Some(AskTrigger::Risky))]
    #[case("psql -c \"DROP TABLE orders\"", Some(0), Some(AskTrigger::Risky))]
    #[case("psql -c 'TRUNCATE orders'", Some(0), Some(AskTrigger::Risky))]
    #[case("psql -c \"DELETE FROM orders\"", Some(0), Some(AskTrigger::Risky))]
    #[case("psql -c \"DELETE FROM orders;\"", Some(0), Some(AskTrigger::Risky))]
    #[case("git reset --hard origin/main", Some(0), Some(AskTrigger::Risky))]
    #[case("git clean -fdx", Some(0), Some(AskTrigger::Risky))]
    #[case("dd if=/dev/zero of=/dev/sdb bs=1M", Some(0), Some(AskTrigger::Risky))]
    #[case("mkfs.ext4 /dev/sdb1", Some(0), Some(AskTrigger::Risky))]
    #[case("chmod -R 750 /var/log/app", Some(0), Some(AskTrigger::Risky))]
    #[case("sudo chown -R app:app /srv", Some(0), Some(AskTrigger::Risky))]
    // Look-alikes that change nothing dangerous.
    #[case("psql -c \"DELETE FROM orders WHERE id = 4\"", Some(0), None)]
    #[case("chmod 600 key.pem", Some(0), None)]
    #[case("git clean -n", Some(0), None)]
    #[case("grep -r rm scripts", Some(0), None)]
    #[case("docker rmi old", Some(0), None)]
    #[case("./bin/killswitch status", Some(0), None)]
    // A typo never asks, risky or not.
    #[case("sudo rm -rf build", Some(127), None)]
    fn triggers(#[case] cmd: &str, #[case] exit: Option<i32>, #[case] want: Option<AskTrigger>) {
        assert_eq!(rules().trigger(cmd, exit), want);
    }

    #[test]
    fn disabled_rules_never_ask() {
        assert_eq!(AskRules::disabled().trigger("rm -rf /", Some(1)), None);
    }

    #[test]
    fn three_fields_are_read_and_typeahead_is_returned() {
        let mut q = Question::new();
        let mut echo = Vec::new();
        assert_eq!(
            q.feed(b"remove stale lock\r", &mut echo),
            QuestionStep::Reading
        );
        assert_eq!(q.current_field(), FIELDS[1]);
        assert_eq!(
            q.feed(b"crashed runs leave locks\r", &mut echo),
            QuestionStep::Reading
        );
        assert_eq!(
            q.feed(b"\rls\r", &mut echo),
            QuestionStep::Answered {
                action: "remove stale lock".into(),
                reason: "crashed runs leave locks".into(),
                escalate: None,
                rest: b"ls\r".to_vec()
            }
        );
        let shown = String::from_utf8_lossy(&echo);
        assert!(shown.contains("remove stale lock"));
        assert!(shown.contains(FIELDS[1]));
    }

    #[test]
    fn enter_on_the_first_field_skips() {
        let mut q = Question::new();
        assert_eq!(
            q.feed(b"\r\n", &mut Vec::new()),
            QuestionStep::Skipped { rest: vec![] }
        );
    }

    #[test]
    fn editing_keys_and_arrow_keys_are_handled() {
        let mut q = Question::new();
        let step = q.feed(
            "héllo\x1b[A\x7f\x7fo wörld\x15again\rr\r\r".as_bytes(),
            &mut Vec::new(),
        );
        let QuestionStep::Answered { action, .. } = step else {
            panic!("{step:?}")
        };
        assert_eq!(action, "again");
        let mut q = Question::new();
        let step = q.feed(
            "héllo\x1b[A\x7f\x7fo wörld\rr\r\r".as_bytes(),
            &mut Vec::new(),
        );
        let QuestionStep::Answered { action, .. } = step else {
            panic!("{step:?}")
        };
        assert_eq!(action, "hélo wörld");
    }

    #[test]
    fn ctrl_c_skips_and_keeps_what_follows() {
        let mut q = Question::new();
        assert_eq!(
            q.feed(b"abc\x03echo hi", &mut Vec::new()),
            QuestionStep::Skipped {
                rest: b"echo hi".to_vec()
            }
        );
    }

    #[test]
    fn multibyte_characters_split_across_reads_survive() {
        let mut q = Question::new();
        let bytes = "ü\r".as_bytes();
        q.feed(&bytes[..1], &mut Vec::new());
        q.feed(&bytes[1..], &mut Vec::new());
        q.feed(b"r\r", &mut Vec::new());
        let QuestionStep::Answered { action, .. } = q.feed(b"\r", &mut Vec::new()) else {
            panic!()
        };
        assert_eq!(action, "ü");
    }
}
