//! A full disk while recording: the shell keeps working, the operator is told
//! once, and no finished command is lost once space returns.
//!
//! Uses a real, small tmpfs as the library's filesystem, so this needs root
//! (CI runs as root; elsewhere the test says why it cannot run).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("cannot mount a tmpfs for the full-disk test (CI runs as root)");
            }
            eprintln!("SKIPPED: mounting a tmpfs needs root");
            return None;
        }
        Some(Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_holds_events_until_space_returns() {
    let world = World::new();
    let mnt = world.dir.path().join("small-disk");
    // Too small for the journal's 8 MiB reservation, so writes really fail.
    let Some(_disk) = Tmpfs::mount(&mnt, "1m") else {
        return;
    };
    let db = mnt.join("tacit.db");
    let db_arg = db.to_str().unwrap().to_string();
    let mut t = world.record(
        "full",
        "bash",
        world.dir.path(),
        &["--db", &db_arg, "--no-ask"],
    );
    t.run("echo before-full");
    t.run(&format!(
        "head -c 2M /dev/zero > {}/fill 2>/dev/null; echo filled",
        mnt.display()
    ));
    // Each event is bigger than a page, so it cannot fit in the journal's
    // last partly used page.
    t.line("seq 1 3000; echo during-full-1");
    t.expect("the disk is full");
    t.expect(PROMPT);
    // Told once, and the shell goes on working.
    t.run("seq 1 3000; echo during-full-2");
    t.run("seq 1 3000; echo during-full-3");
    t.line(&format!("rm {}/fill", mnt.display()));
    t.expect("space is back");
    t.expect(PROMPT);
    t.run("echo after-free");
    t.line("exit");
    assert!(t.wait().success());
    let shown = String::from_utf8_lossy(&t.all_output()).into_owned();
    assert_eq!(shown.matches("the disk is full").count(), 1, "{shown}");

    let out = Command::new(tacit_bin())
        .args(["runs", "show", &t.run_id, "--json", "--db", &db_arg])
        .env("TACIT_CONFIG", world.dir.path().join("config.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["run"]["status"], "completed");
    let outputs: Vec<String> = commands(&run)
        .iter()
        .map(|c| c["output"].as_str().unwrap().to_string())
        .collect();
    for want in [
        "before-full",
        "filled",
        "during-full-1",
        "during-full-2",
        "during-full-3",
        "after-free",
    ] {
        assert!(outputs.iter().any(|o| o.ends_with(want)), "{want} lost");
    }
    assert_eq!(commands(&run).len(), 7);
}
