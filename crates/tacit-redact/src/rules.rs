//! The built-in rule table.
//!
//! Each rule is a regex plus the keywords that must occur (ASCII
//! case-insensitively) for the regex to possibly match; the keywords feed the
//! one-scan prefilter in `lib.rs`. A rule redacts its whole match, or only
//! the first participating capture group whose name starts with `secret`, so
//! context such as `DB_PASSWORD=` or `https://bob:` stays readable.
//!
//! Order matters only for ties: when two rules match exactly the same span,
//! the earlier one names the marker, so specific token formats come before
//! the generic name-based rules (`GITHUB_TOKEN=ghp_…` gives `github-token`).
//!
//! Word boundaries are written `(?-u:\b)` (ASCII) so the regex engine can
//! stay on its fast DFA path for any input.

use regex::Captures;

use crate::names::{NAME_KINDS, classify_assignment, classify_flag, plausible_secret};

/// How a rule names its marker.
#[derive(Clone, Copy)]
pub(crate) enum SpecKind {
    Fixed(&'static str),
    /// Kind decided from the `name` capture group; `None` rejects the match.
    ByName(fn(&str) -> Option<&'static str>),
}

/// Extra check on a match, given the captures, the text to be redacted and
/// the whole text searched (for what stands around the match).
pub(crate) type Accept = fn(&Captures<'_>, &str, &str) -> bool;

/// How much of the matched secret to redact (its length in bytes), given the
/// captures.
pub(crate) type Trim = fn(&Captures<'_>, &str) -> usize;

/// A bare (unquoted) value runs on past shell metacharacters (a Django
/// `SECRET_KEY` is full of `&+-=()`): all of it goes, but a URL's next
/// parameter (`&page=2`) and a trailing separator stay.
fn bare_value_end(c: &Captures<'_>, s: &str) -> usize {
    if c.name("secret3").is_none() {
        return s.len();
    }
    let b = s.as_bytes();
    let mut end = s.len();
    // `&next=` in a URL, `;Next=` in a connection string.
    for (i, _) in s.match_indices(['&', ';']) {
        let rest = &s[i + 1..];
        let name_len = rest
            .bytes()
            .take_while(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'[' | b']')
            })
            .count();
        if name_len > 0 && rest.as_bytes().get(name_len) == Some(&b'=') {
            end = i;
            break;
        }
    }
    while end > 0 && matches!(b[end - 1], b';' | b'|' | b'&' | b')' | b',') {
        end -= 1;
    }
    end
}

pub(crate) struct Spec {
    pub kind: SpecKind,
    pub pattern: &'static str,
    pub keywords: &'static [&'static str],
    pub accept: Option<Accept>,
    pub trim: Option<Trim>,
}

/// Kinds a `ByName` rule can produce, for `Redactor::rule_names`.
pub(crate) const BY_NAME_KINDS: &[&str] = NAME_KINDS;

fn has_upper_lower_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes().any(|b| b.is_ascii_digit())
}

fn no_begin_inside(_: &Captures<'_>, s: &str, _: &str) -> bool {
    !s.contains("-----BEGIN")
}

fn openai_like(c: &Captures<'_>, _: &str, _: &str) -> bool {
    has_upper_lower_digit(&c[0])
}

fn auth_value(c: &Captures<'_>, s: &str, _: &str) -> bool {
    if c.name("secret2").is_some() {
        // A bare "Bearer word" in prose is not a token; real ones have digits.
        return s.bytes().any(|b| b.is_ascii_digit());
    }
    !s.starts_with('$')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "bearer" | "basic" | "token" | "digest" | "apikey"
        )
}

fn not_reference(_: &Captures<'_>, s: &str, _: &str) -> bool {
    !s.is_empty() && !s.starts_with('$')
}

/// Signatures and credentials are long; `signature=valid` is not one.
fn long_value(_: &Captures<'_>, s: &str, _: &str) -> bool {
    s.len() >= 16
}

/// The whole match is random-looking: upper, lower and digits.
fn random_whole(c: &Captures<'_>, s: &str, _: &str) -> bool {
    let _ = c;
    has_upper_lower_digit(s)
        || (s.len() >= 20
            && s.bytes().any(|b| b.is_ascii_digit())
            && s.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// SQL password clauses: a bare value only after IDENTIFIED BY, and never
/// the word PASSWORD itself or a parameter placeholder.
fn sql_password(c: &Captures<'_>, s: &str, _: &str) -> bool {
    let lead = c
        .name("lead")
        .map_or("", |m| m.as_str())
        .to_ascii_lowercase();
    if c.name("secret3").is_some() && !lead.starts_with("identified") {
        return false;
    }
    !s.is_empty()
        && !matches!(s, "?" | "%s" | ":password" | "$1" | "$2")
        && !s.eq_ignore_ascii_case("password")
        && !s.starts_with('$')
}

/// A cookie's value, not a Set-Cookie attribute.
fn cookie_value(c: &Captures<'_>, s: &str, _: &str) -> bool {
    let name = c
        .name("name")
        .map_or("", |m| m.as_str())
        .to_ascii_lowercase();
    !s.is_empty()
        && !matches!(
            name.as_str(),
            "path"
                | "domain"
                | "expires"
                | "max-age"
                | "samesite"
                | "priority"
                | "version"
                | "comment"
        )
}

/// A tool's password argument, unless it reads the password from elsewhere
/// (`-pass env:VAR`, `-pass file:path`, `-k -` ).
fn tool_password(c: &Captures<'_>, s: &str, h: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    !(s.starts_with('-')
        || lower.starts_with("env:")
        || lower.starts_with("file:")
        || lower.starts_with("fd:")
        || lower.starts_with("pass:")
        || s == "-"
        || lower == "stdin")
        && not_reference(c, s, h)
}

/// A positional secret: not a flag, a reference or `key=value` option.
fn positional_secret(c: &Captures<'_>, s: &str, h: &str) -> bool {
    !s.starts_with('-') && !s.contains('=') && not_reference(c, s, h)
}

/// `password VALUE` in a configuration file, not in a sentence ("password
/// required"): the value looks like one.
fn config_directive(_: &Captures<'_>, s: &str, _: &str) -> bool {
    plausible_secret("password", s) && s.len() >= 6
}

/// A base64 value that decodes to text holding a secret (a connection URL
/// with a password, a docker `auth`): redacted whole.
fn decodes_to_secret(s: &str) -> bool {
    thread_local! {
        static DEPTH: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
    }
    if s.len() < 24 || DEPTH.with(|d| d.get()) > 1 {
        return false;
    }
    let Some(bytes) = base64_decode(s) else {
        return false;
    };
    let text = String::from_utf8_lossy(&bytes);
    // Mostly text: not a key's random bytes.
    let printable = text
        .chars()
        .filter(|c| !c.is_control() && *c != '\u{fffd}')
        .count();
    if printable * 2 < text.chars().count() {
        return false;
    }
    DEPTH.with(|d| d.set(d.get() + 1));
    let found = crate::Redactor::builtin()
        .redact(&text)
        .contains(crate::MARKER_PREFIX);
    DEPTH.with(|d| d.set(d.get() - 1));
    found
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// A base64 value under `data:` or `stringData:` of a Kubernetes Secret:
/// the nearest less-indented line above it opens that block, and the text
/// is a Secret.
fn under_secret_data(c: &Captures<'_>, s: &str, haystack: &str) -> bool {
    // Docker registry credentials, whatever the document around them.
    let line = c.get(0).map_or("", |m| m.as_str()).trim_start();
    if line.starts_with(".dockerconfigjson")
        || line.starts_with(".dockercfg")
        || line.starts_with("\".dockerconfigjson")
        || line.starts_with("\".dockercfg")
    {
        return true;
    }
    if decodes_to_secret(s) {
        return true;
    }
    let lower = haystack.to_ascii_lowercase();
    let is_secret = lower.contains("kind: secret")
        || lower.contains("\"kind\": \"secret\"")
        || lower.contains("\"kind\":\"secret\"");
    if !is_secret {
        return false;
    }
    let start = c.get(0).map_or(0, |m| m.start());
    let line_start = haystack[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = &haystack[line_start..];
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    for above in haystack[..line_start].lines().rev() {
        let t = above.trim_start_matches([' ', '\t']);
        if t.trim().is_empty() {
            continue;
        }
        let their = above.len() - t.len();
        if their < indent {
            let key = t
                .trim()
                .trim_end_matches('{')
                .trim()
                .trim_end_matches(':')
                .trim_matches('"');
            return matches!(key, "data" | "stringData" | "data\":" | "stringData\":")
                || t.trim_start().starts_with("\"data\"")
                || t.trim_start().starts_with("\"stringData\"");
        }
    }
    false
}

/// A block scalar's value, judged on its text without the indentation.
fn block_value(c: &Captures<'_>, s: &str, _: &str) -> bool {
    let joined: Vec<&str> = s.lines().map(str::trim).collect();
    plausible_secret(name_of(c), &joined.join(""))
}

/// The value without the line break that ends the block.
fn trailing_space(_: &Captures<'_>, s: &str) -> usize {
    s.trim_end().len()
}

fn name_of<'c>(c: &'c Captures<'_>) -> &'c str {
    c.name("name").map_or("", |n| n.as_str())
}

fn assignment_value(c: &Captures<'_>, s: &str, _: &str) -> bool {
    plausible_secret(name_of(c), s)
}

/// A bare value in parentheses or a sentence: the `)` that closes them,
/// and a trailing comma or full stop, are not part of it.
fn closing_punct(c: &Captures<'_>, s: &str) -> usize {
    if c.name("secret3").is_none() {
        return s.len();
    }
    let mut t = s.trim_end();
    loop {
        let before = t.len();
        if t.ends_with(')') && t.matches('(').count() < t.matches(')').count() {
            t = &t[..t.len() - 1];
        }
        t = t.trim_end_matches([',', ';', '.']);
        if t.len() == before {
            return t.len();
        }
    }
}

/// `read -rsp "Password: " PASS`: a name inside a string that closes right
/// after its colon is a prompt or a label, not `name: value`. `Public key:`
/// and `Host key:` describe a key that is not secret.
fn not_a_label(c: &Captures<'_>, s: &str, haystack: &str) -> bool {
    if let Some(n) = c.name("name") {
        let line_start = haystack[..n.start()].rfind('\n').map_or(0, |i| i + 1);
        let before = haystack[line_start..n.start()].trim_end();
        let prev = before
            .rsplit(|ch: char| !ch.is_ascii_alphanumeric())
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if before.len() < n.start() - line_start
            && matches!(
                prev.as_str(),
                "public" | "host" | "known" | "fingerprint" | "using"
            )
        {
            return false;
        }
    }
    if let Some(n) = c.name("name")
        && haystack[n.end()..].starts_with(':')
    {
        let before = haystack[..n.start()].chars().next_back();
        let after_colon = haystack[n.end()..]
            .trim_start_matches([' ', '\t', ':'])
            .chars()
            .next();
        if let (Some(q @ ('"' | '\'')), Some(a)) = (before, after_colon)
            && a == q
        {
            return false;
        }
    }
    assignment_value(c, s, haystack)
}

fn flag_value(c: &Captures<'_>, s: &str, _: &str) -> bool {
    !s.starts_with('-') && plausible_secret(name_of(c), s)
}

/// Value alternatives shared by `=`-style assignments and flags: a double- or
/// single-quoted value (up to the closing quote, or end of line if the quote
/// is never closed) or a bare word.
macro_rules! quoted_or_bare {
    ($bare:literal) => {
        concat!(
            r#"(?:"(?P<secret>(?:[^"\\\r\n]|\\.)*)(?:"|\r|$)"#,
            // `'…'\''…'` (a shell's quote in quotes) and `'…''…'` (YAML's).
            r#"|'(?P<secret2>(?:[^'\r\n]|'\\''|'')*)(?:'|\r|$)"#,
            r#"|(?P<secret3>"#,
            $bare,
            r#"))"#
        )
    };
}

/// What people write in notes and answers: a secret given in words.
pub(crate) fn prose_specs() -> Vec<Spec> {
    use SpecKind::Fixed;
    vec![
        Spec {
            // "the new root password is X", "pw for the admin account = X",
            // "token: X", "api key was X".
            kind: Fixed("password"),
            pattern: concat!(
                r"(?i)(?-u:\b)(?:password|passwd|passphrase|pw|pwd|pin|token|api[ _-]?key|secret|credentials?)",
                r"(?:[ \t]+(?:for|of|on)[ \t]+[^\n,.;:=]{1,40}?)?",
                r#"[ \t]*(?:[ \t]is|[ \t]was|[ \t]are|=|:|[ \t]to)[ \t]+(?:now[ \t]+|still[ \t]+|set[ \t]+to[ \t]+)?["'`]?(?P<secret>[^\s"'`]{4,})"#
            ),
            keywords: &["pass", "pw", "pin", "token", "key", "secret", "credential"],
            accept: Some(prose_secret),
            trim: Some(prose_end),
        },
        Spec {
            // "I reset it to X", "changed the password to X", "use
            // passphrase X".
            kind: Fixed("password"),
            pattern: concat!(
                r"(?i)(?-u:\b)(?:reset|changed|set|rotated|updated)[ \t]+(?:it|them|the[ \t]+\w+(?:[ \t]+\w+)?)[ \t]+to[ \t]+",
                r#"["'`]?(?P<secret>[^\s"'`]{4,})"#,
                r#"|(?i)(?-u:\b)(?:use|with)[ \t]+(?:the[ \t]+)?(?:passphrase|password|token|pin)[ \t]+["'`]?(?P<secret2>[^\s"'`]{4,})"#
            ),
            keywords: &["to ", "passphrase", "password", "token", "pin"],
            accept: Some(prose_secret),
            trim: Some(prose_end),
        },
        Spec {
            // "db creds are app / X", "log in with admin and X", "vpn psk is
            // X": a login given in words.
            kind: Fixed("password"),
            pattern: concat!(
                r"(?i)(?-u:\b)creds?(?:entials)?[ \t]+(?:are|is|:)[ \t]+\S+[ \t]*/[ \t]*(?P<secret>\S+)",
                r"|(?i)(?-u:\b)log[ \t]*in[ \t]+(?:with|as)[ \t]+\S+[ \t]+(?:and|/|with(?:[ \t]+password)?)[ \t]+(?P<secret2>\S+)",
                r"|(?i)(?-u:\b)(?:psk|pre-shared[ \t]+key|shared[ \t]+secret)[ \t]+(?:is|was|=|:)[ \t]+(?P<secret3>\S+)"
            ),
            keywords: &["cred", "log", "psk", "pre-shared", "shared secret"],
            accept: Some(prose_secret),
            trim: Some(prose_end),
        },
        Spec {
            // "use passphrase correct horse battery staple to unlock",
            // "the new root password is <anything to the end of the
            // sentence>": when a sentence says it is giving a new secret, all
            // of what it gives goes, words and spaces included.
            kind: Fixed("password"),
            pattern: concat!(
                r"(?i)(?-u:\b)(?:use|with|enter)[ \t]+(?:the[ \t]+)?passphrase[ \t]+(?P<secret>[^\r\n]+?)",
                r"[ \t]*(?:$|[.;,]|[ \t]+(?:to|for|when|then|and|on|in)[ \t])",
                r"|(?i)(?-u:\b)(?:new|temporary|temp|initial|current|default)[ \t]+(?:[A-Za-z0-9_-]+[ \t]+){0,3}?",
                r"(?:password|passphrase|passcode|token|pin|psk|secret)[ \t]+(?:is|was|=|:)[ \t]+",
                r"(?P<secret2>[^\r\n]+?)[ \t]*(?:$|[.;,][ \t]|[.;,]$|[ \t]+(?:for|until|and|but|so|because)[ \t])"
            ),
            keywords: &[
                "passphrase",
                "new",
                "temporary",
                "temp",
                "initial",
                "current",
                "default",
            ],
            accept: Some(prose_phrase),
            trim: None,
        },
    ]
}

/// A secret given as a phrase: not one common word ("is now set").
fn prose_phrase(_: &Captures<'_>, s: &str, _: &str) -> bool {
    let first = s
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    !s.trim().is_empty()
        && !PROSE_NOT_SECRET.contains(&first.trim_end_matches(['.', ',']))
        && s.len() >= 4
}

/// Words that follow "password is" in a sentence without being one.
const PROSE_NOT_SECRET: &[&str] = &[
    "required",
    "expired",
    "invalid",
    "wrong",
    "correct",
    "incorrect",
    "set",
    "changed",
    "updated",
    "empty",
    "missing",
    "stored",
    "rotated",
    "saved",
    "needed",
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "not",
    "now",
    "still",
    "too",
    "very",
    "same",
    "different",
    "unknown",
    "locked",
    "known",
    "shared",
    "secret",
    "long",
    "short",
    "weak",
    "strong",
    "reset",
    "correctly",
    "being",
    "already",
    "also",
    "only",
    "just",
    "from",
    "for",
    "with",
    "this",
    "that",
    "there",
    "here",
    "ok",
    "fine",
    "good",
    "bad",
    "valid",
    "expiring",
    "new",
    "old",
    "temporary",
    "ready",
];

/// A secret given in words looks like one: not a common word, and either
/// mixed (digits, symbols, capitals inside) or long.
fn prose_secret(_: &Captures<'_>, s: &str, _: &str) -> bool {
    let core = &s[..prose_end_of(s)];
    if core.len() < 4 || PROSE_NOT_SECRET.contains(&core.to_ascii_lowercase().as_str()) {
        return false;
    }
    let mixed = core.bytes().any(|b| b.is_ascii_digit())
        || core.bytes().any(|b| !b.is_ascii_alphanumeric())
        || core.bytes().skip(1).any(|b| b.is_ascii_uppercase());
    mixed || core.len() >= 12
}

fn prose_end_of(s: &str) -> usize {
    s.trim_end_matches(['.', ',', ';', ':', ')', '!', '?'])
        .len()
}

/// A sentence's full stop or comma is not part of the secret.
fn prose_end(_: &Captures<'_>, s: &str) -> usize {
    prose_end_of(s)
}

pub(crate) fn specs() -> Vec<Spec> {
    use SpecKind::{ByName, Fixed};
    vec![
        Spec {
            // PEM/OpenSSH/PGP private keys: the whole block, multi-line. A
            // block cut short (no END line) is redacted to the end of the text.
            kind: Fixed("private-key"),
            pattern: concat!(
                r"-----BEGIN[ A-Z0-9_-]{0,64}PRIVATE KEY(?: BLOCK)?-----",
                r"(?:(?s:.*?)-----END[ A-Z0-9_-]{0,64}PRIVATE KEY(?: BLOCK)?-----|(?s:.*)\z)"
            ),
            keywords: &["-----begin"],
            accept: None,
            trim: None,
        },
        Spec {
            // The tail of a key whose BEGIN line was in an earlier chunk.
            kind: Fixed("private-key"),
            pattern: r"\A(?s:.*?)-----END[ A-Z0-9_-]{0,64}PRIVATE KEY(?: BLOCK)?-----",
            keywords: &["-----end"],
            accept: Some(no_begin_inside),
            trim: None,
        },
        Spec {
            kind: Fixed("aws-access-key"),
            pattern: r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?-u:\b)",
            keywords: &["akia", "asia", "abia", "acca", "a3t"],
            accept: None,
            trim: None,
        },
        Spec {
            // 40 base64 characters, only next to a name saying what it is.
            kind: Fixed("aws-secret-key"),
            pattern: concat!(
                r"(?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)",
                r#"["']?(?:[ \t]*[:=][ \t]*|[ \t]+)["']?"#,
                r"(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|\z)"
            ),
            keywords: &["secret"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("github-token"),
            pattern: r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})(?-u:\b)",
            keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("gitlab-token"),
            pattern: concat!(
                r"(?-u:\b)(?:(?:glpat|gldt|glrt|glcbt|glptt|glft|glimt|glagent|glsoat|gloas|glffct|glwt)-",
                r"|GR1348941)[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*"
            ),
            keywords: &[
                "glpat-",
                "gldt-",
                "glrt-",
                "glcbt-",
                "glptt-",
                "glft-",
                "glimt-",
                "glagent-",
                "glsoat-",
                "gloas-",
                "glffct-",
                "glwt-",
                "gr1348941",
            ],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("slack-token"),
            pattern: r"(?-u:\b)xox(?:[abposr]|e(?:\.xox[bp])?)-[A-Za-z0-9-]{10,}",
            keywords: &["xox"],
            accept: None,
            trim: None,
        },
        Spec {
            // Keep the host so the command still says "post to Slack".
            kind: Fixed("slack-webhook"),
            pattern: r"(?i)hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9+/_-]{16,})",
            keywords: &["hooks.slack.com"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("stripe-key"),
            pattern: r"(?-u:\b)(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,}(?-u:\b)",
            keywords: &["k_live_", "k_test_", "k_prod_"],
            accept: None,
            trim: None,
        },
        Spec {
            // Vendors' self-identifying token formats (gitleaks' and
            // trufflehog's catalogues, vendors' docs): each begins with its
            // vendor's prefix.
            kind: Fixed("vendor-token"),
            pattern: concat!(
                r"(?-u:\b)(?:IQoJb3JpZ2luX2Vj[A-Za-z0-9+/]{100,}={0,2}",
                r"|bedrock-api-key-[A-Za-z0-9+/=]{40,}",
                r"|1//0[A-Za-z0-9_-]{40,}",
                r"|api_org_[A-Za-z]{30,}",
                r"|gsk_[A-Za-z0-9]{40,}",
                r"|sk-or-v1-[a-f0-9]{64}",
                r"|xai-[A-Za-z0-9]{70,}",
                r"|r8_[A-Za-z0-9]{37}",
                r"|pplx-[A-Za-z0-9]{40,}",
                r"|sk-[a-f0-9]{32}(?-u:\b)",
                r"|sk_[a-f0-9]{48}(?-u:\b)",
                r"|lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}",
                r"|pcsk_[A-Za-z0-9]{5,}_[A-Za-z0-9]{50,}",
                r"|nvapi-[A-Za-z0-9_-]{60,}",
                r"|sgp_(?:[a-f0-9]{16}_)?[a-f0-9]{40}",
                r"|slk_[a-f0-9]{64}",
                r"|key-[a-f0-9]{32}(?-u:\b)",
                r"|AT(?:ATT3|CTT3)[A-Za-z0-9_=-]{100,}",
                r"|ATBB[A-Za-z0-9]{28,}",
                r"|lin_(?:api|oauth)_[A-Za-z0-9]{40,}",
                r"|secret_[A-Za-z0-9]{43}(?-u:\b)",
                r"|ntn_[A-Za-z0-9]{40,}",
                r"|PMAK-[a-f0-9]{24}-[a-f0-9]{34}",
                r"|figd_[A-Za-z0-9_-]{40,}",
                r"|pat[A-Za-z0-9]{14}\.[a-f0-9]{64}",
                r"|CFPAT-[A-Za-z0-9_-]{43}",
                r"|pat-(?:na|eu)\d-[a-f0-9-]{36}",
                r"|tfp_[A-Za-z0-9_-]{50,}",
                r"|rdme_[a-z0-9]{70}",
                r"|1000\.[a-f0-9]{32}\.[a-f0-9]{32}",
                r"|glc_[A-Za-z0-9+/]{50,}={0,2}",
                r"|glsa_[A-Za-z0-9]{32}_[a-f0-9]{8}",
                r"|eyJrIjoi[A-Za-z0-9+/]{50,}={0,2}",
                r"|NRAK-[A-Z0-9]{27}",
                r"|NRII-[A-Za-z0-9_-]{32}",
                r"|sntry[su]_[A-Za-z0-9+/=_]{60,}",
                r"|dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}",
                r"|phx_[A-Za-z0-9]{43}",
                r"|dapi[a-f0-9]{32}(?:-\d)?",
                r"|dose[A-Za-z0-9]{32}",
                r"|tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{8,}-[A-Za-z0-9]{20,}",
                r"|sbp_[a-f0-9]{40}",
                r"|sb_secret_[A-Za-z0-9_-]{20,}",
                r"|fo1_[A-Za-z0-9_-]{43}",
                r"|fm2_[A-Za-z0-9+/]{100,}={0,2}",
                r"|ops_eyJ[A-Za-z0-9+/]{100,}={0,2}",
                r"|A3-[A-Z0-9]{6}-[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
                r"|dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9]+\.)?[A-Za-z0-9]{40,}",
                r"|vc[pika]_[A-Za-z0-9_-]{50,}",
                r"|cf(?:ut|at|k)_[A-Za-z0-9]{40,}",
                r"|v1\.0-[a-f0-9]{24}-[a-f0-9]{146}",
                r"|pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,}",
                r"|tk-us-[A-Za-z0-9_-]{48}",
                r"|pnu_[A-Za-z0-9]{36}",
                r"|dnkey-[A-Za-z0-9_-]{26}-[A-Za-z0-9_-]{52}",
                r"|pat\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}",
                r"|sha256~[A-Za-z0-9_-]{43}",
                r"|API-[A-Z0-9]{26}(?-u:\b)",
                r"|ico-[A-Za-z0-9]{32}",
                r"|pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{50,}",
                r"|rubygems_[a-f0-9]{48}",
                r"|oy2[a-z0-9]{43}",
                r"|CLOJARS_[a-z0-9]{60}",
                r"|dckr_oat_[A-Za-z0-9_-]{32}",
                r"|SWMTKN-1-[a-z0-9]{50}-[a-z0-9]{25}",
                r"|SWMKEY-1-[A-Za-z0-9+/]{43}",
                r"|CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}",
                r"|bkua_[a-z0-9]{40}",
                r"|sq[upa]_[a-f0-9]{40}",
                r"|AKCp[A-Za-z0-9]{69}",
                r"|cmVmdGtu[A-Za-z0-9]{56}",
                r"|sc_[a-z0-9]{12}\.[a-z0-9]{5}\.acc_[a-z0-9]{16}\.[A-Za-z0-9_-]{40,}",
                r"|AC[a-f0-9]{32}(?-u:\b)",
                r"|xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}",
                r"|EAAA[A-Za-z0-9_-]{60}",
                r"|sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}",
                r"|access_token\$production\$[a-z0-9]{16}\$[a-f0-9]{32}",
                r"|access-(?:production|sandbox)-[a-f0-9-]{36}",
                r"|FLWSECK(?:_TEST)?-[a-f0-9]{32}-X",
                r"|shippo_(?:live|test)_[a-f0-9]{40}",
                r"|EZAK[A-Za-z0-9]{54}",
                r"|duffel_(?:live|test)_[A-Za-z0-9_-]{43}",
                r"|rh-api-[a-f0-9-]{36}",
                r"|LTAI[A-Za-z0-9]{20}",
                r"|AKID[A-Za-z0-9]{32}",
                r"|AQVN[A-Za-z0-9_-]{35,38}",
                r"|sk\.eyJ1Ijoi[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}",
                r"|A{22}[A-Za-z0-9%]{80,}",
                r"|EAA[A-Za-z0-9]{100,}",
                r"|(?:api|sdk)-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}",
                r"|p8e-[A-Za-z0-9]{32}",
                r"|aio_[A-Za-z0-9]{28}",
                r"|apify_api_[A-Za-z0-9]{36}",
                r"|fio-u-[A-Za-z0-9_-]{64}",
                r"|s-s4t2ud-[a-f0-9]{64}",
                r"|sm_pat_[A-Za-z0-9]{16}",
                r"|BBFF-[A-Za-z0-9]{30}",
                r"|NF-[A-Za-z0-9]{32}",
                r"|ya29\.[A-Za-z0-9._-]{20,}",
                r")"
            ),
            keywords: &[
                "iqojb3jpz2lux2vj",
                "bedrock-api-key-",
                "1//0",
                "sk-",
                "sk_",
                "api_org_",
                "gsk_",
                "xai-",
                "r8_",
                "pplx-",
                "lsv2_",
                "pcsk_",
                "nvapi-",
                "sgp_",
                "slk_",
                "key-",
                "atatt3",
                "atctt3",
                "atbb",
                "lin_",
                "secret_",
                "ntn_",
                "pmak-",
                "figd_",
                "pat",
                "cfpat-",
                "tfp_",
                "rdme_",
                "1000.",
                "glc_",
                "glsa_",
                "eyjrijoi",
                "nrak-",
                "nrii-",
                "sntry",
                "dt0c01.",
                "phx_",
                "dapi",
                "dose",
                "tskey-",
                "sbp_",
                "sb_secret_",
                "fo1_",
                "fm2_",
                "ops_eyj",
                "a3-",
                "dp.",
                "vcp_",
                "vci_",
                "vck_",
                "vca_",
                "cfut_",
                "cfat_",
                "cfk_",
                "v1.0-",
                "pscale_",
                "tk-us-",
                "pnu_",
                "dnkey-",
                "sha256~",
                "api-",
                "ico-",
                "pypi-",
                "rubygems_",
                "oy2",
                "clojars_",
                "dckr_oat_",
                "swmtkn-",
                "swmkey-",
                "ccipat_",
                "bkua_",
                "squ_",
                "sqp_",
                "sqa_",
                "akcp",
                "cmvmdgtu",
                "sc_",
                "ac",
                "xkeysib-",
                "eaa",
                "sq0",
                "access_token$",
                "access-",
                "flwseck",
                "shippo_",
                "ezak",
                "duffel_",
                "rh-api-",
                "ltai",
                "akid",
                "aqvn",
                "aaaaaaaaaaaaaaaaaaaaaa",
                "sdk-",
                "p8e-",
                "aio_",
                "apify_api_",
                "fio-u-",
                "s-s4t2ud-",
                "sm_pat_",
                "bbff-",
                "nf-",
                "ya29.",
                "sk.eyj1",
            ],
            accept: None,
            trim: None,
        },
        Spec {
            // Formats known by a signature inside the value, not a prefix:
            // Azure's identifiable keys, New Relic license keys, Terraform
            // Cloud, Mailchimp, Telegram and Discord bots, Firebase, Azure
            // AD secrets and DevOps tokens, Salesforce, MaxMind.
            kind: Fixed("vendor-token"),
            pattern: concat!(
                r"(?:[A-Za-z0-9+/]{76}\+ASt[A-Za-z0-9+/]{5}Q==",
                r"|[A-Za-z0-9+/]{76}ACDb[A-Za-z0-9+/]{5}w==",
                r"|[A-Za-z0-9_-]{44}AzFu[A-Za-z0-9_-]{5}A==",
                r"|(?-u:\b)[A-Za-z0-9]{42}AzSe[A-D][A-Za-z0-9]{5}(?-u:\b)",
                r"|[A-Za-z0-9+/]{33}\+ASb[A-Za-z0-9+/]{6}=",
                r"|[A-Za-z0-9+/]{33}\+AEh[A-Za-z0-9+/]{6}=",
                r"|[A-Za-z0-9+/]{33}AzCa[A-Za-z0-9+/]{6}=",
                r"|[A-Za-z0-9+/]{42}\+ACR[A-Za-z0-9+/]{6}",
                r"|[A-Za-z0-9+/]{76}APIM[A-Za-z0-9+/]{5}[AQgw]==",
                r"|(?-u:\b)[a-f0-9]{36}NRAL(?-u:\b)",
                r"|(?-u:\b)[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,}",
                r"|(?-u:\b)[a-f0-9]{32}-us\d{1,2}(?-u:\b)",
                r"|(?-u:\b)\d{8,10}:AA[A-Za-z0-9_-]{33}(?-u:\b)",
                r"|(?-u:\b)M[TNzj][A-Za-z0-9]{22,26}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}",
                r"|(?-u:\b)AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{100,}",
                r"|(?-u:\b)[A-Za-z0-9_~.]{3}8Q~[A-Za-z0-9_~.-]{31,34}",
                r"|(?-u:\b)[A-Za-z0-9]{52}JQQJ9[A-Za-z0-9]{19}AZDO[A-Za-z0-9]{4}",
                r"|(?-u:\b)00D[A-Za-z0-9]{12,15}![A-Za-z0-9.]{80,}",
                r"|(?-u:\b)[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk(?-u:\b)",
                r"|(?-u:\b)[12]/\d{16}/\d{16}:[a-f0-9]{32}(?-u:\b)",
                r")"
            ),
            keywords: &[
                "+ast",
                "acdb",
                "azfu",
                "azse",
                "+asb",
                "+aeh",
                "azca",
                "+acr",
                "apim",
                "nral",
                ".atlasv1.",
                "-us",
                ":aa",
                "m",
                ":apa91b",
                "8q~",
                "jqqj9",
                "00d",
                "_mmk",
                "1/",
                "2/",
            ],
            accept: None,
            trim: None,
        },
        Spec {
            // ClickHouse Cloud secrets: `4b1d` and 38 mixed characters (a
            // sha256 that happens to start with 4b1d is all lowercase hex).
            kind: Fixed("vendor-token"),
            pattern: r"(?-u:\b)4b1d[A-Za-z0-9]{38}(?-u:\b)",
            keywords: &["4b1d"],
            accept: Some(random_whole),
            trim: None,
        },
        Spec {
            // More vendors' self-identifying prefixes, bare as their CLIs
            // print them.
            kind: Fixed("vendor-token"),
            pattern: concat!(
                r"(?-u:\b)(?:xapp-\d-[A-Za-z0-9]{6,}-[A-Za-z0-9]{6,}-[A-Za-z0-9]{20,}",
                r"|ya29\.[A-Za-z0-9_-]{20,}",
                r"|GOCSPX-[A-Za-z0-9_-]{20,}",
                r"|whsec_[A-Za-z0-9+/=]{24,}",
                r"|ABSK[A-Za-z0-9+/]{60,}={0,2}",
                r"|hf_[A-Za-z0-9]{30,}",
                r"|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
                r")(?-u:\b)"
            ),
            keywords: &[
                "xapp-", "ya29.", "gocspx-", "whsec_", "absk", "hf_", "shpat_", "shpca_", "shppa_",
                "shpss_",
            ],
            accept: None,
            trim: None,
        },
        Spec {
            // A long base64 JSON blob printed bare: `aws ecr
            // get-login-password`, docker credential helpers.
            kind: Fixed("token"),
            pattern: r"(?-u:\b)eyJ[A-Za-z0-9+/]{200,}={0,2}",
            keywords: &["eyj"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("npm-token"),
            pattern: r"(?-u:\b)npm_[A-Za-z0-9]{36}(?-u:\b)",
            keywords: &["npm_"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("anthropic-key"),
            pattern: r"(?-u:\b)sk-ant-[A-Za-z0-9_-]{20,}",
            keywords: &["sk-ant-"],
            accept: None,
            trim: None,
        },
        Spec {
            // Mixed case and digits required: kebab-case words after "sk-"
            // are not keys.
            kind: Fixed("openai-key"),
            pattern: r"(?-u:\b)sk-[A-Za-z0-9_-]{20,}",
            keywords: &["sk-"],
            accept: Some(openai_like),
            trim: None,
        },
        Spec {
            kind: Fixed("google-api-key"),
            pattern: r"(?-u:\b)AIza[A-Za-z0-9_-]{35}",
            keywords: &["aiza"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("twilio-api-key"),
            pattern: r"(?-u:\b)SK[0-9a-fA-F]{32}(?-u:\b)",
            keywords: &["sk"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("sendgrid-key"),
            pattern: r"(?-u:\b)SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
            keywords: &["sg."],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("heroku-key"),
            pattern: r"(?-u:\b)HRKU-[A-Za-z0-9_-]{20,}",
            keywords: &["hrku-"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("pulumi-token"),
            pattern: r"(?-u:\b)pul-[a-f0-9]{40}(?-u:\b)",
            keywords: &["pul-"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("netlify-token"),
            pattern: r"(?-u:\b)nfp_[A-Za-z0-9]{36,}(?-u:\b)",
            keywords: &["nfp_"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("pypi-token"),
            pattern: r"(?-u:\b)pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
            keywords: &["pypi-ageichlwas5vcmc"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("docker-hub-token"),
            pattern: r"(?-u:\b)dckr_pat_[A-Za-z0-9_-]{20,}",
            keywords: &["dckr_pat_"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("digitalocean-token"),
            pattern: r"(?-u:\b)do[por]_v1_[a-f0-9]{64}(?-u:\b)",
            keywords: &["_v1_"],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("vault-token"),
            pattern: r"(?-u:\b)hv[sbr]\.[A-Za-z0-9_-]{24,}",
            keywords: &["hvs.", "hvb.", "hvr."],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("jwt"),
            pattern: r"(?-u:\b)eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            keywords: &["eyj"],
            accept: None,
            trim: None,
        },
        Spec {
            // `Authorization: Bearer x`, `Authorization: Basic x`, and a bare
            // `Bearer x` as logged by HTTP clients. The scheme word is kept.
            kind: Fixed("auth-header"),
            pattern: concat!(
                r#"(?i)(?:(?-u:\b)(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?"#,
                r"(?:(?:bearer|basic|token|bot|digest|apikey)[ \t]+)?",
                r#"(?P<secret>[^\s"'`]{6,})"#,
                r"|(?-u:\b)bearer[ \t]+(?P<secret2>[A-Za-z0-9._~+/-]{16,}=*))"
            ),
            keywords: &["authorization", "bearer"],
            accept: Some(auth_value),
            trim: None,
        },
        Spec {
            // scheme://user:PASSWORD@host — only the password goes. The
            // password may contain '@'; the last '@' before the path ends it.
            kind: Fixed("url-password"),
            pattern: r#"[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s\x00-\x1f/?#@:"'<>]*:(?P<secret>[^\s\x00-\x1f/?#"'<>]+)@"#,
            keywords: &["://"],
            accept: Some(not_reference),
            trim: None,
        },
        Spec {
            // SQL: `ALTER USER x PASSWORD '…'`, `CREATE ROLE x LOGIN
            // PASSWORD '…'`, `IDENTIFIED BY '…'` (MySQL) or `IDENTIFIED BY
            // pw` (Oracle), `SET PASSWORD FOR x = '…'`, `WITH PASSWORD =
            // '…'` (SQL Server), `PASSWORD('…')`. A bare word counts only
            // after IDENTIFIED BY: "password updated" is a message.
            kind: Fixed("password"),
            pattern: concat!(
                r#"(?i)(?-u:\b)(?P<lead>identified[ \t]+by(?:[ \t]+password)?|set[ \t]+password[ \t]+for[ \t]+\S+|password)"#,
                r#"[ \t]*(?:=[ \t]*)?(?:password[ \t]*\([ \t]*)?"#,
                r#"(?:'(?P<secret>(?:[^'\\\r\n]|\\.|'')*)'|"(?P<secret2>[^"\r\n]*)"|(?P<secret3>[A-Za-z0-9_$#@!%^*+=.-]{4,}))"#
            ),
            keywords: &["password", "identified"],
            accept: Some(sql_password),
            trim: None,
        },
        Spec {
            // More SQL and shells: `IDENTIFIED WITH plugin BY '…'` (MySQL,
            // ClickHouse), MongoDB's `db.changeUserPassword("u", "…")`.
            kind: Fixed("password"),
            pattern: concat!(
                r#"(?i)(?-u:\b)identified[ \t]+with[ \t]+\S+[ \t]+(?:by|as)[ \t]+"#,
                r#"(?:'(?P<secret>(?:[^'\\\r\n]|\\.|'')*)'|"(?P<secret2>[^"\r\n]*)")"#,
                r#"|(?-u:\b)changeUserPassword\([ \t]*["'][^"']*["'][ \t]*,[ \t]*["'](?P<secret3>[^"'\r\n]+)["']"#
            ),
            keywords: &["identified", "changeuserpassword"],
            accept: None,
            trim: None,
        },
        Spec {
            // XML: `<password>…</password>`, and `<add key="ClearTextPassword"
            // value="…"/>` (NuGet, .NET config).
            kind: ByName(classify_assignment),
            pattern: r"(?i)<(?P<name>[A-Za-z0-9_:.-]*(?:password|passwd|passphrase|secret|token|apikey|api_key|credential)[A-Za-z0-9_:.-]*)>(?P<secret>[^<\r\n]+)</",
            keywords: &["pass", "secret", "token", "key", "credential"],
            accept: Some(assignment_value),
            trim: None,
        },
        Spec {
            kind: ByName(classify_assignment),
            pattern: r#"(?i)(?:key|name)[ \t]*=[ \t]*"(?P<name>[A-Za-z0-9_.:-]*(?:password|passwd|secret|token|apikey|api_key|credential)[A-Za-z0-9_.:-]*)"[ \t]+value[ \t]*=[ \t]*"(?P<secret>[^"\r\n]+)""#,
            keywords: &["value"],
            accept: Some(assignment_value),
            trim: None,
        },
        Spec {
            // Server configuration directives: redis `requirepass`,
            // `masterauth`; `password VALUE` lines of other daemons.
            kind: Fixed("password"),
            pattern: r"(?im)^[ \t]*(?:requirepass|masterauth|masterpass|rootpw|auth_pass|admin_password|password)[ \t]+(?P<secret>[^\s#]+)[ \t]*(?:#.*)?\r?$",
            keywords: &[
                "requirepass",
                "masterauth",
                "masterpass",
                "rootpw",
                "auth_pass",
                "password",
            ],
            accept: Some(config_directive),
            trim: None,
        },
        Spec {
            // Tools that take a secret in their own way: redis ACL `>pw`,
            // ssh-keygen -P/-N, influx -t, mc alias set ACCESS SECRET.
            kind: Fixed("password"),
            pattern: concat!(
                r"(?i)(?-u:\b)acl[ \t]+setuser(?-u:\b)[^\n]*?[ \t]>(?P<secret>[^\s]+)",
                r"|(?-u:\b)ssh-keygen(?-u:\b)[^\n|;&]*?[ \t]-P[ \t]+(?P<secret2>[^\s'\[-][^\s]*)",
                r"|(?-u:\b)ssh-keygen(?-u:\b)[^\n|;&]*?[ \t]-N[ \t]+(?P<secret3>[^\s'\[-][^\s]*)",
                r"|(?-u:\b)influx(?-u:\b)[^\n|;&]*?[ \t](?:-t|--token)[ \t]+(?P<secret4>[^\s'\[-][^\s]*)",
                r"|(?-u:\b)mc[ \t]+(?:alias|config[ \t]+host)[ \t]+(?:set|add)[ \t]+\S+[ \t]+\S+[ \t]+(?P<secret5>\S+)[ \t]+(?P<secret6>\S+)"
            ),
            keywords: &["setuser", "ssh-keygen", "influx", "mc "],
            accept: Some(not_reference),
            trim: None,
        },
        Spec {
            // A secret's table row, as `vault kv get` and `vault read` print
            // them: the name, two or more spaces, the value.
            kind: ByName(classify_assignment),
            pattern: r"(?m)^(?P<name>[A-Za-z0-9_.-]*(?:secret|token|pass|pwd|key|credential|auth)[A-Za-z0-9_.-]*)[ \t]{2,}(?P<secret>\S+)[ \t]*\r?$",
            keywords: &[
                "pass",
                "pwd",
                "secret",
                "token",
                "key",
                "credential",
                "auth",
            ],
            accept: Some(assignment_value),
            trim: None,
        },
        Spec {
            // `vault operator init` prints unseal (or recovery) keys and the
            // initial root token.
            kind: Fixed("vault-token"),
            pattern: r"(?im)^[ \t]*(?:unseal key|recovery key|initial root token)(?:[ \t]+\d+)?[ \t]*:[ \t]*(?P<secret>\S+)",
            keywords: &["unseal key", "recovery key", "initial root token"],
            accept: None,
            trim: None,
        },
        Spec {
            // Legacy Vault service tokens: `s.` and 24 characters.
            kind: Fixed("vault-token"),
            pattern: r"(?-u:\b)s\.[A-Za-z0-9]{24}(?-u:\b)",
            keywords: &["s."],
            accept: Some(random_whole),
            trim: None,
        },
        Spec {
            // ~/.pgpass: host:port:database:user:password
            kind: Fixed("password"),
            pattern: r"(?m)^[^\s:#]+:(?:\d{1,5}|\*):[^\s:]+:[^\s:]+:(?P<secret>[^\s]+)[ \t]*\r?$",
            keywords: &[
                ":5432:", ":*:", ":6432:", ":5433:", ":5434:", ":5435:", ":5436:",
            ],
            accept: None,
            trim: None,
        },
        Spec {
            // Cookies: a `Cookie:` or `Set-Cookie:` header's value, and
            // `curl -b 'name=value'`.
            kind: Fixed("cookie"),
            // Each cookie's value goes, its name stays. The first pair
            // follows the header or flag; the next ones follow the marker
            // the pass before left, so the redactor's repeat passes take
            // them one by one. Set-Cookie attributes (Path, Expires, …) stay.
            pattern: concat!(
                r#"(?i)(?:(?:^|[\s"'])(?:set-cookie|cookie)[ \t]*:[ \t]*"#,
                r#"|(?-u:\b)curl(?-u:\b)[^\n|;&]*?[ \t](?:-b|--cookie)(?:[ \t]+|=)['"]?"#,
                r#"|\[REDACTED:cookie\];[ \t]*)(?P<name>[^=;\s'"]+)=(?P<secret>[^;\s'"\[][^;\s'"]*)"#
            ),
            keywords: &["cookie", "curl"],
            accept: Some(cookie_value),
            trim: None,
        },
        Spec {
            // Signed URLs: S3 presigned and GCS signatures, credentials and
            // session tokens; Azure SAS `sig=`.
            kind: Fixed("url-signature"),
            // (Where a shell split an unquoted URL at its `&`, the
            // parameter starts a word of its own: "X-Amz-Signature=…: command
            // not found".)
            pattern: concat!(
                r#"(?i)(?:[?&]|(?-u:\b))(?:x-amz-signature|x-amz-security-token|x-amz-credential|x-goog-signature|x-goog-credential|signature|policy)=(?P<secret>[^&\s"'#<>:]+)"#,
                r#"|(?i)[?&](?:sig|key-pair-id)=(?P<secret2>[^&\s"'#<>]+)"#
            ),
            keywords: &[
                "x-amz-",
                "x-goog-",
                "sig=",
                "signature=",
                "policy=",
                "key-pair-id=",
            ],
            accept: Some(long_value),
            trim: None,
        },
        Spec {
            // A token as a URL's user (Sentry DSN `https://KEY@o1.ingest…`).
            kind: Fixed("url-token"),
            pattern: r"(?i)(?-u:\b)[a-z][a-z0-9+.-]{1,20}://(?P<secret>[A-Za-z0-9_-]{20,})(?::[A-Za-z0-9_-]*)?@",
            keywords: &["://"],
            accept: Some(random_whole),
            trim: None,
        },
        Spec {
            // Webhook URLs whose path is the credential.
            kind: Fixed("webhook"),
            pattern: concat!(
                r"(?i)discord(?:app)?\.com/api/webhooks/\d+/(?P<secret>[A-Za-z0-9_-]{30,})",
                r#"|webhook\.office\.com/webhookb2/(?P<secret2>[^\s"'<>]+)"#,
                r#"|outlook\.office\.com/webhook/(?P<secret3>[^\s"'<>]+)"#,
                r#"|hooks\.zapier\.com/hooks/catch/(?P<secret4>[^\s"'<>]+)"#
            ),
            keywords: &[
                "discord",
                "webhook.office.com",
                "outlook.office.com/webhook",
                "hooks.zapier.com",
            ],
            accept: None,
            trim: None,
        },
        Spec {
            kind: Fixed("age-key"),
            pattern: r"(?-u:\b)AGE-SECRET-KEY-1[0-9A-Z]{58}(?-u:\b)",
            keywords: &["age-secret-key-1"],
            accept: None,
            trim: None,
        },
        Spec {
            // PuTTY .ppk: the private lines (and the MAC over them).
            kind: Fixed("private-key"),
            pattern: concat!(
                r"(?m)Private-Lines:[ \t]*\d+[ \t]*\r?\n(?P<secret>(?:[A-Za-z0-9+/=]{1,128}[ \t]*(?:\r?\n|\z))+)",
                r"|(?m)^Private-MAC:[ \t]*(?P<secret2>[0-9a-fA-F]+)"
            ),
            keywords: &["private-lines:", "private-mac:"],
            accept: None,
            trim: Some(trailing_space),
        },
        Spec {
            // Kubernetes Secret data, whatever its key is called: base64
            // values under `data:` (YAML) or `"data": {` (JSON) of a
            // document of kind Secret.
            kind: Fixed("kubernetes-secret"),
            pattern: concat!(
                r#"(?m)^[ \t]+(?:"[A-Za-z0-9._-]+"|[A-Za-z0-9._-]+)[ \t]*:[ \t]*"#,
                r#"(?:"(?P<secret>[A-Za-z0-9+/]{4,}={0,2})"|(?P<secret2>[A-Za-z0-9+/]{4,}={0,2}))[ \t]*,?[ \t]*\r?$"#
            ),
            keywords: &["secret", ": ", ".dockerc"],
            accept: Some(under_secret_data),
            trim: None,
        },
        Spec {
            kind: Fixed("password"),
            pattern: concat!(
                r"(?-u:\b)(?:ldapsearch|ldapmodify|ldapadd|ldapdelete|ldapwhoami|ldappasswd|ldapcompare|ldapexop|ldapmodrdn)(?-u:\b)[^\n|;&]*?[ \t]-w[ \t]*",
                quoted_or_bare!(r#"[^\s'"]+"#)
            ),
            keywords: &["ldap"],
            accept: Some(not_reference),
            trim: None,
        },
        Spec {
            kind: Fixed("password"),
            pattern: concat!(
                r"(?-u:\b)(?:sqlcmd|bcp|osql|isql|ipmitool)(?-u:\b)[^\n|;&]*?[ \t]-P[ \t]*",
                quoted_or_bare!(r#"[^\s'"]+"#)
            ),
            keywords: &["sqlcmd", "bcp", "osql", "isql", "ipmitool"],
            accept: Some(not_reference),
            trim: None,
        },
        Spec {
            kind: Fixed("password"),
            pattern: concat!(
                r"(?-u:\b)(?:mongosh|mongo|mongodump|mongorestore|mongoexport|mongoimport|mongostat|mongotop|az)(?-u:\b)[^\n|;&]*?[ \t](?:-p|--password)(?:[ \t]+|=)",
                quoted_or_bare!(r#"[^\s'"]+"#)
            ),
            keywords: &["mongo", "az "],
            accept: Some(not_reference),
            trim: None,
        },
        Spec {
            // keytool's passwords, openssl's `-k`/`-pass`, zip/7z `-P`.
            kind: Fixed("password"),
            pattern: concat!(
                r"(?:[ \t]-(?:storepass|keypass|srcstorepass|deststorepass|srckeypass|destkeypass)",
                r"|(?-u:\b)openssl(?-u:\b)[^\n|;&]*?[ \t]-(?:k|pass|kfile)(?:[ \t]|\z)",
                r"|(?-u:\b)(?:zip|7z|7za|7zr|unzip|zipcloak)(?-u:\b)[^\n|;&]*?[ \t]-[Pp])[ \t]*",
                quoted_or_bare!(r#"[^\s'"]+"#)
            ),
            keywords: &["storepass", "keypass", "openssl", "zip", "7z"],
            accept: Some(tool_password),
            trim: None,
        },
        Spec {
            // smbclient -U user%password (and its cousins).
            kind: Fixed("password"),
            pattern: concat!(
                r"(?-u:\b)(?:smbclient|rpcclient|smbmap|smbget|smbcacls|crackmapexec|nxc|mount\.cifs)(?-u:\b)[^\n|;&]*?",
                r#"(?:-U|--user(?:name)?)(?:[ \t]+|=)['"]?[^%\s'"]+%(?P<secret>[^\s'"]+)"#
            ),
            keywords: &["smb", "rpcclient", "crackmapexec", "nxc", "cifs"],
            accept: None,
            trim: None,
        },
        Spec {
            // htpasswd -b FILE USER PASSWORD (-nb USER PASSWORD).
            kind: Fixed("password"),
            pattern: concat!(
                r"(?-u:\b)htpasswd(?-u:\b)(?:[ \t]+-[a-zA-Z]*n[a-zA-Z]*b[a-zA-Z]*|[ \t]+-[a-zA-Z]*b[a-zA-Z]*n[a-zA-Z]*)(?:[ \t]+-\S+)*[ \t]+\S+[ \t]+",
                quoted_or_bare!(r#"[^\s'"]+"#),
                r"|(?-u:\b)htpasswd(?-u:\b)[ \t]+-[a-zA-Z]*b[a-zA-Z]*(?:[ \t]+-\S+)*[ \t]+\S+[ \t]+\S+[ \t]+",
                r#"(?:'(?P<secret4>[^'\r\n]*)'|"(?P<secret5>[^"\r\n]*)"|(?P<secret6>[^\s'"]+))"#
            ),
            keywords: &["htpasswd"],
            accept: Some(not_reference),
            trim: None,
        },
        Spec {
            // echo PASSWORD | sudo -S …  (and passwd --stdin, chpasswd).
            kind: Fixed("password"),
            pattern: concat!(
                r"(?-u:\b)(?:echo|printf)[ \t]+(?:-[a-z]+[ \t]+)?",
                quoted_or_bare!(r#"[^\s'"|]+"#),
                r"[ \t]*\|[ \t]*(?:sudo(?-u:\b)[^\n|;&]*?[ \t]-[a-zA-Z]*S|(?:sudo[ \t]+)?(?:passwd[ \t]+--stdin|chpasswd)|docker[ \t]+login|podman[ \t]+login|helm[ \t]+registry[ \t]+login|oras[ \t]+login)"
            ),
            keywords: &["sudo", "passwd", "login"],
            accept: Some(not_reference),
            trim: None,
        },
        Spec {
            // Positional secrets: `vault login TOKEN`, `rabbitmqctl
            // add_user USER PASS`, `wpa_passphrase SSID PASS`, `nmcli …
            // password PASS`, `aws configure set aws_secret_access_key X`,
            // `net user NAME PASS`.
            kind: Fixed("password"),
            pattern: concat!(
                r"(?:(?-u:\b)vault[ \t]+login(?:[ \t]+-[^\s=]+=\S+)*[ \t]+",
                r"|(?-u:\b)rabbitmqctl[ \t]+(?:add_user|change_password)[ \t]+\S+[ \t]+",
                r"|(?-u:\b)wpa_passphrase[ \t]+\S+[ \t]+",
                r"|(?-u:\b)nmcli(?-u:\b)[^\n|;&]*?[ \t](?:password|wifi-sec\.psk|802-1x\.password)[ \t]+",
                r"|(?-u:\b)aws[ \t]+configure[ \t]+set[ \t]+(?:aws_secret_access_key|aws_session_token)[ \t]+",
                r"|(?-u:\b)net[ \t]+user[ \t]+\S+[ \t]+)",
                quoted_or_bare!(r#"[^\s'"=]+"#)
            ),
            keywords: &[
                "vault",
                "rabbitmqctl",
                "wpa_passphrase",
                "nmcli",
                "aws configure",
                "net user",
            ],
            accept: Some(positional_secret),
            trim: None,
        },
        Spec {
            // Tools whose password flag has no `--password` spelling:
            // `mysql -pX`, `sshpass -p X`, `curl -u user:X`, `redis-cli -a X`,
            // `openssl … -passin pass:X`, `docker login -p X`; and netrc.
            kind: Fixed("password"),
            pattern: concat!(
                r"(?-u:\b)(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump)(?-u:\b)[^\n|;&]*?[ \t]-p",
                r#"(?:'(?P<secret1>[^'\r\n]*)'|"(?P<secret2>[^"\r\n]*)"|(?P<secret3>[^\s'"]+))"#,
                r"|(?-u:\b)sshpass[ \t]+-p[ \t]*",
                r#"(?:'(?P<secret4>[^'\r\n]*)'|"(?P<secret5>[^"\r\n]*)"|(?P<secret6>[^\s'"]+))"#,
                r"|(?-u:\b)curl(?-u:\b)[^\n|;&]*?[ \t](?:-u|--user)(?:[ \t]+|=)?",
                r#"(?:"[^":\r\n]*:(?P<secret7>[^"\r\n]+)"|'[^':\r\n]*:(?P<secret8>[^'\r\n]+)'|[^:\s"']+:(?P<secret9>[^\s"']+))"#,
                r"|(?-u:\b)redis-cli(?-u:\b)[^\n|;&]*?[ \t]-a[ \t]+",
                r#"(?:'(?P<secret10>[^'\r\n]*)'|"(?P<secret11>[^"\r\n]*)"|(?P<secret12>[^\s'"]+))"#,
                r#"|-pass(?:in|out|word)?[ \t]+['"]?pass:(?P<secret13>[^\s'"]+)"#,
                r"|(?-u:\b)(?:docker|podman|buildah|skopeo|oras)(?-u:\b)[^\n|;&]*?[ \t]login(?-u:\b)[^\n|;&]*?[ \t]-p[ \t]+",
                r#"(?:'(?P<secret14>[^'\r\n]*)'|"(?P<secret15>[^"\r\n]*)"|(?P<secret16>[^\s'"]+))"#,
                // ~/.netrc: `machine h login u password p`, or an indented
                // `password p` line of a multi-line entry.
                r"|(?-u:\b)machine[ \t]+[^\s]+[^\n]*?[ \t]password[ \t]+(?P<secret17>[^\s]+)",
                r"|(?m:^)[ \t]+password[ \t]+(?P<secret18>[^\s]+)[ \t]*(?m:$)"
            ),
            keywords: &[
                "mysql",
                "mariadb",
                "sshpass",
                "curl",
                "redis-cli",
                "pass:",
                "login",
                "password",
            ],
            accept: Some(not_reference),
            trim: None,
        },
        Spec {
            // `--password X`, `--api-key=X`, `-token X`.
            kind: ByName(classify_flag),
            pattern: concat!(
                r#"(?im)(?:^|[\s"'])(?P<name>--?[A-Za-z0-9_-]*(?:pass|pwd|secret|token|key|credential|auth)[A-Za-z0-9_-]*)"#,
                r"(?:=|[ \t]+)",
                quoted_or_bare!(r#"[^\s\x00-\x1f\x7f"'`<>\[][^\s\x00-\x1f\x7f"'`<>]*"#)
            ),
            keywords: &[
                "pass",
                "pwd",
                "secret",
                "token",
                "key",
                "credential",
                "auth",
            ],
            accept: Some(flag_value),
            trim: Some(bare_value_end),
        },
        Spec {
            // `NAME=value`, `export NAME="v w"`, `?token=x&`, `password = "x"`.
            kind: ByName(classify_assignment),
            pattern: concat!(
                r"(?im)(?:^|[^A-Za-z0-9_.-])(?P<name>[A-Za-z0-9_.-]*(?:secret|token|pass|pwd|key|credential|auth)[A-Za-z0-9_.-]*)",
                r#"["']?[ \t]*=[ \t]*"#,
                quoted_or_bare!(r#"[^\s\x00-\x1f\x7f"'`<>{},\[][^\s\x00-\x1f\x7f"'`<>{},]*"#)
            ),
            keywords: &[
                "pass",
                "pwd",
                "secret",
                "token",
                "key",
                "credential",
                "auth",
            ],
            accept: Some(assignment_value),
            trim: Some(bare_value_end),
        },
        Spec {
            // A YAML block scalar: `token: >-` or `key: |` and the value on
            // the indented lines below.
            kind: ByName(classify_assignment),
            pattern: concat!(
                r"(?m)^[ \t]*(?P<name>[A-Za-z0-9_.-]*(?:secret|token|pass|pwd|key|credential|auth)[A-Za-z0-9_.-]*)",
                r"[ \t]*:[ \t]*[|>][-+]?[0-9]?[ \t]*\r?\n(?P<secret>(?:[ \t]+\S[^\r\n]*(?:\r?\n|\z))+)"
            ),
            keywords: &[
                "pass",
                "pwd",
                "secret",
                "token",
                "key",
                "credential",
                "auth",
            ],
            accept: Some(block_value),
            trim: Some(trailing_space),
        },
        Spec {
            // `NAME: value` (env/yaml/headers) and `"name": "value"` (JSON).
            // An unquoted value runs to the end of the line (yaml scalars may
            // contain spaces), stopping at `#`, `,` and brackets.
            kind: ByName(classify_assignment),
            pattern: concat!(
                r"(?im)(?:^|[^A-Za-z0-9_.-])(?P<name>[A-Za-z0-9_.-]*(?:secret|token|pass|pwd|key|credential|auth)[A-Za-z0-9_.-]*)",
                r#"(?:["'][ \t]*:[ \t]*|:[ \t]+)"#,
                r#"(?:"(?P<secret>(?:[^"\\\r\n]|\\.)*)(?:"|\r|$)"#,
                r#"|'(?P<secret2>(?:[^'\r\n]|'')*)(?:'|\r|$)"#,
                r#"|(?P<secret3>[^\s\x00-\x1f\x7f"'`,{}\[\]#][^\s\x00-\x1f\x7f"'`,{}#]*(?:[ \t]+[^\s\x00-\x1f\x7f"'`,{}\[\]#]+)*))"#
            ),
            keywords: &[
                "pass",
                "pwd",
                "secret",
                "token",
                "key",
                "credential",
                "auth",
            ],
            accept: Some(not_a_label),
            trim: Some(closing_punct),
        },
    ]
}
