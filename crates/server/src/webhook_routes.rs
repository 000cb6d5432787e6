//! Handlers of an organisation's webhooks: endpoints, their deliveries, redelivery.
//! Organisation admins only (the service checks).

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cr_service::webhooks::EndpointIn;

use crate::analysis_routes::PageQuery;
use crate::error::ApiError;
use crate::routes::{json_value, parse_json, parse_query, Caller};
use crate::startup::AppState;

pub async fn create_endpoint(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: EndpointIn = parse_json(&headers, &body)?;
    json_value(StatusCode::CREATED, &state.webhooks.create(&caller, input).await?)
}

pub async fn list_endpoints(State(state): State<AppState>, Caller(caller): Caller) -> Result<Response, ApiError> {
    json_value(StatusCode::OK, &serde_json::json!({ "items": state.webhooks.list(&caller).await? }))
}

pub async fn delete_endpoint(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.webhooks.delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_deliveries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    page: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let page = parse_query(page)?;
    json_value(StatusCode::OK, &state.webhooks.deliveries(&caller, &id, page.cursor.as_deref(), page.limit).await?)
}

pub async fn redeliver(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.webhooks.redeliver(&caller, &id).await?;
    Ok(StatusCode::ACCEPTED)
}
