//! Households withdraw what their scrap earned: a payout drawn from the available wallet balance
//! through the same flow as vendors' earnings payouts (request, approve, mark paid or reject;
//! RazorpayX and its webhook), with the exact ledger balances at each step, the wallet's
//! history, who may see what, races on PostgreSQL, the console, and the migration both ways.

use std::sync::Arc;

use entity::{ledger_accounts::AccountKind, payouts};
use kabaadwala::wallet::ledger::PLATFORM;
use sea_orm::{DbBackend, EntityTrait as _};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    payouts_razorpayx::{self, send, set_account},
    pickups::{Yard, booked, complete, pickup, set_status, weigh, yard},
    support::{
        Gql, Session, TestApp,
        console::Console,
        market::{assert_ledger_sound, ledger_balance},
        providers::FakeRazorpay,
    },
};

const PAYOUT: &str =
    "id status amount source reason reference vendor { id } user { id } createdAt paidAt";

/// 10 kg of newspaper at ₹14/kg: what the household is paid.
const EARNED: i64 = 14_000;

async fn request(
    app: &TestApp,
    who: &Session,
    amount: i64,
    key: &str,
    source: Option<&str>,
) -> Gql {
    app.gql(
        &format!(
            "mutation($input: PayoutInput!) {{ requestPayout(input: $input) {{ {PAYOUT} }} }}"
        ),
        json!({ "input": { "amount": amount, "idempotencyKey": key, "source": source } }),
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

fn id_of(res: Gql, field: &str) -> String {
    res.data(field)["id"].as_str().unwrap().to_owned()
}

/// A household paid ₹140 for 10 kg by a completed pickup (nothing else in its wallet).
async fn paid_household(app: &TestApp) -> Yard {
    let y = yard(app).await;
    let id = booked(app, &y).await;
    for status in ["EN_ROUTE", "ARRIVED"] {
        set_status(app, &y.shop.owner, &id, status)
            .await
            .data("updatePickupStatus");
    }
    weigh(app, &y.shop.owner, &id, &y.material, 10_000)
        .await
        .data("recordWeighing");
    let code = pickup(app, &y.household, &id).await.data("pickup")["handoverCode"]
        .as_str()
        .unwrap()
        .to_owned();
    complete(app, &y.shop.owner, &id, &code)
        .await
        .data("completePickup");
    app.drain_jobs().await;
    assert_eq!(wallet(app, &y.household).await, (EARNED, 0, 0));
    y
}

/// The household's (available, held in escrow, waiting to be paid out), as `wallet` answers.
async fn wallet(app: &TestApp, who: &Session) -> (i64, i64, i64) {
    let w = app
        .gql(
            "{ wallet { availableBalance heldBalance payoutHeldBalance } }",
            json!({}),
            Some(&who.access_token),
        )
        .await
        .data("wallet");
    let paise = |f: &str| w[f].as_i64().unwrap();
    (
        paise("availableBalance"),
        paise("heldBalance"),
        paise("payoutHeldBalance"),
    )
}

fn user(who: &Session) -> Uuid {
    who.user_id.parse().unwrap()
}

async fn payout_held(app: &TestApp, who: &Session) -> i64 {
    ledger_balance(app, AccountKind::UserPayoutHeld, user(who)).await
}

async fn clearing(app: &TestApp) -> i64 {
    ledger_balance(app, AccountKind::ProviderClearing, PLATFORM).await
}

/// The wallet's history rows about payouts: (kind, amount, balanceAfter).
async fn payout_rows(app: &TestApp, who: &Session) -> Vec<(String, i64, i64)> {
    let w = app
        .gql(
            "{ wallet { transactions(first: 20) { edges { node { kind amount balance balanceAfter reference } } } } }",
            json!({}),
            Some(&who.access_token),
        )
        .await
        .data("wallet");
    w["transactions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["reference"].as_str().unwrap().starts_with("payout:"))
        .map(|n| {
            assert_eq!(n["balance"], "AVAILABLE");
            (
                n["kind"].as_str().unwrap().to_owned(),
                n["amount"].as_i64().unwrap(),
                n["balanceAfter"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn kinds_of_notifications(app: &TestApp, who: &Session) -> Vec<String> {
    app.gql(
        "{ notifications(first: 20) { edges { node { kind } } } }",
        json!({}),
        Some(&who.access_token),
    )
    .await
    .data("notifications")["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_household_withdraws_part_of_what_its_scrap_earned_through_request_approval_and_payment()
{
    let app = TestApp::new().await;
    let y = paid_household(&app).await;
    let h = &y.household;
    let clearing_before = clearing(&app).await;
    set_account(&app, h, json!({ "vpa": "asha@okaxis" }))
        .await
        .data("setPayoutAccount");

    let too_much = request(&app, h, EARNED + 1, "w0", None).await;
    let requested = request(&app, h, 10_000, "w1", None)
        .await
        .data("requestPayout");
    let replayed = request(&app, h, 10_000, "w1", None)
        .await
        .data("requestPayout");
    let changed = request(&app, h, 9_000, "w1", None).await;

    assert_eq!(too_much.code(), "INSUFFICIENT_FUNDS");
    assert_eq!(requested["status"], "REQUESTED");
    assert_eq!(requested["source"], "WALLET");
    assert_eq!(requested["vendor"], Value::Null);
    assert_eq!(requested["user"]["id"], h.user_id.as_str());
    assert_eq!(replayed["id"], requested["id"]);
    assert_eq!(changed.code(), "CONFLICT");
    assert_eq!(wallet(&app, h).await, (4_000, 0, 10_000));
    assert_eq!(payout_held(&app, h).await, 10_000);
    assert_eq!(clearing(&app).await, clearing_before);

    let id = requested["id"].as_str().unwrap();
    let approved = decide(&app, &y.admin, "approvePayout", id, "")
        .await
        .data("approvePayout");
    assert_eq!(approved["status"], "APPROVED");
    assert_eq!(wallet(&app, h).await, (4_000, 0, 10_000));
    let paid = decide(
        &app,
        &y.admin,
        "markPayoutPaid",
        id,
        ", reference: \"UTR77\"",
    )
    .await
    .data("markPayoutPaid");

    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["reference"], "UTR77");
    assert_eq!(wallet(&app, h).await, (4_000, 0, 0));
    assert_eq!(payout_held(&app, h).await, 0);
    assert_eq!(clearing(&app).await, clearing_before + 10_000);
    assert_eq!(
        payout_rows(&app, h).await,
        [("PAYOUT".to_owned(), -10_000, 4_000)],
        "the request is the wallet's PAYOUT row; paying it moves nothing more in the wallet"
    );
    let kinds = kinds_of_notifications(&app, h).await;
    assert!(
        kinds.contains(&"PAYOUT_APPROVED".into()) && kinds.contains(&"PAYOUT_PAID".into()),
        "{kinds:?}"
    );
    app.drain_jobs().await;
    assert!(
        app.mail_to(&h.email, "Payout paid").is_some(),
        "the household is emailed"
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_rejected_household_payout_returns_the_money_to_the_wallet_and_is_never_paid() {
    let app = TestApp::new().await;
    let y = paid_household(&app).await;
    let h = &y.household;
    let first = id_of(request(&app, h, 10_000, "w1", None).await, "requestPayout");

    let rejected = decide(
        &app,
        &y.admin,
        "rejectPayout",
        &first,
        ", reason: \"name does not match\"",
    )
    .await
    .data("rejectPayout");
    let paid_after = decide(
        &app,
        &y.admin,
        "markPayoutPaid",
        &first,
        ", reference: \"U\"",
    )
    .await;

    assert_eq!(rejected["status"], "REJECTED");
    assert_eq!(paid_after.code(), "INVALID_TRANSITION");
    assert_eq!(wallet(&app, h).await, (EARNED, 0, 0));
    assert_eq!(
        payout_rows(&app, h).await,
        [
            ("REFUND".to_owned(), 10_000, EARNED),
            ("PAYOUT".to_owned(), -10_000, 4_000),
        ]
    );

    // An approved one can still be rejected; the whole balance can be asked for again.
    let second = id_of(request(&app, h, EARNED, "w2", None).await, "requestPayout");
    decide(&app, &y.admin, "approvePayout", &second, "")
        .await
        .data("approvePayout");
    assert_eq!(wallet(&app, h).await, (0, 0, EARNED));
    decide(
        &app,
        &y.admin,
        "rejectPayout",
        &second,
        ", reason: \"late\"",
    )
    .await
    .data("rejectPayout");

    assert_eq!(wallet(&app, h).await, (EARNED, 0, 0));
    assert!(
        kinds_of_notifications(&app, h)
            .await
            .contains(&"PAYOUT_REJECTED".into())
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn only_the_household_and_admins_see_its_payouts_and_vendors_still_draw_earnings_by_default()
{
    let app = TestApp::new().await;
    let y = paid_household(&app).await;
    let id = id_of(
        request(&app, &y.household, 5_000, "w1", None).await,
        "requestPayout",
    );
    let stranger = app.customer("Stranger").await;
    const LIST: &str =
        "{ payouts(first: 10) { totalCount edges { node { id source user { id } } } } }";
    let list = |who: &Session| {
        let token = who.access_token.clone();
        let app = &app;
        async move { app.gql(LIST, json!({}), Some(&token)).await.data("payouts") }
    };

    let own = list(&y.household).await;
    assert_eq!(own["totalCount"], 1);
    assert_eq!(own["edges"][0]["node"]["id"], id.as_str());
    assert_eq!(list(&stranger).await["totalCount"], 0);
    assert_eq!(list(&y.shop.owner).await["totalCount"], 0);
    assert_eq!(list(&y.admin).await["totalCount"], 1);
    let wallets_only = app
        .gql(
            "{ payouts(source: EARNINGS) { totalCount } }",
            json!({}),
            Some(&y.admin.access_token),
        )
        .await
        .data("payouts");
    assert_eq!(wallets_only["totalCount"], 0);
    for mutation in ["approvePayout", "rejectPayout"] {
        let extra = if mutation == "rejectPayout" {
            ", reason: \"r\""
        } else {
            ""
        };
        assert_eq!(
            decide(&app, &y.household, mutation, &id, extra)
                .await
                .code(),
            "FORBIDDEN"
        );
    }
    // Someone else's replayed key is their own key: a new request, refused for want of money.
    assert_eq!(
        request(&app, &stranger, 5_000, "w1", None).await.code(),
        "INSUFFICIENT_FUNDS"
    );
    assert_eq!(
        request(&app, &y.household, 5_000, "e1", Some("EARNINGS"))
            .await
            .code(),
        "FORBIDDEN",
        "a household has no earnings to draw"
    );

    // The collector: its earnings by default (it has none yet), its wallet float on request.
    let collector = &y.shop.owner;
    let earnings = request(&app, collector, 1_000, "c1", None).await;
    let (float, _, _) = wallet(&app, collector).await;
    let from_wallet = request(&app, collector, 1_000, "c2", Some("WALLET"))
        .await
        .data("requestPayout");
    let same_key_other_source = request(&app, collector, 1_000, "c2", Some("EARNINGS")).await;

    assert_eq!(earnings.code(), "INSUFFICIENT_FUNDS");
    assert_eq!(from_wallet["source"], "WALLET");
    assert_eq!(from_wallet["vendor"], Value::Null);
    assert_eq!(wallet(&app, collector).await.0, float - 1_000);
    assert_eq!(same_key_other_source.code(), "CONFLICT");
    assert_eq!(list(collector).await["totalCount"], 1);
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_household_payout_requests_never_take_more_than_the_wallet_holds() {
    let app = Arc::new(TestApp::new().await);
    let y = paid_household(&app).await;
    let is_postgres = app.state.db.get_database_backend() == DbBackend::Postgres;

    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let app = app.clone();
            let h = y.household.clone();
            tokio::spawn(async move { request(&app, &h, 5_000, &format!("race{i}"), None).await })
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

    assert_eq!(
        won, 2,
        "₹140 covers two payouts of ₹50 (postgres: {is_postgres})"
    );
    assert_eq!(wallet(&app, &y.household).await, (4_000, 0, 10_000));
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_household_payout_goes_through_razorpayx_and_a_reversal_puts_the_money_back() {
    let razorpay = FakeRazorpay::start().await;
    let app = payouts_razorpayx::app(&razorpay).await;
    let y = paid_household(&app).await;
    let h = &y.household;
    let first = id_of(request(&app, h, 6_000, "x1", None).await, "requestPayout");
    let without_account = decide(&app, &y.admin, "approvePayout", &first, "").await;
    assert_eq!(without_account.code(), "BAD_USER_INPUT");
    set_account(
        &app,
        h,
        json!({ "accountNumber": "000123456789012", "ifsc": "HDFC0001234", "holderName": "Asha" }),
    )
    .await
    .data("setPayoutAccount");
    let clearing_before = clearing(&app).await;

    let sent = decide(&app, &y.admin, "approvePayout", &first, "")
        .await
        .data("approvePayout");
    send(&app, &razorpay, "payout.processed", &first, "evt_h1").await;
    send(&app, &razorpay, "payout.processed", &first, "evt_h2").await;

    assert_eq!(sent["status"], "PROCESSING");
    let (key, pout) = razorpay.with(|l| {
        let (k, v) = l.payouts.iter().next().unwrap();
        (k.clone(), v.clone())
    });
    assert_eq!(key, first);
    assert_eq!(
        (pout["mode"].as_str(), pout["amount"].as_i64()),
        (Some("IMPS"), Some(6_000))
    );
    let paid = payouts::Entity::find_by_id(first.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(paid.status, payouts::PayoutStatus::Paid);
    assert_eq!(paid.reference.as_deref(), Some("UTR2026113000042"));
    assert_eq!(wallet(&app, h).await, (EARNED - 6_000, 0, 0));
    assert_eq!(clearing(&app).await, clearing_before + 6_000);

    // A second one is reversed after it was processed: the money comes back to the wallet, once.
    let second = id_of(request(&app, h, 8_000, "x2", None).await, "requestPayout");
    decide(&app, &y.admin, "approvePayout", &second, "")
        .await
        .data("approvePayout");
    assert_eq!(wallet(&app, h).await, (0, 0, 8_000));
    send(&app, &razorpay, "payout.processed", &second, "evt_h3").await;
    assert_eq!(wallet(&app, h).await, (0, 0, 0));
    send(&app, &razorpay, "payout.reversed", &second, "evt_h4").await;
    send(&app, &razorpay, "payout.reversed", &second, "evt_h5").await;

    assert_eq!(wallet(&app, h).await, (8_000, 0, 0));
    assert_eq!(clearing(&app).await, clearing_before + 6_000);
    let rows = payout_rows(&app, h).await;
    assert_eq!(
        rows[0],
        ("REFUND".to_owned(), 8_000, 8_000),
        "the reversal shows in the wallet's history: {rows:?}"
    );
    assert!(
        kinds_of_notifications(&app, h)
            .await
            .contains(&"PAYOUT_REVERSED".into())
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn the_console_shows_whose_payout_it_is_and_its_source_and_settles_a_households() {
    let app = TestApp::new().await;
    let y = paid_household(&app).await;
    let id = id_of(
        request(&app, &y.household, 5_000, "w1", None).await,
        "requestPayout",
    );
    let console = Console::sign_in(&app, &y.admin.email).await;

    let list = console.get("/admin/payouts?source=WALLET").await;
    let detail = console.get(&format!("/admin/payouts/{id}")).await;
    let earnings_only = console.get("/admin/payouts?source=EARNINGS").await;

    assert_eq!(list.status, 200, "{}", list.body);
    assert!(
        list.body
            .contains(&format!("/admin/users/{}", y.household.user_id))
    );
    assert!(list.body.contains("Asha") && list.body.contains("Wallet"));
    assert!(detail.body.contains(&y.household.email) && detail.body.contains("Wallet"));
    assert!(earnings_only.body.contains("No payouts match."));

    let rejected = console
        .post(
            &format!("/admin/payouts/{id}/reject"),
            &[("reason", "unverified")],
        )
        .await;
    assert_eq!(rejected.status, 303);
    assert!(
        rejected
            .location
            .as_deref()
            .is_some_and(|l| l.contains("wallet")),
        "{:?}",
        rejected.location
    );
    assert_eq!(wallet(&app, &y.household).await, (EARNED, 0, 0));
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn the_migration_gives_vendor_payouts_their_user_both_ways_and_keeps_wallet_payouts() {
    use migration::{Migrator, MigratorTrait as _};
    let app = TestApp::new().await;
    let (shop, _) = payouts_razorpayx::earning_shop(&app).await;
    let vendor_payout = id_of(
        request(&app, &shop.owner, 5_000, "v1", None).await,
        "requestPayout",
    );
    let before = payouts::Entity::find_by_id(vendor_payout.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let steps = crate::support::migrations_since("m20261203_000101_add_payout_sources");

    Migrator::down(&app.state.db, Some(steps)).await.unwrap();
    Migrator::up(&app.state.db, None).await.unwrap();

    let after = payouts::Entity::find_by_id(before.id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before, "the user is backfilled from the vendor");
    assert_eq!(after.user_id, user(&shop.owner));
    let replayed = request(&app, &shop.owner, 5_000, "v1", None)
        .await
        .data("requestPayout");
    assert_eq!(
        replayed["id"],
        vendor_payout.as_str(),
        "keys are still per payee"
    );

    // Wallet payouts moved money through USER_PAYOUT_HELD: down refuses and changes nothing.
    let y = paid_household(&app).await;
    let household_payout = id_of(
        request(&app, &y.household, 5_000, "w1", None).await,
        "requestPayout",
    );
    let refused = Migrator::down(&app.state.db, Some(steps)).await;
    assert!(refused.is_err(), "wallet payouts have nowhere to go");
    let kept = payouts::Entity::find_by_id(household_payout.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.source, payouts::PayoutSource::Wallet);
    assert_ledger_sound(&app).await;
}
