//! Handlers of an organisation's webhooks: endpoints, their deliveries, redelivery.
//! Organisation admins only (the service checks).

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cr_service::webhooks::EndpointIn;

use crate::analysis_routes::PageQuery;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::routes::{json_value, parse_json, parse_query};
use crate::startup::AppState;

#[utoipa::path(post, path = "/api/webhooks", tag = "webhooks", request_body = EndpointIn, responses((status = 201, description = "the endpoint with its signing secret (shown once)", body = cr_service::webhooks::EndpointOut), (status = 403, description = "organisation admins only", body = crate::openapi::ErrorBody)))]
pub async fn create_endpoint(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: EndpointIn = parse_json(&headers, &body)?;
    json_value(StatusCode::CREATED, &state.webhooks.create(&caller, input).await?)
}

#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks", responses((status = 200, body = crate::openapi::Items<cr_service::webhooks::EndpointOut>), (status = 403, body = crate::openapi::ErrorBody)))]
pub async fn list_endpoints(State(state): State<AppState>, Caller(caller): Caller) -> Result<Response, ApiError> {
    json_value(StatusCode::OK, &crate::openapi::Items { items: state.webhooks.list(&caller).await? })
}

#[utoipa::path(delete, path = "/api/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), responses((status = 204), (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.webhooks.delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path), crate::analysis_routes::PageQuery), responses((status = 200, body = cr_service::webhooks::DeliveryPage), (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    page: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let page = parse_query(page)?;
    json_value(StatusCode::OK, &state.webhooks.deliveries(&caller, &id, page.cursor.as_deref(), page.limit).await?)
}

#[utoipa::path(post, path = "/api/webhooks/deliveries/{id}/redeliver", tag = "webhooks", params(("id" = String, Path)), responses((status = 202, description = "queued for delivery again"), (status = 403, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn redeliver(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.webhooks.redeliver(&caller, &id).await?;
    Ok(StatusCode::ACCEPTED)
}
