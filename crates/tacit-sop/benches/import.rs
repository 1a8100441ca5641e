//! `cargo bench -p tacit-sop --bench import`: reading 20 MB of Markdown.
//!
//! Target (issue "Bring your runbooks"): a 20 MB SOP imports in under 2 s.
//! Side by side, in the same run, with pulldown-cmark's bare event pass over
//! the same text: the floor any CommonMark reader pays. Prints the median of
//! 5 rounds, the ratio to that floor, and whether the target is met.

use std::time::{Duration, Instant};

use tacit_sop::{Sop, Step, import_markdown, parse_markdown, render_markdown};

const SIZE: usize = 20 * 1024 * 1024;

/// tacit's own format: a drafted SOP with many steps.
fn own_format() -> String {
    let mut sop = Sop {
        id: "big".into(),
        title: "A very long procedure".into(),
        version: 1,
        ..Default::default()
    };
    let mut n = 0;
    let mut size = 0;
    while size < SIZE {
        n += 1;
        let step = Step {
            title: format!("Restart worker {n}"),
            commands: vec![
                format!("systemctl restart worker@{n}"),
                format!("curl -fsS http://worker-{n}.internal/healthz"),
            ],
            instruction: Some(format!(
                "Worker {n} must answer before the next one restarts."
            )),
            why: Some("A rolling restart keeps capacity above 90 %.".into()),
            ..Default::default()
        };
        size += 220;
        sop.steps.push(step);
    }
    render_markdown(&sop)
}

/// A runbook tacit did not write: alert sections, prose, console blocks.
fn runbook() -> String {
    let mut s =
        String::from("# Big alert\n\n## Meaning\n\nThe queue is **late**.\n\n## Diagnosis\n\n");
    let mut n = 0;
    while s.len() < SIZE {
        n += 1;
        s.push_str(&format!(
            "{n}. Check worker `{n}` on [the dashboard](https://grafana.example.com/d/{n}):\n\n   ```console\n   $ kubectl -n jobs logs worker-{n} --tail=5\n   started job {n}\n   ```\n\n"
        ));
    }
    s
}

fn median(mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[2]
}

fn pulldown_floor(text: &str) -> Duration {
    median(|| {
        let n = pulldown_cmark::Parser::new_ext(text, pulldown_cmark::Options::all())
            .into_offset_iter()
            .count();
        std::hint::black_box(n);
    })
}

fn main() {
    let own = own_format();
    let floor = pulldown_floor(&own);
    let strict = median(|| {
        std::hint::black_box(parse_markdown(&own).expect("parses"));
    });
    let lenient = median(|| {
        std::hint::black_box(import_markdown(&own, "big").expect("imports"));
    });
    report("tacit's format, strict parse", own.len(), strict, floor);
    report("tacit's format, `tacit import`", own.len(), lenient, floor);

    let rb = runbook();
    let floor = pulldown_floor(&rb);
    let import = median(|| {
        std::hint::black_box(import_markdown(&rb, "big").expect("imports"));
    });
    report("a runbook, `tacit import`", rb.len(), import, floor);
}

fn report(what: &str, bytes: usize, took: Duration, floor: Duration) {
    let ratio = took.as_secs_f64() / floor.as_secs_f64().max(1e-9);
    let met = if took < Duration::from_secs(2) {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "| {what} ({:.1} MB) | {:.0} ms | {:.0} ms | {ratio:.1}x | < 2 s | {met} |",
        bytes as f64 / 1_048_576.0,
        took.as_secs_f64() * 1000.0,
        floor.as_secs_f64() * 1000.0
    );
}
