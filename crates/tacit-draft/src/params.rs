//! Stage: parameters.
//!
//! Two sources of parameters, both found in commands only (a value seen only
//! in output, such as a hash a script printed, is never a parameter):
//!
//! - **kinds**: versions, dates, ticket ids, git SHAs, hosts and redacted
//!   secrets, recognised by their shape even in a single run;
//! - **differences between runs**: the runs are aligned command by command,
//!   and where aligned commands differ, the differing part of the word is the
//!   value (`tenant_acme` / `tenant_globex` give `acme` / `globex`).
//!
//! A value is replaced wherever it stands as a whole sub-token (between
//! non-alphanumeric characters): in commands, and in the output that
//! expectations and rule patterns are cut from. Names come from the context
//! the value stands in: a flag (`-d` is a database), a `KEY=` assignment, the
//! word around it (`tenant_`), an SQL keyword, or the program.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

/// A kind of value worth a parameter, recognised by its shape.
struct Kind {
    name: &'static str,
    description: &'static str,
    pattern: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        name: "version",
        description: "The version to release",
        // The `v` of `v1.8.0` stays outside: `v<<version>>` is the same
        // version as `<<version>>`.
        pattern: r"(?:\bv|\b)(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)\b",
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

fn kind_regexes() -> &'static Vec<Regex> {
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

/// A value that differs between runs: one per run where it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Varying {
    pub name: String,
    /// The value in each run, by run index.
    pub values: Vec<Option<String>>,
    /// Short or common values are replaced only where they were aligned
    /// (the same word), never everywhere.
    pub narrow_words: Vec<Vec<String>>,
}

/// Parameters of one run: what to replace, and what was found.
#[derive(Debug, Default, Clone)]
pub struct Params {
    /// (value, name), longest value first, from differences between runs.
    varying: Vec<(String, String)>,
    /// (whole word, value, name) replaced only as that exact word.
    narrow: Vec<(String, String, String)>,
    /// Values of kinds seen in this run's commands, by value.
    kinds: Vec<(String, String)>,
    pub found: Vec<Found>,
    /// Names already taken by differences between runs.
    reserved: Vec<String>,
    /// Values of kinds that every run used alike: constants, not parameters.
    constants: Vec<String>,
}

impl Params {
    /// The substitutions for run `run` of a plan.
    pub fn for_run(plan: &[Varying], constants: &[String], run: usize) -> Params {
        let mut p = Params {
            constants: constants.to_vec(),
            ..Params::default()
        };
        for v in plan {
            p.reserved.push(v.name.clone());
            let Some(value) = v.values.get(run).cloned().flatten() else {
                continue;
            };
            if v.narrow_words.get(run).is_some_and(|w| !w.is_empty()) {
                for w in &v.narrow_words[run] {
                    p.narrow.push((w.clone(), value.clone(), v.name.clone()));
                }
            } else {
                p.varying.push((value, v.name.clone()));
            }
        }
        p.varying
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        p
    }

    /// Replaces parameter values in a command with placeholders, and notes
    /// each value found.
    pub fn substitute(&mut self, command: &str) -> String {
        let mut out = self.secrets(command);
        out = self.replace_varying(&out, true);
        out = self.loop_list(&out);
        for (kind, re) in KINDS.iter().zip(kind_regexes()) {
            let mut replaced = String::with_capacity(out.len());
            let mut last = 0;
            for caps in re.captures_iter(&out) {
                let Some(m) = caps.get(1).or_else(|| caps.get(0)) else {
                    continue;
                };
                let value = m.as_str();
                if !plausible(kind.name, value, &out, m.start(), m.end())
                    || self.constants.iter().any(|c| c == value)
                {
                    continue;
                }
                let name = match self.kinds.iter().find(|(v, _)| v == value) {
                    Some((_, n)) => n.clone(),
                    None => {
                        let taken = self
                            .kinds
                            .iter()
                            .filter(|(_, n)| {
                                n == kind.name || n.starts_with(&format!("{}_", kind.name))
                            })
                            .count()
                            + usize::from(self.reserved.iter().any(|r| r == kind.name));
                        let n = if taken == 0 {
                            kind.name.to_string()
                        } else {
                            format!("{}_{}", kind.name, taken + 1)
                        };
                        self.kinds.push((value.to_string(), n.clone()));
                        n
                    }
                };
                self.note(&name, kind.description, value, false);
                replaced.push_str(&out[last..m.start()]);
                replaced.push_str(&tacit_sop::placeholder(&name));
                last = m.end();
            }
            replaced.push_str(&out[last..]);
            out = replaced;
        }
        out
    }

    /// Replaces only values already known in this run: output is evidence,
    /// never a source of new parameters.
    pub fn substitute_known(&self, text: &str) -> String {
        let mut out = self.replace_varying_quiet(text);
        for (value, name) in &self.kinds {
            out = replace_subtoken(&out, value, &tacit_sop::placeholder(name));
        }
        out
    }

    /// `for d in 2026-11-01 2026-11-02; do … --date "$d"; done`: the list is
    /// one value (the dates), when it holds values of a kind.
    fn loop_list(&mut self, command: &str) -> String {
        let Some(c) = for_loop().captures(command) else {
            return command.to_string();
        };
        let (var, list) = (&c[1], c.get(2).expect("group"));
        let items: Vec<&str> = list.as_str().split_whitespace().collect();
        let kinded = items.len() >= 2
            && items
                .iter()
                .all(|i| kind_regexes().iter().any(|re| re.is_match(i)))
            && !list.as_str().contains("<<");
        if !kinded {
            return command.to_string();
        }
        let value = list.as_str().to_string();
        let name = match self.kinds.iter().find(|(v, _)| *v == value) {
            Some((_, n)) => n.clone(),
            None => {
                let n = loop_name(var, &command[list.end()..]);
                self.kinds.push((value.clone(), n.clone()));
                n
            }
        };
        self.note(
            &name,
            "The values to loop over, separated by spaces",
            &value,
            false,
        );
        format!(
            "{}{}{}",
            &command[..list.start()],
            tacit_sop::placeholder(&name),
            &command[list.end()..]
        )
    }

    fn secrets(&mut self, command: &str) -> String {
        let mut notes: Vec<(String, String)> = Vec::new();
        let out = redacted()
            .replace_all(command, |c: &regex::Captures| {
                let start = c.get(0).map_or(0, |m| m.start());
                let name = secret_name(&command[..start], &c[1]);
                notes.push((name.clone(), c[0].to_string()));
                tacit_sop::placeholder(&name)
            })
            .into_owned();
        for (name, value) in notes {
            self.note(
                &name,
                "Secret value (read without echo, never stored)",
                &value,
                true,
            );
        }
        out
    }

    fn replace_varying(&mut self, text: &str, note: bool) -> String {
        let mut out = text.to_string();
        let mut hits: Vec<(String, String)> = Vec::new();
        for (word, value, name) in &self.narrow {
            let new = replace_word(
                &out,
                word,
                &word.replacen(value.as_str(), &tacit_sop::placeholder(name), 1),
            );
            if new != out {
                hits.push((name.clone(), value.clone()));
                out = new;
            }
        }
        for (value, name) in &self.varying {
            let new = replace_subtoken(&out, value, &tacit_sop::placeholder(name));
            if new != out {
                hits.push((name.clone(), value.clone()));
                out = new;
            }
        }
        if note {
            for (name, value) in hits {
                self.note(&name, "Differs between runs", &value, false);
            }
        }
        out
    }

    fn replace_varying_quiet(&self, text: &str) -> String {
        self.clone().replace_varying(text, false)
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

fn for_loop() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\bfor\s+([A-Za-z_]\w*)\s+in\s+([^;\n]+?)\s*(?:;|\n)").expect("valid")
    })
}

/// A loop's list is named after what its variable feeds: `--date "$d"`
/// gives `dates`; else the variable's own name, made plural.
fn loop_name(var: &str, body: &str) -> String {
    let feeds = Regex::new(&format!(r#"(\S+)\s+"?\$\{{?{}\b"#, regex::escape(var)))
        .ok()
        .and_then(|re| re.captures(body).map(|c| c[1].to_string()));
    let base = feeds
        .and_then(|f| name_from_flag(&f))
        .or_else(|| (var.len() >= 3).then(|| var.to_ascii_lowercase()))
        .unwrap_or_else(|| "item".into());
    if base.ends_with('s') {
        base
    } else {
        format!("{base}s")
    }
}

/// A secret's parameter name: the flag or key it follows (`--password`,
/// `TOKEN=`, `PASSWORD '`), else the kind of secret the redactor saw.
fn secret_name(before: &str, kind: &str) -> String {
    let tail = before.trim_end_matches(['\'', '"', '=', ':', ' ']);
    let word = tail
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == ',')
        .next()
        .unwrap_or("");
    let candidate = name_from_flag(word)
        .or_else(|| {
            let w = word.trim_start_matches('-').to_ascii_lowercase();
            matches!(
                w.as_str(),
                "password" | "passwd" | "pass" | "token" | "secret" | "key"
            )
            .then_some(w)
        })
        .filter(|n| {
            ["pass", "secret", "token", "key", "auth", "cred"]
                .iter()
                .any(|k| n.contains(k))
        });
    let name = candidate.unwrap_or_else(|| kind.replace('-', "_"));
    sanitize(&name).unwrap_or_else(|| "secret".into())
}

/// Filters out look-alikes: `10.0.0.1` is an address, not a version; a
/// "commit" must mix letters and digits and not sit inside a longer word.
fn plausible(kind: &str, value: &str, text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    if value.contains("<<") || text[..start].ends_with("<<") || text[end..].starts_with(">>") {
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

pub use tacit_sop::replace_subtoken;

/// Replaces a whole whitespace-separated word.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    text.split(' ')
        .map(|w| if w == word { with } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

// ─────────────── differences between runs ───────────────

/// Splits a word into alphanumeric runs and single other characters.
fn segments(word: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in word.char_indices() {
        if c.is_ascii_alphanumeric() {
            start.get_or_insert(i);
        } else {
            if let Some(s) = start.take() {
                out.push(&word[s..i]);
            }
            out.push(&word[i..i + c.len_utf8()]);
        }
    }
    if let Some(s) = start {
        out.push(&word[s..]);
    }
    out
}

/// The differing middle of two words: (core of a, core of b, what precedes
/// it in a).
fn core_diff(a: &str, b: &str) -> Option<(String, String, String)> {
    let sa = segments(a);
    let sb = segments(b);
    let pre = sa.iter().zip(&sb).take_while(|(x, y)| x == y).count();
    let max_suf = sa.len().min(sb.len()) - pre;
    let suf = sa
        .iter()
        .rev()
        .zip(sb.iter().rev())
        .take(max_suf)
        .take_while(|(x, y)| x == y)
        .count();
    let ca: String = sa[pre..sa.len() - suf].concat();
    let cb: String = sb[pre..sb.len() - suf].concat();
    if ca.is_empty() || cb.is_empty() {
        return None;
    }
    Some((ca, cb, sa[..pre].concat()))
}

/// The identifier (letters, digits, `_` and `-`) that holds the text at
/// `at..at + len` of `word`.
fn identifier_around(word: &str, at: usize, len: usize) -> String {
    let id = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let bytes: Vec<char> = word.chars().collect();
    if word.len() != bytes.len() || at + len > bytes.len() {
        return word[at.min(word.len())..(at + len).min(word.len())].to_string();
    }
    let mut start = at;
    while start > 0 && id(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = at + len;
    while end < bytes.len() && id(bytes[end]) {
        end += 1;
    }
    bytes[start..end]
        .iter()
        .collect::<String>()
        .trim_start_matches('-')
        .to_string()
}

/// Words so common in commands that replacing them everywhere would break
/// unrelated text.
fn common_word(v: &str) -> bool {
    const COMMON: &[&str] = &[
        "app", "web", "api", "db", "the", "and", "for", "all", "new", "old", "test", "main", "dev",
        "run", "log", "logs", "tmp", "var", "etc", "bin", "usr", "src", "data", "true", "false",
        "yes", "no", "on", "off", "get", "set", "add", "del", "key", "id", "name",
    ];
    COMMON.contains(&v.to_ascii_lowercase().as_str())
}

/// Two commands are the same step with different values when they run the
/// same program with the same number of words and most words equal.
pub fn similar(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let wa: Vec<&str> = a.split_whitespace().collect();
    let wb: Vec<&str> = b.split_whitespace().collect();
    if wa.len() != wb.len() || wa.is_empty() || wa[0] != wb[0] {
        return false;
    }
    let same = wa.iter().zip(&wb).filter(|(x, y)| x == y).count();
    let differ = wa.len() - same;
    // A different SQL verb (or other upper-case keyword) is a different
    // command, not the same one with another value: `CREATE USER …` is not
    // `ALTER USER …`.
    let keyword = |w: &str| {
        let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        w.len() >= 2 && w.chars().all(|c| c.is_ascii_uppercase())
    };
    let verb_changed = wa
        .iter()
        .zip(&wb)
        .any(|(x, y)| x != y && keyword(x) && keyword(y));
    differ <= 3 && same * 2 >= wa.len().min(4) && !verb_changed
}

/// Longest common subsequence of `a` and `b` under `eq`: index pairs.
pub fn align_by<T>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    let mut table = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i][j] = if eq(&a[i], &b[j]) {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut pairs = Vec::new();
    while i < n && j < m {
        if eq(&a[i], &b[j]) {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if table[i + 1][j] >= table[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

/// Where a differing value stood: the words of its command, the index of its
/// word, and the text around it inside that word.
#[derive(Debug, Clone)]
struct Occurrence {
    words: Vec<String>,
    at: usize,
    prefix: String,
}

/// Finds the values that differ between runs. `commands[r]` are run `r`'s
/// commands, already with kinds (versions, dates, …) replaced, so those are
/// not found twice. The first run is the reference the others align to.
pub fn plan(commands: &[Vec<String>]) -> Vec<Varying> {
    if commands.len() < 2 {
        return Vec::new();
    }
    let runs = commands.len();
    // Reference value → (value per run, narrow words per run, occurrences).
    type Slot = (Vec<Option<String>>, Vec<Vec<String>>, Vec<Occurrence>, bool);
    let mut found: BTreeMap<String, Slot> = BTreeMap::new();
    let mut conflicted: Vec<String> = Vec::new();
    for r in 1..runs {
        let pairs = align_by(&commands[0], &commands[r], |a, b| similar(a, b));
        for (i, j) in pairs {
            let (a, b) = (&commands[0][i], &commands[r][j]);
            if a == b {
                continue;
            }
            let wa: Vec<&str> = a.split_whitespace().collect();
            let wb: Vec<&str> = b.split_whitespace().collect();
            for (w, (x, y)) in wa.iter().zip(&wb).enumerate() {
                if x == y || x.contains("<<") || y.contains("<<") {
                    continue;
                }
                let Some((ca, cb, prefix)) = core_diff(x, y) else {
                    continue;
                };
                let strip = |s: &str| s.trim_matches(['\'', '"']).to_string();
                let (ca, cb) = (strip(&ca), strip(&cb));
                if ca.is_empty() || cb.is_empty() || ca.contains(char::is_whitespace) {
                    continue;
                }
                // A short or common core is a value only as part of the
                // identifier around it: `shop_a` / `shop_b`, even inside
                // `dumps/shop_a.dump`.
                let (ca, cb, narrow) = if ca.len() < 3 || cb.len() < 3 || common_word(&ca) {
                    let (ia, ib) = (
                        identifier_around(x, prefix.len(), ca.len()),
                        identifier_around(y, prefix.len(), cb.len()),
                    );
                    if ia.len() >= 3 && ib.len() >= 3 && ia != ca && !common_word(&ia) {
                        (ia, ib, false)
                    } else {
                        (ca, cb, true)
                    }
                } else {
                    (ca, cb, false)
                };
                // What precedes the value inside its word names it
                // (`tenant_` in `tenant_acme`, `--env=`).
                let prefix = match x.find(ca.as_str()) {
                    Some(at) => x[..at].to_string(),
                    None => prefix,
                };
                let occ = Occurrence {
                    words: wa.iter().map(|s| s.to_string()).collect(),
                    at: w,
                    prefix,
                };
                let slot = found.entry(ca.clone()).or_insert_with(|| {
                    let mut values = vec![None; runs];
                    values[0] = Some(ca.clone());
                    (values, vec![Vec::new(); runs], Vec::new(), false)
                });
                match &slot.0[r] {
                    Some(v) if *v != cb => conflicted.push(ca.clone()),
                    _ => slot.0[r] = Some(cb.clone()),
                }
                if narrow {
                    slot.3 = true;
                    if !slot.1[0].contains(&x.to_string()) {
                        slot.1[0].push(x.to_string());
                    }
                    if !slot.1[r].contains(&y.to_string()) {
                        slot.1[r].push(y.to_string());
                    }
                }
                slot.2.push(occ);
            }
        }
    }
    let mut out: Vec<Varying> = Vec::new();
    let mut taken: Vec<String> = KINDS.iter().map(|k| k.name.to_string()).collect();
    // A value that is itself part of a longer differing value (`acme` in
    // `acme_app`) is the same parameter: keep the shortest.
    let wide: Vec<String> = found
        .iter()
        .filter(|(_, slot)| !slot.3)
        .map(|(k, _)| k.clone())
        .collect();
    for (value, (values, narrow_words, occurrences, narrow)) in found {
        if conflicted.contains(&value) {
            continue;
        }
        let contained = wide.iter().any(|k| {
            *k != value && k.len() < value.len() && replace_subtoken(&value, k, "\u{0}") != value
        });
        if contained {
            continue;
        }
        let name = unique(name_for(&occurrences, &value), &mut taken);
        out.push(Varying {
            name,
            values,
            narrow_words: if narrow {
                narrow_words
            } else {
                vec![Vec::new(); runs]
            },
        });
    }
    out
}

fn unique(name: String, taken: &mut Vec<String>) -> String {
    let mut n = name.clone();
    let mut k = 2;
    while taken.contains(&n) {
        n = format!("{name}_{k}");
        k += 1;
    }
    taken.push(n.clone());
    n
}

/// `[a-z][a-z0-9_]*`, or nothing usable.
fn sanitize(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    let out = out
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .to_string();
    (out.len() >= 2 && out.chars().next().is_some_and(|c| c.is_ascii_lowercase())).then_some(out)
}

/// What a flag says about the value after it.
fn name_from_flag(flag: &str) -> Option<String> {
    if !flag.starts_with('-') || flag.starts_with("---") {
        return None;
    }
    let known = match flag {
        "-d" | "--dbname" | "--database" | "--db" => "database",
        "-U" | "--username" | "--user" | "-u" => "user",
        "-n" | "--namespace" | "--ns" => "namespace",
        "-h" | "--host" | "--hostname" | "-H" => "host",
        "-p" | "--port" | "-P" => "port",
        "-t" | "--table" => "table",
        "-e" | "--env" | "--environment" => "env",
        "-c" | "--context" => "context",
        "-r" | "--region" => "region",
        "-f" | "--file" | "--filename" => "file",
        "-o" | "--output" | "--out" => "output",
        "-i" | "--input" | "--in" => "input",
        "-m" | "--message" => "message",
        "-b" | "--branch" => "branch",
        "-w" | "--workspace" => "workspace",
        _ => "",
    };
    if !known.is_empty() {
        return Some(known.to_string());
    }
    let long = flag.strip_prefix("--")?;
    sanitize(long)
}

/// The name a value's surroundings suggest, best evidence first. Every
/// occurrence votes; a flag beats a `KEY=`, which beats the word around the
/// value, which beats an SQL keyword, which beats the program.
fn name_for(occurrences: &[Occurrence], value: &str) -> String {
    let mut votes: Vec<(u8, String)> = Vec::new();
    for o in occurrences {
        let word = &o.words[o.at];
        let prev = if o.at > 0 {
            o.words[o.at - 1].as_str()
        } else {
            ""
        };
        // `--flag=value` or `KEY=value` in the same word.
        if let Some((k, _)) = o.prefix.split_once('=') {
            let k = k.trim_start_matches('-');
            let last = k.rsplit('.').next().unwrap_or(k);
            if let Some(n) = sanitize(last) {
                votes.push((5, n));
                continue;
            }
        }
        if o.prefix.is_empty()
            && !BOOLEAN_FLAGS.contains(&prev)
            && !prev.starts_with("--no-")
            && let Some(n) = name_from_flag(prev)
        {
            votes.push((6, n));
            continue;
        }
        // The word around it: `tenant_acme` → tenant.
        let around = o
            .prefix
            .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
            .rsplit(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or("");
        if around.len() >= 3
            && around.chars().all(|c| c.is_ascii_alphabetic())
            && !word.starts_with('-')
            && !o.prefix.contains('/')
        {
            votes.push((4, around.to_ascii_lowercase()));
            continue;
        }
        // SQL: `CREATE DATABASE x`, `TO role`, `\c db`.
        let p = prev
            .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '\\')
            .to_ascii_lowercase();
        let sql = match p.as_str() {
            "database" | "\\c" | "\\connect" => Some("database"),
            "role" | "user" => Some(p.as_str()),
            "table" | "from" | "into" | "update" => Some("table"),
            "schema" => Some("schema"),
            _ => None,
        };
        if let Some(n) = sql {
            votes.push((3, n.to_string()));
            continue;
        }
        // The noun of a verb-noun subcommand: `iamctl disable-user x`.
        if o.at == 2
            && let Some((_, noun)) = o.words[1].rsplit_once('-')
            && noun.len() >= 3
            && noun.chars().all(|c| c.is_ascii_lowercase())
            && !o.words[1].starts_with('-')
        {
            votes.push((2, noun.to_string()));
            continue;
        }
        // The program: `createdb x`, `ssh x`, `./register-tenant x`. A
        // database client's own argument is a database; words inside its
        // quoted statement are not.
        let program = o.words.first().map(String::as_str).unwrap_or("");
        let base = crate::classify::base_name(program);
        let quoted = o.words[..o.at]
            .iter()
            .map(|w| w.matches(['"', '\'']).count())
            .sum::<usize>()
            % 2
            == 1
            || word.starts_with(['"', '\'']);
        let by_program = match base {
            "createdb" | "dropdb" | "pg_dump" | "pg_restore" | "psql" | "mysql" | "mariadb"
            | "mysqldump" | "mariadb-dump" | "mysqladmin" | "mariadb-admin"
                if !quoted =>
            {
                Some("database".to_string())
            }
            "psql" | "mysql" | "mariadb" | "sqlite3" => None,
            "createuser" | "dropuser" | "useradd" | "userdel" | "adduser" => Some("user".into()),
            "ssh" | "scp" | "ping" => Some("host".into()),
            _ => base
                .rsplit(['-', '_'])
                .next()
                .filter(|w| {
                    w.len() >= 3 && *w != base && w.chars().all(|c| c.is_ascii_alphabetic())
                })
                .map(|w| w.to_ascii_lowercase()),
        };
        if let Some(n) = by_program {
            votes.push((2, n));
            continue;
        }
        let uuid = value.len() == 36
            && value.chars().filter(|c| *c == '-').count() == 4
            && value.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        if uuid {
            votes.push((1, "id".into()));
        } else if value.chars().all(|c| c.is_ascii_digit()) {
            votes.push((1, "number".into()));
        } else if value.contains('/') {
            votes.push((1, "path".into()));
        } else if value.contains('@') {
            votes.push((1, "email".into()));
        } else {
            votes.push((0, "value".into()));
        }
    }
    // Evidence adds up: one flag outweighs a single guess from the program,
    // but three places that call it a database outweigh one odd flag.
    let mut scores: Vec<(String, u32, u8)> = Vec::new();
    for (p, n) in &votes {
        match scores.iter_mut().find(|(m, ..)| m == n) {
            Some((_, total, top)) => {
                *total += u32::from(*p);
                *top = (*top).max(*p);
            }
            None => scores.push((n.clone(), u32::from(*p), *p)),
        }
    }
    scores
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.2.cmp(&b.2)).then(b.0.cmp(&a.0)))
        .map(|(n, ..)| n)
        .unwrap_or_else(|| "value".into())
}

/// Flags that switch something on and take no value: the word after one is
/// an argument of its own.
const BOOLEAN_FLAGS: &[&str] = &[
    "--force",
    "--all",
    "--verbose",
    "--quiet",
    "--dry-run",
    "--yes",
    "--recursive",
    "--routines",
    "--triggers",
    "--events",
    "--single-transaction",
    "--wait",
    "--atomic",
    "--install",
    "--debug",
    "--help",
    "--version",
    "--rm",
    "--insecure",
    "--temporary",
    "--ff-only",
    "--rebase",
    "--prune",
    "--tags",
    "--follow",
    "--watch",
    "-v",
    "-q",
    "-y",
    "-a",
    "-R",
    "--create",
    "--clean",
    "--if-exists",
    "--no-owner",
    "--local",
    "--global",
    "-force",
    "-auto-approve",
    "--auto-approve",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(lines: &[&str]) -> (Vec<String>, Params) {
        let mut p = Params::default();
        let out = lines.iter().map(|l| p.substitute(l)).collect();
        (out, p)
    }

    fn runs(rs: &[&[&str]]) -> Vec<Vec<String>> {
        rs.iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect()
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
            "iamctl set-password --password '[REDACTED:generic]'",
        ]);
        assert_eq!(out[0], "git checkout <<commit>>");
        assert_eq!(out[1], "./notify.sh <<ticket>> <<date>>");
        assert_eq!(out[2], "ssh deploy@<<host>>");
        assert!(out[3].contains("<<auth_header>>"), "{}", out[3]);
        assert_eq!(out[4], "iamctl set-password --password '<<password>>'");
        assert!(
            p.found
                .iter()
                .any(|f| f.name == "password" && f.secret && f.value.is_empty())
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
    fn a_loop_over_values_is_one_parameter_named_by_what_it_feeds() {
        let (out, p) = sub(&[
            "for d in 2026-11-01 2026-11-02; do ./bin/backfill --date \"$d\"; done",
            "git tag -a v1.8.0 && ./publish.sh 1.8.0",
        ]);
        assert_eq!(
            out[0],
            "for d in <<dates>>; do ./bin/backfill --date \"$d\"; done"
        );
        assert_eq!(
            out[1],
            "git tag -a v<<version>> && ./publish.sh <<version>>"
        );
        assert_eq!(p.found[0].value, "2026-11-01 2026-11-02");
    }

    #[test]
    fn two_versions_in_one_run_get_two_names() {
        let (out, _) = sub(&["./upgrade.sh 1.4.2 1.5.0"]);
        assert_eq!(out[0], "./upgrade.sh <<version>> <<version_2>>");
    }

    #[test]
    fn output_is_never_a_source_of_parameters() {
        let (_, p) = sub(&["./bin/nightly-dump shop"]);
        assert_eq!(
            p.substitute_known("wrote dump.sql sha256 3f2a9c1e77"),
            "wrote dump.sql sha256 3f2a9c1e77"
        );
        assert!(p.found.is_empty());
    }

    #[test]
    fn a_value_inside_longer_names_is_one_parameter_named_by_its_context() {
        let plan = plan(&runs(&[
            &[
                "createdb tenant_acme",
                "psql -d tenant_acme -c \"CREATE ROLE acme_app LOGIN\"",
                "./bin/register-tenant acme",
            ],
            &[
                "createdb tenant_globex",
                "psql -d tenant_globex -c \"CREATE ROLE globex_app LOGIN\"",
                "./bin/register-tenant globex",
            ],
        ]));
        assert_eq!(plan.len(), 1, "{plan:?}");
        assert_eq!(plan[0].name, "tenant");
        assert_eq!(
            plan[0].values,
            [Some("acme".to_string()), Some("globex".to_string())]
        );
        let mut p = Params::for_run(&plan, &[], 1);
        assert_eq!(
            p.substitute("psql -d tenant_globex -c \"CREATE ROLE globex_app LOGIN\""),
            "psql -d tenant_<<tenant>> -c \"CREATE ROLE <<tenant>>_app LOGIN\""
        );
        assert_eq!(
            p.substitute_known("registered tenant globex (id 17)"),
            "registered tenant <<tenant>> (id 17)"
        );
    }

    #[test]
    fn names_come_from_flags_keys_and_programs() {
        let plan = plan(&runs(&[
            &[
                "pg_dump -d shop_a -t orders",
                "kubectl rollout status deploy/web -n staging",
                "helm upgrade web charts/web --set image.tag=abc",
            ],
            &[
                "pg_dump -d shop_b -t orders",
                "kubectl rollout status deploy/web -n prod",
                "helm upgrade web charts/web --set image.tag=def",
            ],
        ]));
        let names: Vec<&str> = plan.iter().map(|v| v.name.as_str()).collect();
        assert!(names.contains(&"database"), "{plan:?}");
        assert!(names.contains(&"namespace"), "{plan:?}");
        assert!(names.contains(&"tag"), "{plan:?}");
        let db = plan.iter().find(|v| v.name == "database").unwrap();
        assert_eq!(db.values[0].as_deref(), Some("shop_a"));
    }

    #[test]
    fn names_are_voted_on_and_boolean_flags_do_not_name_values() {
        let plan = plan(&runs(&[
            &[
                "mariadb-dump --single-transaction --triggers billing_eu",
                "mariadb -e \"CREATE DATABASE billing_eu_reporting\"",
                "iamctl disable-user achen --reason leaver",
                "psql -c \"REASSIGN OWNED BY achen TO owner\"",
            ],
            &[
                "mariadb-dump --single-transaction --triggers billing_us",
                "mariadb -e \"CREATE DATABASE billing_us_reporting\"",
                "iamctl disable-user bpatel --reason leaver",
                "psql -c \"REASSIGN OWNED BY bpatel TO owner\"",
            ],
        ]));
        let names: Vec<&str> = plan.iter().map(|v| v.name.as_str()).collect();
        assert!(names.contains(&"database"), "{plan:?}");
        assert!(names.contains(&"user"), "{plan:?}");
    }

    #[test]
    fn a_short_value_is_replaced_only_where_it_was_seen() {
        let plan = plan(&runs(&[
            &["kubectl scale deploy/web --replicas=3", "head -3 log"],
            &["kubectl scale deploy/web --replicas=5", "head -3 log"],
        ]));
        assert_eq!(plan.len(), 1, "{plan:?}");
        assert_eq!(plan[0].name, "replicas");
        let mut p = Params::for_run(&plan, &[], 0);
        assert_eq!(
            p.substitute("kubectl scale deploy/web --replicas=3"),
            "kubectl scale deploy/web --replicas=<<replicas>>"
        );
        assert_eq!(p.substitute("head -3 log"), "head -3 log");
    }

    #[test]
    fn subtokens_are_whole() {
        assert_eq!(
            replace_subtoken("tenant_acme acmeco", "acme", "X"),
            "tenant_X acmeco"
        );
        assert_eq!(replace_subtoken("<<acme>>", "acme", "X"), "<<acme>>");
    }
}
