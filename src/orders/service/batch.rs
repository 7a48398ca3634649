//! One batch of placements in ONE transaction (see [`super::queue`]): products and wallets
//! locked once, every order decided in memory in arrival order by [`super::rules`], the
//! accepted ones written with one stock update, one balance update and multi-row inserts.

use std::collections::HashMap;

use chrono::{SubsecRound as _, Utc};
use entity::{
    addresses, notifications, order_items, order_status_history::OrderActor, orders, products,
    vendors,
};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, TransactionTrait as _,
};
use uuid::Uuid;

use super::rules::{
    self, CheckedInput, NewOrder, PLACED_KIND, Placed, check_order, delivery_location, history_row,
    hold_reference, key_reused, new_order, no_such_address, order_lines, order_number,
    placed_email, placed_notice, sold_out,
};
use crate::db::{
    bulk::{Move, add_by_id},
    numbers::{self, Counter},
};
use crate::{
    batching::distinct,
    error::{AppError, AppResult},
    jobs::queue,
    notifications::service as notices,
    settings::service::{self as settings, Setting},
    wallet::{
        escrow::{self, NewHold},
        ledger,
    },
};

pub(super) struct Request {
    pub(super) buyer: Uuid,
    pub(super) address_id: Uuid,
    pub(super) input: CheckedInput,
}

/// A placed order and the notification to publish once it is committed.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub(super) placed: Placed,
    pub(super) notice: Option<notifications::Model>,
}

// An order of the batch that passed every check but stock and money.
pub(super) struct Candidate<'a> {
    pub(super) index: usize,
    pub(super) request: &'a Request,
    pub(super) address: addresses::Model,
    pub(super) location: (f64, f64),
    /// Sorted by product id (the order the single path takes stock in).
    pub(super) lines: Vec<(products::Model, i32)>,
    pub(super) vendor: &'a vendors::Model,
    pub(super) subtotal: i64,
    pub(super) bps: i64,
}

/// One transaction for the whole batch: an answer per request, or one error for all of them
/// (and then nothing was written).
pub(super) async fn run_batch(
    db: &DatabaseConnection,
    requests: &[Request],
) -> AppResult<Vec<AppResult<Answer>>> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    let mut answers: Vec<Option<AppResult<Answer>>> = vec![None; requests.len()];

    // Idempotency: keys used by earlier orders, then repeats within this batch.
    // One index probe per (buyer, key) pair, not one per buyer times key.
    let pairs = distinct(requests.iter().map(|r| (r.buyer, r.input.key.clone())));
    let earlier: HashMap<(Uuid, String), orders::Model> = orders::Entity::find()
        .filter(
            pairs
                .into_iter()
                .fold(Condition::any(), |any, (buyer, key)| {
                    any.add(
                        Condition::all()
                            .add(orders::Column::BuyerId.eq(buyer))
                            .add(orders::Column::IdempotencyKey.eq(key)),
                    )
                }),
        )
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| ((o.buyer_id, o.idempotency_key.clone()), o))
        .collect();
    let mut first_with_key: HashMap<(Uuid, &str), usize> = HashMap::new();
    let mut same_as: Vec<(usize, usize)> = Vec::new();
    let mut fresh: Vec<usize> = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        let key = (request.buyer, request.input.key.clone());
        if let Some(order) = earlier.get(&key) {
            answers[i] = Some(if order.request_hash == request.input.hash {
                Ok(Answer {
                    placed: Placed {
                        order: order.clone(),
                        created: false,
                    },
                    notice: None,
                })
            } else {
                Err(key_reused())
            });
        } else if let Some(&j) = first_with_key.get(&(request.buyer, request.input.key.as_str())) {
            if requests[j].input.hash == request.input.hash {
                same_as.push((i, j));
            } else {
                answers[i] = Some(Err(key_reused()));
            }
        } else {
            first_with_key.insert((request.buyer, request.input.key.as_str()), i);
            fresh.push(i);
        }
    }

    // Everything the fresh orders need, one query per table; products locked in id order.
    let found_addresses: HashMap<Uuid, addresses::Model> = if fresh.is_empty() {
        HashMap::new()
    } else {
        addresses::Entity::find()
            .filter(
                addresses::Column::Id
                    .is_in(distinct(fresh.iter().map(|&i| requests[i].address_id))),
            )
            .all(&txn)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect()
    };
    let product_ids = distinct(
        fresh
            .iter()
            .flat_map(|&i| requests[i].input.lines.iter().map(|l| l.product_id)),
    );
    let found_products: HashMap<Uuid, products::Model> = if product_ids.is_empty() {
        HashMap::new()
    } else {
        let query = products::Entity::find()
            .filter(products::Column::Id.is_in(product_ids))
            .order_by_asc(products::Column::Id);
        let query = match backend {
            DbBackend::Postgres => query.lock_exclusive(),
            // One writer at a time: nobody changes them until this transaction ends.
            _ => query,
        };
        query
            .all(&txn)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect()
    };
    let vendor_ids = distinct(found_products.values().map(|p| p.vendor_id));
    let found_vendors: HashMap<Uuid, vendors::Model> = if vendor_ids.is_empty() {
        HashMap::new()
    } else {
        vendors::Entity::find()
            .filter(vendors::Column::Id.is_in(vendor_ids))
            .all(&txn)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect()
    };
    let default_bps = if found_vendors.values().any(|v| v.commission_bps.is_none()) {
        Some(settings::get(&txn, Setting::CommissionRateBps).await?)
    } else {
        None
    };

    // The checks that need no lock, in the single path's order.
    let mut candidates = Vec::with_capacity(fresh.len());
    for &i in &fresh {
        let request = &requests[i];
        let checked = (|| -> AppResult<Candidate<'_>> {
            let address = found_addresses
                .get(&request.address_id)
                .filter(|a| a.user_id == request.buyer)
                .cloned()
                .ok_or_else(no_such_address)?;
            let location = delivery_location(&address)?;
            let (mut lines, vendor_id) = order_lines(&request.input.lines, &found_products)?;
            let vendor = found_vendors
                .get(&vendor_id)
                .ok_or_else(|| AppError::not_found("vendor"))?;
            let subtotal = check_order(request.buyer, vendor, &lines, location)?;
            let bps = match vendor.commission_bps {
                Some(bps) => i64::from(bps),
                None => default_bps.ok_or_else(|| {
                    AppError::internal(anyhow::anyhow!("the commission rate was not read"))
                })?,
            };
            // A rate that cannot be applied refuses this order alone, before anything is locked.
            escrow::commission(subtotal, bps)?;
            if subtotal <= 0 {
                // What the hold of the single path answers.
                return Err(AppError::bad_input("amount", "must be more than zero"));
            }
            lines.sort_by_key(|(p, _)| p.id);
            Ok(Candidate {
                index: i,
                request,
                address,
                location,
                lines,
                vendor,
                subtotal,
                bps,
            })
        })();
        match checked {
            Ok(candidate) => candidates.push(candidate),
            Err(err) => answers[i] = Some(Err(err)),
        }
    }

    // Stock, then money, in arrival order, against the locked rows.
    let wallets =
        ledger::lock_wallets(&txn, &distinct(candidates.iter().map(|c| c.request.buyer))).await?;
    let mut stock: HashMap<Uuid, i32> = found_products.values().map(|p| (p.id, p.stock)).collect();
    let mut available: HashMap<Uuid, i64> = wallets
        .iter()
        .map(|(owner, w)| (*owner, w.available.balance))
        .collect();
    let mut accepted = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let short = candidate.lines.iter().find_map(|(product, quantity)| {
            let left = stock.get(&product.id).copied().unwrap_or(0);
            (left < *quantity).then(|| sold_out(product, left))
        });
        if let Some(err) = short {
            answers[candidate.index] = Some(Err(err));
            continue;
        }
        let balance = available
            .get(&candidate.request.buyer)
            .copied()
            .unwrap_or(0);
        if balance < candidate.subtotal {
            answers[candidate.index] = Some(Err(AppError::InsufficientFunds(
                "your wallet balance is too low; recharge it first".into(),
            )));
            continue;
        }
        available.insert(candidate.request.buyer, balance - candidate.subtotal);
        for (product, quantity) in &candidate.lines {
            if let Some(left) = stock.get_mut(&product.id) {
                *left -= *quantity;
            }
        }
        accepted.push(candidate);
    }

    let now = Utc::now().trunc_subsecs(6);
    if !accepted.is_empty() {
        take_stock(&txn, &found_products, &stock, now).await?;
        let numbers = numbers::next_many(&txn, Counter::Orders, accepted.len()).await?;
        let order_ids: Vec<Uuid> = accepted.iter().map(|_| crate::db::new_id()).collect();
        let holds = escrow::hold_decided(
            &txn,
            &wallets,
            accepted
                .iter()
                .zip(&order_ids)
                .map(|(c, id)| NewHold {
                    user_id: c.request.buyer,
                    amount: c.subtotal,
                    reference: hold_reference(*id),
                })
                .collect(),
        )
        .await?;

        let mut order_rows = Vec::with_capacity(accepted.len());
        let mut item_rows = Vec::new();
        let mut history_rows = Vec::with_capacity(accepted.len());
        let mut notice_rows = Vec::with_capacity(accepted.len());
        let mut tasks = Vec::with_capacity(accepted.len());
        for (((candidate, id), hold), number) in
            accepted.into_iter().zip(order_ids).zip(holds).zip(numbers)
        {
            let order = new_order(NewOrder {
                id,
                number: order_number(now, number),
                buyer: candidate.request.buyer,
                vendor_id: candidate.vendor.id,
                subtotal: candidate.subtotal,
                bps: candidate.bps,
                hold_id: hold.id,
                address: candidate.address,
                location: candidate.location,
                input: &candidate.request.input,
                now,
            })?;
            // Lines in the buyer's order, as the single path stores them.
            let mut lines = Vec::with_capacity(candidate.lines.len());
            for line in &candidate.request.input.lines {
                if let Some(found) = candidate
                    .lines
                    .iter()
                    .find(|(p, _)| p.id == line.product_id)
                {
                    lines.push(found.clone());
                }
            }
            item_rows.extend(rules::item_rows(id, &lines));
            history_rows.push(history_row(
                &order,
                None,
                OrderActor::Buyer,
                Some(candidate.request.buyer),
                None,
            ));
            let (title, body) = placed_notice(&order);
            let notice = notices::new_notification(
                candidate.vendor.user_id,
                PLACED_KIND,
                title,
                body,
                Some(id),
            );
            notice_rows.push(notice.clone());
            tasks.push(placed_email(id));
            answers[candidate.index] = Some(Ok(Answer {
                placed: Placed {
                    order: order.clone(),
                    created: true,
                },
                notice: Some(notice),
            }));
            order_rows.push(orders::ActiveModel::from(order));
        }
        crate::db::insert_chunked::<orders::Entity>(&txn, order_rows).await?;
        crate::db::insert_chunked::<order_items::Entity>(&txn, item_rows).await?;
        crate::db::insert_chunked::<entity::order_status_history::Entity>(&txn, history_rows)
            .await?;
        notices::insert_all(&txn, &notice_rows).await?;
        queue::enqueue_all(&txn, &tasks).await?;
    }
    txn.commit().await?;

    // A repeated key answers what its first use got.
    for (i, j) in same_as {
        answers[i] = answers[j].clone().map(|answer| {
            answer.map(|a| Answer {
                placed: Placed {
                    order: a.placed.order,
                    created: false,
                },
                notice: None,
            })
        });
    }
    answers
        .into_iter()
        .map(|answer| {
            answer.ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("an order of the batch got no answer"))
            })
        })
        .collect()
}

/// Sets every product whose stock the batch took to what is left, in ONE statement, checked
/// row by row against the stock it must leave (the rows are locked, so it always matches; if
/// not, the batch fails and writes nothing).
pub(super) async fn take_stock(
    conn: &impl ConnectionTrait,
    locked: &HashMap<Uuid, products::Model>,
    left: &HashMap<Uuid, i32>,
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    let mut taken: Vec<Move> = left
        .iter()
        .filter_map(|(id, after)| {
            let before = locked.get(id)?.stock;
            (*after != before).then_some(Move {
                id: *id,
                delta: i64::from(*after) - i64::from(before),
                expected: i64::from(*after),
            })
        })
        .collect();
    taken.sort_by_key(|m| m.id);
    add_by_id(
        conn,
        "products",
        "stock",
        &taken,
        &[("updated_at", sea_orm::sea_query::Expr::value(now))],
        "products",
    )
    .await
}
