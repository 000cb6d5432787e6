//! Document shares: one document given to one user or to a role, for `read`, `analyze` or
//! `manage`. Created and removed with their audit rows; read on the authorisation path only
//! when the caller's role does not already allow what the route needs.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::Database;
use crate::documents::audit;
use crate::ids::new_id;
use crate::{in_transaction, with_pool};

pub const PERMISSIONS: [&str; 3] = ["read", "analyze", "manage"];

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Share {
    pub id: String,
    pub document_id: String,
    /// The user it is shared with, or
    pub user_id: Option<String>,
    /// every member with this role.
    pub role: Option<String>,
    pub permission: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Who a share is for.
#[derive(Clone, Copy, Debug)]
pub enum Grantee<'a> {
    User(&'a str),
    Role(&'a str),
}

const COLUMNS: &str = "id, document_id, user_id, role, permission, created_by, created_at";

/// What the user (by id or role) holds on a live document of the organisation: its shares'
/// permissions, and `manage` for the user who uploaded it.
pub async fn held(
    db: &Database,
    organisation_id: &str,
    document_id: &str,
    user_id: &str,
    role: &str,
) -> Result<Vec<String>, sqlx::Error> {
    const SQL: &str = "SELECT s.permission FROM document_shares s JOIN documents d ON d.id = s.document_id \
                       WHERE s.organisation_id = $1 AND s.document_id = $2 AND (s.user_id = $3 OR s.role = $4) \
                       AND d.deleted_at IS NULL \
                       UNION ALL SELECT 'manage' FROM documents \
                       WHERE id = $2 AND organisation_id = $1 AND owner_id = $3 AND deleted_at IS NULL";
    with_pool!(db, |p| sqlx::query_scalar::<_, String>(SQL)
        .bind(organisation_id)
        .bind(document_id)
        .bind(user_id)
        .bind(role)
        .fetch_all(p)
        .await)
}

/// Shares a live document of the organisation (replacing the grantee's earlier share), with
/// the audit row; `None` when there is no such document or user.
pub async fn put(
    db: &Database,
    organisation_id: &str,
    document_id: &str,
    grantee: Grantee<'_>,
    permission: &str,
    actor_id: &str,
) -> Result<Option<Share>, sqlx::Error> {
    let now = crate::ids::now();
    let (user_id, role) = match grantee {
        Grantee::User(user) => (Some(user.to_owned()), None),
        Grantee::Role(role) => (None, Some(role.to_owned())),
    };
    let share = Share {
        id: new_id("shr"),
        document_id: document_id.to_owned(),
        user_id,
        role,
        permission: permission.to_owned(),
        created_by: actor_id.to_owned(),
        created_at: now,
    };
    in_transaction!(db, |tx| {
        let document: Option<String> = sqlx::query_scalar(
            "SELECT id FROM documents WHERE id = $1 AND organisation_id = $2 AND deleted_at IS NULL",
        )
        .bind(document_id)
        .bind(organisation_id)
        .fetch_optional(&mut *tx)
        .await?;
        if document.is_none() {
            return Ok(None);
        }
        if let Some(user) = &share.user_id {
            let member: Option<String> =
                sqlx::query_scalar("SELECT user_id FROM memberships WHERE user_id = $1 AND organisation_id = $2")
                    .bind(user)
                    .bind(organisation_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if member.is_none() {
                return Ok(None);
            }
        }
        sqlx::query("DELETE FROM document_shares WHERE document_id = $1 AND (user_id = $2 OR role = $3)")
            .bind(document_id)
            .bind(&share.user_id)
            .bind(&share.role)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO document_shares (id, organisation_id, document_id, user_id, role, permission, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&share.id)
        .bind(organisation_id)
        .bind(document_id)
        .bind(&share.user_id)
        .bind(&share.role)
        .bind(permission)
        .bind(actor_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let details = serde_json::json!({ "user_id": share.user_id, "role": share.role, "permission": permission });
        audit!(
            tx,
            org = organisation_id,
            actor = actor_id,
            action = "share.create",
            target = ("document", document_id),
            details = &details,
            at = now
        );
        Ok::<_, sqlx::Error>(Some(share.clone()))
    })
}

/// The shares of a live document of the organisation, oldest first; `None` when there is no
/// such document.
pub async fn list(db: &Database, organisation_id: &str, document_id: &str) -> Result<Option<Vec<Share>>, sqlx::Error> {
    const LIVE: &str = "SELECT id FROM documents WHERE id = $1 AND organisation_id = $2 AND deleted_at IS NULL";
    let live = with_pool!(db, |p| sqlx::query_scalar::<_, String>(LIVE)
        .bind(document_id)
        .bind(organisation_id)
        .fetch_optional(p)
        .await)?;
    if live.is_none() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM document_shares WHERE organisation_id = $1 AND document_id = $2 ORDER BY id LIMIT 1000"
    );
    let shares = with_pool!(db, |p| sqlx::query_as::<_, Share>(&sql)
        .bind(organisation_id)
        .bind(document_id)
        .fetch_all(p)
        .await)?;
    Ok(Some(shares))
}

/// Removes a share, with the audit row; false when there is no such share.
pub async fn remove(
    db: &Database,
    organisation_id: &str,
    document_id: &str,
    share_id: &str,
    actor_id: &str,
) -> Result<bool, sqlx::Error> {
    let now = crate::ids::now();
    in_transaction!(db, |tx| {
        let removed =
            sqlx::query("DELETE FROM document_shares WHERE id = $1 AND document_id = $2 AND organisation_id = $3")
                .bind(share_id)
                .bind(document_id)
                .bind(organisation_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if removed == 1 {
            audit!(
                tx,
                org = organisation_id,
                actor = actor_id,
                action = "share.delete",
                target = ("document", document_id),
                details = &serde_json::json!({ "share_id": share_id }),
                at = now
            );
        }
        Ok::<_, sqlx::Error>(removed == 1)
    })
}
