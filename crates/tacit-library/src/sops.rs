//! SOP versions: read, compare, save, and the words search finds them by.

use tacit_sop::{Revision, Sop};
use tacit_store::{NewSopVersion, Store};

use crate::{LibraryError, Result};

/// One version of an SOP, or the latest.
pub async fn load_sop<S: Store>(store: &S, id: &str, version: Option<u32>) -> Result<Sop> {
    let Some(stored) = store.sop_version(id, version).await? else {
        if version.is_none() {
            let ids: Vec<String> = store
                .list_sops()
                .await?
                .into_iter()
                .map(|v| v.sop_id)
                .collect();
            if let Some(near) = closest(id, ids.iter().map(String::as_str)) {
                return Err(LibraryError::NotFound(format!(
                    "there is no SOP called \"{id}\"; did you mean \"{near}\"? (`tacit list` shows them all)"
                )));
            }
        }
        return Err(LibraryError::NotFound(match version {
            Some(v) => format!("{id} has no version {v} (see `tacit show {id}` for the latest)"),
            None => format!(
                "there is no SOP called \"{id}\". Draft one from its runs with `tacit draft {id}`, or list runs with `tacit runs`."
            ),
        }));
    };
    Sop::from_json(&stored.body).map_err(|e| {
        LibraryError::Unreadable(format!(
            "stored SOP {id} v{} is unreadable: {e}",
            stored.version
        ))
    })
}

/// The candidate closest to a mistyped name, when one is close enough to be
/// what was meant (a typo, a missing or extra word part), for "did you
/// mean".
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_lowercase();
    candidates
        .filter(|c| *c != name)
        .map(|c| (strsim::jaro_winkler(&name, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Whether two SOPs say the same thing: versions, history, the owner and
/// the review interval are bookkeeping, not content.
pub fn same_content(a: &Sop, b: &Sop) -> bool {
    let strip = |s: &Sop| Sop {
        version: 0,
        revisions: Vec::new(),
        owner: None,
        review_every_days: None,
        ..s.clone()
    };
    strip(a) == strip(b)
}

/// What `tacit search` matches: titles, steps, commands, rules, reasons,
/// edge cases, escalations and notes.
pub fn search_text(sop: &Sop) -> String {
    let mut parts: Vec<&str> = vec![&sop.id, &sop.purpose, &sop.when_to_use];
    for p in &sop.prerequisites {
        parts.push(&p.description);
        parts.extend(p.check.as_deref());
    }
    for s in &sop.steps {
        parts.push(&s.title);
        parts.extend(s.commands.iter().map(String::as_str));
        parts.extend(s.why.as_deref());
        parts.extend(s.caution.as_deref());
        parts.extend(s.instruction.as_deref());
        for b in &s.body {
            match b {
                tacit_sop::StepBlock::Text { markdown } => parts.push(markdown),
                tacit_sop::StepBlock::Snippet { code, .. } => parts.push(code),
                // The output a runbook shows: error text people search for.
                tacit_sop::StepBlock::Commands { commands, .. } => {
                    parts.extend(commands.iter().filter_map(|c| c.output.as_deref()));
                }
            }
        }
    }
    for s in &sop.sections {
        parts.extend([s.title.as_str(), s.markdown.as_str()]);
    }
    for r in &sop.rules {
        parts.extend([r.when.summary.as_str(), r.then.as_str(), r.because.as_str()]);
        // The output line a rule recognises: the error text people (and
        // a failing run looking for similar rules) search for.
        parts.extend(r.when.output_contains.as_deref());
    }
    for e in &sop.edge_cases {
        parts.extend([e.description.as_str(), e.handling.as_str()]);
    }
    for e in &sop.escalations {
        parts.push(&e.when);
        parts.extend(e.contact.as_deref());
    }
    for c in &sop.success_checks {
        parts.push(&c.description);
    }
    parts.extend(sop.notes.iter().map(String::as_str));
    parts.push(&sop.procedure_intro);
    parts.join("\n")
}

/// Stores `sop` as the next version, appending `revision` to its history.
/// `base`: the version the change was made from; a newer one saved in the
/// meantime makes this fail instead of overwriting it.
pub async fn save_version<S: Store>(
    store: &S,
    mut sop: Sop,
    mut revision: Revision,
    base: Option<u32>,
) -> Result<Sop> {
    let template = sop.clone();
    let rev_template = revision.clone();
    let body = move |v: u32| {
        let mut s = template.clone();
        let mut r = rev_template.clone();
        s.version = v;
        r.version = v;
        s.revisions.push(r);
        s.to_json()
    };
    let search_text = search_text(&sop);
    let version = store
        .add_sop_version(
            &sop.id,
            &NewSopVersion {
                base,
                search_text: &search_text,
                owner: sop.owner.as_deref(),
                review_every_days: sop.review_every_days,
                title: &sop.title,
                author: &revision.author,
                summary: &revision.summary,
                body: &body,
            },
        )
        .await?;
    sop.version = version;
    revision.version = version;
    sop.revisions.push(revision);
    Ok(sop)
}

/// Reads an SOP as a person edited it (in `$EDITOR` or a web form) from
/// its Markdown: tacit's own format, or an imported runbook's. The id is
/// the SOP's whatever the text says, and an edit that leaves no step is
/// refused rather than saved as an empty procedure.
pub fn read_edited(text: &str, id: &str) -> Result<Sop> {
    let imported = tacit_sop::import_markdown(text, id)
        .map_err(|e| LibraryError::Invalid(format!("the edited SOP does not parse: {e}")))?;
    let mut sop = imported.sop;
    if sop.steps.is_empty() {
        return Err(LibraryError::Invalid(
            "the edited SOP does not parse: it has no steps left (a step is a numbered item or a `### ` heading under ## Steps)".into(),
        ));
    }
    sop.id = id.to_string();
    Ok(sop)
}
