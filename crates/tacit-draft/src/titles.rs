//! Stage: step titles. A `tacit step` title wins; otherwise common command
//! shapes (SQL statements, kubectl, helm, systemctl, docker, terraform,
//! openssl, curl, file operations) get imperative titles; otherwise the
//! script's name is read as one ("register-tenant" → "Register tenant").

use crate::classify::{base_name, program};

/// The words of a command line from its program on, with quotes removed
/// from each word's ends.
fn words_from_program(command: &str) -> Vec<String> {
    let prog = program(command);
    command
        .split_whitespace()
        .skip_while(|w| *w != prog)
        .map(|w| w.trim_matches(['"', '\'']).to_string())
        .collect()
}

/// The first word after `sub` that is not a flag (and not a flag's value
/// when the flag takes one, which we cannot know: a best effort).
fn operand(words: &[String], from: usize) -> &str {
    words
        .iter()
        .skip(from)
        .find(|w| !w.starts_with('-') && !w.is_empty())
        .map(String::as_str)
        .unwrap_or("")
}

/// A short display name for a file or resource: its last path part.
fn short(s: &str) -> &str {
    s.trim_end_matches('/').rsplit('/').next().unwrap_or(s)
}

/// `--flag VALUE` or `--flag=VALUE`.
fn flag_value<'a>(words: &'a [String], flags: &[&str]) -> Option<&'a str> {
    for (i, w) in words.iter().enumerate() {
        for f in flags {
            if w == f {
                return words.get(i + 1).map(String::as_str);
            }
            if let Some(v) = w.strip_prefix(&format!("{f}=")) {
                return Some(v);
            }
        }
    }
    None
}

/// An imperative title for a command line.
pub fn title_for(command: &str) -> String {
    if let Some(t) = loop_title(command) {
        return t;
    }
    let prog = program(command);
    let words = words_from_program(command);
    // `. file` is `source file`.
    let base = if prog == "." {
        "source".to_string()
    } else {
        base_name(prog).to_ascii_lowercase()
    };
    let sub = words.get(1).map(String::as_str).unwrap_or("");
    let sub2 = words.get(2).map(String::as_str).unwrap_or("");
    let last_arg = words
        .iter()
        .skip(1)
        .rev()
        .find(|w| !w.starts_with('-'))
        .map(String::as_str)
        .unwrap_or("");
    if let Some(t) = sql_title(&base, command, &words) {
        return t;
    }
    let fixed: Option<String> = match (base.as_str(), sub) {
        ("git", "pull") => Some("Pull the latest code".into()),
        ("git", "clone") => Some("Clone the repository".into()),
        ("git", "fetch") => Some("Fetch the latest changes".into()),
        ("git", "checkout" | "switch") if sub2 == "-b" || sub2 == "-c" => {
            Some(format!("Create branch {}", operand(&words, 3)))
        }
        ("git", "checkout" | "switch") => Some(format!("Check out {last_arg}")),
        ("git", "merge") => Some(format!("Merge {last_arg}")),
        ("git", "rebase") => Some(format!("Rebase onto {last_arg}")),
        ("git", "push") if words.iter().any(|w| w == "--tags") => Some("Push the tags".into()),
        ("git", "push") => Some("Push the changes".into()),
        ("git", "tag") => Some("Tag the release".into()),
        ("git", "commit") => Some("Commit the changes".into()),
        ("git", "add") => Some("Stage the changes".into()),
        ("git", "reset") => Some("Reset the working tree".into()),
        ("git", "clean") => Some("Remove untracked files".into()),
        ("git", "stash") => Some("Stash local changes".into()),
        ("cargo", "build") => Some("Build the project".into()),
        ("cargo", "test") => Some("Run the tests".into()),
        ("cargo", "install") => Some(format!("Install {last_arg}")),
        ("cargo", "publish") => Some("Publish the crate".into()),
        ("npm" | "yarn" | "pnpm", "install" | "ci") => Some("Install dependencies".into()),
        ("npm" | "yarn" | "pnpm", "test") => Some("Run the tests".into()),
        ("npm" | "yarn" | "pnpm", "run") => Some(format!("Run the {sub2} script")),
        ("npm", "publish") => Some("Publish the package".into()),
        ("make", "") => Some("Build with make".into()),
        ("make", target) => Some(format!("Run make {target}")),
        ("docker" | "podman", "build") => Some("Build the container image".into()),
        ("docker" | "podman", "push") => Some("Push the container image".into()),
        ("docker" | "podman", "pull") => Some("Pull the container image".into()),
        ("docker" | "podman", "tag") => Some("Tag the container image".into()),
        ("docker" | "podman", "run") => Some("Run the container".into()),
        ("docker" | "podman", "exec") => Some(format!("Run a command in {}", operand(&words, 2))),
        ("docker" | "podman", "stop") => Some(format!("Stop container {}", operand(&words, 2))),
        ("docker" | "podman", "restart") => {
            Some(format!("Restart container {}", operand(&words, 2)))
        }
        ("docker" | "podman", "rm") => Some(format!("Remove container {}", operand(&words, 2))),
        ("docker" | "podman", "login") => Some("Log in to the registry".into()),
        ("docker" | "podman", "image" | "system") if sub2 == "prune" => {
            Some("Prune unused images".into())
        }
        ("docker" | "podman", "compose") if sub2 == "up" => Some("Start the services".into()),
        ("docker" | "podman", "compose") if sub2 == "down" => Some("Stop the services".into()),
        ("docker" | "podman", "compose") if sub2 == "pull" => {
            Some("Pull the service images".into())
        }
        ("docker-compose", "up") => Some("Start the services".into()),
        ("docker-compose", "down") => Some("Stop the services".into()),
        ("kubectl", _) => kubectl_title(&words),
        ("helm", _) => helm_title(&words),
        ("terraform" | "tofu", "init") => Some("Initialise Terraform".into()),
        ("terraform" | "tofu", "plan") => Some("Plan the infrastructure changes".into()),
        ("terraform" | "tofu", "apply") => Some("Apply the infrastructure changes".into()),
        ("terraform" | "tofu", "destroy") => Some("Destroy the infrastructure".into()),
        ("terraform" | "tofu", "import") => Some("Import the existing resource".into()),
        ("terraform" | "tofu", "force-unlock") => Some("Release the state lock".into()),
        ("terraform" | "tofu", "output") => Some("Read the Terraform outputs".into()),
        ("terraform" | "tofu", "validate") => Some("Validate the configuration".into()),
        ("terraform" | "tofu", "fmt") => Some("Format the configuration".into()),
        ("terraform" | "tofu", "workspace") => Some(format!("Select workspace {last_arg}")),
        ("terraform" | "tofu", "state") => Some(format!("Change the Terraform state ({sub2})")),
        ("systemctl", "daemon-reload") => Some("Reload the systemd units".into()),
        ("systemctl", "restart") => Some(format!("Restart {}", unit(last_arg))),
        ("systemctl", "start") => Some(format!("Start {}", unit(last_arg))),
        ("systemctl", "stop") => Some(format!("Stop {}", unit(last_arg))),
        ("systemctl", "reload") => Some(format!("Reload {}", unit(last_arg))),
        ("systemctl", "enable") => Some(format!("Enable {}", unit(last_arg))),
        ("systemctl", "disable") => Some(format!("Disable {}", unit(last_arg))),
        ("systemctl", "status" | "is-active") => Some(format!("Check {}", unit(last_arg))),
        ("service", _) if !sub2.is_empty() => Some(format!("{} {sub}", upper_first(sub2))),
        ("openssl", _) => openssl_title(&words),
        ("ssh", _) => Some(format!(
            "Connect to {}",
            last_arg.split('@').next_back().unwrap_or(last_arg)
        )),
        ("scp" | "rsync", _) => Some("Copy the files".into()),
        ("aws", "s3") => Some("Sync files with S3".into()),
        ("aws", "ecs") if sub2 == "update-service" => Some("Update the ECS service".into()),
        ("gcloud", _) if command.contains("deploy") => Some("Deploy with gcloud".into()),
        ("curl" | "wget" | "http", _) => Some(curl_title(command, &words)),
        ("pip" | "pip3", "install") => Some("Install Python packages".into()),
        ("python" | "python3", "-m") => Some(match sub2 {
            "venv" | "virtualenv" => "Create the virtualenv".to_string(),
            "pip" => "Install Python packages".to_string(),
            "unittest" | "pytest" => "Run the tests".to_string(),
            "build" => "Build the package".to_string(),
            m => format!("Run {m}"),
        }),
        ("apt-get" | "apt", "install") => Some("Install system packages".into()),
        ("apt-get" | "apt", "update") => Some("Update the package lists".into()),
        ("tar", _) if words.iter().any(|w| w.starts_with('-') && w.contains('c')) => {
            Some("Create the archive".into())
        }
        ("tar", _) => Some("Unpack the archive".into()),
        ("gzip" | "xz" | "zstd" | "bzip2", _) => Some(format!("Compress {}", short(last_arg))),
        ("cp", _) => Some(format!(
            "Copy {} to {}",
            short(operand(&words, 1)),
            short(last_arg)
        )),
        ("mv", _) => Some(format!(
            "Move {} to {}",
            short(operand(&words, 1)),
            short(last_arg)
        )),
        ("mkdir", _) => Some(format!("Create folder {}", short(last_arg))),
        ("ln", _) => Some(format!("Link {}", short(last_arg))),
        ("rm", _) => Some(format!("Remove {}", short(last_arg))),
        ("chmod", _) => Some(format!("Set permissions on {}", short(last_arg))),
        ("chown", _) => Some(format!("Change the owner of {}", short(last_arg))),
        ("sed", _) if words.iter().any(|w| w.starts_with("-i")) => {
            Some(format!("Edit {} in place", short(last_arg)))
        }
        ("kill" | "pkill" | "killall", _) => Some("Stop the stray process".into()),
        ("truncate", _) => Some(format!("Truncate {}", short(last_arg))),
        ("touch", _) => Some(format!("Create {}", short(last_arg))),
        ("source" | ".", _) => Some(format!("Load {}", short(last_arg))),
        ("export", _) => Some(format!("Set {}", sub.split('=').next().unwrap_or(sub))),
        ("sleep", _) => Some("Wait".into()),
        ("createdb", _) => Some("Create the database".into()),
        ("dropdb", _) => Some("Drop the database".into()),
        ("createuser", _) => Some("Create the database user".into()),
        ("pg_dump" | "mysqldump", _) => Some("Dump the database".into()),
        ("pg_restore", _) if words.iter().any(|w| w == "--list" || w == "-l") => {
            Some("List the dump's contents".into())
        }
        ("pg_restore", _) => Some("Restore from the dump".into()),
        ("vault", "kv") => Some(format!("{} the secret", upper_first(sub2))),
        ("vault", "operator") => Some(format!("Vault operator {sub2}")),
        _ => None,
    };
    if let Some(t) = fixed
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
    {
        return t;
    }
    if let Some(t) = script_title(&base) {
        return t;
    }
    // A tool on the PATH with a subcommand (`svcctl restart ingest`,
    // `iamctl create-user bob`); a script's words are only arguments.
    let is_script = prog.contains('/') || prog.contains('.');
    let subcommand = !is_script
        && sub.len() >= 2
        && sub.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && !sub.starts_with('-');
    if subcommand {
        if sub.contains('-') {
            return humanize(sub);
        }
        if VERBS.contains(&sub) {
            return format!("{} {}", upper_first(sub), short(operand(&words, 2)))
                .trim()
                .to_string();
        }
        return format!("{} {sub}", humanize(&base));
    }
    let mode = matches!(
        sub,
        "on" | "off"
            | "up"
            | "down"
            | "start"
            | "stop"
            | "status"
            | "enable"
            | "disable"
            | "open"
            | "close"
            | "begin"
            | "end"
            | "pause"
            | "resume"
            | "plan"
            | "apply"
    );
    if is_script && mode && words.len() == 2 {
        // `maintenance.sh on`: the argument is the mode.
        return format!("{} {sub}", humanize(&base));
    }
    humanize(&base)
}

/// Subcommands that read as an imperative with their object.
const VERBS: &[&str] = &[
    "start", "stop", "restart", "reload", "deploy", "install", "upgrade", "enable", "disable",
    "sync", "publish", "build", "apply", "migrate", "backup", "restore", "register", "create",
    "delete", "remove", "add", "set", "update", "push", "pull", "run", "rotate", "renew", "issue",
    "revoke", "grant", "kill", "flush", "purge", "drain", "scale", "reset", "clean", "check",
    "verify", "rollback", "release", "promote", "load", "import", "export", "seed", "unlock",
    "lock", "pause", "resume", "refresh", "rebuild", "reindex", "compact", "prune", "archive",
];

/// `nginx.service` → `nginx`.
fn unit(u: &str) -> &str {
    u.strip_suffix(".service").unwrap_or(u)
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `for d in …; do ./backfill --date "$d"; done` → "Backfill for each d".
fn loop_title(command: &str) -> Option<String> {
    let rest = command.trim().strip_prefix("for ")?;
    let var = rest.split_whitespace().next()?;
    let body = rest.split_once("do ")?.1;
    let body = body.split(';').next().unwrap_or(body).trim();
    let body = body.strip_suffix("done").unwrap_or(body).trim();
    if body.is_empty() {
        return None;
    }
    let inner = title_for(body);
    Some(format!("{inner} for each {var}"))
}

/// Titles for SQL run through a client: the statement's verb and object.
fn sql_title(base: &str, command: &str, words: &[String]) -> Option<String> {
    let client = matches!(
        base,
        "psql" | "mysql" | "mariadb" | "sqlite3" | "sqlcmd" | "clickhouse-client" | "cockroach"
    );
    if !client {
        return None;
    }
    if let Some(file) = flag_value(words, &["-f", "--file"]) {
        return Some(format!("Run {}", short(file)));
    }
    // Input redirected from a file; `<<name>>` placeholders and heredocs
    // are not redirections.
    let redirect = command
        .match_indices('<')
        .find(|(at, _)| !command[at + 1..].starts_with('<') && !command[..*at].ends_with('<'))
        .map(|(at, _)| &command[at + 1..]);
    if let Some(file) = redirect {
        let f = file
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_matches(['"', '\'']);
        if !f.is_empty() {
            return Some(format!("Run {}", short(f)));
        }
    }
    // The statement: the first SQL verb after the program, wherever the
    // client takes it from (`-c`, `-e`, a positional argument).
    let sql = words[1..].join(" ");
    let sql_words: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ';' || c == '(')
        .filter(|w| !w.is_empty() && !w.starts_with('-'))
        .map(str::to_string)
        .collect();
    let upper: Vec<String> = sql_words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let start = upper.iter().position(|w| {
        matches!(
            w.as_str(),
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
                | "VACUUM"
                | "ANALYZE"
                | "REINDEX"
                | "COPY"
                | "\\COPY"
                | "REFRESH"
                | "CALL"
                | "BEGIN"
                | "SET"
                | "COMMENT"
                | "REASSIGN"
        )
    })?;
    let w = |k: usize| sql_words.get(start + k).map(String::as_str).unwrap_or("");
    let u = |k: usize| upper.get(start + k).map(String::as_str).unwrap_or("");
    let object = |k: usize| {
        // Skip IF [NOT] EXISTS and ONLY.
        let mut k = k;
        while matches!(u(k), "IF" | "NOT" | "EXISTS" | "ONLY" | "CONCURRENTLY") {
            k += 1;
        }
        w(k).trim_end_matches([',', ';', ')']).to_string()
    };
    let t = match u(0) {
        "SELECT" if upper.iter().any(|x| x.starts_with("COUNT")) => "Count the rows".to_string(),
        "SELECT" => "Query the database".to_string(),
        "INSERT" => format!("Insert rows into {}", object(2)),
        "UPDATE" => format!("Update {}", object(1)),
        "DELETE" => {
            let from = upper
                .iter()
                .position(|x| x == "FROM")
                .map(|i| i - start + 1)
                .unwrap_or(2);
            format!("Delete rows from {}", object(from))
        }
        "CREATE" => match u(1) {
            "UNIQUE" | "INDEX" => "Create the index".to_string(),
            "OR" => format!("Create or replace {}", w(3).to_ascii_lowercase()),
            kind => format!("Create {} {}", kind.to_ascii_lowercase(), object(2)),
        },
        "DROP" if u(1) == "OWNED" => format!("Drop what {} owns", object(3)),
        "DROP" => format!("Drop {} {}", u(1).to_ascii_lowercase(), object(2)),
        "REASSIGN" => format!("Reassign what {} owns", object(3)),
        "ALTER" => format!("Alter {} {}", u(1).to_ascii_lowercase(), object(2)),
        "GRANT" => {
            let to = upper
                .iter()
                .position(|x| x == "TO")
                .and_then(|i| sql_words.get(i + 1));
            match to {
                Some(r) => format!("Grant privileges to {}", r.trim_end_matches(';')),
                None => "Grant privileges".to_string(),
            }
        }
        "REVOKE" => "Revoke privileges".to_string(),
        "TRUNCATE" => format!("Truncate {}", object(if u(1) == "TABLE" { 2 } else { 1 })),
        "VACUUM" | "ANALYZE" => "Vacuum and analyze".to_string(),
        "REINDEX" => "Rebuild the indexes".to_string(),
        "COPY" | "\\COPY" => format!("Copy data for {}", object(1)),
        "REFRESH" => "Refresh the materialized view".to_string(),
        "CALL" => format!("Call {}", object(1)),
        _ => "Run the SQL statement".to_string(),
    };
    Some(t.trim().to_string())
}

fn kubectl_title(words: &[String]) -> Option<String> {
    let sub = words.get(1).map(String::as_str).unwrap_or("");
    let sub2 = words.get(2).map(String::as_str).unwrap_or("");
    let target = operand(words, 2);
    Some(match sub {
        "apply" => match flag_value(words, &["-f", "--filename", "-k", "--kustomize"]) {
            Some(f) => format!("Apply {}", short(f)),
            None => "Apply the Kubernetes manifests".into(),
        },
        "create" => format!("Create {} {}", sub2, operand(words, 3))
            .trim()
            .to_string(),
        "rollout" => match sub2 {
            "status" => "Wait for the rollout".into(),
            "restart" => "Restart the deployment".into(),
            "undo" => "Roll back the deployment".into(),
            "pause" => "Pause the rollout".into(),
            "resume" => "Resume the rollout".into(),
            _ => format!("Rollout {sub2}"),
        },
        "scale" => "Scale the deployment".into(),
        "set" if sub2 == "image" => "Update the container image".into(),
        "set" => format!("Set {sub2}"),
        "delete" => format!("Delete {}", operand(words, 2)),
        "patch" => format!("Patch {target}"),
        "drain" => format!("Drain node {target}"),
        "cordon" => format!("Cordon node {target}"),
        "uncordon" => format!("Uncordon node {target}"),
        "label" => format!("Label {target}"),
        "annotate" => format!("Annotate {target}"),
        "exec" => format!("Run a command in {target}"),
        "port-forward" => format!("Forward a port to {target}"),
        "cp" => "Copy files to or from the pod".into(),
        "config" if sub2 == "use-context" => format!("Switch to context {}", operand(words, 3)),
        "get" | "describe" => format!("Inspect {target}"),
        "logs" => format!("Read the logs of {target}"),
        "wait" => "Wait for the condition".into(),
        _ => return None,
    })
}

fn helm_title(words: &[String]) -> Option<String> {
    let sub = words.get(1).map(String::as_str).unwrap_or("");
    let release = operand(words, 2);
    Some(match sub {
        "upgrade" if words.iter().any(|w| w == "--install" || w == "-i") => {
            format!("Install or upgrade the {release} release")
        }
        "upgrade" => format!("Upgrade the {release} release"),
        "install" => format!("Install the {release} release"),
        "uninstall" | "delete" => format!("Uninstall the {release} release"),
        "rollback" => format!("Roll back the {release} release"),
        "repo" => "Update the chart repositories".into(),
        "dependency" | "dep" => "Update the chart dependencies".into(),
        "template" => "Render the chart".into(),
        "lint" => "Lint the chart".into(),
        "diff" => "Preview the release changes".into(),
        "test" => format!("Test the {release} release"),
        "status" | "history" | "list" | "get" => format!("Inspect the {release} release"),
        _ => return None,
    })
}

fn openssl_title(words: &[String]) -> Option<String> {
    let sub = words.get(1).map(String::as_str).unwrap_or("");
    let has = |f: &str| words.iter().any(|w| w == f);
    Some(match sub {
        "genrsa" | "genpkey" | "ecparam" => "Generate a private key".into(),
        "req" if has("-x509") => "Create a self-signed certificate".into(),
        "req" if has("-noout") || has("-text") => "Inspect the signing request".into(),
        "req" => "Create a certificate signing request".into(),
        "x509" if has("-req") => "Sign the certificate".into(),
        "x509" => "Inspect the certificate".into(),
        "verify" => "Verify the certificate chain".into(),
        "s_client" => "Check the served certificate".into(),
        "pkcs12" => "Bundle the certificate and key (PKCS#12)".into(),
        "rsa" | "pkey" | "ec" => "Inspect the private key".into(),
        "dgst" => "Compute a digest".into(),
        "rand" => "Generate random bytes".into(),
        "enc" => "Encrypt or decrypt the file".into(),
        "crl" => "Inspect the revocation list".into(),
        "ca" => "Sign with the CA".into(),
        _ => return None,
    })
}

fn curl_title(command: &str, words: &[String]) -> String {
    let url = words
        .iter()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(String::as_str)
        .unwrap_or("");
    let path = url
        .split_once("://")
        .map(|(_, rest)| rest.split_once('/').map(|(_, p)| p).unwrap_or(""))
        .unwrap_or("")
        .split(['?', '#'])
        .next()
        .unwrap_or("");
    let method = flag_value(words, &["-X", "--request"])
        .map(str::to_ascii_uppercase)
        .or_else(|| {
            words
                .iter()
                .any(|w| {
                    matches!(
                        w.as_str(),
                        "-d" | "--data" | "--data-raw" | "--json" | "-F" | "--form"
                    )
                })
                .then(|| "POST".to_string())
        });
    let lower = command.to_ascii_lowercase();
    if method.is_none()
        && ["health", "ready", "live", "status", "ping"]
            .iter()
            .any(|w| lower.contains(w))
    {
        return "Check the health endpoint".into();
    }
    let target = if path.is_empty() {
        "the HTTP endpoint".to_string()
    } else {
        format!("/{path}")
    };
    match method.as_deref() {
        Some("GET") | None => format!("Call {target}"),
        Some(m) => format!("{m} to {target}"),
    }
}

/// Titles for scripts named after what they do: `build.sh`, `migrate`, …
fn script_title(base: &str) -> Option<String> {
    let table: &[(&str, &str)] = &[
        ("build", "Build the release"),
        ("migrate", "Run database migrations"),
        ("migration", "Run database migrations"),
        ("release", "Release the new version"),
        ("deploy", "Deploy"),
        ("rollback", "Roll back"),
        ("health", "Check health"),
        ("healthcheck", "Check health"),
        ("smoke", "Run the smoke tests"),
        ("test", "Run the tests"),
        ("backup", "Back up the data"),
        ("restore", "Restore the data"),
        ("install", "Install"),
        ("setup", "Set up"),
        ("bootstrap", "Bootstrap"),
        ("check-env", "Check the environment"),
        ("preflight", "Run the preflight checks"),
        ("verify", "Verify"),
        ("restart", "Restart the service"),
        ("seed", "Seed the database"),
        ("publish", "Publish"),
    ];
    table
        .iter()
        .find(|(name, _)| base == *name)
        .map(|(_, t)| t.to_string())
}

/// `deploy-web` → `Deploy web`.
pub fn humanize(name: &str) -> String {
    let words: Vec<&str> = name
        .split(['-', '_', '.', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    let mut s = words.join(" ");
    if let Some(first) = s.get(0..1) {
        s = first.to_uppercase() + &s[1..];
    }
    if s.is_empty() {
        "Run the command".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("git pull", "Pull the latest code")]
    #[case("./deploy/build.sh 1.4.2", "Build the release")]
    #[case("./deploy/migrate.sh", "Run database migrations")]
    #[case("./deploy/release.sh 1.4.2", "Release the new version")]
    #[case("sudo systemctl restart nginx", "Restart nginx")]
    #[case("kubectl rollout status deploy/web", "Wait for the rollout")]
    #[case("terraform apply -auto-approve", "Apply the infrastructure changes")]
    #[case("npm ci", "Install dependencies")]
    #[case("make deploy", "Run make deploy")]
    #[case("ssh ops@web-1.example.com", "Connect to web-1.example.com")]
    #[case("./scripts/frobnicate.sh", "Frobnicate")]
    #[case("./bin/register-tenant acme", "Register tenant")]
    #[case("iamctl create-user bob --team x", "Create user")]
    #[case("svcctl restart ingest", "Restart ingest")]
    #[case("./scripts/maintenance.sh on", "Maintenance on")]
    #[case("psql -d shop -c \"DROP TABLE orders\"", "Drop table orders")]
    #[case("psql -d t -c \"CREATE ROLE acme_app LOGIN\"", "Create role acme_app")]
    #[case(
        "psql -d t -c \"GRANT USAGE ON SCHEMA app TO acme_app\"",
        "Grant privileges to acme_app"
    )]
    #[case("psql -d t -f schema/tenant.sql", "Run tenant.sql")]
    #[case("psql -d shop -tAc \"SELECT count(*) FROM orders\"", "Count the rows")]
    #[case("sqlite3 app.db < migrations/0007.sql", "Run 0007.sql")]
    #[case(
        "mysql -e \"DELETE FROM jobs WHERE day = '2026-11-01'\"",
        "Delete rows from jobs"
    )]
    #[case(
        "helm upgrade --install web charts/web -n staging",
        "Install or upgrade the web release"
    )]
    #[case("kubectl apply -f k8s/deploy.yaml", "Apply deploy.yaml")]
    #[case("kubectl set image deploy/web web=img:2", "Update the container image")]
    #[case("openssl genrsa -out new.key 2048", "Generate a private key")]
    #[case(
        "openssl req -new -key new.key -subj /CN=x -out x.csr",
        "Create a certificate signing request"
    )]
    #[case(
        "openssl x509 -req -in x.csr -CA ca.crt -CAkey ca.key -out x.crt",
        "Sign the certificate"
    )]
    #[case("openssl x509 -enddate -noout -in x.crt", "Inspect the certificate")]
    #[case("openssl verify -CAfile ca.crt x.crt", "Verify the certificate chain")]
    #[case(
        "curl -X POST https://api.example.com/v1/cache/purge",
        "POST to /v1/cache/purge"
    )]
    #[case("curl -fsS https://x.example.com/healthz", "Check the health endpoint")]
    #[case("docker push registry.local/web:2.3.0", "Push the container image")]
    #[case("terraform force-unlock -force 1234", "Release the state lock")]
    #[case("systemctl daemon-reload", "Reload the systemd units")]
    #[case("cp new.crt etc/tls/server.crt", "Copy new.crt to server.crt")]
    #[case("sed -i s/a/b/ etc/logrotate.conf", "Edit logrotate.conf in place")]
    #[case(
        "for d in a b; do ./bin/backfill --date $d; done",
        "Backfill for each d"
    )]
    #[case(
        "psql -c \"REASSIGN OWNED BY bob TO app_owner\"",
        "Reassign what bob owns"
    )]
    #[case("psql -c \"DROP OWNED BY bob\"", "Drop what bob owns")]
    #[case("python3 -m venv .venv", "Create the virtualenv")]
    #[case(". .venv/bin/activate", "Load activate")]
    #[case(
        "mariadb -e \"ALTER USER 'bi_<<db>>'@'%' IDENTIFIED BY 'x'\"",
        "Alter user bi_<<db>>"
    )]
    fn titles(#[case] line: &str, #[case] want: &str) {
        assert_eq!(title_for(line), want);
    }

    #[test]
    fn names_read_as_titles() {
        assert_eq!(humanize("deploy-web"), "Deploy web");
        assert_eq!(humanize("rotate_tls.certs"), "Rotate tls certs");
    }
}
