//! Webhooks: an organisation's endpoints receive `analysis.completed` and `analysis.failed`,
//! signed as the Standard Webhooks specification does (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), retried with
//! exponential backoff and jitter, every attempt recorded, any delivery redeliverable.
//!
//! Deliveries are written by the store in the transaction that finishes a job; this module
//! manages endpoints and sends what is due.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use cr_store::identity::Principal;
use cr_store::webhooks::{self as repo, Attempt, DeliveryRow, DueDelivery, EndpointRow, EVENT_TYPES};
use cr_store::{ids, Database};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::ServiceError;

/// Endpoints an organisation may have.
pub const MAX_ENDPOINTS: usize = 20;

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Longest wait for a receiver's answer.
    pub timeout: Duration,
    /// Attempts before a delivery is `failed` (it can still be redelivered).
    pub max_attempts: i32,
    /// First retry delay; doubles per attempt, ± 50 % jitter, at most `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How often the deliverer looks for due deliveries when nothing woke it.
    pub poll_interval: Duration,
}

/// A new endpoint, as requested.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointIn {
    pub url: String,
    /// Event types to receive (default: all).
    pub events: Option<Vec<String>>,
}

/// An endpoint as the API shows it; the secret only when it was just created.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointOut {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: chrono::DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<&EndpointRow> for EndpointOut {
    fn from(row: &EndpointRow) -> Self {
        Self {
            id: row.id.clone(),
            url: row.url.clone(),
            events: row.events.split(' ').map(str::to_owned).collect(),
            created_at: row.created_at,
            secret: None,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryRow>,
    pub next_cursor: Option<String>,
}

#[derive(Clone)]
pub struct WebhookService {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    /// The same pool, counted apart, for the deliverer.
    background_db: Database,
    client: reqwest::Client,
    settings: WebhookSettings,
    wakeup: Notify,
}

impl WebhookService {
    pub fn new(db: Database, settings: WebhookSettings) -> anyhow::Result<Self> {
        let client =
            reqwest::Client::builder().timeout(settings.timeout).redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                background_db: db.with_own_counter(),
                db,
                client,
                settings,
                wakeup: Notify::new(),
            }),
        })
    }

    /// Deliveries may be due now (a job just finished).
    pub fn wake(&self) {
        self.inner.wakeup.notify_one();
    }

    fn admin_only(caller: &Principal) -> Result<(), ServiceError> {
        if caller.role == "admin" {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("only an organisation admin can manage webhooks"))
        }
    }

    pub async fn create(&self, caller: &Principal, input: EndpointIn) -> Result<EndpointOut, ServiceError> {
        Self::admin_only(caller)?;
        let url = input.url.trim();
        let parsed = reqwest::Url::parse(url)
            .map_err(|_| ServiceError::invalid("invalid_url", "url must be an absolute http:// URL"))?;
        // This build has no TLS client (see the README); an https endpoint is reached through a proxy.
        if parsed.scheme() != "http" || parsed.host_str().is_none() || url.len() > 2000 {
            return Err(ServiceError::invalid(
                "invalid_url",
                "url must be an absolute http:// URL of at most 2000 bytes (this build sends no TLS; use a local proxy)",
            ));
        }
        let events = match input.events {
            None => EVENT_TYPES.iter().map(|e| (*e).to_owned()).collect(),
            Some(events) if events.is_empty() => {
                return Err(ServiceError::invalid("invalid_events", "events must name at least one event type"))
            }
            Some(events) => events,
        };
        if let Some(unknown) = events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
            return Err(ServiceError::invalid(
                "invalid_events",
                format!("unknown event type {unknown:?}; known: {}", EVENT_TYPES.join(", ")),
            ));
        }
        if repo::endpoints(&self.inner.db, &caller.organisation_id).await?.len() >= MAX_ENDPOINTS {
            return Err(ServiceError::conflict(
                "too_many_endpoints",
                format!("an organisation has at most {MAX_ENDPOINTS} webhook endpoints"),
            ));
        }
        let mut key = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut key);
        let row = EndpointRow {
            id: repo::new_endpoint_id(),
            organisation_id: caller.organisation_id.clone(),
            url: parsed.to_string(),
            secret: format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key)),
            events: events.join(" "),
            created_at: ids::now(),
        };
        repo::create_endpoint(&self.inner.db, &row, &caller.user_id).await?;
        let mut out = EndpointOut::from(&row);
        out.secret = Some(row.secret);
        Ok(out)
    }

    pub async fn list(&self, caller: &Principal) -> Result<Vec<EndpointOut>, ServiceError> {
        Self::admin_only(caller)?;
        Ok(repo::endpoints(&self.inner.db, &caller.organisation_id).await?.iter().map(EndpointOut::from).collect())
    }

    pub async fn delete(&self, caller: &Principal, id: &str) -> Result<(), ServiceError> {
        Self::admin_only(caller)?;
        if !ids::is_valid("whe", id)
            || !repo::disable_endpoint(&self.inner.db, &caller.organisation_id, id, &caller.user_id).await?
        {
            return Err(ServiceError::NotFound("webhook endpoint"));
        }
        Ok(())
    }

    pub async fn deliveries(
        &self,
        caller: &Principal,
        endpoint_id: &str,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<DeliveryPage, ServiceError> {
        Self::admin_only(caller)?;
        if !ids::is_valid("whe", endpoint_id) {
            return Err(ServiceError::NotFound("webhook endpoint"));
        }
        if cursor.is_some_and(|c| !ids::is_valid("msg", c)) {
            return Err(ServiceError::invalid("invalid_cursor", "cursor is not one returned by this API"));
        }
        let limit = limit.unwrap_or(20);
        if limit == 0 || limit > 100 {
            return Err(ServiceError::invalid("invalid_limit", "limit must be between 1 and 100"));
        }
        let mut items =
            repo::deliveries(&self.inner.db, &caller.organisation_id, endpoint_id, cursor, i64::from(limit) + 1)
                .await?;
        let next_cursor = (items.len() > limit as usize).then(|| items[limit as usize - 1].id.clone());
        items.truncate(limit as usize);
        Ok(DeliveryPage { items, next_cursor })
    }

    pub async fn redeliver(&self, caller: &Principal, delivery_id: &str) -> Result<(), ServiceError> {
        Self::admin_only(caller)?;
        if !ids::is_valid("msg", delivery_id)
            || !repo::redeliver(&self.inner.db, &caller.organisation_id, delivery_id, &caller.user_id).await?
        {
            return Err(ServiceError::NotFound("webhook delivery"));
        }
        self.wake();
        Ok(())
    }

    /// Sends due deliveries until `shutdown`.
    pub async fn run_deliverer(self, shutdown: CancellationToken) {
        let inner = &self.inner;
        loop {
            let lease = chrono::Duration::from_std(inner.settings.timeout * 3)
                .unwrap_or_else(|_| chrono::Duration::seconds(60));
            match repo::claim_due(&inner.background_db, ids::now() + lease, 16).await {
                Ok(due) if !due.is_empty() => {
                    let sends = due.into_iter().map(|delivery| self.send(delivery));
                    futures::future::join_all(sends).await;
                    continue;
                }
                Ok(_) => {}
                Err(err) => tracing::debug!(error = %err, "webhooks: database not answering"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = inner.wakeup.notified() => {}
                _ = tokio::time::sleep(inner.settings.poll_interval) => {}
            }
        }
    }

    async fn send(&self, delivery: DueDelivery) {
        let inner = &self.inner;
        let timestamp = Utc::now().timestamp();
        let attempt = match sign(&delivery.secret, &delivery.id, timestamp, &delivery.payload) {
            Err(message) => Attempt::Refused { status: None, error: message, retry_at: None },
            Ok(signature) => {
                let response = inner
                    .client
                    .post(&delivery.url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &delivery.id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(delivery.payload.clone())
                    .send()
                    .await;
                let (status, error) = match response {
                    Ok(response) if response.status().is_success() => {
                        (Some(i32::from(response.status().as_u16())), None)
                    }
                    Ok(response) => {
                        (Some(i32::from(response.status().as_u16())), Some(format!("answered {}", response.status())))
                    }
                    Err(err) => (None, Some(format!("could not deliver: {err}"))),
                };
                match error {
                    None => Attempt::Delivered { status: status.unwrap_or(200) },
                    Some(error) => {
                        let attempts = delivery.attempts + 1;
                        let retry_at = (attempts < inner.settings.max_attempts).then(|| {
                            let delay = crate::analysis::worker::backoff(
                                inner.settings.backoff_base,
                                inner.settings.backoff_max,
                                u32::try_from(attempts).unwrap_or(1),
                            );
                            ids::now()
                                + chrono::Duration::from_std(delay).unwrap_or_else(|_| chrono::Duration::seconds(5))
                        });
                        Attempt::Refused { status, error, retry_at }
                    }
                }
            }
        };
        if let Err(err) = repo::record(&inner.background_db, &delivery.id, &attempt).await {
            tracing::warn!(delivery = %delivery.id, error = %err, "could not record a webhook attempt");
        }
    }
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{payload}")>` with the key of a `whsec_`
/// secret, as the Standard Webhooks specification signs.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, payload: &str) -> Result<String, String> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|e| format!("bad secret: {e}"))?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| format!("bad secret: {e}"))?;
    mac.update(format!("{msg_id}.{timestamp}.{payload}").as_bytes());
    Ok(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(signature.as_deref(), Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    }

    #[test]
    fn a_secret_that_is_not_base64_is_refused() {
        assert!(sign("whsec_not base64!", "msg_x", 1, "{}").is_err());
    }
}
