//! `config.toml`: what the user can tune. Every field has a default, so an
//! empty or missing file is a valid configuration.

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Parse { path: String, message: String },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub ask: AskConfig,
    pub capture: CaptureConfig,
    pub redact: RedactConfig,
    pub status: StatusConfig,
    pub llm: LlmConfig,
}

/// `[llm]`: an OpenAI-compatible chat model (Ollama, llama.cpp's server,
/// vLLM, OpenAI) that may reword drafts. Off unless `enabled`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    pub enabled: bool,
    /// Up to, not including, `/chat/completions`.
    pub base_url: String,
    pub model: String,
    /// The environment variable holding the API key (never the key itself
    /// in this file); unset or empty means no key (a local model).
    pub api_key_env: String,
    /// Seconds for one request.
    pub timeout_secs: u64,
    /// Extra attempts after a network failure, a timeout or a 5xx.
    pub retries: u32,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            enabled: false,
            base_url: "http://127.0.0.1:11434/v1".into(),
            model: String::new(),
            api_key_env: "TACIT_LLM_API_KEY".into(),
            timeout_secs: 120,
            retries: 1,
        }
    }
}

/// Thresholds for `tacit status --check`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatusConfig {
    /// Pending proposals older than this many days fail the check.
    pub proposal_max_days: u32,
}

impl Default for StatusConfig {
    fn default() -> Self {
        StatusConfig {
            proposal_max_days: 14,
        }
    }
}

/// When tacit asks "What did you do about this, and why?".
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AskConfig {
    pub enabled: bool,
    /// Exit codes that are not worth a question: 130 is Ctrl-C, 127 is a
    /// typo, 147-150 are a job stopped with Ctrl-Z (or SIGSTOP/SIGTTIN/SIGTTOU),
    /// which the operator resumes with `fg`.
    pub ignore_exit_codes: Vec<i32>,
    /// Regexes for risky command lines. Replaces the built-in list when set.
    pub risky_patterns: Vec<String>,
    /// Regexes added to `risky_patterns`.
    pub extra_risky_patterns: Vec<String>,
}

impl Default for AskConfig {
    fn default() -> Self {
        AskConfig {
            enabled: true,
            ignore_exit_codes: vec![130, 127, 147, 148, 149, 150],
            risky_patterns: DEFAULT_RISKY_PATTERNS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            extra_risky_patterns: Vec::new(),
        }
    }
}

/// Commands that change or destroy state in ways that deserve a reason on the
/// record, even when they succeed.
pub const DEFAULT_RISKY_PATTERNS: &[&str] = &[
    // Deleting files, truncating them, stopping processes.
    // (In command position: after the start, a separator, or sudo/xargs.)
    r"(?:^\s*|[;&|(`]\s*|\b(?:sudo|doas|xargs|exec|nohup|time)\s+(?:-\S+\s+)*)rm\s",
    r"(?:^\s*|[;&|(`]\s*|\b(?:sudo|doas|xargs|exec|nohup|time)\s+(?:-\S+\s+)*)(shred|truncate)\s",
    r"(?:^\s*|[;&|(`]\s*|\b(?:sudo|doas|xargs|exec|nohup|time)\s+(?:-\S+\s+)*)(kill|pkill|killall)\s",
    // SQL that destroys data: DROP, TRUNCATE, DELETE without WHERE.
    r"(?i)\bdrop\s+(table|database|schema|index|view|user|role|owned|materialized)\b",
    r"(?i)\btruncate\s+(table\s+)?[\w.]",
    r#"(?i)\bdelete\s+from\s+[\w."]+\s*(;|"|'|$)"#,
    r"(^|\s)--force(-with-lease)?\b",
    r"\bgit\s+push\b.*\s(-f|-[a-zA-Z]*f[a-zA-Z]*)\b",
    r"\bgit\s+reset\s+--hard\b",
    r"\bgit\s+clean\s+(.*\s)?-[a-zA-Z]*f",
    r"\bkubectl\s+(delete|drain|replace\s+--force)\b",
    r"\bhelm\s+(uninstall|delete)\b",
    r"\bterraform\s+(destroy|force-unlock)\b",
    r"\bsystemctl\s+(stop|restart|disable|kill|mask)\b",
    r"\bdd\s+.*\bof=",
    r"\bmkfs(\.\w+)?\b",
    r"\b(chmod|chown|chgrp)\s+(.*\s)?(-[a-zA-Z]*R[a-zA-Z]*|--recursive)\b",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptureConfig {
    /// Raw output bytes kept per command: half from the head, half from the
    /// tail. What falls between is counted, not kept.
    pub max_output_bytes: usize,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            max_output_bytes: 128 * 1024,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedactConfig {
    /// Extra secret patterns: `[[redact.rules]] name = "…" pattern = "…"`.
    pub rules: Vec<RedactRule>,
}

/// A user's own secret pattern. The name becomes the marker kind:
/// `[REDACTED:<name>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactRule {
    pub name: String,
    pub pattern: String,
}

impl Config {
    /// Loads the file at `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// All risky-command regexes in force.
    pub fn risky_patterns(&self) -> Vec<String> {
        let mut all = self.ask.risky_patterns.clone();
        all.extend(self.ask.extra_risky_patterns.iter().cloned());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::parse("").unwrap();
        assert!(c.ask.enabled);
        assert_eq!(c.ask.ignore_exit_codes, vec![130, 127, 147, 148, 149, 150]);
        assert_eq!(c.capture.max_output_bytes, 128 * 1024);
    }

    #[test]
    fn user_rules_and_patterns_load() {
        let c = Config::parse(
            r#"
[ask]
ignore_exit_codes = [1]
extra_risky_patterns = ['\bdeploy-prod\b']

[[redact.rules]]
name = "internal-ticket-token"
pattern = 'itk_[a-z0-9]{8}'
"#,
        )
        .unwrap();
        assert_eq!(c.ask.ignore_exit_codes, vec![1]);
        assert!(c.risky_patterns().iter().any(|p| p.contains("deploy-prod")));
        assert_eq!(c.redact.rules[0].name, "internal-ticket-token");
    }

    #[test]
    fn malformed_file_names_the_line() {
        let err = Config::parse("[ask]\nenabled = maybe\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused_not_ignored() {
        assert!(Config::parse("[ask]\nenabeld = false\n").is_err());
        // A key in the file is refused: it comes from the environment.
        assert!(Config::parse("[llm]\napi_key = \"sk-1\"\n").is_err());
    }

    #[test]
    fn the_model_is_off_unless_turned_on() {
        let c = Config::parse("").unwrap();
        assert!(!c.llm.enabled);
        let c = Config::parse(
            "[llm]\nenabled = true\nmodel = \"qwen2.5:7b\"\nbase_url = \"http://gpu:8000/v1\"\ntimeout_secs = 30\n",
        )
        .unwrap();
        assert!(c.llm.enabled);
        assert_eq!(c.llm.model, "qwen2.5:7b");
        assert_eq!(c.llm.api_key_env, "TACIT_LLM_API_KEY");
        assert_eq!((c.llm.timeout_secs, c.llm.retries), (30, 1));
    }

    #[test]
    fn default_risky_patterns_compile_and_match_the_issue_list() {
        let set = regex::RegexSet::new(DEFAULT_RISKY_PATTERNS).unwrap();
        for risky in [
            "rm -rf build",
            "rm -r /tmp/x",
            "psql -c 'DROP TABLE orders'",
            "git push -f origin main",
            "git push --force",
            "kubectl delete pod x",
            "terraform destroy",
            "sudo systemctl restart nginx",
            "systemctl stop app",
            // Removing a file is destructive too, even behind a guard.
            "ps -p 4242 || rm ../state/migrate.lock",
        ] {
            assert!(set.is_match(risky), "{risky} should be risky");
        }
        for safe in [
            "./deploy/migrate.sh",
            "git pull",
            "cat ../state/migrate.lock",
            "./deploy/build.sh 1.4.2",
        ] {
            assert!(!set.is_match(safe), "{safe} should not be risky");
        }
    }
}
