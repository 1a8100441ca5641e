//! Deciding whether a variable, key or flag *name* holds a secret.
//!
//! The assignment rules (`NAME=value`, `name: value`, `--name value`) match
//! any name containing one of a few keywords; this module then looks at the
//! name's words to keep the useful hits (`DB_PASSWORD`, `apiKey`,
//! `GITHUB_TOKEN`) and drop the look-alikes (`KEYBOARD`, `TOKENIZER_MODEL`,
//! `SSH_KEY_PATH`, `PWD`). It also picks the marker kind from the name, so a
//! drafter sees `password` rather than a generic "secret" for `DB_PASSWORD`.
//!
//! Matching is by word, not substring. A name is split into lowercase words
//! at `_`, `-`, `.` and camelCase boundaries (`MY_API_KEY` → `my api key`,
//! `apiKey` → `api key`). A word counts when it:
//! - ends with `password`, `passwd`, `passphrase`, or is `pass`/`pwd`
//!   (kind `password`);
//! - ends with `secret(s)` or `credential(s)` (kind `secret`);
//! - ends with `token(s)` (kind `token`);
//! - is `key`, or is a known compound such as `apikey`, `secretkey`,
//!   `privatekey` (kind `key`). So `KEYBOARD`, `MONKEY` and `keycloak` do not
//!   count.
//!
//! A name is *not* a secret when its last word says it describes the secret
//! rather than holding it (`_FILE`, `_PATH`, `_ID`, `_URL`, `_TTL`, …) or is
//! a plural naming a collection (`secrets: inherit`), when
//! it is about a public key, or for key-words that are database/data-structure
//! vocabulary (`PRIMARY_KEY`, `sort_key`).

/// Marker kinds the name-based rules can produce, in priority order.
pub(crate) const NAME_KINDS: &[&str] = &["password", "secret", "token", "key", "auth"];

/// Last words meaning "this names/locates/configures the secret", so the value
/// is not the secret itself.
const NON_SECRET_LAST: &[&str] = &[
    "file",
    "files",
    "path",
    "paths",
    "dir",
    "directory",
    "name",
    "names",
    "id",
    "ids",
    "type",
    "kind",
    "url",
    "uri",
    "endpoint",
    "host",
    "port",
    "ttl",
    "expiry",
    "expires",
    "expiration",
    "lifetime",
    "timeout",
    "length",
    "len",
    "size",
    "count",
    "min",
    "max",
    "algorithm",
    "alg",
    "format",
    "env",
    "mode",
    "prefix",
    "suffix",
    "hint",
    "policy",
    "provider",
    "version",
    "stdin",
    "header",
    "location",
    "store",
    "manager",
    "helper",
    "enabled",
    "required",
    "rotation",
    "generator",
    "label",
    "field",
    "prompt",
    "command",
    "cmd",
];

/// Compound words ending in `key` that name a secret key (`apikey`).
const KEY_COMPOUND_PREFIXES: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "auth",
    "master",
    "signing",
    "sign",
    "encryption",
    "enc",
    "license",
    "ssh",
    "client",
    "session",
    "app",
    "service",
    "account",
    "webhook",
    "hmac",
    "jwt",
    "gpg",
    "pgp",
    "deploy",
    "pass",
];

/// Words that turn `key` into data-structure vocabulary (`PRIMARY_KEY`), or
/// into an identifier that is not secret (`Idempotency-Key`, an S3 object
/// key, a host key).
const KEY_NOT_SECRET: &[&str] = &[
    "websocket",
    "socket",
    "idempotency",
    "dedup",
    "dedupe",
    "deduplication",
    "correlation",
    "request",
    "trace",
    "object",
    "bucket",
    "s3",
    "host",
    "known",
    "public",
    "foreign_key",
    "sort_key",
    "natural",
    "surrogate",
    "composite_key",
    "lookup_key",
    "cache_key",
    "group",
    "message",
    "label",
    "annotation",
    "tag",
    "metric",
    "index",
    "primary",
    "foreign",
    "sort",
    "partition",
    "hash",
    "cache",
    "range",
    "unique",
    "composite",
    "lookup",
    "row",
    "shard",
    "routing",
    "map",
    "dict",
    "hot",
];

/// First words of flags that act on keys rather than take one
/// (`gpg --list-secret-keys`, `--gen-key`).
const FLAG_VERBS: &[&str] = &[
    "list", "show", "get", "export", "import", "gen", "generate", "delete", "remove", "recv",
    "send", "print", "refresh", "no", "skip", "with", "without", "use", "require", "ask",
];

/// Splits an identifier into lowercase words at separators and camelCase
/// boundaries (`APIKey` → `api`, `key`).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            // fooBar | fooBAR, and the "K" in "APIKey".
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn word_kind(w: &str) -> Option<usize> {
    if w.ends_with("password")
        || w.ends_with("passwd")
        || w.ends_with("passphrase")
        || w == "pass"
        || (w.ends_with("pwd") && w != "oldpwd")
    {
        return Some(0);
    }
    if w.ends_with("secret")
        || w.ends_with("secrets")
        || w.ends_with("credential")
        || w.ends_with("credentials")
    {
        return Some(1);
    }
    if w.ends_with("token") || w.ends_with("tokens") {
        return Some(2);
    }
    // docker's config.json `"auth"` and .npmrc `_auth`: base64 user:password.
    if w == "auth" {
        return Some(4);
    }
    if w == "key"
        || w == "keys"
        || w.strip_suffix("key")
            .is_some_and(|p| KEY_COMPOUND_PREFIXES.contains(&p))
    {
        return Some(3);
    }
    None
}

/// Kind for a variable/key name in `NAME=value` or `name: value`, or `None`
/// when the name does not hold a secret.
pub(crate) fn classify_assignment(name: &str) -> Option<&'static str> {
    // The shell's own working-directory variables, as printed by `env`.
    if name == "PWD" || name == "OLDPWD" {
        return None;
    }
    let ws = words(name);
    let last = ws.last()?;
    // Vault AppRole's `secret_id` is the secret half of a login.
    if ws.len() >= 2 && ws[ws.len() - 2] == "secret" && last == "id" {
        return Some("secret");
    }
    if NON_SECRET_LAST.contains(&last.as_str()) {
        return None;
    }
    // Plurals name collections (`secrets: inherit`, `KEYS=a,b`), not a value.
    if matches!(last.as_str(), "secrets" | "tokens" | "keys" | "passwords") {
        return None;
    }
    if ws
        .iter()
        .any(|w| w == "public" || w == "pub" || w.ends_with("pubkey") || w == "publickey")
    {
        return None;
    }
    let kind = ws.iter().filter_map(|w| word_kind(w)).min()?;
    if kind == 3 && ws.iter().any(|w| KEY_NOT_SECRET.contains(&w.as_str())) {
        return None;
    }
    // After the word that says "secret", only qualifiers may follow:
    // `DB_PASSWORD_PROD` and `API_KEY_V2` hold one; `StrictHostKeyChecking`
    // and `PasswordAuthentication` are settings about one.
    let at = ws.iter().rposition(|w| word_kind(w).is_some())?;
    if !ws[at + 1..].iter().all(|w| {
        QUALIFIERS.contains(&w.as_str()) || w.chars().all(|c| c.is_ascii_digit()) || {
            let rest = w.trim_start_matches('v');
            w.starts_with('v') && !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
        }
    }) {
        return None;
    }
    Some(NAME_KINDS[kind])
}

/// Words that may follow a secret word in a name and still leave it one:
/// environments, versions, encodings, old and new.
const QUALIFIERS: &[&str] = &[
    "prod",
    "production",
    "staging",
    "stage",
    "dev",
    "test",
    "qa",
    "live",
    "sandbox",
    "local",
    "new",
    "old",
    "current",
    "next",
    "previous",
    "prev",
    "primary",
    "secondary",
    "backup",
    "value",
    "val",
    "data",
    "raw",
    "plain",
    "plaintext",
    "enc",
    "encrypted",
    "b64",
    "base64",
    "hex",
    "string",
    "str",
    "secret",
    "admin",
    "root",
    "user",
    "ro",
    "rw",
    "read",
    "write",
    "a",
    "b",
    "x",
];

/// Words that are a type or a placeholder, not a value: help text
/// (`--password string`), templates (`token: TOKEN`).
const PLACEHOLDER_WORDS: &[&str] = &[
    "string",
    "str",
    "strings",
    "stringarray",
    "int",
    "integer",
    "uint",
    "bool",
    "boolean",
    "float",
    "number",
    "num",
    "duration",
    "path",
    "file",
    "filename",
    "list",
    "array",
    "value",
    "values",
    "name",
    "text",
    "bytes",
    "secret",
    "password",
    "passwd",
    "pass",
    "token",
    "key",
    "apikey",
    "api_key",
    "credential",
    "credentials",
    "changeme",
    "redacted",
    "hidden",
    "xxx",
    "xxxx",
    "xxxxxxxx",
    "example",
    "placeholder",
    "required",
    "optional",
    "none",
    "empty",
];

/// Words of status messages (`passwd: password updated successfully`).
const STATUS_WORDS: &[&str] = &[
    "updated",
    "successfully",
    "success",
    "changed",
    "expired",
    "expires",
    "required",
    "invalid",
    "incorrect",
    "failed",
    "failure",
    "saved",
    "stored",
    "rotated",
    "reset",
    "set",
    "unchanged",
    "accepted",
    "rejected",
    "denied",
    "missing",
];

/// File extensions that say a value names a file (`--key tls.key`).
const FILE_EXTENSIONS: &[&str] = &[
    "key",
    "pem",
    "crt",
    "cer",
    "csr",
    "p12",
    "pfx",
    "jks",
    "keystore",
    "json",
    "yaml",
    "yml",
    "toml",
    "ini",
    "conf",
    "cfg",
    "env",
    "txt",
    "log",
    "tfstate",
    "tfvars",
    "gpg",
    "asc",
    "pub",
    "der",
    "sql",
    "gz",
    "zip",
    "tar",
    "tgz",
    "csv",
    "xml",
    "properties",
    "kdbx",
    "ppk",
    "sh",
    "py",
    "rb",
    "js",
    "ts",
    "go",
    "rs",
    "md",
    "html",
    "bin",
    "dat",
    "db",
    "sqlite",
    "bak",
];

/// A token that looks random: long, with upper and lower case and digits.
fn random_looking(s: &str) -> bool {
    s.len() >= 8
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes().any(|b| b.is_ascii_digit())
}

/// `tls.key`, `./certs/server.pem`, `2026/11/29/app.log`, `env/prod/x.tfstate`:
/// a file or an object's path, not a secret. An AWS secret key also has
/// slashes, but its pieces look random.
pub(crate) fn names_a_file(v: &str) -> bool {
    let ext_file = v.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && FILE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
    }) && !random_looking(v.rsplit_once('.').map_or(v, |(s, _)| s));
    let path = v.contains('/')
        && v.split('/').filter(|p| !p.is_empty()).count() >= 2
        && !v.split('/').any(random_looking)
        && !v.contains("://");
    ext_file || path
}

/// Code and configuration that point at a secret instead of holding it:
/// `os.environ['X']`, `process.env.X`, `getpass(…)`, Terraform's
/// `random_password.db.result`, `(sensitive value)`, and ciphertext
/// (`ENC[AES256_GCM,…]`, `$ANSIBLE_VAULT`, `vault:v1:`).
pub(crate) fn is_reference(v: &str) -> bool {
    // Each part a word (`db_password`, `result`, `v2`): letters and
    // underscores, digits only at its end. A token's parts mix them.
    let dotted = v.split('.').count() >= 2
        && v.split('.').all(|p| {
            let word = p.trim_end_matches(|c: char| c.is_ascii_digit());
            !word.is_empty()
                && word.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && word.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        });
    let call = v.contains('(')
        && v.split('(').next().is_some_and(|f| {
            !f.is_empty()
                && f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        });
    dotted
        || call
        || v.starts_with('(')
        || v.starts_with("os.environ")
        || v.starts_with("process.env")
        || v.starts_with("ENC[")
        || v.starts_with("$ANSIBLE_VAULT")
        || v.starts_with("vault:v")
        || v.starts_with("!vault")
}

/// A value already masked for display: `gho_********`, `sk-…abcd`.
pub(crate) fn is_masked(v: &str) -> bool {
    let masked = v.chars().filter(|c| matches!(c, '*' | '•' | '…')).count();
    masked >= 4 && masked * 2 >= v.chars().count()
}

/// Whether `v`, given as the value of `name`, is a secret rather than a
/// type, a placeholder, a file, a sentence, or (for keys and tokens) a plain
/// word that names something.
pub(crate) fn plausible_secret(name: &str, v: &str) -> bool {
    if !plausible_value(v) {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str())
        || (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with("{{") && v.ends_with("}}"))
        || (v.starts_with("${") && v.ends_with('}'))
        || v.chars()
            .all(|c| c == '*' || c == 'x' || c == 'X' || c == '.')
    {
        return false;
    }
    // `--password PASSWORD`: the value repeats the name, as help text does.
    let name_words = words(name);
    if v.chars()
        .all(|c| c.is_ascii_uppercase() || c == '_' || c == '-')
        && words(v)
            .iter()
            .all(|w| name_words.contains(w) || word_kind(w).is_some())
    {
        return false;
    }
    if names_a_file(v) || is_reference(v) || is_masked(v) {
        return false;
    }
    // A message, not a passphrase: "password updated successfully".
    let parts: Vec<String> = v
        .split_whitespace()
        .map(|p| {
            p.trim_matches(|c: char| !c.is_alphanumeric())
                .to_ascii_lowercase()
        })
        .collect();
    if parts.len() >= 2
        && parts.iter().any(|p| {
            STATUS_WORDS.contains(&p.as_str()) || word_kind(p).is_some() || p == "passwords"
        })
    {
        return false;
    }
    // A key or a token named by a plain word (`"Key": "Name"`, `key:
    // password` under a secretKeyRef) names something; a password may be a
    // plain word, so it stays.
    let kind = classify_assignment(name);
    let plain_word = v.len() <= 24
        && v.chars()
            .all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_' || c == '.');
    if plain_word && matches!(kind, Some("key" | "token" | "secret" | "auth")) {
        return false;
    }
    true
}

/// Kind for a command-line flag (`--password`, `-token`). Stricter than
/// [`classify_assignment`] because `--flag word` may be a boolean flag
/// followed by an ordinary argument.
pub(crate) fn classify_flag(name: &str) -> Option<&'static str> {
    let ws = words(name);
    let first = ws.first()?;
    let last = ws.last()?;
    if FLAG_VERBS.contains(&first.as_str()) {
        return None;
    }
    // Plural flags operate on collections (`--recv-keys`), not on one secret.
    if last.ends_with('s') && last != "pass" {
        return None;
    }
    classify_assignment(name)
}

/// Whether an assignment's value looks like a literal secret rather than a
/// reference to one, a path, a flag, or a boolean.
pub(crate) fn plausible_value(v: &str) -> bool {
    if v.is_empty()
        || v.starts_with('$')
        || v.starts_with('=')
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || (v.len() > 2 && v.starts_with('%') && v.ends_with('%'))
        || !v.chars().any(char::is_alphanumeric)
    {
        return false;
    }
    !matches!(
        v.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "null" | "none" | "nil" | "on" | "off" | "undefined"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words() {
        assert_eq!(words("MY_API_KEY"), ["my", "api", "key"]);
        assert_eq!(words("apiKey"), ["api", "key"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("--client-secret"), ["client", "secret"]);
        assert_eq!(
            words("spring.datasource.password"),
            ["spring", "datasource", "password"]
        );
        assert!(words("__").is_empty());
    }

    #[test]
    fn classifies_names() {
        assert_eq!(classify_assignment("DB_PASSWORD"), Some("password"));
        assert_eq!(classify_assignment("pwd"), Some("password"));
        assert_eq!(classify_assignment("GITHUB_TOKEN"), Some("token"));
        assert_eq!(classify_assignment("MY_API_KEY"), Some("key"));
        assert_eq!(classify_assignment("APIKEY"), Some("key"));
        assert_eq!(classify_assignment("KEY"), Some("key"));
        assert_eq!(classify_assignment("SECRET_KEY"), Some("secret"));
        assert_eq!(classify_assignment("clientSecret"), Some("secret"));
        for not in [
            "KEYBOARD",
            "MONKEY",
            "TOKENIZER_MODEL",
            "SSH_KEY_PATH",
            "PASSWORD_FILE",
            "AWS_ACCESS_KEY_ID",
            "PWD",
            "OLDPWD",
            "PUBLIC_KEY",
            "ssh_pubkey",
            "PRIMARY_KEY",
            "keycloak",
            "TOKEN_TTL",
            "secrets",
            "API_KEYS",
        ] {
            assert_eq!(classify_assignment(not), None, "{not}");
        }
    }

    #[test]
    fn classifies_flags() {
        assert_eq!(classify_flag("--password"), Some("password"));
        assert_eq!(classify_flag("--api-key"), Some("key"));
        assert_eq!(classify_flag("--pass"), Some("password"));
        assert_eq!(classify_flag("--password-stdin"), None);
        assert_eq!(classify_flag("--list-secret-keys"), None);
        assert_eq!(classify_flag("--recv-keys"), None);
        assert_eq!(classify_flag("--gen-key"), None);
        assert_eq!(classify_flag("--key-file"), None);
    }

    #[test]
    fn judges_values_with_their_names() {
        // A path is a file, a base64 value starting with '/' is not.
        assert!(!plausible_secret("DB_KEY", "/etc/key"));
        assert!(plausible_secret(
            "DB_KEY",
            "/CwJDOJhwhacRVVKusidRPI/oNRhOZ4JLX1ViokBnjn="
        ));
        assert!(!plausible_secret(
            "master_password",
            "random_password.db.result"
        ));
        assert!(plausible_secret(
            "KUBERNETES_TOKEN",
            "v4arhf.q4tkp1sazolwa6uj"
        ));
        assert_eq!(classify_assignment("secret_id"), Some("secret"));
    }

    #[test]
    fn judges_values() {
        assert!(plausible_value("hunter2"));
        assert!(plausible_value("1234"));
        for not in ["", "$TOKEN", "${X}", "~/.ssh/id", "%PASS%", "true", "***"] {
            assert!(!plausible_value(not), "{not}");
        }
    }
}
