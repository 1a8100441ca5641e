//! Importing any Markdown runbook, not only tacit's own files.
//!
//! tacit's own format is read by the strict parser ([`crate::parse_markdown`])
//! and comes back exactly. Everything else is read here, on pulldown-cmark,
//! with one rule: **nothing written is dropped**. What maps onto tacit's
//! structure (steps, success checks, escalation…) is taken into it; what does
//! not (Meaning, Impact, a table of dashboards) is kept as a section of
//! Markdown, in its place, and written back on export. Text keeps its
//! Markdown (links, code spans, emphasis, nested lists): an imported SOP's
//! text format is [`TextFormat::Markdown`].
//!
//! How a runbook becomes steps:
//! - The procedure is the section called Procedure, Steps, Instructions…;
//!   any other section holding shell code or a numbered or task list is a
//!   *stage* (Diagnosis, Mitigation, Pre-flight) whose steps run in document
//!   order. Reference material (Rollback, Useful commands, Appendix) is shown
//!   and never run.
//! - Inside one: sub-headings are steps (an unnumbered sub-heading over a
//!   checklist or its own sub-headings groups the steps under it); else
//!   numbered lists, task lists and bullet lists whose items hold commands
//!   are steps, one per item; else each shell block with the text before it
//!   is a step.
//! - A step keeps its prose, commands and snippets in written order
//!   ([`StepBlock`]). `sh`, `bash`, `shell`, `zsh`, `fish` and `console`
//!   blocks run; `yaml`, `json`, `sql`, `promql`… are snippets; an
//!   unlabelled block runs only when it reads as shell. In a `console`
//!   block the `$ ` lines are commands and the lines after them output.
//! - `<name>` in a command is a parameter, asked for at run time.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use crate::markdown::{self, ParseError, TextMode, is_console_lang};
use crate::model::{
    Escalation, FrontMatterKey, Parameter, Prerequisite, ProseSection, ShownCommand, Sop, Step,
    StepBlock, SuccessCheck, TextFormat,
};
use crate::shell;

/// Something imported in a way the author may want to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line in the file.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, Clone)]
pub struct Imported {
    pub sop: Sop,
    pub warnings: Vec<Warning>,
    /// Read as tacit's own format, exactly.
    pub strict: bool,
    /// The id was written in the file (`id:`), not taken from its path.
    pub explicit_id: bool,
}

/// Nesting deeper than this is kept as text of its container, never walked:
/// a 10,000-deep list must not cost 10,000 stack frames.
const MAX_DEPTH: usize = 48;

/// Titles longer than this are cut at a word, the full text kept in the body.
const MAX_TITLE: usize = 80;

/// Imports a Markdown runbook. `default_id` (usually from the file's path)
/// is used when the front matter has no `id:`. Fails only on what is not a
/// text document at all (empty, binary); everything else imports, with
/// warnings.
pub fn import_markdown(text: &str, default_id: &str) -> Result<Imported, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(at) = text.find('\0') {
        let line = text[..at].matches('\n').count() + 1;
        return Err(ParseError {
            line,
            message:
                "the file contains binary data (a NUL byte): a runbook is a Markdown text file"
                    .into(),
        });
    }
    if text.trim().is_empty() {
        return Err(ParseError {
            line: 1,
            message: "the file is empty".into(),
        });
    }
    let text = if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_string()
    };
    let mut warnings = Vec::new();
    let front = split_front_matter(&text, &mut warnings)?;
    // tacit's own files (plain text, strict layout) come back exactly.
    if front.text != Some(TextFormat::Markdown) {
        match markdown::parse_markdown(&text) {
            Ok(sop) => {
                return Ok(Imported {
                    sop,
                    warnings,
                    strict: true,
                    explicit_id: true,
                });
            }
            Err(e) if front.tacit_keys => warnings.push(Warning {
                line: e.line,
                message: format!(
                    "not in tacit's strict format ({}); imported as a runbook",
                    e.message
                ),
            }),
            Err(_) => {}
        }
    }
    let _mode = TextMode::enter(true);
    let mut ctx = Ctx {
        text: &text,
        line_starts: line_starts(&text),
        warnings,
    };
    let sop = ctx.build(&front, default_id);
    let mut warnings = ctx.warnings;
    warnings.sort_by_key(|w| w.line);
    Ok(Imported {
        sop,
        warnings,
        strict: false,
        explicit_id: front.id.is_some(),
    })
}

/// A slug from a file path: `alerts/KubePodCrashLooping.md` →
/// `kubepodcrashlooping`.
pub fn id_from_path(path: &std::path::Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    slug(&stem)
}

pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "runbook".into()
    } else {
        out
    }
}

// ─────────────────────────── front matter ───────────────────────────

#[derive(Default)]
struct Front {
    /// Where the Markdown body starts (byte offset).
    body_start: usize,
    id: Option<String>,
    title: Option<String>,
    owner: Option<String>,
    review_every_days: Option<u32>,
    parameters: Vec<Parameter>,
    text: Option<TextFormat>,
    extra: Vec<FrontMatterKey>,
    /// It has tacit's own keys (`id`, `title`, `version`).
    tacit_keys: bool,
}

/// Front matter that does not parse is an error, not dropped: it holds the
/// id, title and keys someone relies on.
fn split_front_matter(text: &str, warnings: &mut Vec<Warning>) -> Result<Front, ParseError> {
    let mut front = Front::default();
    let (fence, toml) = if text.starts_with("---\n") {
        ("---", false)
    } else if text.starts_with("+++\n") {
        ("+++", true)
    } else {
        return Ok(front);
    };
    let mut offset = 4;
    let mut close = None;
    for line in text[4..].split_inclusive('\n') {
        let t = line.trim_end();
        if t == fence || (!toml && t == "...") {
            close = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((end, body_start)) = close else {
        warnings.push(Warning {
            line: 1,
            message: format!(
                "the front matter opened here is never closed by a `{fence}` line: read as Markdown"
            ),
        });
        return Ok(front);
    };
    front.body_start = body_start;
    let source = &text[4..end];
    let parsed: Result<Vec<(String, serde_json::Value)>, String> = if toml {
        toml::from_str::<toml::Table>(source)
            .map_err(|e| e.message().to_string())
            .and_then(|t| {
                let mut keys: Vec<(String, serde_json::Value)> = Vec::new();
                for (k, v) in t {
                    keys.push((k, serde_json::to_value(v).map_err(|e| e.to_string())?));
                }
                Ok(keys)
            })
    } else if source.trim().is_empty() {
        Ok(Vec::new())
    } else {
        serde_saphyr::from_str::<Ordered>(source)
            .map(|o| o.0)
            .map_err(|e| e.to_string().lines().next().unwrap_or_default().to_string())
    };
    let keys = match parsed {
        Ok(keys) => keys,
        Err(e) => {
            return Err(ParseError {
                line: 1,
                message: format!(
                    "the front matter (between the `{fence}` lines) is not valid {}: {e}",
                    if toml { "TOML" } else { "YAML" }
                ),
            });
        }
    };
    let mut saw_id = false;
    let mut saw_version = false;
    for (key, value) in keys {
        let as_str = || match &value {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        match key.as_str() {
            "id" if as_str().is_some_and(|s| !s.trim().is_empty()) => {
                saw_id = true;
                front.id = as_str();
            }
            "title" if as_str().is_some_and(|s| !s.trim().is_empty()) => front.title = as_str(),
            "owner" if as_str().is_some() => front.owner = as_str(),
            "review_every_days" if value.as_u64().is_some() => {
                front.review_every_days = value.as_u64().map(|d| d.min(u32::MAX as u64) as u32);
            }
            // The store numbers versions; a file's own is not kept.
            "version" if value.as_u64().is_some() => saw_version = true,
            "text" if value.as_str() == Some("markdown") => {
                front.text = Some(TextFormat::Markdown);
            }
            "parameters" if value.is_array() => {
                front.parameters = parameters_from(&value, warnings);
            }
            _ => front.extra.push(FrontMatterKey { key, value }),
        }
    }
    front.tacit_keys = saw_id && front.title.is_some() && saw_version;
    Ok(front)
}

fn parameters_from(value: &serde_json::Value, warnings: &mut Vec<Warning>) -> Vec<Parameter> {
    let mut out: Vec<Parameter> = Vec::new();
    for p in value.as_array().into_iter().flatten() {
        let name = p.get("name").and_then(|n| n.as_str()).unwrap_or_default();
        let wrapped = format!("<<{name}>>");
        let valid = crate::model::placeholder_regex()
            .find(&wrapped)
            .is_some_and(|m| m.as_str() == wrapped);
        if !valid || out.iter().any(|q| q.name == name) {
            warnings.push(Warning {
                line: 1,
                message: format!(
                    "parameter `{name}` in the front matter is not a valid, unique name: left out"
                ),
            });
            continue;
        }
        out.push(Parameter {
            name: name.to_string(),
            description: p
                .get("description")
                .and_then(|d| d.as_str())
                .unwrap_or_default()
                .to_string(),
            examples: p
                .get("examples")
                .and_then(|e| e.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            secret: p.get("secret").and_then(|s| s.as_bool()).unwrap_or(false),
        });
    }
    out
}

/// A YAML mapping in file order.
struct Ordered(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of keys to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, serde_json::Value>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

// ───────────────────────────── the tree ─────────────────────────────

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Root,
    Heading(usize),
    Paragraph,
    List { ordered: bool },
    Item,
    Code { info: String },
    Html,
    Other,
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    range: Range<usize>,
    children: Vec<Node>,
    /// A code block's text.
    code: String,
    /// A task-list item: `- [ ]`.
    task: bool,
}

impl Node {
    fn new(kind: Kind, range: Range<usize>) -> Node {
        Node {
            kind,
            range,
            children: Vec::new(),
            code: String::new(),
            task: false,
        }
    }

    fn heading_level(&self) -> Option<usize> {
        match self.kind {
            Kind::Heading(l) => Some(l),
            _ => None,
        }
    }
}

fn block_kind(tag: &Tag) -> Option<Kind> {
    Some(match tag {
        Tag::Paragraph => Kind::Paragraph,
        Tag::Heading { level, .. } => Kind::Heading(*level as usize),
        Tag::CodeBlock(CodeBlockKind::Fenced(info)) => Kind::Code {
            info: info.to_string(),
        },
        Tag::CodeBlock(CodeBlockKind::Indented) => Kind::Code {
            info: String::new(),
        },
        Tag::List(start) => Kind::List {
            ordered: start.is_some(),
        },
        Tag::Item => Kind::Item,
        Tag::HtmlBlock => Kind::Html,
        Tag::BlockQuote(_)
        | Tag::Table(_)
        | Tag::FootnoteDefinition(_)
        | Tag::DefinitionList
        | Tag::MetadataBlock(_) => Kind::Other,
        Tag::TableHead
        | Tag::TableRow
        | Tag::TableCell
        | Tag::DefinitionListTitle
        | Tag::DefinitionListDefinition => return None,
        _ => return None,
    })
}

fn is_block_end(tag: &TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::CodeBlock
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::HtmlBlock
            | TagEnd::BlockQuote(_)
            | TagEnd::Table
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::MetadataBlock(_)
    )
}

/// The block tree of `text[from..]`, ranges in `text`'s offsets.
fn parse_tree(text: &str, from: usize) -> Node {
    let body = &text[from..];
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES;
    let mut stack: Vec<Node> = vec![Node::new(Kind::Root, from..text.len())];
    // Blocks below MAX_DEPTH: their events belong to the deepest kept node.
    let mut skipped = 0usize;
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        let range = range.start + from..range.end + from;
        match event {
            Event::Start(tag) => match block_kind(&tag) {
                Some(kind) if skipped == 0 && stack.len() < MAX_DEPTH => {
                    stack.push(Node::new(kind, range));
                }
                Some(_) => skipped += 1,
                None => inline(&mut stack, range),
            },
            Event::End(tag) if is_block_end(&tag) => {
                if skipped > 0 {
                    skipped -= 1;
                    continue;
                }
                if stack.len() > 1 {
                    let node = stack.pop().expect("non-empty");
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(node);
                    }
                }
            }
            Event::End(_) => {}
            Event::Text(t) => {
                if let Some(top) = stack.last_mut()
                    && matches!(top.kind, Kind::Code { .. })
                    && skipped == 0
                {
                    top.code.push_str(&t);
                } else {
                    inline(&mut stack, range);
                }
            }
            Event::TaskListMarker(_) => {
                if let Some(item) = stack.iter_mut().rev().find(|n| n.kind == Kind::Item) {
                    item.task = true;
                }
            }
            Event::Html(_) => {}
            _ => inline(&mut stack, range),
        }
    }
    while stack.len() > 1 {
        let node = stack.pop().expect("non-empty");
        if let Some(parent) = stack.last_mut() {
            parent.children.push(node);
        }
    }
    stack.pop().expect("root")
}

/// Inline content directly in a list item (a tight list has no paragraph):
/// it becomes a paragraph of its own.
fn inline(stack: &mut [Node], range: Range<usize>) {
    let Some(top) = stack.last_mut() else { return };
    if top.kind != Kind::Item {
        return;
    }
    if let Some(last) = top.children.last_mut()
        && last.kind == Kind::Paragraph
        && last.code == "inline"
    {
        last.range.end = last.range.end.max(range.end);
        return;
    }
    let mut p = Node::new(Kind::Paragraph, range);
    p.code = "inline".into();
    top.children.push(p);
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    v
}

// ──────────────────────────── building ────────────────────────────

struct Ctx<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
    warnings: Vec<Warning>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Purpose,
    WhenToUse,
    Prerequisites,
    Parameters,
    Procedure,
    Rules,
    EdgeCases,
    Escalation,
    SuccessChecks,
    Notes,
    Revisions,
    /// Shown, never run: rollback and reference material.
    Reference,
    /// Anything else: a stage when it holds steps, else prose.
    Other,
}

impl Role {
    fn canonical(self) -> Option<&'static str> {
        Some(match self {
            Role::Purpose => "Purpose",
            Role::WhenToUse => "When to use",
            Role::Prerequisites => "Prerequisites",
            Role::Parameters => "Parameters",
            Role::Procedure => "Procedure",
            Role::Rules => "Decision rules",
            Role::EdgeCases => "Edge cases",
            Role::Escalation => "Escalation",
            Role::SuccessChecks => "Success checks",
            Role::Notes => "Notes",
            Role::Revisions => "Revision history",
            Role::Reference | Role::Other => return None,
        })
    }
}

/// Heading text as words: lowercase, without numbering, emphasis or colon.
fn heading_words(title: &str) -> String {
    let t = title.trim();
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    let t = if digits > 0 {
        t[digits..]
            .strip_prefix(['.', ')'])
            .map(str::trim_start)
            .unwrap_or(t)
    } else {
        t
    };
    t.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn role_of(title: &str) -> Role {
    let w = heading_words(title);
    let has = |words: &[&str]| w.split(' ').any(|x| words.contains(&x));
    match w.as_str() {
        "purpose" | "overview" | "summary" | "description" | "introduction" | "about"
        | "what this does" => Role::Purpose,
        "when to use" | "when to use this" | "when to use it" | "when to run" | "when"
        | "use when" | "trigger" | "triggers" => Role::WhenToUse,
        "prerequisites" | "prerequisite" | "pre-requisites" | "prereqs" | "requirements"
        | "before you start" | "before you begin" | "before starting" | "you will need"
        | "what you need" => Role::Prerequisites,
        "parameters" | "inputs" | "variables" => Role::Parameters,
        "procedure" | "steps" | "the procedure" | "instructions" | "how to" | "how-to"
        | "process" | "step by step" | "step-by-step" | "runbook" | "playbook" => Role::Procedure,
        "decision rules" | "rules" => Role::Rules,
        "edge cases" => Role::EdgeCases,
        "notes" | "note" | "additional notes" | "tips" => Role::Notes,
        "revision history" | "revisions" | "history" | "changelog" | "change log" => {
            Role::Revisions
        }
        "success checks" | "success check" | "checks" | "post checks" | "post-checks" => {
            Role::SuccessChecks
        }
        _ if has(&["verification", "validation", "verify", "validate"]) => Role::SuccessChecks,
        _ if has(&["escalation", "escalations", "escalate", "escalating"])
            || matches!(w.as_str(), "contacts" | "who to contact" | "contact") =>
        {
            Role::Escalation
        }
        _ if has(&[
            "rollback",
            "revert",
            "undo",
            "backout",
            "reference",
            "appendix",
            "examples",
            "example",
            "useful",
            "see",
            "links",
            "dashboards",
            "faq",
            "glossary",
        ]) || w.starts_with("roll back")
            || w.starts_with("back out")
            || w.starts_with("related") =>
        {
            Role::Reference
        }
        _ => Role::Other,
    }
}

struct Section<'n> {
    title: String,
    line: usize,
    /// Where its content starts and ends (byte offsets).
    content: Range<usize>,
    nodes: &'n [Node],
}

impl<'t> Ctx<'t> {
    fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    fn warn(&mut self, offset: usize, message: impl Into<String>) {
        let line = self.line_of(offset);
        self.warnings.push(Warning {
            line,
            message: message.into(),
        });
    }

    fn slice(&self, range: Range<usize>) -> &'t str {
        &self.text[range]
    }

    /// A heading's text, without its `#`s or setext underline.
    fn heading_text(&self, node: &Node) -> String {
        let src = self.slice(node.range.clone());
        let first = src.lines().next().unwrap_or_default().trim();
        if first.starts_with('#') {
            let t = first.trim_start_matches('#').trim();
            let stripped = t.trim_end_matches('#');
            if stripped.len() < t.len() && (stripped.is_empty() || stripped.ends_with(' ')) {
                stripped.trim_end().to_string()
            } else {
                t.to_string()
            }
        } else {
            // Setext: every line but the underline.
            let lines: Vec<&str> = src.lines().collect();
            lines[..lines.len().saturating_sub(1)]
                .iter()
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" ")
        }
    }

    /// The source of `range`, with the indentation of its first line's
    /// column removed from every line (the content of a list item).
    fn dedented(&self, range: Range<usize>) -> String {
        let line_start = self.line_starts[self.line_of(range.start) - 1];
        let col = self.text[line_start..range.start].chars().count();
        let src = self.slice(range);
        let mut out = String::with_capacity(src.len());
        for (i, line) in src.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
                let mut removed = 0;
                let mut rest = line;
                while removed < col {
                    if let Some(r) = rest.strip_prefix(' ') {
                        removed += 1;
                        rest = r;
                    } else if let Some(r) = rest.strip_prefix('\t') {
                        removed += 4;
                        rest = r;
                    } else {
                        break;
                    }
                }
                out.push_str(rest);
            } else {
                out.push_str(line);
            }
        }
        out.trim_end().to_string()
    }

    fn build(&mut self, front: &Front, default_id: &str) -> Sop {
        let root = parse_tree(self.text, front.body_start);
        let top = &root.children;
        let mut sop = Sop {
            id: front.id.clone().unwrap_or_else(|| default_id.to_string()),
            owner: front.owner.clone(),
            review_every_days: front.review_every_days,
            version: 1,
            parameters: front.parameters.clone(),
            text: TextFormat::Markdown,
            front_matter: front.extra.clone(),
            ..Default::default()
        };

        // The title: the first heading when no other is as high (a lone
        // `# `, or a lone `## ` over `### ` sections), or when it agrees with
        // the front matter; else the front matter's; else the id's.
        let first_heading = top.iter().position(|n| n.heading_level().is_some());
        let mut title_at = None;
        if let Some(i) = first_heading
            && let Some(level) = top[i].heading_level()
        {
            let text = self.heading_text(&top[i]);
            let agrees = front
                .title
                .as_deref()
                .is_some_and(|t| heading_words(t) == heading_words(&text));
            let as_high = top
                .iter()
                .filter(|n| n.heading_level().is_some_and(|l| l <= level))
                .count();
            let names_a_section = level > 1 && role_of(&text) != Role::Other;
            if (as_high == 1 && !names_a_section) || agrees {
                title_at = Some(i);
                if front.title.is_none() {
                    sop.title = text;
                } else if !agrees {
                    self.warn(
                        top[i].range.start,
                        "this title differs from the front matter's `title:`, which is used",
                    );
                }
            }
        }
        if sop.title.is_empty() {
            sop.title = front.title.clone().unwrap_or_else(|| humanize(&sop.id));
        }

        // Sections: the shallowest heading level after the title.
        let rest_from = title_at.map_or(0, |i| i + 1);
        let level = top[rest_from..]
            .iter()
            .filter_map(Node::heading_level)
            .min();
        let mut intro_end = top.len();
        let mut sections: Vec<Section> = Vec::new();
        if let Some(level) = level {
            let starts: Vec<usize> = (rest_from..top.len())
                .filter(|&i| top[i].heading_level() == Some(level))
                .collect();
            intro_end = starts[0];
            for (k, &s) in starts.iter().enumerate() {
                let end = starts.get(k + 1).copied().unwrap_or(top.len());
                let content_start = top[s].range.end;
                let content_end = if end < top.len() {
                    top[end].range.start
                } else {
                    self.text.len()
                };
                sections.push(Section {
                    title: self.heading_text(&top[s]),
                    line: self.line_of(top[s].range.start),
                    content: content_start..content_end,
                    nodes: &top[s + 1..end],
                });
            }
        }
        // Text before the first section (and any before the title).
        let intro_start = if title_at == Some(0) || title_at.is_none() {
            title_at.map_or(front.body_start, |i| top[i].range.end)
        } else {
            front.body_start
        };
        let intro_stop = if intro_end < top.len() {
            top[intro_end].range.start
        } else {
            self.text.len()
        };
        let mut intro = String::new();
        if intro_start < intro_stop {
            intro = if let Some(t) = title_at.filter(|&t| t > 0) {
                // Something before the title: keep both parts, in order.
                let before = self.slice(front.body_start..top[t].range.start).trim();
                let after = self.slice(top[t].range.end..intro_stop).trim();
                [before, after]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n\n")
            } else {
                self.slice(intro_start..intro_stop).trim().to_string()
            };
        }
        if !intro.is_empty() {
            sop.sections.push(ProseSection {
                title: String::new(),
                markdown: intro,
                after: None,
            });
        }
        if sections.is_empty() && top[rest_from..].iter().any(|n| n.heading_level().is_none()) {
            // No sections at all: the whole page is the procedure.
            let nodes = &top[rest_from..];
            sop.sections.clear();
            let (intro, steps) = self.steps_from(nodes, &sop.title.clone(), true);
            sop.procedure_intro = intro;
            sop.steps = steps;
        }

        let mut anchor: Option<String> = None;
        let mut procedure_taken = false;
        for section in &sections {
            let role = role_of(&section.title);
            let raw = self.slice(section.content.clone()).trim().to_string();
            let keep_as_prose = |sop: &mut Sop, title: &str, anchor: &Option<String>| {
                sop.sections.push(ProseSection {
                    title: title.to_string(),
                    markdown: raw.clone(),
                    after: anchor.clone(),
                });
            };
            match role {
                Role::Procedure
                    if !procedure_taken && sop.steps.iter().all(|s| s.stage.is_some()) =>
                {
                    procedure_taken = true;
                    let (intro, mut steps) = self.steps_from(section.nodes, &section.title, true);
                    for s in &mut steps {
                        s.stage = None;
                    }
                    sop.procedure_intro = intro;
                    sop.steps.extend(steps);
                    anchor = Some("Procedure".into());
                }
                Role::Purpose | Role::WhenToUse if sop_field_empty(&sop, role) => {
                    if let Some(text) = self.paragraphs_only(section.nodes) {
                        if role == Role::Purpose {
                            sop.purpose = text;
                        } else {
                            sop.when_to_use = text;
                        }
                        anchor = role.canonical().map(str::to_string);
                    } else {
                        keep_as_prose(&mut sop, &section.title, &anchor);
                    }
                }
                Role::Prerequisites
                | Role::Escalation
                | Role::SuccessChecks
                | Role::Notes
                | Role::EdgeCases
                | Role::Rules
                | Role::Revisions
                | Role::Parameters
                    if self.structured(&mut sop, role, section) =>
                {
                    anchor = role.canonical().map(str::to_string);
                }
                Role::Reference => keep_as_prose(&mut sop, &section.title, &anchor),
                _ if self.holds_steps(section.nodes) => {
                    // A stage: its own heading, steps that run in order.
                    let (intro, mut steps) = self.steps_from(section.nodes, &section.title, true);
                    let title = unique_stage(&sop, &section.title);
                    for s in &mut steps {
                        s.stage = Some(title.clone());
                    }
                    sop.sections.push(ProseSection {
                        title,
                        markdown: intro,
                        after: anchor.clone(),
                    });
                    sop.steps.extend(steps);
                }
                _ => keep_as_prose(&mut sop, &section.title, &anchor),
            }
            let _ = section.line;
        }

        finish_steps(&mut sop);
        parameters_from_placeholders(&mut sop);
        if sop.steps.is_empty() {
            self.warnings.push(Warning {
                line: 1,
                message: "no steps found (no procedure, shell code or numbered list): imported as a document to read".into(),
            });
        }
        sop
    }

    /// Paragraphs only (no lists, code or headings): their text, lines trimmed.
    fn paragraphs_only(&self, nodes: &[Node]) -> Option<String> {
        if nodes.is_empty() || nodes.iter().any(|n| n.kind != Kind::Paragraph) {
            return None;
        }
        let paras: Vec<String> = nodes
            .iter()
            .map(|n| {
                self.slice(n.range.clone())
                    .lines()
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        Some(paras.join("\n\n"))
    }

    /// Takes a known list section into its tacit form when it fits:
    /// first tacit's own layout (strict), then simple items.
    fn structured(&mut self, sop: &mut Sop, role: Role, section: &Section) -> bool {
        let raw = self.slice(section.content.clone());
        let first_line = self.line_of(section.content.start);
        if let Ok(done) = markdown::parse_known_section(role_name(role), raw, first_line, sop) {
            return done;
        }
        let Some(items) = self.simple_items(section.nodes) else {
            return false;
        };
        match role {
            Role::Prerequisites => {
                sop.prerequisites = items
                    .into_iter()
                    .map(|(description, check)| Prerequisite {
                        description,
                        check,
                        sources: Vec::new(),
                    })
                    .collect();
            }
            Role::SuccessChecks => {
                sop.success_checks = items
                    .into_iter()
                    .map(|(description, command)| SuccessCheck {
                        description,
                        command,
                        ..Default::default()
                    })
                    .collect();
            }
            Role::Escalation if items.iter().all(|(_, c)| c.is_none()) => {
                sop.escalations = items
                    .into_iter()
                    .map(|(when, _)| Escalation {
                        when,
                        contact: None,
                        sources: Vec::new(),
                    })
                    .collect();
            }
            Role::Notes if items.iter().all(|(_, c)| c.is_none()) => {
                sop.notes = items.into_iter().map(|(t, _)| t).collect();
            }
            _ => return false,
        }
        true
    }

    /// Items of one line of text each, optionally with one one-line shell
    /// command: list items, or paragraphs (each followed by its command).
    fn simple_items(&self, nodes: &[Node]) -> Option<Vec<(String, Option<String>)>> {
        let mut items: Vec<(String, Option<String>)> = Vec::new();
        let one_line = |s: &str| {
            s.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        for n in nodes {
            match &n.kind {
                Kind::Paragraph => items.push((one_line(self.slice(n.range.clone())), None)),
                Kind::Code { info } => {
                    if console_has_output(&n.code) {
                        return None;
                    }
                    let command = single_command(info, &n.code)?;
                    let last = items.last_mut()?;
                    if last.1.is_some() {
                        return None;
                    }
                    last.1 = Some(command);
                }
                Kind::List { .. } => {
                    for item in &n.children {
                        if item.task {
                            return None;
                        }
                        let mut text: Option<String> = None;
                        let mut command = None;
                        for c in &item.children {
                            match &c.kind {
                                Kind::Paragraph if text.is_none() => {
                                    text = Some(one_line(self.slice(c.range.clone())));
                                }
                                Kind::Code { info }
                                    if command.is_none() && !console_has_output(&c.code) =>
                                {
                                    command = Some(single_command(info, &c.code)?);
                                }
                                _ => return None,
                            }
                        }
                        items.push((text.unwrap_or_default(), command));
                    }
                }
                Kind::Html if self.slice(n.range.clone()).trim_start().starts_with("<!--") => {}
                _ => return None,
            }
        }
        (!items.is_empty() && items.iter().all(|(t, _)| !t.is_empty())).then_some(items)
    }

    /// Whether a section reads as work to do: shell code, or a numbered or
    /// task list.
    fn holds_steps(&self, nodes: &[Node]) -> bool {
        nodes.iter().any(|n| {
            self.node_holds_steps(n, 0)
                || (n.heading_level().is_some()
                    && self
                        .heading_text(n)
                        .starts_with(|c: char| c.is_ascii_digit()))
        })
    }

    fn node_holds_steps(&self, n: &Node, depth: usize) -> bool {
        match &n.kind {
            Kind::Code { info } => runnable(info, &n.code),
            Kind::List { ordered } => {
                *ordered
                    || n.children.iter().any(|i| i.task)
                    || (depth < 4
                        && n.children
                            .iter()
                            .any(|c| self.node_holds_steps(c, depth + 1)))
            }
            Kind::Item => {
                depth < 4
                    && n.children
                        .iter()
                        .any(|c| self.node_holds_steps(c, depth + 1))
            }
            _ => false,
        }
    }

    /// A list whose items are steps: numbered, a checklist, or bullets that
    /// hold commands.
    fn is_step_list(&self, n: &Node) -> bool {
        match &n.kind {
            Kind::List { ordered } => {
                *ordered
                    || n.children.iter().any(|i| i.task)
                    || n.children.iter().any(|i| {
                        i.children.iter().any(
                            |c| matches!(&c.kind, Kind::Code { info } if runnable(info, &c.code)),
                        )
                    })
            }
            _ => false,
        }
    }

    /// Steps from a section's (or sub-heading's) content, and the text
    /// before the first step.
    fn steps_from(
        &mut self,
        nodes: &[Node],
        fallback_title: &str,
        groups: bool,
    ) -> (String, Vec<Step>) {
        if let Some(level) = nodes.iter().filter_map(Node::heading_level).min() {
            let starts: Vec<usize> = (0..nodes.len())
                .filter(|&i| nodes[i].heading_level() == Some(level))
                .collect();
            let intro_nodes = &nodes[..starts[0]];
            let mut steps = Vec::new();
            // Code before the first sub-heading is work too, never mere intro.
            let intro = if intro_nodes.iter().any(|n| self.node_holds_steps(n, 0)) {
                let (_, first) = self.steps_from(intro_nodes, fallback_title, false);
                steps.extend(first);
                String::new()
            } else {
                self.joined(intro_nodes)
            };
            for (k, &s) in starts.iter().enumerate() {
                let end = starts.get(k + 1).copied().unwrap_or(nodes.len());
                let heading = self.heading_text(&nodes[s]);
                let content = &nodes[s + 1..end];
                let numbered = heading.chars().next().is_some_and(|c| c.is_ascii_digit());
                let nested_headings = content.iter().any(|n| n.heading_level().is_some());
                let has_step_list = content.iter().any(|n| self.is_step_list(n));
                if groups && !numbered && (nested_headings || has_step_list) {
                    let (gintro, mut group) = self.steps_from(content, &heading, false);
                    if !group.is_empty() {
                        let group_name = strip_number(&heading);
                        if !gintro.is_empty() {
                            let rest = std::mem::take(&mut group[0].body);
                            group[0].body = vec![StepBlock::Text { markdown: gintro }];
                            append_body(&mut group[0].body, rest);
                        }
                        for st in &mut group {
                            st.group = Some(group_name.clone());
                        }
                        steps.extend(group);
                        continue;
                    }
                }
                let (title, optional) = markdown::step_title(&heading);
                let mut step = Step {
                    title,
                    optional,
                    ..Default::default()
                };
                step.body = self.body_of(content, &[]);
                steps.push(step);
            }
            return (intro, steps);
        }
        if nodes.iter().any(|n| self.is_step_list(n)) {
            let mut intro_nodes: Vec<&Node> = Vec::new();
            let mut steps: Vec<Step> = Vec::new();
            for n in nodes {
                if self.is_step_list(n) {
                    for item in &n.children {
                        steps.push(self.step_from_item(item));
                    }
                } else if let Some(last) = steps.last_mut() {
                    let extra = self.body_of(std::slice::from_ref(n), &[]);
                    append_body(&mut last.body, extra);
                } else {
                    intro_nodes.push(n);
                }
            }
            let intro = intro_nodes
                .iter()
                .map(|n| self.slice(n.range.clone()).trim_end().to_string())
                .collect::<Vec<_>>()
                .join("\n\n");
            return (intro, steps);
        }
        // Each shell block, with the text before it, is a step.
        let mut steps: Vec<Step> = Vec::new();
        let mut pending: Vec<Node> = Vec::new();
        for n in nodes {
            let is_run = matches!(&n.kind, Kind::Code { info } if runnable(info, &n.code));
            pending.push(n.clone());
            if is_run {
                steps.push(self.step_from_nodes(&pending));
                pending.clear();
            }
        }
        if !pending.is_empty() {
            match steps.last_mut() {
                Some(last) => {
                    let extra = self.body_of(&pending, &[]);
                    append_body(&mut last.body, extra);
                }
                None => {
                    // Text only: one step to read and do by hand.
                    let mut step = self.step_from_nodes(&pending);
                    if !pending.iter().any(|n| n.kind == Kind::Paragraph) || step.title.is_empty() {
                        step.title = strip_number(fallback_title);
                    }
                    steps.push(step);
                }
            }
        }
        (String::new(), steps)
    }

    fn joined(&self, nodes: &[Node]) -> String {
        match (nodes.first(), nodes.last()) {
            (Some(a), Some(b)) => self.slice(a.range.start..b.range.end).trim().to_string(),
            _ => String::new(),
        }
    }

    /// A list item as a step: its first line is the title.
    fn step_from_item(&mut self, item: &Node) -> Step {
        let mut step = Step::default();
        let mut children: &[Node] = &item.children;
        if let Some(first) = children.first()
            && first.kind == Kind::Paragraph
        {
            let mut text = self.dedented(first.range.clone());
            if item.task {
                text = strip_task_marker(&text).to_string();
            }
            let (title, keep) = title_from_text(&text);
            step.title = title;
            children = &children[1..];
            step.body = Vec::new();
            if keep {
                step.body.push(StepBlock::Text { markdown: text });
            }
        }
        let rest = self.body_of(children, &[]);
        append_body(&mut step.body, rest);
        if step.title.is_empty() {
            step.title = command_title(&step);
        }
        step
    }

    /// Text then a shell block (code-split): the last paragraph names it.
    fn step_from_nodes(&mut self, nodes: &[Node]) -> Step {
        let mut step = Step::default();
        let title_para = nodes.iter().rposition(|n| n.kind == Kind::Paragraph);
        let mut skip = None;
        if let Some(i) = title_para {
            let text = self.dedented(nodes[i].range.clone());
            let (title, keep) = title_from_text(&text);
            step.title = title;
            if !keep {
                skip = Some(i);
            }
        }
        let kept: Vec<Node> = nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, n)| n.clone())
            .collect();
        step.body = self.body_of(&kept, &[]);
        if step.title.is_empty() {
            step.title = command_title(&step);
        }
        step
    }

    /// Blocks in written order: text runs, commands, snippets.
    fn body_of(&mut self, nodes: &[Node], _: &[()]) -> Vec<StepBlock> {
        let mut body: Vec<StepBlock> = Vec::new();
        let mut run: Option<Range<usize>> = None;
        let flush = |ctx: &Ctx, run: &mut Option<Range<usize>>, body: &mut Vec<StepBlock>| {
            if let Some(r) = run.take() {
                let markdown = ctx.dedented(r);
                if !markdown.trim().is_empty() {
                    body.push(StepBlock::Text { markdown });
                }
            }
        };
        for n in nodes {
            match &n.kind {
                Kind::Code { info } => {
                    flush(self, &mut run, &mut body);
                    let lang = info
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let code = n.code.strip_suffix('\n').unwrap_or(&n.code).to_string();
                    if runnable(info, &n.code)
                        && let Some(commands) = self.commands_of(&lang, &code, n.range.start)
                    {
                        if commands.is_empty() {
                            continue;
                        }
                        body.push(StepBlock::Commands { lang, commands });
                    } else {
                        body.push(StepBlock::Snippet { lang, code });
                    }
                }
                _ => {
                    run = Some(match run {
                        Some(r) => r.start..n.range.end,
                        None => n.range.clone(),
                    });
                }
            }
        }
        flush(self, &mut run, &mut body);
        body
    }

    fn commands_of(&mut self, lang: &str, code: &str, at: usize) -> Option<Vec<ShownCommand>> {
        let fish = lang.eq_ignore_ascii_case("fish");
        if is_console_lang(lang) || starts_with_prompt(code) {
            return console_session(code);
        }
        let split = shell::split_commands(code, fish);
        if let Some((line, what)) = split.unterminated {
            let block_line = self.line_of(at) + 1 + line;
            self.warnings.push(Warning {
                line: block_line,
                message: format!(
                    "this command never ends ({what}): kept as one command, to fix by hand"
                ),
            });
        }
        Some(
            split
                .commands
                .into_iter()
                .map(|command| ShownCommand {
                    command,
                    output: None,
                })
                .collect(),
        )
    }
}

/// The tacit section a heading maps to (`Verification` → `Success
/// checks`), if any; headings that map are written under tacit's name.
pub fn maps_to(heading: &str) -> Option<&'static str> {
    role_of(heading).canonical()
}

fn role_name(role: Role) -> &'static str {
    role.canonical().unwrap_or("")
}

fn sop_field_empty(sop: &Sop, role: Role) -> bool {
    match role {
        Role::Purpose => sop.purpose.is_empty(),
        Role::WhenToUse => sop.when_to_use.is_empty(),
        _ => true,
    }
}

fn unique_stage(sop: &Sop, title: &str) -> String {
    let taken = |t: &str| sop.sections.iter().any(|s| s.title == t);
    if !taken(title) {
        return title.to_string();
    }
    (2..)
        .map(|n| format!("{title} ({n})"))
        .find(|t| !taken(t))
        .unwrap_or_default()
}

fn append_body(body: &mut Vec<StepBlock>, extra: Vec<StepBlock>) {
    for b in extra {
        if let (Some(StepBlock::Text { markdown: a }), StepBlock::Text { markdown: b }) =
            (body.last_mut(), &b)
        {
            a.push_str("\n\n");
            a.push_str(b);
            continue;
        }
        body.push(b);
    }
}

/// `1. Title` → `Title`.
fn strip_number(s: &str) -> String {
    let t = s.trim();
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0
        && let Some(r) = t[digits..].strip_prefix(['.', ')'])
        && (r.is_empty() || r.starts_with([' ', '\t']))
    {
        return r.trim().to_string();
    }
    t.to_string()
}

fn strip_task_marker(s: &str) -> &str {
    let t = s.trim_start();
    for m in ["[ ]", "[x]", "[X]"] {
        if let Some(r) = t.strip_prefix(m) {
            return r.trim_start();
        }
    }
    s
}

/// A title from a paragraph, and whether the paragraph must stay in the
/// body (it says more than the title).
fn title_from_text(text: &str) -> (String, bool) {
    let one = text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    let one = one.trim();
    let single_line = !text.trim().contains('\n');
    let bare = one.trim_end_matches(':').trim_end();
    if single_line && bare.chars().count() <= MAX_TITLE && !bare.is_empty() {
        // Keep a trailing colon's paragraph out: the heading says it.
        return (bare.to_string(), false);
    }
    // The first sentence, cut at a word.
    let sentence_end = one
        .char_indices()
        .find(|(i, c)| matches!(c, '.' | ':' | '!' | '?') && one[i + 1..].starts_with(' '))
        .map(|(i, _)| i);
    let mut title = match sentence_end {
        Some(i) => one[..i].to_string(),
        None => one.to_string(),
    };
    if title.chars().count() > MAX_TITLE {
        let cut: String = title.chars().take(MAX_TITLE - 1).collect();
        let at_word = cut.rfind(' ').filter(|&i| i > 20).unwrap_or(cut.len());
        title = format!("{}…", cut[..at_word].trim_end());
    }
    (title, true)
}

fn command_title(step: &Step) -> String {
    let first = step
        .body
        .iter()
        .find_map(|b| match b {
            StepBlock::Commands { commands, .. } => commands.first().map(|c| c.command.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let line = first.lines().next().unwrap_or_default();
    if line.is_empty() {
        return "Step".into();
    }
    let cut: String = line.chars().take(60).collect();
    format!("Run `{}`", cut.replace('`', "'"))
}

fn humanize(id: &str) -> String {
    let words = id.replace(['-', '_'], " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => "Runbook".into(),
    }
}

/// Runnable shell: a shell language, or unlabelled code that reads as shell.
pub(crate) fn runnable(info: &str, code: &str) -> bool {
    let lang = info
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_matches(['{', '}', '.'])
        .to_ascii_lowercase();
    match lang.as_str() {
        "sh" | "bash" | "shell" | "zsh" | "fish" | "ksh" | "posix" => true,
        _ if is_console_lang(&lang) => console_session(code).is_some(),
        "" => looks_like_shell(code),
        _ => false,
    }
}

fn console_has_output(code: &str) -> bool {
    starts_with_prompt(code) && console_commands(code).iter().any(|c| c.output.is_some())
}

fn single_command(info: &str, code: &str) -> Option<String> {
    if !runnable(info, code) {
        return None;
    }
    let cmds = if starts_with_prompt(code) {
        console_commands(code)
            .into_iter()
            .map(|c| c.command)
            .collect()
    } else {
        shell::split_commands(code, false).commands
    };
    match cmds.as_slice() {
        [one] if !one.contains('\n') => Some(one.clone()),
        _ => None,
    }
}

/// Whether unlabelled code reads as shell: every line starts like a
/// command, and nothing reads as YAML, JSON, SQL, PromQL or a log.
fn looks_like_shell(code: &str) -> bool {
    let lines: Vec<&str> = code
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if lines.is_empty() {
        return false;
    }
    if starts_with_prompt(code) {
        return true;
    }
    let split = shell::split_commands(code, false);
    if split.unterminated.is_some() {
        return false;
    }
    const SQL: &[&str] = &[
        "select", "insert", "update", "delete", "create", "drop", "alter", "with", "grant",
        "begin", "commit", "explain", "show", "vacuum", "truncate",
    ];
    split.commands.iter().all(|cmd| {
        let first_line = cmd.lines().next().unwrap_or_default().trim();
        if first_line.starts_with('#') {
            return true;
        }
        let word = first_line.split_whitespace().next().unwrap_or_default();
        let lower = word.to_ascii_lowercase();
        let is_assignment = word.contains('=')
            && word.split('=').next().is_some_and(|n| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        let command_like = is_assignment
            || word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./~$".contains(c))
                && !word.is_empty()
                && !word.ends_with(':')
                && !word.chars().next().is_some_and(|c| c.is_ascii_digit());
        let sql = SQL.contains(&lower.as_str())
            && first_line.split_whitespace().count() > 1
            && (word == word.to_ascii_uppercase() || first_line.ends_with(';'));
        let yamlish = word.ends_with(':');
        let promql =
            first_line.contains('{') && (first_line.contains("=~") || first_line.contains("}["));
        command_like && !sql && !yamlish && !promql
    })
}

/// A line that starts with a shell prompt: `$ `, `# `, `% `, `user@host:~$ `.
fn prompt_rest(line: &str) -> Option<&str> {
    let t = line.trim_start();
    for p in ["$ ", "% ", "# "] {
        if let Some(r) = t.strip_prefix(p) {
            // `# Check the disk` is a comment; `# df -h` and
            // `# ETCDCTL_API=3 etcdctl …` are commands at a root prompt.
            if p == "# " {
                let word = r.split_whitespace().next().unwrap_or_default();
                let assignment = word.split_once('=').is_some_and(|(n, _)| {
                    !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
                if !assignment
                    && !word.starts_with(|c: char| c.is_ascii_lowercase() || c == '.' || c == '/')
                {
                    return None;
                }
            }
            return Some(r);
        }
    }
    if t == "$" || t == "#" {
        return Some("");
    }
    // user@host:path$ command
    let at = t.find('@')?;
    let end = t.find(['$', '#', '%'])?;
    if at > 0 && end > at && t[end + 1..].starts_with(' ') && !t[..end].contains(' ') {
        return Some(&t[end + 2..]);
    }
    None
}

fn starts_with_prompt(code: &str) -> bool {
    code.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| prompt_rest(l).is_some_and(|r| !r.is_empty()))
}

/// A console session: commands behind prompts, the lines after each its
/// output; a command's continuation lines (`> `) stay with it. `None` when
/// text comes before the first prompt (it would be lost): the block is then
/// shown, not run.
fn console_session(code: &str) -> Option<Vec<ShownCommand>> {
    let first = code.lines().find(|l| !l.trim().is_empty())?;
    prompt_rest(first).filter(|r| !r.trim().is_empty())?;
    Some(console_commands(code))
}

fn console_commands(code: &str) -> Vec<ShownCommand> {
    let mut out: Vec<ShownCommand> = Vec::new();
    let mut open: Option<String> = None;
    let mut output: Vec<&str> = Vec::new();
    let flush_output = |out: &mut Vec<ShownCommand>, output: &mut Vec<&str>| {
        while output.last().is_some_and(|l| l.trim().is_empty()) {
            output.pop();
        }
        if let Some(last) = out.last_mut()
            && !output.is_empty()
        {
            last.output = Some(output.join("\n"));
        }
        output.clear();
    };
    for line in code.lines() {
        if let Some(cmd) = open.as_mut() {
            let cont = line
                .strip_prefix("> ")
                .or(line.strip_prefix(">"))
                .unwrap_or(line);
            cmd.push('\n');
            cmd.push_str(cont);
            if shell::is_complete(cmd) {
                out.push(ShownCommand {
                    command: open.take().unwrap_or_default(),
                    output: None,
                });
            }
            continue;
        }
        match prompt_rest(line) {
            Some(rest) if !rest.trim().is_empty() => {
                flush_output(&mut out, &mut output);
                let cmd = rest.trim_end().to_string();
                if shell::is_complete(&cmd) {
                    out.push(ShownCommand {
                        command: cmd,
                        output: None,
                    });
                } else {
                    open = Some(cmd);
                }
            }
            Some(_) => {}
            None => {
                if !out.is_empty() {
                    output.push(line);
                }
            }
        }
    }
    if let Some(cmd) = open {
        out.push(ShownCommand {
            command: cmd,
            output: None,
        });
    }
    flush_output(&mut out, &mut output);
    out
}

/// Unique step titles (decision rules name their step) and commands in
/// step order.
fn finish_steps(sop: &mut Sop) {
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for step in &mut sop.steps {
        if step.title.trim().is_empty() {
            step.title = "Step".into();
        }
        let base = step.title.clone();
        let mut n = 2;
        while !seen.insert(step.title.clone()) {
            step.title = format!("{base} ({n})");
            n += 1;
        }
        step.commands = step
            .body_commands()
            .into_iter()
            .map(str::to_string)
            .collect();
        // A runbook's command is meant to succeed: a failure is asked about,
        // never passed over. (Written back implicitly: see the renderer.)
        if !step.commands.is_empty() && step.expect.exit_code.is_none() {
            step.expect.exit_code = Some(0);
        }
    }
}

/// `<namespace>` in a command is a value to fill in: it becomes the
/// parameter `<<namespace>>`, asked for at run time.
fn parameters_from_placeholders(sop: &mut Sop) {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut convert = |cmd: &mut String| {
        let (new, names) = angle_placeholders(cmd);
        *cmd = new;
        for n in names {
            if !found.iter().any(|(a, _)| *a == n.0) {
                found.push(n);
            }
        }
    };
    for step in &mut sop.steps {
        for block in &mut step.body {
            if let StepBlock::Commands { commands, .. } = block {
                for c in commands {
                    convert(&mut c.command);
                }
            }
        }
        for c in &mut step.commands {
            convert(c);
        }
    }
    for p in &mut sop.prerequisites {
        if let Some(c) = &mut p.check {
            convert(c);
        }
    }
    for c in &mut sop.success_checks {
        if let Some(c) = &mut c.command {
            convert(c);
        }
    }
    for (name, written) in found {
        if sop.parameters.iter().any(|p| p.name == name) {
            continue;
        }
        let secret = [
            "password",
            "passwd",
            "token",
            "secret",
            "api_key",
            "apikey",
            "private_key",
        ]
        .iter()
        .any(|w| name.contains(w));
        sop.parameters.push(Parameter {
            name,
            description: format!("Written `{written}` in the runbook"),
            examples: Vec::new(),
            secret,
        });
    }
}

/// Replaces `<word>` (not `<<word>>`, not a heredoc) with `<<word>>`.
fn angle_placeholders(cmd: &str) -> (String, Vec<(String, String)>) {
    let bytes = cmd.as_bytes();
    let mut out = String::with_capacity(cmd.len());
    let mut names = Vec::new();
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        if bytes[i] == b'<' && (i == 0 || bytes[i - 1] != b'<') {
            let rest = &cmd[i + 1..];
            let len = rest
                .char_indices()
                .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .map(|(j, c)| j + c.len_utf8())
                .last()
                .unwrap_or(0);
            let word = &rest[..len];
            let closes = rest[len..].starts_with('>') && !rest[len..].starts_with(">>");
            let starts_alpha = word.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
            if closes && starts_alpha && len <= 40 {
                let name = word.to_ascii_lowercase().replace('-', "_");
                out.push_str(&cmd[last..i]);
                out.push_str(&format!("<<{name}>>"));
                names.push((name, format!("<{word}>")));
                i += len + 2;
                last = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&cmd[last..]);
    (out, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angle_brackets_become_parameters() {
        let (c, n) = angle_placeholders("kubectl -n <namespace> logs <POD-NAME> < in.txt <<EOF");
        assert_eq!(
            c,
            "kubectl -n <<namespace>> logs <<pod_name>> < in.txt <<EOF"
        );
        assert_eq!(n.len(), 2);
        assert_eq!(angle_placeholders("echo <<done>>").0, "echo <<done>>");
    }

    #[test]
    fn console_blocks_split_prompts_from_output() {
        let got = console_commands(
            "$ kubectl get pods\nNAME   READY\nweb-1  1/1\n$ cat <<EOF\n> hi\n> EOF\nhi\n",
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].command, "kubectl get pods");
        assert_eq!(got[0].output.as_deref(), Some("NAME   READY\nweb-1  1/1"));
        assert_eq!(got[1].command, "cat <<EOF\nhi\nEOF");
        assert_eq!(got[1].output.as_deref(), Some("hi"));
    }

    #[test]
    fn unlabelled_code_runs_only_when_it_reads_as_shell() {
        assert!(looks_like_shell(
            "kubectl get pods -n web\nsystemctl restart nginx"
        ));
        assert!(looks_like_shell("FOO=1 ./run.sh"));
        assert!(!looks_like_shell("apiVersion: v1\nkind: Pod"));
        assert!(!looks_like_shell("SELECT * FROM users;"));
        assert!(!looks_like_shell("{\"a\": 1}"));
        assert!(!looks_like_shell(
            "rate(http_requests_total{job=~\"api\"}[5m])"
        ));
        assert!(!looks_like_shell("2024-01-01T00:00:00Z ERROR boom"));
    }

    #[test]
    fn roles() {
        assert_eq!(role_of("Steps"), Role::Procedure);
        assert_eq!(role_of("3. Verification"), Role::SuccessChecks);
        assert_eq!(role_of("Rollback"), Role::Reference);
        assert_eq!(role_of("Mitigation"), Role::Other);
        assert_eq!(role_of("Escalation path"), Role::Escalation);
    }
}
