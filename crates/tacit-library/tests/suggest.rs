//! Suggestions during a run (issue "AI agents work inside tacit"): a
//! failure no rule of its SOP covers finds the most similar rules of the
//! whole library, on SQLite and the real PostgreSQL.

use tacit_library::suggest::similar_rules;
use tacit_sop::{Condition, DecisionRule, Sop, Step};
use tacit_store::{Store, both_backends};

fn sop(id: &str, title: &str, rules: &[(&str, Option<i32>, &str, &str, &str)]) -> Sop {
    Sop {
        id: id.into(),
        title: title.into(),
        steps: vec![Step {
            title: "Do it".into(),
            commands: vec![format!("./{id}.sh")],
            ..Default::default()
        }],
        rules: rules
            .iter()
            .map(|(summary, code, contains, then, because)| DecisionRule {
                step: None,
                when: Condition {
                    summary: summary.to_string(),
                    exit_code: *code,
                    output_contains: (!contains.is_empty()).then(|| contains.to_string()),
                },
                then: then.to_string(),
                then_commands: Vec::new(),
                because: because.to_string(),
                sources: Vec::new(),
            })
            .collect(),
        ..Default::default()
    }
}

async fn library<S: Store>(store: &S) {
    for s in [
        sop(
            "rotate-logs",
            "Rotate the logs",
            &[(
                "no space left on device",
                Some(1),
                "No space left on device",
                "Delete the oldest archives in /var/log/archive, then rerun",
                "Archives past 30 days are in the backup already",
            )],
        ),
        sop(
            "deploy-web",
            "Deploy web",
            &[(
                "migration lock held",
                Some(3),
                "migration lock held",
                "Remove the stale lock if its process is gone",
                "A lock whose process is gone is left from a crash",
            )],
        ),
        sop(
            "renew-cert",
            "Renew the certificate",
            &[(
                "certificate has expired",
                None,
                "certificate has expired",
                "Renew with certbot first",
                "nginx will not start with an expired certificate",
            )],
        ),
        sop("backup-db", "Back up the database", &[]),
    ] {
        tacit_library::save_version(
            store,
            s,
            tacit_library::keeping::revision("ann", "test".into(), vec![]),
            None,
        )
        .await
        .unwrap();
    }
}

async fn a_failure_finds_the_rule_another_sop_wrote_for_it<S: Store>(store: &S) {
    library(store).await;
    // The backup fills the disk: its SOP has no rule, rotate-logs has one.
    let found = similar_rules(
        store,
        "pg_dump shop > /backups/shop.sql",
        Some(1),
        "pg_dump: error: could not write to output file: No space left on device\n",
        Some("backup-db"),
        3,
    )
    .await
    .unwrap();
    assert!(!found.is_empty(), "nothing found");
    assert_eq!(found[0].sop_id, "rotate-logs", "{found:#?}");
    assert_eq!(
        found[0].rule.because,
        "Archives past 30 days are in the backup already"
    );
    assert!(found.iter().all(|s| s.sop_id != "backup-db"));
    assert!(found.len() <= 3);

    // Worded differently, without the rule's exact line: still found.
    let found = similar_rules(
        store,
        "nginx -t",
        Some(1),
        "nginx: [emerg] SSL_CTX_use_certificate: the certificate has expired for shop.example\n",
        None,
        3,
    )
    .await
    .unwrap();
    assert_eq!(
        found.first().map(|s| s.sop_id.as_str()),
        Some("renew-cert"),
        "{found:#?}"
    );

    // Nothing alike: nothing suggested rather than noise.
    for (cmd, out) in [
        (
            "make",
            "compilation terminated: missing header stdio_ext.h\n",
        ),
        ("true", ""),
        ("x", "\u{0}\u{1b}[31m ' \" ; DROP TABLE sops; -- OR 1=1\n"),
    ] {
        let found = similar_rules(store, cmd, Some(2), out, None, 3)
            .await
            .unwrap();
        assert!(found.is_empty(), "{out}: {found:#?}");
    }
}

both_backends!(a_failure_finds_the_rule_another_sop_wrote_for_it);
