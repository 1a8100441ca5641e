//! Properties over generated text: never panics, idempotent, Borrowed only
//! when unchanged, and known tokens never survive whatever surrounds them.

use std::borrow::Cow;

use proptest::prelude::*;
use tacit_redact::{CustomRule, MARKER_PREFIX, Redactor, marker_regex};

fn mix(n: usize) -> String {
    "q7Rk2Xv9Lm4Tz8Wb3Nc6Hd1Fg5Jp0Ys"
        .chars()
        .cycle()
        .take(n)
        .collect()
}

fn hex(n: usize) -> String {
    "3f9a1c7e5b2d8064".chars().cycle().take(n).collect()
}

/// Standalone tokens the built-in rules must always catch.
fn tokens() -> Vec<String> {
    vec![
        format!("AKIA{}", "Q3EGRQ7ZKXW5TN2D"),
        format!("ghp_{}", mix(36)),
        format!("github_pat_{}_{}", mix(22), mix(59)),
        format!("glpat-{}", mix(20)),
        format!("xoxb-1234567890-{}", mix(24)),
        format!("sk_live_{}", mix(24)),
        format!("npm_{}", mix(36)),
        format!("sk-ant-api03-{}", mix(40)),
        format!("sk-proj-{}", mix(40)),
        format!("AIza{}", mix(35)),
        format!("SK{}", hex(32)),
        format!("SG.{}.{}", mix(22), mix(43)),
        format!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.{}", mix(20)),
        format!("dop_v1_{}", hex(64)),
    ]
}

/// Pieces that exercise the rules' edges: keywords, separators, quotes,
/// partial and complete markers, key block lines.
fn fragment() -> impl Strategy<Value = String> {
    let specials: Vec<String> = [
        "PASSWORD=",
        "password: ",
        "token=",
        "API_KEY=",
        "--password ",
        "--token=",
        "KEYBOARD=",
        "https://bob:",
        "://",
        "@",
        "\"",
        "'",
        " ",
        "\n",
        "\r\n",
        "&",
        "=",
        ":",
        "$",
        "-p",
        "mysql -u root ",
        "curl -u bob:",
        "Authorization: Bearer ",
        "Bearer ",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
        "[REDACTED:token]",
        "[REDACTED:",
        "]",
        "aws_secret_access_key=",
        "hooks.slack.com/services/",
        "AKIA",
        "eyJ",
        "sk-",
        "\u{1b}[0m",
        "é",
        "ünï",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(tokens())
    .collect();
    prop_oneof![
        3 => "[ -~]{0,10}",
        2 => proptest::sample::select(specials),
        1 => "\\PC{0,6}",
        1 => "[A-Za-z0-9+/=_-]{1,45}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..16).prop_map(|v| v.concat())
}

fn custom() -> Redactor {
    Redactor::with_custom(&[
        CustomRule {
            name: "itk".into(),
            pattern: "itk_[a-z0-9]{4}".into(),
        },
        // Deliberately awkward: matches inside words and inside markers.
        CustomRule {
            name: "red".into(),
            pattern: "RED|e".into(),
        },
    ])
    .unwrap()
}

fn check(r: &Redactor, input: &str) -> Result<(), TestCaseError> {
    let once = r.redact(input);
    if let Cow::Owned(o) = &once {
        prop_assert_ne!(o.as_str(), input, "Owned but unchanged");
    }
    let twice = r.redact(&once);
    prop_assert_eq!(&*twice, &*once, "not idempotent for {:?}", input);
    prop_assert!(matches!(twice, Cow::Borrowed(_)));
    // Every marker we see is well formed: no marker was cut or nested.
    let names = r.rule_names();
    let input_markers = marker_regex().find_iter(input).count();
    let prefixes_in = input.matches(MARKER_PREFIX).count();
    let bare_prefixes_in = prefixes_in - input_markers;
    let out_markers: Vec<_> = marker_regex().captures_iter(&once).collect();
    let prefixes_out = once.matches(MARKER_PREFIX).count();
    prop_assert!(
        prefixes_out - out_markers.len() <= bare_prefixes_in,
        "a marker prefix without a whole marker appeared: {:?} -> {:?}",
        input,
        once
    );
    for c in &out_markers {
        let kind = &c["kind"];
        prop_assert!(
            names.contains(&kind) || input.contains(&c[0]),
            "unknown marker kind {:?}",
            kind
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn builtin_is_idempotent_and_well_formed(input in text()) {
        check(&Redactor::builtin(), &input)?;
    }

    #[test]
    fn custom_is_idempotent_and_well_formed(input in text()) {
        check(&custom(), &input)?;
    }

    #[test]
    fn arbitrary_unicode_never_panics(input in "\\PC*|[\\x00-\\x7f]*") {
        check(&Redactor::builtin(), &input)?;
    }

    #[test]
    fn tokens_never_survive(
        before in text(),
        after in text(),
        which in 0usize..14,
    ) {
        let token = &tokens()[which];
        let input = format!("{before} {token} {after}");
        let out = Redactor::builtin().redact(&input);
        // The surrounding text may hold the same characters glued to other
        // word characters (not a token there); the inserted one must go.
        let n_in = input.matches(token.as_str()).count();
        let n_out = out.matches(token.as_str()).count();
        prop_assert!(n_out < n_in, "{:?} -> {:?}", input, out);
    }
}
