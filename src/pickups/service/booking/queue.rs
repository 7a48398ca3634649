//! Group commit of slot bookings. `bookPickup` with a `slotId` hands its booking to a
//! [`BookingQueue`] (a [`crate::group_commit`]); a worker (4 on PostgreSQL, 1 on SQLite — it has one writer) takes up to
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
use tokio::sync::watch;
use uuid::Uuid;

use super::{
    batch::{Answer, Request, run_batch},
    rules::{BookPickupInput, Booked, check_input},
    single::book_checked,
};
use crate::{
    error::AppResult,
    group_commit::{DEFAULT_MAX_BATCH, GroupCommit, default_workers},
    pickups::service::offers::OfferRules,
    realtime::live,
};

/// Slot bookings waiting to be committed together ([`crate::group_commit`]). Cheap to clone:
/// clones share the queues.
#[derive(Clone)]
pub struct BookingQueue {
    commit: GroupCommit<Request, Answer>,
    db: DatabaseConnection,
}

impl BookingQueue {
    /// 4 workers on PostgreSQL, 1 on SQLite.
    pub fn new(db: DatabaseConnection) -> Self {
        let workers = default_workers(&db);
        Self::with_options(db, workers, DEFAULT_MAX_BATCH)
    }

    /// A queue with `workers` parallel transactions of at most `max_batch` bookings (each at
    /// least 1).
    pub fn with_options(db: DatabaseConnection, workers: usize, max_batch: usize) -> Self {
        let batch_db = db.clone();
        let commit = GroupCommit::new(workers, max_batch, "booking", move |batch| {
            let db = batch_db.clone();
            async move { run_batch(&db, &batch).await }
        });
        Self { commit, db }
    }

    /// How many bookings were handed to the queue so far (refused inputs and slot-less bookings
    /// are not queued): wait on it to know that concurrent `book` calls have reached the queue.
    pub fn queued(&self) -> watch::Receiver<u64> {
        self.commit.queued()
    }

    /// How many bookings were made alone because their batch failed as a whole (0 when every batch
    /// decided right).
    pub fn sent_alone(&self) -> u64 {
        self.commit.sent_alone()
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
        let request = Request {
            household,
            checked: checked.clone(),
        };
        match self.commit.submit(household, request).await {
            Some(answer) => {
                let answer = answer?;
                // Committed with its batch; published from the caller's operation, once it is
                // over, without reading anything back.
                for notice in &answer.notices {
                    live::record_committed(notice, None);
                }
                Ok(answer.booked)
            }
            None => book_checked(&self.db, household, &checked, rules, Utc::now()).await,
        }
    }
}
