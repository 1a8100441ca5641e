//! What the two backends share: the tables and column names are the same,
//! so the row decoders, and the queries whose text is the same on both
//! (`$n` parameters, which SQLite reads by position too), are written once
//! and expanded for each backend.

/// Defines the decoders (and the run columns) for `$row`, in the module
/// that invokes it.
macro_rules! decoders {
    ($row:ty) => {
        const RUN_COLUMNS: &str = "id, name, shell, started_at_ms, ended_at_ms, status, host, username, \
             start_cwd, recorder_pid, tacit_version, cols, rows, sop_id, sop_version, imported_at_ms";

        fn meta_from_row(row: &$row) -> Result<RunMeta, StoreError> {
            let status: String = row.try_get("status")?;
            Ok(RunMeta {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                shell: row.try_get("shell")?,
                started_at_ms: row.try_get("started_at_ms")?,
                ended_at_ms: row.try_get("ended_at_ms")?,
                status: RunStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown run status {status}")))?,
                host: row.try_get("host")?,
                user: row.try_get("username")?,
                start_cwd: row.try_get("start_cwd")?,
                recorder_pid: row
                    .try_get::<Option<i64>, _>("recorder_pid")?
                    .map(|p| p as u32),
                tacit_version: row.try_get("tacit_version")?,
                cols: row.try_get::<i64, _>("cols")? as u16,
                rows: row.try_get::<i64, _>("rows")? as u16,
                sop_id: row.try_get("sop_id")?,
                sop_version: row
                    .try_get::<Option<i64>, _>("sop_version")?
                    .map(|v| v as u32),
                imported_at_ms: row.try_get("imported_at_ms")?,
            })
        }

        fn event_from_row(row: &$row) -> Result<Event, StoreError> {
            let body: String = row.try_get("body")?;
            Ok(Event {
                seq: row.try_get::<i64, _>("seq")? as u64,
                at_ms: row.try_get("at_ms")?,
                body: serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("event body: {e}")))?,
            })
        }

        fn sop_from_row(row: &$row) -> Result<SopVersion, StoreError> {
            Ok(SopVersion {
                sop_id: row.try_get("sop_id")?,
                version: row.try_get::<i64, _>("version")? as u32,
                title: row.try_get("title")?,
                created_at_ms: row.try_get("created_at_ms")?,
                author: row.try_get("author")?,
                summary: row.try_get("summary")?,
                body: row.try_get("body")?,
            })
        }

        /// Every run with its event count and status.
        const RUN_SIZES: &str = "SELECT r.id, r.status, COUNT(e.seq) AS n FROM runs r \
             LEFT JOIN events e ON e.run_id = r.id GROUP BY r.id, r.status ORDER BY r.id";

        fn run_size_from_row(r: &$row) -> Result<(String, u64, RunStatus), StoreError> {
            let status: String = r.try_get("status")?;
            Ok((
                r.try_get("id")?,
                r.try_get::<i64, _>("n")? as u64,
                RunStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown run status {status}")))?,
            ))
        }

        fn proposal_from_row(r: &$row) -> Result<crate::Proposal, crate::StoreError> {
            Ok(crate::Proposal {
                id: r.try_get("id")?,
                sop_id: r.try_get("sop_id")?,
                sop_version: r.try_get::<i64, _>("sop_version")? as u32,
                run_id: r.try_get("run_id")?,
                kind: r.try_get("kind")?,
                summary: r.try_get("summary")?,
                body: r.try_get("body")?,
                status: r.try_get("status")?,
                created_at_ms: r.try_get("created_at_ms")?,
                resolution: r.try_get("resolution")?,
            })
        }
    };
}

pub(crate) use decoders;

/// [`crate::JournalBookkeeping`] for `$store`: the same SQL on both.
macro_rules! journal_bookkeeping {
    ($store:ty) => {
        impl crate::JournalBookkeeping for $store {
            async fn journal_bytes(&self, run_id: &str) -> Result<Option<u64>, StoreError> {
                let row = sqlx::query("SELECT journal_bytes FROM runs WHERE id = $1")
                    .bind(run_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row {
                    Some(r) => Some(r.try_get::<i64, _>("journal_bytes")? as u64),
                    None => None,
                })
            }

            async fn set_journal_bytes(&self, run_id: &str, bytes: u64) -> Result<(), StoreError> {
                sqlx::query("UPDATE runs SET journal_bytes = $1 WHERE id = $2")
                    .bind(bytes as i64)
                    .bind(run_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn status_of(&self, run_id: &str) -> Result<Option<RunStatus>, StoreError> {
                let row = sqlx::query("SELECT status FROM runs WHERE id = $1")
                    .bind(run_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(match row {
                    Some(r) => RunStatus::parse(&r.try_get::<String, _>("status")?),
                    None => None,
                })
            }
        }
    };
}

pub(crate) use journal_bookkeeping;
