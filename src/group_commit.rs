//! Group commit on top of [`crate::batching`]: callers hand a request to a [`GroupCommit`] and
//! wait for its own answer; a worker per slot runs a batch of requests in ONE transaction (the
//! domain's `run`, which answers each request or fails as a whole). A batch that failed as a
//! whole wrote nothing, and each of its callers is told to do its work alone (`None` from
//! [`GroupCommit::submit`]), so one bad request never fails the others. Used by `createOrder`
//! (`orders::service::queue`) and `bookPickup` into a slot (`pickups::service::booking::queue`).
//!
//! The requests of one owner (a buyer, a household) always go to the same worker, so its
//! concurrent requests (and their idempotency keys) are decided in order.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::{
    batching::BatchQueues,
    error::{AppError, AppResult},
};

/// 4 parallel transactions on PostgreSQL; SQLite has one writer.
pub fn default_workers(db: &sea_orm::DatabaseConnection) -> usize {
    if crate::db::is_postgres(db) { 4 } else { 1 }
}

/// The most requests one transaction takes.
pub const DEFAULT_MAX_BATCH: usize = 64;

enum Reply<A> {
    Done(Box<AppResult<A>>),
    /// The batch failed as a whole and wrote nothing.
    Alone,
}

struct Pending<R, A> {
    request: R,
    reply: oneshot::Sender<Reply<A>>,
}

/// Queues of requests waiting to be committed together. Cheap to clone: clones share them.
pub struct GroupCommit<R, A> {
    queues: BatchQueues<usize, Pending<R, A>>,
    workers: usize,
    /// Requests whose batch failed as a whole, sent down the single path.
    alone: Arc<AtomicU64>,
}

impl<R, A> Clone for GroupCommit<R, A> {
    fn clone(&self) -> Self {
        Self {
            queues: self.queues.clone(),
            workers: self.workers,
            alone: self.alone.clone(),
        }
    }
}

impl<R, A> GroupCommit<R, A>
where
    R: Send + Sync + 'static,
    A: Send + 'static,
{
    /// `workers` parallel transactions (at least 1) of at most `max_batch` requests, each run
    /// by `run` (`what` names the requests in the log).
    pub fn new<F, Fut>(workers: usize, max_batch: usize, what: &'static str, run: F) -> Self
    where
        F: Fn(Arc<Vec<R>>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AppResult<Vec<AppResult<A>>>> + Send + 'static,
    {
        let run = Arc::new(run);
        let alone = Arc::new(AtomicU64::new(0));
        let counted = alone.clone();
        let queues = BatchQueues::new(max_batch, move |_slot, batch: Vec<Pending<R, A>>| {
            let (run, counted) = (run.clone(), counted.clone());
            async move {
                let (requests, replies): (Vec<R>, Vec<_>) =
                    batch.into_iter().map(|p| (p.request, p.reply)).unzip();
                let count = requests.len();
                match run(Arc::new(requests)).await {
                    Ok(answers) if answers.len() == count => {
                        for (reply, answer) in replies.into_iter().zip(answers) {
                            let _ = reply.send(Reply::Done(Box::new(answer)));
                        }
                    }
                    outcome => {
                        match outcome {
                            Err(err @ AppError::Internal(_)) => {
                                tracing::error!(error = ?err, count, "a {what} batch failed; doing them one by one");
                            }
                            Err(err) => {
                                tracing::debug!(error = ?err, count, "a {what} batch failed; doing them one by one");
                            }
                            Ok(_) => {
                                tracing::error!(
                                    count,
                                    "a {what} batch answered the wrong number of requests; doing them one by one"
                                );
                            }
                        }
                        counted.fetch_add(count as u64, Ordering::Relaxed);
                        for reply in replies {
                            let _ = reply.send(Reply::Alone);
                        }
                    }
                }
            }
        });
        Self {
            queues,
            workers: workers.max(1),
            alone,
        }
    }

    /// How many requests were handed to the queue so far: wait on it to know that concurrent
    /// `submit` calls have reached the queue.
    pub fn queued(&self) -> watch::Receiver<u64> {
        self.queues.sent()
    }

    /// How many requests were sent down the single path because their batch failed as a
    /// whole: a batch that decides right never fails, so this stays 0 in normal operation.
    pub fn sent_alone(&self) -> u64 {
        self.alone.load(Ordering::Relaxed)
    }

    /// `request`'s answer from its batch, or `None` when its batch failed as a whole and wrote
    /// nothing (or its worker vanished, a panic, and either committed it or not): the caller
    /// then does the work alone, where an idempotency key finds out which.
    pub async fn submit(&self, owner: Uuid, request: R) -> Option<AppResult<A>> {
        let (reply, answer) = oneshot::channel();
        let slot = usize::try_from(owner.as_u128() % self.workers as u128).unwrap_or(0);
        self.queues.send(slot, Pending { request, reply });
        match answer.await.unwrap_or(Reply::Alone) {
            Reply::Done(answer) => Some(*answer),
            Reply::Alone => None,
        }
    }
}
