//! The journal: one append-only JSON-lines file per run, written as events
//! happen and synced to disk at least once per command.
//!
//! It is the source of truth while a run is recorded. The database is filled
//! from it, during the run and again whenever a later `tacit` finds a journal
//! newer than what the database holds, so a recorder killed with SIGKILL
//! loses no finished command.
//!
//! Lines are written at a known offset, never blindly appended: a write that
//! fails half-way (a full disk) is cut back, so the file never holds a torn
//! line followed by good ones. Space is reserved up front so that a disk that
//! fills up during the run still takes the next few megabytes of events.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tacit_core::{Event, RunMeta, RunStatus};

use crate::StoreError;

/// Space reserved past the end of the journal when it is created.
const RESERVE_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Line {
    Run {
        run: RunMeta,
    },
    Event {
        event: Event,
        /// The event's link in the run's hash chain.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hash: Option<String>,
    },
    End {
        status: RunStatus,
        ended_at_ms: i64,
    },
}

pub fn journal_path(dir: &Path, run_id: &str) -> PathBuf {
    dir.join(format!("{run_id}.jsonl"))
}

pub struct JournalWriter {
    file: File,
    path: PathBuf,
    /// Bytes known to be good on disk.
    len: u64,
    /// Lines not yet written because a write failed.
    pending: Vec<Vec<u8>>,
    /// The last link of the hash chain.
    chain: String,
}

impl JournalWriter {
    /// Creates the journal of a new run and writes its header.
    pub fn create(dir: &Path, meta: &RunMeta) -> Result<JournalWriter, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let path = journal_path(dir, &meta.id);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        // Best effort: not every filesystem can reserve space.
        let _ = rustix::fs::fallocate(
            &file,
            rustix::fs::FallocateFlags::KEEP_SIZE,
            0,
            RESERVE_BYTES,
        );
        let mut w = JournalWriter {
            file,
            path,
            len: 0,
            pending: Vec::new(),
            chain: crate::chain::genesis(&meta.id),
        };
        w.push_line(&Line::Run { run: meta.clone() })?;
        w.sync()?;
        Ok(w)
    }

    /// Opens the journal of an interrupted run to go on writing it. Returns
    /// the writer and the next sequence number. A torn last line is cut off.
    pub fn reopen(path: &Path) -> Result<(JournalWriter, u64), StoreError> {
        let contents = read_journal(path)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| StoreError::io(path, e))?;
        let bytes = std::fs::read(path).map_err(|e| StoreError::io(path, e))?;
        let len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) as u64;
        file.set_len(len).map_err(|e| StoreError::io(path, e))?;
        let chain = contents
            .hashes
            .iter()
            .rev()
            .find_map(Clone::clone)
            .unwrap_or_else(|| crate::chain::genesis(&contents.meta.id));
        let next = contents.events.last().map_or(1, |e| e.seq + 1);
        Ok((
            JournalWriter {
                file,
                path: path.to_path_buf(),
                len,
                pending: Vec::new(),
                chain,
            },
            next,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lines waiting for disk space.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Appends one event and syncs it to disk. On failure the event is kept
    /// in memory and written before the next one.
    pub fn append(&mut self, event: &Event) -> Result<(), StoreError> {
        self.chain = crate::chain::link(&self.chain, event);
        self.push_line(&Line::Event {
            event: event.clone(),
            hash: Some(self.chain.clone()),
        })?;
        self.sync()
    }

    /// Writes the closing line and gives back the reserved space.
    pub fn finish(&mut self, status: RunStatus, ended_at_ms: i64) -> Result<(), StoreError> {
        self.push_line(&Line::End {
            status,
            ended_at_ms,
        })?;
        self.sync()?;
        let _ = self.file.set_len(self.len);
        Ok(())
    }

    fn push_line(&mut self, line: &Line) -> Result<(), StoreError> {
        let mut bytes = serde_json::to_vec(line).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        bytes.push(b'\n');
        self.pending.push(bytes);
        self.write_pending()
    }

    /// Tries again to write what a full disk held back.
    pub fn write_pending(&mut self) -> Result<(), StoreError> {
        while let Some(line) = self.pending.first() {
            if let Err(e) = self.file.write_all_at(line, self.len) {
                // Cut a half-written line back off, so the file stays a
                // sequence of whole lines.
                let _ = self.file.set_len(self.len);
                return Err(StoreError::io(&self.path, e));
            }
            self.len += line.len() as u64;
            self.pending.remove(0);
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        self.file
            .sync_data()
            .map_err(|e| StoreError::io(&self.path, e))
    }
}

/// What a journal file holds.
#[derive(Debug)]
pub struct JournalContents {
    pub meta: RunMeta,
    pub events: Vec<Event>,
    /// Each event's hash-chain link, as written.
    pub hashes: Vec<Option<String>>,
    /// The closing line, if the run ended on its own.
    pub end: Option<(RunStatus, i64)>,
    /// Lines that could not be read (a torn last line after a crash).
    pub skipped_lines: usize,
    pub bytes: u64,
}

/// Reads a journal, tolerating a torn last line.
pub fn read_journal(path: &Path) -> Result<JournalContents, StoreError> {
    let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut meta = None;
    let mut events = Vec::new();
    let mut hashes = Vec::new();
    let mut end = None;
    let mut skipped = 0;
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(|e| StoreError::io(path, e))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Line>(&line) {
            Ok(Line::Run { run }) => meta = Some(run),
            Ok(Line::Event { event, hash }) => {
                events.push(event);
                hashes.push(hash);
            }
            Ok(Line::End {
                status,
                ended_at_ms,
            }) => end = Some((status, ended_at_ms)),
            Err(_) => skipped += 1,
        }
    }
    let meta =
        meta.ok_or_else(|| StoreError::Corrupt(format!("{} has no run header", path.display())))?;
    Ok(JournalContents {
        meta,
        events,
        hashes,
        end,
        skipped_lines: skipped,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacit_core::EventBody;

    pub(crate) fn meta(id: &str) -> RunMeta {
        RunMeta {
            id: id.into(),
            name: "deploy-web".into(),
            shell: "bash".into(),
            started_at_ms: 1,
            ended_at_ms: None,
            status: RunStatus::Recording,
            host: "h".into(),
            user: "u".into(),
            start_cwd: "/".into(),
            recorder_pid: Some(1),
            tacit_version: "0".into(),
            cols: 80,
            rows: 24,
            sop_id: None,
            sop_version: None,
            imported_at_ms: None,
        }
    }

    fn note(seq: u64) -> Event {
        Event {
            seq,
            at_ms: seq as i64,
            body: EventBody::Note {
                text: format!("n{seq}"),
            },
        }
    }

    #[test]
    fn written_events_read_back_and_a_torn_tail_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = JournalWriter::create(dir.path(), &meta("r1")).unwrap();
        w.append(&note(1)).unwrap();
        w.append(&note(2)).unwrap();
        // Simulate a crash in the middle of a write.
        let path = w.path().to_path_buf();
        drop(w);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut f, br#"{"type":"event","event":{"seq":3,"#).unwrap();
        let j = read_journal(&path).unwrap();
        assert_eq!(j.events, vec![note(1), note(2)]);
        assert_eq!(j.skipped_lines, 1);
        assert!(j.end.is_none());
    }

    #[test]
    fn finish_writes_the_end_and_releases_reserved_space() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = JournalWriter::create(dir.path(), &meta("r2")).unwrap();
        w.append(&note(1)).unwrap();
        w.finish(RunStatus::Completed, 99).unwrap();
        let j = read_journal(w.path()).unwrap();
        assert_eq!(j.end, Some((RunStatus::Completed, 99)));
        assert_eq!(std::fs::metadata(w.path()).unwrap().len(), j.bytes);
    }

    #[test]
    fn a_journal_without_header_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, b"\xff\xfe garbage\n{}\n").unwrap();
        assert!(matches!(read_journal(&p), Err(StoreError::Corrupt(_))));
    }
}
