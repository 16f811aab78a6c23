//! Configuration: built-in defaults, then an optional TOML file, then
//! `LECTERN_…` environment variables (nested keys joined by `__`, e.g.
//! `LECTERN_HTTP__LISTEN=0.0.0.0:8080`). Unknown keys are errors that name
//! the key, so a typo never silently falls back to a default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the database and all other state live.
    pub data_dir: PathBuf,
    /// The URL users reach Lectern at (issuer of tokens). Defaults to
    /// `http://<http.listen>`.
    pub public_url: Option<String>,
    pub http: Http,
    pub auth: Auth,
    pub log: Log,
    pub storage: Storage,
    pub plugins: Plugins,
    pub bus: Bus,
    pub email: Email,
    pub webhooks: Webhooks,
    /// `[audit]`: how long the audit log keeps entries.
    pub audit: Audit,
    /// `[secrets]`: the key that seals signing keys and other secrets at rest.
    pub secrets: Secrets,
    pub media: Media,
    /// The AI tutor: `[tutor]` (limits), `[tutor.embed]` (lexical, minilm or
    /// openai) and `[tutor.chat]` (an OpenAI-compatible generator, optional).
    pub tutor: lectern_core::tutor::TutorSettings,
    /// `[marketplace]`: where plugins are installed from (`url`), the pinned
    /// root of trust (`root`), and plugins to install at start (`install`).
    pub marketplace: lectern_core::marketplace::MarketplaceSettings,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Bus {
    /// `pulsar://host:6650` to use an Apache Pulsar cluster (needs a build
    /// with `--features pulsar`); empty uses the embedded log in `data_dir`.
    pub pulsar_url: String,
    /// Deliveries of a submission to the grading plugin before it is dead-lettered.
    pub grading_max_attempts: u32,
    pub grading_base_delay_ms: u64,
    /// Deliveries before other work (certificates, notifications, webhooks) is dead-lettered.
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_secs: u64,
    /// A handler running longer than this counts as a failed attempt.
    pub handler_timeout_secs: u64,
}

impl Default for Bus {
    fn default() -> Self {
        Bus {
            pulsar_url: String::new(),
            grading_max_attempts: 5,
            grading_base_delay_ms: 1000,
            max_attempts: 8,
            base_delay_ms: 500,
            max_delay_secs: 300,
            handler_timeout_secs: 30,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Email {
    /// The SMTP relay; empty sends no email (in-app notifications still work).
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: lectern_core::workers::TlsMode,
    pub username: String,
    pub password: String,
    /// The sender, e.g. `Lectern <no-reply@example.org>`.
    pub from: String,
    pub timeout_secs: u64,
}

impl Default for Email {
    fn default() -> Self {
        Email {
            smtp_host: String::new(),
            smtp_port: 587,
            tls: lectern_core::workers::TlsMode::StartTls,
            username: String::new(),
            password: String::new(),
            from: "Lectern <no-reply@localhost>".into(),
            timeout_secs: 30,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Webhooks {
    pub timeout_secs: u64,
    /// Lets webhooks reach loopback and private networks (off: a tenant could
    /// otherwise make the server probe its own network).
    pub allow_private_addresses: bool,
}

impl Default for Webhooks {
    fn default() -> Self {
        Webhooks { timeout_secs: 10, allow_private_addresses: false }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Secrets {
    /// The sealing key as 64 hex digits; best given as `LECTERN_SECRETS__KEY`.
    /// Empty reads `key_file`.
    pub key: String,
    /// The key file; empty is `<data_dir>/secrets.key`, created with a random
    /// key on first start. Keep a copy apart from the backups: a backup's
    /// secrets open only with it.
    pub key_file: Option<PathBuf>,
    /// After a rotation, the previous keys' files: still read, and every
    /// secret is resealed under the new key at start.
    pub previous_key_files: Vec<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Audit {
    /// Audit entries older than this many days are removed (the chain keeps
    /// an anchor, so what remains still verifies); `0` keeps everything.
    pub retention_days: u64,
}

impl Default for Audit {
    fn default() -> Self {
        Audit { retention_days: 730 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Media {
    /// Largest media upload or course archive, in MiB.
    pub max_upload_mib: u64,
}

impl Default for Media {
    fn default() -> Self {
        Media { max_upload_mib: 2048 }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Plugins {
    /// Plugin instances that may run at once (the pooling allocator's size).
    pub max_concurrent_instances: u32,
    /// Upper bound on any plugin's memory; manifests ask for less.
    pub max_memory_mib: u32,
    /// Granularity of call deadlines.
    pub epoch_tick_ms: u64,
    /// Instruction budget of a grading call when its manifest sets none.
    pub grading_fuel: u64,
    /// Consecutive faults that switch a plugin off, and the first backoff.
    pub breaker_threshold: u32,
    pub breaker_backoff_secs: u64,
    /// Memory of each plugin slot kept resident between calls and reset in
    /// place (0, the default: unmapped and faulted in again, wasmtime's
    /// default). Faster fresh instances, but experimental: see
    /// BENCHMARKS.md, "Sixth pass", for an unexplained test failure with it on.
    pub memory_keep_resident_kib: u32,
    /// Idle warm instances kept per plugin version for plugins whose manifest
    /// opts in with `resources.reuse_calls` (the others get a fresh instance
    /// per call); 0 turns reuse off for every plugin.
    pub warm_instances: u32,
    /// Install the first-party plugins built into this binary at start (each
    /// version once) and make them the platform default of a slot that has
    /// none. Institutions' own choices are never changed.
    pub first_party: bool,
}

impl Default for Plugins {
    fn default() -> Self {
        Plugins {
            max_concurrent_instances: 256,
            max_memory_mib: 256,
            epoch_tick_ms: 10,
            grading_fuel: 500_000_000,
            breaker_threshold: 5,
            breaker_backoff_secs: 5,
            memory_keep_resident_kib: 0,
            warm_instances: 8,
            first_party: true,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Http {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    /// After SIGTERM/SIGINT, how long in-flight requests get to finish.
    pub shutdown_grace_secs: u64,
    pub cors_origins: Vec<String>,
    pub secure_cookies: bool,
    pub trust_forwarded_for: bool,
    /// The built web application (a Vite build: `web/dist`), served at `/`.
    /// Unset: `./web/dist` when it holds a build, else the server runs without pages.
    pub web_root: Option<PathBuf>,
    /// Connections the OS queues before the server accepts them. Unset: the
    /// OS maximum (`net.core.somaxconn`, 4,096 when it cannot be read), so a
    /// burst of new connections (an exam starting) is queued, not refused.
    pub listen_backlog: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth {
    pub audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub session_idle_secs: i64,
    pub session_absolute_secs: i64,
    pub login_attempts_per_minute: u32,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `lectern_api=debug,info`.
    pub filter: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    /// sled page cache; `0` keeps sled's default.
    pub cache_capacity_mib: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./lectern-data"),
            public_url: None,
            http: Http::default(),
            auth: Auth::default(),
            log: Log::default(),
            storage: Storage::default(),
            plugins: Plugins::default(),
            bus: Bus::default(),
            email: Email::default(),
            webhooks: Webhooks::default(),
            audit: Audit::default(),
            secrets: Secrets::default(),
            media: Media::default(),
            tutor: Default::default(),
            marketplace: Default::default(),
        }
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            shutdown_grace_secs: 30,
            cors_origins: vec![],
            secure_cookies: false,
            trust_forwarded_for: false,
            web_root: None,
            listen_backlog: None,
        }
    }
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            audience: "lectern-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            session_idle_secs: 2 * 3600,
            session_absolute_secs: 12 * 3600,
            login_attempts_per_minute: 30,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log { format: LogFormat::Pretty, filter: "info".into() }
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage { cache_capacity_mib: 256 }
    }
}

const TOP_LEVEL: &[&str] = &[
    "data_dir",
    "public_url",
    "http",
    "auth",
    "log",
    "storage",
    "plugins",
    "bus",
    "email",
    "webhooks",
    "audit",
    "secrets",
    "media",
    "tutor",
    "marketplace",
];

impl Config {
    /// Loads defaults ← file (if given, or `./lectern.toml` if present) ← environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) => {
                if !f.exists() {
                    bail!("configuration file {} does not exist", f.display());
                }
                fig = fig.merge(Toml::file_exact(f));
            }
            None if Path::new("lectern.toml").exists() => fig = fig.merge(Toml::file_exact("lectern.toml")),
            None => {}
        }
        // Only variables that name a known section are configuration; others
        // (LECTERN_TEST_…, LECTERN_BLESS) belong to tooling.
        let env = Env::prefixed("LECTERN_").split("__").filter(|k| {
            // Keys arrive split but not yet lower-cased.
            let top = k.as_str().split('.').next().unwrap_or("").to_ascii_lowercase();
            TOP_LEVEL.contains(&top.as_str())
        });
        let config: Config = fig.merge(env).extract().map_err(|e| {
            let mut msg = String::new();
            for err in e {
                if !msg.is_empty() {
                    msg.push('\n');
                }
                msg.push_str(&describe(&err));
            }
            anyhow::anyhow!("invalid configuration:\n{msg}")
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.marketplace.enabled() && self.marketplace.root.is_none() {
            bail!(
                "invalid configuration: key `marketplace.root`: a marketplace (`marketplace.url`) needs a pinned root of trust: the path of its root.json"
            );
        }
        if let Some(u) = &self.public_url {
            let parsed = url_ok(u);
            if !parsed {
                bail!("invalid configuration: key `public_url`: `{u}` is not an http(s) URL");
            }
        }
        if self.auth.access_token_ttl_secs < 60 || self.auth.access_token_ttl_secs > 24 * 3600 {
            bail!("invalid configuration: key `auth.access_token_ttl_secs` must be between 60 and 86400");
        }
        if self.auth.session_idle_secs <= 0 || self.auth.session_absolute_secs < self.auth.session_idle_secs {
            bail!(
                "invalid configuration: keys `auth.session_idle_secs` and `auth.session_absolute_secs` must be positive with absolute ≥ idle"
            );
        }
        if self.plugins.max_concurrent_instances == 0
            || self.plugins.max_memory_mib == 0
            || self.plugins.epoch_tick_ms == 0
        {
            bail!(
                "invalid configuration: keys `plugins.max_concurrent_instances`, `plugins.max_memory_mib` and `plugins.epoch_tick_ms` must be positive"
            );
        }
        if !self.bus.pulsar_url.is_empty()
            && !self.bus.pulsar_url.starts_with("pulsar://")
            && !self.bus.pulsar_url.starts_with("pulsar+ssl://")
        {
            bail!("invalid configuration: key `bus.pulsar_url` must start with pulsar:// or pulsar+ssl://");
        }
        if self.bus.grading_max_attempts == 0 || self.bus.max_attempts == 0 || self.bus.handler_timeout_secs == 0 {
            bail!("invalid configuration: keys `bus.*max_attempts` and `bus.handler_timeout_secs` must be positive");
        }
        if !self.email.smtp_host.is_empty() && self.email.from.trim().is_empty() {
            bail!("invalid configuration: key `email.from` is required when `email.smtp_host` is set");
        }
        if self.http.max_body_bytes < 1024 {
            bail!("invalid configuration: key `http.max_body_bytes` must be at least 1024");
        }
        lectern_core::password_hasher(
            self.auth.argon2_memory_kib,
            self.auth.argon2_iterations,
            self.auth.argon2_parallelism,
        )
        .context("invalid configuration: keys `auth.argon2_*`")?;
        Ok(())
    }

    pub fn issuer(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.http.listen),
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.http.request_timeout_secs.max(1))
    }

    /// The effective configuration as TOML, with secret-looking values redacted.
    pub fn render_redacted(&self) -> anyhow::Result<String> {
        let mut value = toml::Value::try_from(self)?;
        redact(&mut value, "");
        Ok(toml::to_string_pretty(&value)?)
    }
}

fn url_ok(u: &str) -> bool {
    (u.starts_with("http://") || u.starts_with("https://")) && u.len() > 8 && !u.contains(char::is_whitespace)
}

fn describe(e: &figment::Error) -> String {
    let key = if e.path.is_empty() { String::new() } else { format!("key `{}`: ", e.path.join(".")) };
    let source = e.metadata.as_ref().map(|m| format!(" (from {})", m.name)).unwrap_or_default();
    format!("{key}{}{source}", e.kind)
}

/// Replaces values of keys that look like secrets (`password`, `secret`,
/// `token` but not `*_ttl*`) and credentials embedded in URLs.
fn redact(v: &mut toml::Value, key: &str) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                redact(v, k);
            }
        }
        toml::Value::Array(a) => a.iter_mut().for_each(|v| redact(v, key)),
        toml::Value::String(s) => {
            let k = key.to_lowercase();
            let secret_key = (k.contains("password")
                || k.contains("secret")
                || k.contains("token")
                || k.ends_with("_key")
                || k == "key")
                && !k.contains("ttl");
            let url_with_credentials = s.contains("://")
                && s.split("://")
                    .nth(1)
                    .is_some_and(|rest| rest.split('/').next().is_some_and(|auth| auth.contains('@')));
            if secret_key || url_with_credentials {
                *s = "[redacted]".into();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        let mut v: toml::Value = toml::from_str(
            "[smtp]\npassword = 'hunter2'\nurl = 'smtp://user:pw@mail.example'\nhost = 'mail.example'\n[auth]\naccess_token_ttl_secs = 5\nsigning_key = 'abc'",
        )
        .unwrap();
        redact(&mut v, "");
        let s = toml::to_string(&v).unwrap();
        assert!(!s.contains("hunter2") && !s.contains("user:pw") && !s.contains("abc"), "{s}");
        assert!(s.contains("mail.example") && s.contains("access_token_ttl_secs = 5"), "{s}");
    }
}
