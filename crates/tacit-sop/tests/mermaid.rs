//! The flowchart: steps in order, rules branching off their step, escalations.

mod common;

use tacit_sop::*;

#[test]
fn deploy_webapp_flowchart() {
    let chart = render_mermaid(&common::deploy_webapp());
    insta::assert_snapshot!(chart);
}

#[test]
fn rules_for_any_step_or_an_unknown_step_hang_off_an_any_step_node() {
    let mut sop = common::deploy_webapp();
    sop.rules[0].step = None;
    let mut second = sop.rules[0].clone();
    second.step = Some("No such step".into());
    second.when = Condition {
        summary: String::new(),
        exit_code: None,
        output_contains: Some("disk full".into()),
    };
    sop.rules.push(second);
    let chart = render_mermaid(&sop);
    assert_eq!(chart.matches("any([\"Any step\"])").count(), 1, "{chart}");
    assert!(
        chart.contains("any -.->|\"exit 3: migration lock held\"| r1["),
        "{chart}"
    );
    assert!(
        chart.contains("any -.->|\"output: disk full\"| r2["),
        "{chart}"
    );
}

#[test]
fn optional_steps_are_dashed_and_marked() {
    let mut sop = common::deploy_webapp();
    sop.steps[1].optional = true;
    let chart = render_mermaid(&sop);
    assert!(
        chart.contains("s2[\"2. Build the release (optional)\"]"),
        "{chart}"
    );
    assert!(chart.contains("s1 -.-> s2"), "{chart}");
}
