//! The `pickups` scenario: doorstep pickups booked and completed per second on PostgreSQL, 64
//! concurrent callers through what the GraphQL resolvers call: `bookPickup` through the group
//! commit of slot bookings (`BookingQueue`) into slots of 100 approved collectors (quote at the
//! locked rate, the slot's counter, the collector's escrow hold), then
//! `completePickup` of weighed pickups (handover code, settlement: household, commission,
//! release). Next to `pgbench -N` on the same server as the physical reference; then the ledger
//! invariant check.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use entity::{
    addresses, categories, ledger_accounts::AccountKind, ledger_transfers::TransferKind,
    pickup_status_history::PickupActor, pickups::PickupStatus,
};
use kabaadwala::{
    pickups::service::{
        self as pickups,
        booking::{self, BookPickupInput, OfferRules, PickupItemInput},
        completion,
        rates::{self, SetRateInput},
        settlement::WeighingLine,
        slots::{self, SlotInput},
        transitions,
    },
    wallet::ledger,
};
use rand::Rng as _;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait as _, TransactionTrait as _};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::{CONCURRENCY, Outcome, SECONDS, catalog::approved_vendor, record};

const VENDORS: usize = 100;
const SLOTS_PER_VENDOR: usize = 10;
const HOUSEHOLDS: usize = 2_000;
/// At most this many pickups are weighed for the completion run.
const TO_COMPLETE: usize = 6_000;

fn app(e: kabaadwala::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

struct Yard {
    material: Uuid,
    /// (vendor id, vendor user, its slot ids)
    vendors: Vec<(Uuid, Uuid, Vec<Uuid>)>,
    /// (household, address, index of its vendor)
    households: Vec<(Uuid, Uuid, usize)>,
}

pub async fn run(admin_url: &str) -> anyhow::Result<()> {
    let pgbench_tps = crate::pgbench(admin_url).await?;
    println!("pgbench -N (simple-update), {CONCURRENCY} clients: {pgbench_tps:.0} TPS");
    record::row(
        "`pgbench -N` (simple-update), 64 clients, 10 s, scale 10",
        format!("{pgbench_tps:.0} TPS"),
        "the physical reference of this run (pickups)",
        "",
        None,
    );
    let (url, name) = crate::create_database(admin_url, "kw_bench_pickups").await?;
    let db = kabaadwala::db::connect_url(&url, CONCURRENCY as u32 + 4).await?;
    kabaadwala::db::migrate(&db).await?;
    let yard = Arc::new(prepare(&db).await?);

    let (booked, bookings) = book(&db, yard.clone()).await?;
    let rate = bookings.ops as f64 / bookings.elapsed.as_secs_f64();
    println!(
        "bookings: {} ({:.0}% of pgbench -N)",
        bookings.summary("bookings/s"),
        100.0 * rate / pgbench_tps
    );
    record::row(
        "`bookPickup` into slots of 100 collectors, 64 callers, group commit (quote, slot counter, escrow hold)",
        bookings.summary("bookings/s"),
        format!(
            "`pgbench -N` {pgbench_tps:.0} TPS → **{:.0}%**",
            100.0 * rate / pgbench_tps
        ),
        "≥ 30% of pgbench",
        Some(rate >= 0.3 * pgbench_tps),
    );

    let weighed = weigh(&db, &yard, booked).await?;
    let completions = complete(&db, weighed).await?;
    let done = completions.ops as f64 / completions.elapsed.as_secs_f64();
    println!(
        "completions: {} ({:.0}% of pgbench -N)",
        completions.summary("completions/s"),
        100.0 * done / pgbench_tps
    );
    record::row(
        "`completePickup` with the handover code, 64 callers (settlement: household, commission, release)",
        completions.summary("completions/s"),
        format!(
            "`pgbench -N` {pgbench_tps:.0} TPS → **{:.0}%**",
            100.0 * done / pgbench_tps
        ),
        "",
        None,
    );
    let check = ledger::check(&db).await.map_err(app)?;
    println!(
        "ledger check: {} accounts, {} transfers, {} violations",
        check.accounts_checked,
        check.transfers_checked,
        check.violations.len()
    );
    for violation in &check.violations {
        println!("  violation: {violation}");
    }
    record::ledger_check("ledger check after the pickups", &check);
    db.close().await.ok();
    crate::drop_database(admin_url, &name).await
}

/// A material with a rate, 100 approved collectors with a float and slots, households near them.
async fn prepare(db: &DatabaseConnection) -> anyhow::Result<Yard> {
    let now = Utc::now();
    let material = Uuid::new_v4();
    categories::Entity::insert(categories::ActiveModel {
        id: Set(material),
        parent_id: Set(None),
        name: Set("Newspaper".into()),
        slug: Set(format!("newspaper-{}", material.simple())),
        icon_url: Set(None),
        sort_order: Set(0),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    rates::set_rate(
        db,
        Uuid::nil(),
        SetRateInput {
            city: "New Delhi".into(),
            category_id: material,
            price_per_kg: 1_400,
            effective_from: None,
        },
        now,
    )
    .await
    .map_err(app)?;

    let mut vendors = Vec::with_capacity(VENDORS);
    let mut locations = Vec::with_capacity(VENDORS);
    let clearing = ledger::account(db, AccountKind::ProviderClearing, ledger::PLATFORM)
        .await
        .map_err(app)?;
    for i in 0..VENDORS {
        let (user, vendor) = approved_vendor(i, now);
        let user = entity::users::Entity::insert(user)
            .exec_with_returning(db)
            .await?;
        let vendor = entity::vendors::Entity::insert(vendor)
            .exec_with_returning(db)
            .await?;
        let wallet = ledger::account(db, AccountKind::UserAvailable, user.id)
            .await
            .map_err(app)?;
        ledger::transfer(
            db,
            ledger::Transfer {
                debit: clearing.clone(),
                credit: wallet,
                amount: 1_000_000_000,
                kind: TransferKind::Recharge,
                reference: "bench".into(),
                idempotency_key: None,
                hold_id: None,
            },
        )
        .await
        .map_err(app)?;
        let start = now + chrono::Duration::hours(1);
        let added = slots::add_slots(
            db,
            &vendor,
            (0..SLOTS_PER_VENDOR)
                .map(|s| SlotInput {
                    start: start + chrono::Duration::hours(s as i64),
                    end: start + chrono::Duration::hours(s as i64 + 1),
                    capacity: slots::MAX_CAPACITY,
                })
                .collect(),
            now,
        )
        .await
        .map_err(app)?;
        locations.push((vendor.latitude, vendor.longitude));
        vendors.push((
            vendor.id,
            user.id,
            added.into_iter().map(|s| s.id).collect(),
        ));
    }
    let users = crate::prepare(db, HOUSEHOLDS).await?;
    let mut households = Vec::with_capacity(HOUSEHOLDS);
    let mut rows = Vec::with_capacity(HOUSEHOLDS);
    for (i, user) in users.into_iter().enumerate() {
        let v = i % VENDORS;
        let (lat, lon) = locations[v];
        let id = Uuid::new_v4();
        rows.push(addresses::ActiveModel {
            id: Set(id),
            user_id: Set(user),
            label: Set("Home".into()),
            line1: Set(format!("House {i}")),
            line2: Set(None),
            city: Set("New Delhi".into()),
            state: Set("Delhi".into()),
            pincode: Set("110001".into()),
            latitude: Set(Some(lat + 0.001)),
            longitude: Set(Some(lon + 0.001)),
            is_default: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        });
        households.push((user, id, v));
    }
    for chunk in rows.chunks(1000) {
        addresses::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(Yard {
        material,
        vendors,
        households,
    })
}

/// 64 callers booking 10 kg pickups into random slots of their household's collector for
/// `SECONDS`; returns the booked pickups (with their collector's user) and the figures.
async fn book(
    db: &DatabaseConnection,
    yard: Arc<Yard>,
) -> anyhow::Result<(Vec<(Uuid, Uuid)>, Outcome)> {
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let start = Instant::now();
    let rules = OfferRules {
        minutes: 15,
        vendors: 10,
    };
    // What `bookPickup` with a slot goes through: the group commit of slot bookings.
    let queue = booking::BookingQueue::new(db.clone());
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (queue, yard) = (queue.clone(), yard.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut booked = Vec::new();
                while Instant::now() < deadline {
                    let (household, address, v) =
                        yard.households[rand::rng().random_range(0..yard.households.len())];
                    let (_, vendor_user, slots) = &yard.vendors[v];
                    let slot = slots[rand::rng().random_range(0..slots.len())];
                    let began = Instant::now();
                    let result = queue
                        .book(
                            household,
                            BookPickupInput {
                                address_id: address,
                                slot_id: Some(slot),
                                items: vec![PickupItemInput {
                                    category_id: yard.material,
                                    estimated_kg: 10.0,
                                }],
                                note: None,
                                idempotency_key: Uuid::new_v4().to_string(),
                            },
                            rules,
                        )
                        .await;
                    match result {
                        Ok(b) => {
                            latencies.push(began.elapsed());
                            booked.push((b.pickup.id, *vendor_user));
                        }
                        // A full slot: pick another.
                        Err(kabaadwala::AppError::BadUserInput { .. }) => {}
                        Err(e) => return Err(app(e)),
                    }
                }
                anyhow::Ok((latencies, booked))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut booked = Vec::new();
    for task in tasks {
        let (l, b) = task.await??;
        latencies.extend(l);
        booked.extend(b);
    }
    Ok((
        booked,
        Outcome {
            ops: latencies.len() as u64,
            elapsed: start.elapsed(),
            latencies,
        },
    ))
}

/// Walks up to [`TO_COMPLETE`] booked pickups to WEIGHED at 12.4 kg (not timed); returns them
/// with their collector's user and handover code.
async fn weigh(
    db: &DatabaseConnection,
    yard: &Yard,
    booked: Vec<(Uuid, Uuid)>,
) -> anyhow::Result<Vec<(Uuid, Uuid, String)>> {
    let queue = Arc::new(Mutex::new(
        booked.into_iter().take(TO_COMPLETE).collect::<Vec<_>>(),
    ));
    let material = yard.material;
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (db, queue) = (db.clone(), queue.clone());
            tokio::spawn(async move {
                let mut weighed = Vec::new();
                loop {
                    let Some((id, vendor_user)) = queue.lock().await.pop() else {
                        break;
                    };
                    for to in [
                        PickupStatus::EnRoute,
                        PickupStatus::Arrived,
                        PickupStatus::Weighed,
                    ] {
                        let txn = db.begin().await?;
                        let pickup = pickups::find(&txn, id).await.map_err(app)?;
                        let now = Utc::now();
                        match to {
                            PickupStatus::Weighed => {
                                let lines = [WeighingLine {
                                    category_id: material,
                                    weight_grams: 12_400,
                                }];
                                transitions::record_weighing(
                                    &txn,
                                    &pickup,
                                    &lines,
                                    None,
                                    PickupActor::Vendor,
                                    vendor_user,
                                    now,
                                )
                                .await
                                .map_err(app)?;
                            }
                            _ => {
                                transitions::update_status(
                                    &txn,
                                    &pickup,
                                    to,
                                    PickupActor::Vendor,
                                    vendor_user,
                                    now,
                                )
                                .await
                                .map_err(app)?;
                            }
                        }
                        txn.commit().await?;
                    }
                    let pickup = pickups::find(&db, id).await.map_err(app)?;
                    weighed.push((id, vendor_user, pickup.handover_code.unwrap_or_default()));
                }
                anyhow::Ok(weighed)
            })
        })
        .collect();
    let mut weighed = Vec::new();
    for task in tasks {
        weighed.extend(task.await??);
    }
    Ok(weighed)
}

/// 64 callers completing the weighed pickups with their codes, until none is left or
/// `SECONDS` have passed.
async fn complete(
    db: &DatabaseConnection,
    weighed: Vec<(Uuid, Uuid, String)>,
) -> anyhow::Result<Outcome> {
    let queue = Arc::new(Mutex::new(weighed));
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (db, queue) = (db.clone(), queue.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let Some((id, vendor_user, code)) = queue.lock().await.pop() else {
                        break;
                    };
                    let began = Instant::now();
                    completion::complete_pickup(
                        &db,
                        id,
                        &code,
                        PickupActor::Vendor,
                        vendor_user,
                        Utc::now(),
                    )
                    .await
                    .map_err(app)?;
                    latencies.push(began.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = start.elapsed();
    Ok(Outcome {
        ops: latencies.len() as u64,
        elapsed,
        latencies,
    })
}
