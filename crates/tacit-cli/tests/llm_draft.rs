//! `tacit draft` with `[llm]` on (issue "AI agents work inside tacit"): a
//! local chat-completions server rewords what it is sent, and the draft
//! keeps every command, rule and reason of the deterministic one; with the
//! server gone, the deterministic draft is kept and the user told why.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use serde_json::{Value, json};
use support::*;

type Bodies = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A chat-completions server whose message content is `says(request)`;
/// returns its URL and every request body it got.
fn model(says: impl Fn(&Value) -> String + Send + 'static) -> (String, Bodies) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let bodies = Bodies::default();
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
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
            let req: Value = serde_json::from_slice(&body).unwrap_or_default();
            let text = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": says(&req)}}]})
                .to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (base, bodies)
}

/// Answers by echoing the draft it was sent, with better words: each step
/// title gets a note, each rule's condition is reworded; commands, actions
/// and reasons are copied.
fn echo_model() -> String {
    model(|req| {
        let draft: Value =
            serde_json::from_str(req["messages"][1]["content"].as_str().unwrap()).unwrap();
        json!({
            "purpose": "Ship a release of the web app, with its migrations.",
            "when_to_use": draft["when_to_use"],
            "steps": draft["steps"].as_array().unwrap().iter().map(|s| json!({
                "title": format!("{} (reviewed)", s["title"].as_str().unwrap()),
                "description": "",
                "commands": s["commands"],
            })).collect::<Vec<_>>(),
            "parameters": draft["parameters"],
            "rules": draft["rules"].as_array().unwrap().iter().map(|r| json!({
                "when": format!("when {}", r["when"].as_str().unwrap()),
                "then": r["then"], "because": r["because"],
            })).collect::<Vec<_>>(),
        })
        .to_string()
    })
    .0
}

fn recorded(config: &str) -> World {
    let world = World::new();
    std::fs::write(world.dir.path().join("config.toml"), config).unwrap();
    let scenario = world.scenario();
    let mut t = world.record("deploy-web", "bash", &scenario, &[]);
    play_session(&mut t, &[]);
    t.line("exit");
    assert!(t.wait().success());
    world
}

fn sop(world: &World) -> Value {
    let out = world.tacit(&["show", "deploy-web", "--format", "json"]);
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["sop"].clone()
}

#[test]
fn a_model_rewords_the_draft_and_cannot_change_what_it_does() {
    let plain = drafted();
    let base = echo_model();
    let world = recorded(&format!(
        "[llm]\nenabled = true\nbase_url = \"{base}\"\nmodel = \"echo-7b\"\ntimeout_secs = 20\n"
    ));
    let out = world.tacit(&["draft", "deploy-web"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("echo-7b reworded: purpose, step titles"),
        "{stdout}"
    );

    let (a, b) = (sop(&plain), sop(&world));
    let commands = |s: &Value| -> Vec<Value> {
        s["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|st| st["commands"].clone())
            .collect()
    };
    assert_eq!(commands(&a), commands(&b));
    for (ra, rb) in a["rules"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["rules"].as_array().unwrap())
    {
        assert_eq!((&ra["then"], &ra["because"]), (&rb["then"], &rb["because"]));
        assert_eq!(
            rb["when"]["summary"],
            format!("when {}", ra["when"]["summary"].as_str().unwrap())
        );
    }
    assert!(
        b["steps"][0]["title"]
            .as_str()
            .unwrap()
            .ends_with(" (reviewed)")
    );
    let revision = b["revisions"].as_array().unwrap().last().unwrap()["summary"].clone();
    assert!(
        revision
            .as_str()
            .unwrap()
            .contains("wording by echo-7b (purpose, step titles"),
        "{revision}"
    );
}

#[test]
fn without_the_model_the_deterministic_draft_is_kept_and_said() {
    let world = recorded(
        "[llm]\nenabled = true\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"gone\"\ntimeout_secs = 2\nretries = 0\n",
    );
    let out = world.tacit(&["draft", "deploy-web"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("kept the deterministic draft: cannot reach"),
        "{stderr}"
    );
    let plain = drafted();
    let shape = |s: &Value| -> Vec<(Value, Value)> {
        s["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|st| (st["title"].clone(), st["commands"].clone()))
            .collect()
    };
    assert_eq!(shape(&sop(&world)), shape(&sop(&plain)));

    // Turned on without a model: a usage error before anything is drafted.
    let world = recorded("[llm]\nenabled = true\nmodel = \"\"\n");
    let out = world.tacit(&["draft", "deploy-web"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn at_a_failure_no_rule_covers_the_run_shows_the_models_idea_first() {
    let secret = "ghp_R8tY2kW9qLm4Zp7Xc1Vb6Nn3Hs5Dd0Ff2Gg8";
    let (base, bodies) =
        model(|_| "Check that the service restarted; it may still run the old build.".into());
    let world = World::new();
    std::fs::write(
        world.dir.path().join("config.toml"),
        format!(
            "[llm]\nenabled = true\nbase_url = \"{base}\"\nmodel = \"idea-3b\"\ntimeout_secs = 20\n"
        ),
    )
    .unwrap();
    let work = import_runbook(
        &world,
        "check-app",
        &format!(
            "# Check the app\n\n## Steps\n\n1. Check health\n\n   ```sh\n   echo 'unhealthy with token {secret}'; false\n   ```\n"
        ),
    );
    let out = world
        .command(&["run", "check-app", "--yes", "--shell", "bash"])
        .current_dir(&work)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(12), "{stdout}");
    assert!(
        stdout.contains("A model's suggestion (idea-3b, unverified"),
        "{stdout}"
    );
    assert!(
        stdout.contains("it may still run the old build"),
        "{stdout}"
    );
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].contains("Check health") && bodies[0].contains("unhealthy"),
        "{}",
        bodies[0]
    );
    assert!(
        !bodies[0].contains(secret),
        "the secret left the machine: {}",
        bodies[0]
    );
    assert!(!bodies[0].contains("response_format"), "{}", bodies[0]);
}
