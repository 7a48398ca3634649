//! Group commit of placements (`PlacementQueue`): concurrent `createOrder` calls share
//! transactions, yet each order is decided as if placed alone: exact stock, a refusal only for
//! the order that cannot be paid, idempotency keys honoured within one batch, the ledger sound.

use std::{collections::HashSet, sync::Arc, time::Duration};

use entity::{holds, ledger_accounts::AccountKind, orders};
use futures_util::future::join_all;
use kabaadwala::orders::service::{OrderLineInput, PlaceOrderInput};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait as _, DbBackend, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, Statement, TransactionTrait as _,
};
use uuid::Uuid;

use crate::{
    support::{
        Session, TestApp,
        market::{NEAR, address, assert_ledger_sound, balances, place, product, shop, stock_of},
    },
    wallet::fund,
};

async fn order_count(app: &TestApp) -> u64 {
    orders::Entity::find().count(&app.state.db).await.unwrap()
}

/// A funded buyer with a nearby address.
async fn buyer(app: &TestApp, name: &str, funds: i64) -> (Session, String) {
    let who = app.customer(name).await;
    if funds > 0 {
        fund(app, &who, funds).await;
    }
    let addr = address(app, &who, Some(NEAR)).await;
    (who, addr)
}

/// Runs `calls` while the queue's worker cannot start a transaction (the test holds the only
/// SQLite connection, or the product's row lock on PostgreSQL), and lets go once every call has
/// reached the queue, so that they are placed together (the first may still go alone: its
/// worker took it before the others arrived; the assertions hold for any split into batches).
/// Nothing on a call's way to the queue reads the database, so holding it cannot stop them.
async fn with_worker_held<F: Future>(
    app: &TestApp,
    product: Uuid,
    calls: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let calls: Vec<F> = calls.into_iter().collect();
    let alone = app.state.placements.sent_alone();
    let mut queued = app.state.placements.queued();
    let all_queued = *queued.borrow_and_update() + calls.len() as u64;
    let txn = app.state.db.begin().await.unwrap();
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM products WHERE id = $1 FOR UPDATE",
            [product.into()],
        ))
        .await
        .unwrap();
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
        app.state.placements.sent_alone(),
        alone,
        "every batch decided its orders itself (none failed over to the single path)"
    );
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_orders_through_the_queue_take_exactly_the_stock_there_is() {
    let app = Arc::new(TestApp::new().await);
    let shop = shop(&app, "Ravi").await;
    let lot = product(&app, &shop, "Copper wire", 1_000, 10).await;
    let mut buyers = Vec::new();
    for i in 0..6 {
        buyers.push(buyer(&app, &format!("B{i}"), 100_000).await);
    }

    let calls = buyers.iter().flat_map(|(who, addr)| {
        let app = app.clone();
        (0..3).map(move |n| {
            let (app, who, addr) = (app.clone(), who.clone(), addr.clone());
            async move { place(&app, &who, &[(lot, 1)], &addr, &format!("k{n}")).await }
        })
    });
    let results = with_worker_held(&app, lot, calls).await;

    let mut numbers = HashSet::new();
    let mut refused = 0;
    for res in &results {
        if res.errors.is_empty() {
            numbers.insert(
                res.data("createOrder")["number"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        } else {
            assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.message());
            assert!(res.message().contains("left"), "{}", res.message());
            refused += 1;
        }
    }
    assert_eq!(numbers.len(), 10, "every placed order has its own number");
    assert_eq!(refused, 8);
    assert_eq!(order_count(&app).await, 10);
    assert_eq!(stock_of(&app, lot).await, 0);
    assert_eq!(
        holds::Entity::find().count(&app.state.db).await.unwrap(),
        10
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_wallet_too_low_refuses_only_its_own_orders_in_a_batch() {
    let app = Arc::new(TestApp::new().await);
    let shop = shop(&app, "Ravi").await;
    let lot = product(&app, &shop, "Brass", 10_000, 100).await;
    let (poor, poor_addr) = buyer(&app, "Poor", 25_000).await;
    let (rich, rich_addr) = buyer(&app, "Rich", 100_000).await;

    let calls = (0..4).flat_map(|n| {
        [
            (poor.clone(), poor_addr.clone(), n),
            (rich.clone(), rich_addr.clone(), n),
        ]
    });
    let calls = calls.map(|(who, addr, n)| {
        let app = app.clone();
        async move {
            let res = place(&app, &who, &[(lot, 1)], &addr, &format!("k{n}")).await;
            (who.user_id.clone(), res)
        }
    });
    let results = with_worker_held(&app, lot, calls).await;

    let (mut poor_won, mut rich_won) = (0, 0);
    for (user, res) in &results {
        let mine = if *user == poor.user_id {
            &mut poor_won
        } else {
            &mut rich_won
        };
        if res.errors.is_empty() {
            *mine += 1;
        } else {
            assert_eq!(*user, poor.user_id, "only the poor wallet is refused");
            assert_eq!(res.code(), "INSUFFICIENT_FUNDS", "{}", res.message());
        }
    }
    assert_eq!((poor_won, rich_won), (2, 4));
    assert_eq!(balances(&app, &poor).await, (5_000, 20_000));
    assert_eq!(balances(&app, &rich).await, (60_000, 40_000));
    assert_eq!(stock_of(&app, lot).await, 94);
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_repeated_within_a_batch_places_one_order() {
    let app = Arc::new(TestApp::new().await);
    let shop = shop(&app, "Ravi").await;
    let lot = product(&app, &shop, "Aluminium", 2_000, 50).await;
    let (who, addr) = buyer(&app, "Asha", 50_000).await;
    let buyer_id: Uuid = who.user_id.parse().unwrap();
    let input = |quantity: i32| PlaceOrderInput {
        items: vec![OrderLineInput {
            product_id: lot,
            quantity,
        }],
        address_id: addr.parse().unwrap(),
        note: None,
        idempotency_key: "same-key".into(),
    };

    let queue = app.state.placements.clone();
    let calls = (0..6).map(|n| {
        let (queue, input) = (queue.clone(), input(if n == 5 { 2 } else { 1 }));
        async move { queue.place(buyer_id, input).await }
    });
    let results = with_worker_held(&app, lot, calls).await;

    let first = results[0].as_ref().unwrap().order.clone();
    for same in &results[1..5] {
        assert_eq!(same.as_ref().unwrap().order.id, first.id);
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
    assert_eq!(order_count(&app).await, 1);
    assert_eq!(stock_of(&app, lot).await, 49);
    assert_eq!(balances(&app, &who).await, (48_000, 2_000));

    // A later replay, in a batch of its own, answers the same order.
    let again = queue.place(buyer_id, input(1)).await.unwrap();
    assert_eq!((again.order.id, again.created), (first.id, false));
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_of_many_buyers_and_vendors_keeps_every_balance_after_exact() {
    let app = Arc::new(TestApp::new().await);
    let shops = [shop(&app, "Ravi").await, shop(&app, "Meena").await];
    let lots = [
        product(&app, &shops[0], "Iron", 1_500, 1_000).await,
        product(&app, &shops[1], "Paper", 700, 1_000).await,
    ];
    let mut buyers = Vec::new();
    for i in 0..4 {
        buyers.push(buyer(&app, &format!("B{i}"), 20_000).await);
    }

    let calls = buyers.iter().enumerate().flat_map(|(i, (who, addr))| {
        let app = app.clone();
        (0..5).map(move |n| {
            let (app, who, addr) = (app.clone(), who.clone(), addr.clone());
            let lot = lots[(i + n) % 2];
            async move { place(&app, &who, &[(lot, 2)], &addr, &format!("k{n}")).await }
        })
    });
    let results = with_worker_held(&app, lots[0], calls).await;

    assert!(results.iter().all(|r| r.errors.is_empty()));
    assert_eq!(order_count(&app).await, 20);
    // 10 orders of each lot, 2 units each.
    assert_eq!(stock_of(&app, lots[0]).await, 980);
    assert_eq!(stock_of(&app, lots[1]).await, 980);
    for (who, _) in &buyers {
        let (available, held) = balances(&app, who).await;
        assert_eq!(available + held, 20_000);
        assert!(held > 0);
    }
    let held_total: i64 = {
        let mut sum = 0;
        for (who, _) in &buyers {
            let owner: Uuid = who.user_id.parse().unwrap();
            sum += crate::support::market::ledger_balance(&app, AccountKind::UserHeld, owner).await;
        }
        sum
    };
    assert_eq!(held_total, 10 * 3_000 + 10 * 1_400);
    let sum_of_orders: i64 = orders::Entity::find()
        .filter(orders::Column::Status.eq(orders::OrderStatus::Placed))
        .all(&app.state.db)
        .await
        .unwrap()
        .iter()
        .map(|o| o.total)
        .sum();
    assert_eq!(sum_of_orders, held_total);
    assert_ledger_sound(&app).await;
}
