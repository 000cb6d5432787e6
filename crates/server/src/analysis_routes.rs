//! Handlers of the analysis flow: re-runs, results, reports, live events and portfolio
//! queries. Thin, like the document handlers: parse, authenticate, call the analysis service.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use cr_service::analysis::events::AnalysisEvent;
use cr_service::analysis::{AnalysisRequest, PortfolioQuery};
use cr_service::ServiceError;
use serde::Deserialize;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::routes::{json_response, json_value, parse_json, parse_query};
use crate::startup::AppState;

/// Longest life of one event stream; a browser reconnects (and gets the last state replayed).
const EVENT_STREAM_LIFETIME: Duration = Duration::from_secs(30 * 60);

#[utoipa::path(post, path = "/api/documents/{id}/analyses", tag = "analyses", params(("id" = String, Path)), request_body(content = Option<AnalysisRequest>, description = "optional; fields left out take the organisation's defaults"), responses((status = 202, description = "queued", body = cr_service::analysis::JobOut, headers(("Location" = String))), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn request_analysis(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: AnalysisRequest =
        if body.is_empty() { AnalysisRequest::default() } else { parse_json(&headers, &body)? };
    let job = state.analysis.request(&caller, &id, &request).await?;
    let mut response = json_value(StatusCode::ACCEPTED, &job)?;
    if let Ok(location) = HeaderValue::from_str(&format!("/api/documents/{id}/analysis")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// `PUT /api/organisations/{id}/analysis-defaults`: the playbook and side of uploads that
/// name none.
#[utoipa::path(put, path = "/api/organisations/{id}/analysis-defaults", tag = "organisations", params(("id" = String, Path)), request_body = AnalysisRequest, responses((status = 200, body = AnalysisRequest), (status = 403, description = "organisation admins only", body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn set_defaults(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let defaults: AnalysisRequest = parse_json(&headers, &body)?;
    json_value(StatusCode::OK, &state.analysis.set_defaults(&caller, &id, &defaults).await?)
}

#[utoipa::path(get, path = "/api/documents/{id}/analyses", tag = "analyses", params(("id" = String, Path), PageQuery), responses((status = 200, description = "newest first", body = cr_service::analysis::HistoryPage), (status = 400, body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn list_analyses(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    page: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let page = parse_query(page)?;
    let history = state.analysis.history(&caller, &id, page.cursor.as_deref(), page.limit).await?;
    json_value(StatusCode::OK, &history)
}

#[utoipa::path(get, path = "/api/documents/{id}/analysis", tag = "analyses", params(("id" = String, Path)), responses((status = 200, body = cr_service::analysis::AnalysisOut), (status = 404, description = "`not_found`, or `not_analysed` saying where its analysis stands", body = crate::openapi::ErrorBody)))]
pub async fn latest_analysis(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    match state.analysis.latest_json(&caller, &id).await {
        Ok(body) => Ok(json_response(StatusCode::OK, body)),
        // Say where the analysis stands when there is none yet.
        Err(ServiceError::NotFound(what)) if what.starts_with("analysis") => {
            let job = state.analysis.latest_job(&caller, &id).await?;
            let message = match job {
                Some(job) if job.state == "failed" || job.state == "dead" => {
                    format!("the analysis {}: {}", job.state, job.error.unwrap_or_else(|| "no reason recorded".into()))
                }
                Some(job) => format!("the document is not analysed yet (its analysis is {})", job.state),
                None => "the document has never been analysed; POST /api/documents/{id}/analyses".into(),
            };
            Err(ApiError::NotFound { code: "not_analysed", message })
        }
        Err(err) => Err(err.into()),
    }
}

#[utoipa::path(get, path = "/api/analyses/{id}", tag = "analyses", params(("id" = String, Path)), responses((status = 200, body = cr_service::analysis::AnalysisOut), (status = 404, description = "no such analysis, or its document was deleted", body = crate::openapi::ErrorBody)))]
pub async fn get_analysis(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, state.analysis.get_json(&caller, &id).await?))
}

#[utoipa::path(get, path = "/api/analyses/{id}/report.json", tag = "analyses", params(("id" = String, Path)), responses((status = 200, description = "the review as written on completion (docs/review-schema.md)", content_type = "application/json"), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn report_json(state: State<AppState>, caller: Caller, id: Path<String>) -> Result<Response, ApiError> {
    report(state, caller, id, "json", "application/json").await
}

#[utoipa::path(get, path = "/api/analyses/{id}/report.pdf", tag = "analyses", params(("id" = String, Path)), responses((status = 200, description = "the PDF report", content_type = "application/pdf"), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn report_pdf(state: State<AppState>, caller: Caller, id: Path<String>) -> Result<Response, ApiError> {
    report(state, caller, id, "pdf", "application/pdf").await
}

async fn report(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    extension: &str,
    content_type: &'static str,
) -> Result<Response, ApiError> {
    let path = state.analysis.report_path(&caller, &id, extension).await?;
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::not_found("the report file is missing"))
        }
        Err(err) => return Err(ServiceError::Internal(anyhow::Error::new(err).context("opening a report")).into()),
    };
    let length = file.metadata().await.map(|m| m.len()).ok();
    let mut response = Response::new(Body::from_stream(tokio_util::io::ReaderStream::new(file)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.{extension}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/portfolio", tag = "analyses", params(PortfolioQuery), responses((status = 200, body = cr_service::analysis::PortfolioPage), (status = 400, body = crate::openapi::ErrorBody)))]
pub async fn portfolio(
    State(state): State<AppState>,
    Caller(caller): Caller,
    params: Result<Query<PortfolioQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let params = parse_query(params)?;
    json_value(StatusCode::OK, &state.analysis.portfolio(&caller, &params).await?)
}

/// `GET /api/documents/{id}/events`: Server-Sent Events of the document's analyses, the last
/// known state first.
#[utoipa::path(get, path = "/api/documents/{id}/events", tag = "analyses", params(("id" = String, Path)), responses((status = 200, description = "Server-Sent Events: the last state, then queued, extracting, classifying, checking_playbook, writing_results, completed / failed / dead", content_type = "text/event-stream"), (status = 404, body = crate::openapi::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // Authorises the caller for this document (404 for another organisation's).
    state.documents.get_json(&caller, &id).await?;
    let org = caller.organisation_id.clone();
    // Subscribe before reading the last state, so nothing falls between the two.
    let receiver = state.analysis.events().subscribe();
    let last = match state.analysis.events().last(&org, &id).await {
        Some(event) => Some(event),
        None => state.analysis.latest_job(&caller, &id).await?.map(|job| {
            let mut event =
                AnalysisEvent::new(&job.state, &org, &id, &job.id, if job.state == "completed" { 100 } else { 0 });
            event.analysis_id = job.analysis_id;
            event.error_code = job.error_code;
            event.error = job.error;
            event.at = job.updated_at;
            event
        }),
    };
    let shutdown = state.shutdown.clone();
    let deadline = tokio::time::Instant::now() + EVENT_STREAM_LIFETIME;
    let first = last.map(|event| Ok::<_, Infallible>(sse_event(&event)));
    let live = futures::stream::unfold((receiver, org, id), move |(mut receiver, org, id)| {
        let shutdown = shutdown.clone();
        async move {
            loop {
                let next = tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    _ = tokio::time::sleep_until(deadline) => return None,
                    next = receiver.recv() => next,
                };
                match next {
                    Ok(event) if event.organisation_id == org && event.document_id == id => {
                        return Some((Ok::<_, Infallible>(sse_event(&event)), (receiver, org, id)))
                    }
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let event = Event::default().event("lagged").data("some events were skipped; reload the state");
                        return Some((Ok(event), (receiver, org, id)));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    let stream = futures::StreamExt::chain(futures::stream::iter(first), live);
    let mut response = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn sse_event(event: &AnalysisEvent) -> Event {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    Event::default()
        .event(event.event.clone())
        .id(format!("{}:{}", event.job_id, event.at.timestamp_micros()))
        .data(data)
}
