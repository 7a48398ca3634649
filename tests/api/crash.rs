//! Crash safety: the real binary is SIGKILLed in the middle of a stream of orders and started
//! again on the same database. Every order the server acknowledged exists with its hold, the
//! ledger invariants hold, and stock plus ordered quantities add up to what there was.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use entity::{holds, order_items, orders};
use sea_orm::{ColumnTrait as _, EntityTrait as _, FromQueryResult as _, QueryFilter as _};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::support::{
    TestApp,
    market::{self, NEAR},
    process::spawn_server,
};

const STOCK: i32 = 100_000;
const PRICE: i64 = 1_000;
/// Orders acknowledged before the kill.
const ACKNOWLEDGED_BEFORE_KILL: usize = 25;
const CLIENTS: usize = 4;

/// One `createOrder`: `Some(order id)` when the server answered 200 with an order.
async fn create_order(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    product: Uuid,
    quantity: i32,
    address: &str,
    key: &str,
) -> Option<String> {
    let response = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "mutation($input: CreateOrderInput!) { createOrder(input: $input) { id total } }",
            "variables": { "input": {
                "items": [{ "productId": product.to_string(), "quantity": quantity }],
                "addressId": address,
                "idempotencyKey": key,
            } },
        }))
        .send()
        .await
        .ok()?;
    if response.status() != 200 {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    body["data"]["createOrder"]["id"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn orders_acknowledged_before_a_sigkill_survive_the_restart_with_their_holds() {
    let app = TestApp::new().await;
    let shop = market::shop(&app, "Crash").await;
    let product = market::product(&app, &shop, "Copper", PRICE, STOCK).await;
    let buyer = app.customer("Buyer").await;
    crate::wallet::fund(&app, &buyer, 9_000_000).await;
    let address = market::address(&app, &buyer, Some(NEAR)).await;

    let server = spawn_server(&app, "first", &[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let acknowledged: Arc<Mutex<Vec<(String, i32)>>> = Arc::default();
    let stop = CancellationToken::new();
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (client, base, token, address) = (
            client.clone(),
            server.base.clone(),
            buyer.access_token.clone(),
            address.clone(),
        );
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut failures = 0;
            for n in 0.. {
                if stop.is_cancelled() || failures > 20 {
                    break;
                }
                let quantity = 1 + (n % 3);
                let key = format!("crash-{c}-{n}");
                match create_order(&client, &base, &token, product, quantity, &address, &key).await
                {
                    Some(id) => acknowledged.lock().unwrap().push((id, quantity)),
                    None => failures += 1,
                }
            }
        }));
    }
    // Kill the server while the clients are still sending.
    let deadline = Instant::now() + Duration::from_secs(120);
    while acknowledged.lock().unwrap().len() < ACKNOWLEDGED_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "orders are not being acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill(); // SIGKILL, then reap.
    stop.cancel();
    for client in clients {
        tokio::time::timeout(Duration::from_secs(30), client)
            .await
            .expect("the clients stop once the server is gone")
            .unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= ACKNOWLEDGED_BEFORE_KILL);

    // Start again on the same database; every acknowledged order is served, with its hold.
    let server = spawn_server(&app, "second", &[]).await;
    let db = &app.state.db;
    for (id, quantity) in &acknowledged {
        let res = client
            .post(format!("{}/graphql", server.base))
            .bearer_auth(&buyer.access_token)
            .json(&json!({ "query": "query($id: ID!) { order(id: $id) { id status total } }", "variables": { "id": id } }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["data"]["order"]["id"], id.as_str(), "{body}");
        assert_eq!(body["data"]["order"]["status"], "PLACED");
        assert_eq!(body["data"]["order"]["total"], PRICE * i64::from(*quantity));
        let order = orders::Entity::find_by_id(id.parse::<Uuid>().unwrap())
            .one(db)
            .await
            .unwrap()
            .expect("the acknowledged order exists");
        let hold = holds::Entity::find_by_id(order.hold_id)
            .one(db)
            .await
            .unwrap()
            .expect("its hold exists");
        assert_eq!(hold.status, holds::HoldStatus::Held);
        assert_eq!(hold.amount, order.total);
    }
    // Every order that exists (acknowledged or committed just before the kill) is whole.
    let all = orders::Entity::find()
        .filter(orders::Column::BuyerId.eq(buyer.user_id.parse::<Uuid>().unwrap()))
        .all(db)
        .await
        .unwrap();
    assert!(all.len() >= acknowledged.len());
    eprintln!(
        "crash: {} orders acknowledged before the kill, {} committed",
        acknowledged.len(),
        all.len()
    );
    let ordered: i32 = order_items::Entity::find()
        .filter(order_items::Column::ProductId.eq(product))
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|i| i.quantity)
        .sum();
    assert_eq!(market::stock_of(&app, product).await + ordered, STOCK);
    let held: i64 = all.iter().map(|o| o.total).sum();
    let (_, held_balance) = market::balances(&app, &buyer).await;
    assert_eq!(held_balance, held);
    market::assert_ledger_sound(&app).await;
    server.kill();
}

#[derive(sea_orm::FromQueryResult)]
struct Synchronous {
    synchronous: i64,
}

#[tokio::test]
async fn the_embedded_sqlite_database_syncs_every_commit_before_acknowledging_it() {
    let app = TestApp::new().await;
    let db = &app.state.db;
    if db.get_database_backend() != sea_orm::DbBackend::Sqlite {
        // PostgreSQL: durability is the server's `synchronous_commit`, not ours to set.
        return;
    }

    let mode = Synchronous::find_by_statement(sea_orm::Statement::from_string(
        sea_orm::DbBackend::Sqlite,
        "PRAGMA synchronous",
    ))
    .one(db)
    .await
    .unwrap()
    .unwrap();

    // 2 is FULL: the WAL is synced at every commit, so a power cut loses nothing acknowledged
    // (NORMAL, 1, survives a process crash but may lose the last commits to a power cut).
    assert_eq!(mode.synchronous, 2);
}
