//! The SOP as one standalone, printable HTML page: inline CSS (with a print
//! stylesheet), no scripts, no external assets, every text HTML-escaped.
//! The flowchart's Mermaid source sits in a `<pre class="mermaid">` block,
//! which a page that loads Mermaid would draw and which otherwise reads as text.

use std::fmt::Write as _;

use crate::markdown::normalize_block;
use crate::mermaid::render_mermaid;
use crate::model::{Expectation, Sop, SourceRef};

const CSS: &str = r#"
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --code: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { font: 16px/1.55 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink); max-width: 54rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.9rem; margin: 0 0 .4rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 0 0 .5rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; color: var(--muted); margin: 0 0 1rem; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
code, pre { font: 13.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { background: var(--code); padding: .1em .3em; border-radius: 4px; }
pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
pre code { background: none; padding: 0; }
pre.mermaid { color: var(--muted); font-size: 12px; }
ol.steps { list-style: none; padding: 0; counter-reset: step; }
ol.steps > li { border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin: 0 0 .8rem; }
ol.steps > li > h3::before { content: "☐ " counter(step) ". "; counter-increment: step; color: var(--muted); }
.optional { font-weight: normal; font-style: italic; color: var(--muted); }
.label { font-weight: 600; }
ul.items > li { margin-bottom: .5rem; }
.rule .kw { font-weight: 700; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { background: var(--code); }
p { margin: .4rem 0; }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  h2 { break-after: avoid; }
  ol.steps > li, ul.items > li, tr { break-inside: avoid; }
  pre { white-space: pre-wrap; border-color: #999; }
  a { color: inherit; text-decoration: none; }
}
"#;

/// Renders the SOP as a standalone HTML page.
pub fn render_html(sop: &Sop) -> String {
    let mut h = String::new();
    let title = e(&sop.title);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n<h1>{title}</h1>\n<dl class=\"meta\">\n"
    );
    meta(&mut h, "ID", &format!("<code>{}</code>", e(&sop.id)));
    meta(&mut h, "Version", &sop.version.to_string());
    if let Some(owner) = &sop.owner {
        meta(&mut h, "Owner", &e(owner));
    }
    if let Some(days) = sop.review_every_days {
        meta(&mut h, "Review every", &format!("{days} days"));
    }
    h.push_str("</dl>\n</header>\n");

    prose_section(&mut h, "Purpose", &sop.purpose);
    prose_section(&mut h, "When to use", &sop.when_to_use);

    if !sop.prerequisites.is_empty() {
        open_section(&mut h, "Prerequisites");
        h.push_str("<ul class=\"items\">\n");
        for p in &sop.prerequisites {
            let _ = write!(h, "<li{}>{}", sources_attr(&p.sources), e(&p.description));
            if let Some(check) = &p.check {
                let _ = write!(h, " — check: <code>{}</code>", e(check));
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ul>\n</section>\n");
    }

    if !sop.parameters.is_empty() {
        open_section(&mut h, "Parameters");
        h.push_str("<table>\n<thead><tr><th>Parameter</th><th>Description</th><th>Examples</th><th>Secret</th></tr></thead>\n<tbody>\n");
        for p in &sop.parameters {
            let examples: Vec<String> = p
                .examples
                .iter()
                .map(|x| format!("<code>{}</code>", e(x)))
                .collect();
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e(&format!("<<{}>>", p.name)),
                e(&p.description),
                examples.join(", "),
                if p.secret { "yes" } else { "no" }
            );
        }
        h.push_str("</tbody>\n</table>\n</section>\n");
    }

    if !sop.steps.is_empty() {
        open_section(&mut h, "Procedure");
        let _ = writeln!(
            h,
            "<pre class=\"mermaid\">{}</pre>",
            e(&render_mermaid(sop))
        );
        h.push_str("<ol class=\"steps\">\n");
        for step in &sop.steps {
            let _ = write!(
                h,
                "<li{}>\n<h3>{}{}</h3>\n",
                sources_attr(&step.sources),
                e(&step.title),
                if step.optional {
                    " <span class=\"optional\">(optional)</span>"
                } else {
                    ""
                }
            );
            if let Some(cwd) = &step.cwd {
                let _ = writeln!(
                    h,
                    "<p><span class=\"label\">Working folder:</span> <code>{}</code></p>",
                    e(cwd)
                );
            }
            if !step.commands.is_empty() {
                let _ = writeln!(
                    h,
                    "<pre><code>{}</code></pre>",
                    e(&step.commands.join("\n"))
                );
            }
            if let Some(instruction) = &step.instruction {
                paragraphs(&mut h, instruction);
            }
            if let Some(x) = expectation(&step.expect) {
                let _ = writeln!(h, "<p><span class=\"label\">Expect:</span> {x}</p>");
            }
            if let Some(why) = &step.why {
                let _ = writeln!(h, "<p><span class=\"label\">Why:</span> {}</p>", lines(why));
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ol>\n</section>\n");
    }

    if !sop.rules.is_empty() {
        open_section(&mut h, "Decision rules");
        h.push_str("<ul class=\"items\">\n");
        for r in &sop.rules {
            let _ = write!(h, "<li class=\"rule\"{}>", sources_attr(&r.sources));
            if let Some(step) = &r.step {
                let _ = write!(h, "<em>At step “{}”:</em> ", e(step));
            }
            let _ = write!(h, "<span class=\"kw\">When</span> {}", e(&r.when.summary));
            let details = Expectation {
                exit_code: r.when.exit_code,
                output_contains: r.when.output_contains.iter().cloned().collect(),
            };
            if let Some(x) = expectation(&details) {
                let _ = write!(h, " ({x})");
            }
            let _ = write!(h, " → <span class=\"kw\">Then</span> {}", e(&r.then));
            if !r.because.is_empty() {
                let _ = write!(h, " → <span class=\"kw\">Because</span> {}", e(&r.because));
            }
            if !r.then_commands.is_empty() {
                let _ = write!(
                    h,
                    "\n<pre><code>{}</code></pre>",
                    e(&r.then_commands.join("\n"))
                );
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ul>\n</section>\n");
    }

    if !sop.edge_cases.is_empty() {
        open_section(&mut h, "Edge cases");
        h.push_str("<ul class=\"items\">\n");
        for x in &sop.edge_cases {
            let _ = writeln!(
                h,
                "<li{}>{} → {}</li>",
                sources_attr(&x.sources),
                e(&x.description),
                e(&x.handling)
            );
        }
        h.push_str("</ul>\n</section>\n");
    }

    if !sop.escalations.is_empty() {
        open_section(&mut h, "Escalation");
        h.push_str("<ul class=\"items\">\n");
        for x in &sop.escalations {
            let _ = write!(h, "<li{}>{}", sources_attr(&x.sources), e(&x.when));
            if let Some(c) = &x.contact {
                let _ = write!(h, " → contact: <strong>{}</strong>", e(c));
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ul>\n</section>\n");
    }

    if !sop.success_checks.is_empty() {
        open_section(&mut h, "Success checks");
        h.push_str("<ul class=\"items\">\n");
        for c in &sop.success_checks {
            let _ = write!(h, "<li{}>{}", sources_attr(&c.sources), e(&c.description));
            if let Some(cmd) = &c.command {
                let _ = write!(h, " — run: <code>{}</code>", e(cmd));
            }
            if let Some(x) = expectation(&c.expect) {
                let _ = write!(h, " — expect: {x}");
            }
            h.push_str("</li>\n");
        }
        h.push_str("</ul>\n</section>\n");
    }

    if !sop.revisions.is_empty() {
        open_section(&mut h, "Revision history");
        h.push_str("<table>\n<thead><tr><th>Version</th><th>Date</th><th>Author</th><th>Summary</th><th>Runs</th></tr></thead>\n<tbody>\n");
        for r in &sop.revisions {
            let runs: Vec<String> = r
                .runs
                .iter()
                .map(|x| format!("<code>{}</code>", e(x)))
                .collect();
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.version,
                e(&r.date),
                e(&r.author),
                e(&r.summary),
                runs.join(", ")
            );
        }
        h.push_str("</tbody>\n</table>\n</section>\n");
    }

    h.push_str("</body>\n</html>\n");
    h
}

/// HTML-escapes text for element content and double-quoted attributes.
fn e(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn meta(h: &mut String, name: &str, value_html: &str) {
    let _ = writeln!(h, "<dt>{name}</dt><dd>{value_html}</dd>");
}

fn open_section(h: &mut String, title: &str) {
    let _ = writeln!(h, "<section>\n<h2>{title}</h2>");
}

fn prose_section(h: &mut String, title: &str, text: &str) {
    if text.trim().is_empty() {
        return;
    }
    open_section(h, title);
    paragraphs(h, text);
    h.push_str("</section>\n");
}

/// Paragraphs at blank lines, `<br>` at single newlines.
fn paragraphs(h: &mut String, text: &str) {
    for para in normalize_block(text).split("\n\n") {
        if !para.is_empty() {
            let _ = writeln!(h, "<p>{}</p>", lines(para));
        }
    }
}

fn lines(text: &str) -> String {
    text.trim()
        .lines()
        .map(e)
        .collect::<Vec<_>>()
        .join("<br>\n")
}

fn expectation(x: &Expectation) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(code) = x.exit_code {
        parts.push(format!("exit code {code}"));
    }
    if !x.output_contains.is_empty() {
        let spans: Vec<String> = x
            .output_contains
            .iter()
            .map(|s| format!("<code>{}</code>", e(s)))
            .collect();
        parts.push(format!("output contains {}", spans.join(" and ")));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// ` data-sources="RUN#SEQ RUN#SEQ"`, or nothing.
fn sources_attr(sources: &[SourceRef]) -> String {
    if sources.is_empty() {
        return String::new();
    }
    let refs: Vec<String> = sources
        .iter()
        .map(|s| format!("{}#{}", s.run_id, s.seq))
        .collect();
    format!(" data-sources=\"{}\"", e(&refs.join(" ")))
}
