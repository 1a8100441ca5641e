//! `parse_markdown(&render_markdown(&sop)) == sop` for generated SOPs whose
//! text is full of Markdown, YAML and shell specials.

use std::collections::BTreeSet;

use proptest::prelude::*;
use tacit_sop::*;

/// A one-line field: no newline, no leading or trailing whitespace, non-empty.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[ -~]{1,30}",
        2 => "[a-zA-Z ,.;:'\"()!?-]{1,40}",
        1 => "[ -~éüß漢字🙂→—–·\u{a0}]{1,20}",
        2 => prop::sample::select(vec![
            "**bold** and _it_ and `code` and <script>alert(1)</script>",
            "# not a heading",
            "- not a list",
            "+ plus",
            "1. not a list",
            "12) nor this",
            "| a | b |",
            "<!-- sources: x#1 -->",
            "```",
            "~~~ tilde",
            "→ **Then** x",
            "(exit code 3, output contains `x`)",
            "— check: `x`",
            "— run: `y`",
            "→ contact: z",
            "\\",
            "ends with a backslash \\",
            "Step: x",
            "Any step",
            "### 2. x",
            "---",
            "===",
            "x (optional)",
            "(Optional)",
            "x _(optional)_",
            "costs $5 and $6",
            "R&D &amp; &#35;",
            "a ~~strike~~ b",
            "[link](http://example.com) ![img](x.png)",
            "He said: \"don't\" — it's 100% done; ok?",
            "**When** x",
            "**Why:** y",
            "**Expect:** exit code 0",
            "**Working folder:** `z`",
            "trailing hashes ##",
            "Check whether pid in the lock file is still running; if not, remove the stale lock.",
        ])
        .prop_map(str::to_string),
    ]
    .prop_map(|s: String| s.trim().to_string())
    .prop_filter("non-empty", |s| !s.is_empty())
}

/// A one-line field that may be empty.
fn maybe_empty_line() -> impl Strategy<Value = String> {
    prop_oneof![1 => Just(String::new()), 4 => line()]
}

/// Multi-line text: trimmed lines, paragraphs separated by one blank line.
fn block() -> impl Strategy<Value = String> {
    prop::collection::vec((line(), any::<bool>()), 1..5).prop_map(|lines| {
        let mut out = String::new();
        for (i, (l, new_para)) in lines.iter().enumerate() {
            if i > 0 {
                out.push_str(if *new_para { "\n\n" } else { "\n" });
            }
            out.push_str(l);
        }
        out
    })
}

/// A paragraph: trimmed lines, no blank line.
fn paragraph() -> impl Strategy<Value = String> {
    prop::collection::vec(line(), 1..3).prop_map(|l| l.join("\n"))
}

/// Front-matter text: anything printable, newlines and tabs included.
fn yaml_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{0,30}",
        1 => "[ -~\n\téü漢🙂\u{a0}\u{2028}]{0,30}",
        1 => prop::sample::select(vec![
            "yes", "no", "null", "~", "true", "123", "0x1F", "1e3", "- a", ": b", "a: b",
            "# c", "'q'", "\"dq\"", "[x]", "{y}", "&anchor", "*alias", "!tag", "|", ">",
            "@at", "`tick`", "%pct", "  lead", "trail  ", "",
        ])
        .prop_map(str::to_string),
    ]
}

fn non_blank_yaml_text() -> impl Strategy<Value = String> {
    yaml_text().prop_filter("has text", |s| {
        !s.replace(['\r', '\n'], " ").trim().is_empty()
    })
}

fn command() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{1,40}".prop_map(|s| s.trim().to_string()),
        2 => prop::sample::select(vec![
            "./deploy/build.sh <<version>>",
            "kubectl get pods -l app=web | grep -v Running && echo ok",
            "helm upgrade web ./chart --set image.tag={{ .Values.tag }}",
            "echo \"it's done\" > /tmp/x 2>&1",
            "psql -c 'SELECT 1;' || exit 3",
            "docker run --rm -e X=`date` alpine sh -c 'echo $X'",
            "printf '```\\n'",
            "```",
            "# a comment line",
            "<!-- not a comment -->",
            "cat <<EOF > /tmp/conf",
            "echo trailing backslash \\\\",
        ])
        .prop_map(str::to_string),
        1 => prop::collection::vec("[a-z0-9 =./-]{1,15}", 2..4).prop_map(|parts| {
            let parts: Vec<String> = parts.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
            if parts.is_empty() { "true".to_string() } else { parts.join(" \\\n  ") }
        }),
        1 => prop::collection::vec("[ -~]{0,20}", 2..5).prop_map(|lines| lines.join("\n")),
        1 => Just("for h in web1 web2; do\n  ssh $h 'systemctl restart app'\ndone".to_string()),
        1 => Just("cat > /tmp/x <<'EOF'\n```\n  indented\n\nEOF".to_string()),
        1 => Just("echo a \\\n\nb".to_string()),
        1 => Just("ends in backslash\\".to_string()),
    ]
    .prop_map(|s: String| s.trim().to_string())
    .prop_filter("non-empty", |s| !s.is_empty())
}

/// Code-span text (expected output, folders, check commands): one line, non-empty.
fn code_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{1,25}",
        1 => prop::sample::select(vec!["`", "``", "a`b", " a ", "  ", " lead", "trail ", "<<version>>", "{{ .Values.x }}"])
            .prop_map(str::to_string),
    ]
}

fn sources() -> impl Strategy<Value = Vec<SourceRef>> {
    prop::collection::vec(
        ("[0-9a-z]{8}(-[0-9a-z]{4}){0,2}", any::<u64>())
            .prop_map(|(run_id, seq)| SourceRef { run_id, seq }),
        0..3,
    )
}

fn expectation() -> impl Strategy<Value = Expectation> {
    (
        prop::option::of(any::<i32>()),
        prop::collection::vec(code_text(), 0..3),
    )
        .prop_map(|(exit_code, output_contains)| Expectation {
            exit_code,
            output_contains,
        })
}

fn parameters() -> impl Strategy<Value = Vec<Parameter>> {
    prop::collection::btree_set("[a-z][a-z0-9_]{0,8}", 0..4).prop_flat_map(
        |names: BTreeSet<String>| {
            let n = names.len();
            (
                Just(names.into_iter().collect::<Vec<_>>()),
                prop::collection::vec(
                    (
                        yaml_text(),
                        prop::collection::vec(yaml_text(), 0..3),
                        any::<bool>(),
                    ),
                    n,
                ),
            )
                .prop_map(|(names, rest)| {
                    names
                        .into_iter()
                        .zip(rest)
                        .map(|(name, (description, examples, secret))| Parameter {
                            name,
                            description,
                            examples,
                            secret,
                        })
                        .collect()
                })
        },
    )
}

fn step() -> impl Strategy<Value = Step> {
    (
        line(),
        prop::collection::vec(command(), 0..4),
        prop::option::of(block()),
        prop::option::of(code_text()),
        expectation(),
        prop::option::of(paragraph()),
        prop::option::of(paragraph()),
        any::<bool>(),
        sources(),
    )
        .prop_map(
            |(title, commands, instruction, cwd, expect, why, caution, optional, sources)| Step {
                title,
                commands,
                instruction,
                cwd,
                expect,
                why,
                caution,
                optional,
                sources,
                ..Default::default()
            },
        )
}

fn rule(titles: Vec<String>) -> impl Strategy<Value = DecisionRule> {
    let step = if titles.is_empty() {
        prop::option::of(line()).boxed()
    } else {
        prop_oneof![
            1 => Just(None),
            2 => prop::sample::select(titles).prop_map(Some),
            1 => line().prop_map(Some),
        ]
        .boxed()
    };
    (
        step,
        maybe_empty_line(),
        prop::option::of(any::<i32>()),
        prop::option::of(code_text()),
        maybe_empty_line(),
        prop::collection::vec(command(), 0..3),
        maybe_empty_line(),
        sources(),
    )
        .prop_map(
            |(step, summary, exit_code, output_contains, then, then_commands, because, sources)| {
                DecisionRule {
                    step,
                    when: Condition {
                        summary,
                        exit_code,
                        output_contains,
                    },
                    then,
                    then_commands,
                    because,
                    sources,
                }
            },
        )
}

fn sop() -> impl Strategy<Value = Sop> {
    let head = (
        "[a-z][a-z0-9-]{0,20}",
        non_blank_yaml_text(),
        prop::option::of(non_blank_yaml_text()),
        prop::option::of(any::<u32>()),
        any::<u32>(),
        parameters(),
        prop_oneof![Just(String::new()), block()],
        prop_oneof![Just(String::new()), block()],
    );
    let items = (
        prop::collection::vec(
            (maybe_empty_line(), prop::option::of(code_text()), sources()).prop_map(
                |(description, check, sources)| Prerequisite {
                    description,
                    check,
                    sources,
                },
            ),
            0..3,
        ),
        prop::collection::vec(step(), 0..5).prop_map(|mut steps| {
            // Step titles are unique.
            let mut seen = BTreeSet::new();
            for (i, s) in steps.iter_mut().enumerate() {
                while !seen.insert(s.title.clone()) {
                    s.title = format!("{} {i}", s.title);
                }
            }
            steps
        }),
        prop::collection::vec(
            (maybe_empty_line(), maybe_empty_line(), sources()).prop_map(
                |(description, handling, sources)| EdgeCase {
                    description,
                    handling,
                    sources,
                },
            ),
            0..3,
        ),
        prop::collection::vec(
            (maybe_empty_line(), prop::option::of(line()), sources()).prop_map(
                |(when, contact, sources)| Escalation {
                    when,
                    contact,
                    sources,
                },
            ),
            0..3,
        ),
        prop::collection::vec(
            (
                maybe_empty_line(),
                prop::option::of(code_text()),
                expectation(),
                sources(),
            )
                .prop_map(|(description, command, expect, sources)| SuccessCheck {
                    description,
                    command,
                    expect,
                    sources,
                }),
            0..3,
        ),
        prop::collection::vec(
            (
                any::<u32>(),
                prop_oneof![Just("2026-11-20".to_string()), maybe_empty_line()],
                maybe_empty_line(),
                maybe_empty_line(),
                prop::collection::vec("[0-9a-z]{8}(-[0-9a-z]{4}){0,3}", 0..3),
            )
                .prop_map(|(version, date, author, summary, runs)| Revision {
                    version,
                    date,
                    author,
                    summary,
                    runs,
                }),
            0..3,
        ),
    );
    (head, items)
        .prop_flat_map(|(head, items)| {
            let titles: Vec<String> = items.1.iter().map(|s| s.title.clone()).collect();
            (
                Just(head),
                Just(items),
                prop::collection::vec(rule(titles), 0..4),
                prop::collection::vec(line(), 0..3),
            )
        })
        .prop_map(
            |(
                (id, title, owner, review_every_days, version, parameters, purpose, when_to_use),
                (prerequisites, steps, edge_cases, escalations, success_checks, revisions),
                rules,
                notes,
            )| Sop {
                id,
                title,
                owner,
                review_every_days,
                version,
                parameters,
                purpose,
                when_to_use,
                prerequisites,
                steps,
                rules,
                edge_cases,
                escalations,
                success_checks,
                notes,
                revisions,
                ..Default::default()
            },
        )
}

/// Pieces of the format, to be put together at random.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "\n", "\n\n", "\r\n", "# x\n", "## Procedure\n", "## procedure\n", "## Purpose\n",
            "## Decision rules\n", "## Prerequisites\n", "## Edge cases\n", "## Escalation\n",
            "## Success checks\n", "## Revision history\n", "## Parameters\n", "## Nope\n",
            "### 1. x\n", "### x\n", "### 2.\n", "### Step: x\n", "### Any step\n", "#### deep\n",
            "```sh\n", "```\n", "````\n", "~~~\n", "```sh one-command\n", "```mermaid\n", "```yaml\n",
            "  ```sh\n", "  ```\n", "- ", "* ", "1. ", "  ", "**When** ", "→ **Then** ",
            "-> **Because** ", "(exit code 3, output contains `x`)\n", "(exit code\n",
            "— check: `c`\n", "— run: ", "— expect: ", "→ contact: ", "→ ",
            "<!-- sources: a#1, b#2 -->\n", "<!-- sources: bad -->\n", "<!--", "-->",
            "| Version | Date | Author | Summary | Runs |\n", "| --- | --- |\n", "| 1 | d | a | s | `r` |\n",
            "| x |\n", "**Expect:** ", "exit code 0", "exit code -", "output contains ", "`x`", "`",
            "``", "\\", "**Working folder:** ", "**Why:** ", "**Caution:** ", "## Notes\n", "_(optional)_", "(optional)", "text",
            "é漢🙂", "\t", "\u{0}", "\u{feff}", "&amp;",
        ])
        .prop_map(str::to_string),
        1 => "[ -~]{1,8}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn markdown_round_trips(sop in sop()) {
        let md = render_markdown(&sop);
        let back = parse_markdown(&md);
        prop_assert!(back.is_ok(), "{}\n---- markdown ----\n{md}", back.unwrap_err());
        prop_assert_eq!(back.unwrap(), sop, "\n---- markdown ----\n{}", md);
    }

    #[test]
    fn markdown_round_trips_with_crlf(sop in sop()) {
        let md = render_markdown(&sop).replace('\n', "\r\n");
        prop_assert_eq!(parse_markdown(&md).unwrap(), sop);
    }

    #[test]
    fn rendering_is_stable(sop in sop()) {
        let md = render_markdown(&sop);
        prop_assert_eq!(render_markdown(&parse_markdown(&md).unwrap()), md);
    }

    #[test]
    fn parsing_never_panics(text in "(?s).{0,400}") {
        let _ = parse_markdown(&text);
    }

    #[test]
    fn parsing_token_soup_never_panics(tokens in prop::collection::vec(token(), 0..60)) {
        let text = format!("---\nid: x\ntitle: x\n---\n{}", tokens.concat());
        if let Err(e) = parse_markdown(&text) {
            prop_assert!(e.line >= 1 && e.line <= text.split('\n').count(), "{e}");
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn parsing_mangled_documents_never_panics(sop in sop(), cut in any::<prop::sample::Index>(), junk in "(?s).{0,20}") {
        let md = render_markdown(&sop);
        let mut at = cut.index(md.len() + 1);
        while !md.is_char_boundary(at) {
            at -= 1;
        }
        let mangled = format!("{}{junk}{}", &md[..at], &md[at..]);
        if let Err(e) = parse_markdown(&mangled) {
            // CR, LF and CRLF each end a line.
            let lines = mangled.replace("\r\n", "\n").replace('\r', "\n").split('\n').count();
            prop_assert!(e.line >= 1 && e.line <= lines, "{e}");
        }
    }
}
