//! `cargo run -p tacit-eval`: drafts every scenario of the corpus from its
//! recorded runs and prints how the SOP compares with the answer key.
//!
//! ```text
//! tacit-eval [score] [NAME…] [-v]      the table (default); -v lists what was wrong
//! tacit-eval markdown                  the table for BENCHMARKS.md
//! tacit-eval show NAME                 the SOP drafted from a scenario, as Markdown
//! tacit-eval secrets [-v] [--markdown] redaction recall per family and false alarms
//! tacit-eval record [NAME…] [--tacit PATH]
//!                                      re-record fixtures through the real PTY
//!                                      (build tacit first: cargo build -p tacit-cli)
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use tacit_eval::{Scenario, evaluate, record, scenarios};

const COLUMNS: &[&str] = &[
    "steps",
    "precision",
    "order",
    "params",
    "rules",
    "escalations",
    "prereqs",
    "checks",
    "prose",
    "noise",
];

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tacit-eval: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.first().map(String::as_str) {
        Some("record" | "score" | "markdown" | "show") => (args[0].as_str(), &args[1..]),
        Some("secrets") => {
            return secrets_table(
                args.iter().any(|a| a == "-v"),
                args.iter().any(|a| a == "--markdown"),
            );
        }
        _ => ("score", &args[..]),
    };
    let verbose = rest.iter().any(|a| a == "-v" || a == "--verbose");
    let mut tacit: Option<PathBuf> = None;
    let mut names: Vec<String> = Vec::new();
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-v" | "--verbose" => {}
            "--tacit" => tacit = it.next().map(PathBuf::from),
            other if other.starts_with('-') => bail!("unknown option {other}"),
            other => names.push(other.to_string()),
        }
    }
    let all = scenarios()?;
    let chosen: Vec<&Scenario> = all
        .iter()
        .filter(|s| names.is_empty() || names.contains(&s.name))
        .collect();
    if chosen.is_empty() {
        bail!("no scenario matches {names:?}");
    }
    match cmd {
        "record" => record_fixtures(&chosen, tacit),
        "markdown" => table(&chosen, false, true),
        "show" => {
            for s in &chosen {
                let sop = tacit_draft::draft(&s.fixtures()?).map_err(|e| anyhow::anyhow!("{e}"))?;
                print!("{}", tacit_sop::render_markdown(&sop));
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => table(&chosen, verbose, false),
    }
}

fn secrets_table(verbose: bool, markdown: bool) -> Result<ExitCode> {
    use tacit_eval::secrets::{self, Channel};
    let formats = secrets::formats()?;
    let instances = secrets::instances(&formats, 20261129)?;
    let lookalikes = secrets::lookalikes()?;
    let r = tacit_redact::Redactor::builtin();
    let s = secrets::score(&instances, &lookalikes, &|ch, text| match ch {
        Channel::Prose => r.redact_prose(text).into_owned(),
        Channel::SecretOutput => r.redact_secret_output(text).into_owned(),
        _ => r.redact(text).into_owned(),
    });
    let pct = |(c, t): (usize, usize)| 100.0 * c as f64 / t.max(1) as f64;
    if markdown {
        println!("| family | caught | recall |\n|---|---:|---:|");
        for (f, v) in &s.families {
            println!("| {f} | {} / {} | {:.1} % |", v.0, v.1, pct(*v));
        }
        println!(
            "\n{} formats, {} secrets in {} contexts: recall **{:.2} %**; {} look-alikes, **{:.2} %** altered.",
            formats.len(),
            instances.len(),
            s.contexts.len(),
            100.0 * s.recall(),
            s.lookalikes_total,
            100.0 * s.false_alarm_rate()
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<16} {:>9} {:>8}", "family", "caught", "recall");
    for (f, v) in &s.families {
        println!("{f:<16} {:>4}/{:<4} {:>7.1}%", v.0, v.1, pct(*v));
    }
    println!();
    for (c, v) in &s.contexts {
        println!("{c:<16} {:>4}/{:<4} {:>7.1}%", v.0, v.1, pct(*v));
    }
    println!(
        "\nrecall {:.2} % of {} secrets ({} formats); look-alikes altered {:.2} % of {}",
        100.0 * s.recall(),
        instances.len(),
        formats.len(),
        100.0 * s.false_alarm_rate(),
        s.lookalikes_total
    );
    if verbose {
        for (f, c, out) in &s.missed {
            println!("MISSED {f} [{c}]: {}", out.replace('\n', "⏎"));
        }
        for (f, out) in &s.altered {
            println!("ALTERED {f}: {}", out.replace('\n', "⏎"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn record_fixtures(chosen: &[&Scenario], tacit: Option<PathBuf>) -> Result<ExitCode> {
    let tacit = match tacit {
        Some(t) => t,
        None => std::env::current_exe()?
            .parent()
            .map(|d| d.join("tacit"))
            .unwrap_or_default(),
    };
    if !tacit.is_file() {
        bail!(
            "{} not found: build it first (cargo build -p tacit-cli) or pass --tacit PATH",
            tacit.display()
        );
    }
    for s in chosen {
        let tmp = tempfile::Builder::new().prefix("tacit-eval-").tempdir()?;
        let bench = record::Bench::new(tmp.path(), &tacit)?;
        eprintln!("recording {} ({} runs)…", s.name, s.runs.len());
        let rec = record::record(&bench, s, &record::Options::default())?;
        let paths: Vec<PathBuf> = (1..=s.runs.len()).map(|n| s.fixture_path(n)).collect();
        record::export(&bench, &rec, &paths)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn table(chosen: &[&Scenario], verbose: bool, markdown: bool) -> Result<ExitCode> {
    let mut totals = Vec::new();
    if markdown {
        println!("| scenario | shape | {} | score |", COLUMNS.join(" | "));
        println!("|---|---|{}---:|", "---:|".repeat(COLUMNS.len()));
    } else {
        print!("{:<22}", "scenario");
        for c in COLUMNS {
            print!(" {:>6}", &c[..c.len().min(6)]);
        }
        println!(" {:>6}", "SCORE");
    }
    for s in chosen {
        if !s.fixture_path(1).is_file() {
            println!(
                "{:<22} not recorded yet (tacit-eval record {})",
                s.name, s.name
            );
            continue;
        }
        let rep = evaluate(s)?;
        let total = rep.total();
        totals.push(total);
        let cell = |c: &str| match rep.get(c) {
            Some(v) => format!("{:.0}", v * 100.0),
            None => "–".into(),
        };
        if markdown {
            let cells: Vec<String> = COLUMNS.iter().map(|c| cell(c)).collect();
            println!(
                "| {} | {} | {} | **{:.0}** |",
                s.name,
                s.shape,
                cells.join(" | "),
                total * 100.0
            );
        } else {
            print!("{:<22}", s.name);
            for c in COLUMNS {
                print!(" {:>6}", cell(c));
            }
            println!(" {:>6.1}", total * 100.0);
            if verbose {
                for p in &rep.problems {
                    println!("    - {p}");
                }
            }
        }
    }
    let mean = totals.iter().sum::<f64>() / totals.len() as f64;
    let min = totals.iter().copied().fold(f64::INFINITY, f64::min);
    if markdown {
        println!(
            "\nMean **{:.1} %**, lowest {:.1} % ({} scenarios).",
            mean * 100.0,
            min * 100.0,
            totals.len()
        );
    } else {
        println!(
            "mean {:.1} %, lowest {:.1} %, {} scenarios",
            mean * 100.0,
            min * 100.0,
            totals.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
