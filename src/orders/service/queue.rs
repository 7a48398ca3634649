//! Group commit of order placements. `createOrder` hands its order to a [`PlacementQueue`] (a
//! [`crate::group_commit`]); a
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
use tokio::sync::watch;
use uuid::Uuid;

use super::batch::{Answer, Request, run_batch};
use super::placement::place_checked;
use super::rules::{PlaceOrderInput, Placed, check_input};
use crate::{
    error::AppResult,
    group_commit::{GroupCommit, default_workers},
    realtime::live,
};

pub use crate::group_commit::DEFAULT_MAX_BATCH;

/// Orders waiting to be placed together ([`crate::group_commit`]). Cheap to clone: clones
/// share the queues.
#[derive(Clone)]
pub struct PlacementQueue {
    commit: GroupCommit<Request, Answer>,
    db: DatabaseConnection,
}

impl PlacementQueue {
    /// 4 workers on PostgreSQL, 1 on SQLite.
    pub fn new(db: DatabaseConnection) -> Self {
        let workers = default_workers(&db);
        Self::with_options(db, workers, DEFAULT_MAX_BATCH)
    }

    /// A queue with `workers` parallel transactions of at most `max_batch` orders (each at
    /// least 1).
    pub fn with_options(db: DatabaseConnection, workers: usize, max_batch: usize) -> Self {
        let batch_db = db.clone();
        let commit = GroupCommit::new(workers, max_batch, "order", move |batch| {
            let db = batch_db.clone();
            async move { run_batch(&db, &batch).await }
        });
        Self { commit, db }
    }

    /// How many orders were handed to the queue so far (refused inputs are not queued): wait
    /// on it to know that concurrent `place` calls have reached the queue.
    pub fn queued(&self) -> watch::Receiver<u64> {
        self.commit.queued()
    }

    /// How many orders were made alone because their batch failed as a whole (0 when every batch
    /// decided right).
    pub fn sent_alone(&self) -> u64 {
        self.commit.sent_alone()
    }

    /// Places an order exactly as [`place_order`] does (same checks, same errors, same
    /// idempotency), sharing a transaction with the orders placed at the same time.
    pub async fn place(&self, buyer: Uuid, input: PlaceOrderInput) -> AppResult<Placed> {
        let address_id = input.address_id;
        let checked = check_input(input)?;
        let request = Request {
            buyer,
            address_id,
            input: checked.clone(),
        };
        match self.commit.submit(buyer, request).await {
            Some(answer) => {
                let answer = answer?;
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
            None => place_checked(&self.db, buyer, address_id, &checked).await,
        }
    }
}
