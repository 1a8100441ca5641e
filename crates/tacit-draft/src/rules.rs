//! Stage: decision rules and escalations, from the operator's own words.

/// Whether a word holds a number that will differ next time: a count, a
/// time, a size, an id (`4242`, `22:31`, `1.9.12`, `2h`, `12.6MB`,
/// `3f2a9c1e`). Identifiers that merely contain digits (`api_v2`, `sha256`,
/// `utf8mb4`) are names, not numbers.
pub fn has_number(word: &str) -> bool {
    word.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .any(|t| {
            let starts_with_digit = t.starts_with(|c: char| c.is_ascii_digit());
            let hex = t.len() >= 7
                && t.chars().all(|c| c.is_ascii_hexdigit())
                && t.chars().any(|c| c.is_ascii_digit())
                && t.chars().any(|c| c.is_ascii_alphabetic());
            starts_with_digit || hex
        })
}

/// Words that mark the line of output that says what went wrong.
const FAILURE_WORDS: &[&str] = &[
    "error",
    "fatal",
    "failed",
    "failure",
    "denied",
    "refused",
    "cannot",
    "can't",
    "could not",
    "unable",
    "not found",
    "no such",
    "in use",
    "already",
    "exceeded",
    "timed out",
    "timeout",
    "unexpected",
    "invalid",
    "unavailable",
    "mismatch",
    "conflict",
    "exists",
    "forbidden",
    "unauthorized",
    "panic",
    "abort",
    "violat",
    "deadline",
    "missing",
    "corrupt",
    "out of",
    "degraded",
    "unhealthy",
    "full",
    "locked",
    "lock",
    "backoff",
    "crash",
    "killed",
    "rejected",
];

/// A line without the box drawing, bullets and markers tools frame their
/// messages with (`│ Error: …`, `* …`, `> …`).
fn undecorate(line: &str) -> &str {
    line.trim()
        .trim_start_matches(['│', '╷', '╵', '|', '*', '>', '•', '─', '┃', '!'])
        .trim()
}

/// Words that say something failed without saying what.
const WEAK_WORDS: &[&str] = &["failed", "failure", "abort", "error", "full", "lock"];

/// The line of output that identifies a failure, and a stable phrase from it
/// that will match the next time (numbers, pids and times left out). The
/// first line that says what went wrong wins; without one, the last line,
/// where programs put their verdict.
pub fn signal(output: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = output
        .lines()
        .map(undecorate)
        .filter(|l| !l.is_empty())
        .collect();
    // The line that says most specifically what went wrong: "failed" alone
    // is a summary; "address already in use" is the cause.
    let weight = |l: &str| -> usize {
        let low = l.to_ascii_lowercase();
        // DETAIL and HINT lines explain the error line above them.
        if [
            "detail:", "hint:", "context:", "note:", "info:", "help:", "tip:",
        ]
        .iter()
        .any(|p| low.starts_with(p))
        {
            return 0;
        }
        FAILURE_WORDS
            .iter()
            .filter(|k| low.contains(*k))
            .map(|k| if WEAK_WORDS.contains(k) { 1 } else { 2 })
            .sum()
    };
    let mut line: Option<&&str> = None;
    let mut best = 0;
    for l in &lines {
        let w = weight(l);
        if w > best {
            best = w;
            line = Some(l);
        }
    }
    let line = line.or(lines.last())?;
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
    // Runs of whole, stable words, split at words that will differ next
    // time (numbers, paths, quoted names); clauses split runs further after
    // punctuation. Each is a range of words, so the phrase is cut from the
    // line as it was printed (its spacing kept).
    let words: Vec<(usize, &str)> = rest
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - rest.as_ptr() as usize, w))
        .collect();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut clauses: Vec<(usize, usize)> = Vec::new();
    let (mut run_start, mut clause_start) = (0, 0);
    for i in 0..=words.len() {
        let volatile = i == words.len() || {
            let w = words[i].1;
            // An HTTP status with its reason ("503 Service Unavailable") is
            // the same next time; other numbers are not.
            let status = w.len() == 3
                && w.starts_with(['1', '2', '3', '4', '5'])
                && w.chars().all(|c| c.is_ascii_digit())
                && words
                    .get(i + 1)
                    .is_some_and(|(_, n)| n.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
            !status && (has_number(w) || w.starts_with(['(', '[', '/', '\'', '"', '<', ':', '`']))
        };
        if volatile {
            if i > run_start {
                runs.push((run_start, i));
            }
            if i > clause_start {
                clauses.push((clause_start, i));
            }
            run_start = i + 1;
            clause_start = i + 1;
        } else if words[i].1.ends_with([',', ';', ':', '.']) {
            clauses.push((clause_start, i + 1));
            clause_start = i + 1;
        }
    }
    let text = |(s, e): (usize, usize)| {
        let from = words[s].0;
        let to = words[e - 1].0 + words[e - 1].1.len();
        rest[from..to]
            .trim_end_matches([',', ';', ':', '.'])
            .to_string()
    };
    let says_failure = |r: &(usize, usize)| {
        let low = text(*r).to_ascii_lowercase();
        FAILURE_WORDS.iter().any(|k| low.contains(k))
    };
    let longest = |set: &[(usize, usize)], only_failure: bool| {
        let mut best: Option<(usize, usize)> = None;
        for r in set.iter().filter(|r| !only_failure || says_failure(r)) {
            if best.is_none_or(|b| r.1 - r.0 > b.1 - b.0) {
                best = Some(*r);
            }
        }
        best
    };
    // The detail comes last ("context: cause"): the last clause that says
    // what failed; else the first clause of two words or more; else the
    // stable run that says what failed.
    let chosen = clauses
        .iter()
        .rfind(|c| c.1 - c.0 >= 2 && says_failure(c))
        .or_else(|| clauses.iter().find(|c| c.1 - c.0 >= 2))
        .copied()
        .or_else(|| longest(&runs, true))
        .or_else(|| longest(&runs, false));
    chosen.map(text).unwrap_or_default()
}

/// Splits "Held by a live process for over 30 minutes: call the database
/// on-call" into the condition and whom to call.
pub fn escalation(text: &str) -> (String, Option<String>) {
    let text = text.trim().trim_end_matches('.');
    let lower = text.to_ascii_lowercase();
    // The earliest verb that stands as a word ("on-call" holds no "call").
    let found = [
        "escalate to ",
        "call ",
        "page ",
        "contact ",
        "notify ",
        "ping ",
        "ask ",
    ]
    .iter()
    .filter_map(|verb| {
        lower
            .match_indices(verb)
            .find(|(at, _)| {
                *at == 0
                    || lower[..*at].chars().next_back().is_some_and(|c| {
                        c.is_whitespace() || matches!(c, ':' | ',' | ';' | '(' | '—')
                    })
            })
            .map(|(at, _)| (at, *verb))
    })
    .min();
    if let Some((at, verb)) = found {
        {
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
        // No error word: the last line is the verdict.
        let (line, phrase) =
            signal("Starting ingest\nlisten tcp :7070: bind: address already in use").unwrap();
        assert_eq!(line, "listen tcp :7070: bind: address already in use");
        assert_eq!(phrase, "address already in use");
        let (_, phrase) = signal("Starting ingest ... failed\ningest[5]: listen tcp :7070: bind: address already in use\nJob for ingest failed").unwrap();
        assert_eq!(phrase, "address already in use");
        assert_eq!(
            stable_phrase("received unexpected HTTP status: 503 Service Unavailable"),
            "503 Service Unavailable"
        );
        let (_, phrase) =
            signal("│ Error: Error acquiring the state lock\n│ \n│ Lock Info:").unwrap();
        assert_eq!(phrase, "Error acquiring the state lock");
        let (_, phrase) = signal("ERROR:  duplicate key value violates unique constraint \"pk\"\nDETAIL:  Key (day)=(2026-11-03) already exists.").unwrap();
        assert_eq!(phrase, "duplicate key value violates unique constraint");
        assert_eq!(
            stable_phrase("HTTP 503 Service Unavailable"),
            "HTTP 503 Service Unavailable"
        );
        // Never cut inside a word.
        assert_eq!(stable_phrase("tenant 3acme missing"), "missing");
        assert!(has_number("4242") && has_number("22:31:35") && has_number("v1.9.12"));
        assert!(has_number("2h") && has_number("12.6MB") && has_number("3f2a9c1e"));
        assert!(!has_number("api_v2") && !has_number("sha256") && !has_number("utf8mb4"));
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
            escalation("The leaver was an admin: ask the security on-call to rotate the keys"),
            (
                "The leaver was an admin".to_string(),
                Some("security on-call to rotate the keys".to_string())
            )
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
