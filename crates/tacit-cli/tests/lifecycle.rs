//! A redraft never loses people's work (issue "Trustworthy drafts", 7): an
//! SOP is drafted, owned, edited in review, edited as Markdown and imported;
//! a new recording meets a new failure; drafting again keeps every human
//! edit and proposes the new rule for review.

mod support;

use support::*;

/// Makes this copy's build fail once with a corrupt cache, until
/// `deploy/clean-cache.sh` has run: the new failure of the second recording.
fn corrupt_build_cache(dir: &std::path::Path) {
    let build = dir.join("app/deploy/build.sh");
    let script = std::fs::read_to_string(&build).unwrap();
    let guard = "set -e\nroot_c=$(cd \"$(dirname \"$0\")/../..\" && pwd)\nif [ ! -e \"$root_c/state/cache-ok\" ]; then echo \"error: build cache is corrupt (checksum mismatch in .cache/objects)\" >&2; exit 4; fi\n";
    std::fs::write(&build, script.replacen("set -e\n", guard, 1)).unwrap();
    let clean = dir.join("app/deploy/clean-cache.sh");
    std::fs::write(
        &clean,
        "#!/usr/bin/env bash\nroot=$(cd \"$(dirname \"$0\")/../..\" && pwd)\ntouch \"$root/state/cache-ok\"\necho \"build cache cleared\"\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&clean)
        .status()
        .unwrap();
}

fn show(world: &World) -> String {
    let out = world.tacit(&["show", "deploy-web", "--format", "md"]);
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn answer(t: &mut Term, action: &str, reason: &str) {
    t.expect("what did you do: ");
    t.line(action);
    t.expect("why (the principle): ");
    t.line(reason);
    t.expect("escalate when (optional): ");
    t.line("");
    t.expect(PROMPT);
}

#[test]
fn drafting_again_keeps_every_human_edit_and_proposes_the_new_rule() {
    if !require_shell("bash") {
        return;
    }
    // 1. Draft, 2. own.
    let world = drafted();
    assert!(
        world
            .tacit(&["own", "deploy-web", "--owner", "alice"])
            .status
            .success()
    );

    // 3. Edits in review: a guided run proposes a rule; the owner accepts it
    // through the editor and writes the purpose while there.
    let dir = fresh(&world, "guided");
    let health = dir.join("app/deploy/health.sh");
    let script = std::fs::read_to_string(&health).unwrap();
    std::fs::write(
        &health,
        script.replace("got=$(cat \"$root/current/VERSION\")", "got=1.3.9"),
    )
    .unwrap();
    let mut t = run_deploy_web(&world, &dir);
    walk_to_the_health_check(&mut t);
    t.expect("what did you do: ");
    t.line("Restarted the app so it rereads VERSION");
    t.expect("why (the principle): ");
    t.line("The app caches its version when it starts");
    t.expect("escalate when (optional): ");
    t.line("");
    abort_after_answer(&mut t);
    assert_eq!(t.wait().code(), Some(13));
    let editor = world.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/^TODO (owner): say what this procedure achieves.*$/Ship a release of the web app to production./' \"$1\"\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()
        .unwrap();
    let mut r = Term::spawn(
        tacit_in(&world, world.dir.path())
            .env("EDITOR", &editor)
            .env_remove("VISUAL")
            .args(["review", "deploy-web"]),
    );
    r.expect("[q]uit > ");
    r.line("e");
    r.expect("accepted with your edits");
    assert!(r.wait().success());
    assert!(show(&world).contains("Ship a release of the web app to production."));

    // 4. A Markdown edit, imported: a step renamed and a note added.
    let md = world.dir.path().join("deploy-web.md");
    assert!(
        world
            .tacit(&[
                "export",
                "deploy-web",
                "--format",
                "md",
                "-o",
                md.to_str().unwrap()
            ])
            .status
            .success()
    );
    let text = std::fs::read_to_string(&md).unwrap();
    let text = text.replace("Build the release", "Build the release tarball");
    let text = text.replace(
        "## Revision history",
        "## Notes\n\n- Deploys happen on Tuesdays, never on Fridays.\n\n## Revision history",
    );
    std::fs::write(&md, text).unwrap();
    let out = world.tacit(&["import", "sop", md.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log =
        String::from_utf8_lossy(&world.tacit(&["log", "deploy-web", "--json"]).stdout).into_owned();
    let versions_before = serde_json::from_str::<serde_json::Value>(&log)
        .unwrap()
        .as_array()
        .unwrap()
        .len();

    // 5. A new recording with a new failure: a corrupt build cache.
    let second = fresh(&world, "second-recording");
    corrupt_build_cache(&second);
    let mut t = world.record("deploy-web", "bash", &second, &[]);
    t.run("cd app && git pull");
    t.run("./deploy/check-env.sh");
    t.line("./deploy/build.sh 1.4.2");
    answer(
        &mut t,
        "Cleared the build cache with deploy/clean-cache.sh and built again.",
        "A build killed halfway leaves a corrupt cache; a clean cache always rebuilds correctly.",
    );
    t.run("./deploy/clean-cache.sh");
    t.run("./deploy/build.sh 1.4.2");
    t.line("./deploy/migrate.sh");
    answer(&mut t, ACTION, REASON);
    t.run("cat ../state/migrate.lock");
    t.line("ps -p 4242 || rm ../state/migrate.lock");
    t.expect("what did you do: ");
    t.line("");
    t.expect(PROMPT);
    t.run("./deploy/migrate.sh");
    t.run("./deploy/release.sh 1.4.2");
    t.run("./deploy/health.sh 1.4.2");
    t.line("exit");
    assert!(t.wait().success());

    // 6. Draft again: the edits stay, the new rule waits for review.
    let out = world.tacit(&["draft", "deploy-web"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("they are kept"), "{said}");
    assert!(said.contains("build cache is corrupt"), "{said}");
    let now = show(&world);
    assert!(
        now.contains("Ship a release of the web app to production."),
        "{now}"
    );
    assert!(now.contains("Build the release tarball"), "{now}");
    assert!(now.contains("Deploys happen on Tuesdays"), "{now}");
    assert!(
        now.contains("The app caches its version when it starts"),
        "{now}"
    );
    assert!(
        !now.contains("build cache is corrupt"),
        "nothing is applied before review:\n{now}"
    );
    let log =
        String::from_utf8_lossy(&world.tacit(&["log", "deploy-web", "--json"]).stdout).into_owned();
    let versions = serde_json::from_str::<serde_json::Value>(&log)
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        versions, versions_before,
        "drafting saved a version behind the owner's back"
    );

    // The owner accepts it: every edit and the new rule, on the renamed step.
    let mut r = Term::spawn(tacit_in(&world, world.dir.path()).args(["review", "deploy-web"]));
    r.expect("What the runs add");
    r.expect("build cache is corrupt");
    r.expect("[s]kip > ");
    r.line("a");
    r.expect(&format!("deploy-web version {}", versions + 1));
    assert!(r.wait().success());
    let after = show(&world);
    for kept in [
        "Ship a release of the web app to production.",
        "Build the release tarball",
        "Deploys happen on Tuesdays",
        "The app caches its version when it starts",
        "A build killed halfway leaves a corrupt cache; a clean cache always rebuilds correctly.",
        "owner: alice",
    ] {
        assert!(after.contains(kept), "lost {kept:?}:\n{after}");
    }
    let sop = world.tacit(&["show", "deploy-web", "--format", "json"]);
    let sop: serde_json::Value = serde_json::from_slice(&sop.stdout).unwrap();
    let rule = sop["sop"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["because"].as_str().unwrap().contains("corrupt cache"))
        .expect("the new rule");
    assert_eq!(rule["step"], "Build the release tarball");
    assert!(
        rule["then_commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("clean-cache.sh")),
        "{rule}"
    );
    // The author of the redraft is whoever ran it, not the recording's user.
    let last = sop["sop"]["revisions"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["author"], whoami());
}

fn whoami() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
