//! Where tacit keeps its files, following the XDG base directories.
//!
//! `TACIT_DB`, `TACIT_DATA_DIR` and `TACIT_CONFIG` override the defaults so a
//! test, a demo or a second library never touches the user's own data.

use std::path::{Path, PathBuf};

use etcetera::BaseStrategy;

#[derive(Debug, Clone)]
pub struct Paths {
    /// `$XDG_DATA_HOME/tacit`: the database and the journals.
    pub data_dir: PathBuf,
    /// The SQLite database file.
    pub db: PathBuf,
    /// `$XDG_CONFIG_HOME/tacit/config.toml`.
    pub config: PathBuf,
}

impl Paths {
    /// Resolves the paths from the environment. `db_override` is `--db`.
    pub fn resolve(db_override: Option<&Path>) -> Paths {
        let strategy = etcetera::choose_base_strategy().ok();
        let data_dir = std::env::var_os("TACIT_DATA_DIR")
            .map(PathBuf::from)
            .or_else(|| strategy.as_ref().map(|s| s.data_dir().join("tacit")))
            .unwrap_or_else(|| std::env::temp_dir().join("tacit-data"));
        let db = db_override
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("TACIT_DB").map(PathBuf::from))
            .unwrap_or_else(|| data_dir.join("tacit.db"));
        let config = std::env::var_os("TACIT_CONFIG")
            .map(PathBuf::from)
            .or_else(|| {
                strategy
                    .as_ref()
                    .map(|s| s.config_dir().join("tacit").join("config.toml"))
            })
            .unwrap_or_else(|| PathBuf::from("/etc/tacit/config.toml"));
        Paths {
            data_dir,
            db,
            config,
        }
    }

    /// Journals live beside the database they feed, so two libraries
    /// (`--db a.db`, `--db b.db`) never replay each other's runs.
    pub fn journal_dir(&self) -> PathBuf {
        let parent = self
            .db
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let stem = self
            .db
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tacit".into());
        parent.join(format!("{stem}.journal"))
    }

    /// A private folder for the per-session control sockets and shell
    /// integration files. Unix socket paths are limited to ~100 bytes, so this
    /// prefers the short runtime dir over the data dir.
    pub fn runtime_dir() -> PathBuf {
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let uid = rustix_uid();
        base.join(format!("tacit-{uid}"))
    }
}

fn rustix_uid() -> u32 {
    // SAFETY-free: reading our own uid through std's metadata of /proc/self
    // would need a file; the environment is good enough for a folder name.
    std::env::var("UID")
        .ok()
        .and_then(|u| u.parse().ok())
        .unwrap_or_else(|| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata("/proc/self")
                .map(|m| m.uid())
                .unwrap_or(0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_dir_sits_beside_the_database() {
        let p = Paths {
            data_dir: "/d".into(),
            db: "/x/y/lib.db".into(),
            config: "/c".into(),
        };
        assert_eq!(p.journal_dir(), PathBuf::from("/x/y/lib.journal"));
    }
}
