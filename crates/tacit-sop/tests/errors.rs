//! Malformed Markdown gives an error that names the line and says what to
//! fix; it never panics.

use tacit_sop::{ParseError, parse_markdown};

const HEAD: &str = "---\nid: deploy-web\ntitle: Deploy\nversion: 1\n---\n\n# Deploy\n";

#[track_caller]
fn error(text: &str) -> ParseError {
    match parse_markdown(text) {
        Ok(sop) => panic!("parsed, but should not have:\n{text}\n=> {sop:?}"),
        Err(e) => e,
    }
}

#[track_caller]
fn assert_error(text: &str, line: usize, needle: &str) {
    let e = error(text);
    assert_eq!(e.line, line, "wrong line for: {e}\n{text}");
    assert!(
        e.message.contains(needle),
        "message `{}` lacks `{needle}`",
        e.message
    );
    assert!(e.to_string().starts_with(&format!("line {line}: ")), "{e}");
}

#[test]
fn empty_file() {
    assert_error("", 1, "the file is empty");
    assert_error("\n  \n\r\n", 1, "the file is empty");
}

#[test]
fn no_front_matter() {
    assert_error(
        "# Deploy\n\n## Purpose\n\nShip it.\n",
        1,
        "must start with a `---` line",
    );
}

#[test]
fn unterminated_front_matter() {
    assert_error(
        "---\nid: x\ntitle: y\n\n# y\n",
        1,
        "never closed: add a `---` line",
    );
}

#[test]
fn empty_front_matter() {
    assert_error("---\n---\n# x\n", 1, "front matter is empty");
}

#[test]
fn invalid_yaml_points_at_the_yaml_line_in_the_file() {
    assert_error(
        "---\nid: x\ntitle: y\nversion: one\n---\n",
        4,
        "expected a whole number",
    );
    assert_error(
        "---\nid: x\ntitle: [unclosed\nversion: 1\n---\n",
        3,
        "quote a value",
    );
    assert_error(
        "---\nid: x\ntitle: \"unterminated\n---\n",
        3,
        "invalid front matter",
    );
    assert_error("---\nid: x\n\ttitle: y\n---\n", 2, "found a tab");
    assert_error("---\nid: x\nid: y\ntitle: y\n---\n", 3, "duplicate");
    assert_error("---\njust text\n---\n", 2, "`key: value` lines");
}

#[test]
fn unknown_front_matter_key() {
    assert_error(
        "---\nid: x\ntitle: y\nauthor: z\n---\n",
        4,
        "unknown key `author`",
    );
    assert_error(
        "---\nid: x\ntitle: y\nparameters:\n  - name: v\n    default: 1\n---\n",
        6,
        "unknown key `default`",
    );
}

#[test]
fn missing_id_or_title() {
    assert_error("---\ntitle: y\n---\n", 1, "no `id:`");
    assert_error("---\nid: x\ntitle: \"  \"\n---\n", 1, "no `title:`");
}

#[test]
fn parameter_without_a_name() {
    assert_error(
        "---\nid: x\ntitle: y\nparameters:\n  - name: ok\n  - description: no name\n    secret: true\n---\n",
        6,
        "this parameter has no `name:`",
    );
}

#[test]
fn parameter_with_a_bad_or_repeated_name() {
    assert_error(
        "---\nid: x\ntitle: y\nparameters:\n  - name: Version\n---\n",
        5,
        "must be lowercase letters",
    );
    assert_error(
        "---\nid: x\ntitle: y\nparameters:\n  - name: tag\n  - name: tag\n---\n",
        6,
        "listed twice",
    );
    assert_error(
        "---\nid: x\ntitle: y\nparameters:\n  - name: v\n    examples: v1\n---\n",
        6,
        "expected a list here",
    );
}

#[test]
fn unknown_section() {
    let text = format!("{HEAD}\n## Purpose\n\nShip it.\n\n## Gossip\n\nRemember the thing.\n");
    let e = error(&text);
    assert_eq!(e.line, 13);
    assert!(e.message.contains("unknown section `## Gossip`"), "{e}");
    assert!(e.message.contains("`Decision rules`"), "{e}");
}

#[test]
fn repeated_section() {
    let text = format!("{HEAD}\n## Purpose\n\nA.\n\n## purpose\n\nB.\n");
    assert_error(&text, 13, "appears twice (first on line 9)");
}

#[test]
fn unterminated_code_fence() {
    let text = format!("{HEAD}\n## Procedure\n\n### 1. Build\n\n```sh\nmake\n\n### 2. Ship\n");
    assert_error(&text, 13, "never closed: add a closing ``` line");
    let text = format!("{HEAD}\n## Procedure\n\n### 1. Build\n\n~~~~\nmake\n~~~\n");
    assert_error(&text, 13, "never closed: add a closing ~~~~ line");
}

#[test]
fn binary_garbage() {
    assert_error("\u{0}\u{1}\u{2}ELF\u{0}", 1, "binary data");
    assert_error(
        &format!("{HEAD}\n## Purpose\n\nok\u{0}\n"),
        11,
        "binary data",
    );
    let bytes: Vec<u8> = (0..2000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let text = String::from_utf8_lossy(&bytes);
    let e = error(&text);
    assert!(e.line >= 1, "{e}");
}

#[test]
fn step_heading_without_a_title() {
    let text = format!("{HEAD}\n## Procedure\n\n### 3.\n\n```sh\nmake\n```\n");
    assert_error(&text, 11, "has no title");
}

#[test]
fn two_steps_with_one_title() {
    let text = format!("{HEAD}\n## Procedure\n\n### 1. Build\n\n### 2. Ship\n\n### 3. Build\n");
    assert_error(&text, 15, "titled `Build` (the first is on line 11)");
}

#[test]
fn title_differs_from_front_matter() {
    let text = "---\nid: x\ntitle: Deploy\n---\n\n# Deploy the app\n";
    assert_error(text, 6, "differs from `title:`");
}

#[test]
fn text_outside_sections() {
    let text = format!("{HEAD}\nSome words.\n\n## Purpose\n\nA.\n");
    assert_error(&text, 9, "outside any section");
    let text = format!("{HEAD}\n## Procedure\n\nFirst, some words.\n\n### 1. Build\n");
    assert_error(&text, 11, "before the first step");
    let text = format!("{HEAD}\n## Purpose\n\nA.\n\n# Again\n");
    assert_error(&text, 13, "a second `# ` title (the first is on line 7)");
    let text = "---\nid: x\ntitle: X\n---\n\n## Purpose\n\nA.\n\n# X\n";
    assert_error(text, 10, "must come before the sections");
}

#[test]
fn code_block_in_another_language() {
    let text = format!("{HEAD}\n## Procedure\n\n### 1. Configure\n\n```yaml\nkey: value\n```\n");
    assert_error(
        &text,
        13,
        "only ```sh, ```bash or plain ``` blocks hold commands",
    );
}

#[test]
fn bad_sources_comment() {
    let text = format!("{HEAD}\n## Procedure\n\n### 1. Build\n\n<!-- sources: run1#4, run2 -->\n");
    assert_error(&text, 13, "source `run2` should look like `RUN#SEQ`");
}

#[test]
fn rule_without_when() {
    let text = format!("{HEAD}\n## Decision rules\n\n- If it fails, retry\n");
    assert_error(&text, 11, "starts with `- **When** <signal>`");
    let text = format!("{HEAD}\n## Decision rules\n\n### Build\n\n- **When** x\n  → **Then** y\n");
    assert_error(&text, 11, "`### Step: <step title>` or `### Any step`");
}

#[test]
fn bad_expectation() {
    let text = format!("{HEAD}\n## Procedure\n\n### 1. Build\n\n**Expect:** it works\n");
    assert_error(&text, 13, "cannot read the expectation at `it works`");
    let text =
        format!("{HEAD}\n## Success checks\n\n- Healthy\n  — expect: output contains healthy\n");
    assert_error(&text, 12, "needs the text in backticks");
}

#[test]
fn list_sections_hold_lists() {
    let text = format!("{HEAD}\n## Prerequisites\n\nYou need ssh.\n");
    assert_error(&text, 11, "start this line with `- `");
    let text = format!("{HEAD}\n## Escalation\n\n- x\n\n```sh\ncall\n```\n");
    // A fence after a blank line still belongs to the item before it.
    assert_error(&text, 13, "a code block in an escalation is not kept");
}

#[test]
fn revision_table_problems() {
    let text = format!(
        "{HEAD}\n## Revision history\n\n| Version | Date |\n| --- | --- |\n| two | 2026-01-01 |\n"
    );
    assert_error(&text, 13, "revision version `two` is not a whole number");
    let text = format!("{HEAD}\n## Revision history\n\n| Version | Mood |\n| --- | --- |\n");
    assert_error(&text, 11, "unknown column `mood`");
    let text = format!("{HEAD}\n## Revision history\n\nv1: first\n");
    assert_error(&text, 11, "holds a table");
}

#[test]
fn unclosed_html_comment() {
    let text = format!("{HEAD}\n## Purpose\n\nA.\n\n<!-- sources: r#1\n");
    assert_error(&text, 13, "never closed: end it with `-->`");
}
