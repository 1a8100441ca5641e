//! LLM drafting that cannot lie: an OpenAI-compatible chat model (Ollama,
//! llama.cpp's server, vLLM, OpenAI) may reword the deterministic draft's
//! prose and names, and nothing else.
//!
//! - What it may change: purpose and when to use, step titles and a
//!   description for steps that have none, parameter names (renamed
//!   consistently everywhere) and descriptions, and how a rule's condition
//!   is worded.
//! - What it may not: any command, any step, rule or parameter added or
//!   dropped, the operator's action or reason in a rule. The answer restates
//!   commands and reasons, and [`check`] compares them with the draft.
//! - The exchange is one JSON schema (structured output where the server
//!   supports it). A rejected answer is retried once with the reason; then
//!   the deterministic draft is kept, and the caller is told why.
//! - Only redacted text is sent: the draft (made from redacted runs) and an
//!   excerpt of the runs, redacted again here.
//! - The SOP's revision says which parts the model wrote and which model.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tacit_draft::RunInput;
use tacit_redact::Redactor;
use tacit_sop::Sop;

/// Where the model is.
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// e.g. `http://127.0.0.1:11434/v1` (the path ends before
    /// `/chat/completions`).
    pub base_url: String,
    pub model: String,
    /// Sent as a bearer token when set.
    pub api_key: Option<String>,
    /// For one request.
    pub timeout: Duration,
    /// Extra attempts after a network failure, a timeout or a 5xx.
    pub retries: u32,
}

/// What polishing did.
#[derive(Debug, Clone, PartialEq)]
pub enum PolishOutcome {
    /// The model's wording is in the SOP.
    Applied { model: String, parts: Vec<String> },
    /// The deterministic draft is kept, because of this.
    Kept { reason: String },
}

impl PolishOutcome {
    /// For the revision's summary: which parts the model wrote, and which
    /// model. `None` when it changed nothing.
    pub fn credit(&self) -> Option<String> {
        match self {
            PolishOutcome::Applied { model, parts } if !parts.is_empty() => {
                Some(format!("wording by {model} ({})", parts.join(", ")))
            }
            _ => None,
        }
    }
}

/// The draft, polished or as it was, and what happened.
#[derive(Debug, Clone)]
pub struct Polished {
    pub sop: Sop,
    pub outcome: PolishOutcome,
}

/// The answer the model must give.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    purpose: String,
    when_to_use: String,
    steps: Vec<AnswerStep>,
    parameters: Vec<AnswerParam>,
    rules: Vec<AnswerRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerStep {
    title: String,
    description: String,
    commands: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerParam {
    name: String,
    new_name: String,
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerRule {
    when: String,
    then: String,
    because: String,
}

fn schema() -> Value {
    let strings = |names: &[&str]| -> Value {
        let props: serde_json::Map<String, Value> = names
            .iter()
            .map(|n| (n.to_string(), json!({"type": "string"})))
            .collect();
        json!({"type": "object", "properties": props, "required": names, "additionalProperties": false})
    };
    let mut step = strings(&["title", "description"]);
    step["properties"]["commands"] = json!({"type": "array", "items": {"type": "string"}});
    step["required"] = json!(["title", "description", "commands"]);
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["purpose", "when_to_use", "steps", "parameters", "rules"],
        "properties": {
            "purpose": {"type": "string"},
            "when_to_use": {"type": "string"},
            "steps": {"type": "array", "items": step},
            "parameters": {"type": "array", "items": strings(&["name", "new_name", "description"])},
            "rules": {"type": "array", "items": strings(&["when", "then", "because"])},
        }
    })
}

const SYSTEM: &str = "You improve the wording of a standard operating procedure (SOP) drafted by a program from recorded terminal sessions. \
Answer with JSON only, in the given schema. You may reword: purpose, when_to_use, each step's title and description, each parameter's new_name (lowercase, [a-z][a-z0-9_]*) and description, and each rule's `when`. \
You must copy exactly, in the same order: every step (no step added, dropped or merged), every command of every step (a renamed parameter appears as <<new_name>> in them), every parameter's `name`, every rule's `then` and `because` (these are the operator's own words). Never invent a command, a step, a parameter or a reason. \
Keep it short and plain; do not mention that you are a model.";

/// The draft as the model sees it.
fn request_view(sop: &Sop, runs: &str) -> Value {
    json!({
        "title": sop.title,
        "purpose": sop.purpose,
        "when_to_use": sop.when_to_use,
        "steps": sop.steps.iter().map(|s| json!({
            "title": s.title,
            "description": s.instruction.clone().unwrap_or_default(),
            "commands": s.commands,
            "why": s.why,
        })).collect::<Vec<_>>(),
        "parameters": sop.parameters.iter().map(|p| json!({
            "name": p.name, "new_name": p.name, "description": p.description,
        })).collect::<Vec<_>>(),
        "rules": sop.rules.iter().map(|r| json!({
            "when": r.when.summary, "then": r.then, "because": r.because,
        })).collect::<Vec<_>>(),
        "runs": runs,
    })
}

/// What the runs showed, briefly, redacted again.
fn runs_excerpt(runs: &[RunInput], redactor: &Redactor) -> String {
    let mut out = String::new();
    for run in runs {
        out.push_str(&format!("run {} by {}:\n", run.meta.id, run.meta.user));
        for e in &run.events {
            let line = match &e.body {
                tacit_core::EventBody::Command(c) => {
                    format!("$ {} (exit {:?})", c.command, c.exit_code)
                }
                tacit_core::EventBody::Answer(a) => {
                    format!("answer: {} because {}", a.action, a.reason)
                }
                tacit_core::EventBody::Note { text } => format!("note: {text}"),
                tacit_core::EventBody::Why { text, .. } => format!("why: {text}"),
                _ => continue,
            };
            out.push_str(&line);
            out.push('\n');
            if out.len() > 12 * 1024 {
                break;
            }
        }
    }
    redactor.redact(&out).into_owned()
}

/// Why an answer cannot be used, or the renames it makes.
fn check(draft: &Sop, a: &Answer) -> Result<BTreeMap<String, String>, String> {
    if a.steps.len() != draft.steps.len() {
        return Err(format!(
            "the draft has {} steps and the answer {}: no step may be added or dropped",
            draft.steps.len(),
            a.steps.len()
        ));
    }
    if a.rules.len() != draft.rules.len() {
        return Err(format!(
            "the draft has {} rules and the answer {}: no rule may be added or dropped",
            draft.rules.len(),
            a.rules.len()
        ));
    }
    if a.parameters.len() != draft.parameters.len() {
        return Err(format!(
            "the draft has {} parameters and the answer {}: no parameter may be added or dropped",
            draft.parameters.len(),
            a.parameters.len()
        ));
    }
    let valid = tacit_sop::model::placeholder_regex();
    let mut renames = BTreeMap::new();
    for (p, ap) in draft.parameters.iter().zip(&a.parameters) {
        if ap.name != p.name {
            return Err(format!("parameter \"{}\" is not in the draft", ap.name));
        }
        if !valid.is_match(&format!("<<{}>>", ap.new_name)) {
            return Err(format!("\"{}\" is not a valid parameter name", ap.new_name));
        }
        if renames.values().any(|n| n == &ap.new_name) {
            return Err(format!("two parameters renamed to \"{}\"", ap.new_name));
        }
        renames.insert(p.name.clone(), ap.new_name.clone());
    }
    for (i, (s, st)) in draft.steps.iter().zip(&a.steps).enumerate() {
        if st.title.trim().is_empty() {
            return Err(format!("step {} has no title", i + 1));
        }
        let expected: Vec<String> = s.commands.iter().map(|c| rename(c, &renames)).collect();
        if st.commands != expected {
            let invented = st
                .commands
                .iter()
                .find(|c| !expected.contains(c))
                .map(|c| format!("`{c}` is not a command of the draft"))
                .unwrap_or_else(|| "a command of the draft was dropped or moved".into());
            return Err(format!("step {} (\"{}\"): {invented}", i + 1, s.title));
        }
    }
    for (i, (r, ar)) in draft.rules.iter().zip(&a.rules).enumerate() {
        if ar.because != r.because {
            return Err(format!(
                "rule {}: the reason is the operator's and must stay as written",
                i + 1
            ));
        }
        if ar.then != r.then {
            return Err(format!(
                "rule {}: the action is the operator's and must stay as written",
                i + 1
            ));
        }
        if ar.when.trim().is_empty() {
            return Err(format!("rule {} has no condition", i + 1));
        }
    }
    Ok(renames)
}

/// `<<old>>` → `<<new>>`, for every renamed parameter.
fn rename(text: &str, renames: &BTreeMap<String, String>) -> String {
    tacit_sop::model::placeholder_regex()
        .replace_all(text, |c: &regex::Captures| {
            let name = &c[1];
            format!("<<{}>>", renames.get(name).map_or(name, String::as_str))
        })
        .into_owned()
}

/// Puts `new` in `field` when it says something else; notes `what`.
fn reword(field: &mut String, new: String, what: &str, parts: &mut Vec<String>) {
    let new = new.trim().to_string();
    if !new.is_empty() && new != *field {
        *field = new;
        note(parts, what);
    }
}

fn note(parts: &mut Vec<String>, what: &str) {
    if !parts.iter().any(|p| p == what) {
        parts.push(what.to_string());
    }
}

/// The draft with the answer's wording, and which parts changed.
fn apply(draft: &Sop, a: Answer, renames: &BTreeMap<String, String>) -> (Sop, Vec<String>) {
    let mut sop = draft.clone();
    let mut parts = Vec::new();
    reword(&mut sop.purpose, a.purpose, "purpose", &mut parts);
    reword(
        &mut sop.when_to_use,
        a.when_to_use,
        "when to use",
        &mut parts,
    );
    for (s, st) in sop.steps.iter_mut().zip(a.steps) {
        reword(&mut s.title, st.title, "step titles", &mut parts);
        if s.instruction.is_none() && !st.description.trim().is_empty() {
            s.instruction = Some(st.description.trim().to_string());
            note(&mut parts, "step descriptions");
        }
        for c in &mut s.commands {
            *c = rename(c, renames);
        }
    }
    for (p, ap) in sop.parameters.iter_mut().zip(a.parameters) {
        reword(&mut p.name, ap.new_name, "parameter names", &mut parts);
        reword(
            &mut p.description,
            ap.description,
            "parameter descriptions",
            &mut parts,
        );
    }
    let titles: Vec<String> = sop.steps.iter().map(|s| s.title.clone()).collect();
    for (r, ar) in sop.rules.iter_mut().zip(a.rules) {
        reword(&mut r.when.summary, ar.when, "rule wording", &mut parts);
        for c in &mut r.then_commands {
            *c = rename(c, renames);
        }
        // A rule names its step by title: it follows the new one.
        if let Some(step) = &mut r.step
            && let Some(i) = draft.steps.iter().position(|s| &s.title == step)
        {
            *step = titles[i].clone();
        }
    }
    for p in &mut sop.prerequisites {
        if let Some(c) = &mut p.check {
            *c = rename(c, renames);
        }
    }
    for c in &mut sop.success_checks {
        if let Some(cmd) = &mut c.command {
            *cmd = rename(cmd, renames);
        }
    }
    (sop, parts)
}

/// One request: the model's message content, or why there is none.
fn ask(
    agent: &ureq::Agent,
    settings: &LlmSettings,
    messages: &[Value],
    structured: bool,
) -> Result<String, String> {
    let url = format!(
        "{}/chat/completions",
        settings.base_url.trim_end_matches('/')
    );
    let mut body = json!({
        "model": settings.model,
        "temperature": 0,
        "messages": messages,
    });
    if structured {
        body["response_format"] = json!({"type": "json_schema", "json_schema": {
            "name": "sop_wording", "strict": true, "schema": schema(),
        }});
    }
    let body = body.to_string();
    let mut attempt = 0;
    loop {
        let mut req = agent.post(&url).content_type("application/json");
        if let Some(key) = &settings.api_key {
            req = req.header("Authorization", &format!("Bearer {key}"));
        }
        let failure = match req.send(body.as_str()) {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let text = resp
                    .body_mut()
                    .with_config()
                    .limit(16 * 1024 * 1024)
                    .read_to_string()
                    .unwrap_or_default();
                if status < 300 {
                    let v: Value = serde_json::from_str(&text)
                        .map_err(|e| format!("the server's answer is not JSON: {e}"))?;
                    return v["choices"][0]["message"]["content"]
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| "the server's answer has no message content".into());
                }
                if status < 500 {
                    return Err(format!(
                        "{url} answered {status}: {}",
                        text.chars().take(300).collect::<String>()
                    ));
                }
                format!("{url} answered {status}")
            }
            Err(ureq::Error::Timeout(_)) => format!(
                "{url} did not answer within {} s",
                settings.timeout.as_secs()
            ),
            Err(e) => format!("cannot reach {url}: {e}"),
        };
        if attempt >= settings.retries {
            return Err(failure);
        }
        attempt += 1;
        std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
    }
}

/// Polishes `draft`'s wording with the model. Never fails: on any problem
/// the draft comes back as it was, with the reason.
pub fn polish(
    draft: &Sop,
    runs: &[RunInput],
    settings: &LlmSettings,
    redactor: &Redactor,
) -> Polished {
    let kept = |reason: String| Polished {
        sop: draft.clone(),
        outcome: PolishOutcome::Kept { reason },
    };
    let agent = agent(settings);
    let view = request_view(draft, &runs_excerpt(runs, redactor));
    // The draft comes from redacted runs; it is redacted again all the same.
    let user = redactor.redact(&view.to_string()).into_owned();
    let mut messages = vec![
        json!({"role": "system", "content": SYSTEM}),
        json!({"role": "user", "content": user}),
    ];
    for round in 0..2 {
        let content = match ask(&agent, settings, &messages, true) {
            Ok(c) => c,
            Err(why) => return kept(why),
        };
        let problem = match serde_json::from_str::<Answer>(&content) {
            Err(e) => format!("the answer is not the JSON asked for: {e}"),
            Ok(answer) => match check(draft, &answer) {
                Ok(renames) => {
                    let (sop, parts) = apply(draft, answer, &renames);
                    return Polished {
                        sop,
                        outcome: PolishOutcome::Applied {
                            model: settings.model.clone(),
                            parts,
                        },
                    };
                }
                Err(why) => why,
            },
        };
        if round == 1 {
            return kept(format!("the model's answer was rejected twice: {problem}"));
        }
        messages.push(json!({"role": "assistant", "content": content}));
        messages.push(json!({"role": "user", "content": format!(
            "That answer cannot be used: {problem}. Answer again, copying every command, `then` and `because` exactly."
        )}));
    }
    kept("no answer".into())
}

fn agent(settings: &LlmSettings) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(settings.timeout))
        .build()
        .into()
}

const SUGGEST_SYSTEM: &str = "A person is following a standard operating procedure in a terminal. A command failed in a way the procedure does not cover. \
In at most three short sentences, say what you would check or do next, and why. You cannot see their system: say so when unsure. Never suggest anything destructive without saying it is destructive.";

/// The model's idea about a failure the SOP does not cover, for the person
/// to weigh before they answer (tacit never applies it). `situation` is
/// redacted before it is sent.
pub fn suggest(
    settings: &LlmSettings,
    redactor: &Redactor,
    situation: &str,
) -> Result<String, String> {
    let messages = [
        json!({"role": "system", "content": SUGGEST_SYSTEM}),
        json!({"role": "user", "content": redactor.redact(situation).into_owned()}),
    ];
    let text = ask(&agent(settings), settings, &messages, false)?;
    let text = text.trim();
    if text.is_empty() {
        return Err("the model said nothing".into());
    }
    // Shown in a terminal: a few lines at most.
    Ok(text.chars().take(800).collect())
}
