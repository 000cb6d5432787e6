//! Document rows, their relations, idempotency records and the audit rows written with them.
//!
//! Every state-changing function here writes its audit row in the same transaction as the
//! change (invariant 6). Reads always carry the organisation, so a row of another tenant is
//! indistinguishable from a missing one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;

use crate::db::Database;
use crate::ids::new_id;
use crate::{in_transaction, with_pool};

/// Inserts one audit row through `$tx` (any backend).
macro_rules! audit {
    ($tx:expr, org = $org:expr, actor = $actor:expr, action = $action:expr, target = ($ttype:expr, $tid:expr), details = $details:expr, at = $now:expr) => {
        sqlx::query(
            "INSERT INTO audit_logs (id, organisation_id, actor_id, action, target_type, target_id, details, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($crate::ids::new_id("aud"))
        .bind($org)
        .bind($actor)
        .bind($action)
        .bind($ttype)
        .bind($tid)
        .bind(sqlx::types::Json($details))
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}
pub(crate) use audit;

const DOCUMENT_COLUMNS: &str = "id, organisation_id, owner_id, filename, original_filename, stored_path, size_bytes, \
     media_type, sha256, status, metadata, version, created_at, updated_at, deleted_at";

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: String,
    pub organisation_id: String,
    pub owner_id: String,
    pub filename: String,
    pub original_filename: String,
    pub stored_path: String,
    pub size_bytes: i64,
    pub media_type: String,
    pub sha256: String,
    pub status: String,
    pub metadata: Json<Value>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A document as readers see it (the API's shape, cached as JSON): the row without its storage
/// path and deletion mark, with the metadata kept as JSON text, embedded as is when
/// serialised instead of being parsed and written again (the hottest cost of a cache miss).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub organisation_id: String,
    pub owner_id: String,
    pub filename: String,
    pub original_filename: String,
    pub size_bytes: i64,
    pub media_type: String,
    pub sha256: String,
    pub status: String,
    /// A JSON object of strings (`client`, `contract_type`, …).
    #[serde(serialize_with = "json_text::serialize", deserialize_with = "json_text::deserialize")]
    #[schema(value_type = Object)]
    pub metadata: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&DocumentRow> for DocumentView {
    fn from(row: &DocumentRow) -> Self {
        Self {
            id: row.id.clone(),
            organisation_id: row.organisation_id.clone(),
            owner_id: row.owner_id.clone(),
            filename: row.filename.clone(),
            original_filename: row.original_filename.clone(),
            size_bytes: row.size_bytes,
            media_type: row.media_type.clone(),
            sha256: row.sha256.clone(),
            status: row.status.clone(),
            metadata: row.metadata.0.to_string(),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A JSON text field written into (and read from) the surrounding JSON as JSON, not as a string.
mod json_text {
    use serde::{de::Error as _, ser::Error as _, Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::value::RawValue;

    pub fn serialize<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
        RawValue::from_string(text.to_owned()).map_err(S::Error::custom)?.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer).map_err(D::Error::custom)?;
        Ok(raw.get().to_owned())
    }
}

const VIEW_COLUMNS: &str =
    "id, organisation_id, owner_id, filename, original_filename, size_bytes, media_type, sha256, \
     status, CAST(metadata AS TEXT) AS metadata, version, created_at, updated_at";

/// The response stored for a POST made with an `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub status_code: i32,
    pub response_body: String,
}

/// What [`insert_document`] did.
#[derive(Debug)]
pub enum InsertOutcome {
    Inserted,
    /// A live document of the organisation already has this content.
    DuplicateContent,
    /// Another request with the same idempotency key committed first.
    IdempotencyKeyTaken,
}

/// Inserts `doc` with its audit row, its analysis job (when given, with its dispatch outbox
/// row) and the idempotency record of the request (when given), in one transaction.
pub async fn insert_document(
    db: &Database,
    doc: &DocumentRow,
    job: Option<&crate::jobs::NewJob>,
    idempotency: Option<(&str, &IdempotencyRecord)>,
) -> Result<InsertOutcome, sqlx::Error> {
    let details = serde_json::json!({
        "filename": doc.filename, "sha256": doc.sha256, "size_bytes": doc.size_bytes, "media_type": doc.media_type,
    });
    let result: Result<(), sqlx::Error> = in_transaction!(db, |tx| {
        let sql = format!(
            "INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
        );
        sqlx::query(&sql)
            .bind(&doc.id)
            .bind(&doc.organisation_id)
            .bind(&doc.owner_id)
            .bind(&doc.filename)
            .bind(&doc.original_filename)
            .bind(&doc.stored_path)
            .bind(doc.size_bytes)
            .bind(&doc.media_type)
            .bind(&doc.sha256)
            .bind(&doc.status)
            .bind(&doc.metadata)
            .bind(doc.version)
            .bind(doc.created_at)
            .bind(doc.updated_at)
            .bind(doc.deleted_at)
            .execute(&mut *tx)
            .await?;
        if let Some(job) = job {
            crate::jobs::insert_job!(tx, job, org = &doc.organisation_id, document = &doc.id, at = doc.created_at);
        }
        if let Some((key, record)) = idempotency {
            sqlx::query(
                "INSERT INTO idempotency_keys (organisation_id, key, request_hash, status_code, response_body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&doc.organisation_id)
            .bind(key)
            .bind(&record.request_hash)
            .bind(record.status_code)
            .bind(&record.response_body)
            .bind(doc.created_at)
            .execute(&mut *tx)
            .await?;
        }
        audit!(
            tx,
            org = &doc.organisation_id,
            actor = &doc.owner_id,
            action = "document.create",
            target = ("document", &doc.id),
            details = &details,
            at = doc.created_at
        );
        Ok::<(), sqlx::Error>(())
    });
    match result {
        Ok(()) => Ok(InsertOutcome::Inserted),
        Err(err) => match crate::db::violated_constraint(&err).as_deref() {
            Some("documents_org_sha256_live_key") => Ok(InsertOutcome::DuplicateContent),
            Some("idempotency_keys_pkey") => Ok(InsertOutcome::IdempotencyKeyTaken),
            _ => Err(err),
        },
    }
}

/// Stores the response of an idempotent request outside a document insert (e.g. a duplicate
/// upload answered with the existing document). Returns false when the key was taken.
pub async fn save_idempotency(
    db: &Database,
    organisation_id: &str,
    key: &str,
    record: &IdempotencyRecord,
) -> Result<bool, sqlx::Error> {
    const SQL: &str =
        "INSERT INTO idempotency_keys (organisation_id, key, request_hash, status_code, response_body, created_at) \
                       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
    let done = with_pool!(db, |p| sqlx::query(SQL)
        .bind(organisation_id)
        .bind(key)
        .bind(&record.request_hash)
        .bind(record.status_code)
        .bind(&record.response_body)
        .bind(crate::ids::now())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn find_idempotency(
    db: &Database,
    organisation_id: &str,
    key: &str,
) -> Result<Option<IdempotencyRecord>, sqlx::Error> {
    const SQL: &str = "SELECT request_hash, status_code, response_body FROM idempotency_keys \
                       WHERE organisation_id = $1 AND key = $2";
    with_pool!(db, |p| sqlx::query_as::<_, IdempotencyRecord>(SQL)
        .bind(organisation_id)
        .bind(key)
        .fetch_optional(p)
        .await)
}

/// A live (not deleted) document of the organisation.
pub async fn find_live(db: &Database, organisation_id: &str, id: &str) -> Result<Option<DocumentRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = $1 AND organisation_id = $2 AND deleted_at IS NULL"
    );
    with_pool!(db, |p| sqlx::query_as::<_, DocumentRow>(&sql).bind(id).bind(organisation_id).fetch_optional(p).await)
}

/// [`find_live`] for readers.
pub async fn find_live_view(
    db: &Database,
    organisation_id: &str,
    id: &str,
) -> Result<Option<DocumentView>, sqlx::Error> {
    let sql =
        format!("SELECT {VIEW_COLUMNS} FROM documents WHERE id = $1 AND organisation_id = $2 AND deleted_at IS NULL");
    with_pool!(db, |p| sqlx::query_as::<_, DocumentView>(&sql).bind(id).bind(organisation_id).fetch_optional(p).await)
}

/// The live document of the organisation with this content, if any.
pub async fn find_live_by_sha256(
    db: &Database,
    organisation_id: &str,
    sha256: &str,
) -> Result<Option<DocumentRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE organisation_id = $1 AND sha256 = $2 AND deleted_at IS NULL"
    );
    with_pool!(db, |p| sqlx::query_as::<_, DocumentRow>(&sql)
        .bind(organisation_id)
        .bind(sha256)
        .fetch_optional(p)
        .await)
}

/// Filters of a document list; every field narrows the result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ListFilter {
    pub status: Option<String>,
    pub contract_type: Option<String>,
    pub client: Option<String>,
    /// Case-insensitive substring of the filename.
    pub filename_contains: Option<String>,
    /// Keyset cursor: only documents with an id below this one.
    pub before_id: Option<String>,
}

/// Up to `limit` live documents of the organisation, newest first.
pub async fn list_live(
    db: &Database,
    organisation_id: &str,
    filter: &ListFilter,
    limit: i64,
) -> Result<Vec<DocumentView>, sqlx::Error> {
    let mut sql = format!("SELECT {VIEW_COLUMNS} FROM documents WHERE organisation_id = $1 AND deleted_at IS NULL");
    let mut args: Vec<String> = vec![organisation_id.to_owned()];
    let mut push = |clause: &str, value: String| {
        args.push(value);
        sql.push_str(&clause.replace("$?", &format!("${}", args.len())));
    };
    if let Some(status) = &filter.status {
        push(" AND status = $?", status.clone());
    }
    if let Some(contract_type) = &filter.contract_type {
        push(" AND lower(metadata ->> 'contract_type') = $?", contract_type.to_lowercase());
    }
    if let Some(client) = &filter.client {
        push(" AND lower(metadata ->> 'client') = $?", client.to_lowercase());
    }
    if let Some(text) = &filter.filename_contains {
        push(" AND lower(filename) LIKE $? ESCAPE '\\'", format!("%{}%", escape_like(&text.to_lowercase())));
    }
    if let Some(before) = &filter.before_id {
        push(" AND id < $?", before.clone());
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.len() + 1));
    with_pool!(db, |p| {
        let mut query = sqlx::query_as::<_, DocumentView>(&sql);
        for arg in &args {
            query = query.bind(arg);
        }
        query.bind(limit).fetch_all(p).await
    })
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Replaces metadata and filename if the row is still at `expected_version`; returns the new
/// row, or `None` when the document is gone or was changed concurrently (caller re-reads).
pub async fn update_if_version(
    db: &Database,
    current: &DocumentRow,
    actor_id: &str,
    filename: &str,
    metadata: &Value,
) -> Result<Option<DocumentRow>, sqlx::Error> {
    let now = crate::ids::now();
    let details = serde_json::json!({
        "before": { "filename": current.filename, "metadata": current.metadata.0 },
        "after": { "filename": filename, "metadata": metadata },
    });
    let sql = format!(
        "UPDATE documents SET filename = $1, metadata = $2, version = version + 1, updated_at = $3 \
         WHERE id = $4 AND organisation_id = $5 AND version = $6 AND deleted_at IS NULL RETURNING {DOCUMENT_COLUMNS}"
    );
    in_transaction!(db, |tx| {
        let updated = sqlx::query_as::<_, DocumentRow>(&sql)
            .bind(filename)
            .bind(Json(metadata))
            .bind(now)
            .bind(&current.id)
            .bind(&current.organisation_id)
            .bind(current.version)
            .fetch_optional(&mut *tx)
            .await?;
        if updated.is_some() {
            audit!(
                tx,
                org = &current.organisation_id,
                actor = actor_id,
                action = "document.update",
                target = ("document", &current.id),
                details = &details,
                at = now
            );
        }
        Ok::<_, sqlx::Error>(updated)
    })
}

/// Soft-deletes a live document; false when there was none.
pub async fn soft_delete(db: &Database, organisation_id: &str, id: &str, actor_id: &str) -> Result<bool, sqlx::Error> {
    let now = crate::ids::now();
    in_transaction!(db, |tx| {
        let affected = sqlx::query(
            "UPDATE documents SET deleted_at = $1, updated_at = $1, version = version + 1 \
             WHERE id = $2 AND organisation_id = $3 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(organisation_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if affected == 1 {
            // A relation to a document that is gone relates nothing.
            let relations = sqlx::query("DELETE FROM document_relations WHERE source_id = $1 OR target_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            audit!(
                tx,
                org = organisation_id,
                actor = actor_id,
                action = "document.delete",
                target = ("document", id),
                details = &serde_json::json!({ "relations_removed": relations }),
                at = now
            );
        }
        Ok::<_, sqlx::Error>(affected == 1)
    })
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RelationRow {
    pub id: String,
    pub organisation_id: String,
    pub source_id: String,
    pub target_id: String,
    pub kind: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// What [`insert_relation`] did.
#[derive(Debug)]
pub enum RelationOutcome {
    Inserted(RelationRow),
    AlreadyExists,
    /// The reverse relation of the same kind exists ("B amends A" when "A amends B" is asked).
    Contradicts,
    /// One of the two documents is not a live document of the organisation.
    DocumentMissing,
}

/// Links two live documents of one organisation, with the audit row.
pub async fn insert_relation(
    db: &Database,
    organisation_id: &str,
    source_id: &str,
    target_id: &str,
    kind: &str,
    actor_id: &str,
) -> Result<RelationOutcome, sqlx::Error> {
    let row = RelationRow {
        id: new_id("rel"),
        organisation_id: organisation_id.to_owned(),
        source_id: source_id.to_owned(),
        target_id: target_id.to_owned(),
        kind: kind.to_owned(),
        created_by: actor_id.to_owned(),
        created_at: crate::ids::now(),
    };
    let details = serde_json::json!({ "source_id": source_id, "target_id": target_id, "kind": kind });
    // Both ends must be live documents of this organisation, checked in the transaction that
    // inserts. On PostgreSQL the two rows are locked (FOR SHARE) so a delete waits for the
    // insert or the insert sees the delete; SQLite has one writer at a time (BEGIN IMMEDIATE).
    let check = format!(
        "SELECT id FROM documents WHERE organisation_id = $1 AND id IN ($2, $3) AND deleted_at IS NULL{}",
        if db.backend_name() == "postgres" { " FOR SHARE" } else { "" }
    );
    let result = in_transaction!(db, |tx| {
        let live: Vec<String> = sqlx::query_scalar(&check)
            .bind(organisation_id)
            .bind(source_id)
            .bind(target_id)
            .fetch_all(&mut *tx)
            .await?;
        if live.len() != 2 {
            return Ok(Err(RelationOutcome::DocumentMissing));
        }
        // Which constraint a duplicate trips first is up to the database; tell the two apart
        // here (the unique indexes still settle races).
        let existing: Option<String> = sqlx::query_scalar(
            "SELECT source_id FROM document_relations WHERE kind = $1 \
             AND ((source_id = $2 AND target_id = $3) OR (source_id = $3 AND target_id = $2))",
        )
        .bind(kind)
        .bind(source_id)
        .bind(target_id)
        .fetch_optional(&mut *tx)
        .await?;
        match existing {
            Some(source) if source == source_id => return Ok(Err(RelationOutcome::AlreadyExists)),
            Some(_) => return Ok(Err(RelationOutcome::Contradicts)),
            None => {}
        }
        sqlx::query(
            "INSERT INTO document_relations (id, organisation_id, source_id, target_id, kind, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.id)
        .bind(&row.organisation_id)
        .bind(&row.source_id)
        .bind(&row.target_id)
        .bind(&row.kind)
        .bind(&row.created_by)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await?;
        audit!(
            tx,
            org = organisation_id,
            actor = actor_id,
            action = "relation.create",
            target = ("document_relation", &row.id),
            details = &details,
            at = row.created_at
        );
        Ok::<_, sqlx::Error>(Ok(()))
    });
    match result {
        Ok(Ok(())) => Ok(RelationOutcome::Inserted(row)),
        Ok(Err(refused)) => Ok(refused),
        Err(err) => match crate::db::violated_constraint(&err).as_deref() {
            Some("document_relations_unique_key") => Ok(RelationOutcome::AlreadyExists),
            Some("document_relations_pair_key") => Ok(RelationOutcome::Contradicts),
            _ => Err(err),
        },
    }
}

/// Relations in which the document is the source or the target.
pub async fn relations_of(
    db: &Database,
    organisation_id: &str,
    document_id: &str,
) -> Result<Vec<RelationRow>, sqlx::Error> {
    const SQL: &str = "SELECT id, organisation_id, source_id, target_id, kind, created_by, created_at \
                       FROM document_relations WHERE organisation_id = $1 AND (source_id = $2 OR target_id = $2) \
                       ORDER BY id";
    with_pool!(db, |p| sqlx::query_as::<_, RelationRow>(SQL).bind(organisation_id).bind(document_id).fetch_all(p).await)
}

/// Deletes a relation touching `document_id`; false when there was none.
pub async fn delete_relation(
    db: &Database,
    organisation_id: &str,
    document_id: &str,
    relation_id: &str,
    actor_id: &str,
) -> Result<bool, sqlx::Error> {
    let now = crate::ids::now();
    in_transaction!(db, |tx| {
        let affected = sqlx::query(
            "DELETE FROM document_relations WHERE id = $1 AND organisation_id = $2 AND (source_id = $3 OR target_id = $3) \
             AND EXISTS (SELECT 1 FROM documents WHERE id = $3 AND organisation_id = $2 AND deleted_at IS NULL)",
        )
        .bind(relation_id)
        .bind(organisation_id)
        .bind(document_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if affected == 1 {
            audit!(
                tx,
                org = organisation_id,
                actor = actor_id,
                action = "relation.delete",
                target = ("document_relation", relation_id),
                details = &serde_json::json!({}),
                at = now
            );
        }
        Ok::<_, sqlx::Error>(affected == 1)
    })
}

/// Number of audit rows about a target (tests and the audit view).
pub async fn count_audit_rows(db: &Database, target_id: &str) -> Result<i64, sqlx::Error> {
    with_pool!(db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_logs WHERE target_id = $1")
        .bind(target_id)
        .fetch_one(p)
        .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_embeds_its_metadata_as_json_and_reads_it_back() {
        let now = Utc::now();
        let view = DocumentView {
            id: "doc_1".into(),
            organisation_id: "org_1".into(),
            owner_id: "usr_1".into(),
            filename: "a.txt".into(),
            original_filename: "a.txt".into(),
            size_bytes: 1,
            media_type: "text/plain".into(),
            sha256: "00".into(),
            status: "queued".into(),
            metadata: r#"{"client": "ACME"}"#.into(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let json = serde_json::to_value(&view).expect("serialises");
        assert_eq!(json["metadata"], serde_json::json!({ "client": "ACME" }));
        let back: DocumentView = serde_json::from_value(json).expect("deserialises");
        assert_eq!(serde_json::from_str::<Value>(&back.metadata).ok(), Some(serde_json::json!({ "client": "ACME" })));
    }
}
