//! The document lifecycle: upload, read, list, update, delete, download, relations.
//!
//! Writes go to the database first (file synced before the row), then invalidate the cache,
//! then answer: no reader can see the old value after a write returns. Reads go to the cache
//! first; a miss loads from the database once per key and generation (see
//! [`crate::singleflight`]) and fills the cache only if no write happened meanwhile
//! (see [`cr_store::cache`]). Misses are cached briefly too (negative caching). All cache keys
//! carry the organisation, and every read is made as a principal of that organisation.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use cr_store::cache::Lookup;
use cr_store::documents::{
    self as repo, DocumentRow, DocumentView, IdempotencyRecord, InsertOutcome, ListFilter, RelationOutcome, RelationRow,
};
use cr_store::files::StagedFile;
use cr_store::identity::Principal;
use cr_store::jobs::NewJob;
use cr_store::{ids, Cache, Database, FileStore};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::content;
use crate::filename::UploadFilename;
use crate::singleflight::SingleFlight;
use crate::ServiceError;

/// Cached in place of a document that does not exist (negative caching).
const MISSING: &[u8] = b"-";
/// Largest metadata object accepted, serialised.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Largest list page.
pub const MAX_PAGE_SIZE: u32 = 100;

#[derive(Clone, Debug)]
pub struct DocumentSettings {
    pub document_ttl: Duration,
    pub list_ttl: Duration,
    pub negative_ttl: Duration,
    pub max_upload_bytes: u64,
    /// How long a finished load stays joinable (see [`SingleFlight`]).
    pub load_linger: Duration,
}

/// A document as the API shows it (defined beside the rows it is read from).
pub type DocumentOut = DocumentView;

/// A page of documents.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentPage {
    pub items: Vec<DocumentOut>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Query of a list request, as received.
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub status: Option<String>,
    pub contract_type: Option<String>,
    pub client: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// Changes to a document: `metadata` is a JSON merge patch (RFC 7396: `null` removes a key).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentPatch {
    pub filename: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Clone, Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationIn {
    pub kind: String,
    pub target_id: String,
}

pub const RELATION_KINDS: [&str; 4] = ["amends", "supersedes", "sow_of", "duplicate_of"];

/// An upload whose bytes are already staged on disk.
pub struct UploadIn {
    pub staged: StagedFile,
    pub filename: String,
    pub metadata: Option<Value>,
    pub idempotency_key: Option<String>,
    /// The analysis job to queue with the document (none: the document is only stored).
    pub job: Option<NewJob>,
}

/// A response body with its status, as stored for idempotent replays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Bytes,
    /// True when this answer is a replay of an earlier request with the same key.
    pub replayed: bool,
    /// The analysis job this request queued, if it queued one.
    pub queued_job: Option<String>,
}

type LoadResult = Result<Bytes, Arc<anyhow::Error>>;

#[derive(Clone)]
pub struct DocumentService {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    cache: Cache,
    files: FileStore,
    settings: DocumentSettings,
    loads: SingleFlight<LoadResult>,
    /// `next_cursor`s this process handed out recently, by organisation: only their pages
    /// are cached, so a client walking made-up cursors cannot fill the cache.
    issued_cursors: moka::sync::Cache<String, ()>,
}

/// Cursors remembered at most (each a few dozen bytes).
const ISSUED_CURSORS: u64 = 20_000;

/// Document statuses a cached list may filter on (another value is answered, not cached).
const LISTED_STATUSES: [&str; 6] = ["uploaded", "queued", "processing", "analysing", "analysed", "failed"];

pub(crate) fn document_key(org: &str, id: &str) -> String {
    format!("document:{org}:{id}")
}

pub(crate) fn list_namespace(org: &str) -> String {
    format!("api:documents:list:{org}")
}

impl DocumentService {
    pub fn new(db: Database, cache: Cache, files: FileStore, settings: DocumentSettings) -> Self {
        let loads = SingleFlight::with_linger(settings.load_linger);
        let issued_cursors =
            moka::sync::Cache::builder().max_capacity(ISSUED_CURSORS).time_to_live(settings.list_ttl).build();
        Self { inner: Arc::new(Inner { db, cache, files, settings, loads, issued_cursors }) }
    }

    pub fn files(&self) -> &FileStore {
        &self.inner.files
    }

    /// Stores a staged upload as a document of the caller's organisation.
    ///
    /// Answers 201 with the new document; 200 with the existing one when the organisation
    /// already has a live document with the same content; with an `Idempotency-Key`, a retry of
    /// the same request gets the first answer again and a different request with the same key
    /// gets 422.
    pub async fn upload(&self, caller: &Principal, upload: UploadIn) -> Result<StoredResponse, ServiceError> {
        let UploadIn { mut staged, filename, metadata, idempotency_key, job } = upload;
        let outcome =
            self.store_upload(caller, &mut staged, &filename, metadata, idempotency_key.as_deref(), job.as_ref()).await;
        // Whatever happened, the staging file is either renamed into place or removed.
        staged.discard().await;
        outcome
    }

    async fn store_upload(
        &self,
        caller: &Principal,
        staged: &mut StagedFile,
        raw_filename: &str,
        metadata: Option<Value>,
        idempotency_key: Option<&str>,
        job: Option<&NewJob>,
    ) -> Result<StoredResponse, ServiceError> {
        let db = &self.inner.db;
        if let Some(key) = idempotency_key {
            crate::idempotency::validate_key(key)?;
        }
        let name = UploadFilename::parse(raw_filename)?;
        let metadata = validate_metadata(metadata.unwrap_or_else(|| Value::Object(Default::default())))?;
        let (sha256, size) = staged.finish().await.map_err(ServiceError::Internal)?;
        if size > self.inner.settings.max_upload_bytes {
            return Err(ServiceError::PayloadTooLarge { limit: self.inner.settings.max_upload_bytes });
        }
        let request_hash = hex::encode(Sha256::digest(
            serde_json::json!({ "filename": raw_filename, "metadata": metadata, "sha256": sha256 }).to_string(),
        ));
        if let Some(key) = idempotency_key {
            if let Some(previous) = repo::find_idempotency(db, &caller.organisation_id, key).await? {
                return crate::idempotency::replay(previous, &request_hash);
            }
        }
        let head = staged.head().to_vec();
        let path = staged.path().to_path_buf();
        let display = name.display.clone();
        let media_type = tokio::task::spawn_blocking(move || content::detect(&head, &path, &display))
            .await
            .context("joining content detection")??;
        // The file is durable before any row names it.
        let stored_path = self.inner.files.commit(staged, &sha256).await?;
        let now = ids::now();
        let row = DocumentRow {
            id: ids::new_id("doc"),
            organisation_id: caller.organisation_id.clone(),
            owner_id: caller.user_id.clone(),
            filename: name.display,
            original_filename: name.original,
            stored_path,
            size_bytes: i64::try_from(size).context("upload size")?,
            media_type: media_type.mime().to_owned(),
            sha256,
            status: if job.is_some() { "queued" } else { "uploaded" }.to_owned(),
            metadata: sqlx::types::Json(metadata),
            version: 1,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        let body = Bytes::from(serde_json::to_vec(&DocumentOut::from(&row)).context("serialising a document")?);
        let record = IdempotencyRecord {
            request_hash: request_hash.clone(),
            status_code: 201,
            response_body: String::from_utf8_lossy(&body).into_owned(),
        };
        match repo::insert_document(db, &row, job, idempotency_key.map(|k| (k, &record))).await? {
            InsertOutcome::Inserted => {
                self.inner.cache.invalidate(&[list_namespace(&row.organisation_id)]).await;
                Ok(StoredResponse { status: 201, body, replayed: false, queued_job: job.map(|j| j.id.clone()) })
            }
            InsertOutcome::IdempotencyKeyTaken => {
                let key = idempotency_key.unwrap_or_default();
                let previous = repo::find_idempotency(db, &caller.organisation_id, key)
                    .await?
                    .context("idempotency key reported taken but not found")?;
                crate::idempotency::replay(previous, &request_hash)
            }
            InsertOutcome::DuplicateContent => {
                let existing =
                    repo::find_live_by_sha256(db, &caller.organisation_id, &row.sha256).await?.ok_or_else(|| {
                        ServiceError::conflict("concurrent_delete", "the duplicate was deleted meanwhile; retry")
                    })?;
                let body =
                    Bytes::from(serde_json::to_vec(&DocumentOut::from(&existing)).context("serialising a document")?);
                if let Some(key) = idempotency_key {
                    let record = IdempotencyRecord {
                        request_hash,
                        status_code: 200,
                        response_body: String::from_utf8_lossy(&body).into_owned(),
                    };
                    if !repo::save_idempotency(db, &caller.organisation_id, key, &record).await? {
                        let previous = repo::find_idempotency(db, &caller.organisation_id, key)
                            .await?
                            .context("idempotency key reported taken but not found")?;
                        return crate::idempotency::replay(previous, &record.request_hash);
                    }
                }
                Ok(StoredResponse { status: 200, body, replayed: false, queued_job: None })
            }
        }
    }

    /// The document as JSON bytes, from the cache when possible.
    pub async fn get_json(&self, caller: &Principal, id: &str) -> Result<Bytes, ServiceError> {
        if !ids::is_valid("doc", id) {
            return Err(ServiceError::NotFound("document"));
        }
        let inner = &self.inner;
        let key = document_key(&caller.organisation_id, id);
        let body = match inner.cache.lookup(&key).await {
            Lookup::Hit(body) => body,
            Lookup::Miss { generation: Some(generation) } => inner
                .loads
                .run_keeping(
                    format!("{key}@{generation}"),
                    || async {
                        let body = self.load_document(&caller.organisation_id, id).await.map_err(Arc::new)?;
                        let ttl = if body.as_ref() == MISSING {
                            inner.settings.negative_ttl
                        } else {
                            inner.settings.document_ttl
                        };
                        inner.cache.fill(&key, generation, body.clone(), ttl).await;
                        Ok(body)
                    },
                    Result::is_ok,
                )
                .await
                .map_err(shared_error)?,
            // Cache unavailable: straight to the database, nothing to fill.
            Lookup::Miss { generation: None } => {
                self.load_document(&caller.organisation_id, id).await.map_err(|e| ServiceError::from_shared(&e))?
            }
        };
        if body.as_ref() == MISSING {
            return Err(ServiceError::NotFound("document"));
        }
        Ok(body)
    }

    /// The document, parsed.
    pub async fn get(&self, caller: &Principal, id: &str) -> Result<DocumentOut, ServiceError> {
        let body = self.get_json(caller, id).await?;
        Ok(serde_json::from_slice(&body).context("parsing a cached document")?)
    }

    async fn load_document(&self, org: &str, id: &str) -> anyhow::Result<Bytes> {
        match repo::find_live_view(&self.inner.db, org, id).await.context("loading a document")? {
            Some(view) => Ok(Bytes::from(serde_json::to_vec(&view)?)),
            None => Ok(Bytes::from_static(MISSING)),
        }
    }

    /// A page of the organisation's documents as JSON bytes, newest first.
    pub async fn list_json(&self, caller: &Principal, query: &ListQuery) -> Result<Bytes, ServiceError> {
        let (filter, limit) = parse_list_query(query)?;
        let inner = &self.inner;
        let org = &caller.organisation_id;
        // Only pages a client gets by following the API are cached: no free-text filter, a
        // known status, and the first page or one whose cursor this process handed out.
        // Every other page is answered from the database, so what the cache holds is bounded
        // by the pages really served, not by what a client makes up.
        let cacheable = filter.contract_type.is_none()
            && filter.client.is_none()
            && filter.filename_contains.is_none()
            && filter.status.as_deref().is_none_or(|status| LISTED_STATUSES.contains(&status))
            && filter
                .before_id
                .as_ref()
                .is_none_or(|cursor| inner.issued_cursors.contains_key(&format!("{org}:{cursor}")));
        if !cacheable {
            return self.load_page(org, &filter, limit).await;
        }
        let Some(version) = inner.cache.generation(&list_namespace(org)).await else {
            return self.load_page(org, &filter, limit).await;
        };
        let query_hash = {
            let canonical = serde_json::json!({ "f": filter, "l": limit }).to_string();
            hex::encode(&Sha256::digest(canonical)[..8])
        };
        let page = filter.before_id.as_deref().unwrap_or("first");
        let key = format!("api:documents:list:{org}:v{version}:{}:{query_hash}:{page}", caller.user_id);
        if let Some(body) = inner.cache.get(&key).await {
            return Ok(body);
        }
        inner
            .loads
            .run_keeping(
                key.clone(),
                || async {
                    let body =
                        self.load_page(org, &filter, limit).await.map_err(|e| Arc::new(anyhow::Error::new(e)))?;
                    inner.cache.set(&key, body.clone(), inner.settings.list_ttl).await;
                    Ok(body)
                },
                Result::is_ok,
            )
            .await
            .map_err(shared_error)
    }

    async fn load_page(&self, org: &str, filter: &ListFilter, limit: u32) -> Result<Bytes, ServiceError> {
        let mut rows = repo::list_live(&self.inner.db, org, filter, i64::from(limit) + 1).await?;
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if has_more { rows.last().map(|r| r.id.clone()) } else { None };
        if let Some(cursor) = &next_cursor {
            self.inner.issued_cursors.insert(format!("{org}:{cursor}"), ());
        }
        let page = DocumentPage { items: rows, next_cursor };
        Ok(Bytes::from(serde_json::to_vec(&page).context("serialising a page")?))
    }

    /// Applies a patch; retries on a concurrent change so no update is lost.
    pub async fn update(
        &self,
        caller: &Principal,
        id: &str,
        patch: DocumentPatch,
    ) -> Result<DocumentOut, ServiceError> {
        if !ids::is_valid("doc", id) {
            return Err(ServiceError::NotFound("document"));
        }
        if patch.filename.is_none() && patch.metadata.is_none() {
            return Err(ServiceError::invalid(
                "empty_patch",
                "the patch changes nothing: give filename and/or metadata",
            ));
        }
        let new_name = patch.filename.as_deref().map(UploadFilename::parse).transpose()?;
        for _ in 0..10 {
            let current = repo::find_live(&self.inner.db, &caller.organisation_id, id)
                .await?
                .ok_or(ServiceError::NotFound("document"))?;
            let mut metadata = current.metadata.0.clone();
            if let Some(changes) = &patch.metadata {
                if !changes.is_object() {
                    return Err(ServiceError::invalid("invalid_metadata", "metadata must be a JSON object"));
                }
                merge_patch(&mut metadata, changes);
            }
            let metadata = validate_metadata(metadata)?;
            let filename = new_name.as_ref().map_or(current.filename.as_str(), |n| n.display.as_str());
            if let Some(updated) =
                repo::update_if_version(&self.inner.db, &current, &caller.user_id, filename, &metadata).await?
            {
                self.invalidate(&caller.organisation_id, id).await;
                return Ok(DocumentOut::from(&updated));
            }
        }
        Err(ServiceError::conflict("write_contention", "the document is being changed by others; retry"))
    }

    /// Soft-deletes the document.
    pub async fn delete(&self, caller: &Principal, id: &str) -> Result<(), ServiceError> {
        if !ids::is_valid("doc", id) {
            return Err(ServiceError::NotFound("document"));
        }
        if !repo::soft_delete(&self.inner.db, &caller.organisation_id, id, &caller.user_id).await? {
            return Err(ServiceError::NotFound("document"));
        }
        self.invalidate(&caller.organisation_id, id).await;
        Ok(())
    }

    /// Deletes a document for good, with its analyses, jobs, relations, stored answers that
    /// quote it, its reports and (when no other document names it) its original; audited.
    /// Organisation admins only. Returns the ids of the analyses removed.
    pub async fn purge(&self, caller: &Principal, id: &str) -> Result<Vec<String>, ServiceError> {
        if !ids::is_valid("doc", id) {
            return Err(ServiceError::NotFound("document"));
        }
        if caller.role != "admin" {
            return Err(ServiceError::Forbidden("only an organisation admin can purge a document"));
        }
        let org = &caller.organisation_id;
        let Some(purged) = cr_store::retention::purge_document(&self.inner.db, org, id, &caller.user_id).await? else {
            return Err(ServiceError::NotFound("document"));
        };
        let mut keys = vec![document_key(org, id), list_namespace(org), crate::analysis::latest_key(org, id)];
        keys.extend(purged.analysis_ids.iter().map(|a| crate::analysis::analysis_key(org, a)));
        self.inner.cache.invalidate(&keys).await;
        let files = &self.inner.files;
        let mut stored = Vec::new();
        for analysis in &purged.analysis_ids {
            stored.push(format!("reports/{analysis}.json"));
            stored.push(format!("reports/{analysis}.pdf"));
        }
        stored.extend(purged.unreferenced_original);
        for relative in stored {
            // The rows are gone; a file left behind is found again by the sweeper.
            if let Err(err) = files.remove(&relative).await {
                tracing::warn!(error = %err, "could not remove a purged file");
            }
        }
        Ok(purged.analysis_ids)
    }

    /// Removes originals no document row names (left by failed inserts, or by purges that
    /// could not remove them) and last touched longer than `min_age` ago. Returns how many.
    pub async fn sweep_unreferenced_originals(&self, min_age: Duration) -> anyhow::Result<usize> {
        let mut removed = 0;
        for relative in self.inner.files.originals_older_than(min_age).await? {
            if !cr_store::retention::original_is_referenced(&self.inner.db, &relative).await?
                && self.inner.files.remove_if_older_than(&relative, min_age).await?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn invalidate(&self, org: &str, id: &str) {
        let latest = crate::analysis::latest_key(org, id);
        self.inner.cache.invalidate(&[document_key(org, id), list_namespace(org), latest]).await;
    }

    /// The document and the path of its original, for download.
    pub async fn original(
        &self,
        caller: &Principal,
        id: &str,
    ) -> Result<(DocumentOut, std::path::PathBuf), ServiceError> {
        let doc = self.get(caller, id).await?;
        let path = self.inner.files.absolute(&FileStore::relative_path(&doc.sha256));
        crate::audit::record_download(
            &self.inner.db,
            caller,
            "document.download",
            ("document", &doc.id),
            serde_json::json!({}),
        )
        .await?;
        Ok((doc, path))
    }

    pub async fn add_relation(
        &self,
        caller: &Principal,
        source_id: &str,
        input: RelationIn,
    ) -> Result<RelationRow, ServiceError> {
        if !ids::is_valid("doc", source_id) {
            return Err(ServiceError::NotFound("document"));
        }
        if !RELATION_KINDS.contains(&input.kind.as_str()) {
            return Err(ServiceError::invalid(
                "invalid_relation_kind",
                format!("kind must be one of {}", RELATION_KINDS.join(", ")),
            ));
        }
        if !ids::is_valid("doc", &input.target_id) {
            return Err(ServiceError::NotFound("target document"));
        }
        if input.target_id == source_id {
            return Err(ServiceError::invalid("self_relation", "a document cannot be related to itself"));
        }
        let org = &caller.organisation_id;
        match repo::insert_relation(&self.inner.db, org, source_id, &input.target_id, &input.kind, &caller.user_id)
            .await?
        {
            RelationOutcome::Inserted(row) => Ok(row),
            RelationOutcome::AlreadyExists => {
                Err(ServiceError::conflict("relation_exists", "this relation already exists"))
            }
            RelationOutcome::Contradicts => Err(ServiceError::conflict(
                "relation_contradicts",
                "the reverse relation of this kind already exists; delete it first",
            )),
            RelationOutcome::DocumentMissing => Err(ServiceError::NotFound("document")),
        }
    }

    pub async fn relations(&self, caller: &Principal, id: &str) -> Result<Vec<RelationRow>, ServiceError> {
        self.get_json(caller, id).await?;
        Ok(repo::relations_of(&self.inner.db, &caller.organisation_id, id).await?)
    }

    pub async fn delete_relation(&self, caller: &Principal, id: &str, relation_id: &str) -> Result<(), ServiceError> {
        if !ids::is_valid("doc", id) || !ids::is_valid("rel", relation_id) {
            return Err(ServiceError::NotFound("relation"));
        }
        if !repo::delete_relation(&self.inner.db, &caller.organisation_id, id, relation_id, &caller.user_id).await? {
            return Err(ServiceError::NotFound("relation"));
        }
        Ok(())
    }
}

fn shared_error(err: Arc<anyhow::Error>) -> ServiceError {
    ServiceError::from_shared(&err)
}

fn validate_metadata(metadata: Value) -> Result<Value, ServiceError> {
    let Value::Object(map) = &metadata else {
        return Err(ServiceError::invalid("invalid_metadata", "metadata must be a JSON object"));
    };
    for field in ["client", "contract_type"] {
        if map.get(field).is_some_and(|v| !v.is_string()) {
            return Err(ServiceError::invalid("invalid_metadata", format!("metadata.{field} must be a string")));
        }
    }
    let size = serde_json::to_vec(&metadata).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_METADATA_BYTES {
        return Err(ServiceError::invalid(
            "metadata_too_large",
            format!("metadata is {size} bytes; at most {MAX_METADATA_BYTES} are accepted"),
        ));
    }
    Ok(metadata)
}

/// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(fields) = target {
        for (key, value) in changes {
            if value.is_null() {
                fields.remove(key);
            } else {
                merge_patch(fields.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

fn parse_list_query(query: &ListQuery) -> Result<(ListFilter, u32), ServiceError> {
    let limit = query.limit.unwrap_or(20);
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(ServiceError::invalid("invalid_limit", format!("limit must be between 1 and {MAX_PAGE_SIZE}")));
    }
    let text = |value: &Option<String>, name: &'static str| -> Result<Option<String>, ServiceError> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) if v.len() > 200 => {
                Err(ServiceError::invalid("invalid_filter", format!("{name} is longer than 200 bytes")))
            }
            Some(v) => Ok(Some(v.to_owned())),
        }
    };
    if let Some(cursor) = &query.cursor {
        if !ids::is_valid("doc", cursor) {
            return Err(ServiceError::invalid("invalid_cursor", "cursor is not one returned by this API"));
        }
    }
    let filter = ListFilter {
        status: text(&query.status, "status")?,
        contract_type: text(&query.contract_type, "contract_type")?,
        client: text(&query.client, "client")?,
        filename_contains: text(&query.q, "q")?,
        before_id: query.cursor.clone(),
    };
    Ok((filter, limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({ "client": "ACME", "tags": { "a": 1, "b": 2 } });
        merge_patch(&mut doc, &json!({ "client": null, "contract_type": "NDA", "tags": { "a": null, "c": 3 } }));
        assert_eq!(doc, json!({ "contract_type": "NDA", "tags": { "b": 2, "c": 3 } }));
    }

    #[test]
    fn metadata_must_be_a_small_object_with_string_client() {
        assert!(validate_metadata(json!([1])).is_err());
        assert!(validate_metadata(json!({ "client": 5 })).is_err());
        assert!(validate_metadata(json!({ "x": "y".repeat(MAX_METADATA_BYTES) })).is_err());
        assert!(validate_metadata(json!({ "client": "ACME" })).is_ok());
    }

    #[test]
    fn list_queries_are_bounded() {
        let bad_limit = ListQuery { limit: Some(1000), ..ListQuery::default() };
        assert!(parse_list_query(&bad_limit).is_err());
        let bad_cursor = ListQuery { cursor: Some("'; DROP TABLE documents; --".into()), ..ListQuery::default() };
        assert!(parse_list_query(&bad_cursor).is_err());
    }
}
