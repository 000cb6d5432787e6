//! Organisations, users and API keys: the minimum identity that makes documents private.
//!
//! API keys are 32 random bytes shown once; only their SHA-256 is stored (a fast hash is
//! enough for high-entropy secrets, and it keeps the lookup an index probe).

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::Database;
use crate::ids::new_id;
use crate::{in_transaction, with_pool};

/// Who is making a request, resolved from an API key or a browser session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Principal {
    pub user_id: String,
    pub organisation_id: String,
    /// The user's role in that organisation (`admin`, `reviewer`, `viewer`).
    pub role: String,
    pub is_platform_admin: bool,
    /// The key the request came with (none for a session).
    pub key_id: Option<String>,
    /// What the request may do (comma-separated): a key's scopes, or a session's role
    /// permissions. A key's request needs the scope *and* the permission (role or share).
    pub scopes: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Principal {
    /// Whether the request may do `scope` (`read`, `analyze`, `admin`).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.split(',').any(|s| s == scope)
    }
}

/// What a role may do: an admin everything, a reviewer read and analyse, a viewer read.
pub fn role_permissions(role: &str) -> &'static [&'static str] {
    match role {
        "admin" => &["read", "analyze", "admin"],
        "reviewer" => &["read", "analyze"],
        "viewer" => &["read"],
        _ => &[],
    }
}

/// The scopes of `scopes` (comma-separated) that `role` allows, comma-separated.
pub fn narrow_to_role(scopes: &str, role: &str) -> String {
    let allowed = role_permissions(role);
    scopes.split(',').filter(|s| allowed.contains(s)).collect::<Vec<_>>().join(",")
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// A freshly created organisation with its first admin and that admin's API key (plaintext,
/// returned exactly once).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProvisionedOrganisation {
    pub organisation: Organisation,
    pub admin_user_id: String,
    pub admin_email: String,
    pub api_key: String,
}

/// Hash under which an API key is stored and looked up.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new random API key, `cr_` + 64 hex characters.
pub fn generate_api_key() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("cr_{}", hex::encode(bytes))
}

/// The principal of a live API key with this hash, whose user is an enabled member of the
/// key's organisation.
pub async fn principal_by_key_hash(db: &Database, key_hash: &str) -> Result<Option<Principal>, sqlx::Error> {
    const SQL: &str = "SELECT u.id AS user_id, k.organisation_id, m.role, u.is_platform_admin, \
                       k.id AS key_id, k.scopes, k.expires_at \
                       FROM api_keys k JOIN users u ON u.id = k.user_id \
                       JOIN memberships m ON m.user_id = k.user_id AND m.organisation_id = k.organisation_id \
                       WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2) \
                       AND u.disabled_at IS NULL";
    let now = crate::ids::now();
    with_pool!(db, |p| sqlx::query_as::<_, Principal>(SQL).bind(key_hash).bind(now).fetch_optional(p).await)
}

/// Ids of up to `limit` organisations, oldest first.
pub async fn organisation_ids(db: &Database, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    const SQL: &str = "SELECT id FROM organisations ORDER BY id LIMIT $1";
    with_pool!(db, |p| sqlx::query_scalar::<_, String>(SQL).bind(limit).fetch_all(p).await)
}

/// Number of users; zero means the instance still needs its bootstrap admin.
pub async fn count_users(db: &Database) -> Result<i64, sqlx::Error> {
    with_pool!(db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users").fetch_one(p).await)
}

/// How a new organisation's first admin is made.
#[derive(Clone, Debug)]
pub struct FirstAdmin<'a> {
    pub email: &'a str,
    /// Whether the admin administers the whole platform (the instance's first user only).
    pub platform_admin: bool,
    /// The key the operator chose (bootstrap); otherwise one is made.
    pub api_key: Option<String>,
    /// A password to sign in with, as its PHC hash.
    pub password_hash: Option<String>,
}

/// Creates an organisation, its first admin user (a member with the admin role) and an API
/// key, with the audit row, in one transaction.
pub async fn provision_organisation(
    db: &Database,
    actor_id: Option<&str>,
    name: &str,
    admin: FirstAdmin<'_>,
) -> Result<ProvisionedOrganisation, sqlx::Error> {
    let FirstAdmin { email: admin_email, platform_admin, api_key, password_hash } = admin;
    let now = crate::ids::now();
    let organisation = Organisation { id: new_id("org"), name: name.to_owned(), created_at: now };
    let user_id = new_id("usr");
    let api_key = api_key.unwrap_or_else(generate_api_key);
    let key_hash = hash_api_key(&api_key);
    let prefix: String = api_key.chars().take(10).collect();
    let details = serde_json::json!({ "name": name, "admin_email": admin_email });
    in_transaction!(db, |tx| {
        sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&organisation.id)
            .bind(&organisation.name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO users (id, organisation_id, email, role, is_platform_admin, password_hash, created_at) \
             VALUES ($1, $2, $3, 'admin', $4, $5, $6)",
        )
        .bind(&user_id)
        .bind(&organisation.id)
        .bind(admin_email)
        .bind(platform_admin)
        .bind(&password_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO memberships (user_id, organisation_id, role, created_at) VALUES ($1, $2, 'admin', $3)",
        )
        .bind(&user_id)
        .bind(&organisation.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, organisation_id, key_hash, prefix, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id("key"))
        .bind(&user_id)
        .bind(&organisation.id)
        .bind(&key_hash)
        .bind(&prefix)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit_logs (id, organisation_id, actor_id, action, target_type, target_id, details, created_at) \
             VALUES ($1, $2, $3, 'organisation.create', 'organisation', $2, $4, $5)",
        )
        .bind(new_id("aud"))
        .bind(&organisation.id)
        .bind(actor_id)
        .bind(sqlx::types::Json(&details))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(ProvisionedOrganisation { organisation, admin_user_id: user_id, admin_email: admin_email.to_owned(), api_key })
}

/// The playbook and side an organisation's uploads are analysed with when they name none.
pub async fn organisation_defaults(
    db: &Database,
    organisation_id: &str,
) -> Result<(String, Option<String>), sqlx::Error> {
    const SQL: &str = "SELECT default_playbook, default_side FROM organisations WHERE id = $1";
    let row = with_pool!(db, |p| sqlx::query_as::<_, (String, Option<String>)>(SQL)
        .bind(organisation_id)
        .fetch_optional(p)
        .await)?;
    Ok(row.unwrap_or_else(|| ("auto".into(), None)))
}

/// Sets the playbook and side an organisation's uploads are analysed with when they name
/// none, with the audit row; false when there is no such organisation.
pub async fn set_organisation_defaults(
    db: &Database,
    organisation_id: &str,
    playbook: &str,
    side: Option<&str>,
    actor_id: &str,
) -> Result<bool, sqlx::Error> {
    let now = crate::ids::now();
    let details = serde_json::json!({ "default_playbook": playbook, "default_side": side });
    in_transaction!(db, |tx| {
        let affected = sqlx::query("UPDATE organisations SET default_playbook = $1, default_side = $2 WHERE id = $3")
            .bind(playbook)
            .bind(side)
            .bind(organisation_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if affected == 1 {
            crate::documents::audit!(
                tx,
                org = organisation_id,
                actor = actor_id,
                action = "organisation.defaults",
                target = ("organisation", organisation_id),
                details = &details,
                at = now
            );
        }
        Ok::<_, sqlx::Error>(affected == 1)
    })
}
