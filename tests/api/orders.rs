//! Orders: placement with escrow and stock, the transition table for every role, money following
//! the status, idempotency, races, listings and visibility, automatic release, notifications.

use std::sync::Arc;

use chrono::{Duration, Utc};
use entity::{
    holds,
    jobs::{self, JobStatus},
    ledger_accounts::AccountKind,
    orders::{self, OrderStatus},
    products, vendors,
    vendors::KycStatus,
};
use kabaadwala::{orders::service as order_service, wallet::ledger::PLATFORM};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait as _, DbBackend,
    EntityTrait as _, IntoActiveModel as _, PaginatorTrait as _, QueryFilter as _,
    TransactionTrait as _, sea_query::Expr,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    support::{
        Gql, Session, TestApp,
        market::{
            FAR, NEAR, Shop, address, advance, assert_ledger_sound, balances, cancel,
            confirm_delivery, ledger_balance, order, place, placed, product, refund, set_status,
            shop, shop_with, stock_of,
        },
    },
    wallet::fund,
};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn order_count(app: &TestApp) -> u64 {
    orders::Entity::find().count(&app.state.db).await.unwrap()
}

async fn hold_count(app: &TestApp) -> u64 {
    holds::Entity::find().count(&app.state.db).await.unwrap()
}

/// A shop with one product (`price`, `stock`), and a funded buyer with a nearby address.
struct Market {
    shop: Shop,
    product: Uuid,
    buyer: Session,
    address: String,
    admin: Session,
}

async fn market(app: &TestApp, price: i64, stock: i32, funds: i64) -> Market {
    let shop = shop(app, "Ravi").await;
    let product = product(app, &shop, "Copper wire", price, stock).await;
    let buyer = app.customer("Asha").await;
    if funds > 0 {
        fund(app, &buyer, funds).await;
    }
    let address = address(app, &buyer, Some(NEAR)).await;
    let admin = app.admin().await;
    Market {
        shop,
        product,
        buyer,
        address,
        admin,
    }
}

#[tokio::test]
async fn an_order_from_recharge_to_completion_pays_the_vendor_less_commission_to_the_paisa() {
    let app = TestApp::new().await;
    let m = market(&app, 12_345, 10, 100_000).await;

    let created = place(&app, &m.buyer, &[(m.product, 3)], &m.address, "k1")
        .await
        .data("createOrder");
    let order_id = id(&created);

    assert_eq!(created["status"], "PLACED");
    let number = created["number"].as_str().unwrap();
    assert!(
        number.starts_with(&format!("KW-{}-", Utc::now().format("%Y"))) && number.len() == 14,
        "{number}"
    );
    assert_eq!(created["subtotal"], 37_035);
    assert_eq!(created["total"], 37_035);
    // 5% of ₹370.35, rounded down to the paisa.
    assert_eq!(created["commission"], 1_851);
    assert_eq!(created["vendorEarnings"], 35_184);
    assert_eq!(created["totalMoney"]["formatted"], "₹370.35");
    assert_eq!(created["items"][0]["unitPrice"], 12_345);
    assert_eq!(created["items"][0]["lineTotal"], 37_035);
    assert_eq!(created["items"][0]["quantity"], 3);
    assert_eq!(created["address"]["latitude"], NEAR.0);
    assert_eq!(created["statusHistory"][0]["actor"], "BUYER");
    assert_eq!(created["buyer"]["id"], m.buyer.user_id);
    assert_eq!(created["vendor"]["id"], m.shop.vendor_id.to_string());
    assert_eq!(balances(&app, &m.buyer).await, (62_965, 37_035));
    assert_eq!(stock_of(&app, m.product).await, 7);

    // A later price change does not touch the order.
    let mut p = products::Entity::find_by_id(m.product)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    p.price = Set(99_999);
    p.update(&app.state.db).await.unwrap();

    for step in ["CONFIRMED", "PACKED", "SHIPPED", "DELIVERED"] {
        let moved = set_status(&app, &m.shop.owner, &order_id, step)
            .await
            .data("updateOrderStatus");
        assert_eq!(moved["status"], step);
    }
    let completed = confirm_delivery(&app, &m.buyer, &order_id)
        .await
        .data("confirmDelivery");
    assert_eq!(completed["status"], "COMPLETED");
    assert_eq!(completed["items"][0]["unitPrice"], 12_345);
    app.drain_jobs().await;

    assert_eq!(balances(&app, &m.buyer).await, (62_965, 0));
    assert_eq!(
        ledger_balance(&app, AccountKind::VendorEarnings, m.shop.vendor_id).await,
        35_184
    );
    assert_eq!(
        ledger_balance(&app, AccountKind::PlatformRevenue, PLATFORM).await,
        1_851
    );
    let history = order(&app, &m.buyer, &order_id).await.data("order")["statusHistory"].clone();
    let seen: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["status"].as_str().unwrap(), h["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            ("PLACED", "BUYER"),
            ("CONFIRMED", "VENDOR"),
            ("PACKED", "VENDOR"),
            ("SHIPPED", "VENDOR"),
            ("DELIVERED", "VENDOR"),
            ("COMPLETED", "BUYER"),
        ]
    );
    assert_eq!(history[1]["note"], "step");
    assert_eq!(history[1]["fromStatus"], "PLACED");
    // Delivered buyers may review what they bought.
    let review = app
        .gql(
            "mutation($input: ReviewInput!) { createReview(input: $input) { rating } }",
            json!({ "input": { "productId": m.product.to_string(), "rating": 5, "comment": "clean copper" } }),
            Some(&m.buyer.access_token),
        )
        .await;
    assert_eq!(review.data("createReview")["rating"], 5);
    // Emails for the important steps.
    assert!(app.mail_to(&m.buyer.email, number).is_some());
    assert!(app.mail_to(&m.buyer.email, "is confirmed").is_some());
    assert!(app.mail_to(&m.buyer.email, "is delivered").is_some());
    assert!(app.mail_to(&m.shop.owner.email, "New order").is_some());
    assert_ledger_sound(&app).await;
}

/// Who may make which move, written out independently of the server's table.
fn legal(from: &str, to: &str, role: &str) -> bool {
    matches!(
        (from, to, role),
        ("PLACED", "CONFIRMED", "vendor")
            | ("CONFIRMED", "PACKED", "vendor")
            | ("PACKED", "SHIPPED", "vendor")
            | ("SHIPPED", "DELIVERED", "vendor")
            | ("DELIVERED", "COMPLETED", "buyer")
            | ("PLACED", "CANCELLED", "buyer" | "vendor")
            | (
                "PLACED" | "CONFIRMED" | "PACKED" | "SHIPPED" | "DELIVERED",
                "REFUNDED",
                "admin"
            )
    )
}

const STATUSES: [&str; 8] = [
    "PLACED",
    "CONFIRMED",
    "PACKED",
    "SHIPPED",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
    "REFUNDED",
];

#[tokio::test]
async fn every_move_outside_the_transition_table_is_invalid_for_every_role() {
    let app = TestApp::new().await;
    let m = market(&app, 1_000, 20, 10_000).await;
    let stranger = app.customer("Stranger").await;

    let mut checked = 0;
    for from in STATUSES {
        let order_id = placed(&app, &m.buyer, m.product, 1, &m.address).await;
        advance(&app, &m.shop, &m.buyer, &m.admin, &order_id, from).await;
        for (role, who) in [
            ("buyer", &m.buyer),
            ("vendor", &m.shop.owner),
            ("admin", &m.admin),
        ] {
            for to in STATUSES {
                if legal(from, to, role) {
                    continue;
                }
                let res = match (to, role) {
                    ("CANCELLED", _) => cancel(&app, who, &order_id).await,
                    ("COMPLETED", _) => confirm_delivery(&app, who, &order_id).await,
                    ("REFUNDED", "admin") => refund(&app, who, &order_id).await,
                    _ => set_status(&app, who, &order_id, to).await,
                };
                assert_eq!(res.code(), "INVALID_TRANSITION", "{from} → {to} by {role}");
                checked += 1;
            }
        }
        for to in STATUSES {
            let res = set_status(&app, &stranger, &order_id, to).await;
            assert_eq!(res.code(), "NOT_FOUND", "a stranger moving {from} → {to}");
        }
        for who in [&m.buyer, &m.shop.owner] {
            assert_eq!(refund(&app, who, &order_id).await.code(), "FORBIDDEN");
        }
        let now = order(&app, &m.buyer, &order_id).await.data("order");
        assert_eq!(now["status"], from, "refused moves changed nothing");
    }
    // 8 statuses × 3 roles × 8 targets, less the 12 legal moves of people (the 13th is the
    // system's automatic completion).
    assert_eq!(checked, 8 * 3 * 8 - 12);
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn placing_an_order_without_enough_money_is_refused_and_writes_nothing() {
    let app = TestApp::new().await;
    let m = market(&app, 6_000, 10, 10_000).await;

    let res = place(&app, &m.buyer, &[(m.product, 2)], &m.address, "k").await;

    assert_eq!(res.code(), "INSUFFICIENT_FUNDS");
    assert_eq!(order_count(&app).await, 0);
    assert_eq!(hold_count(&app).await, 0);
    assert_eq!(stock_of(&app, m.product).await, 10);
    assert_eq!(balances(&app, &m.buyer).await, (10_000, 0));
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn ordering_more_than_the_stock_or_bad_quantities_is_refused_and_writes_nothing() {
    let app = TestApp::new().await;
    let m = market(&app, 1_000, 2, 50_000).await;

    let too_many = place(&app, &m.buyer, &[(m.product, 3)], &m.address, "a").await;
    let zero = place(&app, &m.buyer, &[(m.product, 0)], &m.address, "b").await;
    let twice = place(
        &app,
        &m.buyer,
        &[(m.product, 1), (m.product, 1)],
        &m.address,
        "c",
    )
    .await;
    let empty = place(&app, &m.buyer, &[], &m.address, "d").await;

    for res in [&too_many, &zero, &twice, &empty] {
        assert_eq!(res.code(), "BAD_USER_INPUT");
        assert_eq!(res.field().as_deref(), Some("items"));
    }
    assert!(
        too_many.message().contains("only 2"),
        "{}",
        too_many.message()
    );
    assert_eq!(order_count(&app).await, 0);
    assert_eq!(stock_of(&app, m.product).await, 2);
    assert_eq!(balances(&app, &m.buyer).await, (50_000, 0));
}

#[tokio::test]
async fn inactive_or_deleted_products_and_unapproved_or_own_shops_cannot_be_ordered() {
    let app = TestApp::new().await;
    let m = market(&app, 1_000, 5, 50_000).await;
    let inactive = product(&app, &m.shop, "Old tin", 1_000, 5).await;
    let mut p = products::Entity::find_by_id(inactive)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    p.is_active = Set(false);
    p.update(&app.state.db).await.unwrap();
    let deleted = product(&app, &m.shop, "Gone", 1_000, 5).await;
    let mut p = products::Entity::find_by_id(deleted)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    p.deleted_at = Set(Some(Utc::now()));
    p.update(&app.state.db).await.unwrap();
    let pending = shop_with(&app, "Pending", KycStatus::Submitted, None).await;
    let unapproved = product(&app, &pending, "Brass", 1_000, 5).await;
    let other = shop(&app, "Other").await;
    let elsewhere = product(&app, &other, "Steel", 1_000, 5).await;
    let own_address = address(&app, &m.shop.owner, Some(NEAR)).await;
    fund(&app, &m.shop.owner, 10_000).await;

    for (items, who, addr) in [
        (vec![(inactive, 1)], &m.buyer, &m.address),
        (vec![(deleted, 1)], &m.buyer, &m.address),
        (vec![(unapproved, 1)], &m.buyer, &m.address),
        (vec![(Uuid::new_v4(), 1)], &m.buyer, &m.address),
        (vec![(m.product, 1), (elsewhere, 1)], &m.buyer, &m.address),
        (vec![(m.product, 1)], &m.shop.owner, &own_address),
    ] {
        let res = place(&app, who, &items, addr, &Uuid::new_v4().to_string()).await;
        assert_eq!(res.code(), "BAD_USER_INPUT", "{items:?}: {}", res.message());
        assert_eq!(res.field().as_deref(), Some("items"));
    }
    assert_eq!(order_count(&app).await, 0);
    assert_eq!(hold_count(&app).await, 0);
    assert_eq!(balances(&app, &m.buyer).await, (50_000, 0));
}

#[tokio::test]
async fn someone_elses_address_one_without_coordinates_or_out_of_range_is_refused() {
    let app = TestApp::new().await;
    let m = market(&app, 1_000, 5, 50_000).await;
    let neighbour = app.customer("Neighbour").await;
    let theirs = address(&app, &neighbour, Some(NEAR)).await;
    let unlocated = address(&app, &m.buyer, None).await;
    let far = address(&app, &m.buyer, Some(FAR)).await;

    for (addr, needle) in [
        (theirs.as_str(), "no such address"),
        (unlocated.as_str(), "location"),
        (far.as_str(), "service area"),
        (&Uuid::new_v4().to_string(), "no such address"),
    ] {
        let res = place(
            &app,
            &m.buyer,
            &[(m.product, 1)],
            addr,
            &Uuid::new_v4().to_string(),
        )
        .await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        assert_eq!(res.field().as_deref(), Some("addressId"));
        assert!(res.message().contains(needle), "{}", res.message());
    }
    assert_eq!(order_count(&app).await, 0);
    assert_eq!(stock_of(&app, m.product).await, 5);
    assert_eq!(balances(&app, &m.buyer).await, (50_000, 0));
}

#[tokio::test]
async fn a_replayed_idempotency_key_returns_the_same_order_and_a_changed_request_conflicts() {
    let app = TestApp::new().await;
    let m = market(&app, 1_000, 10, 50_000).await;

    let first = place(&app, &m.buyer, &[(m.product, 2)], &m.address, "same").await;
    let again = place(&app, &m.buyer, &[(m.product, 2)], &m.address, "same").await;
    let changed = place(&app, &m.buyer, &[(m.product, 3)], &m.address, "same").await;
    let other_buyer = app.customer("Other").await;
    fund(&app, &other_buyer, 10_000).await;
    let other_address = address(&app, &other_buyer, Some(NEAR)).await;
    let same_key_other_buyer = place(
        &app,
        &other_buyer,
        &[(m.product, 2)],
        &other_address,
        "same",
    )
    .await;

    assert_eq!(
        id(&first.data("createOrder")),
        id(&again.data("createOrder"))
    );
    assert_eq!(changed.code(), "CONFLICT");
    assert_ne!(
        id(&same_key_other_buyer.data("createOrder")),
        id(&first.data("createOrder"))
    );
    assert_eq!(order_count(&app).await, 2);
    assert_eq!(balances(&app, &m.buyer).await, (48_000, 2_000));
    assert_eq!(stock_of(&app, m.product).await, 6);
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn cancelling_rejecting_or_refunding_returns_the_money_and_the_stock() {
    let app = TestApp::new().await;
    let m = market(&app, 1_000, 10, 50_000).await;

    let by_buyer = placed(&app, &m.buyer, m.product, 2, &m.address).await;
    let by_vendor = placed(&app, &m.buyer, m.product, 3, &m.address).await;
    let refunded = placed(&app, &m.buyer, m.product, 4, &m.address).await;
    assert_eq!(stock_of(&app, m.product).await, 1);
    assert_eq!(balances(&app, &m.buyer).await, (41_000, 9_000));

    let cancelled = cancel(&app, &m.buyer, &by_buyer).await.data("cancelOrder");
    let rejected = cancel(&app, &m.shop.owner, &by_vendor)
        .await
        .data("cancelOrder");
    advance(&app, &m.shop, &m.buyer, &m.admin, &refunded, "SHIPPED").await;
    let refund_res = refund(&app, &m.admin, &refunded).await.data("refundOrder");
    app.drain_jobs().await;

    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["statusHistory"][1]["note"], "changed my mind");
    assert_eq!(rejected["status"], "CANCELLED");
    assert_eq!(rejected["statusHistory"][1]["actor"], "VENDOR");
    assert_eq!(refund_res["status"], "REFUNDED");
    assert_eq!(refund_res["statusHistory"][4]["actor"], "ADMIN");
    assert_eq!(stock_of(&app, m.product).await, 10);
    assert_eq!(balances(&app, &m.buyer).await, (50_000, 0));
    assert_eq!(
        ledger_balance(&app, AccountKind::VendorEarnings, m.shop.vendor_id).await,
        0
    );
    assert!(app.mail_to(&m.buyer.email, "is refunded").is_some());
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn orders_are_listed_by_role_and_hidden_from_everyone_else() {
    let app = TestApp::new().await;
    let m = market(&app, 1_000, 10, 50_000).await;
    let other_buyer = app.customer("Other").await;
    fund(&app, &other_buyer, 10_000).await;
    let other_address = address(&app, &other_buyer, Some(NEAR)).await;
    let first = placed(&app, &m.buyer, m.product, 1, &m.address).await;
    let second = placed(&app, &m.buyer, m.product, 1, &m.address).await;
    let theirs = placed(&app, &other_buyer, m.product, 1, &other_address).await;
    set_status(&app, &m.shop.owner, &first, "CONFIRMED")
        .await
        .data("updateOrderStatus");
    let stranger = app.customer("Stranger").await;

    const LIST: &str = "query($status: OrderStatus, $after: String, $as: OrderRole) { orders(filter: { status: $status }, first: 1, after: $after, as: $as) { totalCount pageInfo { hasNextPage endCursor } edges { node { id items { productName } buyer { id } } } } }";
    let list = |who: &Session, vars: Value| {
        let token = who.access_token.clone();
        let app = &app;
        async move { app.gql(LIST, vars, Some(&token)).await.data("orders") }
    };

    let mine = list(&m.buyer, json!({})).await;
    assert_eq!(mine["totalCount"], 2);
    assert_eq!(mine["edges"][0]["node"]["id"], second, "newest first");
    assert_eq!(mine["pageInfo"]["hasNextPage"], true);
    let next = list(&m.buyer, json!({ "after": mine["pageInfo"]["endCursor"] })).await;
    assert_eq!(next["edges"][0]["node"]["id"], first);
    assert_eq!(next["pageInfo"]["hasNextPage"], false);
    assert_eq!(list(&m.shop.owner, json!({})).await["totalCount"], 3);
    assert_eq!(
        list(
            &m.shop.owner,
            json!({ "as": "VENDOR", "status": "CONFIRMED" })
        )
        .await["totalCount"],
        1
    );
    assert_eq!(
        list(&m.shop.owner, json!({ "as": "BUYER" })).await["totalCount"],
        0
    );
    assert_eq!(list(&m.admin, json!({})).await["totalCount"], 3);
    assert_eq!(list(&stranger, json!({})).await["totalCount"], 0);
    assert_eq!(
        app.gql(
            LIST,
            json!({ "as": "VENDOR" }),
            Some(&stranger.access_token)
        )
        .await
        .code(),
        "FORBIDDEN"
    );
    assert_eq!(
        app.gql(LIST, json!({}), None).await.code(),
        "UNAUTHENTICATED"
    );

    assert_eq!(order(&app, &stranger, &first).await.code(), "NOT_FOUND");
    assert_eq!(order(&app, &m.buyer, &theirs).await.code(), "NOT_FOUND");
    assert_eq!(
        order(&app, &other_buyer, &theirs).await.data("order")["id"],
        theirs
    );
    assert_eq!(
        order(&app, &m.shop.owner, &theirs).await.data("order")["id"],
        theirs
    );
    assert_eq!(
        order(&app, &m.admin, &theirs).await.data("order")["id"],
        theirs
    );
}

#[tokio::test]
async fn delivered_orders_complete_automatically_after_the_auto_release_hours() {
    let app = TestApp::new().await;
    let m = market(&app, 10_000, 10, 50_000).await;
    let order_id = placed(&app, &m.buyer, m.product, 2, &m.address).await;
    advance(&app, &m.shop, &m.buyer, &m.admin, &order_id, "DELIVERED").await;
    let still_open = placed(&app, &m.buyer, m.product, 1, &m.address).await;

    let early =
        order_service::auto_release_delivered(&app.state.db, Utc::now() + Duration::hours(71))
            .await
            .unwrap();
    let due =
        order_service::auto_release_delivered(&app.state.db, Utc::now() + Duration::hours(73))
            .await
            .unwrap();
    app.drain_jobs().await;

    assert_eq!((early.completed, due.completed), (0, 1));
    assert_eq!((early.failed, due.failed), (0, 0));
    let done = order(&app, &m.buyer, &order_id).await.data("order");
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["statusHistory"][5]["actor"], "SYSTEM");
    assert_eq!(
        order(&app, &m.buyer, &still_open).await.data("order")["status"],
        "PLACED"
    );
    // 20,000 less 5%.
    assert_eq!(
        ledger_balance(&app, AccountKind::VendorEarnings, m.shop.vendor_id).await,
        19_000
    );
    assert_eq!(balances(&app, &m.buyer).await, (20_000, 10_000));
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn the_auto_release_task_runs_through_the_job_queue_and_a_repeated_release_pays_once() {
    let app = TestApp::new().await;
    let m = market(&app, 10_000, 10, 50_000).await;
    let order_id = placed(&app, &m.buyer, m.product, 1, &m.address).await;
    advance(&app, &m.shop, &m.buyer, &m.admin, &order_id, "DELIVERED").await;
    app.gql(
        "mutation { updateSystemSetting(key: \"auto_release_hours\", value: \"1\") { value } }",
        json!({}),
        Some(&m.admin.access_token),
    )
    .await
    .data("updateSystemSetting");
    let mut o = orders::Entity::find_by_id(order_id.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    o.delivered_at = Set(Some(Utc::now() - Duration::hours(2)));
    o.update(&app.state.db).await.unwrap();

    let txn = app.state.db.begin().await.unwrap();
    kabaadwala::jobs::queue::enqueue(&txn, &kabaadwala::orders::jobs::AutoReleaseDelivered)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let mut ran = app.drain_jobs().await;
    // The sweep queued the release; a worker picks it up on its next round.
    ran.extend(app.drain_jobs().await);
    let again = order_service::release_held_amount(&app.state.db, order_id.parse().unwrap()).await;

    assert!(
        ran.iter().any(|o| o.kind == "release_held_amount"),
        "{ran:?}"
    );
    assert!(again.is_ok());
    assert_eq!(
        ledger_balance(&app, AccountKind::VendorEarnings, m.shop.vendor_id).await,
        9_500
    );
    assert_eq!(
        ledger_balance(&app, AccountKind::PlatformRevenue, PLATFORM).await,
        500
    );
    assert_ledger_sound(&app).await;
}

/// Makes the database refuse to complete the order numbered `number`, as a broken row would.
async fn refuse_completion_of(app: &TestApp, number: &str) {
    let db = &app.state.db;
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "CREATE FUNCTION refuse_completion() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               IF NEW.status = 'COMPLETED' AND OLD.number = '{number}' THEN \
                 RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$"
        ))
        .await
        .unwrap();
        db.execute_unprepared(
            "CREATE TRIGGER refuse_completion BEFORE UPDATE ON orders \
             FOR EACH ROW EXECUTE FUNCTION refuse_completion()",
        )
        .await
        .unwrap();
    } else {
        db.execute_unprepared(&format!(
            "CREATE TRIGGER refuse_completion BEFORE UPDATE OF status ON orders \
             WHEN NEW.status = 'COMPLETED' AND OLD.number = '{number}' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        ))
        .await
        .unwrap();
    }
}

/// Sets when the order was delivered.
async fn delivered_at(app: &TestApp, order_id: &str, at: chrono::DateTime<Utc>) -> String {
    let mut o = orders::Entity::find_by_id(order_id.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    o.delivered_at = Set(Some(at));
    o.update(&app.state.db).await.unwrap().number
}

#[tokio::test]
async fn the_auto_release_sweep_goes_on_past_an_order_that_fails_and_counts_the_failure() {
    let app = TestApp::new().await;
    let m = market(&app, 10_000, 10, 50_000).await;
    let bad = placed(&app, &m.buyer, m.product, 1, &m.address).await;
    let good = placed(&app, &m.buyer, m.product, 2, &m.address).await;
    for order_id in [&bad, &good] {
        advance(&app, &m.shop, &m.buyer, &m.admin, order_id, "DELIVERED").await;
    }
    // The failing order comes first in the sweep.
    let bad_number = delivered_at(&app, &bad, Utc::now() - Duration::hours(80)).await;
    delivered_at(&app, &good, Utc::now() - Duration::hours(79)).await;
    refuse_completion_of(&app, &bad_number).await;

    let swept = order_service::auto_release_delivered(&app.state.db, Utc::now())
        .await
        .unwrap();
    app.drain_jobs().await;

    assert_eq!((swept.completed, swept.failed), (1, 1));
    let status = |v: Gql| v.data("order")["status"].clone();
    assert_eq!(status(order(&app, &m.buyer, &bad).await), "DELIVERED");
    assert_eq!(status(order(&app, &m.buyer, &good).await), "COMPLETED");
    assert_eq!(
        ledger_balance(&app, AccountKind::VendorEarnings, m.shop.vendor_id).await,
        19_000
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn an_auto_release_job_with_failed_orders_says_how_many_in_its_last_error() {
    let app = TestApp::new().await;
    let m = market(&app, 10_000, 10, 50_000).await;
    let bad = placed(&app, &m.buyer, m.product, 1, &m.address).await;
    let good = placed(&app, &m.buyer, m.product, 1, &m.address).await;
    for order_id in [&bad, &good] {
        advance(&app, &m.shop, &m.buyer, &m.admin, order_id, "DELIVERED").await;
    }
    let bad_number = delivered_at(&app, &bad, Utc::now() - Duration::hours(80)).await;
    delivered_at(&app, &good, Utc::now() - Duration::hours(79)).await;
    refuse_completion_of(&app, &bad_number).await;
    // Only the sweep is due.
    app.drain_jobs().await;
    let txn = app.state.db.begin().await.unwrap();
    let job_id =
        kabaadwala::jobs::queue::enqueue(&txn, &kabaadwala::orders::jobs::AutoReleaseDelivered)
            .await
            .unwrap();
    txn.commit().await.unwrap();

    let outcome = kabaadwala::jobs::worker::run_once(&app.state, Utc::now())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(outcome.job_id, job_id);
    // Failed, to be retried: the failure shows in the queue instead of passing as a success.
    assert_eq!(outcome.status, JobStatus::Pending);
    let job = jobs::Entity::find_by_id(job_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let error = job.last_error.unwrap_or_default();
    assert!(
        error.contains("1 delivered orders could not be completed automatically (1 were)"),
        "{error}"
    );
    assert_eq!(
        order(&app, &m.buyer, &good).await.data("order")["status"],
        "COMPLETED"
    );
}

async fn ledger_check(app: &TestApp, admin: &Session) -> Value {
    app.gql(
        "{ ledgerCheck { ok violations } }",
        json!({}),
        Some(&admin.access_token),
    )
    .await
    .data("ledgerCheck")
}

#[tokio::test]
async fn a_completed_order_whose_release_job_died_is_reported_as_a_stale_hold_naming_the_hold_and_the_order()
 {
    let app = TestApp::new().await;
    let m = market(&app, 10_000, 10, 50_000).await;
    let order_id = placed(&app, &m.buyer, m.product, 1, &m.address).await;
    advance(&app, &m.shop, &m.buyer, &m.admin, &order_id, "DELIVERED").await;
    confirm_delivery(&app, &m.buyer, &order_id)
        .await
        .data("confirmDelivery");
    let hold_id = orders::Entity::find_by_id(order_id.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .hold_id;
    // While its release is queued, the hold is rightly still HELD.
    let while_queued = ledger_check(&app, &m.admin).await;

    jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(JobStatus::Dead))
        .filter(jobs::Column::Kind.eq("release_held_amount"))
        .exec(&app.state.db)
        .await
        .unwrap();
    let after_death = ledger_check(&app, &m.admin).await;

    assert_eq!(while_queued["ok"], true, "{while_queued}");
    assert_eq!(after_death["ok"], false);
    let violations = after_death["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{violations:?}");
    let finding = violations[0].as_str().unwrap();
    assert!(finding.contains(&hold_id.to_string()), "{finding}");
    assert!(finding.contains(&order_id), "{finding}");
    assert!(finding.contains("COMPLETED"), "{finding}");
}

#[tokio::test]
async fn a_hold_left_held_on_a_cancelled_order_is_reported_as_stale() {
    let app = TestApp::new().await;
    let m = market(&app, 10_000, 10, 50_000).await;
    let order_id = placed(&app, &m.buyer, m.product, 1, &m.address).await;
    let hold_id = orders::Entity::find_by_id(order_id.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .hold_id;
    // The order is marked CANCELLED without its hold being voided (what a lost void would leave).
    orders::Entity::update_many()
        .col_expr(orders::Column::Status, Expr::value(OrderStatus::Cancelled))
        .filter(orders::Column::Id.eq(order_id.parse::<Uuid>().unwrap()))
        .exec(&app.state.db)
        .await
        .unwrap();

    let check = ledger_check(&app, &m.admin).await;

    assert_eq!(check["ok"], false);
    let violations: Vec<&str> = check["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        violations.iter().any(|v| v.contains(&hold_id.to_string())
            && v.contains(&order_id)
            && v.contains("CANCELLED")),
        "{violations:?}"
    );
}

#[tokio::test]
async fn an_order_whose_commission_cannot_be_computed_is_refused_and_writes_nothing() {
    let app = TestApp::new().await;
    let m = market(&app, 10_000, 10, 50_000).await;
    // A rate above 100% (out of the API's reach, as a corrupted row would be) made the
    // commission arithmetic overflow into a silent zero before.
    let mut vendor = vendors::Entity::find_by_id(m.shop.vendor_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    vendor.commission_bps = Set(Some(i32::MAX));
    vendor.update(&app.state.db).await.unwrap();

    let refused = place(&app, &m.buyer, &[(m.product, 1)], &m.address, "k1").await;

    assert_eq!(refused.code(), "INTERNAL");
    assert_eq!((order_count(&app).await, hold_count(&app).await), (0, 0));
    assert_eq!(balances(&app, &m.buyer).await, (50_000, 0));
    assert_eq!(stock_of(&app, m.product).await, 10);
}

#[tokio::test]
async fn each_move_notifies_the_other_side_who_can_mark_them_read() {
    let app = TestApp::new().await;
    let m = market(&app, 1_000, 10, 50_000).await;
    let order_id = placed(&app, &m.buyer, m.product, 1, &m.address).await;
    set_status(&app, &m.shop.owner, &order_id, "CONFIRMED")
        .await
        .data("updateOrderStatus");
    const LIST: &str = "query($unread: Boolean) { notifications(unreadOnly: $unread, first: 10) { totalCount edges { node { id kind title isRead order { id number } } } } }";

    let vendor_sees = app
        .gql(LIST, json!({}), Some(&m.shop.owner.access_token))
        .await
        .data("notifications");
    let buyer_sees = app
        .gql(LIST, json!({}), Some(&m.buyer.access_token))
        .await
        .data("notifications");

    assert_eq!(vendor_sees["totalCount"], 1);
    assert_eq!(vendor_sees["edges"][0]["node"]["kind"], "ORDER_PLACED");
    assert_eq!(vendor_sees["edges"][0]["node"]["order"]["id"], order_id);
    assert_eq!(buyer_sees["totalCount"], 1);
    assert_eq!(buyer_sees["edges"][0]["node"]["kind"], "ORDER_CONFIRMED");
    let vendor_note = vendor_sees["edges"][0]["node"]["id"].clone();

    let by_buyer = app
        .gql(
            "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }",
            json!({ "ids": [vendor_note] }),
            Some(&m.buyer.access_token),
        )
        .await;
    let by_vendor = app
        .gql(
            "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }",
            json!({ "ids": [vendor_note] }),
            Some(&m.shop.owner.access_token),
        )
        .await;
    assert_eq!(by_buyer.data("markNotificationsRead"), 0, "not theirs");
    assert_eq!(by_vendor.data("markNotificationsRead"), 1);
    let unread = app
        .gql(
            LIST,
            json!({ "unread": true }),
            Some(&m.shop.owner.access_token),
        )
        .await
        .data("notifications");
    assert_eq!(unread["totalCount"], 0);
    let all_read = app
        .gql(
            "mutation { markNotificationsRead }",
            json!({}),
            Some(&m.buyer.access_token),
        )
        .await;
    assert_eq!(all_read.data("markNotificationsRead"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_orders_on_a_wallet_that_affords_seven_place_exactly_seven() {
    let app = Arc::new(TestApp::new().await);
    let m = market(&app, 10_000, 100, 70_000).await;

    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            let (buyer, product, addr) = (m.buyer.clone(), m.product, m.address.clone());
            tokio::spawn(async move {
                place(&app, &buyer, &[(product, 1)], &addr, &format!("k{i}")).await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        let res = task.await.unwrap();
        if res.errors.is_empty() {
            won += 1;
        } else {
            assert_eq!(res.code(), "INSUFFICIENT_FUNDS", "{}", res.message());
        }
    }

    assert_eq!(won, 7);
    assert_eq!(order_count(&app).await, 7);
    assert_eq!(hold_count(&app).await, 7);
    assert_eq!(stock_of(&app, m.product).await, 93);
    assert_eq!(balances(&app, &m.buyer).await, (0, 70_000));
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_orders_for_the_last_unit_have_exactly_one_winner() {
    let app = Arc::new(TestApp::new().await);
    let m = market(&app, 5_000, 1, 0).await;
    let mut buyers = Vec::new();
    for i in 0..8 {
        let b = app.customer(&format!("B{i}")).await;
        fund(&app, &b, 10_000).await;
        let addr = address(&app, &b, Some(NEAR)).await;
        buyers.push((b, addr));
    }

    let tasks: Vec<_> = buyers
        .iter()
        .cloned()
        .map(|(b, addr)| {
            let app = app.clone();
            let product = m.product;
            tokio::spawn(async move { place(&app, &b, &[(product, 1)], &addr, "last").await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        let res = task.await.unwrap();
        if res.errors.is_empty() {
            won += 1;
        } else {
            assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.message());
            assert_eq!(res.field().as_deref(), Some("items"));
        }
    }

    assert_eq!(won, 1);
    assert_eq!(stock_of(&app, m.product).await, 0);
    assert_eq!(order_count(&app).await, 1);
    let mut held = 0;
    for (b, _) in &buyers {
        let (available, h) = balances(&app, b).await;
        assert_eq!(available + h, 10_000);
        held += h;
    }
    assert_eq!(held, 5_000);
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_replays_of_one_idempotency_key_place_one_order() {
    let app = Arc::new(TestApp::new().await);
    let m = market(&app, 1_000, 100, 50_000).await;

    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let app = app.clone();
            let (buyer, product, addr) = (m.buyer.clone(), m.product, m.address.clone());
            tokio::spawn(async move { place(&app, &buyer, &[(product, 2)], &addr, "one").await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(id(&task.await.unwrap().data("createOrder")));
    }

    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(order_count(&app).await, 1);
    assert_eq!(hold_count(&app).await, 1);
    assert_eq!(balances(&app, &m.buyer).await, (48_000, 2_000));
    assert_eq!(stock_of(&app, m.product).await, 98);
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_parallel_cancel_and_confirm_have_exactly_one_winner() {
    let app = Arc::new(TestApp::new().await);
    let m = market(&app, 1_000, 100, 50_000).await;

    for _round in 0..6 {
        let order_id = placed(&app, &m.buyer, m.product, 1, &m.address).await;
        let (a, b) = (app.clone(), app.clone());
        let (buyer, vendor) = (m.buyer.clone(), m.shop.owner.clone());
        let (o1, o2) = (order_id.clone(), order_id.clone());
        let cancelling = tokio::spawn(async move { cancel(&a, &buyer, &o1).await });
        let confirming =
            tokio::spawn(async move { set_status(&b, &vendor, &o2, "CONFIRMED").await });
        let (cancelled, confirmed) = (cancelling.await.unwrap(), confirming.await.unwrap());

        let winners = [&cancelled, &confirmed]
            .iter()
            .filter(|r| r.errors.is_empty())
            .count();
        assert_eq!(winners, 1);
        let loser = if cancelled.errors.is_empty() {
            &confirmed
        } else {
            &cancelled
        };
        assert_eq!(loser.code(), "INVALID_TRANSITION");
        let now = order(&app, &m.buyer, &order_id).await.data("order");
        let expected = if cancelled.errors.is_empty() {
            "CANCELLED"
        } else {
            "CONFIRMED"
        };
        assert_eq!(now["status"], expected);
        assert_eq!(now["statusHistory"].as_array().unwrap().len(), 2);
    }
    let open: u64 = orders::Entity::find()
        .filter(orders::Column::Status.eq(orders::OrderStatus::Confirmed))
        .count(&app.state.db)
        .await
        .unwrap();
    let open = i64::try_from(open).unwrap();
    assert_eq!(
        balances(&app, &m.buyer).await,
        (50_000 - 1_000 * open, 1_000 * open)
    );
    assert_eq!(
        stock_of(&app, m.product).await,
        100 - i32::try_from(open).unwrap()
    );
    assert_ledger_sound(&app).await;
}
