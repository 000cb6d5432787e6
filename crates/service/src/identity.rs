//! Who is calling: API keys resolved to a [`Principal`], their management (create, list,
//! rotate, revoke), and organisation provisioning.
//!
//! Resolved keys are kept in process for [`PRINCIPAL_TTL`] so the hot path does not query the
//! database, each with the generation its key had in the shared cache when it was resolved.
//! Revoking or rotating a key bumps that generation (through Redis, or the invalidation log
//! while Redis is down), so every instance refuses the key on its next request; when the
//! generation cannot be read, the key is resolved from the database.

use std::time::Duration;

use cr_store::api_keys::{self, ApiKeyInfo, CreatedApiKey, NewApiKey};
use cr_store::cache::Generation;
use cr_store::identity::{self, FirstAdmin, Principal, ProvisionedOrganisation};
use cr_store::{Cache, Database};

use crate::ServiceError;

/// The e-mail address of the platform admin a new instance creates.
pub const BOOTSTRAP_ADMIN_EMAIL: &str = "admin@localhost";

/// How long a resolved (or unknown) key is remembered in process.
pub const PRINCIPAL_TTL: Duration = Duration::from_secs(30);

/// How often `last_used_at` is written for one key at most.
const LAST_USED_EVERY: Duration = Duration::from_secs(60);

/// Longest key name.
const MAX_KEY_NAME: usize = 100;

#[derive(Clone)]
pub struct Authenticator {
    db: Database,
    cache: Cache,
    resolved: moka::sync::Cache<String, (Option<Principal>, Generation)>,
    touched: moka::sync::Cache<String, ()>,
    /// Addresses whose refused credentials were audited in the last [`REFUSAL_AUDIT_EVERY`].
    refusals_audited: moka::sync::Cache<String, ()>,
}

/// Refusals of dead or unknown credentials from one address are audited once per this
/// period, so a client replaying a bad key cannot turn each request into an audit row.
pub const REFUSAL_AUDIT_EVERY: Duration = Duration::from_secs(60);

/// The shared-cache key whose generation a key's resolution is valid for.
fn key_generation(hash: &str) -> String {
    format!("auth:api-key:{hash}")
}

impl Authenticator {
    pub fn new(db: Database, cache: Cache) -> Self {
        let resolved = moka::sync::Cache::builder().max_capacity(10_000).time_to_live(PRINCIPAL_TTL).build();
        let touched = moka::sync::Cache::builder().max_capacity(10_000).time_to_live(LAST_USED_EVERY).build();
        let refusals_audited =
            moka::sync::Cache::builder().max_capacity(10_000).time_to_live(REFUSAL_AUDIT_EVERY).build();
        Self { db, cache, resolved, touched, refusals_audited }
    }

    /// The principal for a presented API key (live, not expired).
    pub async fn authenticate(&self, api_key: &str) -> Result<Principal, ServiceError> {
        if api_key.is_empty() || api_key.len() > 200 {
            return Err(ServiceError::Unauthenticated);
        }
        self.authenticate_hash(&identity::hash_api_key(api_key)).await
    }

    /// The principal for the API key with this SHA-256 (live, not expired).
    pub async fn authenticate_hash(&self, hash: &str) -> Result<Principal, ServiceError> {
        let hash = hash.to_owned();
        let generation = self.cache.generation(&key_generation(&hash)).await;
        let remembered = self.resolved.get(&hash).filter(|(_, seen)| Some(*seen) == generation);
        let principal = match remembered {
            Some((known, _)) => known,
            None => {
                let principal = identity::principal_by_key_hash(&self.db, &hash).await?;
                if let Some(generation) = generation {
                    self.resolved.insert(hash.clone(), (principal.clone(), generation));
                }
                principal
            }
        };
        // (A remembered key may have expired since.)
        let principal = principal
            .filter(|p| p.expires_at.is_none_or(|at| at > chrono::Utc::now()))
            .ok_or(ServiceError::Unauthenticated)?;
        if !self.touched.contains_key(&hash) {
            self.touched.insert(hash.clone(), ());
            if let Err(err) = api_keys::touch(&self.db, &hash).await {
                tracing::warn!(error = %err, "could not record when an API key was used");
            }
        }
        Ok(principal)
    }

    /// Audits a request refused for its API key: with the key's organisation when the key
    /// existed (revoked, expired, or its user disabled), else as an unknown credential.
    pub async fn audit_unknown_key(&self, hash: &str, client_ip: &str, path: &str) {
        if !self.first_refusal(client_ip, "api_key") {
            return;
        }
        let details = serde_json::json!({ "ip": client_ip, "path": path });
        let recorded = match cr_store::api_keys::dead_key(&self.db, hash).await {
            Ok(Some((org, user, key))) => {
                let details = serde_json::json!({ "ip": client_ip, "path": path, "reason": "key_not_live" });
                cr_store::accounts::record_event(
                    &self.db,
                    Some(&org),
                    Some(&user),
                    "api_key.refused",
                    ("api_key", Some(&key)),
                    &details,
                )
                .await
            }
            Ok(None) => {
                cr_store::accounts::record_event(
                    &self.db,
                    None,
                    None,
                    "auth.unknown_api_key",
                    ("api_key", None),
                    &details,
                )
                .await
            }
            Err(err) => Err(err),
        };
        if let Err(err) = recorded {
            tracing::warn!(error = %err, "could not audit a refused API key");
        }
    }

    /// Audits a request refused for a session token that names no live session (ended,
    /// expired or made up).
    pub async fn audit_refused_session(&self, client_ip: &str, path: &str) {
        if !self.first_refusal(client_ip, "session") {
            return;
        }
        let details = serde_json::json!({ "ip": client_ip, "path": path });
        if let Err(err) =
            cr_store::accounts::record_event(&self.db, None, None, "auth.unknown_session", ("session", None), &details)
                .await
        {
            tracing::warn!(error = %err, "could not audit a refused session");
        }
    }

    fn first_refusal(&self, client_ip: &str, kind: &str) -> bool {
        let key = format!("{kind}|{client_ip}");
        if self.refusals_audited.contains_key(&key) {
            return false;
        }
        self.refusals_audited.insert(key, ());
        true
    }

    /// A new key for the caller's own user, or (an organisation admin's) for another member,
    /// with at most the caller's scopes; by default all the user's role allows.
    pub async fn create_key(
        &self,
        caller: &Principal,
        for_user: Option<&str>,
        name: &str,
        scopes: Option<Vec<String>>,
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<CreatedApiKey, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.len() > MAX_KEY_NAME || name.chars().any(char::is_control) {
            return Err(ServiceError::invalid("invalid_name", "the key name must be 1 to 100 printable characters"));
        }
        let user_id = for_user.unwrap_or(&caller.user_id);
        let role = if user_id == caller.user_id {
            caller.role.clone()
        } else {
            if !(caller.role == "admin" && caller.has_scope("admin")) {
                return Err(ServiceError::Forbidden("only an organisation admin can make keys for other members"));
            }
            cr_store::accounts::active_role(&self.db, user_id, &caller.organisation_id)
                .await?
                .ok_or(ServiceError::NotFound("member"))?
        };
        let scopes = scopes.unwrap_or_else(|| {
            identity::role_permissions(&role).iter().filter(|s| caller.has_scope(s)).map(|s| (*s).to_owned()).collect()
        });
        if scopes.is_empty() || scopes.iter().any(|s| !api_keys::SCOPES.contains(&s.as_str())) {
            return Err(ServiceError::invalid("invalid_scopes", "scopes must be some of read, analyze, admin"));
        }
        if let Some(scope) = scopes.iter().find(|s| !caller.has_scope(s)) {
            return Err(ServiceError::Forbidden(if scope == "admin" {
                "a key cannot grant the admin scope it does not have"
            } else {
                "a key cannot grant a scope it does not have"
            }));
        }
        if expires_at.is_some_and(|at| at <= chrono::Utc::now()) {
            return Err(ServiceError::invalid("invalid_expiry", "expires_at must be in the future"));
        }
        let mut scopes = scopes;
        scopes.sort();
        scopes.dedup();
        let new = NewApiKey {
            organisation_id: &caller.organisation_id,
            user_id,
            name,
            scopes: &scopes,
            expires_at,
            actor_id: &caller.user_id,
        };
        Ok(api_keys::create(&self.db, &new).await?)
    }

    /// The keys the caller may see: all of the organisation's for an admin, else its own.
    pub async fn list_keys(&self, caller: &Principal) -> Result<Vec<ApiKeyInfo>, ServiceError> {
        let own = (caller.role != "admin").then_some(caller.user_id.as_str());
        Ok(api_keys::list(&self.db, &caller.organisation_id, own).await?)
    }

    /// Revokes a key: refused on the next request, on every instance.
    pub async fn revoke_key(&self, caller: &Principal, key_id: &str) -> Result<(), ServiceError> {
        self.may_manage(caller, key_id).await?;
        let hash = api_keys::revoke(&self.db, &caller.organisation_id, key_id, &caller.user_id)
            .await?
            .ok_or(ServiceError::NotFound("API key"))?;
        self.forget(&hash).await;
        Ok(())
    }

    /// Replaces a key by a new one (same name, scopes and expiry); the old one is refused on
    /// the next request, on every instance.
    pub async fn rotate_key(&self, caller: &Principal, key_id: &str) -> Result<CreatedApiKey, ServiceError> {
        self.may_manage(caller, key_id).await?;
        let (created, old_hash) = api_keys::rotate(&self.db, &caller.organisation_id, key_id, &caller.user_id)
            .await?
            .ok_or(ServiceError::NotFound("API key"))?;
        self.forget(&old_hash).await;
        Ok(created)
    }

    /// A key may be managed by its own user, or by an organisation admin (with the admin scope).
    async fn may_manage(&self, caller: &Principal, key_id: &str) -> Result<(), ServiceError> {
        let key = api_keys::find(&self.db, &caller.organisation_id, key_id)
            .await?
            .ok_or(ServiceError::NotFound("API key"))?;
        let admin = caller.role == "admin" && caller.has_scope("admin");
        if key.user_id != caller.user_id && !admin {
            return Err(ServiceError::NotFound("API key"));
        }
        Ok(())
    }

    /// Forgets, on every instance, what was resolved for a user's live keys (its role or
    /// state changed).
    pub async fn forget_user_keys(&self, user_id: &str) -> Result<(), ServiceError> {
        let hashes = cr_store::accounts::live_key_hashes(&self.db, user_id).await?;
        let keys: Vec<String> = hashes.iter().map(|h| key_generation(h)).collect();
        self.cache.invalidate(&keys).await;
        for hash in &hashes {
            self.resolved.invalidate(hash);
        }
        Ok(())
    }

    async fn forget(&self, hash: &str) {
        self.cache.invalidate(&[key_generation(hash)]).await;
        self.resolved.invalidate(hash);
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
        let email = email.to_lowercase();
        let admin = FirstAdmin { email: &email, platform_admin: false, api_key: None, password_hash: None };
        identity::provision_organisation(&self.db, Some(&caller.user_id), name, admin).await.map_err(|err| {
            match cr_store::db::violated_constraint(&err).as_deref() {
                Some("users_email_key") => {
                    ServiceError::conflict("email_taken", "a user with this e-mail address already exists")
                }
                _ => err.into(),
            }
        })
    }

    /// Whether the instance has no users yet.
    pub async fn needs_bootstrap(&self) -> anyhow::Result<bool> {
        Ok(identity::count_users(&self.db).await? == 0)
    }

    /// On an instance with no users yet, creates the platform admin (`admin@localhost`) with
    /// `api_key` (or a generated one) and the password of `password_hash`. Returns the key
    /// when it created the admin.
    pub async fn bootstrap(
        &self,
        api_key: Option<String>,
        password_hash: Option<String>,
    ) -> anyhow::Result<Option<String>> {
        if identity::count_users(&self.db).await? > 0 {
            if let Some(key) = api_key {
                // The configured key must work; say so at start instead of at the first request.
                if identity::principal_by_key_hash(&self.db, &identity::hash_api_key(&key)).await?.is_none() {
                    tracing::warn!("CR_BOOTSTRAP_API_KEY is set but does not match any key of this instance");
                }
            }
            return Ok(None);
        }
        let admin = FirstAdmin { email: BOOTSTRAP_ADMIN_EMAIL, platform_admin: true, api_key, password_hash };
        let created = identity::provision_organisation(&self.db, None, "Default organisation", admin).await?;
        Ok(Some(created.api_key))
    }
}
