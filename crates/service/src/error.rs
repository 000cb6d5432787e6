//! The one error type of the services. The HTTP edge maps each variant to a status and a
//! stable code; `Internal` causes are logged there and never sent to clients.

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("missing or invalid API key")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(&'static str),
    /// Input that is well-formed but not acceptable (400).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
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
        match &err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(error = %err, "database unavailable");
                Self::Unavailable("the database is not answering; try again shortly".into())
            }
            _ => Self::Internal(anyhow::Error::new(err).context("database query")),
        }
    }
}
