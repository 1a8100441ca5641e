//! The SOP drafted from a real recording of the deploy-webapp scenario
//! (SESSION.md, recorded through `tacit record` in bash; the fixture is its
//! `tacit runs export --format json`).

use tacit_core::{Event, RunMeta};
use tacit_draft::{RunInput, draft};

fn load(name: &str) -> RunInput {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    RunInput {
        meta: serde_json::from_value::<RunMeta>(doc["run"].clone()).unwrap(),
        events: serde_json::from_value::<Vec<Event>>(doc["events"].clone()).unwrap(),
    }
}

#[test]
fn the_deploy_webapp_sop_has_what_session_md_asks_for() {
    let run = load("deploy-webapp.json");
    let sop = draft(std::slice::from_ref(&run)).unwrap();

    // check-env is a prerequisite, with its check command.
    assert_eq!(sop.prerequisites.len(), 1, "{:#?}", sop.prerequisites);
    assert_eq!(
        sop.prerequisites[0].check.as_deref(),
        Some("cd app && ./deploy/check-env.sh")
    );

    // A version parameter with example 1.4.2.
    let version = sop
        .parameters
        .iter()
        .find(|p| p.name == "version")
        .expect("version parameter");
    assert_eq!(version.examples, ["1.4.2"]);
    assert!(!version.secret);

    // pull → build → migrate → release, in order, and nothing else.
    let titles: Vec<&str> = sop.steps.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Pull the latest code",
            "Build the release",
            "Run database migrations",
            "Release the new version"
        ]
    );
    let commands: Vec<&str> = sop
        .steps
        .iter()
        .flat_map(|s| s.commands.iter().map(String::as_str))
        .collect();
    assert_eq!(
        commands,
        [
            "git pull",
            "./deploy/build.sh <<version>>",
            "./deploy/migrate.sh",
            "./deploy/release.sh <<version>>"
        ]
    );
    assert_eq!(sop.steps[0].cwd.as_deref(), Some("app"));

    // The lock rule, with the operator's reason verbatim.
    assert_eq!(sop.rules.len(), 1);
    let rule = &sop.rules[0];
    assert_eq!(rule.step.as_deref(), Some("Run database migrations"));
    assert_eq!(rule.when.exit_code, Some(3));
    assert!(
        rule.when
            .output_contains
            .as_deref()
            .unwrap()
            .contains("migration lock held")
    );
    assert_eq!(
        rule.because,
        "A lock whose process is gone is left over from a crashed run. Never remove a lock held by a live process: wait, and escalate to the database on-call if it is held for more than 30 minutes."
    );
    assert_eq!(
        rule.then,
        "Check whether pid in the lock file is still running; if not, remove the stale lock and rerun the migration."
    );
    // The pid read from the lock is read again next time, not replayed.
    assert_eq!(
        rule.then_commands,
        [
            "cat ../state/migrate.lock",
            "ps -p $(cat ../state/migrate.lock) || rm ../state/migrate.lock"
        ]
    );

    // The escalation: a live lock for over 30 minutes → database on-call.
    assert_eq!(sop.escalations.len(), 1, "{:#?}", sop.escalations);
    assert!(sop.escalations[0].when.contains("30 minutes"));
    assert_eq!(
        sop.escalations[0].contact.as_deref(),
        Some("database on-call")
    );

    // health.sh is the success check.
    assert_eq!(sop.success_checks.len(), 1);
    assert_eq!(
        sop.success_checks[0].command.as_deref(),
        Some("cd app && ./deploy/health.sh <<version>>")
    );
    assert_eq!(
        sop.success_checks[0].expect.output_contains,
        ["healthy: version <<version>>"]
    );

    // No noise, and no command that is absent from the run.
    let recorded: Vec<String> = run
        .events
        .iter()
        .filter_map(|e| match &e.body {
            tacit_core::EventBody::Command(c) => Some(c.command.replace("1.4.2", "<<version>>")),
            _ => None,
        })
        .collect();
    let json = sop.to_json();
    for line in commands.iter().copied().chain(
        sop.rules[0]
            .then_commands
            .iter()
            .take(1)
            .map(String::as_str),
    ) {
        assert!(
            recorded.iter().any(|r| r.ends_with(line)),
            "{line} is not in the run"
        );
    }
    for noise in ["\"ls", "pwd", "clear", "history"] {
        assert!(!json.contains(noise), "noise {noise} in the SOP");
    }

    // Every item knows where it came from.
    assert!(sop.steps.iter().all(|s| !s.sources.is_empty()));
    assert!(sop.rules.iter().all(|r| r.sources.len() >= 3));

    insta::assert_snapshot!("deploy_webapp_sop_json", json);
    // The same SOP as a person reads it on GitHub; it parses back unchanged.
    let md = tacit_sop::render_markdown(&sop);
    assert_eq!(tacit_sop::parse_markdown(&md).unwrap(), sop);
    insta::assert_snapshot!("deploy_webapp_sop_md", md);
}

#[test]
fn drafting_is_deterministic() {
    let run = load("deploy-webapp.json");
    assert_eq!(
        draft(std::slice::from_ref(&run)),
        draft(std::slice::from_ref(&run))
    );
}
