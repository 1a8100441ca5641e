//! A program running in a real PTY, seen as a person at a terminal sees it.
//! The end-to-end tests and the corpus recorder both drive `tacit` with it.
//!
//! The reader thread wakes waiters through a condition variable instead of
//! polling, so several PTY tests can run at once on a small CI machine.

use std::io::{Read, Write};
use std::process::ExitStatus;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long a single expectation waits by default.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The prompt the test worlds' rc files set, in bash, zsh and fish alike.
pub const PROMPT: &str = "tacit-e2e$ ";

struct Shared {
    bytes: Mutex<(Vec<u8>, bool)>,
    grew: Condvar,
}

/// A program running in a PTY, seen as a person would see it.
pub struct Term {
    pty: Arc<pty_process::blocking::Pty>,
    pub child: std::process::Child,
    shared: Arc<Shared>,
    /// Everything before this offset has been matched already.
    pos: usize,
    pub run_id: String,
}

impl Term {
    pub fn spawn(cmd: pty_process::blocking::Command) -> Term {
        let (pty, pts) = pty_process::blocking::open().unwrap();
        pty.resize(pty_process::Size::new(30, 120)).unwrap();
        let child = cmd.spawn(pts).unwrap();
        let pty = Arc::new(pty);
        let shared = Arc::new(Shared {
            bytes: Mutex::new((Vec::new(), false)),
            grew: Condvar::new(),
        });
        let (reader, sink) = (pty.clone(), shared.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 16384];
            loop {
                match (&*reader).read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut g = sink.bytes.lock().unwrap_or_else(|p| p.into_inner());
                        g.0.extend_from_slice(&buf[..n]);
                        sink.grew.notify_all();
                    }
                }
            }
            sink.bytes.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
            sink.grew.notify_all();
        });
        Term {
            pty,
            child,
            shared,
            pos: 0,
            run_id: String::new(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits until `needle` appears after what was matched before.
    pub fn expect(&mut self, needle: &str) {
        self.expect_within(needle, TIMEOUT)
    }

    pub fn expect_within(&mut self, needle: &str, timeout: Duration) {
        self.expect_any_within(&[needle], timeout);
    }

    /// Waits until one of `needles` appears after what was matched before;
    /// returns which one came first.
    pub fn expect_any(&mut self, needles: &[&str]) -> usize {
        self.expect_any_within(needles, TIMEOUT)
    }

    pub fn expect_any_within(&mut self, needles: &[&str], timeout: Duration) -> usize {
        self.try_expect_any(needles, timeout)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Term::expect_any`], but a timeout or the program's end is an
    /// error to handle, not a panic.
    pub fn try_expect_any(&mut self, needles: &[&str], timeout: Duration) -> Result<usize, String> {
        let deadline = Instant::now() + timeout;
        let longest = needles.iter().map(|n| n.len()).max().unwrap_or(1).max(1);
        let mut g = self.shared.bytes.lock().unwrap();
        // Only new bytes are searched on each wake-up, so a program printing
        // megabytes costs linear time, not quadratic.
        let mut from = self.pos;
        loop {
            let hit = needles
                .iter()
                .enumerate()
                .filter_map(|(k, n)| find(&g.0[from..], n.as_bytes()).map(|at| (at, k)))
                .min();
            if let Some((at, k)) = hit {
                self.pos = from + at + needles[k].len();
                return Ok(k);
            }
            from = g.0.len().saturating_sub(longest - 1).max(self.pos);
            let now = Instant::now();
            if g.1 || now >= deadline {
                let tail_start = g.0.len().saturating_sub(2000);
                return Err(format!(
                    "expected {needles:?} ({}); the terminal's last output was:\n{}",
                    if g.1 {
                        "the program ended"
                    } else {
                        "timed out"
                    },
                    String::from_utf8_lossy(&g.0[tail_start..])
                ));
            }
            g = self.shared.grew.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    pub fn send(&mut self, bytes: &str) {
        (&*self.pty).write_all(bytes.as_bytes()).unwrap();
    }

    /// Types a line and presses Enter.
    pub fn line(&mut self, text: &str) {
        self.send(text);
        self.send("\r");
    }

    /// Types a command and waits for the next prompt. The echo is not
    /// matched: fish highlights as you type, splitting it with escapes.
    pub fn run(&mut self, command: &str) {
        self.line(command);
        self.expect(PROMPT);
    }

    /// Resizes the terminal, as dragging the window would.
    pub fn resize(&self, rows: u16, cols: u16) {
        self.pty.resize(pty_process::Size::new(rows, cols)).unwrap();
    }

    /// Whether the terminal is in canonical (cooked) mode with echo on, as a
    /// shell leaves it between commands. Raw mode turns both off.
    pub fn is_cooked(&self) -> bool {
        let t = rustix::termios::tcgetattr(&*self.pty).unwrap();
        t.local_modes.contains(rustix::termios::LocalModes::ICANON)
            && t.local_modes.contains(rustix::termios::LocalModes::ECHO)
    }

    /// Everything the program printed so far.
    pub fn all_output(&self) -> Vec<u8> {
        self.shared.bytes.lock().unwrap().0.clone()
    }

    /// The screen a person would be looking at now.
    pub fn screen(&self) -> String {
        let mut p = vt100::Parser::new(
            std::num::NonZeroU16::new(30).unwrap(),
            std::num::NonZeroU16::new(120).unwrap(),
            0,
        );
        p.process(&self.all_output());
        p.screen().contents()
    }

    /// Waits for the program to end.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "tacit did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}
