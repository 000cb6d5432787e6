//! Getting queued jobs to workers fast, without ever being the place a job lives.
//!
//! PostgreSQL (or SQLite) holds every job; dispatch only tells workers that there is one.
//! Server mode puts job ids on a Redis Stream read by a consumer group, so each id goes to one
//! worker process of many. The ids come from the dispatch outbox, written in the job's
//! transaction and emptied only after XADD succeeded, so a crash between commit and XADD loses
//! nothing. A worker claims the id it was given from the database, and acknowledges the entry
//! whatever the claim found: a duplicate or stale entry costs one failed claim, never a second
//! run. Without Redis (embedded mode, or Redis down) workers are woken in process and poll the
//! database, so jobs keep running.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use tokio::sync::Notify;

/// The consumer group every worker process reads the stream through.
pub const GROUP: &str = "workers";

/// Entries the stream keeps at most (trimmed approximately); ids are re-sent from the
/// database by the reconciler, so trimming never loses a job.
const STREAM_MAX_LEN: usize = 100_000;

/// The Redis side of dispatch.
pub struct RedisStream {
    client: redis::Client,
    /// Full key of the stream, with the deployment's key prefix.
    key: String,
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
    op_timeout: Duration,
}

/// A job id read from the stream, to acknowledge once its claim was tried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub entry_id: String,
    pub job_id: String,
}

impl RedisStream {
    pub fn new(url: &str, key_prefix: &str, op_timeout: Duration) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid Redis URL: {e}"))?;
        Ok(Self {
            client,
            key: format!("{key_prefix}analysis:jobs"),
            connection: tokio::sync::Mutex::new(None),
            op_timeout: op_timeout.max(Duration::from_millis(200)),
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    async fn manager(&self) -> anyhow::Result<ConnectionManager> {
        let mut slot = self.connection.lock().await;
        if let Some(manager) = slot.as_ref() {
            return Ok(manager.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(self.op_timeout)
            .set_response_timeout(self.op_timeout)
            .set_number_of_retries(1);
        let manager =
            tokio::time::timeout(self.op_timeout * 4, ConnectionManager::new_with_config(self.client.clone(), config))
                .await
                .map_err(|_| anyhow::anyhow!("connecting to Redis timed out"))??;
        *slot = Some(manager.clone());
        Ok(manager)
    }

    /// Appends job ids to the stream. Fails as a whole (the outbox keeps them).
    pub async fn publish(&self, job_ids: &[String]) -> anyhow::Result<()> {
        if job_ids.is_empty() {
            return Ok(());
        }
        let mut connection = self.manager().await?;
        let mut pipe = redis::pipe();
        for id in job_ids {
            pipe.cmd("XADD")
                .arg(&self.key)
                .arg("MAXLEN")
                .arg("~")
                .arg(STREAM_MAX_LEN)
                .arg("*")
                .arg("job")
                .arg(id)
                .ignore();
        }
        tokio::time::timeout(self.op_timeout, pipe.query_async::<()>(&mut connection))
            .await
            .map_err(|_| anyhow::anyhow!("XADD timed out"))??;
        Ok(())
    }

    /// A connection of its own for blocking reads (a blocked multiplexed connection would
    /// hold up every other command on it).
    pub async fn reader(&self, block: Duration) -> anyhow::Result<MultiplexedConnection> {
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(self.op_timeout)
            .set_response_timeout(block + self.op_timeout * 4);
        let connection = tokio::time::timeout(
            self.op_timeout * 4,
            self.client.get_multiplexed_async_connection_with_config(&config),
        )
        .await
        .map_err(|_| anyhow::anyhow!("connecting to Redis timed out"))??;
        Ok(connection)
    }

    /// Reads up to `count` new entries for `consumer`, waiting up to `block`. Creates the
    /// group (and the stream) when Redis has neither, as after a restart with no data.
    pub async fn read(
        &self,
        connection: &mut MultiplexedConnection,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> anyhow::Result<Vec<Delivery>> {
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(block.as_millis() as u64)
            .arg("STREAMS")
            .arg(&self.key)
            .arg(">");
        let reply: redis::RedisResult<redis::streams::StreamReadReply> = command.query_async(connection).await;
        let reply = match reply {
            Ok(reply) => reply,
            Err(err) if err.code() == Some("NOGROUP") => {
                self.create_group(connection).await?;
                return Ok(Vec::new());
            }
            Err(err) => return Err(err.into()),
        };
        let mut out = Vec::new();
        for stream in reply.keys {
            for entry in stream.ids {
                let job_id = entry.get::<String>("job").unwrap_or_default();
                out.push(Delivery { entry_id: entry.id, job_id });
            }
        }
        Ok(out)
    }

    async fn create_group(&self, connection: &mut MultiplexedConnection) -> anyhow::Result<()> {
        // From the start of the stream: entries added before the group existed are jobs too.
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.key)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(connection)
            .await;
        match created {
            Ok(()) => Ok(()),
            Err(err) if err.code() == Some("BUSYGROUP") => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Acknowledges and deletes entries, so the stream holds only undelivered ids.
    pub async fn ack(&self, connection: &mut MultiplexedConnection, entry_ids: &[String]) -> anyhow::Result<()> {
        if entry_ids.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.cmd("XACK").arg(&self.key).arg(GROUP).arg(entry_ids).ignore();
        pipe.cmd("XDEL").arg(&self.key).arg(entry_ids).ignore();
        tokio::time::timeout(self.op_timeout, pipe.query_async::<()>(connection))
            .await
            .map_err(|_| anyhow::anyhow!("XACK timed out"))??;
        Ok(())
    }
}

/// Wakes this process's relay (outbox → stream) and workers.
#[derive(Clone, Default)]
pub struct Wakeups {
    /// A job was committed: the relay should drain the outbox.
    pub relay: Arc<Notify>,
    /// There may be a job to claim.
    pub workers: Arc<Notify>,
}

impl Wakeups {
    /// Called after a transaction that queued jobs committed.
    pub fn job_committed(&self) {
        self.relay.notify_one();
        self.workers.notify_waiters();
        self.workers.notify_one();
    }
}
