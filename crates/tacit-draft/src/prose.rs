//! Stage: prose. Purpose and "when to use" come from the operator's own
//! words: a note made before any work, a note that says when, the titles they
//! gave their steps, or the diagnostic an incident opened with. Where the
//! runs say nothing, the text is a visible to-do for the owner, never filler
//! that reads as if someone had written it. Every other note stays its own
//! item.

use tacit_sop::Step;

use crate::RunDraft;

/// Left for the owner where the runs do not say.
pub const PURPOSE_TODO: &str =
    "TODO (owner): say what this procedure achieves and for whom; the recordings did not say.";
pub const WHEN_TODO: &str =
    "TODO (owner): say when to run this procedure; the recordings did not say.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prose {
    pub purpose: String,
    pub when_to_use: String,
    pub notes: Vec<String>,
}

/// Whether a note reads as a condition for using the procedure.
fn says_when(note: &str) -> bool {
    let l = note.trim().to_ascii_lowercase();
    [
        "when ",
        "whenever ",
        "if ",
        "use this when",
        "use this if",
        "use it when",
        "run this when",
        "run this if",
    ]
    .iter()
    .any(|p| l.starts_with(p))
}

pub fn prose(drafts: &[RunDraft], steps: &[Step]) -> Prose {
    let mut notes: Vec<(String, bool)> = Vec::new();
    for d in drafts {
        for (text, leading) in &d.notes {
            let t = text.trim();
            if t.is_empty() {
                continue;
            }
            match notes.iter_mut().find(|(n, _)| n == t) {
                Some((_, l)) => *l |= *leading,
                None => notes.push((t.to_string(), *leading)),
            }
        }
    }
    let when_note = notes.iter().position(|(n, _)| says_when(n));
    let when_to_use = match drafts.iter().find_map(|d| d.when.clone()) {
        Some(w) => w,
        None => match when_note {
            Some(i) => notes[i].0.clone(),
            None => WHEN_TODO.to_string(),
        },
    };
    let used_when = when_note.filter(|&i| notes[i].0 == when_to_use);
    let purpose_note = notes
        .iter()
        .enumerate()
        .position(|(i, (_, leading))| *leading && Some(i) != used_when);
    let explicit: Vec<&String> = {
        let mut t: Vec<&String> = Vec::new();
        for d in drafts {
            for s in &d.step_titles {
                if !t.contains(&s) && steps.iter().any(|st| st.title == *s) {
                    t.push(s);
                }
            }
        }
        t
    };
    let purpose = match purpose_note {
        Some(i) => notes[i].0.clone(),
        None if explicit.len() >= 2 => {
            let mut parts: Vec<String> = explicit
                .iter()
                .map(|t| crate::lower_first(t.trim_end_matches('.')))
                .collect();
            let last = parts.pop().unwrap_or_default();
            format!("{}, then {last}.", crate::upper_first(&parts.join(", ")))
        }
        None => PURPOSE_TODO.to_string(),
    };
    let rest = notes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != purpose_note && Some(*i) != used_when)
        .map(|(_, (n, _))| n)
        .collect();
    Prose {
        purpose,
        when_to_use,
        notes: rest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(notes: &[(&str, bool)], titles: &[&str]) -> RunDraft {
        RunDraft {
            notes: notes.iter().map(|(n, l)| (n.to_string(), *l)).collect(),
            step_titles: titles.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_first_note_before_any_work_is_the_purpose_and_the_others_stay_apart() {
        let p = prose(
            &[run(
                &[
                    ("Restore one table from last night's dump.", true),
                    ("The dump takes about a minute.", false),
                    (
                        "Use this when a table was damaged by a bad migration.",
                        false,
                    ),
                ],
                &[],
            )],
            &[],
        );
        assert_eq!(p.purpose, "Restore one table from last night's dump.");
        assert_eq!(
            p.when_to_use,
            "Use this when a table was damaged by a bad migration."
        );
        assert_eq!(p.notes, ["The dump takes about a minute."]);
    }

    #[test]
    fn without_the_operators_words_it_is_a_visible_todo() {
        let p = prose(&[run(&[], &[])], &[]);
        assert_eq!(p.purpose, PURPOSE_TODO);
        assert_eq!(p.when_to_use, WHEN_TODO);
        assert!(p.notes.is_empty());
    }

    #[test]
    fn step_titles_say_what_it_does() {
        let steps: Vec<Step> = ["Prepare the branch", "Tag and publish"]
            .iter()
            .map(|t| Step {
                title: t.to_string(),
                ..Default::default()
            })
            .collect();
        let p = prose(
            &[run(&[], &["Prepare the branch", "Tag and publish"])],
            &steps,
        );
        assert_eq!(p.purpose, "Prepare the branch, then tag and publish.");
    }
}
