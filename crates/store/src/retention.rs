//! Retention and erasure: purging a document for good (row, analyses, jobs, relations, stored
//! responses and webhook payloads that quote it), and telling which originals on disk no row
//! names any more. A soft delete keeps everything for undo and audit; a purge keeps only the
//! audit trail (which names the document but holds none of its content).

use crate::db::Database;
use crate::documents::audit;
use crate::{in_transaction, with_pool};

/// What a purge removed that lives outside the database.
#[derive(Debug)]
pub struct Purged {
    /// The original's relative path, when no other document (of any organisation) names it.
    pub unreferenced_original: Option<String>,
    /// Analyses whose report files are to be removed.
    pub analysis_ids: Vec<String>,
}

/// Deletes a document of `organisation_id` (live or soft-deleted) and everything derived
/// from it, with an audit row; `None` when there is no such document.
pub async fn purge_document(
    db: &Database,
    organisation_id: &str,
    id: &str,
    actor_id: &str,
) -> Result<Option<Purged>, sqlx::Error> {
    let now = crate::ids::now();
    let pattern = format!("%{id}%");
    in_transaction!(db, |tx| {
        let stored_path: Option<String> =
            sqlx::query_scalar("SELECT stored_path FROM documents WHERE id = $1 AND organisation_id = $2")
                .bind(id)
                .bind(organisation_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(stored_path) = stored_path else { return Ok(None) };
        let analysis_ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM analyses WHERE document_id = $1").bind(id).fetch_all(&mut *tx).await?;
        let statements = [
            "UPDATE documents SET latest_analysis_id = NULL WHERE id = $1",
            "DELETE FROM analysis_clauses WHERE analysis_id IN (SELECT id FROM analyses WHERE document_id = $1)",
            "DELETE FROM analysis_terms WHERE analysis_id IN (SELECT id FROM analyses WHERE document_id = $1)",
            "DELETE FROM analysis_risks WHERE analysis_id IN (SELECT id FROM analyses WHERE document_id = $1)",
            "DELETE FROM analyses WHERE document_id = $1",
            "DELETE FROM analysis_dispatch_outbox WHERE job_id IN (SELECT id FROM analysis_jobs WHERE document_id = $1)",
            "DELETE FROM analysis_jobs WHERE document_id = $1",
            "DELETE FROM document_relations WHERE source_id = $1 OR target_id = $1",
            "DELETE FROM document_shares WHERE document_id = $1",
        ];
        for statement in statements {
            sqlx::query(statement).bind(id).execute(&mut *tx).await?;
        }
        // Stored answers and event payloads quote the document; ids are unique and unguessable,
        // so a match on the id finds exactly those.
        let responses =
            sqlx::query("DELETE FROM idempotency_keys WHERE organisation_id = $1 AND response_body LIKE $2")
                .bind(organisation_id)
                .bind(&pattern)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let deliveries = sqlx::query("DELETE FROM webhook_deliveries WHERE organisation_id = $1 AND payload LIKE $2")
            .bind(organisation_id)
            .bind(&pattern)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM documents WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let still_named: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM documents WHERE stored_path = $1)")
            .bind(&stored_path)
            .fetch_one(&mut *tx)
            .await?;
        let details = serde_json::json!({
            "analyses": analysis_ids.len(),
            "stored_responses": responses,
            "webhook_deliveries": deliveries,
            "original_removed": !still_named,
        });
        audit!(
            tx,
            org = organisation_id,
            actor = actor_id,
            action = "document.purge",
            target = ("document", id),
            details = &details,
            at = now
        );
        Ok::<_, sqlx::Error>(Some(Purged {
            unreferenced_original: (!still_named).then_some(stored_path),
            analysis_ids,
        }))
    })
}

/// Whether any document row (any organisation, any state) names this original.
pub async fn original_is_referenced(db: &Database, stored_path: &str) -> Result<bool, sqlx::Error> {
    with_pool!(db, |p| sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM documents WHERE stored_path = $1)")
        .bind(stored_path)
        .fetch_one(p)
        .await)
}
