//! A shell driven by tacit instead of a person: the runner's persistent
//! shell. It is the same shell, integration and capture as a recording
//! (`cd` and exported variables carry from one command to the next), but the
//! commands come from the procedure and tacit waits for each one's marks.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tacit_core::now_ms;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::CaptureError;
use crate::integration::{self, ShellKind, ShellLaunch};
use crate::marks::{Mark, MarkScanner, Piece};
use crate::screen::OutputBuffer;

pub struct DrivenOptions {
    pub kind: ShellKind,
    pub program: PathBuf,
    pub cwd: PathBuf,
    /// Private folder for the integration files.
    pub runtime_dir: PathBuf,
    pub session_id: String,
    pub tacit_exe: PathBuf,
    pub env: Vec<(OsString, OsString)>,
    pub cols: u16,
    pub rows: u16,
    pub max_output_bytes: usize,
}

/// What one command did.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutcome {
    pub command: String,
    pub cwd: String,
    pub exit_code: Option<i32>,
    pub output: String,
    pub output_bytes: u64,
    pub output_dropped_bytes: u64,
    pub started_at_ms: i64,
    pub duration_ms: i64,
}

pub struct DrivenShell {
    read: pty_process::OwnedReadPty,
    write: pty_process::OwnedWritePty,
    child: tokio::process::Child,
    scanner: MarkScanner,
    launch: ShellLaunch,
    session_dir: PathBuf,
    kind: ShellKind,
    scripts: u32,
    cols: u16,
    max_output: usize,
    cwd: String,
    /// Pieces read but not yet handed out.
    backlog: std::collections::VecDeque<Seen>,
}

/// Marks and output seen while waiting.
enum Seen {
    Output(Vec<u8>),
    Mark(Mark),
}

impl DrivenShell {
    /// Starts the shell and waits for its first prompt.
    pub async fn start(opts: DrivenOptions) -> Result<DrivenShell, CaptureError> {
        let integration::Session {
            nonce,
            dir: session_dir,
            launch,
        } = integration::prepare_session(
            opts.kind,
            &opts.program,
            &opts.runtime_dir,
            &opts.session_id,
            &opts.tacit_exe,
        )?;
        let (pty, child) = launch.spawn(&opts.cwd, &opts.env, (opts.cols, opts.rows))?;
        let (read, write) = pty.into_split();
        let mut shell = DrivenShell {
            read,
            write,
            child,
            scanner: MarkScanner::new(&nonce),
            launch,
            session_dir,
            kind: opts.kind,
            scripts: 0,
            cols: opts.cols,
            max_output: opts.max_output_bytes,
            cwd: opts.cwd.display().to_string(),
            backlog: std::collections::VecDeque::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let seen = match shell.backlog.pop_front() {
                Some(s) => Some(s),
                None => shell.next(deadline).await?,
            };
            if let Some(Seen::Mark(Mark::PromptStart { cwd })) = seen {
                if let Some(c) = cwd {
                    shell.cwd = c;
                }
                break;
            }
            if seen.is_none() {
                return Err(CaptureError::Spawn {
                    program: opts.program.display().to_string(),
                    message: "the shell ended before its first prompt".into(),
                });
            }
        }
        Ok(shell)
    }

    /// The shell's current folder, as of its last prompt.
    pub fn cwd(&self) -> &str {
        &self.cwd
    }

    /// Reads until something is seen; `None` at end of output.
    async fn next(&mut self, deadline: Instant) -> Result<Option<Seen>, CaptureError> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let n = match tokio::time::timeout(remaining, self.read.read(&mut buf)).await {
                Err(_) => {
                    return Err(CaptureError::io(
                        "waiting for the shell",
                        std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "the shell did not answer in time",
                        ),
                    ));
                }
                Ok(Ok(0)) | Ok(Err(_)) => return Ok(None),
                Ok(Ok(n)) => n,
            };
            let mut seen = Vec::new();
            self.scanner.feed(&buf[..n], &mut |p| match p {
                Piece::Output(b) => seen.push(Seen::Output(b.to_vec())),
                Piece::Mark(m) => seen.push(Seen::Mark(m)),
            });
            if !seen.is_empty() {
                // Pieces come back one at a time; keep the rest for later.
                let mut it = seen.into_iter();
                let first = it.next();
                self.backlog.extend(it);
                return Ok(first);
            }
        }
    }

    /// Runs one command line and waits until it finishes and the shell is
    /// back at its prompt. `echo` sees the command's output as it arrives.
    pub async fn run(
        &mut self,
        command: &str,
        echo: &mut dyn FnMut(&[u8]),
        timeout: Duration,
    ) -> Result<CommandOutcome, CaptureError> {
        self.run_with_input(command, echo, timeout, false).await
    }

    /// Like [`DrivenShell::run`]; with `forward_input` and a terminal on
    /// stdin, the operator's keystrokes reach the command while it runs (the
    /// terminal is raw for that time), so a command that asks something can
    /// be answered.
    pub async fn run_with_input(
        &mut self,
        command: &str,
        echo: &mut dyn FnMut(&[u8]),
        timeout: Duration,
        forward_input: bool,
    ) -> Result<CommandOutcome, CaptureError> {
        if command.trim_end().contains('\n') {
            return self.run_script(command, echo, timeout, forward_input).await;
        }
        self.run_line(command, echo, timeout, forward_input).await
    }

    /// Gives the shell's PTY the size of the operator's terminal.
    fn follow_terminal_size(&mut self) {
        if let Some((cols, rows)) = crate::terminal::size()
            && self
                .write
                .resize(pty_process::Size::new(rows, cols))
                .is_ok()
        {
            self.cols = cols;
        }
    }

    /// A command of several lines (a heredoc, a loop, a quoted newline) as
    /// one unit: typed line by line, the shell would stop at a continuation
    /// prompt, and a line that never ends would leave it waiting forever.
    /// It is written to a script in the session folder and sourced, so the
    /// shell reads it whole, changes its folder and variables as if typed,
    /// and reports one start and one end. fish cannot read POSIX syntax:
    /// there the script runs in bash (or sh), in a child process.
    pub async fn run_script(
        &mut self,
        command: &str,
        echo: &mut dyn FnMut(&[u8]),
        timeout: Duration,
        forward_input: bool,
    ) -> Result<CommandOutcome, CaptureError> {
        self.scripts += 1;
        let path = self
            .session_dir
            .join(format!("command-{}.sh", self.scripts));
        let mut text = command.trim_end().to_string();
        text.push('\n');
        // Owner-only: a filled-in command may hold a secret.
        integration::write_private(&path, &text)?;
        let quoted = format!("'{}'", path.display().to_string().replace('\'', "'\\''"));
        let line = match self.kind {
            ShellKind::Bash | ShellKind::Zsh => format!(". {quoted}"),
            ShellKind::Fish => {
                let posix = if integration::find_program("bash").is_some() {
                    "bash"
                } else {
                    "sh"
                };
                format!("{posix} {quoted}")
            }
        };
        let result = self.run_line(&line, echo, timeout, forward_input).await;
        let _ = std::fs::remove_file(&path);
        let mut outcome = result?;
        outcome.command = command.to_string();
        Ok(outcome)
    }

    async fn run_line(
        &mut self,
        command: &str,
        echo: &mut dyn FnMut(&[u8]),
        timeout: Duration,
        forward_input: bool,
    ) -> Result<CommandOutcome, CaptureError> {
        let deadline = Instant::now() + timeout;
        let mut input = if forward_input && crate::terminal::stdin_is_tty() {
            StdinPassThrough::start().ok()
        } else {
            None
        };
        // The step's terminal is the operator's: its size now, and again
        // whenever the window changes while the command runs (vim and less
        // fill the screen).
        let mut winch = if input.is_some() {
            self.follow_terminal_size();
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()).ok()
        } else {
            None
        };
        let mut line = command.trim_end().as_bytes().to_vec();
        line.push(b'\r');
        self.write
            .write_all(&line)
            .await
            .map_err(|e| CaptureError::io("typing into the shell", e))?;
        let mut output: Option<OutputBuffer> = None;
        let mut started = (now_ms(), Instant::now());
        let mut cwd = self.cwd.clone();
        let mut exit: Option<Option<i32>> = None;
        loop {
            let seen = match self.pop_backlog() {
                Some(s) => Some(s),
                None => match &input {
                    Some(pass) => {
                        let resized = async {
                            match winch.as_mut() {
                                Some(w) => w.recv().await,
                                None => std::future::pending().await,
                            }
                        };
                        let got = tokio::select! {
                            biased;
                            _ = resized => Err(None),
                            bytes = pass.read() => Err(Some(bytes)),
                            seen = self.next(deadline) => Ok(seen?),
                        };
                        match got {
                            Ok(seen) => seen,
                            Err(None) => {
                                self.follow_terminal_size();
                                continue;
                            }
                            Err(Some(bytes)) => {
                                // End of input, or a shell that stopped
                                // reading: stop passing keys through.
                                if bytes.is_empty() || self.write.write_all(&bytes).await.is_err() {
                                    input = None;
                                }
                                continue;
                            }
                        }
                    }
                    None => self.next(deadline).await?,
                },
            };
            match seen {
                None => {
                    return Err(CaptureError::io(
                        "running a command",
                        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the shell exited"),
                    ));
                }
                Some(Seen::Mark(Mark::CommandStart { cwd: c, .. })) => {
                    output = Some(OutputBuffer::new(self.max_output));
                    started = (now_ms(), Instant::now());
                    if !c.is_empty() {
                        cwd = c;
                    }
                }
                Some(Seen::Output(b)) => {
                    if let Some(out) = &mut output {
                        out.push(&b);
                        if exit.is_none() {
                            echo(&b);
                        }
                    }
                }
                Some(Seen::Mark(Mark::CommandEnd { exit_code })) => {
                    if output.is_some() {
                        exit = Some(exit_code);
                    }
                }
                Some(Seen::Mark(Mark::PromptStart { cwd: c })) => {
                    if let Some(c) = c {
                        self.cwd = c;
                    }
                    if let (Some(code), Some(out)) = (exit, &output) {
                        let (text, dropped) = out.render(self.cols);
                        return Ok(CommandOutcome {
                            command: command.to_string(),
                            cwd,
                            exit_code: code,
                            output: text,
                            output_bytes: out.total_bytes(),
                            output_dropped_bytes: dropped,
                            started_at_ms: started.0,
                            duration_ms: started.1.elapsed().as_millis() as i64,
                        });
                    }
                }
            }
        }
    }

    fn pop_backlog(&mut self) -> Option<Seen> {
        self.backlog.pop_front()
    }

    /// Ends the shell and removes the integration files.
    pub async fn close(mut self) {
        let _ = self.write.write_all(b"exit\r").await;
        if tokio::time::timeout(Duration::from_secs(3), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
        self.launch.cleanup();
        let _ = std::fs::remove_dir(&self.session_dir);
    }
}

/// Stdin, raw and non-blocking, for the time one command runs. Everything is
/// put back when it is dropped: stdin's file description is shared with the
/// user's own shell.
struct StdinPassThrough {
    fd: tokio::io::unix::AsyncFd<std::os::fd::BorrowedFd<'static>>,
    flags: rustix::fs::OFlags,
    _raw: crate::terminal::RawGuard,
}

impl StdinPassThrough {
    fn start() -> std::io::Result<StdinPassThrough> {
        let stdin = rustix::stdio::stdin();
        let flags = rustix::fs::fcntl_getfl(stdin)?;
        let raw = crate::terminal::RawGuard::enter()?;
        rustix::fs::fcntl_setfl(stdin, flags | rustix::fs::OFlags::NONBLOCK)?;
        // SAFETY: fd 0 stays open, and is fd 0, for the life of the process,
        // so it outlives this registration.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(0) };
        match unsafe { tokio::io::unix::AsyncFd::register(borrowed) } {
            Ok(fd) => Ok(StdinPassThrough {
                fd,
                flags,
                _raw: raw,
            }),
            Err(e) => {
                let _ = rustix::fs::fcntl_setfl(stdin, flags);
                Err(std::io::Error::other(e.to_string()))
            }
        }
    }

    /// The next keystrokes; empty at end of input.
    async fn read(&self) -> Vec<u8> {
        let mut buf = [0u8; 4096];
        loop {
            let Ok(mut guard) = self.fd.readable().await else {
                return Vec::new();
            };
            match guard
                .try_io(|fd| rustix::io::read(fd.get_ref(), &mut buf).map_err(std::io::Error::from))
            {
                Ok(Ok(n)) => return buf[..n].to_vec(),
                Ok(Err(_)) => return Vec::new(),
                Err(_would_block) => continue,
            }
        }
    }
}

impl Drop for StdinPassThrough {
    fn drop(&mut self) {
        let _ = rustix::fs::fcntl_setfl(rustix::stdio::stdin(), self.flags);
    }
}
