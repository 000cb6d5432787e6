//! Who is calling, decided once per request by [`authorize`]: an API key (`Authorization:
//! Bearer` or `X-API-Key`) or a browser session (the `cr_session` cookie). Either way the
//! request must be allowed what its route's rule in [`access`] needs; a cookie-authenticated
//! write must also echo the session's CSRF token in `X-CSRF-Token`. Refusals are audited.

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{request::Parts, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cr_service::ServiceError;
use cr_store::identity::Principal;

use crate::access::{self, Access, Permission, RouteRule};
use crate::error::ApiError;
use crate::middleware::{self, ClientAddr};
use crate::startup::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "cr_session";
/// The cookie scripts read the CSRF token from (not HttpOnly, unlike the session's).
pub const CSRF_COOKIE: &str = "cr_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated principal of a request (set by [`authorize`]).
pub struct Caller(pub Principal);

/// A request made with a session cookie: its principal and the session token's hash.
pub struct SessionCaller {
    pub principal: Principal,
    pub token_hash: String,
}

/// What [`authorize`] found, for the handler's extractors.
#[derive(Clone, Debug)]
struct Authorized {
    principal: Principal,
    session: Option<String>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        authorized(parts).map(|a| Caller(a.principal))
    }
}

impl FromRequestParts<AppState> for SessionCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        match authorized(parts)? {
            Authorized { principal, session: Some(token_hash) } => Ok(SessionCaller { principal, token_hash }),
            Authorized { session: None, .. } => {
                Err(ApiError::bad_request("not_a_session", "this route is for sessions; the request used an API key"))
            }
        }
    }
}

/// What [`authorize`] found, taken (not copied) from the request: a handler has one caller.
fn authorized(parts: &mut Parts) -> Result<Authorized, ApiError> {
    parts.extensions.remove::<Authorized>().ok_or_else(|| {
        // A handler that wants a caller on a route the table makes public: a bug, not a client error.
        tracing::error!(path = parts.uri.path(), "a handler asked for the caller of a public route");
        ApiError::Internal
    })
}

/// Decides every matched request by its route's rule in [`access::routes`]: public routes pass;
/// the others need an API key or a session whose permissions (role, shares, key scopes) allow
/// the route, and a cookie write the session's CSRF token. The caller goes on to the handler.
pub async fn authorize(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(template) = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()) else {
        return next.run(request).await;
    };
    let Some(rule) = access::find(request.method(), &template) else {
        tracing::error!(route = template, "a served route has no access rule");
        return ApiError::Internal.into_response();
    };
    if rule.access == Access::Public {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    match authenticate(&parts, &state, rule).await {
        Ok(authorized) => {
            if let Err(refused) = limit_user(&state, &authorized.principal).await {
                return refused.into_response();
            }
            parts.extensions.insert(authorized);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(err) => err.into_response(),
    }
}

/// The per-user rate limit, after authentication: a user's keys and sessions share it.
async fn limit_user(state: &AppState, principal: &Principal) -> Result<(), ApiError> {
    let settings = &state.config.rate_limit;
    if !settings.enabled {
        return Ok(());
    }
    let bucket = format!("user:{}", principal.user_id);
    let decision = state.limiter.check(&[(bucket.as_str(), settings.per_user())]).await;
    if decision.allowed {
        return Ok(());
    }
    let retry_after_secs = decision.retry_after.as_secs_f64().ceil().max(1.0) as u64;
    Err(ApiError::TooManyRequests {
        message: format!("rate limit of {} requests per user exceeded; retry in {retry_after_secs} s", decision.limit),
        retry_after_secs,
    })
}

/// The principal of a request, allowed what `rule` needs.
async fn authenticate(parts: &Parts, state: &AppState, rule: &RouteRule) -> Result<Authorized, ApiError> {
    let (principal, session) = if let Some(key) = middleware::presented_api_key(&parts.headers) {
        let hash = match parts.extensions.get::<middleware::Presented>() {
            Some(middleware::Presented::Key(hash)) => hash.clone(),
            _ => cr_store::identity::hash_api_key(key),
        };
        match state.auth.authenticate_hash(&hash).await {
            Ok(principal) => (principal, None),
            Err(ServiceError::Unauthenticated) => {
                state.auth.audit_unknown_key(&hash, &client_ip(parts), parts.uri.path()).await;
                return Err(ApiError::Unauthenticated);
            }
            Err(err) => return Err(err.into()),
        }
    } else if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
        let hash = match parts.extensions.get::<middleware::Presented>() {
            Some(middleware::Presented::Session(hash)) => hash.clone(),
            _ => cr_service::accounts::hash_token(token),
        };
        let session = match state.accounts.resolve_session(&hash).await {
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
            refuse(state, parts, &session.principal, "auth.csrf_refused", "csrf").await;
            return Err(ApiError::Forbidden(format!(
                "a write made with a session cookie must send the session's CSRF token in `{CSRF_HEADER}`"
            )));
        }
        (session.principal, Some(session.token_hash))
    } else {
        return Err(ApiError::Unauthenticated);
    };
    let permission = match rule.access {
        Access::Public | Access::Member => None,
        Access::Organisation(permission) | Access::Document(permission) => Some(permission),
    };
    if let Some(permission) = permission {
        if principal.key_id.is_some() && !principal.has_scope(permission.scope()) {
            refuse(state, parts, &principal, "api_key.refused", permission.scope()).await;
            return Err(ApiError::Forbidden(format!("this API key lacks the `{}` scope", permission.scope())));
        }
        if !permitted(state, parts, rule, &principal, permission).await? {
            refuse(state, parts, &principal, "auth.refused", permission.name()).await;
            return Err(ApiError::Forbidden(format!("your role does not allow `{}` here", permission.name())));
        }
    }
    Ok(Authorized { principal, session })
}

/// Whether the principal's role, or on a document a share (or having uploaded it), gives
/// `permission`. Shares are read only when the role is not enough.
async fn permitted(
    state: &AppState,
    parts: &Parts,
    rule: &RouteRule,
    principal: &Principal,
    permission: Permission,
) -> Result<bool, ApiError> {
    if permission == Permission::PlatformAdmin {
        return Ok(principal.is_platform_admin);
    }
    if access::role_grants(&principal.role, permission) {
        return Ok(true);
    }
    let Access::Document(_) = rule.access else { return Ok(false) };
    let Some(document_id) = access::path_param(rule.path, parts.uri.path(), "id") else { return Ok(false) };
    if !cr_store::ids::is_valid("doc", document_id) {
        return Ok(false);
    }
    let held =
        cr_store::shares::held(&state.db, &principal.organisation_id, document_id, &principal.user_id, &principal.role)
            .await
            .map_err(|err| ApiError::from(ServiceError::from(err)))?;
    Ok(held.iter().any(|share| access::share_grants(share, permission)))
}

/// Audits a refused request of a known principal. (A refusal that cannot be recorded is
/// still a refusal.)
async fn refuse(state: &AppState, parts: &Parts, principal: &Principal, action: &str, needed: &str) {
    let details = serde_json::json!({ "method": parts.method.as_str(), "path": parts.uri.path(), "needed": needed });
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
