//! Who is calling, decided once per request: an API key (`Authorization: Bearer` or
//! `X-API-Key`) or a browser session (the `cr_session` cookie). Either way the request must be
//! allowed what its route needs (`read`, `analyze`, `admin`); a cookie-authenticated write
//! must also echo the session's CSRF token in `X-CSRF-Token`. Refusals are audited.

use axum::extract::FromRequestParts;
use axum::http::{request::Parts, HeaderMap, Method};
use cr_service::ServiceError;
use cr_store::identity::Principal;

use crate::error::ApiError;
use crate::middleware::{self, ClientAddr};
use crate::startup::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "cr_session";
/// The cookie scripts read the CSRF token from (not HttpOnly, unlike the session's).
pub const CSRF_COOKIE: &str = "cr_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated principal of a request.
pub struct Caller(pub Principal);

/// A request made with a session cookie: its principal and the session token's hash.
pub struct SessionCaller {
    pub principal: Principal,
    pub token_hash: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await.map(|(principal, _)| Caller(principal))
    }
}

impl FromRequestParts<AppState> for SessionCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match authenticate(parts, state).await? {
            (principal, Some(token_hash)) => Ok(SessionCaller { principal, token_hash }),
            (_, None) => {
                Err(ApiError::bad_request("not_a_session", "this route is for sessions; the request used an API key"))
            }
        }
    }
}

/// The principal, and the session token's hash when it came by cookie.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<(Principal, Option<String>), ApiError> {
    let needed = scope_needed(&parts.method, parts.uri.path());
    if let Some(key) = middleware::presented_api_key(&parts.headers) {
        let principal = match state.auth.authenticate(key).await {
            Ok(principal) => principal,
            Err(ServiceError::Unauthenticated) => {
                state.auth.audit_unknown_key(key, &client_ip(parts), parts.uri.path()).await;
                return Err(ApiError::Unauthenticated);
            }
            Err(err) => return Err(err.into()),
        };
        if !principal.has_scope(needed) {
            refuse(state, parts, &principal, "api_key.refused", needed).await;
            return Err(ApiError::Forbidden(format!("this API key lacks the `{needed}` scope")));
        }
        return Ok((principal, None));
    }
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Err(ApiError::Unauthenticated);
    };
    let session = match state.accounts.resolve_session(token).await {
        Ok(session) => session,
        Err(ServiceError::SessionEnded) => {
            state.auth.audit_refused_session(&client_ip(parts), parts.uri.path()).await;
            return Err(ServiceError::SessionEnded.into());
        }
        Err(err) => return Err(err.into()),
    };
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let echoed = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !safe && !constant_time_eq(echoed.as_bytes(), session.csrf_token.as_bytes()) {
        refuse(state, parts, &session.principal, "auth.csrf_refused", needed).await;
        return Err(ApiError::Forbidden(format!(
            "a write made with a session cookie must send the session's CSRF token in `{CSRF_HEADER}`"
        )));
    }
    if !session.principal.has_scope(needed) {
        refuse(state, parts, &session.principal, "auth.refused", needed).await;
        return Err(ApiError::Forbidden(format!("your role does not allow `{needed}` here")));
    }
    Ok((session.principal, Some(session.token_hash)))
}

/// Audits a refused request of a known principal. (A refusal that cannot be recorded is
/// still a refusal.)
async fn refuse(state: &AppState, parts: &Parts, principal: &Principal, action: &str, needed: &str) {
    let details = serde_json::json!({ "method": parts.method.as_str(), "path": parts.uri.path(), "scope": needed });
    let target = match &principal.key_id {
        Some(key_id) => ("api_key", Some(key_id.as_str())),
        None => ("user", Some(principal.user_id.as_str())),
    };
    if let Err(err) = cr_store::accounts::record_event(
        &state.db,
        Some(&principal.organisation_id),
        Some(&principal.user_id),
        action,
        target,
        &details,
    )
    .await
    {
        tracing::warn!(error = %err, "could not audit a refused request");
    }
}

fn client_ip(parts: &Parts) -> String {
    parts.extensions.get::<ClientAddr>().map_or_else(|| "unknown".to_owned(), |a| a.0.ip().to_string())
}

/// The scope a request needs: `read` to read, `analyze` to upload, change or analyse (and to
/// make one's own API keys, never wider than one's own), `admin` to change organisations,
/// their settings, webhooks and members.
fn scope_needed(method: &Method, path: &str) -> &'static str {
    let reads = matches!(*method, Method::GET | Method::HEAD);
    if path.starts_with("/api/auth/") {
        // Signing out and one's own password are every member's.
        return "read";
    }
    let administers =
        ["/api/organisations", "/api/webhooks", "/api/users", "/api/invitations"].iter().any(|p| path.starts_with(p));
    match (reads, administers) {
        (true, _) => "read",
        (false, true) => "admin",
        (false, false) => "analyze",
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "theme=dark; cr_session=crs_abc ; cr_csrf=x".parse().expect("header"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("crs_abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn tokens_compare_equal_only_when_equal() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
