//! Stages 1 and 4: what is noise, and whether a command is a prerequisite,
//! an action or a check. In-session marks always win over heuristics.

use crate::view::Cmd;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Prereq,
    Action,
    Check,
}

/// The program a command line runs, past `sudo`, `env` and `VAR=x`.
pub fn program(command: &str) -> &str {
    command
        .split_whitespace()
        .find(|w| !matches!(*w, "sudo" | "env" | "time" | "nohup" | "exec") && !is_assignment(w))
        .unwrap_or("")
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The script or binary name without folder and extension: `./deploy/build.sh`
/// → `build`.
pub fn base_name(program: &str) -> &str {
    let base = program.rsplit('/').next().unwrap_or(program);
    base.split('.').next().unwrap_or(base)
}

const NOISE_PROGRAMS: &[&str] = &[
    "ls", "ll", "la", "l", "pwd", "clear", "history", "reset", "cls", "man", "help", "exit",
    "logout",
];

/// Read-only commands that inspect state. They are how an operator looks
/// around; they are not steps unless the operator marked them.
const INSPECTION_PROGRAMS: &[&str] = &[
    "cat",
    "less",
    "more",
    "head",
    "tail",
    "ps",
    "pgrep",
    "df",
    "du",
    "free",
    "top",
    "htop",
    "echo",
    "printf",
    "date",
    "uptime",
    "whoami",
    "id",
    "hostname",
    "env",
    "printenv",
    "stat",
    "file",
    "wc",
    "grep",
    "find",
    "tree",
    "journalctl",
    "dmesg",
    "lsof",
    "ss",
    "netstat",
    "ip",
];

/// Programs that only filter what is piped into them.
const FILTERS: &[&str] = &[
    "grep", "egrep", "fgrep", "rg", "wc", "head", "tail", "sort", "uniq", "jq", "yq", "awk", "sed",
    "cut", "tr", "less", "more", "cat", "column", "nl", "tee",
];

/// Subcommands of tools that only read.
fn is_read_only_subcommand(words: &[&str]) -> bool {
    let prog = words.first().map(|w| base_name(w)).unwrap_or("");
    let sub = words.get(1).copied().unwrap_or("");
    match prog {
        "git" => matches!(
            sub,
            "status" | "log" | "diff" | "show" | "branch" | "remote" | "blame"
        ),
        "docker" | "podman" => matches!(sub, "ps" | "images" | "logs" | "inspect"),
        "kubectl" => matches!(sub, "get" | "describe" | "logs" | "top" | "explain"),
        "systemctl" => matches!(sub, "status" | "is-active" | "list-units"),
        "helm" => matches!(sub, "list" | "status" | "history"),
        "psql" | "mysql" | "mariadb" | "sqlite3" | "sqlcmd" => is_sql_query(&words[1..]),
        // redis-cli [-h host …] GET key: the first word that is not a flag
        // or a flag's value is the command.
        "redis-cli" | "valkey-cli" | "keydb-cli" => {
            if words
                .iter()
                .any(|w| *w == "--scan" || *w == "--bigkeys" || *w == "--stat")
            {
                return true;
            }
            let mut i = 1;
            while i < words.len() && words[i].starts_with('-') {
                i += if matches!(
                    words[i],
                    "-h" | "-p" | "-a" | "-n" | "-u" | "--user" | "--pass"
                ) {
                    2
                } else {
                    1
                };
            }
            matches!(
                words.get(i).map(|w| w.to_ascii_uppercase()).as_deref(),
                Some(
                    "GET"
                        | "MGET"
                        | "TTL"
                        | "PTTL"
                        | "EXISTS"
                        | "KEYS"
                        | "SCAN"
                        | "INFO"
                        | "TYPE"
                        | "HGET"
                        | "HGETALL"
                        | "HKEYS"
                        | "HLEN"
                        | "LRANGE"
                        | "LLEN"
                        | "SMEMBERS"
                        | "SCARD"
                        | "ZRANGE"
                        | "ZCARD"
                        | "PING"
                        | "DBSIZE"
                        | "STRLEN"
                        | "MONITOR"
                        | "SLOWLOG"
                        | "CLIENT"
                        | "MEMORY"
                        | "OBJECT"
                        | "XINFO"
                        | "XLEN"
                )
            )
        }
        "tar" | "bsdtar" => words[1..].iter().any(|w| {
            *w == "--list"
                || (w.starts_with('-') && !w.starts_with("--") && w.contains('t'))
                || (!w.starts_with('-')
                    && w.len() <= 5
                    && w.starts_with('t')
                    && w.chars().all(|c| c.is_ascii_lowercase()))
        }),
        // Verb-noun subcommands that show: `show-user`, `list-keys`.
        _ if ["show-", "get-", "list-", "describe-", "view-"]
            .iter()
            .any(|p| sub.starts_with(p)) =>
        {
            true
        }
        // Any tool: subcommands that by convention only show things.
        _ => matches!(
            sub,
            "logs"
                | "log"
                | "show"
                | "list"
                | "ls"
                | "get"
                | "describe"
                | "inspect"
                | "info"
                | "ps"
                | "top"
                | "history"
                | "whoami"
                | "cat"
                | "output"
                | "outputs"
        ),
    }
}

/// An SQL client asked only to read: a SELECT, or a meta-command that lists
/// or describes (`\du`, `.tables`, `.schema`).
fn is_sql_query(args: &[&str]) -> bool {
    let text = args.join(" ");
    let t = text.to_ascii_uppercase();
    let statement = t
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .find(|w| {
            matches!(
                *w,
                "SELECT"
                    | "INSERT"
                    | "UPDATE"
                    | "DELETE"
                    | "CREATE"
                    | "DROP"
                    | "ALTER"
                    | "GRANT"
                    | "REVOKE"
                    | "TRUNCATE"
                    | "COPY"
                    | "VACUUM"
                    | "PRAGMA"
                    | "WITH"
                    | "CALL"
                    | "BEGIN"
                    | "SET"
                    | "REFRESH"
                    | "REINDEX"
                    | "SHOW"
                    | "DESCRIBE"
                    | "DESC"
                    | "EXPLAIN"
                    | "REASSIGN"
                    | "RENAME"
                    | "FLUSH"
                    | "KILL"
                    | "OPTIMIZE"
            )
        });
    let meta = args.iter().any(|a| {
        let a = a.trim_matches(['"', '\'']);
        (a.starts_with("\\d") || a == "\\l" || a == "\\dt" || a == "\\du")
            || matches!(
                a,
                ".tables" | ".schema" | ".indexes" | ".databases" | ".dbinfo"
            )
    });
    match statement {
        Some("SELECT") => !t.contains(" INTO "),
        Some("SHOW" | "DESCRIBE" | "DESC" | "EXPLAIN") => true,
        Some(_) => false,
        None => meta,
    }
}

/// Typos (127), listings and screen clearing: never part of a procedure.
pub fn is_noise(cmd: &Cmd) -> bool {
    if cmd.exit_code == Some(127) {
        return true;
    }
    let p = base_name(program(&cmd.command));
    NOISE_PROGRAMS.contains(&p)
        || p == "tacit"
        || asks_for_help(&cmd.command)
        || cmd.command == tacit_core::UNRECORDED_COMMAND
}

/// `tool --help`, `tool -h`, `tool help`: reading the manual, not work
/// (also piped into a filter: `tool --help | grep pattern`).
fn asks_for_help(command: &str) -> bool {
    if let Some((first, _)) = command.split_once('|')
        && !command.contains("||")
    {
        return asks_for_help(first.trim());
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        [_, "--help" | "-h" | "help" | "-help"] => true,
        [_, sub, "--help" | "-h" | "help"] => !sub.starts_with('-'),
        [p, ..] => matches!(base_name(p), "tldr" | "info" | "apropos" | "whatis"),
        [] => false,
    }
}

/// A command that only looks at state, and carries no mark of the operator.
pub fn is_inspection(cmd: &Cmd) -> bool {
    if cmd.marked_check || cmd.marked_prereq || !cmd.why.is_empty() || cmd.tool.is_some() {
        return false;
    }
    is_look(&cmd.command)
}

/// A command line that only looks at state. A pipeline looks when its
/// first stage looks and the rest only filter (`… | grep x | wc -l`).
pub fn is_look(command: &str) -> bool {
    if command.contains('|') && !command.contains("||") {
        let mut stages = command.split('|');
        let first = stages.next().unwrap_or("");
        return is_look(first)
            && stages.all(|st| {
                let p = base_name(program(st));
                FILTERS.contains(&p) && !(p == "sed" && st.contains(" -i"))
            });
    }
    let cmd_line = command;
    let words: Vec<&str> = cmd_line
        .split_whitespace()
        .skip_while(|w| is_assignment(w) || *w == "sudo")
        .collect();
    let p = words.first().map(|w| base_name(w)).unwrap_or("");
    // A pipeline or `||`/`&&` list that changes something is not inspection.
    if cmd_line.contains("||") || cmd_line.contains("&&") || cmd_line.contains('>') {
        return false;
    }
    INSPECTION_PROGRAMS.contains(&p) || is_read_only_subcommand(&words)
}

const PREREQ_NAMES: &[&str] = &[
    "check-env",
    "checkenv",
    "check_env",
    "preflight",
    "prereq",
    "prereqs",
    "precheck",
    "env-check",
    "doctor",
    "requirements",
];
const CHECK_WORDS: &[&str] = &[
    "health",
    "healthz",
    "healthcheck",
    "verify",
    "smoke",
    "status",
    "check",
    "validate",
    "probe",
    "ready",
    "readyz",
    "livez",
];

/// Editors: the work they do is a manual step ("Edit FILE"), not a command
/// to replay. Returns the file edited, when one was named.
pub fn editor_target(command: &str) -> Option<Option<String>> {
    let words: Vec<&str> = command
        .split_whitespace()
        .skip_while(|w| is_assignment(w) || *w == "sudo")
        .collect();
    let p = base_name(words.first().copied().unwrap_or(""));
    let editor = matches!(
        p,
        "vim"
            | "vi"
            | "nvim"
            | "nano"
            | "emacs"
            | "micro"
            | "hx"
            | "ed"
            | "code"
            | "sudoedit"
            | "pico"
            | "joe"
    ) || words
        .first()
        .is_some_and(|w| *w == "$EDITOR" || *w == "${EDITOR}" || *w == "$VISUAL");
    if !editor {
        return None;
    }
    let file = words
        .iter()
        .skip(1)
        .find(|w| !w.starts_with('-') && !w.starts_with('+'))
        .map(|w| w.to_string());
    Some(file)
}

/// A command that reports on state: a check by name or subcommand, or a
/// read-only look. A run that starts with one failing is a diagnosis.
pub fn is_check_like(cmd: &Cmd) -> bool {
    if cmd.marked_prereq {
        return false;
    }
    if classify(cmd) == Kind::Check {
        return true;
    }
    let words: Vec<&str> = cmd
        .command
        .split_whitespace()
        .skip_while(|w| is_assignment(w) || *w == "sudo")
        .collect();
    let p = words.first().map(|w| base_name(w)).unwrap_or("");
    INSPECTION_PROGRAMS.contains(&p) || is_read_only_subcommand(&words)
}

pub fn classify(cmd: &Cmd) -> Kind {
    // Work done with another tool is work, whatever its words.
    if cmd.tool.is_some() {
        return Kind::Action;
    }
    if cmd.marked_prereq {
        return Kind::Prereq;
    }
    if cmd.marked_check {
        return Kind::Check;
    }
    let line = cmd.command.as_str();
    let prog = program(line);
    let base = base_name(prog).to_ascii_lowercase();
    let second = line.split_whitespace().nth(1).unwrap_or("");
    if line.contains("--version")
        || (second == "version" && !base.is_empty())
        || matches!(prog, "command" | "which" | "type" | "hash")
        || PREREQ_NAMES.iter().any(|n| base == *n)
    {
        return Kind::Prereq;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let sub = words.get(1).copied().unwrap_or("");
    let test_runner = matches!(
        (base.as_str(), sub),
        ("cargo", "test")
            | ("npm", "test")
            | ("yarn", "test")
            | ("go", "test")
            | ("make", "test" | "check")
    ) || matches!(base.as_str(), "pytest" | "tox" | "jest" | "rspec");
    let curl_health = matches!(base.as_str(), "curl" | "wget" | "http")
        && CHECK_WORDS
            .iter()
            .any(|w| line.to_ascii_lowercase().contains(&format!("/{w}")));
    let named_check = CHECK_WORDS.iter().any(|w| {
        base == *w
            // `selfcheck`, `dbverify`: a check by its last word.
            || (base.ends_with(w) && base.len() > w.len() + 2 && *w != "status")
            || base.starts_with(&format!("{w}-"))
            || base.ends_with(&format!("-{w}"))
            || base.starts_with(&format!("{w}_"))
    });
    let rollout_status = base == "kubectl" && sub == "rollout" && words.get(2) == Some(&"status");
    // `svcctl status ingest`, `app health`: a subcommand that reports.
    let check_subcommand = matches!(
        sub,
        "status" | "health" | "healthcheck" | "check" | "verify" | "ping" | "selftest"
    ) && !matches!(base.as_str(), "terraform" | "tofu");
    if test_runner || curl_health || named_check || rollout_status || check_subcommand {
        Kind::Check
    } else {
        Kind::Action
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use tacit_sop::SourceRef;

    fn cmd(line: &str, exit: i32) -> Cmd {
        Cmd {
            source: SourceRef {
                run_id: "r".into(),
                seq: 1,
            },
            command: line.into(),
            cwd: ".".into(),
            exit_code: Some(exit),
            output: String::new(),
            step_title: None,
            marked_check: false,
            marked_prereq: false,
            why: vec![],
            answer: None,
            answer_source: None,
            tool: None,
        }
    }

    #[rstest]
    #[case("./deploy/check-env.sh", Kind::Prereq)]
    #[case("terraform --version", Kind::Prereq)]
    #[case("command -v jq", Kind::Prereq)]
    #[case("./deploy/health.sh 1.4.2", Kind::Check)]
    #[case("curl -fsS https://x.example.com/healthz", Kind::Check)]
    #[case("cargo test --workspace", Kind::Check)]
    #[case("kubectl rollout status deploy/web", Kind::Check)]
    #[case("./scripts/selfcheck.sh", Kind::Check)]
    #[case("./deploy/build.sh 1.4.2", Kind::Action)]
    #[case("./deploy/migrate.sh", Kind::Action)]
    #[case("git pull", Kind::Action)]
    #[case("sudo systemctl restart nginx", Kind::Action)]
    fn classification(#[case] line: &str, #[case] want: Kind) {
        assert_eq!(classify(&cmd(line, 0)), want);
    }

    #[test]
    fn marks_win_over_heuristics() {
        let mut c = cmd("./deploy/build.sh", 0);
        c.marked_check = true;
        assert_eq!(classify(&c), Kind::Check);
        c.marked_prereq = true;
        assert_eq!(classify(&c), Kind::Prereq);
    }

    #[rstest]
    #[case("ls -la", 0, true)]
    #[case("pwd", 0, true)]
    #[case("clear", 0, true)]
    #[case("history", 0, true)]
    #[case("gti pull", 127, true)]
    #[case("tacit note hi", 0, true)]
    #[case("./bin/backfill --help", 0, true)]
    #[case("kubectl rollout -h", 0, true)]
    #[case("redis-cli --help | grep -A1 -- --pattern", 0, true)]
    #[case("./bin/backfill --db x --help-me", 0, false)]
    #[case("git pull", 0, false)]
    fn noise(#[case] line: &str, #[case] exit: i32, #[case] want: bool) {
        assert_eq!(is_noise(&cmd(line, exit)), want);
    }

    #[rstest]
    #[case("cat ../state/migrate.lock", true)]
    #[case("git status", true)]
    #[case("kubectl get pods", true)]
    #[case("svcctl logs ingest", true)]
    #[case("psql -d shop -c \"SELECT count(*) FROM orders\"", true)]
    #[case("psql -d t -c \"\\du acme_app\"", true)]
    #[case("sqlite3 app.db .tables", true)]
    #[case("psql -d shop -c \"DELETE FROM orders WHERE id = 1\"", false)]
    #[case("sqlite3 app.db \"PRAGMA integrity_check\"", false)]
    #[case("svcctl restart ingest", false)]
    #[case("redis-cli -h 127.0.0.1 TTL cfg:x:version", true)]
    #[case("redis-cli --scan --pattern 'cfg:x:*' | wc -l", true)]
    #[case("redis-cli --scan --pattern 'cfg:x:*' | xargs redis-cli DEL", false)]
    #[case("mariadb -e \"SHOW DATABASES LIKE 'billing%'\"", true)]
    #[case("kubectl get pods -o json | jq '.items[].status'", true)]
    #[case("cat x | sed -i s/a/b/ y", false)]
    #[case("tar -tzf archive/x.tar.gz | wc -l", true)]
    #[case("tar -czf archive/x.tar.gz -C home x", false)]
    #[case("iamctl show-user bob", true)]
    #[case("ps -p 4242 || rm ../state/migrate.lock", false)]
    #[case("echo x > file", false)]
    #[case("./deploy/migrate.sh", false)]
    fn inspection(#[case] line: &str, #[case] want: bool) {
        assert_eq!(is_inspection(&cmd(line, 0)), want);
    }
}
