//! The one error type of the services. The HTTP edge maps each variant to a status and a
//! stable code; `Internal` causes are logged there and never sent to clients.

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("missing or invalid API key")]
    Unauthenticated,
    /// A session cookie that names no live session (401).
    #[error("the session has ended; sign in again")]
    SessionEnded,
    /// A sign-in with a wrong e-mail address or password, or a disabled account (401).
    #[error("wrong e-mail address or password")]
    InvalidCredentials,
    /// Over a rate limit (429), with the seconds until the next attempt is allowed.
    #[error("{message}")]
    RateLimited { message: String, retry_after_secs: u64 },
    #[error("{0}")]
    Forbidden(&'static str),
    /// Input that is well-formed but not acceptable (400).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// An `Idempotency-Key` used before for a different request (422).
    #[error("{0}")]
    IdempotencyKeyReused(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("upload exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A dependency needed for this request is down (503).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { code, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(err: sqlx::Error) -> Self {
        if database_away(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return Self::unavailable_database();
        }
        Self::Internal(anyhow::Error::new(err).context("database query"))
    }
}

impl ServiceError {
    fn unavailable_database() -> Self {
        Self::Unavailable("the database is not answering; try again shortly".into())
    }

    /// An error shared by the callers of one load (single-flight): 503 when a database that
    /// is away caused it, else internal.
    pub fn from_shared(err: &anyhow::Error) -> Self {
        if let Some(ServiceError::Unavailable(message)) = err.chain().find_map(|c| c.downcast_ref::<ServiceError>()) {
            return Self::Unavailable(message.clone());
        }
        if err.chain().filter_map(|cause| cause.downcast_ref::<sqlx::Error>()).any(database_away) {
            tracing::warn!(error = format!("{err:#}"), "database unavailable");
            return Self::unavailable_database();
        }
        Self::Internal(anyhow::anyhow!("{err:#}"))
    }
}

/// Whether `err` says the database cannot be reached, rather than that a query is wrong:
/// no connection (pool timeout, I/O, TLS), or SQLSTATE class 08 (connection exception) or 57
/// (operator intervention: a server shutting down or restarting).
fn database_away(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        _ => err.as_database_error().and_then(|e| e.code()).is_some_and(|c| c.starts_with("08") || c.starts_with("57")),
    }
}
