//! Handlers of document shares: list, share with a user or a role, unshare.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::routes::{json_value, parse_json};
use crate::startup::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareIn {
    /// A member's id, or
    user_id: Option<String>,
    /// every member with this role (`admin`, `reviewer`, `viewer`).
    role: Option<String>,
    /// `read`, `analyze` or `manage`.
    permission: String,
}

#[utoipa::path(get, path = "/api/documents/{id}/shares", tag = "documents", params(("id" = String, Path)), responses((status = 200, description = "who the document is shared with", body = crate::openapi::Items<cr_store::shares::Share>)))]
pub async fn list_shares(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    json_value(
        StatusCode::OK,
        &crate::openapi::Items { items: cr_service::shares::list(&state.db, &caller, &id).await? },
    )
}

#[utoipa::path(post, path = "/api/documents/{id}/shares", tag = "documents", params(("id" = String, Path)), request_body = ShareIn, responses((status = 201, description = "shared (replacing the grantee's earlier share); applies from the next request", body = cr_store::shares::Share), (status = 404, description = "no such document or member", body = crate::openapi::ErrorBody)))]
pub async fn create_share(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: ShareIn = parse_json(&headers, &body)?;
    let share = cr_service::shares::share(
        &state.db,
        &caller,
        &id,
        input.user_id.as_deref(),
        input.role.as_deref(),
        &input.permission,
    )
    .await?;
    json_value(StatusCode::CREATED, &share)
}

#[utoipa::path(delete, path = "/api/documents/{id}/shares/{share_id}", tag = "documents", params(("id" = String, Path), ("share_id" = String, Path)), responses((status = 204, description = "unshared; applies from the next request"), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn delete_share(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, share_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    cr_service::shares::unshare(&state.db, &caller, &id, &share_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
