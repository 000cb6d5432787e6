//! Passwords, hashed with Argon2id (parameters from the configuration) into PHC strings, so
//! that a hash records the parameters it was made with and old hashes still verify after the
//! parameters change. Hashing is slow on purpose: it runs on the blocking pool.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::ServiceError;

/// Shortest and longest password accepted.
pub const MIN_PASSWORD: usize = 10;
pub const MAX_PASSWORD: usize = 256;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Clone)]
pub struct PasswordHasherPool {
    params: Params,
    /// A hash of no one's password, verified when an e-mail address names no user, so that a
    /// sign-in takes as long whether or not the account exists.
    decoy: Arc<OnceLock<String>>,
}

impl PasswordHasherPool {
    pub fn new(params: PasswordParams) -> anyhow::Result<Self> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
            .map_err(|err| anyhow::anyhow!("invalid Argon2 parameters: {err}"))?;
        Ok(Self { params, decoy: Arc::default() })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Checks a new password's length and hashes it.
    pub async fn hash(&self, password: &str) -> Result<String, ServiceError> {
        check_strength(password)?;
        let hasher = self.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hasher.hash_now(&password))
            .await
            .map_err(|err| ServiceError::Internal(err.into()))?
    }

    fn hash_now(&self, password: &str) -> Result<String, ServiceError> {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| ServiceError::Internal(anyhow::anyhow!("hashing a password: {err}")))
    }

    /// Whether `password` matches `hash`; with no hash, verifies against the decoy and says no.
    pub async fn verify(&self, hash: Option<String>, password: &str) -> bool {
        if password.len() > MAX_PASSWORD {
            return false;
        }
        let hasher = self.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let (hash, real) = match hash {
                Some(hash) => (hash, true),
                None => (
                    hasher.decoy.get_or_init(|| hasher.hash_now("no one's password").unwrap_or_default()).clone(),
                    false,
                ),
            };
            let Ok(parsed) = PasswordHash::new(&hash) else { return false };
            hasher.argon2().verify_password(password.as_bytes(), &parsed).is_ok() && real
        })
        .await
        .unwrap_or(false)
    }
}

fn check_strength(password: &str) -> Result<(), ServiceError> {
    let length = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) {
        return Err(ServiceError::invalid(
            "weak_password",
            format!("a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(ServiceError::invalid("weak_password", "a password must not contain control characters"));
    }
    Ok(())
}

/// A random secret (sign-in token, invitation, generated password): 32 bytes in hex, after
/// `prefix`.
pub fn random_token(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: PasswordParams = PasswordParams { memory_kib: 1024, iterations: 1, parallelism: 1 };

    #[tokio::test]
    async fn a_password_verifies_against_its_hash_and_no_other() {
        let hasher = PasswordHasherPool::new(CHEAP).expect("params");
        let hash = hasher.hash("correct horse battery").await.expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify(Some(hash.clone()), "correct horse battery").await);
        assert!(!hasher.verify(Some(hash), "correct horse batterx").await);
    }

    #[tokio::test]
    async fn no_hash_never_verifies() {
        let hasher = PasswordHasherPool::new(CHEAP).expect("params");
        assert!(!hasher.verify(None, "no one's password").await);
    }

    #[tokio::test]
    async fn short_passwords_are_refused() {
        let hasher = PasswordHasherPool::new(CHEAP).expect("params");
        assert!(matches!(hasher.hash("short").await, Err(ServiceError::Invalid { code: "weak_password", .. })));
    }
}
