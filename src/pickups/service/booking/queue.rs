//! Group commit of slot bookings. `bookPickup` with a `slotId` hands its booking to a
//! [`BookingQueue`]; a worker (4 on PostgreSQL, 1 on SQLite — it has one writer) takes up to
//! [`DEFAULT_MAX_BATCH`] pending bookings and books them in ONE transaction ([`super::batch`]):
//! the slots and the collectors' wallets are locked once, every booking is decided in memory in
//! arrival order by the rules of the single path (idempotency, address, rates, slot, collector,
//! the slot's room, the collector's float), and the accepted ones are written with one update of
//! the slots, one of the balances and multi-row inserts.
//!
//! Each caller gets its own answer: a refused booking (slot full, collector short of float, bad
//! input) is refused alone and the others of its batch are booked. If the batch's transaction
//! fails as a whole (a key first used meanwhile by another process, a lost connection, a bug),
//! nothing of it was written and every caller books alone through [`super::single`];
//! idempotency keys make that retry safe even after an ambiguous commit. Bookings without a
//! slot (offers to nearby collectors) always take the single path.
//!
//! A household's bookings always go to the same worker, so its concurrent requests (and their
//! idempotency keys) are decided in order, within a batch or across batches.

use chrono::Utc;
use sea_orm::DatabaseConnection;
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use super::{
    BookPickupInput, Booked, OfferRules,
    batch::{Reply, Request, run_batch},
    check_input,
    single::book_checked,
};
use crate::{
    batching::BatchQueues,
    error::{AppError, AppResult},
    realtime::live,
};

pub const DEFAULT_MAX_BATCH: usize = 64;

/// Queues of slot bookings waiting to be committed (`crate::batching`, keyed by worker slot).
/// Cheap to clone: clones share the queues.
#[derive(Clone)]
pub struct BookingQueue {
    queues: BatchQueues<usize, Request>,
    db: DatabaseConnection,
    workers: usize,
}

impl BookingQueue {
    /// 4 workers on PostgreSQL, 1 on SQLite.
    pub fn new(db: DatabaseConnection) -> Self {
        let workers = if crate::db::is_postgres(&db) { 4 } else { 1 };
        Self::with_options(db, workers, DEFAULT_MAX_BATCH)
    }

    /// A queue with `workers` parallel transactions of at most `max_batch` bookings (each at
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

    /// How many bookings were handed to the queue so far (refused inputs and slot-less bookings
    /// are not queued): wait on it to know that concurrent `book` calls have reached the queue.
    pub fn queued(&self) -> watch::Receiver<u64> {
        self.queues.sent()
    }

    /// Books a pickup exactly as [`super::book_pickup`] does (same checks, same errors, same
    /// idempotency); a slot booking shares a transaction with those made at the same time.
    pub async fn book(
        &self,
        household: Uuid,
        input: BookPickupInput,
        rules: OfferRules,
    ) -> AppResult<Booked> {
        let checked = check_input(input)?;
        if checked.slot_id.is_none() {
            return book_checked(&self.db, household, &checked, rules, Utc::now()).await;
        }
        let (reply, answer) = oneshot::channel();
        // A household's bookings always go to the same worker, so its keys are decided in order.
        let slot = usize::try_from(household.as_u128() % self.workers as u128).unwrap_or(0);
        self.queues.send(
            slot,
            Request {
                household,
                checked: checked.clone(),
                reply,
            },
        );
        // A worker that vanished without answering (a panic) either committed the booking or
        // not; the single path finds out through the idempotency key.
        match answer.await.unwrap_or(Reply::Alone) {
            Reply::Done(answer) => {
                let answer = (*answer)?;
                // Committed with its batch; published from the caller's operation, once it is
                // over, without reading anything back.
                for notice in &answer.notices {
                    live::record_committed(notice, None);
                }
                Ok(answer.booked)
            }
            Reply::Alone => book_checked(&self.db, household, &checked, rules, Utc::now()).await,
        }
    }
}

async fn commit_batch(db: &DatabaseConnection, batch: Vec<Request>) {
    match run_batch(db, &batch).await {
        Ok(answers) => {
            for (request, answer) in batch.into_iter().zip(answers) {
                let _ = request.reply.send(Reply::Done(Box::new(answer)));
            }
        }
        Err(err) => {
            if matches!(err, AppError::Internal(_)) {
                tracing::error!(error = ?err, bookings = batch.len(), "booking batch failed; booking one by one");
            } else {
                tracing::debug!(error = ?err, bookings = batch.len(), "booking batch failed; booking one by one");
            }
            for request in batch {
                let _ = request.reply.send(Reply::Alone);
            }
        }
    }
}
