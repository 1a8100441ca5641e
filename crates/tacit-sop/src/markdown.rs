//! The SOP as Markdown: a document that reads well on GitHub and GitLab and
//! parses back into the same [`Sop`], so it can live in git next to the code.
//!
//! # The document
//!
//! ````markdown
//! ---
//! id: deploy-web
//! title: Deploy the web app
//! owner: alice                 # omitted when unknown
//! review_every_days: 90        # omitted when unknown
//! version: 3
//! parameters:                  # omitted when there are none
//!   - name: version
//!     description: Release tag to deploy
//!     examples:
//!       - v2.4.1
//!     secret: true             # omitted when false
//! ---
//!
//! # Deploy the web app
//!
//! ## Purpose
//! ## When to use
//! ## Prerequisites             - Docker is running
//!                                — check: `docker info`
//! ## Parameters                (a table; the front matter is the source of truth)
//! ## Procedure                 ```mermaid flowchart (derived, ignored on parse)
//!                              ### 1. Build the release _(optional)_
//!                              **Working folder:** `app`
//!                              ```sh  (one command per line)
//!                              an instruction paragraph
//!                              **Expect:** exit code 0, output contains `built`
//!                              **Why:** …
//! ## Decision rules            ### Step: Build the release   (or ### Any step)
//!                              - **When** lock held
//!                                (exit code 3, output contains `lock held`)
//!                                → **Then** …
//!                                → **Because** …
//! ## Edge cases                - description
//!                                → handling
//! ## Escalation                - when
//!                                → contact: whom
//! ## Success checks            - description
//!                                — run: `command`
//!                                — expect: exit code 0
//! ## Revision history          | Version | Date | Author | Summary | Runs |
//! ````
//!
//! Sections with nothing in them are left out. Every item that has
//! provenance ends with `<!-- sources: RUN#SEQ, RUN#SEQ -->`, which GitHub
//! and GitLab do not show.
//!
//! # Escaping
//!
//! Free text is backslash-escaped so that the page shows it exactly as it was
//! typed: `\ ` * _ [ ] < > | ~ $` always, `&` where it starts an entity (`&amp;`),
//! `#` at the start of a line or in a trailing run, and `- + =` or the `.`/`)`
//! of `1.` at the start of a line. Parsing removes a backslash before any
//! ASCII punctuation, as CommonMark does. Commands, folders and expected
//! output are code (fenced blocks or code spans) and are written verbatim.
//! Multi-line text (purpose, when to use, a step's instruction and why) ends
//! each line but the last of a paragraph with a `\` hard line break.
//!
//! A command that spans lines goes into the shared ```` ```sh ```` block when
//! each line but the last ends with a `\` continuation; any other multi-line
//! command (or one ending in `\`) gets a block of its own, marked
//! ```` ```sh one-command ````.
//!
//! # What the parser forgives
//!
//! Step numbers are cosmetic (the order in the file wins; missing, repeated
//! or out-of-order numbers are fine); a hand-written `### Title` followed by a
//! ```` ``` ````, ```` ```sh ```` or ```` ```bash ```` block is a step; the
//! Mermaid block and the Parameters table are derived and ignored; sources
//! comments are optional; blank lines, CRLF line endings, a byte-order mark,
//! the case of section headings (and a few aliases such as `Steps`, `Rules`,
//! `Revisions`), `*`/`+`/`1.` list markers, `->` for `→`, and text wrapped
//! onto the next line are all accepted; a missing `version:` reads as 1.
//! HTML comments other than sources, and edits to the Mermaid block or the
//! Parameters table, are dropped. A heading number needs its `.` or `)`
//! (`### 3 Clear` keeps "3 Clear" as the title). What it can't place (an
//! unknown section, text outside any section, a code block in another
//! language, a `# ` title that differs from `title:`) is a [`ParseError`]
//! that names the line and says what to change.
//!
//! # What round-trips
//!
//! `parse_markdown(&render_markdown(&sop)) == sop` holds when:
//! front-matter strings are anything without control characters other than
//! `\t`, `\n` (id and title non-empty); one-line fields (titles, descriptions,
//! rule texts, contacts, dates, authors…) have no newline and no leading or
//! trailing whitespace; purpose, when-to-use and a step's instruction have no
//! leading/trailing whitespace on any line and no more than one blank line in
//! a row (a step's why: no blank line at all); commands are non-empty and
//! trimmed; expected-output strings, folders and check commands are non-empty
//! and have no newline; `Option<String>`s are never `Some("")`; step titles
//! are unique; a rule's `step` is `None` or non-empty; parameter names match
//! `[a-z][a-z0-9_]*` and are unique (else parsing fails); run ids match
//! `[A-Za-z0-9._:-]+`. The renderer normalizes anything else (newlines in
//! one-line fields become spaces, lines of multi-line text are trimmed).

use std::fmt::Write as _;

use serde::Deserialize;

use crate::mermaid::render_mermaid;
use crate::model::{
    Condition, DecisionRule, EdgeCase, Escalation, Expectation, Parameter, Prerequisite, Revision,
    ShownCommand, Sop, SourceRef, Step, StepBlock, SuccessCheck, TextFormat,
};

/// What is wrong with a Markdown SOP, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    /// 1-based line in the file.
    pub line: usize,
    /// What is wrong and what to change.
    pub message: String,
}

fn fail<T>(line: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        message: message.into(),
    })
}

// ───────────────────────────── rendering ─────────────────────────────

/// Renders the SOP as a Markdown document (see the module docs).
pub fn render_markdown(sop: &Sop) -> String {
    let _mode = TextMode::enter(sop.text == TextFormat::Markdown);
    let mut out = front_matter(sop);
    let _ = writeln!(out, "\n# {}", esc(&one_line(&sop.title)));
    let mut prose = ProseWriter::new(sop);
    prose.after(&mut out, None);
    for name in SECTION_ORDER {
        if name == "Procedure" {
            procedure(&mut out, sop);
        } else {
            section(&mut out, name, section_body(name, sop));
        }
        prose.after(&mut out, Some(name));
    }
    prose.rest(&mut out);
    out
}

/// tacit's sections, in the order they are written.
const SECTION_ORDER: [&str; 11] = [
    "Purpose",
    "When to use",
    "Prerequisites",
    "Parameters",
    "Procedure",
    "Decision rules",
    "Edge cases",
    "Escalation",
    "Success checks",
    "Notes",
    "Revision history",
];

fn procedure(out: &mut String, sop: &Sop) {
    if sop.steps.iter().any(|s| s.stage.is_none()) || !sop.procedure_intro.trim().is_empty() {
        let mut body = String::new();
        if !sop.procedure_intro.trim().is_empty() {
            body.push_str(sop.procedure_intro.trim());
            body.push('\n');
        }
        // The flowchart is tacit's own view; an imported runbook keeps its look.
        if sop.text == TextFormat::Plain && !sop.steps.is_empty() {
            body.push_str("```mermaid\n");
            body.push_str(&render_mermaid(sop));
            body.push_str("```\n");
        }
        render_steps(&mut body, sop, None);
        section(out, "Procedure", body);
    }
    // Steps of a stage whose section is gone still belong in the document.
    let mut orphan_stages: Vec<&str> = Vec::new();
    for s in &sop.steps {
        if let Some(stage) = s.stage.as_deref()
            && !sop.sections.iter().any(|p| p.title == stage)
            && !orphan_stages.contains(&stage)
        {
            orphan_stages.push(stage);
        }
    }
    for stage in orphan_stages {
        let mut body = String::new();
        render_steps(&mut body, sop, Some(stage));
        section(out, stage, body);
    }
}

/// The body of one of tacit's sections (not the procedure).
fn section_body(name: &str, sop: &Sop) -> String {
    let mut body = String::new();
    match name {
        "Purpose" => return block_text(&sop.purpose),
        "When to use" => return block_text(&sop.when_to_use),
        "Parameters" => return parameter_table(&sop.parameters),
        "Decision rules" => return rules_body(&sop.rules),
        "Revision history" => return revision_table(&sop.revisions),
        "Prerequisites" => {
            for p in &sop.prerequisites {
                item_line(&mut body, &p.description);
                if let Some(check) = &p.check {
                    let _ = writeln!(body, "  — check: {}", code_span(&code_line(check)));
                }
                sources_line(&mut body, "  ", &p.sources);
            }
        }
        "Edge cases" => {
            for e in &sop.edge_cases {
                item_line(&mut body, &e.description);
                line_with(&mut body, "  → ", &esc(&one_line(&e.handling)));
                sources_line(&mut body, "  ", &e.sources);
            }
        }
        "Escalation" => {
            for e in &sop.escalations {
                item_line(&mut body, &e.when);
                if let Some(contact) = &e.contact {
                    line_with(&mut body, "  → contact: ", &esc(&one_line(contact)));
                }
                sources_line(&mut body, "  ", &e.sources);
            }
        }
        "Success checks" => {
            for c in &sop.success_checks {
                item_line(&mut body, &c.description);
                if let Some(cmd) = &c.command {
                    let _ = writeln!(body, "  — run: {}", code_span(&code_line(cmd)));
                }
                if let Some(expect) = expectation_text(&c.expect) {
                    let _ = writeln!(body, "  — expect: {expect}");
                }
                sources_line(&mut body, "  ", &c.sources);
            }
        }
        "Notes" => {
            for n in &sop.notes {
                item_line(&mut body, n);
            }
        }
        _ => {}
    }
    body
}

/// Reads one of tacit's list or table sections from an imported file in
/// tacit's own layout. `Ok(true)` when it read back to the same text (so
/// nothing was lost), `Err` or `Ok(false)` when the caller must take it
/// some other way. Text is Markdown here (the importer's mode).
pub(crate) fn parse_known_section(
    name: &str,
    raw: &str,
    first_line: usize,
    sop: &mut Sop,
) -> Result<bool, ParseError> {
    let kind = match Section::from_heading(name) {
        Some(Section::Parameters) => {
            // Derived from the front matter; only tacit's own table is dropped.
            return Ok(raw.trim_start().starts_with("| Parameter |"));
        }
        Some(
            k @ (Section::Prerequisites
            | Section::EdgeCases
            | Section::Escalation
            | Section::SuccessChecks
            | Section::Notes
            | Section::Rules
            | Section::Revisions),
        ) => k,
        _ => return Ok(false),
    };
    let lines: Vec<&str> = raw.split('\n').collect();
    let blocks = blockify(&lines, first_line)?;
    let mut trial = Sop::default();
    read_section(kind, &blocks, name, &mut trial)?;
    let squash = |s: &str| -> String {
        s.lines()
            .map(|l| {
                let t = l.trim();
                t.strip_prefix("* ")
                    .or_else(|| t.strip_prefix("+ "))
                    .map(|r| format!("- {r}"))
                    .unwrap_or_else(|| t.to_string())
            })
            .collect::<String>()
            .split_whitespace()
            .collect()
    };
    if squash(&section_body(name, &trial)) != squash(raw) {
        return Ok(false);
    }
    sop.prerequisites.extend(trial.prerequisites);
    sop.edge_cases.extend(trial.edge_cases);
    sop.escalations.extend(trial.escalations);
    sop.success_checks.extend(trial.success_checks);
    sop.notes.extend(trial.notes);
    sop.rules.extend(trial.rules);
    sop.revisions.extend(trial.revisions);
    Ok(true)
}

/// A step heading's title and whether it is marked optional.
pub(crate) fn step_title(text: &str) -> (String, bool) {
    step_heading(text)
}

/// Writes the kept sections where they stood relative to tacit's own.
struct ProseWriter<'a> {
    sop: &'a Sop,
    done: Vec<bool>,
}

impl<'a> ProseWriter<'a> {
    fn new(sop: &'a Sop) -> ProseWriter<'a> {
        ProseWriter {
            sop,
            done: vec![false; sop.sections.len()],
        }
    }

    fn after(&mut self, out: &mut String, anchor: Option<&str>) {
        for (i, s) in self.sop.sections.iter().enumerate() {
            if !self.done[i] && s.after.as_deref() == anchor {
                self.write(out, i);
            }
        }
    }

    /// Sections anchored to a section name tacit does not know.
    fn rest(&mut self, out: &mut String) {
        for i in 0..self.sop.sections.len() {
            if !self.done[i] {
                self.write(out, i);
            }
        }
    }

    fn write(&mut self, out: &mut String, i: usize) {
        self.done[i] = true;
        let s = &self.sop.sections[i];
        let mut body = String::new();
        if !s.markdown.trim().is_empty() {
            body.push_str(s.markdown.trim());
            body.push('\n');
        }
        if !s.title.is_empty() {
            render_steps(&mut body, self.sop, Some(&s.title));
        }
        if s.title.is_empty() {
            if !body.is_empty() {
                out.push('\n');
                out.push_str(&body);
            }
        } else {
            let _ = write!(
                out,
                "\n## {}\n\n{}",
                one_line(&s.title),
                body.trim_start_matches('\n')
            );
        }
    }
}

/// The steps of one stage (`None`: the procedure), with their group headings.
fn render_steps(out: &mut String, sop: &Sop, stage: Option<&str>) {
    let mut group: Option<&str> = None;
    for (i, step) in sop.steps.iter().enumerate() {
        if step.stage.as_deref() != stage {
            continue;
        }
        let level = if step.group.is_some() { 4 } else { 3 };
        if step.group.as_deref() != group {
            group = step.group.as_deref();
            if let Some(g) = group {
                let _ = writeln!(out, "\n### {}", one_line(g));
            }
        }
        if sop.text == TextFormat::Plain && step.body.is_empty() && step.group.is_none() {
            render_step(out, i + 1, step);
        } else {
            render_body_step(out, i + 1, step, level);
        }
    }
}

/// A step whose prose, commands and snippets keep their written order.
fn render_body_step(out: &mut String, n: usize, step: &Step, level: usize) {
    let hashes = "#".repeat(level);
    let marker = if step.optional { " _(optional)_" } else { "" };
    let _ = writeln!(
        out,
        "\n{hashes} {n}. {}{marker}",
        esc(&one_line(&step.title))
    );
    if let Some(cwd) = &step.cwd {
        let _ = writeln!(out, "\n**Working folder:** {}", code_span(&code_line(cwd)));
    }
    let in_sync =
        step.body_commands() == step.commands.iter().map(String::as_str).collect::<Vec<_>>();
    let mut commands_written = false;
    for block in &step.body {
        match block {
            StepBlock::Text { markdown } => {
                if !markdown.trim().is_empty() {
                    let _ = writeln!(out, "\n{}", markdown.trim_end());
                }
            }
            StepBlock::Snippet { lang, code } => {
                out.push('\n');
                out.push_str(&fenced(code, lang, ""));
            }
            StepBlock::Commands { lang, commands } => {
                if in_sync {
                    out.push('\n');
                    out.push_str(&fenced(&shown_commands(lang, commands), lang, ""));
                } else if !commands_written && !step.commands.is_empty() {
                    out.push('\n');
                    out.push_str(&fenced(&step.commands.join("\n"), lang, ""));
                }
                commands_written = true;
            }
        }
    }
    if !commands_written && !step.commands.is_empty() {
        for block in command_blocks(&step.commands, "") {
            out.push('\n');
            out.push_str(&block);
        }
    }
    if let Some(instruction) = &step.instruction {
        let text = block_text(instruction);
        if !text.is_empty() {
            out.push('\n');
            out.push_str(&text);
        }
    }
    // An imported step expects success unless it says otherwise.
    let implied = markdown_text()
        && !step.commands.is_empty()
        && step.expect.exit_code == Some(0)
        && step.expect.output_contains.is_empty();
    if let Some(expect) = expectation_text(&step.expect).filter(|_| !implied) {
        let _ = writeln!(out, "\n**Expect:** {expect}");
    }
    for (label, text) in [("Why", &step.why), ("Caution", &step.caution)] {
        if let Some(t) = text {
            let lines: Vec<&str> = t.lines().filter(|l| !l.trim().is_empty()).collect();
            let text = block_text(&lines.join("\n"));
            if !text.is_empty() {
                let _ = write!(out, "\n**{label}:** {text}");
            }
        }
    }
    if let Some(c) = sources_comment(&step.sources) {
        let _ = writeln!(out, "\n{c}");
    }
}

/// A code block's text: commands one after another; in a `console` block
/// each behind a `$ ` prompt (continuation lines behind `> `) and followed
/// by the output the runbook shows.
fn shown_commands(lang: &str, commands: &[ShownCommand]) -> String {
    let console = is_console_lang(lang) || commands.iter().any(|c| c.output.is_some());
    let mut lines: Vec<String> = Vec::new();
    for c in commands {
        if console {
            for (i, l) in c.command.split('\n').enumerate() {
                lines.push(if i == 0 {
                    format!("$ {l}")
                } else {
                    format!("> {l}")
                });
            }
            if let Some(o) = &c.output {
                lines.extend(o.split('\n').map(str::to_string));
            }
        } else {
            lines.push(c.command.clone());
        }
    }
    lines.join("\n")
}

/// Languages whose blocks show a session: prompts, commands and output.
pub(crate) fn is_console_lang(lang: &str) -> bool {
    matches!(
        lang.to_ascii_lowercase().as_str(),
        "console" | "shell-session" | "sh-session" | "shellsession" | "terminal" | "session"
    )
}

// Whether text is written as Markdown (imported) rather than escaped plain
// text. A thread-local so that the many small escaping helpers keep their
// one-argument shape; set for the length of one render or parse.
thread_local! {
    static MARKDOWN_TEXT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub(crate) struct TextMode(bool);

impl TextMode {
    pub(crate) fn enter(markdown: bool) -> TextMode {
        TextMode(MARKDOWN_TEXT.with(|m| m.replace(markdown)))
    }
}

impl Drop for TextMode {
    fn drop(&mut self) {
        MARKDOWN_TEXT.with(|m| m.set(self.0));
    }
}

fn markdown_text() -> bool {
    MARKDOWN_TEXT.with(|m| m.get())
}

fn section(out: &mut String, title: &str, body: String) {
    if body.trim().is_empty() {
        return;
    }
    let _ = write!(out, "\n## {title}\n\n{}", body.trim_start_matches('\n'));
}

/// `- text`, with no trailing space when the text is empty.
fn item_line(out: &mut String, text: &str) {
    line_with(out, "- ", &esc(&one_line(text)));
}

fn line_with(out: &mut String, prefix: &str, text: &str) {
    let line = format!("{prefix}{text}");
    out.push_str(line.trim_end());
    out.push('\n');
}

fn sources_line(out: &mut String, indent: &str, sources: &[SourceRef]) {
    if let Some(c) = sources_comment(sources) {
        let _ = writeln!(out, "{indent}{c}");
    }
}

fn sources_comment(sources: &[SourceRef]) -> Option<String> {
    if sources.is_empty() {
        return None;
    }
    let refs: Vec<String> = sources
        .iter()
        .map(|s| format!("{}#{}", s.run_id, s.seq))
        .collect();
    Some(format!("<!-- sources: {} -->", refs.join(", ")))
}

fn render_step(out: &mut String, n: usize, step: &Step) {
    let mut title = esc(&one_line(&step.title));
    if one_line(&step.title)
        .to_ascii_lowercase()
        .ends_with("(optional)")
        && let Some(i) = title.rfind('(')
    {
        // Keep a title that really ends in "(optional)" apart from the marker.
        title.insert(i, '\\');
    }
    let marker = if step.optional { " _(optional)_" } else { "" };
    let _ = writeln!(out, "\n### {n}. {title}{marker}");
    if let Some(cwd) = &step.cwd {
        let _ = writeln!(out, "\n**Working folder:** {}", code_span(&code_line(cwd)));
    }
    for block in command_blocks(&step.commands, "") {
        out.push('\n');
        out.push_str(&block);
    }
    if let Some(instruction) = &step.instruction {
        let text = block_text(instruction);
        if !text.is_empty() {
            out.push('\n');
            out.push_str(&text);
        }
    }
    if let Some(expect) = expectation_text(&step.expect) {
        let _ = writeln!(out, "\n**Expect:** {expect}");
    }
    if let Some(why) = &step.why {
        let lines: Vec<&str> = why.lines().filter(|l| !l.trim().is_empty()).collect();
        let text = block_text(&lines.join("\n"));
        if !text.is_empty() {
            let _ = write!(out, "\n**Why:** {text}");
        }
    }
    if let Some(caution) = &step.caution {
        let lines: Vec<&str> = caution.lines().filter(|l| !l.trim().is_empty()).collect();
        let text = block_text(&lines.join("\n"));
        if !text.is_empty() {
            let _ = write!(out, "\n**Caution:** {text}");
        }
    }
    if let Some(c) = sources_comment(&step.sources) {
        let _ = writeln!(out, "\n{c}");
    }
}

fn rules_body(rules: &[DecisionRule]) -> String {
    let mut out = String::new();
    let grouped = rules.iter().any(|r| r.step.is_some());
    let mut current: Option<Option<&str>> = None;
    for rule in rules {
        let group = rule.step.as_deref();
        if grouped && current != Some(group) {
            if !out.is_empty() {
                out.push('\n');
            }
            match group {
                Some(step) => {
                    let _ = writeln!(out, "### Step: {}\n", esc(&one_line(step)));
                }
                None => out.push_str("### Any step\n\n"),
            }
            current = Some(group);
        }
        line_with(&mut out, "- **When** ", &esc(&one_line(&rule.when.summary)));
        let details = Expectation {
            exit_code: rule.when.exit_code,
            output_contains: rule.when.output_contains.iter().cloned().collect(),
        };
        if let Some(d) = expectation_text(&details) {
            let _ = writeln!(out, "  ({d})");
        }
        line_with(&mut out, "  → **Then** ", &esc(&one_line(&rule.then)));
        if !rule.because.trim().is_empty() {
            line_with(&mut out, "  → **Because** ", &esc(&one_line(&rule.because)));
        }
        for block in command_blocks(&rule.then_commands, "  ") {
            out.push_str(&block);
        }
        sources_line(&mut out, "  ", &rule.sources);
    }
    out
}

fn parameter_table(params: &[Parameter]) -> String {
    if params.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "| Parameter | Description | Examples | Secret |\n| --- | --- | --- | --- |\n",
    );
    for p in params {
        let examples: Vec<String> = p
            .examples
            .iter()
            .map(|e| code_span(&code_line(e)).replace('|', "\\|"))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            code_span(&format!("<<{}>>", p.name)).replace('|', "\\|"),
            esc(&one_line(&p.description)),
            examples.join(", "),
            if p.secret { "yes" } else { "no" }
        );
    }
    out
}

fn revision_table(revisions: &[Revision]) -> String {
    if revisions.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "| Version | Date | Author | Summary | Runs |\n| --- | --- | --- | --- | --- |\n",
    );
    for r in revisions {
        let runs: Vec<String> = r.runs.iter().map(|id| code_span(id)).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            r.version,
            esc(&one_line(&r.date)),
            esc(&one_line(&r.author)),
            esc(&one_line(&r.summary)),
            runs.join(", ")
        );
    }
    out
}

/// `exit code 0, output contains `a` and `b``, or `None` when nothing is expected.
fn expectation_text(e: &Expectation) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(code) = e.exit_code {
        parts.push(format!("exit code {code}"));
    }
    if !e.output_contains.is_empty() {
        let spans: Vec<String> = e
            .output_contains
            .iter()
            .map(|s| code_span(&code_line(s)))
            .collect();
        let list = match spans.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => spans.join(""),
        };
        parts.push(format!("output contains {list}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Fenced blocks for a list of commands, each line prefixed by `indent`.
fn command_blocks(commands: &[String], indent: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut shared: Vec<&str> = Vec::new();
    let flush = |shared: &mut Vec<&str>, blocks: &mut Vec<String>| {
        if !shared.is_empty() {
            blocks.push(fenced(&shared.join("\n"), "sh", indent));
            shared.clear();
        }
    };
    for cmd in commands {
        if fits_shared_block(cmd) {
            shared.push(cmd);
        } else {
            flush(&mut shared, &mut blocks);
            blocks.push(fenced(cmd, "sh one-command", indent));
        }
    }
    flush(&mut shared, &mut blocks);
    blocks
}

/// Whether a command reads back from a one-command-per-line block: one line,
/// or lines joined by `\` continuations.
fn fits_shared_block(cmd: &str) -> bool {
    let lines: Vec<&str> = cmd.split('\n').collect();
    let last = lines.len() - 1;
    lines.iter().enumerate().all(|(i, line)| {
        let trimmed_ok = line.trim_end() == *line && !line.trim().is_empty();
        let start_ok = i > 0 || line.trim_start() == *line;
        trimmed_ok && start_ok && (continues(line) == (i < last))
    })
}

/// An odd number of trailing backslashes: the shell continues the line.
fn continues(line: &str) -> bool {
    line.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

fn fenced(content: &str, info: &str, indent: &str) -> String {
    let longest = longest_run(content, '`');
    let fence = "`".repeat((longest + 1).max(3));
    let mut out = format!("{indent}{fence}{info}\n");
    for line in content.split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    let _ = writeln!(out, "{indent}{fence}");
    out
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// A code span that shows `s` verbatim (any backticks, leading or trailing spaces).
pub(crate) fn code_span(s: &str) -> String {
    let fence = "`".repeat(longest_run(s, '`') + 1);
    let pad = s.starts_with('`')
        || s.ends_with('`')
        || (s.starts_with(' ') && s.ends_with(' ') && !s.trim_matches(' ').is_empty());
    if pad {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// Code on one line: newlines become spaces (nothing is trimmed).
pub(crate) fn code_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// A one-line field: newlines become spaces, ends trimmed.
pub(crate) fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ").trim().to_string()
}

/// Multi-line text: trimmed lines, at most one blank line in a row.
pub(crate) fn normalize_block(s: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in s.lines() {
        let line = line.trim();
        if line.is_empty() && out.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// Multi-line text as escaped paragraphs with hard line breaks; ends with a
/// newline, or is empty.
fn block_text(s: &str) -> String {
    let s = normalize_block(s);
    if s.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for (i, para) in s.split("\n\n").enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let lines: Vec<String> = para.split('\n').map(esc).collect();
        // Markdown text keeps its own line breaks.
        out.push_str(&lines.join(if markdown_text() { "\n" } else { "\\\n" }));
        out.push('\n');
    }
    out
}

/// Escapes one line of free text so that Markdown shows it as typed.
pub(crate) fn esc(s: &str) -> String {
    if markdown_text() {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let ordered_marker_end = {
        let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
        if (1..=9).contains(&digits) && matches!(chars.get(digits), Some('.') | Some(')')) {
            Some(digits)
        } else {
            None
        }
    };
    for (i, &c) in chars.iter().enumerate() {
        let escape = match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '$' => true,
            // Only where it could start an entity: `&name;`, `&#123;`.
            '&' => {
                let rest = &chars[i + 1..];
                let rest = rest.strip_prefix(&['#']).unwrap_or(rest);
                let n = rest
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .count();
                n > 0 && rest.get(n) == Some(&';')
            }
            '#' => i == 0 || chars[i..].iter().all(|&x| x == '#'),
            '-' | '+' | '=' => i == 0,
            '.' | ')' => ordered_marker_end == Some(i),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Removes the backslash of every backslash escape (`\` before ASCII punctuation).
pub(crate) fn unesc(s: &str) -> String {
    if markdown_text() {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&n) = chars.peek()
            && n.is_ascii_punctuation()
        {
            out.push(n);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

// ─────────────────────────── front matter ───────────────────────────

fn front_matter(sop: &Sop) -> String {
    let mut y = String::from("---\n");
    let _ = writeln!(y, "id: {}", yaml_str(&sop.id));
    let _ = writeln!(y, "title: {}", yaml_str(&sop.title));
    if let Some(owner) = &sop.owner {
        let _ = writeln!(y, "owner: {}", yaml_str(owner));
    }
    if let Some(days) = sop.review_every_days {
        let _ = writeln!(y, "review_every_days: {days}");
    }
    let _ = writeln!(y, "version: {}", sop.version);
    if !sop.parameters.is_empty() {
        y.push_str("parameters:\n");
        for p in &sop.parameters {
            let _ = writeln!(y, "  - name: {}", yaml_str(&p.name));
            if !p.description.is_empty() {
                let _ = writeln!(y, "    description: {}", yaml_str(&p.description));
            }
            if !p.examples.is_empty() {
                y.push_str("    examples:\n");
                for e in &p.examples {
                    let _ = writeln!(y, "      - {}", yaml_str(e));
                }
            }
            if p.secret {
                y.push_str("    secret: true\n");
            }
        }
    }
    if sop.text == TextFormat::Markdown {
        y.push_str("text: markdown\n");
    }
    for k in &sop.front_matter {
        // JSON is YAML: a value goes back as what it was.
        let value = match &k.value {
            serde_json::Value::String(s) => yaml_str(s),
            other => other.to_string(),
        };
        let _ = writeln!(y, "{}: {value}", yaml_str(&k.key));
    }
    y.push_str("---\n");
    y
}

/// A YAML scalar: plain when that is unambiguous, else double-quoted.
fn yaml_str(s: &str) -> String {
    let mut chars = s.chars();
    let plain = match chars.next() {
        Some(first) => {
            first.is_alphabetic()
                && chars.all(|c| c.is_alphanumeric() || " _./@+(),'-".contains(c))
                && !s.ends_with(' ')
                && !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
                )
        }
        None => false,
    };
    if plain {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{85}') => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: Option<String>,
    title: Option<String>,
    owner: Option<String>,
    review_every_days: Option<u32>,
    version: Option<u32>,
    #[serde(default)]
    parameters: Option<Vec<serde_saphyr::Spanned<FrontParam>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontParam {
    name: Option<String>,
    description: Option<String>,
    examples: Option<Vec<String>>,
    secret: Option<bool>,
}

/// Parses the YAML between the `---` lines; `first_line` is the file line of
/// the YAML's first line.
fn parse_front_matter(yaml: &str, first_line: usize, sop: &mut Sop) -> Result<(), ParseError> {
    let open_line = first_line - 1;
    if yaml.trim().is_empty() {
        return fail(
            open_line,
            "the front matter is empty: it needs at least `id:`, `title:` and `version:`",
        );
    }
    let fm: FrontMatter =
        serde_saphyr::from_str(yaml).map_err(|e| yaml_error(&e, yaml, first_line))?;
    sop.id = match fm.id {
        Some(id) if !id.trim().is_empty() => id,
        _ => {
            return fail(
                open_line,
                "the front matter has no `id:` (e.g. `id: deploy-web`)",
            );
        }
    };
    sop.title = match fm.title {
        Some(t) if !t.trim().is_empty() => t,
        _ => {
            return fail(
                open_line,
                "the front matter has no `title:` (e.g. `title: Deploy the web app`)",
            );
        }
    };
    sop.owner = fm.owner.filter(|o| !o.is_empty());
    sop.review_every_days = fm.review_every_days;
    sop.version = fm.version.unwrap_or(1);
    let re = crate::model::placeholder_regex();
    for p in fm.parameters.unwrap_or_default() {
        let line = p.referenced.line() as usize + first_line - 1;
        let param = p.value;
        let name = match param.name {
            Some(n) if !n.trim().is_empty() => n,
            _ => {
                return fail(
                    line,
                    "this parameter has no `name:` (e.g. `- name: version`)",
                );
            }
        };
        let wrapped = format!("<<{name}>>");
        if re.find(&wrapped).map(|m| m.as_str()) != Some(wrapped.as_str()) {
            return fail(
                line,
                format!(
                    "parameter name `{name}` must be lowercase letters, digits and `_`, starting with a letter (e.g. `release_tag`)"
                ),
            );
        }
        if sop.parameters.iter().any(|q| q.name == name) {
            return fail(line, format!("parameter `{name}` is listed twice"));
        }
        sop.parameters.push(Parameter {
            name,
            description: param.description.unwrap_or_default(),
            examples: param.examples.unwrap_or_default(),
            secret: param.secret.unwrap_or(false),
        });
    }
    Ok(())
}

fn yaml_error(e: &serde_saphyr::Error, yaml: &str, first_line: usize) -> ParseError {
    let inner = e.without_snippet();
    let mut line = inner
        .location()
        .map(|l| (l.line() as usize).max(1) + first_line - 1)
        .unwrap_or(first_line);
    let mut msg = match inner {
        serde_saphyr::Error::Message { msg, .. } => msg.clone(),
        other => other.to_string(),
    };
    if let Some(i) = msg.rfind(" at line ") {
        msg.truncate(i);
    }
    if let Some(rest) = msg.strip_prefix("unknown field `")
        && let Some((key, _)) = rest.split_once('`')
    {
        // Point at the key itself rather than at the start of its mapping.
        let from = line - first_line;
        if let Some(i) = yaml.lines().enumerate().skip(from).position(|(_, l)| {
            l.trim_start()
                .trim_start_matches("- ")
                .trim_start()
                .starts_with(&format!("{key}:"))
        }) {
            line = first_line + from + i;
        }
        msg = format!(
            "unknown key `{key}`: the front matter has `id`, `title`, `owner`, `review_every_days`, `version` and `parameters` (each with `name`, `description`, `examples`, `secret`)"
        );
    } else {
        let plain = match msg.as_str() {
            "unexpected event: expected string scalar" => Some(
                "expected text here (quote a value that starts with `[`, `{`, `*`, `&`, `!` or contains `: ` or ` #`)",
            ),
            "unexpected event: expected mapping start" => Some("expected `key: value` lines here"),
            "unexpected event: expected sequence start" => {
                Some("expected a list here, one `- item` per line")
            }
            "invalid u32" => Some("expected a whole number here"),
            _ => None,
        };
        if let Some(p) = plain {
            msg = p.to_string();
        }
    }
    ParseError {
        line,
        message: format!("invalid front matter: {msg}"),
    }
}

// ───────────────────────────── parsing ─────────────────────────────

/// Parses a Markdown SOP (see the module docs for what is accepted).
pub fn parse_markdown(text: &str) -> Result<Sop, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    if let Some(i) = lines.iter().position(|l| l.contains('\0')) {
        return fail(
            i + 1,
            "the file contains binary data (a NUL byte): an SOP is a Markdown text file",
        );
    }
    if lines.iter().all(|l| l.trim().is_empty()) {
        return fail(
            1,
            "the file is empty: an SOP starts with front matter between two `---` lines",
        );
    }
    if lines[0].trim_end() != "---" {
        return fail(
            1,
            "no front matter: the file must start with a `---` line, then `id:`, `title:`, `version:`, then `---`",
        );
    }
    let Some(close) = lines
        .iter()
        .skip(1)
        .position(|l| matches!(l.trim_end(), "---" | "..."))
        .map(|i| i + 1)
    else {
        return fail(
            1,
            "the front matter opened here is never closed: add a `---` line after it",
        );
    };

    let mut sop = Sop::default();
    parse_front_matter(&lines[1..close].join("\n"), 2, &mut sop)?;

    let blocks = blockify(&lines[close + 1..], close + 2)?;
    let mut title_line: Option<(usize, String)> = None;
    let mut sections: Vec<(usize, Section, String, Vec<Block>)> = Vec::new();
    for block in blocks {
        match block {
            Block::Heading {
                no, level: 1, text, ..
            } => {
                if let Some((first, _)) = &title_line {
                    return fail(
                        no,
                        format!(
                            "a second `# ` title (the first is on line {first}): sections start with `## `"
                        ),
                    );
                }
                if !sections.is_empty() {
                    return fail(
                        no,
                        "the `# ` title must come before the sections: sections start with `## `",
                    );
                }
                title_line = Some((no, unesc(text)));
            }
            Block::Heading {
                no, level: 2, text, ..
            } => {
                let name = unesc(text);
                let Some(kind) = Section::from_heading(&name) else {
                    return fail(
                        no,
                        format!(
                            "unknown section `## {name}`: the sections are {}; rename it or move its text into one of them",
                            Section::ALL
                                .iter()
                                .map(|s| format!("`{}`", s.title()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                };
                if let Some((first, ..)) = sections.iter().find(|(_, k, ..)| *k == kind) {
                    return fail(
                        no,
                        format!(
                            "`## {}` appears twice (first on line {first}): merge the two",
                            kind.title()
                        ),
                    );
                }
                sections.push((no, kind, name, Vec::new()));
            }
            other => match sections.last_mut() {
                Some((.., blocks)) => blocks.push(other),
                None => match other {
                    Block::Blank | Block::Comment { .. } => {}
                    Block::Heading { no, .. } => {
                        return fail(
                            no,
                            "a sub-heading outside any section: put it under a `## ` section such as `## Procedure`",
                        );
                    }
                    b => {
                        return fail(
                            b.line(),
                            "text outside any section is not kept: put it under a `## ` section such as `## Purpose`",
                        );
                    }
                },
            },
        }
    }

    if let Some((no, title)) = title_line
        && title.trim() != one_line(&sop.title)
    {
        return fail(
            no,
            format!(
                "the title `{}` differs from `title:` in the front matter (`{}`): make them the same",
                title.trim(),
                one_line(&sop.title)
            ),
        );
    }

    for (_, kind, name, blocks) in sections {
        read_section(kind, &blocks, &name, &mut sop)?;
    }
    Ok(sop)
}

/// Reads one of tacit's sections into its field of `sop`.
fn read_section(
    kind: Section,
    blocks: &[Block],
    name: &str,
    sop: &mut Sop,
) -> Result<(), ParseError> {
    fn items<T>(
        blocks: &[Block],
        name: &str,
        each: fn(Item) -> Result<T, ParseError>,
    ) -> Result<Vec<T>, ParseError> {
        list_items(blocks, name)?.into_iter().map(each).collect()
    }
    match kind {
        Section::Purpose => sop.purpose = parse_prose(blocks, name)?,
        Section::WhenToUse => sop.when_to_use = parse_prose(blocks, name)?,
        Section::Prerequisites => sop.prerequisites = items(blocks, name, prerequisite)?,
        Section::Parameters => {} // derived from the front matter
        Section::Procedure => sop.steps = parse_procedure(blocks)?,
        Section::Rules => sop.rules = parse_rules(blocks, name)?,
        Section::EdgeCases => sop.edge_cases = items(blocks, name, edge_case)?,
        Section::Escalation => sop.escalations = items(blocks, name, escalation)?,
        Section::SuccessChecks => sop.success_checks = items(blocks, name, success_check)?,
        Section::Notes => sop.notes = items(blocks, name, note)?,
        Section::Revisions => sop.revisions = parse_revisions(blocks, name)?,
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
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
}

impl Section {
    const ALL: [Section; 11] = [
        Section::Purpose,
        Section::WhenToUse,
        Section::Prerequisites,
        Section::Parameters,
        Section::Procedure,
        Section::Rules,
        Section::EdgeCases,
        Section::Escalation,
        Section::SuccessChecks,
        Section::Notes,
        Section::Revisions,
    ];

    fn title(self) -> &'static str {
        match self {
            Section::Purpose => "Purpose",
            Section::WhenToUse => "When to use",
            Section::Prerequisites => "Prerequisites",
            Section::Parameters => "Parameters",
            Section::Procedure => "Procedure",
            Section::Rules => "Decision rules",
            Section::EdgeCases => "Edge cases",
            Section::Escalation => "Escalation",
            Section::SuccessChecks => "Success checks",
            Section::Notes => "Notes",
            Section::Revisions => "Revision history",
        }
    }

    fn from_heading(text: &str) -> Option<Section> {
        let norm = text
            .trim()
            .trim_end_matches(':')
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        Some(match norm.as_str() {
            "purpose" => Section::Purpose,
            "when to use" | "when to use it" | "when to use this procedure" => Section::WhenToUse,
            "prerequisites" | "prerequisite" | "before you start" => Section::Prerequisites,
            "parameters" => Section::Parameters,
            "procedure" | "steps" => Section::Procedure,
            "decision rules" | "rules" => Section::Rules,
            "edge cases" => Section::EdgeCases,
            "escalation" | "escalations" => Section::Escalation,
            "success checks" | "success check" | "verification" => Section::SuccessChecks,
            "notes" => Section::Notes,
            "revision history" | "revisions" | "history" | "changelog" => Section::Revisions,
            _ => return None,
        })
    }
}

#[derive(Debug)]
pub(crate) enum Block<'a> {
    Blank,
    Text {
        no: usize,
        text: &'a str,
    },
    Heading {
        no: usize,
        level: usize,
        text: &'a str,
    },
    Fence {
        no: usize,
        info: &'a str,
        body: Vec<&'a str>,
    },
    Comment {
        no: usize,
        text: String,
    },
}

impl Block<'_> {
    fn line(&self) -> usize {
        match self {
            Block::Blank => 0,
            Block::Text { no, .. }
            | Block::Heading { no, .. }
            | Block::Fence { no, .. }
            | Block::Comment { no, .. } => *no,
        }
    }
}

/// Splits lines into blocks; `first_no` is the file line of `lines[0]`.
///
/// pulldown-cmark finds the block structure (which lines are a fenced code
/// block, an HTML comment or a heading, by CommonMark's rules, at any list
/// depth); every other line is text, as the strict format expects.
pub(crate) fn blockify<'a>(
    lines: &[&'a str],
    first_no: usize,
) -> Result<Vec<Block<'a>>, ParseError> {
    use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag};
    let text = lines.join("\n");
    let mut starts = Vec::with_capacity(lines.len());
    let mut at = 0;
    for l in lines {
        starts.push(at);
        at += l.len() + 1;
    }
    let line_of = |offset: usize| match starts.binary_search(&offset) {
        Ok(i) => i,
        Err(i) => i.saturating_sub(1),
    };
    // The block that starts on a line, and the line after its end.
    let mut special: Vec<Option<(Block<'a>, usize)>> = (0..lines.len()).map(|_| None).collect();
    let options =
        pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_TASKLISTS;
    for (event, range) in Parser::new_ext(&text, options).into_offset_iter() {
        let Event::Start(tag) = event else { continue };
        let open = line_of(range.start);
        let last = line_of(range.end.saturating_sub(1).max(range.start));
        let no = first_no + open;
        match tag {
            Tag::CodeBlock(CodeBlockKind::Fenced(_)) => {
                let Some((indent, ch, len, info)) = fence_open(lines[open]) else {
                    continue;
                };
                let closed = last > open && {
                    let t = lines[last].trim();
                    t.len() >= len && t.chars().all(|c| c == ch)
                };
                if !closed {
                    let fence: String = std::iter::repeat_n(ch, len).collect();
                    return fail(
                        no,
                        format!(
                            "the code block opened here is never closed: add a closing {fence} line after its last command"
                        ),
                    );
                }
                let body = lines[open + 1..last]
                    .iter()
                    .map(|l| {
                        let spaces = l.len() - l.trim_start_matches(' ').len();
                        &l[spaces.min(indent)..]
                    })
                    .collect();
                special[open] = Some((Block::Fence { no, info, body }, last + 1));
            }
            Tag::HtmlBlock if lines[open].trim_start().starts_with("<!--") => {
                let joined = lines[open..=last].join("\n");
                let inner = &joined.trim_start()[4..];
                let Some(end) = inner.find("-->") else {
                    return fail(
                        no,
                        "the HTML comment opened here is never closed: end it with `-->`",
                    );
                };
                let comment = Block::Comment {
                    no,
                    text: inner[..end].trim().to_string(),
                };
                // Only the lines up to the one that closes the comment.
                let close = open + inner[..end].matches('\n').count();
                special[open] = Some((comment, close + 1));
            }
            Tag::Heading { .. } => {
                // ATX only: a setext underline stays text, as it always was.
                if let Some((level, text)) = heading(lines[open]) {
                    special[open] = Some((Block::Heading { no, level, text }, open + 1));
                }
            }
            _ => {}
        }
    }
    let mut blocks = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        if let Some((block, next)) = special[i].take() {
            blocks.push(block);
            i = next.max(i + 1);
        } else if lines[i].trim().is_empty() {
            blocks.push(Block::Blank);
            i += 1;
        } else {
            blocks.push(Block::Text {
                no: first_no + i,
                text: lines[i],
            });
            i += 1;
        }
    }
    Ok(blocks)
}

fn fence_open(line: &str) -> Option<(usize, char, usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let t = &line[indent..];
    let ch = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = t.chars().take_while(|c| *c == ch).count();
    if len < 3 {
        return None;
    }
    let info = t[len..].trim();
    if ch == '`' && info.contains('`') {
        return None;
    }
    Some((indent, ch, len, info))
}

/// An ATX heading: its level and text without the closing `#`s.
fn heading(line: &str) -> Option<(usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let t = &line[indent..];
    let level = t.chars().take_while(|c| *c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &t[level..];
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    let text = rest.trim();
    let stripped = text.trim_end_matches('#');
    let text = if stripped.len() < text.len()
        && (stripped.is_empty() || stripped.ends_with(' ') || stripped.ends_with('\t'))
    {
        stripped.trim_end()
    } else {
        text
    };
    Some((level, text))
}

/// One line of a paragraph: trimmed, without its hard-break marker.
fn paragraph_line(text: &str) -> &str {
    let t = text.trim();
    if continues(t) { &t[..t.len() - 1] } else { t }
}

/// Paragraphs of text (blank-line separated), each a list of (line, text).
fn paragraphs<'a>(blocks: &[Block<'a>]) -> Vec<Vec<(usize, &'a str)>> {
    let mut out: Vec<Vec<(usize, &str)>> = Vec::new();
    let mut open = false;
    for b in blocks {
        match b {
            Block::Text { no, text } => {
                if !open {
                    out.push(Vec::new());
                    open = true;
                }
                if let Some(p) = out.last_mut() {
                    p.push((*no, *text));
                }
            }
            _ => open = false,
        }
    }
    out
}

fn paragraph_text(para: &[(usize, &str)]) -> String {
    para.iter()
        .map(|(_, t)| unesc(paragraph_line(t)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse_prose(blocks: &[Block], section: &str) -> Result<String, ParseError> {
    for b in blocks {
        match b {
            Block::Fence { no, .. } => {
                return fail(
                    *no,
                    format!(
                        "a code block in `## {section}` is not kept: put commands in a step under `## Procedure`"
                    ),
                );
            }
            Block::Heading { no, .. } => {
                return fail(
                    *no,
                    format!("a sub-heading in `## {section}`: this section holds text only"),
                );
            }
            _ => {}
        }
    }
    let paras: Vec<String> = paragraphs(blocks)
        .iter()
        .map(|p| paragraph_text(p))
        .collect();
    Ok(normalize_block(&paras.join("\n\n")))
}

// ── list items

struct Item<'a> {
    no: usize,
    first: &'a str,
    parts: Vec<Part<'a>>,
}

enum Part<'a> {
    Line(usize, &'a str),
    Fence {
        no: usize,
        info: &'a str,
        body: Vec<&'a str>,
    },
    Comment(usize, String),
}

/// The text after a list marker (`-`, `*`, `+`, `1.`, `1)`), if this line starts an item.
fn list_marker(line: &str) -> Option<&str> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 1 {
        return None;
    }
    let t = &line[indent..];
    let after = if let Some(r) = t.strip_prefix(['-', '*', '+']) {
        r
    } else {
        let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        t[digits..].strip_prefix(['.', ')'])?
    };
    if after.is_empty() || after.starts_with(' ') || after.starts_with('\t') {
        Some(after.trim())
    } else {
        None
    }
}

fn list_items<'a>(blocks: &[Block<'a>], section: &str) -> Result<Vec<Item<'a>>, ParseError> {
    let mut items: Vec<Item> = Vec::new();
    let mut after_blank = false;
    for b in blocks {
        match b {
            Block::Blank => after_blank = true,
            Block::Text { no, text } => {
                if let Some(first) = list_marker(text) {
                    items.push(Item {
                        no: *no,
                        first,
                        parts: Vec::new(),
                    });
                } else if let Some(item) = items.last_mut()
                    && (!after_blank || text.starts_with([' ', '\t']))
                {
                    item.parts.push(Part::Line(*no, text.trim()));
                } else {
                    return fail(
                        *no,
                        format!("`## {section}` holds a list: start this line with `- `"),
                    );
                }
                after_blank = false;
            }
            Block::Fence { no, info, body } => {
                let Some(item) = items.last_mut() else {
                    return fail(
                        *no,
                        format!(
                            "a code block in `## {section}` outside any list item: indent it under a `- ` item"
                        ),
                    );
                };
                item.parts.push(Part::Fence {
                    no: *no,
                    info,
                    body: body.clone(),
                });
                after_blank = false;
            }
            Block::Comment { no, text } => {
                if let Some(item) = items.last_mut() {
                    item.parts.push(Part::Comment(*no, text.clone()));
                }
            }
            Block::Heading { no, .. } => {
                return fail(
                    *no,
                    format!("a sub-heading in `## {section}`: this section holds a `- ` list only"),
                );
            }
        }
    }
    Ok(items)
}

/// `<!-- sources: RUN#SEQ, … -->`; `None` for any other comment.
fn parse_sources(no: usize, comment: &str) -> Result<Option<Vec<SourceRef>>, ParseError> {
    let Some(rest) = strip_ci(comment, "sources:").or_else(|| strip_ci(comment, "source:")) else {
        return Ok(None);
    };
    let mut refs = Vec::new();
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let parsed = part
            .rsplit_once('#')
            .filter(|(run, _)| !run.trim().is_empty())
            .and_then(|(run, seq)| Some((run.trim(), seq.trim().parse::<u64>().ok()?)));
        match parsed {
            Some((run, seq)) => refs.push(SourceRef {
                run_id: run.to_string(),
                seq,
            }),
            None => {
                return fail(
                    no,
                    format!(
                        "source `{part}` should look like `RUN#SEQ` (a run id, `#`, an event number)"
                    ),
                );
            }
        }
    }
    Ok(Some(refs))
}

/// Case-insensitive ASCII prefix.
fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// `— keyword: rest` (any dash, or none): the rest, trimmed.
fn dash_label<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    let t = line.trim_start_matches(['—', '–', '-']).trim_start();
    let rest = strip_ci(t, keyword)?.trim_start();
    Some(rest.strip_prefix(':')?.trim())
}

/// `→ rest` or `-> rest`.
fn arrow(line: &str) -> Option<&str> {
    line.strip_prefix('→')
        .or_else(|| line.strip_prefix("->"))
        .or_else(|| line.strip_prefix("=>"))
        .map(str::trim)
}

/// `**Keyword**`, `**Keyword:**` or `**Keyword**:` at the start (after an optional arrow).
fn bold_label<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    let t = arrow(line).unwrap_or(line);
    if let Some(r) = t.strip_prefix("**").and_then(|r| strip_ci(r, keyword)) {
        let r = r
            .strip_prefix(":**")
            .or_else(|| r.strip_prefix("**:"))
            .or_else(|| r.strip_prefix("**"))?;
        return Some(r.trim());
    }
    None
}

/// [`bold_label`], or a plain `Keyword:` (for lines where free text never starts).
fn label<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    bold_label(line, keyword).or_else(|| {
        let t = arrow(line).unwrap_or(line);
        Some(strip_ci(t, keyword)?.strip_prefix(':')?.trim())
    })
}

/// A code span's content when `s` is exactly one code span, else the unescaped text.
fn code_or_text(s: &str) -> String {
    let s = s.trim();
    if s.starts_with('`')
        && let Some((content, rest)) = take_code_span(s)
        && rest.trim().is_empty()
    {
        return content;
    }
    unesc(s)
}

/// Reads a code span at the start of `s`: (content, rest).
fn take_code_span(s: &str) -> Option<(String, &str)> {
    let n = s.chars().take_while(|c| *c == '`').count();
    if n == 0 {
        return None;
    }
    let body = &s[n..];
    let mut i = 0;
    while i < body.len() {
        let rest = &body[i..];
        if rest.starts_with('`') {
            let run = rest.chars().take_while(|c| *c == '`').count();
            if run == n {
                let content = &body[..i];
                let content = if content.len() >= 2
                    && content.starts_with(' ')
                    && content.ends_with(' ')
                    && !content.trim_matches(' ').is_empty()
                {
                    &content[1..content.len() - 1]
                } else {
                    content
                };
                return Some((content.to_string(), &body[i + n..]));
            }
            i += run;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    None
}

/// `exit code 0, output contains `a` and `b`` (either part, any order).
fn parse_expectation(no: usize, text: &str) -> Result<Expectation, ParseError> {
    let mut e = Expectation::default();
    let mut s = text.trim();
    let bad = |s: &str| {
        fail(
            no,
            format!(
                "cannot read the expectation at `{}`: write `exit code 0` and/or ``output contains `text` ``",
                s.chars().take(40).collect::<String>()
            ),
        )
    };
    loop {
        s = s.trim_start_matches(|c: char| c == ',' || c == ';' || c.is_whitespace());
        if let Some(r) = strip_ci(s, "and ") {
            s = r;
            continue;
        }
        if s.is_empty() || s == "." {
            break;
        }
        if let Some(r) = strip_ci(s, "exit code")
            .or_else(|| strip_ci(s, "exits with"))
            .or_else(|| strip_ci(s, "exits"))
            .or_else(|| strip_ci(s, "exit"))
        {
            let r = r.trim_start().trim_start_matches(':').trim_start();
            let ticked = r.starts_with('`');
            let r = if ticked { &r[1..] } else { r };
            let len = r
                .char_indices()
                .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '-'))
                .count();
            let Ok(code) = r[..len].parse::<i32>() else {
                return bad(s);
            };
            e.exit_code = Some(code);
            s = &r[len..];
            if ticked {
                s = s.strip_prefix('`').unwrap_or(s);
            }
        } else if let Some(r) = strip_ci(s, "output contains") {
            s = r;
            let mut any = false;
            loop {
                let t = s.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
                let t = strip_ci(t, "and ").map_or(t, str::trim_start);
                match take_code_span(t) {
                    Some((content, rest)) if t.starts_with('`') => {
                        e.output_contains.push(content);
                        s = rest;
                        any = true;
                    }
                    _ => break,
                }
            }
            if !any {
                return fail(
                    no,
                    "`output contains` needs the text in backticks, e.g. ``output contains `done` ``",
                );
            }
        } else {
            return bad(s);
        }
    }
    Ok(e)
}

fn append(field: &mut String, more: &str) {
    if !field.is_empty() {
        field.push(' ');
    }
    field.push_str(more);
}

fn add_sources(no: usize, comment: &str, sources: &mut Vec<SourceRef>) -> Result<(), ParseError> {
    if let Some(refs) = parse_sources(no, comment)? {
        sources.extend(refs);
    }
    Ok(())
}

fn no_code_block<T>(no: usize, what: &str, hint: &str) -> Result<T, ParseError> {
    fail(no, format!("a code block in {what} is not kept: {hint}"))
}

fn prerequisite(item: Item) -> Result<Prerequisite, ParseError> {
    let mut p = Prerequisite {
        description: unesc(item.first),
        ..Default::default()
    };
    for part in item.parts {
        match part {
            Part::Line(_, line) => match dash_label(line, "check") {
                Some(rest) => p.check = Some(code_or_text(rest)).filter(|c| !c.is_empty()),
                None => append(&mut p.description, &unesc(line)),
            },
            Part::Comment(no, c) => add_sources(no, &c, &mut p.sources)?,
            Part::Fence { no, .. } => {
                return no_code_block(
                    no,
                    "a prerequisite",
                    "write its check on a line `— check: `command`` instead",
                );
            }
        }
    }
    Ok(p)
}

fn note(item: Item) -> Result<String, ParseError> {
    let mut text = unesc(item.first);
    for part in item.parts {
        match part {
            Part::Line(_, line) => append(&mut text, &unesc(line)),
            Part::Comment(..) => {}
            Part::Fence { no, .. } => {
                return no_code_block(no, "a note", "write the note as text");
            }
        }
    }
    Ok(text)
}

fn edge_case(item: Item) -> Result<EdgeCase, ParseError> {
    let mut e = EdgeCase {
        description: unesc(item.first),
        ..Default::default()
    };
    let mut in_handling = false;
    for part in item.parts {
        match part {
            Part::Line(_, line) => match arrow(line) {
                Some(rest) if !in_handling => {
                    e.handling = unesc(rest);
                    in_handling = true;
                }
                _ if in_handling => append(&mut e.handling, &unesc(line)),
                _ => append(&mut e.description, &unesc(line)),
            },
            Part::Comment(no, c) => add_sources(no, &c, &mut e.sources)?,
            Part::Fence { no, .. } => {
                return no_code_block(
                    no,
                    "an edge case",
                    "describe the handling in words on a `→ ` line",
                );
            }
        }
    }
    Ok(e)
}

fn escalation(item: Item) -> Result<Escalation, ParseError> {
    let mut e = Escalation {
        when: unesc(item.first),
        ..Default::default()
    };
    for part in item.parts {
        match part {
            Part::Line(_, line) => match arrow(line) {
                Some(rest) => {
                    let rest = dash_label(rest, "contact").unwrap_or(rest);
                    e.contact = Some(unesc(rest)).filter(|c| !c.is_empty());
                }
                None => match &mut e.contact {
                    Some(c) => append(c, &unesc(line)),
                    None => append(&mut e.when, &unesc(line)),
                },
            },
            Part::Comment(no, c) => add_sources(no, &c, &mut e.sources)?,
            Part::Fence { no, .. } => {
                return no_code_block(
                    no,
                    "an escalation",
                    "say whom to call on a `→ contact: ` line",
                );
            }
        }
    }
    Ok(e)
}

fn success_check(item: Item) -> Result<SuccessCheck, ParseError> {
    let mut c = SuccessCheck {
        description: unesc(item.first),
        ..Default::default()
    };
    for part in item.parts {
        match part {
            Part::Line(no, line) => {
                if let Some(rest) = dash_label(line, "run") {
                    c.command = Some(code_or_text(rest)).filter(|c| !c.is_empty());
                } else if let Some(rest) = dash_label(line, "expect") {
                    c.expect = parse_expectation(no, rest)?;
                } else {
                    append(&mut c.description, &unesc(line));
                }
            }
            Part::Comment(no, text) => add_sources(no, &text, &mut c.sources)?,
            Part::Fence { no, .. } => {
                return no_code_block(
                    no,
                    "a success check",
                    "put its command on a line `— run: `command``",
                );
            }
        }
    }
    Ok(c)
}

/// Commands from a fenced block, or `None` for a Mermaid block.
fn fence_commands(no: usize, info: &str, body: &[&str]) -> Result<Option<Vec<String>>, ParseError> {
    let mut words = info.split_whitespace();
    let lang = words.next().unwrap_or("").to_ascii_lowercase();
    match lang.as_str() {
        "mermaid" => return Ok(None),
        "" | "sh" | "bash" | "shell" | "zsh" | "fish" | "ksh" | "console" | "shell-session" => {}
        _ => {
            return fail(
                no,
                format!(
                    "a ```{lang} block: only ```sh, ```bash or plain ``` blocks hold commands; make it one of those, or describe it in words"
                ),
            );
        }
    }
    if words.any(|w| w == "one-command") {
        let cmd = body.join("\n").trim().to_string();
        return Ok(Some(if cmd.is_empty() { vec![] } else { vec![cmd] }));
    }
    let mut cmds = Vec::new();
    let mut current: Option<String> = None;
    for line in body {
        let line = line.trim_end();
        match current.take() {
            Some(mut c) => {
                if line.trim().is_empty() {
                    cmds.push(c);
                    continue;
                }
                c.push('\n');
                c.push_str(line);
                if continues(line) {
                    current = Some(c);
                } else {
                    cmds.push(c);
                }
            }
            None => {
                let t = line.trim();
                if t.is_empty() {
                    continue;
                }
                if continues(t) {
                    current = Some(t.to_string());
                } else {
                    cmds.push(t.to_string());
                }
            }
        }
    }
    cmds.extend(current);
    Ok(Some(cmds))
}

fn parse_procedure(blocks: &[Block]) -> Result<Vec<Step>, ParseError> {
    let mut steps: Vec<(usize, Step)> = Vec::new();
    let mut start = None;
    for (i, b) in blocks.iter().enumerate() {
        match b {
            Block::Heading { level: 3, .. } => {
                if let Some(s) = start {
                    steps.push(parse_step(&blocks[s..i])?);
                }
                start = Some(i);
            }
            Block::Heading { no, level, .. } => {
                return fail(
                    *no,
                    format!(
                        "a level-{level} heading in `## Procedure`: steps are `### ` headings (e.g. `### 3. Restart the service`)"
                    ),
                );
            }
            _ if start.is_none() => match b {
                Block::Blank | Block::Comment { .. } => {}
                Block::Fence { no, info, body } => {
                    if fence_commands(*no, info, body)?.is_some() {
                        return fail(
                            *no,
                            "a code block before the first step: put it under a step heading such as `### 1. Build`",
                        );
                    }
                }
                b => {
                    return fail(
                        b.line(),
                        "text before the first step is not kept: start a step with a `### ` heading, or move the text to `## Purpose`",
                    );
                }
            },
            _ => {}
        }
    }
    if let Some(s) = start {
        steps.push(parse_step(&blocks[s..])?);
    }
    // A set, not a scan of the steps before: linear in the number of steps.
    let mut first_line: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (no, step) in &steps {
        if let Some(first) = first_line.insert(step.title.as_str(), *no) {
            return fail(
                *no,
                format!(
                    "a second step is titled `{}` (the first is on line {first}): step titles must differ, because decision rules name their step",
                    step.title
                ),
            );
        }
    }
    Ok(steps.into_iter().map(|(_, s)| s).collect())
}

/// Splits a step heading into (title, optional).
fn step_heading(text: &str) -> (String, bool) {
    let mut t = text.trim();
    // Cosmetic number: `3.` or `3)`.
    let digits = t.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0
        && let Some(r) = t[digits..].strip_prefix(['.', ')'])
        && (r.is_empty() || r.starts_with([' ', '\t']))
    {
        t = r.trim();
    }
    let mut optional = false;
    for marker in ["_(optional)_", "*(optional)*", "(optional)"] {
        if t.len() >= marker.len() {
            let cut = t.len() - marker.len();
            if t.is_char_boundary(cut)
                && t[cut..].eq_ignore_ascii_case(marker)
                && !continues(&t[..cut])
            {
                t = t[..cut].trim_end();
                optional = true;
                break;
            }
        }
    }
    (unesc(t), optional)
}

/// A step: `blocks` starts at its `### ` heading.
fn parse_step(blocks: &[Block]) -> Result<(usize, Step), ParseError> {
    let (no, heading_text) = match blocks.first() {
        Some(Block::Heading { no, text, .. }) => (*no, *text),
        other => (other.map_or(0, Block::line), ""),
    };
    let (title, optional) = step_heading(heading_text);
    if title.trim().is_empty() {
        return fail(
            no,
            "this step heading has no title: write it as `### 3. Restart the service`",
        );
    }
    let mut step = Step {
        title,
        optional,
        ..Default::default()
    };
    let body = &blocks[1..];
    let mut instruction: Vec<String> = Vec::new();
    for b in body {
        match b {
            Block::Fence { no, info, body } => {
                if let Some(cmds) = fence_commands(*no, info, body)? {
                    step.commands.extend(cmds);
                }
            }
            Block::Comment { no, text } => add_sources(*no, text, &mut step.sources)?,
            _ => {}
        }
    }
    for para in paragraphs(body) {
        let (no, first) = para[0];
        let first = first.trim();
        if let Some(rest) = bold_label(first, "working folder") {
            let mut text = rest.to_string();
            for (_, l) in &para[1..] {
                append(&mut text, l.trim());
            }
            step.cwd = Some(code_or_text(&text)).filter(|c| !c.is_empty());
        } else if let Some(rest) = bold_label(first, "expect") {
            let mut text = rest.to_string();
            for (_, l) in &para[1..] {
                append(&mut text, l.trim());
            }
            step.expect = parse_expectation(no, &text)?;
        } else if let Some(rest) = bold_label(first, "why") {
            let mut lines = vec![paragraph_line(rest)];
            lines.extend(para[1..].iter().map(|(_, l)| paragraph_line(l)));
            let why = normalize_block(&lines.into_iter().map(unesc).collect::<Vec<_>>().join("\n"));
            step.why = Some(why).filter(|w| !w.is_empty());
        } else if let Some(rest) = bold_label(first, "caution") {
            let mut lines = vec![paragraph_line(rest)];
            lines.extend(para[1..].iter().map(|(_, l)| paragraph_line(l)));
            let caution =
                normalize_block(&lines.into_iter().map(unesc).collect::<Vec<_>>().join("\n"));
            step.caution = Some(caution).filter(|w| !w.is_empty());
        } else {
            instruction.push(paragraph_text(&para));
        }
    }
    let instruction = normalize_block(&instruction.join("\n\n"));
    step.instruction = Some(instruction).filter(|i| !i.is_empty());
    Ok((no, step))
}

fn parse_rules(blocks: &[Block], section: &str) -> Result<Vec<DecisionRule>, ParseError> {
    let mut rules = Vec::new();
    let mut group: Option<String> = None;
    let mut start = 0;
    let mut flush = |from: usize, to: usize, group: &Option<String>| -> Result<(), ParseError> {
        for item in list_items(&blocks[from..to], section)? {
            rules.push(rule(item, group.clone())?);
        }
        Ok(())
    };
    for (i, b) in blocks.iter().enumerate() {
        if let Block::Heading { no, level, text } = b {
            flush(start, i, &group)?;
            start = i + 1;
            let text = text.trim();
            if *level != 3 {
                return fail(
                    *no,
                    "in `## Decision rules`, group rules under `### Step: <step title>` or `### Any step`",
                );
            }
            group = if text.eq_ignore_ascii_case("any step") {
                None
            } else if let Some(rest) = strip_ci(text, "step") {
                // `Step: Title`, also `Step 3: Title`.
                let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ');
                match rest.strip_prefix(':') {
                    Some(title) if !title.trim().is_empty() => Some(unesc(title.trim())),
                    _ => {
                        return fail(
                            *no,
                            "write the step this group of rules applies to as `### Step: <step title>`",
                        );
                    }
                }
            } else {
                return fail(
                    *no,
                    format!(
                        "`### {text}`: in `## Decision rules`, group rules under `### Step: <step title>` or `### Any step`"
                    ),
                );
            };
        }
    }
    flush(start, blocks.len(), &group)?;
    Ok(rules)
}

fn rule(item: Item, step: Option<String>) -> Result<DecisionRule, ParseError> {
    let Some(summary) = label(item.first, "when") else {
        return fail(
            item.no,
            "a decision rule starts with `- **When** <signal>`, then `→ **Then** <action>` and `→ **Because** <reason>` lines",
        );
    };
    let mut r = DecisionRule {
        step,
        when: Condition {
            summary: unesc(summary),
            ..Default::default()
        },
        ..Default::default()
    };
    #[derive(PartialEq)]
    enum Field {
        When,
        Then,
        Because,
    }
    let mut last = Field::When;
    for part in item.parts {
        match part {
            Part::Line(no, line) => {
                if let Some(rest) = label(line, "then") {
                    r.then = unesc(rest);
                    last = Field::Then;
                } else if let Some(rest) = label(line, "because") {
                    r.because = unesc(rest);
                    last = Field::Because;
                } else if last == Field::When
                    && line.starts_with('(')
                    && line.ends_with(')')
                    && let Ok(e) = parse_expectation(no, &line[1..line.len() - 1])
                {
                    if e.output_contains.len() > 1 {
                        return fail(
                            no,
                            "a rule's signal holds one `output contains` text: keep the one line that identifies the situation",
                        );
                    }
                    r.when.exit_code = e.exit_code;
                    r.when.output_contains = e.output_contains.into_iter().next();
                } else {
                    let field = match last {
                        Field::When => &mut r.when.summary,
                        Field::Then => &mut r.then,
                        Field::Because => &mut r.because,
                    };
                    append(field, &unesc(line));
                }
            }
            Part::Fence { no, info, body } => {
                if let Some(cmds) = fence_commands(no, info, &body)? {
                    r.then_commands.extend(cmds);
                }
            }
            Part::Comment(no, c) => add_sources(no, &c, &mut r.sources)?,
        }
    }
    Ok(r)
}

/// Splits a table row on unescaped `|`, dropping the outer pipes.
fn table_cells(row: &str) -> Vec<String> {
    let row = row.trim();
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = row.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cell.push(c);
                if let Some(n) = chars.next() {
                    cell.push(n);
                }
            }
            '|' => cells.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    cells.push(cell);
    if row.starts_with('|') {
        cells.remove(0);
    }
    if row.ends_with('|') && !continues(&row[..row.len() - 1]) {
        cells.pop();
    }
    cells.into_iter().map(|c| c.trim().to_string()).collect()
}

fn parse_revisions(blocks: &[Block], section: &str) -> Result<Vec<Revision>, ParseError> {
    let mut rows: Vec<(usize, &str)> = Vec::new();
    for b in blocks {
        match b {
            Block::Text { no, text } => {
                if !text.trim_start().starts_with('|') {
                    return fail(
                        *no,
                        format!("`## {section}` holds a table: start this line with `|`"),
                    );
                }
                rows.push((*no, text));
            }
            Block::Blank | Block::Comment { .. } => {}
            other => {
                return fail(
                    other.line(),
                    format!(
                        "`## {section}` holds a table only (| Version | Date | Author | Summary | Runs |)"
                    ),
                );
            }
        }
    }
    let Some(((header_no, header), rest)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    #[derive(Clone, Copy, PartialEq)]
    enum Col {
        Version,
        Date,
        Author,
        Summary,
        Runs,
    }
    let mut cols = Vec::new();
    for name in table_cells(header) {
        let col = match unesc(&name).to_lowercase().as_str() {
            "version" => Col::Version,
            "date" => Col::Date,
            "author" | "by" => Col::Author,
            "summary" | "changes" | "what changed" => Col::Summary,
            "runs" | "run" => Col::Runs,
            other => {
                return fail(
                    *header_no,
                    format!(
                        "unknown column `{other}`: the revision table's columns are Version, Date, Author, Summary, Runs"
                    ),
                );
            }
        };
        cols.push(col);
    }
    if !cols.contains(&Col::Version) {
        return fail(*header_no, "the revision table needs a `Version` column");
    }
    let mut revisions = Vec::new();
    for (i, (no, row)) in rest.iter().enumerate() {
        let cells = table_cells(row);
        if i == 0
            && cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')))
        {
            continue; // the delimiter row
        }
        if cells.len() > cols.len() {
            return fail(
                *no,
                format!(
                    "this row has {} cells but the table has {} columns",
                    cells.len(),
                    cols.len()
                ),
            );
        }
        let mut r = Revision::default();
        for (col, cell) in cols.iter().zip(cells.iter()) {
            match col {
                Col::Version => {
                    r.version = unesc(cell).trim().parse().map_err(|_| ParseError {
                        line: *no,
                        message: format!("revision version `{cell}` is not a whole number"),
                    })?;
                }
                Col::Date => r.date = unesc(cell),
                Col::Author => r.author = unesc(cell),
                Col::Summary => r.summary = unesc(cell),
                Col::Runs => r.runs = parse_runs(cell),
            }
        }
        revisions.push(r);
    }
    Ok(revisions)
}

fn parse_runs(cell: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut s = cell.trim();
    while !s.is_empty() {
        s = s.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if s.starts_with('`')
            && let Some((content, rest)) = take_code_span(s)
        {
            runs.push(content.trim().to_string());
            s = rest;
            continue;
        }
        let end = s.find(',').unwrap_or(s.len());
        let id = unesc(s[..end].trim());
        if !id.is_empty() {
            runs.push(id);
        }
        s = &s[end..];
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_markdown_specials() {
        for s in [
            "a*b_c `d` <e> [f](g) | h ~ $5 & &amp; #1",
            "# heading",
            "- item",
            "12. numbered",
            "1) numbered",
            "ends with ###",
            "back\\slash\\",
            "===",
        ] {
            assert_eq!(unesc(&esc(s)), s, "{s}");
        }
        assert_eq!(esc("# x"), "\\# x");
        assert_eq!(esc("1. x"), "1\\. x");
        assert_eq!(esc("R&D"), "R&D");
    }

    #[test]
    fn code_spans_round_trip() {
        for s in ["a", "`", "a`b", "``x``", " a ", "  ", " a", "a "] {
            let span = code_span(s);
            let (content, rest) = take_code_span(&span).unwrap();
            assert_eq!(content, s, "{span}");
            assert_eq!(rest, "");
        }
    }

    #[test]
    fn yaml_strings_are_quoted_when_needed() {
        assert_eq!(yaml_str("deploy-web"), "deploy-web");
        assert_eq!(yaml_str("yes"), "\"yes\"");
        assert_eq!(yaml_str("12"), "\"12\"");
        assert_eq!(yaml_str("a: b"), "\"a: b\"");
        assert_eq!(yaml_str("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
    }
}
