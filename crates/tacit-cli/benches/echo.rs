//! `cargo bench -p tacit-cli --bench echo`: keystroke echo latency.
//!
//! What a person feels while typing in a recorded shell: the time from a key
//! written to the terminal until its echo comes back. Measured side by side,
//! in one run, for a bare bash in a PTY, bash under util-linux `script`, and
//! bash under `tacit record` (the release binary), each typing the same
//! keys. Reported: median and p99 per tool, and what each wrapper adds over
//! the bare shell at the median.
//!
//! Targets (issue "The guided run and the CLI, hardened"): tacit adds no more
//! than `script` at the median, and stays under 1 ms at p99.
//!
//! `BENCH_KEYS` (default 400) keys per tool; `TACIT_BIN` overrides the binary
//! (default: target/release/tacit, built if missing).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PROMPT: &str = "echo-bench$ ";

fn keys() -> usize {
    std::env::var("BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

struct Session {
    pty: pty_process::blocking::Pty,
    child: std::process::Child,
}

impl Session {
    fn start(program: &Path, args: &[&str], home: &Path, db: &Path) -> Session {
        let (pty, pts) = pty_process::blocking::open().expect("a pty");
        pty.resize(pty_process::Size::new(30, 120)).expect("resize");
        let child = pty_process::blocking::Command::new(program)
            .args(args)
            .env("HOME", home)
            .env("PS1", PROMPT)
            .env("TERM", "xterm-256color")
            .env("TACIT_DB", db)
            .env("TACIT_CONFIG", home.join("none.toml"))
            .env_remove("TACIT_SOCKET")
            .env_remove("TACIT_RUN_ID")
            .spawn(pts)
            .expect("spawn");
        let mut s = Session { pty, child };
        s.read_until(PROMPT.as_bytes(), Duration::from_secs(20));
        s
    }

    fn read_until(&mut self, needle: &[u8], timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut seen: Vec<u8> = Vec::new();
        let mut buf = [0u8; 4096];
        while !seen.windows(needle.len()).any(|w| w == needle) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}"
            );
            let n = self.pty.read(&mut buf).expect("read");
            seen.extend_from_slice(&buf[..n]);
        }
    }

    /// Types one key and waits for its echo; the time it took.
    fn echo(&mut self, key: u8) -> Duration {
        let start = Instant::now();
        self.pty.write_all(&[key]).expect("write");
        let mut buf = [0u8; 256];
        loop {
            let n = self.pty.read(&mut buf).expect("read");
            if buf[..n].contains(&key) {
                return start.elapsed();
            }
        }
    }

    /// Takes the key back (Backspace) and waits until the line is redrawn.
    fn erase(&mut self) {
        self.pty.write_all(b"\x7f").expect("write");
        let mut buf = [0u8; 256];
        let n = self.pty.read(&mut buf).expect("read");
        let _ = n;
        std::thread::sleep(Duration::from_millis(2));
        // Drain what is left of the redraw.
        set_nonblocking(&self.pty, true);
        while let Ok(n) = self.pty.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        set_nonblocking(&self.pty, false);
    }

    fn end(mut self) {
        let _ = self.pty.write_all(b"\x15exit\r");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
    }
}

fn set_nonblocking(pty: &pty_process::blocking::Pty, on: bool) {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    if let Ok(flags) = fcntl_getfl(pty) {
        let flags = if on {
            flags | OFlags::NONBLOCK
        } else {
            flags & !OFlags::NONBLOCK
        };
        let _ = fcntl_setfl(pty, flags);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tacit = std::env::var_os("TACIT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/tacit"));
    if !tacit.exists() {
        let ok = std::process::Command::new("cargo")
            .args(["build", "--release", "-p", "tacit-cli"])
            .current_dir(&root)
            .status()
            .expect("cargo");
        assert!(ok.success(), "building the release binary failed");
    }
    let home = tempfile::tempdir().expect("a temporary HOME");
    std::fs::write(
        home.path().join(".bashrc"),
        format!("PS1='{PROMPT}'\nunset PROMPT_COMMAND\n"),
    )
    .expect("bashrc");
    let db = home.path().join("lib/tacit.db");
    std::fs::create_dir_all(db.parent().expect("parent")).expect("lib");
    let bash = PathBuf::from("/bin/bash");
    let script = PathBuf::from("/usr/bin/script");

    type Tool<'a> = (&'a str, &'a Path, Vec<&'a str>);
    let mut tools: Vec<Tool> = vec![("bash in a PTY (baseline)", &bash, vec!["-i"])];
    if script.exists() {
        tools.push((
            "`script -qfc \"bash -i\"` (util-linux)",
            &script,
            vec!["-qfc", "bash -i", "/dev/null"],
        ));
    }
    tools.push((
        "`tacit record` (release)",
        &tacit,
        vec!["record", "echo-bench", "--shell", "bash", "--no-ask"],
    ));

    let n = keys();
    // Round-robin: each tool types a batch in turn, so machine noise
    // spreads over all of them alike.
    let mut sessions: Vec<Session> = tools
        .iter()
        .map(|(_, p, a)| Session::start(p, a, home.path(), &db))
        .collect();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); tools.len()];
    let batch = 20;
    let mut done = 0;
    while done < n {
        for (i, s) in sessions.iter_mut().enumerate() {
            for k in 0..batch {
                let key = b'a' + ((done + k) % 26) as u8;
                times[i].push(s.echo(key));
                s.erase();
            }
        }
        done += batch;
    }
    for s in sessions {
        s.end();
    }

    let mut medians = Vec::new();
    println!("| tool | keys | median | p99 | added at the median |");
    println!("|---|---|---|---|---|");
    for (i, (name, ..)) in tools.iter().enumerate() {
        let mut t = times[i].clone();
        t.sort();
        let med = percentile(&t, 0.5);
        let p99 = percentile(&t, 0.99);
        medians.push(med);
        let added = if i == 0 {
            "–".to_string()
        } else {
            format!("{:+.3} ms", ms(med) - ms(medians[0]))
        };
        println!(
            "| {name} | {} | {:.3} ms | {:.3} ms | {added} |",
            t.len(),
            ms(med),
            ms(p99)
        );
    }
    let tacit_i = tools.len() - 1;
    let mut t = times[tacit_i].clone();
    t.sort();
    let tacit_added = ms(medians[tacit_i]) - ms(medians[0]);
    let tacit_p99 = ms(percentile(&t, 0.99));
    println!();
    if script.exists() {
        let script_added = ms(medians[1]) - ms(medians[0]);
        println!(
            "- tacit adds no more than script at the median: {} ({tacit_added:+.3} ms vs {script_added:+.3} ms)",
            if tacit_added <= script_added {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    println!(
        "- tacit under 1 ms at p99: {} ({tacit_p99:.3} ms)",
        if tacit_p99 < 1.0 { "met" } else { "NOT met" }
    );
}
