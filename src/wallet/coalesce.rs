//! Coalesced escrow holds for hot wallets. Callers that are not already inside a transaction
//! place holds through a [`HoldQueue`]: concurrent requests for one user wait in that user's
//! queue, and one worker per busy wallet takes up to [`HoldQueue::max_batch`] of them and commits
//! them in ONE transaction (one lock of the wallet, one conditional balance update per account,
//! multi-row inserts). 64 callers on one wallet then share a handful of commits instead of
//! queueing one by one on the wallet's row lock.
//!
//! The outcome of each request is what it would have been had the requests of a batch run one
//! after another in arrival order: a hold is accepted while the available balance still covers
//! it, the others get INSUFFICIENT_FUNDS. If the batch's transaction fails, every caller in it
//! gets that error and nothing of the batch is written.
//!
//! Inside a caller's own transaction (orders), use [`super::escrow::hold`] instead.

use std::collections::{HashMap, HashSet};

use chrono::{SubsecRound as _, Utc};
use entity::{
    holds::{self, HoldStatus},
    ledger_accounts::AccountKind,
    ledger_transfers::{self, TransferKind},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _,
    TransactionTrait as _,
};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::ledger::{self, BatchTransfer};
use crate::{
    batching::BatchQueues,
    error::{AppError, AppResult},
};

/// Requests one worker commits together at most, by default.
pub const DEFAULT_MAX_BATCH: usize = 128;

/// Per-wallet queues of hold requests (`crate::batching`). Cheap to clone: clones share the
/// queues.
#[derive(Clone)]
pub struct HoldQueue {
    queues: BatchQueues<Uuid, Request>,
}

struct Request {
    amount: i64,
    reference: String,
    idempotency_key: Option<String>,
    reply: oneshot::Sender<AppResult<holds::Model>>,
}

impl HoldQueue {
    pub fn new(db: DatabaseConnection) -> Self {
        Self::with_max_batch(db, DEFAULT_MAX_BATCH)
    }

    /// A queue whose workers commit at most `max_batch` (at least 1) requests per transaction.
    pub fn with_max_batch(db: DatabaseConnection, max_batch: usize) -> Self {
        let queues = BatchQueues::new(max_batch, move |user_id, batch| {
            let db = db.clone();
            async move { commit_batch(&db, user_id, batch).await }
        });
        Self { queues }
    }

    pub fn max_batch(&self) -> usize {
        self.queues.max_batch()
    }

    /// Moves `amount` of `user_id`'s available balance into held, as a new hold, in its own
    /// (shared) transaction. INSUFFICIENT_FUNDS when the available balance is too low. With an
    /// `idempotency_key` (scoped to the user), a replay with the same amount and reference
    /// returns the first hold and moves nothing; with a different input it is CONFLICT.
    /// Once queued, a request is committed (or refused) even if its caller stops waiting.
    pub async fn hold(
        &self,
        user_id: Uuid,
        amount: i64,
        reference: &str,
        idempotency_key: Option<String>,
    ) -> AppResult<holds::Model> {
        if amount <= 0 {
            return Err(AppError::bad_input("amount", "must be more than zero"));
        }
        let idempotency_key = match idempotency_key.map(|k| k.trim().to_owned()) {
            Some(key) if key.is_empty() => {
                return Err(AppError::bad_input(
                    "idempotencyKey",
                    "must not be empty when given",
                ));
            }
            key => key,
        };
        let (reply, answer) = oneshot::channel();
        self.queues.send(
            user_id,
            Request {
                amount,
                reference: reference.to_owned(),
                idempotency_key,
                reply,
            },
        );
        answer.await.map_err(|_| {
            AppError::internal(anyhow::anyhow!("the hold worker stopped before answering"))
        })?
    }
}

/// Runs one batch and answers every caller in it.
async fn commit_batch(db: &DatabaseConnection, user_id: Uuid, batch: Vec<Request>) {
    let specs: Vec<Spec> = batch
        .iter()
        .map(|r| Spec {
            amount: r.amount,
            reference: r.reference.clone(),
            idempotency_key: r.idempotency_key.clone(),
        })
        .collect();
    let mut outcome = run_batch(db, user_id, &specs).await;
    // A key first used concurrently elsewhere (another process) surfaces as a unique
    // violation; a second attempt sees it committed and answers it as a replay.
    if matches!(outcome, Err(AppError::Conflict(_)))
        && specs.iter().any(|s| s.idempotency_key.is_some())
    {
        outcome = run_batch(db, user_id, &specs).await;
    }
    match outcome {
        Ok(results) => {
            for (request, result) in batch.into_iter().zip(results) {
                let _ = request.reply.send(result);
            }
        }
        Err(err) => {
            if matches!(err, AppError::Internal(_)) {
                tracing::error!(error = ?err, %user_id, holds = batch.len(), "hold batch failed");
            }
            for request in batch {
                let _ = request.reply.send(Err(err.clone()));
            }
        }
    }
}

struct Spec {
    amount: i64,
    reference: String,
    idempotency_key: Option<String>,
}

/// How one request of a batch is answered.
enum Plan {
    /// Already answered (a replay or a conflicting key).
    Done(AppResult<holds::Model>),
    /// The `n`th transfer of the batch.
    Transfer(usize),
    /// Same key as an earlier request of this batch, same input: gets its answer.
    SameAs(usize),
}

fn scoped_key(user_id: Uuid, key: &str) -> String {
    format!("hold:{user_id}:{key}")
}

fn too_low() -> AppError {
    AppError::InsufficientFunds("your wallet balance is too low; recharge it first".into())
}

fn key_reused() -> AppError {
    AppError::Conflict("this idempotency key was already used for a different request".into())
}

/// One transaction for the whole batch: per-request answers, or one error for all of them.
async fn run_batch(
    db: &DatabaseConnection,
    user_id: Uuid,
    specs: &[Spec],
) -> AppResult<Vec<AppResult<holds::Model>>> {
    let txn = db.begin().await?;
    let available = ledger::account(&txn, AccountKind::UserAvailable, user_id).await?;
    let held = ledger::account(&txn, AccountKind::UserHeld, user_id).await?;

    // Replays of keys used by earlier batches.
    let keys: Vec<String> = specs
        .iter()
        .filter_map(|s| s.idempotency_key.as_deref())
        .map(|k| scoped_key(user_id, k))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut earlier: HashMap<String, holds::Model> = HashMap::new();
    let mut earlier_bad: HashSet<String> = HashSet::new();
    if !keys.is_empty() {
        let transfers = ledger_transfers::Entity::find()
            .filter(ledger_transfers::Column::IdempotencyKey.is_in(keys))
            .all(&txn)
            .await?;
        let hold_ids: Vec<Uuid> = transfers.iter().filter_map(|t| t.hold_id).collect();
        let found: HashMap<Uuid, holds::Model> = if hold_ids.is_empty() {
            HashMap::new()
        } else {
            holds::Entity::find()
                .filter(holds::Column::Id.is_in(hold_ids))
                .all(&txn)
                .await?
                .into_iter()
                .map(|h| (h.id, h))
                .collect()
        };
        for t in transfers {
            let Some(key) = t.idempotency_key.clone() else {
                continue;
            };
            let hold = t.hold_id.and_then(|id| found.get(&id)).cloned();
            match hold {
                Some(hold)
                    if t.kind == TransferKind::Hold
                        && t.debit_account_id == available.id
                        && hold.user_id == user_id =>
                {
                    earlier.insert(key, hold);
                }
                _ => {
                    earlier_bad.insert(key);
                }
            }
        }
    }

    let mut plans = Vec::with_capacity(specs.len());
    let mut transfers = Vec::new();
    let mut hold_ids = Vec::new();
    let mut first_with_key: HashMap<&str, usize> = HashMap::new();
    for (i, spec) in specs.iter().enumerate() {
        let Some(key) = spec.idempotency_key.as_deref() else {
            plans.push(Plan::Transfer(push(
                &mut transfers,
                &mut hold_ids,
                spec,
                None,
            )));
            continue;
        };
        let scoped = scoped_key(user_id, key);
        if let Some(hold) = earlier.get(&scoped) {
            let same = hold.amount == spec.amount && hold.reference == spec.reference;
            plans.push(Plan::Done(if same {
                Ok(hold.clone())
            } else {
                Err(key_reused())
            }));
        } else if earlier_bad.contains(&scoped) {
            plans.push(Plan::Done(Err(key_reused())));
        } else if let Some(&j) = first_with_key.get(key) {
            let first = &specs[j];
            let same = first.amount == spec.amount && first.reference == spec.reference;
            plans.push(if same {
                Plan::SameAs(j)
            } else {
                Plan::Done(Err(key_reused()))
            });
        } else {
            first_with_key.insert(key, i);
            plans.push(Plan::Transfer(push(
                &mut transfers,
                &mut hold_ids,
                spec,
                Some(scoped),
            )));
        }
    }

    let outcomes = if transfers.is_empty() {
        Vec::new()
    } else {
        ledger::transfer_batch(&txn, &available, &held, transfers).await?
    };
    // Microseconds, as stored: a replay reads back exactly the hold the first request returned.
    let now = Utc::now().trunc_subsecs(6);
    let mut answers: Vec<AppResult<holds::Model>> = Vec::with_capacity(specs.len());
    let mut new_holds = Vec::new();
    for (spec, plan) in specs.iter().zip(&plans) {
        let answer = match plan {
            Plan::Done(result) => result.clone(),
            Plan::Transfer(n) => match (outcomes.get(*n), hold_ids.get(*n)) {
                (Some(Ok(())), Some(&id)) => {
                    let hold = holds::Model {
                        id,
                        user_id,
                        amount: spec.amount,
                        status: HoldStatus::Held,
                        reference: spec.reference.clone(),
                        released_amount: 0,
                        created_at: now,
                        settled_at: None,
                    };
                    new_holds.push(hold.clone());
                    Ok(hold)
                }
                (Some(Err(AppError::InsufficientFunds(_))), _) => Err(too_low()),
                (Some(Err(err)), _) => Err(err.clone()),
                _ => Err(AppError::internal(anyhow::anyhow!(
                    "the ledger answered fewer transfers than asked"
                ))),
            },
            Plan::SameAs(j) => answers.get(*j).cloned().unwrap_or_else(|| {
                Err(AppError::internal(anyhow::anyhow!(
                    "a repeated key answered before its first use"
                )))
            }),
        };
        answers.push(answer);
    }

    let rows = new_holds.into_iter().map(|h| holds::ActiveModel {
        id: Set(h.id),
        user_id: Set(h.user_id),
        amount: Set(h.amount),
        status: Set(h.status),
        reference: Set(h.reference),
        released_amount: Set(h.released_amount),
        created_at: Set(h.created_at),
        settled_at: Set(h.settled_at),
    });
    crate::db::insert_chunked::<holds::Entity>(&txn, rows).await?;
    txn.commit().await?;
    Ok(answers)
}

/// Adds a hold transfer for `spec` to the batch; returns its index.
fn push(
    transfers: &mut Vec<BatchTransfer>,
    hold_ids: &mut Vec<Uuid>,
    spec: &Spec,
    idempotency_key: Option<String>,
) -> usize {
    let id = crate::db::new_id();
    transfers.push(BatchTransfer {
        amount: spec.amount,
        kind: TransferKind::Hold,
        reference: spec.reference.clone(),
        idempotency_key,
        hold_id: Some(id),
    });
    hold_ids.push(id);
    transfers.len() - 1
}
