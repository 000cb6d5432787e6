//! Webhook endpoints of an organisation and the deliveries of its events.
//!
//! A delivery row is written for each subscribed endpoint in the transaction of the change
//! the event reports ([`enqueue!`]), so an event is never lost between the change and the
//! send; deliverers claim due rows (a claim pushes `next_attempt_at` out by a lease, so a
//! deliverer that dies leaves the row to be claimed again) and record every attempt.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::db::{Database, Pool};
use crate::ids::new_id;
use crate::{in_transaction, with_pool};

/// Event types an endpoint can receive.
pub const EVENT_TYPES: [&str; 2] = ["analysis.completed", "analysis.failed"];

/// Writes one pending delivery of `$payload` per live endpoint of `$org` that receives
/// `$event`, through `$tx` (any backend).
macro_rules! enqueue {
    ($tx:expr, org = $org:expr, event = $event:expr, payload = $payload:expr, at = $now:expr) => {{
        let endpoints: Vec<(String, String)> =
            sqlx::query_as("SELECT id, events FROM webhook_endpoints WHERE organisation_id = $1 AND disabled_at IS NULL")
                .bind($org)
                .fetch_all(&mut *$tx)
                .await?;
        for (endpoint, events) in endpoints {
            if !events.split(' ').any(|e| e == $event) {
                continue;
            }
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, endpoint_id, organisation_id, event_type, payload, state, attempts, \
                 next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
            )
            .bind($crate::ids::new_id("msg"))
            .bind(&endpoint)
            .bind($org)
            .bind($event)
            .bind($payload)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}
pub(crate) use enqueue;

/// The payload of an analysis event, as sent (and signed) on every attempt.
pub fn analysis_payload(
    event: &str,
    at: DateTime<Utc>,
    document_id: &str,
    job_id: &str,
    analysis_id: Option<&str>,
    error_code: Option<&str>,
) -> String {
    serde_json::json!({
        "type": event,
        "timestamp": at,
        "data": {
            "document_id": document_id,
            "job_id": job_id,
            "analysis_id": analysis_id,
            "error_code": error_code,
        },
    })
    .to_string()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EndpointRow {
    pub id: String,
    pub organisation_id: String,
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub events: String,
    pub created_at: DateTime<Utc>,
}

const ENDPOINT_COLUMNS: &str = "id, organisation_id, url, secret, events, created_at";

/// Creates an endpoint, with its audit row.
pub async fn create_endpoint(db: &Database, endpoint: &EndpointRow, actor_id: &str) -> Result<(), sqlx::Error> {
    in_transaction!(db, |tx| {
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, organisation_id, url, secret, events, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&endpoint.id)
        .bind(&endpoint.organisation_id)
        .bind(&endpoint.url)
        .bind(&endpoint.secret)
        .bind(&endpoint.events)
        .bind(actor_id)
        .bind(endpoint.created_at)
        .execute(&mut *tx)
        .await?;
        crate::documents::audit!(
            tx,
            org = &endpoint.organisation_id,
            actor = actor_id,
            action = "webhook.create",
            target = ("webhook_endpoint", &endpoint.id),
            details = &serde_json::json!({ "url": endpoint.url, "events": endpoint.events }),
            at = endpoint.created_at
        );
        Ok::<_, sqlx::Error>(())
    })
}

/// Live endpoints of the organisation, newest first.
pub async fn endpoints(db: &Database, organisation_id: &str) -> Result<Vec<EndpointRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE organisation_id = $1 AND disabled_at IS NULL ORDER BY id DESC"
    );
    with_pool!(db, |p| sqlx::query_as::<_, EndpointRow>(&sql).bind(organisation_id).fetch_all(p).await)
}

/// Disables a live endpoint (its pending deliveries are no longer sent); false when none.
pub async fn disable_endpoint(
    db: &Database,
    organisation_id: &str,
    id: &str,
    actor_id: &str,
) -> Result<bool, sqlx::Error> {
    let now = crate::ids::now();
    in_transaction!(db, |tx| {
        let affected = sqlx::query(
            "UPDATE webhook_endpoints SET disabled_at = $1 WHERE id = $2 AND organisation_id = $3 AND disabled_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(organisation_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if affected == 1 {
            crate::documents::audit!(
                tx,
                org = organisation_id,
                actor = actor_id,
                action = "webhook.delete",
                target = ("webhook_endpoint", id),
                details = &serde_json::json!({}),
                at = now
            );
        }
        Ok::<_, sqlx::Error>(affected == 1)
    })
}

/// A delivery as its history shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_type: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Deliveries to one endpoint of the organisation, newest first, before `before`.
pub async fn deliveries(
    db: &Database,
    organisation_id: &str,
    endpoint_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    const SQL: &str = "SELECT id, endpoint_id, event_type, state, attempts, next_attempt_at, last_status, last_error, \
         created_at, delivered_at FROM webhook_deliveries WHERE organisation_id = $1 AND endpoint_id = $2 AND id < $3 \
         ORDER BY id DESC LIMIT $4";
    with_pool!(db, |p| sqlx::query_as::<_, DeliveryRow>(SQL)
        .bind(organisation_id)
        .bind(endpoint_id)
        .bind(before.unwrap_or("~"))
        .bind(limit)
        .fetch_all(p)
        .await)
}

/// Sends a delivery again (whatever its state), with its audit row; false when none.
pub async fn redeliver(db: &Database, organisation_id: &str, id: &str, actor_id: &str) -> Result<bool, sqlx::Error> {
    let now = crate::ids::now();
    in_transaction!(db, |tx| {
        let affected = sqlx::query(
            "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1 \
             WHERE id = $2 AND organisation_id = $3",
        )
        .bind(now)
        .bind(id)
        .bind(organisation_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if affected == 1 {
            crate::documents::audit!(
                tx,
                org = organisation_id,
                actor = actor_id,
                action = "webhook.redeliver",
                target = ("webhook_delivery", id),
                details = &serde_json::json!({}),
                at = now
            );
        }
        Ok::<_, sqlx::Error>(affected == 1)
    })
}

/// A claimed delivery, with what sending it needs.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DueDelivery {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub payload: String,
    pub attempts: i32,
}

/// Claims up to `limit` due deliveries of live endpoints until `lease_until`.
pub async fn claim_due(db: &Database, lease_until: DateTime<Utc>, limit: i64) -> Result<Vec<DueDelivery>, sqlx::Error> {
    let now = crate::ids::now();
    let lock = match db.pool {
        Pool::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Pool::Sqlite(_) => "",
    };
    let pick = format!(
        "SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at LIMIT $2{lock}"
    );
    in_transaction!(db, |tx| {
        let ids: Vec<String> = sqlx::query_scalar(&pick).bind(now).bind(limit).fetch_all(&mut *tx).await?;
        let mut due = Vec::new();
        for id in ids {
            sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2")
                .bind(lease_until)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            let delivery = sqlx::query_as::<_, DueDelivery>(
                "SELECT d.id, e.url, e.secret, d.payload, d.attempts FROM webhook_deliveries d \
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $1 AND e.disabled_at IS NULL",
            )
            .bind(&id)
            .fetch_optional(&mut *tx)
            .await?;
            due.extend(delivery);
        }
        Ok::<_, sqlx::Error>(due)
    })
}

/// What one attempt found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    Delivered {
        status: i32,
    },
    /// Not accepted; tried again at `retry_at`, or `failed` when it is `None`.
    Refused {
        status: Option<i32>,
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Records an attempt of a claimed delivery.
pub async fn record(db: &Database, id: &str, attempt: &Attempt) -> Result<(), sqlx::Error> {
    let now = crate::ids::now();
    let (state, status, error, next, delivered) = match attempt {
        Attempt::Delivered { status } => ("delivered", Some(*status), None, now, Some(now)),
        Attempt::Refused { status, error, retry_at: Some(at) } => ("pending", *status, Some(error.as_str()), *at, None),
        Attempt::Refused { status, error, retry_at: None } => ("failed", *status, Some(error.as_str()), now, None),
    };
    with_pool!(db, |p| sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, last_status = $2, last_error = $3, \
         next_attempt_at = $4, delivered_at = $5 WHERE id = $6"
    )
    .bind(state)
    .bind(status)
    .bind(error)
    .bind(next)
    .bind(delivered)
    .bind(id)
    .execute(p)
    .await
    .map(|_| ()))
}

/// A new endpoint id.
pub fn new_endpoint_id() -> String {
    new_id("whe")
}
