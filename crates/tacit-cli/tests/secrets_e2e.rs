//! The redaction corpus through the real recorder (issue "Secrets never
//! reach the disk"): every secret is printed by `cat` of a file, printed by a
//! command that prints secrets, typed in a command, or written in a note or
//! an answer, inside `tacit record` in a PTY. Then every byte tacit wrote
//! (database, WAL, journal) is searched, after drafting too, so the SOP and
//! the search index are covered. Look-alikes must come through unaltered.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::*;
use tacit_eval::secrets::{self, Channel, Instance};

fn every_byte_under(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push_str(&String::from_utf8_lossy(&bytes));
                out.push('\n');
            }
        }
    }
    out
}

/// Typing it into bash as it is would not leave a shell waiting for more.
fn typeable(text: &str) -> bool {
    !text.contains('\n')
        && !text.contains('`')
        && !text.contains("$(")
        && text.matches('\'').count().is_multiple_of(2)
        && text.matches('"').count().is_multiple_of(2)
        && !text.contains('\\')
}

#[test]
fn no_secret_of_the_corpus_reaches_the_disk_and_look_alikes_survive() {
    if !require_shell("bash") {
        return;
    }
    let formats = secrets::formats().unwrap();
    let all = secrets::instances(&formats, 7).unwrap();
    let lookalikes = secrets::lookalikes().unwrap();
    let world = World::new();
    // No history expansion: `!` is common in generated passwords.
    let rc = world.home().join(".bashrc");
    let mut text = std::fs::read_to_string(&rc).unwrap();
    text.push_str("set +H\n");
    std::fs::write(&rc, text).unwrap();
    let dir = world.dir.path().join("work");
    std::fs::create_dir_all(dir.join("bin")).unwrap();

    // Printed: files of up to ~40 KB each, `cat` one by one.
    let mut files: Vec<String> = Vec::new();
    let mut cur = String::new();
    for i in all.iter().filter(|i| i.channel == Channel::Output) {
        cur.push_str(&i.text);
        cur.push_str("\n\n");
        if cur.len() > 40_000 {
            files.push(std::mem::take(&mut cur));
        }
    }
    files.push(cur);
    for (n, f) in files.iter().enumerate() {
        std::fs::write(dir.join(format!("printed-{n}.txt")), f).unwrap();
    }
    let mut looks = String::new();
    for l in &lookalikes {
        looks.push_str(&l.text);
        looks.push_str("\n\n");
    }
    std::fs::write(dir.join("lookalikes.txt"), &looks).unwrap();
    // Printed by a secret manager: a fake `vault` prints the file it is
    // asked for, as `vault kv get -field=…` prints a value.
    let printed: Vec<&Instance> = all
        .iter()
        .filter(|i| i.channel == Channel::SecretOutput)
        .collect();
    for (n, i) in printed.iter().enumerate() {
        std::fs::write(dir.join(format!("vault-{n}.txt")), format!("{}\n", i.text)).unwrap();
    }
    let vault = dir.join("bin/vault");
    std::fs::write(
        &vault,
        "#!/bin/sh\n# vault kv get -field=value secret/N\nn=${4##*/}\ncat \"$(dirname \"$0\")/../vault-$n.txt\"\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&vault)
        .status()
        .unwrap();

    let mut t = world.record("secrets", "bash", &dir, &[]);
    t.run("export PATH=\"$PWD/bin:$PATH\"");
    for n in 0..files.len() {
        t.run(&format!("cat printed-{n}.txt"));
    }
    t.run("cat lookalikes.txt");
    for n in 0..printed.len() {
        t.run(&format!("vault kv get -field=value secret/{n}"));
    }
    // Typed: each command as the operator would type it (most of these
    // tools are not installed here: a 127 is recorded all the same).
    let mut typed = 0;
    for i in all
        .iter()
        .filter(|i| i.channel == Channel::Command && typeable(&i.text))
    {
        t.line(&i.text);
        if t.expect_any(&["what did you do: ", PROMPT]) == 0 {
            t.line("");
            t.expect(PROMPT);
        }
        typed += 1;
    }
    // Written: notes, and answers to a failure.
    let prose: Vec<&Instance> = all
        .iter()
        .filter(|i| i.channel == Channel::Prose && !i.text.contains('\''))
        .collect();
    for (n, i) in prose.iter().enumerate() {
        if n % 2 == 0 {
            t.run(&format!("tacit note '{}'", i.text));
        } else {
            t.line("false");
            t.expect("what did you do: ");
            t.line(&i.text);
            t.expect("why (the principle): ");
            t.line("It had leaked in a log.");
            t.expect("escalate when (optional): ");
            t.line("");
            t.expect(PROMPT);
        }
    }
    t.line("exit");
    assert!(t.wait().success());
    assert!(typed > 100, "only {typed} typed commands");

    // Drafting copies text into the SOP and the search index.
    let _ = world.tacit(&["draft", "secrets"]);
    let sop = String::from_utf8_lossy(&world.tacit(&["show", "secrets", "--format", "md"]).stdout)
        .into_owned();
    let stored = secrets::Stored::new(every_byte_under(&world.dir.path().join("lib")) + &sop);

    let mut families: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    let recorded: Vec<&Instance> = all
        .iter()
        .filter(|i| match i.channel {
            Channel::Command => typeable(&i.text),
            Channel::Prose => !i.text.contains('\''),
            _ => true,
        })
        .collect();
    for i in &recorded {
        let leaked = stored.holds(i);
        let e = families.entry(i.family.clone()).or_insert((0, 0));
        e.1 += 1;
        if !leaked {
            e.0 += 1;
        } else {
            missed.push(format!("{} [{}]", i.format, i.context));
        }
    }
    let caught: usize = families.values().map(|v| v.0).sum();
    let total: usize = families.values().map(|v| v.1).sum();
    for (f, (c, n)) in &families {
        eprintln!(
            "{f:<16} {c:>4}/{n:<4} {:>6.1} %",
            100.0 * *c as f64 / *n as f64
        );
    }
    eprintln!(
        "recall {:.2} % of {total} secrets",
        100.0 * caught as f64 / total as f64
    );
    assert!(
        caught as f64 >= 0.99 * total as f64,
        "{} of {total} leaked:\n{}",
        total - caught,
        missed.join("\n")
    );
    for (f, (c, n)) in &families {
        assert!(
            *c as f64 >= 0.95 * *n as f64,
            "{f}: {c}/{n}\n{}",
            missed.join("\n")
        );
    }

    // Look-alikes: what `cat lookalikes.txt` stored holds each one whole.
    let run = world.run_json(&t.run_id);
    let shown = commands(&run)
        .into_iter()
        .find(|c| c["command"] == "cat lookalikes.txt")
        .unwrap()["output"]
        .as_str()
        .unwrap()
        .to_string();
    let altered: Vec<&str> = lookalikes
        .iter()
        .filter(|l| !shown.contains(&l.keep))
        .map(|l| l.text.as_str())
        .collect();
    eprintln!(
        "look-alikes altered: {} of {}",
        altered.len(),
        lookalikes.len()
    );
    assert!(
        altered.len() as f64 <= 0.02 * lookalikes.len() as f64,
        "{} look-alikes altered:\n{}",
        altered.len(),
        altered.join("\n")
    );
}
