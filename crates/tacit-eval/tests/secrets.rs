//! The redaction corpus, scored without a PTY (the end-to-end test in
//! tacit-cli records the same texts through the real recorder). Targets of
//! the issue "Secrets never reach the disk": recall of at least 99 %, every
//! family at least 95 %, at most 2 % of look-alikes altered.

use tacit_eval::secrets::{self, Channel};

#[test]
fn the_corpus_is_wide() {
    let formats = secrets::formats().unwrap();
    assert!(formats.len() >= 150, "{} formats", formats.len());
    let lookalikes = secrets::lookalikes().unwrap();
    assert!(lookalikes.len() >= 150, "{} look-alikes", lookalikes.len());
    let mut names: Vec<&str> = formats.iter().map(|f| f.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), formats.len(), "format names repeat");
    for l in &lookalikes {
        assert!(l.text.contains(&l.keep), "{:?}", l.text);
    }
}

#[test]
fn recall_and_precision_meet_the_target() {
    let formats = secrets::formats().unwrap();
    let lookalikes = secrets::lookalikes().unwrap();
    let r = tacit_redact::Redactor::builtin();
    // Three different corpora: a rule must hold on any secret of the format.
    for seed in [1, 20261129, 0xdead_beef] {
        let instances = secrets::instances(&formats, seed).unwrap();
        let s = secrets::score(&instances, &lookalikes, &|ch, text| match ch {
            Channel::Prose => r.redact_prose(text).into_owned(),
            Channel::SecretOutput => r.redact_secret_output(text).into_owned(),
            _ => r.redact(text).into_owned(),
        });
        let missed: Vec<String> = s
            .missed
            .iter()
            .map(|(f, c, out)| format!("{f} [{c}]: {}", out.replace('\n', "⏎")))
            .collect();
        let altered: Vec<String> = s
            .altered
            .iter()
            .map(|(f, out)| format!("{f}: {}", out.replace('\n', "⏎")))
            .collect();
        assert!(
            s.recall() >= 0.99,
            "seed {seed}: recall {:.2} %\n{}",
            100.0 * s.recall(),
            missed.join("\n")
        );
        for (family, (caught, total)) in &s.families {
            assert!(
                *caught as f64 >= 0.95 * *total as f64,
                "seed {seed}: {family} {caught}/{total}\n{}",
                missed.join("\n")
            );
        }
        assert!(
            s.false_alarm_rate() <= 0.02,
            "seed {seed}: {:.2} % of look-alikes altered\n{}",
            100.0 * s.false_alarm_rate(),
            altered.join("\n")
        );
    }
}
