//! User rules as they arrive from `config.toml`'s `[[redact.rules]]`.

use serde::Deserialize;
use tacit_redact::{CustomRule, RedactError, Redactor};

#[derive(Deserialize)]
struct Config {
    redact: RedactSection,
}

#[derive(Deserialize)]
struct RedactSection {
    rules: Vec<CustomRule>,
}

fn rules(toml_text: &str) -> Vec<CustomRule> {
    toml::from_str::<Config>(toml_text).unwrap().redact.rules
}

#[test]
fn custom_rules_from_config() {
    let rules = rules(
        r#"
[[redact.rules]]
name = "internal-ticket-token"
pattern = 'itk_[a-z0-9]{8}'

[[redact.rules]]
name = "Vault Unseal_Key"
pattern = 'unseal (?P<secret>[A-Za-z0-9+/=]{20,})'
"#,
    );
    let r = Redactor::with_custom(&rules).unwrap();

    assert_eq!(
        r.redact("curl -d itk_ab12cd34 https://tickets"),
        "curl -d [REDACTED:internal-ticket-token] https://tickets"
    );
    // Named `secret` group: only the group goes; the name is kebab-cased.
    assert_eq!(
        r.redact("vault operator unseal AbCdEfGhIjKlMnOpQrStUv=="),
        "vault operator unseal [REDACTED:vault-unseal-key]"
    );
    // Built-in rules still apply.
    assert_eq!(r.redact("password=hunter2"), "password=[REDACTED:password]");

    let names = r.rule_names();
    assert!(names.contains(&"internal-ticket-token"));
    assert!(names.contains(&"vault-unseal-key"));
    assert!(names.contains(&"github-token"));
    // The builtin redactor does not know user rules.
    assert_eq!(Redactor::builtin().redact("itk_ab12cd34"), "itk_ab12cd34");
}

#[test]
fn invalid_custom_regex_names_the_rule() {
    let rules = rules(
        r#"
[[redact.rules]]
name = "ok-rule"
pattern = 'fine_[0-9]+'

[[redact.rules]]
name = "broken-rule"
pattern = 'tok_([a-z'
"#,
    );
    let err = Redactor::with_custom(&rules).unwrap_err();
    assert!(
        matches!(&err, RedactError::InvalidPattern { name, .. } if name == "broken-rule"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("broken-rule"), "{msg}");
    assert!(msg.contains("invalid pattern"), "{msg}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn nameless_or_empty_matching_rules_are_refused() {
    let err = Redactor::with_custom(&[CustomRule {
        name: "!!!".into(),
        pattern: "x+".into(),
    }])
    .unwrap_err();
    assert!(
        matches!(err, RedactError::InvalidName { ref name } if name == "!!!"),
        "{err:?}"
    );

    let err = Redactor::with_custom(&[CustomRule {
        name: "greedy".into(),
        pattern: "x*".into(),
    }])
    .unwrap_err();
    assert!(
        matches!(err, RedactError::MatchesEmpty { ref name } if name == "greedy"),
        "{err:?}"
    );
    assert!(err.to_string().contains("greedy"));
}

#[test]
fn unknown_fields_in_a_rule_are_refused() {
    let parsed = toml::from_str::<Config>(
        r#"
[[redact.rules]]
name = "x"
patern = 'x'
"#,
    );
    assert!(parsed.is_err());
}

#[test]
fn redactor_is_shareable() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Redactor>();
    let r = Redactor::with_custom(&[CustomRule {
        name: "itk".into(),
        pattern: "itk_[a-z0-9]{8}".into(),
    }])
    .unwrap();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let r = r.clone();
            std::thread::spawn(move || r.redact(&format!("itk_0000000{i}")).into_owned())
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "[REDACTED:itk]");
    }
}

#[test]
fn custom_rule_overlapping_a_builtin_gives_one_marker() {
    let r = Redactor::with_custom(&[CustomRule {
        name: "hunter".into(),
        pattern: "hunter[0-9]".into(),
    }])
    .unwrap();
    // Same span as the password value: the built-in rule (earlier) names it.
    assert_eq!(r.redact("password=hunter2"), "password=[REDACTED:password]");
    // Custom rule alone.
    assert_eq!(r.redact("echo hunter2"), "echo [REDACTED:hunter]");
}
