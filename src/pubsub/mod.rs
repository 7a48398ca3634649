//! Topics that reach every subscriber on every instance. Two backends share one local hub:
//! in-process (embedded mode: publish goes straight to the hub) and Redis (publish goes to Redis;
//! one background listener per process feeds what Redis delivers into the hub). So there is one
//! code path for subscribers and no Redis connection per client.
//!
//! Publishing happens after the database commit; a failed publish is logged, never returned,
//! because the database is the source of truth.

mod local;
mod redis;

use std::sync::Arc;

use futures_util::Stream;

pub use local::Hub;

/// A pub/sub backend handle; cheap to clone.
#[derive(Clone)]
pub struct PubSub {
    hub: Arc<Hub>,
    redis: Option<Arc<redis::RedisBackend>>,
}

impl PubSub {
    /// In-process only: events reach subscribers of this process.
    pub fn local() -> Self {
        Self {
            hub: Arc::new(Hub::default()),
            redis: None,
        }
    }

    /// Through Redis: events reach subscribers on every instance. Never fails at start: if Redis
    /// is not up yet, the listener keeps retrying in the background.
    pub fn redis(url: &str) -> anyhow::Result<Self> {
        let hub = Arc::new(Hub::default());
        let backend = redis::RedisBackend::start(url, hub.clone())?;
        Ok(Self {
            hub,
            redis: Some(Arc::new(backend)),
        })
    }

    /// Publishes `payload` on `topic`. Errors are logged, not returned.
    pub async fn publish(&self, topic: &str, payload: String) {
        match &self.redis {
            Some(redis) => redis.publish(topic, payload).await,
            None => self.hub.deliver(topic, payload.into()),
        }
    }

    /// Everything published on `topic` from now on. A slow subscriber skips messages rather than
    /// holding publishers back.
    pub fn subscribe(&self, topic: &str) -> impl Stream<Item = Arc<str>> + Send + 'static {
        self.hub.subscribe(topic)
    }

    /// Signals that live events may have been lost (Redis came back after a drop): subscribers
    /// should resume from the database.
    pub fn gaps(&self) -> tokio::sync::broadcast::Receiver<()> {
        self.hub.gaps()
    }

    /// Whether the backend is reachable (for `/readyz`).
    pub async fn ping(&self) -> anyhow::Result<()> {
        match &self.redis {
            Some(redis) => redis.ping().await,
            None => Ok(()),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        if self.redis.is_some() {
            "redis"
        } else {
            "in-process"
        }
    }
}
