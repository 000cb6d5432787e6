//! Accounts: users with a password hash and a disabled flag, their memberships (a role per
//! organisation), invitations, and audit rows of sign-ins. Every change is audited in the
//! transaction that makes it. Password hashing itself is the service's (this module stores
//! the PHC string it is given).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::Database;
use crate::documents::audit;
use crate::ids::new_id;
use crate::{in_transaction, with_pool};

/// What a member may do in an organisation: administer it, review (upload, analyse), or view.
pub const ROLES: [&str; 3] = ["admin", "reviewer", "viewer"];

/// A user as a member of one organisation.
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Member {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// What a sign-in needs to know of the user an e-mail address names.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LoginRecord {
    pub user_id: String,
    /// The home organisation, where a sign-in lands.
    pub organisation_id: String,
    pub password_hash: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub is_platform_admin: bool,
}

/// A user to be made a member of `organisation_id`.
#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    pub organisation_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
    pub role: &'a str,
    pub actor_id: Option<&'a str>,
}

/// An invitation as listed (never its token).
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Invitation {
    pub id: String,
    pub email: String,
    pub role: String,
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

const MEMBER_COLUMNS: &str = "u.id, u.email, u.name, m.role, u.disabled_at, u.created_at";

pub async fn login_record(db: &Database, email: &str) -> Result<Option<LoginRecord>, sqlx::Error> {
    const SQL: &str = "SELECT id AS user_id, organisation_id, password_hash, disabled_at, is_platform_admin \
                       FROM users WHERE email = $1";
    with_pool!(db, |p| sqlx::query_as::<_, LoginRecord>(SQL).bind(email).fetch_optional(p).await)
}

/// The user's role in an organisation, if a member and not disabled.
pub async fn active_role(db: &Database, user_id: &str, organisation_id: &str) -> Result<Option<String>, sqlx::Error> {
    const SQL: &str = "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id \
                       WHERE m.user_id = $1 AND m.organisation_id = $2 AND u.disabled_at IS NULL";
    with_pool!(db, |p| sqlx::query_scalar::<_, String>(SQL).bind(user_id).bind(organisation_id).fetch_optional(p).await)
}

pub async fn member(db: &Database, organisation_id: &str, user_id: &str) -> Result<Option<Member>, sqlx::Error> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.organisation_id = $1 AND m.user_id = $2"
    );
    with_pool!(db, |p| sqlx::query_as::<_, Member>(&sql).bind(organisation_id).bind(user_id).fetch_optional(p).await)
}

/// The organisation's members, oldest first (at most 10,000).
pub async fn list_members(db: &Database, organisation_id: &str) -> Result<Vec<Member>, sqlx::Error> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.organisation_id = $1 ORDER BY u.created_at, u.id LIMIT 10000"
    );
    with_pool!(db, |p| sqlx::query_as::<_, Member>(&sql).bind(organisation_id).fetch_all(p).await)
}

/// Inserts the user row and its membership within the transaction `$tx`.
macro_rules! insert_user {
    ($tx:expr, $id:expr, $new:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO users (id, organisation_id, email, name, password_hash, role, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'member', $6)",
        )
        .bind($id)
        .bind($new.organisation_id)
        .bind($new.email)
        .bind($new.name)
        .bind($new.password_hash)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
        sqlx::query("INSERT INTO memberships (user_id, organisation_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind($id)
            .bind($new.organisation_id)
            .bind($new.role)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
    };
}

/// Creates a user and its membership, with the audit row.
pub async fn create_user(db: &Database, new: &NewUser<'_>) -> Result<Member, sqlx::Error> {
    let now = crate::ids::now();
    let id = new_id("usr");
    let details = serde_json::json!({ "email": new.email, "role": new.role });
    in_transaction!(db, |tx| {
        insert_user!(tx, &id, new, now);
        audit!(
            tx,
            org = new.organisation_id,
            actor = new.actor_id,
            action = "user.create",
            target = ("user", &id),
            details = &details,
            at = now
        );
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(Member {
        id,
        email: new.email.to_owned(),
        name: new.name.to_owned(),
        role: new.role.to_owned(),
        disabled_at: None,
        created_at: now,
    })
}

/// Sets a member's password hash, with the audit row; false when not a member.
pub async fn set_password(
    db: &Database,
    organisation_id: &str,
    user_id: &str,
    password_hash: &str,
    actor_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    change_member(db, organisation_id, user_id, MemberChange::Password(password_hash), actor_id).await
}

/// Disables or enables a member, with the audit row; false when not a member.
pub async fn set_disabled(
    db: &Database,
    organisation_id: &str,
    user_id: &str,
    disabled: bool,
    actor_id: &str,
) -> Result<bool, sqlx::Error> {
    let change = if disabled { MemberChange::Disabled(Some(crate::ids::now())) } else { MemberChange::Disabled(None) };
    change_member(db, organisation_id, user_id, change, Some(actor_id)).await
}

/// A change to a member's user row.
enum MemberChange<'a> {
    Password(&'a str),
    /// Disabled since then, or enabled.
    Disabled(Option<DateTime<Utc>>),
}

/// Applies a change to the user row of a member of the organisation, with its audit row;
/// false when not a member.
async fn change_member(
    db: &Database,
    organisation_id: &str,
    user_id: &str,
    change: MemberChange<'_>,
    actor_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    const MEMBER: &str = "WHERE id = $2 AND id IN (SELECT user_id FROM memberships WHERE organisation_id = $3)";
    let now = crate::ids::now();
    let (column, action) = match change {
        MemberChange::Password(_) => ("password_hash", "user.password"),
        MemberChange::Disabled(Some(_)) => ("disabled_at", "user.disable"),
        MemberChange::Disabled(None) => ("disabled_at", "user.enable"),
    };
    let sql = format!("UPDATE users SET {column} = $1 {MEMBER}");
    in_transaction!(db, |tx| {
        let query = match change {
            MemberChange::Password(hash) => sqlx::query(&sql).bind(hash),
            MemberChange::Disabled(at) => sqlx::query(&sql).bind(at),
        };
        let affected = query.bind(user_id).bind(organisation_id).execute(&mut *tx).await?.rows_affected();
        if affected == 1 {
            audit!(
                tx,
                org = organisation_id,
                actor = actor_id,
                action = action,
                target = ("user", user_id),
                details = &serde_json::json!({}),
                at = now
            );
        }
        Ok::<_, sqlx::Error>(affected == 1)
    })
}

/// Changes a member's role, with the audit row (old and new role); false when not a member.
pub async fn set_role(
    db: &Database,
    organisation_id: &str,
    user_id: &str,
    role: &str,
    actor_id: &str,
) -> Result<bool, sqlx::Error> {
    let now = crate::ids::now();
    in_transaction!(db, |tx| {
        let old: Option<String> =
            sqlx::query_scalar("SELECT role FROM memberships WHERE user_id = $1 AND organisation_id = $2")
                .bind(user_id)
                .bind(organisation_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(old) = old else { return Ok(false) };
        sqlx::query("UPDATE memberships SET role = $1 WHERE user_id = $2 AND organisation_id = $3")
            .bind(role)
            .bind(user_id)
            .bind(organisation_id)
            .execute(&mut *tx)
            .await?;
        audit!(
            tx,
            org = organisation_id,
            actor = actor_id,
            action = "membership.role",
            target = ("user", user_id),
            details = &serde_json::json!({ "from": old, "to": role }),
            at = now
        );
        Ok::<_, sqlx::Error>(true)
    })
}

/// Hashes of a user's live API keys (to forget what caches them when the user changes).
pub async fn live_key_hashes(db: &Database, user_id: &str) -> Result<Vec<String>, sqlx::Error> {
    const SQL: &str = "SELECT key_hash FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL";
    with_pool!(db, |p| sqlx::query_scalar::<_, String>(SQL).bind(user_id).fetch_all(p).await)
}

/// Records an invitation (its token as a hash), with the audit row.
#[allow(clippy::too_many_arguments)]
pub async fn create_invitation(
    db: &Database,
    organisation_id: &str,
    email: &str,
    role: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    actor_id: &str,
) -> Result<Invitation, sqlx::Error> {
    let now = crate::ids::now();
    let invitation = Invitation {
        id: new_id("inv"),
        email: email.to_owned(),
        role: role.to_owned(),
        invited_by: actor_id.to_owned(),
        created_at: now,
        expires_at,
        accepted_at: None,
    };
    let details = serde_json::json!({ "email": email, "role": role });
    in_transaction!(db, |tx| {
        sqlx::query(
            "INSERT INTO invitations (id, organisation_id, email, role, token_hash, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&invitation.id)
        .bind(organisation_id)
        .bind(email)
        .bind(role)
        .bind(token_hash)
        .bind(actor_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        audit!(
            tx,
            org = organisation_id,
            actor = actor_id,
            action = "invitation.create",
            target = ("invitation", &invitation.id),
            details = &details,
            at = now
        );
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(invitation)
}

/// Whether a token names an invitation that can still be accepted.
pub async fn invitation_is_live(db: &Database, token_hash: &str) -> Result<bool, sqlx::Error> {
    const SQL: &str = "SELECT id FROM invitations WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2";
    let now = crate::ids::now();
    let found =
        with_pool!(db, |p| sqlx::query_scalar::<_, String>(SQL).bind(token_hash).bind(now).fetch_optional(p).await)?;
    Ok(found.is_some())
}

/// Accepts a live invitation: marks it used and creates its user, in one transaction, with
/// the audit row. `None` when the token is unknown, used or expired.
pub async fn accept_invitation(
    db: &Database,
    token_hash: &str,
    name: &str,
    password_hash: &str,
) -> Result<Option<(String, Member)>, sqlx::Error> {
    let now = crate::ids::now();
    let id = new_id("usr");
    in_transaction!(db, |tx| {
        let invitation: Option<(String, String, String, String)> = sqlx::query_as(
            "UPDATE invitations SET accepted_at = $1 WHERE token_hash = $2 AND accepted_at IS NULL AND expires_at > $1 \
             RETURNING id, organisation_id, email, role",
        )
        .bind(now)
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((invitation_id, organisation_id, email, role)) = invitation else { return Ok(None) };
        let new = NewUser {
            organisation_id: &organisation_id,
            email: &email,
            name,
            password_hash: Some(password_hash),
            role: &role,
            actor_id: None,
        };
        insert_user!(tx, &id, new, now);
        audit!(
            tx,
            org = &organisation_id,
            actor = &id,
            action = "invitation.accept",
            target = ("invitation", &invitation_id),
            details = &serde_json::json!({ "email": email, "role": role }),
            at = now
        );
        let member = Member { id: id.clone(), email, name: name.to_owned(), role, disabled_at: None, created_at: now };
        Ok::<_, sqlx::Error>(Some((organisation_id, member)))
    })
}

/// Records one audit row on its own (sign-ins, sign-outs, refusals: events that change
/// nothing else).
pub async fn record_event(
    db: &Database,
    organisation_id: Option<&str>,
    actor_id: Option<&str>,
    action: &str,
    target: (&str, Option<&str>),
    details: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    let now = crate::ids::now();
    in_transaction!(db, |tx| {
        audit!(
            tx,
            org = organisation_id,
            actor = actor_id,
            action = action,
            target = (target.0, target.1),
            details = details,
            at = now
        );
        Ok::<_, sqlx::Error>(())
    })
}
