//! Importing runbooks that tacit did not write: the fixture collection
//! (`fixtures/runbooks/`, ~80 files in the shapes teams keep: alert
//! runbooks, change checklists, Hugo pages, numbered procedures) and bad
//! input.

use std::path::{Path, PathBuf};

use tacit_sop::{Sop, StepBlock, TextFormat, import_markdown, render_markdown};

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runbooks");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "md")
                && p.file_name().is_some_and(|n| n != "README.md")
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn import(path: &Path) -> tacit_sop::Imported {
    let text = std::fs::read_to_string(path).unwrap();
    let id = tacit_sop::import::id_from_path(path);
    import_markdown(&text, &id).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture(rel: &str) -> Sop {
    import(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/runbooks")
            .join(rel),
    )
    .sop
}

#[test]
fn the_collection_imports() {
    let files = fixtures();
    assert!(files.len() >= 60, "only {} fixtures", files.len());
    let mut failed = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if let Err(e) = import_markdown(&text, "x") {
            failed.push(format!("{}: {e}", f.display()));
        }
    }
    let ok = files.len() - failed.len();
    assert!(
        ok * 100 >= files.len() * 98,
        "{ok} of {} imported:\n{}",
        files.len(),
        failed.join("\n")
    );
}

/// Import → export → import gives the same SOP: commands, prose, order,
/// stages, groups, snippets, front matter.
#[test]
fn every_fixture_survives_export_and_reimport() {
    for f in fixtures() {
        let first = import(&f);
        let md = render_markdown(&first.sop);
        let again = import_markdown(&md, "other-id")
            .unwrap_or_else(|e| panic!("{}: export does not re-import: {e}\n{md}", f.display()));
        assert_eq!(
            again.sop,
            first.sop,
            "{}: changed on re-import; export was:\n{md}",
            f.display()
        );
        // And once more: the export is a fixed point.
        assert_eq!(render_markdown(&again.sop), md, "{}", f.display());
    }
}

/// Nothing written is dropped: every word of the original is in the export.
#[test]
fn every_word_of_every_fixture_is_kept() {
    let words = |s: &str| -> std::collections::BTreeSet<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 3)
            .map(str::to_lowercase)
            .collect()
    };
    for f in fixtures() {
        let text = std::fs::read_to_string(&f).unwrap();
        let has_title_key = text.starts_with("---\ntitle:") || text.contains("\ntitle:");
        // Headings that map to tacit's sections are written under its names,
        // and a `# ` title that differs from the front matter's gives way.
        let lines: Vec<&str> = text.lines().collect();
        let text: String = lines
            .iter()
            .enumerate()
            .filter(|(i, l)| {
                let h = l.trim_start_matches('#');
                let atx = h.len() < l.len() && h.starts_with(' ');
                let setext = lines.get(i + 1).is_some_and(|u| {
                    u.len() >= 3 && (u.chars().all(|c| c == '=') || u.chars().all(|c| c == '-'))
                });
                let maps = tacit_sop::import::maps_to(if atx { h } else { l }).is_some();
                !((atx || setext) && (maps || (l.starts_with("# ") && has_title_key)))
            })
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join("\n");
        let md = render_markdown(&import(&f).sop).replace("\\n", " ");
        let have = words(&md);
        let lost: Vec<String> = words(&text).difference(&have).cloned().collect();
        assert!(lost.is_empty(), "{}: lost {lost:?}", f.display());
    }
}

#[test]
fn alert_runbooks_keep_their_sections_in_order_and_run_diagnosis_then_mitigation() {
    let sop = fixture("alerts/kube-pod-crash-looping.md");
    assert_eq!(sop.text, TextFormat::Markdown);
    let md = render_markdown(&sop);
    let at = |h: &str| md.find(h).unwrap_or_else(|| panic!("no {h:?} in\n{md}"));
    assert!(at("## Meaning") < at("## Impact"));
    assert!(at("## Impact") < at("## Diagnosis"));
    assert!(at("## Diagnosis") < at("## Mitigation"));
    let stages: Vec<&str> = sop
        .steps
        .iter()
        .filter_map(|s| s.stage.as_deref())
        .collect();
    let first_mitigation = stages.iter().position(|s| *s == "Mitigation").unwrap();
    assert!(stages[..first_mitigation].iter().all(|s| *s == "Diagnosis"));
    assert!(
        stages[first_mitigation..]
            .iter()
            .all(|s| *s == "Mitigation")
    );
}

#[test]
fn a_checklist_keeps_the_manual_check_between_dry_run_and_real_run() {
    let sop = fixture("gitlab/purge-stale-container-images.md");
    let titles: Vec<&str> = sop.steps.iter().map(|s| s.title.as_str()).collect();
    let dry = titles
        .iter()
        .position(|t| t.contains("dry-run mode"))
        .unwrap();
    let check = titles
        .iter()
        .position(|t| t.starts_with("Confirm the dry-run"))
        .unwrap();
    let real = titles.iter().position(|t| t.contains("for real")).unwrap();
    assert!(dry < check && check < real, "{titles:?}");
    assert!(
        sop.steps[check].commands.is_empty(),
        "the check is done by hand"
    );
    assert!(!sop.steps[real].commands.is_empty());
}

#[test]
fn console_output_is_output_and_yaml_is_a_snippet() {
    for sop in fixtures().iter().map(|f| import(f).sop) {
        for step in &sop.steps {
            for c in &step.commands {
                assert!(!c.starts_with("$ "), "{}: prompt kept in {c:?}", sop.id);
                assert!(
                    !c.starts_with("apiVersion:"),
                    "{}: YAML as a command",
                    sop.id
                );
                assert!(
                    !c.to_uppercase().starts_with("SELECT "),
                    "{}: SQL as a command",
                    sop.id
                );
            }
        }
    }
    let sop = fixture("alerts/kube-pod-crash-looping.md");
    let shown: Vec<_> = sop
        .steps
        .iter()
        .flat_map(|s| &s.body)
        .filter_map(|b| match b {
            StepBlock::Commands { commands, .. } => Some(commands),
            _ => None,
        })
        .flatten()
        .filter(|c| c.output.is_some())
        .collect();
    assert!(!shown.is_empty(), "console output is kept as output");
    let snippets = fixture("db/postgres-vacuum-bloat.md")
        .steps
        .iter()
        .flat_map(|s| s.body.clone())
        .filter(|b| matches!(b, StepBlock::Snippet { lang, .. } if lang == "sql"))
        .count();
    assert!(snippets > 0, "sql is shown, not run");
}

#[test]
fn multi_line_commands_stay_whole() {
    let sop = fixture("k8s/rotate-service-account-token.md");
    let heredoc = sop
        .steps
        .iter()
        .flat_map(|s| &s.commands)
        .find(|c| c.contains("<<EOF") || c.contains("<<'EOF'"))
        .expect("a heredoc");
    assert!(heredoc.trim_end().ends_with("EOF"), "{heredoc}");
    for sop in fixtures().iter().map(|f| import(f).sop) {
        for c in sop.steps.iter().flat_map(|s| &s.commands) {
            assert!(
                tacit_sop::shell::is_complete(c) || c.contains("<<"),
                "{}: an incomplete command {c:?}",
                sop.id
            );
        }
    }
}

#[test]
fn links_code_emphasis_and_nested_lists_survive() {
    let src = "# Fix it\n\nSee [the dashboard](https://grafana.example.com/d/x) and `kubectl`.\n\n## Steps\n\n1. Scale **down** the `web` deployment:\n   - first *this*\n   - then that\n     - deeper\n\n   ```sh\n   kubectl scale deploy/web --replicas=0\n   ```\n2. Check it.\n";
    let sop = import_markdown(src, "fix").unwrap().sop;
    let md = render_markdown(&sop);
    for kept in [
        "[the dashboard](https://grafana.example.com/d/x)",
        "`kubectl`",
        "**down**",
        "`web`",
        "- first *this*",
        "  - deeper",
    ] {
        assert!(md.contains(kept), "{kept:?} lost in\n{md}");
    }
    assert_eq!(sop.steps.len(), 2);
    assert_eq!(
        sop.steps[0].commands,
        vec!["kubectl scale deploy/web --replicas=0"]
    );
}

#[test]
fn front_matter_keys_are_kept_and_the_id_comes_from_the_path() {
    let src = "---\ntitle: Purge the CDN\nweight: 20\ntags: [cdn, web]\naliases:\n  - /old/purge\ndraft: false\n---\n\n## Steps\n\n```sh\ncdn purge --all\n```\n";
    let sop = import_markdown(src, "cdn-purge").unwrap().sop;
    assert_eq!(sop.id, "cdn-purge");
    assert_eq!(sop.title, "Purge the CDN");
    let keys: Vec<&str> = sop.front_matter.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(keys, vec!["weight", "tags", "aliases", "draft"]);
    let md = render_markdown(&sop);
    assert!(md.contains("weight: 20\n"), "{md}");
    assert!(md.contains("tags: [\"cdn\",\"web\"]\n"), "{md}");
    let back = import_markdown(&md, "x").unwrap().sop;
    assert_eq!(back.front_matter, sop.front_matter);

    let toml = "+++\ntitle = \"Restore\"\nweight = 3\n+++\n\n1. Restore:\n   ```sh\n   restore --latest\n   ```\n";
    let sop = import_markdown(toml, "restore").unwrap().sop;
    assert_eq!(sop.title, "Restore");
    assert_eq!(sop.front_matter[0].key, "weight");
    assert_eq!(sop.steps[0].commands, vec!["restore --latest"]);
}

#[test]
fn placeholders_in_angle_brackets_become_parameters() {
    let src = "# Logs\n\n```sh\nkubectl -n <namespace> logs <pod-name> --previous\n```\n";
    let sop = import_markdown(src, "logs").unwrap().sop;
    assert_eq!(
        sop.steps[0].commands,
        vec!["kubectl -n <<namespace>> logs <<pod_name>> --previous"]
    );
    let names: Vec<&str> = sop.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["namespace", "pod_name"]);
}

#[test]
fn tacits_own_files_still_come_back_exactly() {
    let sop = tacit_sop::parse_markdown(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/messy_whitespace.md"),
        )
        .unwrap(),
    )
    .unwrap();
    let md = render_markdown(&sop);
    let got = import_markdown(&md, "ignored").unwrap();
    assert!(got.strict);
    assert_eq!(got.sop, sop);
}

// ── bad input: a clear error or a warning, never a panic or a hang

#[test]
fn empty_and_binary_files_are_clear_errors() {
    let e = import_markdown("", "x").unwrap_err();
    assert!(e.message.contains("empty"), "{e}");
    let e = import_markdown("  \n\n", "x").unwrap_err();
    assert!(e.message.contains("empty"), "{e}");
    let e = import_markdown("# Title\n\nsome\0binary", "x").unwrap_err();
    assert!(e.message.contains("binary"), "{e}");
    assert_eq!(e.line, 3);
}

#[test]
fn ten_thousand_deep_nesting_imports() {
    for (open, item) in [("> ", ""), ("", "- ")] {
        let mut src = String::from("# Deep\n\n");
        for depth in 0..10_000 {
            if open.is_empty() {
                src.push_str(&"  ".repeat(depth.min(2_000)));
                src.push_str(item);
                src.push_str("level\n");
            } else {
                src.push_str(&open.repeat(depth.min(10_000)));
                src.push_str("x\n");
            }
        }
        let deep_quote = format!("# Deep\n\n{}text\n", "> ".repeat(10_000));
        let deep_list = format!("# Deep\n\n{}item\n", "- ".repeat(10_000));
        for s in [src.as_str(), deep_quote.as_str(), deep_list.as_str()] {
            let got = import_markdown(s, "deep").unwrap();
            let md = render_markdown(&got.sop);
            assert!(md.contains("# Deep"));
        }
    }
}

#[test]
fn a_yaml_alias_bomb_is_a_clear_error() {
    let mut yaml = String::from(
        "---\ntitle: Bomb\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for c in 'b'..='j' {
        yaml.push_str(&format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = c;
    }
    yaml.push_str("---\n\n# Bomb\n\n```sh\necho ok\n```\n");
    let start = std::time::Instant::now();
    let e = import_markdown(&yaml, "bomb").unwrap_err();
    assert!(e.message.contains("front matter"), "{e}");
    assert!(e.message.contains("budget"), "says why: {e}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_twenty_megabyte_runbook_imports() {
    let mut src = String::from("# Big\n\n## Steps\n\n");
    let mut n = 0;
    while src.len() < 20 * 1024 * 1024 {
        n += 1;
        src.push_str(&format!(
            "### Step {n}\n\nRestart the worker number {n} and check it with care.\n\n```sh\nsystemctl restart worker@{n}\n```\n\n"
        ));
    }
    let got = import_markdown(&src, "big").unwrap();
    assert_eq!(got.sop.steps.len(), n);
}

#[test]
fn unterminated_things_are_warnings_not_hangs() {
    let got = import_markdown("# X\n\n```sh\necho \"two\nls\n```\n", "x").unwrap();
    assert!(
        got.warnings
            .iter()
            .any(|w| w.message.contains("never ends") && w.line == 4),
        "{:?}",
        got.warnings
    );
    let got = import_markdown("---\ntitle: x\n\n# Never closed\n", "x").unwrap();
    assert!(
        got.warnings
            .iter()
            .any(|w| w.message.contains("never closed"))
    );
    let got = import_markdown("# X\n\n```sh\nls\n", "x").unwrap();
    assert_eq!(got.sop.steps[0].commands, vec!["ls"]);
}
