//! Handlers of people: sign-in to a browser session (an HttpOnly cookie, with a CSRF token
//! for writes), sign-out here or everywhere, the caller's own account, and members and
//! invitations, which organisation admins manage.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cr_store::accounts::{Invitation, Member};
use serde::{Deserialize, Serialize};

use crate::caller::{cookie, Caller, SessionCaller, CSRF_COOKIE, SESSION_COOKIE};
use crate::error::ApiError;
use crate::middleware::ClientAddr;
use crate::routes::{json_value, parse_json};
use crate::startup::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    email: String,
    password: String,
    /// The organisation to work in (default: the user's own).
    organisation_id: Option<String>,
}

/// A session just opened (its token is in the `cr_session` cookie only).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionOut {
    user_id: String,
    organisation_id: String,
    role: String,
    permissions: Vec<String>,
    /// Send it back in `X-CSRF-Token` with every write made with the cookie.
    csrf_token: String,
    /// Seconds the session lasts without use (each request pushes it back).
    idle_timeout_secs: u64,
}

#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginIn, responses((status = 200, description = "signed in: the session is in the `cr_session` cookie (HttpOnly, SameSite=Lax)", body = SessionOut), (status = 401, description = "wrong e-mail address or password, or a disabled account", body = crate::openapi::ErrorBody), (status = 429, description = "too many attempts for this account or from this address", body = crate::openapi::ErrorBody), (status = 503, description = "the session store (Redis) is unreachable", body = crate::openapi::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    client: Option<axum::Extension<ClientAddr>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: LoginIn = parse_json(&headers, &body)?;
    let ip = client.map_or_else(|| "unknown".to_owned(), |c| c.0 .0.ip().to_string());
    // A token the browser held before signing in is never the signed-in one (fixation): the
    // old session ends and a new token is made.
    if let Some(old) = cookie(&headers, SESSION_COOKIE) {
        state.accounts.end_token(old).await;
    }
    let session = state.accounts.login(&input.email, &input.password, input.organisation_id.as_deref(), &ip).await?;
    let settings = &state.config.auth;
    let out = SessionOut {
        user_id: session.data.user_id.clone(),
        organisation_id: session.data.organisation_id.clone(),
        role: session.data.role.clone(),
        permissions: session.data.permissions.clone(),
        csrf_token: session.data.csrf_token.clone(),
        idle_timeout_secs: settings.session_idle_secs,
    };
    let mut response = json_value(StatusCode::OK, &out)?;
    let max_age = settings.session_absolute_secs;
    set_cookie(&mut response, &state, SESSION_COOKIE, &session.token, max_age, true)?;
    set_cookie(&mut response, &state, CSRF_COOKIE, &session.data.csrf_token, max_age, false)?;
    Ok(response)
}

fn set_cookie(
    response: &mut Response,
    state: &AppState,
    name: &str,
    value: &str,
    max_age: u64,
    http_only: bool,
) -> Result<(), ApiError> {
    let secure = if state.config.auth.cookie_secure { "; Secure" } else { "" };
    let http_only = if http_only { "; HttpOnly" } else { "" };
    let cookie = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Lax{http_only}{secure}");
    let value = HeaderValue::from_str(&cookie).map_err(|_| ApiError::Internal)?;
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(())
}

fn cleared(state: &AppState) -> Result<Response, ApiError> {
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut response, state, SESSION_COOKIE, "", 0, true)?;
    set_cookie(&mut response, state, CSRF_COOKIE, "", 0, false)?;
    Ok(response)
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", responses((status = 204, description = "the session has ended; its cookies are cleared")))]
pub async fn logout(State(state): State<AppState>, caller: SessionCaller) -> Result<Response, ApiError> {
    state.accounts.logout(&caller.principal, &caller.token_hash).await?;
    cleared(&state)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogoutAllOut {
    /// Sessions ended.
    ended: u64,
}

#[utoipa::path(post, path = "/api/auth/logout-all", tag = "auth", responses((status = 200, description = "every session of the calling user has ended, on every device", body = LogoutAllOut)))]
pub async fn logout_all(State(state): State<AppState>, Caller(caller): Caller) -> Result<Response, ApiError> {
    let ended = state.accounts.logout_everywhere(&caller).await?;
    let mut response = json_value(StatusCode::OK, &LogoutAllOut { ended })?;
    set_cookie(&mut response, &state, SESSION_COOKIE, "", 0, true)?;
    Ok(response)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeOut {
    user: Member,
    organisation_id: String,
    /// What this request may do: the role's permissions (narrowed to a key's scopes).
    permissions: Vec<String>,
    /// `session` or `api_key`.
    authenticated_by: &'static str,
}

#[utoipa::path(get, path = "/api/auth/me", tag = "auth", responses((status = 200, description = "the caller", body = MeOut)))]
pub async fn me(State(state): State<AppState>, Caller(caller): Caller) -> Result<Response, ApiError> {
    let user = state.accounts.me(&caller).await?;
    let out = MeOut {
        user,
        organisation_id: caller.organisation_id.clone(),
        permissions: cr_store::identity::narrow_to_role(&caller.scopes, &caller.role)
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        authenticated_by: if caller.key_id.is_some() { "api_key" } else { "session" },
    };
    json_value(StatusCode::OK, &out)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordIn {
    current_password: String,
    new_password: String,
}

#[utoipa::path(post, path = "/api/auth/password", tag = "auth", request_body = PasswordIn, responses((status = 204, description = "changed; every session of the user has ended"), (status = 401, description = "the current password is wrong", body = crate::openapi::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: PasswordIn = parse_json(&headers, &body)?;
    state.accounts.change_password(&caller, &input.current_password, &input.new_password).await?;
    cleared(&state)
}

#[utoipa::path(get, path = "/api/users", tag = "members", responses((status = 200, description = "the organisation's members", body = crate::openapi::Items<Member>)))]
pub async fn list_users(State(state): State<AppState>, Caller(caller): Caller) -> Result<Response, ApiError> {
    json_value(StatusCode::OK, &crate::openapi::Items { items: state.accounts.list_members(&caller).await? })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    email: String,
    #[serde(default)]
    name: String,
    /// At least 10 characters; the admin passes it on.
    password: String,
    /// `admin`, `reviewer` or `viewer`.
    role: String,
}

#[utoipa::path(post, path = "/api/users", tag = "members", request_body = UserIn, responses((status = 201, description = "the member", body = Member), (status = 409, description = "the e-mail address is taken", body = crate::openapi::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: UserIn = parse_json(&headers, &body)?;
    let member = state.accounts.create_user(&caller, &input.email, &input.name, &input.password, &input.role).await?;
    json_value(StatusCode::CREATED, &member)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// `admin`, `reviewer` or `viewer`.
    role: Option<String>,
    disabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/users/{id}", tag = "members", params(("id" = String, Path)), request_body = UserPatch, responses((status = 200, description = "the member as changed; its sessions have ended", body = Member), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: UserPatch = parse_json(&headers, &body)?;
    let member = state.accounts.update_member(&caller, &id, input.role.as_deref(), input.disabled).await?;
    json_value(StatusCode::OK, &member)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationIn {
    email: String,
    role: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationOut {
    invitation: Invitation,
    /// The one-time token to pass on (shown once).
    token: String,
}

#[utoipa::path(post, path = "/api/invitations", tag = "members", request_body = InvitationIn, responses((status = 201, description = "the invitation and its one-time token", body = InvitationOut)))]
pub async fn invite(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: InvitationIn = parse_json(&headers, &body)?;
    let (invitation, token) = state.accounts.invite(&caller, &input.email, &input.role).await?;
    json_value(StatusCode::CREATED, &InvitationOut { invitation, token })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptIn {
    token: String,
    #[serde(default)]
    name: String,
    password: String,
}

#[utoipa::path(post, path = "/api/invitations/accept", tag = "members", request_body = AcceptIn, responses((status = 201, description = "the new member; sign in with its e-mail address and password", body = Member), (status = 404, description = "no such live invitation (unknown, used or expired)", body = crate::openapi::ErrorBody)))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: AcceptIn = parse_json(&headers, &body)?;
    let member = state.accounts.accept_invitation(&input.token, &input.name, &input.password).await?;
    json_value(StatusCode::CREATED, &member)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Rows of this user only.
    actor: Option<String>,
    /// Rows of this action only (`auth.login`, `document.download`, …).
    action: Option<String>,
    /// Rows about this document, key, user, … only.
    target: Option<String>,
    /// From this time on (RFC 3339).
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// Before this time (RFC 3339).
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Rows per page: 1 to 500 (JSON, default 100), or up to 10,000 (CSV, default 10,000).
    limit: Option<i64>,
    /// `json` (default) or `csv` (an export, with the next cursor in `X-Next-Cursor`).
    format: Option<String>,
}

#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditParams), responses((status = 200, description = "the organisation's audit log, newest first", body = cr_service::audit::AuditPage), (status = 403, description = "not an organisation admin", body = crate::openapi::ErrorBody)))]
pub async fn read_audit(
    State(state): State<AppState>,
    Caller(caller): Caller,
    params: Result<axum::extract::Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let params = crate::routes::parse_query(params)?;
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::bad_request("invalid_query", "format must be json or csv")),
    };
    let query = cr_service::audit::AuditQuery {
        actor_id: params.actor,
        action: params.action,
        target_id: params.target,
        since: params.since,
        until: params.until,
        cursor: params.cursor,
        limit: params.limit,
    };
    let max = if csv { cr_service::audit::MAX_EXPORT } else { cr_service::audit::MAX_PAGE };
    let page = cr_service::audit::read(&state.db, &caller, &query, max).await?;
    if !csv {
        return json_value(StatusCode::OK, &page);
    }
    let mut response = cr_service::audit::to_csv(&page.items).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"audit.csv\""));
    if let Some(cursor) = page.next_cursor.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert("x-next-cursor", cursor);
    }
    Ok(response)
}
