//! Live progress of analyses: each job's stage and percent, and its transitions, as events.
//!
//! Server mode publishes on Redis pub/sub (one channel per deployment) and keeps the last
//! event of each document under `progress:{org}:{doc}` with a TTL, so a browser connected to
//! any instance sees every event and gets the last state replayed on connect. Embedded mode
//! uses an in-process broadcast and map. Either way events are a convenience: the job state in
//! the database is the truth, and a lost event is repaired by the next one or by a reload.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How long the last progress of a document is kept (Redis TTL / in-process expiry).
pub const PROGRESS_TTL: Duration = Duration::from_secs(3600);

/// Events buffered per subscriber; a slower one skips ahead (and is told by `lagged`).
const CHANNEL_CAPACITY: usize = 1024;

/// One event of an analysis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisEvent {
    /// `queued`, `extracting`, `classifying`, `checking_playbook`, `writing_results`,
    /// `completed`, `failed`, `dead`.
    pub event: String,
    pub organisation_id: String,
    pub document_id: String,
    pub job_id: String,
    pub percent: u8,
    pub analysis_id: Option<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

impl AnalysisEvent {
    pub fn new(event: &str, organisation_id: &str, document_id: &str, job_id: &str, percent: u8) -> Self {
        Self {
            event: event.to_owned(),
            organisation_id: organisation_id.to_owned(),
            document_id: document_id.to_owned(),
            job_id: job_id.to_owned(),
            percent,
            analysis_id: None,
            error_code: None,
            error: None,
            at: cr_store::ids::now(),
        }
    }

    /// Whether the job ended with this event.
    pub fn is_final(&self) -> bool {
        matches!(self.event.as_str(), "completed" | "failed" | "dead")
    }
}

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<AnalysisEvent>,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Local(Arc<Mutex<moka::sync::Cache<String, AnalysisEvent>>>),
    Redis(Arc<RedisEvents>),
}

struct RedisEvents {
    client: redis::Client,
    manager: tokio::sync::Mutex<Option<redis::aio::ConnectionManager>>,
    channel: String,
    prefix: String,
    op_timeout: Duration,
}

fn progress_key(org: &str, doc: &str) -> String {
    format!("progress:{org}:{doc}")
}

impl EventBus {
    /// In-process events (embedded mode).
    pub fn local() -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        let last = moka::sync::Cache::builder().max_capacity(100_000).time_to_live(PROGRESS_TTL).build();
        Self { sender, backend: Backend::Local(Arc::new(Mutex::new(last))) }
    }

    /// Events through Redis pub/sub; a background task relays the channel to this process's
    /// subscribers and resubscribes after a Redis failure.
    pub fn redis(url: &str, key_prefix: &str, op_timeout: Duration) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid Redis URL: {e}"))?;
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        let events = Arc::new(RedisEvents {
            client,
            manager: tokio::sync::Mutex::new(None),
            channel: format!("{key_prefix}events"),
            prefix: key_prefix.to_owned(),
            op_timeout: op_timeout.max(Duration::from_millis(100)),
        });
        let bus = Self { sender, backend: Backend::Redis(events.clone()) };
        tokio::spawn(relay(Arc::downgrade(&events), bus.sender.clone()));
        Ok(bus)
    }

    /// Publishes an event to every subscriber of every instance, and keeps it as the
    /// document's last state. Never fails: events are best effort.
    pub async fn publish(&self, event: AnalysisEvent) {
        match &self.backend {
            Backend::Local(last) => {
                if let Ok(last) = last.lock() {
                    last.insert(progress_key(&event.organisation_id, &event.document_id), event.clone());
                }
                let _ = self.sender.send(event);
            }
            Backend::Redis(redis) => {
                if let Err(err) = redis.publish(&event).await {
                    tracing::debug!(error = %err, "could not publish an analysis event on Redis; delivering locally");
                    let _ = self.sender.send(event);
                }
            }
        }
    }

    /// The last event of a document, if one is remembered.
    pub async fn last(&self, org: &str, doc: &str) -> Option<AnalysisEvent> {
        match &self.backend {
            Backend::Local(last) => last.lock().ok()?.get(&progress_key(org, doc)),
            Backend::Redis(redis) => redis.last(org, doc).await.ok().flatten(),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<AnalysisEvent> {
        self.sender.subscribe()
    }
}

impl RedisEvents {
    async fn manager(&self) -> anyhow::Result<redis::aio::ConnectionManager> {
        let mut slot = self.manager.lock().await;
        if let Some(manager) = slot.as_ref() {
            return Ok(manager.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(self.op_timeout)
            .set_response_timeout(self.op_timeout)
            .set_number_of_retries(1);
        let manager = tokio::time::timeout(
            self.op_timeout * 4,
            redis::aio::ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        .map_err(|_| anyhow::anyhow!("connecting to Redis timed out"))??;
        *slot = Some(manager.clone());
        Ok(manager)
    }

    async fn publish(&self, event: &AnalysisEvent) -> anyhow::Result<()> {
        let payload = serde_json::to_string(event)?;
        let key = format!("{}{}", self.prefix, progress_key(&event.organisation_id, &event.document_id));
        let mut connection = self.manager().await?;
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(&key).arg(&payload).arg("PX").arg(PROGRESS_TTL.as_millis() as u64).ignore();
        pipe.cmd("PUBLISH").arg(&self.channel).arg(&payload).ignore();
        tokio::time::timeout(self.op_timeout, pipe.query_async::<()>(&mut connection))
            .await
            .map_err(|_| anyhow::anyhow!("publishing timed out"))??;
        Ok(())
    }

    async fn last(&self, org: &str, doc: &str) -> anyhow::Result<Option<AnalysisEvent>> {
        let key = format!("{}{}", self.prefix, progress_key(org, doc));
        let mut connection = self.manager().await?;
        let value: Option<String> =
            tokio::time::timeout(self.op_timeout, redis::cmd("GET").arg(&key).query_async(&mut connection))
                .await
                .map_err(|_| anyhow::anyhow!("GET timed out"))??;
        Ok(value.and_then(|v| serde_json::from_str(&v).ok()))
    }
}

/// Relays the Redis channel to local subscribers until the bus is dropped.
async fn relay(events: std::sync::Weak<RedisEvents>, sender: broadcast::Sender<AnalysisEvent>) {
    loop {
        let Some(redis) = events.upgrade() else { return };
        let (client, channel) = (redis.client.clone(), redis.channel.clone());
        drop(redis);
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if pubsub.subscribe(&channel).await.is_ok() {
                    let mut messages = pubsub.on_message();
                    loop {
                        let next = tokio::time::timeout(Duration::from_secs(5), messages.next()).await;
                        match next {
                            Ok(Some(message)) => {
                                if let Ok(payload) = message.get_payload::<String>() {
                                    if let Ok(event) = serde_json::from_str::<AnalysisEvent>(&payload) {
                                        let _ = sender.send(event);
                                    }
                                }
                            }
                            Ok(None) => break,
                            // Idle: stop when the bus is gone.
                            Err(_) if events.strong_count() == 0 => return,
                            Err(_) => {}
                        }
                    }
                }
            }
            Err(err) => tracing::debug!(error = %err, "event relay: Redis not reachable"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
