//! What a job is to the queue: a kind (a snake_case name, as in DESIGN.md) and a JSON payload.
//! Each domain declares its own job types (`orders::jobs::ReleaseHeldAmount`) and registers a
//! handler for each in a [`Registry`] at start-up; the queue itself knows no domain.

use std::{collections::HashMap, future::Future, sync::Arc};

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Serialize, de::DeserializeOwned};

use crate::config::Config;

/// A kind of job: its payload is the value itself, serialized.
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    /// The `kind` column. Never renamed once jobs of it may be queued.
    const KIND: &'static str;

    /// The kind and payload to store.
    fn to_parts(&self) -> serde_json::Result<(&'static str, serde_json::Value)> {
        Ok((Self::KIND, serde_json::to_value(self)?))
    }

    /// Reads a stored payload of this kind.
    fn from_payload(payload: &serde_json::Value) -> serde_json::Result<Self> {
        serde_json::from_value(payload.clone())
    }
}

/// A job ready to be stored, whatever its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Queued {
    pub kind: &'static str,
    pub payload: serde_json::Value,
}

impl Queued {
    pub fn of<J: Job>(job: &J) -> serde_json::Result<Self> {
        let (kind, payload) = job.to_parts()?;
        Ok(Self { kind, payload })
    }
}

type Handler<S> =
    Arc<dyn Fn(S, serde_json::Value) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// A recurring job: a name (the key of its runs), where its cron expression is configured,
/// and the job for a slot (the slot lets a job know which period it covers).
#[derive(Clone, Copy)]
pub struct Recurring {
    pub name: &'static str,
    pub expression: fn(&Config) -> &str,
    pub job: fn(DateTime<Utc>) -> serde_json::Result<Queued>,
}

/// Every job kind's handler, and the recurring jobs, over a state `S` (the application's).
pub struct Registry<S> {
    handlers: HashMap<&'static str, Handler<S>>,
    recurring: Vec<Recurring>,
}

impl<S> Default for Registry<S> {
    fn default() -> Self {
        Self {
            handlers: HashMap::new(),
            recurring: Vec::new(),
        }
    }
}

impl<S: Send + 'static> Registry<S> {
    /// Runs `handler` for every job of kind `J`. A kind is registered once.
    pub fn handle<J, F, Fut>(&mut self, handler: F) -> &mut Self
    where
        J: Job,
        F: Fn(S, J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let previous = self.handlers.insert(
            J::KIND,
            Arc::new(move |state, payload| {
                let handler = handler.clone();
                Box::pin(async move {
                    let job = J::from_payload(&payload)
                        .map_err(|err| anyhow::anyhow!("undecodable payload: {err}"))?;
                    handler(state, job).await
                })
            }),
        );
        debug_assert!(previous.is_none(), "job kind {} registered twice", J::KIND);
        self
    }

    /// Adds a recurring job.
    pub fn every(&mut self, recurring: Recurring) -> &mut Self {
        self.recurring.push(recurring);
        self
    }

    /// Runs a stored job with its kind's handler.
    pub async fn run(
        &self,
        state: S,
        kind: &str,
        payload: &serde_json::Value,
    ) -> anyhow::Result<()> {
        let handler = self
            .handlers
            .get(kind)
            .ok_or_else(|| anyhow::anyhow!("no handler for jobs of kind {kind:?}"))?;
        handler(state, payload.clone()).await
    }

    /// True when jobs of `kind` can run.
    pub fn knows(&self, kind: &str) -> bool {
        self.handlers.contains_key(kind)
    }

    /// The recurring jobs, in registration order.
    pub fn recurring(&self) -> &[Recurring] {
        &self.recurring
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ping {
        n: u32,
    }

    impl Job for Ping {
        const KIND: &'static str = "ping";
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sweep;

    impl Job for Sweep {
        const KIND: &'static str = "sweep";
    }

    #[test]
    fn a_job_round_trips_through_kind_and_payload() {
        let (kind, payload) = Ping { n: 7 }
            .to_parts()
            .unwrap_or(("", serde_json::Value::Null));
        assert_eq!((kind, &payload), ("ping", &serde_json::json!({ "n": 7 })));
        assert_eq!(Ping::from_payload(&payload).ok(), Some(Ping { n: 7 }));
        // A job without fields stores `null`, as the queue always has for such kinds.
        assert_eq!(
            Sweep.to_parts().ok(),
            Some(("sweep", serde_json::Value::Null))
        );
        assert_eq!(
            Sweep::from_payload(&serde_json::Value::Null).ok(),
            Some(Sweep)
        );
    }

    #[tokio::test]
    async fn the_registry_runs_the_handler_of_the_kind_and_refuses_unknown_kinds() {
        let mut registry = Registry::<Arc<std::sync::Mutex<Vec<u32>>>>::default();
        registry.handle(
            |seen: Arc<std::sync::Mutex<Vec<u32>>>, ping: Ping| async move {
                seen.lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .push(ping.n);
                Ok(())
            },
        );
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let ran = registry
            .run(seen.clone(), "ping", &serde_json::json!({ "n": 3 }))
            .await;
        assert!(ran.is_ok());
        assert_eq!(seen.lock().map(|s| s.clone()).unwrap_or_default(), vec![3]);
        assert!(
            registry
                .run(seen.clone(), "pong", &serde_json::Value::Null)
                .await
                .is_err()
        );
        assert!(
            registry
                .run(seen, "ping", &serde_json::json!({ "n": "x" }))
                .await
                .is_err()
        );
        assert!(registry.knows("ping") && !registry.knows("pong"));
    }
}
