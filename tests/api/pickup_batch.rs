//! Group commit of slot bookings (`BookingQueue`): concurrent `bookPickup` calls share
//! transactions, yet each booking is decided as if made alone: a slot never past its capacity,
//! a refusal only for the booking whose collector cannot hold it, idempotency keys honoured
//! within one batch, every booked pickup with its number, chat room, history and notices, the
//! ledger sound; and on PostgreSQL the batch and the single path racing for one place.

use std::{collections::HashSet, future::Future, sync::Arc, time::Duration};

use chrono::Utc;
use entity::{chat_rooms, jobs, notifications, pickup_status_history, pickups};
use futures_util::future::join_all;
use kabaadwala::pickups::service::booking::{self, BookPickupInput, OfferRules, PickupItemInput};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait as _, DbBackend, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, Statement, TransactionTrait as _,
};
use serde_json::json;
use uuid::Uuid;

use crate::{
    pickups::{add_slot, book, yard},
    support::{
        Session, TestApp,
        market::{self, NEAR, assert_ledger_sound, balances},
    },
    wallet::fund,
};

/// ₹1,000: the yard collector's float.
const FLOAT: i64 = 100_000;
/// The hold of a 10 kg booking at ₹14/kg: the quote ₹140 plus the 50% margin.
const HOLD: i64 = 21_000;

/// A household with an address near the yard's collectors.
async fn household(app: &TestApp, name: &str) -> (Session, String) {
    let who = app.customer(name).await;
    let address = market::address(app, &who, Some(NEAR)).await;
    (who, address)
}

/// Runs `calls` while the queue's worker cannot book (the test holds the only SQLite
/// connection, or the slots' row locks on PostgreSQL), and lets go once every call has reached
/// the queue, so that they are booked together (the first may still go alone: its worker took
/// it before the others arrived; the assertions hold for any split into batches). Nothing on a
/// call's way to the queue reads the database, so holding it cannot stop them.
async fn with_worker_held<F: Future>(
    app: &TestApp,
    slots: &[&str],
    calls: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let calls: Vec<F> = calls.into_iter().collect();
    let alone = app.state.bookings.sent_alone();
    let mut queued = app.state.bookings.queued();
    let all_queued = *queued.borrow_and_update() + calls.len() as u64;
    let txn = app.state.db.begin().await.unwrap();
    if txn.get_database_backend() == DbBackend::Postgres {
        for slot in slots {
            let id: Uuid = slot.parse().unwrap();
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT id FROM pickup_slots WHERE id = $1 FOR UPDATE",
                [id.into()],
            ))
            .await
            .unwrap();
        }
    }
    let (results, ()) = tokio::join!(join_all(calls), async {
        tokio::time::timeout(
            Duration::from_secs(30),
            queued.wait_for(|queued| *queued >= all_queued),
        )
        .await
        .expect("every call reaches the queue while the worker is held")
        .unwrap();
        txn.commit().await.unwrap();
    });
    assert_eq!(
        app.state.bookings.sent_alone(),
        alone,
        "every batch decided its bookings itself (none failed over to the single path)"
    );
    results
}

async fn count<E>(app: &TestApp) -> u64
where
    E: sea_orm::EntityTrait,
    E::Model: Sync,
{
    E::find().count(&app.state.db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bookings_fill_a_slot_exactly_and_refuse_only_what_a_float_cannot_hold() {
    let app = Arc::new(TestApp::new().await);
    let y = yard(&app).await;
    let full = add_slot(&app, &y.shop.owner, 3).await;
    let poor = market::shop(&app, "Poor").await;
    fund(&app, &poor.owner, 25_000).await;
    let short = add_slot(&app, &poor.owner, 5).await;
    let mut callers = Vec::new();
    for i in 0..9 {
        let (who, address) = household(&app, &format!("H{i}")).await;
        let slot = if i < 6 { full.clone() } else { short.clone() };
        callers.push((who, address, slot));
    }
    let histories_before = count::<pickup_status_history::Entity>(&app).await;

    let calls = callers.iter().map(|(who, address, slot)| {
        let (app, material) = (app.clone(), y.material.clone());
        let (who, address, slot) = (who.clone(), address.clone(), slot.clone());
        async move {
            let res = book(&app, &who, &address, Some(&slot), &material, 10.0, "k").await;
            (slot, who, res)
        }
    });
    let results = with_worker_held(&app, &[&full, &short], calls).await;

    let mut numbers = HashSet::new();
    let mut booked = Vec::new();
    let (mut full_refused, mut short_refused) = (0, 0);
    for (slot, who, res) in &results {
        if res.errors.is_empty() {
            let pickup = res.data("bookPickup");
            assert_eq!(pickup["status"], "ASSIGNED");
            assert_eq!(pickup["quote"], 14_000);
            numbers.insert(pickup["number"].as_str().unwrap().to_owned());
            booked.push((who.clone(), pickup["id"].as_str().unwrap().to_owned()));
        } else if *slot == full {
            assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.message());
            assert!(res.message().contains("full"), "{}", res.message());
            full_refused += 1;
        } else {
            assert_eq!(res.code(), "INSUFFICIENT_FUNDS", "{}", res.message());
            short_refused += 1;
        }
    }
    assert_eq!((full_refused, short_refused), (3, 2));
    assert_eq!(numbers.len(), 4, "every booked pickup has its own number");
    assert_eq!(
        balances(&app, &y.shop.owner).await,
        (FLOAT - 3 * HOLD, 3 * HOLD)
    );
    assert_eq!(balances(&app, &poor.owner).await, (25_000 - HOLD, HOLD));

    // What a booking leaves behind, for each of the four and for nothing else.
    for (who, id) in &booked {
        let seen = app
            .gql(
                "query($p: ID!) { pickup(id: $p) { slot { remaining } chatRoom { id } statusHistory { status actor } } }",
                json!({ "p": id }),
                Some(&who.access_token),
            )
            .await
            .data("pickup");
        assert!(seen["chatRoom"]["id"].is_string(), "{seen}");
        assert_eq!(
            seen["statusHistory"],
            json!([{ "status": "ASSIGNED", "actor": "HOUSEHOLD" }])
        );
        let left = seen["slot"]["remaining"].as_i64().unwrap();
        assert!(left == 0 || left == 4, "{seen}");
    }
    assert_eq!(count::<pickups::Entity>(&app).await, 4);
    assert_eq!(count::<chat_rooms::Entity>(&app).await, 4);
    assert_eq!(
        count::<pickup_status_history::Entity>(&app).await - histories_before,
        4
    );
    let notices = notifications::Entity::find()
        .filter(notifications::Column::Kind.eq("PICKUP_BOOKED"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(notices.len(), 8, "the household and the collector of each");
    let emails = jobs::Entity::find()
        .filter(jobs::Column::Kind.eq("send_notification"))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|job| {
            notices
                .iter()
                .any(|n| job.payload.to_string().contains(&n.id.to_string()))
        })
        .count();
    assert_eq!(emails, 8, "an email queued for each notice");
    assert_ledger_sound(&app).await;
}

fn input(address: Uuid, slot: Uuid, material: Uuid, kg: f64) -> BookPickupInput {
    BookPickupInput {
        address_id: address,
        slot_id: Some(slot),
        items: vec![PickupItemInput {
            category_id: material,
            estimated_kg: kg,
        }],
        note: None,
        idempotency_key: "same-key".into(),
    }
}

const RULES: OfferRules = OfferRules {
    minutes: 15,
    vendors: 10,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_repeated_within_a_batch_books_one_pickup() {
    let app = Arc::new(TestApp::new().await);
    let y = yard(&app).await;
    let slot = add_slot(&app, &y.shop.owner, 10).await;
    let household: Uuid = y.household.user_id.parse().unwrap();
    let (address, slot_id, material) = (
        y.address.parse().unwrap(),
        slot.parse().unwrap(),
        y.material.parse().unwrap(),
    );

    let queue = app.state.bookings.clone();
    let calls = (0..6).map(|n| {
        let kg = if n == 5 { 11.0 } else { 10.0 };
        let (queue, input) = (queue.clone(), input(address, slot_id, material, kg));
        async move { queue.book(household, input, RULES).await }
    });
    let results = with_worker_held(&app, &[&slot], calls).await;

    let first = results[0].as_ref().unwrap().pickup.clone();
    for same in &results[1..5] {
        assert_eq!(same.as_ref().unwrap().pickup.id, first.id);
    }
    let created = results[..5]
        .iter()
        .filter(|r| r.as_ref().unwrap().created)
        .count();
    assert_eq!(created, 1, "one call created it, the others replayed it");
    assert!(
        matches!(results[5], Err(kabaadwala::AppError::Conflict(_))),
        "the same key with another input is refused: {:?}",
        results[5]
    );
    assert_eq!(count::<pickups::Entity>(&app).await, 1);
    assert_eq!(balances(&app, &y.shop.owner).await, (FLOAT - HOLD, HOLD));

    // A later replay, in a batch of its own, answers the same pickup.
    let again = queue
        .book(household, input(address, slot_id, material, 10.0), RULES)
        .await
        .unwrap();
    assert_eq!((again.pickup.id, again.created), (first.id, false));
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queued_and_single_bookings_racing_for_one_place_book_exactly_one() {
    let app = Arc::new(TestApp::new().await);
    if app.state.db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let y = yard(&app).await;
    let slot = add_slot(&app, &y.shop.owner, 1).await;
    let slot_id: Uuid = slot.parse().unwrap();
    let material: Uuid = y.material.parse().unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (who, address) = household(&app, &format!("R{i}")).await;
        let (app, slot, material_id) = (app.clone(), slot.clone(), y.material.clone());
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                // Through the API: the queue.
                let res = book(
                    &app,
                    &who,
                    &address,
                    Some(&slot),
                    &material_id,
                    10.0,
                    "race",
                )
                .await;
                if res.errors.is_empty() {
                    Ok(())
                } else {
                    assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.message());
                    Err(())
                }
            } else {
                // The single path (offers, retries of failed batches) on the same slot.
                let res = booking::book_pickup(
                    &app.state.db,
                    who.user_id.parse().unwrap(),
                    input(address.parse().unwrap(), slot_id, material, 10.0),
                    RULES,
                    Utc::now(),
                )
                .await;
                match res {
                    Ok(_) => Ok(()),
                    Err(kabaadwala::AppError::BadUserInput { .. }) => Err(()),
                    Err(other) => panic!("{other:?}"),
                }
            }
        }));
    }
    let won = join_all(tasks)
        .await
        .into_iter()
        .filter(|r| r.as_ref().unwrap().is_ok())
        .count();
    assert_eq!(won, 1);
    assert_eq!(count::<pickups::Entity>(&app).await, 1);
    assert_eq!(balances(&app, &y.shop.owner).await, (FLOAT - HOLD, HOLD));
    assert_ledger_sound(&app).await;
}
