//! Markdown edited by hand still parses, into what the person meant.

mod common;

use tacit_sop::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses the fixture as it is and with CRLF line endings; both must agree.
fn parse_fixture(name: &str) -> Sop {
    let text = fixture(name);
    let sop = parse_markdown(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let crlf = parse_markdown(&text.replace('\n', "\r\n"))
        .unwrap_or_else(|e| panic!("{name} (CRLF): {e}"));
    assert_eq!(crlf, sop, "{name}: CRLF changes the result");
    sop
}

fn titles(sop: &Sop) -> Vec<&str> {
    sop.steps.iter().map(|s| s.title.as_str()).collect()
}

fn sh(cmds: &[&str]) -> Vec<String> {
    cmds.iter().map(|c| c.to_string()).collect()
}

#[test]
fn reordered_steps_keep_the_file_order_and_ignore_the_numbers() {
    let sop = parse_fixture("reordered_steps.md");
    assert_eq!(
        titles(&sop),
        [
            "Run database migrations",
            "Pull the latest code",
            "Build the release",
            "Release"
        ]
    );
    assert_eq!(
        sop.steps[2].commands,
        sh(&["./deploy/build.sh <<version>>"])
    );
    // Rendering renumbers them 1..4.
    let md = render_markdown(&sop);
    assert!(md.contains("### 1. Run database migrations\n"));
    assert!(md.contains("### 4. Release\n"));
}

#[test]
fn steps_added_by_hand_are_steps() {
    let sop = parse_fixture("step_added_by_hand.md");
    assert_eq!(
        titles(&sop),
        [
            "Release",
            "Restart the service",
            "Clear the cache",
            "Tell the team",
            "Tail the logs"
        ]
    );
    let restart = &sop.steps[1];
    assert_eq!(
        restart.commands,
        sh(&[
            "sudo systemctl restart webapp",
            "systemctl is-active webapp"
        ])
    );
    assert_eq!(
        restart.instruction.as_deref(),
        Some("Restart it so it picks up the new release:")
    );
    assert_eq!(restart.cwd, None);
    assert!(restart.sources.is_empty());
    assert_eq!(sop.steps[2].commands, sh(&["redis-cli FLUSHDB"]));
    let tell = &sop.steps[3];
    assert!(tell.optional);
    assert!(tell.commands.is_empty());
    assert_eq!(
        tell.instruction.as_deref(),
        Some("Post the version in #deploys.")
    );
    assert_eq!(
        sop.steps[4].commands,
        sh(&["journalctl -u webapp -f \\\n  --since \"5 min ago\""])
    );
    // And it reads back the same after tacit renders it.
    assert_eq!(parse_markdown(&render_markdown(&sop)).unwrap(), sop);
}

#[test]
fn the_flowchart_and_the_sources_are_optional() {
    let sop = parse_fixture("no_mermaid_no_sources.md");
    let expected = Sop {
        id: "rotate-certs".into(),
        title: "Rotate the TLS certificates".into(),
        owner: Some("bob".into()),
        version: 1,
        purpose: "Replace the certificates before they expire.".into(),
        steps: vec![Step {
            title: "Renew".into(),
            commands: sh(&["certbot renew"]),
            expect: Expectation {
                exit_code: Some(0),
                output_contains: vec![],
            },
            ..Default::default()
        }],
        rules: vec![DecisionRule {
            step: Some("Renew".into()),
            when: Condition {
                summary: "rate limited".into(),
                exit_code: Some(1),
                output_contains: Some("too many certificates".into()),
            },
            then: "Wait an hour, then retry.".into(),
            because: "Let's Encrypt limits renewals per week.".into(),
            ..Default::default()
        }],
        escalations: vec![Escalation {
            when: "The certificate expires within 24 hours".into(),
            contact: Some("security on-call".into()),
            sources: vec![],
        }],
        ..Default::default()
    };
    assert_eq!(sop, expected);
}

#[test]
fn blank_lines_trailing_spaces_case_and_other_markers_are_forgiven() {
    let sop = parse_fixture("messy_whitespace.md");
    let expected = Sop {
        id: "restart-worker".into(),
        title: "Restart the worker".into(),
        version: 4,
        purpose: "Bring a stuck worker back.\nIt happens after a network blip.\n\nOnly for the queue worker.".into(),
        when_to_use: "When the queue depth keeps growing.".into(),
        prerequisites: vec![
            Prerequisite {
                description: "You can ssh to the worker hosts".into(),
                check: Some("ssh worker1 true".into()),
                sources: vec![],
            },
            Prerequisite {
                description: "The queue dashboard is open".into(),
                ..Default::default()
            },
        ],
        steps: vec![
            Step {
                title: "Stop the worker".into(),
                commands: sh(&["sudo systemctl stop worker"]),
                why: Some("A stuck worker holds its lease until it stops.".into()),
                ..Default::default()
            },
            Step {
                title: "Start the worker".into(),
                commands: sh(&["sudo systemctl start worker"]),
                expect: Expectation {
                    exit_code: Some(0),
                    output_contains: vec![],
                },
                ..Default::default()
            },
        ],
        rules: vec![DecisionRule {
            step: None,
            when: Condition {
                summary: "the worker will not stop".into(),
                ..Default::default()
            },
            then: "Kill it with SIGKILL.".into(),
            because: "The lease expires anyway.".into(),
            ..Default::default()
        }],
        edge_cases: vec![EdgeCase {
            description: "The host was unreachable".into(),
            handling: "Waited for the network to come back".into(),
            sources: vec![],
        }],
        success_checks: vec![SuccessCheck {
            description: "The queue depth falls".into(),
            command: Some("queue-depth".into()),
            ..Default::default()
        }],
        revisions: vec![Revision {
            version: 4,
            date: "2026-11-20".into(),
            author: "carol".into(),
            summary: "Tidied by hand".into(),
            runs: vec![],
        }],
        ..Default::default()
    };
    assert_eq!(sop, expected);
}

#[test]
fn edited_text_is_read_back() {
    let original = common::deploy_webapp();
    let md = render_markdown(&original)
        .replace(
            "→ **Then** Check whether pid in the lock file is still running; if not,",
            "→ **Then** Check whether the PID in /var/lock/migrate.lock is alive (`ps -p`); if not,",
        )
        .replace("./deploy/migrate.sh\n```", "./deploy/migrate.sh --verbose\n```")
        .replace("### 4. Release", "### 4. Release to production")
        .replace("### Step: Run database migrations", "### Step: Run database migrations   ")
        .replace("→ contact: database on-call", "→ contact: the database on-call (+1 555 0100)");
    let sop = parse_markdown(&md).unwrap();

    let mut expected = original;
    expected.rules[0].then = expected.rules[0].then.replace(
        "Check whether pid in the lock file is still running;",
        "Check whether the PID in /var/lock/migrate.lock is alive (`ps -p`);",
    );
    expected.steps[2].commands = vec!["./deploy/migrate.sh --verbose".into()];
    expected.steps[3].title = "Release to production".into();
    expected.escalations[0].contact = Some("the database on-call (+1 555 0100)".into());
    assert_eq!(sop, expected);
}

#[test]
fn removing_the_flowchart_and_every_comment_loses_only_the_sources() {
    let original = common::deploy_webapp();
    let md = render_markdown(&original);
    let start = md.find("```mermaid").unwrap();
    let end = start + md[start..].find("\n```\n").unwrap() + 5;
    let stripped: String = format!("{}{}", &md[..start], &md[end..])
        .lines()
        .filter(|l| !l.trim_start().starts_with("<!--"))
        .map(|l| format!("{l}\n"))
        .collect();
    let sop = parse_markdown(&stripped).unwrap();
    let mut expected = original;
    for p in &mut expected.prerequisites {
        p.sources.clear();
    }
    for s in &mut expected.steps {
        s.sources.clear();
    }
    for r in &mut expected.rules {
        r.sources.clear();
    }
    for e in &mut expected.edge_cases {
        e.sources.clear();
    }
    for e in &mut expected.escalations {
        e.sources.clear();
    }
    for c in &mut expected.success_checks {
        c.sources.clear();
    }
    assert_eq!(sop, expected);
}

#[test]
fn a_byte_order_mark_and_windows_line_endings_are_fine() {
    let sop = common::deploy_webapp();
    let md = format!("\u{feff}{}", render_markdown(&sop).replace('\n', "\r\n"));
    assert_eq!(parse_markdown(&md).unwrap(), sop);
}

#[test]
fn the_parameters_table_is_derived_from_the_front_matter() {
    let sop = common::deploy_webapp();
    let md = render_markdown(&sop).replace(
        "| `<<version>>` | Release tag to deploy, as pushed to git |",
        "| `<<version>>` | edited here, but the front matter wins |",
    );
    assert_eq!(parse_markdown(&md).unwrap(), sop);
}
