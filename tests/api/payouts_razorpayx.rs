//! Payouts through RazorpayX against a fake RazorpayX (a local HTTP server that answers and
//! signs like it): payout accounts (validated, registered as contact and fund account), sending
//! an approved payout with its idempotency key, and the webhook settling it exactly once in any
//! order: processed, reversed after processed, failed, duplicated and replayed.

use entity::{ledger_accounts::AccountKind, ledger_transfers::TransferKind};
use kabaadwala::wallet::ledger::{self, PLATFORM, Transfer};
use serde_json::{Value, json};

use crate::support::{
    Gql, Session, TestApp,
    market::{Shop, assert_ledger_sound, ledger_balance, shop},
    providers::{FakeRazorpay, deliver},
    server,
};

const PAYOUT: &str = "id status amount reference reason paidAt";
const ACCOUNT: &str = "id kind vpa accountNumberLast4 ifsc holderName verifiedAt";

/// An app whose payouts go through the fake RazorpayX (recharges stay on the sandbox).
pub async fn app(razorpay: &FakeRazorpay) -> TestApp {
    let env: Vec<(&str, String)> = razorpay
        .env()
        .into_iter()
        .filter(|(k, _)| *k != "PAYMENT_PROVIDER")
        .collect();
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::with_env(&pairs).await
}

/// An approved shop with ₹190 of earnings, and an admin.
pub async fn earning_shop(app: &TestApp) -> (Shop, Session) {
    let shop = shop(app, "Ravi").await;
    let db = &app.state.db;
    ledger::transfer(
        db,
        Transfer {
            debit: ledger::account(db, AccountKind::PlatformAdjustments, PLATFORM)
                .await
                .unwrap(),
            credit: ledger::account(db, AccountKind::VendorEarnings, shop.vendor_id)
                .await
                .unwrap(),
            amount: 19_000,
            kind: TransferKind::Adjustment,
            reference: "test:earnings".into(),
            idempotency_key: None,
            hold_id: None,
        },
    )
    .await
    .unwrap();
    (shop, app.admin().await)
}

pub async fn set_account(app: &TestApp, who: &Session, input: Value) -> Gql {
    app.gql(
        &format!("mutation($input: PayoutAccountInput!) {{ setPayoutAccount(input: $input) {{ {ACCOUNT} }} }}"),
        json!({ "input": input }),
        Some(&who.access_token),
    )
    .await
}

async fn request(app: &TestApp, shop: &Shop, amount: i64) -> String {
    app.gql(
        &format!("mutation($input: PayoutInput!) {{ requestPayout(input: $input) {{ {PAYOUT} }} }}"),
        json!({ "input": { "amount": amount, "idempotencyKey": uuid::Uuid::new_v4().to_string() } }),
        Some(&shop.owner.access_token),
    )
    .await
    .data("requestPayout")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn approve(app: &TestApp, admin: &Session, id: &str) -> Gql {
    app.gql(
        &format!("mutation($id: ID!) {{ approvePayout(id: $id) {{ {PAYOUT} }} }}"),
        json!({ "id": id }),
        Some(&admin.access_token),
    )
    .await
}

async fn payout(app: &TestApp, shop: &Shop) -> Value {
    app.gql(
        &format!("{{ payouts(first: 1) {{ edges {{ node {{ {PAYOUT} }} }} }} }}"),
        json!({}),
        Some(&shop.owner.access_token),
    )
    .await
    .data("payouts")["edges"][0]["node"]
        .clone()
}

async fn earnings(app: &TestApp, shop: &Shop) -> i64 {
    ledger_balance(app, AccountKind::VendorEarnings, shop.vendor_id).await
}

async fn held(app: &TestApp, shop: &Shop) -> i64 {
    ledger_balance(app, AccountKind::VendorPayoutHeld, shop.vendor_id).await
}

/// Delivers a RazorpayX event about `payout_id` (with a fresh event id, or `event_id`).
pub async fn send(
    app: &TestApp,
    razorpay: &FakeRazorpay,
    event: &str,
    payout_id: &str,
    event_id: &str,
) -> (u16, Value) {
    let srv = server::start(app).await;
    let body = razorpay.payout_event(event, payout_id, Some("UTR2026113000042"));
    let answer = deliver(
        &srv.url("/webhooks/payouts/razorpayx"),
        &body,
        &FakeRazorpay::headers(&body, event_id),
    )
    .await;
    app.drain_jobs().await;
    answer
}

/// A shop with a VPA payout account and a payout of ₹150 approved (PROCESSING at RazorpayX).
async fn processing(app: &TestApp) -> (Shop, String) {
    let (shop, admin) = earning_shop(app).await;
    set_account(app, &shop.owner, json!({ "vpa": "ravi@okaxis" }))
        .await
        .data("setPayoutAccount");
    let id = request(app, &shop, 15_000).await;
    let approved = approve(app, &admin, &id).await.data("approvePayout");
    assert_eq!(approved["status"], "PROCESSING");
    (shop, id)
}

#[tokio::test]
async fn a_payout_account_is_validated_and_registered_as_a_contact_and_fund_account() {
    let razorpay = FakeRazorpay::start().await;
    let app = app(&razorpay).await;
    let asha = app.customer("Asha").await;

    let bad_vpa = set_account(&app, &asha, json!({ "vpa": "asha at okaxis" })).await;
    let bad_ifsc = set_account(
        &app,
        &asha,
        json!({ "accountNumber": "123456789012", "ifsc": "HDFC1234567", "holderName": "Asha" }),
    )
    .await;
    let short_number = set_account(
        &app,
        &asha,
        json!({ "accountNumber": "12345", "ifsc": "HDFC0001234", "holderName": "Asha" }),
    )
    .await;
    let both = set_account(
        &app,
        &asha,
        json!({ "vpa": "asha@okaxis", "ifsc": "HDFC0001234" }),
    )
    .await;
    let none_yet = app
        .gql(
            &format!("{{ payoutAccount {{ {ACCOUNT} }} }}"),
            json!({}),
            Some(&asha.access_token),
        )
        .await;
    assert_eq!(bad_vpa.field().as_deref(), Some("vpa"));
    assert_eq!(bad_ifsc.field().as_deref(), Some("ifsc"));
    assert_eq!(short_number.field().as_deref(), Some("accountNumber"));
    assert_eq!(both.code(), "BAD_USER_INPUT");
    assert!(none_yet.data("payoutAccount").is_null());
    assert_eq!(
        razorpay.with(|l| l.calls.len()),
        0,
        "nothing invalid reached the provider"
    );

    let bank = set_account(&app, &asha, json!({ "accountNumber": "000123456789012", "ifsc": "hdfc0001234", "holderName": "Asha Kumari" }))
        .await
        .data("setPayoutAccount");
    let shown = app
        .gql(
            &format!("{{ payoutAccount {{ {ACCOUNT} }} }}"),
            json!({}),
            Some(&asha.access_token),
        )
        .await
        .data("payoutAccount");

    assert_eq!(bank["kind"], "BANK");
    assert_eq!(bank["accountNumberLast4"], "9012");
    assert_eq!(bank["ifsc"], "HDFC0001234");
    assert!(bank["verifiedAt"].is_string());
    assert_eq!(shown, bank);
    let (contact, fund) = razorpay.with(|l| (l.contacts.clone(), l.fund_accounts.clone()));
    assert_eq!(contact.len(), 1);
    assert_eq!(contact[0]["reference_id"], asha.user_id);
    assert_eq!(fund[0]["bank_account"]["account_number"], "000123456789012");
    assert_eq!(fund[0]["bank_account"]["ifsc"], "HDFC0001234");
}

#[tokio::test]
async fn an_approved_payout_is_sent_once_and_paid_by_the_processed_webhook_exactly_once() {
    let razorpay = FakeRazorpay::start().await;
    let app = app(&razorpay).await;
    let (shop, admin) = earning_shop(&app).await;
    let id = request(&app, &shop, 15_000).await;
    let without_account = approve(&app, &admin, &id).await;
    assert_eq!(without_account.code(), "BAD_USER_INPUT");
    assert_eq!(
        payout(&app, &shop).await["status"],
        "REQUESTED",
        "nothing changed"
    );
    set_account(&app, &shop.owner, json!({ "vpa": "ravi@okaxis" }))
        .await
        .data("setPayoutAccount");

    let approved = approve(&app, &admin, &id).await.data("approvePayout");
    app.drain_jobs().await; // the queued submit finds it sent: no second payout
    let by_hand = app
        .gql(
            "mutation($id: ID!) { markPayoutPaid(id: $id, reference: \"UTR1\") { status } }",
            json!({ "id": id }),
            Some(&admin.access_token),
        )
        .await;

    assert_eq!(approved["status"], "PROCESSING");
    assert_eq!(by_hand.code(), "INVALID_TRANSITION");
    let sent = razorpay.with(|l| l.payouts.clone());
    assert_eq!(sent.len(), 1);
    let (key, pout) = sent.iter().next().unwrap();
    assert_eq!(key, &id, "X-Payout-Idempotency is the payout id");
    assert_eq!(
        (pout["mode"].as_str(), pout["amount"].as_i64()),
        (Some("UPI"), Some(15_000))
    );
    assert_eq!(
        razorpay.with(|l| l.calls.iter().filter(|c| *c == "POST /v1/payouts").count()),
        1
    );

    let clearing_before = ledger_balance(&app, AccountKind::ProviderClearing, PLATFORM).await;
    let first = send(&app, &razorpay, "payout.processed", &id, "evt_p1").await;
    let duplicate = send(&app, &razorpay, "payout.processed", &id, "evt_p1").await;
    let redelivered = send(&app, &razorpay, "payout.processed", &id, "evt_p2").await;
    let srv = server::start(&app).await;
    let body = razorpay.payout_event("payout.processed", &id, None);
    let forged = deliver(
        &srv.url("/webhooks/payouts/razorpayx"),
        &body,
        &[
            ("X-Razorpay-Signature".into(), "00".repeat(32)),
            ("X-Razorpay-Event-Id".into(), "evt_x".into()),
        ],
    )
    .await;

    assert_eq!(
        (
            first.0,
            duplicate.1["duplicate"].clone(),
            redelivered.0,
            forged.0
        ),
        (200, json!(true), 200, 401)
    );
    let paid = payout(&app, &shop).await;
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["reference"], "UTR2026113000042");
    assert!(paid["paidAt"].is_string());
    assert_eq!(
        (earnings(&app, &shop).await, held(&app, &shop).await),
        (4_000, 0)
    );
    assert_eq!(
        ledger_balance(&app, AccountKind::ProviderClearing, PLATFORM).await,
        clearing_before + 15_000
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_payout_reversed_after_it_was_processed_returns_the_money_to_earnings_once() {
    let razorpay = FakeRazorpay::start().await;
    let app = app(&razorpay).await;
    let (shop, id) = processing(&app).await;

    send(&app, &razorpay, "payout.processed", &id, "evt_1").await;
    send(&app, &razorpay, "payout.reversed", &id, "evt_2").await;
    send(&app, &razorpay, "payout.reversed", &id, "evt_3").await;
    send(&app, &razorpay, "payout.processed", &id, "evt_4").await;

    let reversed = payout(&app, &shop).await;
    assert_eq!(reversed["status"], "REVERSED");
    assert!(
        reversed["reason"]
            .as_str()
            .unwrap()
            .contains("bank is down")
    );
    assert_eq!(
        (earnings(&app, &shop).await, held(&app, &shop).await),
        (19_000, 0)
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn events_out_of_order_settle_a_payout_the_same_way() {
    let razorpay = FakeRazorpay::start().await;
    let app = app(&razorpay).await;
    let (shop, id) = processing(&app).await;

    // The reversal is delivered before the processed event it follows.
    send(&app, &razorpay, "payout.reversed", &id, "evt_b").await;
    send(&app, &razorpay, "payout.processed", &id, "evt_a").await;

    assert_eq!(payout(&app, &shop).await["status"], "REVERSED");
    assert_eq!(
        (earnings(&app, &shop).await, held(&app, &shop).await),
        (19_000, 0)
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_failed_payout_returns_the_money_to_earnings_and_a_mismatched_event_moves_nothing() {
    let razorpay = FakeRazorpay::start().await;
    let app = app(&razorpay).await;
    let admin = app.admin().await;
    let (shop, id) = processing(&app).await;

    // A signed event claiming another amount is kept for review, not acted on.
    let srv = server::start(&app).await;
    let body = razorpay
        .payout_event("payout.processed", &id, Some("UTR9"))
        .replace("\"amount\":15000", "\"amount\":1500000");
    deliver(
        &srv.url("/webhooks/payouts/razorpayx"),
        &body,
        &FakeRazorpay::headers(&body, "evt_m"),
    )
    .await;
    app.drain_jobs().await;
    assert_eq!(payout(&app, &shop).await["status"], "PROCESSING");
    send(&app, &razorpay, "payout.failed", &id, "evt_f").await;

    assert_eq!(payout(&app, &shop).await["status"], "REVERSED");
    assert_eq!(
        (earnings(&app, &shop).await, held(&app, &shop).await),
        (19_000, 0)
    );
    let review = app
        .gql("{ unmatchedWebhookEvents(first: 5) { totalCount edges { node { provider outcome } } } }", json!({}), Some(&admin.access_token))
        .await
        .data("unmatchedWebhookEvents");
    assert_eq!(review["totalCount"], 1);
    assert_eq!(
        review["edges"][0]["node"],
        json!({ "provider": "razorpayx", "outcome": "mismatch" })
    );
    assert_ledger_sound(&app).await;
}
