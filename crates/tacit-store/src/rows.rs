//! Turning rows into runs, events, SOP versions and proposals. The tables
//! and column names are the same on both backends, so the decoders are
//! written once and expanded for each row type.

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
