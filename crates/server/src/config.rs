//! Typed configuration: built-in defaults, then an optional TOML file, then environment
//! variables (`CR_…`, `__` between nested names, e.g. `CR_CACHE__TIMEOUT_MS=20`; plus the
//! conventional `DATABASE_URL` and `REDIS_URL`). Validated once at start with messages that
//! name the setting. Secrets are wrapped so `Debug` and logs never show them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// A secret string: `Debug` prints `[redacted]`.
#[derive(Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where embedded mode keeps its SQLite database, and every mode keeps originals (`files/`).
    pub data_dir: PathBuf,
    /// Address the HTTP server binds; port 0 picks a free port.
    pub listen: SocketAddr,
    /// `postgres://…` selects server mode; unset means SQLite under `data_dir`.
    pub database_url: Option<Secret>,
    /// `redis://…` selects Redis as the cache; unset means the in-process cache.
    pub redis_url: Option<Secret>,
    /// Connections in the database pool.
    pub database_max_connections: u32,
    /// Largest accepted upload, in bytes.
    pub max_upload_bytes: u64,
    /// API key of the platform admin created on an instance with no users. Unset: a key is
    /// generated and written to `<data_dir>/bootstrap-api-key` (mode 0600).
    pub bootstrap_api_key: Option<Secret>,
    /// Limits of the HTTP server.
    pub http: HttpConfig,
    pub cache: CacheConfig,
    /// Analysis workers, dispatch and reconciler.
    pub worker: WorkerConfig,
    /// Delivery of webhook events.
    pub webhooks: WebhooksConfig,
    /// The optional LLM pass of `review` (off unless `llm.url` is set).
    pub llm: LlmConfig,
    /// Request rate limits on the API, per API key and per client address.
    pub rate_limit: RateLimitConfig,
    /// Passwords, browser sessions, sign-in limits, invitations.
    pub auth: AuthConfig,
}

/// Accounts and sessions.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Argon2id cost: memory (KiB), passes, lanes. The defaults are OWASP's first choice.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// A session unused this long ends, s (each request pushes it back).
    pub session_idle_secs: u64,
    /// A session ends this long after sign-in however busy, s.
    pub session_absolute_secs: u64,
    /// Whether the session cookie is `Secure` (sent over HTTPS only). Turn off only to sign in
    /// over plain HTTP on this machine.
    pub cookie_secure: bool,
    /// Sign-in attempts per e-mail address and per client address, per `login_period_secs`.
    pub login_per_account: u32,
    pub login_per_ip: u32,
    pub login_period_secs: f64,
    /// How long an invitation can be accepted, s.
    pub invitation_ttl_secs: u64,
}

impl AuthConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (8..=4_194_304).contains(&self.argon2_memory_kib),
            "auth.argon2_memory_kib must be between 8 and 4194304"
        );
        anyhow::ensure!((1..=64).contains(&self.argon2_iterations), "auth.argon2_iterations must be between 1 and 64");
        anyhow::ensure!(
            (1..=16).contains(&self.argon2_parallelism) && self.argon2_memory_kib >= 8 * self.argon2_parallelism,
            "auth.argon2_parallelism must be between 1 and 16 (and argon2_memory_kib at least 8 per lane)"
        );
        anyhow::ensure!(
            (60..=30 * 86_400).contains(&self.session_idle_secs),
            "auth.session_idle_secs must be between 60 and 2592000"
        );
        anyhow::ensure!(
            (self.session_idle_secs..=90 * 86_400).contains(&self.session_absolute_secs),
            "auth.session_absolute_secs must be at least session_idle_secs and at most 7776000"
        );
        anyhow::ensure!(
            (1..=1000).contains(&self.login_per_account),
            "auth.login_per_account must be between 1 and 1000"
        );
        anyhow::ensure!((1..=10_000).contains(&self.login_per_ip), "auth.login_per_ip must be between 1 and 10000");
        anyhow::ensure!(
            (1.0..=86_400.0).contains(&self.login_period_secs),
            "auth.login_period_secs must be between 1 and 86400"
        );
        anyhow::ensure!(
            (60..=90 * 86_400).contains(&self.invitation_ttl_secs),
            "auth.invitation_ttl_secs must be between 60 and 7776000"
        );
        Ok(())
    }

    pub fn password_params(&self) -> cr_service::passwords::PasswordParams {
        cr_service::passwords::PasswordParams {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        }
    }

    pub fn account_settings(&self) -> cr_service::accounts::AccountSettings {
        let period = Duration::from_secs_f64(self.login_period_secs);
        cr_service::accounts::AccountSettings {
            session_idle: Duration::from_secs(self.session_idle_secs),
            session_absolute: Duration::from_secs(self.session_absolute_secs),
            login_per_account: cr_store::rate_limit::Quota { requests: self.login_per_account, period },
            login_per_ip: cr_store::rate_limit::Quota { requests: self.login_per_ip, period },
            invitation_ttl: Duration::from_secs(self.invitation_ttl_secs),
        }
    }
}

/// Request rate limits (GCRA: `requests` per `period_secs`, all of them at once at most).
/// Kept in Redis in server mode, so every instance shares them; in process otherwise and
/// while Redis fails.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub enabled: bool,
    /// Requests per period for one API key (presented, known or not).
    pub per_key_requests: u32,
    /// Requests per period from one client address, whatever key it sends.
    pub per_ip_requests: u32,
    /// Requests per period for one user, all its keys and sessions together.
    pub per_user_requests: u32,
    pub period_secs: f64,
}

impl RateLimitConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            (1..=1_000_000).contains(&self.per_key_requests),
            "rate_limit.per_key_requests must be between 1 and 1000000"
        );
        anyhow::ensure!(
            (1..=1_000_000).contains(&self.per_ip_requests),
            "rate_limit.per_ip_requests must be between 1 and 1000000"
        );
        anyhow::ensure!(
            (1..=1_000_000).contains(&self.per_user_requests),
            "rate_limit.per_user_requests must be between 1 and 1000000"
        );
        anyhow::ensure!(
            (0.1..=86_400.0).contains(&self.period_secs),
            "rate_limit.period_secs must be between 0.1 and 86400"
        );
        Ok(())
    }

    pub fn period(&self) -> Duration {
        Duration::from_secs_f64(self.period_secs)
    }

    pub fn per_key(&self) -> cr_store::rate_limit::Quota {
        cr_store::rate_limit::Quota { requests: self.per_key_requests, period: self.period() }
    }

    pub fn per_user(&self) -> cr_store::rate_limit::Quota {
        cr_store::rate_limit::Quota { requests: self.per_user_requests, period: self.period() }
    }

    pub fn per_ip(&self) -> cr_store::rate_limit::Quota {
        cr_store::rate_limit::Quota { requests: self.per_ip_requests, period: self.period() }
    }
}

/// An OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp's server, vLLM, …).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// Base URL, e.g. `http://127.0.0.1:11434` (Ollama) or `http://127.0.0.1:8000/v1`.
    /// Unset: no LLM pass.
    pub url: Option<String>,
    /// Model name sent with each request and recorded in the review.
    pub model: String,
    /// Bearer token, for endpoints that want one.
    pub api_key: Option<Secret>,
    /// Longest wait for an answer, ms; past it the review goes on without the pass.
    pub timeout_ms: u64,
    /// Most tokens the model may answer with.
    pub max_tokens: u32,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Longest wait for a receiver's answer, ms.
    pub timeout_ms: u64,
    /// Attempts before a delivery is given up as `failed` (it can still be redelivered).
    pub max_attempts: i32,
    /// First retry delay, ms (doubles per attempt, ± 50 % jitter).
    pub backoff_base_ms: u64,
    /// Longest retry delay, ms.
    pub backoff_max_ms: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// Whether `serve` runs analysis workers too (`contract-reviewer worker` always does).
    pub in_serve: bool,
    /// Analyses run at once per process; 0 means one per core.
    pub concurrency: usize,
    /// How long a claimed job stays with its worker without a renewal, s.
    pub lease_secs: f64,
    /// Claims of one job before it is given up as `dead`.
    pub max_attempts: i32,
    /// How often an idle worker looks in the database for due jobs, ms.
    pub poll_interval_ms: u64,
    /// First retry delay of a transient failure, ms (doubles per attempt, ± 50 % jitter).
    pub backoff_base_ms: u64,
    /// Longest retry delay, ms.
    pub backoff_max_ms: u64,
    /// How long SIGTERM lets in-flight analyses finish before handing them back, s.
    pub shutdown_grace_secs: f64,
    /// How often the reconciler re-queues jobs of dead workers and lost stream entries, ms.
    pub reconcile_interval_ms: u64,
    /// A queued job not claimed this long after it was put on the stream is sent again, s.
    pub redispatch_after_secs: f64,
    /// `thread`: analyses run in the worker process; `process`: each in a child process
    /// limited to `memory_limit_mib` of address space and `analysis_timeout_secs`.
    pub isolation: String,
    /// Address space of one isolated analysis, MiB.
    pub memory_limit_mib: u64,
    /// Longest isolated analysis before it is stopped (the document fails with `timeout`), s.
    pub analysis_timeout_secs: f64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Longest wait for a request's headers, and for the next request on an idle connection, s.
    pub header_read_timeout_secs: f64,
    /// Longest silence while a request body is arriving, s.
    pub body_idle_timeout_secs: f64,
    /// Longest time from a request's headers to its answer, s.
    pub request_timeout_secs: f64,
    /// The same for uploads (`POST /api/documents`), s.
    pub upload_timeout_secs: f64,
    /// Connections open at once.
    pub max_connections: usize,
    /// Header lines per request.
    pub max_header_lines: usize,
    /// Bytes of headers per request.
    pub max_header_bytes: usize,
    /// How long shutdown lets requests in flight finish before closing their connections, s.
    pub shutdown_grace_secs: f64,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed: a
    /// request from one of them is limited and audited by the address it forwards. Empty:
    /// the connection's address is the client's.
    pub trusted_proxies: Vec<String>,
}

impl HttpConfig {
    /// The trusted proxies, parsed (`validate` has checked they parse).
    pub fn trusted_proxy_nets(&self) -> anyhow::Result<Vec<ipnet::IpNet>> {
        self.trusted_proxies
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| anyhow::anyhow!("http.trusted_proxies: `{entry}` is not an address or CIDR range"))
            })
            .collect()
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Prefix of every cache key (several deployments can share one Redis).
    pub key_prefix: String,
    /// Longest wait for one Redis operation before falling back to the database, ms.
    pub timeout_ms: u64,
    /// How long Redis is skipped after a failure, ms.
    pub breaker_open_ms: u64,
    /// Lifetime of a cached document, s (fractions allowed: 0.001 is 1 ms).
    pub document_ttl_secs: f64,
    /// Lifetime of a cached list page, s.
    pub list_ttl_secs: f64,
    /// Lifetime of a cached "not found", s.
    pub negative_ttl_secs: f64,
    /// Lifetime of a cached analysis, s.
    pub analysis_ttl_secs: f64,
    /// Bytes of analyses each process keeps in memory in front of Redis (analyses never
    /// change; 0 turns it off).
    pub analysis_local_bytes: u64,
    /// TTLs vary by ± this fraction (0 to 0.5).
    pub ttl_jitter: f64,
    /// Entries the in-process cache holds at most.
    pub memory_capacity: u64,
    /// How long a finished database load is handed to requests that missed just before it
    /// filled the cache, ms (0: only to requests that arrive while it runs).
    pub load_linger_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            redis_url: None,
            database_max_connections: 16,
            max_upload_bytes: 50 * 1024 * 1024,
            bootstrap_api_key: None,
            http: HttpConfig {
                header_read_timeout_secs: 10.0,
                body_idle_timeout_secs: 10.0,
                request_timeout_secs: 30.0,
                upload_timeout_secs: 300.0,
                max_connections: 1024,
                max_header_lines: 64,
                max_header_bytes: 16 * 1024,
                shutdown_grace_secs: 10.0,
                trusted_proxies: Vec::new(),
            },
            cache: CacheConfig {
                key_prefix: "cr:".into(),
                timeout_ms: 50,
                breaker_open_ms: 1000,
                document_ttl_secs: 3600.0,
                list_ttl_secs: 300.0,
                negative_ttl_secs: 30.0,
                analysis_ttl_secs: 7.0 * 24.0 * 3600.0,
                analysis_local_bytes: 64 * 1024 * 1024,
                ttl_jitter: 0.1,
                memory_capacity: 100_000,
                load_linger_ms: 100,
            },
            worker: WorkerConfig {
                in_serve: true,
                concurrency: 0,
                lease_secs: 60.0,
                max_attempts: 3,
                poll_interval_ms: 1000,
                backoff_base_ms: 1000,
                backoff_max_ms: 300_000,
                shutdown_grace_secs: 30.0,
                reconcile_interval_ms: 5000,
                redispatch_after_secs: 30.0,
                isolation: "thread".into(),
                memory_limit_mib: 2048,
                analysis_timeout_secs: 300.0,
            },
            webhooks: WebhooksConfig {
                timeout_ms: 10_000,
                max_attempts: 8,
                backoff_base_ms: 5000,
                backoff_max_ms: 3_600_000,
            },
            llm: LlmConfig { url: None, model: "llama3.2".into(), api_key: None, timeout_ms: 60_000, max_tokens: 800 },
            rate_limit: RateLimitConfig {
                enabled: true,
                per_key_requests: 600,
                per_ip_requests: 1200,
                per_user_requests: 1200,
                period_secs: 60.0,
            },
            auth: AuthConfig {
                argon2_memory_kib: 19_456,
                argon2_iterations: 2,
                argon2_parallelism: 1,
                session_idle_secs: 3600,
                session_absolute_secs: 12 * 3600,
                cookie_secure: true,
                login_per_account: 5,
                login_per_ip: 20,
                login_period_secs: 60.0,
                invitation_ttl_secs: 7 * 86_400,
            },
        }
    }
}

impl LlmConfig {
    /// The `llm` section alone, from defaults → `file` → environment, for the offline
    /// `review` command: the server's other settings are neither read nor validated.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            anyhow::ensure!(file.exists(), "configuration file {} does not exist", file.display());
            figment = figment.merge(Toml::file(file));
        }
        let llm: LlmConfig = figment
            .merge(Env::prefixed("CR_LLM__").map(|key| format!("llm.{}", key.as_str()).into()))
            .extract_inner("llm")
            .map_err(|e| anyhow::anyhow!("invalid llm configuration: {e}"))?;
        llm.validate()?;
        Ok(llm)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.url {
            anyhow::ensure!(
                url.starts_with("http://"),
                "llm.url (CR_LLM__URL) must start with http:// (a local endpoint such as Ollama or llama.cpp's \
                 server; this build has no TLS client, so reach an https endpoint through a local proxy)"
            );
        }
        anyhow::ensure!((100..=600_000).contains(&self.timeout_ms), "llm.timeout_ms must be between 100 and 600000");
        anyhow::ensure!((16..=32_768).contains(&self.max_tokens), "llm.max_tokens must be between 16 and 32768");
        anyhow::ensure!(!self.model.trim().is_empty(), "llm.model must not be empty");
        Ok(())
    }
}

impl Config {
    /// Defaults → `file` (if given) → environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            anyhow::ensure!(file.exists(), "configuration file {} does not exist", file.display());
            figment = figment.merge(Toml::file(file));
        }
        let config: Config = figment
            .merge(Env::raw().only(&["DATABASE_URL", "REDIS_URL"]))
            // CR_CONFIG names the file itself; every other CR_ variable must be a setting, so a
            // typo is reported instead of silently ignored.
            .merge(Env::prefixed("CR_").filter(|key| !key.as_str().eq_ignore_ascii_case("config")).split("__"))
            .extract()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(url) = &self.database_url {
            let url = url.expose();
            anyhow::ensure!(
                url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:"),
                "database_url (DATABASE_URL) must start with postgres://, postgresql:// or sqlite:"
            );
        }
        if let Some(url) = &self.redis_url {
            let url = url.expose();
            anyhow::ensure!(
                url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix://"),
                "redis_url (REDIS_URL) must start with redis://, rediss:// or unix://"
            );
        }
        anyhow::ensure!(self.database_max_connections >= 1, "database_max_connections must be at least 1");
        anyhow::ensure!(
            (1024..=4 * 1024 * 1024 * 1024).contains(&self.max_upload_bytes),
            "max_upload_bytes must be between 1 KiB and 4 GiB"
        );
        let t = &self.http;
        for (name, secs) in [
            ("header_read_timeout_secs", t.header_read_timeout_secs),
            ("body_idle_timeout_secs", t.body_idle_timeout_secs),
            ("request_timeout_secs", t.request_timeout_secs),
            ("upload_timeout_secs", t.upload_timeout_secs),
            ("shutdown_grace_secs", t.shutdown_grace_secs),
        ] {
            anyhow::ensure!((0.01..=86_400.0).contains(&secs), "http.{name} must be between 0.01 and 86400 s");
        }
        anyhow::ensure!(
            (1..=100_000).contains(&t.max_connections),
            "http.max_connections must be between 1 and 100000"
        );
        anyhow::ensure!((8..=1000).contains(&t.max_header_lines), "http.max_header_lines must be between 8 and 1000");
        anyhow::ensure!(t.trusted_proxies.len() <= 100, "http.trusted_proxies may list at most 100 entries");
        t.trusted_proxy_nets()?;
        anyhow::ensure!(
            (1024..=256 * 1024).contains(&t.max_header_bytes),
            "http.max_header_bytes must be between 1024 and 262144"
        );
        let c = &self.cache;
        anyhow::ensure!((1..=10_000).contains(&c.timeout_ms), "cache.timeout_ms must be between 1 and 10000");
        for (name, ttl) in [
            ("document_ttl_secs", c.document_ttl_secs),
            ("list_ttl_secs", c.list_ttl_secs),
            ("negative_ttl_secs", c.negative_ttl_secs),
            ("analysis_ttl_secs", c.analysis_ttl_secs),
        ] {
            anyhow::ensure!((0.001..=31_536_000.0).contains(&ttl), "cache.{name} must be between 0.001 and 31536000 s");
        }
        anyhow::ensure!(
            (1..=600_000).contains(&c.breaker_open_ms),
            "cache.breaker_open_ms must be between 1 and 600000"
        );
        anyhow::ensure!(
            (1..=100_000_000).contains(&c.memory_capacity),
            "cache.memory_capacity must be between 1 and 100000000"
        );
        anyhow::ensure!(
            c.analysis_local_bytes <= 64 * 1024 * 1024 * 1024,
            "cache.analysis_local_bytes must be at most 64 GiB"
        );
        anyhow::ensure!(c.key_prefix.len() <= 64, "cache.key_prefix must be at most 64 bytes");
        anyhow::ensure!(c.load_linger_ms <= 10_000, "cache.load_linger_ms must be at most 10000");
        anyhow::ensure!((0.0..=0.5).contains(&c.ttl_jitter), "cache.ttl_jitter must be between 0 and 0.5");
        anyhow::ensure!(!c.key_prefix.contains(char::is_whitespace), "cache.key_prefix must not contain spaces");
        let w = &self.worker;
        anyhow::ensure!(w.concurrency <= 256, "worker.concurrency must be at most 256 (0 = one per core)");
        anyhow::ensure!((0.1..=3600.0).contains(&w.lease_secs), "worker.lease_secs must be between 0.1 and 3600");
        anyhow::ensure!((1..=100).contains(&w.max_attempts), "worker.max_attempts must be between 1 and 100");
        for (name, ms) in [
            ("poll_interval_ms", w.poll_interval_ms),
            ("backoff_base_ms", w.backoff_base_ms),
            ("backoff_max_ms", w.backoff_max_ms),
            ("reconcile_interval_ms", w.reconcile_interval_ms),
        ] {
            anyhow::ensure!((1..=86_400_000).contains(&ms), "worker.{name} must be between 1 and 86400000");
        }
        anyhow::ensure!(
            w.isolation == "thread" || w.isolation == "process",
            "worker.isolation must be \"thread\" or \"process\""
        );
        anyhow::ensure!(
            (64..=1_048_576).contains(&w.memory_limit_mib),
            "worker.memory_limit_mib must be between 64 and 1048576"
        );
        anyhow::ensure!(
            (1.0..=86_400.0).contains(&w.analysis_timeout_secs),
            "worker.analysis_timeout_secs must be between 1 and 86400"
        );
        anyhow::ensure!(w.backoff_base_ms <= w.backoff_max_ms, "worker.backoff_base_ms must not exceed backoff_max_ms");
        for (name, secs) in
            [("shutdown_grace_secs", w.shutdown_grace_secs), ("redispatch_after_secs", w.redispatch_after_secs)]
        {
            anyhow::ensure!((0.0..=86_400.0).contains(&secs), "worker.{name} must be between 0 and 86400");
        }
        let h = &self.webhooks;
        anyhow::ensure!((100..=120_000).contains(&h.timeout_ms), "webhooks.timeout_ms must be between 100 and 120000");
        anyhow::ensure!((1..=100).contains(&h.max_attempts), "webhooks.max_attempts must be between 1 and 100");
        anyhow::ensure!(
            h.backoff_base_ms >= 1 && h.backoff_base_ms <= h.backoff_max_ms && h.backoff_max_ms <= 86_400_000,
            "webhooks.backoff_base_ms must be at least 1 and at most backoff_max_ms (at most 86400000)"
        );
        self.llm.validate()?;
        self.rate_limit.validate()?;
        self.auth.validate()?;
        if let Some(key) = &self.bootstrap_api_key {
            anyhow::ensure!(key.expose().len() >= 32, "bootstrap_api_key must be at least 32 characters");
        }
        Ok(())
    }

    /// The database URL in effect (SQLite under the data dir when none is set).
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("contract-reviewer.db").display()),
        }
    }

    /// `embedded` or `server`, for logs and `/readyz`.
    pub fn mode(&self) -> &'static str {
        match &self.database_url {
            Some(url) if !url.expose().starts_with("sqlite:") => "server",
            _ => "embedded",
        }
    }

    pub fn connection_limits(&self) -> crate::serve::ConnectionLimits {
        crate::serve::ConnectionLimits {
            header_read_timeout: Duration::from_secs_f64(self.http.header_read_timeout_secs),
            max_connections: self.http.max_connections,
            shutdown_grace: Duration::from_secs_f64(self.http.shutdown_grace_secs),
            // Above our own limit, so that our JSON 431 answers first.
            max_header_lines: self.http.max_header_lines.saturating_mul(4),
        }
    }

    pub fn request_limits(&self) -> crate::middleware::RequestLimits {
        crate::middleware::RequestLimits {
            request_timeout: Duration::from_secs_f64(self.http.request_timeout_secs),
            upload_timeout: Duration::from_secs_f64(self.http.upload_timeout_secs),
            max_header_lines: self.http.max_header_lines,
            max_header_bytes: self.http.max_header_bytes,
        }
    }

    pub fn cache_settings(&self) -> cr_store::cache::CacheSettings {
        cr_store::cache::CacheSettings {
            key_prefix: self.cache.key_prefix.clone(),
            op_timeout: Duration::from_millis(self.cache.timeout_ms),
            breaker_open: Duration::from_millis(self.cache.breaker_open_ms),
            ttl_jitter: self.cache.ttl_jitter,
            memory_capacity: self.cache.memory_capacity,
        }
    }

    pub fn analysis_settings(&self) -> cr_service::analysis::AnalysisSettings {
        let w = &self.worker;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cr_service::analysis::AnalysisSettings {
            workers: cr_service::analysis::WorkerSettings {
                concurrency: if w.concurrency == 0 { cores } else { w.concurrency },
                lease: Duration::from_secs_f64(w.lease_secs),
                max_attempts: w.max_attempts,
                poll_interval: Duration::from_millis(w.poll_interval_ms),
                backoff_base: Duration::from_millis(w.backoff_base_ms),
                backoff_max: Duration::from_millis(w.backoff_max_ms),
                shutdown_grace: Duration::from_secs_f64(w.shutdown_grace_secs),
                reconcile_interval: Duration::from_millis(w.reconcile_interval_ms),
                redispatch_after: Duration::from_secs_f64(w.redispatch_after_secs),
                // The child is this binary again (`contract-reviewer analyse-job`).
                isolation: (w.isolation == "process").then(|| cr_service::analysis::isolated::ProcessIsolation {
                    program: std::env::current_exe().unwrap_or_else(|_| "contract-reviewer".into()),
                    memory_limit_bytes: w.memory_limit_mib * 1024 * 1024,
                    timeout: Duration::from_secs_f64(w.analysis_timeout_secs),
                }),
            },
            analysis_ttl: Duration::from_secs_f64(self.cache.analysis_ttl_secs),
            negative_ttl: Duration::from_secs_f64(self.cache.negative_ttl_secs),
            local_cache_bytes: self.cache.analysis_local_bytes,
            load_linger: Duration::from_millis(self.cache.load_linger_ms),
        }
    }

    pub fn webhook_settings(&self) -> cr_service::webhooks::WebhookSettings {
        let h = &self.webhooks;
        cr_service::webhooks::WebhookSettings {
            timeout: Duration::from_millis(h.timeout_ms),
            max_attempts: h.max_attempts,
            backoff_base: Duration::from_millis(h.backoff_base_ms),
            backoff_max: Duration::from_millis(h.backoff_max_ms),
            poll_interval: Duration::from_secs(1),
        }
    }

    pub fn document_settings(&self) -> cr_service::documents::DocumentSettings {
        cr_service::documents::DocumentSettings {
            document_ttl: Duration::from_secs_f64(self.cache.document_ttl_secs),
            list_ttl: Duration::from_secs_f64(self.cache.list_ttl_secs),
            negative_ttl: Duration::from_secs_f64(self.cache.negative_ttl_secs),
            max_upload_bytes: self.max_upload_bytes,
            load_linger: Duration::from_millis(self.cache.load_linger_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let config = Config { database_url: Some(Secret::new("postgres://u:hunter2@db/x")), ..Config::default() };
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("[redacted]"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn environment_variables_override_and_typos_are_reported() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CR_CONFIG", "ignored-here.toml");
            jail.set_env("CR_CACHE__TIMEOUT_MS", "20");
            jail.set_env("REDIS_URL", "redis://127.0.0.1:6390");
            jail.create_file("cr.toml", "max_upload_bytes = 2048\n[cache]\nlist_ttl_secs = 0.5\n")?;
            let config = Config::load(Some(std::path::Path::new("cr.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.cache.timeout_ms, 20);
            assert_eq!(config.max_upload_bytes, 2048);
            assert_eq!(config.cache.list_ttl_secs, 0.5);
            assert_eq!(config.redis_url.as_ref().map(Secret::expose), Some("redis://127.0.0.1:6390"));
            jail.set_env("CR_CACHE__TIMEOUT", "20");
            let error = Config::load(None).expect_err("typo").to_string();
            assert!(error.contains("timeout"), "{error}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn the_llm_section_loads_without_the_rest_of_the_configuration() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("CR_CACHE__TIMEOUT_MS", "not a number");
            jail.set_env("CR_LLM__MODEL", "m1");
            assert!(Config::load(None).is_err(), "the server configuration is invalid");
            let llm = LlmConfig::load(None).map_err(|e| e.to_string())?;
            assert_eq!(llm.model, "m1");
            Ok(())
        });
    }

    #[test]
    fn defaults_are_valid_and_embedded() {
        let config = Config::default();
        config.validate().expect("defaults validate");
        assert_eq!(config.mode(), "embedded");
        assert!(config.effective_database_url().starts_with("sqlite://"));
    }

    #[test]
    fn bad_values_are_refused_with_the_setting_named() {
        let config = Config { database_url: Some(Secret::new("mysql://x")), ..Config::default() };
        assert!(config.validate().expect_err("invalid").to_string().contains("DATABASE_URL"));
        let mut config = Config::default();
        config.cache.ttl_jitter = 2.0;
        assert!(config.validate().expect_err("invalid").to_string().contains("ttl_jitter"));
    }
}
