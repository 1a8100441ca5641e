//! A secret parameter is asked for, used, and never stored.

mod support;

use std::process::Command;

use support::*;

const SOP: &str = r#"---
id: rotate-token
title: Rotate token
version: 1
parameters:
  - name: api_token
    description: The new API token
    secret: true
---

# Rotate token

## Purpose

Install a new API token.

## When to use

When the old token expires.

## Procedure

### 1. Install the token

```sh
printf 'installing %s\n' "<<api_token>>" > /dev/null; echo installed
```

**Expect:** exit code 0, output contains `installed`
"#;

#[test]
fn a_secret_parameter_value_never_reaches_the_disk() {
    let world = World::new();
    let file = world.dir.path().join("rotate-token.md");
    std::fs::write(&file, SOP).unwrap();
    let out = world.tacit(&["import", "sop", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let secret = "zq-very-private-value-77";
    let out = Command::new(tacit_bin())
        .args([
            "run",
            "rotate-token",
            "--yes",
            "--shell",
            "bash",
            "--param",
            &format!("api_token={secret}"),
        ])
        .current_dir(world.dir.path())
        .env("TACIT_DB", world.db())
        .env("HOME", world.home())
        .env("TACIT_CONFIG", world.dir.path().join("config.toml"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let mut stored = Vec::new();
    for dir in [
        world.db().parent().unwrap().to_path_buf(),
        world.journal_dir(),
    ] {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().is_file() {
                stored.extend(std::fs::read(e.path()).unwrap());
            }
        }
    }
    assert!(
        find(&stored, secret.as_bytes()).is_none(),
        "the secret reached the disk"
    );
    assert!(find(&stored, b"[REDACTED:api-token]").is_some());
}

const ASKING: &str = r#"---
id: greet
title: Greet
version: 1
---

# Greet

## Purpose

A step that asks a question.

## When to use

Always.

## Procedure

### 1. Ask for a name

```sh
read -p "name? " who; echo "hello $who"
```

**Expect:** exit code 0, output contains `hello ann`
"#;

#[test]
fn a_command_that_asks_can_be_answered_during_a_guided_step() {
    let world = World::new();
    let file = world.dir.path().join("greet.md");
    std::fs::write(&file, ASKING).unwrap();
    assert!(
        world
            .tacit(&["import", "sop", file.to_str().unwrap()])
            .status
            .success()
    );
    let mut t =
        Term::spawn(tacit_in(&world, world.dir.path()).args(["run", "greet", "--shell", "bash"]));
    t.expect("[a]bort > ");
    t.line("r");
    // First the runner shows the command line, then the command asks.
    t.expect("echo \"hello $who\"\r\n");
    t.expect("name? ");
    t.line("ann");
    t.expect("hello ann");
    t.expect("succeeded");
    assert!(t.wait().success());
    // Between steps the terminal is cooked again, and after the run too.
    assert!(t.is_cooked());
}
