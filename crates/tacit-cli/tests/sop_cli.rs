//! `tacit draft`, `show`, `export` and `import sop` through the real binary,
//! on a run recorded through the PTY.

mod support;

use support::*;

fn recorded_world() -> World {
    let world = World::new();
    let scenario = world.scenario();
    let mut t = world.record("deploy-web", "bash", &scenario, &[]);
    play_session(&mut t, &["ls"]);
    t.line("exit");
    assert!(t.wait().success());
    world
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn draft_show_export_and_import_round_trip() {
    let world = recorded_world();
    let drafted = ok(&world.tacit(&["draft", "deploy-web"]));
    assert!(
        drafted.contains("Drafted deploy-web version 1: 4 steps, 1 decision rules"),
        "{drafted}"
    );

    // A second draft from the same runs changes nothing.
    let again = ok(&world.tacit(&["draft", "deploy-web"]));
    assert!(again.contains("unchanged"), "{again}");

    let shown = ok(&world.tacit(&["show", "deploy-web", "--sources"]));
    for want in [
        "Check the environment",
        "1. Pull the latest code",
        "2. Build the release",
        "3. Run database migrations",
        "4. Release the new version",
        REASON,
        "database on-call",
        "./deploy/health.sh <<version>>",
        "sources: ",
    ] {
        assert!(shown.contains(want), "missing {want:?} in:\n{shown}");
    }
    assert!(!shown.contains("$ ls"), "noise in:\n{shown}");

    let md_path = world.dir.path().join("deploy-web.md");
    ok(&world.tacit(&[
        "export",
        "deploy-web",
        "--format",
        "md",
        "-o",
        md_path.to_str().unwrap(),
    ]));
    let md = std::fs::read_to_string(&md_path).unwrap();
    assert!(md.starts_with("---\n"), "{md}");
    assert!(md.contains("```mermaid"), "{md}");
    let html = ok(&world.tacit(&["export", "deploy-web", "--format", "html"]));
    assert!(html.contains("<html") && html.contains("Run database migrations"));
    let json = ok(&world.tacit(&["export", "deploy-web", "--format", "json"]));
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["sop"]["steps"].as_array().unwrap().len(), 4);

    // Importing the export unchanged is a no-op; an edited file is a new version.
    let same = ok(&world.tacit(&["import", "sop", md_path.to_str().unwrap()]));
    assert!(same.contains("unchanged"), "{same}");
    let edited = md.replace(
        "### 4. Release the new version",
        "### 4. Switch traffic to the new version",
    );
    std::fs::write(&md_path, edited).unwrap();
    let imported = ok(&world.tacit(&["import", "sop", md_path.to_str().unwrap()]));
    assert!(imported.contains("updated deploy-web v2"), "{imported}");
    let v2 = ok(&world.tacit(&["show", "deploy-web"]));
    assert!(v2.contains("4. Switch traffic to the new version"), "{v2}");
    assert!(
        v2.contains("v2") && v2.contains("Imported from deploy-web.md"),
        "{v2}"
    );
    let v1 = ok(&world.tacit(&["show", "deploy-web", "--version", "1"]));
    assert!(v1.contains("4. Release the new version"));
}

#[test]
fn clear_errors_for_missing_and_malformed_input() {
    let world = World::new();
    let out = world.tacit(&["draft", "nothing-here"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no finished runs are recorded as \"nothing-here\"")
    );

    let out = world.tacit(&["show", "nothing-here"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tacit draft nothing-here"));

    let bad = world.dir.path().join("bad.md");
    std::fs::write(&bad, "---\nid: x\ntitle: [unclosed\n---\n# X\n").unwrap();
    let out = world.tacit(&["import", "sop", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.md:") && err.contains("line"), "{err}");

    std::fs::write(&bad, [0xff, 0xfe, 0x00, 0x01]).unwrap();
    let out = world.tacit(&["import", "sop", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not UTF-8") || err.contains("binary data"),
        "{err}"
    );
}
