//! Sharing one document with a user or a role. Who may share is decided by the route table
//! (`manage` on the document); this checks what is asked for. Shares are read fresh on the
//! authorisation path (never cached), so a change applies from the next request.

use cr_store::identity::Principal;
use cr_store::shares::{self, Grantee, Share};
use cr_store::Database;

use crate::ServiceError;

/// Shares `document_id` with exactly one of `user_id` or `role`, for `permission`.
pub async fn share(
    db: &Database,
    caller: &Principal,
    document_id: &str,
    user_id: Option<&str>,
    role: Option<&str>,
    permission: &str,
) -> Result<Share, ServiceError> {
    if !shares::PERMISSIONS.contains(&permission) {
        return Err(ServiceError::invalid("invalid_permission", "permission must be read, analyze or manage"));
    }
    let grantee = match (user_id, role) {
        (Some(user), None) if cr_store::ids::is_valid("usr", user) => Grantee::User(user),
        (None, Some(role)) if cr_store::accounts::ROLES.contains(&role) => Grantee::Role(role),
        _ => {
            return Err(ServiceError::invalid(
                "invalid_grantee",
                "name exactly one of user_id (a member's id) or role (admin, reviewer, viewer)",
            ))
        }
    };
    shares::put(db, &caller.organisation_id, document_id, grantee, permission, &caller.user_id)
        .await?
        .ok_or(ServiceError::NotFound("document or member"))
}

pub async fn list(db: &Database, caller: &Principal, document_id: &str) -> Result<Vec<Share>, ServiceError> {
    shares::list(db, &caller.organisation_id, document_id).await?.ok_or(ServiceError::NotFound("document"))
}

pub async fn unshare(db: &Database, caller: &Principal, document_id: &str, share_id: &str) -> Result<(), ServiceError> {
    if !shares::remove(db, &caller.organisation_id, document_id, share_id, &caller.user_id).await? {
        return Err(ServiceError::NotFound("share"));
    }
    Ok(())
}
