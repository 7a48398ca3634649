//! The in-process hub: one broadcast channel per topic with live subscribers.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use futures_util::{Stream, StreamExt as _};
use tokio::sync::broadcast;
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};

/// How many undelivered messages a subscriber may lag before it starts skipping.
const CHANNEL_CAPACITY: usize = 256;

pub struct Hub {
    topics: Mutex<HashMap<String, broadcast::Sender<Arc<str>>>>,
    /// Signalled when events may have been lost (the Redis listener reconnected after a drop).
    gaps: broadcast::Sender<()>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            topics: Mutex::default(),
            gaps: broadcast::channel(1).0,
        }
    }
}

impl Hub {
    /// Tells every live subscriber that events published for a while may not have reached it.
    pub fn gap(&self) {
        let _ = self.gaps.send(());
    }

    /// A receiver of [`Hub::gap`] signals.
    pub fn gaps(&self) -> broadcast::Receiver<()> {
        self.gaps.subscribe()
    }

    pub fn deliver(&self, topic: &str, payload: Arc<str>) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = topics.get(topic)
            && sender.send(payload).is_err()
        {
            // Nobody listens any more: forget the topic so the map does not grow forever.
            topics.remove(topic);
        }
    }

    pub fn subscribe(&self, topic: &str) -> impl Stream<Item = Arc<str>> + Send + 'static {
        let receiver = {
            let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
            topics
                .entry(topic.to_owned())
                .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
                .subscribe()
        };
        let topic = topic.to_owned();
        BroadcastStream::new(receiver).filter_map(move |item| {
            let item = match item {
                Ok(payload) => Some(payload),
                Err(BroadcastStreamRecvError::Lagged(skipped)) => {
                    tracing::warn!(%topic, skipped, "slow subscriber skipped messages");
                    None
                }
            };
            std::future::ready(item)
        })
    }

    pub fn topic_count(&self) -> usize {
        self.topics.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}
