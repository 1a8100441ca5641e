//! Stage: decision rules and escalations, from the operator's own words.

/// The line of output that identifies a failure, and a stable phrase from it
/// that will match the next time (numbers, pids and times left out).
pub fn signal(output: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = lines
        .iter()
        .find(|l| {
            let low = l.to_ascii_lowercase();
            [
                "error",
                "fatal",
                "failed",
                "denied",
                "refused",
                "cannot",
                "can't",
                "unable",
                "not found",
                "no such",
            ]
            .iter()
            .any(|k| low.contains(k))
        })
        .or(lines.first())?;
    let phrase = stable_phrase(line);
    (!phrase.is_empty()).then(|| (line.to_string(), phrase))
}

/// `ERROR: migration lock held by pid 4242 (started 2h ago)` →
/// `migration lock held by pid`.
pub fn stable_phrase(line: &str) -> String {
    let mut rest = line.trim();
    // Drop a severity prefix such as "ERROR:", "error -", "E:".
    if let Some((head, tail)) = rest.split_once(':') {
        let h = head.trim().to_ascii_lowercase();
        if matches!(
            h.as_str(),
            "error" | "fatal" | "e" | "err" | "warning" | "warn" | "critical" | "panic"
        ) {
            rest = tail.trim();
        }
    }
    let mut words = Vec::new();
    for w in rest.split_whitespace() {
        let volatile =
            w.chars().any(|c| c.is_ascii_digit()) || w.starts_with(['(', '[', '/', '\'', '"', '<']);
        if volatile {
            break;
        }
        words.push(w.trim_end_matches([',', ';', ':', '.']));
        if w.ends_with([',', ';', ':', '.']) {
            break;
        }
    }
    if words.len() < 2 {
        // Too little survived; keep the line up to its first number instead.
        return rest
            .chars()
            .take_while(|c| !c.is_ascii_digit())
            .collect::<String>()
            .trim()
            .to_string();
    }
    words.join(" ")
}

/// Splits "Held by a live process for over 30 minutes: call the database
/// on-call" into the condition and whom to call.
pub fn escalation(text: &str) -> (String, Option<String>) {
    let text = text.trim().trim_end_matches('.');
    let lower = text.to_ascii_lowercase();
    for verb in [
        "escalate to ",
        "call ",
        "page ",
        "contact ",
        "notify ",
        "ping ",
        "ask ",
    ] {
        if let Some(at) = lower.find(verb) {
            let contact_raw = &text[at + verb.len()..];
            let contact_end = contact_raw
                .find([',', ';', '.'])
                .or_else(|| contact_raw.to_ascii_lowercase().find(" if "))
                .or_else(|| contact_raw.to_ascii_lowercase().find(" when "))
                .unwrap_or(contact_raw.len());
            let contact = contact_raw[..contact_end]
                .trim()
                .trim_start_matches("the ")
                .to_string();
            let before = text[..at]
                .trim()
                .trim_end_matches([':', ',', '-', '→', ';'])
                .trim();
            let after_condition = contact_raw[contact_end..]
                .trim()
                .trim_start_matches(',')
                .trim();
            let condition = if !before.is_empty() {
                before.to_string()
            } else if let Some(c) = after_condition
                .strip_prefix("if ")
                .or_else(|| after_condition.strip_prefix("when "))
            {
                c.to_string()
            } else {
                text.to_string()
            };
            let contact = (!contact.is_empty()).then_some(contact);
            return (upper_first(&condition), contact);
        }
    }
    (upper_first(text), None)
}

/// Finds "escalate to X if Y" inside a longer reason.
pub fn escalation_in_reason(reason: &str) -> Option<(String, Option<String>)> {
    let at = reason.to_ascii_lowercase().find("escalate to ")?;
    let clause = &reason[at + "escalate to ".len()..];
    let clause = &clause[..clause.find(['.', ';']).unwrap_or(clause.len())];
    let lower = clause.to_ascii_lowercase();
    let (split, skip) = lower
        .find(" if ")
        .map(|i| (i, 4))
        .or_else(|| lower.find(" when ").map(|i| (i, 6)))?;
    let contact = clause[..split]
        .trim()
        .trim_start_matches("the ")
        .to_string();
    let condition = clause[split + skip..].trim();
    if condition.is_empty() || contact.is_empty() {
        return None;
    }
    Some((upper_first(condition), Some(contact)))
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distinctive_line_and_its_stable_phrase() {
        let out = "ERROR: migration lock held by pid 4242 (started 2h ago)\nhint: if no migration is running, the lock is stale";
        let (line, phrase) = signal(out).unwrap();
        assert!(line.starts_with("ERROR: migration lock held"));
        assert_eq!(phrase, "migration lock held by pid");
        assert_eq!(
            stable_phrase("fatal: not a git repository"),
            "not a git repository"
        );
        assert_eq!(signal(""), None);
    }

    #[test]
    fn escalation_condition_and_contact() {
        assert_eq!(
            escalation(
                "The lock is held by a live process for more than 30 minutes: call the database on-call."
            ),
            (
                "The lock is held by a live process for more than 30 minutes".to_string(),
                Some("database on-call".to_string())
            )
        );
        assert_eq!(
            escalation("Disk below 5%, page the SRE on-call"),
            ("Disk below 5%".to_string(), Some("SRE on-call".to_string()))
        );
        assert_eq!(
            escalation("Stop if the data looks wrong"),
            ("Stop if the data looks wrong".to_string(), None)
        );
    }

    #[test]
    fn escalation_inside_a_reason() {
        let reason = "A lock whose process is gone is left over from a crashed run. Never remove a lock held by a live process: wait, and escalate to the database on-call if it is held for more than 30 minutes.";
        assert_eq!(
            escalation_in_reason(reason),
            Some((
                "It is held for more than 30 minutes".to_string(),
                Some("database on-call".to_string())
            ))
        );
        assert_eq!(escalation_in_reason("because it is stale"), None);
    }
}
