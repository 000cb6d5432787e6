//! Layers every request passes through: a deadline per request, header size limits, rate
//! limits, the one JSON error shape for every error (including those axum's extractors and
//! hyper make), text input checked once for NUL, and the response headers every answer carries.

use std::time::Duration;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Per-request limits (the connection-level ones are in [`crate::serve`]).
#[derive(Clone, Debug)]
pub struct RequestLimits {
    /// Longest time from a request's headers to its response headers.
    pub request_timeout: Duration,
    /// The same for uploads, whose bodies may be large.
    pub upload_timeout: Duration,
    /// Header lines per request.
    pub max_header_lines: usize,
    /// Bytes of all header names and values together.
    pub max_header_bytes: usize,
}

/// Answers 408 when the handler has not answered within the request's deadline.
pub async fn deadline(State(limits): State<RequestLimits>, request: Request, next: Next) -> Response {
    let is_upload = request.method() == Method::POST && request.uri().path() == "/api/documents";
    let limit = if is_upload { limits.upload_timeout } else { limits.request_timeout };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            ApiError::request_timeout(format!("the request took longer than {} s", limit.as_secs_f64())).into_response()
        }
    }
}

/// Refuses requests with too many or too large headers (431, JSON), and query strings with
/// NUL characters, which no text field may hold (400).
pub async fn check_request(State(limits): State<RequestLimits>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if headers.len() > limits.max_header_lines || bytes > limits.max_header_bytes {
        return ApiError::headers_too_large(format!(
            "send at most {} header lines and {} bytes of headers",
            limits.max_header_lines, limits.max_header_bytes
        ))
        .into_response();
    }
    if request.uri().query().is_some_and(has_encoded_nul) {
        return invalid_text().into_response();
    }
    next.run(request).await
}

/// `%00` in a query string (the only way a NUL reaches us there).
fn has_encoded_nul(query: &str) -> bool {
    query.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

pub fn invalid_text() -> ApiError {
    ApiError::bad_request("invalid_text", "text fields must not contain NUL characters")
}

/// Whether any string (or object key) in `value` holds a NUL character.
pub fn contains_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

/// Largest error body read back when reshaping an error that is not in the JSON shape.
const MAX_REWRITTEN_ERROR: usize = 4096;

/// Puts every error answer into the one JSON shape, and adds the headers every answer
/// carries: `nosniff` everywhere, and `no-store` on the API (every answer there is private).
pub async fn shape_response(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let mut response = if is_error_outside_the_shape(&response) { reshape(response).await } else { response };
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if is_api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn is_error_outside_the_shape(response: &Response) -> bool {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    (status.is_client_error() || status.is_server_error()) && !is_json
}

async fn reshape(response: Response) -> Response {
    let status = response.status();
    let text = match to_bytes(response.into_body(), MAX_REWRITTEN_ERROR).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_lowercase() } else { text };
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_body",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    ApiError::Other { status, code, message }.into_response()
}

/// The address a request comes from: the connection's (set per connection by
/// [`crate::serve`]), or behind a trusted proxy the one it forwards ([`resolve_client`]).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::SocketAddr);

/// The reverse proxies whose `X-Forwarded-For` is believed (`http.trusted_proxies`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub std::sync::Arc<Vec<ipnet::IpNet>>);

/// Behind a trusted proxy, replaces the client address by the one the proxies forwarded: the
/// rightmost address in `X-Forwarded-For` that is not itself a trusted proxy (the ones left
/// of it are the client's to make up).
pub async fn resolve_client(State(trusted): State<TrustedProxies>, mut request: Request, next: Next) -> Response {
    if let Some(forwarded) = forwarded_client(&trusted, &request) {
        request.extensions_mut().insert(ClientAddr(forwarded));
    }
    next.run(request).await
}

fn forwarded_client(trusted: &TrustedProxies, request: &Request) -> Option<std::net::SocketAddr> {
    let peer = request.extensions().get::<ClientAddr>()?.0;
    let is_trusted = |ip: &std::net::IpAddr| trusted.0.iter().any(|net| net.contains(ip));
    if trusted.0.is_empty() || !is_trusted(&peer.ip()) {
        return None;
    }
    let hops: Vec<std::net::IpAddr> = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| hop.trim().parse::<std::net::IpAddr>())
        .collect::<Result<_, _>>()
        .ok()?;
    let client = hops.iter().rev().find(|ip| !is_trusted(ip)).or(hops.first())?;
    Some(std::net::SocketAddr::new(*client, 0))
}

/// Rate limits on the API: per client address first (so a flood of made-up keys costs no
/// database query past its limit), then per API key or session presented. Refused: 429 with
/// `Retry-After`; every API answer carries `RateLimit-Limit`, `RateLimit-Remaining` and
/// `RateLimit-Reset` (seconds) of its tightest bucket.
pub async fn rate_limit(State(state): State<crate::AppState>, request: Request, next: Next) -> Response {
    let settings = &state.config.rate_limit;
    if !settings.enabled || !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let ip = request.extensions().get::<ClientAddr>().map_or_else(|| "unknown".to_owned(), |a| a.0.ip().to_string());
    let by_ip = format!("ip:{ip}");
    // A key's or session's hash, not the secret, names its bucket (Redis keys are no place
    // for secrets).
    let presented = match presented_api_key(request.headers()) {
        Some(key) => Some(Presented::Key(cr_store::identity::hash_api_key(key))),
        None => crate::caller::cookie(request.headers(), crate::caller::SESSION_COOKIE)
            .map(|token| Presented::Session(cr_service::accounts::hash_token(token))),
    };
    let by_key = presented.as_ref().map(|presented| match presented {
        Presented::Key(hash) => format!("key:{}", &hash[..32]),
        Presented::Session(hash) => format!("session:{}", &hash[..32]),
    });
    let mut request = request;
    if let Some(presented) = presented {
        // (Authentication looks the credential up by this hash rather than hashing it again.)
        request.extensions_mut().insert(presented);
    }
    let mut buckets = vec![(by_ip.as_str(), settings.per_ip())];
    if let Some(by_key) = &by_key {
        buckets.push((by_key.as_str(), settings.per_key()));
    }
    let decision = state.limiter.check(&buckets).await;
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        let retry_after_secs = decision.retry_after.as_secs_f64().ceil().max(1.0) as u64;
        ApiError::TooManyRequests {
            message: format!("rate limit of {} requests exceeded; retry in {retry_after_secs} s", decision.limit),
            retry_after_secs,
        }
        .into_response()
    };
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit", decision.limit.into());
    headers.insert("ratelimit-remaining", decision.remaining.into());
    headers.insert("ratelimit-reset", (decision.reset.as_secs_f64().ceil() as u64).into());
    response
}

/// The SHA-256 of the credential a request presents, computed once by the rate limiter.
#[derive(Clone, Debug)]
pub enum Presented {
    Key(String),
    Session(String),
}

/// The API key a request presents, as authentication reads it.
pub fn presented_api_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // The scheme is case-insensitive (RFC 9110 §11.1): "bearer", "BEARER" and "Bearer" alike.
    value("x-api-key")
        .or_else(|| value("authorization").and_then(bearer_token))
        .map(str::trim)
        .filter(|key| !key.is_empty())
}

/// The token of an `Authorization: Bearer <token>` value, the scheme in any case.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}
