//! Doorstep pickups end to end: rate cards, slots, booking (quote at locked rates), offers and
//! their rounds, the collector's status and location, weighing, completion with the handover
//! code and its exact money movements, disputes, cancellations, reviews, the recycling summary,
//! the transition table for every role, the authorization matrix, `pickupUpdated` over a real
//! socket, and (on PostgreSQL) races with real parallel requests.

use std::sync::Arc;

use chrono::{Duration, Utc};
use entity::ledger_accounts::AccountKind;
use sea_orm::DbBackend;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    support::{
        Gql, Session, TestApp, catalog,
        market::{self, NEAR, Shop, assert_ledger_sound, balances, ledger_balance},
        ws::{REDIS_SESSIONS, Ws, serve},
    },
    wallet::fund,
};

pub const PICKUP_FIELDS: &str = "id number status quote finalAmount commission handoverCode \
    codeAttemptsLeft household { id } vendor { id } slot { id remaining } \
    items { category { id } estimatedKg rate } lines { category { id } weightGrams rate amount } \
    address { city } statusHistory { status fromStatus actor } createdAt";

/// ₹14/kg.
const RATE: i64 = 1_400;
/// ₹1,000 in the collector's wallet.
const FLOAT: i64 = 100_000;

/// A market for pickups: an admin, a material with a Mumbai rate, an approved collector with a
/// float and a slot, a household with an address near it.
pub struct Yard {
    pub admin: Session,
    pub material: String,
    pub shop: Shop,
    pub slot: String,
    pub household: Session,
    pub address: String,
}

pub async fn set_rate(app: &TestApp, admin: &Session, material: &str, price: i64) -> Gql {
    app.gql(
        "mutation($i: RateInput!) { setRate(input: $i) { id city pricePerKg category { id } effectiveFrom } }",
        json!({ "i": { "city": "Mumbai", "categoryId": material, "pricePerKg": price } }),
        Some(&admin.access_token),
    )
    .await
}

pub async fn add_slot(app: &TestApp, vendor: &Session, capacity: i32) -> String {
    let start = Utc::now() + Duration::hours(2);
    app.gql(
        "mutation($s: [SlotInput!]!) { addPickupSlots(slots: $s) { id capacity remaining } }",
        json!({ "s": [{ "start": start, "end": start + Duration::hours(2), "capacity": capacity }] }),
        Some(&vendor.access_token),
    )
    .await
    .data("addPickupSlots")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn yard(app: &TestApp) -> Yard {
    let admin = app.admin().await;
    let material = catalog::category(app, "Newspaper").await;
    set_rate(app, &admin, &material, RATE).await.data("setRate");
    let shop = market::shop(app, "Ravi").await;
    fund(app, &shop.owner, FLOAT).await;
    let slot = add_slot(app, &shop.owner, 2).await;
    let household = app.customer("Asha").await;
    let address = market::address(app, &household, Some(NEAR)).await;
    Yard {
        admin,
        material,
        shop,
        slot,
        household,
        address,
    }
}

pub async fn book(
    app: &TestApp,
    who: &Session,
    address: &str,
    slot: Option<&str>,
    material: &str,
    kg: f64,
    key: &str,
) -> Gql {
    app.gql(
        &format!(
            "mutation($i: BookPickupInput!) {{ bookPickup(input: $i) {{ {PICKUP_FIELDS} }} }}"
        ),
        json!({ "i": {
            "addressId": address, "slotId": slot,
            "items": [{ "categoryId": material, "estimatedKg": kg }],
            "note": "old newspapers by the door", "idempotencyKey": key,
        } }),
        Some(&who.access_token),
    )
    .await
}

/// A pickup booked into the yard's slot (ASSIGNED), 10 kg of newspaper.
pub async fn booked(app: &TestApp, y: &Yard) -> String {
    book(
        app,
        &y.household,
        &y.address,
        Some(&y.slot),
        &y.material,
        10.0,
        &Uuid::new_v4().to_string(),
    )
    .await
    .data("bookPickup")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub async fn set_status(app: &TestApp, who: &Session, id: &str, status: &str) -> Gql {
    app.gql(
        &format!("mutation($p: ID!, $s: PickupStatus!) {{ updatePickupStatus(pickupId: $p, status: $s) {{ {PICKUP_FIELDS} }} }}"),
        json!({ "p": id, "s": status }),
        Some(&who.access_token),
    )
    .await
}

pub async fn weigh(app: &TestApp, who: &Session, id: &str, material: &str, grams: i64) -> Gql {
    app.gql(
        &format!("mutation($p: ID!, $l: [WeighingLineInput!]!) {{ recordWeighing(pickupId: $p, lines: $l) {{ {PICKUP_FIELDS} }} }}"),
        json!({ "p": id, "l": [{ "categoryId": material, "weightGrams": grams }] }),
        Some(&who.access_token),
    )
    .await
}

pub async fn complete(app: &TestApp, who: &Session, id: &str, code: &str) -> Gql {
    app.gql(
        &format!("mutation($p: ID!, $c: String!) {{ completePickup(pickupId: $p, code: $c) {{ {PICKUP_FIELDS} }} }}"),
        json!({ "p": id, "c": code }),
        Some(&who.access_token),
    )
    .await
}

pub async fn cancel(app: &TestApp, who: &Session, id: &str) -> Gql {
    app.gql(
        &format!("mutation($p: ID!) {{ cancelPickup(pickupId: $p, reason: \"plans changed\") {{ {PICKUP_FIELDS} }} }}"),
        json!({ "p": id }),
        Some(&who.access_token),
    )
    .await
}

pub async fn dispute(app: &TestApp, who: &Session, id: &str) -> Gql {
    app.gql(
        &format!("mutation($p: ID!) {{ disputePickup(pickupId: $p, reason: \"the scale was off\") {{ {PICKUP_FIELDS} }} }}"),
        json!({ "p": id }),
        Some(&who.access_token),
    )
    .await
}

pub async fn resolve(
    app: &TestApp,
    who: &Session,
    id: &str,
    lines: Option<Value>,
    cancel: bool,
) -> Gql {
    app.gql(
        &format!("mutation($p: ID!, $l: [WeighingLineInput!], $c: Boolean) {{ resolvePickupDispute(pickupId: $p, lines: $l, cancel: $c) {{ {PICKUP_FIELDS} }} }}"),
        json!({ "p": id, "l": lines, "c": cancel }),
        Some(&who.access_token),
    )
    .await
}

pub async fn pickup(app: &TestApp, who: &Session, id: &str) -> Gql {
    app.gql(
        &format!("query($p: ID!) {{ pickup(id: $p) {{ {PICKUP_FIELDS} }} }}"),
        json!({ "p": id }),
        Some(&who.access_token),
    )
    .await
}

async fn status_of(app: &TestApp, y: &Yard, id: &str) -> String {
    pickup(app, &y.admin, id).await.data("pickup")["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The household's handover code (it alone sees it).
async fn code_of(app: &TestApp, y: &Yard, id: &str) -> String {
    pickup(app, &y.household, id).await.data("pickup")["handoverCode"]
        .as_str()
        .expect("the household sees the code while WEIGHED")
        .to_owned()
}

/// Walks a booked pickup to WEIGHED at `grams`.
async fn weighed(app: &TestApp, y: &Yard, id: &str, grams: i64) {
    set_status(app, &y.shop.owner, id, "EN_ROUTE")
        .await
        .data("updatePickupStatus");
    set_status(app, &y.shop.owner, id, "ARRIVED")
        .await
        .data("updatePickupStatus");
    weigh(app, &y.shop.owner, id, &y.material, grams)
        .await
        .data("recordWeighing");
}

fn is_postgres(app: &TestApp) -> bool {
    app.state.db.get_database_backend() == DbBackend::Postgres
}

#[tokio::test]
async fn a_household_is_paid_exactly_for_what_the_scale_said_and_the_rest_of_the_hold_is_released()
{
    let app = TestApp::new().await;
    let y = yard(&app).await;

    let slots = app
        .gql(
            "query($a: ID!, $f: DateTime!, $t: DateTime!) { pickupSlots(addressId: $a, from: $f, to: $t) { id remaining capacity vendor { id } } }",
            json!({ "a": y.address, "f": Utc::now(), "t": Utc::now() + Duration::days(1) }),
            Some(&y.household.access_token),
        )
        .await
        .data("pickupSlots");
    assert_eq!(slots.as_array().unwrap().len(), 1);
    assert_eq!(slots[0]["id"], y.slot.as_str());
    assert_eq!(slots[0]["remaining"], 2);

    // 10 kg at ₹14/kg: a quote of ₹140; the collector holds it plus the 50% margin.
    let booked = book(
        &app,
        &y.household,
        &y.address,
        Some(&y.slot),
        &y.material,
        10.0,
        "k1",
    )
    .await
    .data("bookPickup");
    let id = booked["id"].as_str().unwrap().to_owned();
    assert_eq!(booked["status"], "ASSIGNED");
    assert_eq!(booked["quote"], 14_000);
    assert_eq!(booked["items"][0]["rate"], RATE);
    assert_eq!(booked["slot"]["remaining"], 1);
    assert_eq!(
        balances(&app, &y.shop.owner).await,
        (FLOAT - 21_000, 21_000)
    );

    weighed(&app, &y, &id, 12_400).await;
    let seen = pickup(&app, &y.household, &id).await.data("pickup");
    assert_eq!(seen["status"], "WEIGHED");
    assert_eq!(
        seen["lines"][0]["amount"], 17_360,
        "12.4 kg × ₹14 = ₹173.60"
    );
    assert_eq!(seen["finalAmount"], 17_360);
    assert_eq!(seen["commission"], 868, "5% of ₹173.60, rounded down");
    let code = code_of(&app, &y, &id).await;
    assert_eq!(
        pickup(&app, &y.shop.owner, &id).await.data("pickup")["handoverCode"],
        Value::Null,
        "the collector never sees the code"
    );

    let done = complete(&app, &y.shop.owner, &id, &code)
        .await
        .data("completePickup");
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["handoverCode"], Value::Null);

    assert_eq!(balances(&app, &y.household).await, (17_360, 0));
    assert_eq!(
        balances(&app, &y.shop.owner).await,
        (FLOAT - 17_360 - 868, 0),
        "the rest of the hold came back"
    );
    assert_eq!(
        ledger_balance(&app, AccountKind::PlatformRevenue, Uuid::nil()).await,
        868
    );
    assert_ledger_sound(&app).await;

    // Replaying the completion moves nothing more.
    let again = complete(&app, &y.shop.owner, &id, &code).await;
    assert_eq!(again.code(), "INVALID_TRANSITION");
    assert_eq!(balances(&app, &y.household).await, (17_360, 0));

    let summary = app
        .gql(
            "{ recyclingSummary { pickups totalKg earned byMaterial { category { id } kg earned } } }",
            json!({}),
            Some(&y.household.access_token),
        )
        .await
        .data("recyclingSummary");
    assert_eq!(summary["pickups"], 1);
    assert_eq!(summary["totalKg"], 12.4);
    assert_eq!(summary["earned"], 17_360);
    assert_eq!(
        summary["byMaterial"][0]["category"]["id"],
        y.material.as_str()
    );

    let analytics = app
        .gql(
            "{ vendorAnalytics { pickups { total paidToHouseholds commission collectedKg byStatus { status count } } } }",
            json!({}),
            Some(&y.shop.owner.access_token),
        )
        .await
        .data("vendorAnalytics");
    assert_eq!(
        analytics["pickups"],
        json!({ "total": 1, "paidToHouseholds": 17_360, "commission": 868, "collectedKg": 12.4,
                "byStatus": [{ "status": "COMPLETED", "count": 1 }] })
    );

    let review = app
        .gql(
            "mutation($p: ID!) { reviewPickup(pickupId: $p, rating: 5, comment: \"fair scale\") { rating } }",
            json!({ "p": id }),
            Some(&y.household.access_token),
        )
        .await;
    assert_eq!(review.data("reviewPickup")["rating"], 5);
    let rating = app
        .gql(
            "query($v: ID!) { collectorRating(vendorId: $v) { rating count } }",
            json!({ "v": y.shop.vendor_id.to_string() }),
            None,
        )
        .await
        .data("collectorRating");
    assert_eq!(rating, json!({ "rating": 5.0, "count": 1 }));

    app.drain_jobs().await;
    assert!(
        app.mail_to(&y.household.email, "in your wallet").is_some(),
        "the household is emailed the payment"
    );
}

#[tokio::test]
async fn a_load_heavier_than_the_hold_takes_the_difference_from_the_collector_or_is_refused() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = booked(&app, &y).await;
    // 20 kg = ₹280 + ₹14 commission, above the ₹210 hold: ₹84 more from the float.
    weighed(&app, &y, &id, 20_000).await;
    let code = code_of(&app, &y, &id).await;
    complete(&app, &y.shop.owner, &id, &code)
        .await
        .data("completePickup");
    assert_eq!(balances(&app, &y.household).await, (28_000, 0));
    assert_eq!(
        balances(&app, &y.shop.owner).await,
        (FLOAT - 28_000 - 1_400, 0)
    );
    assert_ledger_sound(&app).await;

    // A second one the float cannot cover: refused, nothing moves.
    let id = booked(&app, &y).await;
    weighed(&app, &y, &id, 800_000).await;
    let code = code_of(&app, &y, &id).await;
    let before = balances(&app, &y.shop.owner).await;
    let refused = complete(&app, &y.shop.owner, &id, &code).await;
    assert_eq!(
        refused.code(),
        "INSUFFICIENT_FUNDS",
        "{}",
        refused.message()
    );
    assert_eq!(status_of(&app, &y, &id).await, "WEIGHED");
    assert_eq!(balances(&app, &y.shop.owner).await, before);
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_rate_change_after_booking_does_not_change_the_pickups_price() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = booked(&app, &y).await;

    set_rate(&app, &y.admin, &y.material, 2_000)
        .await
        .data("setRate");
    let card = app
        .gql(
            "{ rateCard(city: \"  mumbai \") { pricePerKg category { id } } }",
            json!({}),
            None,
        )
        .await
        .data("rateCard");
    assert_eq!(card[0]["pricePerKg"], 2_000, "the card shows the new rate");

    weighed(&app, &y, &id, 10_000).await;
    let p = pickup(&app, &y.household, &id).await.data("pickup");
    assert_eq!(p["quote"], 14_000);
    assert_eq!(p["lines"][0]["rate"], RATE);
    assert_eq!(p["finalAmount"], 14_000);

    let past = app
        .gql(
            "mutation($i: RateInput!) { setRate(input: $i) { id } }",
            json!({ "i": { "city": "Mumbai", "categoryId": y.material, "pricePerKg": 1, "effectiveFrom": "2020-01-01T00:00:00Z" } }),
            Some(&y.admin.access_token),
        )
        .await;
    assert_eq!(past.code(), "BAD_USER_INPUT", "rates are never back-dated");
    let audit = app
        .gql(
            "{ auditLog(filter: { action: \"pickup.set_rate\" }) { edges { node { subjectType } } } }",
            json!({}),
            Some(&y.admin.access_token),
        )
        .await
        .data("auditLog");
    let edges = audit["edges"].as_array().map(Vec::len);
    assert_eq!(
        edges,
        Some(2),
        "both accepted rates are audited, the refused one is not"
    );
    let then = app
        .gql(
            "query($c: ID!, $at: DateTime!) { rateAt(city: \"Mumbai\", categoryId: $c, at: $at) { pricePerKg } }",
            json!({ "c": y.material, "at": p["createdAt"] }),
            None,
        )
        .await
        .data("rateAt");
    assert_eq!(then["pricePerKg"], RATE);
}

#[tokio::test]
async fn wrong_handover_codes_are_counted_and_lock_completion_after_five() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = booked(&app, &y).await;
    weighed(&app, &y, &id, 10_000).await;
    let code = code_of(&app, &y, &id).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    for left in (1..5).rev() {
        let res = complete(&app, &y.shop.owner, &id, wrong).await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        assert!(
            res.message().contains(&format!("{left} tries left")),
            "{}",
            res.message()
        );
    }
    let fifth = complete(&app, &y.shop.owner, &id, wrong).await;
    assert_eq!(fifth.code(), "FORBIDDEN", "{}", fifth.message());
    let right_too_late = complete(&app, &y.shop.owner, &id, &code).await;
    assert_eq!(right_too_late.code(), "FORBIDDEN");
    let p = pickup(&app, &y.household, &id).await.data("pickup");
    assert_eq!(p["status"], "WEIGHED");
    assert_eq!(p["codeAttemptsLeft"], 0);
    assert_eq!(balances(&app, &y.household).await, (0, 0));

    // The household disputes; support settles at corrected weights.
    dispute(&app, &y.household, &id).await.data("disputePickup");
    let lines = json!([{ "categoryId": y.material, "weightGrams": 9_000 }]);
    let settled = resolve(&app, &y.admin, &id, Some(lines), false)
        .await
        .data("resolvePickupDispute");
    assert_eq!(settled["status"], "COMPLETED");
    assert_eq!(settled["finalAmount"], 12_600);
    assert_eq!(balances(&app, &y.household).await, (12_600, 0));
    assert_eq!(
        balances(&app, &y.shop.owner).await,
        (FLOAT - 12_600 - 630, 0)
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn support_can_cancel_a_disputed_pickup_and_the_collectors_hold_comes_back() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = booked(&app, &y).await;
    weighed(&app, &y, &id, 10_000).await;
    dispute(&app, &y.household, &id).await.data("disputePickup");
    let p = pickup(&app, &y.household, &id).await.data("pickup");
    assert_eq!(p["handoverCode"], Value::Null, "no code while disputed");

    let refused = resolve(&app, &y.household, &id, None, true).await;
    assert_eq!(refused.code(), "FORBIDDEN");
    let cancelled = resolve(&app, &y.admin, &id, None, true)
        .await
        .data("resolvePickupDispute");
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(balances(&app, &y.shop.owner).await, (FLOAT, 0));
    assert_eq!(balances(&app, &y.household).await, (0, 0));
    assert_ledger_sound(&app).await;
    let audit = app
        .gql(
            "query($s: ID!) { auditLog(filter: { subjectId: $s }) { edges { node { action subjectType actor { id } } } } }",
            json!({ "s": id }),
            Some(&y.admin.access_token),
        )
        .await
        .data("auditLog");
    let entry = &audit["edges"][0]["node"];
    assert_eq!(entry["action"], "pickup.resolve_dispute", "{audit}");
    assert_eq!(entry["subjectType"], "pickup");
}

#[tokio::test]
async fn either_side_cancels_before_arrival_and_the_slot_and_hold_are_given_back() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let first = booked(&app, &y).await;
    let second = booked(&app, &y).await;
    let full = book(
        &app,
        &y.household,
        &y.address,
        Some(&y.slot),
        &y.material,
        1.0,
        "third",
    )
    .await;
    assert_eq!(full.code(), "BAD_USER_INPUT");
    assert_eq!(full.field().as_deref(), Some("slotId"));

    cancel(&app, &y.household, &first)
        .await
        .data("cancelPickup");
    set_status(&app, &y.shop.owner, &second, "EN_ROUTE")
        .await
        .data("updatePickupStatus");
    let by_vendor = cancel(&app, &y.shop.owner, &second)
        .await
        .data("cancelPickup");
    assert_eq!(by_vendor["status"], "CANCELLED");
    assert_eq!(by_vendor["slot"]["remaining"], 2);
    assert_eq!(balances(&app, &y.shop.owner).await, (FLOAT, 0));
    assert_ledger_sound(&app).await;

    let third = booked(&app, &y).await;
    set_status(&app, &y.shop.owner, &third, "EN_ROUTE")
        .await
        .data("updatePickupStatus");
    set_status(&app, &y.shop.owner, &third, "ARRIVED")
        .await
        .data("updatePickupStatus");
    assert_eq!(
        cancel(&app, &y.household, &third).await.code(),
        "INVALID_TRANSITION"
    );
    assert_eq!(
        cancel(&app, &y.shop.owner, &third).await.code(),
        "INVALID_TRANSITION"
    );
}

#[tokio::test]
async fn replaying_a_booking_key_returns_the_first_pickup_and_a_different_input_is_a_conflict() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let a = book(
        &app,
        &y.household,
        &y.address,
        Some(&y.slot),
        &y.material,
        10.0,
        "same",
    )
    .await;
    let b = book(
        &app,
        &y.household,
        &y.address,
        Some(&y.slot),
        &y.material,
        10.0,
        "same",
    )
    .await;
    assert_eq!(a.data("bookPickup")["id"], b.data("bookPickup")["id"]);
    assert_eq!(b.data("bookPickup")["slot"]["remaining"], 1);
    let c = book(
        &app,
        &y.household,
        &y.address,
        Some(&y.slot),
        &y.material,
        11.0,
        "same",
    )
    .await;
    assert_eq!(c.code(), "CONFLICT");
    assert_eq!(
        balances(&app, &y.shop.owner).await,
        (FLOAT - 21_000, 21_000)
    );
}

#[tokio::test]
async fn a_collector_without_the_float_cannot_take_a_booking() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let poor = market::shop(&app, "Poor").await;
    let slot = add_slot(&app, &poor.owner, 1).await;
    let res = book(
        &app,
        &y.household,
        &y.address,
        Some(&slot),
        &y.material,
        10.0,
        "p",
    )
    .await;
    assert_eq!(res.code(), "INSUFFICIENT_FUNDS");
    let slots = app
        .gql(
            "query($a: ID!, $f: DateTime!, $t: DateTime!) { pickupSlots(addressId: $a, from: $f, to: $t) { id remaining } }",
            json!({ "a": y.address, "f": Utc::now(), "t": Utc::now() + Duration::days(1) }),
            Some(&y.household.access_token),
        )
        .await
        .data("pickupSlots");
    let poor_slot = slots
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == slot.as_str())
        .unwrap();
    assert_eq!(poor_slot["remaining"], 1, "nothing was taken");
}

/// Offers: the nearest covering collectors get a slot-less pickup; the first to accept wins.
pub async fn offered(app: &TestApp, y: &Yard) -> String {
    let p = book(
        app,
        &y.household,
        &y.address,
        None,
        &y.material,
        10.0,
        &Uuid::new_v4().to_string(),
    )
    .await
    .data("bookPickup");
    assert_eq!(p["status"], "REQUESTED");
    assert_eq!(p["vendor"], Value::Null);
    p["id"].as_str().unwrap().to_owned()
}

pub async fn accept(app: &TestApp, who: &Session, id: &str) -> Gql {
    app.gql(
        &format!("mutation($p: ID!) {{ acceptPickup(pickupId: $p) {{ {PICKUP_FIELDS} }} }}"),
        json!({ "p": id }),
        Some(&who.access_token),
    )
    .await
}

#[tokio::test]
async fn an_offered_pickup_goes_to_the_first_collector_who_accepts() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let other = market::shop(&app, "Other").await;
    fund(&app, &other.owner, FLOAT).await;
    let id = offered(&app, &y).await;

    let offers = app
        .gql(
            "{ pickupOffers { totalCount edges { node { id quote } } } }",
            json!({}),
            Some(&other.owner.access_token),
        )
        .await
        .data("pickupOffers");
    assert_eq!(offers["totalCount"], 1);
    assert_eq!(offers["edges"][0]["node"]["id"], id.as_str());

    let won = accept(&app, &other.owner, &id).await.data("acceptPickup");
    assert_eq!(won["status"], "ASSIGNED");
    assert_eq!(won["vendor"]["id"], other.vendor_id.to_string());
    assert_eq!(balances(&app, &other.owner).await, (FLOAT - 21_000, 21_000));

    let late = accept(&app, &y.shop.owner, &id).await;
    assert_eq!(late.code(), "CONFLICT");
    assert_eq!(balances(&app, &y.shop.owner).await, (FLOAT, 0));
    assert_eq!(
        pickup(&app, &y.shop.owner, &id).await.code(),
        "NOT_FOUND",
        "the loser no longer sees it"
    );
}

#[tokio::test]
async fn an_offer_nobody_accepts_goes_to_the_next_collectors_then_expires() {
    let app = TestApp::with_env(&[
        ("PICKUP_OFFER_VENDORS", "1"),
        ("PICKUP_OFFER_MINUTES", "15"),
    ])
    .await;
    let y = yard(&app).await;
    let farther = market::shop(&app, "Farther").await;
    let id = offered(&app, &y).await;
    let offers_of = |who: Session| {
        let app = &app;
        async move {
            app.gql(
                "{ pickupOffers { totalCount } }",
                json!({}),
                Some(&who.access_token),
            )
            .await
            .data("pickupOffers")["totalCount"]
                .as_i64()
                .unwrap()
        }
    };
    // Both shops stand at the same spot; ties go in id order, one per round.
    let first_round =
        offers_of(y.shop.owner.clone()).await + offers_of(farther.owner.clone()).await;
    assert_eq!(first_round, 1);

    app.drain_jobs().await;
    assert_eq!(
        status_of(&app, &y, &id).await,
        "REQUESTED",
        "the round is still open"
    );

    let later = Utc::now() + Duration::minutes(16);
    kabaadwala::jobs::worker::drain(&app.state, later)
        .await
        .unwrap();
    assert_eq!(status_of(&app, &y, &id).await, "REQUESTED");
    assert_eq!(
        offers_of(y.shop.owner.clone()).await + offers_of(farther.owner.clone()).await,
        1
    );

    let much_later = Utc::now() + Duration::minutes(40);
    kabaadwala::jobs::worker::drain(&app.state, much_later)
        .await
        .unwrap();
    assert_eq!(status_of(&app, &y, &id).await, "EXPIRED");
    assert_eq!(accept(&app, &y.shop.owner, &id).await.code(), "CONFLICT");
    let notes = app
        .gql(
            "{ notifications(first: 10) { edges { node { kind } } } }",
            json!({}),
            Some(&y.household.access_token),
        )
        .await
        .data("notifications");
    assert!(notes.to_string().contains("PICKUP_EXPIRED"));
}

/// Every mutation that moves a pickup, as (name, target status, runner).
const MOVES: [&str; 7] = [
    "EN_ROUTE",
    "ARRIVED",
    "WEIGHED",
    "COMPLETED",
    "DISPUTED",
    "CANCELLED",
    "RESOLVED",
];

async fn attempt(app: &TestApp, y: &Yard, who: &Session, id: &str, mv: &str) -> Gql {
    match mv {
        "EN_ROUTE" | "ARRIVED" => set_status(app, who, id, mv).await,
        "WEIGHED" => weigh(app, who, id, &y.material, 10_000).await,
        "COMPLETED" => complete(app, who, id, "123456").await,
        "DISPUTED" => dispute(app, who, id).await,
        "CANCELLED" => cancel(app, who, id).await,
        _ => resolve(app, who, id, None, false).await,
    }
}

/// Whether `role` may make `mv` from `status` through the API (the transition table, as the
/// mutations expose it).
fn legal(status: &str, role: &str, mv: &str) -> bool {
    matches!(
        (status, role, mv),
        ("ASSIGNED", "vendor", "EN_ROUTE")
            | ("EN_ROUTE", "vendor", "ARRIVED")
            | ("ARRIVED", "vendor", "WEIGHED")
            | ("WEIGHED", "vendor", "COMPLETED")
            | ("WEIGHED", "household", "DISPUTED")
            | ("DISPUTED", "admin", "RESOLVED")
            | ("ASSIGNED" | "EN_ROUTE", "household" | "vendor", "CANCELLED")
    )
}

#[tokio::test]
async fn every_illegal_move_is_refused_for_every_role_and_changes_nothing() {
    let app = TestApp::new().await;
    let mut y = yard(&app).await;
    // A float large enough for every pickup of the walk.
    fund(&app, &y.shop.owner, 1_000_000).await;
    y.slot = add_slot(&app, &y.shop.owner, 20).await;
    let walks: [(&str, &[&str]); 7] = [
        ("ASSIGNED", &[]),
        ("EN_ROUTE", &["EN_ROUTE"]),
        ("ARRIVED", &["EN_ROUTE", "ARRIVED"]),
        ("WEIGHED", &["EN_ROUTE", "ARRIVED", "WEIGHED"]),
        ("DISPUTED", &["EN_ROUTE", "ARRIVED", "WEIGHED", "DISPUTED"]),
        (
            "COMPLETED",
            &["EN_ROUTE", "ARRIVED", "WEIGHED", "COMPLETED"],
        ),
        ("CANCELLED", &["CANCELLED"]),
    ];
    let roles = [
        ("household", y.household.clone()),
        ("vendor", y.shop.owner.clone()),
        ("admin", y.admin.clone()),
    ];
    for (status, steps) in walks {
        let id = booked(&app, &y).await;
        for step in steps {
            let who = match *step {
                "DISPUTED" => &y.household,
                _ => &y.shop.owner,
            };
            let res = match *step {
                "COMPLETED" => complete(&app, who, &id, &code_of(&app, &y, &id).await).await,
                _ => attempt(&app, &y, who, &id, step).await,
            };
            assert!(
                res.errors.is_empty(),
                "walking to {status}: {step}: {}",
                res.message()
            );
        }
        assert_eq!(status_of(&app, &y, &id).await, status);
        for (role, who) in &roles {
            for mv in MOVES {
                if legal(status, role, mv) {
                    continue;
                }
                let res = attempt(&app, &y, who, &id, mv).await;
                assert!(!res.errors.is_empty(), "{role} made {mv} from {status}");
                let code = res.code();
                assert!(
                    ["INVALID_TRANSITION", "FORBIDDEN", "BAD_USER_INPUT"].contains(&code.as_str()),
                    "{role} {mv} from {status}: {code} {}",
                    res.message()
                );
                assert_eq!(
                    status_of(&app, &y, &id).await,
                    status,
                    "{role} {mv} changed it"
                );
            }
        }
    }
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn only_the_household_its_collector_and_admins_see_or_touch_a_pickup() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = booked(&app, &y).await;
    let other_customer = app.customer("Nosy").await;
    let other_vendor = market::shop(&app, "Rival").await;

    for (who, sees) in [
        (&y.household, true),
        (&y.shop.owner, true),
        (&y.admin, true),
        (&other_customer, false),
        (&other_vendor.owner, false),
    ] {
        let res = pickup(&app, who, &id).await;
        if sees {
            assert_eq!(res.data("pickup")["id"], id.as_str());
        } else {
            assert_eq!(res.code(), "NOT_FOUND");
            for mv in ["EN_ROUTE", "CANCELLED", "DISPUTED", "COMPLETED"] {
                assert_eq!(
                    attempt(&app, &y, who, &id, mv).await.code(),
                    "NOT_FOUND",
                    "{mv}"
                );
            }
            let listed = app
                .gql(
                    "{ pickups { totalCount } }",
                    json!({}),
                    Some(&who.access_token),
                )
                .await
                .data("pickups");
            assert_eq!(listed["totalCount"], 0);
            let loc = app
                .gql(
                    "mutation($p: ID!) { sharePickupLocation(pickupId: $p, latitude: 19.0, longitude: 72.8) }",
                    json!({ "p": id }),
                    Some(&who.access_token),
                )
                .await;
            assert_eq!(loc.code(), "NOT_FOUND");
        }
    }
    assert_eq!(
        app.gql(
            "{ pickups { totalCount } }",
            json!({}),
            Some(&y.admin.access_token)
        )
        .await
        .data("pickups")["totalCount"],
        1
    );
    assert_eq!(
        app.gql(
            "{ pickups(as: VENDOR) { totalCount } }",
            json!({}),
            Some(&y.shop.owner.access_token)
        )
        .await
        .data("pickups")["totalCount"],
        1
    );

    // The code is the household's alone.
    weighed(&app, &y, &id, 10_000).await;
    for who in [&y.shop.owner, &y.admin] {
        assert_eq!(
            pickup(&app, who, &id).await.data("pickup")["handoverCode"],
            Value::Null
        );
    }
    assert!(pickup(&app, &y.household, &id).await.data("pickup")["handoverCode"].is_string());

    // Admin-only and vendor-only operations.
    for who in [&y.household, &y.shop.owner, &other_customer] {
        assert_eq!(
            set_rate(&app, who, &y.material, 1).await.code(),
            "FORBIDDEN"
        );
    }
    let slots = app
        .gql(
            "mutation($s: [SlotInput!]!) { addPickupSlots(slots: $s) { id } }",
            json!({ "s": [{ "start": Utc::now() + Duration::hours(1), "end": Utc::now() + Duration::hours(2), "capacity": 1 }] }),
            Some(&other_customer.access_token),
        )
        .await;
    assert_eq!(slots.code(), "FORBIDDEN");
    let removed = app
        .gql(
            "mutation($s: ID!) { removePickupSlot(id: $s) }",
            json!({ "s": y.slot }),
            Some(&other_vendor.owner.access_token),
        )
        .await;
    assert_eq!(removed.code(), "NOT_FOUND");
}

#[tokio::test]
async fn the_household_follows_status_and_the_collectors_location_on_pickup_updated() {
    let _redis = REDIS_SESSIONS.read().await;
    let app = TestApp::with_env(&[("PICKUP_LOCATION_THROTTLE_MS", "60000")]).await;
    let y = yard(&app).await;
    let id = booked(&app, &y).await;
    let server = serve(&app.state).await;
    let query = "subscription($p: ID!) { pickupUpdated(pickupId: $p) { kind status latitude longitude pickup { id status handoverCode } } }";
    let mut household = Ws::connect(&server, &y.household.access_token).await;
    household.subscribe("p", query, json!({ "p": id })).await;
    let mut outsider = Ws::connect(&server, &app.customer("Nosy").await.access_token).await;
    outsider
        .send(json!({ "id": "x", "type": "subscribe", "payload": { "query": query, "variables": { "p": id } } }))
        .await;
    let refused = outsider.recv().await;
    assert_eq!(refused["type"], "error", "{refused}");

    set_status(&app, &y.shop.owner, &id, "EN_ROUTE")
        .await
        .data("updatePickupStatus");
    let moved = household.next("p").await["data"]["pickupUpdated"].clone();
    assert_eq!(moved["kind"], "STATUS");
    assert_eq!(moved["status"], "EN_ROUTE");
    assert_eq!(moved["pickup"]["status"], "EN_ROUTE");

    let share = |lat: f64| {
        let (app, owner, id) = (&app, &y.shop.owner, &id);
        async move {
            app.gql(
                "mutation($p: ID!, $la: Float!, $lo: Float!) { sharePickupLocation(pickupId: $p, latitude: $la, longitude: $lo) }",
                json!({ "p": id, "la": lat, "lo": 72.85 }),
                Some(&owner.access_token),
            )
            .await
            .data("sharePickupLocation")
        }
    };
    assert_eq!(share(19.03).await, true);
    assert_eq!(share(19.04).await, false, "throttled");
    let located = household.next("p").await["data"]["pickupUpdated"].clone();
    assert_eq!(located["kind"], "LOCATION");
    assert_eq!(located["latitude"], 19.03);
    assert_eq!(located["longitude"], 72.85);
    let seen = app
        .gql(
            "query($p: ID!) { pickup(id: $p) { collectorLocation { latitude } } }",
            json!({ "p": id }),
            Some(&y.household.access_token),
        )
        .await
        .data("pickup");
    assert_eq!(
        seen["collectorLocation"]["latitude"], 19.03,
        "the last point is kept"
    );

    set_status(&app, &y.shop.owner, &id, "ARRIVED")
        .await
        .data("updatePickupStatus");
    let arrived = household.next("p").await["data"]["pickupUpdated"].clone();
    assert_eq!(arrived["status"], "ARRIVED");
    let forgotten = app
        .gql(
            "query($p: ID!) { pickup(id: $p) { collectorLocation { latitude } } }",
            json!({ "p": id }),
            Some(&y.household.access_token),
        )
        .await
        .data("pickup");
    assert_eq!(
        forgotten["collectorLocation"],
        Value::Null,
        "no location once arrived"
    );

    weigh(&app, &y.shop.owner, &id, &y.material, 10_000)
        .await
        .data("recordWeighing");
    let weighed = household.next("p").await["data"]["pickupUpdated"].clone();
    assert!(
        weighed["pickup"]["handoverCode"].is_string(),
        "the household sees its code: {weighed}"
    );
}

#[tokio::test]
async fn the_photo_of_the_scale_is_stored_and_only_the_parties_may_read_it() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = booked(&app, &y).await;
    set_status(&app, &y.shop.owner, &id, "EN_ROUTE")
        .await
        .data("updatePickupStatus");
    set_status(&app, &y.shop.owner, &id, "ARRIVED")
        .await
        .data("updatePickupStatus");
    let res = app
        .gql_upload(
            "mutation($p: ID!, $l: [WeighingLineInput!]!, $f: Upload) { recordWeighing(pickupId: $p, lines: $l, photo: $f) { weighingPhotoUrl } }",
            json!({ "p": id, "l": [{ "categoryId": y.material, "weightGrams": 10_000 }], "f": null }),
            Some(&y.shop.owner.access_token),
            &[("variables.f", "scale.png", catalog::PNG)],
        )
        .await;
    let url = res.data("recordWeighing")["weighingPhotoUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.contains(&format!("pickups/{id}/")), "{url}");
    let key = url.split("/media/").nth(1).unwrap();
    assert!(app.state.storage.get(key).await.unwrap().is_some());
}

#[tokio::test]
async fn a_weighing_that_fails_leaves_no_photo_behind() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = booked(&app, &y).await;
    for status in ["EN_ROUTE", "ARRIVED"] {
        set_status(&app, &y.shop.owner, &id, status)
            .await
            .data("updatePickupStatus");
    }
    // A material nobody booked or priced: refused after the photo was read and stored.
    let res = app
        .gql_upload(
            "mutation($p: ID!, $l: [WeighingLineInput!]!, $f: Upload) { recordWeighing(pickupId: $p, lines: $l, photo: $f) { id } }",
            json!({ "p": id, "l": [{ "categoryId": uuid::Uuid::new_v4(), "weightGrams": 10_000 }], "f": null }),
            Some(&y.shop.owner.access_token),
            &[("variables.f", "scale.png", catalog::PNG)],
        )
        .await;
    assert!(!res.errors.is_empty(), "the weighing was refused");
    let folder = app.state.config.media_dir.join(format!("pickups/{id}"));
    let left = std::fs::read_dir(&folder).map_or(0, |files| files.count());
    assert_eq!(left, 0, "files left in {}", folder.display());
}

// Races with real parallel requests: PostgreSQL only (SQLite has one writer).

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_bookings_for_a_slot_of_capacity_one_book_exactly_one() {
    let app = Arc::new(TestApp::new().await);
    if !is_postgres(&app) {
        return;
    }
    let y = yard(&app).await;
    let slot = add_slot(&app, &y.shop.owner, 1).await;
    let mut households = Vec::new();
    for i in 0..50 {
        let h = app.customer(&format!("H{i}")).await;
        let a = market::address(&app, &h, Some(NEAR)).await;
        households.push((h, a));
    }
    let tasks: Vec<_> = households
        .into_iter()
        .map(|(h, a)| {
            let (app, slot, material) = (app.clone(), slot.clone(), y.material.clone());
            tokio::spawn(
                async move { book(&app, &h, &a, Some(&slot), &material, 10.0, "race").await },
            )
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        let res = task.await.unwrap();
        if res.errors.is_empty() {
            won += 1;
        } else {
            assert_eq!(res.code(), "BAD_USER_INPUT", "{}", res.message());
        }
    }
    assert_eq!(won, 1);
    assert_eq!(
        balances(&app, &y.shop.owner).await,
        (FLOAT - 21_000, 21_000)
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_collectors_accepting_one_offer_give_it_to_exactly_one() {
    let app = Arc::new(TestApp::new().await);
    if !is_postgres(&app) {
        return;
    }
    let y = yard(&app).await;
    let mut shops = vec![y.shop.clone()];
    for i in 0..9 {
        let s = market::shop(&app, &format!("S{i}")).await;
        fund(&app, &s.owner, FLOAT).await;
        shops.push(s);
    }
    let id = offered(&app, &y).await;
    let tasks: Vec<_> = shops
        .iter()
        .map(|s| {
            let (app, owner, id) = (app.clone(), s.owner.clone(), id.clone());
            tokio::spawn(async move { accept(&app, &owner, &id).await })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        let res = task.await.unwrap();
        if res.errors.is_empty() {
            won += 1;
        } else {
            assert!(
                ["CONFLICT", "NOT_FOUND"].contains(&res.code().as_str()),
                "{}",
                res.message()
            );
        }
    }
    assert_eq!(won, 1);
    let mut held = 0;
    for s in &shops {
        held += balances(&app, &s.owner).await.1;
    }
    assert_eq!(held, 21_000, "exactly one hold");
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn completing_and_disputing_at_once_and_cancelling_and_arriving_at_once_have_one_winner() {
    let app = Arc::new(TestApp::new().await);
    if !is_postgres(&app) {
        return;
    }
    let mut y = yard(&app).await;
    fund(&app, &y.shop.owner, 500_000).await;
    y.slot = add_slot(&app, &y.shop.owner, 20).await;
    let y = Arc::new(y);
    for _ in 0..5 {
        let id = booked(&app, &y).await;
        weighed(&app, &y, &id, 10_000).await;
        let code = code_of(&app, &y, &id).await;
        let (a, b) = (app.clone(), app.clone());
        let (y1, y2) = (y.clone(), y.clone());
        let (i1, i2) = (id.clone(), id.clone());
        let completing =
            tokio::spawn(async move { complete(&a, &y1.shop.owner, &i1, &code).await });
        let disputing = tokio::spawn(async move { dispute(&b, &y2.household, &i2).await });
        let (c, d) = (completing.await.unwrap(), disputing.await.unwrap());
        assert!(
            c.errors.is_empty() ^ d.errors.is_empty(),
            "exactly one wins: {} / {}",
            c.message(),
            d.message()
        );
        let status = status_of(&app, &y, &id).await;
        assert_eq!(
            status,
            if c.errors.is_empty() {
                "COMPLETED"
            } else {
                "DISPUTED"
            }
        );
        if !d.errors.is_empty() {
            assert_eq!(d.code(), "INVALID_TRANSITION");
        }
        if status == "DISPUTED" {
            resolve(&app, &y.admin, &id, None, true)
                .await
                .data("resolvePickupDispute");
        }

        let id = booked(&app, &y).await;
        set_status(&app, &y.shop.owner, &id, "EN_ROUTE")
            .await
            .data("updatePickupStatus");
        let (a, b) = (app.clone(), app.clone());
        let (y1, y2) = (y.clone(), y.clone());
        let (i1, i2) = (id.clone(), id.clone());
        let cancelling = tokio::spawn(async move { cancel(&a, &y1.household, &i1).await });
        let arriving =
            tokio::spawn(async move { set_status(&b, &y2.shop.owner, &i2, "ARRIVED").await });
        let (c, r) = (cancelling.await.unwrap(), arriving.await.unwrap());
        assert!(
            c.errors.is_empty() ^ r.errors.is_empty(),
            "exactly one wins: {} / {}",
            c.message(),
            r.message()
        );
        if c.errors.is_empty() {
            assert_eq!(r.code(), "INVALID_TRANSITION");
        } else {
            // An ARRIVED pickup cannot be cancelled; walk it on and dispute it to close it.
            weigh(&app, &y.shop.owner, &id, &y.material, 10_000)
                .await
                .data("recordWeighing");
            dispute(&app, &y.household, &id).await.data("disputePickup");
            resolve(&app, &y.admin, &id, None, true)
                .await
                .data("resolvePickupDispute");
        }
    }
    assert_eq!(
        balances(&app, &y.shop.owner).await.1,
        0,
        "no hold left behind"
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn seed_demo_adds_delhi_ncr_rate_cards_and_pickups_in_every_status() {
    let app = TestApp::new().await;
    kabaadwala::demo::seed(&app.state, &kabaadwala::demo::Options::for_products(120))
        .await
        .unwrap();
    use sea_orm::EntityTrait as _;
    let all = entity::pickups::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    for status in kabaadwala::pickups::state::ALL {
        assert!(
            all.iter().any(|p| p.status == status),
            "no {} pickup in the demo data",
            kabaadwala::pickups::state::name(status)
        );
    }
    let card = app
        .gql(
            "{ rateCard(city: \"New Delhi\") { category { slug } pricePerKg } }",
            json!({}),
            None,
        )
        .await
        .data("rateCard");
    let slugs: Vec<&str> = card
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["category"]["slug"].as_str().unwrap())
        .collect();
    for slug in [
        "newspaper",
        "cardboard",
        "iron-steel",
        "copper",
        "brass",
        "aluminium",
        "plastic",
        "e-waste",
    ] {
        assert!(slugs.contains(&slug), "no {slug} rate in {slugs:?}");
    }
    assert_ledger_sound(&app).await;
}
