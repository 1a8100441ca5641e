//! One recording session: the select loop between the user's terminal, the
//! shell's PTY, signals and the control socket.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tacit_core::{Answer, AskTrigger, CommandRecord, EventBody, now_ms};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};

use crate::ask::{self, AskRules, Question, QuestionStep};
use crate::control::{self, Request, Response};
use crate::integration::{self, ShellKind};
use crate::marks::{Mark, MarkScanner, Piece};
use crate::screen::OutputBuffer;
use crate::{CaptureError, terminal};

/// Where finished commands and marks go. Capture never writes to disk itself;
/// the caller journals, redacts and stores.
pub trait EventSink {
    /// Stores one event. Must not fail: a storage problem comes back as a
    /// notice for the operator, and recording goes on.
    fn record(&mut self, body: EventBody) -> Recorded;
}

/// The outcome of [`EventSink::record`].
#[derive(Debug, Clone)]
pub struct Recorded {
    pub seq: u64,
    /// Shown to the operator on the terminal (e.g. "the disk is full").
    pub notice: Option<String>,
}

pub struct SessionOptions {
    pub kind: ShellKind,
    pub program: PathBuf,
    pub cwd: PathBuf,
    pub run_id: String,
    pub run_name: String,
    /// A private folder for this user's sessions (sockets, rc files).
    pub runtime_dir: PathBuf,
    /// The `tacit` binary the in-session commands run.
    pub tacit_exe: PathBuf,
    pub ask: AskRules,
    pub max_output_bytes: usize,
    pub color: bool,
    pub extra_env: Vec<(OsString, OsString)>,
    /// Terminal size to use when stdin is not a terminal.
    pub fallback_size: (u16, u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// `exit` or Ctrl-D: the normal end.
    ShellExited(Option<i32>),
    /// The terminal went away (SIGHUP).
    Hangup,
    /// SIGTERM or SIGINT to the recorder.
    Terminated,
}

#[derive(Debug, Clone)]
pub struct SessionEnd {
    pub reason: EndReason,
    pub commands: u64,
    pub failures: u64,
    pub answers: u64,
    pub marks: u64,
}

struct Running {
    command: String,
    cwd: String,
    started_ms: i64,
    started: Instant,
    output: OutputBuffer,
}

enum Held {
    Output(Vec<u8>),
    Mark(Mark),
}

struct Asking {
    question: Question,
    command_seq: u64,
    trigger: AskTrigger,
    held: Vec<Held>,
    /// When the question appeared; it takes keystrokes as its answer only
    /// from [`ask::ARM_AFTER`] later.
    opened: tokio::time::Instant,
    armed: bool,
    /// Keystrokes that arrived before it was armed: typed ahead for the
    /// shell, and given to it when the question closes.
    typeahead: Vec<u8>,
}

/// Everything the loop knows between events.
struct Recorder<'s> {
    sink: &'s mut dyn EventSink,
    out: std::fs::File,
    rules: AskRules,
    color: bool,
    max_output: usize,
    cols: u16,
    run_name: String,
    run_id: String,
    running: Option<Running>,
    asking: Option<Asking>,
    last_command: Option<(u64, String)>,
    step: Option<String>,
    end: SessionEnd,
}

impl Recorder<'_> {
    fn write_out(&mut self, bytes: &[u8]) {
        // A terminal that went away shows up as SIGHUP; a write error alone
        // must not stop the recording.
        let _ = self.out.write_all(bytes);
    }

    fn record(&mut self, body: EventBody) -> u64 {
        let r = self.sink.record(body);
        if let Some(notice) = r.notice {
            let line = format!("\r\n\x1b[1mtacit:\x1b[0m {notice}\r\n");
            let line = if self.color { line } else { strip_sgr(&line) };
            self.write_out(line.as_bytes());
        }
        r.seq
    }

    fn on_piece(&mut self, piece: Piece<'_>) {
        if let Some(asking) = &mut self.asking {
            asking.held.push(match piece {
                Piece::Output(b) => Held::Output(b.to_vec()),
                Piece::Mark(m) => Held::Mark(m),
            });
            return;
        }
        match piece {
            Piece::Output(b) => {
                self.write_out(b);
                if let Some(run) = &mut self.running {
                    run.output.push(b);
                }
            }
            Piece::Mark(mark) => self.on_mark(mark),
        }
    }

    fn on_mark(&mut self, mark: Mark) {
        match mark {
            Mark::CommandStart { command, cwd } => {
                self.running = (!command.trim().is_empty()).then(|| Running {
                    command,
                    cwd,
                    started_ms: now_ms(),
                    started: Instant::now(),
                    output: OutputBuffer::new(self.max_output),
                });
            }
            Mark::CommandEnd { exit_code } => {
                if let Some(run) = self.running.take() {
                    self.finish(run, exit_code);
                }
            }
            Mark::PromptStart { .. } => {}
        }
    }

    fn finish(&mut self, run: Running, exit_code: Option<i32>) {
        if control::is_in_session_command(&run.command) || control::is_session_end(&run.command) {
            return;
        }
        // A leading space asks to keep the command out of history: it is
        // kept out of the record, with its output.
        let private = run.command.starts_with([' ', '\t']);
        let (output, dropped) = if private {
            (String::new(), run.output.total_bytes())
        } else {
            run.output.render(self.cols)
        };
        let command = if private {
            tacit_core::UNRECORDED_COMMAND.to_string()
        } else {
            run.command.clone()
        };
        let record = CommandRecord {
            command: command.clone(),
            cwd: run.cwd,
            started_at_ms: run.started_ms,
            duration_ms: run.started.elapsed().as_millis() as i64,
            exit_code,
            output,
            output_bytes: run.output.total_bytes(),
            output_dropped_bytes: dropped,
            full_screen: run.output.used_alt_screen(),
        };
        let seq = self.record(EventBody::Command(record));
        self.end.commands += 1;
        // A job stopped with Ctrl-Z (128 + a stop signal) did not fail.
        if exit_code.is_some_and(|c| c != 0 && !(147..=150).contains(&c)) {
            self.end.failures += 1;
        }
        self.last_command = Some((seq, command));
        if private {
            return;
        }
        if let Some(trigger) = self.rules.trigger(&run.command, exit_code) {
            let header = ask::header(&run.command, exit_code, trigger, self.color);
            self.write_out(header.as_bytes());
            self.asking = Some(Asking {
                question: Question::new(),
                command_seq: seq,
                trigger,
                held: Vec::new(),
                opened: tokio::time::Instant::now(),
                armed: false,
                typeahead: Vec::new(),
            });
        }
    }

    /// When an open question starts taking keystrokes as its answer.
    fn arm_at(&self) -> Option<tokio::time::Instant> {
        self.asking
            .as_ref()
            .filter(|a| !a.armed)
            .map(|a| a.opened + ask::ARM_AFTER)
    }

    /// The question is now seen: show its first field.
    fn arm(&mut self) {
        let Some(asking) = &mut self.asking else {
            return;
        };
        asking.armed = true;
        let mut shown = String::new();
        if !asking.typeahead.is_empty() {
            shown.push_str(
                "  (what you typed before this question goes to your shell after it)\r\n",
            );
        }
        shown.push_str(&ask::prompt_for(ask::FIELDS[0]));
        self.write_out(shown.as_bytes());
    }

    /// Keystrokes from the user. Returns the bytes meant for the shell.
    fn on_input(&mut self, bytes: Vec<u8>) -> Vec<u8> {
        let Some(asking) = &mut self.asking else {
            return bytes;
        };
        if !asking.armed {
            asking.typeahead.extend_from_slice(&bytes);
            return Vec::new();
        }
        let mut echo = Vec::new();
        let step = asking.question.feed(&bytes, &mut echo);
        let (command_seq, trigger) = (asking.command_seq, asking.trigger);
        self.write_out(&echo);
        let rest = match step {
            QuestionStep::Reading => return Vec::new(),
            QuestionStep::Skipped { rest } => {
                self.write_out(b"  (skipped)\r\n");
                rest
            }
            QuestionStep::Answered {
                action,
                reason,
                escalate,
                rest,
            } => {
                self.record(EventBody::Answer(Answer {
                    command_seq,
                    trigger,
                    action,
                    reason,
                    escalate,
                }));
                self.end.answers += 1;
                self.write_out(b"  \xe2\x9c\x93 saved with the command\r\n");
                rest
            }
        };
        let mut forward = Vec::new();
        if let Some(asking) = self.asking.take() {
            forward = asking.typeahead;
            for held in asking.held {
                match held {
                    Held::Output(b) => self.on_piece(Piece::Output(&b)),
                    Held::Mark(m) => self.on_piece(Piece::Mark(m)),
                }
            }
        }
        forward.extend(rest);
        forward
    }

    fn on_request(&mut self, request: Request) -> Response {
        let last = self.last_command.clone();
        let needs_last = |what: &str| match &last {
            Some(l) => Ok(l.clone()),
            None => Err(Response::err(format!(
                "no command recorded yet: run the command first, then mark it as {what}"
            ))),
        };
        self.end.marks += 1;
        match request {
            Request::Note { text } => {
                self.record(EventBody::Note { text });
                Response::ok("noted")
            }
            Request::Step { title } => {
                let msg = format!("step \"{title}\": the next commands belong to it");
                self.step = Some(title.clone());
                self.record(EventBody::Step { title });
                Response::ok(msg)
            }
            Request::Why { text } => match needs_last("explained") {
                Ok((seq, cmd)) => {
                    self.record(EventBody::Why {
                        command_seq: seq,
                        text,
                    });
                    Response::ok(format!("reason saved for `{cmd}`"))
                }
                Err(e) => e,
            },
            Request::Check => match needs_last("a success check") {
                Ok((seq, cmd)) => {
                    self.record(EventBody::Check { command_seq: seq });
                    Response::ok(format!("`{cmd}` marked as a success check"))
                }
                Err(e) => e,
            },
            Request::Prereq => match needs_last("a prerequisite check") {
                Ok((seq, cmd)) => {
                    self.record(EventBody::Prereq { command_seq: seq });
                    Response::ok(format!("`{cmd}` marked as a prerequisite check"))
                }
                Err(e) => e,
            },
            Request::Escalate { text } => {
                self.record(EventBody::Escalate { text });
                Response::ok("escalation trigger saved")
            }
            Request::Status => {
                self.end.marks -= 1;
                Response::ok(self.status_text())
            }
        }
    }

    fn status_text(&self) -> String {
        let n =
            |count: u64, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
        let mut s = format!(
            "recording \"{}\" (run {})\n  {}, {} failed, {}, {}",
            self.run_name,
            short_id(&self.run_id),
            n(self.end.commands, "command"),
            self.end.failures,
            n(self.end.answers, "answer"),
            n(self.end.marks, "mark")
        );
        if let Some(step) = &self.step {
            s.push_str(&format!("\n  current step: {step}"));
        }
        if let Some((seq, cmd)) = &self.last_command {
            // Counted as commands are; `#` is its number in the timeline,
            // where notes and marks are numbered too.
            s.push_str(&format!(
                "\n  last command: {cmd} (command {n} of {n}; #{seq} in `tacit runs show`)",
                n = self.end.commands
            ));
        }
        s
    }
}

pub fn short_id(id: &str) -> &str {
    let n = id.len().min(8);
    &id[id.len() - n..]
}

fn strip_sgr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

enum ToPty {
    Data(Vec<u8>),
    Resize(u16, u16),
}

/// Runs one recording session to its end.
pub async fn record(
    opts: SessionOptions,
    sink: &mut dyn EventSink,
) -> Result<SessionEnd, CaptureError> {
    let integration::Session {
        nonce,
        dir: session_dir,
        launch,
    } = integration::prepare_session(
        opts.kind,
        &opts.program,
        &opts.runtime_dir,
        &opts.run_id,
        &opts.tacit_exe,
    )?;
    let socket_path = session_dir.join("ctl.sock");
    let _ = std::fs::remove_file(&socket_path);
    let listener = tokio::net::UnixListener::bind(&socket_path)
        .map_err(|e| CaptureError::io(format!("listening on {}", socket_path.display()), e))?;

    let result = run_loop(&opts, &launch, &socket_path, listener, &nonce, sink).await;

    launch.cleanup();
    let _ = std::fs::remove_file(&socket_path);
    let _ = std::fs::remove_dir(&session_dir);
    result
}

async fn run_loop(
    opts: &SessionOptions,
    launch: &integration::ShellLaunch,
    socket_path: &std::path::Path,
    listener: tokio::net::UnixListener,
    nonce: &str,
    sink: &mut dyn EventSink,
) -> Result<SessionEnd, CaptureError> {
    let (cols, rows) = terminal::size().unwrap_or(opts.fallback_size);
    let mut env = opts.extra_env.clone();
    env.push((control::SOCKET_ENV.into(), socket_path.into()));
    env.push((control::RUN_ID_ENV.into(), opts.run_id.clone().into()));
    env.push((control::RUN_NAME_ENV.into(), opts.run_name.clone().into()));
    let (pty, mut child) = launch.spawn(&opts.cwd, &env, (cols, rows))?;
    let child_pid = child.id();

    let raw = terminal::RawGuard::enter()
        .map_err(|e| CaptureError::io("putting the terminal in raw mode", e))?;

    let out = rustix::io::dup(rustix::stdio::stdout())
        .map(std::fs::File::from)
        .map_err(|e| CaptureError::io("opening the terminal for output", e.into()))?;

    // Keystrokes go straight to the shell when nothing waits before them:
    // a write on the (non-blocking) master, no hop through the writer task.
    // That hop is what a typist would feel on every key.
    let direct = rustix::io::dup(&pty).ok();
    let queued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (pty_read, pty_write) = pty.into_split();
    let mut pty_read = pty_read;
    let (to_pty, mut to_pty_rx) = mpsc::unbounded_channel::<ToPty>();
    // Writes to the shell go through their own task, so a shell that is not
    // reading its input can never stall the output we must keep draining.
    let writer_queued = queued.clone();
    let writer = tokio::spawn(async move {
        let mut w = pty_write;
        while let Some(msg) = to_pty_rx.recv().await {
            match msg {
                ToPty::Data(d) => {
                    let ok = w.write_all(&d).await.is_ok();
                    writer_queued.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
                    if !ok {
                        break;
                    }
                }
                ToPty::Resize(c, r) => {
                    let _ = w.resize(pty_process::Size::new(r, c));
                }
            }
        }
    });

    // A terminal is read in this loop, through a descriptor of its own
    // (opened again, so its non-blocking mode touches no other process): a
    // keystroke reaches the shell without a hop between threads. Anything
    // else (a pipe, a file) is read on a plain thread with blocking reads.
    let mut tty_input = open_tty_input();
    let (stdin_tx, mut stdin_rx) = mpsc::channel::<Vec<u8>>(64);
    let mut key_buf = vec![0u8; 16 * 1024];
    if tty_input.is_none() {
        std::thread::Builder::new()
            .name("tacit-stdin".into())
            .spawn(move || {
                let mut stdin = std::io::stdin().lock();
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match stdin.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if stdin_tx.blocking_send(buf[..n].to_vec()).is_err() {
                                break;
                            }
                        }
                    }
                }
            })
            .map_err(|e| CaptureError::io("starting the input thread", e))?;
    } else {
        drop(stdin_tx);
    }

    let (ctl_tx, mut ctl_rx) = mpsc::channel::<(Request, oneshot::Sender<Response>)>(16);

    let sig = |kind: SignalKind| {
        signal(kind).map_err(|e| CaptureError::io("installing signal handlers", e))
    };
    let mut winch = sig(SignalKind::window_change())?;
    let mut hup = sig(SignalKind::hangup())?;
    let mut term = sig(SignalKind::terminate())?;
    let mut int = sig(SignalKind::interrupt())?;

    let mut recorder = Recorder {
        sink,
        out,
        rules: opts.ask.clone(),
        color: opts.color,
        max_output: opts.max_output_bytes,
        cols,
        run_name: opts.run_name.clone(),
        run_id: opts.run_id.clone(),
        running: None,
        asking: None,
        last_command: None,
        step: None,
        end: SessionEnd {
            reason: EndReason::ShellExited(None),
            commands: 0,
            failures: 0,
            answers: 0,
            marks: 0,
        },
    };
    let mut scanner = MarkScanner::new(nonce);
    let mut buf = vec![0u8; 64 * 1024];
    let mut stdin_open = true;
    let mut child_status: Option<Option<i32>> = None;
    let mut drain_until: Option<tokio::time::Instant> = None;

    let reason = loop {
        let drain = async {
            match drain_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        let arm_at = recorder.arm_at();
        let arm = async {
            match arm_at {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            // A fixed order instead of tokio's random one: the cheap branches
            // (keystrokes, signals: no syscall to poll) come first so that
            // Ctrl-C always gets through a flood of output; then output; the
            // rest only when output pauses. Polling every branch on every
            // chunk would cost more than the copy itself.
            biased;
            input = next_input(&mut tty_input, &mut stdin_rx, &mut key_buf), if stdin_open => match input {
                Some(bytes) => {
                    let forward = recorder.on_input(bytes);
                    let mut rest: &[u8] = &forward;
                    if !rest.is_empty()
                        && queued.load(std::sync::atomic::Ordering::Acquire) == 0
                        && let Some(fd) = &direct
                        && let Ok(n) = rustix::io::write(fd, rest)
                    {
                        rest = &rest[n..];
                    }
                    if !rest.is_empty() {
                        queued.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                        let _ = to_pty.send(ToPty::Data(rest.to_vec()));
                    }
                }
                None => {
                    // End of piped input: Ctrl-D asks the shell to exit once
                    // it has worked through what it was given.
                    stdin_open = false;
                    queued.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    let _ = to_pty.send(ToPty::Data(vec![0x04]));
                }
            },
            _ = hup.recv() => break EndReason::Hangup,
            _ = term.recv() => break EndReason::Terminated,
            _ = int.recv() => break EndReason::Terminated,
            _ = winch.recv() => {
                if let Some((c, r)) = terminal::size() {
                    recorder.cols = c;
                    let _ = to_pty.send(ToPty::Resize(c, r));
                }
            }
            r = pty_read.read(&mut buf) => match r {
                Ok(0) | Err(_) => break EndReason::ShellExited(None),
                Ok(n) => scanner.feed(&buf[..n], &mut |p| recorder.on_piece(p)),
            },
            conn = listener.accept() => {
                if let Ok((stream, _)) = conn {
                    tokio::spawn(serve_control(stream, ctl_tx.clone()));
                }
            }
            Some((request, reply)) = ctl_rx.recv() => {
                let _ = reply.send(recorder.on_request(request));
            }
            status = child.wait(), if child_status.is_none() => {
                child_status = Some(status.ok().and_then(|s| s.code()));
                // Background jobs may keep the PTY open; give the last output
                // a moment to arrive, then stop.
                drain_until = Some(tokio::time::Instant::now() + Duration::from_millis(300));
            }
            _ = arm => recorder.arm(),
            _ = drain => break EndReason::ShellExited(None),
        }
    };
    scanner.flush(&mut |p| recorder.on_piece(p));
    let _ = recorder.out.flush();
    drop(raw);

    let reason = match reason {
        EndReason::ShellExited(_) => {
            let code = match child_status {
                Some(c) => c,
                None => tokio::time::timeout(Duration::from_secs(2), child.wait())
                    .await
                    .ok()
                    .and_then(|s| s.ok())
                    .and_then(|s| s.code()),
            };
            EndReason::ShellExited(code)
        }
        other => {
            // The terminal is gone or we were told to stop: hang up on the
            // shell as a terminal would, so it can save its history.
            if let Some(pid) = child_pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::HUP);
            }
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            other
        }
    };
    writer.abort();
    let mut end = recorder.end;
    end.reason = reason;
    Ok(end)
}

/// The terminal on stdin, opened again non-blocking for this loop.
fn open_tty_input() -> Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>> {
    use rustix::fs::{Mode, OFlags};
    if !terminal::stdin_is_tty() {
        return None;
    }
    let path = rustix::termios::ttyname(rustix::stdio::stdin(), Vec::new()).ok()?;
    let fd = rustix::fs::open(
        path.as_c_str(),
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )
    .ok()?;
    // SAFETY: the AsyncFd owns `fd`, an open descriptor that nothing else
    // closes or replaces while it lives.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
        .ok()
}

/// The next keystrokes: from the terminal, or from the input thread.
/// `None` at the end of input.
async fn next_input(
    tty: &mut Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
    thread: &mut mpsc::Receiver<Vec<u8>>,
    buf: &mut [u8],
) -> Option<Vec<u8>> {
    let Some(fd) = tty else {
        return thread.recv().await;
    };
    loop {
        let mut ready = fd.readable().await.ok()?;
        match ready.try_io(|inner| rustix::io::read(inner.get_ref(), &mut *buf).map_err(Into::into))
        {
            Ok(Ok(0)) => return None,
            Ok(Ok(n)) => return Some(buf[..n].to_vec()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Ok(Err(_)) => return None,
            Err(_would_block) => continue,
        }
    }
}

async fn serve_control(
    stream: tokio::net::UnixStream,
    requests: mpsc::Sender<(Request, oneshot::Sender<Response>)>,
) {
    let (read, mut write) = stream.into_split();
    let mut lines = tokio::io::BufReader::new(read.take(1 << 20)).lines();
    let response = match lines.next_line().await {
        Ok(Some(line)) => match serde_json::from_str::<Request>(&line) {
            Ok(request) => {
                let (tx, rx) = oneshot::channel();
                if requests.send((request, tx)).await.is_err() {
                    Response::err("the recorder is shutting down")
                } else {
                    rx.await
                        .unwrap_or_else(|_| Response::err("the recorder is shutting down"))
                }
            }
            Err(e) => Response::err(format!("malformed request: {e}")),
        },
        _ => return,
    };
    if let Ok(mut line) = serde_json::to_vec(&response) {
        line.push(b'\n');
        let _ = write.write_all(&line).await;
    }
}
