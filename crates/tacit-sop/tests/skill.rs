//! SOPs as agent skills (issue "AI agents work inside tacit"): the deploy
//! SOP's `SKILL.md` is a reviewed snapshot, and every skill, made from the
//! deploy SOP and from each runbook fixture, reads back through tacit's
//! importer with the same steps, commands, rules and reasons.

mod common;

use tacit_sop::skill::{skill_description, skill_name};
use tacit_sop::{Sop, import_markdown, render_skill};

#[test]
fn deploy_webapp_skill() {
    let sop = common::deploy_webapp();
    let md = render_skill(&sop);
    insta::assert_snapshot!(md);
    parses_back(&sop, &md);
}

/// What an agent and tacit need from a skill: the front matter a skill
/// loader reads, and the procedure exactly.
fn parses_back(sop: &Sop, md: &str) {
    let front = md
        .strip_prefix("---\n")
        .and_then(|r| r.split_once("\n---\n"))
        .map(|(f, _)| f)
        .expect("front matter");
    let yaml: serde_json::Value = serde_saphyr::from_str(front).expect("front matter is YAML");
    let name = yaml["name"].as_str().unwrap();
    assert_eq!(name, skill_name(sop));
    assert!(
        name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "{name}"
    );
    let description = yaml["description"].as_str().unwrap();
    assert_eq!(description, skill_description(sop));
    assert!(!description.is_empty() && description.chars().count() <= 1024);
    assert_eq!(
        yaml["metadata"]["tacit-sop"].as_str(),
        Some(sop.id.as_str())
    );
    assert!(md.contains("start_run") && md.contains("ask_human"), "{md}");

    let back = import_markdown(md, &sop.id)
        .unwrap_or_else(|e| panic!("{}: {e}\n{md}", sop.id))
        .sop;
    assert_eq!(back.title, sop.title);
    let steps = |s: &Sop| -> Vec<(String, Vec<String>)> {
        s.steps
            .iter()
            .map(|st| (st.title.clone(), st.commands.clone()))
            .collect()
    };
    assert_eq!(steps(&back), steps(sop), "{}", sop.id);
    let rules = |s: &Sop| -> Vec<(String, String)> {
        s.rules
            .iter()
            .map(|r| (r.then.clone(), r.because.clone()))
            .collect()
    };
    assert_eq!(rules(&back), rules(sop), "{}", sop.id);
    let escalations =
        |s: &Sop| -> Vec<String> { s.escalations.iter().map(|e| e.when.clone()).collect() };
    assert_eq!(escalations(&back), escalations(sop), "{}", sop.id);
}

#[test]
fn every_runbook_fixture_becomes_a_skill_that_parses_back() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runbooks");
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    assert!(files.len() > 50, "{} fixtures", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let sop = import_markdown(&text, &stem).unwrap().sop;
        parses_back(&sop, &render_skill(&sop));
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    out
}

#[test]
fn names_are_what_skill_loaders_accept() {
    let mut sop = common::deploy_webapp();
    for (id, want) in [
        ("deploy-web", "deploy-web"),
        ("Rotate_TLS certs", "rotate-tls-certs"),
        ("--weird__id--", "weird-id"),
        ("ünïcödé", "n-c-d"),
        ("", "sop"),
    ] {
        sop.id = id.into();
        assert_eq!(skill_name(&sop), want, "{id}");
    }
    sop.id = "x".repeat(100);
    assert_eq!(skill_name(&sop).len(), 64);
    sop.purpose = "word ".repeat(400);
    assert!(skill_description(&sop).chars().count() <= 1024);
}
