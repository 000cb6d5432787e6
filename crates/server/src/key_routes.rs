//! Handlers of API keys: a user creates keys for programs (shown once), lists them, rotates
//! and revokes them. Managing keys needs a key with the `admin` scope; an organisation admin
//! manages every key of the organisation, anyone else their own (the service checks).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::routes::{json_value, parse_json};
use crate::startup::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyIn {
    /// What the key is for ("CI pipeline").
    name: String,
    /// Some of `read`, `analyze`, `admin`; default: the calling key's own.
    scopes: Option<Vec<String>>,
    /// When the key stops working (RFC 3339); default: never.
    expires_at: Option<DateTime<Utc>>,
    /// The member the key is for (organisation admins only); default: the caller.
    user_id: Option<String>,
}

#[utoipa::path(post, path = "/api/keys", tag = "keys", request_body = KeyIn, responses((status = 201, description = "the key and its secret (shown once)", body = cr_store::api_keys::CreatedApiKey), (status = 403, description = "the calling key lacks the admin scope, or a scope asked for", body = crate::openapi::ErrorBody)))]
pub async fn create_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: KeyIn = parse_json(&headers, &body)?;
    json_value(
        StatusCode::CREATED,
        &state.auth.create_key(&caller, input.user_id.as_deref(), &input.name, input.scopes, input.expires_at).await?,
    )
}

#[utoipa::path(get, path = "/api/keys", tag = "keys", responses((status = 200, description = "the organisation's keys for an admin, else the caller's own; never their secrets", body = crate::openapi::Items<cr_store::api_keys::ApiKeyInfo>)))]
pub async fn list_keys(State(state): State<AppState>, Caller(caller): Caller) -> Result<Response, ApiError> {
    json_value(StatusCode::OK, &crate::openapi::Items { items: state.auth.list_keys(&caller).await? })
}

#[utoipa::path(delete, path = "/api/keys/{id}", tag = "keys", params(("id" = String, Path)), responses((status = 204, description = "revoked: refused from the next request on, on every instance"), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.auth.revoke_key(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/keys/{id}/rotate", tag = "keys", params(("id" = String, Path)), responses((status = 201, description = "the new key and its secret (shown once); the old one is revoked", body = cr_store::api_keys::CreatedApiKey), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn rotate_key(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    json_value(StatusCode::CREATED, &state.auth.rotate_key(&caller, &id).await?)
}
