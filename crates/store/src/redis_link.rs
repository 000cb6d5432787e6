//! One multiplexed Redis connection, made on first use and again after a failure, with a
//! breaker: after a failure Redis is skipped for a moment so that a dead or frozen Redis costs
//! one timeout per breaker period. Shared by the rate limiter and the session store, which
//! each decide what a failure means (limit in process; refuse the session).

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;

pub struct RedisLink {
    client: redis::Client,
    connection: Mutex<Option<MultiplexedConnection>>,
    /// Held while connecting, so that a burst of requests makes one connection.
    connecting: tokio::sync::Mutex<()>,
    pub key_prefix: String,
    op_timeout: Duration,
    breaker_open: Duration,
    open_until: Mutex<Option<Instant>>,
}

impl RedisLink {
    pub fn new(url: &str, key_prefix: &str, op_timeout: Duration, breaker_open: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            key_prefix: key_prefix.to_owned(),
            op_timeout,
            breaker_open,
            open_until: Mutex::new(None),
        })
    }

    /// Runs `operation` on the connection within the operation timeout; a failure opens the
    /// breaker and drops the connection.
    pub async fn run<T, F, Fut>(&self, operation: F) -> Result<T, String>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        if self.open_until.lock().ok().and_then(|until| *until).is_some_and(|until| Instant::now() < until) {
            return Err("breaker open".into());
        }
        let attempt = async { operation(self.connection().await?).await };
        let result = tokio::time::timeout(self.op_timeout, attempt).await.unwrap_or_else(|_| Err("timed out".into()));
        if result.is_err() {
            if let Ok(mut until) = self.open_until.lock() {
                *until = Some(Instant::now() + self.breaker_open);
            }
            if let Ok(mut slot) = self.connection.lock() {
                *slot = None;
            }
        }
        result
    }

    async fn connection(&self) -> Result<MultiplexedConnection, String> {
        let current = || self.connection.lock().ok().and_then(|slot| slot.clone());
        if let Some(connection) = current() {
            return Ok(connection);
        }
        let _connecting = self.connecting.lock().await;
        if let Some(connection) = current() {
            return Ok(connection);
        }
        let config =
            AsyncConnectionConfig::new().set_connection_timeout(self.op_timeout).set_response_timeout(self.op_timeout);
        let connection =
            self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(|err| err.to_string())?;
        if let Ok(mut slot) = self.connection.lock() {
            *slot = Some(connection.clone());
        }
        Ok(connection)
    }
}
