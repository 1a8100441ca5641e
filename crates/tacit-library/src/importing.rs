//! Importing a collection of Markdown runbooks: every file read on its own
//! (one bad file never stops the rest), ids checked across the whole
//! collection, each SOP saved as a new version only when it changed.

use std::collections::HashMap;

use tacit_sop::{Revision, Sop, Warning};
use tacit_store::Store;

use crate::{Result, same_content, save_version};

/// One file of the collection, as the edge read it.
pub struct SourceFile {
    /// The path shown to the user (relative to the folder imported).
    pub path: String,
    /// The bytes, or why the file could not be read.
    pub bytes: std::result::Result<Vec<u8>, String>,
    /// The id when the file has none: from its path.
    pub default_id: String,
    /// The id to fall back to when two path-derived ids collide
    /// (`alerts-disk-full` for `alerts/disk-full.md`).
    pub qualified_id: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// tacit's own format only, with its exact checks (for CI).
    pub strict: bool,
    /// Report what would happen; save nothing.
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// A new SOP, or a new version of one that changed.
    Saved { version: u32, new: bool },
    /// The library already holds exactly this.
    Unchanged { version: u32 },
    /// Not imported; the reason names the line when there is one.
    Failed { line: Option<usize>, reason: String },
}

#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: String,
    pub id: Option<String>,
    pub title: Option<String>,
    pub steps: usize,
    pub outcome: FileOutcome,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub files: Vec<FileReport>,
    pub dry_run: bool,
}

impl ImportReport {
    pub fn imported(&self) -> usize {
        self.files
            .iter()
            .filter(|f| !matches!(f.outcome, FileOutcome::Failed { .. }))
            .count()
    }
    pub fn failed(&self) -> usize {
        self.files.len() - self.imported()
    }
    pub fn with_warnings(&self) -> usize {
        self.files.iter().filter(|f| !f.warnings.is_empty()).count()
    }
    pub fn saved(&self, new: bool) -> usize {
        self.files
            .iter()
            .filter(|f| matches!(f.outcome, FileOutcome::Saved { new: n, .. } if n == new))
            .count()
    }
    pub fn unchanged(&self) -> usize {
        self.files
            .iter()
            .filter(|f| matches!(f.outcome, FileOutcome::Unchanged { .. }))
            .count()
    }
}

/// Reads every file, checks ids across the collection, and saves what
/// changed (unless `dry_run`). `author` and `date` go into each revision.
pub async fn import_files<S: Store>(
    store: &S,
    files: Vec<SourceFile>,
    options: ImportOptions,
    author: &str,
    date: &str,
) -> Result<ImportReport> {
    let mut reports: Vec<FileReport> = Vec::with_capacity(files.len());
    let mut parsed: Vec<Option<Sop>> = Vec::with_capacity(files.len());
    let mut explicit: Vec<bool> = Vec::with_capacity(files.len());
    for f in &files {
        let (sop, report, written) = read_one(f, options.strict);
        parsed.push(sop);
        reports.push(report);
        explicit.push(written);
    }

    // Two files whose ids came from their names (`disk-full.md` in two
    // folders) take their folder's name too; any id still shared is an
    // error on every file that has it, never two versions of one SOP.
    let ids = |parsed: &[Option<Sop>]| {
        let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, s) in parsed.iter().enumerate() {
            if let Some(s) = s {
                by_id.entry(s.id.clone()).or_default().push(i);
            }
        }
        by_id
    };
    for (_, idx) in ids(&parsed) {
        if idx.len() > 1 {
            for i in idx {
                if let Some(s) = &mut parsed[i]
                    && !explicit[i]
                {
                    s.id = files[i].qualified_id.clone();
                }
            }
        }
    }
    let mut clashes: Vec<(String, Vec<usize>)> = ids(&parsed)
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .collect();
    clashes.sort();
    for (id, idx) in clashes {
        for &i in &idx {
            let others: Vec<&str> = idx
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| files[j].path.as_str())
                .collect();
            reports[i].outcome = FileOutcome::Failed {
                line: None,
                reason: format!(
                    "the id `{id}` is also the id of {}: give one of them its own `id:` in the front matter",
                    others.join(", ")
                ),
            };
            parsed[i] = None;
        }
    }

    for (i, sop) in parsed.into_iter().enumerate() {
        let Some(mut sop) = sop else { continue };
        reports[i].id = Some(sop.id.clone());
        let prev = store.sop_version(&sop.id, None).await?;
        let prev = match prev {
            Some(p) => Some(Sop::from_json(&p.body).map_err(|e| {
                crate::LibraryError::Unreadable(format!("stored SOP {} is unreadable: {e}", sop.id))
            })?),
            None => None,
        };
        if let Some(prev) = &prev
            && same_content(&sop, prev)
        {
            reports[i].outcome = FileOutcome::Unchanged {
                version: prev.version,
            };
            continue;
        }
        let version = prev.as_ref().map_or(1, |p| p.version + 1);
        if !options.dry_run {
            if let Some(prev) = &prev {
                sop.revisions = prev.revisions.clone();
            }
            let revision = Revision {
                version: 0,
                date: date.to_string(),
                author: author.to_string(),
                summary: format!("Imported from {}", files[i].path),
                runs: Vec::new(),
            };
            let saved = save_version(store, sop, revision, None).await?;
            reports[i].outcome = FileOutcome::Saved {
                version: saved.version,
                new: prev.is_none(),
            };
        } else {
            reports[i].outcome = FileOutcome::Saved {
                version,
                new: prev.is_none(),
            };
        }
    }
    Ok(ImportReport {
        files: reports,
        dry_run: options.dry_run,
    })
}

fn read_one(f: &SourceFile, strict: bool) -> (Option<Sop>, FileReport, bool) {
    let mut report = FileReport {
        path: f.path.clone(),
        id: None,
        title: None,
        steps: 0,
        outcome: FileOutcome::Failed {
            line: None,
            reason: String::new(),
        },
        warnings: Vec::new(),
    };
    let fail = |mut report: FileReport, line: Option<usize>, reason: String| {
        report.outcome = FileOutcome::Failed { line, reason };
        (None, report, false)
    };
    let bytes = match &f.bytes {
        Ok(b) => b,
        Err(reason) => return fail(report, None, reason.clone()),
    };
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        return fail(
            report,
            Some(line),
            "the file contains binary data (a NUL byte): a runbook is a Markdown text file".into(),
        );
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            return fail(
                report,
                Some(line),
                "not UTF-8 text (save it as UTF-8 and import again)".into(),
            );
        }
    };
    let result = if strict {
        tacit_sop::parse_markdown(text).map(|sop| tacit_sop::Imported {
            sop,
            warnings: Vec::new(),
            strict: true,
            explicit_id: true,
        })
    } else {
        tacit_sop::import_markdown(text, &f.default_id)
    };
    match result {
        Ok(got) => {
            report.id = Some(got.sop.id.clone());
            report.title = Some(got.sop.title.clone());
            report.steps = got.sop.steps.len();
            report.warnings = got.warnings;
            (Some(got.sop), report, got.explicit_id)
        }
        Err(e) => fail(report, Some(e.line), e.message),
    }
}
