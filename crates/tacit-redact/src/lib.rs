//! Finds secrets in command lines and captured output and replaces them with
//! markers, *before* anything reaches disk.
//!
//! Every match becomes exactly `[REDACTED:<kind>]`, where `<kind>` is a short
//! kebab-case rule id such as `aws-access-key` or `password`. The format is a
//! contract: the drafter parses markers back out (see [`MARKER_PATTERN`] and
//! [`marker_regex`]) and turns them into secret parameters of the SOP.
//!
//! Where context makes the command readable, only the secret goes:
//! `DB_PASSWORD="[REDACTED:password]"`,
//! `https://bob:[REDACTED:url-password]@host`, `--token [REDACTED:token]`.
//!
//! Built-in kinds: `private-key`, `aws-access-key`, `aws-secret-key`,
//! `github-token`, `gitlab-token`, `slack-token`, `slack-webhook`,
//! `stripe-key`, `npm-token`, `anthropic-key`, `openai-key`,
//! `google-api-key`, `twilio-api-key`, `sendgrid-key`, `heroku-key`,
//! `pulumi-token`, `netlify-token`, `pypi-token`, `docker-hub-token`,
//! `digitalocean-token`, `vault-token`, `jwt`, `auth-header`, `url-password`,
//! and, for values named by their variable, key or flag (`DB_PASSWORD=…`,
//! `--token …`, `mysql -p…`), `password`, `secret`, `token` and `key`. How
//! names are judged (why `KEYBOARD=us` and `SSH_KEY_PATH=…` stay) is
//! documented in `names.rs`. User rules add their own kinds.
//!
//! Design, because this runs on every command and every output:
//! - One Aho-Corasick scan over the text looks for rule keywords (ASCII
//!   case-insensitive). Text with no keyword costs that single scan and comes
//!   back [`Cow::Borrowed`]. Only rules whose keywords occurred run their
//!   regex. User rules have no keywords and always run.
//! - Overlapping matches are merged: the union is redacted once, named after
//!   the match that starts earliest (then the longest, then the earliest
//!   rule). A marker is never written inside a marker, and existing markers in
//!   the input are left alone.
//! - [`Redactor::redact`] is idempotent: it re-runs on its own output until
//!   nothing changes (in practice one extra pass, and only when something was
//!   redacted), because a redaction can change what surrounds a neighbour.
//!
//! Redact whole texts (a full command line, a command's full output), not
//! arbitrary chunks: a secret split across two chunks may not be recognised.
//! A private key whose END line falls in a later chunk is still handled (the
//! first chunk is redacted from BEGIN to its end, the second from its start
//! to END).

use std::borrow::Cow;
use std::ops::Range;
use std::sync::{Arc, LazyLock};

use aho_corasick::AhoCorasick;
use regex::Regex;
use serde::Deserialize;

mod names;
mod rules;

use rules::{Accept, SpecKind, Trim};

/// Start of every marker. Cheap test for "might this text contain markers".
pub const MARKER_PREFIX: &str = "[REDACTED:";

/// End of every marker.
pub const MARKER_SUFFIX: &str = "]";

/// Regex for one marker; the `kind` group is the rule id. Kinds are
/// lowercase ASCII letters and digits in `-`-separated words.
pub const MARKER_PATTERN: &str = r"\[REDACTED:(?P<kind>[a-z0-9]+(?:-[a-z0-9]+)*)\]";

static MARKER_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(MARKER_PATTERN).expect("marker pattern is valid"));

/// [`MARKER_PATTERN`], compiled once, for callers that parse markers back out.
pub fn marker_regex() -> &'static Regex {
    &MARKER_RE
}

/// Passes after the first, as a bound on pathological user rules; built-in
/// rules settle after one.
const MAX_EXTRA_PASSES: usize = 8;

/// A user-defined rule from `config.toml`:
///
/// ```toml
/// [[redact.rules]]
/// name = "internal-ticket-token"
/// pattern = 'itk_[a-z0-9]{8}'
/// ```
///
/// `name` becomes the marker kind (converted to kebab-case). The whole match
/// is redacted, unless the pattern has a capture group whose name starts with
/// `secret` (`key=(?P<secret>\w+)`): then only that group is, which keeps
/// context readable.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRule {
    pub name: String,
    pub pattern: String,
}

/// Why user rules could not be turned into a [`Redactor`]. Each variant names
/// the offending rule so the user can find it in their config.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    #[error("redaction rule `{name}`: invalid pattern: {source}")]
    InvalidPattern {
        name: String,
        #[source]
        source: regex::Error,
    },
    #[error("redaction rule `{name}`: the name needs at least one ASCII letter or digit")]
    InvalidName { name: String },
    #[error(
        "redaction rule `{name}`: the pattern matches empty text, so it would match everywhere"
    )]
    MatchesEmpty { name: String },
}

#[derive(Debug, Clone)]
enum Kind {
    Fixed(Box<str>),
    ByName(fn(&str) -> Option<&'static str>),
}

#[derive(Debug, Clone)]
struct Rule {
    regex: Regex,
    kind: Kind,
    /// Capture groups that hold the secret, tried in order; empty = whole match.
    secret_groups: Vec<usize>,
    accept: Option<Accept>,
    /// Where a bare value really ends (it may run on past a shell
    /// metacharacter, or stop at a URL's next parameter).
    trim: Option<Trim>,
}

impl Rule {
    fn new(regex: Regex, kind: Kind, accept: Option<Accept>) -> Rule {
        let secret_groups = regex
            .capture_names()
            .enumerate()
            .filter(|(_, n)| n.is_some_and(|n| n.starts_with("secret")))
            .map(|(i, _)| i)
            .collect();
        Rule {
            regex,
            kind,
            secret_groups,
            accept,
            trim: None,
        }
    }

    /// Appends this rule's spans in `text` to `out`.
    fn collect<'r>(&'r self, rule: usize, text: &str, out: &mut Vec<Span<'r>>) {
        if let (Kind::Fixed(kind), [], None, None) =
            (&self.kind, &self.secret_groups[..], self.accept, self.trim)
        {
            out.extend(
                self.regex
                    .find_iter(text)
                    .filter(|m| !m.is_empty())
                    .map(|m| Span {
                        range: m.range(),
                        rule,
                        kind,
                    }),
            );
            return;
        }
        // Matches are searched from a cursor rather than one after the
        // other: a value that was not a secret, or was cut short, may hold
        // the next `name=value` (`KeyName=x;Key=secret`), so the search goes
        // on from where the value began, or from where it was cut.
        let mut at = 0;
        while at <= text.len() {
            let Some(caps) = self.regex.captures_at(text, at) else {
                break;
            };
            let whole = caps.get(0).map_or(at..at, |m| m.range());
            let value_start = self
                .secret_groups
                .iter()
                .filter_map(|&g| caps.get(g))
                .map(|m| m.start())
                .min()
                .unwrap_or(whole.end);
            at = whole.end.max(whole.start + 1);
            let kind: &str = match &self.kind {
                Kind::Fixed(k) => k,
                Kind::ByName(classify) => {
                    match caps.name("name").and_then(|n| classify(n.as_str())) {
                        Some(k) => k,
                        None => {
                            at = value_start.max(whole.start + 1);
                            continue;
                        }
                    }
                }
            };
            // Every secret group that took part (`ssh-keygen -P old -N
            // new` has two), or the whole match.
            let mut groups: Vec<regex::Match<'_>> = self
                .secret_groups
                .iter()
                .filter_map(|&g| caps.get(g))
                .collect();
            if self.secret_groups.is_empty() {
                groups.extend(caps.get(0));
            }
            for m in groups {
                if m.is_empty() {
                    continue;
                }
                // Where the value really ends first, then whether it is one.
                let mut range = m.range();
                if let Some(trim) = self.trim {
                    range.end = range.start + trim(&caps, m.as_str());
                    if range.end < m.end() {
                        at = at.min(range.end.max(whole.start + 1));
                    }
                    if range.is_empty() {
                        continue;
                    }
                }
                if let Some(accept) = self.accept
                    && !accept(&caps, &text[range.clone()], text)
                {
                    at = at.min(value_start.max(whole.start + 1));
                    continue;
                }
                out.push(Span { range, rule, kind });
            }
        }
    }
}

#[derive(Debug)]
struct Span<'r> {
    range: Range<usize>,
    rule: usize,
    kind: &'r str,
}

#[derive(Debug)]
struct Inner {
    rules: Vec<Rule>,
    /// Keyword scanner over the built-in rules' keywords.
    keywords: AhoCorasick,
    /// For each keyword pattern id, the rules it enables.
    keyword_rules: Vec<Vec<usize>>,
    /// Rules with keywords (the rest always run).
    keyworded: usize,
    /// Marker kinds, in rule order, without duplicates.
    names: Vec<&'static str>,
    custom_names: Vec<String>,
}

/// Replaces secrets with `[REDACTED:<kind>]` markers.
///
/// Build it once (compiling the rules is the expensive part) and share it:
/// it is cheap to clone and safe to use from many threads.
#[derive(Debug, Clone)]
pub struct Redactor {
    inner: Arc<Inner>,
}

static BUILTIN: LazyLock<Redactor> = LazyLock::new(|| build(rules::specs()));

/// Rules for what people write: "the new root password is X".
static PROSE: LazyLock<Redactor> = LazyLock::new(|| build(rules::prose_specs()));

fn build(specs: Vec<rules::Spec>) -> Redactor {
    let mut rules = Vec::with_capacity(specs.len());
    let mut words: Vec<&'static str> = Vec::new();
    let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
    let mut names: Vec<&'static str> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let regex = Regex::new(spec.pattern)
            .unwrap_or_else(|e| panic!("built-in pattern {i} is invalid: {e}"));
        let kind = match spec.kind {
            SpecKind::Fixed(k) => {
                names.push(k);
                Kind::Fixed(k.into())
            }
            SpecKind::ByName(f) => {
                names.extend_from_slice(rules::BY_NAME_KINDS);
                Kind::ByName(f)
            }
        };
        let mut rule = Rule::new(regex, kind, spec.accept);
        rule.trim = spec.trim;
        rules.push(rule);
        for &w in spec.keywords {
            match words.iter().position(|&x| x.eq_ignore_ascii_case(w)) {
                Some(p) => keyword_rules[p].push(i),
                None => {
                    words.push(w);
                    keyword_rules.push(vec![i]);
                }
            }
        }
        assert!(
            !spec.keywords.is_empty(),
            "built-in rule {i} has no keywords"
        );
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(*n));
    let keywords = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&words)
        .expect("keyword automaton builds");
    Redactor {
        inner: Arc::new(Inner {
            keyworded: rules.len(),
            rules,
            keywords,
            keyword_rules,
            names,
            custom_names: Vec::new(),
        }),
    }
}

/// Turns a user's rule name into a marker kind: lowercase ASCII words joined
/// by `-` (`"Internal Ticket_Token"` → `internal-ticket-token`,
/// `"myToken"` → `my-token`).
fn kebab(name: &str) -> Option<String> {
    let mut out = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            let camel = c.is_ascii_uppercase()
                && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            if camel && !out.ends_with('-') {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        prev = Some(c);
    }
    while out.ends_with('-') {
        out.pop();
    }
    (!out.is_empty()).then_some(out)
}

impl Redactor {
    /// The built-in rules only. Compiled once per process, then cloned.
    pub fn builtin() -> Self {
        BUILTIN.clone()
    }

    /// Built-in rules plus the user's. A user rule's name, in kebab-case, is
    /// its marker kind. User rules run on every text (they have no keyword
    /// prefilter), so keep them few.
    pub fn with_custom(rules: &[CustomRule]) -> Result<Self, RedactError> {
        let base = &BUILTIN.inner;
        let mut all = base.rules.clone();
        let mut custom_names = Vec::with_capacity(rules.len());
        for r in rules {
            let kind = kebab(&r.name).ok_or_else(|| RedactError::InvalidName {
                name: r.name.clone(),
            })?;
            let regex = Regex::new(&r.pattern).map_err(|source| RedactError::InvalidPattern {
                name: r.name.clone(),
                source,
            })?;
            if regex.is_match("") {
                return Err(RedactError::MatchesEmpty {
                    name: r.name.clone(),
                });
            }
            all.push(Rule::new(regex, Kind::Fixed(kind.as_str().into()), None));
            if !custom_names.contains(&kind) && !base.names.contains(&kind.as_str()) {
                custom_names.push(kind);
            }
        }
        Ok(Redactor {
            inner: Arc::new(Inner {
                rules: all,
                keywords: base.keywords.clone(),
                keyword_rules: base.keyword_rules.clone(),
                keyworded: base.keyworded,
                names: base.names.clone(),
                custom_names,
            }),
        })
    }

    /// For what a person wrote (notes, answers, reasons): also the secrets
    /// given in words, "the new root password is X", "token: X". Output is
    /// not treated this way: "the password is required" is a program's
    /// message there.
    pub fn redact_prose<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match PROSE.redact(text) {
            Cow::Borrowed(t) => self.redact(t),
            Cow::Owned(t) => Cow::Owned(self.redact(&t).into_owned()),
        }
    }

    /// For the output of a command that prints a secret (see
    /// [`prints_secret`]): besides the rules, a lone value is the secret,
    /// and in longer output every long high-entropy token is.
    pub fn redact_secret_output<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let ruled = self.redact(text);
        let trimmed = ruled.trim();
        if trimmed.is_empty() {
            return ruled;
        }
        if !trimmed.contains(char::is_whitespace)
            && !trimmed.starts_with(MARKER_PREFIX)
            && trimmed.len() >= 4
        {
            let at = ruled.find(trimmed).unwrap_or(0);
            return Cow::Owned(format!(
                "{}{MARKER_PREFIX}secret-output{MARKER_SUFFIX}{}",
                &ruled[..at],
                &ruled[at + trimmed.len()..]
            ));
        }
        let mut out = String::with_capacity(ruled.len());
        let mut changed = false;
        let mut last = 0;
        for (at, word) in ruled
            // One-byte separators only, so positions add up.
            .split(|c: char| c.is_ascii_whitespace() || c == '"' || c == '\'' || c == ',')
            .scan(0usize, |pos, w| {
                let start = *pos;
                *pos += w.len() + 1;
                Some((start, w))
            })
        {
            if word.len() >= 20 && !word.contains(MARKER_PREFIX) && high_entropy(word) {
                out.push_str(&ruled[last..at]);
                out.push_str(MARKER_PREFIX);
                out.push_str("secret-output");
                out.push_str(MARKER_SUFFIX);
                last = at + word.len();
                changed = true;
            }
        }
        if !changed {
            return ruled;
        }
        out.push_str(&ruled[last..]);
        Cow::Owned(out)
    }

    /// Returns `text` with every secret replaced by a marker. Borrowed, with
    /// no allocation, when nothing needed redacting.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(mut out) = self.pass(text) else {
            return Cow::Borrowed(text);
        };
        for _ in 0..MAX_EXTRA_PASSES {
            match self.pass(&out) {
                Some(next) => out = next,
                None => break,
            }
        }
        Cow::Owned(out)
    }

    /// The marker kinds this redactor can write, built-in first, without
    /// duplicates. Lets a UI or the drafter list what it may meet.
    pub fn rule_names(&self) -> Vec<&str> {
        let inner = &*self.inner;
        inner
            .names
            .iter()
            .copied()
            .chain(inner.custom_names.iter().map(String::as_str))
            .collect()
    }

    /// Which rules could match `text`: one keyword scan, stopping early once
    /// every keyworded rule is enabled.
    fn active(&self, text: &str) -> Vec<bool> {
        let inner = &*self.inner;
        let mut active = vec![false; inner.rules.len()];
        for a in &mut active[inner.keyworded..] {
            *a = true;
        }
        let mut left = inner.keyworded;
        for m in inner.keywords.find_overlapping_iter(text) {
            for &r in &inner.keyword_rules[m.pattern().as_usize()] {
                if !active[r] {
                    active[r] = true;
                    left -= 1;
                }
            }
            if left == 0 {
                break;
            }
        }
        active
    }

    /// One redaction pass; `None` when it changes nothing.
    fn pass(&self, text: &str) -> Option<String> {
        let inner = &*self.inner;
        let active = self.active(text);
        let mut spans = Vec::new();
        for (i, rule) in inner.rules.iter().enumerate() {
            if active[i] {
                rule.collect(i, text, &mut spans);
            }
        }
        if spans.is_empty() {
            return None;
        }
        if text.contains(MARKER_PREFIX) {
            let markers: Vec<Range<usize>> = MARKER_RE.find_iter(text).map(|m| m.range()).collect();
            if !markers.is_empty() {
                spans.retain_mut(|s| respect_markers(&mut s.range, &markers));
            }
            if spans.is_empty() {
                return None;
            }
        }
        spans.sort_by(|a, b| {
            (a.range.start, b.range.end, a.rule).cmp(&(b.range.start, a.range.end, b.rule))
        });
        let mut out = String::with_capacity(text.len());
        let mut pos = 0;
        let mut iter = spans.into_iter().peekable();
        while let Some(first) = iter.next() {
            let mut end = first.range.end;
            while let Some(next) = iter.next_if(|n| n.range.start < end) {
                end = end.max(next.range.end);
            }
            out.push_str(&text[pos..first.range.start]);
            out.push_str(MARKER_PREFIX);
            out.push_str(first.kind);
            out.push_str(MARKER_SUFFIX);
            pos = end;
        }
        out.push_str(&text[pos..]);
        Some(out)
    }
}

/// Shannon entropy of at least 3.5 bits a character, with letters and digits
/// mixed: what generated tokens look like, and words, paths and ids do not.
fn high_entropy(word: &str) -> bool {
    let bytes = word.as_bytes();
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.5
        && bytes.iter().any(u8::is_ascii_digit)
        && bytes.iter().any(u8::is_ascii_alphabetic)
}

static PRINTS_SECRET: LazyLock<regex::RegexSet> = LazyLock::new(|| {
    regex::RegexSet::new([
        r"(?-u:\b)(?:gh|glab)[ \t]+auth[ \t]+token(?-u:\b)",
        r"(?-u:\b)aws[ \t]+ecr(?:-public)?[ \t]+get-login-password(?-u:\b)",
        r"(?-u:\b)gcloud[ \t]+(?:auth[ \t]+)?(?:application-default[ \t]+)?print-(?:access|identity)-token(?-u:\b)",
        r"(?-u:\b)vault[ \t]+(?:kv[ \t]+get|read|write|token[ \t]+create|print[ \t]+token)(?-u:\b)[^\n]*-field[= ]",
        r"(?-u:\b)vault[ \t]+print[ \t]+token(?-u:\b)",
        r"(?-u:\b)kubectl(?-u:\b)[^\n]*[ \t](?:get[ \t]+secrets?|create[ \t]+token)(?-u:\b)[^\n]*(?:jsonpath|go-template|base64|token)",
        r"(?-u:\b)kubectl[ \t]+create[ \t]+token(?-u:\b)",
        r"(?-u:\b)op[ \t]+(?:read|item[ \t]+get)(?-u:\b)",
        r"(?-u:\b)(?:pass|gopass)[ \t]+(?:show[ \t]+)?[A-Za-z0-9_./-]+[ \t]*$",
        r"(?-u:\b)bw[ \t]+get[ \t]+(?:password|totp|notes)(?-u:\b)",
        r"(?-u:\b)lpass[ \t]+show(?-u:\b)[^\n]*--password",
        r"(?-u:\b)security[ \t]+find-(?:generic|internet)-password(?-u:\b)[^\n]*[ \t]-w(?-u:\b)",
        r"(?-u:\b)secret-tool[ \t]+lookup(?-u:\b)",
        r"(?-u:\b)openssl[ \t]+rand(?-u:\b)",
        r"(?-u:\b)(?:pwgen|apg|pwmake|mkpasswd)(?-u:\b)",
        r"/dev/u?random",
        r"(?-u:\b)heroku[ \t]+auth:token(?-u:\b)",
        r"(?-u:\b)npm[ \t]+token[ \t]+create(?-u:\b)",
        r"(?-u:\b)terraform[ \t]+output[ \t]+(?:-raw|-json)(?-u:\b)",
        r"(?-u:\b)docker-credential-[a-z-]+[ \t]+get(?-u:\b)",
        r"(?-u:\b)(?:sops[ \t]+(?:-d|--decrypt)|ansible-vault[ \t]+(?:view|decrypt)|age[ \t]+(?:-d|--decrypt))(?-u:\b)",
        r"(?-u:\b)base64[ \t]+(?:-d|--decode)(?-u:\b)",
    ])
    .expect("valid")
});

/// Whether a command's output is a secret by what the command is: a CLI
/// printing a token or a password, a secret manager, a generator.
pub fn prints_secret(command: &str) -> bool {
    PRINTS_SECRET.is_match(command)
}

/// Keeps existing markers whole: drops a span lying entirely within markers
/// (returns `false`), and widens a span that cuts into a marker to cover it.
/// `markers` is sorted and non-overlapping.
fn respect_markers(span: &mut Range<usize>, markers: &[Range<usize>]) -> bool {
    let first = markers.partition_point(|m| m.end <= span.start);
    let mut covered_to = span.start;
    let mut covered = true;
    for m in &markers[first..] {
        if m.start >= span.end {
            break;
        }
        if m.start > covered_to {
            covered = false;
        }
        covered_to = covered_to.max(m.end);
        if m.start < span.start {
            span.start = m.start;
        }
        if m.end > span.end {
            span.end = m.end;
        }
    }
    !(covered && covered_to >= span.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_names() {
        assert_eq!(
            kebab("internal-ticket-token").as_deref(),
            Some("internal-ticket-token")
        );
        assert_eq!(
            kebab("Internal Ticket_Token").as_deref(),
            Some("internal-ticket-token")
        );
        assert_eq!(kebab("myToken2").as_deref(), Some("my-token2"));
        assert_eq!(kebab("  --x--  ").as_deref(), Some("x"));
        assert_eq!(kebab("ünïcode"), Some("n-code".to_string()));
        assert_eq!(kebab("---"), None);
        assert_eq!(kebab(""), None);
    }

    #[test]
    fn kebab_output_is_a_valid_marker_kind() {
        for n in ["a b", "A__B", "x1Y2", "-a-", "ÄpiKey"] {
            let k = kebab(n).unwrap();
            let m = format!("{MARKER_PREFIX}{k}{MARKER_SUFFIX}");
            assert!(MARKER_RE.is_match(&m), "{n:?} -> {k:?}");
        }
    }

    #[test]
    fn markers_are_respected() {
        let markers = [2..5, 5..8, 10..12];
        // Inside one marker, or across adjacent ones: dropped.
        assert!(!respect_markers(&mut (3..4), &markers));
        assert!(!respect_markers(&mut (2..8), &markers));
        assert!(!respect_markers(&mut (3..7), &markers));
        // Cutting into a marker: widened to cover it.
        let mut s = 0..3;
        assert!(respect_markers(&mut s, &markers));
        assert_eq!(s, 0..5);
        let mut s = 7..11;
        assert!(respect_markers(&mut s, &markers));
        assert_eq!(s, 5..12);
        // Untouched when clear of markers.
        let mut s = 8..10;
        assert!(respect_markers(&mut s, &markers));
        assert_eq!(s, 8..10);
    }
}
