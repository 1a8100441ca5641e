//! Capture: the only part of tacit that touches the terminal.
//!
//! [`session::record`] runs the user's own shell in a PTY with shell
//! integration injected ([`integration`]), passes every byte through, lifts
//! the integration's marks out of the stream ([`marks`]), renders each
//! command's output as the screen showed it ([`screen`]), asks the operator
//! about failures and risky commands ([`ask`]), and serves the in-session
//! commands of its own shell ([`control`]). Every finished command and every
//! mark goes to an [`EventSink`] the caller provides; capture itself never
//! writes to disk.
//!
//! Commands typed inside a nested program (an ssh session, a Python REPL) are
//! not seen as commands: the outer shell's hooks do not run there, so all of
//! it is output of the outer command, as the screen showed it.

pub mod ask;
pub mod control;
pub mod driven;
pub mod import;
pub mod integration;
pub mod marks;
pub mod screen;
pub mod session;
pub mod terminal;

pub use session::{EndReason, EventSink, SessionEnd, SessionOptions, record};

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("could not start the shell {program}: {message}")]
    Spawn { program: String, message: String },
}

impl CaptureError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        CaptureError::Io {
            context: context.into(),
            source,
        }
    }
}
