//! `tacit login` and `tacit sync`: this library and the team server.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tacit_core::Paths;
use tacit_library::LibraryError;
use tacit_library::sync::{Remote, RunUpload, VersionOutcome, VersionUpload};
use tacit_store::Proposal;

/// Where `tacit login` keeps the server and token: beside the config,
/// readable only by the user.
fn remote_file(paths: &Paths) -> PathBuf {
    paths
        .config
        .parent()
        .map(|p| p.join("remote.toml"))
        .unwrap_or_else(|| PathBuf::from("remote.toml"))
}

#[derive(Serialize, Deserialize)]
struct Login {
    url: String,
    token: String,
}

fn read_token() -> Result<String> {
    let mut line = String::new();
    if std::io::stdin().is_terminal() {
        eprint!("API token (it is not shown): ");
        let _ = std::io::stderr().flush();
        use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
        let fd = rustix::stdio::stdin();
        let saved = tcgetattr(fd).ok();
        if let Some(t) = &saved {
            let mut quiet = t.clone();
            quiet.local_modes.remove(LocalModes::ECHO);
            let _ = tcsetattr(fd, OptionalActions::Now, &quiet);
        }
        let read = std::io::stdin().read_line(&mut line);
        if let Some(t) = &saved {
            let _ = tcsetattr(fd, OptionalActions::Now, t);
        }
        eprintln!();
        read?;
    } else {
        std::io::stdin().read_line(&mut line)?;
    }
    Ok(line.trim().to_string())
}

pub fn login(paths: &Paths, url: String, token: Option<String>) -> Result<ExitCode> {
    let url = url.trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(crate::UsageError(format!(
            "\"{url}\" is not a server address: give http://host:port or https://host"
        ))
        .into());
    }
    let token = match token {
        Some(t) => t,
        None => read_token()?,
    };
    if token.is_empty() {
        bail!("no token given: pass --token, or type it when asked");
    }
    let client = Http::new(&url, &token).patient(Duration::from_secs(5));
    let me = client
        .get_json("/api/me")
        .with_context(|| format!("cannot log in to {url}"))?;
    let file = remote_file(paths);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let text = toml::to_string(&Login {
        url: url.clone(),
        token,
    })?;
    write_private(&file, &text).with_context(|| format!("cannot write {}", file.display()))?;
    println!(
        "Logged in to {url} as {} ({}). `tacit sync` moves runs and SOPs both ways.",
        me["user"].as_str().unwrap_or("?"),
        me["role"].as_str().unwrap_or("?")
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes a file only its owner can read (the token is a credential).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

pub fn sync(paths: &Paths, json: bool) -> Result<ExitCode> {
    let file = remote_file(paths);
    let login: Login = match std::fs::read_to_string(&file) {
        Ok(text) => toml::from_str(&text).with_context(|| {
            format!("{} is damaged: run `tacit login URL` again", file.display())
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(crate::UsageError(
                "not logged in to a server: run `tacit login URL` first".into(),
            )
            .into());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let config = crate::record::load_config(paths)?;
    let redactor = crate::record::redactor(&config)?;
    let report = rt.block_on(async {
        let store = crate::runs::open_synced(paths).await?;
        let remote = Http::new(&login.url, &login.token);
        let report = tacit_library::sync::sync(&store, &remote, &redactor).await;
        store.close().await;
        anyhow::Ok(report?)
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Synced with {}: {} run(s) sent, {} received; {} SOP version(s) sent, {} received; {} proposal(s) sent.",
        login.url,
        report.runs_pushed,
        report.runs_pulled,
        report.versions_pushed,
        report.versions_pulled,
        report.proposals_pushed
    );
    for (id, v) in &report.proposed {
        println!("  {id} v{v} differs from the server's: it waits for the owner as a proposal.");
    }
    for id in &report.diverged {
        println!(
            "  {id}: the server has newer versions made from a different history; they stay there until the owner decides."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The team server over HTTP, as sync's [`Remote`]. A dropped connection
/// or a restarting server is retried for up to a minute, so an
/// interrupted sync carries on where it was (every step is idempotent).
#[derive(Clone)]
pub struct Http {
    base: String,
    token: String,
    agent: ureq::Agent,
    /// How long an unreachable or failing server is retried.
    patience: Duration,
}

fn remote_err(e: impl std::fmt::Display) -> LibraryError {
    LibraryError::Invalid(e.to_string())
}

impl Http {
    pub fn new(base: &str, token: &str) -> Http {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Http {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            agent,
            patience: Duration::from_secs(60),
        }
    }

    /// Retries for `d` instead of a minute (a login, a live share).
    fn patient(mut self, d: Duration) -> Http {
        self.patience = d;
        self
    }

    /// One request, retried while the server cannot be reached or answers
    /// 5xx; a 4xx is an answer and is returned as an error with its text.
    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<Value, LibraryError> {
        let url = format!("{}{path}", self.base);
        let deadline = Instant::now() + self.patience;
        let mut wait = Duration::from_millis(100);
        loop {
            let auth = format!("Bearer {}", self.token);
            let result = match (method, &body) {
                ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
                (_, Some(b)) => self
                    .agent
                    .post(&url)
                    .header("Authorization", &auth)
                    .content_type("application/json")
                    .send(b.as_str()),
                (_, None) => self
                    .agent
                    .post(&url)
                    .header("Authorization", &auth)
                    .content_type("application/json")
                    .send("{}"),
            };
            let retry = match result {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let text = resp
                        .body_mut()
                        .with_config()
                        .limit(256 * 1024 * 1024)
                        .read_to_string()
                        .map_err(remote_err)?;
                    if status < 400 {
                        return serde_json::from_str(&text).map_err(|e| {
                            LibraryError::Invalid(format!(
                                "{url} answered with something that is not JSON: {e}"
                            ))
                        });
                    }
                    let message = serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                        .unwrap_or(text);
                    if status < 500 {
                        return Err(LibraryError::Invalid(format!("{url}: {status}: {message}")));
                    }
                    format!("{status}: {message}")
                }
                Err(e) => e.to_string(),
            };
            if Instant::now() >= deadline {
                return Err(LibraryError::Invalid(format!(
                    "{url} did not answer ({retry}); run `tacit sync` again later: it carries on where it stopped"
                )));
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_secs(3));
        }
    }

    fn get_json(&self, path: &str) -> Result<Value, LibraryError> {
        self.request("GET", path, None)
    }

    async fn call(
        &self,
        method: &'static str,
        path: String,
        body: Option<String>,
    ) -> Result<Value, LibraryError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.request(method, &path, body))
            .await
            .map_err(remote_err)?
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, LibraryError> {
    serde_json::from_value(v)
        .map_err(|e| LibraryError::Invalid(format!("the server's answer does not fit: {e}")))
}

fn json<T: Serialize>(v: &T) -> Result<String, LibraryError> {
    serde_json::to_string(v).map_err(remote_err)
}

impl Remote for Http {
    async fn run_sizes(&self) -> Result<BTreeMap<String, u64>, LibraryError> {
        let v = self.call("GET", "/api/sync/runs".into(), None).await?;
        parse(v["runs"].clone())
    }

    async fn push_run(&self, run: &RunUpload) -> Result<(), LibraryError> {
        self.call("POST", "/api/sync/runs".into(), Some(json(run)?))
            .await?;
        Ok(())
    }

    async fn pull_run(&self, id: &str) -> Result<RunUpload, LibraryError> {
        let path = format!("/api/sync/runs/{}", tacit_server::web::urlencode(id));
        parse(self.call("GET", path, None).await?)
    }

    async fn versions(&self) -> Result<Vec<(String, u32, String)>, LibraryError> {
        let v = self.call("GET", "/api/sync/versions".into(), None).await?;
        let rows: Vec<Value> = parse(v["versions"].clone())?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r["sop_id"].as_str().unwrap_or_default().to_string(),
                    r["version"].as_u64().unwrap_or_default() as u32,
                    r["fingerprint"].as_str().unwrap_or_default().to_string(),
                ))
            })
            .collect()
    }

    async fn push_version(&self, v: &VersionUpload) -> Result<VersionOutcome, LibraryError> {
        parse(
            self.call("POST", "/api/sync/versions".into(), Some(json(v)?))
                .await?,
        )
    }

    async fn pull_version(
        &self,
        sop_id: &str,
        version: u32,
    ) -> Result<VersionUpload, LibraryError> {
        let path = format!(
            "/api/sync/versions/{}/{version}",
            tacit_server::web::urlencode(sop_id)
        );
        parse(self.call("GET", path, None).await?)
    }

    async fn push_proposal(&self, p: &Proposal) -> Result<(), LibraryError> {
        self.call("POST", "/api/sync/proposals".into(), Some(json(p)?))
            .await?;
        Ok(())
    }
}

/// `--share`: sends a run's journal to the team server while it is being
/// written, so teammates can follow it live. It never gets in the way of
/// the work: it runs on its own thread, never prints while the terminal is
/// in use, and what it could not send, `tacit sync` sends later.
pub struct Share {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<Option<String>>,
    url: String,
}

/// How often the journal is looked at for new events to send.
const SHARE_EVERY: Duration = Duration::from_millis(300);

impl Share {
    /// Whether sharing can start: logged in, and the server takes the
    /// token. Checked before a run writes anything.
    pub fn check(paths: &Paths) -> Result<()> {
        Self::connect(paths).map(|_| ())
    }

    fn connect(paths: &Paths) -> Result<(Http, String)> {
        let file = remote_file(paths);
        let login: Login = match std::fs::read_to_string(&file) {
            Ok(text) => toml::from_str(&text).with_context(|| {
                format!("{} is damaged: run `tacit login URL` again", file.display())
            })?,
            Err(_) => {
                return Err(crate::UsageError(
                    "--share needs a team server: run `tacit login URL` first".into(),
                )
                .into());
            }
        };
        let http = Http::new(&login.url, &login.token).patient(Duration::from_secs(5));
        // Check the token now, while a message can still be read.
        http.get_json("/api/me")
            .with_context(|| format!("cannot share with {}", login.url))?;
        Ok((http, login.url))
    }

    /// Starts sharing the run whose journal is `journal`; an error when
    /// not logged in to a server.
    pub fn start(paths: &Paths, journal: PathBuf) -> Result<Share> {
        let (http, url) = Self::connect(paths)?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut sent = 0u64;
            let mut failure = None;
            loop {
                let stopping = flag.load(std::sync::atomic::Ordering::Relaxed);
                if let Ok(journal) = tacit_store::journal::read_journal(&journal) {
                    let mut meta = journal.meta.clone();
                    if let Some((status, ended)) = journal.end {
                        meta.status = status;
                        meta.ended_at_ms = Some(ended);
                    }
                    let fresh: Vec<tacit_library::sync::LinkedEvent> = journal
                        .events
                        .iter()
                        .zip(&journal.hashes)
                        .filter(|(e, _)| e.seq > sent)
                        .map(|(e, h)| tacit_library::sync::LinkedEvent {
                            event: e.clone(),
                            hash: h.clone(),
                        })
                        .collect();
                    let last = fresh.last().map(|l| l.event.seq);
                    if last.is_some() || stopping || sent == 0 {
                        let upload = RunUpload {
                            meta,
                            events: fresh,
                        };
                        match json(&upload)
                            .and_then(|b| http.request("POST", "/api/sync/runs", Some(b)))
                        {
                            Ok(_) => {
                                sent = last.unwrap_or(sent);
                                failure = None;
                            }
                            Err(e) => failure = Some(e.to_string()),
                        }
                    }
                }
                if stopping {
                    return failure;
                }
                std::thread::sleep(SHARE_EVERY);
            }
        });
        Ok(Share { stop, handle, url })
    }

    /// Sends what is left (the run's end included) and says how it went.
    pub fn finish(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        match self.handle.join() {
            Ok(None) => eprintln!("Shared with {}.", self.url),
            Ok(Some(e)) => eprintln!(
                "tacit: could not share everything with {} ({e}); `tacit sync` sends the rest",
                self.url
            ),
            Err(_) => eprintln!("tacit: sharing stopped early; `tacit sync` sends the run"),
        }
    }
}
