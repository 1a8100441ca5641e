//! `tacit import DIR` on a collection of runbooks tacit did not write, and
//! `tacit run` on what it imported: multi-line commands run whole, in bash,
//! zsh and fish, and never hang.

mod support;

use std::path::{Path, PathBuf};

use support::{World, import_runbook, require_shell};

fn fixtures(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tacit-sop/tests/fixtures")
        .join(rel)
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `N of M imported, K with warnings (a new, b updated, c unchanged…)`.
fn summary(stdout: &str) -> (usize, usize, usize, usize, usize) {
    let last = stdout.lines().last().unwrap_or_default();
    let nums: Vec<usize> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(nums.len() >= 6, "no summary in {stdout:?}");
    (nums[0], nums[1], nums[2], nums[3], nums[5])
}

#[test]
fn a_collection_imports_walks_subfolders_and_reimports_as_a_no_op() {
    let world = World::new();
    let dir = fixtures("runbooks");
    let out = world.tacit(&["import", dir.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let (imported, total, _warned, new, unchanged) = summary(&stdout);
    assert_eq!(imported, total, "{stdout}\n{stderr}");
    assert!(total >= 60, "{stdout}");
    assert_eq!((new, unchanged), (total, 0));
    // Files three folders deep came in, by the id of their name.
    assert!(
        stdout.contains(
            "k8s/ingress/controllers/upgrade-ingress-nginx.md: imported as upgrade-ingress-nginx v1"
        ),
        "{stdout}"
    );
    // A README describes the folder; it is said to be left out, not imported.
    assert!(stderr.contains("README.md: left out"), "{stderr}");
    // A warning names its file and line.
    assert!(
        stderr.contains("plain/service-ownership-matrix.md:1: warning: no steps found"),
        "{stderr}"
    );

    let again = world.tacit(&["import", dir.to_str().unwrap()]);
    let (stdout, _) = text(&again);
    let (imported, total, _, new, unchanged) = summary(&stdout);
    assert_eq!((imported, new, unchanged), (total, 0, total), "{stdout}");

    let list = world.tacit(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), total);
    assert!(list.as_array().unwrap().iter().all(|s| s["version"] == 1));

    // Imported text is searchable, prose sections included.
    let hits = world.tacit(&["search", "CrashLoopBackOff", "--json"]);
    assert!(hits.status.success());
}

#[test]
fn two_files_with_one_id_are_an_error_naming_both() {
    let world = World::new();
    let dir = fixtures("runbook-duplicates");
    let out = world.tacit(&["import", dir.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for f in ["restart-api-gateway.md", "restart-api-gateway-legacy-vm.md"] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("{f}: not imported"))
                    && l.contains("restart-api-gateway")),
            "{stderr}"
        );
    }
    let list = world.tacit(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0, "never silent versions");

    // Same file name in two folders, no ids written: each takes its folder.
    let col = world.dir.path().join("col");
    for sub in ["alerts", "ops"] {
        std::fs::create_dir_all(col.join(sub)).unwrap();
        std::fs::write(
            col.join(sub).join("disk-full.md"),
            format!("# Disk full ({sub})\n\n```sh\ndf -h\n```\n"),
        )
        .unwrap();
    }
    let out = world.tacit(&["import", col.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("imported as alerts-disk-full"), "{stdout}");
    assert!(stdout.contains("imported as ops-disk-full"), "{stdout}");
}

#[test]
fn bad_files_are_left_out_with_their_reason_and_the_rest_import() {
    let world = World::new();
    let col = world.dir.path().join("bad");
    std::fs::create_dir_all(&col).unwrap();
    std::fs::write(col.join("empty.md"), "").unwrap();
    std::fs::write(col.join("binary.md"), b"# T\n\x00\x01\x02\xff").unwrap();
    std::fs::write(col.join("latin1.md"), b"# Caf\xe9\n\nlist\n").unwrap();
    let mut bomb = String::from("---\na: &a [x,x,x,x,x,x,x,x,x]\n");
    let mut prev = 'a';
    for c in 'b'..='j' {
        bomb.push_str(&format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = c;
    }
    bomb.push_str("---\n\n# Bomb\n\n```sh\necho ok\n```\n");
    std::fs::write(col.join("alias-bomb.md"), bomb).unwrap();
    std::fs::write(
        col.join("deep.md"),
        format!("# Deep\n\n{}deep\n", "> ".repeat(10_000)),
    )
    .unwrap();
    std::fs::write(
        col.join("good.md"),
        "# Good\n\n1. Say hi:\n   ```sh\n   echo hi\n   ```\n",
    )
    .unwrap();

    let out = world.tacit(&["import", col.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("empty.md:1: not imported: the file is empty"),
        "{stderr}"
    );
    assert!(
        stderr.contains("binary.md:2: not imported: the file contains binary data"),
        "{stderr}"
    );
    assert!(
        stderr.contains("latin1.md:1: not imported: not UTF-8 text"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "alias-bomb.md:1: not imported: the front matter (between the `---` lines) is not valid YAML"
        ),
        "{stderr}"
    );
    assert!(
        stdout.contains("good.md: imported as good v1 (1 steps)"),
        "{stdout}"
    );
    assert!(stdout.contains("deep.md: imported as deep"), "{stdout}");
    let (imported, total, ..) = summary(&stdout);
    assert_eq!((imported, total), (2, 6), "{stdout}");
}

#[test]
fn a_dry_run_saves_nothing() {
    let world = World::new();
    let dir = fixtures("multiline");
    let out = world.tacit(&["import", dir.to_str().unwrap(), "--dry-run"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("heredoc.md: would be imported as heredoc v1"),
        "{stdout}"
    );
    assert!(stdout.contains("dry run, nothing saved"), "{stdout}");
    let list = world.tacit(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);
}

#[test]
fn strict_mode_refuses_a_runbook_that_is_not_tacits_own() {
    let world = World::new();
    let file = fixtures("runbooks/alerts/kube-pod-crash-looping.md");
    let out = world.tacit(&["import", file.to_str().unwrap(), "--strict"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("not imported: no front matter"), "{stderr}");
}

/// The lines a shell prints for the multiline fixtures, per SOP.
const EXPECTED: &[(&str, &str, &str)] = &[
    (
        "heredoc",
        "greeting.txt",
        "hello from tacit\n$HOME is not expanded here\n",
    ),
    ("loop", "items.txt", "item 1\nitem 2\nitem 3\n"),
    (
        "quoted-newline",
        "note.txt",
        "first line\nsecond line\nthird line\nfourth line\n",
    ),
    ("continuation", "words.txt", "alpha\nbeta\ngamma\n"),
];

#[test]
fn dry_run_shows_whole_multi_line_commands() {
    let world = World::new();
    let dir = fixtures("multiline");
    assert!(
        world
            .tacit(&["import", dir.to_str().unwrap()])
            .status
            .success()
    );
    let out = world.tacit(&["run", "heredoc", "--dry-run"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let at = stdout.find("$ cat <<'EOF' > greeting.txt").expect(&stdout);
    let rest = &stdout[at..];
    let lines: Vec<&str> = rest.lines().take(4).map(str::trim).collect();
    assert_eq!(
        lines,
        vec![
            "$ cat <<'EOF' > greeting.txt",
            "hello from tacit",
            "$HOME is not expanded here",
            "EOF"
        ],
        "{stdout}"
    );
}

#[test]
fn multi_line_commands_run_whole_in_bash_zsh_and_fish() {
    let world = World::new();
    let dir = fixtures("multiline");
    assert!(
        world
            .tacit(&["import", dir.to_str().unwrap()])
            .status
            .success()
    );
    for shell in ["bash", "zsh", "fish"] {
        if !require_shell(shell) {
            continue;
        }
        for (sop, file, content) in EXPECTED {
            let work = world.dir.path().join(format!("work-{shell}-{sop}"));
            std::fs::create_dir_all(&work).unwrap();
            let mut child = world
                .command(&["run", sop, "--yes", "--shell", shell])
                .current_dir(&work)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            // Never a hang: a run that has not finished in a minute fails.
            let start = std::time::Instant::now();
            let status = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s;
                }
                if start.elapsed() > std::time::Duration::from_secs(60) {
                    let _ = child.kill();
                    panic!("{shell}: tacit run {sop} hung");
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            };
            let out = child.wait_with_output().unwrap();
            let (stdout, stderr) = text(&out);
            assert!(status.success(), "{shell} {sop}:\n{stdout}\n{stderr}");
            assert!(stdout.contains("succeeded"), "{shell} {sop}:\n{stdout}");
            let got = std::fs::read_to_string(work.join(file)).unwrap_or_default();
            assert_eq!(got, *content, "{shell} {sop}");
            if *sop == "loop" {
                assert!(stdout.contains("items.txt has 3 lines"), "{stdout}");
            }
        }
    }
}

#[test]
fn a_command_that_never_ends_fails_instead_of_hanging() {
    let world = World::new();
    let md = world.dir.path().join("broken.md");
    std::fs::write(
        &md,
        "# Broken\n\n```sh\necho \"two\n```\n\n```sh\necho after\n```\n",
    )
    .unwrap();
    let out = world.tacit(&["import", md.to_str().unwrap()]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("never ends"), "{stderr}");
    if !require_shell("bash") {
        return;
    }
    let work = world.dir.path().join("w");
    std::fs::create_dir_all(&work).unwrap();
    let out = world
        .command(&["run", "broken", "--yes", "--shell", "bash"])
        .current_dir(&work)
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    // The shell reports the open quote; the run stops there, it does not wait.
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("failed") || stdout.contains("stopped"),
        "{stdout}"
    );
}

#[test]
fn a_guided_run_shows_each_steps_prose_and_never_obeys_escapes_in_it() {
    if !require_shell("bash") {
        return;
    }
    let world = World::new();
    let work = import_runbook(
        &world,
        "check",
        "# Check the rollout\n\n## Steps\n\n- [ ] Run the dry run:\n  ```sh\n  echo dry-run ok\n  ```\n- [ ] Confirm the dry run shows **0 deletions** on [the board](https://grafana.example.com)\n  and that the title is not \u{1b}]0;pwned\u{7} changed.\n- [ ] Run it:\n  ```sh\n  echo done\n  ```\n",
    );
    let out = world
        .command(&["run", "check", "--yes", "--shell", "bash"])
        .current_dir(&work)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // Three steps: the manual check sits between the dry run and the real one.
    assert!(
        stdout.contains("Step 2/3: Confirm the dry run shows **0 deletions**"),
        "{stdout}"
    );
    assert!(
        stdout.contains("and that the title is not ^[]0;pwned^G changed."),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{1b}'), "an escape reached the terminal");
}
