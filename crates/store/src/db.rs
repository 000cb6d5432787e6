//! The authoritative relational store: PostgreSQL in server mode, SQLite in embedded mode.
//!
//! Both backends run the same SQL text (`$1` placeholders, `RETURNING`, `->>`, partial indexes
//! all work on both), so the repositories dispatch with [`with_pool!`] instead of keeping two
//! copies of every query. Each dispatch counts one round trip in [`Database::queries`], which
//! lets tests prove that a cache hit never reaches the database.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Which backend a [`Database`] talks to.
#[derive(Clone, Debug)]
pub enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A pool on one of the two backends, plus a query counter.
#[derive(Clone, Debug)]
pub struct Database {
    pub pool: Pool,
    queries: Arc<AtomicU64>,
}

/// Runs `$body` with `$p` bound to the concrete pool, counting one database round trip.
/// The body is expanded once per backend, so binds and row types are checked for both.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$p:ident| $body:expr) => {{
        $db.count_query();
        match &$db.pool {
            $crate::db::Pool::Postgres($p) => $body,
            $crate::db::Pool::Sqlite($p) => $body,
        }
    }};
}

/// Runs `$body` inside one transaction on the concrete backend, with `$tx` bound to it.
/// The body must evaluate to `Result<T, E>` where `E: From<sqlx::Error>`; it commits on `Ok`
/// and rolls back on `Err`. `?` and `return` inside the body leave the body, not the caller,
/// so the caller can still map the error (e.g. a constraint name).
#[macro_export]
macro_rules! in_transaction {
    ($db:expr, |$tx:ident| $body:expr) => {{
        $db.count_query();
        match &$db.pool {
            $crate::db::Pool::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = async { $body }.await;
                if out.is_ok() {
                    $tx.commit().await?;
                }
                out
            }
            $crate::db::Pool::Sqlite(pool) => {
                // IMMEDIATE takes the write lock up front (waiting out the busy timeout): a
                // deferred transaction that reads, then writes, fails at once with
                // SQLITE_BUSY when another writer committed in between.
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = async { $body }.await;
                if out.is_ok() {
                    $tx.commit().await?;
                }
                out
            }
        }
    }};
}

impl Database {
    /// Connects to `url`: `postgres://…` or `sqlite://PATH` (created if missing).
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let pool = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).context("parsing the PostgreSQL URL")?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .context("connecting to PostgreSQL")?;
            Pool::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).context("parsing the SQLite URL")?;
            create_private_file_if_missing(options.get_filename())?;
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.min(8))
                .connect_with(options)
                .await
                .context("opening the SQLite database")?;
            Pool::Sqlite(pool)
        } else {
            anyhow::bail!("unsupported database URL scheme (expected postgres:// or sqlite:)");
        };
        Ok(Self { pool, queries: Arc::new(AtomicU64::new(0)) })
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.pool {
            Pool::Postgres(p) => PG_MIGRATOR.run(p).await.context("applying PostgreSQL migrations"),
            Pool::Sqlite(p) => SQLITE_MIGRATOR.run(p).await.context("applying SQLite migrations"),
        }
    }

    /// `postgres` or `sqlite`.
    pub fn backend_name(&self) -> &'static str {
        match self.pool {
            Pool::Postgres(_) => "postgres",
            Pool::Sqlite(_) => "sqlite",
        }
    }

    /// The same pool with a round-trip counter of its own: background work (workers, relay,
    /// reconciler) counts apart from the request path that tests watch.
    pub fn with_own_counter(&self) -> Self {
        Self { pool: self.pool.clone(), queries: Arc::new(AtomicU64::new(0)) }
    }

    /// Round trips (queries or transactions) made through this handle since it was created.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    #[doc(hidden)]
    pub fn count_query(&self) {
        self.queries.fetch_add(1, Ordering::Relaxed);
    }

    /// A trivial query, for readiness checks.
    pub async fn ping(&self) -> anyhow::Result<()> {
        let one: i32 = with_pool!(self, |p| sqlx::query_scalar("SELECT 1").fetch_one(p).await)?;
        anyhow::ensure!(one == 1, "database answered SELECT 1 with {one}");
        Ok(())
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Postgres(p) => p.close().await,
            Pool::Sqlite(p) => p.close().await,
        }
    }
}

/// Creates an empty database file readable by this user only (0600); SQLite gives its WAL and
/// shared-memory files the same mode.
fn create_private_file_if_missing(path: &std::path::Path) -> anyhow::Result<()> {
    if path.as_os_str().is_empty() || path.to_str() == Some(":memory:") || path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(anyhow::Error::new(err).context(format!("creating {}", path.display()))),
    }
}

/// Name of the violated constraint, if `err` is a unique/foreign-key/check violation.
/// Callers map constraint names to API errors instead of matching messages.
pub fn violated_constraint(err: &sqlx::Error) -> Option<String> {
    let db_err = err.as_database_error()?;
    if let Some(name) = db_err.constraint() {
        return Some(name.to_owned());
    }
    // SQLite does not report constraint names; it names the columns instead
    // ("UNIQUE constraint failed: documents.organisation_id, documents.sha256").
    let message = db_err.message();
    let columns = message.strip_prefix("UNIQUE constraint failed: ")?;
    Some(match columns {
        "documents.organisation_id, documents.sha256" => "documents_org_sha256_live_key".into(),
        "idempotency_keys.organisation_id, idempotency_keys.key" => "idempotency_keys_pkey".into(),
        "document_relations.source_id, document_relations.target_id, document_relations.kind" => {
            "document_relations_unique_key".into()
        }
        "users.email" => "users_email_key".into(),
        "index 'document_relations_pair_key'" => "document_relations_pair_key".into(),
        other => other.to_owned(),
    })
}
