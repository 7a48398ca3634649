//! Payouts (request, approve, reject, paid — with the ledger balances behind them) and vendor
//! analytics over a small known data set.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::{
    ledger_accounts::AccountKind,
    orders,
    payouts::{self, PayoutStatus},
    vendors::KycStatus,
};
use kabaadwala::wallet::ledger::PLATFORM;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, EntityTrait as _, IntoActiveModel as _};
use serde_json::json;
use uuid::Uuid;

use crate::{
    support::{
        Gql, Session, TestApp,
        market::{
            NEAR, Shop, address, advance, assert_ledger_sound, ledger_balance, place, product,
            shop, shop_with,
        },
    },
    wallet::fund,
};

const PAYOUT: &str = "id status amount amountMoney { formatted } reason reference vendor { id } createdAt decidedAt paidAt";

async fn request(app: &TestApp, who: &Session, amount: i64, key: &str) -> Gql {
    app.gql(
        &format!(
            "mutation($input: PayoutInput!) {{ requestPayout(input: $input) {{ {PAYOUT} }} }}"
        ),
        json!({ "input": { "amount": amount, "idempotencyKey": key } }),
        Some(&who.access_token),
    )
    .await
}

async fn decide(app: &TestApp, who: &Session, mutation: &str, id: &str, extra: &str) -> Gql {
    app.gql(
        &format!("mutation($id: ID!) {{ {mutation}(id: $id{extra}) {{ {PAYOUT} }} }}"),
        json!({ "id": id }),
        Some(&who.access_token),
    )
    .await
}

/// An approved shop that completed one order of ₹200 (so ₹190 of earnings at 5%), and an admin.
async fn earning_shop(app: &TestApp) -> (Shop, Session) {
    let shop = shop(app, "Ravi").await;
    let product = product(app, &shop, "Copper", 10_000, 10).await;
    let buyer = app.customer("Asha").await;
    fund(app, &buyer, 50_000).await;
    let addr = address(app, &buyer, Some(NEAR)).await;
    let admin = app.admin().await;
    let order = place(app, &buyer, &[(product, 2)], &addr, "o1")
        .await
        .data("createOrder")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    advance(app, &shop, &buyer, &admin, &order, "COMPLETED").await;
    app.drain_jobs().await;
    assert_eq!(earnings(app, &shop).await, 19_000);
    (shop, admin)
}

async fn earnings(app: &TestApp, shop: &Shop) -> i64 {
    ledger_balance(app, AccountKind::VendorEarnings, shop.vendor_id).await
}

async fn payout_held(app: &TestApp, shop: &Shop) -> i64 {
    ledger_balance(app, AccountKind::VendorPayoutHeld, shop.vendor_id).await
}

#[tokio::test]
async fn a_vendor_is_paid_out_of_its_earnings_through_request_approval_and_payment() {
    let app = TestApp::new().await;
    let (shop, admin) = earning_shop(&app).await;
    let clearing_before = ledger_balance(&app, AccountKind::ProviderClearing, PLATFORM).await;

    let too_much = request(&app, &shop.owner, 19_001, "p0").await;
    let requested = request(&app, &shop.owner, 15_000, "p1")
        .await
        .data("requestPayout");
    let replayed = request(&app, &shop.owner, 15_000, "p1")
        .await
        .data("requestPayout");
    let changed = request(&app, &shop.owner, 16_000, "p1").await;

    assert_eq!(too_much.code(), "INSUFFICIENT_FUNDS");
    assert_eq!(requested["status"], "REQUESTED");
    assert_eq!(requested["amountMoney"]["formatted"], "₹150.00");
    assert_eq!(requested["vendor"]["id"], shop.vendor_id.to_string());
    assert_eq!(replayed["id"], requested["id"]);
    assert_eq!(changed.code(), "CONFLICT");
    assert_eq!(earnings(&app, &shop).await, 4_000);
    assert_eq!(payout_held(&app, &shop).await, 15_000);

    let id = requested["id"].as_str().unwrap();
    let early = decide(&app, &admin, "markPayoutPaid", id, ", reference: \"UTR1\"").await;
    let approved = decide(&app, &admin, "approvePayout", id, "")
        .await
        .data("approvePayout");
    let paid = decide(
        &app,
        &admin,
        "markPayoutPaid",
        id,
        ", reference: \"UTR12345\"",
    )
    .await
    .data("markPayoutPaid");

    assert_eq!(early.code(), "INVALID_TRANSITION");
    assert_eq!(approved["status"], "APPROVED");
    assert!(approved["decidedAt"].is_string());
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["reference"], "UTR12345");
    assert!(paid["paidAt"].is_string());
    assert_eq!(earnings(&app, &shop).await, 4_000);
    assert_eq!(payout_held(&app, &shop).await, 0);
    assert_eq!(
        ledger_balance(&app, AccountKind::ProviderClearing, PLATFORM).await,
        clearing_before + 15_000
    );
    let notes = app
        .gql(
            "{ notifications(first: 10) { edges { node { kind } } } }",
            json!({}),
            Some(&shop.owner.access_token),
        )
        .await
        .data("notifications");
    let kinds: Vec<&str> = notes["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"PAYOUT_PAID") && kinds.contains(&"PAYOUT_APPROVED"),
        "{kinds:?}"
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_rejected_payout_returns_the_amount_to_earnings_and_is_never_paid() {
    let app = TestApp::new().await;
    let (shop, admin) = earning_shop(&app).await;
    let id = request(&app, &shop.owner, 10_000, "p1")
        .await
        .data("requestPayout")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let no_reason = decide(&app, &admin, "rejectPayout", &id, ", reason: \" \"").await;
    let rejected = decide(
        &app,
        &admin,
        "rejectPayout",
        &id,
        ", reason: \"bank proof unreadable\"",
    )
    .await
    .data("rejectPayout");
    let paid_after = decide(&app, &admin, "markPayoutPaid", &id, ", reference: \"UTR1\"").await;
    let approved_after = decide(&app, &admin, "approvePayout", &id, "").await;
    let rejected_again = decide(&app, &admin, "rejectPayout", &id, ", reason: \"again\"").await;

    assert_eq!(no_reason.code(), "BAD_USER_INPUT");
    assert_eq!(rejected["status"], "REJECTED");
    assert_eq!(rejected["reason"], "bank proof unreadable");
    for res in [&paid_after, &approved_after, &rejected_again] {
        assert_eq!(res.code(), "INVALID_TRANSITION");
    }
    assert_eq!(earnings(&app, &shop).await, 19_000);
    assert_eq!(payout_held(&app, &shop).await, 0);

    // An approved payout can still be rejected; a paid one cannot.
    let second = request(&app, &shop.owner, 5_000, "p2")
        .await
        .data("requestPayout")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    decide(&app, &admin, "approvePayout", &second, "")
        .await
        .data("approvePayout");
    decide(
        &app,
        &admin,
        "markPayoutPaid",
        &second,
        ", reference: \"UTR2\"",
    )
    .await
    .data("markPayoutPaid");
    let reject_paid = decide(&app, &admin, "rejectPayout", &second, ", reason: \"late\"").await;
    assert_eq!(reject_paid.code(), "INVALID_TRANSITION");
    assert_eq!(earnings(&app, &shop).await, 14_000);
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn only_approved_vendors_request_payouts_and_only_admins_settle_them() {
    let app = TestApp::new().await;
    let (shop, admin) = earning_shop(&app).await;
    let customer = app.customer("Cust").await;
    let pending = shop_with(&app, "Pending", KycStatus::Submitted, None).await;
    let other = crate::support::market::shop(&app, "Other").await;
    let id = request(&app, &shop.owner, 1_000, "p1")
        .await
        .data("requestPayout")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A customer has no earnings to draw (its own requests draw its wallet: see
    // payouts_households.rs).
    let customer_earnings = app
        .gql(
            "mutation($input: PayoutInput!) { requestPayout(input: $input) { id } }",
            json!({ "input": { "amount": 1_000, "idempotencyKey": "x", "source": "EARNINGS" } }),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(customer_earnings.code(), "FORBIDDEN");
    assert_eq!(
        request(&app, &pending.owner, 1_000, "x").await.code(),
        "FORBIDDEN"
    );
    assert_eq!(
        request(&app, &other.owner, 1_000, "x").await.code(),
        "INSUFFICIENT_FUNDS"
    );
    assert_eq!(
        request(&app, &shop.owner, 0, "y").await.code(),
        "BAD_USER_INPUT"
    );
    for mutation in ["approvePayout", "markPayoutPaid", "rejectPayout"] {
        let extra = match mutation {
            "markPayoutPaid" => ", reference: \"r\"",
            "rejectPayout" => ", reason: \"r\"",
            _ => "",
        };
        assert_eq!(
            decide(&app, &shop.owner, mutation, &id, extra).await.code(),
            "FORBIDDEN"
        );
    }
    const LIST: &str = "{ payouts(first: 10) { totalCount edges { node { id vendor { id } } } } }";
    let own = app
        .gql(LIST, json!({}), Some(&shop.owner.access_token))
        .await
        .data("payouts");
    let others = app
        .gql(LIST, json!({}), Some(&other.owner.access_token))
        .await
        .data("payouts");
    let all = app
        .gql(LIST, json!({}), Some(&admin.access_token))
        .await
        .data("payouts");
    assert_eq!(own["totalCount"], 1);
    assert_eq!(own["edges"][0]["node"]["id"], id.as_str());
    assert_eq!(others["totalCount"], 0);
    assert_eq!(all["totalCount"], 1);
    assert_eq!(
        app.gql(LIST, json!({}), Some(&customer.access_token))
            .await
            .data("payouts")["totalCount"],
        0,
        "a customer sees only its own payouts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_payout_requests_never_take_more_than_the_earnings() {
    let app = Arc::new(TestApp::new().await);
    let (shop, _admin) = earning_shop(&app).await;

    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let app = app.clone();
            let owner = shop.owner.clone();
            tokio::spawn(async move { request(&app, &owner, 5_000, &format!("p{i}")).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        let res = task.await.unwrap();
        if res.errors.is_empty() {
            won += 1;
        } else {
            assert_eq!(res.code(), "INSUFFICIENT_FUNDS");
        }
    }

    assert_eq!(won, 3);
    assert_eq!(earnings(&app, &shop).await, 4_000);
    assert_eq!(payout_held(&app, &shop).await, 15_000);
    assert_ledger_sound(&app).await;
}

async fn set_created_at(app: &TestApp, order: &str, at: &str) {
    let mut o = orders::Entity::find_by_id(order.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    o.created_at = Set(at.parse::<DateTime<Utc>>().unwrap());
    o.update(&app.state.db).await.unwrap();
}

const ANALYTICS: &str = "query($from: DateTime, $to: DateTime) { vendorAnalytics(from: $from, to: $to) { \
    totalOrders ordersByStatus { status count total } grossSales grossSalesMoney { formatted } \
    commission netEarnings paidOut pendingPayout availableForPayout \
    topProducts { product { id } productName quantity sales } daily { date orders grossSales } } }";

#[tokio::test]
async fn vendor_analytics_add_up_a_known_set_of_orders() {
    let app = TestApp::new().await;
    let shop = shop(&app, "Ravi").await;
    let admin = app.admin().await;
    let a = product(&app, &shop, "Aluminium", 1_000, 100).await;
    let b = product(&app, &shop, "Brass", 2_500, 100).await;
    let buyer = app.customer("Asha").await;
    fund(&app, &buyer, 100_000).await;
    let addr = address(&app, &buyer, Some(NEAR)).await;
    let mut n = 0;
    let mut order = |items: Vec<(Uuid, i32)>| {
        n += 1;
        let (app, buyer, addr) = (&app, &buyer, addr.clone());
        let key = format!("o{n}");
        async move {
            place(app, buyer, &items, &addr, &key)
                .await
                .data("createOrder")["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let o1 = order(vec![(a, 2)]).await; // 2,000 → COMPLETED
    let o2 = order(vec![(b, 1), (a, 1)]).await; // 3,500 → COMPLETED
    let o3 = order(vec![(b, 2)]).await; // 5,000 → CONFIRMED, on 2026-01-15
    let o4 = order(vec![(a, 3)]).await; // 3,000 → CANCELLED
    let o5 = order(vec![(b, 1)]).await; // 2,500 → PLACED, on 2026-01-16
    for o in [&o1, &o2] {
        advance(&app, &shop, &buyer, &admin, o, "COMPLETED").await;
    }
    advance(&app, &shop, &buyer, &admin, &o3, "CONFIRMED").await;
    advance(&app, &shop, &buyer, &admin, &o4, "CANCELLED").await;
    app.drain_jobs().await;
    set_created_at(&app, &o3, "2026-01-15T23:30:00Z").await;
    set_created_at(&app, &o5, "2026-01-16T00:30:00Z").await;
    // Another vendor's sales never count.
    let other = crate::support::market::shop(&app, "Other").await;
    let c = product(&app, &other, "Copper", 4_000, 5).await;
    place(&app, &buyer, &[(c, 1)], &addr, "other")
        .await
        .data("createOrder");
    // ₹52.25 earned: ₹20 paid out, ₹10 pending.
    let paid = request(&app, &shop.owner, 2_000, "pay1")
        .await
        .data("requestPayout")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    decide(&app, &admin, "approvePayout", &paid, "")
        .await
        .data("approvePayout");
    decide(
        &app,
        &admin,
        "markPayoutPaid",
        &paid,
        ", reference: \"UTR\"",
    )
    .await
    .data("markPayoutPaid");
    request(&app, &shop.owner, 1_000, "pay2")
        .await
        .data("requestPayout");

    let all = app
        .gql(ANALYTICS, json!({}), Some(&shop.owner.access_token))
        .await
        .data("vendorAnalytics");

    assert_eq!(all["totalOrders"], 5);
    let by_status: Vec<(&str, i64, i64)> = all["ordersByStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["status"].as_str().unwrap(),
                s["count"].as_i64().unwrap(),
                s["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_status,
        [
            ("PLACED", 1, 2_500),
            ("CONFIRMED", 1, 5_000),
            ("COMPLETED", 2, 5_500),
            ("CANCELLED", 1, 3_000),
        ]
    );
    assert_eq!(all["grossSales"], 13_000);
    assert_eq!(all["grossSalesMoney"]["formatted"], "₹130.00");
    assert_eq!(all["commission"], 275);
    assert_eq!(all["netEarnings"], 5_225);
    assert_eq!(all["paidOut"], 2_000);
    assert_eq!(all["pendingPayout"], 1_000);
    assert_eq!(all["availableForPayout"], 2_225);
    let top: Vec<(&str, i64, i64)> = all["topProducts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["productName"].as_str().unwrap(),
                p["quantity"].as_i64().unwrap(),
                p["sales"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(top, [("Brass", 4, 10_000), ("Aluminium", 3, 3_000)]);
    assert_eq!(all["topProducts"][0]["product"]["id"], b.to_string());
    let today = Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        all["daily"],
        json!([
            { "date": "2026-01-15", "orders": 1, "grossSales": 5_000 },
            { "date": "2026-01-16", "orders": 1, "grossSales": 2_500 },
            { "date": today, "orders": 2, "grossSales": 5_500 },
        ])
    );

    let one_day = app
        .gql(
            ANALYTICS,
            json!({ "from": "2026-01-16T00:00:00Z", "to": "2026-01-17T00:00:00Z" }),
            Some(&shop.owner.access_token),
        )
        .await
        .data("vendorAnalytics");
    assert_eq!(one_day["totalOrders"], 1);
    assert_eq!(one_day["grossSales"], 2_500);
    assert_eq!(
        one_day["ordersByStatus"],
        json!([{ "status": "PLACED", "count": 1, "total": 2_500 }])
    );
    assert_eq!(one_day["paidOut"], 0);

    let backwards = app
        .gql(
            ANALYTICS,
            json!({ "from": "2026-01-17T00:00:00Z", "to": "2026-01-16T00:00:00Z" }),
            Some(&shop.owner.access_token),
        )
        .await;
    assert_eq!(backwards.code(), "BAD_USER_INPUT");
    assert_eq!(
        app.gql(ANALYTICS, json!({}), Some(&buyer.access_token))
            .await
            .code(),
        "FORBIDDEN"
    );
    let as_admin = app
        .gql(
            "query($v: ID) { vendorAnalytics(vendorId: $v) { totalOrders grossSales } }",
            json!({ "v": shop.vendor_id.to_string() }),
            Some(&admin.access_token),
        )
        .await
        .data("vendorAnalytics");
    assert_eq!(as_admin, json!({ "totalOrders": 5, "grossSales": 13_000 }));
}

#[tokio::test]
async fn a_payout_marked_paid_while_its_money_is_still_held_is_reported_as_a_stale_hold() {
    let app = TestApp::new().await;
    let (shop, admin) = earning_shop(&app).await;
    let requested = request(&app, &shop.owner, 5_000, "p1")
        .await
        .data("requestPayout");
    let payout_id = requested["id"].as_str().unwrap().to_owned();
    // Settled without its money leaving the payout-held account (a lost ledger transfer).
    let mut payout = payouts::Entity::find_by_id(payout_id.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    payout.status = Set(PayoutStatus::Paid);
    payout.update(&app.state.db).await.unwrap();

    let check = app
        .gql(
            "{ ledgerCheck { ok violations } }",
            json!({}),
            Some(&admin.access_token),
        )
        .await
        .data("ledgerCheck");

    assert_eq!(check["ok"], false);
    let violations = check["violations"].as_array().unwrap();
    assert_eq!(violations.len(), 1, "{violations:?}");
    let finding = violations[0].as_str().unwrap();
    assert!(finding.contains(&payout_id), "{finding}");
    assert!(
        finding.contains("PAID") && finding.contains("5000"),
        "{finding}"
    );
}
