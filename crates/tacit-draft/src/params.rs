//! Stage: parameters. Values that look like versions, dates, hosts, git SHAs
//! or ticket ids become `<<name>>` placeholders; redacted secrets become
//! secret parameters. Across runs, the same placeholder collects every value
//! seen as an example.

use regex::Regex;
use std::sync::OnceLock;

/// A kind of value worth a parameter.
struct Kind {
    name: &'static str,
    description: &'static str,
    pattern: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        name: "version",
        description: "The version to release",
        pattern: r"\bv?\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?\b",
    },
    Kind {
        name: "date",
        description: "The date (YYYY-MM-DD)",
        pattern: r"\b\d{4}-\d{2}-\d{2}\b",
    },
    Kind {
        name: "ticket",
        description: "The change ticket id",
        pattern: r"\b[A-Z][A-Z0-9]{1,9}-\d{1,7}\b",
    },
    Kind {
        name: "commit",
        description: "The git commit",
        pattern: r"\b[0-9a-f]{7,40}\b",
    },
    Kind {
        name: "host",
        description: "The target host",
        pattern: r"\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|dev|cloud|internal|local|lan|corp)\b",
    },
];

fn regexes() -> &'static Vec<Regex> {
    static RE: OnceLock<Vec<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        KINDS
            .iter()
            .map(|k| Regex::new(k.pattern).expect("valid"))
            .collect()
    })
}

fn redacted() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\[REDACTED:([a-z0-9-]+)\]").expect("valid"))
}

/// A value found in a command, and the parameter it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    pub description: String,
    pub value: String,
    pub secret: bool,
}

/// Assigns parameter names to values, consistently across all the commands of
/// all the runs of one draft: the first distinct version is `version`, a
/// second distinct one in the same run is `version_2`.
#[derive(Debug, Default)]
pub struct Params {
    /// (value, name) in order of discovery.
    pub found: Vec<Found>,
}

impl Params {
    /// Replaces parameter-like values in `command` with placeholders.
    /// `run_values` maps values seen in this run to names, so a value seen
    /// twice in one run gets the same name, and different runs' versions
    /// share `version`.
    pub fn substitute(&mut self, command: &str, run_values: &mut Vec<(String, String)>) -> String {
        let mut out = redacted()
            .replace_all(command, |c: &regex::Captures| {
                let kind = c[1].replace('-', "_");
                self.note(
                    &kind,
                    "Secret value (read without echo, never stored)",
                    &c[0],
                    true,
                );
                format!("<<{kind}>>")
            })
            .into_owned();
        for (kind, re) in KINDS.iter().zip(regexes()) {
            let mut replaced = String::with_capacity(out.len());
            let mut last = 0;
            for m in re.find_iter(&out) {
                let value = m.as_str();
                if !plausible(kind.name, value, &out, m.start(), m.end()) {
                    continue;
                }
                let name = match run_values.iter().find(|(v, _)| v == value) {
                    Some((_, n)) => n.clone(),
                    None => {
                        let taken = run_values
                            .iter()
                            .filter(|(_, n)| {
                                n == kind.name || n.starts_with(&format!("{}_", kind.name))
                            })
                            .count();
                        let n = if taken == 0 {
                            kind.name.to_string()
                        } else {
                            format!("{}_{}", kind.name, taken + 1)
                        };
                        run_values.push((value.to_string(), n.clone()));
                        n
                    }
                };
                self.note(&name, kind.description, value, false);
                replaced.push_str(&out[last..m.start()]);
                replaced.push_str(&format!("<<{name}>>"));
                last = m.end();
            }
            replaced.push_str(&out[last..]);
            out = replaced;
        }
        out
    }

    fn note(&mut self, name: &str, description: &str, value: &str, secret: bool) {
        let value = if secret {
            String::new()
        } else {
            value.to_string()
        };
        if !self
            .found
            .iter()
            .any(|f| f.name == name && f.value == value)
        {
            self.found.push(Found {
                name: name.to_string(),
                description: description.to_string(),
                value,
                secret,
            });
        }
    }
}

/// Filters out look-alikes: `10.0.0.1` is an address, not a version; a
/// "commit" must mix letters and digits and not sit inside a longer word.
fn plausible(kind: &str, value: &str, text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    if value.contains("<<") || text[..start].ends_with("<<") {
        return false;
    }
    match kind {
        "version" => {
            !matches!(after, Some('.'))
                || !text[end..]
                    .chars()
                    .nth(1)
                    .is_some_and(|c| c.is_ascii_digit())
        }
        "commit" => {
            value.chars().any(|c| c.is_ascii_digit())
                && value.chars().any(|c| c.is_ascii_alphabetic())
                && !matches!(before, Some('-' | '_' | '/' | '.'))
                && !matches!(after, Some('-' | '_'))
        }
        "host" => !matches!(before, Some('/' | '.' | '@')) || before == Some('@'),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(lines: &[&str]) -> (Vec<String>, Params) {
        let mut p = Params::default();
        let mut run = Vec::new();
        let out = lines.iter().map(|l| p.substitute(l, &mut run)).collect();
        (out, p)
    }

    #[test]
    fn versions_become_one_parameter() {
        let (out, p) = sub(&["./deploy/build.sh 1.4.2", "./deploy/release.sh 1.4.2"]);
        assert_eq!(
            out,
            [
                "./deploy/build.sh <<version>>",
                "./deploy/release.sh <<version>>"
            ]
        );
        assert_eq!(p.found.len(), 1);
        assert_eq!(p.found[0].value, "1.4.2");
    }

    #[test]
    fn other_kinds_are_found() {
        let (out, p) = sub(&[
            "git checkout 3f2a9c1e",
            "./notify.sh OPS-1234 2026-11-24",
            "ssh deploy@web-1.example.com",
            "curl -H 'Authorization: [REDACTED:auth-header]' x",
        ]);
        assert_eq!(out[0], "git checkout <<commit>>");
        assert_eq!(out[1], "./notify.sh <<ticket>> <<date>>");
        assert_eq!(out[2], "ssh deploy@<<host>>");
        assert!(out[3].contains("<<auth_header>>"));
        assert!(
            p.found
                .iter()
                .any(|f| f.name == "auth_header" && f.secret && f.value.is_empty())
        );
    }

    #[test]
    fn look_alikes_are_left_alone() {
        let (out, _) = sub(&[
            "ping 10.0.0.1",
            "./deploy/migrate.sh",
            "cat ../state/migrate.lock",
            "python3 app.py",
        ]);
        assert_eq!(
            out,
            [
                "ping 10.0.0.1",
                "./deploy/migrate.sh",
                "cat ../state/migrate.lock",
                "python3 app.py"
            ]
        );
    }

    #[test]
    fn two_versions_in_one_run_get_two_names() {
        let (out, _) = sub(&["./upgrade.sh 1.4.2 1.5.0"]);
        assert_eq!(out[0], "./upgrade.sh <<version>> <<version_2>>");
    }
}
