//! The commands used inside a recording. Each talks to the recorder of its
//! own shell through `TACIT_SOCKET`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use tacit_capture::control::{self, Request};

/// Exit code for an in-session command run outside a recording.
pub const NOT_RECORDING: u8 = 3;
/// Exit code when the recorder did not answer.
pub const UNREACHABLE: u8 = 4;

fn send(request: Request) -> Result<ExitCode> {
    let Some(socket) = std::env::var_os(control::SOCKET_ENV).map(PathBuf::from) else {
        eprintln!(
            "tacit: not inside a recording. Start one with `tacit record NAME`, then run this there."
        );
        return Ok(ExitCode::from(NOT_RECORDING));
    };
    match control::send(&socket, &request) {
        Ok(r) if r.ok => {
            println!("{}", r.message);
            Ok(ExitCode::SUCCESS)
        }
        Ok(r) => {
            eprintln!("tacit: {}", r.message);
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!(
                "tacit: the recorder of this shell did not answer ({e}). The recording may have ended; your shell is unaffected."
            );
            Ok(ExitCode::from(UNREACHABLE))
        }
    }
}

pub fn note(text: String) -> Result<ExitCode> {
    send(Request::Note { text })
}
pub fn step(title: String) -> Result<ExitCode> {
    send(Request::Step { title })
}
pub fn why(text: String) -> Result<ExitCode> {
    send(Request::Why { text })
}
pub fn check() -> Result<ExitCode> {
    send(Request::Check)
}
pub fn prereq() -> Result<ExitCode> {
    send(Request::Prereq)
}
pub fn escalate(text: String) -> Result<ExitCode> {
    send(Request::Escalate { text })
}

/// The run so far, from the recorder of this shell.
pub fn status() -> Result<ExitCode> {
    send(Request::Status)
}
