//! The secrets corpus: realistic secrets in the public formats of the
//! gitleaks rules, the trufflehog detectors and vendors' docs
//! (`secrets/formats.toml`), each generated fresh and placed in every context
//! an operator meets it in; and look-alikes that must survive
//! (`secrets/lookalikes.toml`).
//!
//! [`instances`] builds the texts; [`score`] runs a redactor over them and
//! reports recall per family and the false-alarm rate. The end-to-end test
//! in `tacit-cli` records the same texts through the real PTY and searches
//! every byte tacit wrote instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

pub fn secrets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("secrets")
}

#[derive(Debug, Clone, Deserialize)]
pub struct Format {
    pub family: String,
    pub name: String,
    pub vendor: String,
    pub template: String,
    #[serde(default)]
    pub bare: bool,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub prints: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Lookalike {
    pub family: String,
    pub text: String,
    pub keep: String,
}

#[derive(Deserialize)]
struct Formats {
    format: Vec<Format>,
}

#[derive(Deserialize)]
struct Lookalikes {
    lookalike: Vec<Lookalike>,
}

pub fn formats() -> Result<Vec<Format>> {
    let path = secrets_dir().join("formats.toml");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    Ok(toml::from_str::<Formats>(&text)
        .with_context(|| path.display().to_string())?
        .format)
}

pub fn lookalikes() -> Result<Vec<Lookalike>> {
    let path = secrets_dir().join("lookalikes.toml");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    Ok(toml::from_str::<Lookalikes>(&text)
        .with_context(|| path.display().to_string())?
        .lookalike)
}

/// A small deterministic generator (xorshift64*), so a failing case can be
/// reproduced from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick(&mut self, set: &[u8]) -> char {
        set[(self.next_u64() % set.len() as u64) as usize] as char
    }
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";

fn class(name: &str) -> Option<Vec<u8>> {
    let alnum = [UPPER, LOWER, DIGITS].concat();
    Some(match name {
        "A" => UPPER.to_vec(),
        "a" => LOWER.to_vec(),
        "d" => DIGITS.to_vec(),
        "h" => b"0123456789abcdef".to_vec(),
        "H" => b"0123456789ABCDEF".to_vec(),
        "an" => alnum,
        "al" => [LOWER, DIGITS].concat(),
        "AN" => [UPPER, DIGITS].concat(),
        "b64" => [alnum.as_slice(), b"+/"].concat(),
        "b64u" => [alnum.as_slice(), b"_-"].concat(),
        "an_" => [alnum.as_slice(), b"_"].concat(),
        "an-" => [alnum.as_slice(), b"-"].concat(),
        _ => return None,
    })
}

fn base64(data: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Expands a template: `{CLASS:N}`, `{uuid}`, `{b64of:TEXT}`, literals, and
/// `\n`. Returns the text and the secrets in it: each `[[…]]` part, or the
/// whole text when none is marked.
pub fn expand(template: &str, rng: &mut Rng) -> Result<(String, Vec<String>)> {
    let (text, secrets, _) = expand_marked(template, rng)?;
    Ok((text, secrets))
}

/// [`expand`], and for each secret the pieces of it that were generated at
/// random (its literal parts, a vendor's prefix, are public).
pub fn expand_marked(
    template: &str,
    rng: &mut Rng,
) -> Result<(String, Vec<String>, Vec<Vec<String>>)> {
    let mut out = String::new();
    let mut secret_start: Option<usize> = None;
    let mut secrets: Vec<String> = Vec::new();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut marked: Vec<(usize, usize)> = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[[") {
            secret_start = Some(out.len());
            rest = r;
        } else if let Some(r) = rest.strip_prefix("]]") {
            let s = secret_start.take().context("`]]` without `[[`")?;
            secrets.push(out[s..].to_string());
            marked.push((s, out.len()));
            rest = r;
        } else if let Some(r) = rest.strip_prefix("\\n") {
            out.push('\n');
            rest = r;
        } else if let Some(r) = rest.strip_prefix('{') {
            let end = r.find('}').context("unclosed `{`")?;
            let spec = &r[..end];
            rest = &r[end + 1..];
            let from = out.len();
            if spec == "uuid" {
                let h: String = (0..32).map(|_| rng.pick(b"0123456789abcdef")).collect();
                out.push_str(&format!(
                    "{}-{}-4{}-{}{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[13..16],
                    rng.pick(b"89ab"),
                    &h[17..20],
                    &h[20..32]
                ));
            } else if let Some(text) = spec.strip_prefix("b64of:") {
                out.push_str(&base64(text.as_bytes()));
            } else {
                let (c, n) = spec.split_once(':').context("`{CLASS:N}` expected")?;
                let set = class(c).with_context(|| format!("unknown class {c}"))?;
                let n: usize = n.parse().with_context(|| format!("bad length in {spec}"))?;
                for _ in 0..n {
                    out.push(rng.pick(&set));
                }
            }
            if !spec.starts_with("b64of:") {
                spans.push((from, out.len()));
            }
        } else {
            let c = rest.chars().next().expect("not empty");
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if secrets.is_empty() {
        secrets.push(out.clone());
        marked.push((0, out.len()));
    }
    // Adjacent random spans join into one piece.
    let random: Vec<Vec<String>> = marked
        .iter()
        .map(|&(ms, me)| {
            let mut pieces: Vec<(usize, usize)> = Vec::new();
            for &(a, b) in &spans {
                let (a, b) = (a.max(ms), b.min(me));
                if a >= b {
                    continue;
                }
                match pieces.last_mut() {
                    Some(last) if last.1 == a => last.1 = b,
                    _ => pieces.push((a, b)),
                }
            }
            pieces.iter().map(|&(a, b)| out[a..b].to_string()).collect()
        })
        .collect();
    Ok((out, secrets, random))
}

/// Where a secret stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    /// Printed by a command (what `cat` of a file shows).
    Output,
    /// Typed as (part of) a command line.
    Command,
    /// Written by the operator in a note or an answer.
    Prose,
    /// Printed by a command that prints secrets (`gh auth token`).
    SecretOutput,
}

/// One secret in one context.
#[derive(Debug, Clone)]
pub struct Instance {
    pub family: String,
    pub format: String,
    pub context: &'static str,
    pub channel: Channel,
    pub text: String,
    pub secrets: Vec<String>,
    /// The generated (random) pieces of the secrets: a leak shows as one of
    /// them, or 8 characters of one, in what was stored.
    pub random: Vec<String>,
}

fn env_name(vendor: &str) -> String {
    let mut n: String = vendor
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    n = n.trim_matches('_').to_string();
    if n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()) {
        n = format!("APP_{n}");
    }
    n
}

/// Every format in every context that fits it. The secret differs in each
/// instance; `seed` makes the corpus reproducible.
pub fn instances(formats: &[Format], seed: u64) -> Result<Vec<Instance>> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for f in formats {
        let marked = f.template.contains("[[");
        let mut add = |context: &'static str,
                       channel: Channel,
                       rng: &mut Rng,
                       wrap: &dyn Fn(&str) -> String|
         -> Result<()> {
            let (text, raw, pieces) = expand_marked(&f.template, rng)?;
            let text = wrap(&text);
            // The secret as this context wrote it (quoted, escaped,
            // encoded): a leak of that form is a leak too.
            let mut secrets: Vec<String> = Vec::new();
            for s in &raw {
                for form in [
                    s.clone(),
                    percent_encode(s),
                    s.replace('\'', "''"),
                    s.replace('\'', "'\\''"),
                    s.replace('\\', "\\\\").replace('"', "\\\""),
                ] {
                    if (form == *s || text.contains(&form)) && !secrets.contains(&form) {
                        secrets.push(form);
                    }
                }
            }
            out.push(Instance {
                family: f.family.clone(),
                format: f.name.clone(),
                context,
                channel,
                text,
                secrets,
                random: pieces.into_iter().flatten().collect(),
            });
            Ok(())
        };
        if marked {
            // The template is the whole line as it appears: printed (by a
            // command that prints secrets, when it says so), and for commands
            // and statements also typed.
            let channel = match (f.family.as_str(), &f.prints) {
                ("prose", _) => Channel::Prose,
                (_, Some(_)) => Channel::SecretOutput,
                _ => Channel::Output,
            };
            add("as-is", channel, &mut rng, &|t| t.to_string())?;
            if matches!(f.family.as_str(), "password-flag" | "sql" | "signed-url") {
                add("typed", Channel::Command, &mut rng, &|t| t.to_string())?;
            }
            if f.family == "prose" {
                add("answer", Channel::Prose, &mut rng, &|t| {
                    format!("Rotated it. {t}")
                })?;
            }
            continue;
        }
        let name = env_name(&f.vendor);
        let kind = if f.family == "named" && f.name.contains("password") {
            "PASSWORD"
        } else {
            "TOKEN"
        };
        if f.bare {
            add("bare", Channel::Output, &mut rng, &|t| t.to_string())?;
            if f.prints.is_some() {
                add("printed", Channel::SecretOutput, &mut rng, &|t| {
                    t.to_string()
                })?;
            }
            add("in-log", Channel::Output, &mut rng, &|t| {
                format!(
                    "2026-11-29T10:15:02Z INFO client configured with credential {t} for upload"
                )
            })?;
        }
        // Each context writes the value as that format would: quoted where
        // it has spaces or quotes, percent-encoded in a URL.
        let lname = format!(
            "{}_{}",
            name.to_ascii_lowercase(),
            kind.to_ascii_lowercase()
        );
        add("env", Channel::Output, &mut rng, &|t| {
            format!("{name}_{kind}={}", env_quote(t))
        })?;
        add("export", Channel::Command, &mut rng, &|t| {
            format!("export {name}_{kind}={}", shell_quote(t))
        })?;
        add("yaml", Channel::Output, &mut rng, &|t| {
            format!("  {lname}: {}", yaml_quote(t))
        })?;
        add("json", Channel::Output, &mut rng, &|t| {
            format!(
                "{{\"{lname}\": \"{}\", \"region\": \"eu\"}}",
                t.replace('\\', "\\\\").replace('"', "\\\"")
            )
        })?;
        add("flag", Channel::Command, &mut rng, &|t| {
            format!(
                "deploy-tool --{} {} --region eu",
                lname.replace('_', "-"),
                shell_quote(t)
            )
        })?;
        add("url", Channel::Output, &mut rng, &|t| {
            format!(
                "https://ci-bot:{}@git.example.com/ops/infra.git",
                percent_encode(t)
            )
        })?;
        add("multiline", Channel::Output, &mut rng, &|t| {
            format!("{lname}: >-\n  {t}\nregion: eu")
        })?;
        // A bearer token has no spaces or quotes; a passphrase is not one.
        let sample = expand(&f.template, &mut Rng::new(7))?.0;
        if !sample.contains([' ', '\'', '"']) {
            add("header", Channel::Command, &mut rng, &|t| {
                format!("curl -H 'Authorization: Bearer {t}' https://api.example.com/v1/me")
            })?;
        }
        add("note", Channel::Prose, &mut rng, &|t| {
            format!("the new {} {} is {t}", f.vendor, kind.to_ascii_lowercase())
        })?;
    }
    Ok(out)
}

/// A value as a `.env` line holds it: bare when it can be, else in double
/// quotes with `\` and `"` escaped.
fn env_quote(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_graphic() && !"\"'\\#$`".contains(c))
    {
        v.to_string()
    } else {
        format!(
            "\"{}\"",
            v.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('$', "\\$")
                .replace('`', "\\`")
        )
    }
}

/// A value as a shell word: in single quotes, a quote written `'\''`.
fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// A YAML scalar: plain when safe, else single-quoted (`''` for a quote).
fn yaml_quote(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./+=".contains(c))
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "''"))
    }
}

/// RFC 3986: unreserved characters stay, the rest are %XX.
fn percent_encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// How a redactor did on the corpus.
#[derive(Debug, Default)]
pub struct Scores {
    /// family → (caught, total)
    pub families: BTreeMap<String, (usize, usize)>,
    /// context → (caught, total)
    pub contexts: BTreeMap<String, (usize, usize)>,
    /// What slipped through: (format, context, text after redaction).
    pub missed: Vec<(String, String, String)>,
    pub lookalikes_total: usize,
    /// Look-alikes altered: (family, text after redaction).
    pub altered: Vec<(String, String)>,
}

impl Scores {
    pub fn recall(&self) -> f64 {
        let (c, t) = self
            .families
            .values()
            .fold((0, 0), |(a, b), (c, t)| (a + c, b + t));
        c as f64 / t.max(1) as f64
    }

    pub fn false_alarm_rate(&self) -> f64 {
        self.altered.len() as f64 / self.lookalikes_total.max(1) as f64
    }
}

/// How many characters of a secret in a row count as a leak: enough that a
/// random match in megabytes of stored hex (the journal's hash chain) is
/// practically impossible (16^10), few enough to catch a cut-off value.
pub const LEAK_RUN: usize = 10;

/// Everything tacit stored, indexed by its pieces of [`LEAK_RUN`] bytes, so
/// that thousands of secrets can be looked for in megabytes quickly.
pub struct Stored {
    text: String,
    pieces: std::collections::HashSet<[u8; LEAK_RUN]>,
}

impl Stored {
    pub fn new(text: String) -> Stored {
        let pieces = text
            .as_bytes()
            .windows(LEAK_RUN)
            .map(|w| w.try_into().expect("LEAK_RUN bytes"))
            .collect();
        Stored { text, pieces }
    }

    /// Whether an instance's secret is in this text: whole (in any of the
    /// forms its context wrote it), or [`LEAK_RUN`] generated characters in
    /// a row.
    pub fn holds(&self, i: &Instance) -> bool {
        i.secrets.iter().any(|s| self.text.contains(s.as_str()))
            || i.random.iter().any(|p| {
                p.as_bytes().windows(LEAK_RUN).any(|w| {
                    let key: [u8; LEAK_RUN] = w.try_into().expect("LEAK_RUN bytes");
                    self.pieces.contains(&key)
                })
            })
    }
}

/// Runs `redact(channel, text)` over every instance and look-alike.
pub fn score(
    instances: &[Instance],
    lookalikes: &[Lookalike],
    redact: &dyn Fn(Channel, &str) -> String,
) -> Scores {
    let mut s = Scores::default();
    for i in instances {
        let out = redact(i.channel, &i.text);
        let caught = !Stored::new(out.clone()).holds(i);
        for (map, key) in [
            (&mut s.families, &i.family),
            (&mut s.contexts, &i.context.to_string()),
        ] {
            let e = map.entry(key.clone()).or_insert((0, 0));
            e.1 += 1;
            if caught {
                e.0 += 1;
            }
        }
        if !caught {
            s.missed
                .push((i.format.clone(), i.context.to_string(), out));
        }
    }
    s.lookalikes_total = lookalikes.len();
    for l in lookalikes {
        let out = redact(Channel::Output, &l.text);
        let typed = redact(Channel::Command, &l.text);
        if !out.contains(&l.keep) || !typed.contains(&l.keep) {
            s.altered.push((l.family.clone(), out));
        }
    }
    s
}
