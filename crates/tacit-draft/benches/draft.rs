//! `cargo bench -p tacit-draft`: drafting speed on generated runs.
//!
//! Targets (issue "Draft"): a 10,000-command run drafts in under 1 s; 50
//! runs of 200 commands merge in under 2 s. Prints the median of several
//! rounds and whether each target is met.

use std::time::{Duration, Instant};

use tacit_core::{Answer, AskTrigger, CommandRecord, Event, EventBody, RunMeta, RunStatus};
use tacit_draft::{RunInput, draft};

/// A realistic run: a deploy-like mix of actions, checks, noise, failures
/// with answers and fixes, and `tacit step` marks, `commands` long.
fn generate(id: usize, commands: usize, version: &str) -> RunInput {
    let mut events = Vec::with_capacity(commands * 2);
    let mut seq = 0u64;
    let mut push = |events: &mut Vec<Event>, body: EventBody| {
        seq += 1;
        events.push(Event {
            seq,
            at_ms: seq as i64,
            body,
        });
        seq
    };
    let shapes = [
        "git pull",
        "./deploy/check-env.sh",
        "./deploy/build.sh {v}",
        "ls -la",
        "make test",
        "kubectl apply -f k8s/web-{n}.yaml",
        "./deploy/migrate.sh",
        "docker build -t registry.example.com/web:{v} .",
        "gti status",
        "./scripts/job-{n}.sh --env staging",
        "./deploy/release.sh {v}",
        "curl -fsS https://web.example.com/healthz",
    ];
    let mut n = 0;
    while n < commands {
        if n % 40 == 0 {
            push(
                &mut events,
                EventBody::Step {
                    title: format!("Phase {}", n / 40),
                },
            );
        }
        let shape = shapes[n % shapes.len()];
        let line = shape
            .replace("{v}", version)
            .replace("{n}", &(n % 97).to_string());
        let exit = if line.starts_with("gti") { 127 } else { 0 };
        let output: String = (0..20).map(|i| format!("line {i} of {line}\n")).collect();
        if n % 50 == 7 {
            let failed = push(
                &mut events,
                command(&line, 3, "ERROR: lock held by pid 99 (started 2h ago)"),
            );
            push(&mut events, EventBody::Answer(Answer {
                command_seq: failed,
                trigger: AskTrigger::Failure,
                action: "Remove the stale lock and rerun.".into(),
                reason: "Stale locks come from crashed runs; escalate to the on-call if it is held for more than 30 minutes.".into(),
                escalate: None,
            }));
            push(&mut events, command("rm -f /tmp/lock", 0, ""));
            n += 2;
        }
        push(&mut events, command(&line, exit, &output));
        n += 1;
    }
    RunInput {
        meta: RunMeta {
            id: format!("run-{id:04}"),
            name: "big".into(),
            shell: "bash".into(),
            started_at_ms: id as i64 * 1000,
            ended_at_ms: None,
            status: RunStatus::Completed,
            host: "h".into(),
            user: "ops".into(),
            start_cwd: "/srv".into(),
            recorder_pid: None,
            tacit_version: "0".into(),
            cols: 80,
            rows: 24,
            sop_id: None,
            sop_version: None,
            imported_at_ms: None,
        },
        events,
    }
}

fn command(line: &str, exit: i32, output: &str) -> EventBody {
    EventBody::Command(CommandRecord {
        command: line.into(),
        cwd: "/srv/app".into(),
        started_at_ms: 0,
        duration_ms: 10,
        exit_code: Some(exit),
        output: output.into(),
        output_bytes: output.len() as u64,
        output_dropped_bytes: 0,
        full_screen: false,
    })
}

fn median(rounds: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[rounds / 2]
}

fn main() {
    let one = vec![generate(0, 10_000, "1.4.2")];
    let fifty: Vec<RunInput> = (0..50)
        .map(|i| generate(i, 200, &format!("1.{}.0", i)))
        .collect();
    let t1 = median(5, || {
        let sop = draft(&one).unwrap();
        assert!(!sop.steps.is_empty());
    });
    let t2 = median(5, || {
        let sop = draft(&fifty).unwrap();
        assert!(!sop.steps.is_empty());
    });
    let verdict = |t: Duration, limit: Duration| if t < limit { "met" } else { "NOT met" };
    println!("| benchmark | median | target | |");
    println!("|---|---|---|---|");
    println!(
        "| draft one run of 10,000 commands | {:.1} ms | < 1 s | {} |",
        t1.as_secs_f64() * 1e3,
        verdict(t1, Duration::from_secs(1))
    );
    println!(
        "| merge 50 runs of 200 commands | {:.1} ms | < 2 s | {} |",
        t2.as_secs_f64() * 1e3,
        verdict(t2, Duration::from_secs(2))
    );
}
