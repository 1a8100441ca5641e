//! The SOP's flowchart as a self-contained SVG: steps top to bottom, each
//! rule beside the step it belongs to (when → then), success checks and
//! escalation at the end. Drawn on the server, so a page shows it without
//! JavaScript; every label is escaped (titles are untrusted text).

use std::fmt::Write;

use crate::model::Sop;

const W: usize = 760;
const STEP_W: usize = 360;
const BOX_H: usize = 44;
const GAP: usize = 26;
const RULE_X: usize = 410;
const RULE_W: usize = 330;
const CHARS: usize = 52;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters, with an ellipsis when cut.
fn cut(s: &str, n: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= n {
        s
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Renders the flowchart. Its `<title>` names the SOP, for screen readers.
pub fn render_svg(sop: &Sop) -> String {
    let mut body = String::new();
    let mut y = 16;
    let cx = 20 + STEP_W / 2;
    for (i, step) in sop.steps.iter().enumerate() {
        let dash = if step.optional {
            " stroke-dasharray=\"5 4\""
        } else {
            ""
        };
        let _ = write!(
            body,
            "<g class=\"step\"><rect x=\"20\" y=\"{y}\" width=\"{STEP_W}\" height=\"{BOX_H}\" rx=\"6\" fill=\"#eef2f8\" stroke=\"#4a5a75\"{dash}/>\
             <text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
            y + 27,
            esc(&cut(&format!("{}. {}", i + 1, step.title), CHARS))
        );
        let rules: Vec<_> = sop
            .rules
            .iter()
            .filter(|r| r.step.as_deref() == Some(step.title.as_str()))
            .collect();
        let mut ry = y;
        for r in &rules {
            let _ = write!(
                body,
                "<g class=\"rule\"><path d=\"M{} {} L{RULE_X} {}\" stroke=\"#a15c07\" stroke-dasharray=\"4 3\" fill=\"none\" marker-end=\"url(#arrow)\"/>\
                 <rect x=\"{RULE_X}\" y=\"{ry}\" width=\"{RULE_W}\" height=\"{BOX_H}\" rx=\"6\" fill=\"#fff7e6\" stroke=\"#a15c07\"/>\
                 <text x=\"{}\" y=\"{}\" font-size=\"11\">when {}</text>\
                 <text x=\"{}\" y=\"{}\" font-size=\"11\">then {}</text></g>",
                20 + STEP_W,
                y + BOX_H / 2,
                ry + BOX_H / 2,
                RULE_X + 8,
                ry + 18,
                esc(&cut(&r.when.summary, 46)),
                RULE_X + 8,
                ry + 34,
                esc(&cut(&r.then, 46))
            );
            ry += BOX_H + 8;
        }
        let next = (y + BOX_H + GAP).max(ry + GAP - 8);
        if i + 1 < sop.steps.len() || !sop.success_checks.is_empty() || !sop.escalations.is_empty()
        {
            let _ = write!(
                body,
                "<path d=\"M{cx} {} L{cx} {}\" stroke=\"#4a5a75\" fill=\"none\" marker-end=\"url(#arrow)\"/>",
                y + BOX_H,
                next - 2
            );
        }
        y = next;
    }
    let unplaced: Vec<_> = sop
        .rules
        .iter()
        .filter(|r| {
            r.step
                .as_deref()
                .is_none_or(|t| !sop.steps.iter().any(|s| s.title == t))
        })
        .collect();
    for r in unplaced {
        let _ = write!(
            body,
            "<g class=\"rule\"><rect x=\"{RULE_X}\" y=\"{y}\" width=\"{RULE_W}\" height=\"{BOX_H}\" rx=\"6\" fill=\"#fff7e6\" stroke=\"#a15c07\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\">any step, when {}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\">then {}</text></g>",
            RULE_X + 8,
            y + 18,
            esc(&cut(&r.when.summary, 38)),
            RULE_X + 8,
            y + 34,
            esc(&cut(&r.then, 46))
        );
        y += BOX_H + GAP;
    }
    for (label, fill, show) in [
        ("Success checks", "#e8f5ee", !sop.success_checks.is_empty()),
        ("Escalate", "#fdecec", !sop.escalations.is_empty()),
    ] {
        if show {
            let _ = write!(
                body,
                "<g class=\"end\"><rect x=\"{}\" y=\"{y}\" width=\"200\" height=\"{BOX_H}\" rx=\"22\" fill=\"{fill}\" stroke=\"#4a5a75\"/>\
                 <text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">{label}</text></g>",
                cx - 100,
                y + 27
            );
            y += BOX_H + GAP;
        }
    }
    if sop.steps.is_empty() {
        let _ = write!(body, "<text x=\"20\" y=\"{}\">No steps yet.</text>", y + 20);
        y += 40;
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"flowchart\" role=\"img\" viewBox=\"0 0 {W} {y}\" width=\"{W}\" height=\"{y}\" font-family=\"system-ui, sans-serif\" font-size=\"13\">\
         <title>Flowchart of {}</title>\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0 0 L10 5 L0 10 z\" fill=\"#4a5a75\"/></marker></defs>\
         {body}</svg>",
        esc(&sop.title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_every_step_and_rule_is_drawn() {
        let md = "# Fix <b>it</b>\n\n## Steps\n\n1. Run \"x\" & <script>alert(1)</script>\n\n   ```sh\n   x\n   ```\n\n2. Check\n\n   ```sh\n   y\n   ```\n";
        let mut sop = crate::import_markdown(md, "fix").unwrap().sop;
        sop.rules.push(crate::model::DecisionRule {
            step: Some(sop.steps[0].title.clone()),
            when: crate::model::Condition {
                summary: "exit 3 <img onerror=x>".into(),
                ..Default::default()
            },
            then: "remove the lock".into(),
            ..Default::default()
        });
        let svg = render_svg(&sop);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(
            !svg.contains("<script>") && !svg.contains("<img") && !svg.contains("<b>"),
            "{svg}"
        );
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
        assert_eq!(svg.matches("class=\"step\"").count(), 2);
        assert_eq!(svg.matches("class=\"rule\"").count(), 1);
        assert!(svg.contains("then remove the lock"));
    }
}
