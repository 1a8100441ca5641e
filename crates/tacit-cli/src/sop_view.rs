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
    o.push_str(&format!("\n{}\n  {}\n", style.bold("Purpose"), sop.purpose));
    o.push_str(&format!(
        "\n{}\n  {}\n",
        style.bold("When to use"),
        sop.when_to_use
    ));
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
    for (n, s) in sop.steps.iter().enumerate() {
        let mut head = format!("  {}. {}", n + 1, style.bold(&s.title));
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
        if let Some(i) = &s.instruction {
            o.push_str(&format!("      {i}\n"));
        }
        for c in &s.commands {
            o.push_str(&format!("      {} {c}\n", style.dim("$")));
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
