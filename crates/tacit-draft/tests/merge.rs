//! Three runs of one procedure merge into one SOP (issue "Draft", merge test):
//! 1.4.2 with the stale-lock failure, 1.5.0 without it, 1.5.1 with an extra
//! `ls` and a typo.

use tacit_core::{Answer, AskTrigger, CommandRecord, Event, EventBody, RunMeta, RunStatus};
use tacit_draft::{DraftError, RunInput, draft};

struct Builder {
    meta: RunMeta,
    events: Vec<Event>,
}

impl Builder {
    fn new(id: &str, started: i64) -> Builder {
        Builder {
            meta: RunMeta {
                id: id.into(),
                name: "deploy-web".into(),
                shell: "bash".into(),
                started_at_ms: started,
                ended_at_ms: Some(started + 60_000),
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
            events: Vec::new(),
        }
    }

    fn push(&mut self, body: EventBody) -> u64 {
        let seq = self.events.len() as u64 + 1;
        self.events.push(Event {
            seq,
            at_ms: self.meta.started_at_ms + seq as i64,
            body,
        });
        seq
    }

    fn cmd(&mut self, line: &str, cwd: &str, exit: i32, output: &str) -> u64 {
        self.push(EventBody::Command(CommandRecord {
            command: line.into(),
            cwd: cwd.into(),
            started_at_ms: 0,
            duration_ms: 10,
            exit_code: Some(exit),
            output: output.into(),
            output_bytes: output.len() as u64,
            output_dropped_bytes: 0,
            full_screen: false,
        }))
    }

    fn deploy(mut self, version: &str, lock: bool, noise: bool) -> RunInput {
        self.cmd("cd app && git pull", "/srv", 0, "Already up to date.");
        if noise {
            self.cmd("ls", "/srv/app", 0, "VERSION deploy src");
            self.cmd(
                "gti status",
                "/srv/app",
                127,
                "bash: gti: command not found",
            );
        }
        self.cmd("./deploy/check-env.sh", "/srv/app", 0, "environment ok");
        self.cmd(
            &format!("./deploy/build.sh {version}"),
            "/srv/app",
            0,
            &format!("building... 100%\nbuilt build/webapp-{version}.tar.gz"),
        );
        if lock {
            let failed = self.cmd(
                "./deploy/migrate.sh",
                "/srv/app",
                3,
                "ERROR: migration lock held by pid 4242 (started 2h ago)",
            );
            self.push(EventBody::Answer(Answer {
                command_seq: failed,
                trigger: AskTrigger::Failure,
                action: "Remove the stale lock if its process is gone, then rerun.".into(),
                reason: "A lock whose process is gone is left over from a crashed run.".into(),
                escalate: Some(
                    "Lock held by a live process for over 30 minutes: call the database on-call"
                        .into(),
                ),
            }));
            self.cmd("cat ../state/migrate.lock", "/srv/app", 0, "4242");
            self.cmd("ps -p 4242 || rm ../state/migrate.lock", "/srv/app", 0, "");
        }
        self.cmd("./deploy/migrate.sh", "/srv/app", 0, "migrations complete");
        self.cmd(
            &format!("./deploy/release.sh {version}"),
            "/srv/app",
            0,
            &format!("released {version}"),
        );
        self.cmd(
            &format!("./deploy/health.sh {version}"),
            "/srv/app",
            0,
            &format!("healthy: version {version}"),
        );
        RunInput {
            meta: self.meta,
            events: self.events,
        }
    }
}

fn three_runs() -> Vec<RunInput> {
    vec![
        Builder::new("run-a", 1_000).deploy("1.4.2", true, false),
        Builder::new("run-b", 2_000).deploy("1.5.0", false, false),
        Builder::new("run-c", 3_000).deploy("1.5.1", false, true),
    ]
}

#[test]
fn three_runs_merge_into_one_sop() {
    let sop = draft(&three_runs()).unwrap();
    let version = sop.parameters.iter().find(|p| p.name == "version").unwrap();
    assert_eq!(version.examples, ["1.5.1", "1.5.0", "1.4.2"]);
    assert_eq!(sop.parameters.len(), 1, "{:#?}", sop.parameters);

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
    assert!(
        sop.steps.iter().all(|s| !s.optional),
        "every step is in every run"
    );

    // The lock rule: a conditional branch on the migrate step.
    assert_eq!(sop.rules.len(), 1);
    assert_eq!(
        sop.rules[0].step.as_deref(),
        Some("Run database migrations")
    );
    assert_eq!(sop.rules[0].when.exit_code, Some(3));
    assert_eq!(sop.escalations.len(), 1);
    assert_eq!(
        sop.escalations[0].contact.as_deref(),
        Some("database on-call")
    );

    // No noise from the third run.
    let json = sop.to_json();
    assert!(!json.contains("gti"), "{json}");
    assert!(!json.contains("\"ls"), "{json}");
    // Sources point into all three runs.
    let migrate = &sop.steps[2];
    let runs: std::collections::BTreeSet<&str> =
        migrate.sources.iter().map(|s| s.run_id.as_str()).collect();
    assert_eq!(runs.len(), 3);
    assert_eq!(sop.revisions[0].runs, ["run-a", "run-b", "run-c"]);
    insta::assert_snapshot!("three_runs_sop_json", json);
}

#[test]
fn a_step_seen_in_some_runs_only_is_optional() {
    let mut runs = three_runs();
    // The second run also ran a smoke test between release and health.
    let mut b = Builder::new("run-d", 4_000);
    b.cmd("cd app && git pull", "/srv", 0, "");
    b.cmd("./deploy/build.sh 1.6.0", "/srv/app", 0, "");
    b.cmd("./deploy/migrate.sh", "/srv/app", 0, "");
    b.cmd("./deploy/warm-cache.sh", "/srv/app", 0, "");
    b.cmd("./deploy/release.sh 1.6.0", "/srv/app", 0, "");
    runs.push(RunInput {
        meta: b.meta,
        events: b.events,
    });
    let sop = draft(&runs).unwrap();
    let warm = sop.steps.iter().find(|s| s.title == "Warm cache").unwrap();
    assert!(warm.optional);
    let pos = |t: &str| sop.steps.iter().position(|s| s.title == t).unwrap();
    assert!(pos("Run database migrations") < pos("Warm cache"));
    assert!(pos("Warm cache") < pos("Release the new version"));
    assert!(!sop.steps[pos("Build the release")].optional);
}

#[test]
fn bad_input_gives_a_clear_error() {
    assert_eq!(draft(&[]), Err(DraftError::NoRuns));
    let empty = Builder::new("empty", 0);
    let err = draft(&[RunInput {
        meta: empty.meta,
        events: vec![],
    }])
    .unwrap_err();
    assert!(err.to_string().contains("no commands"), "{err}");

    let mut failing = Builder::new("failing", 0);
    failing.cmd("./deploy/migrate.sh", "/srv", 3, "ERROR: lock");
    failing.cmd("make", "/srv", 2, "make: *** No targets");
    let err = draft(&[RunInput {
        meta: failing.meta,
        events: failing.events,
    }])
    .unwrap_err();
    assert!(
        err.to_string().contains("none of the 2 recorded commands"),
        "{err}"
    );

    // A huge output does not slow drafting down or end up in the SOP whole.
    let mut big = Builder::new("big", 0);
    let huge = "x".repeat(5_000_000);
    big.cmd("./generate.sh", "/srv", 0, &huge);
    let sop = draft(&[RunInput {
        meta: big.meta,
        events: big.events,
    }])
    .unwrap();
    assert!(sop.to_json().len() < 10_000);
}

fn answer(b: &mut Builder, seq: u64, trigger: AskTrigger, action: &str, reason: &str) {
    b.push(EventBody::Answer(Answer {
        command_seq: seq,
        trigger,
        action: action.into(),
        reason: reason.into(),
        escalate: None,
    }));
}

fn one(b: Builder) -> Vec<RunInput> {
    vec![RunInput {
        meta: b.meta,
        events: b.events,
    }]
}

#[test]
fn odd_runs_draft_without_a_crash_and_say_why_when_they_cannot() {
    // A run of only typos.
    let mut typos = Builder::new("typos", 0);
    for t in ["gti pull", "sl", "mkae", "kubeclt get pods"] {
        typos.cmd(t, "/srv", 127, "command not found");
    }
    let err = draft(&one(typos)).unwrap_err();
    assert!(err.to_string().contains("typos"), "{err}");

    // Empty answers (a blank action and reason) make no empty rule text.
    let mut empty = Builder::new("empty", 0);
    let f = empty.cmd("./deploy/migrate.sh", "/srv", 3, "ERROR: lock held");
    answer(&mut empty, f, AskTrigger::Failure, "", "");
    empty.cmd("./deploy/migrate.sh", "/srv", 0, "ok");
    let r = empty.cmd("rm stale.lock", "/srv", 0, "");
    answer(&mut empty, r, AskTrigger::Risky, "", "");
    let sop = draft(&one(empty)).unwrap();
    assert!(
        sop.steps
            .iter()
            .all(|s| s.caution.is_none() && s.why.is_none()),
        "{sop:#?}"
    );
    assert!(tacit_sop::parse_markdown(&tacit_sop::render_markdown(&sop)).is_ok());

    // Interleaved step marks: each group keeps its own commands, in order.
    let mut marks = Builder::new("marks", 0);
    for (title, cmd) in [
        ("Build", "make build"),
        ("Test", "make test"),
        ("Build", "make dist"),
    ] {
        marks.push(EventBody::Step {
            title: title.into(),
        });
        marks.cmd(cmd, "/srv", 0, "");
    }
    let sop = draft(&one(marks)).unwrap();
    let steps: Vec<(&str, Vec<&str>)> = sop
        .steps
        .iter()
        .map(|s| {
            (
                s.title.as_str(),
                s.commands.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("Build", vec!["make build"]),
            ("Test", vec!["make test"]),
            ("Build (2)", vec!["make dist"]),
        ]
    );

    // Answers with Markdown and HTML are kept verbatim and survive Markdown.
    let mut md = Builder::new("md", 0);
    let f = md.cmd(
        "./deploy/migrate.sh",
        "/srv",
        3,
        "ERROR: lock held by pid 9",
    );
    answer(
        &mut md,
        f,
        AskTrigger::Failure,
        "Ran `rm lock` <script>alert(1)</script>",
        "**Never** remove a *live* lock | see [docs](http://x)",
    );
    md.cmd("./deploy/migrate.sh", "/srv", 0, "ok");
    let sop = draft(&one(md)).unwrap();
    assert_eq!(sop.rules[0].then, "Ran `rm lock` <script>alert(1)</script>");
    let back = tacit_sop::parse_markdown(&tacit_sop::render_markdown(&sop)).unwrap();
    assert_eq!(back.rules, sop.rules);

    // 2,000 commands: drafted, each a step at most once, quickly.
    let mut big = Builder::new("big", 0);
    for i in 0..2000 {
        big.cmd(
            &format!("./jobs/run-{i}.sh --shard {}", i % 7),
            "/srv",
            (i % 50 == 7) as i32,
            "done",
        );
    }
    let start = std::time::Instant::now();
    let sop = draft(&one(big)).unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert!(
        sop.steps.len() >= 1900 && sop.steps.len() <= 2000,
        "{}",
        sop.steps.len()
    );
}

#[test]
fn what_only_the_failing_run_did_after_a_failure_is_its_fix() {
    // Run a: ALTER USER works. Run b: it fails for want of the user, the
    // operator creates the user and goes on. CREATE USER is the rule's fix,
    // not an optional step of the procedure.
    let mut a = Builder::new("a", 0);
    a.cmd("./dump.sh shop_eu", "/srv", 0, "dumped");
    a.cmd(
        "mariadb -e \"ALTER USER 'bi_shop_eu' IDENTIFIED BY 'x'\"",
        "/srv",
        0,
        "",
    );
    a.cmd(
        "mariadb -e \"GRANT SELECT ON shop_eu.* TO 'bi_shop_eu'\"",
        "/srv",
        0,
        "",
    );
    let mut b = Builder::new("b", 1000);
    b.cmd("./dump.sh shop_us", "/srv", 0, "dumped");
    let f = b.cmd(
        "mariadb -e \"ALTER USER 'bi_shop_us' IDENTIFIED BY 'x'\"",
        "/srv",
        1,
        "ERROR 1396 (HY000): Operation ALTER USER failed for 'bi_shop_us'",
    );
    answer(
        &mut b,
        f,
        AskTrigger::Failure,
        "Created the user first",
        "A new site has no BI user yet.",
    );
    b.cmd(
        "mariadb -e \"CREATE USER 'bi_shop_us' IDENTIFIED BY 'x'\"",
        "/srv",
        0,
        "",
    );
    b.cmd(
        "mariadb -e \"GRANT SELECT ON shop_us.* TO 'bi_shop_us'\"",
        "/srv",
        0,
        "",
    );
    let sop = draft(&[
        RunInput {
            meta: a.meta,
            events: a.events,
        },
        RunInput {
            meta: b.meta,
            events: b.events,
        },
    ])
    .unwrap();
    assert!(sop.steps.iter().all(|s| !s.optional), "{:#?}", sop.steps);
    assert!(
        !sop.steps
            .iter()
            .any(|s| s.commands.iter().any(|c| c.contains("CREATE USER")))
    );
    let rule = &sop.rules[0];
    assert!(
        rule.step.as_deref().unwrap().starts_with("Alter user"),
        "{rule:?}"
    );
    assert!(
        rule.then_commands.iter().any(|c| c.contains("CREATE USER")),
        "{rule:?}"
    );
}

/// A cast read by its prompts has no exit codes: the draft expects none,
/// rather than inventing `exit code 0`.
#[test]
fn unknown_exit_codes_are_not_turned_into_expectations() {
    let mut b = Builder::new("cast-run", 1_700_000_000_000);
    for (line, out) in [
        ("cd app && git pull", "Already up to date."),
        ("./deploy/build.sh 1.5.0", "built build/webapp-1.5.0.tar.gz"),
        ("./deploy/release.sh 1.5.0", "released 1.5.0"),
    ] {
        b.push(EventBody::Command(CommandRecord {
            command: line.into(),
            cwd: "/srv/app".into(),
            started_at_ms: 0,
            duration_ms: 10,
            exit_code: None,
            output: out.into(),
            output_bytes: out.len() as u64,
            output_dropped_bytes: 0,
            full_screen: false,
        }));
    }
    let run = RunInput {
        meta: b.meta,
        events: b.events,
    };
    let sop = draft(&[run]).unwrap();
    assert!(!sop.steps.is_empty());
    for s in &sop.steps {
        assert_eq!(s.expect.exit_code, None, "{}: {:?}", s.title, s.expect);
    }
    for c in &sop.success_checks {
        assert_eq!(c.expect.exit_code, None, "{}", c.description);
    }
}

/// Work done outside the shell (an agent's `record_step`) drafts into a
/// manual step in its place, in both runs' order; an action done while
/// fixing a failure is never a command for the rule's fix to run.
#[test]
fn actions_outside_the_shell_are_manual_steps_never_commands() {
    let action = |b: &mut Builder, tool: &str, what: &str, ok: Option<bool>| {
        b.push(EventBody::Action {
            tool: tool.into(),
            action: what.into(),
            arguments: "{\"channel\":\"#releases\"}".into(),
            result: "{\"ok\":true}".into(),
            ok,
        })
    };
    let mut runs = Vec::new();
    for (id, version) in [("a", "1.4.2"), ("b", "1.5.0")] {
        let mut b = Builder::new(id, if id == "a" { 0 } else { 10_000 });
        b.cmd(&format!("./build.sh {version}"), "/srv", 0, "built");
        action(&mut b, "http", "opened the change ticket", Some(true));
        b.cmd(&format!("./release.sh {version}"), "/srv", 0, "released");
        if id == "b" {
            let f = b.cmd("./notify.sh", "/srv", 2, "ERROR: webhook gone");
            answer(
                &mut b,
                f,
                AskTrigger::Failure,
                "Posted in the channel by hand",
                "The webhook was retired; people still need to know.",
            );
            action(&mut b, "slack", "posted in #releases by hand", Some(false));
        }
        action(&mut b, "slack", "posted the release note", None);
        runs.push(RunInput {
            meta: b.meta,
            events: b.events,
        });
    }
    let sop = draft(&runs).unwrap();
    let titles: Vec<&str> = sop.steps.iter().map(|s| s.title.as_str()).collect();
    let ticket = titles.iter().position(|t| *t == "Opened the change ticket");
    let note = titles.iter().position(|t| *t == "Posted the release note");
    assert!(ticket.is_some() && note.is_some(), "{titles:?}");
    assert!(ticket < note, "{titles:?}");
    for s in &sop.steps {
        if s.title == "Opened the change ticket" || s.title == "Posted the release note" {
            assert!(s.commands.is_empty(), "{s:?}");
            assert!(
                s.instruction.as_deref().unwrap().contains("(with "),
                "{s:?}"
            );
        }
    }
    for r in &sop.rules {
        assert!(
            r.then_commands.iter().all(|c| !c.contains("posted")),
            "an action became a command: {r:?}"
        );
    }
    let all: Vec<&String> = sop.steps.iter().flat_map(|s| &s.commands).collect();
    assert!(
        all.iter()
            .all(|c| !c.contains("posted") && !c.contains("opened")),
        "{all:?}"
    );
}
