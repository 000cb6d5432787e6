//! The one error type at the HTTP edge. Every failure leaves as
//! `{"error": {"code": "...", "message": "..."}}` with a stable `code`; internal causes are
//! logged here, with their chain, and never sent to clients.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cr_service::ServiceError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        use StatusCode as S;
        match err {
            ServiceError::NotFound(what) => Self::new(S::NOT_FOUND, "not_found", format!("{what} not found")),
            ServiceError::Unauthenticated => Self::new(
                S::UNAUTHORIZED,
                "unauthenticated",
                "missing or invalid API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
            ),
            ServiceError::Forbidden(message) => Self::new(S::FORBIDDEN, "forbidden", message),
            ServiceError::Invalid { code, message } => {
                let status = if code == "idempotency_key_reused" { S::UNPROCESSABLE_ENTITY } else { S::BAD_REQUEST };
                Self::new(status, code, message)
            }
            ServiceError::UnsupportedMediaType(message) => {
                Self::new(S::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
            }
            ServiceError::PayloadTooLarge { limit } => Self::new(
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the upload exceeds the limit of {limit} bytes"),
            ),
            ServiceError::Conflict { code, message } => Self::new(S::CONFLICT, code, message),
            ServiceError::Unavailable(message) => Self::new(S::SERVICE_UNAVAILABLE, "unavailable", message),
            ServiceError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                Self::new(S::INTERNAL_SERVER_ERROR, "internal", "internal error; it has been logged")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, axum::Json(body)).into_response()
    }
}
