//! Group commit of order placements. `createOrder` hands its order to a [`PlacementQueue`]; a
//! worker (4 on PostgreSQL, 1 on SQLite — it has one writer) takes up to
//! [`DEFAULT_MAX_BATCH`] pending orders and places them in ONE transaction: the products and
//! the buyers' wallets are locked once (products, then wallets, each in id order, like the
//! single path), every order is decided in memory in arrival order by the same rules as
//! [`service::place_order`] (idempotency, address, vendor, stock, balance), and the accepted
//! ones are written with one stock update and one balance update for all rows involved,
//! checked against the values decided, and multi-row inserts for everything else.
//!
//! Each caller gets its own answer: a refused order (sold out, wallet too low, bad input) is
//! refused alone and the others of its batch are placed. If the batch's transaction fails as a
//! whole (a key first used meanwhile by another process, a lost connection, a bug), nothing of
//! it was written and every caller places its order alone through the single path, so one bad
//! order never fails others; idempotency keys make that retry safe even after an ambiguous
//! commit.
//!
//! Orders of one buyer always go to the same worker, so a buyer's concurrent requests (and
//! their idempotency keys) are decided in order, within a batch or across batches.

use sea_orm::DatabaseConnection;
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use super::batch::{Reply, Request, run_batch};
use super::placement::place_checked;
use super::rules::{PlaceOrderInput, Placed, check_input};
use crate::{
    batching::BatchQueues,
    error::{AppError, AppResult},
    realtime::live,
};

pub const DEFAULT_MAX_BATCH: usize = 64;

/// Queues of orders waiting to be placed (`crate::batching`, keyed by worker slot). Cheap to
/// clone: clones share the queues.
#[derive(Clone)]
pub struct PlacementQueue {
    queues: BatchQueues<usize, Request>,
    db: DatabaseConnection,
    workers: usize,
}

impl PlacementQueue {
    /// 4 workers on PostgreSQL, 1 on SQLite.
    pub fn new(db: DatabaseConnection) -> Self {
        let workers = if crate::db::is_postgres(&db) { 4 } else { 1 };
        Self::with_options(db, workers, DEFAULT_MAX_BATCH)
    }

    /// A queue with `workers` parallel transactions of at most `max_batch` orders (each at
    /// least 1).
    pub fn with_options(db: DatabaseConnection, workers: usize, max_batch: usize) -> Self {
        let batch_db = db.clone();
        let queues = BatchQueues::new(max_batch, move |_slot, batch| {
            let db = batch_db.clone();
            async move { commit_batch(&db, batch).await }
        });
        Self {
            queues,
            db,
            workers: workers.max(1),
        }
    }

    /// How many orders were handed to the queue so far (refused inputs are not queued): wait
    /// on it to know that concurrent `place` calls have reached the queue.
    pub fn queued(&self) -> watch::Receiver<u64> {
        self.queues.sent()
    }

    /// Places an order exactly as [`place_order`] does (same checks, same errors, same
    /// idempotency), sharing a transaction with the orders placed at the same time.
    pub async fn place(&self, buyer: Uuid, input: PlaceOrderInput) -> AppResult<Placed> {
        let address_id = input.address_id;
        let checked = check_input(input)?;
        let (reply, answer) = oneshot::channel();
        // A buyer's orders always go to the same worker, so their keys are decided in order.
        let slot = usize::try_from(buyer.as_u128() % self.workers as u128).unwrap_or(0);
        self.queues.send(
            slot,
            Request {
                buyer,
                address_id,
                input: checked.clone(),
                reply,
            },
        );
        // A worker that vanished without answering (a panic) either committed the order or
        // not; the single path finds out through the idempotency key.
        let reply = match answer.await.unwrap_or(Reply::Alone) {
            Reply::Done(answer) => Some(*answer),
            Reply::Alone => None,
        };
        match reply {
            Some(Ok(answer)) => {
                if let Some(notice) = &answer.notice {
                    // Committed with its batch; published from the caller's operation, once it
                    // is over, without reading anything back.
                    let parties = live::OrderParties {
                        buyer_id: answer.placed.order.buyer_id,
                        vendor_user_id: notice.user_id,
                    };
                    live::record_committed(notice, Some(parties));
                }
                Ok(answer.placed)
            }
            Some(Err(err)) => Err(err),
            None => place_checked(&self.db, buyer, address_id, &checked).await,
        }
    }
}

pub(super) async fn commit_batch(db: &DatabaseConnection, batch: Vec<Request>) {
    match run_batch(db, &batch).await {
        Ok(answers) => {
            for (request, answer) in batch.into_iter().zip(answers) {
                let _ = request.reply.send(Reply::Done(Box::new(answer)));
            }
        }
        Err(err) => {
            if matches!(err, AppError::Internal(_)) {
                tracing::error!(error = ?err, orders = batch.len(), "order batch failed; placing its orders one by one");
            } else {
                tracing::debug!(error = ?err, orders = batch.len(), "order batch failed; placing its orders one by one");
            }
            for request in batch {
                let _ = request.reply.send(Reply::Alone);
            }
        }
    }
}
