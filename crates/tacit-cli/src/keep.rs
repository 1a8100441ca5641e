//! Keeping SOPs alive: `own`, `team`, `reviewed`, `log`, `diff`, `review`
//! and `status`.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use tacit_core::{EventBody, Paths, now_ms};
use tacit_review::health::{self, Health, RunFacts, SopFacts, Thresholds};
use tacit_sop::{Revision, Sop, SourceRef};
use tacit_store::{SqliteStore, Store, StoreError};

use crate::render::{self, Style};
use crate::sop_cmd::{load_sop, save_version};

fn revision(summary: String, runs: Vec<String>) -> Revision {
    Revision {
        version: 0,
        date: tacit_core::utc_date(now_ms()),
        author: tacit_core::current_user(),
        summary,
        runs,
    }
}

/// `90d`, `12w`, `3m` (30-day months) or a bare number of days.
/// clap's check of `--review-every`: a bad interval is a usage error (exit 2).
pub fn interval_arg(text: &str) -> std::result::Result<String, String> {
    parse_interval(text)
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
}

pub fn parse_interval(text: &str) -> Result<u32> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let Ok(n) = num.parse::<u32>() else {
        bail!("\"{text}\" is not an interval: use e.g. 90d, 12w or 3m");
    };
    let days = match unit {
        "" | "d" => n,
        "w" => n * 7,
        "m" => n * 30,
        "y" => n * 365,
        _ => bail!("\"{text}\" is not an interval: use e.g. 90d, 12w or 3m"),
    };
    if days == 0 {
        bail!("a review interval must be at least one day");
    }
    Ok(days)
}

/// A lost-update refusal reads as one sentence; other errors keep their
/// context chain.
fn conflict_message(e: tacit_library::LibraryError) -> anyhow::Error {
    match e {
        tacit_library::LibraryError::Store(StoreError::Conflict { .. }) => anyhow::anyhow!("{e}"),
        other => other.into(),
    }
}

pub fn own(
    paths: &Paths,
    sop_id: String,
    owner: String,
    review_every: Option<String>,
) -> Result<ExitCode> {
    let days = review_every.as_deref().map(parse_interval).transpose()?;
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let mut sop = load_sop(&store, &sop_id, None).await?;
        let base = sop.version;
        sop.owner = Some(owner.clone());
        if days.is_some() {
            sop.review_every_days = days;
        }
        let summary = match sop.review_every_days {
            Some(d) => format!("Owner: {owner}; review every {d} days"),
            None => format!("Owner: {owner}"),
        };
        let sop = save_version(&store, sop, revision(summary.clone(), vec![]), Some(base))
            .await
            .map_err(conflict_message)?;
        // Taking ownership counts as a review of what is there now.
        store
            .add_review(&sop.id, sop.version, &tacit_core::current_user())
            .await?;
        println!("{} version {}: {summary}.", sop.id, sop.version);
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn team(paths: &Paths, name: Option<String>, members: Vec<String>) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        match name {
            Some(n) if !members.is_empty() => {
                store.set_team(&n, &members).await?;
                println!("team {n}: {}", members.join(", "));
            }
            Some(n) => bail!("give the members of {n}: tacit team {n} --members ann,bob"),
            None => {
                let teams = store.teams().await?;
                if teams.is_empty() {
                    println!("No teams. Create one with `tacit team NAME --members ann,bob`.");
                }
                for (n, m) in teams {
                    println!("{n}: {}", m.join(", "));
                }
            }
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn reviewed(paths: &Paths, sop_id: String) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let sop = load_sop(&store, &sop_id, None).await?;
        let who = tacit_core::current_user();
        store.add_review(&sop.id, sop.version, &who).await?;
        match sop.review_every_days {
            Some(d) => println!(
                "{} version {} confirmed by {who}; next review due {}.",
                sop.id,
                sop.version,
                tacit_core::utc_date(now_ms() + i64::from(d) * 86_400_000)
            ),
            None => println!(
                "{} version {} confirmed by {who}. Set a review interval with `tacit own {} --owner NAME --review-every 90d`.",
                sop.id, sop.version, sop.id
            ),
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn log(paths: &Paths, sop_id: String, json: bool) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let versions = store.sop_versions(&sop_id).await?;
        if versions.is_empty() {
            bail!("there is no SOP called \"{sop_id}\" (tacit draft {sop_id} creates it)");
        }
        // A version whose content is its predecessor's (only the owner or
        // the review interval changed) is marked, so the log reads as the
        // history of what the procedure says.
        let parsed: Vec<Option<Sop>> = versions.iter().map(|v| Sop::from_json(&v.body).ok()).collect();
        let metadata_only: Vec<bool> = (0..versions.len())
            .map(|i| {
                i > 0
                    && matches!((&parsed[i - 1], &parsed[i]), (Some(a), Some(b)) if tacit_library::same_content(a, b))
            })
            .collect();
        if json {
            let rows: Vec<serde_json::Value> = versions
                .iter()
                .zip(&metadata_only)
                .map(|(v, m)| {
                    let mut row = serde_json::to_value(v).unwrap_or_default();
                    row["metadata_only"] = serde_json::Value::Bool(*m);
                    row
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        } else {
            for (i, v) in versions.iter().enumerate().rev() {
                let sop = parsed[i].clone();
                let runs = sop
                    .and_then(|s| s.revisions.last().cloned())
                    .map(|r| {
                        r.runs
                            .iter()
                            .map(|id| tacit_capture::session::short_id(id).to_string())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                println!(
                    "v{:<3} {}  {:<12} {}{}{}",
                    v.version,
                    render::utc(v.created_at_ms),
                    v.author,
                    if metadata_only[i] { "(metadata only) " } else { "" },
                    v.summary,
                    if runs.is_empty() {
                        String::new()
                    } else {
                        format!("  (runs {})", runs.join(", "))
                    }
                );
            }
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn diff(paths: &Paths, sop_id: String, v1: Option<u32>, v2: Option<u32>) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let latest = load_sop(&store, &sop_id, None).await?;
        let new_v = v2.unwrap_or(latest.version);
        let old_v = v1.unwrap_or(new_v.saturating_sub(1));
        if old_v == 0 {
            bail!("{sop_id} has only version 1: nothing to compare");
        }
        let old = load_sop(&store, &sop_id, Some(old_v)).await?;
        let new = load_sop(&store, &sop_id, Some(new_v)).await?;
        let lines = tacit_review::diff::diff(&old, &new);
        let style = Style::stdout();
        println!(
            "{}",
            style.bold(&format!("{sop_id}: version {old_v} → {new_v}"))
        );
        if lines.is_empty() {
            println!("  no changes");
        } else {
            print!("{}", tacit_review::diff::render(&lines, style.color));
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn ask(prompt: &str) -> String {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line.trim().to_string()
}

/// Opens `text` in `$EDITOR` and returns what was saved.
fn edit_in_editor(text: &str) -> Result<String> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let file = tempfile::Builder::new().suffix(".md").tempfile()?;
    std::fs::write(file.path(), text)?;
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file.path())
        .status()
        .with_context(|| format!("cannot start the editor ({editor})"))?;
    if !status.success() {
        bail!("the editor ({editor}) exited with {status}");
    }
    Ok(std::fs::read_to_string(file.path())?)
}

pub fn review(paths: &Paths, sop_id: String) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let original = load_sop(&store, &sop_id, None).await?;
        let base = original.version;
        let pending: Vec<_> = store
            .proposals(&sop_id)
            .await?
            .into_iter()
            .filter(|p| p.status == "pending")
            .collect();
        let style = Style::stdout();
        if pending.is_empty() {
            println!("No pending proposals for {sop_id} (version {base}).");
            store.close().await;
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "{}",
            style.bold(&format!(
                "{sop_id} version {base}: {} pending proposal(s)",
                pending.len()
            ))
        );
        let mut sop = original.clone();
        let mut accepted: Vec<(String, String)> = Vec::new();
        let mut rejected: Vec<(String, String)> = Vec::new();
        let mut runs: Vec<String> = Vec::new();
        for (n, p) in pending.iter().enumerate() {
            if p.kind == "redraft" {
                let Ok(mut redraft) = Sop::from_json(&p.body) else {
                    println!("  proposal {} is unreadable; skipped", p.id);
                    continue;
                };
                if p.sop_version != base {
                    // Accepting it would drop what changed since it was made.
                    println!(
                        "\n{} {}\n  made from version {}, and version {base} has changed since: run `tacit draft {sop_id}` again to merge the runs with the latest version. Skipped.",
                        style.bold(&format!("{}/{}", n + 1, pending.len())),
                        p.summary,
                        p.sop_version
                    );
                    continue;
                }
                let doc: serde_json::Value = serde_json::from_str(&p.body).unwrap_or_default();
                let listed = |key: &str| -> Vec<String> {
                    doc[key]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                        .unwrap_or_default()
                };
                let (additions, conflicts) = (listed("additions"), listed("conflicts"));
                redraft.owner = sop.owner.clone();
                redraft.review_every_days = sop.review_every_days;
                redraft.revisions = sop.revisions.clone();
                redraft.version = sop.version;
                println!(
                    "\n{} {}",
                    style.bold(&format!("{}/{}", n + 1, pending.len())),
                    p.summary
                );
                print!(
                    "{}",
                    tacit_review::diff::render(
                        &tacit_review::diff::diff(&sop, &redraft),
                        style.color
                    )
                );
                if !additions.is_empty() {
                    println!("  What the runs add (your edits are kept):");
                    for a in &additions {
                        println!("    + {a}");
                    }
                }
                if !conflicts.is_empty() {
                    println!("  {}", style.bold("Conflicts (your version is kept; edit to take theirs):"));
                    for c in &conflicts {
                        println!("    ! {c}");
                    }
                }
                match ask("  [a]ccept  [r]eject  [s]kip > ").as_str() {
                    "a" | "accept" => {
                        sop = redraft;
                        accepted.push((p.id.clone(), "accepted the new draft".into()));
                        runs.push(p.run_id.clone());
                    }
                    "r" | "reject" => {
                        let reason = ask("  why (kept): ");
                        rejected.push((
                            p.id.clone(),
                            if reason.is_empty() {
                                "rejected".into()
                            } else {
                                reason
                            },
                        ));
                    }
                    _ => {}
                }
                continue;
            }
            let evidence: tacit_review::apply::Evidence = match serde_json::from_str(&p.body) {
                Ok(e) => e,
                Err(e) => {
                    println!("  proposal {} is unreadable ({e}); skipped", p.id);
                    continue;
                }
            };
            println!(
                "\n{} {}",
                style.bold(&format!("{}/{}", n + 1, pending.len())),
                p.summary
            );
            println!(
                "  from run {} (v{}), {}",
                tacit_capture::session::short_id(&p.run_id),
                p.sop_version,
                render::utc(p.created_at_ms)
            );
            if !evidence.command.is_empty() {
                println!(
                    "  $ {}  → exit {}",
                    evidence.command,
                    evidence.exit_code.map_or("?".into(), |c| c.to_string())
                );
            }
            for l in evidence
                .output
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                println!("  {} {l}", style.dim("│"));
            }
            if let Some(a) = &evidence.answer {
                println!("  what they did: {}", a.action);
                println!("  why:           {}", a.reason);
                if let Some(e) = &a.escalate {
                    println!("  escalate:      {e}");
                }
            }
            let source = SourceRef {
                run_id: p.run_id.clone(),
                seq: 0,
            };
            loop {
                match ask("  [a]ccept  [e]dit  [r]eject  [s]kip  [q]uit > ").as_str() {
                    "a" | "accept" => {
                        match tacit_review::apply::apply(&mut sop, &evidence, source.clone()) {
                            Ok(said) => {
                                println!("  accepted: {said}");
                                accepted.push((p.id.clone(), said));
                                runs.push(p.run_id.clone());
                            }
                            Err(e) => println!("  cannot apply it: {e}"),
                        }
                        break;
                    }
                    "e" | "edit" => {
                        let mut draft = sop.clone();
                        if let Err(e) =
                            tacit_review::apply::apply(&mut draft, &evidence, source.clone())
                        {
                            println!("  ({e}; editing the SOP as it is)");
                        }
                        let mut text = tacit_sop::render_markdown(&draft);
                        loop {
                            let edited = edit_in_editor(&text)?;
                            match tacit_sop::parse_markdown(&edited) {
                                Ok(mut parsed) => {
                                    parsed.version = sop.version;
                                    parsed.revisions = sop.revisions.clone();
                                    sop = parsed;
                                    accepted.push((p.id.clone(), "accepted with edits".into()));
                                    runs.push(p.run_id.clone());
                                    println!("  accepted with your edits");
                                    break;
                                }
                                Err(e) => {
                                    println!("  the edited SOP does not parse: {e}");
                                    if ask("  edit again? [Y/n] ") == "n" {
                                        break;
                                    }
                                    text = edited;
                                }
                            }
                        }
                        break;
                    }
                    "r" | "reject" => {
                        let reason = loop {
                            let r = ask("  why (kept, so it is not raised again): ");
                            if !r.is_empty() {
                                break r;
                            }
                        };
                        rejected.push((p.id.clone(), reason));
                        break;
                    }
                    "s" | "skip" | "" => break,
                    "q" | "quit" => {
                        if !accepted.is_empty() {
                            println!(
                                "  quitting: the {} accepted proposal(s) are saved now",
                                accepted.len()
                            );
                        }
                        return finish_review(
                            &store, &sop_id, &original, sop, base, &accepted, &rejected, runs,
                            &style,
                        )
                        .await;
                    }
                    _ => println!("  type a, e, r, s or q"),
                }
            }
        }
        finish_review(
            &store, &sop_id, &original, sop, base, &accepted, &rejected, runs, &style,
        )
        .await
    })
}

#[allow(clippy::too_many_arguments)]
async fn finish_review(
    store: &SqliteStore,
    sop_id: &str,
    original: &Sop,
    sop: Sop,
    base: u32,
    accepted: &[(String, String)],
    rejected: &[(String, String)],
    mut runs: Vec<String>,
    style: &Style,
) -> Result<ExitCode> {
    if !accepted.is_empty() {
        runs.sort();
        runs.dedup();
        let summary = format!("Review: accepted {} proposal(s)", accepted.len());
        match save_version(store, sop.clone(), revision(summary, runs), Some(base)).await {
            Ok(saved) => {
                for (id, said) in accepted {
                    store.resolve_proposal(id, "accepted", said).await?;
                }
                println!(
                    "\n{}",
                    style.bold(&format!("{sop_id} version {}", saved.version))
                );
                print!(
                    "{}",
                    tacit_review::diff::render(
                        &tacit_review::diff::diff(original, &saved),
                        style.color
                    )
                );
            }
            Err(e) => {
                return Err(conflict_message(e))
                    .context("the review was not saved; the proposals stay pending");
            }
        }
    }
    for (id, reason) in rejected {
        store.resolve_proposal(id, "rejected", reason).await?;
    }
    if accepted.is_empty() && !rejected.is_empty() {
        println!(
            "\nRejected {} proposal(s); the SOP is unchanged.",
            rejected.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Gathers the facts health needs about every SOP: a handful of queries
/// for the whole library, so `tacit status` stays fast with thousands.
async fn facts(store: &SqliteStore) -> Result<Vec<SopFacts>> {
    let teams = store.teams().await?;
    Ok(store
        .health_rows()
        .await?
        .into_iter()
        .map(|h| {
            let owner = h.owner.map(|o| match teams.iter().find(|(n, _)| *n == o) {
                Some((n, m)) => format!("{n} (team: {})", m.join(", ")),
                None => o,
            });
            SopFacts {
                id: h.sop_id,
                title: h.title,
                version: h.version,
                owner,
                review_every_days: h.review_every_days,
                reviewed_at_ms: h.last_review_ms.unwrap_or(h.version_created_ms),
                pending_proposals: h.pending,
                runs: h
                    .runs
                    .into_iter()
                    .map(|(at_ms, user, outcome, deviated_steps)| RunFacts {
                        at_ms,
                        user,
                        outcome,
                        deviated_steps,
                    })
                    .collect(),
                people: h.people,
            }
        })
        .collect())
}

pub fn status(paths: &Paths, json: bool, check: bool, notify: Option<String>) -> Result<ExitCode> {
    let config = crate::record::load_config(paths)?;
    let thresholds = Thresholds {
        proposal_max_days: config.status.proposal_max_days,
        recent_runs: 10,
    };
    let rt = crate::runtime()?;
    let mut list: Vec<Health> = rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        let facts = facts(&store).await?;
        store.close().await;
        anyhow::Ok(
            facts
                .iter()
                .map(|f| health::assess(f, now_ms(), thresholds))
                .collect(),
        )
    })?;
    health::sort_worst_first(&mut list);
    let failing: Vec<&Health> = list.iter().filter(|h| !h.problems.is_empty()).collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else if list.is_empty() {
        println!(
            "The library is empty. Record a procedure with `tacit record NAME`, then `tacit draft NAME`."
        );
    } else {
        let style = Style::stdout();
        println!(
            "{}",
            style.bold(&format!(
                "{:<22} {:>5} {:>3}  {:<18} {:<12} {:>7} {:>4}  {}",
                "SOP", "TRUST", "V", "OWNER", "LAST RUN", "SUCCESS", "PROP", "NOTES"
            ))
        );
        for h in &list {
            let trust = format!("{:>5}", h.trust);
            let trust = if h.trust < 50 {
                style.red(&trust)
            } else if h.trust < 80 {
                style.yellow(&trust)
            } else {
                style.green(&trust)
            };
            let owner = h.owner.clone().unwrap_or_else(|| "— none —".into());
            let mut notes: Vec<String> = h.problems.iter().map(|p| style.red(p)).collect();
            notes.extend(h.notes.iter().cloned());
            let notes = notes.join("; ");
            let width = render::table_width();
            let line = format!(
                "{} {trust} {:>3}  {} {:<12} {:>7} {:>4}  {}",
                render::column(&h.id, 22, width),
                h.version,
                render::cell(&owner, 18),
                h.last_run_ms
                    .map(tacit_core::utc_date)
                    .unwrap_or_else(|| "never".into()),
                h.success_rate
                    .map(|r| format!("{:.0}%", r * 100.0))
                    .unwrap_or_else(|| "–".into()),
                h.pending_proposals,
                notes
            );
            // The line fits the terminal; the notes give way first.
            println!("{}", width.map_or(line.clone(), |w| render::cut(&line, w)));
        }
    }
    if let Some(url) = notify {
        crate::notify::post(&url, &list)?;
        if !json {
            println!("posted the summary to {url}");
        }
    }
    if check && !failing.is_empty() {
        if !json {
            eprintln!(
                "tacit: {} SOP(s) need attention: {}",
                failing.len(),
                failing
                    .iter()
                    .map(|h| format!("{} ({})", h.id, h.problems.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `tacit stats SOP`: runs over time, success rate, step durations, and the
/// steps where runs fail, deviate or escalate.
pub fn stats(paths: &Paths, sop_id: String, json: bool) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        let sop = load_sop(&store, &sop_id, None).await?;
        let runs: Vec<_> = store
            .list_runs(Some(&sop_id))
            .await?
            .into_iter()
            .filter(|r| r.meta.sop_id.as_deref() == Some(sop_id.as_str()))
            .collect();
        let mut per_day: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
        let mut durations: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
        let mut fails: std::collections::BTreeMap<String, u32> = Default::default();
        let mut deviates: std::collections::BTreeMap<String, u32> = Default::default();
        let mut escalates: std::collections::BTreeMap<String, u32> = Default::default();
        let (mut succeeded, mut finished) = (0u32, 0u32);
        for r in &runs {
            let events = store.events(&r.meta.id).await?;
            let mut current: Option<String> = None;
            let mut outcome = None;
            for e in &events {
                match &e.body {
                    EventBody::Step { title } => current = Some(title.clone()),
                    EventBody::StepDone { title, duration_ms, .. } => {
                        durations.entry(title.clone()).or_default().push(*duration_ms);
                    }
                    EventBody::Deviation { step, .. } => *deviates.entry(step.clone()).or_default() += 1,
                    EventBody::Outcome { outcome: o, .. } => outcome = Some(o.clone()),
                    _ => {}
                }
            }
            let day = tacit_core::utc_date(r.meta.started_at_ms);
            let entry = per_day.entry(day).or_default();
            entry.0 += 1;
            if let Some(o) = &outcome {
                finished += 1;
                if o == "succeeded" {
                    succeeded += 1;
                    entry.1 += 1;
                } else if let Some(step) = &current {
                    let into = if o == "escalated" { &mut escalates } else { &mut fails };
                    *into.entry(step.clone()).or_default() += 1;
                }
            }
        }
        let steps: Vec<serde_json::Value> = sop
            .steps
            .iter()
            .map(|s| {
                let mut d = durations.get(&s.title).cloned().unwrap_or_default();
                d.sort_unstable();
                serde_json::json!({
                    "step": s.title,
                    "runs": d.len(),
                    "median_ms": percentile(&d, 0.5),
                    "p90_ms": percentile(&d, 0.9),
                    "failed": fails.get(&s.title).copied().unwrap_or(0),
                    "deviated": deviates.get(&s.title).copied().unwrap_or(0),
                    "escalated": escalates.get(&s.title).copied().unwrap_or(0),
                })
            })
            .collect();
        let rate = (finished > 0).then(|| f64::from(succeeded) / f64::from(finished));
        if json {
            let doc = serde_json::json!({
                "sop": sop.id, "version": sop.version, "runs": runs.len(),
                "success_rate": rate,
                "per_day": per_day.iter().map(|(d, (n, ok))| serde_json::json!({"date": d, "runs": n, "succeeded": ok})).collect::<Vec<_>>(),
                "steps": steps,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        } else {
            let style = Style::stdout();
            println!(
                "{}  {} guided runs, success rate {}",
                style.bold(&sop.title),
                runs.len(),
                rate.map(|r| format!("{:.0}%", r * 100.0)).unwrap_or_else(|| "–".into())
            );
            let max = per_day.values().map(|(n, _)| *n).max().unwrap_or(1).max(1);
            for (day, (n, ok)) in &per_day {
                let width = (30 * n / max).max(1) as usize;
                let good = (30 * ok / max) as usize;
                println!("  {day}  {}{} {n} ({ok} ok)", style.green(&"█".repeat(good)), style.red(&"█".repeat(width.saturating_sub(good))));
            }
            println!("\n  {:<30} {:>9} {:>9} {:>6} {:>8} {:>9}", "step", "median", "p90", "failed", "deviated", "escalated");
            for s in &steps {
                println!(
                    "  {} {:>9} {:>9} {:>6} {:>8} {:>9}",
                    render::cell(s["step"].as_str().unwrap_or_default(), 30),
                    render::duration(s["median_ms"].as_i64().unwrap_or(0)),
                    render::duration(s["p90_ms"].as_i64().unwrap_or(0)),
                    s["failed"], s["deviated"], s["escalated"]
                );
            }
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
