//! `Idempotency-Key` for POSTs other than uploads (uploads store the key in the transaction
//! of the insert, see [`crate::documents`]).
//!
//! A request with a key first looks for a stored response and replays it; otherwise it runs and
//! its successful response is stored right after. The writes behind these routes are
//! themselves unique (one relation per pair and kind, one user per e-mail), so even a crash
//! between the write and the record cannot duplicate anything: the retry gets 409 instead of
//! the first response.

use std::future::Future;

use bytes::Bytes;
use cr_store::documents::{self as repo, IdempotencyRecord};
use cr_store::identity::Principal;
use cr_store::Database;
use sha2::{Digest, Sha256};

use crate::documents::StoredResponse;
use crate::ServiceError;

/// Checks that a client's key is usable.
pub fn validate_key(key: &str) -> Result<(), ServiceError> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ServiceError::invalid(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(())
}

/// Replays the stored response for (`caller`'s organisation, `key`) when the same request
/// (`fingerprint`) was made before; runs `run` otherwise and stores `stored_form` of its
/// response (which may strip secrets that must not rest in the database).
pub async fn replay_or_run<F, Fut>(
    db: &Database,
    caller: &Principal,
    key: Option<&str>,
    fingerprint: &[u8],
    run: F,
    stored_form: impl FnOnce(&Bytes) -> Bytes,
) -> Result<StoredResponse, ServiceError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(u16, Bytes), ServiceError>>,
{
    let Some(key) = key else {
        let (status, body) = run().await?;
        return Ok(StoredResponse { status, body, replayed: false, queued_job: None });
    };
    validate_key(key)?;
    let request_hash = hex::encode(Sha256::digest(fingerprint));
    if let Some(previous) = repo::find_idempotency(db, &caller.organisation_id, key).await? {
        return replay(previous, &request_hash);
    }
    let (status, body) = run().await?;
    let record = IdempotencyRecord {
        request_hash,
        status_code: i32::from(status),
        response_body: String::from_utf8_lossy(&stored_form(&body)).into_owned(),
    };
    repo::save_idempotency(db, &caller.organisation_id, key, &record).await?;
    Ok(StoredResponse { status, body, replayed: false, queued_job: None })
}

/// The stored response, if it answered the same request.
pub fn replay(previous: IdempotencyRecord, request_hash: &str) -> Result<StoredResponse, ServiceError> {
    if previous.request_hash != request_hash {
        return Err(ServiceError::IdempotencyKeyReused("this Idempotency-Key was used for a different request".into()));
    }
    Ok(StoredResponse {
        status: u16::try_from(previous.status_code).unwrap_or(200),
        body: Bytes::from(previous.response_body),
        replayed: true,
        queued_job: None,
    })
}
