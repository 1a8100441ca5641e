//! `tacit mcp` (issue "AI agents work inside tacit"): an agent-like client
//! speaks JSON-RPC to the real binary over stdio, line by line, as an MCP
//! client does, and answers the server's elicitation requests as a person
//! at the client would.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use serde_json::{Value, json};
use support::*;

/// What the person at the client answers when the server asks.
type Person = Box<dyn FnMut(&Value) -> Value>;

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    next_id: u64,
    person: Person,
    /// Server requests seen (elicitations).
    asked: Vec<Value>,
}

impl Client {
    fn start(
        world: &World,
        cwd: &Path,
        args: &[&str],
        capabilities: Value,
        person: Person,
    ) -> Client {
        let mut all = vec!["mcp", "--shell", "bash"];
        all.extend_from_slice(args);
        let mut child = world
            .command(&all)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut c = Client {
            child,
            stdin,
            lines,
            next_id: 1,
            person,
            asked: Vec::new(),
        };
        let init = c.request(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": capabilities,
                "clientInfo": {"name": "test-agent", "version": "1.0"},
            }),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "tacit", "{init}");
        c.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        c
    }

    fn send(&mut self, msg: &Value) {
        self.send_raw(format!("{msg}\n").as_bytes());
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Reads until the response to `id`, answering server requests.
    fn response(&mut self, id: u64) -> Value {
        loop {
            let line = match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(l) => l,
                Err(RecvTimeoutError::Timeout) => panic!("no answer to request {id} in 120 s"),
                Err(RecvTimeoutError::Disconnected) => panic!("tacit mcp closed stdout"),
            };
            let msg: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not JSON on stdout ({e}): {line}"));
            if msg.get("method").is_some() && msg.get("id").is_some() {
                // A request from the server: the person answers it.
                self.asked.push(msg.clone());
                let result = (self.person)(&msg);
                let reply = json!({"jsonrpc": "2.0", "id": msg["id"], "result": result});
                self.send(&reply);
                continue;
            }
            if msg["id"] == json!(id) {
                return msg;
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.response(id)
    }

    /// Calls a tool: (is it a tool error, the text).
    fn call_text(&mut self, tool: &str, args: Value) -> (bool, String) {
        let r = self.request("tools/call", json!({"name": tool, "arguments": args}));
        let result = &r["result"];
        assert!(result.is_object(), "{tool}: not a tool result: {r}");
        let text = result["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (result["isError"] == json!(true), text)
    }

    /// Calls a tool that must succeed; its JSON answer.
    fn call(&mut self, tool: &str, args: Value) -> Value {
        let (error, text) = self.call_text(tool, args.clone());
        assert!(!error, "{tool}({args}) failed: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{tool}: {e}: {text}"))
    }

    /// Calls a tool that must fail; its message.
    fn refused(&mut self, tool: &str, args: Value) -> String {
        let (error, text) = self.call_text(tool, args.clone());
        assert!(error, "{tool}({args}) should have been refused: {text}");
        text
    }

    fn close(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("tacit mcp did not exit when its stdin closed");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn names(list: &Value) -> Vec<String> {
    list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

const WRITE_TOOLS: [&str; 7] = [
    "start_run",
    "run_step",
    "record_step",
    "ask_human",
    "record_decision",
    "finish_run",
    "propose_change",
];

#[test]
fn an_agent_follows_the_deploy_sop_asks_the_person_and_leaves_evidence() {
    if !require_shell("bash") {
        return;
    }
    let world = drafted();
    let dir = fresh(&world, "agent");
    broken_health(&dir);
    let fixed = dir.join("state/fixed");
    let person: Person = Box::new(move |req: &Value| {
        assert_eq!(req["method"], "elicitation/create");
        // The person fixes the cause, then says what they did and why.
        std::fs::write(&fixed, "").unwrap();
        json!({"action": "accept", "content": {
            "action": "Restarted the app so it reads the new VERSION file",
            "reason": "The running process caches the version at start",
        }})
    });
    let mut c = Client::start(
        &world,
        &dir,
        &["--allow-write"],
        json!({"elicitation": {}}),
        person,
    );

    // It lists the tools.
    let tools = c.request("tools/list", json!({}));
    let listed = names(&tools);
    for t in ["search_sops", "get_sop", "list_runs", "get_run"]
        .iter()
        .chain(WRITE_TOOLS.iter())
    {
        assert!(
            listed.contains(&t.to_string()),
            "{t} missing from {listed:?}"
        );
    }
    for t in tools["result"]["tools"].as_array().unwrap() {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
    }

    // It searches and reads an SOP.
    let found = c.call("search_sops", json!({"query": "deploy"}));
    assert_eq!(found["sops"][0]["id"], "deploy-web", "{found}");
    let md = c.call("get_sop", json!({"sop": "deploy-web"}));
    let markdown = md["markdown"].as_str().unwrap();
    assert!(markdown.contains("migrate.sh"), "{markdown}");
    let as_json = c.call(
        "get_sop",
        json!({"sop": "deploy-web", "format": "json", "version": 1}),
    );
    assert_eq!(as_json["sop"]["id"], "deploy-web");
    assert!(!as_json["sop"]["rules"].as_array().unwrap().is_empty());

    // It starts a run: the parameters filled in, the first step with its why.
    let started = c.call(
        "start_run",
        json!({"sop": "deploy-web", "params": {"version": "1.4.2"}, "cwd": dir}),
    );
    let run = started["run"].as_str().unwrap().to_string();
    assert_eq!(started["params"]["version"], "1.4.2");
    assert_eq!(started["author"], "test-agent");
    let mut next = started["next"].clone();
    assert_eq!(next["what"], "step", "{started:#}");
    assert_eq!(next["step"], 1);

    // It runs steps, meets the stale lock and applies the rule, meets the
    // unknown failure and asks the person.
    let (mut rules, mut asked, mut steps) = (0, 0, 0);
    let mut outputs = String::new();
    for _ in 0..40 {
        let answer = match next["what"].as_str().unwrap() {
            "step" => {
                steps += 1;
                c.call("run_step", json!({"run": run}))
            }
            "rule" => {
                rules += 1;
                let rule = &next["rule"];
                assert!(
                    rule["because"].as_str().is_some_and(|b| !b.is_empty()),
                    "a rule comes with its reason: {next:#}"
                );
                c.call("run_step", json!({"run": run, "apply_rule": true}))
            }
            "unknown" => {
                asked += 1;
                // run_step is refused until someone decides.
                let why = c.refused("run_step", json!({"run": run}));
                assert!(why.contains("ask_human"), "{why}");
                let a = c.call(
                    "ask_human",
                    json!({"run": run, "question": "The health check reports the old version. What now?"}),
                );
                assert_eq!(a["asked"], true, "{a:#}");
                a
            }
            "after_failure" => c.call("run_step", json!({"run": run})),
            "end" => break,
            other => panic!("unexpected {other}: {next:#}"),
        };
        for e in answer["happened"].as_array().unwrap() {
            if let Some(o) = e["output"].as_str() {
                outputs.push_str(o);
            }
        }
        next = answer["next"].clone();
    }
    assert_eq!(next["what"], "end", "{next:#}");
    assert_eq!(rules, 1, "the stale lock's rule");
    assert_eq!(asked, 1, "the unknown failure");
    assert!(steps >= 4, "{steps} steps");
    assert!(outputs.contains("healthy"), "{outputs}");
    assert_eq!(c.asked.len(), 1, "one elicitation");
    let message = c.asked[0]["params"]["message"].as_str().unwrap();
    assert!(message.contains("old version"), "{message}");

    // It records a non-shell action, with a secret in it that must not stay.
    let secret = "ghp_R8tY2kW9qLm4Zp7Xc1Vb6Nn3Hs5Dd0Ff2Gg8";
    let recorded = c.call(
        "record_step",
        json!({"run": run, "kind": "tool", "tool": "slack", "action": "posted the release note",
               "arguments": {"channel": "#releases", "text": "1.4.2 is out", "token": secret},
               "result": {"ok": true}}),
    );
    assert_eq!(recorded["recorded"]["kind"], "action");
    assert!(!recorded.to_string().contains(secret), "{recorded}");

    // It finishes; a second finish is refused.
    let done = c.call(
        "finish_run",
        json!({"run": run, "outcome": "succeeded", "summary": "1.4.2 is live"}),
    );
    assert_eq!(done["outcome"], "succeeded", "{done:#}");
    // The answer, and the retried success check (a deviation), as `tacit run`.
    assert_eq!(done["proposals_filed"], 2, "{done:#}");
    assert!(
        done["message"].as_str().unwrap().contains("by test-agent"),
        "{done:#}"
    );
    let twice = c.refused("finish_run", json!({"run": run, "outcome": "succeeded"}));
    assert!(twice.contains("already finished"), "{twice}");
    assert!(c.close().success());

    // The run is evidence like a person's: listed with the agent as author,
    // its chain intact, its answer on its way to the owner.
    let runs = world.tacit(&["runs", "--json"]);
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let mine = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == run.as_str())
        .unwrap_or_else(|| panic!("{run} not in tacit runs: {runs:#}"));
    assert_eq!(mine["user"], "test-agent");
    assert_eq!(mine["status"], "completed");
    let verify = world.tacit(&["runs", "verify", &run]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let shown = world.tacit(&["runs", "show", &run]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("[slack] posted the release note"), "{shown}");
    let props = world.tacit(&["proposals", "deploy-web", "--json"]);
    let props = String::from_utf8_lossy(&props.stdout);
    assert!(
        props.contains("Restarted the app so it reads the new VERSION file"),
        "{props}"
    );
    let db = std::fs::read(world.db()).unwrap();
    let wal = std::fs::read(world.db().with_extension("db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the secret reached the library"
        );
    }

    // It drafts into an SOP, with the action as a manual step.
    let out = world.tacit(&["draft", "deploy-web", "--runs", &run]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let sop = world.tacit(&["show", "deploy-web", "--format", "json"]);
    let sop: Value = serde_json::from_slice(&sop.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&sop.stdout)));
    // Notes are the operator's words: an agent's bookkeeping is not one.
    assert!(
        !sop["sop"]["purpose"]
            .as_str()
            .unwrap()
            .contains("tacit mcp"),
        "{sop:#}"
    );
    let steps = sop["sop"]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("{}\n{sop:#}", String::from_utf8_lossy(&out.stdout)));
    let note = steps
        .iter()
        .find(|s| s["title"] == "Posted the release note")
        .unwrap_or_else(|| panic!("no manual step from the action: {sop:#}"));
    assert!(note["commands"].as_array().unwrap().is_empty());
    assert!(note["instruction"].as_str().unwrap().contains("slack"));
    assert!(
        steps.iter().any(|s| s["commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("migrate.sh"))),
        "{sop:#}"
    );
}

#[test]
fn write_tools_are_refused_without_allow_write() {
    let world = drafted();
    let dir = fresh(&world, "readonly");
    let mut c = Client::start(&world, &dir, &[], json!({}), Box::new(|_| json!({})));
    let listed = names(&c.request("tools/list", json!({})));
    assert_eq!(listed, ["search_sops", "get_sop", "list_runs", "get_run"]);
    for tool in WRITE_TOOLS {
        let why = c.refused(tool, json!({"run": "x", "sop": "deploy-web"}));
        assert!(why.contains("--allow-write"), "{tool}: {why}");
    }
    // Nothing was started or stored.
    assert!(
        c.call("list_runs", json!({"sop": "deploy-web"}))["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["user"] != "test-agent")
    );
    assert!(c.close().success());
}

/// Another team's SOP with a rule for what the deploy's broken health
/// check prints.
const RESTART_APP: &str = "---
id: restart-app
title: Restart the app
version: 1
---

# Restart the app

## Procedure

### 1. Restart it

```sh
systemctl restart webapp
```

## Decision rules

### Any step

- **When** the app still runs the old version
  (output contains `unhealthy: running`)
  → **Then** Restart the app so it reads the new VERSION file
  → **Because** The process reads VERSION only at start
";

#[test]
fn without_elicitation_the_agent_is_told_to_ask_in_chat_and_record_the_decision() {
    let world = drafted();
    let dir = fresh(&world, "chat");
    broken_health(&dir);
    import_runbook(&world, "restart-app", RESTART_APP);
    let mut c = Client::start(
        &world,
        &dir,
        &["--allow-write"],
        json!({}),
        Box::new(|req| panic!("no elicitation expected: {req}")),
    );
    let started = c.call(
        "start_run",
        json!({"sop": "deploy-web", "params": {"version": "1.4.2"}, "cwd": dir}),
    );
    let run = started["run"].as_str().unwrap().to_string();
    let mut next = started["next"].clone();
    for _ in 0..20 {
        if next["what"] == "unknown" {
            break;
        }
        next = c.call("run_step", json!({"run": run}))["next"].clone();
    }
    assert_eq!(next["what"], "unknown", "{next:#}");
    // The library's similar rules come first, with their reasons.
    let similar = &next["similar"][0];
    assert_eq!(similar["sop"], "restart-app", "{next:#}");
    assert_eq!(
        similar["rule"]["because"],
        "The process reads VERSION only at start"
    );
    let asked = c.call("ask_human", json!({"run": run, "question": "What now?"}));
    assert_eq!(asked["asked"], false);
    assert!(
        asked["instruction"]
            .as_str()
            .unwrap()
            .contains("record_decision")
    );
    // A decision needs its reason.
    let why = c.refused(
        "record_decision",
        json!({"run": run, "action": "rolled back", "reason": " "}),
    );
    assert!(why.contains("reason"), "{why}");
    let decided = c.call(
        "record_decision",
        json!({"run": run, "action": "Rolled back to 1.3.9", "reason": "Never leave prod on a half-deployed version",
               "escalate": "if the rollback fails too"}),
    );
    assert_eq!(decided["next"]["what"], "after_failure", "{decided:#}");
    // Ending early is not success.
    let why = c.refused("finish_run", json!({"run": run, "outcome": "succeeded"}));
    assert!(why.contains("not done"), "{why}");
    let done = c.call(
        "finish_run",
        json!({"run": run, "outcome": "escalated", "summary": "rolled back, paged the on-call"}),
    );
    assert_eq!(done["said"], "escalated");
    // The agent stopped the run: how it ended is its call, on record.
    assert_eq!(done["outcome"], "escalated", "{done:#}");
    assert!(c.close().success());
    let runs = world.tacit(&["runs", "--json"]);
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let listed = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == run.as_str())
        .unwrap();
    assert_eq!(listed["outcome"], "escalated", "{listed:#}");
    let props = world.tacit(&["proposals", "deploy-web", "--json"]);
    let props = String::from_utf8_lossy(&props.stdout);
    assert!(
        props.contains("Never leave prod on a half-deployed version"),
        "{props}"
    );
    let verify = world.tacit(&["runs", "verify", &run]);
    assert!(verify.status.success());

    // `tacit run` shows the same suggestion before it asks.
    let again = fresh(&world, "chat-cli");
    broken_health(&again);
    let out = run_yes(&world, &again, &["--param", "version=1.4.2"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("Elsewhere in the library"), "{shown}");
    assert!(shown.contains("Restart the app (restart-app)"), "{shown}");
    assert!(
        shown.contains("The process reads VERSION only at start"),
        "{shown}"
    );
}

#[test]
fn bad_input_to_every_tool_is_a_clear_tool_error_and_the_server_goes_on() {
    let world = drafted();
    let dir = fresh(&world, "bad");
    let mut c = Client::start(
        &world,
        &dir,
        &["--allow-write"],
        json!({}),
        Box::new(|_| json!({})),
    );
    // Unknown runs, for every tool that takes one.
    for tool in [
        "run_step",
        "record_step",
        "ask_human",
        "record_decision",
        "finish_run",
    ] {
        let why = c.refused(
            tool,
            json!({"run": "no-such-run", "kind": "tool", "action": "a", "question": "q",
                   "reason": "r", "outcome": "failed"}),
        );
        assert!(
            why.contains("no-such-run") || why.contains("do not fit"),
            "{tool}: {why}"
        );
    }
    assert!(
        c.refused("get_run", json!({"run": "no-such-run"}))
            .contains("no-such-run")
    );
    assert!(
        c.refused("get_sop", json!({"sop": "no-such-sop"}))
            .contains("no-such-sop")
    );
    // Wrong params: a missing field, an unknown one, a wrong type.
    assert!(c.refused("get_sop", json!({})).contains("sop"));
    assert!(
        c.refused("search_sops", json!({"qeury": "x"}))
            .contains("qeury")
    );
    assert!(
        c.refused("get_sop", json!({"sop": 7}))
            .contains("do not fit")
    );
    let why = c.refused("start_run", json!({"sop": "deploy-web"}));
    assert!(why.contains("version"), "{why}");
    let why = c.refused(
        "start_run",
        json!({"sop": "deploy-web", "params": {"version": "1", "colour": "red"}}),
    );
    assert!(why.contains("colour"), "{why}");
    let why = c.refused("propose_change", json!({"sop": "deploy-web", "text": "  "}));
    assert!(why.contains("text"), "{why}");
    // An unknown tool is a protocol error, not a crash.
    let r = c.request("tools/call", json!({"name": "rm_rf", "arguments": {}}));
    assert!(
        r["error"]["message"].as_str().unwrap().contains("rm_rf"),
        "{r}"
    );

    // Invalid UTF-8 and a lone surrogate on the wire: the server goes on.
    c.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":900,\"method\":\"tools/list\",\"params\":{\"x\":\"\xff\xfe\"}}\n");
    c.send_raw(b"{\"jsonrpc\":\"2.0\",\"id\":901,\"method\":\"tools/call\",\"params\":{\"name\":\"search_sops\",\"arguments\":{\"query\":\"\\ud800\"}}}\n");
    c.send_raw(b"not json at all\n");
    let found = c.call("search_sops", json!({"query": "deploy"}));
    assert_eq!(found["sops"][0]["id"], "deploy-web");

    // Huge output, and text that is not valid UTF-8 once decoded lossily.
    let started = c.call(
        "start_run",
        json!({"sop": "deploy-web", "params": {"version": "1.4.2"}, "cwd": dir}),
    );
    let run = started["run"].as_str().unwrap().to_string();
    // Over the transport's 16 MB line limit: dropped unanswered, and the
    // server is still there.
    let too_big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":902,\"method\":\"tools/list\",\"params\":{{\"pad\":\"{}\"}}}}\n",
        "x".repeat(17 * 1024 * 1024)
    );
    c.send_raw(too_big.as_bytes());
    let huge = "x".repeat(8 * 1024 * 1024);
    let r = c.call(
        "record_step",
        json!({"run": run, "kind": "shell", "action": "cat big.log", "exit_code": 0, "output": huge}),
    );
    let shown = r["recorded"]["output"].as_str().unwrap();
    assert!(shown.len() < 64 * 1024, "{} bytes shown", shown.len());
    let r = c.call(
        "record_step",
        json!({"run": run, "kind": "tool", "tool": "http", "action": "GET /status \u{fffd}\u{1b}[31m",
               "result": "\u{0}\u{fffd}"}),
    );
    assert_eq!(r["recorded"]["kind"], "action");
    let done = c.call("finish_run", json!({"run": run, "outcome": "aborted"}));
    assert_eq!(done["outcome"], "aborted");
    let twice = c.refused("finish_run", json!({"run": run, "outcome": "aborted"}));
    assert!(twice.contains("already finished"), "{twice}");
    let again = c.refused("run_step", json!({"run": run}));
    assert!(again.contains("already finished"), "{again}");
    let evidence = c.call("get_run", json!({"run": run}));
    assert_eq!(evidence["chain"]["intact"], true, "{}", evidence["chain"]);
    assert!(evidence.to_string().len() < 1024 * 1024);
    assert!(c.close().success());
    let verify = world.tacit(&["runs", "verify", &run]);
    assert!(verify.status.success());
}

#[test]
fn every_sop_exports_as_a_skill_folder_that_reads_back() {
    let world = drafted();
    let md = world.dir.path().join("ops.md");
    std::fs::write(
        &md,
        "# Rotate the TLS certificate\n\n## Steps\n\n1. Renew it\n\n   ```sh\n   certbot renew --cert-name shop\n   ```\n\n2. Reload nginx\n\n   ```sh\n   systemctl reload nginx\n   ```\n",
    )
    .unwrap();
    assert!(
        world
            .tacit(&["import", md.to_str().unwrap()])
            .status
            .success()
    );
    let out_dir = world.dir.path().join("skills");
    let out = world.tacit(&["export", "--format", "skill", out_dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote 2 skill(s)"));
    for (folder, id, command) in [
        ("deploy-web", "deploy-web", "./deploy/migrate.sh"),
        ("ops", "ops", "systemctl reload nginx"),
    ] {
        let text = std::fs::read_to_string(out_dir.join(folder).join("SKILL.md")).unwrap();
        assert!(
            text.starts_with(&format!("---\nname: {folder}\ndescription: ")),
            "{text}"
        );
        assert!(text.contains(&format!("`sop: \"{id}\"`")), "{text}");
        let back = tacit_sop::import_markdown(&text, folder).unwrap().sop;
        assert!(
            back.steps
                .iter()
                .any(|s| s.commands.iter().any(|c| c.contains(command))),
            "{back:#?}"
        );
    }

    // The same skills over MCP: listed, fetched, and read as the same text.
    let dir = fresh(&world, "skills-mcp");
    let mut c = Client::start(&world, &dir, &[], json!({}), Box::new(|_| json!({})));
    let listed = c.request("skills/list", json!({}));
    let skills = listed["result"]["skills"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"));
    let uris: Vec<&str> = skills.iter().map(|s| s["uri"].as_str().unwrap()).collect();
    assert_eq!(uris.len(), 2, "{listed}");
    assert!(uris.contains(&"skill://deploy-web/SKILL.md"), "{uris:?}");
    let got = c.request("skills/get", json!({"uri": "skill://ops/SKILL.md"}));
    assert_eq!(
        got["result"]["skill"]["frontmatter"]["name"], "ops",
        "{got}"
    );
    let read = c.request(
        "resources/read",
        json!({"uri": "skill://deploy-web/SKILL.md"}),
    );
    let text = read["result"]["contents"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{read}"));
    assert_eq!(
        text,
        std::fs::read_to_string(out_dir.join("deploy-web/SKILL.md")).unwrap()
    );
    let missing = c.request("resources/read", json!({"uri": "skill://nope/SKILL.md"}));
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nope"),
        "{missing}"
    );
    assert!(c.close().success());
}
