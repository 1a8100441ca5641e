//! The SOP's structure. Field order follows the rendered document.
//!
//! What survives a Markdown round trip unchanged (`parse(render(sop)) ==
//! sop`): one-line fields (titles, descriptions, rule texts, contacts, dates,
//! authors) without newlines or surrounding whitespace; `purpose`,
//! `when_to_use` and `instruction` keep paragraphs, with each line trimmed;
//! `Some("")` reads back as `None`; commands, expected output, folders and
//! check commands are non-empty one-liners; step titles are unique; parameter
//! names match `[a-z][a-z0-9_]*`; run ids match `[A-Za-z0-9._:-]+`. The
//! drafter only produces SOPs within these limits.

use serde::{Deserialize, Serialize};

/// Bumped when the JSON shape changes incompatibly.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Sop {
    /// A slug, e.g. `deploy-web`: the name runs are recorded under.
    pub id: String,
    pub title: String,
    pub owner: Option<String>,
    /// How often the owner must confirm the SOP is still true.
    pub review_every_days: Option<u32>,
    pub version: u32,
    pub parameters: Vec<Parameter>,
    pub purpose: String,
    pub when_to_use: String,
    pub prerequisites: Vec<Prerequisite>,
    pub steps: Vec<Step>,
    pub rules: Vec<DecisionRule>,
    pub edge_cases: Vec<EdgeCase>,
    pub escalations: Vec<Escalation>,
    pub success_checks: Vec<SuccessCheck>,
    /// The operator's notes, each its own item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub revisions: Vec<Revision>,
    /// How free text is written: plain (drafted; shown exactly as typed) or
    /// Markdown (imported; links, code spans and emphasis kept as written).
    #[serde(default, skip_serializing_if = "TextFormat::is_plain")]
    pub text: TextFormat,
    /// Front-matter keys tacit does not use (Hugo's `weight`, `tags`,
    /// `aliases`…), in file order, written back on export.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub front_matter: Vec<FrontMatterKey>,
    /// Sections tacit has no field for (Meaning, Impact, Diagnosis…), kept
    /// as written, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<ProseSection>,
    /// Markdown between the procedure's heading and its first step.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub procedure_intro: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    #[default]
    Plain,
    Markdown,
}

impl TextFormat {
    pub fn is_plain(&self) -> bool {
        *self == TextFormat::Plain
    }
}

/// One front-matter key and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontMatterKey {
    pub key: String,
    pub value: serde_json::Value,
}

/// A section kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProseSection {
    /// The heading; empty for text between the title and the first section.
    pub title: String,
    pub markdown: String,
    /// The tacit section it follows in the document (`"Purpose"`,
    /// `"Procedure"`…); `None`: right after the title.
    pub after: Option<String>,
}

/// A step's content in the order it was written: prose, commands (with the
/// output the runbook shows) and snippets that are shown, never run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepBlock {
    Text {
        markdown: String,
    },
    Commands {
        /// The code block's language (`sh`, `bash`, `console`…).
        lang: String,
        commands: Vec<ShownCommand>,
    },
    Snippet {
        lang: String,
        code: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ShownCommand {
    pub command: String,
    /// The output the runbook shows after it (a `console` block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// A value the operator supplies at run time, written `<<name>>` in commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Parameter {
    /// Lowercase identifier: `[a-z][a-z0-9_]*`.
    pub name: String,
    pub description: String,
    /// Values seen in the runs, first the most recent.
    pub examples: Vec<String>,
    /// Read without echo and never stored.
    pub secret: bool,
}

/// Where an item came from: one event of one run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceRef {
    pub run_id: String,
    pub seq: u64,
}

/// Tools, access and state that must hold before starting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Prerequisite {
    pub description: String,
    /// A command that exits 0 when the prerequisite holds.
    pub check: Option<String>,
    pub sources: Vec<SourceRef>,
}

/// What a command is expected to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Expectation {
    /// `None`: any exit code is fine.
    pub exit_code: Option<i32>,
    /// Text the output must contain.
    pub output_contains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Step {
    pub title: String,
    /// Shell commands, run in order in one shell. Empty for a manual step.
    pub commands: Vec<String>,
    /// For a manual step (or extra guidance): what the operator does by hand.
    pub instruction: Option<String>,
    /// The working folder, relative to where the procedure starts.
    pub cwd: Option<String>,
    pub expect: Expectation,
    /// Why this step matters.
    pub why: Option<String>,
    /// What to be careful about: the operator's own account of a risky
    /// command (what they checked before, what they did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caution: Option<String>,
    /// Seen in some runs only.
    pub optional: bool,
    pub sources: Vec<SourceRef>,
    /// Prose, commands and snippets in written order (imported runbooks).
    /// `commands` stays the source of truth for what runs: a body whose
    /// commands differ from it is shown with `commands` in their place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<StepBlock>,
    /// The section the step was written under, when not the procedure
    /// (`Diagnosis`, `Mitigation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The sub-heading that groups it with its neighbours (`Pre-flight`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl Step {
    /// The commands the body shows, in order.
    pub fn body_commands(&self) -> Vec<&str> {
        self.body
            .iter()
            .flat_map(|b| match b {
                StepBlock::Commands { commands, .. } => {
                    commands.iter().map(|c| c.command.as_str()).collect()
                }
                _ => Vec::new(),
            })
            .collect()
    }

    /// What the operator reads: the instruction, or the body's prose and
    /// snippets.
    pub fn guidance(&self) -> Option<String> {
        if let Some(i) = &self.instruction {
            return Some(i.clone());
        }
        let parts: Vec<String> = self
            .body
            .iter()
            .filter_map(|b| match b {
                StepBlock::Text { markdown } => Some(markdown.clone()),
                StepBlock::Snippet { lang, code } => Some(format!("```{lang}\n{code}\n```")),
                // What the runbook shows a command printing, to compare with.
                StepBlock::Commands { commands, .. } => {
                    let shown: Vec<&str> = commands
                        .iter()
                        .filter_map(|c| c.output.as_deref())
                        .collect();
                    (!shown.is_empty())
                        .then(|| format!("The runbook shows this output:\n{}", shown.join("\n")))
                }
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join("\n\n"))
    }
}

/// When (a signal) → then (the action) → because (the principle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DecisionRule {
    /// The title of the step it applies to; `None` for any step.
    pub step: Option<String>,
    pub when: Condition,
    /// The action, in the operator's words.
    pub then: String,
    /// Commands that carry out the action, when known.
    pub then_commands: Vec<String>,
    /// The reason, kept in the operator's words.
    pub because: String,
    pub sources: Vec<SourceRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Condition {
    /// A readable summary, e.g. "migration lock held".
    pub summary: String,
    pub exit_code: Option<i32>,
    /// A line of output that identifies the situation.
    pub output_contains: Option<String>,
}

/// Something that happened in a run and how it was handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EdgeCase {
    pub description: String,
    pub handling: String,
    pub sources: Vec<SourceRef>,
}

/// A condition under which the operator must stop and call someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Escalation {
    pub when: String,
    /// Whom to call, when known.
    pub contact: Option<String>,
    pub sources: Vec<SourceRef>,
}

/// How to verify at the end that the outcome is right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SuccessCheck {
    pub description: String,
    pub command: Option<String>,
    pub expect: Expectation,
    pub sources: Vec<SourceRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Revision {
    pub version: u32,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub author: String,
    pub summary: String,
    /// The runs that caused this version.
    pub runs: Vec<String>,
}

impl Sop {
    /// The JSON document: the SOP with its schema version.
    pub fn to_json(&self) -> String {
        let doc = serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "sop": self,
        });
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
    }

    pub fn from_json(text: &str) -> Result<Sop, String> {
        #[derive(Deserialize)]
        struct Doc {
            schema_version: u32,
            sop: Sop,
        }
        let doc: Doc = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if doc.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "schema version {} is not supported (this tacit reads {SCHEMA_VERSION})",
                doc.schema_version
            ));
        }
        Ok(doc.sop)
    }

    /// Every `<<name>>` placeholder used in commands.
    pub fn placeholders(&self) -> Vec<String> {
        let re = placeholder_regex();
        let mut names: Vec<String> = Vec::new();
        let all = self
            .steps
            .iter()
            .flat_map(|s| s.commands.iter())
            .chain(self.prerequisites.iter().filter_map(|p| p.check.as_ref()))
            .chain(
                self.success_checks
                    .iter()
                    .filter_map(|c| c.command.as_ref()),
            )
            .chain(self.rules.iter().flat_map(|r| r.then_commands.iter()));
        for cmd in all {
            for cap in re.captures_iter(cmd) {
                let n = cap[1].to_string();
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names
    }
}

/// Matches `<<name>>`, capturing the name.
pub fn placeholder_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"<<([a-z][a-z0-9_]*)>>").expect("valid regex"))
}

/// Replaces `value` where it stands as a whole sub-token: not preceded or
/// followed by a letter or digit (`tenant_acme` and `acme_app` hold `acme`;
/// `acmeco` does not).
pub fn replace_subtoken(text: &str, value: &str, with: &str) -> String {
    if value.is_empty() || !text.contains(value) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(value) {
        if at < last {
            continue;
        }
        let before = text[..at].chars().next_back();
        let after = text[at + value.len()..].chars().next();
        let bounded = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        // Never inside a placeholder that is already there.
        let in_placeholder =
            text[..at].ends_with("<<") || text[at + value.len()..].starts_with(">>");
        if bounded(before) && bounded(after) && !in_placeholder {
            out.push_str(&text[last..at]);
            out.push_str(with);
            last = at + value.len();
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Writes `<<name>>`.
pub fn placeholder(name: &str) -> String {
    format!("<<{name}>>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtokens_are_whole() {
        assert_eq!(
            replace_subtoken("tenant_acme acmeco", "acme", "X"),
            "tenant_X acmeco"
        );
        assert_eq!(replace_subtoken("<<acme>>", "acme", "X"), "<<acme>>");
    }

    #[test]
    fn json_round_trips_with_its_schema_version() {
        let sop = Sop {
            id: "x".into(),
            version: 2,
            steps: vec![Step {
                title: "Build".into(),
                commands: vec!["make <<target>>".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let json = sop.to_json();
        assert!(json.contains("\"schema_version\": 1"));
        assert_eq!(Sop::from_json(&json).unwrap(), sop);
        assert_eq!(sop.placeholders(), vec!["target".to_string()]);
        let future = json.replace("\"schema_version\": 1", "\"schema_version\": 9");
        assert!(
            Sop::from_json(&future)
                .unwrap_err()
                .contains("schema version 9")
        );
    }
}
