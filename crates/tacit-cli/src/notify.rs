//! `tacit status --notify URL`: the library's health as a webhook post. The
//! payload is Slack-compatible (`text` plus `blocks`), and carries the full
//! list as `sops` for anything else that listens.

use anyhow::{Context, Result};
use tacit_review::health::Health;

pub fn payload(list: &[Health]) -> serde_json::Value {
    let attention: Vec<&Health> = list.iter().filter(|h| !h.problems.is_empty()).collect();
    let headline = if attention.is_empty() {
        format!("tacit: {} SOPs, all healthy", list.len())
    } else {
        format!(
            "tacit: {} of {} SOPs need attention",
            attention.len(),
            list.len()
        )
    };
    let mut lines: Vec<String> = attention
        .iter()
        .map(|h| {
            format!(
                "• *{}* (trust {}): {}",
                h.id,
                h.trust,
                h.problems.join(", ")
            )
        })
        .collect();
    if lines.is_empty() {
        lines.push("Every SOP is owned, reviewed on time, and has no stale proposals.".into());
    }
    serde_json::json!({
        "text": format!("{headline}\n{}", lines.join("\n")),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": headline}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines.join("\n")}},
        ],
        "sops": list,
    })
}

pub fn post(url: &str, list: &[Health]) -> Result<()> {
    let body = serde_json::to_string(&payload(list))?;
    ureq::post(url)
        .header("Content-Type", "application/json")
        .send(body.as_str())
        .with_context(|| format!("posting the status to {url} failed"))?;
    Ok(())
}
