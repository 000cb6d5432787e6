//! Who is calling: API keys resolved to a [`Principal`], and organisation provisioning.
//!
//! Resolved keys are kept in process for a short time so the hot read path does not query
//! the database; a revoked key therefore stays valid for at most [`PRINCIPAL_TTL`].

use std::time::Duration;

use cr_store::identity::{self, Principal, ProvisionedOrganisation};
use cr_store::Database;

use crate::ServiceError;

/// How long a resolved (or unknown) key is remembered in process.
pub const PRINCIPAL_TTL: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Authenticator {
    db: Database,
    resolved: moka::sync::Cache<String, Option<Principal>>,
}

impl Authenticator {
    pub fn new(db: Database) -> Self {
        let resolved = moka::sync::Cache::builder().max_capacity(10_000).time_to_live(PRINCIPAL_TTL).build();
        Self { db, resolved }
    }

    /// The principal for a presented API key.
    pub async fn authenticate(&self, api_key: &str) -> Result<Principal, ServiceError> {
        if api_key.is_empty() || api_key.len() > 200 {
            return Err(ServiceError::Unauthenticated);
        }
        let hash = identity::hash_api_key(api_key);
        if let Some(known) = self.resolved.get(&hash) {
            return known.ok_or(ServiceError::Unauthenticated);
        }
        let principal = identity::principal_by_key_hash(&self.db, &hash).await?;
        self.resolved.insert(hash, principal.clone());
        principal.ok_or(ServiceError::Unauthenticated)
    }

    /// Creates an organisation with its first admin (platform admins only).
    pub async fn provision_organisation(
        &self,
        caller: &Principal,
        name: &str,
        admin_email: &str,
    ) -> Result<ProvisionedOrganisation, ServiceError> {
        if !caller.is_platform_admin {
            return Err(ServiceError::Forbidden("only a platform administrator can create organisations"));
        }
        let name = name.trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                "invalid_name",
                "the organisation name must be 1 to 200 printable characters",
            ));
        }
        let email = admin_email.trim();
        if email.len() > 254 || !email.contains('@') || email.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ServiceError::invalid("invalid_email", "admin_email must be an e-mail address"));
        }
        identity::provision_organisation(&self.db, Some(&caller.user_id), name, &email.to_lowercase(), false, None)
            .await
            .map_err(|err| match cr_store::db::violated_constraint(&err).as_deref() {
                Some("users_email_key") => {
                    ServiceError::conflict("email_taken", "a user with this e-mail address already exists")
                }
                _ => err.into(),
            })
    }

    /// On an instance with no users yet, creates the platform admin with `api_key` (or a
    /// generated one). Returns the key when it created the admin.
    pub async fn bootstrap(&self, api_key: Option<String>) -> anyhow::Result<Option<String>> {
        if identity::count_users(&self.db).await? > 0 {
            if let Some(key) = api_key {
                // The configured key must work; say so at start instead of at the first request.
                if identity::principal_by_key_hash(&self.db, &identity::hash_api_key(&key)).await?.is_none() {
                    tracing::warn!("CR_BOOTSTRAP_API_KEY is set but does not match any key of this instance");
                }
            }
            return Ok(None);
        }
        let created =
            identity::provision_organisation(&self.db, None, "Default organisation", "admin@localhost", true, api_key)
                .await?;
        Ok(Some(created.api_key))
    }
}
