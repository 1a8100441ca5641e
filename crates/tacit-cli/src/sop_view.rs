//! `tacit show`: an SOP laid out for a terminal.

use tacit_sop::{Expectation, Sop, SourceRef};

use crate::render::Style;

fn sources(list: &[SourceRef], style: &Style) -> String {
    let refs: Vec<String> = list
        .iter()
        .map(|s| format!("{}#{}", tacit_capture::session::short_id(&s.run_id), s.seq))
        .collect();
    style.dim(&format!("sources: {}", refs.join(", ")))
}

fn expectation(e: &Expectation) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(code) = e.exit_code {
        parts.push(format!("exit {code}"));
    }
    for o in &e.output_contains {
        parts.push(format!("output contains \"{o}\""));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Text from the SOP, safe to print and indented line by line.
fn indent(text: &str, by: &str) -> String {
    safe(text.trim_end())
        .lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn safe(s: &str) -> String {
    crate::render::safe(s).into_owned()
}

pub fn render(sop: &Sop, style: &Style, with_sources: bool) -> String {
    let mut o = String::new();
    let src = |o: &mut String, list: &[SourceRef], indent: &str| {
        if with_sources && !list.is_empty() {
            o.push_str(&format!("{indent}{}\n", sources(list, style)));
        }
    };
    let owner = match &sop.owner {
        Some(owner) => format!("owner: {owner}"),
        None => style.yellow("no owner yet"),
    };
    o.push_str(&format!(
        "{}  {}\n",
        style.bold(&sop.title),
        style.dim(&format!("{} · version {} · {owner}", sop.id, sop.version))
    ));
    // Sections kept as the runbook wrote them (Meaning, Impact…): where
    // they stood, before or after the procedure; a stage's text with its
    // steps.
    let stage_names: Vec<&str> = sop
        .steps
        .iter()
        .filter_map(|s| s.stage.as_deref())
        .collect();
    let prose = |o: &mut String, before_procedure: bool| {
        for s in &sop.sections {
            let after = matches!(
                s.after.as_deref(),
                Some(
                    "Procedure"
                        | "Decision rules"
                        | "Edge cases"
                        | "Escalation"
                        | "Success checks"
                        | "Notes"
                        | "Revision history"
                )
            );
            if after == before_procedure || stage_names.contains(&s.title.as_str()) {
                continue;
            }
            if s.title.is_empty() {
                o.push_str(&format!("\n{}\n", indent(&s.markdown, "  ")));
            } else {
                o.push_str(&format!(
                    "\n{}\n{}\n",
                    style.bold(&safe(&s.title)),
                    indent(&s.markdown, "  ")
                ));
            }
        }
    };
    prose(&mut o, true);
    for (name, text) in [("Purpose", &sop.purpose), ("When to use", &sop.when_to_use)] {
        if !text.trim().is_empty() {
            o.push_str(&format!("\n{}\n{}\n", style.bold(name), indent(text, "  ")));
        }
    }
    if !sop.parameters.is_empty() {
        o.push_str(&format!("\n{}\n", style.bold("Parameters")));
        for p in &sop.parameters {
            let ex = if p.secret {
                style.dim("secret: asked without echo, never stored")
            } else if p.examples.is_empty() {
                String::new()
            } else {
                style.dim(&format!("e.g. {}", p.examples.join(", ")))
            };
            o.push_str(&format!(
                "  {}  {}  {ex}\n",
                style.cyan(&format!("<<{}>>", p.name)),
                p.description
            ));
        }
    }
    if !sop.prerequisites.is_empty() {
        o.push_str(&format!("\n{}\n", style.bold("Prerequisites")));
        for p in &sop.prerequisites {
            o.push_str(&format!("  ☐ {}\n", p.description));
            if let Some(c) = &p.check {
                o.push_str(&format!("      {} {c}\n", style.dim("$")));
            }
            src(&mut o, &p.sources, "      ");
        }
    }
    o.push_str(&format!("\n{}\n", style.bold("Procedure")));
    let mut heading: (Option<&str>, Option<&str>) = (None, None);
    for (n, s) in sop.steps.iter().enumerate() {
        if (s.stage.as_deref(), s.group.as_deref()) != heading {
            if s.stage.as_deref() != heading.0
                && let Some(stage) = s.stage.as_deref()
            {
                o.push_str(&format!(
                    "  {}\n",
                    style.bold(&format!("── {}", safe(stage)))
                ));
                if let Some(intro) = sop.sections.iter().find(|p| p.title == stage)
                    && !intro.markdown.trim().is_empty()
                {
                    o.push_str(&format!("{}\n", indent(&intro.markdown, "  ")));
                }
            }
            if let Some(group) = s.group.as_deref() {
                o.push_str(&format!(
                    "  {}\n",
                    style.bold(&format!("─ {}", safe(group)))
                ));
            }
            heading = (s.stage.as_deref(), s.group.as_deref());
        }
        let mut head = format!("  {}. {}", n + 1, style.bold(&safe(&s.title)));
        if s.optional {
            head.push_str(&style.dim("  (optional: not in every run)"));
        }
        if let Some(cwd) = s.cwd.as_deref().filter(|c| *c != ".") {
            head.push_str(&style.dim(&format!("  in {cwd}/")));
        }
        o.push_str(&head);
        o.push('\n');
        if let Some(w) = &s.why {
            o.push_str(&format!("      {} {w}\n", style.dim("why:")));
        }
        if let Some(g) = s.guidance() {
            o.push_str(&format!("{}\n", indent(&g, "      ")));
        }
        for c in &s.commands {
            // A multi-line command is one command: its lines stay together.
            let c = safe(c);
            let mut lines = c.lines();
            o.push_str(&format!(
                "      {} {}\n",
                style.dim("$"),
                lines.next().unwrap_or_default()
            ));
            for l in lines {
                o.push_str(&format!("        {l}\n"));
            }
        }
        if let Some(e) = expectation(&s.expect) {
            o.push_str(&format!("      {} {e}\n", style.dim("expect:")));
        }
        for r in sop
            .rules
            .iter()
            .filter(|r| r.step.as_deref() == Some(s.title.as_str()))
        {
            o.push_str(&format!(
                "      {} {}\n",
                style.yellow("↳ if"),
                r.when.summary
            ));
            o.push_str(&format!("          {} {}\n", style.bold("then"), r.then));
            for c in &r.then_commands {
                o.push_str(&format!("               {} {c}\n", style.dim("$")));
            }
            o.push_str(&format!(
                "          {} {}\n",
                style.bold("because"),
                r.because
            ));
        }
        src(&mut o, &s.sources, "      ");
    }
    if !sop.rules.is_empty() {
        o.push_str(&format!("\n{}\n", style.bold("Decision rules")));
        for r in &sop.rules {
            let mut when = r.when.summary.clone();
            if let Some(step) = &r.step {
                when = format!("{when} (in \"{step}\"");
                if let Some(code) = r.when.exit_code {
                    when.push_str(&format!(", exit {code}"));
                }
                when.push(')');
            }
            o.push_str(&format!("  {} {when}\n", style.cyan("when")));
            o.push_str(&format!("  {} {}\n", style.cyan("then"), r.then));
            o.push_str(&format!("  {} {}\n", style.cyan("because"), r.because));
            src(&mut o, &r.sources, "  ");
            o.push('\n');
        }
    }
    if !sop.edge_cases.is_empty() {
        o.push_str(&format!("{}\n", style.bold("Edge cases")));
        for e in &sop.edge_cases {
            o.push_str(&format!(
                "  • {}\n    {}\n",
                e.description,
                style.dim(&e.handling)
            ));
            src(&mut o, &e.sources, "    ");
        }
    }
    if !sop.escalations.is_empty() {
        o.push_str(&format!("\n{}\n", style.bold("Escalation: stop and call")));
        for e in &sop.escalations {
            let who = e
                .contact
                .clone()
                .unwrap_or_else(|| "(whom to call is not recorded)".into());
            o.push_str(&format!(
                "  {} {}  →  {}\n",
                style.red("⚠"),
                e.when,
                style.bold(&who)
            ));
            src(&mut o, &e.sources, "    ");
        }
    }
    if !sop.success_checks.is_empty() {
        o.push_str(&format!("\n{}\n", style.bold("Success checks")));
        for c in &sop.success_checks {
            o.push_str(&format!("  ✓ {}\n", c.description));
            if let Some(cmd) = &c.command {
                o.push_str(&format!("      {} {cmd}\n", style.dim("$")));
            }
            if let Some(e) = expectation(&c.expect) {
                o.push_str(&format!("      {} {e}\n", style.dim("expect:")));
            }
            src(&mut o, &c.sources, "      ");
        }
    }
    prose(&mut o, false);
    if !sop.revisions.is_empty() {
        o.push_str(&format!("\n{}\n", style.bold("Revision history")));
        for r in &sop.revisions {
            let runs: Vec<&str> = r
                .runs
                .iter()
                .map(|id| tacit_capture::session::short_id(id))
                .collect();
            o.push_str(&format!(
                "  v{}  {}  {}  {}{}\n",
                r.version,
                r.date,
                r.author,
                r.summary,
                if runs.is_empty() {
                    String::new()
                } else {
                    style.dim(&format!("  (runs {})", runs.join(", ")))
                }
            ));
        }
    }
    o
}
