//! Browser sessions, keyed by the SHA-256 of their token: in Redis in server mode
//! (`session:{hash}` with a TTL that slides on activity, and `user-sessions:{user}`, the set
//! that lets every session of a user end at once), in SQLite in embedded mode with the same
//! semantics. A session is never the only record of anything: losing them all signs everyone
//! out, nothing more. The absolute maximum is checked by the caller against `created_at`.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::db::Database;
use crate::redis_link::RedisLink;
use crate::with_pool;

/// What a session holds, as the architecture's session example does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    pub user_id: String,
    pub organisation_id: String,
    pub role: String,
    pub permissions: Vec<String>,
    pub is_platform_admin: bool,
    /// The token cookie-authenticated writes must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// Unix seconds.
    pub created_at: i64,
    pub last_activity: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the session store is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Where sessions live.
#[derive(Clone)]
pub enum SessionStore {
    Redis(Arc<RedisLink>),
    Database(Database),
}

/// Sessions a user's set may list before the ended ones are pruned from it.
const PRUNE_ABOVE: usize = 64;

const CREATE_SCRIPT: &str = r"
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
if redis.call('SCARD', KEYS[2]) > tonumber(ARGV[6]) then
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if redis.call('EXISTS', ARGV[5] .. member) == 0 then redis.call('SREM', KEYS[2], member) end
  end
end
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
";

const END_ALL_SCRIPT: &str = r"
local members = redis.call('SMEMBERS', KEYS[1])
for _, member in ipairs(members) do redis.call('DEL', ARGV[1] .. member) end
redis.call('DEL', KEYS[1])
return #members
";

static CREATE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CREATE_SCRIPT));
static END_ALL: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(END_ALL_SCRIPT));

fn unavailable(err: impl std::fmt::Display) -> SessionError {
    SessionError::Unavailable(err.to_string())
}

impl SessionStore {
    pub fn redis(link: Arc<RedisLink>) -> Self {
        Self::Redis(link)
    }

    pub fn database(db: Database) -> Self {
        Self::Database(db)
    }

    /// `redis` or `database`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Redis(_) => "redis",
            Self::Database(_) => "database",
        }
    }

    /// Stores a new session that ends after `idle` without use; the user's set of sessions
    /// lives as long as a session can.
    pub async fn create(
        &self,
        token_hash: &str,
        data: &SessionData,
        idle: Duration,
        absolute: Duration,
    ) -> Result<(), SessionError> {
        let json = serde_json::to_string(data).map_err(|err| SessionError::Unavailable(err.to_string()))?;
        match self {
            Self::Redis(link) => {
                let prefix = format!("{}session:", link.key_prefix);
                let mut invocation = CREATE.prepare_invoke();
                invocation
                    .key(format!("{prefix}{token_hash}"))
                    .key(format!("{}user-sessions:{}", link.key_prefix, data.user_id))
                    .arg(json)
                    .arg(idle.as_secs().max(1))
                    .arg(absolute.as_secs().max(1))
                    .arg(token_hash)
                    .arg(prefix)
                    .arg(PRUNE_ABOVE);
                link.run(|mut connection| async move {
                    invocation.invoke_async::<i64>(&mut connection).await.map(|_| ()).map_err(|err| err.to_string())
                })
                .await
                .map_err(unavailable)
            }
            Self::Database(db) => {
                let now = crate::ids::now();
                let expires_at = now + idle_delta(idle);
                with_pool!(db, |p| sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                    .bind(now)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected()))?;
                with_pool!(db, |p| sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, data, expires_at) VALUES ($1, $2, $3, $4)"
                )
                .bind(token_hash)
                .bind(&data.user_id)
                .bind(&json)
                .bind(expires_at)
                .execute(p)
                .await
                .map(|r| r.rows_affected()))?;
                Ok(())
            }
        }
    }

    /// The live session of this token, its idle expiry pushed `idle` ahead (one round trip).
    pub async fn touch(&self, token_hash: &str, idle: Duration) -> Result<Option<SessionData>, SessionError> {
        let json: Option<String> = match self {
            Self::Redis(link) => {
                let key = format!("{}session:{token_hash}", link.key_prefix);
                let mut command = redis::cmd("GETEX");
                command.arg(key).arg("EX").arg(idle.as_secs().max(1));
                link.run(|mut connection| async move {
                    command.query_async::<Option<String>>(&mut connection).await.map_err(|err| err.to_string())
                })
                .await
                .map_err(unavailable)?
            }
            Self::Database(db) => {
                // A read, and a write only when the expiry is more than a minute behind where
                // this request would push it: SQLite has one writer, and reads must not queue
                // behind it.
                let now = crate::ids::now();
                let row = with_pool!(db, |p| sqlx::query_as::<_, (String, chrono::DateTime<chrono::Utc>)>(
                    "SELECT data, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2"
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(p)
                .await)?;
                let Some((data, expires_at)) = row else { return Ok(None) };
                let pushed = now + idle_delta(idle);
                if pushed - expires_at > chrono::TimeDelta::seconds(60) {
                    with_pool!(db, |p| sqlx::query("UPDATE sessions SET expires_at = $1 WHERE token_hash = $2")
                        .bind(pushed)
                        .bind(token_hash)
                        .execute(p)
                        .await
                        .map(|r| r.rows_affected()))?;
                }
                Some(data)
            }
        };
        // (A value that does not parse is no session.)
        Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Rewrites a live session's data (its last activity), keeping its expiry; nothing when it
    /// has ended meanwhile.
    pub async fn save(&self, token_hash: &str, data: &SessionData) -> Result<(), SessionError> {
        let json = serde_json::to_string(data).map_err(|err| SessionError::Unavailable(err.to_string()))?;
        match self {
            Self::Redis(link) => {
                let mut command = redis::cmd("SET");
                command.arg(format!("{}session:{token_hash}", link.key_prefix)).arg(json).arg("XX").arg("KEEPTTL");
                link.run(|mut connection| async move {
                    command.query_async::<Option<String>>(&mut connection).await.map(|_| ()).map_err(|e| e.to_string())
                })
                .await
                .map_err(unavailable)
            }
            Self::Database(db) => {
                with_pool!(db, |p| sqlx::query("UPDATE sessions SET data = $1 WHERE token_hash = $2")
                    .bind(&json)
                    .bind(token_hash)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected()))?;
                Ok(())
            }
        }
    }

    /// Ends one session.
    pub async fn end(&self, token_hash: &str) -> Result<(), SessionError> {
        match self {
            Self::Redis(link) => {
                let key = format!("{}session:{token_hash}", link.key_prefix);
                link.run(|mut connection| async move {
                    redis::cmd("DEL")
                        .arg(key)
                        .query_async::<i64>(&mut connection)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
                .await
                .map_err(unavailable)
            }
            Self::Database(db) => {
                with_pool!(db, |p| sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected()))?;
                Ok(())
            }
        }
    }

    /// Ends every session of a user; returns how many the store listed.
    pub async fn end_all_of(&self, user_id: &str) -> Result<u64, SessionError> {
        match self {
            Self::Redis(link) => {
                let mut invocation = END_ALL.prepare_invoke();
                invocation
                    .key(format!("{}user-sessions:{user_id}", link.key_prefix))
                    .arg(format!("{}session:", link.key_prefix));
                link.run(|mut connection| async move {
                    invocation.invoke_async::<u64>(&mut connection).await.map_err(|err| err.to_string())
                })
                .await
                .map_err(unavailable)
            }
            Self::Database(db) => {
                let done = with_pool!(db, |p| sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(p)
                    .await
                    .map(|r| r.rows_affected()))?;
                Ok(done)
            }
        }
    }
}

fn idle_delta(idle: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(idle).unwrap_or(chrono::TimeDelta::hours(1))
}
