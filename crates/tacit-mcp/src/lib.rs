//! `tacit mcp`: the Model Context Protocol server.
//!
//! An agent searches and reads SOPs, then follows one step by step in a
//! recorded shell, exactly like a guided run: the same runner fills the
//! parameters, applies the SOP's rules and stops at what the SOP does not
//! cover, where the agent asks the person (MCP elicitation) or records
//! their decision. Work the agent does elsewhere (an API request, a
//! message) is recorded as an action, apart from shell commands. The run is
//! journaled and stored like any other, so it is evidence: it drafts into
//! an SOP, and what the SOP did not cover reaches its owner as a proposal.
//!
//! All MCP code is in this one module: rmcp's API moves between majors.
//!
//! How a run is driven: the runner asks an `Operator` what to do, and
//! waits for the answer. Here it runs on a thread of its own whose operator
//! waits on a channel; each tool call answers the question the runner is
//! waiting on, and returns what happened up to its next question.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetSkillRequestParams,
    GetSkillResult, Implementation, ListSkillsResult, ListToolsResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, ResourceContents,
    ServerCapabilities, ServerConfig, Skill, SkillFrontmatter, SkillResource, SkillResources, Tool,
};
use rmcp::service::{ElicitationError, RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tacit_capture::driven::{CommandOutcome, DrivenOptions, DrivenShell};
use tacit_capture::integration::ShellKind;
use tacit_capture::session::{EventSink, Recorded};
use tacit_core::{Answer, AskTrigger, CommandRecord, Event, EventBody, RunMeta, RunStatus};
use tacit_library::accounts::{Caller, Role};
use tacit_library::sink::JournalSink;
use tacit_redact::Redactor;
use tacit_runner::{
    AfterFailure, Choice, Operator, OperatorAnswer, Outcome, Report, Runner, StepView,
};
use tacit_sop::{DecisionRule, Sop};
use tacit_store::journal::{JournalWriter, read_journal};
use tacit_store::{JournalBookkeeping, Store};

/// A store the MCP server can use: runs are journaled, then imported.
pub trait McpStore: Store + JournalBookkeeping + Send + Sync + 'static {}
impl<T: Store + JournalBookkeeping + Send + Sync + 'static> McpStore for T {}

/// How the server runs.
#[derive(Clone)]
pub struct Options {
    /// Without it, only the reading tools are offered.
    pub allow_write: bool,
    /// Applied to everything an agent sends.
    pub redactor: Redactor,
    /// Where runs happen. `None` on the team server, which runs nothing:
    /// the work happens where its shell is (`tacit mcp` on that machine),
    /// and reaches the team by sync.
    pub runs: Option<RunOptions>,
}

/// How runs are driven on this machine.
#[derive(Clone)]
pub struct RunOptions {
    pub journal_dir: PathBuf,
    pub runtime_dir: PathBuf,
    /// The `tacit` binary the recorded shell's integration calls back.
    pub tacit_exe: PathBuf,
    pub shell: ShellKind,
    pub shell_program: PathBuf,
    pub max_output_bytes: usize,
    pub command_timeout: Duration,
    /// Where a run starts unless `start_run` names a folder.
    pub start_dir: PathBuf,
}

/// Output shown to the agent per command: the rest is in the run.
const SHOWN_OUTPUT: usize = 8 * 1024;
const DEFAULT_LIST: usize = 20;

/// The MCP server. Cheap to clone: rmcp clones it per connection.
pub struct Tacit<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for Tacit<S> {
    fn clone(&self) -> Self {
        Tacit {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<S> {
    store: S,
    opts: Options,
    runs: Mutex<HashMap<String, Arc<LiveRun>>>,
}

/// Serves MCP over stdin and stdout until the client closes them; then
/// ends the runs still open (as interrupted: `tacit run --resume` goes on).
pub async fn serve_stdio<S: McpStore>(store: S, opts: Options) -> Result<(), String> {
    let server = Tacit::new(store, opts);
    let running = server
        .clone()
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("the MCP client did not start a session: {e}"))?;
    let _ = running.waiting().await;
    server.shutdown().await;
    Ok(())
}

/// The same tools over streamable HTTP, for the team server to mount at
/// `/mcp` behind its token check (which puts the [`Caller`] in each
/// request). Stateless, with plain JSON answers: any instance behind a
/// load balancer can answer any request. No run is driven here, and no
/// question is put to a person (that needs a session).
pub fn http_service<S: McpStore + Clone>(
    store: S,
    redactor: Redactor,
) -> rmcp::transport::StreamableHttpService<
    Tacit<S>,
    rmcp::transport::streamable_http_server::session::never::NeverSessionManager,
> {
    let server = Tacit::new(
        store,
        Options {
            allow_write: true,
            redactor,
            runs: None,
        },
    );
    let mut config = rmcp::transport::StreamableHttpServerConfig::default();
    config.legacy_session_mode = false;
    config.json_response = true;
    // Bearer tokens guard it, not the Host header (a browser cannot send
    // them cross-site); the server sits behind any name or proxy.
    let config = config.disable_allowed_hosts();
    rmcp::transport::StreamableHttpService::new(
        move || Ok(server.clone()),
        Default::default(),
        config,
    )
}

impl<S: McpStore> Tacit<S> {
    pub fn new(store: S, opts: Options) -> Self {
        Tacit {
            inner: Arc::new(Inner {
                store,
                opts,
                runs: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Ends every run still open, as interrupted, and stores it.
    pub async fn shutdown(&self) {
        let open: Vec<Arc<LiveRun>> = self.inner.runs.lock().unwrap().values().cloned().collect();
        for run in open {
            if run.state.lock().unwrap().finished.is_none() {
                let _ = self.close(&run, None, "the MCP session ended").await;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Tool arguments. Unknown fields are refused: a misspelt `comand` must not
// run the step as written.

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SearchSops {
    /// Words to look for in titles, steps, rules and reasons (all must
    /// match). Empty lists every SOP.
    #[serde(default)]
    query: String,
    /// Only SOPs owned by this person or team.
    #[serde(default)]
    owner: Option<String>,
    /// At most this many (default 20).
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Deserialize, JsonSchema, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum SopFormat {
    #[default]
    Markdown,
    Json,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct GetSop {
    /// The SOP's id (e.g. `deploy-web`).
    sop: String,
    /// A version; the latest when left out.
    #[serde(default)]
    version: Option<u32>,
    /// `markdown` (default) or `json`.
    #[serde(default)]
    format: SopFormat,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListRuns {
    /// Only runs of this procedure or SOP.
    #[serde(default)]
    sop: Option<String>,
    /// At most this many, newest first (default 20).
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct GetRun {
    /// A run id, a unique part of it, or `latest`.
    run: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct StartRun {
    /// The SOP to follow.
    sop: String,
    /// Its parameters, by name.
    #[serde(default)]
    params: BTreeMap<String, String>,
    /// A version; the latest when left out.
    #[serde(default)]
    version: Option<u32>,
    /// The folder the procedure starts in (default: where tacit mcp runs).
    #[serde(default)]
    cwd: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RunStep {
    run: String,
    /// Run this instead of the step's command(s): recorded as a deviation.
    #[serde(default)]
    command: Option<String>,
    /// Why you edit or skip (kept with the run, shown to the SOP's owner).
    #[serde(default)]
    reason: Option<String>,
    /// Skip this step, for this reason.
    #[serde(default)]
    skip: Option<String>,
    /// When the run waits on a decision rule: apply its fix (default) or not.
    #[serde(default)]
    apply_rule: Option<bool>,
}

#[derive(Deserialize, JsonSchema, PartialEq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ActionKind {
    /// A shell command run elsewhere, with its exit code and output.
    Shell,
    /// Any other tool call: an API request, a browser action, a message.
    Tool,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RecordStep {
    run: String,
    /// `shell` or `tool`.
    kind: ActionKind,
    /// The command line (shell), or what was done in a few words (tool),
    /// e.g. "posted the release note".
    action: String,
    /// The tool used (`http`, `browser`, `slack`…), for `tool`.
    #[serde(default)]
    tool: Option<String>,
    /// The tool call's arguments, for `tool`.
    #[serde(default)]
    arguments: Option<Value>,
    /// What the tool answered, for `tool`.
    #[serde(default)]
    result: Option<Value>,
    /// Did it work (default: yes for a tool, exit 0 for a command)?
    #[serde(default)]
    ok: Option<bool>,
    /// For `shell`: the exit code.
    #[serde(default)]
    exit_code: Option<i32>,
    /// For `shell`: what it printed.
    #[serde(default)]
    output: Option<String>,
    /// For `shell`: the folder it ran in.
    #[serde(default)]
    cwd: Option<String>,
    /// For `shell`: how long it took.
    #[serde(default)]
    duration_ms: Option<i64>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AskHuman {
    run: String,
    /// What to ask the person.
    question: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RecordDecision {
    run: String,
    /// What the person decided to do.
    action: String,
    /// Why: the principle behind it, in their words.
    reason: String,
    /// When someone should stop and call for help instead.
    #[serde(default)]
    escalate: Option<String>,
}

#[derive(Deserialize, JsonSchema, PartialEq, Clone, Copy, Debug)]
#[serde(rename_all = "lowercase")]
enum FinishOutcome {
    Succeeded,
    Failed,
    Aborted,
    Escalated,
}

impl FinishOutcome {
    fn as_str(self) -> &'static str {
        match self {
            FinishOutcome::Succeeded => "succeeded",
            FinishOutcome::Failed => "failed",
            FinishOutcome::Aborted => "aborted",
            FinishOutcome::Escalated => "escalated",
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FinishRun {
    run: String,
    /// succeeded, failed, aborted or escalated.
    outcome: FinishOutcome,
    /// A sentence for whoever reads the run.
    #[serde(default)]
    summary: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProposeChange {
    /// The SOP to change.
    sop: String,
    /// The change, in words: what the SOP should say and why.
    text: String,
    /// What shows it: a run id, output, a link.
    #[serde(default)]
    evidence: Option<String>,
    /// The step it concerns, if one.
    #[serde(default)]
    step: Option<String>,
}

/// The person's answer to `ask_human`, as the form asks for it.
#[derive(Deserialize, serde::Serialize, JsonSchema)]
struct HumanAnswer {
    /// What did you do (or should be done) about it?
    action: String,
    /// Why? The principle behind it.
    reason: String,
    /// When should someone stop and escalate instead? (optional)
    #[serde(default)]
    escalate: Option<String>,
}
rmcp::elicit_safe!(HumanAnswer);

struct ToolSpec {
    name: &'static str,
    description: &'static str,
    schema: fn() -> schemars::Schema,
    write: bool,
}

macro_rules! tools {
    ($( $name:literal, $ty:ty, $write:expr, $desc:literal; )*) => {
        const TOOLS: &[ToolSpec] = &[$(ToolSpec {
            name: $name,
            description: $desc,
            schema: || schemars::schema_for!($ty),
            write: $write,
        },)*];
    };
}

tools! {
    "search_sops", SearchSops, false,
        "Search the SOP library: id, title, owner, trust (0-100) and where the words matched. Use it before doing a procedure by hand: the team may have written it down.";
    "get_sop", GetSop, false,
        "Read an SOP, as Markdown (default) or JSON, at its latest or a given version: purpose, parameters, steps with why, decision rules with reasons, escalations, success checks.";
    "list_runs", ListRuns, false,
        "List recorded and guided runs, newest first: who ran what, when, how it ended.";
    "get_run", GetRun, false,
        "Read one run as evidence: every command with exit code and output, answers, rules applied, deviations, outcome, and whether its hash chain is intact.";
    "start_run", StartRun, true,
        "Start following an SOP in a recorded shell. Returns the run id, the parameters filled in, and the first step with its why, what to expect and the rules that apply. Then call run_step for each step.";
    "run_step", RunStep, true,
        "Run the current step's commands (or your edited `command`, recorded as a deviation with your `reason`; or `skip` it with a reason) in the run's shell. Returns each command's output and exit code, the rule that matched, and what comes next. When a rule matches, call run_step again to apply its fix (apply_rule: false to refuse).";
    "record_step", RecordStep, true,
        "Record work done outside the run's shell, so it is evidence too: a shell command run elsewhere (kind shell, with exit_code and output), or any other tool call (kind tool: an API request, a browser action, a message sent) with its arguments and result. A manual step the run waits on is done by it.";
    "ask_human", AskHuman, true,
        "Ask the person what to do and why, when the SOP does not cover what happened (or before anything risky). Their action, reason and when to escalate are stored like a recording's answer and reach the SOP's owner. If this client cannot ask, the result says to ask in chat and call record_decision.";
    "record_decision", RecordDecision, true,
        "Record the person's decision (asked in chat): what to do, why, and when to escalate. At a failure the SOP does not cover, the run then goes on: call run_step to retry, with a command to do something else, or with skip.";
    "finish_run", FinishRun, true,
        "End the run: succeeded, failed, aborted or escalated, with a summary. The run is stored (see it with `tacit runs show`), and what the SOP did not cover goes to its owner as proposals.";
    "propose_change", ProposeChange, true,
        "Propose a change to an SOP for its owner to review: what it should say and why, with evidence.";
}

fn tool_list(allow_write: bool, runs: bool) -> Vec<Tool> {
    TOOLS
        .iter()
        .filter(|t| allow_write || !t.write)
        .filter(|t| runs || !RUN_TOOLS.contains(&t.name))
        .map(|t| {
            let schema = serde_json::to_value((t.schema)()).unwrap_or_default();
            let object = schema.as_object().cloned().unwrap_or_default();
            Tool::new(t.name, t.description, Arc::new(object))
        })
        .collect()
}

type ToolResult = Result<Value, String>;

fn parse<T: for<'de> Deserialize<'de>>(tool: &str, args: Value) -> Result<T, String> {
    serde_json::from_value(args).map_err(|e| format!("{tool}: the arguments do not fit: {e}"))
}

impl<S: McpStore> ServerHandler for Tacit<S> {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_skills()
                .build(),
        );
        info.server_info = Implementation::new("tacit", env!("CARGO_PKG_VERSION"));
        info.with_instructions(if self.inner.opts.allow_write {
            "tacit keeps the team's SOPs. Before doing an operational task by hand, search_sops; to do one, start_run and run_step through it, so the work is recorded. When something happens that the SOP does not cover, ask_human (or ask in chat and record_decision) before going on; record_step what you do outside the run's shell; finish_run at the end."
        } else {
            "tacit keeps the team's SOPs: search_sops, get_sop, list_runs and get_run read them. This server was started without --allow-write: runs cannot be started here."
        })
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let opts = &self.inner.opts;
        Ok(ListToolsResult::with_all_items(tool_list(
            opts.allow_write,
            opts.runs.is_some(),
        )))
    }

    /// Every SOP as an agent skill (what `tacit export --format skill`
    /// writes), a page at a time.
    async fn list_skills(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListSkillsResult, ErrorData> {
        let from: usize = match request.and_then(|r| r.cursor) {
            None => 0,
            Some(c) => c
                .parse()
                .map_err(|_| ErrorData::invalid_params(format!("unknown cursor {c}"), None))?,
        };
        let all = self
            .store()
            .list_sops()
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let skills = all
            .iter()
            .skip(from)
            .take(SKILLS_PAGE)
            .filter_map(|v| Sop::from_json(&v.body).ok())
            .map(|sop| skill_of(&sop))
            .collect();
        let mut result = ListSkillsResult::with_all_items(skills);
        if from + SKILLS_PAGE < all.len() {
            result.next_cursor = Some((from + SKILLS_PAGE).to_string());
        }
        Ok(result)
    }

    async fn get_skill(
        &self,
        request: GetSkillRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetSkillResult, ErrorData> {
        let sop = self.sop_of_skill(&request.uri).await?;
        Ok(GetSkillResult::new(skill_of(&sop)))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let sop = self.sop_of_skill(&request.uri).await?;
        Ok(ReadResourceResult::new(vec![ResourceContents::text(
            tacit_sop::render_skill(&sop),
            request.uri,
        )])
        .into())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        let Some(spec) = TOOLS.iter().find(|t| t.name == name) else {
            return Err(ErrorData::invalid_params(
                format!("there is no tool called \"{name}\""),
                None,
            ));
        };
        let args = Value::Object(request.arguments.unwrap_or_default());
        let result = match self.refusal(spec, &context) {
            Some(why) => Err(why),
            None => self.dispatch(&name, args, &context).await,
        };
        Ok(match result {
            Ok(value) => CallToolResult::success(vec![ContentBlock::text(
                serde_json::to_string_pretty(&value).unwrap_or_default(),
            )]),
            Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
        }
        .into())
    }
}

const SKILLS_PAGE: usize = 50;

/// Who is calling over HTTP: the team server's token check puts the
/// caller in the request. `None` over stdio (the local user).
fn http_caller(context: &RequestContext<RoleServer>) -> Option<Option<&Caller>> {
    context
        .extensions
        .get::<http::request::Parts>()
        .map(|parts| parts.extensions.get::<Caller>())
}

/// The run's author: the account over HTTP, the client's name over stdio.
fn agent_name(context: &RequestContext<RoleServer>) -> String {
    if let Some(Some(caller)) = http_caller(context) {
        return caller.user.clone();
    }
    // Per request on protocol 2026-07-28, from the session before it.
    context
        .client_info()
        .map(|i| i.name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "an MCP client".into())
}

fn no_runs_here() -> String {
    "runs happen where their shell is: start `tacit mcp --allow-write` on that machine; `tacit sync` then shares the run with the team".into()
}

/// The tools that drive a run on this machine.
const RUN_TOOLS: [&str; 6] = [
    "start_run",
    "run_step",
    "record_step",
    "ask_human",
    "record_decision",
    "finish_run",
];

fn skill_uri(sop: &Sop) -> String {
    format!("skill://{}/SKILL.md", tacit_sop::skill::skill_name(sop))
}

fn skill_of(sop: &Sop) -> Skill {
    let uri = skill_uri(sop);
    let text = tacit_sop::render_skill(sop);
    Skill::new(
        uri.clone(),
        SkillFrontmatter::new(
            tacit_sop::skill::skill_name(sop),
            tacit_sop::skill::skill_description(sop),
        ),
        SkillResources::Files(vec![SkillResource::from_bytes(uri, text.as_bytes())]),
    )
}

impl<S: McpStore> Tacit<S> {
    /// Why this caller may not use this tool here, if they may not.
    fn refusal(&self, spec: &ToolSpec, context: &RequestContext<RoleServer>) -> Option<String> {
        let name = spec.name;
        let caller = http_caller(context);
        if let Some(None) = caller {
            return Some("send an API token: Authorization: Bearer <token>".into());
        }
        if !spec.write {
            return None;
        }
        if !self.inner.opts.allow_write {
            return Some(format!(
                "{name} changes the library and runs commands: this tacit mcp was started without --allow-write, so only search_sops, get_sop, list_runs and get_run are available"
            ));
        }
        if let Some(Some(c)) = caller
            && c.role < Role::Operator
        {
            return Some(format!(
                "{name} needs the operator role; {} acts as {} here",
                c.user,
                c.role.as_str()
            ));
        }
        if self.inner.opts.runs.is_none() && RUN_TOOLS.contains(&name) {
            return Some(no_runs_here());
        }
        None
    }

    /// The SOP behind `skill://NAME/SKILL.md`.
    async fn sop_of_skill(&self, uri: &str) -> Result<Sop, ErrorData> {
        let missing = || ErrorData::resource_not_found(format!("no skill at {uri}"), None);
        let name = uri
            .strip_prefix("skill://")
            .and_then(|r| r.strip_suffix("/SKILL.md"))
            .ok_or_else(missing)?;
        // The name is the id made safe for skill loaders; usually the same.
        if let Ok(sop) = tacit_library::sops::load_sop(self.store(), name, None).await
            && tacit_sop::skill::skill_name(&sop) == name
        {
            return Ok(sop);
        }
        let all = self
            .store()
            .list_sops()
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        all.iter()
            .filter_map(|v| Sop::from_json(&v.body).ok())
            .find(|sop| tacit_sop::skill::skill_name(sop) == name)
            .ok_or_else(missing)
    }

    async fn dispatch(
        &self,
        name: &str,
        args: Value,
        context: &RequestContext<RoleServer>,
    ) -> ToolResult {
        match name {
            "search_sops" => self.search_sops(parse(name, args)?).await,
            "get_sop" => self.get_sop(parse(name, args)?).await,
            "list_runs" => self.list_runs(parse(name, args)?).await,
            "get_run" => self.get_run(parse(name, args)?).await,
            "start_run" => self.start_run(parse(name, args)?, context).await,
            "run_step" => self.run_step(parse(name, args)?).await,
            "record_step" => self.record_step(parse(name, args)?).await,
            "ask_human" => self.ask_human(parse(name, args)?, context).await,
            "record_decision" => {
                let a: RecordDecision = parse(name, args)?;
                let run = self.live(&a.run)?;
                self.decide(
                    &run,
                    OperatorAnswer {
                        action: a.action,
                        reason: a.reason,
                        escalate: a.escalate.filter(|e| !e.trim().is_empty()),
                    },
                )
                .await
            }
            "finish_run" => {
                let a: FinishRun = parse(name, args)?;
                let run = self.live(&a.run)?;
                self.finish(&run, a.outcome, a.summary.unwrap_or_default())
                    .await
            }
            "propose_change" => self.propose_change(parse(name, args)?).await,
            other => Err(format!("there is no tool called \"{other}\"")),
        }
    }

    fn store(&self) -> &S {
        &self.inner.store
    }

    async fn search_sops(&self, a: SearchSops) -> ToolResult {
        let words = a.query.trim();
        let filter = tacit_library::status::LibraryFilter {
            words: (!words.is_empty()).then_some(words),
            owner: a.owner.as_deref().filter(|o| !o.is_empty()),
            overdue: None,
            trust_below: None,
        };
        let listed = tacit_library::status::library(
            self.store(),
            &filter,
            tacit_core::now_ms(),
            tacit_review::health::Thresholds::default(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let total = listed.len();
        let sops: Vec<Value> = listed
            .into_iter()
            .take(a.limit.unwrap_or(DEFAULT_LIST))
            .map(|l| {
                json!({
                    "id": l.health.id,
                    "title": l.health.title,
                    "version": l.health.version,
                    "owner": l.health.owner,
                    "trust": l.health.trust,
                    "review_overdue": l.health.review_overdue,
                    "pending_proposals": l.health.pending_proposals,
                    "matched": l.snippet,
                })
            })
            .collect();
        Ok(json!({ "total": total, "sops": sops }))
    }

    async fn get_sop(&self, a: GetSop) -> ToolResult {
        let sop = tacit_library::sops::load_sop(self.store(), &a.sop, a.version)
            .await
            .map_err(|e| e.to_string())?;
        Ok(match a.format {
            SopFormat::Markdown => json!({
                "id": sop.id,
                "version": sop.version,
                "format": "markdown",
                "markdown": tacit_sop::render_markdown(&sop),
            }),
            SopFormat::Json => json!({
                "id": sop.id,
                "version": sop.version,
                "format": "json",
                "sop": sop,
            }),
        })
    }

    async fn list_runs(&self, a: ListRuns) -> ToolResult {
        let runs = self
            .store()
            .list_runs(a.sop.as_deref())
            .await
            .map_err(|e| e.to_string())?;
        let total = runs.len();
        let runs: Vec<Value> = runs
            .into_iter()
            .take(a.limit.unwrap_or(DEFAULT_LIST))
            .map(|r| {
                json!({
                    "id": r.meta.id,
                    "name": r.meta.name,
                    "sop": r.meta.sop_id,
                    "sop_version": r.meta.sop_version,
                    "user": r.meta.user,
                    "started_at_ms": r.meta.started_at_ms,
                    "status": r.meta.status.as_str(),
                    "outcome": r.outcome,
                    "commands": r.commands,
                    "failed_commands": r.failed_commands,
                    "answers": r.answers,
                })
            })
            .collect();
        Ok(json!({ "total": total, "runs": runs }))
    }

    async fn get_run(&self, a: GetRun) -> ToolResult {
        let evidence = tacit_library::runs::evidence(self.store(), &a.run)
            .await
            .map_err(|e| e.to_string())?;
        let mut doc = evidence.to_json();
        if let Some(events) = doc["events"].as_array_mut() {
            for e in events {
                if let Some(out) = e["output"].as_str() {
                    e["output"] = json!(tail(out, SHOWN_OUTPUT));
                }
            }
        }
        Ok(doc)
    }

    fn live(&self, id: &str) -> Result<Arc<LiveRun>, String> {
        let runs = self.inner.runs.lock().unwrap();
        if let Some(run) = runs.get(id) {
            return Ok(run.clone());
        }
        let found: Vec<&Arc<LiveRun>> = runs
            .iter()
            .filter(|(k, _)| !id.is_empty() && (k.starts_with(id) || k.ends_with(id)))
            .map(|(_, v)| v)
            .collect();
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(format!(
                "there is no run \"{id}\" started in this session (start_run starts one; get_run reads any recorded run)"
            )),
            _ => Err(format!(
                "\"{id}\" matches {} runs: give more of the id",
                found.len()
            )),
        }
    }

    async fn start_run(&self, a: StartRun, context: &RequestContext<RoleServer>) -> ToolResult {
        let opts = self.inner.opts.runs.as_ref().ok_or_else(no_runs_here)?;
        let redactor = &self.inner.opts.redactor;
        let sop = tacit_library::sops::load_sop(self.store(), &a.sop, a.version)
            .await
            .map_err(|e| e.to_string())?;
        let unknown: Vec<&String> = a
            .params
            .keys()
            .filter(|k| !sop.parameters.iter().any(|p| &p.name == *k))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "{} has no parameter {} (its parameters: {})",
                sop.id,
                unknown
                    .iter()
                    .map(|k| format!("\"{k}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                names(&sop)
            ));
        }
        let missing = tacit_runner::missing_params(&sop, &a.params);
        if !missing.is_empty() {
            let described: Vec<String> = missing
                .iter()
                .map(|m| match sop.parameters.iter().find(|p| &p.name == m) {
                    Some(p) if !p.examples.is_empty() => {
                        format!("{m} ({}, e.g. {})", p.description, p.examples[0])
                    }
                    Some(p) => format!("{m} ({})", p.description),
                    None => m.clone(),
                })
                .collect();
            return Err(format!(
                "{} needs a value for: {}",
                sop.id,
                described.join("; ")
            ));
        }
        let cwd = match &a.cwd {
            Some(c) => PathBuf::from(c),
            None => opts.start_dir.clone(),
        };
        if !cwd.is_dir() {
            return Err(format!("{} is not a folder", cwd.display()));
        }
        let agent = agent_name(context);
        let meta = tacit_library::runs::local_run(
            uuid::Uuid::now_v7().to_string(),
            &sop.id,
            opts.shell.name(),
            &cwd,
            (120, 40),
            Some((&sop.id, sop.version)),
            agent.clone(),
        );
        let journal = JournalWriter::create(&opts.journal_dir, &meta)
            .map_err(|e| format!("cannot start the run's journal: {e}"))?;
        let journal_path = journal.path().to_path_buf();
        let secrets: Vec<(String, String)> = sop
            .parameters
            .iter()
            .filter(|p| p.secret)
            .filter_map(|p| {
                a.params
                    .get(&p.name)
                    .map(|v| (v.clone(), p.name.replace('_', "-")))
            })
            .collect();
        let mut sink = JournalSink::new(journal, redactor.clone()).with_secrets(secrets);
        let kept: BTreeMap<String, String> = a
            .params
            .iter()
            .filter(|(k, _)| !sop.parameters.iter().any(|p| &p.name == *k && p.secret))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        sink.record(EventBody::Params { values: kept });
        let sink = Arc::new(Mutex::new(sink));
        let feed = Arc::new(Mutex::new(Feed::default()));
        let (pause_tx, pause_rx) = tokio::sync::mpsc::unbounded_channel();
        let (reply_tx, reply_rx) = std::sync::mpsc::channel();
        let run = Arc::new(LiveRun {
            meta: meta.clone(),
            sop: sop.clone(),
            sink: sink.clone(),
            journal_path,
            feed: feed.clone(),
            replies: Mutex::new(Some(reply_tx)),
            pauses: tokio::sync::Mutex::new(pause_rx),
            state: Mutex::new(RunState::default()),
        });
        let shown_params: BTreeMap<String, String> = a
            .params
            .iter()
            .map(|(k, v)| {
                let secret = sop.parameters.iter().any(|p| &p.name == k && p.secret);
                (
                    k.clone(),
                    if secret {
                        "[secret]".to_string()
                    } else {
                        v.clone()
                    },
                )
            })
            .collect();
        let shell = DrivenOptions {
            kind: opts.shell,
            program: opts.shell_program.clone(),
            cwd: cwd.clone(),
            runtime_dir: opts.runtime_dir.clone(),
            session_id: meta.id.clone(),
            tacit_exe: opts.tacit_exe.clone(),
            env: Vec::new(),
            cols: 120,
            rows: 40,
            max_output_bytes: opts.max_output_bytes,
        };
        let thread = RunThread {
            sop,
            params: a.params,
            shell,
            start_dir: cwd.display().to_string(),
            timeout: opts.command_timeout,
            user: agent.clone(),
            sink: BridgeSink {
                sink,
                feed: feed.clone(),
            },
            operator: BridgeOperator {
                pauses: pause_tx,
                replies: reply_rx,
                feed,
            },
        };
        std::thread::Builder::new()
            .name(format!(
                "tacit-run-{}",
                tacit_capture::session::short_id(&meta.id)
            ))
            .spawn(move || thread.run())
            .map_err(|e| format!("cannot start the run: {e}"))?;
        self.inner
            .runs
            .lock()
            .unwrap()
            .insert(meta.id.clone(), run.clone());
        let mut out = self.advance(&run).await;
        out["run"] = json!(meta.id);
        out["sop"] = json!(run.sop.id);
        out["version"] = json!(run.sop.version);
        out["params"] = json!(shown_params);
        out["author"] = json!(agent);
        Ok(out)
    }

    /// Waits for the runner's next question, and says what happened until
    /// then and what the agent can do now.
    async fn advance(&self, run: &LiveRun) -> Value {
        let pause = run
            .pauses
            .lock()
            .await
            .recv()
            .await
            .unwrap_or_else(|| Pause::Broken("the run's thread ended".into()));
        let happened = std::mem::take(&mut *run.feed.lock().unwrap());
        let mut next = pause.describe(&run.sop);
        if let Pause::Unknown {
            command,
            exit_code,
            output,
            ..
        } = &pause
        {
            // What the rest of the library says about something like it.
            let similar = tacit_library::suggest::similar_rules(
                self.store(),
                command,
                *exit_code,
                output,
                Some(&run.sop.id),
                3,
            )
            .await
            .unwrap_or_default();
            if !similar.is_empty() {
                next["similar"] = json!(
                    similar
                        .iter()
                        .map(|s| json!({
                            "sop": s.sop_id,
                            "title": s.sop_title,
                            "rule": rule_json(&s.rule),
                            "score": s.score,
                        }))
                        .collect::<Vec<_>>()
                );
                next["do"] = json!(
                    "The SOP does not cover this; other SOPs have rules for something like it (`similar`): show them to the person. Do not apply one on your own: ask_human what to do and why (or ask in chat and record_decision)."
                );
            }
        }
        run.state.lock().unwrap().waiting = Some(pause);
        json!({
            "happened": happened.events,
            "said": happened.said,
            "next": next,
        })
    }

    /// Answers the runner's question and waits for its next one.
    async fn reply(&self, run: &LiveRun, reply: Reply) -> ToolResult {
        let sent = run
            .replies
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|tx| tx.send(reply).is_ok());
        if !sent {
            return Err("the run's shell has stopped; finish_run to store it".into());
        }
        Ok(self.advance(run).await)
    }

    fn waiting(&self, run: &LiveRun) -> Result<Pause, String> {
        let state = run.state.lock().unwrap();
        if let Some(outcome) = &state.finished {
            return Err(format!(
                "run {} is already finished ({outcome})",
                run.meta.id
            ));
        }
        state
            .waiting
            .clone()
            .ok_or_else(|| "the run is busy with another call".to_string())
    }

    async fn run_step(&self, a: RunStep) -> ToolResult {
        let run = self.live(&a.run)?;
        let edited = a
            .command
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let reason = a
            .reason
            .clone()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| format!("{} did not say why", run.meta.user));
        let reply = match self.waiting(&run)? {
            Pause::Step(step) => Reply::Step(if let Some(why) = a.skip {
                Choice::Skip { reason: why }
            } else if let Some(cmd) = edited.filter(|c| *c != step.commands.join("\n")) {
                Choice::Edit {
                    command: cmd.to_string(),
                    reason,
                }
            } else if step.commands.is_empty() {
                // A manual step: the agent says it did it.
                Choice::DoneByHand {
                    reason: a.reason.unwrap_or_else(|| "done by the agent".into()),
                }
            } else {
                Choice::Run
            }),
            Pause::Rule { .. } => {
                if edited.is_some() || a.skip.is_some() {
                    return Err("the run waits on a decision rule: call run_step with apply_rule true (apply its fix) or false".into());
                }
                Reply::Rule(a.apply_rule.unwrap_or(true))
            }
            Pause::AfterFailure { .. } => Reply::After(if let Some(why) = a.skip {
                AfterFailure::Skip { reason: why }
            } else if let Some(cmd) = edited {
                AfterFailure::Edit {
                    command: cmd.to_string(),
                    reason,
                }
            } else {
                AfterFailure::Retry
            }),
            Pause::Unknown { .. } => {
                return Err("a failure the SOP does not cover waits for a decision: ask_human (or ask in chat and record_decision) first".into());
            }
            Pause::Done(_) | Pause::Broken(_) => {
                return Err("the procedure has reached its end: call finish_run".into());
            }
        };
        run.state.lock().unwrap().waiting = None;
        self.reply(&run, reply).await
    }

    async fn record_step(&self, a: RecordStep) -> ToolResult {
        let run = self.live(&a.run)?;
        let waiting = self.waiting(&run)?;
        if a.action.trim().is_empty() {
            return Err("record_step needs the action: the command, or what was done".into());
        }
        let max = self
            .inner
            .opts
            .runs
            .as_ref()
            .map_or(128 * 1024, |r| r.max_output_bytes);
        let body = match a.kind {
            ActionKind::Shell => {
                let output = a.output.unwrap_or_default();
                let (kept, dropped) = keep_tail(&output, max);
                let duration = a.duration_ms.unwrap_or(0).max(0);
                EventBody::Command(CommandRecord {
                    command: a.action.clone(),
                    cwd: a.cwd.unwrap_or_else(|| run.meta.start_cwd.clone()),
                    started_at_ms: tacit_core::now_ms() - duration,
                    duration_ms: duration,
                    exit_code: a.exit_code.or(match a.ok {
                        Some(false) => Some(1),
                        _ => Some(0),
                    }),
                    output: kept,
                    output_bytes: output.len() as u64,
                    output_dropped_bytes: dropped,
                    full_screen: false,
                })
            }
            ActionKind::Tool => {
                let text = |v: Option<Value>| match v {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                };
                EventBody::Action {
                    tool: a.tool.unwrap_or_else(|| "tool".into()),
                    action: a.action.clone(),
                    arguments: keep_tail(&text(a.arguments), max).0,
                    result: keep_tail(&text(a.result), max).0,
                    ok: a.ok,
                }
            }
        };
        let (recorded, event) = run.sink.lock().unwrap().record_event(body);
        let mut out = json!({ "recorded": summarize(&event), "seq": recorded.seq });
        // A manual step the run waits on is done by the action that did it.
        if let Pause::Step(step) = waiting
            && step.commands.is_empty()
            && a.kind == ActionKind::Tool
        {
            run.state.lock().unwrap().waiting = None;
            let next = self
                .reply(
                    &run,
                    Reply::Step(Choice::DoneByHand {
                        reason: format!("done by {}: {}", run.meta.user, a.action),
                    }),
                )
                .await?;
            out["next"] = next["next"].clone();
            out["happened"] = next["happened"].clone();
        }
        Ok(out)
    }

    async fn ask_human(&self, a: AskHuman, context: &RequestContext<RoleServer>) -> ToolResult {
        let run = self.live(&a.run)?;
        let waiting = self.waiting(&run)?;
        let mut message = a.question.trim().to_string();
        if let Pause::Unknown {
            context: where_,
            command,
            exit_code,
            output,
        } = &waiting
        {
            message = format!(
                "{message}\n\n{where_}: `{command}` exited {}.\n{}",
                exit_code.map_or("?".to_string(), |c| c.to_string()),
                tail(output, 1500)
            );
        }
        let can_ask = context
            .peer
            .peer_info()
            .is_some_and(|i| i.capabilities.elicitation.is_some());
        let in_chat = || {
            Ok(json!({
                "asked": false,
                "instruction": format!(
                    "This client cannot ask the person directly. Ask them in the chat: \"{}\" — what to do, why (the principle), and when someone should escalate instead. Then call record_decision with their answer, in their words.",
                    a.question.trim()
                ),
            }))
        };
        if !can_ask {
            return in_chat();
        }
        match context
            .peer
            .elicit_with_timeout::<HumanAnswer>(message, Some(Duration::from_secs(30 * 60)))
            .await
        {
            Ok(Some(answer)) if !answer.action.trim().is_empty() => {
                let mut out = self
                    .decide(
                        &run,
                        OperatorAnswer {
                            action: answer.action,
                            reason: answer.reason,
                            escalate: answer.escalate.filter(|e| !e.trim().is_empty()),
                        },
                    )
                    .await?;
                out["asked"] = json!(true);
                Ok(out)
            }
            Ok(_) | Err(ElicitationError::NoContent) => Ok(json!({
                "asked": true,
                "answered": false,
                "instruction": "The person gave no answer. Ask again, or ask in chat and record_decision; do not guess.",
            })),
            Err(ElicitationError::UserDeclined) | Err(ElicitationError::UserCancelled) => {
                Ok(json!({
                    "asked": true,
                    "answered": false,
                    "instruction": "The person declined to answer. Do not guess: finish_run as escalated, or ask again later.",
                }))
            }
            Err(_) => in_chat(),
        }
    }

    /// The person's decision: at a failure the SOP does not cover it is the
    /// runner's answer (and goes to the owner as a proposal); anywhere else
    /// it is recorded as an answer about the last command.
    async fn decide(&self, run: &LiveRun, answer: OperatorAnswer) -> ToolResult {
        if answer.action.trim().is_empty() || answer.reason.trim().is_empty() {
            return Err("a decision needs both the action and the reason".into());
        }
        if let Pause::Unknown { .. } = self.waiting(run)? {
            run.state.lock().unwrap().waiting = None;
            let mut out = self.reply(run, Reply::Unknown(Some(answer))).await?;
            out["recorded"] = json!(true);
            return Ok(out);
        }
        let mut sink = run.sink.lock().unwrap();
        let last = run.feed.lock().unwrap().last_command;
        let (recorded, event) = sink.record_event(EventBody::Answer(Answer {
            command_seq: last,
            trigger: AskTrigger::Risky,
            action: answer.action,
            reason: answer.reason,
            escalate: answer.escalate,
        }));
        Ok(json!({ "recorded": summarize(&event), "seq": recorded.seq }))
    }

    async fn finish(&self, run: &LiveRun, outcome: FinishOutcome, summary: String) -> ToolResult {
        let waiting = self.waiting(run)?;
        if outcome == FinishOutcome::Succeeded
            && !matches!(waiting, Pause::Done(_) | Pause::Broken(_))
        {
            return Err(format!(
                "the SOP is not done ({}): run the rest with run_step, or finish with failed, aborted or escalated",
                waiting.describe(&run.sop)["what"]
                    .as_str()
                    .unwrap_or("it waits")
            ));
        }
        self.close(run, Some(outcome), &summary).await
    }

    /// Ends the run (stopping the runner if it is still going), stores it
    /// and files its proposals.
    async fn close(&self, run: &LiveRun, said: Option<FinishOutcome>, summary: &str) -> ToolResult {
        {
            let mut state = run.state.lock().unwrap();
            if let Some(o) = &state.finished {
                return Err(format!("run {} is already finished ({o})", run.meta.id));
            }
            state.finished = Some("finishing".into());
        }
        // Nobody answers any more: the runner takes every question as
        // "stop" and ends.
        run.replies.lock().unwrap().take();
        let mut pause = run.state.lock().unwrap().waiting.take();
        let ended_on_its_own = matches!(pause, Some(Pause::Done(_)));
        while !matches!(pause, Some(Pause::Done(_)) | Some(Pause::Broken(_))) {
            pause = Some(
                run.pauses
                    .lock()
                    .await
                    .recv()
                    .await
                    .unwrap_or_else(|| Pause::Broken("the run's thread ended".into())),
            );
        }
        let report = match pause {
            Some(Pause::Done(r)) => Some(r),
            _ => None,
        };
        let ran = report
            .as_ref()
            .map_or("interrupted", |r| r.outcome.as_str());
        let mut outcome = ran;
        {
            let mut sink = run.sink.lock().unwrap();
            if let Some(o) = said
                && o.as_str() != ran
            {
                let why = if summary.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", summary.trim())
                };
                if ended_on_its_own {
                    // The runner saw the procedure through: its outcome
                    // stands, and the agent's differing word is kept.
                    sink.record(EventBody::Warning {
                        text: format!(
                            "{} reported the run as {}, not {ran}{why}",
                            run.meta.user,
                            o.as_str()
                        ),
                    });
                } else {
                    // The agent stopped it: how it ended is the agent's call.
                    sink.record(EventBody::Outcome {
                        outcome: o.as_str().into(),
                        summary: format!("{} ended the run{why}", run.meta.user),
                    });
                    outcome = o.as_str();
                }
            }
            let status = match &report {
                Some(r) if r.outcome != Outcome::Aborted => RunStatus::Completed,
                _ => RunStatus::Interrupted,
            };
            sink.finish(status)
                .map_err(|e| format!("cannot close the run's journal: {e}"))?;
        }
        let contents = read_journal(&run.journal_path)
            .map_err(|e| format!("cannot read the run back: {e}"))?;
        tacit_store::import_journal(self.store(), &contents)
            .await
            .map_err(|e| format!("cannot store the run: {e}"))?;
        let filed = match &report {
            Some(r) => tacit_library::runs::file_proposals(
                self.store(),
                &run.sop,
                &run.meta.id,
                &r.proposals,
            )
            .await
            .map_err(|e| e.to_string())?,
            None => 0,
        };
        let happened = std::mem::take(&mut *run.feed.lock().unwrap());
        run.state.lock().unwrap().finished = Some(outcome.to_string());
        Ok(json!({
            "run": run.meta.id,
            "outcome": outcome,
            "runner_outcome": ran,
            "said": said.map(FinishOutcome::as_str),
            "message": report.as_ref().map(|r| r.message.clone()),
            "steps": report.as_ref().map(|r| r.steps.iter().map(|s| json!({
                "title": s.title, "status": s.status.as_str(), "duration_ms": s.duration_ms,
            })).collect::<Vec<_>>()),
            "proposals_filed": filed,
            "happened": happened.events,
            "see": format!("tacit runs show {}; tacit runs verify {}", run.meta.id, run.meta.id),
        }))
    }

    async fn propose_change(&self, a: ProposeChange) -> ToolResult {
        let sop = tacit_library::sops::load_sop(self.store(), &a.sop, None)
            .await
            .map_err(|e| e.to_string())?;
        if a.text.trim().is_empty() {
            return Err("propose_change needs the text of the change".into());
        }
        let redactor = &self.inner.opts.redactor;
        let clean = |s: &str| redactor.redact(s).into_owned();
        let text = clean(a.text.trim());
        let evidence = a.evidence.as_deref().map(clean).unwrap_or_default();
        let step = a.step.unwrap_or_default();
        let summary = format!(
            "suggested: {}",
            text.lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(120)
                .collect::<String>()
        );
        let proposal = tacit_runner::Proposal {
            kind: "suggestion".into(),
            step,
            command: String::new(),
            exit_code: None,
            output: evidence,
            answer: Some(OperatorAnswer {
                action: text,
                reason: String::new(),
                escalate: None,
            }),
            summary: summary.clone(),
        };
        let id = format!("suggestion-{}", uuid::Uuid::now_v7());
        self.store()
            .add_proposal(&tacit_store::Proposal {
                id: id.clone(),
                sop_id: sop.id.clone(),
                sop_version: sop.version,
                run_id: String::new(),
                kind: proposal.kind.clone(),
                summary,
                body: serde_json::to_string(&proposal).unwrap_or_default(),
                status: "pending".into(),
                created_at_ms: tacit_core::now_ms(),
                resolution: None,
            })
            .await
            .map_err(|e| e.to_string())?;
        Ok(json!({ "proposal": id, "sop": sop.id, "owner": sop.owner, "status": "pending" }))
    }
}

fn names(sop: &Sop) -> String {
    if sop.parameters.is_empty() {
        return "none".into();
    }
    sop.parameters
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The end of `text`, at most `max` bytes, on a character boundary.
fn tail(text: &str, max: usize) -> String {
    keep_tail(text, max).0
}

fn keep_tail(text: &str, max: usize) -> (String, u64) {
    if text.len() <= max {
        return (text.to_string(), 0);
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    (
        format!("[… {start} bytes before]\n{}", &text[start..]),
        start as u64,
    )
}

/// An event as the agent sees it in a tool result.
fn summarize(e: &Event) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or_default();
    if let Some(out) = v["output"].as_str() {
        v["output"] = json!(tail(out, SHOWN_OUTPUT));
    }
    v
}

// ---------------------------------------------------------------------------
// The run, on its own thread.

/// What happened since the agent last heard from the run.
#[derive(Default)]
struct Feed {
    events: Vec<Value>,
    said: Vec<String>,
    /// The last command's sequence number (answers refer to it).
    last_command: u64,
}

/// What the runner waits on.
#[derive(Clone)]
enum Pause {
    Step(StepInfo),
    Rule {
        rule: DecisionRule,
        commands: Vec<String>,
    },
    Unknown {
        context: String,
        command: String,
        exit_code: Option<i32>,
        output: String,
    },
    AfterFailure {
        context: String,
        command: String,
    },
    Done(Report),
    Broken(String),
}

#[derive(Clone)]
struct StepInfo {
    number: usize,
    total: usize,
    title: String,
    why: Option<String>,
    caution: Option<String>,
    guidance: Option<String>,
    commands: Vec<String>,
}

impl Pause {
    /// What the agent can do now, with what it needs to decide.
    fn describe(&self, sop: &Sop) -> Value {
        match self {
            Pause::Step(s) => {
                let step = sop.steps.iter().find(|st| st.title == s.title);
                let check = sop.success_checks.iter().find(|c| c.description == s.title);
                let expect = step.map(|st| &st.expect).or(check.map(|c| &c.expect)).map(
                    |e| json!({"exit_code": e.exit_code, "output_contains": e.output_contains}),
                );
                let rules: Vec<Value> = sop
                    .rules
                    .iter()
                    .filter(|r| r.step.as_deref().is_none_or(|t| t == s.title))
                    .map(rule_json)
                    .collect();
                json!({
                    "what": "step",
                    "step": s.number,
                    "of": s.total,
                    "title": s.title,
                    "success_check": step.is_none() && check.is_some(),
                    "why": s.why,
                    "caution": s.caution,
                    "instruction": s.guidance,
                    "commands": s.commands,
                    "expect": expect,
                    "rules": rules,
                    "do": if s.commands.is_empty() {
                        "A manual step: do it, then record_step (kind tool) what you did, or run_step with a reason to say it is done."
                    } else {
                        "run_step to run the commands (or with `command` and `reason` to run something else, or `skip` with a reason)."
                    },
                })
            }
            Pause::Rule { rule, commands } => json!({
                "what": "rule",
                "rule": rule_json(rule),
                "fix": commands,
                "do": "A decision rule of the SOP matches this failure. run_step to apply its fix (apply_rule: false to refuse).",
            }),
            Pause::Unknown {
                context,
                command,
                exit_code,
                output,
            } => json!({
                "what": "unknown",
                "context": context,
                "command": command,
                "exit_code": exit_code,
                "output": tail(output, SHOWN_OUTPUT),
                "do": "The SOP does not cover this. Do not guess: ask_human what to do and why (or ask in chat and record_decision).",
            }),
            Pause::AfterFailure { context, command } => json!({
                "what": "after_failure",
                "context": context,
                "command": command,
                "do": "The decision is recorded. run_step to retry (after fixing the cause), with `command` to run something else, or with `skip`; or finish_run.",
            }),
            Pause::Done(r) => json!({
                "what": "end",
                "outcome": r.outcome.as_str(),
                "message": r.message,
                "do": "The procedure has ended. record_step anything you did outside the shell, then finish_run.",
            }),
            Pause::Broken(why) => json!({
                "what": "end",
                "outcome": "interrupted",
                "message": why,
                "do": "The run's shell stopped. finish_run to store what was done.",
            }),
        }
    }
}

fn rule_json(r: &DecisionRule) -> Value {
    json!({
        "step": r.step,
        "when": r.when.summary,
        "exit_code": r.when.exit_code,
        "output_contains": r.when.output_contains,
        "then": r.then,
        "then_commands": r.then_commands,
        "because": r.because,
    })
}

enum Reply {
    Step(Choice),
    Rule(bool),
    Unknown(Option<OperatorAnswer>),
    After(AfterFailure),
}

struct LiveRun {
    meta: RunMeta,
    sop: Sop,
    sink: Arc<Mutex<JournalSink>>,
    journal_path: PathBuf,
    feed: Arc<Mutex<Feed>>,
    /// Taken when the run is closed: the runner then hears "stop".
    replies: Mutex<Option<std::sync::mpsc::Sender<Reply>>>,
    pauses: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Pause>>,
    state: Mutex<RunState>,
}

#[derive(Default)]
struct RunState {
    /// The question the runner waits on; `None` while a call is answering.
    waiting: Option<Pause>,
    /// Set once the run is closed: its outcome.
    finished: Option<String>,
}

/// Journals every event (redacted) and tells the agent about it.
struct BridgeSink {
    sink: Arc<Mutex<JournalSink>>,
    feed: Arc<Mutex<Feed>>,
}

impl EventSink for BridgeSink {
    fn record(&mut self, body: EventBody) -> Recorded {
        let (recorded, event) = self.sink.lock().unwrap().record_event(body);
        let mut feed = self.feed.lock().unwrap();
        if matches!(event.body, EventBody::Command(_)) {
            feed.last_command = event.seq;
        }
        if !matches!(
            event.body,
            EventBody::Step { .. } | EventBody::Params { .. }
        ) {
            feed.events.push(summarize(&event));
        }
        recorded
    }
}

/// The runner's operator: each question goes to the agent, and waits.
struct BridgeOperator {
    pauses: tokio::sync::mpsc::UnboundedSender<Pause>,
    replies: std::sync::mpsc::Receiver<Reply>,
    feed: Arc<Mutex<Feed>>,
}

impl BridgeOperator {
    /// `None` once nobody will answer (the run is being closed).
    fn ask(&mut self, pause: Pause) -> Option<Reply> {
        self.pauses.send(pause).ok()?;
        self.replies.recv().ok()
    }
}

impl Operator for BridgeOperator {
    fn say(&mut self, text: &str) {
        // Commands are reported with their output, from the events.
        if !text.starts_with("$ ") {
            self.feed.lock().unwrap().said.push(text.to_string());
        }
    }

    fn output(&mut self, _bytes: &[u8]) {}

    fn before_step(&mut self, view: &StepView) -> Choice {
        match self.ask(Pause::Step(StepInfo {
            number: view.number,
            total: view.total,
            title: view.title.to_string(),
            why: view.why.map(str::to_string),
            caution: view.caution.map(str::to_string),
            guidance: view.guidance.map(str::to_string),
            commands: view.commands.to_vec(),
        })) {
            Some(Reply::Step(choice)) => choice,
            _ => Choice::Abort,
        }
    }

    fn confirm_rule(&mut self, rule: &DecisionRule, commands: &[String]) -> bool {
        matches!(
            self.ask(Pause::Rule {
                rule: rule.clone(),
                commands: commands.to_vec(),
            }),
            Some(Reply::Rule(true))
        )
    }

    fn unknown(&mut self, context: &str, outcome: &CommandOutcome) -> Option<OperatorAnswer> {
        match self.ask(Pause::Unknown {
            context: context.to_string(),
            command: outcome.command.clone(),
            exit_code: outcome.exit_code,
            output: outcome.output.clone(),
        }) {
            Some(Reply::Unknown(answer)) => answer,
            _ => None,
        }
    }

    fn open_shell(&mut self, _folder: &str) -> Option<(String, String)> {
        None
    }

    fn after_failure(&mut self, context: &str, command: &str) -> AfterFailure {
        match self.ask(Pause::AfterFailure {
            context: context.to_string(),
            command: command.to_string(),
        }) {
            Some(Reply::After(a)) => a,
            _ => AfterFailure::Abort,
        }
    }
}

struct RunThread {
    sop: Sop,
    params: BTreeMap<String, String>,
    shell: DrivenOptions,
    start_dir: String,
    timeout: Duration,
    user: String,
    sink: BridgeSink,
    operator: BridgeOperator,
}

impl RunThread {
    fn run(self) {
        let RunThread {
            sop,
            params,
            shell,
            start_dir,
            timeout,
            user,
            mut sink,
            mut operator,
        } = self;
        let pauses = operator.pauses.clone();
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = pauses.send(Pause::Broken(format!("cannot start the run: {e}")));
                return;
            }
        };
        let result = rt.block_on(async {
            let mut shell = DrivenShell::start(shell).await?;
            let runner = Runner {
                sop: &sop,
                params: &params,
                shell: &mut shell,
                sink: &mut sink,
                operator: &mut operator,
                start_dir,
                command_timeout: timeout,
                done_before: Vec::new(),
                forward_input: false,
                user,
            };
            let report = runner.run().await;
            shell.close().await;
            report
        });
        let _ = pauses.send(match result {
            Ok(report) => Pause::Done(report),
            Err(e) => Pause::Broken(format!("the run's shell failed: {e}")),
        });
    }
}
