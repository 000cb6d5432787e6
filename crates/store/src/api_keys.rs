//! API keys a user manages for programs: created with a name, scopes and an optional expiry,
//! shown once, listed by their prefix, rotated and revoked. Each change is audited in the
//! transaction that makes it; rows are never deleted (a revoked key keeps its history).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::Database;
use crate::documents::audit;
use crate::identity::{generate_api_key, hash_api_key};
use crate::ids::new_id;
use crate::{in_transaction, with_pool};

/// What a key may do: read documents and reviews, upload and analyse, administer the
/// organisation (keys, settings).
pub const SCOPES: [&str; 3] = ["read", "analyze", "admin"];

/// A key as listed: never its secret, only the prefix it starts with.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ApiKeyInfo {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    /// Comma-separated scopes.
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A key just made: its description and the secret, shown this once.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    pub key: ApiKeyInfo,
    pub api_key: String,
}

/// What a new key is to be.
#[derive(Clone, Debug)]
pub struct NewApiKey<'a> {
    pub organisation_id: &'a str,
    pub user_id: &'a str,
    pub name: &'a str,
    pub scopes: &'a [String],
    pub expires_at: Option<DateTime<Utc>>,
    pub actor_id: &'a str,
}

const COLUMNS: &str =
    "k.id, k.user_id, k.name, k.prefix, k.scopes, k.created_at, k.expires_at, k.last_used_at, k.revoked_at";

/// Inserts a key row within the transaction `$tx`.
macro_rules! insert_key {
    ($tx:expr, $org:expr, $info:expr, $hash:expr) => {
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, organisation_id, key_hash, prefix, name, scopes, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&$info.id)
        .bind(&$info.user_id)
        .bind($org)
        .bind($hash)
        .bind(&$info.prefix)
        .bind(&$info.name)
        .bind(&$info.scopes)
        .bind($info.created_at)
        .bind($info.expires_at)
        .execute(&mut *$tx)
        .await?
    };
}

/// Creates a key for `new.user_id`, with the audit row.
pub async fn create(db: &Database, new: &NewApiKey<'_>) -> Result<CreatedApiKey, sqlx::Error> {
    let now = crate::ids::now();
    let (info, api_key) = fresh_key(new, now);
    let details = serde_json::json!({ "name": info.name, "scopes": info.scopes, "user_id": info.user_id });
    in_transaction!(db, |tx| {
        insert_key!(tx, new.organisation_id, info, hash_api_key(&api_key));
        audit!(
            tx,
            org = new.organisation_id,
            actor = new.actor_id,
            action = "api_key.create",
            target = ("api_key", &info.id),
            details = &details,
            at = now
        );
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(CreatedApiKey { key: info, api_key })
}

fn fresh_key(new: &NewApiKey<'_>, now: DateTime<Utc>) -> (ApiKeyInfo, String) {
    let api_key = generate_api_key();
    let info = ApiKeyInfo {
        id: new_id("key"),
        user_id: new.user_id.to_owned(),
        name: new.name.to_owned(),
        prefix: api_key.chars().take(10).collect(),
        scopes: new.scopes.join(","),
        created_at: now,
        expires_at: new.expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    (info, api_key)
}

/// The organisation's keys (or one user's), newest first.
pub async fn list(db: &Database, organisation_id: &str, user_id: Option<&str>) -> Result<Vec<ApiKeyInfo>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM api_keys k \
         WHERE k.organisation_id = $1 AND ($2 IS NULL OR k.user_id = $2) ORDER BY k.created_at DESC, k.id DESC LIMIT 1000"
    );
    with_pool!(db, |p| sqlx::query_as::<_, ApiKeyInfo>(&sql).bind(organisation_id).bind(user_id).fetch_all(p).await)
}

/// One key of the organisation (revoked or not).
pub async fn find(db: &Database, organisation_id: &str, key_id: &str) -> Result<Option<ApiKeyInfo>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys k WHERE k.organisation_id = $1 AND k.id = $2");
    with_pool!(db, |p| sqlx::query_as::<_, ApiKeyInfo>(&sql).bind(organisation_id).bind(key_id).fetch_optional(p).await)
}

/// Revokes a live key of the organisation, with the audit row. Returns the revoked key's
/// hash (to invalidate what caches it), or `None` when there is no such live key.
pub async fn revoke(
    db: &Database,
    organisation_id: &str,
    key_id: &str,
    actor_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let now = crate::ids::now();
    in_transaction!(db, |tx| {
        let hash: Option<String> = sqlx::query_scalar(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             AND organisation_id = $3 RETURNING key_hash",
        )
        .bind(now)
        .bind(key_id)
        .bind(organisation_id)
        .fetch_optional(&mut *tx)
        .await?;
        if hash.is_some() {
            audit!(
                tx,
                org = organisation_id,
                actor = actor_id,
                action = "api_key.revoke",
                target = ("api_key", key_id),
                details = &serde_json::json!({}),
                at = now
            );
        }
        Ok::<_, sqlx::Error>(hash)
    })
}

/// Replaces a live key by a new one with the same name, scopes and expiry, in one
/// transaction (the old one revoked), with the audit row. `None` when there is no such live
/// key; else the new key and the old key's hash.
pub async fn rotate(
    db: &Database,
    organisation_id: &str,
    key_id: &str,
    actor_id: &str,
) -> Result<Option<(CreatedApiKey, String)>, sqlx::Error> {
    let Some(old) = find(db, organisation_id, key_id).await?.filter(|k| k.revoked_at.is_none()) else {
        return Ok(None);
    };
    let now = crate::ids::now();
    let scopes: Vec<String> = old.scopes.split(',').map(str::to_owned).collect();
    let new = NewApiKey {
        organisation_id,
        user_id: &old.user_id,
        name: &old.name,
        scopes: &scopes,
        expires_at: old.expires_at,
        actor_id,
    };
    let (info, api_key) = fresh_key(&new, now);
    let details = serde_json::json!({ "replaced_by": info.id });
    let old_hash = in_transaction!(db, |tx| {
        let hash: Option<String> = sqlx::query_scalar(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING key_hash",
        )
        .bind(now)
        .bind(key_id)
        .fetch_optional(&mut *tx)
        .await?;
        if hash.is_some() {
            insert_key!(tx, organisation_id, info, hash_api_key(&api_key));
            audit!(
                tx,
                org = organisation_id,
                actor = actor_id,
                action = "api_key.rotate",
                target = ("api_key", key_id),
                details = &details,
                at = now
            );
        }
        Ok::<_, sqlx::Error>(hash)
    })?;
    Ok(old_hash.map(|hash| (CreatedApiKey { key: info, api_key }, hash)))
}

/// Records that a key was used (at most once a minute per key, by the caller's choice).
pub async fn touch(db: &Database, key_hash: &str) -> Result<(), sqlx::Error> {
    let now = crate::ids::now();
    with_pool!(db, |p| sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE key_hash = $2")
        .bind(now)
        .bind(key_hash)
        .execute(p)
        .await
        .map(|_| ()))
}

/// The organisation, user and id of a key with this hash that is no longer live (revoked,
/// expired, or its user disabled or no longer a member), for auditing its refusal.
pub async fn dead_key(db: &Database, key_hash: &str) -> Result<Option<(String, String, String)>, sqlx::Error> {
    const SQL: &str = "SELECT organisation_id, user_id, id FROM api_keys WHERE key_hash = $1";
    with_pool!(db, |p| sqlx::query_as::<_, (String, String, String)>(SQL).bind(key_hash).fetch_optional(p).await)
}
