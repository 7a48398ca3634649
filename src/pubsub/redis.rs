//! The Redis backend: one multiplexed publisher connection, and one listener task that
//! pattern-subscribes to every Kabaadwala topic and feeds the local hub, reconnecting with
//! exponential backoff when Redis goes away.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use futures_util::StreamExt as _;
use redis::{AsyncCommands as _, aio::ConnectionManager};

use super::Hub;

/// Every topic is published under this prefix, so one PSUBSCRIBE covers them all.
const PREFIX: &str = "kw:";
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);

pub struct RedisBackend {
    publisher: ConnectionManager,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for RedisBackend {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl RedisBackend {
    pub fn start(url: &str, hub: Arc<Hub>) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context("parse REDIS_URL")?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(PUBLISH_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let publisher = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .context("create the Redis publisher")?;
        let listener = tokio::spawn(listen(client, hub));
        Ok(Self {
            publisher,
            listener,
        })
    }

    pub async fn publish(&self, topic: &str, payload: String) {
        let mut conn = self.publisher.clone();
        let channel = format!("{PREFIX}{topic}");
        let sent = tokio::time::timeout(
            PUBLISH_TIMEOUT,
            conn.publish::<_, _, i64>(&channel, payload),
        )
        .await;
        match sent {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!(%topic, error = %err, "redis publish failed"),
            Err(_) => tracing::warn!(%topic, "redis publish timed out"),
        }
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.publisher.clone();
        tokio::time::timeout(
            PUBLISH_TIMEOUT,
            redis::cmd("PING").query_async::<String>(&mut conn),
        )
        .await
        .context("redis ping timed out")?
        .context("redis ping")?;
        Ok(())
    }
}

/// Runs until the process ends: subscribe, forward, and on any failure wait and start again.
/// After a drop, what was published while the listener was away is lost to live subscribers:
/// the hub signals a gap, so they can resume from the database.
async fn listen(client: redis::Client, hub: Arc<Hub>) {
    let mut backoff = Duration::from_millis(100);
    let mut connected_before = false;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.psubscribe(format!("{PREFIX}*")).await {
                Ok(()) => {
                    tracing::info!("redis pub/sub listener connected");
                    if connected_before {
                        hub.gap();
                    }
                    connected_before = true;
                    backoff = Duration::from_millis(100);
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        let Some(topic) = msg.get_channel_name().strip_prefix(PREFIX) else {
                            continue;
                        };
                        match msg.get_payload::<String>() {
                            Ok(payload) => hub.deliver(topic, payload.into()),
                            Err(err) => tracing::warn!(%topic, error = %err, "bad redis payload"),
                        }
                    }
                    tracing::warn!("redis pub/sub connection lost; reconnecting");
                }
                Err(err) => tracing::warn!(error = %err, "redis psubscribe failed"),
            },
            Err(err) => tracing::warn!(error = %err, ?backoff, "redis unreachable; retrying"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
