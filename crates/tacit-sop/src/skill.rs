//! An SOP as an agent skill: a `SKILL.md` (front matter `name` and
//! `description`, then Markdown) that tells an agent when to use the
//! procedure and to run it through tacit's MCP tools, so that its run is
//! recorded, followed by the SOP itself in tacit's own Markdown, which
//! tacit's importer reads back.

use crate::Sop;

/// The skill's name: lowercase letters, digits and hyphens, at most 64
/// characters (what agent skill loaders accept).
pub fn skill_name(sop: &Sop) -> String {
    let mut name = String::new();
    for c in sop.id.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name: String = name.trim_matches('-').chars().take(64).collect();
    let name = name.trim_end_matches('-').to_string();
    if name.is_empty() { "sop".into() } else { name }
}

/// What the skill is for and when to use it, on one line, at most 1,024
/// characters: what an agent reads to decide whether to load it.
pub fn skill_description(sop: &Sop) -> String {
    let clean = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut parts = Vec::new();
    let purpose = clean(&sop.purpose);
    parts.push(if purpose.is_empty() {
        format!("{}.", clean(&sop.title).trim_end_matches('.'))
    } else {
        purpose
    });
    let when = clean(&sop.when_to_use);
    if !when.is_empty() && !when.starts_with("TODO") {
        parts.push(format!("Use when: {when}"));
    }
    parts.push(format!(
        "The team's SOP `{}` (version {}): run it through tacit so the run is recorded.",
        sop.id, sop.version
    ));
    let text = parts.join(" ");
    if text.chars().count() <= 1024 {
        text
    } else {
        format!("{}…", text.chars().take(1023).collect::<String>())
    }
}

/// The whole `SKILL.md`.
pub fn render_skill(sop: &Sop) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let mut out = String::from("---\n");
    out.push_str(&format!("name: {}\n", skill_name(sop)));
    out.push_str(&format!(
        "description: {}\n",
        quoted(&skill_description(sop))
    ));
    out.push_str("metadata:\n");
    out.push_str(&format!("  tacit-sop: {}\n", quoted(&sop.id)));
    out.push_str(&format!("  tacit-version: \"{}\"\n", sop.version));
    if let Some(owner) = &sop.owner {
        out.push_str(&format!("  owner: {}\n", quoted(owner)));
    }
    out.push_str("---\n");
    let document = crate::render_markdown(sop);
    // tacit's own front matter is replaced by the skill's.
    let body = document
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(document.as_str(), |(_, body)| body);
    let (title, rest) = body
        .trim_start_matches('\n')
        .split_once('\n')
        .unwrap_or((body, ""));
    out.push('\n');
    out.push_str(title);
    out.push_str("\n\n");
    out.push_str(&how_to_run(sop));
    out.push_str(rest.trim_start_matches('\n'));
    out
}

fn how_to_run(sop: &Sop) -> String {
    let params = if sop.parameters.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = sop
            .parameters
            .iter()
            .map(|p| format!("`{}`", p.name))
            .collect();
        format!(" and its parameters ({})", names.join(", "))
    };
    // Paragraphs, not a numbered list: an importer takes a list before the
    // procedure for the procedure.
    format!(
        "## How to run it\n\n\
         Run this procedure through tacit's MCP tools (`tacit mcp --allow-write`), so that what you do is recorded and the team's SOP learns from it. Start with `start_run` and `sop: \"{id}\"`{params}. Then call `run_step` for each step, after reading its why and what to expect; when one of the decision rules below matches, tacit says so, and `run_step` applies its fix.\n\n\
         When something happens that this SOP does not cover, stop and `ask_human` what to do and why (or ask in chat and `record_decision`). Do not guess. Record with `record_step` anything you do outside the run's shell (an API request, a browser action, a message sent), and end with `finish_run` and the outcome.\n\n\
         Without tacit's tools, follow the steps below exactly as written, and tell the person whenever something is not covered.\n\n",
        id = sop.id
    )
}
