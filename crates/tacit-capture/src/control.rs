//! The in-session commands (`tacit note`, `tacit step`, …) talk to the
//! recorder of their own shell over a Unix socket named in `TACIT_SOCKET`.
//! Each shell has its own socket, so two recordings in two terminals never
//! mix. The protocol is one JSON request line and one JSON response line.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Environment variable that points an in-session command at its recorder.
pub const SOCKET_ENV: &str = "TACIT_SOCKET";
pub const RUN_ID_ENV: &str = "TACIT_RUN_ID";
pub const RUN_NAME_ENV: &str = "TACIT_RUN_NAME";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Note { text: String },
    Step { title: String },
    Why { text: String },
    Check,
    Prereq,
    Escalate { text: String },
    Status,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    pub message: String,
}

impl Response {
    pub fn ok(message: impl Into<String>) -> Self {
        Response {
            ok: true,
            message: message.into(),
        }
    }
    pub fn err(message: impl Into<String>) -> Self {
        Response {
            ok: false,
            message: message.into(),
        }
    }
}

/// Sends one request to the recorder listening at `socket`.
pub fn send(socket: &Path, request: &Request) -> std::io::Result<Response> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut line = serde_json::to_vec(request).map_err(std::io::Error::other)?;
    line.push(b'\n');
    stream.write_all(&line)?;
    let mut reader = BufReader::new(stream);
    let mut answer = String::new();
    reader.read_line(&mut answer)?;
    serde_json::from_str(&answer).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("recorder sent a malformed reply: {e}"),
        )
    })
}

/// In-session subcommands: their command lines are markers, not work, and
/// are left out of the run.
pub const IN_SESSION_SUBCOMMANDS: &[&str] = &[
    "note", "step", "why", "check", "prereq", "escalate", "status",
];

/// Whether a command line is an in-session `tacit` command.
pub fn is_in_session_command(command: &str) -> bool {
    let mut words = command.split_whitespace();
    let first = words.next().unwrap_or("");
    let program = first.rsplit('/').next().unwrap_or(first);
    program == "tacit"
        && words
            .next()
            .is_some_and(|w| IN_SESSION_SUBCOMMANDS.contains(&w))
}

/// Whether a command line ends the shell (`exit`, `logout`). fish reports
/// these as finished commands before it exits; they are not work.
pub fn is_session_end(command: &str) -> bool {
    let mut words = command.split_whitespace();
    matches!(words.next(), Some("exit" | "logout"))
        && words.next().is_none_or(|w| w.parse::<i32>().is_ok())
        && words.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_and_logout_end_the_session() {
        assert!(is_session_end("exit"));
        assert!(is_session_end(" exit 3 "));
        assert!(is_session_end("logout"));
        assert!(!is_session_end("exit-code-check"));
        assert!(!is_session_end("exit foo bar"));
    }

    #[test]
    fn in_session_commands_are_recognised() {
        assert!(is_in_session_command("tacit note 'hello'"));
        assert!(is_in_session_command("  /usr/local/bin/tacit step Build"));
        assert!(!is_in_session_command("tacit runs"));
        assert!(!is_in_session_command("echo tacit note"));
        assert!(!is_in_session_command("tacitx note"));
    }

    #[test]
    fn requests_are_one_json_line() {
        let j = serde_json::to_string(&Request::Why { text: "x".into() }).unwrap();
        assert_eq!(j, r#"{"op":"why","text":"x"}"#);
    }
}
