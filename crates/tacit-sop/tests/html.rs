//! The standalone HTML page: self-contained, printable, and every text escaped.

mod common;

use tacit_sop::*;

const HOSTILE: &str = "<script>alert('x')</script><img src=x onerror=\"alert(1)\"> & </pre>";

fn hostile_sop() -> Sop {
    let mut sop = common::deploy_webapp();
    sop.title = format!("Deploy {HOSTILE}");
    sop.id = HOSTILE.into();
    sop.owner = Some(HOSTILE.into());
    sop.purpose = format!("{HOSTILE}\n\n{HOSTILE}");
    sop.parameters[0].description = HOSTILE.into();
    sop.parameters[0].examples = vec![HOSTILE.into()];
    sop.prerequisites[0].description = HOSTILE.into();
    sop.prerequisites[0].check = Some(HOSTILE.into());
    sop.prerequisites[0].sources[0].run_id = "r\" onmouseover=\"alert(1)".into();
    sop.steps[0].title = HOSTILE.into();
    sop.steps[0].commands = vec![HOSTILE.into()];
    sop.steps[0].instruction = Some(HOSTILE.into());
    sop.steps[0].why = Some(HOSTILE.into());
    sop.steps[0].cwd = Some(HOSTILE.into());
    sop.steps[0].expect.output_contains = vec![HOSTILE.into()];
    sop.rules[0].step = Some(HOSTILE.into());
    sop.rules[0].when.summary = HOSTILE.into();
    sop.rules[0].then = HOSTILE.into();
    sop.rules[0].because = HOSTILE.into();
    sop.rules[0].then_commands = vec![HOSTILE.into()];
    sop.edge_cases[0].handling = HOSTILE.into();
    sop.escalations[0].contact = Some(HOSTILE.into());
    sop.success_checks[0].command = Some(HOSTILE.into());
    sop.revisions[0].summary = HOSTILE.into();
    sop.revisions[0].runs = vec![HOSTILE.into()];
    sop
}

#[test]
fn hostile_text_is_escaped_everywhere() {
    let html = render_html(&hostile_sop());
    assert!(!html.contains("<script"), "unescaped <script> in:\n{html}");
    assert!(!html.contains("<img"), "unescaped <img> in:\n{html}");
    assert!(
        !html.contains("onmouseover=\""),
        "attribute injection in:\n{html}"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    // `</pre>` inside the Mermaid block and commands cannot close them early.
    assert_eq!(html.matches("</pre>").count(), html.matches("<pre").count());
    assert!(html.contains("data-sources=\"r&quot; onmouseover=&quot;alert(1)#2\""));
}

#[test]
fn the_page_is_standalone_and_printable() {
    let html = render_html(&common::deploy_webapp());
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<style>") && html.contains("@media print"));
    for external in [
        "<script", "<link", " src=", "http://", "https://", "@import", "url(",
    ] {
        assert!(!html.contains(external), "{external} in a standalone page");
    }
}

#[test]
fn the_page_holds_the_whole_procedure() {
    let sop = common::deploy_webapp();
    let html = render_html(&sop);
    assert!(html.contains("<title>Deploy the web app</title>"));
    assert!(html.contains("<pre class=\"mermaid\">flowchart TD\n"));
    assert!(html.contains("s3 -.-&gt;|&quot;exit 3: migration lock held&quot;| r1"));
    for step in &sop.steps {
        assert!(
            html.contains(&format!("<h3>{}</h3>", step.title)),
            "{}",
            step.title
        );
    }
    assert!(html.contains("<pre><code>./deploy/build.sh &lt;&lt;version&gt;&gt;</code></pre>"));
    assert!(html.contains(&sop.rules[0].then));
    assert!(html.contains(&sop.rules[0].because));
    assert!(html.contains("Lock held by a live process for over 30 minutes → contact: <strong>database on-call</strong>"));
    assert!(html.contains("<code>./deploy/health.sh &lt;&lt;version&gt;&gt;</code>"));
    assert!(html.contains("<dt>Review every</dt><dd>90 days</dd>"));
    let order: Vec<usize> = [
        "Purpose",
        "When to use",
        "Prerequisites",
        "Parameters",
        "Procedure",
        "Decision rules",
        "Edge cases",
        "Escalation",
        "Success checks",
        "Revision history",
    ]
    .iter()
    .map(|s| {
        html.find(&format!("<h2>{s}</h2>"))
            .unwrap_or_else(|| panic!("no {s}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "sections out of order"
    );
}

#[test]
fn empty_sections_are_left_out() {
    let sop = Sop {
        id: "x".into(),
        title: "X".into(),
        version: 1,
        ..Default::default()
    };
    let html = render_html(&sop);
    assert!(!html.contains("<h2>"), "{html}");
    assert!(!html.contains("<pre class=\"mermaid\">"));
}
