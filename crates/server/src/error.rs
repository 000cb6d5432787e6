//! The one error type at the HTTP edge. Every failure leaves as
//! `{"error": {"code": "...", "message": "..."}}` with a stable `code`; each variant has its
//! status. Internal causes are logged here, with their chain, and never sent to clients.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cr_service::ServiceError;

#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is malformed or a value is not acceptable.
    BadRequest { code: &'static str, message: String },
    /// 401
    Unauthenticated,
    /// 403
    Forbidden(String),
    /// 404; `code` is `not_found`, or says why there is nothing yet (`not_analysed`).
    NotFound { code: &'static str, message: String },
    /// 405
    MethodNotAllowed,
    /// 408: the request took longer than its deadline.
    RequestTimeout(String),
    /// 409: the request conflicts with the stored state.
    Conflict { code: &'static str, message: String },
    /// 413
    PayloadTooLarge { code: &'static str, message: String },
    /// 415
    UnsupportedMediaType(String),
    /// 422: well-formed, but its content cannot be processed.
    Unprocessable { code: &'static str, message: String },
    /// 431
    HeadersTooLarge(String),
    /// 429: over a rate limit; `retry_after_secs` until the next request is allowed.
    TooManyRequests { message: String, retry_after_secs: u64 },
    /// 503: a dependency is down; try again.
    Unavailable(String),
    /// 500: logged where it was mapped.
    Internal,
    /// An error answered outside our handlers (by a framework layer), reshaped with its status.
    Other { status: StatusCode, code: &'static str, message: String },
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound { code: "not_found", message: message.into() }
    }
    pub fn request_timeout(message: impl Into<String>) -> Self {
        Self::RequestTimeout(message.into())
    }
    pub fn payload_too_large(code: &'static str, message: impl Into<String>) -> Self {
        Self::PayloadTooLarge { code, message: message.into() }
    }
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::UnsupportedMediaType(message.into())
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unprocessable { code, message: message.into() }
    }
    pub fn headers_too_large(message: impl Into<String>) -> Self {
        Self::HeadersTooLarge(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Other { status, .. } => *status,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. }
            | Self::Conflict { code, .. }
            | Self::PayloadTooLarge { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::NotFound { code, .. }
            | Self::Other { code, .. } => code,
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::RequestTimeout(_) => "request_timeout",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::HeadersTooLarge(_) => "headers_too_large",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal => "internal",
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Self::BadRequest { message, .. }
            | Self::Conflict { message, .. }
            | Self::PayloadTooLarge { message, .. }
            | Self::Unprocessable { message, .. }
            | Self::Other { message, .. }
            | Self::NotFound { message, .. }
            | Self::Forbidden(message)
            | Self::RequestTimeout(message)
            | Self::UnsupportedMediaType(message)
            | Self::HeadersTooLarge(message)
            | Self::TooManyRequests { message, .. }
            | Self::Unavailable(message) => message,
            Self::Unauthenticated => {
                "missing or invalid API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`"
            }
            Self::MethodNotAllowed => "method not allowed on this route",
            Self::Internal => "internal error; it has been logged",
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound(what) => Self::not_found(format!("{what} not found")),
            ServiceError::Unauthenticated => Self::Unauthenticated,
            ServiceError::SessionEnded => Self::Other {
                status: StatusCode::UNAUTHORIZED,
                code: "session_ended",
                message: "the session has ended; sign in again".into(),
            },
            ServiceError::InvalidCredentials => Self::Other {
                status: StatusCode::UNAUTHORIZED,
                code: "invalid_credentials",
                message: "wrong e-mail address or password".into(),
            },
            ServiceError::RateLimited { message, retry_after_secs } => {
                Self::TooManyRequests { message, retry_after_secs }
            }
            ServiceError::Forbidden(message) => Self::Forbidden(message.into()),
            ServiceError::Invalid { code, message } => Self::BadRequest { code, message },
            ServiceError::IdempotencyKeyReused(message) => {
                Self::Unprocessable { code: "idempotency_key_reused", message }
            }
            ServiceError::UnsupportedMediaType(message) => Self::UnsupportedMediaType(message),
            ServiceError::PayloadTooLarge { limit } => Self::PayloadTooLarge {
                code: "payload_too_large",
                message: format!("the upload exceeds the limit of {limit} bytes"),
            },
            ServiceError::Conflict { code, message } => Self::Conflict { code, message },
            ServiceError::Unavailable(message) => Self::Unavailable(message),
            ServiceError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                Self::Internal
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code(), "message": self.message() } });
        let mut response = (self.status(), axum::Json(body)).into_response();
        match self {
            Self::TooManyRequests { retry_after_secs, .. } => {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
            }
            Self::Unauthenticated => {
                response.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer realm=\"contract-reviewer\""),
                );
            }
            _ => {}
        }
        response
    }
}
