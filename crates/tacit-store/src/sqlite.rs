//! The embedded SQLite store.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Row, sqlite::SqliteRow};
use tacit_core::{Event, EventBody, RunMeta, RunStatus};

crate::rows::decoders!(SqliteRow);

use crate::{HealthRow, NewSopVersion, Proposal, RunSummary, SopVersion, Store, StoreError};

#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies any
    /// pending migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Readers run side by side in WAL mode (the team server serves many
        // requests at once); writers take the lock in turn.
        Self::connect(options, 4).await
    }

    /// A private in-memory database, for tests and dry runs (one
    /// connection: each would have its own memory).
    pub async fn in_memory() -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        Self::connect(options, 1).await
    }

    async fn connect(
        options: SqliteConnectOptions,
        connections: u32,
    ) -> Result<SqliteStore, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

impl Store for SqliteStore {
    async fn upsert_run(&self, m: &RunMeta) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO runs (id, name, shell, started_at_ms, ended_at_ms, status, host, username, \
             start_cwd, recorder_pid, tacit_version, cols, rows, sop_id, sop_version, imported_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, ended_at_ms = excluded.ended_at_ms, \
             status = excluded.status, recorder_pid = excluded.recorder_pid",
        )
        .bind(&m.id)
        .bind(&m.name)
        .bind(&m.shell)
        .bind(m.started_at_ms)
        .bind(m.ended_at_ms)
        .bind(m.status.as_str())
        .bind(&m.host)
        .bind(&m.user)
        .bind(&m.start_cwd)
        .bind(m.recorder_pid.map(i64::from))
        .bind(&m.tacit_version)
        .bind(i64::from(m.cols))
        .bind(i64::from(m.rows))
        .bind(&m.sop_id)
        .bind(m.sop_version.map(i64::from))
        .bind(m.imported_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn append_events(&self, run_id: &str, events: &[Event]) -> Result<(), StoreError> {
        // IMMEDIATE: take the write lock first, so a concurrent writer
        // waits (busy_timeout) instead of failing after both have read.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for e in events {
            let body =
                serde_json::to_string(&e.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let (command, exit_code, duration) = match &e.body {
                EventBody::Command(c) => {
                    (Some(c.command.as_str()), c.exit_code, Some(c.duration_ms))
                }
                _ => (None, None, None),
            };
            let step = match &e.body {
                EventBody::Deviation { step, .. } => Some(step.as_str()),
                EventBody::StepDone { title, .. } => Some(title.as_str()),
                _ => None,
            };
            sqlx::query(
                "INSERT INTO events (run_id, seq, at_ms, kind, body, command, exit_code, duration_ms, step) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, seq) DO NOTHING",
            )
            .bind(run_id)
            .bind(e.seq as i64)
            .bind(e.at_ms)
            .bind(e.body.kind())
            .bind(body)
            .bind(command)
            .bind(exit_code)
            .bind(duration)
            .bind(step)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn set_status(
        &self,
        run_id: &str,
        status: RunStatus,
        ended_at_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET status = ?, ended_at_ms = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(ended_at_ms)
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_runs(&self, name: Option<&str>) -> Result<Vec<RunSummary>, StoreError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS}, \
             (SELECT COUNT(*) FROM events e WHERE e.run_id = r.id AND e.kind = 'command') AS commands, \
             (SELECT COUNT(*) FROM events e WHERE e.run_id = r.id AND e.kind = 'command' \
                AND e.exit_code IS NOT NULL AND e.exit_code <> 0 \
                AND e.exit_code NOT BETWEEN 147 AND 150) AS failed, \
             (SELECT COUNT(*) FROM events e WHERE e.run_id = r.id AND e.kind = 'answer') AS answers, \
             (SELECT json_extract(e.body, '$.outcome') FROM events e WHERE e.run_id = r.id \
                AND e.kind = 'outcome' ORDER BY e.seq DESC LIMIT 1) AS outcome \
             FROM runs r WHERE (? IS NULL OR r.name = ?) \
             ORDER BY COALESCE(r.imported_at_ms, r.started_at_ms) DESC, r.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .bind(name)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(RunSummary {
                    meta: meta_from_row(row)?,
                    commands: row.try_get("commands")?,
                    failed_commands: row.try_get("failed")?,
                    answers: row.try_get("answers")?,
                    outcome: row.try_get("outcome")?,
                })
            })
            .collect()
    }

    async fn find_run(&self, id: &str) -> Result<RunMeta, StoreError> {
        let sql = if id == "latest" || id == "last" {
            format!(
                "SELECT {RUN_COLUMNS} FROM runs \
                 ORDER BY COALESCE(imported_at_ms, started_at_ms) DESC, id DESC LIMIT 1"
            )
        } else {
            format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1 OR id LIKE ?2 OR id LIKE ?3 \
                 ORDER BY (id = ?1) DESC LIMIT 2"
            )
        };
        let pattern = id.replace(['%', '_'], "");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(format!("{pattern}%"))
            .bind(format!("%{pattern}"))
            .fetch_all(&self.pool)
            .await?;
        match rows.as_slice() {
            [] => Err(StoreError::NoSuchRun(id.to_string())),
            [one] => meta_from_row(one),
            [first, _] if first.try_get::<String, _>("id")? == id => meta_from_row(first),
            _ => Err(StoreError::AmbiguousRun(id.to_string())),
        }
    }

    async fn add_sop_version(
        &self,
        sop_id: &str,
        new: &NewSopVersion<'_>,
    ) -> Result<u32, StoreError> {
        // One transaction reads the last version and writes the next, so two
        // writers cannot both claim the same number: the primary key refuses
        // the second.
        // IMMEDIATE: take the write lock first, so a concurrent writer
        // waits (busy_timeout) instead of failing after both have read.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let last: Option<i64> =
            sqlx::query("SELECT MAX(version) AS v FROM sop_versions WHERE sop_id = ?")
                .bind(sop_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("v")?;
        let current = last.unwrap_or(0) as u32;
        if let Some(base) = new.base
            && base != current
        {
            return Err(StoreError::Conflict {
                sop_id: sop_id.to_string(),
                base,
                current,
            });
        }
        let version = current + 1;
        sqlx::query(
            "INSERT INTO sop_versions (sop_id, version, title, created_at_ms, author, summary, body, owner, review_every_days) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(sop_id)
        .bind(i64::from(version))
        .bind(new.title)
        .bind(tacit_core::now_ms())
        .bind(new.author)
        .bind(new.summary)
        .bind((new.body)(version))
        .bind(new.owner)
        .bind(new.review_every_days.map(i64::from))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sop_search WHERE sop_id = ?")
            .bind(sop_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sop_search (sop_id, title, content) VALUES (?, ?, ?)")
            .bind(sop_id)
            .bind(new.title)
            .bind(new.search_text)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(version)
    }

    async fn sop_version(
        &self,
        sop_id: &str,
        version: Option<u32>,
    ) -> Result<Option<SopVersion>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM sop_versions WHERE sop_id = ?1 AND (?2 IS NULL OR version = ?2) \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(sop_id)
        .bind(version.map(i64::from))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(sop_from_row).transpose()
    }

    async fn list_sops(&self) -> Result<Vec<SopVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.* FROM sop_versions s JOIN (SELECT sop_id, MAX(version) AS v FROM sop_versions GROUP BY sop_id) l \
             ON s.sop_id = l.sop_id AND s.version = l.v ORDER BY s.sop_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sop_from_row).collect()
    }

    async fn refresh_health(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO health_summary (name, runs, people)
             SELECT ?1,
               (SELECT group_concat(started_at_ms || char(30) || username || char(30)
                        || coalesce(outcome, '') || char(30) || coalesce(steps, ''), char(29))
                FROM (SELECT r.started_at_ms, r.username, r.outcome,
                             (SELECT group_concat(e.step, char(31)) FROM events e
                              WHERE e.run_id = r.id AND e.kind = 'deviation') AS steps
                      FROM runs r WHERE r.sop_id = ?1
                      ORDER BY r.started_at_ms DESC LIMIT 10)),
               (SELECT group_concat(DISTINCT username) FROM runs WHERE name = ?1)
             ON CONFLICT (name) DO UPDATE SET runs = excluded.runs, people = excluded.people",
        )
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_outcome(&self, run_id: &str, outcome: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET outcome = ? WHERE id = ?")
            .bind(outcome)
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn health_rows(&self, only: Option<&str>) -> Result<Vec<HealthRow>, StoreError> {
        // The whole library comes back as one JSON document in one row:
        // fetching ten thousand rows one by one costs far more than the
        // query. Run lists are kept current in `health_summary`.
        // A filter the planner can use the primary keys for: `x IS NULL OR
        // sop_id = x` would scan every SOP for a page about one.
        let only_here = |col: &str| match only {
            Some(_) => format!("{col} = ?1"),
            None => "1 = 1".to_string(),
        };
        let sql = format!(
            "
            WITH latest AS (
                SELECT s.sop_id, s.title, s.version, s.owner, s.review_every_days, s.created_at_ms
                FROM sop_versions s
                JOIN (SELECT sop_id, MAX(version) AS v FROM sop_versions
                      WHERE {} GROUP BY sop_id) l
                  ON s.sop_id = l.sop_id AND s.version = l.v),
            rv AS (SELECT sop_id, MAX(at_ms) AS at FROM reviews WHERE {} GROUP BY sop_id),
            pp AS (SELECT sop_id, group_concat(created_at_ms) AS pending
                   FROM proposals WHERE status = 'pending' AND {} GROUP BY sop_id)
            SELECT json_group_array(json_array(latest.sop_id, latest.title, latest.version, latest.owner,
                   latest.review_every_days, latest.created_at_ms, rv.at, pp.pending, h.runs, h.people)) AS doc
            FROM latest
            LEFT JOIN rv ON rv.sop_id = latest.sop_id
            LEFT JOIN pp ON pp.sop_id = latest.sop_id
            LEFT JOIN health_summary h ON h.name = latest.sop_id",
            only_here("sop_id"),
            only_here("sop_id"),
            only_here("sop_id")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(id) = only {
            query = query.bind(id);
        }
        let doc: String = query.fetch_one(&self.pool).await?.try_get("doc")?;
        let rows: Vec<crate::RawHealth> = serde_json::from_str(&doc)
            .map_err(|e| StoreError::Corrupt(format!("health summary: {e}")))?;
        Ok(rows.into_iter().map(crate::health_row).collect())
    }

    async fn set_event_hashes(
        &self,
        run_id: &str,
        links: &[(u64, String)],
    ) -> Result<(), StoreError> {
        // IMMEDIATE: take the write lock first, so a concurrent writer
        // waits (busy_timeout) instead of failing after both have read.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for (seq, hash) in links {
            // A link, once set, is never overwritten: that is what makes an
            // edit detectable.
            sqlx::query("UPDATE events SET hash = ? WHERE run_id = ? AND seq = ? AND hash IS NULL")
                .bind(hash)
                .bind(run_id)
                .bind(*seq as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn events_with_hashes(
        &self,
        run_id: &str,
    ) -> Result<Vec<(Event, Option<String>)>, StoreError> {
        let rows =
            sqlx::query("SELECT seq, at_ms, body, hash FROM events WHERE run_id = ? ORDER BY seq")
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| Ok((event_from_row(row)?, row.try_get("hash")?)))
            .collect()
    }

    async fn draft_base(&self, sop_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT body FROM draft_bases WHERE sop_id = ?")
            .bind(sop_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("body")?),
            None => None,
        })
    }

    async fn set_draft_base(&self, sop_id: &str, body: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO draft_bases (sop_id, body, created_at_ms) VALUES (?, ?, ?) \
             ON CONFLICT (sop_id) DO UPDATE SET body = excluded.body, created_at_ms = excluded.created_at_ms",
        )
        .bind(sop_id)
        .bind(body)
        .bind(tacit_core::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn add_proposal(&self, p: &Proposal) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO proposals (id, sop_id, sop_version, run_id, kind, summary, body, status, created_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&p.id)
        .bind(&p.sop_id)
        .bind(i64::from(p.sop_version))
        .bind(&p.run_id)
        .bind(&p.kind)
        .bind(&p.summary)
        .bind(&p.body)
        .bind(&p.status)
        .bind(p.created_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn proposals(&self, sop_id: &str) -> Result<Vec<Proposal>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM proposals WHERE sop_id = ? ORDER BY created_at_ms, id")
                .bind(sop_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(proposal_from_row).collect()
    }

    async fn resolve_proposal(
        &self,
        id: &str,
        status: &str,
        resolution: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE proposals SET status = ?, resolution = ? WHERE id = ?")
            .bind(status)
            .bind(resolution)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn add_review(
        &self,
        sop_id: &str,
        version: u32,
        reviewer: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO reviews (sop_id, version, reviewer, at_ms) VALUES (?, ?, ?, ?)")
            .bind(sop_id)
            .bind(i64::from(version))
            .bind(reviewer)
            .bind(tacit_core::now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn last_review(&self, sop_id: &str) -> Result<Option<(u32, String, i64)>, StoreError> {
        let row = sqlx::query("SELECT version, reviewer, at_ms FROM reviews WHERE sop_id = ? ORDER BY at_ms DESC LIMIT 1")
            .bind(sop_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((
                r.try_get::<i64, _>("version")? as u32,
                r.try_get("reviewer")?,
                r.try_get("at_ms")?,
            )),
            None => None,
        })
    }

    async fn set_team(&self, name: &str, members: &[String]) -> Result<(), StoreError> {
        let members =
            serde_json::to_string(members).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("INSERT INTO teams (name, members) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET members = excluded.members")
            .bind(name)
            .bind(members)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn teams(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let rows = sqlx::query("SELECT name, members FROM teams ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let members: String = r.try_get("members")?;
                Ok((
                    r.try_get("name")?,
                    serde_json::from_str(&members)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                ))
            })
            .collect()
    }

    async fn search(&self, query: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        // Each word is quoted, so FTS5 syntax in a query is just text.
        // FTS5 ends a string at NUL: control characters separate words.
        let fts: Vec<String> = query
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
            .collect();
        if fts.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT sop_id, title, snippet(sop_search, 2, '[', ']', '…', 10) AS snip FROM sop_search \
             WHERE sop_search MATCH ? ORDER BY bm25(sop_search, 0.0, 5.0, 1.0) LIMIT 50",
        )
        .bind(fts.join(" "))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("sop_id")?,
                    r.try_get("title")?,
                    r.try_get("snip")?,
                ))
            })
            .collect()
    }

    async fn run_sizes(&self) -> Result<Vec<(String, u64, RunStatus)>, StoreError> {
        let rows = sqlx::query(RUN_SIZES).fetch_all(&self.pool).await?;
        rows.iter().map(run_size_from_row).collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn sop_versions(&self, sop_id: &str) -> Result<Vec<SopVersion>, StoreError> {
        let rows = sqlx::query("SELECT * FROM sop_versions WHERE sop_id = ? ORDER BY version")
            .bind(sop_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sop_from_row).collect()
    }

    async fn events(&self, run_id: &str) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query("SELECT seq, at_ms, body FROM events WHERE run_id = ? ORDER BY seq")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from_row).collect()
    }
}

crate::rows::journal_bookkeeping!(SqliteStore);
