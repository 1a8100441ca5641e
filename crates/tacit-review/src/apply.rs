//! Turns what a run proposed into a change of the SOP.

use serde::Deserialize;
use tacit_sop::{Condition, DecisionRule, EdgeCase, Escalation, Sop, SourceRef};

/// The evidence a run stored with its proposal (the runner's `Proposal`).
#[derive(Debug, Clone, Deserialize)]
pub struct Evidence {
    pub kind: String,
    pub step: String,
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub output: String,
    #[serde(default)]
    pub answer: Option<AnswerEvidence>,
    #[serde(default)]
    pub summary: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AnswerEvidence {
    pub action: String,
    pub reason: String,
    #[serde(default)]
    pub escalate: Option<String>,
}

/// Applies one proposal to `sop` and says what changed. `source` points at
/// the run that proposed it.
pub fn apply(sop: &mut Sop, evidence: &Evidence, source: SourceRef) -> Result<String, String> {
    match evidence.kind.as_str() {
        "edge_case" => Ok(edge_case(sop, evidence, source)),
        "deviation" => deviation(sop, evidence, source),
        "suggestion" => suggestion(sop, evidence, source),
        other => Err(format!("unknown proposal kind {other}")),
    }
}

fn edge_case(sop: &mut Sop, e: &Evidence, source: SourceRef) -> String {
    let signal = tacit_draft::rules::signal(&e.output);
    let code = e.exit_code.map_or("?".to_string(), |c| c.to_string());
    let description = match &signal {
        Some((line, _)) => format!("`{}` failed with exit {code}: {line}", e.command),
        None => format!("`{}` failed with exit {code}", e.command),
    };
    let Some(answer) = &e.answer else {
        sop.edge_cases.push(EdgeCase {
            description,
            handling: "Not resolved yet: an unattended run stopped here.".into(),
            sources: vec![source],
        });
        return "added an edge case (no answer to make a rule from)".into();
    };
    // Rules are matched by step title; a success check's context is not a
    // step, so its rule applies to any step with that signal.
    let step = sop
        .steps
        .iter()
        .any(|s| s.title == e.step)
        .then(|| e.step.clone());
    let (summary, contains) = match &signal {
        Some((_, phrase)) => (phrase.clone(), Some(phrase.clone())),
        None => (format!("`{}` exits {code}", e.command), None),
    };
    sop.rules.push(DecisionRule {
        step,
        when: Condition {
            summary: summary.clone(),
            exit_code: e.exit_code,
            output_contains: contains,
        },
        then: answer.action.clone(),
        then_commands: Vec::new(),
        because: answer.reason.clone(),
        sources: vec![source.clone()],
    });
    sop.edge_cases.push(EdgeCase {
        description,
        handling: answer.action.clone(),
        sources: vec![source.clone()],
    });
    if let Some(text) = &answer.escalate {
        let (when, contact) = tacit_draft::rules::escalation(text);
        sop.escalations.push(Escalation {
            when,
            contact,
            sources: vec![source],
        });
    }
    format!("added a decision rule for \"{summary}\" and its edge case")
}

/// A change proposed in words (an agent's `propose_change`): kept as a
/// note, or on its step's why, for the owner to word as they see fit when
/// they accept it edited.
fn suggestion(sop: &mut Sop, e: &Evidence, source: SourceRef) -> Result<String, String> {
    let text = e
        .answer
        .as_ref()
        .map(|a| a.action.trim())
        .filter(|t| !t.is_empty())
        .ok_or("a suggestion without its text")?;
    if let Some(step) = sop
        .steps
        .iter_mut()
        .find(|s| !e.step.is_empty() && s.title == e.step)
    {
        step.why = Some(match &step.why {
            Some(w) => format!("{w} {text}"),
            None => text.to_string(),
        });
        step.sources.push(source);
        return Ok(format!("\"{}\" now also says: {text}", e.step));
    }
    sop.notes.push(text.to_string());
    Ok(format!("added the note: {text}"))
}

fn deviation(sop: &mut Sop, e: &Evidence, source: SourceRef) -> Result<String, String> {
    let answer = e.answer.as_ref().ok_or("a deviation without its reason")?;
    let what = answer.action.as_str();
    let step = sop
        .steps
        .iter_mut()
        .find(|s| s.title == e.step)
        .ok_or_else(|| format!("the SOP has no step \"{}\" any more", e.step))?;
    if let Some(cmd) = what
        .strip_prefix("edited to `")
        .and_then(|r| r.strip_suffix('`'))
    {
        step.commands = vec![cmd.to_string()];
        step.sources.push(source);
        return Ok(format!("\"{}\" now runs `{cmd}`", e.step));
    }
    if what == "skipped" {
        step.optional = true;
        let note = format!("Skipped when: {}.", answer.reason.trim_end_matches('.'));
        step.why = Some(match &step.why {
            Some(w) => format!("{w} {note}"),
            None => note,
        });
        step.sources.push(source);
        return Ok(format!("\"{}\" is now optional", e.step));
    }
    sop.edge_cases.push(EdgeCase {
        description: format!("\"{}\" was {what}", e.step),
        handling: answer.reason.clone(),
        sources: vec![source],
    });
    Ok(format!("added an edge case for \"{}\"", e.step))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacit_sop::Step;

    fn sop() -> Sop {
        Sop {
            id: "x".into(),
            steps: vec![Step {
                title: "Check health".into(),
                commands: vec!["./health.sh".into()],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn src() -> SourceRef {
        SourceRef {
            run_id: "r".into(),
            seq: 7,
        }
    }

    #[test]
    fn an_answered_unknown_failure_becomes_a_rule_an_edge_case_and_an_escalation() {
        let mut s = sop();
        let e: Evidence = serde_json::from_value(serde_json::json!({
            "kind": "edge_case", "step": "Check health", "command": "./health.sh 1.4.2", "exit_code": 1,
            "output": "unhealthy: running 1.3.9, expected 1.4.2",
            "answer": {"action": "Restart the app", "reason": "It caches the version", "escalate": "Still wrong after a restart: call the app on-call"},
            "summary": "x"
        }))
        .unwrap();
        let said = apply(&mut s, &e, src()).unwrap();
        assert!(said.contains("decision rule"), "{said}");
        let r = &s.rules[0];
        assert_eq!(r.step.as_deref(), Some("Check health"));
        assert_eq!(r.when.exit_code, Some(1));
        assert_eq!(
            r.when.output_contains.as_deref(),
            Some("unhealthy: running")
        );
        assert_eq!(
            (r.then.as_str(), r.because.as_str()),
            ("Restart the app", "It caches the version")
        );
        assert_eq!(s.escalations[0].contact.as_deref(), Some("app on-call"));
        assert_eq!(r.sources, vec![src()]);
    }

    #[test]
    fn deviations_change_the_step() {
        let mut s = sop();
        let edit: Evidence = serde_json::from_value(serde_json::json!({
            "kind": "deviation", "step": "Check health",
            "answer": {"action": "edited to `./health.sh --strict`", "reason": "the old check misses drift"}
        }))
        .unwrap();
        apply(&mut s, &edit, src()).unwrap();
        assert_eq!(s.steps[0].commands, ["./health.sh --strict"]);
        let skip: Evidence = serde_json::from_value(serde_json::json!({
            "kind": "deviation", "step": "Check health",
            "answer": {"action": "skipped", "reason": "the service was not deployed"}
        }))
        .unwrap();
        apply(&mut s, &skip, src()).unwrap();
        assert!(s.steps[0].optional);
        let gone: Evidence = serde_json::from_value(serde_json::json!({
            "kind": "deviation", "step": "Nope", "answer": {"action": "skipped", "reason": "r"}
        }))
        .unwrap();
        assert!(apply(&mut s, &gone, src()).is_err());
    }
}
