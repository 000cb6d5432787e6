//! The OpenAPI document, derived from the code: every route is registered through
//! [`utoipa_axum`] together with its `#[utoipa::path]` description, so a route cannot be
//! served without being documented. What every route shares (authentication, the one error
//! shape and the errors any request can meet) is added here once, by [`SharedResponses`].

use std::sync::OnceLock;

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

/// `{"error": {"code": "...", "message": "..."}}`: every failure has this shape.
#[derive(ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `not_found`, `invalid_body`, `payload_too_large`, …
    pub code: String,
    /// For people: what is wrong and what to do.
    pub message: String,
}

/// A list of `T` (relations, webhook endpoints).
#[derive(serde::Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// The multipart form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the form; the handler reads it part by part
pub struct UploadForm {
    /// The contract: PDF, DOCX, TXT or Markdown, detected by content.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// A JSON object of up to 16 KiB (`client`, `contract_type`, … as strings).
    metadata: Option<String>,
    /// `auto`, `default` or `nda` (default: the organisation's).
    playbook: Option<String>,
    /// `customer`, `vendor`, `disclosing` or `receiving` (default: the organisation's).
    side: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Contract Reviewer",
        description = "Contract review: documents, their analyses against a playbook, portfolio search."
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

/// Adds authentication and the errors any route can answer to every operation.
struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))));
        components
            .add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("cr_session"))));
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            // (Public or not is the route table's say; the same path never mixes the two.)
            let authenticated = crate::access::routes()
                .iter()
                .any(|rule| rule.path == path && rule.access != crate::access::Access::Public);
            for operation in operations(item) {
                add_error(operation, "408", "the request took longer than its deadline");
                add_error(operation, "431", "too many or too large headers");
                add_error(operation, "500", "internal error (logged)");
                if path.starts_with("/api/") {
                    add_error(operation, "429", "over a rate limit (per API key, user or address); see Retry-After");
                }
                if authenticated {
                    add_error(operation, "401", "missing or invalid API key, or no live session");
                    add_error(
                        operation,
                        "403",
                        "the role or key does not allow this, or a cookie write lacks its CSRF token",
                    );
                    add_error(operation, "503", "the database is not answering; try again");
                    let either = [("api_key", Vec::<String>::new()), ("bearer", Vec::new()), ("session", Vec::new())];
                    operation.security = Some(
                        either
                            .into_iter()
                            .map(|(name, scopes)| utoipa::openapi::security::SecurityRequirement::new(name, scopes))
                            .collect(),
                    );
                }
                let json_body = operation
                    .request_body
                    .as_ref()
                    .is_some_and(|body| body.content.keys().any(|c| c == "application/json"));
                if json_body {
                    add_error(operation, "400", "malformed JSON, or a value that is not acceptable");
                    add_error(operation, "413", "the body is larger than 64 KiB");
                    add_error(operation, "415", "the body is not application/json");
                    add_error(operation, "422", "the JSON does not have the fields this route takes");
                }
            }
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete]
        .into_iter()
        .filter_map(|operation| operation.as_mut())
}

fn add_error(operation: &mut Operation, status: &str, description: &str) {
    if operation.responses.responses.contains_key(status) {
        return;
    }
    let response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody"))))
                .build(),
        )
        .build();
    operation.responses.responses.insert(status.to_owned(), RefOr::T(response));
}

/// The document as served at `/api/openapi.json`.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let (_, mut doc) = crate::routes::documented_routes(0).split_for_parts();
        // After the routes are in: modifiers given to the derive run before any path exists.
        SharedResponses.modify(&mut doc);
        doc.to_pretty_json().unwrap_or_else(|_| "{}".to_owned())
    })
}
