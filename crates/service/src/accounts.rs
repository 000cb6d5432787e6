//! People: members of organisations with a role, signing in with a password to a browser
//! session, invited by admins. Sessions live in the [`SessionStore`] (Redis in server mode);
//! when it cannot be reached, cookie sessions fail closed (503) while API keys keep working.
//!
//! Ending what a change takes away is part of the change: disabling a user or changing a role
//! ends the user's sessions and forgets the user's resolved API keys on every instance, so the
//! next request is decided on the new facts.

use std::time::Duration;

use chrono::Utc;
use cr_store::accounts::{self, Invitation, Member, NewUser};
use cr_store::identity::{role_permissions, Principal};
use cr_store::rate_limit::{Quota, RateLimiter};
use cr_store::sessions::{SessionData, SessionError, SessionStore};
use cr_store::Database;
use sha2::{Digest, Sha256};

use crate::identity::Authenticator;
use crate::passwords::{random_token, PasswordHasherPool};
use crate::ServiceError;

/// Tunables of accounts and sessions.
#[derive(Clone, Debug)]
pub struct AccountSettings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute: Duration,
    /// Sign-in attempts per e-mail address, and per client address.
    pub login_per_account: Quota,
    pub login_per_ip: Quota,
    /// How long an invitation can be accepted.
    pub invitation_ttl: Duration,
}

/// A session just made: its token (for the cookie) and what it holds.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token: String,
    pub data: SessionData,
}

/// A request's session, resolved.
#[derive(Clone, Debug)]
pub struct ResolvedSession {
    pub principal: Principal,
    pub token_hash: String,
    pub csrf_token: String,
}

/// The last activity is written back at most this often (the TTL slides on every request).
const ACTIVITY_EVERY_SECS: i64 = 60;

const SESSIONS_DOWN: &str =
    "sign-in sessions are unavailable while the session store (Redis) is unreachable; API keys still work";

#[derive(Clone)]
pub struct AccountService {
    db: Database,
    sessions: SessionStore,
    limiter: RateLimiter,
    auth: Authenticator,
    passwords: PasswordHasherPool,
    settings: AccountSettings,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn session_error(err: SessionError) -> ServiceError {
    match err {
        SessionError::Unavailable(cause) => {
            tracing::warn!(error = %cause, "session store unavailable");
            ServiceError::Unavailable(SESSIONS_DOWN.into())
        }
        SessionError::Database(err) => err.into(),
    }
}

/// E-mail addresses compare in lower case, trimmed.
pub fn normalise_email(email: &str) -> Result<String, ServiceError> {
    let email = email.trim();
    if email.len() > 254 || !email.contains('@') || email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ServiceError::invalid("invalid_email", "an e-mail address is expected"));
    }
    Ok(email.to_lowercase())
}

fn check_role(role: &str) -> Result<(), ServiceError> {
    if accounts::ROLES.contains(&role) {
        Ok(())
    } else {
        Err(ServiceError::invalid("invalid_role", "role must be admin, reviewer or viewer"))
    }
}

fn check_name(name: &str) -> Result<&str, ServiceError> {
    let name = name.trim();
    if name.len() > 200 || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid("invalid_name", "a name must be at most 200 printable characters"));
    }
    Ok(name)
}

fn admin_only(caller: &Principal) -> Result<(), ServiceError> {
    if caller.role == "admin" && caller.has_scope("admin") {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only an organisation admin can manage members"))
    }
}

impl AccountService {
    pub fn new(
        db: Database,
        sessions: SessionStore,
        limiter: RateLimiter,
        auth: Authenticator,
        passwords: PasswordHasherPool,
        settings: AccountSettings,
    ) -> Self {
        Self { db, sessions, limiter, auth, passwords, settings }
    }

    pub fn passwords(&self) -> &PasswordHasherPool {
        &self.passwords
    }

    /// The limiter sign-ins are counted in (the API's requests share it).
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// Signs in: checks the attempt against the per-account and per-address limits first (a
    /// right password past the limit is refused too), then the password, then makes a new
    /// session in the user's organisation (`organisation_id`, or the home one). Audited either way.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        organisation_id: Option<&str>,
        client_ip: &str,
    ) -> Result<NewSession, ServiceError> {
        let email = normalise_email(email).map_err(|_| ServiceError::InvalidCredentials)?;
        let by_account = format!("login-account:{}", &hash_token(&email)[..32]);
        let by_ip = format!("login-ip:{client_ip}");
        let decision = self
            .limiter
            .check(&[
                (by_account.as_str(), self.settings.login_per_account),
                (by_ip.as_str(), self.settings.login_per_ip),
            ])
            .await;
        if !decision.allowed {
            let retry_after_secs = decision.retry_after.as_secs_f64().ceil().max(1.0) as u64;
            self.audit_login_failure(None, &email, "rate_limited").await;
            return Err(ServiceError::RateLimited {
                message: format!("too many sign-in attempts; retry in {retry_after_secs} s"),
                retry_after_secs,
            });
        }
        let record = accounts::login_record(&self.db, &email).await?;
        let verified = self.passwords.verify(record.as_ref().and_then(|r| r.password_hash.clone()), password).await;
        let Some(record) = record.filter(|_| verified) else {
            self.audit_login_failure(None, &email, "wrong_password").await;
            return Err(ServiceError::InvalidCredentials);
        };
        let organisation_id = organisation_id.unwrap_or(&record.organisation_id).to_owned();
        let role = match accounts::active_role(&self.db, &record.user_id, &organisation_id).await? {
            Some(role) if record.disabled_at.is_none() => role,
            _ => {
                let reason = if record.disabled_at.is_some() { "disabled" } else { "not_a_member" };
                self.audit_login_failure(Some((&record.organisation_id, &record.user_id)), &email, reason).await;
                return Err(ServiceError::InvalidCredentials);
            }
        };
        let now = Utc::now().timestamp();
        let data = SessionData {
            user_id: record.user_id.clone(),
            organisation_id: organisation_id.clone(),
            permissions: role_permissions(&role).iter().map(|p| (*p).to_owned()).collect(),
            role,
            is_platform_admin: record.is_platform_admin,
            csrf_token: random_token(""),
            created_at: now,
            last_activity: now,
        };
        let token = random_token("crs_");
        self.sessions
            .create(&hash_token(&token), &data, self.settings.session_idle, self.settings.session_absolute)
            .await
            .map_err(session_error)?;
        accounts::record_event(
            &self.db,
            Some(&organisation_id),
            Some(&record.user_id),
            "auth.login",
            ("user", Some(&record.user_id)),
            &serde_json::json!({ "ip": client_ip }),
        )
        .await?;
        Ok(NewSession { token, data })
    }

    async fn audit_login_failure(&self, known: Option<(&str, &str)>, email: &str, reason: &str) {
        let details = serde_json::json!({ "email": email, "reason": reason });
        let (org, user) = known.map_or((None, None), |(org, user)| (Some(org), Some(user)));
        if let Err(err) =
            accounts::record_event(&self.db, org, user, "auth.login_failed", ("user", user), &details).await
        {
            tracing::warn!(error = %err, "could not audit a failed sign-in");
        }
    }

    /// The principal of a session, by its token's hash: the idle expiry slides; past its absolute
    /// maximum it ends.
    pub async fn resolve_session(&self, token_hash: &str) -> Result<ResolvedSession, ServiceError> {
        let token_hash = token_hash.to_owned();
        let data = self
            .sessions
            .touch(&token_hash, self.settings.session_idle)
            .await
            .map_err(session_error)?
            .ok_or(ServiceError::SessionEnded)?;
        let now = Utc::now().timestamp();
        let absolute = i64::try_from(self.settings.session_absolute.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_sub(data.created_at) >= absolute {
            self.sessions.end(&token_hash).await.map_err(session_error)?;
            return Err(ServiceError::SessionEnded);
        }
        if now - data.last_activity >= ACTIVITY_EVERY_SECS {
            let updated = SessionData { last_activity: now, ..data.clone() };
            if let Err(err) = self.sessions.save(&token_hash, &updated).await {
                tracing::warn!(error = %err, "could not record a session's activity");
            }
        }
        let principal = Principal {
            user_id: data.user_id,
            organisation_id: data.organisation_id,
            role: data.role,
            is_platform_admin: data.is_platform_admin,
            key_id: None,
            scopes: data.permissions.join(","),
            expires_at: None,
        };
        Ok(ResolvedSession { principal, token_hash, csrf_token: data.csrf_token })
    }

    /// Ends the session of a token, if it names one (best effort: a sign-in replacing it).
    pub async fn end_token(&self, token: &str) {
        if token.len() <= 200 {
            if let Err(err) = self.sessions.end(&hash_token(token)).await {
                tracing::warn!(error = %err, "could not end a replaced session");
            }
        }
    }

    /// Ends the calling session.
    pub async fn logout(&self, caller: &Principal, token_hash: &str) -> Result<(), ServiceError> {
        self.sessions.end(token_hash).await.map_err(session_error)?;
        self.record(caller, "auth.logout", serde_json::json!({})).await
    }

    /// Ends every session of the calling user, on every device.
    pub async fn logout_everywhere(&self, caller: &Principal) -> Result<u64, ServiceError> {
        let ended = self.sessions.end_all_of(&caller.user_id).await.map_err(session_error)?;
        self.record(caller, "auth.logout_all", serde_json::json!({ "sessions": ended })).await?;
        Ok(ended)
    }

    async fn record(&self, caller: &Principal, action: &str, details: serde_json::Value) -> Result<(), ServiceError> {
        accounts::record_event(
            &self.db,
            Some(&caller.organisation_id),
            Some(&caller.user_id),
            action,
            ("user", Some(&caller.user_id)),
            &details,
        )
        .await?;
        Ok(())
    }

    /// The caller as a member of its organisation.
    pub async fn me(&self, caller: &Principal) -> Result<Member, ServiceError> {
        accounts::member(&self.db, &caller.organisation_id, &caller.user_id).await?.ok_or(ServiceError::SessionEnded)
    }

    pub async fn list_members(&self, caller: &Principal) -> Result<Vec<Member>, ServiceError> {
        Ok(accounts::list_members(&self.db, &caller.organisation_id).await?)
    }

    /// An admin adds a user to its organisation, with a password the admin passes on.
    pub async fn create_user(
        &self,
        caller: &Principal,
        email: &str,
        name: &str,
        password: &str,
        role: &str,
    ) -> Result<Member, ServiceError> {
        admin_only(caller)?;
        self.add_user(&caller.organisation_id, Some(&caller.user_id), email, name, password, role).await
    }

    /// Adds a user (the command line's `admin create-user`, or an admin through the API).
    pub async fn add_user(
        &self,
        organisation_id: &str,
        actor_id: Option<&str>,
        email: &str,
        name: &str,
        password: &str,
        role: &str,
    ) -> Result<Member, ServiceError> {
        let email = normalise_email(email)?;
        let name = check_name(name)?;
        check_role(role)?;
        let password_hash = self.passwords.hash(password).await?;
        let new = NewUser { organisation_id, email: &email, name, password_hash: Some(&password_hash), role, actor_id };
        accounts::create_user(&self.db, &new).await.map_err(email_taken)
    }

    /// An admin changes a member's role or disables (enables) it; the member's sessions end
    /// and its keys are decided anew on the next request.
    pub async fn update_member(
        &self,
        caller: &Principal,
        user_id: &str,
        role: Option<&str>,
        disabled: Option<bool>,
    ) -> Result<Member, ServiceError> {
        admin_only(caller)?;
        if user_id == caller.user_id {
            return Err(ServiceError::conflict("own_account", "an admin cannot change its own role or disable itself"));
        }
        let org = &caller.organisation_id;
        if let Some(role) = role {
            check_role(role)?;
            if !accounts::set_role(&self.db, org, user_id, role, &caller.user_id).await? {
                return Err(ServiceError::NotFound("member"));
            }
        }
        if let Some(disabled) = disabled {
            if !accounts::set_disabled(&self.db, org, user_id, disabled, &caller.user_id).await? {
                return Err(ServiceError::NotFound("member"));
            }
        }
        self.revoke_access(user_id).await?;
        accounts::member(&self.db, org, user_id).await?.ok_or(ServiceError::NotFound("member"))
    }

    /// Ends a user's sessions and forgets its resolved keys everywhere. The change that calls
    /// this is already stored: when the session store is down, the caller is told to repeat it.
    async fn revoke_access(&self, user_id: &str) -> Result<(), ServiceError> {
        self.auth.forget_user_keys(user_id).await?;
        self.sessions.end_all_of(user_id).await.map_err(|err| {
            tracing::warn!(error = %err, "could not end a user's sessions");
            ServiceError::Unavailable(
                "the change is saved, but the user's sessions could not be ended (session store unreachable); repeat the request"
                    .into(),
            )
        })?;
        Ok(())
    }

    /// The caller changes its own password (knowing the current one); every session of the
    /// user ends.
    pub async fn change_password(&self, caller: &Principal, current: &str, new: &str) -> Result<(), ServiceError> {
        let email = accounts::member(&self.db, &caller.organisation_id, &caller.user_id)
            .await?
            .ok_or(ServiceError::SessionEnded)?
            .email;
        let record = accounts::login_record(&self.db, &email).await?;
        if !self.passwords.verify(record.and_then(|r| r.password_hash), current).await {
            return Err(ServiceError::InvalidCredentials);
        }
        self.set_password(&caller.organisation_id, &caller.user_id, Some(&caller.user_id), new).await
    }

    /// Sets a member's password (the caller's own, or the command line's `reset-password`)
    /// and ends its sessions.
    pub async fn set_password(
        &self,
        organisation_id: &str,
        user_id: &str,
        actor_id: Option<&str>,
        password: &str,
    ) -> Result<(), ServiceError> {
        let hash = self.passwords.hash(password).await?;
        if !accounts::set_password(&self.db, organisation_id, user_id, &hash, actor_id).await? {
            return Err(ServiceError::NotFound("member"));
        }
        self.revoke_access(user_id).await
    }

    /// An admin invites an e-mail address with a role: the one-time token (shown once) makes
    /// the member when accepted before it expires.
    pub async fn invite(
        &self,
        caller: &Principal,
        email: &str,
        role: &str,
    ) -> Result<(Invitation, String), ServiceError> {
        admin_only(caller)?;
        let email = normalise_email(email)?;
        check_role(role)?;
        if accounts::login_record(&self.db, &email).await?.is_some() {
            return Err(ServiceError::conflict("email_taken", "a user with this e-mail address already exists"));
        }
        let token = random_token("cri_");
        let ttl = chrono::TimeDelta::from_std(self.settings.invitation_ttl).unwrap_or(chrono::TimeDelta::days(7));
        let invitation = accounts::create_invitation(
            &self.db,
            &caller.organisation_id,
            &email,
            role,
            &hash_token(&token),
            cr_store::ids::now() + ttl,
            &caller.user_id,
        )
        .await?;
        Ok((invitation, token))
    }

    /// Accepts an invitation: creates the member with its name and password. The token is
    /// looked up before the password is hashed: anyone may call this, and a made-up token
    /// must not cost a hash.
    pub async fn accept_invitation(&self, token: &str, name: &str, password: &str) -> Result<Member, ServiceError> {
        let name = check_name(name)?;
        let token_hash = hash_token(token);
        if token.len() > 200 || !accounts::invitation_is_live(&self.db, &token_hash).await? {
            return Err(ServiceError::NotFound("invitation"));
        }
        let hash = self.passwords.hash(password).await?;
        accounts::accept_invitation(&self.db, &token_hash, name, &hash)
            .await
            .map_err(email_taken)?
            .map(|(_, member)| member)
            .ok_or(ServiceError::NotFound("invitation"))
    }

    /// The user an e-mail address names, with its home organisation (the command line's).
    pub async fn find_user(&self, email: &str) -> Result<(String, String), ServiceError> {
        let record = accounts::login_record(&self.db, &normalise_email(email)?).await?;
        record.map(|r| (r.user_id, r.organisation_id)).ok_or(ServiceError::NotFound("user"))
    }

    /// The principal acting for the command line on behalf of a user (its home organisation).
    pub async fn principal_of(&self, email: &str) -> Result<Principal, ServiceError> {
        let record =
            accounts::login_record(&self.db, &normalise_email(email)?).await?.ok_or(ServiceError::NotFound("user"))?;
        let role = accounts::active_role(&self.db, &record.user_id, &record.organisation_id)
            .await?
            .ok_or(ServiceError::Forbidden("the user is disabled or not a member"))?;
        Ok(Principal {
            user_id: record.user_id,
            organisation_id: record.organisation_id,
            scopes: role_permissions(&role).join(","),
            role,
            is_platform_admin: record.is_platform_admin,
            key_id: None,
            expires_at: None,
        })
    }
}

fn email_taken(err: sqlx::Error) -> ServiceError {
    match cr_store::db::violated_constraint(&err).as_deref() {
        Some("users_email_key") => {
            ServiceError::conflict("email_taken", "a user with this e-mail address already exists")
        }
        _ => err.into(),
    }
}
