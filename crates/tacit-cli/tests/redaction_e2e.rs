//! Secrets typed in a command or printed by one never reach the disk: not the
//! journal, not the database (nor its WAL file).

mod support;

use support::*;

fn all_bytes_under(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(all_bytes_under(&p));
        } else {
            out.extend(std::fs::read(&p).unwrap());
        }
    }
    out
}

#[test]
fn secrets_in_commands_and_output_never_reach_the_disk() {
    let world = World::new();
    // Built at run time so this file holds no complete token.
    let typed = format!("ghp_{}", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    let printed_parts = ("AKIA", "Z7QX4MPL2RTW9KVB");
    let printed = format!("{}{}", printed_parts.0, printed_parts.1);
    let password = "correct-horse-battery-staple-42";

    let mut t = world.record("secrets", "bash", world.dir.path(), &["--no-ask"]);
    t.run(&format!("echo token {typed} >/dev/null"));
    t.run(&format!(
        "printf 'key %s%s\\n' {} {}",
        printed_parts.0, printed_parts.1
    ));
    t.run(&format!("export DB_PASSWORD={password}"));
    t.run("tacit note the password is in DB_PASSWORD=$DB_PASSWORD");
    t.line("exit");
    assert!(t.wait().success());

    // The terminal showed everything as usual: redaction is for storage.
    let shown = String::from_utf8_lossy(&t.all_output()).into_owned();
    assert!(shown.contains(&printed));

    let run = world.run_json(&t.run_id);
    let text = run.to_string();
    assert!(text.contains("[REDACTED:github-token]"), "{text}");
    assert!(text.contains("[REDACTED:aws-access-key]"), "{text}");
    assert!(text.contains("[REDACTED:"), "{text}");

    let stored = all_bytes_under(world.db().parent().unwrap());
    assert!(!stored.is_empty());
    for secret in [typed.as_str(), printed.as_str(), password] {
        assert!(
            find(&stored, secret.as_bytes()).is_none(),
            "{secret} reached the disk"
        );
    }
    // The journal is among the bytes checked.
    assert!(world.journal_dir().read_dir().unwrap().count() >= 1);
}

#[test]
fn rules_from_the_config_file_apply_and_a_bad_config_is_a_clear_error() {
    let world = World::new();
    std::fs::write(
        world.dir.path().join("config.toml"),
        "[[redact.rules]]\nname = \"ticket-token\"\npattern = 'tkt_[a-z0-9]{12}'\n",
    )
    .unwrap();
    let mut t = world.record("custom", "bash", world.dir.path(), &["--no-ask"]);
    t.run("echo tkt_abcdef123456 done");
    // Ctrl-D on an empty prompt ends the run, like `exit`.
    t.send("\x04");
    assert!(t.wait().success());
    let run = world.run_json(&t.run_id);
    assert_eq!(run["run"]["status"], "completed");
    let cmd = &commands(&run)[0];
    assert_eq!(cmd["output"], "[REDACTED:ticket-token] done");
    assert!(!run.to_string().contains("tkt_abcdef123456"));

    std::fs::write(
        world.dir.path().join("config.toml"),
        "[ask]\nenabled = maybe\n",
    )
    .unwrap();
    let out = world.tacit(&["record", "x", "--shell", "bash"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.toml") && err.contains("line 2"),
        "{err}"
    );
}
