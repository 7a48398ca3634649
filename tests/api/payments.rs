//! Real payment rails against fake providers (local HTTP servers that answer and sign like
//! Razorpay and Stripe): Checkout confirmation, webhooks delivered twice, out of order, late,
//! tampered and replayed, reconciliation, and the production start-up refusal.

use chrono::{Duration, Utc};
use entity::recharges::{self, RechargeStatus};
use kabaadwala::{
    config::Config,
    jobs::queue,
    wallet::{jobs::ReconcileRecharges, ledger},
};
use sea_orm::EntityTrait as _;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    Session, TestApp,
    providers::{FakeRazorpay, FakeStripe, deliver},
    server,
};

const RECHARGE: &str = "mutation($input: RechargeInput!) { rechargeWallet(input: $input) { id amount status provider checkout { provider providerOrderId keyId clientSecret amount currency } } }";
const CONFIRM: &str =
    "mutation($input: ConfirmRechargeInput!) { confirmRecharge(input: $input) { id status } }";

async fn app_with(env: Vec<(&'static str, String)>) -> TestApp {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::with_env(&pairs).await
}

async fn start_recharge(app: &TestApp, who: &Session, amount: i64) -> Value {
    app.gql(
        RECHARGE,
        json!({ "input": { "amount": amount, "idempotencyKey": Uuid::new_v4().to_string() } }),
        Some(&who.access_token),
    )
    .await
    .data("rechargeWallet")
}

async fn balance(app: &TestApp, who: &Session) -> i64 {
    app.gql(
        "{ wallet { availableBalance } }",
        json!({}),
        Some(&who.access_token),
    )
    .await
    .data("wallet")["availableBalance"]
        .as_i64()
        .unwrap()
}

async fn recharge_credits(app: &TestApp, who: &Session) -> usize {
    app.gql(
        "{ walletTransactions(first: 50, kind: RECHARGE) { totalCount } }",
        json!({}),
        Some(&who.access_token),
    )
    .await
    .data("walletTransactions")["totalCount"]
        .as_u64()
        .unwrap() as usize
}

async fn status_of(app: &TestApp, id: &Value) -> RechargeStatus {
    recharges::Entity::find_by_id(id.as_str().unwrap().parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .status
}

async fn assert_ledger_sound(app: &TestApp) {
    let report = ledger::check(&app.state.db).await.unwrap();
    assert!(report.ok(), "ledger violations: {:#?}", report.violations);
}

fn event_id() -> String {
    format!("evt_{}", Uuid::new_v4().simple())
}

/// Runs the reconciliation as the scheduler would for a slot at `at`.
async fn reconcile_at(app: &TestApp, at: chrono::DateTime<Utc>) {
    queue::enqueue(&app.state.db, &ReconcileRecharges { slot: at })
        .await
        .unwrap();
    app.drain_jobs().await;
}

#[tokio::test]
async fn a_razorpay_recharge_opens_an_order_and_its_checkout_signature_credits_it_once() {
    let razorpay = FakeRazorpay::start().await;
    let app = app_with(razorpay.env()).await;
    let asha = app.customer("Asha").await;

    let started = start_recharge(&app, &asha, 50_000).await;
    let checkout = &started["checkout"];
    let order_id = checkout["providerOrderId"].as_str().unwrap().to_owned();
    let order = razorpay.order(&order_id);
    assert_eq!(started["status"], "PENDING");
    assert_eq!(started["provider"], "razorpay");
    assert_eq!(checkout["keyId"], crate::support::providers::RZP_KEY_ID);
    assert_eq!(
        (checkout["amount"].as_i64(), checkout["currency"].as_str()),
        (Some(50_000), Some("INR"))
    );
    assert_eq!(
        (order["amount"].as_i64(), order["receipt"].as_str()),
        (Some(50_000), started["id"].as_str())
    );

    let payment = razorpay.pay(&order_id, true);
    let payment_id = payment["id"].as_str().unwrap();
    let forged = app
        .gql(
            CONFIRM,
            json!({ "input": { "rechargeId": started["id"], "providerPaymentId": payment_id, "signature": "00".repeat(32) } }),
            Some(&asha.access_token),
        )
        .await;
    // A signature of another order's payment does not prove this one.
    let other_order = FakeRazorpay::checkout_signature("order_someoneelse", payment_id);
    let borrowed = app
        .gql(
            CONFIRM,
            json!({ "input": { "rechargeId": started["id"], "providerPaymentId": payment_id, "signature": other_order } }),
            Some(&asha.access_token),
        )
        .await;
    assert_eq!(
        (forged.code(), forged.field()),
        ("BAD_USER_INPUT".into(), Some("signature".into()))
    );
    assert_eq!(borrowed.field().as_deref(), Some("signature"));
    assert_eq!(balance(&app, &asha).await, 0);

    let signature = FakeRazorpay::checkout_signature(&order_id, payment_id);
    let input = json!({ "input": { "rechargeId": started["id"], "providerPaymentId": payment_id, "signature": signature } });
    let confirmed = app
        .gql(CONFIRM, input.clone(), Some(&asha.access_token))
        .await
        .data("confirmRecharge");
    let again = app
        .gql(CONFIRM, input.clone(), Some(&asha.access_token))
        .await
        .data("confirmRecharge");
    let ravi = app.customer("Ravi").await;
    let not_yours = app.gql(CONFIRM, input, Some(&ravi.access_token)).await;

    assert_eq!(confirmed["status"], "SUCCEEDED");
    assert_eq!(again["status"], "SUCCEEDED");
    assert_eq!(not_yours.code(), "NOT_FOUND");
    // Razorpay's webhooks for the same payment come afterwards: nothing more is credited.
    let srv = server::start(&app).await;
    for event in ["payment.captured", "order.paid"] {
        let body = razorpay.payment_event(event, &payment);
        let (status, _) = deliver(
            &srv.url("/webhooks/payments/razorpay"),
            &body,
            &FakeRazorpay::headers(&body, &event_id()),
        )
        .await;
        assert_eq!(status, 200);
    }
    app.drain_jobs().await;
    assert_eq!(balance(&app, &asha).await, 50_000);
    assert_eq!(recharge_credits(&app, &asha).await, 1);
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn razorpay_webhooks_duplicated_reordered_late_tampered_and_replayed_credit_each_paid_recharge_once()
 {
    let razorpay = FakeRazorpay::start().await;
    let app = app_with(razorpay.env()).await;
    let admin = app.admin().await;
    let asha = app.customer("Asha").await;
    let srv = server::start(&app).await;
    let url = srv.url("/webhooks/payments/razorpay");
    let order_of = |r: &Value| {
        r["checkout"]["providerOrderId"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // A: paid; captured delivered twice (same event id) and order.paid too.
    let a = start_recharge(&app, &asha, 10_000).await;
    let a_pay = razorpay.pay(&order_of(&a), true);
    let a_captured = razorpay.payment_event("payment.captured", &a_pay);
    let a_captured_id = event_id();
    let a_paid = razorpay.payment_event("order.paid", &a_pay);
    // B: a failed attempt, then a captured one; the events arrive in the opposite order.
    let b = start_recharge(&app, &asha, 20_000).await;
    let b_failed_pay = razorpay.pay(&order_of(&b), false);
    let b_pay = razorpay.pay(&order_of(&b), true);
    let b_captured = razorpay.payment_event("payment.captured", &b_pay);
    let b_failed = razorpay.payment_event("payment.failed", &b_failed_pay);
    // C: never paid; every event about it is forged, tampered with or of another amount.
    let c = start_recharge(&app, &asha, 30_000).await;
    let c_pay = razorpay.pay(&order_of(&c), true);
    razorpay.with(|l| l.payments.retain(|p| p["id"] != c_pay["id"]));
    let c_body = razorpay.payment_event("payment.captured", &c_pay);
    let c_inflated = c_body.replace("\"amount\":30000", "\"amount\":3000000");
    let mut c_short_pay = c_pay.clone();
    c_short_pay["amount"] = json!(100);
    let c_short = razorpay.payment_event("payment.captured", &c_short_pay);
    // D: never paid.
    let d = start_recharge(&app, &asha, 40_000).await;

    let mut answers = Vec::new();
    answers.push(
        deliver(
            &url,
            &a_captured,
            &FakeRazorpay::headers(&a_captured, &a_captured_id),
        )
        .await,
    );
    answers.push(
        deliver(
            &url,
            &a_captured,
            &FakeRazorpay::headers(&a_captured, &a_captured_id),
        )
        .await,
    );
    answers.push(deliver(&url, &a_paid, &FakeRazorpay::headers(&a_paid, &event_id())).await);
    answers.push(
        deliver(
            &url,
            &b_captured,
            &FakeRazorpay::headers(&b_captured, &event_id()),
        )
        .await,
    );
    answers.push(
        deliver(
            &url,
            &b_failed,
            &FakeRazorpay::headers(&b_failed, &event_id()),
        )
        .await,
    );
    // Signed for the true body, delivered with an inflated amount.
    let tampered = deliver(
        &url,
        &c_inflated,
        &FakeRazorpay::headers(&c_body, &event_id()),
    )
    .await;
    let wrong_key = deliver(
        &url,
        &c_body,
        &[
            (
                "X-Razorpay-Signature".into(),
                crate::support::providers::hmac_hex("not-the-secret", c_body.as_bytes()),
            ),
            ("X-Razorpay-Event-Id".into(), event_id()),
        ],
    )
    .await;
    let unsigned = deliver(&url, &c_body, &[("X-Razorpay-Event-Id".into(), event_id())]).await;
    // Properly signed, but the payment is of another amount than the recharge.
    answers.push(
        deliver(
            &url,
            &c_short,
            &FakeRazorpay::headers(&c_short, &event_id()),
        )
        .await,
    );
    app.drain_jobs().await;
    // A replay of an event already processed, long after.
    let replay = deliver(
        &url,
        &a_captured,
        &FakeRazorpay::headers(&a_captured, &a_captured_id),
    )
    .await;
    app.drain_jobs().await;

    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(answers[1].1["duplicate"], true);
    assert_eq!(
        replay,
        (200, json!({ "received": true, "duplicate": true }))
    );
    assert_eq!((tampered.0, wrong_key.0, unsigned.0), (401, 401, 401));
    assert_eq!(status_of(&app, &a["id"]).await, RechargeStatus::Succeeded);
    assert_eq!(status_of(&app, &b["id"]).await, RechargeStatus::Succeeded);
    assert_eq!(status_of(&app, &c["id"]).await, RechargeStatus::Pending);
    assert_eq!(status_of(&app, &d["id"]).await, RechargeStatus::Pending);
    assert_eq!(balance(&app, &asha).await, 30_000);
    assert_eq!(recharge_credits(&app, &asha).await, 2);
    let review = app
        .gql(
            "{ unmatchedWebhookEvents(first: 10) { totalCount edges { node { provider eventType outcome detail subjectId } } } }",
            json!({}),
            Some(&admin.access_token),
        )
        .await
        .data("unmatchedWebhookEvents");
    assert_eq!(review["totalCount"], 1, "{review}");
    let node = &review["edges"][0]["node"];
    assert_eq!(
        (node["outcome"].as_str(), node["subjectId"].as_str()),
        (Some("mismatch"), c["id"].as_str())
    );
    assert!(node["detail"].as_str().unwrap().contains("100"), "{node}");
    let forbidden = app
        .gql(
            "{ unmatchedWebhookEvents(first: 1) { totalCount } }",
            json!({}),
            Some(&asha.access_token),
        )
        .await;
    assert_eq!(forbidden.code(), "FORBIDDEN");

    // Late: D expires after a day without payment; its payment then arrives after all. The
    // buyer's money was taken, so it is credited, once.
    reconcile_at(&app, Utc::now() + Duration::days(2)).await;
    assert_eq!(status_of(&app, &d["id"]).await, RechargeStatus::Failed);
    let d_pay = razorpay.pay(&order_of(&d), true);
    let d_late = razorpay.payment_event("payment.captured", &d_pay);
    deliver(&url, &d_late, &FakeRazorpay::headers(&d_late, &event_id())).await;
    app.drain_jobs().await;
    reconcile_at(&app, Utc::now() + Duration::days(3)).await;
    assert_eq!(status_of(&app, &d["id"]).await, RechargeStatus::Succeeded);
    assert_eq!(status_of(&app, &c["id"]).await, RechargeStatus::Failed);
    assert_eq!(balance(&app, &asha).await, 70_000);
    assert_eq!(recharge_credits(&app, &asha).await, 3);
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn reconciliation_settles_a_recharge_whose_webhook_never_came_and_expires_an_unpaid_one() {
    let razorpay = FakeRazorpay::start().await;
    let app = app_with(razorpay.env()).await;
    let asha = app.customer("Asha").await;
    let paid = start_recharge(&app, &asha, 25_000).await;
    let unpaid = start_recharge(&app, &asha, 15_000).await;
    razorpay.pay(paid["checkout"]["providerOrderId"].as_str().unwrap(), true);

    // Too early: RECONCILE_AFTER_MINUTES (15) have not passed; nobody is asked.
    reconcile_at(&app, Utc::now()).await;
    let asked_early = razorpay.with(|l| l.calls.iter().filter(|c| c.starts_with("GET")).count());
    reconcile_at(&app, Utc::now() + Duration::minutes(20)).await;

    assert_eq!(asked_early, 0);
    assert_eq!(
        status_of(&app, &paid["id"]).await,
        RechargeStatus::Succeeded
    );
    assert_eq!(
        status_of(&app, &unpaid["id"]).await,
        RechargeStatus::Pending
    );
    assert_eq!(balance(&app, &asha).await, 25_000);

    reconcile_at(&app, Utc::now() + Duration::hours(25)).await;
    let expired =
        recharges::Entity::find_by_id(unpaid["id"].as_str().unwrap().parse::<Uuid>().unwrap())
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(expired.status, RechargeStatus::Failed);
    assert!(expired.failure_reason.unwrap().contains("expired"));
    assert_eq!(balance(&app, &asha).await, 25_000);
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_provider_that_fails_once_is_retried_and_the_recharge_still_opens() {
    let razorpay = FakeRazorpay::start().await;
    let app = app_with(razorpay.env()).await;
    let asha = app.customer("Asha").await;
    razorpay.with(|l| l.fail_next = 1);

    let started = start_recharge(&app, &asha, 12_000).await;

    assert!(
        started["checkout"]["providerOrderId"]
            .as_str()
            .unwrap()
            .starts_with("order_")
    );
    assert_eq!(
        razorpay.with(|l| l.calls.len()),
        2,
        "one failure, one retry"
    );
}

#[tokio::test]
async fn stripe_webhooks_are_verified_with_tolerance_and_credit_each_paid_intent_once() {
    let stripe = FakeStripe::start().await;
    let app = app_with(stripe.env()).await;
    let asha = app.customer("Asha").await;
    let srv = server::start(&app).await;
    let url = srv.url("/webhooks/payments/stripe");
    let sig = |body: &str, t: i64| {
        vec![(
            "Stripe-Signature".to_owned(),
            FakeStripe::signature(body, t, &[]),
        )]
    };
    let now = Utc::now().timestamp();

    let paid = start_recharge(&app, &asha, 30_000).await;
    let declined = start_recharge(&app, &asha, 20_000).await;
    let intent_id = paid["checkout"]["providerOrderId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        paid["checkout"]["clientSecret"]
            .as_str()
            .unwrap()
            .starts_with(&intent_id)
    );
    assert_eq!(
        stripe.with(|l| l.intent_keys.get(paid["id"].as_str().unwrap()).cloned()),
        Some(intent_id.clone()),
        "the intent was created with the recharge id as its Idempotency-Key"
    );

    let intent = stripe.pay(&intent_id, true);
    let (_, body) = FakeStripe::event("payment_intent.succeeded", &intent);
    let stale = deliver(&url, &body, &sig(&body, now - 400)).await;
    let future = deliver(&url, &body, &sig(&body, now + 400)).await;
    let tampered = deliver(&url, &body.replace("30000", "3000000"), &sig(&body, now)).await;
    // Several v1 values (a secret being rolled): one good one is enough.
    let rolled = vec![(
        "Stripe-Signature".to_owned(),
        FakeStripe::signature(&body, now, &["deadbeef"]),
    )];
    let first = deliver(&url, &body, &rolled).await;
    let duplicate = deliver(&url, &body, &sig(&body, now)).await;
    let declined_intent = stripe.pay(
        declined["checkout"]["providerOrderId"].as_str().unwrap(),
        false,
    );
    let (_, failed_body) = FakeStripe::event("payment_intent.payment_failed", &declined_intent);
    deliver(&url, &failed_body, &sig(&failed_body, now)).await;
    app.drain_jobs().await;

    assert_eq!((stale.0, future.0, tampered.0), (401, 401, 401));
    assert_eq!(
        first,
        (200, json!({ "received": true, "duplicate": false }))
    );
    assert_eq!(duplicate.1["duplicate"], true);
    assert_eq!(
        status_of(&app, &paid["id"]).await,
        RechargeStatus::Succeeded
    );
    assert_eq!(
        status_of(&app, &declined["id"]).await,
        RechargeStatus::Failed
    );
    assert_eq!(balance(&app, &asha).await, 30_000);
    assert_eq!(recharge_credits(&app, &asha).await, 1);
    let confirm = app
        .gql(
            CONFIRM,
            json!({ "input": { "rechargeId": paid["id"], "providerPaymentId": "pi_x", "signature": "00" } }),
            Some(&asha.access_token),
        )
        .await;
    assert_eq!(confirm.field().as_deref(), Some("rechargeId"));
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn stripe_reconciliation_settles_an_intent_that_succeeded_without_a_webhook() {
    let stripe = FakeStripe::start().await;
    let app = app_with(stripe.env()).await;
    let asha = app.customer("Asha").await;
    let paid = start_recharge(&app, &asha, 45_000).await;
    stripe.pay(paid["checkout"]["providerOrderId"].as_str().unwrap(), true);

    reconcile_at(&app, Utc::now() + Duration::minutes(30)).await;

    assert_eq!(
        status_of(&app, &paid["id"]).await,
        RechargeStatus::Succeeded
    );
    assert_eq!(balance(&app, &asha).await, 45_000);
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn production_refuses_to_start_with_the_sandbox_naming_the_variable() {
    let env = [
        ("APP_ENV", "production"),
        ("JWT_SECRET", "a-production-secret-of-enough-length-123"),
        ("PAYMENT_WEBHOOK_SECRET", "a-webhook-secret"),
        ("METRICS_TOKEN", "scrape-me"),
    ];
    let in_process = Config::from_lookup(|k| {
        env.iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .err();
    assert_eq!(in_process.map(|e| e.var), Some("PAYMENT_PROVIDER"));

    // The real binary, as deployed: it exits at once, naming the variable.
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kabaadwala"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env)
        .env("PAYMENT_PROVIDER", "sandbox")
        .env(
            "DATABASE_URL",
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("db.sqlite").display()
            ),
        )
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("PAYMENT_PROVIDER"), "{stderr}");
    let missing_key = std::process::Command::new(env!("CARGO_BIN_EXE_kabaadwala"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env)
        .env("PAYMENT_PROVIDER", "razorpay")
        .env("RAZORPAY_KEY_ID", "rzp_live_x")
        .env(
            "DATABASE_URL",
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("db.sqlite").display()
            ),
        )
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!missing_key.status.success());
    assert!(String::from_utf8_lossy(&missing_key.stderr).contains("RAZORPAY_KEY_SECRET"));
}

#[tokio::test]
async fn the_dev_checkout_page_is_served_in_development_only() {
    let dev = TestApp::new().await;
    let razorpay = FakeRazorpay::start().await;
    let mut env = razorpay.env();
    env.extend([
        ("APP_ENV", "production".to_owned()),
        ("PAYMENT_WEBHOOK_SECRET", "a-webhook-secret".to_owned()),
        ("METRICS_TOKEN", "scrape-me".to_owned()),
    ]);
    let prod = app_with(env).await;
    let dev_srv = server::start(&dev).await;
    let prod_srv = server::start(&prod).await;

    let page = reqwest::get(dev_srv.url("/dev/checkout")).await.unwrap();
    let hidden = reqwest::get(prod_srv.url("/dev/checkout")).await.unwrap();
    let sandbox_hook = reqwest::Client::new()
        .post(prod_srv.url("/webhooks/payments/sandbox"))
        .body("{}")
        .send()
        .await
        .unwrap();

    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("confirmRecharge"));
    assert_eq!(hidden.status(), 404);
    assert_eq!(sandbox_hook.status(), 404, "no sandbox in production");
}

#[tokio::test]
async fn a_payment_on_a_second_order_for_the_same_recharge_is_matched_by_its_receipt_and_credits_once()
 {
    let razorpay = FakeRazorpay::start().await;
    let app = app_with(razorpay.env()).await;
    let asha = app.customer("Asha").await;
    let started = start_recharge(&app, &asha, 35_000).await;
    // A retried order creation (its first answer lost) left a second order for the recharge.
    let second: Value = reqwest::Client::new()
        .post(format!("{}/v1/orders", razorpay.url))
        .basic_auth(
            crate::support::providers::RZP_KEY_ID,
            Some(crate::support::providers::RZP_KEY_SECRET),
        )
        .json(&json!({ "amount": 35_000, "currency": "INR", "receipt": started["id"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let srv = server::start(&app).await;
    let url = srv.url("/webhooks/payments/razorpay");

    let paid_second = razorpay.pay(second["id"].as_str().unwrap(), true);
    let body = razorpay.payment_event("order.paid", &paid_second);
    deliver(&url, &body, &FakeRazorpay::headers(&body, &event_id())).await;
    app.drain_jobs().await;
    let paid_first = razorpay.pay(
        started["checkout"]["providerOrderId"].as_str().unwrap(),
        true,
    );
    let body = razorpay.payment_event("order.paid", &paid_first);
    deliver(&url, &body, &FakeRazorpay::headers(&body, &event_id())).await;
    app.drain_jobs().await;

    assert_eq!(
        status_of(&app, &started["id"]).await,
        RechargeStatus::Succeeded
    );
    assert_eq!(balance(&app, &asha).await, 35_000);
    assert_eq!(recharge_credits(&app, &asha).await, 1);
    // The buyer paid twice: the second payment is flagged for a refund, not credited.
    let admin = app.admin().await;
    let review = app
        .gql(
            "{ unmatchedWebhookEvents(first: 5) { edges { node { outcome detail } } } }",
            json!({}),
            Some(&admin.access_token),
        )
        .await
        .data("unmatchedWebhookEvents");
    assert_eq!(review["edges"][0]["node"]["outcome"], "second_payment");
    assert!(
        review["edges"][0]["node"]["detail"]
            .as_str()
            .unwrap()
            .contains(paid_first["id"].as_str().unwrap())
    );
    assert_ledger_sound(&app).await;
}
