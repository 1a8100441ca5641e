//! The PostgreSQL store, for the team server: the same trait and tables as
//! [`crate::SqliteStore`], with its own migrations.
//!
//! Differences that matter:
//! - several writers at once: a new SOP version takes a per-SOP advisory
//!   lock, so two saves from the same base cannot both succeed;
//! - search is a `tsvector` with a GIN index, queried with
//!   `websearch_to_tsquery` (whose syntax never errors);
//! - a schema can be chosen per store (`open_in_schema`), so test runs and
//!   tenants do not see each other.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, Row};
use tacit_core::{Event, EventBody, RunMeta, RunStatus};

crate::rows::decoders!(PgRow);

use crate::{NewSopVersion, Proposal, RunSummary, SopVersion, Store, StoreError};

#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and applies any
    /// pending migrations.
    pub async fn open(url: &str) -> Result<PgStore, StoreError> {
        Self::connect(url, None).await
    }

    /// Like [`PgStore::open`], with every table in `schema` (created if
    /// needed). A schema name is letters, digits and `_` only.
    pub async fn open_in_schema(url: &str, schema: &str) -> Result<PgStore, StoreError> {
        if schema.is_empty()
            || !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::Corrupt(format!(
                "\"{schema}\" is not a schema name: use letters, digits and _"
            )));
        }
        Self::connect(url, Some(schema)).await
    }

    async fn connect(url: &str, schema: Option<&str>) -> Result<PgStore, StoreError> {
        let mut options = PgConnectOptions::from_str(url)?.application_name("tacit");
        if let Some(schema) = schema {
            // Created before the pool exists, so every pooled connection
            // can put it first on its search path.
            let mut conn = options.connect().await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
            )))
            .execute(&mut conn)
            .await?;
            conn.close().await?;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(4)
            // No ping before every query: a round trip that doubled what a
            // page costs. A connection that broke fails the one request
            // using it, and the pool replaces it.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// Drops `schema` and everything in it (for tests cleaning up).
    pub async fn drop_schema(url: &str, schema: &str) -> Result<(), StoreError> {
        let mut conn = PgConnectOptions::from_str(url)?.connect().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            schema.replace('"', "")
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
        Ok(())
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// PostgreSQL refuses NUL in text; SQLite keeps it. Recorded output is
/// untrusted bytes, so NUL is stored as U+FFFD (what invalid bytes become
/// anyway) rather than failing the whole run.
fn text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', "\u{fffd}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

impl Store for PgStore {
    async fn upsert_run(&self, m: &RunMeta) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO runs (id, name, shell, started_at_ms, ended_at_ms, status, host, username, \
             start_cwd, recorder_pid, tacit_version, cols, rows, sop_id, sop_version, imported_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, ended_at_ms = excluded.ended_at_ms, \
             status = excluded.status, recorder_pid = excluded.recorder_pid",
        )
        .bind(text(&m.id))
        .bind(text(&m.name))
        .bind(text(&m.shell))
        .bind(m.started_at_ms)
        .bind(m.ended_at_ms)
        .bind(m.status.as_str())
        .bind(text(&m.host))
        .bind(text(&m.user))
        .bind(text(&m.start_cwd))
        .bind(m.recorder_pid.map(i64::from))
        .bind(text(&m.tacit_version))
        .bind(i64::from(m.cols))
        .bind(i64::from(m.rows))
        .bind(m.sop_id.as_deref().map(text))
        .bind(m.sop_version.map(i64::from))
        .bind(m.imported_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn append_events(&self, run_id: &str, events: &[Event]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // A few hundred rows per statement: one round trip each, not one
        // per event.
        for chunk in events.chunks(500) {
            let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                "INSERT INTO events (run_id, seq, at_ms, kind, body, command, exit_code, duration_ms, step) ",
            );
            let mut rows = Vec::with_capacity(chunk.len());
            for e in chunk {
                let body = serde_json::to_string(&e.body)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let (command, exit_code, duration) = match &e.body {
                    EventBody::Command(c) => (
                        Some(text(&c.command).into_owned()),
                        c.exit_code.map(i64::from),
                        Some(c.duration_ms),
                    ),
                    _ => (None, None, None),
                };
                let step = match &e.body {
                    EventBody::Deviation { step, .. } => Some(text(step).into_owned()),
                    EventBody::StepDone { title, .. } => Some(text(title).into_owned()),
                    _ => None,
                };
                // serde_json escapes NUL as \u0000, which PostgreSQL's text
                // accepts; only raw NUL needs care.
                rows.push((e, body, command, exit_code, duration, step));
            }
            q.push_values(
                rows,
                |mut b, (e, body, command, exit_code, duration, step)| {
                    b.push_bind(text(run_id).into_owned())
                        .push_bind(e.seq as i64)
                        .push_bind(e.at_ms)
                        .push_bind(e.body.kind())
                        .push_bind(body)
                        .push_bind(command)
                        .push_bind(exit_code)
                        .push_bind(duration)
                        .push_bind(step);
                },
            );
            q.push(" ON CONFLICT (run_id, seq) DO NOTHING");
            q.build().execute(&mut *tx).await?;
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
        sqlx::query("UPDATE runs SET status = $1, ended_at_ms = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(ended_at_ms)
            .bind(text(run_id))
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
             r.outcome \
             FROM runs r WHERE ($1::TEXT IS NULL OR r.name = $1) \
             ORDER BY COALESCE(r.imported_at_ms, r.started_at_ms) DESC, r.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name.map(text))
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
        let id = text(id);
        let rows = if id == "latest" || id == "last" {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {RUN_COLUMNS} FROM runs \
                 ORDER BY COALESCE(imported_at_ms, started_at_ms) DESC, id DESC LIMIT 1"
            )))
            .fetch_all(&self.pool)
            .await?
        } else {
            let pattern = id.replace(['%', '_', '\\'], "");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE id = $1 OR id LIKE $2 OR id LIKE $3 \
                 ORDER BY (id = $1) DESC LIMIT 2"
            )))
            .bind(id.as_ref())
            .bind(format!("{pattern}%"))
            .bind(format!("%{pattern}"))
            .fetch_all(&self.pool)
            .await?
        };
        match rows.as_slice() {
            [] => Err(StoreError::NoSuchRun(id.into_owned())),
            [one] => meta_from_row(one),
            [first, _] if first.try_get::<String, _>("id")? == id => meta_from_row(first),
            _ => Err(StoreError::AmbiguousRun(id.into_owned())),
        }
    }

    async fn events(&self, run_id: &str) -> Result<Vec<Event>, StoreError> {
        let rows =
            sqlx::query("SELECT seq, at_ms, body FROM events WHERE run_id = $1 ORDER BY seq")
                .bind(text(run_id))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn refresh_health(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO health_summary (name, runs, people)
             SELECT $1,
               (SELECT string_agg(started_at_ms::TEXT || chr(30) || username || chr(30)
                        || coalesce(outcome, '') || chr(30) || coalesce(steps, ''), chr(29))
                FROM (SELECT r.started_at_ms, r.username, r.outcome,
                             (SELECT string_agg(e.step, chr(31)) FROM events e
                              WHERE e.run_id = r.id AND e.kind = 'deviation') AS steps
                      FROM runs r WHERE r.sop_id = $1
                      ORDER BY r.started_at_ms DESC LIMIT 10) recent),
               (SELECT string_agg(DISTINCT username, ',') FROM runs WHERE name = $1)
             ON CONFLICT (name) DO UPDATE SET runs = excluded.runs, people = excluded.people",
        )
        .bind(text(name))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn set_outcome(&self, run_id: &str, outcome: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET outcome = $1 WHERE id = $2")
            .bind(text(outcome))
            .bind(text(run_id))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_event_hashes(
        &self,
        run_id: &str,
        links: &[(u64, String)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for chunk in links.chunks(1000) {
            let seqs: Vec<i64> = chunk.iter().map(|(s, _)| *s as i64).collect();
            let hashes: Vec<String> = chunk.iter().map(|(_, h)| h.clone()).collect();
            // A link, once set, is never overwritten: that is what makes an
            // edit detectable.
            sqlx::query(
                "UPDATE events SET hash = l.hash FROM UNNEST($2::BIGINT[], $3::TEXT[]) AS l(seq, hash) \
                 WHERE events.run_id = $1 AND events.seq = l.seq AND events.hash IS NULL",
            )
            .bind(text(run_id))
            .bind(seqs)
            .bind(hashes)
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
            sqlx::query("SELECT seq, at_ms, body, hash FROM events WHERE run_id = $1 ORDER BY seq")
                .bind(text(run_id))
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| Ok((event_from_row(row)?, row.try_get("hash")?)))
            .collect()
    }

    async fn add_sop_version(
        &self,
        sop_id: &str,
        new: &NewSopVersion<'_>,
    ) -> Result<u32, StoreError> {
        let sop_id = text(sop_id);
        let mut tx = self.pool.begin().await?;
        // Serialises saves of one SOP across connections and servers, so
        // two saves from the same base cannot both pass the check below.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
            .bind(sop_id.as_ref())
            .execute(&mut *tx)
            .await?;
        let last: Option<i64> =
            sqlx::query("SELECT MAX(version) AS v FROM sop_versions WHERE sop_id = $1")
                .bind(sop_id.as_ref())
                .fetch_one(&mut *tx)
                .await?
                .try_get("v")?;
        let current = last.unwrap_or(0) as u32;
        if let Some(base) = new.base
            && base != current
        {
            return Err(StoreError::Conflict {
                sop_id: sop_id.into_owned(),
                base,
                current,
            });
        }
        let version = current + 1;
        sqlx::query(
            "INSERT INTO sop_versions (sop_id, version, title, created_at_ms, author, summary, body, owner, review_every_days) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(sop_id.as_ref())
        .bind(i64::from(version))
        .bind(text(new.title))
        .bind(tacit_core::now_ms())
        .bind(text(new.author))
        .bind(text(new.summary))
        .bind(text(&(new.body)(version)))
        .bind(new.owner.map(text))
        .bind(new.review_every_days.map(i64::from))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO sop_search (sop_id, title, content) VALUES ($1, $2, $3) \
             ON CONFLICT (sop_id) DO UPDATE SET title = excluded.title, content = excluded.content",
        )
        .bind(sop_id.as_ref())
        .bind(text(new.title))
        .bind(text(new.search_text))
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
            "SELECT * FROM sop_versions WHERE sop_id = $1 AND ($2::BIGINT IS NULL OR version = $2) \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(text(sop_id))
        .bind(version.map(i64::from))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(sop_from_row).transpose()
    }

    async fn list_sops(&self) -> Result<Vec<SopVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT ON (sop_id) * FROM sop_versions ORDER BY sop_id, version DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(sop_from_row).collect()
    }

    async fn add_proposal(&self, p: &Proposal) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO proposals (id, sop_id, sop_version, run_id, kind, summary, body, status, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
        )
        .bind(text(&p.id))
        .bind(text(&p.sop_id))
        .bind(i64::from(p.sop_version))
        .bind(text(&p.run_id))
        .bind(text(&p.kind))
        .bind(text(&p.summary))
        .bind(text(&p.body))
        .bind(text(&p.status))
        .bind(p.created_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn proposals(&self, sop_id: &str) -> Result<Vec<Proposal>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM proposals WHERE sop_id = $1 ORDER BY created_at_ms, id")
                .bind(text(sop_id))
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
        sqlx::query("UPDATE proposals SET status = $1, resolution = $2 WHERE id = $3")
            .bind(text(status))
            .bind(text(resolution))
            .bind(text(id))
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
        sqlx::query(
            "INSERT INTO reviews (sop_id, version, reviewer, at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(text(sop_id))
        .bind(i64::from(version))
        .bind(text(reviewer))
        .bind(tacit_core::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn last_review(&self, sop_id: &str) -> Result<Option<(u32, String, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT version, reviewer, at_ms FROM reviews WHERE sop_id = $1 ORDER BY at_ms DESC LIMIT 1",
        )
        .bind(text(sop_id))
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
        sqlx::query(
            "INSERT INTO teams (name, members) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET members = excluded.members",
        )
        .bind(text(name))
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
        if query.split_whitespace().next().is_none() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT sop_id, title, \
               ts_headline('simple', content, q, 'StartSel=[, StopSel=], MaxWords=12, MinWords=4, MaxFragments=1, FragmentDelimiter=…') AS snip \
             FROM sop_search, websearch_to_tsquery('simple', $1) q \
             WHERE doc @@ q ORDER BY ts_rank_cd(doc, q) DESC, sop_id LIMIT 50",
        )
        .bind(text(query))
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

    async fn health_rows(&self, only: Option<&str>) -> Result<Vec<crate::HealthRow>, StoreError> {
        let sql = if only.is_some() {
            // One SOP (its page): shaped so that every part is one index
            // lookup whatever the planner's statistics say. The library's
            // shape below, on a table never analysed since a bulk sync,
            // was planned as a scan of `health_summary` per page view.
            "SELECT v.sop_id, v.title, v.version, v.owner, v.review_every_days, v.created_at_ms,
                    (SELECT MAX(at_ms) FROM reviews r WHERE r.sop_id = v.sop_id),
                    (SELECT string_agg(p.created_at_ms::TEXT, ',') FROM proposals p
                      WHERE p.status = 'pending' AND p.sop_id = v.sop_id),
                    (SELECT h.runs FROM health_summary h WHERE h.name = v.sop_id),
                    (SELECT h.people FROM health_summary h WHERE h.name = v.sop_id)
             FROM (SELECT sop_id, title, version, owner, review_every_days, created_at_ms
                   FROM sop_versions WHERE sop_id = $1 ORDER BY version DESC LIMIT 1) v"
                .to_string()
        } else {
            "WITH latest AS (
                SELECT DISTINCT ON (sop_id) sop_id, title, version, owner, review_every_days, created_at_ms
                FROM sop_versions ORDER BY sop_id, version DESC),
            rv AS (SELECT sop_id, MAX(at_ms) AS at FROM reviews GROUP BY sop_id),
            pp AS (SELECT sop_id, string_agg(created_at_ms::TEXT, ',') AS pending
                   FROM proposals WHERE status = 'pending' GROUP BY sop_id)
            SELECT latest.sop_id, latest.title, latest.version, latest.owner,
                   latest.review_every_days, latest.created_at_ms, rv.at, pp.pending, h.runs, h.people
            FROM latest
            LEFT JOIN rv ON rv.sop_id = latest.sop_id
            LEFT JOIN pp ON pp.sop_id = latest.sop_id
            LEFT JOIN health_summary h ON h.name = latest.sop_id"
                .to_string()
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(id) = only {
            query = query.bind(text(id));
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(crate::health_row((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                    r.try_get(5)?,
                    r.try_get(6)?,
                    r.try_get(7)?,
                    r.try_get(8)?,
                    r.try_get(9)?,
                )))
            })
            .collect()
    }

    async fn draft_base(&self, sop_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT body FROM draft_bases WHERE sop_id = $1")
            .bind(text(sop_id))
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("body")?),
            None => None,
        })
    }

    async fn set_draft_base(&self, sop_id: &str, body: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO draft_bases (sop_id, body, created_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (sop_id) DO UPDATE SET body = excluded.body, created_at_ms = excluded.created_at_ms",
        )
        .bind(text(sop_id))
        .bind(text(body))
        .bind(tacit_core::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
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
        let rows = sqlx::query("SELECT * FROM sop_versions WHERE sop_id = $1 ORDER BY version")
            .bind(text(sop_id))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sop_from_row).collect()
    }

    async fn sop_with_health(
        &self,
        sop_id: &str,
    ) -> Result<(Vec<SopVersion>, Option<crate::HealthRow>), StoreError> {
        // The health columns ride along on every version row: one round
        // trip instead of two, each part an index lookup.
        let rows = sqlx::query(
            "SELECT s.*, h.reviewed, h.pending, h.runs, h.people
             FROM sop_versions s CROSS JOIN (SELECT
                 (SELECT MAX(at_ms) FROM reviews WHERE sop_id = $1) AS reviewed,
                 (SELECT string_agg(created_at_ms::TEXT, ',') FROM proposals
                   WHERE status = 'pending' AND sop_id = $1) AS pending,
                 (SELECT runs FROM health_summary WHERE name = $1) AS runs,
                 (SELECT people FROM health_summary WHERE name = $1) AS people) h
             WHERE s.sop_id = $1 ORDER BY s.version",
        )
        .bind(text(sop_id))
        .fetch_all(&self.pool)
        .await?;
        let versions: Vec<SopVersion> = rows.iter().map(sop_from_row).collect::<Result<_, _>>()?;
        let (Some(last), Some(row)) = (versions.last(), rows.last()) else {
            return Ok((versions, None));
        };
        let health = crate::health_row((
            last.sop_id.clone(),
            last.title.clone(),
            i64::from(last.version),
            row.try_get("owner")?,
            row.try_get("review_every_days")?,
            last.created_at_ms,
            row.try_get("reviewed")?,
            row.try_get("pending")?,
            row.try_get("runs")?,
            row.try_get("people")?,
        ));
        Ok((versions, Some(health)))
    }
}

crate::rows::journal_bookkeeping!(PgStore);
