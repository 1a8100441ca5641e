//! The scorer: an SOP against an answer key.
//!
//! Every component is a fraction in 0..=1, and a component counts only when
//! the key or the SOP has something in it (an SOP with rules the key does not
//! expect scores 0 for rules). The scenario's score is their mean. Extra
//! items count against precision in every component: an SOP that invents is
//! as wrong as one that forgets.

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder};
use serde::Deserialize;
use tacit_sop::{Sop, Step};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Key {
    #[serde(default)]
    pub steps: Vec<KeyStep>,
    #[serde(default)]
    pub params: Vec<KeyParam>,
    #[serde(default)]
    pub rules: Vec<KeyRule>,
    #[serde(default)]
    pub escalations: Vec<KeyMatch>,
    #[serde(default)]
    pub prereqs: Vec<KeyMatch>,
    #[serde(default)]
    pub checks: Vec<KeyCheck>,
    #[serde(default)]
    pub prose: Option<KeyProse>,
    #[serde(default)]
    pub forbid: Option<Forbid>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyStep {
    #[serde(rename = "match")]
    pub pattern: String,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub manual: bool,
    #[serde(default)]
    pub caution: bool,
    #[serde(default)]
    pub why: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyParam {
    #[serde(default)]
    pub var: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub used_in: Vec<String>,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRule {
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub exit: Option<i32>,
    #[serde(default)]
    pub when: Option<String>,
    pub because: String,
    #[serde(default)]
    pub then: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyMatch {
    #[serde(rename = "match")]
    pub pattern: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyCheck {
    #[serde(rename = "match")]
    pub pattern: String,
    #[serde(default)]
    pub expect: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyProse {
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub when_to_use: Option<String>,
    #[serde(default)]
    pub notes: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forbid {
    #[serde(default)]
    pub text: Vec<String>,
}

/// The scorer's findings for one scenario.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// (component, score in 0..=1), only the components that apply.
    pub components: Vec<(&'static str, f64)>,
    /// What was wrong, in words, for the table's notes and for test failures.
    pub problems: Vec<String>,
}

impl Report {
    pub fn total(&self) -> f64 {
        if self.components.is_empty() {
            return 0.0;
        }
        self.components.iter().map(|(_, v)| v).sum::<f64>() / self.components.len() as f64
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.components
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

fn re(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .build()
        .unwrap_or_else(|e| panic!("key pattern {pattern:?} is not a valid regex: {e}"))
}

/// What a step's pattern is matched against: its commands, or for a manual
/// step its instruction and title.
fn step_text(s: &Step) -> String {
    if s.commands.is_empty() {
        format!("{}\n{}", s.title, s.instruction.clone().unwrap_or_default())
    } else {
        s.commands.join("\n")
    }
}

/// Key step index → SOP step index. Each SOP step serves one key step.
/// Matches are looked for after the previous match first, so a step that
/// occurs twice is paired in order; a misplaced step is still found (and the
/// order component pays for it).
fn match_steps(key: &[KeyStep], steps: &[Step]) -> Vec<Option<usize>> {
    let texts: Vec<String> = steps.iter().map(step_text).collect();
    let mut used = vec![false; steps.len()];
    let mut out = Vec::new();
    let mut after = 0;
    for k in key {
        let r = re(&k.pattern);
        let order = (after..steps.len()).chain(0..after.min(steps.len()));
        let found = order
            .into_iter()
            .find(|&i| !used[i] && r.is_match(&texts[i]));
        if let Some(i) = found {
            used[i] = true;
            after = i + 1;
        }
        out.push(found);
    }
    out
}

/// Length of the longest increasing subsequence.
fn lis(xs: &[usize]) -> usize {
    let mut tails: Vec<usize> = Vec::new();
    for &x in xs {
        match tails.binary_search(&x) {
            Ok(_) => {}
            Err(i) if i == tails.len() => tails.push(x),
            Err(i) => tails[i] = x,
        }
    }
    tails.len()
}

fn generic_name(name: &str) -> bool {
    name.len() <= 1
        || Regex::new(r"^(arg|param|value|var|token|word)(_?\d+)?$")
            .expect("valid")
            .is_match(name)
}

/// Everything in the SOP a literal value could hide in.
fn executable_texts(sop: &Sop) -> Vec<String> {
    let mut t: Vec<String> = Vec::new();
    for s in &sop.steps {
        t.extend(s.commands.iter().cloned());
        t.extend(s.expect.output_contains.iter().cloned());
    }
    for p in &sop.prerequisites {
        t.extend(p.check.clone());
    }
    for c in &sop.success_checks {
        t.extend(c.command.clone());
        t.extend(c.expect.output_contains.iter().cloned());
    }
    for r in &sop.rules {
        t.extend(r.then_commands.iter().cloned());
        t.extend(r.when.output_contains.clone());
    }
    t
}

pub fn score(sop: &Sop, key: &Key, run_vars: &[BTreeMap<String, String>]) -> Report {
    let mut rep = Report::default();
    let step_match = match_steps(&key.steps, &sop.steps);

    // Steps: recall (with their flags), precision, order.
    if !key.steps.is_empty() || !sop.steps.is_empty() {
        let mut got = 0.0;
        for (k, m) in key.steps.iter().zip(&step_match) {
            let Some(i) = m else {
                rep.problems.push(format!("missing step /{}/", k.pattern));
                continue;
            };
            let s = &sop.steps[*i];
            let mut v = 1.0;
            if s.optional != k.optional {
                v -= 0.5;
                rep.problems.push(format!(
                    "step \"{}\" optional={} (want {})",
                    s.title, s.optional, k.optional
                ));
            }
            if k.manual && !s.commands.is_empty() {
                v -= 0.5;
                rep.problems
                    .push(format!("step \"{}\" should be a manual step", s.title));
            }
            if k.caution && s.caution.as_deref().is_none_or(|c| c.trim().is_empty()) {
                v -= 0.5;
                rep.problems
                    .push(format!("step \"{}\" lost its caution", s.title));
            }
            if let Some(w) = &k.why
                && !s.why.as_deref().is_some_and(|y| re(w).is_match(y))
            {
                v -= 0.5;
                rep.problems.push(format!(
                    "step \"{}\" why {:?} does not match /{w}/",
                    s.title, s.why
                ));
            }
            got += f64::max(v, 0.0);
        }
        let recall = if key.steps.is_empty() {
            0.0
        } else {
            got / key.steps.len() as f64
        };
        let matched: Vec<usize> = step_match.iter().flatten().copied().collect();
        for (i, s) in sop.steps.iter().enumerate() {
            if !matched.contains(&i) {
                rep.problems.push(format!(
                    "extra step \"{}\": {}",
                    s.title,
                    step_text(s).replace('\n', " ; ")
                ));
            }
        }
        let precision = if sop.steps.is_empty() {
            0.0
        } else {
            matched.len() as f64 / sop.steps.len() as f64
        };
        let order = if matched.is_empty() {
            0.0
        } else {
            lis(&matched) as f64 / matched.len() as f64
        };
        if order < 1.0 {
            rep.problems.push("steps out of order".into());
        }
        rep.components.push(("steps", recall));
        rep.components.push(("precision", precision));
        rep.components.push(("order", order));
    }

    // Parameters.
    let texts = executable_texts(sop);
    let placeholders = sop.placeholders();
    if !key.params.is_empty() || !sop.parameters.is_empty() {
        let mut claimed = vec![false; sop.parameters.len()];
        let mut got = 0.0;
        for k in &key.params {
            let mut values: Vec<String> = k.values.clone();
            if let Some(var) = &k.var {
                for vars in run_vars {
                    if let Some(v) = vars.get(var)
                        && !values.contains(v)
                    {
                        values.push(v.clone());
                    }
                }
            }
            let label = k
                .var
                .clone()
                .unwrap_or_else(|| values.first().cloned().unwrap_or_default());
            let candidates: Vec<usize> = (0..sop.parameters.len())
                .filter(|&i| {
                    let p = &sop.parameters[i];
                    if k.secret {
                        p.secret
                            && (k.names.is_empty()
                                || k.names.iter().any(|n| p.name.contains(n.as_str())))
                    } else {
                        p.examples.iter().any(|e| values.contains(e))
                    }
                })
                .collect();
            for &i in &candidates {
                claimed[i] = true;
            }
            let mut v = 0.0;
            // One value, one parameter, holding every value seen.
            match candidates.as_slice() {
                [one] => {
                    let p = &sop.parameters[*one];
                    if k.secret || values.iter().all(|x| p.examples.contains(x)) {
                        v += 0.4;
                    } else {
                        v += 0.2;
                        rep.problems.push(format!(
                            "param {} has examples {:?}, want all of {values:?}",
                            p.name, p.examples
                        ));
                    }
                }
                [] => rep
                    .problems
                    .push(format!("no parameter for {label} ({values:?})")),
                many => rep.problems.push(format!(
                    "{label} became {} parameters: {:?}",
                    many.len(),
                    many.iter()
                        .map(|&i| sop.parameters[i].name.as_str())
                        .collect::<Vec<_>>()
                )),
            }
            // No literal left behind.
            let left: Vec<&String> = values
                .iter()
                .filter(|x| !x.is_empty() && texts.iter().any(|t| t.contains(x.as_str())))
                .collect();
            if left.is_empty() {
                v += 0.2;
            } else {
                rep.problems
                    .push(format!("literal {left:?} left in commands or expectations"));
            }
            // Used where it belongs.
            if let [one] = candidates.as_slice() {
                let p = &sop.parameters[*one];
                let ph = tacit_sop::placeholder(&p.name);
                if k.used_in.is_empty() {
                    if placeholders.contains(&p.name) {
                        v += 0.2;
                    }
                } else {
                    let mut ok = 0;
                    for pat in &k.used_in {
                        let r = re(pat);
                        let hit = sop
                            .steps
                            .iter()
                            .map(step_text)
                            .chain(sop.success_checks.iter().filter_map(|c| c.command.clone()))
                            .chain(sop.prerequisites.iter().filter_map(|c| c.check.clone()))
                            .any(|t| r.is_match(&t) && t.contains(&ph));
                        if hit {
                            ok += 1;
                        } else {
                            rep.problems.push(format!("{ph} not used in /{pat}/"));
                        }
                    }
                    v += 0.2 * ok as f64 / k.used_in.len() as f64;
                }
                let named = if k.names.is_empty() {
                    !generic_name(&p.name)
                } else {
                    k.names.contains(&p.name)
                };
                if named {
                    v += 0.2;
                } else {
                    rep.problems.push(format!(
                        "param named {} (want one of {:?})",
                        p.name, k.names
                    ));
                }
            }
            got += v;
        }
        let mut extra = 0;
        for (i, p) in sop.parameters.iter().enumerate() {
            if !claimed[i] {
                extra += 1;
                rep.problems.push(format!(
                    "unexpected parameter {} {:?}{}",
                    p.name,
                    p.examples,
                    if placeholders.contains(&p.name) {
                        ""
                    } else {
                        " (used by no command)"
                    }
                ));
            }
        }
        let denom = (key.params.len() + extra) as f64;
        rep.components.push(("params", got / denom));
    }

    // Rules.
    if !key.rules.is_empty() || !sop.rules.is_empty() {
        let mut used = vec![false; sop.rules.len()];
        let mut got = 0.0;
        for k in &key.rules {
            let want_step = k.step.as_ref().and_then(|pat| {
                key.steps
                    .iter()
                    .position(|s| s.pattern == *pat)
                    .and_then(|i| step_match[i])
                    .map(|i| sop.steps[i].title.clone())
                    .or_else(|| {
                        // A rule may also sit on a step the key names by a
                        // pattern that is not itself a key step.
                        let r = re(pat);
                        sop.steps
                            .iter()
                            .find(|s| r.is_match(&step_text(s)))
                            .map(|s| s.title.clone())
                    })
            });
            let rate = |r: &tacit_sop::DecisionRule| -> (f64, Vec<String>) {
                let mut v = 0.0;
                let mut why = Vec::new();
                if r.because.trim() == k.because.trim() {
                    v += 0.4;
                } else {
                    why.push(format!("reason {:?}", r.because));
                }
                match (&k.step, &want_step) {
                    (None, _) => v += 0.3,
                    (Some(_), Some(t)) if r.step.as_deref() == Some(t.as_str()) => v += 0.3,
                    _ => why.push(format!("filed under {:?}, want {:?}", r.step, want_step)),
                }
                let when_text = format!(
                    "{}\n{}",
                    r.when.summary,
                    r.when.output_contains.clone().unwrap_or_default()
                );
                let exit_ok = k.exit.is_none_or(|e| r.when.exit_code == Some(e));
                let when_ok = k.when.as_ref().is_none_or(|w| re(w).is_match(&when_text));
                if exit_ok && when_ok {
                    v += 0.15;
                } else {
                    why.push(format!(
                        "when {:?} exit {:?}",
                        when_text.replace('\n', " | "),
                        r.when.exit_code
                    ));
                }
                let then_text = format!("{}\n{}", r.then, r.then_commands.join("\n"));
                if k.then.as_ref().is_none_or(|t| re(t).is_match(&then_text)) {
                    v += 0.15;
                } else {
                    why.push(format!("then {:?}", then_text.replace('\n', " | ")));
                }
                (v, why)
            };
            let best = (0..sop.rules.len())
                .filter(|&i| !used[i])
                .map(|i| (i, rate(&sop.rules[i])))
                .max_by(|a, b| a.1.0.total_cmp(&b.1.0));
            match best {
                Some((i, (v, why))) if v >= 0.3 => {
                    used[i] = true;
                    got += v;
                    if v < 1.0 {
                        rep.problems.push(format!(
                            "rule \"{}\": {}",
                            k.because.chars().take(40).collect::<String>(),
                            why.join("; ")
                        ));
                    }
                }
                _ => rep.problems.push(format!(
                    "missing rule \"{}\"",
                    k.because.chars().take(60).collect::<String>()
                )),
            }
        }
        let extra = used.iter().filter(|u| !**u).count();
        for (i, r) in sop.rules.iter().enumerate() {
            if !used[i] {
                rep.problems.push(format!(
                    "extra rule on {:?}: when {} then {}",
                    r.step, r.when.summary, r.then
                ));
            }
        }
        rep.components
            .push(("rules", got / (key.rules.len() + extra) as f64));
    }

    // Escalations, prerequisites, checks: recall and precision in one.
    let esc: Vec<String> = sop
        .escalations
        .iter()
        .map(|e| format!("{} {}", e.when, e.contact.clone().unwrap_or_default()))
        .collect();
    match_simple(&mut rep, "escalations", &key.escalations, &esc);
    let pre: Vec<String> = sop
        .prerequisites
        .iter()
        .map(|p| format!("{}\n{}", p.check.clone().unwrap_or_default(), p.description))
        .collect();
    match_simple(&mut rep, "prereqs", &key.prereqs, &pre);

    if !key.checks.is_empty() || !sop.success_checks.is_empty() {
        let mut used = vec![false; sop.success_checks.len()];
        let mut got = 0.0;
        for k in &key.checks {
            let r = re(&k.pattern);
            let found = sop.success_checks.iter().enumerate().find(|(i, c)| {
                !used[*i]
                    && r.is_match(&format!(
                        "{}\n{}",
                        c.command.clone().unwrap_or_default(),
                        c.description
                    ))
            });
            match found {
                Some((i, c)) => {
                    used[i] = true;
                    match &k.expect {
                        Some(e) if !c.expect.output_contains.iter().any(|o| re(e).is_match(o)) => {
                            got += 0.5;
                            rep.problems.push(format!(
                                "check /{}/ expects {:?}, want /{e}/",
                                k.pattern, c.expect.output_contains
                            ));
                        }
                        _ => got += 1.0,
                    }
                }
                None => rep.problems.push(format!("missing check /{}/", k.pattern)),
            }
        }
        let extra = used.iter().filter(|u| !**u).count();
        for (i, c) in sop.success_checks.iter().enumerate() {
            if !used[i] {
                rep.problems.push(format!(
                    "extra check {:?}",
                    c.command.clone().unwrap_or_default()
                ));
            }
        }
        rep.components
            .push(("checks", got / (key.checks.len() + extra) as f64));
    }

    // Prose: the operator's words, never filler.
    let mut prose = Vec::new();
    let filler = Regex::new(r"(?i)as done in \d+ recorded run|^when you need to ").expect("valid");
    if filler.is_match(&sop.purpose) || filler.is_match(&sop.when_to_use) {
        prose.push(0.0);
        rep.problems.push(format!(
            "template filler in purpose/when to use: {:?} / {:?}",
            sop.purpose, sop.when_to_use
        ));
    } else {
        prose.push(1.0);
    }
    if let Some(p) = &key.prose {
        if let Some(pat) = &p.purpose {
            let ok = re(pat).is_match(&sop.purpose);
            prose.push(if ok { 1.0 } else { 0.0 });
            if !ok {
                rep.problems
                    .push(format!("purpose {:?} does not match /{pat}/", sop.purpose));
            }
        }
        if let Some(pat) = &p.when_to_use {
            let ok = re(pat).is_match(&sop.when_to_use);
            prose.push(if ok { 1.0 } else { 0.0 });
            if !ok {
                rep.problems.push(format!(
                    "when to use {:?} does not match /{pat}/",
                    sop.when_to_use
                ));
            }
        }
        if let Some(n) = p.notes {
            let have =
                sop.notes.len() + usize::from(!sop.purpose.is_empty() && n > sop.notes.len());
            let ok = sop.notes.len() == n || have == n;
            prose.push(if ok { 1.0 } else { 0.0 });
            if !ok {
                rep.problems.push(format!(
                    "{} separate notes (plus the purpose), want {n}",
                    sop.notes.len()
                ));
            }
        }
    }
    rep.components
        .push(("prose", prose.iter().sum::<f64>() / prose.len() as f64));

    // Noise and literals in the rendered document.
    if let Some(f) = &key.forbid
        && !f.text.is_empty()
    {
        let md = tacit_sop::render_markdown(sop);
        let mut clean = 0;
        for pat in &f.text {
            let r = RegexBuilder::new(pat)
                .multi_line(true)
                .build()
                .unwrap_or_else(|e| panic!("forbid pattern {pat:?}: {e}"));
            match r.find(&md) {
                Some(m) => {
                    let line_start = md[..m.start()].rfind('\n').map_or(0, |i| i + 1);
                    let line_end = md[m.end()..].find('\n').map_or(md.len(), |i| m.end() + i);
                    rep.problems.push(format!(
                        "forbidden /{pat}/ in: {}",
                        &md[line_start..line_end]
                    ));
                }
                None => clean += 1,
            }
        }
        rep.components
            .push(("noise", clean as f64 / f.text.len() as f64));
    }
    rep
}

fn match_simple(rep: &mut Report, name: &'static str, key: &[KeyMatch], items: &[String]) {
    if key.is_empty() && items.is_empty() {
        return;
    }
    let mut used = vec![false; items.len()];
    let mut got = 0;
    for k in key {
        let r = re(&k.pattern);
        match (0..items.len()).find(|&i| !used[i] && r.is_match(&items[i])) {
            Some(i) => {
                used[i] = true;
                got += 1;
            }
            None => rep.problems.push(format!("missing {name} /{}/", k.pattern)),
        }
    }
    let extra = used.iter().filter(|u| !**u).count();
    for (i, it) in items.iter().enumerate() {
        if !used[i] {
            rep.problems
                .push(format!("extra {name}: {}", it.replace('\n', " | ")));
        }
    }
    rep.components
        .push((name, got as f64 / (key.len() + extra) as f64));
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacit_sop::{DecisionRule, Parameter, Step};

    fn step(title: &str, cmd: &str) -> Step {
        Step {
            title: title.into(),
            commands: vec![cmd.into()],
            ..Default::default()
        }
    }

    #[test]
    fn lis_counts_the_ordered_part() {
        assert_eq!(lis(&[0, 1, 2]), 3);
        assert_eq!(lis(&[2, 0, 1]), 2);
        assert_eq!(lis(&[]), 0);
    }

    #[test]
    fn a_perfect_sop_scores_one_and_each_defect_costs() {
        let key: Key = toml::from_str(
            r#"
            [[steps]]
            match = 'createdb'
            [[steps]]
            match = 'register'
            [[params]]
            values = ["acme"]
            names = ["tenant"]
            used_in = ['createdb', 'register']
            [[rules]]
            step = 'createdb'
            exit = 1
            because = "Because."
            "#,
        )
        .unwrap();
        let good = Sop {
            purpose: "Give a new tenant a database.".into(),
            when_to_use: "A customer signs up.".into(),
            parameters: vec![Parameter {
                name: "tenant".into(),
                examples: vec!["acme".into()],
                ..Default::default()
            }],
            steps: vec![
                step("Create the database", "createdb tenant_<<tenant>>"),
                step("Register", "./register <<tenant>>"),
            ],
            rules: vec![DecisionRule {
                step: Some("Create the database".into()),
                because: "Because.".into(),
                when: tacit_sop::Condition {
                    exit_code: Some(1),
                    ..Default::default()
                },
                ..Default::default()
            }],
            ..Default::default()
        };
        let r = score(&good, &key, &[]);
        assert_eq!(r.total(), 1.0, "{:?}", r.problems);

        // A literal left behind, a generic name, and a rule on "any step".
        let mut bad = good.clone();
        bad.parameters[0].name = "arg_5".into();
        bad.steps[0].commands[0] = "createdb tenant_acme".into();
        bad.steps[1].commands[0] = "./register <<arg_5>>".into();
        bad.rules[0].step = None;
        let r = score(&bad, &key, &[]);
        assert!(r.get("params").unwrap() < 0.7, "{r:?}");
        assert!(r.get("rules").unwrap() < 0.8, "{r:?}");
        assert!(r.total() < 0.95);

        // Filler prose costs too.
        let mut filler = good.clone();
        filler.when_to_use = "When you need to provision.".into();
        assert_eq!(score(&filler, &key, &[]).get("prose"), Some(0.0));
    }
}
