//! Builds the application from a [`Config`]: storage backends, services, router, listener.
//! The listener is bound in [`Application::build`], so tests can ask for port 0 and read the
//! port back before serving.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cr_service::accounts::AccountService;
use cr_service::analysis::dispatch::RedisStream;
use cr_service::analysis::events::EventBus;
use cr_service::analysis::{AnalysisService, Background};
use cr_service::documents::DocumentService;
use cr_service::identity::Authenticator;
use cr_service::passwords::{random_token, PasswordHasherPool};
use cr_service::webhooks::WebhookService;
use cr_store::rate_limit::RateLimiter;
use cr_store::sessions::SessionStore;
use cr_store::{Cache, Database, FileStore};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

/// Shared by every handler: one pointer, so that the per-request clones the middleware and
/// extractors make cost one reference count, not one per service and cache handle (those
/// clones took a third of the cached GET's CPU; docs/experiments.md).
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// What [`AppState`] points to.
pub struct SharedState {
    pub db: Database,
    pub cache: Cache,
    pub documents: DocumentService,
    pub analysis: AnalysisService,
    pub webhooks: WebhookService,
    pub auth: Authenticator,
    pub accounts: AccountService,
    pub limiter: RateLimiter,
    pub config: Arc<Config>,
    /// Cancelled when the server starts shutting down (ends long-lived event streams).
    pub shutdown: CancellationToken,
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// The platform admin, when this start created it.
    pub bootstrap: Option<BootstrapAdmin>,
}

/// The platform admin a new instance creates, and where its credentials were written.
#[derive(Clone, Debug)]
pub struct BootstrapAdmin {
    pub email: &'static str,
    /// The file (mode 0600) holding the e-mail address, the password and the API key.
    pub credentials: std::path::PathBuf,
    pub api_key: String,
}

/// The storage backends and services of one process, as `serve` and `worker` both need them.
pub struct Services {
    pub db: Database,
    pub cache: Cache,
    pub files: FileStore,
    pub analysis: AnalysisService,
    pub webhooks: WebhookService,
}

/// Validates the configuration, creates the data directory, connects and migrates the
/// database, and connects the cache (Redis when configured, waiting a moment for it).
async fn open_database_and_cache(config: &Config, max_connections: u32) -> anyhow::Result<(Database, Cache)> {
    config.validate()?;
    cr_store::files::create_private_dir_all(&config.data_dir)
        .await
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let db = Database::connect(&config.effective_database_url(), max_connections).await?;
    db.migrate().await?;
    let cache = match &config.redis_url {
        Some(url) => {
            let log = cr_store::cache::InvalidationLog::new(&db, &config.cache.key_prefix);
            let cache = Cache::redis(url.expose(), config.cache_settings(), log)?;
            if !cache.wait_until_available(Duration::from_secs(1)).await {
                tracing::warn!("Redis is not reachable; serving from the database until it is (retrying)");
            }
            cache
        }
        None => Cache::memory(config.cache_settings()),
    };
    Ok((db, cache))
}

impl Services {
    /// Connects the database (migrating it), the cache, the file store and the analysis flow.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let (db, cache) = open_database_and_cache(config, config.database_max_connections).await?;
        let files = FileStore::open(config.data_dir.join("files")).await?;
        match files.sweep_staging(Duration::from_secs(3600)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "removed staging files of interrupted uploads"),
            Err(err) => tracing::warn!(error = %err, "could not sweep the staging directory"),
        }
        let (events, stream) = match &config.redis_url {
            Some(url) => {
                let timeout = Duration::from_millis(config.cache.timeout_ms);
                (
                    EventBus::redis(url.expose(), &config.cache.key_prefix, timeout)?,
                    Some(RedisStream::new(url.expose(), &config.cache.key_prefix, timeout)?),
                )
            }
            None => (EventBus::local(), None),
        };
        let webhooks = WebhookService::new(db.clone(), config.webhook_settings())?;
        let analysis = AnalysisService::new(
            db.clone(),
            cache.clone(),
            files.clone(),
            events,
            stream,
            webhooks.clone(),
            config.analysis_settings(),
        )?;
        Ok(Self { db, cache, files, analysis, webhooks })
    }

    /// Runs relay, reconciler and workers until `shutdown` completes, then stops them (in-flight
    /// analyses finish within the grace period or are handed back).
    pub async fn run_workers_until_stopped(&self, shutdown: impl Future<Output = ()>) {
        let background = Background::start(&self.analysis, true);
        tracing::info!(concurrency = self.analysis.settings().concurrency, "analysis workers running");
        shutdown.await;
        background.shutdown().await;
        self.db.close().await;
    }
}

/// What the command line's `admin` commands need: accounts and keys on the instance's
/// database (migrated), with its session store, without serving.
pub struct AccountServices {
    pub db: Database,
    pub accounts: AccountService,
    pub auth: Authenticator,
}

impl AccountServices {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let (db, cache) = open_database_and_cache(config, 2).await?;
        let auth = Authenticator::new(db.clone(), cache);
        let accounts = account_service(config, &db, &auth)?;
        Ok(Self { db, accounts, auth })
    }

    /// The id of the instance's only organisation (an error naming the choice when several).
    pub async fn only_organisation(&self) -> anyhow::Result<String> {
        let ids = cr_store::identity::organisation_ids(&self.db, 2).await?;
        match ids.as_slice() {
            [only] => Ok(only.clone()),
            [] => anyhow::bail!("the instance has no organisation yet: start it once (`serve`) first"),
            _ => anyhow::bail!("the instance has several organisations: name one with --organisation"),
        }
    }
}

/// Accounts with the configured session store (Redis, else the database) and limits.
fn account_service(config: &Config, db: &Database, auth: &Authenticator) -> anyhow::Result<AccountService> {
    let sessions = match &config.redis_url {
        Some(url) => SessionStore::redis(Arc::new(cr_store::redis_link::RedisLink::new(
            url.expose(),
            &config.cache.key_prefix,
            Duration::from_millis(config.cache.timeout_ms),
            Duration::from_millis(config.cache.breaker_open_ms),
        )?)),
        None => SessionStore::database(db.clone()),
    };
    Ok(AccountService::new(
        db.clone(),
        sessions,
        rate_limiter(config)?,
        auth.clone(),
        PasswordHasherPool::new(config.auth.password_params())?,
        config.auth.account_settings(),
    ))
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let (_, openapi) = crate::routes::documented_routes(0).split_for_parts();
        crate::access::verify(&crate::access::served_operations(&openapi))?;
        let Services { db, cache, files, analysis, webhooks } = Services::build(&config).await?;
        let auth = Authenticator::new(db.clone(), cache.clone());
        let accounts = account_service(&config, &db, &auth)?;
        let limiter = accounts.limiter().clone();
        let bootstrap = bootstrap_admin(&config, &auth, accounts.passwords()).await?;
        let documents = DocumentService::new(db.clone(), cache.clone(), files, config.document_settings());
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        tracing::info!(
            mode = config.mode(),
            database = db.backend_name(),
            cache = cache.backend_name(),
            address = %listener.local_addr()?,
            "contract-reviewer ready"
        );
        let state = AppState(Arc::new(SharedState {
            db,
            cache,
            documents,
            analysis,
            webhooks,
            auth,
            accounts,
            limiter,
            config: Arc::new(config),
            shutdown: CancellationToken::new(),
        }));
        Ok(Self { listener, state, bootstrap })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves (with the analysis workers, when `worker.in_serve`) until `shutdown` completes,
    /// then finishes in-flight requests and analyses.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let background = Background::start(&self.state.analysis, self.state.config.worker.in_serve);
        let sweeper =
            tokio::spawn(sweep_originals_periodically(self.state.documents.clone(), self.state.shutdown.clone()));
        let router = crate::routes::router(self.state.clone());
        let token = self.state.shutdown.clone();
        let signal = async move {
            shutdown.await;
            token.cancel();
        };
        let limits = self.state.config.connection_limits();
        let served = crate::serve::serve(self.listener, router, limits, signal).await.context("serving HTTP");
        sweeper.abort();
        background.shutdown().await;
        self.state.db.close().await;
        served
    }
}

/// Originals unreferenced for this long are removed (see [`DocumentService::sweep_unreferenced_originals`]).
const UNREFERENCED_ORIGINAL_AGE: Duration = Duration::from_secs(3600);

/// Sweeps unreferenced originals a minute after start, then hourly, until shutdown.
async fn sweep_originals_periodically(documents: DocumentService, shutdown: CancellationToken) {
    let mut wait = Duration::from_secs(60);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        match documents.sweep_unreferenced_originals(UNREFERENCED_ORIGINAL_AGE).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed originals no document names"),
            Err(err) => tracing::warn!(error = %err, "could not sweep unreferenced originals"),
        }
        wait = Duration::from_secs(3600);
    }
}

/// The rate limiter: in Redis when there is one (shared by every instance), else in process.
fn rate_limiter(config: &Config) -> anyhow::Result<RateLimiter> {
    let longest = config.rate_limit.period().max(Duration::from_secs_f64(config.auth.login_period_secs));
    Ok(match &config.redis_url {
        Some(url) => RateLimiter::redis(
            url.expose(),
            &config.cache.key_prefix,
            Duration::from_millis(config.cache.timeout_ms),
            Duration::from_millis(config.cache.breaker_open_ms),
            longest,
        )?,
        None => RateLimiter::memory(longest),
    })
}

/// On an instance with no users, creates the platform admin with a generated password (and
/// the configured or a generated API key), and writes both to `<data_dir>/admin-credentials`,
/// readable by this user only. The secrets go to that file, never to the log stream.
async fn bootstrap_admin(
    config: &Config,
    auth: &Authenticator,
    passwords: &PasswordHasherPool,
) -> anyhow::Result<Option<BootstrapAdmin>> {
    let configured = config.bootstrap_api_key.as_ref().map(|s| s.expose().to_owned());
    if !auth.needs_bootstrap().await? {
        auth.bootstrap(configured, None).await?;
        return Ok(None);
    }
    let password = random_token("")[..24].to_owned();
    let hash = passwords.hash(&password).await.map_err(|err| anyhow::anyhow!("{err}"))?;
    let Some(api_key) = auth.bootstrap(configured, Some(hash)).await? else { return Ok(None) };
    let email = cr_service::identity::BOOTSTRAP_ADMIN_EMAIL;
    let credentials = config.data_dir.join("admin-credentials");
    let text = format!(
        "# The platform admin of this Contract Reviewer instance.\n\
         # Sign in at POST /api/auth/login, or call the API with the key.\n\
         email = {email}\npassword = {password}\napi_key = {api_key}\n"
    );
    write_private(&credentials, &text).await?;
    if config.bootstrap_api_key.is_none() {
        // (Kept for scripts that read the key alone.)
        write_private(&config.data_dir.join("bootstrap-api-key"), &format!("{api_key}\n")).await?;
    }
    Ok(Some(BootstrapAdmin { email, credentials, api_key }))
}

/// Writes `text` to a file only this user can read: created with mode 0600 (never wider,
/// not even for a moment), or truncated and set to 0600 when it already exists.
async fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await.with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).await?;
    }
    tokio::io::AsyncWriteExt::write_all(&mut file, text.as_bytes()).await?;
    file.sync_all().await?;
    Ok(())
}
