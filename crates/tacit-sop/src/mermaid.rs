//! The procedure as a Mermaid flowchart: the steps in order, each decision
//! rule as a branch off the step it applies to, and the escalations.
//!
//! The chart is derived from the SOP and never parsed back. Labels are
//! one line, shortened to a readable length, never empty, and use Mermaid
//! entity codes (`#quot;`, `#lt;`, `#35;`, `#37;`…) so that no text can break
//! the syntax.

use std::fmt::Write as _;

use crate::model::{DecisionRule, Sop};

const STEP_LABEL: usize = 60;
const RULE_LABEL: usize = 60;
const EDGE_LABEL: usize = 40;
const ESCALATION_LABEL: usize = 80;

/// The flowchart source (`flowchart TD` …), without the Markdown fence.
pub fn render_mermaid(sop: &Sop) -> String {
    let mut out = String::from("flowchart TD\n");
    for (i, step) in sop.steps.iter().enumerate() {
        let optional = if step.optional { " (optional)" } else { "" };
        let text = format!("{}. {}{optional}", i + 1, step.title);
        let _ = writeln!(out, "    s{}[\"{}\"]", i + 1, label(&text, STEP_LABEL));
    }
    for i in 1..sop.steps.len() {
        let arrow = if sop.steps[i].optional { "-.->" } else { "-->" };
        let _ = writeln!(out, "    s{i} {arrow} s{}", i + 1);
    }
    if !sop.steps.is_empty() && !sop.success_checks.is_empty() {
        let _ = writeln!(out, "    checks([\"Success checks\"])");
        let _ = writeln!(out, "    s{} --> checks", sop.steps.len());
    }

    let mut any_step = false;
    for (j, rule) in sop.rules.iter().enumerate() {
        let from = match rule
            .step
            .as_ref()
            .and_then(|t| sop.steps.iter().position(|s| &s.title == t))
        {
            Some(k) => format!("s{}", k + 1),
            None => {
                if !any_step {
                    let _ = writeln!(out, "    any([\"Any step\"])");
                    any_step = true;
                }
                "any".to_string()
            }
        };
        let _ = writeln!(
            out,
            "    {from} -.->|\"{}\"| r{}[\"{}\"]",
            label(&edge_text(rule), EDGE_LABEL),
            j + 1,
            label(&rule.then, RULE_LABEL)
        );
    }

    if !sop.escalations.is_empty() {
        out.push_str("    subgraph escalate [\"Stop and escalate\"]\n");
        for (j, e) in sop.escalations.iter().enumerate() {
            let text = match &e.contact {
                Some(c) => format!("{} → {c}", e.when),
                None => e.when.clone(),
            };
            let _ = writeln!(
                out,
                "        e{}{{{{\"{}\"}}}}",
                j + 1,
                label(&text, ESCALATION_LABEL)
            );
        }
        out.push_str("    end\n");
    }

    if !sop.rules.is_empty() {
        out.push_str("    classDef rule fill:#fff4d6,stroke:#b7791f\n");
        let ids: Vec<String> = (1..=sop.rules.len()).map(|j| format!("r{j}")).collect();
        let _ = writeln!(out, "    class {} rule", ids.join(","));
    }
    if !sop.escalations.is_empty() {
        out.push_str("    classDef escalation fill:#fde2e1,stroke:#c53030\n");
        let ids: Vec<String> = (1..=sop.escalations.len())
            .map(|j| format!("e{j}"))
            .collect();
        let _ = writeln!(out, "    class {} escalation", ids.join(","));
    }
    out
}

/// `exit 3: migration lock held`: the signal, short.
fn edge_text(rule: &DecisionRule) -> String {
    let mut parts = Vec::new();
    if let Some(code) = rule.when.exit_code {
        parts.push(format!("exit {code}"));
    }
    if !rule.when.summary.trim().is_empty() {
        parts.push(rule.when.summary.clone());
    } else if let Some(out) = &rule.when.output_contains {
        parts.push(format!("output: {out}"));
    }
    if parts.is_empty() {
        "when".to_string()
    } else {
        parts.join(": ")
    }
}

/// One line, at most `max` characters, with Mermaid entity codes for every
/// character that could end a label or be read as markup.
fn label(text: &str, max: usize) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = if one.chars().count() > max {
        let mut s: String = one.chars().take(max - 1).collect();
        s = s.trim_end().to_string();
        s.push('…');
        s
    } else {
        one
    };
    if short.is_empty() {
        // Mermaid rejects an empty quoted label.
        return "…".to_string();
    }
    let mut out = String::with_capacity(short.len());
    for c in short.chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            // `%%` starts a Mermaid comment or directive, even inside quotes.
            '%' => out.push_str("#37;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_cannot_break_the_syntax() {
        assert_eq!(
            label("say \"hi\" <b> #1 | `x` & y", 80),
            "say #quot;hi#quot; #lt;b#gt; #35;1 #124; #96;x#96; #amp; y"
        );
        assert_eq!(label("a\nb", 80), "a b");
        assert_eq!(label("abcdefghij", 5), "abcd…");
        assert_eq!(label("100%% {init}", 80), "100#37;#37; {init}");
        assert_eq!(label(" \n ", 80), "…");
    }
}
