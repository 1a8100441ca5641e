//! The common case must be cheap: a large output with no secret in it.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use tacit_redact::Redactor;

/// Release builds must meet the real budget; unoptimised test builds only a
/// loose one so the test still catches accidental quadratic behaviour.
fn budget() -> Duration {
    if cfg!(debug_assertions) {
        Duration::from_millis(1500)
    } else {
        Duration::from_millis(100)
    }
}

fn line_of(unit: &str) -> String {
    let mut s = String::with_capacity(10 * 1024 * 1024 + unit.len());
    while s.len() < 10 * 1024 * 1024 {
        s.push_str(unit);
    }
    s
}

fn time(text: &str) -> Duration {
    let r = Redactor::builtin();
    let _ = r.redact("warm up");
    let start = Instant::now();
    let out = r.redact(text);
    let took = start.elapsed();
    assert!(matches!(out, Cow::Borrowed(_)));
    eprintln!("redacted {} bytes in {took:?}", text.len());
    took
}

#[test]
fn ten_megabytes_without_keywords() {
    let text = line_of("building webapp 1.4.2 [=====>    ] 42% e3b0c44298fc1c149afbf4c8 ");
    let took = time(&text);
    assert!(took < budget(), "took {took:?}");
}

#[test]
fn ten_megabytes_with_keywords_but_no_secrets() {
    // Keywords everywhere, so the regexes run over the whole line.
    let text = line_of(
        "the monkey passed the keyboard test, token bucket ok, risk-free, curl https://x.y/z asia ",
    );
    let took = time(&text);
    assert!(took < budget() * 3, "took {took:?}");
}
