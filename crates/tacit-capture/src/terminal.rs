//! The user's terminal: raw mode on the way in, restored on every way out.
//!
//! Restoration happens in `Drop`, in a panic hook, and on the signal paths of
//! the session loop. Only SIGKILL can skip it, and then the user's own shell
//! resets the line discipline at its next prompt.

use std::os::fd::BorrowedFd;
use std::sync::Mutex;

use rustix::termios::{self, OptionalActions, Termios};

static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

fn stdin_fd() -> BorrowedFd<'static> {
    // SAFETY: fd 0 stays open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(0) }
}

pub fn stdin_is_tty() -> bool {
    termios::isatty(stdin_fd())
}

/// The terminal's size as (cols, rows), if stdin is a terminal.
pub fn size() -> Option<(u16, u16)> {
    let ws = termios::tcgetwinsize(stdin_fd()).ok()?;
    (ws.ws_col > 0 && ws.ws_row > 0).then_some((ws.ws_col, ws.ws_row))
}

/// Puts the terminal in raw mode until the guard is dropped. Does nothing
/// when stdin is not a terminal (a pipe in a benchmark or a script).
pub struct RawGuard {
    active: bool,
}

impl RawGuard {
    pub fn enter() -> std::io::Result<RawGuard> {
        if !stdin_is_tty() {
            return Ok(RawGuard { active: false });
        }
        let original = termios::tcgetattr(stdin_fd())?;
        let mut raw = original.clone();
        raw.make_raw();
        *SAVED.lock().unwrap_or_else(|p| p.into_inner()) = Some(original);
        install_panic_hook();
        // `Now`, not `Flush`: keys typed ahead are kept for the program.
        termios::tcsetattr(stdin_fd(), OptionalActions::Now, &raw)?;
        Ok(RawGuard { active: true })
    }
}

impl Drop for RawGuard {
    fn drop(&mut self) {
        if self.active {
            restore();
        }
    }
}

/// Puts back the terminal settings saved by [`RawGuard::enter`].
pub fn restore() {
    let saved = SAVED.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(t) = saved {
        let _ = termios::tcsetattr(stdin_fd(), OptionalActions::Now, &t);
    }
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
