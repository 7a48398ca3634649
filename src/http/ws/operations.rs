//! Queries and mutations in flight on one socket. They run concurrently with each other and
//! with the socket's subscriptions, as `graphql-transport-ws` allows: a slow mutation neither
//! holds back the next one nor the events of the socket's subscriptions, and each result goes
//! out (`next`, then `complete`) as soon as it is ready.
//!
//! A `complete` for an operation in flight does not cancel it (a mutation stopped half way
//! would leave its side effects to chance): its result is dropped instead. Each operation
//! carries a generation, so a result is never sent under an id that a later operation reuses.

use std::{collections::HashMap, future::Future, sync::Arc};

use async_graphql::Response;
use futures_util::{StreamExt as _, future::BoxFuture, stream::FuturesUnordered};

#[derive(Default)]
pub struct InFlight {
    running: FuturesUnordered<BoxFuture<'static, (Arc<str>, u64, Response)>>,
    /// The generation of each id whose result is still wanted.
    wanted: HashMap<Arc<str>, u64>,
    generation: u64,
}

impl InFlight {
    /// Whether an operation with `id` is running and its result still wanted.
    pub fn contains(&self, id: &str) -> bool {
        self.wanted.contains_key(id)
    }

    /// How many operations are running, wanted or not (each holds memory until it ends).
    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    pub fn start(
        &mut self,
        id: Arc<str>,
        operation: impl Future<Output = Response> + Send + 'static,
    ) {
        self.generation += 1;
        let generation = self.generation;
        self.wanted.insert(id.clone(), generation);
        self.running
            .push(Box::pin(async move { (id, generation, operation.await) }));
    }

    /// The client no longer wants `id`'s result. True when it was in flight.
    pub fn forget(&mut self, id: &str) -> bool {
        self.wanted.remove(id).is_some()
    }

    /// The next finished operation whose result is still wanted. Cancel-safe: an operation
    /// that finishes is only taken out when it is returned or dropped as unwanted.
    pub async fn next(&mut self) -> Option<(Arc<str>, Response)> {
        loop {
            let (id, generation, response) = self.running.next().await?;
            if self.wanted.get(&id) == Some(&generation) {
                self.wanted.remove(&id);
                return Some((id, response));
            }
        }
    }
}
