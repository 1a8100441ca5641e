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

use crate::names::{NAME_KINDS, classify_assignment, classify_flag, plausible_value};

/// How a rule names its marker.
#[derive(Clone, Copy)]
pub(crate) enum SpecKind {
    Fixed(&'static str),
    /// Kind decided from the `name` capture group; `None` rejects the match.
    ByName(fn(&str) -> Option<&'static str>),
}

/// Extra check on a match, given the captures and the text to be redacted.
pub(crate) type Accept = fn(&Captures<'_>, &str) -> bool;

pub(crate) struct Spec {
    pub kind: SpecKind,
    pub pattern: &'static str,
    pub keywords: &'static [&'static str],
    pub accept: Option<Accept>,
}

/// Kinds a `ByName` rule can produce, for `Redactor::rule_names`.
pub(crate) const BY_NAME_KINDS: &[&str] = NAME_KINDS;

fn has_upper_lower_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes().any(|b| b.is_ascii_digit())
}

fn no_begin_inside(_: &Captures<'_>, s: &str) -> bool {
    !s.contains("-----BEGIN")
}

fn openai_like(c: &Captures<'_>, _: &str) -> bool {
    has_upper_lower_digit(&c[0])
}

fn auth_value(c: &Captures<'_>, s: &str) -> bool {
    if c.name("secret2").is_some() {
        // A bare "Bearer word" in prose is not a token; real ones have digits.
        return s.bytes().any(|b| b.is_ascii_digit());
    }
    !matches!(
        s.to_ascii_lowercase().as_str(),
        "bearer" | "basic" | "token" | "digest" | "apikey"
    )
}

fn not_reference(_: &Captures<'_>, s: &str) -> bool {
    !s.is_empty() && !s.starts_with('$')
}

fn assignment_value(_: &Captures<'_>, s: &str) -> bool {
    plausible_value(s)
}

fn flag_value(_: &Captures<'_>, s: &str) -> bool {
    !s.starts_with('-') && plausible_value(s)
}

/// Value alternatives shared by `=`-style assignments and flags: a double- or
/// single-quoted value (up to the closing quote, or end of line if the quote
/// is never closed) or a bare word.
macro_rules! quoted_or_bare {
    ($bare:literal) => {
        concat!(
            r#"(?:"(?P<secret>(?:[^"\\\r\n]|\\.)*)(?:"|\r|$)"#,
            r#"|'(?P<secret2>[^'\r\n]*)(?:'|\r|$)"#,
            r#"|(?P<secret3>"#,
            $bare,
            r#"))"#
        )
    };
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
        },
        Spec {
            // The tail of a key whose BEGIN line was in an earlier chunk.
            kind: Fixed("private-key"),
            pattern: r"\A(?s:.*?)-----END[ A-Z0-9_-]{0,64}PRIVATE KEY(?: BLOCK)?-----",
            keywords: &["-----end"],
            accept: Some(no_begin_inside),
        },
        Spec {
            kind: Fixed("aws-access-key"),
            pattern: r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?-u:\b)",
            keywords: &["akia", "asia", "abia", "acca", "a3t"],
            accept: None,
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
        },
        Spec {
            kind: Fixed("github-token"),
            pattern: r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})(?-u:\b)",
            keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
            accept: None,
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
        },
        Spec {
            kind: Fixed("slack-token"),
            pattern: r"(?-u:\b)xox(?:[abposr]|e(?:\.xox[bp])?)-[A-Za-z0-9-]{10,}",
            keywords: &["xox"],
            accept: None,
        },
        Spec {
            // Keep the host so the command still says "post to Slack".
            kind: Fixed("slack-webhook"),
            pattern: r"(?i)hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[A-Za-z0-9+/_-]{16,})",
            keywords: &["hooks.slack.com"],
            accept: None,
        },
        Spec {
            kind: Fixed("stripe-key"),
            pattern: r"(?-u:\b)(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,}(?-u:\b)",
            keywords: &["k_live_", "k_test_", "k_prod_"],
            accept: None,
        },
        Spec {
            kind: Fixed("npm-token"),
            pattern: r"(?-u:\b)npm_[A-Za-z0-9]{36}(?-u:\b)",
            keywords: &["npm_"],
            accept: None,
        },
        Spec {
            kind: Fixed("anthropic-key"),
            pattern: r"(?-u:\b)sk-ant-[A-Za-z0-9_-]{20,}",
            keywords: &["sk-ant-"],
            accept: None,
        },
        Spec {
            // Mixed case and digits required: kebab-case words after "sk-"
            // are not keys.
            kind: Fixed("openai-key"),
            pattern: r"(?-u:\b)sk-[A-Za-z0-9_-]{20,}",
            keywords: &["sk-"],
            accept: Some(openai_like),
        },
        Spec {
            kind: Fixed("google-api-key"),
            pattern: r"(?-u:\b)AIza[A-Za-z0-9_-]{35}",
            keywords: &["aiza"],
            accept: None,
        },
        Spec {
            kind: Fixed("twilio-api-key"),
            pattern: r"(?-u:\b)SK[0-9a-fA-F]{32}(?-u:\b)",
            keywords: &["sk"],
            accept: None,
        },
        Spec {
            kind: Fixed("sendgrid-key"),
            pattern: r"(?-u:\b)SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
            keywords: &["sg."],
            accept: None,
        },
        Spec {
            kind: Fixed("heroku-key"),
            pattern: r"(?-u:\b)HRKU-[A-Za-z0-9_-]{20,}",
            keywords: &["hrku-"],
            accept: None,
        },
        Spec {
            kind: Fixed("pulumi-token"),
            pattern: r"(?-u:\b)pul-[a-f0-9]{40}(?-u:\b)",
            keywords: &["pul-"],
            accept: None,
        },
        Spec {
            kind: Fixed("netlify-token"),
            pattern: r"(?-u:\b)nfp_[A-Za-z0-9]{36,}(?-u:\b)",
            keywords: &["nfp_"],
            accept: None,
        },
        Spec {
            kind: Fixed("pypi-token"),
            pattern: r"(?-u:\b)pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
            keywords: &["pypi-ageichlwas5vcmc"],
            accept: None,
        },
        Spec {
            kind: Fixed("docker-hub-token"),
            pattern: r"(?-u:\b)dckr_pat_[A-Za-z0-9_-]{20,}",
            keywords: &["dckr_pat_"],
            accept: None,
        },
        Spec {
            kind: Fixed("digitalocean-token"),
            pattern: r"(?-u:\b)do[por]_v1_[a-f0-9]{64}(?-u:\b)",
            keywords: &["_v1_"],
            accept: None,
        },
        Spec {
            kind: Fixed("vault-token"),
            pattern: r"(?-u:\b)hv[sbr]\.[A-Za-z0-9_-]{24,}",
            keywords: &["hvs.", "hvb.", "hvr."],
            accept: None,
        },
        Spec {
            kind: Fixed("jwt"),
            pattern: r"(?-u:\b)eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            keywords: &["eyj"],
            accept: None,
        },
        Spec {
            // `Authorization: Bearer x`, `Authorization: Basic x`, and a bare
            // `Bearer x` as logged by HTTP clients. The scheme word is kept.
            kind: Fixed("auth-header"),
            pattern: concat!(
                r#"(?i)(?:(?-u:\b)(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?"#,
                r"(?:(?:bearer|basic|token|bot|digest|apikey)[ \t]+)?",
                r"(?P<secret>[A-Za-z0-9._~+/=-]{6,})",
                r"|(?-u:\b)bearer[ \t]+(?P<secret2>[A-Za-z0-9._~+/-]{16,}=*))"
            ),
            keywords: &["authorization", "bearer"],
            accept: Some(auth_value),
        },
        Spec {
            // scheme://user:PASSWORD@host — only the password goes. The
            // password may contain '@'; the last '@' before the path ends it.
            kind: Fixed("url-password"),
            pattern: r#"[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s\x00-\x1f/?#@:"'<>]*:(?P<secret>[^\s\x00-\x1f/?#"'<>]+)@"#,
            keywords: &["://"],
            accept: Some(not_reference),
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
                r#"|-pass(?:in|out|word)?[ \t]+pass:(?P<secret13>[^\s'"]+)"#,
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
        },
        Spec {
            // `--password X`, `--api-key=X`, `-token X`.
            kind: ByName(classify_flag),
            pattern: concat!(
                r#"(?im)(?:^|[\s"'])(?P<name>--?[A-Za-z0-9_-]*(?:pass|pwd|secret|token|key|credential)[A-Za-z0-9_-]*)"#,
                r"(?:=|[ \t]+)",
                quoted_or_bare!(r#"[^\s\x00-\x1f\x7f"'`;|&<>()]+"#)
            ),
            keywords: &["pass", "pwd", "secret", "token", "key", "credential"],
            accept: Some(flag_value),
        },
        Spec {
            // `NAME=value`, `export NAME="v w"`, `?token=x&`, `password = "x"`.
            kind: ByName(classify_assignment),
            pattern: concat!(
                r"(?im)(?:^|[^A-Za-z0-9_.-])(?P<name>[A-Za-z0-9_.-]*(?:secret|token|pass|pwd|key|credential)[A-Za-z0-9_.-]*)",
                r#"["']?[ \t]*=[ \t]*"#,
                quoted_or_bare!(r#"[^\s\x00-\x1f\x7f"'`;|&<>(){},]+"#)
            ),
            keywords: &["pass", "pwd", "secret", "token", "key", "credential"],
            accept: Some(assignment_value),
        },
        Spec {
            // `NAME: value` (env/yaml/headers) and `"name": "value"` (JSON).
            // An unquoted value runs to the end of the line (yaml scalars may
            // contain spaces), stopping at `#`, `,` and brackets.
            kind: ByName(classify_assignment),
            pattern: concat!(
                r"(?im)(?:^|[^A-Za-z0-9_.-])(?P<name>[A-Za-z0-9_.-]*(?:secret|token|pass|pwd|key|credential)[A-Za-z0-9_.-]*)",
                r#"(?:["'][ \t]*:[ \t]*|:[ \t]+)"#,
                r#"(?:"(?P<secret>(?:[^"\\\r\n]|\\.)*)(?:"|\r|$)"#,
                r#"|'(?P<secret2>[^'\r\n]*)(?:'|\r|$)"#,
                r#"|(?P<secret3>[^\s\x00-\x1f\x7f"'`,{}\[\]#]+(?:[ \t]+[^\s\x00-\x1f\x7f"'`,{}\[\]#]+)*))"#
            ),
            keywords: &["pass", "pwd", "secret", "token", "key", "credential"],
            accept: Some(assignment_value),
        },
    ]
}
