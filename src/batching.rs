//! Group commit: requests for the same key queue up, and one worker per busy key takes up to
//! `max_batch` of them at a time and handles them together (one transaction per batch). Used
//! by order placement (`orders::service::queue`), whose batches also take the escrow holds.
//!
//! A key's worker lives while its queue has requests: it takes whatever is waiting (never
//! waiting for more), runs the batch, and when it finds the queue empty it removes the queue
//! and stops. A sender only sends while the map's lock is held, and the worker checks for
//! emptiness again under that lock before removing its queue, so no request is ever left in a
//! queue without a worker. A worker that panicked leaves a closed queue behind; the next request
//! starts a new one.
//!
//! [`BatchQueues::sent`] counts the requests queued so far (a `watch` channel), so a caller can
//! wait until a known number of requests is queued instead of guessing with a timer.

use std::{
    collections::{HashMap, hash_map::Entry},
    future::Future,
    hash::Hash,
    pin::Pin,
    sync::{Arc, Mutex},
};

use tokio::sync::{mpsc, watch};

type Run<K, R> = Arc<dyn Fn(K, Vec<R>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Per-key queues with a worker each. Cheap to clone: clones share the queues.
pub struct BatchQueues<K, R> {
    inner: Arc<Inner<K, R>>,
}

impl<K, R> Clone for BatchQueues<K, R> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<K, R> {
    max_batch: usize,
    run: Run<K, R>,
    queues: Mutex<HashMap<K, mpsc::UnboundedSender<R>>>,
    /// How many requests were queued since the queues were made.
    sent: watch::Sender<u64>,
}

impl<K, R> BatchQueues<K, R>
where
    K: Eq + Hash + Copy + Send + Sync + 'static,
    R: Send + 'static,
{
    /// Queues whose workers hand batches of at most `max_batch` (at least 1) requests to `run`.
    pub fn new<F, Fut>(max_batch: usize, run: F) -> Self
    where
        F: Fn(K, Vec<R>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            inner: Arc::new(Inner {
                max_batch: max_batch.max(1),
                run: Arc::new(move |key, batch| Box::pin(run(key, batch))),
                queues: Mutex::new(HashMap::new()),
                sent: watch::Sender::new(0),
            }),
        }
    }

    pub fn max_batch(&self) -> usize {
        self.inner.max_batch
    }

    /// The number of requests queued so far, updated as each one is queued: wait on it
    /// (`wait_for`) to know that requests sent from elsewhere have reached their queues.
    pub fn sent(&self) -> watch::Receiver<u64> {
        self.inner.sent.subscribe()
    }

    /// Queues `request` under `key`, starting the key's worker if it has none.
    pub fn send(&self, key: K, request: R) {
        self.enqueue(key, request);
        self.inner.sent.send_modify(|sent| *sent += 1);
    }

    fn enqueue(&self, key: K, request: R) {
        let mut queues = self
            .inner
            .queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let request = match queues.get(&key) {
            Some(sender) => match sender.send(request) {
                Ok(()) => return,
                // Its worker died (a panic): start a new one below.
                Err(mpsc::error::SendError(request)) => request,
            },
            None => request,
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        // The receiver is alive: this cannot fail.
        let _ = sender.send(request);
        queues.insert(key, sender.clone());
        drop(queues);
        tokio::spawn(worker(self.inner.clone(), key, sender, receiver));
    }
}

/// Runs batches of `key`'s requests until its queue is empty, then removes the queue.
async fn worker<K, R>(
    inner: Arc<Inner<K, R>>,
    key: K,
    own: mpsc::UnboundedSender<R>,
    mut receiver: mpsc::UnboundedReceiver<R>,
) where
    K: Eq + Hash + Copy,
{
    loop {
        let first = match receiver.try_recv() {
            Ok(request) => request,
            Err(_) => {
                let mut queues = inner
                    .queues
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // Senders only send under this lock: empty now means empty for good once the
                // queue is gone from the map.
                match receiver.try_recv() {
                    Ok(request) => request,
                    Err(_) => {
                        if let Entry::Occupied(entry) = queues.entry(key)
                            && entry.get().same_channel(&own)
                        {
                            entry.remove();
                        }
                        return;
                    }
                }
            }
        };
        let mut batch = vec![first];
        while batch.len() < inner.max_batch {
            match receiver.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        (inner.run)(key, batch).await;
    }
}

/// The distinct `items`, sorted: the keys a batch reads or locks once (in that order).
pub fn distinct<T: Eq + Hash + Ord + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<T> = items.filter(|item| seen.insert(item.clone())).collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_request_is_handled_once_in_batches_of_at_most_max() {
        let seen = Arc::new(Mutex::new(Vec::<(u8, Vec<u32>)>::new()));
        let record = seen.clone();
        let queues = BatchQueues::new(4, move |key: u8, batch: Vec<u32>| {
            let record = record.clone();
            async move {
                tokio::task::yield_now().await;
                record
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push((key, batch));
            }
        });
        let sent = queues.sent();
        for i in 0..40_u32 {
            queues.send(u8::try_from(i % 3).unwrap_or(0), i);
        }
        assert_eq!(*sent.borrow(), 40, "every request is counted once queued");
        for _ in 0..1_000 {
            let done: usize = seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .map(|(_, b)| b.len())
                .sum();
            if done == 40 {
                break;
            }
            tokio::task::yield_now().await;
        }
        let seen = seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        assert!(seen.iter().all(|(_, batch)| batch.len() <= 4));
        assert!(
            seen.iter()
                .all(|(key, batch)| batch.iter().all(|i| i % 3 == u32::from(*key)))
        );
        let mut all: Vec<u32> = seen.into_iter().flat_map(|(_, b)| b).collect();
        all.sort_unstable();
        assert_eq!(all, (0..40).collect::<Vec<_>>());
    }
}
