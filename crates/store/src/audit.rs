//! Reading the append-only audit log: an organisation's rows, newest first, filtered by
//! actor, action, target and time, in keyset pages (the time-ordered id is the cursor).
//! Nothing here (or anywhere in the application) updates or deletes audit rows.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::Database;
use crate::with_pool;

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: sqlx::types::Json<serde_json::Value>,
}

/// Which rows to read.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter<'a> {
    pub actor_id: Option<&'a str>,
    pub action: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Rows older than this id (the previous page's last).
    pub before: Option<&'a str>,
}

/// Up to `limit` rows of the organisation, newest first.
pub async fn list(
    db: &Database,
    organisation_id: &str,
    filter: &AuditFilter<'_>,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    const SQL: &str = "SELECT id, created_at, actor_id, action, target_type, target_id, details FROM audit_logs \
                       WHERE organisation_id = $1 AND ($2 IS NULL OR actor_id = $2) AND ($3 IS NULL OR action = $3) \
                       AND ($4 IS NULL OR target_id = $4) AND ($5 IS NULL OR created_at >= $5) \
                       AND ($6 IS NULL OR created_at < $6) AND ($7 IS NULL OR id < $7) \
                       ORDER BY id DESC LIMIT $8";
    with_pool!(db, |p| sqlx::query_as::<_, AuditRow>(SQL)
        .bind(organisation_id)
        .bind(filter.actor_id)
        .bind(filter.action)
        .bind(filter.target_id)
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.before)
        .bind(limit)
        .fetch_all(p)
        .await)
}
