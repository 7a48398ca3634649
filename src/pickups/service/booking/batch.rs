//! One batch of slot bookings in ONE transaction (see [`super::queue`]): the slots and the
//! collectors' wallets locked once (slots, then wallets, each in id order, the order a single
//! booking and a cancel take them in), every booking decided in memory in arrival order by the
//! rules of [`super::single`], the accepted ones written with one update of the slots' counters,
//! one of the balances, and multi-row inserts for everything else.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound as _, Utc};
use entity::{
    addresses, chat_rooms, notifications, pickup_items, pickup_rates, pickup_slots,
    pickup_status_history::{self, PickupActor},
    pickups::{self, PickupStatus},
    vendors,
};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, TransactionTrait as _,
};
use uuid::Uuid;

use super::rules::{
    Booked, Checked, collector_notice, collector_short, household_notice, items_of, key_reused,
    new_pickup, no_such_address, no_such_slot, priced_items, slot_full,
};
use crate::{
    batching::distinct,
    db::{
        bulk::{Move, add_by_id},
        numbers::{self, Counter},
    },
    error::{AppError, AppResult},
    jobs::queue,
    notifications::{jobs::SendNotification, service as notices},
    pickups::service::{
        common::{chat_room_row, history_row, pickup_number, reference},
        offers::{bps_i32, check_vendor_serves, hold_amount},
        rates, slots,
    },
    settings::service::{self as settings, Setting},
    wallet::{
        escrow::{self, NewHold},
        ledger,
    },
};

pub(super) struct Request {
    pub(super) household: Uuid,
    pub(super) checked: Checked,
}

/// A booking and the notifications to publish once it is committed.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub(super) booked: Booked,
    pub(super) notices: Vec<notifications::Model>,
}

/// A booking of the batch that passed every check but the slot's room and the wallet.
struct Candidate<'a> {
    index: usize,
    request: &'a Request,
    address: &'a addresses::Model,
    location: (f64, f64),
    items: Vec<pickup_items::ActiveModel>,
    quote: i64,
    hold: i64,
    bps: i32,
    slot: &'a pickup_slots::Model,
    vendor: &'a vendors::Model,
}

/// One transaction for the whole batch: an answer per request, or one error for all of them
/// (and then nothing was written).
pub(super) async fn run_batch(
    db: &DatabaseConnection,
    requests: &[Request],
) -> AppResult<Vec<AppResult<Answer>>> {
    let txn = db.begin().await?;
    let now = Utc::now().trunc_subsecs(6);
    let mut answers: Vec<Option<AppResult<Answer>>> = requests.iter().map(|_| None).collect();
    let (fresh, same_as) = sort_keys(&txn, requests, &mut answers).await?;
    let found = Found::read(&txn, requests, &fresh, now).await?;

    // The checks that need no lock, in the single path's order.
    let mut candidates = Vec::with_capacity(fresh.len());
    for &i in &fresh {
        match found.check(i, &requests[i]) {
            Ok(candidate) => candidates.push(candidate),
            Err(err) => answers[i] = Some(Err(err)),
        }
    }

    // The slot's room, then the collector's money, in arrival order, against the locked rows.
    let wallets =
        ledger::lock_wallets(&txn, &distinct(candidates.iter().map(|c| c.vendor.user_id))).await?;
    let mut room: HashMap<Uuid, i32> = found
        .slots
        .values()
        .filter(|s| s.removed_at.is_none() && s.starts_at > now)
        .map(|s| (s.id, s.remaining))
        .collect();
    let mut available: HashMap<Uuid, i64> = wallets
        .iter()
        .map(|(owner, w)| (*owner, w.available.balance))
        .collect();
    let mut accepted = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        let left = room.get(&candidate.slot.id).copied().unwrap_or(0);
        if left <= 0 {
            answers[candidate.index] = Some(Err(slot_full()));
            continue;
        }
        let balance = available
            .get(&candidate.vendor.user_id)
            .copied()
            .unwrap_or(0);
        if balance < candidate.hold {
            answers[candidate.index] = Some(Err(collector_short(AppError::InsufficientFunds(
                String::new(),
            ))));
            continue;
        }
        available.insert(candidate.vendor.user_id, balance - candidate.hold);
        room.insert(candidate.slot.id, left - 1);
        accepted.push(candidate);
    }

    if !accepted.is_empty() {
        take_slots(&txn, &found.slots, &room).await?;
        write(&txn, &wallets, accepted, &mut answers, now).await?;
    }
    txn.commit().await?;

    // A repeated key answers what its first use got.
    for (i, j) in same_as {
        answers[i] = answers[j].clone().map(|answer| {
            answer.map(|a| Answer {
                booked: Booked {
                    pickup: a.booked.pickup,
                    created: false,
                },
                notices: Vec::new(),
            })
        });
    }
    answers
        .into_iter()
        .map(|answer| {
            answer.ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("a booking of the batch got no answer"))
            })
        })
        .collect()
}

/// Idempotency: answers requests whose key an earlier pickup used; returns the requests to
/// book (first uses of a key) and the repeats within this batch (repeat, first use).
async fn sort_keys(
    conn: &impl ConnectionTrait,
    requests: &[Request],
    answers: &mut [Option<AppResult<Answer>>],
) -> AppResult<(Vec<usize>, Vec<(usize, usize)>)> {
    let pairs = distinct(
        requests
            .iter()
            .map(|r| (r.household, r.checked.key.clone())),
    );
    let earlier: HashMap<(Uuid, String), pickups::Model> = pickups::Entity::find()
        .filter(
            pairs
                .into_iter()
                .fold(Condition::any(), |any, (household, key)| {
                    any.add(
                        Condition::all()
                            .add(pickups::Column::HouseholdId.eq(household))
                            .add(pickups::Column::IdempotencyKey.eq(key)),
                    )
                }),
        )
        .all(conn)
        .await?
        .into_iter()
        .map(|p| ((p.household_id, p.idempotency_key.clone()), p))
        .collect();
    let mut first_with_key: HashMap<(Uuid, &str), usize> = HashMap::new();
    let mut same_as = Vec::new();
    let mut fresh = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        let checked = &request.checked;
        if let Some(pickup) = earlier.get(&(request.household, checked.key.clone())) {
            answers[i] = Some(if pickup.request_hash == checked.hash {
                Ok(Answer {
                    booked: Booked {
                        pickup: pickup.clone(),
                        created: false,
                    },
                    notices: Vec::new(),
                })
            } else {
                Err(key_reused())
            });
        } else if let Some(&j) = first_with_key.get(&(request.household, checked.key.as_str())) {
            if requests[j].checked.hash == checked.hash {
                same_as.push((i, j));
            } else {
                answers[i] = Some(Err(key_reused()));
            }
        } else {
            first_with_key.insert((request.household, checked.key.as_str()), i);
            fresh.push(i);
        }
    }
    Ok((fresh, same_as))
}

/// Everything the fresh bookings need, one query per table; the slots locked in id order.
struct Found {
    addresses: HashMap<Uuid, addresses::Model>,
    slots: HashMap<Uuid, pickup_slots::Model>,
    vendors: HashMap<Uuid, vendors::Model>,
    /// The rates in force now, by city key.
    cards: HashMap<String, HashMap<Uuid, pickup_rates::Model>>,
    default_bps: i64,
    margin_bps: i64,
}

impl Found {
    async fn read(
        conn: &impl ConnectionTrait,
        requests: &[Request],
        fresh: &[usize],
        now: DateTime<Utc>,
    ) -> AppResult<Self> {
        let [default_bps, margin_bps] = settings::get_many(
            conn,
            [Setting::CommissionRateBps, Setting::PickupHoldMarginBps],
        )
        .await?;
        let mut found = Self {
            addresses: HashMap::new(),
            slots: HashMap::new(),
            vendors: HashMap::new(),
            cards: HashMap::new(),
            default_bps,
            margin_bps,
        };
        if fresh.is_empty() {
            return Ok(found);
        }
        found.addresses = addresses::Entity::find()
            .filter(addresses::Column::Id.is_in(distinct(
                fresh.iter().map(|&i| requests[i].checked.address_id),
            )))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let categories = distinct(
            fresh
                .iter()
                .flat_map(|&i| requests[i].checked.items.iter().map(|(c, _)| *c)),
        );
        for city in distinct(found.addresses.values().map(|a| a.city.clone())) {
            let card = rates::rates_at(conn, &city, &categories, now).await?;
            found.cards.insert(rates::city_key(&city), card);
        }
        let slot_ids = distinct(fresh.iter().filter_map(|&i| requests[i].checked.slot_id));
        let query = pickup_slots::Entity::find()
            .filter(pickup_slots::Column::Id.is_in(slot_ids))
            .order_by_asc(pickup_slots::Column::Id);
        let query = match conn.get_database_backend() {
            DbBackend::Postgres => query.lock_exclusive(),
            // One writer at a time: nobody changes them until this transaction ends.
            _ => query,
        };
        found.slots = query
            .all(conn)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let vendor_ids = distinct(found.slots.values().map(|s| s.vendor_id));
        if !vendor_ids.is_empty() {
            found.vendors = vendors::Entity::find()
                .filter(vendors::Column::Id.is_in(vendor_ids))
                .all(conn)
                .await?
                .into_iter()
                .map(|v| (v.id, v))
                .collect();
        }
        Ok(found)
    }

    /// The checks of [`super::single`] that need no lock, in its order.
    fn check<'a>(&'a self, index: usize, request: &'a Request) -> AppResult<Candidate<'a>> {
        let checked = &request.checked;
        let address = self
            .addresses
            .get(&checked.address_id)
            .filter(|a| a.user_id == request.household)
            .ok_or_else(no_such_address)?;
        let location = slots::location_of(address)?;
        let empty = HashMap::new();
        let card = self
            .cards
            .get(&rates::city_key(&address.city))
            .unwrap_or(&empty);
        let (items, quote) = priced_items(checked, card, &address.city)?;
        let slot = checked
            .slot_id
            .and_then(|id| self.slots.get(&id))
            .ok_or_else(no_such_slot)?;
        let vendor = self
            .vendors
            .get(&slot.vendor_id)
            .ok_or_else(|| AppError::not_found("vendor"))?;
        check_vendor_serves(vendor, request.household, location, "slotId")?;
        let bps = bps_i32(vendor.commission_bps.map_or(self.default_bps, i64::from))?;
        Ok(Candidate {
            index,
            request,
            address,
            location,
            items,
            quote,
            hold: hold_amount(quote, self.margin_bps)?,
            bps,
            slot,
            vendor,
        })
    }
}

/// Sets every slot the batch booked to the room it has left, in ONE statement, checked row by
/// row (the rows are locked, so it always matches; if not, the batch fails and writes nothing).
async fn take_slots(
    conn: &impl ConnectionTrait,
    locked: &HashMap<Uuid, pickup_slots::Model>,
    room: &HashMap<Uuid, i32>,
) -> AppResult<()> {
    let mut taken: Vec<Move> = room
        .iter()
        .filter_map(|(id, after)| {
            let before = locked.get(id)?.remaining;
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
        "pickup_slots",
        "remaining",
        &taken,
        &[],
        "pickup slots",
    )
    .await
}

/// The accepted bookings' holds, pickups, items, chat rooms, history, notifications and emails.
async fn write(
    conn: &impl ConnectionTrait,
    wallets: &HashMap<Uuid, ledger::Wallet>,
    accepted: Vec<Candidate<'_>>,
    answers: &mut [Option<AppResult<Answer>>],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let numbers = numbers::next_many(conn, Counter::Pickups, accepted.len()).await?;
    let ids: Vec<Uuid> = accepted.iter().map(|_| crate::db::new_id()).collect();
    let holds = escrow::hold_decided(
        conn,
        wallets,
        accepted
            .iter()
            .zip(&ids)
            .map(|(c, id)| NewHold {
                user_id: c.vendor.user_id,
                amount: c.hold,
                reference: reference(*id),
            })
            .collect(),
    )
    .await?;

    let mut pickup_rows = Vec::with_capacity(accepted.len());
    let mut item_rows = Vec::new();
    let mut room_rows = Vec::with_capacity(accepted.len());
    let mut history_rows = Vec::with_capacity(accepted.len());
    let mut notice_rows = Vec::with_capacity(2 * accepted.len());
    for (((candidate, id), hold), number) in accepted.into_iter().zip(ids).zip(holds).zip(numbers) {
        let household = candidate.request.household;
        let mut pickup = new_pickup(
            id,
            pickup_number(now, number),
            household,
            candidate.address,
            candidate.location,
            &candidate.request.checked,
            candidate.quote,
            now,
        );
        pickup.status = PickupStatus::Assigned;
        pickup.vendor_id = Some(candidate.vendor.id);
        pickup.slot_id = Some(candidate.slot.id);
        pickup.hold_id = Some(hold.id);
        pickup.commission_bps = Some(candidate.bps);
        let notices: Vec<notifications::Model> = [
            collector_notice(candidate.vendor.user_id, &pickup, candidate.slot),
            household_notice(&pickup),
        ]
        .into_iter()
        .map(|(user, kind, title, body)| notices::new_notification(user, &kind, title, body, None))
        .collect();
        notice_rows.extend(notices.iter().cloned());
        item_rows.extend(items_of(id, candidate.items));
        room_rows.push(chat_room_row(id, now));
        history_rows.push(history_row(
            &pickup,
            None,
            PickupActor::Household,
            Some(household),
            None,
        ));
        pickup_rows.push(pickups::ActiveModel::from(pickup.clone()));
        answers[candidate.index] = Some(Ok(Answer {
            booked: Booked {
                pickup,
                created: true,
            },
            notices,
        }));
    }
    crate::db::insert_chunked::<pickups::Entity>(conn, pickup_rows).await?;
    crate::db::insert_chunked::<pickup_items::Entity>(conn, item_rows).await?;
    crate::db::insert_chunked::<chat_rooms::Entity>(conn, room_rows).await?;
    crate::db::insert_chunked::<pickup_status_history::Entity>(conn, history_rows).await?;
    notices::insert_all(conn, &notice_rows).await?;
    let emails: Vec<SendNotification> = notice_rows
        .iter()
        .map(|n| SendNotification {
            notification_id: n.id,
        })
        .collect();
    queue::enqueue_all(conn, &emails).await?;
    Ok(())
}
