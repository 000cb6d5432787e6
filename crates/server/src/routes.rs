//! Routes and thin handlers. Every request except health and the OpenAPI document is made as
//! a [`Caller`], authenticated by API key; every input is parsed here into typed values, and
//! every failure leaves as an [`ApiError`].

use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use cr_service::documents::{
    DocumentOut, DocumentPage, DocumentPatch, ListQuery, RelationIn, StoredResponse, UploadIn,
};
use cr_service::ServiceError;
use cr_store::documents::RelationRow;
use cr_store::identity::Principal;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::analysis_routes as analysis;
use crate::auth_routes;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::key_routes;
use crate::middleware;
use crate::share_routes;
use crate::startup::AppState;
use crate::webhook_routes as webhooks;
use tower_http::timeout::RequestBodyTimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route, each with its OpenAPI description (see [`crate::openapi`]). Uploads take
/// bodies of up to `upload_limit` bytes; every other body is limited to 64 KiB in [`router`].
pub fn documented_routes(upload_limit: usize) -> OpenApiRouter<AppState> {
    let (schemas, paths, documents) = routes!(upload_document, list_documents);
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(openapi))
        .routes(routes!(create_organisation))
        .routes(routes!(auth_routes::login))
        .routes(routes!(auth_routes::logout))
        .routes(routes!(auth_routes::logout_all))
        .routes(routes!(auth_routes::me))
        .routes(routes!(auth_routes::change_password))
        .routes(routes!(auth_routes::list_users, auth_routes::create_user))
        .routes(routes!(auth_routes::update_user))
        .routes(routes!(auth_routes::invite))
        .routes(routes!(auth_routes::accept_invitation))
        .routes(routes!(auth_routes::read_audit))
        .routes(routes!(key_routes::create_key, key_routes::list_keys))
        .routes(routes!(key_routes::revoke_key))
        .routes(routes!(key_routes::rotate_key))
        .routes((schemas, paths, documents.layer(DefaultBodyLimit::max(upload_limit))))
        .routes(routes!(get_document, update_document, delete_document))
        .routes(routes!(download_original))
        .routes(routes!(list_relations, create_relation))
        .routes(routes!(delete_relation))
        .routes(routes!(share_routes::list_shares, share_routes::create_share))
        .routes(routes!(share_routes::delete_share))
        .routes(routes!(analysis::request_analysis, analysis::list_analyses))
        .routes(routes!(analysis::latest_analysis))
        .routes(routes!(analysis::events))
        .routes(routes!(analysis::get_analysis))
        .routes(routes!(analysis::report_json))
        .routes(routes!(analysis::report_pdf))
        .routes(routes!(analysis::portfolio))
        .routes(routes!(analysis::set_defaults))
        .routes(routes!(webhooks::create_endpoint, webhooks::list_endpoints))
        .routes(routes!(webhooks::delete_endpoint))
        .routes(routes!(webhooks::list_deliveries))
        .routes(routes!(webhooks::redeliver))
}

pub fn router(state: AppState) -> Router {
    // Room for the multipart framing and the metadata field around the file itself.
    let upload_limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX).saturating_add(1 << 20);
    let limits = state.config.request_limits();
    let body_idle = std::time::Duration::from_secs_f64(state.config.http.body_idle_timeout_secs);
    // (Validated at start.)
    let trusted =
        middleware::TrustedProxies(std::sync::Arc::new(state.config.http.trusted_proxy_nets().unwrap_or_default()));
    let (routes, _) = documented_routes(upload_limit).split_for_parts();
    routes
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::caller::authorize))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(axum::middleware::from_fn_with_state(limits.clone(), middleware::deadline))
        .layer(RequestBodyTimeoutLayer::new(body_idle))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::rate_limit))
        .layer(axum::middleware::from_fn_with_state(trusted, middleware::resolve_client))
        .layer(axum::middleware::from_fn_with_state(limits, middleware::check_request))
        .layer(axum::middleware::from_fn(middleware::shape_response))
        .with_state(state)
}

pub(crate) fn json_response(status: StatusCode, body: Bytes) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

pub(crate) fn json_value<T: serde::Serialize>(status: StatusCode, value: &T) -> Result<Response, ApiError> {
    Ok(json_response(status, to_json_bytes(value)?))
}

/// Parses a JSON request body into `T`, with 415 / 400 / 422 errors that say what is wrong.
pub(crate) fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !is_json {
        return Err(ApiError::unsupported_media_type("send the body as application/json"));
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|err| ApiError::bad_request("malformed_json", format!("malformed JSON: {err}")))?;
    if middleware::contains_nul(&value) {
        return Err(middleware::invalid_text());
    }
    serde_json::from_value(value).map_err(|err| ApiError::unprocessable("invalid_body", format!("invalid body: {err}")))
}

/// What makes two creating requests "the same" for `Idempotency-Key`: the route and the
/// parsed request, so spacing and key order of the JSON do not matter.
fn fingerprint<T: serde::Serialize>(route: &str, input: &T) -> Result<Vec<u8>, ApiError> {
    let mut out = format!("{route}\n").into_bytes();
    serde_json::to_writer(&mut out, input).map_err(|e| ServiceError::Internal(e.into()))?;
    Ok(out)
}

/// A query string parsed into `T`, or 400 `invalid_query` saying what is wrong.
pub(crate) fn parse_query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|v| Some(v.to_owned()))
            .map_err(|_| ApiError::bad_request("invalid_idempotency_key", "Idempotency-Key must be visible ASCII")),
    }
}

#[utoipa::path(get, path = "/healthz", tag = "health", security(()), responses((status = 200, description = "the process is up")))]
async fn healthz() -> Response {
    json_response(StatusCode::OK, Bytes::from_static(br#"{"status":"ok"}"#))
}

#[utoipa::path(get, path = "/readyz", tag = "health", security(()), responses((status = 200, description = "the database answers (the cache state is reported, not required)"), (status = 503, description = "the database does not answer")))]
async fn readyz(State(state): State<AppState>) -> Response {
    let database = match tokio::time::timeout(std::time::Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => "ok".to_owned(),
        Ok(Err(err)) => format!("error: {err:#}"),
        Err(_) => "error: timed out".to_owned(),
    };
    let status = if database == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::json!({
        "status": if status == StatusCode::OK { "ready" } else { "not_ready" },
        "mode": state.config.mode(),
        "database": { "backend": state.db.backend_name(), "state": database },
        "cache": state.cache.stats(),
    });
    (status, axum::Json(body)).into_response()
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "health", security(()), responses((status = 200, description = "this document")))]
async fn openapi() -> Response {
    json_response(StatusCode::OK, Bytes::from_static(crate::openapi::document_json().as_bytes()))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see /api/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[derive(Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct OrganisationIn {
    name: String,
    admin_email: String,
}

#[utoipa::path(post, path = "/api/organisations", tag = "organisations", request_body = OrganisationIn, params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key gets the first answer (header `Idempotent-Replayed: true`); the same key on another request gets 422")), responses((status = 201, description = "the organisation, its admin and the admin's API key (shown once)", body = cr_store::identity::ProvisionedOrganisation), (status = 403, description = "platform admins only", body = crate::openapi::ErrorBody), (status = 409, description = "the admin e-mail is taken", body = crate::openapi::ErrorBody)))]
async fn create_organisation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: OrganisationIn = parse_json(&headers, &body)?;
    let fingerprint = fingerprint("POST /api/organisations", &input)?;
    created_once(&state, &caller, &headers, &fingerprint, without_api_key, || {
        state.auth.provision_organisation(&caller, &input.name, &input.admin_email)
    })
    .await
}

/// Runs a creating POST under its `Idempotency-Key` (if any): a replay gets the first
/// response; a new request answers 201 with what `create` made, stored in `stored_form`.
async fn created_once<T, F, Fut>(
    state: &AppState,
    caller: &Principal,
    headers: &HeaderMap,
    fingerprint: &[u8],
    stored_form: impl FnOnce(&Bytes) -> Bytes,
    create: F,
) -> Result<Response, ApiError>
where
    T: serde::Serialize,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, ServiceError>>,
{
    let key = idempotency_key(headers)?;
    let run = || async { Ok((201, to_json_bytes(&create().await?)?)) };
    let stored =
        cr_service::idempotency::replay_or_run(&state.db, caller, key.as_deref(), fingerprint, run, stored_form)
            .await?;
    Ok(stored_response(stored))
}

/// The stored form of an organisation's creation: API keys are shown once and never rest in
/// the database in plain text, so a replay says where the key went instead.
fn without_api_key(body: &Bytes) -> Bytes {
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else { return Bytes::new() };
    value["api_key"] = serde_json::Value::String("(shown once in the first response; not stored)".into());
    Bytes::from(value.to_string())
}

fn to_json_bytes<T: serde::Serialize>(value: &T) -> Result<Bytes, ServiceError> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| ServiceError::Internal(e.into()))
}

/// A stored (or freshly made) response, marked when it is a replay.
fn stored_response(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = json_response(status, stored.body);
    if stored.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

#[utoipa::path(post, path = "/api/documents", tag = "documents", request_body(content = crate::openapi::UploadForm, content_type = "multipart/form-data"), params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key gets the first answer (header `Idempotent-Replayed: true`); the same key on another request gets 422")), responses((status = 201, description = "stored, and its analysis queued", body = DocumentOut, headers(("Location" = String))), (status = 200, description = "the organisation already has a document with this content: that one", body = DocumentOut), (status = 400, description = "a missing, repeated, unknown or malformed field; an empty or corrupt file; NUL in text", body = crate::openapi::ErrorBody), (status = 413, description = "the file or a field is larger than its limit", body = crate::openapi::ErrorBody), (status = 415, description = "not PDF, DOCX, text or Markdown; or not multipart/form-data", body = crate::openapi::ErrorBody), (status = 422, description = "the Idempotency-Key was used for another request", body = crate::openapi::ErrorBody)))]
async fn upload_document(
    State(state): State<AppState>,
    Caller(caller): Caller,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let idempotency_key = idempotency_key(&headers)?;
    let mut multipart = multipart.map_err(|_| {
        ApiError::unsupported_media_type(
            "send multipart/form-data with a `file` field (and optionally a `metadata` JSON field)",
        )
    })?;
    let limit = state.config.max_upload_bytes;
    let mut upload: Option<(cr_store::files::StagedFile, String)> = None;
    let mut metadata = None;
    let mut request = cr_service::analysis::AnalysisRequest::default();
    let outcome: Result<(), ApiError> = async {
        while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
            match field.name().unwrap_or_default() {
                "file" => {
                    if upload.is_some() {
                        return Err(ApiError::bad_request("multiple_files", "send one `file` field per upload"));
                    }
                    let filename = field.file_name().unwrap_or("document").to_owned();
                    let staged = state.documents.files().stage().await.map_err(ServiceError::Internal)?;
                    let (staged, _) = upload.insert((staged, filename));
                    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                        if staged.size() + chunk.len() as u64 > limit {
                            return Err(ServiceError::PayloadTooLarge { limit }.into());
                        }
                        staged.write(&chunk).await.map_err(ServiceError::Internal)?;
                    }
                }
                "metadata" => {
                    if metadata.is_some() {
                        return Err(ApiError::bad_request("duplicate_field", "send one `metadata` field per upload"));
                    }
                    let text = read_text_field(&mut field, "metadata", MAX_METADATA_FIELD_BYTES).await?;
                    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                        ApiError::bad_request("malformed_json", format!("metadata is not valid JSON: {e}"))
                    })?;
                    if middleware::contains_nul(&value) {
                        return Err(middleware::invalid_text());
                    }
                    metadata = Some(value);
                }
                name @ ("playbook" | "side") => {
                    let name = name.to_owned();
                    let text = read_text_field(&mut field, &name, 64).await?;
                    let slot = if name == "playbook" { &mut request.playbook } else { &mut request.side };
                    if text.contains('\0') || slot.replace(text.trim().to_owned()).is_some() {
                        return Err(ApiError::bad_request(
                            "invalid_field",
                            format!("send at most one short `{name}` field per upload"),
                        ));
                    }
                }
                other => {
                    return Err(ApiError::bad_request(
                        "unknown_field",
                        format!(
                            "unexpected form field `{}`; send `file` and optionally `metadata`, `playbook`, `side`",
                            other.escape_debug()
                        ),
                    ))
                }
            }
        }
        Ok(())
    }
    .await;
    if let Err(err) = outcome {
        if let Some((staged, _)) = upload {
            staged.discard().await;
        }
        return Err(err);
    }
    let Some((staged, filename)) = upload else {
        return Err(ApiError::bad_request("missing_file", "the form has no `file` field"));
    };
    let job = match state.analysis.new_job(&caller, &request).await {
        Ok(job) => job,
        Err(err) => {
            staged.discard().await;
            return Err(err.into());
        }
    };
    let StoredResponse { status, body, replayed, queued_job } = state
        .documents
        .upload(&caller, UploadIn { staged, filename, metadata, idempotency_key, job: Some(job) })
        .await?;
    let document = serde_json::from_slice::<cr_service::documents::DocumentOut>(&body).ok();
    if let (Some(job_id), Some(doc)) = (&queued_job, &document) {
        state.analysis.queued(&caller.organisation_id, &doc.id, job_id).await;
    }
    let location = document.and_then(|doc| HeaderValue::from_str(&format!("/api/documents/{}", doc.id)).ok());
    let mut response = stored_response(StoredResponse { status, body, replayed, queued_job: None });
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Bytes of the `metadata` form field read at most (the stored object may hold 16 KiB;
/// this leaves room for the spacing of its JSON text).
const MAX_METADATA_FIELD_BYTES: usize = 64 * 1024;

/// A text form field, read chunk by chunk and refused with 413 once past `limit` bytes.
async fn read_text_field(
    field: &mut axum::extract::multipart::Field<'_>,
    name: &str,
    limit: usize,
) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if bytes.len() + chunk.len() > limit {
            return Err(ApiError::payload_too_large(
                "field_too_large",
                format!("the `{name}` field exceeds {limit} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("invalid_text", format!("the `{name}` field must be UTF-8 text")))
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::payload_too_large("payload_too_large", "the upload exceeds the size limit");
    }
    ApiError::bad_request("malformed_multipart", format!("malformed multipart body: {}", err.body_text()))
}

#[utoipa::path(get, path = "/api/documents", tag = "documents", params(ListQuery), responses((status = 200, description = "newest first", body = DocumentPage), (status = 400, description = "a filter, cursor or limit that is not acceptable; NUL in a filter", body = crate::openapi::ErrorBody)))]
async fn list_documents(
    State(state): State<AppState>,
    Caller(caller): Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let query = parse_query(query)?;
    let body = state.documents.list_json(&caller, &query).await?;
    Ok(json_response(StatusCode::OK, body))
}

#[utoipa::path(get, path = "/api/documents/{id}", tag = "documents", params(("id" = String, Path)), responses((status = 200, body = DocumentOut), (status = 404, body = crate::openapi::ErrorBody)))]
async fn get_document(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let body = state.documents.get_json(&caller, &id).await?;
    Ok(json_response(StatusCode::OK, body))
}

#[utoipa::path(patch, path = "/api/documents/{id}", tag = "documents", params(("id" = String, Path)), request_body = DocumentPatch, responses((status = 200, body = DocumentOut), (status = 404, body = crate::openapi::ErrorBody), (status = 409, description = "changed by another request meanwhile; retry", body = crate::openapi::ErrorBody)))]
async fn update_document(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let patch: DocumentPatch = parse_json(&headers, &body)?;
    let updated = state.documents.update(&caller, &id, patch).await?;
    json_value(StatusCode::OK, &updated)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DeleteQuery {
    /// `true`: delete for good (retention, erasure requests); admins only.
    #[serde(default)]
    purge: bool,
}

#[utoipa::path(delete, path = "/api/documents/{id}", tag = "documents", params(("id" = String, Path), DeleteQuery), responses((status = 204, description = "deleted (with `purge=true`: for good)"), (status = 403, description = "purging is for organisation admins", body = crate::openapi::ErrorBody), (status = 404, body = crate::openapi::ErrorBody)))]
async fn delete_document(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    query: Result<Query<DeleteQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    if parse_query(query)?.purge {
        let analyses = state.documents.purge(&caller, &id).await?;
        state.analysis.forget_locally(&caller.organisation_id, &analyses);
    } else {
        state.documents.delete(&caller, &id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/documents/{id}/original", tag = "documents", params(("id" = String, Path)), responses((status = 200, description = "the original bytes, with their media type", content_type = "application/octet-stream"), (status = 404, body = crate::openapi::ErrorBody)))]
async fn download_original(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (doc, path) = state.documents.original(&caller, &id).await?;
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        ServiceError::Internal(anyhow::Error::new(e).context(format!("opening the original of {}", doc.id)))
    })?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let content_type =
        HeaderValue::from_str(&doc.media_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition =
        HeaderValue::from_str(&content_disposition(&doc.filename)).unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, HeaderValue::from(doc.size_bytes)),
            (header::HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff")),
        ],
        body,
    )
        .into_response())
}

/// `attachment` with an ASCII fallback name and the exact name in RFC 5987 form.
fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[utoipa::path(get, path = "/api/documents/{id}/relations", tag = "documents", params(("id" = String, Path)), responses((status = 200, body = crate::openapi::Items<RelationRow>), (status = 404, body = crate::openapi::ErrorBody)))]
async fn list_relations(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let items = state.documents.relations(&caller, &id).await?;
    json_value(StatusCode::OK, &crate::openapi::Items { items })
}

#[utoipa::path(post, path = "/api/documents/{id}/relations", tag = "documents", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key gets the first answer (header `Idempotent-Replayed: true`); the same key on another request gets 422")), request_body = RelationIn, responses((status = 201, body = RelationRow), (status = 404, description = "either document is not a live document of the organisation", body = crate::openapi::ErrorBody), (status = 409, description = "`relation_exists`, or `relation_contradicts` (the reverse relation of this kind exists)", body = crate::openapi::ErrorBody)))]
async fn create_relation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: RelationIn = parse_json(&headers, &body)?;
    let fingerprint = fingerprint(&format!("POST /api/documents/{id}/relations"), &input)?;
    created_once(&state, &caller, &headers, &fingerprint, Bytes::clone, || {
        state.documents.add_relation(&caller, &id, input)
    })
    .await
}

#[utoipa::path(delete, path = "/api/documents/{id}/relations/{relation_id}", tag = "documents", params(("id" = String, Path), ("relation_id" = String, Path)), responses((status = 204), (status = 404, body = crate::openapi::ErrorBody)))]
async fn delete_relation(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path((id, relation_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state.documents.delete_relation(&caller, &id, &relation_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> serde_json::Value {
        serde_json::from_str(crate::openapi::document_json()).expect("the OpenAPI document is JSON")
    }

    #[test]
    fn every_api_operation_documents_authentication_and_the_shared_errors() {
        let doc = document();
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() >= 20, "{} paths", paths.len());
        for (path, item) in paths {
            for (method, operation) in item.as_object().expect("operations") {
                let responses = &operation["responses"];
                for status in ["408", "431", "500"] {
                    assert!(responses[status].is_object(), "{method} {path} lacks {status}");
                }
                if path.starts_with("/api/") {
                    assert!(responses["429"].is_object(), "{method} {path} lacks 429");
                }
                let http_method = method.to_uppercase().parse().expect("method");
                let rule = crate::access::find(&http_method, path).expect("every operation has a rule");
                if rule.access != crate::access::Access::Public {
                    for status in ["401", "403", "503"] {
                        assert!(responses[status].is_object(), "{method} {path} lacks {status}");
                    }
                    assert!(operation["security"].is_array(), "{method} {path} names no authentication");
                }
            }
        }
    }

    #[test]
    fn the_upload_documents_its_form_its_limits_and_its_idempotency_key() {
        let doc = document();
        let upload = &doc["paths"]["/api/documents"]["post"];
        assert!(upload["requestBody"]["content"]["multipart/form-data"].is_object());
        for status in ["200", "201", "400", "413", "415", "422"] {
            assert!(upload["responses"][status].is_object(), "upload lacks {status}");
        }
        let params = upload["parameters"].as_array().expect("parameters");
        assert!(params.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
        let patch = &doc["paths"]["/api/documents/{id}"]["patch"];
        for status in ["400", "413", "415", "422"] {
            assert!(patch["responses"][status].is_object(), "a JSON body route lacks {status}");
        }
        let organisation = serde_json::to_string(&doc["components"]["schemas"]["OrganisationIn"]).expect("json");
        assert!(!organisation.contains("email\"}") || !organisation.contains("\"format\":\"email\""));
    }

    #[test]
    fn content_disposition_is_header_safe() {
        let value = content_disposition("contrat \"été\".pdf");
        assert!(HeaderValue::from_str(&value).is_ok());
        assert!(value.contains("filename*=UTF-8''contrat%20%22%C3%A9t%C3%A9%22.pdf"));
    }
}
