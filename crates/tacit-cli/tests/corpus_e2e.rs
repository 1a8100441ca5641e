//! Scenarios of the drafting corpus recorded end to end, now, through the
//! real binary in a real PTY (not from the stored fixtures), in bash, zsh
//! and fish, then drafted and scored against their answer keys.

mod support;

use support::*;
use tacit_eval::record::{Bench, Options, export, record};

/// PostgreSQL on this machine, for the scenarios that need it. Under
/// `CI=true` its absence is a failure.
fn require_postgres() -> bool {
    let ok = std::process::Command::new("pg_isready")
        .args(["-h", "127.0.0.1", "-p", "5432"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("PostgreSQL is not answering on 127.0.0.1:5432, and CI=true");
        }
        eprintln!("SKIPPED: PostgreSQL is not answering on 127.0.0.1:5432");
    }
    ok
}

/// Records `name` (in `shell` when given), drafts it with `tacit draft`, and
/// scores the runs against the key. `isolate` adds this test's pid to the
/// named variables, so databases never clash with another run.
fn record_and_score(name: &str, shell: Option<&str>, isolate: &[&str]) {
    let scenario = tacit_eval::scenarios()
        .unwrap()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap();
    let shells: Vec<String> = match shell {
        Some(s) => vec![s.to_string()],
        None => scenario.runs.iter().map(|r| r.shell.clone()).collect(),
    };
    for s in &shells {
        if !require_shell(s) {
            return;
        }
    }
    let world = World::new();
    let bench = Bench::new(world.dir.path(), &tacit_bin()).unwrap();
    let mut vars = scenario.planned_vars();
    for v in &mut vars {
        for key in isolate {
            if let Some(value) = v.get_mut(*key) {
                value.push_str(&format!("_e{}", std::process::id()));
            }
        }
    }
    let rec = record(
        &bench,
        &scenario,
        &Options {
            shell: shell.map(str::to_string),
            vars: Some(vars),
        },
    )
    .unwrap_or_else(|e| panic!("recording {name}: {e:#}"));

    // The CLI drafts it.
    let out = bench.tacit(&["draft", name]);
    assert!(
        out.status.success(),
        "tacit draft {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // And the SOP meets the bar on the runs just recorded.
    let paths: Vec<std::path::PathBuf> = (1..=rec.run_ids.len())
        .map(|n| world.dir.path().join(format!("export-{n}.json")))
        .collect();
    export(&bench, &rec, &paths).unwrap();
    let runs: Vec<_> = paths
        .iter()
        .map(|p| tacit_eval::load_run(p).unwrap())
        .collect();
    let sop = tacit_draft::draft(&runs).unwrap();
    let report = tacit_eval::score::score(&sop, &scenario.key().unwrap(), &rec.vars);
    assert!(
        report.total() >= 0.85,
        "{name} in {shells:?} scored {:.1} %: {:#?}\n{}",
        report.total() * 100.0,
        report.problems,
        tacit_sop::render_markdown(&sop)
    );
}

#[test]
fn an_incident_recorded_in_fish() {
    record_and_score("disk-full-incident", Some("fish"), &[]);
}

#[test]
fn a_deploy_with_a_retry_recorded_in_bash_and_zsh() {
    record_and_score("release-image", None, &[]);
}

#[test]
fn provisioning_on_postgres_recorded_three_times_in_bash_and_zsh() {
    if !require_postgres() {
        return;
    }
    record_and_score("tenant-provision", None, &["tenant"]);
}

#[test]
fn a_restore_on_postgres_recorded_in_bash_and_fish() {
    if !require_postgres() {
        return;
    }
    record_and_score("restore-table", None, &["db"]);
}

#[test]
fn step_groups_and_a_manual_step_recorded_in_zsh() {
    record_and_score("release-notes", None, &[]);
}
