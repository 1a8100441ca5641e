//! Keeping SOPs alive: `own`, `team`, `reviewed`, `log`, `diff`, `review`
//! and `status`.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use tacit_core::{Paths, current_user, now_ms};
use tacit_library::LibraryError;
use tacit_library::keeping;
use tacit_library::review::{Change, Review};
use tacit_review::health::{Health, Thresholds};
use tacit_store::{SqliteStore, Store};

use crate::render::{self, Style};

/// clap's check of `--review-every`: a bad interval is a usage error (exit 2).
pub fn interval_arg(text: &str) -> std::result::Result<String, String> {
    keeping::parse_interval(text)
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
}

/// A lost-update refusal reads as one sentence; other errors keep their
/// context chain.
fn conflict_message(e: LibraryError) -> anyhow::Error {
    if tacit_library::review::is_conflict(&e) {
        anyhow::anyhow!("{e}")
    } else {
        e.into()
    }
}

pub fn own(
    paths: &Paths,
    sop_id: String,
    owner: String,
    review_every: Option<String>,
) -> Result<ExitCode> {
    let days = review_every
        .as_deref()
        .map(keeping::parse_interval)
        .transpose()?;
    let rt = crate::runtime()?;
    rt.block_on(async {
        let store = SqliteStore::open(&paths.db).await?;
        let owned = keeping::set_owner(&store, &sop_id, &owner, days, &current_user())
            .await
            .map_err(conflict_message)?;
        println!(
            "{} version {}: {}.",
            owned.sop.id, owned.sop.version, owned.summary
        );
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
        let done = keeping::confirm_review(&store, &sop_id, &current_user()).await?;
        match done.next_due_ms {
            Some(due) => println!(
                "{} version {} confirmed by {}; next review due {}.",
                done.sop_id,
                done.version,
                done.reviewer,
                tacit_core::utc_date(due)
            ),
            None => println!(
                "{} version {} confirmed by {}. Set a review interval with `tacit own {} --owner NAME --review-every 90d`.",
                done.sop_id, done.version, done.reviewer, done.sop_id
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
        let history = keeping::history(&store, &sop_id).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&history)?);
        } else {
            for entry in history.iter().rev() {
                let v = &entry.version;
                let runs: Vec<&str> = entry
                    .runs
                    .iter()
                    .map(|id| tacit_capture::session::short_id(id))
                    .collect();
                println!(
                    "v{:<3} {}  {:<12} {}{}{}",
                    v.version,
                    render::utc(v.created_at_ms),
                    v.author,
                    if entry.metadata_only {
                        "(metadata only) "
                    } else {
                        ""
                    },
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
        let cmp = keeping::compare(&store, &sop_id, v1, v2).await?;
        let style = Style::stdout();
        println!(
            "{}",
            style.bold(&format!(
                "{sop_id}: version {} → {}",
                cmp.old.version, cmp.new.version
            ))
        );
        if cmp.lines.is_empty() {
            println!("  no changes");
        } else {
            print!("{}", tacit_review::diff::render(&cmp.lines, style.color));
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
        let mut review = Review::start(&store, &sop_id).await?;
        let base = review.base().version;
        let pending = review.pending().to_vec();
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
        for (n, p) in pending.iter().enumerate() {
            let id = p.proposal.id.as_str();
            let counter = style.bold(&format!("{}/{}", n + 1, pending.len()));
            match &p.change {
                Change::Unreadable(why) => {
                    println!("  proposal {id} is unreadable ({why}); skipped");
                }
                Change::Redraft {
                    stale: true,
                    ..
                } => {
                    // Accepting it would drop what changed since it was made.
                    println!(
                        "\n{counter} {}\n  made from version {}, and version {base} has changed since: run `tacit draft {sop_id}` again to merge the runs with the latest version. Skipped.",
                        p.proposal.summary, p.proposal.sop_version
                    );
                }
                Change::Redraft {
                    additions,
                    conflicts,
                    ..
                } => {
                    println!("\n{counter} {}", p.proposal.summary);
                    let redraft = review.preview(id)?;
                    print!(
                        "{}",
                        tacit_review::diff::render(
                            &tacit_review::diff::diff(review.current(), &redraft),
                            style.color
                        )
                    );
                    if !additions.is_empty() {
                        println!("  What the runs add (your edits are kept):");
                        for a in additions {
                            println!("    + {a}");
                        }
                    }
                    if !conflicts.is_empty() {
                        println!(
                            "  {}",
                            style.bold("Conflicts (your version is kept; edit to take theirs):")
                        );
                        for c in conflicts {
                            println!("    ! {c}");
                        }
                    }
                    match ask("  [a]ccept  [r]eject  [s]kip > ").as_str() {
                        "a" | "accept" => {
                            review.accept(id)?;
                        }
                        "r" | "reject" => {
                            let reason = ask("  why (kept): ");
                            let reason = if reason.is_empty() {
                                "rejected".to_string()
                            } else {
                                reason
                            };
                            review.reject(id, &reason)?;
                        }
                        _ => {}
                    }
                }
                Change::Evidence(evidence) => {
                    println!("\n{counter} {}", p.proposal.summary);
                    println!(
                        "  from run {} (v{}), {}",
                        tacit_capture::session::short_id(&p.proposal.run_id),
                        p.proposal.sop_version,
                        render::utc(p.proposal.created_at_ms)
                    );
                    if !evidence.command.is_empty() {
                        println!(
                            "  $ {}  → exit {}",
                            evidence.command,
                            evidence.exit_code.map_or("?".into(), |c| c.to_string())
                        );
                    }
                    let lines: Vec<&str> = evidence.output.lines().collect();
                    for l in &lines[lines.len().saturating_sub(5)..] {
                        println!("  {} {l}", style.dim("│"));
                    }
                    if let Some(a) = &evidence.answer {
                        println!("  what they did: {}", a.action);
                        println!("  why:           {}", a.reason);
                        if let Some(e) = &a.escalate {
                            println!("  escalate:      {e}");
                        }
                    }
                    if !review_one(&mut review, id)? {
                        if review.accepted() > 0 {
                            println!(
                                "  quitting: the {} accepted proposal(s) are saved now",
                                review.accepted()
                            );
                        }
                        break;
                    }
                }
            }
        }
        let done = review.finish(&store, &current_user()).await;
        let done = match done {
            Ok(d) => d,
            Err(e) => {
                return Err(conflict_message(e))
                    .context("the review was not saved; the proposals stay pending");
            }
        };
        if let Some(saved) = &done.saved {
            println!(
                "\n{}",
                style.bold(&format!("{sop_id} version {}", saved.version))
            );
            print!(
                "{}",
                tacit_review::diff::render(
                    &tacit_review::diff::diff(&done.original, saved),
                    style.color
                )
            );
        } else if done.rejected > 0 {
            println!(
                "\nRejected {} proposal(s); the SOP is unchanged.",
                done.rejected
            );
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Asks what to do with one proposal backed by a run's evidence. Returns
/// false when the reviewer quits.
fn review_one(review: &mut Review, id: &str) -> Result<bool> {
    loop {
        match ask("  [a]ccept  [e]dit  [r]eject  [s]kip  [q]uit > ").as_str() {
            "a" | "accept" => {
                match review.accept(id) {
                    Ok(said) => println!("  accepted: {said}"),
                    Err(e) => println!("  cannot apply it: {e}"),
                }
                return Ok(true);
            }
            "e" | "edit" => {
                let draft = match review.preview(id) {
                    Ok(d) => d,
                    Err(e) => {
                        println!("  ({e}; editing the SOP as it is)");
                        review.current().clone()
                    }
                };
                let mut text = tacit_sop::render_markdown(&draft);
                loop {
                    let edited = edit_in_editor(&text)?;
                    match tacit_library::read_edited(&edited, &review.base().id.clone())
                        .map_err(|e| e.to_string())
                        .and_then(|sop| review.accept_edited(id, sop).map_err(|e| e.to_string()))
                    {
                        Ok(()) => {
                            println!("  accepted with your edits");
                            break;
                        }
                        Err(e) => {
                            println!("  {e}");
                            if ask("  edit again? [Y/n] ") == "n" {
                                break;
                            }
                            text = edited;
                        }
                    }
                }
                return Ok(true);
            }
            "r" | "reject" => {
                loop {
                    let r = ask("  why (kept, so it is not raised again): ");
                    if review.reject(id, &r).is_ok() {
                        break;
                    }
                }
                return Ok(true);
            }
            "s" | "skip" | "" => return Ok(true),
            "q" | "quit" => return Ok(false),
            _ => println!("  type a, e, r, s or q"),
        }
    }
}

pub fn status(paths: &Paths, json: bool, check: bool, notify: Option<String>) -> Result<ExitCode> {
    let config = crate::record::load_config(paths)?;
    let thresholds = Thresholds {
        proposal_max_days: config.status.proposal_max_days,
        recent_runs: 10,
    };
    let rt = crate::runtime()?;
    let list: Vec<Health> = rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        let list = tacit_library::status::library_health(&store, now_ms(), thresholds).await?;
        store.close().await;
        anyhow::Ok(list)
    })?;
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

/// `tacit stats SOP`: runs over time, success rate, step durations, and the
/// steps where runs fail, deviate or escalate.
pub fn stats(paths: &Paths, sop_id: String, json: bool) -> Result<ExitCode> {
    let rt = crate::runtime()?;
    let stats = rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        let stats = tacit_library::status::stats(&store, &sop_id).await;
        store.close().await;
        anyhow::Ok(stats?)
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(ExitCode::SUCCESS);
    }
    let style = Style::stdout();
    println!(
        "{}  {} guided runs, success rate {}",
        style.bold(&stats.title),
        stats.runs,
        stats
            .success_rate
            .map(|r| format!("{:.0}%", r * 100.0))
            .unwrap_or_else(|| "–".into())
    );
    let max = stats
        .per_day
        .iter()
        .map(|d| d.runs)
        .max()
        .unwrap_or(1)
        .max(1);
    for d in &stats.per_day {
        let width = (30 * d.runs / max).max(1) as usize;
        let good = (30 * d.succeeded / max) as usize;
        println!(
            "  {}  {}{} {} ({} ok)",
            d.date,
            style.green(&"█".repeat(good)),
            style.red(&"█".repeat(width.saturating_sub(good))),
            d.runs,
            d.succeeded
        );
    }
    println!(
        "\n  {:<30} {:>9} {:>9} {:>6} {:>8} {:>9}",
        "step", "median", "p90", "failed", "deviated", "escalated"
    );
    for s in &stats.steps {
        println!(
            "  {} {:>9} {:>9} {:>6} {:>8} {:>9}",
            render::cell(&s.step, 30),
            render::duration(s.median_ms),
            render::duration(s.p90_ms),
            s.failed,
            s.deviated,
            s.escalated
        );
    }
    Ok(ExitCode::SUCCESS)
}
