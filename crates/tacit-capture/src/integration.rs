//! How each supported shell is started so that it loads the user's own rc
//! files *and* tacit's hooks, without editing any file of the user's.
//!
//! - bash: `bash --rcfile <ours> -i`; ours sources `/etc/bash.bashrc` and
//!   `~/.bashrc` first.
//! - zsh: `ZDOTDIR=<ours> zsh -i`; our `.zshenv` restores the user's ZDOTDIR
//!   so zsh goes on to read the user's `.zshrc` itself.
//! - fish: `fish -i --init-command 'source <ours>'`, which runs after
//!   `config.fish`.
//!
//! The generated files hold the session nonce, so they are written with mode
//! 0600 into a 0700 folder and removed when the session ends.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::CaptureError;

const BASH_RC: &str = include_str!("integration/tacit.bash");
const ZSH_ENV: &str = include_str!("integration/zshenv.zsh");
const FISH_INIT: &str = include_str!("integration/tacit.fish");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellKind {
    Bash,
    Zsh,
    Fish,
}

impl ShellKind {
    pub fn name(self) -> &'static str {
        match self {
            ShellKind::Bash => "bash",
            ShellKind::Zsh => "zsh",
            ShellKind::Fish => "fish",
        }
    }

    /// Recognises a shell from its path or name (`/usr/bin/zsh`, `-bash`).
    pub fn from_program(program: &str) -> Option<ShellKind> {
        let base = Path::new(program)
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match base.trim_start_matches('-') {
            "bash" => Some(ShellKind::Bash),
            "zsh" => Some(ShellKind::Zsh),
            "fish" => Some(ShellKind::Fish),
            _ => None,
        }
    }
}

/// A shell ready to spawn: program, arguments and extra environment.
#[derive(Debug, Clone)]
pub struct ShellLaunch {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
    /// Generated files, removed when the session ends.
    pub files: Vec<PathBuf>,
}

/// Finds `name` (or a path) on `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

pub(crate) fn write_private(path: &Path, content: &str) -> Result<(), CaptureError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| CaptureError::io(format!("writing {}", path.display()), e))?;
    f.write_all(content.as_bytes())
        .map_err(|e| CaptureError::io(format!("writing {}", path.display()), e))
}

/// Quotes `s` for a single-quoted shell string (bash, zsh and fish agree on
/// `'` being closed, escaped and reopened this way, except fish, which takes
/// `\'` inside quotes; both forms are produced by the caller's template).
fn single_quote_body(s: &str, kind: ShellKind) -> String {
    match kind {
        ShellKind::Fish => s.replace('\\', "\\\\").replace('\'', "\\'"),
        _ => s.replace('\'', "'\\''"),
    }
}

/// Writes the integration files for one session into `dir` and returns how to
/// start the shell.
pub fn prepare(
    kind: ShellKind,
    program: &Path,
    dir: &Path,
    nonce: &str,
    tacit_exe: &Path,
) -> Result<ShellLaunch, CaptureError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| CaptureError::io(format!("creating {}", dir.display()), e))?;
    let exe = single_quote_body(&tacit_exe.to_string_lossy(), kind);
    let fill = |template: &str| {
        template
            .replace("@NONCE@", nonce)
            .replace("@TACIT_EXE@", &exe)
    };
    let mut launch = ShellLaunch {
        program: program.to_path_buf(),
        args: Vec::new(),
        env: Vec::new(),
        files: Vec::new(),
    };
    match kind {
        ShellKind::Bash => {
            let rc = dir.join("tacit.bash");
            write_private(&rc, &fill(BASH_RC))?;
            launch.args = vec!["--rcfile".into(), rc.clone().into_os_string(), "-i".into()];
            launch.files.push(rc);
        }
        ShellKind::Zsh => {
            let zdot = dir.join("zsh");
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&zdot)
                .map_err(|e| CaptureError::io(format!("creating {}", zdot.display()), e))?;
            let env_file = zdot.join(".zshenv");
            write_private(&env_file, &fill(ZSH_ENV))?;
            if let Some(user) = std::env::var_os("ZDOTDIR") {
                launch.env.push(("__TACIT_USER_ZDOTDIR".into(), user));
            }
            launch
                .env
                .push(("ZDOTDIR".into(), zdot.clone().into_os_string()));
            launch.args = vec!["-i".into()];
            launch.files.push(env_file);
            launch.files.push(zdot);
        }
        ShellKind::Fish => {
            let init = dir.join("tacit.fish");
            write_private(&init, &fill(FISH_INIT))?;
            let quoted = single_quote_body(&init.to_string_lossy(), ShellKind::Fish);
            launch.args = vec![
                "-i".into(),
                "--init-command".into(),
                format!("source '{quoted}'").into(),
            ];
            launch.files.push(init);
        }
    }
    Ok(launch)
}

/// A shell ready for one session: its private folder, the nonce its marks
/// carry, and how to start it.
pub struct Session {
    pub nonce: String,
    pub dir: PathBuf,
    pub launch: ShellLaunch,
}

/// Creates the session's private folder (0700) under `runtime_dir` and the
/// integration files in it, with a fresh nonce.
pub fn prepare_session(
    kind: ShellKind,
    program: &Path,
    runtime_dir: &Path,
    session_id: &str,
    tacit_exe: &Path,
) -> Result<Session, CaptureError> {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let dir = runtime_dir.join(session_id);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| CaptureError::io(format!("creating {}", dir.display()), e))?;
    let launch = prepare(kind, program, &dir, &nonce, tacit_exe)?;
    Ok(Session { nonce, dir, launch })
}

impl ShellLaunch {
    /// Starts the shell on a new PTY of `cols` × `rows`, in `cwd`, with
    /// `env` added to the integration's own variables.
    pub fn spawn(
        &self,
        cwd: &Path,
        env: &[(OsString, OsString)],
        (cols, rows): (u16, u16),
    ) -> Result<(pty_process::Pty, tokio::process::Child), CaptureError> {
        let spawn_err = |message: String| CaptureError::Spawn {
            program: self.program.display().to_string(),
            message,
        };
        let (pty, pts) = pty_process::open().map_err(|e| spawn_err(e.to_string()))?;
        pty.resize(pty_process::Size::new(rows, cols))
            .map_err(|e| spawn_err(e.to_string()))?;
        let mut command = pty_process::Command::new(&self.program)
            .args(&self.args)
            .envs(self.env.iter().cloned())
            .envs(env.iter().cloned())
            .current_dir(cwd);
        if std::env::var_os("TERM").is_none() {
            command = command.env("TERM", "xterm-256color");
        }
        let child = command.spawn(pts).map_err(|e| spawn_err(e.to_string()))?;
        Ok((pty, child))
    }

    /// Removes the generated files; a failure here is not worth reporting.
    pub fn cleanup(&self) {
        for f in self.files.iter().rev() {
            if f.is_dir() {
                let _ = std::fs::remove_dir(f);
            } else {
                let _ = std::fs::remove_file(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells_are_recognised_from_their_paths() {
        assert_eq!(
            ShellKind::from_program("/usr/bin/zsh"),
            Some(ShellKind::Zsh)
        );
        assert_eq!(ShellKind::from_program("-bash"), Some(ShellKind::Bash));
        assert_eq!(ShellKind::from_program("fish"), Some(ShellKind::Fish));
        assert_eq!(ShellKind::from_program("/bin/dash"), None);
    }

    #[test]
    fn generated_files_carry_the_nonce_and_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile_dir();
        let launch = prepare(
            ShellKind::Bash,
            Path::new("/bin/bash"),
            &dir,
            "n0nce",
            Path::new("/opt/it's/tacit"),
        )
        .unwrap();
        let rc = std::fs::read_to_string(&launch.files[0]).unwrap();
        assert!(rc.contains("__tacit_nonce='n0nce'"));
        assert!(rc.contains(r"'/opt/it'\''s/tacit'"), "exe must stay quoted");
        let mode = std::fs::metadata(&launch.files[0])
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
        launch.cleanup();
        assert!(!launch.files[0].exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("tacit-integ-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }
}
