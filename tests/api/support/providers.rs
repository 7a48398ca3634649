//! Fake payment providers: real local HTTP servers (axum, port 0) that answer like Razorpay
//! (Orders, RazorpayX contacts, fund accounts and payouts) and Stripe (PaymentIntents), check our
//! credentials and idempotency keys like them, and sign webhooks and Checkout results like them.
//! The test plays the buyer (`pay`) and the provider's webhook sender (`*_event`, `deliver`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

pub const RZP_KEY_ID: &str = "rzp_test_kabaadwala";
pub const RZP_KEY_SECRET: &str = "rzp-test-key-secret";
pub const RZP_WEBHOOK_SECRET: &str = "rzp-test-webhook-secret";
pub const RZPX_ACCOUNT: &str = "2323230000000001";
pub const STRIPE_KEY: &str = "sk_test_kabaadwala";
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_test_kabaadwala";

pub fn hmac_hex(key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

fn random_id(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..14]
    )
}

fn error(status: StatusCode, description: &str) -> (StatusCode, Json<Value>) {
    (
        status,
        Json(
            json!({ "error": { "code": "BAD_REQUEST_ERROR", "description": description, "message": description } }),
        ),
    )
}

type Reply = (StatusCode, Json<Value>);

/// What the fakes saw and hold.
#[derive(Default)]
pub struct Ledger {
    pub orders: HashMap<String, Value>,
    pub payments: Vec<Value>,
    pub contacts: Vec<Value>,
    pub fund_accounts: Vec<Value>,
    /// RazorpayX payouts by `X-Payout-Idempotency`.
    pub payouts: HashMap<String, Value>,
    /// Stripe intents by id, and the idempotency key each was created with.
    pub intents: HashMap<String, Value>,
    pub intent_keys: HashMap<String, String>,
    /// Requests that reached the fake (method and path), in order.
    pub calls: Vec<String>,
    /// Answer the next N calls with 500 (to exercise retries).
    pub fail_next: u32,
}

#[derive(Clone)]
struct Shared(Arc<Mutex<Ledger>>);

impl Shared {
    /// Records the call; an error reply when it must fail (auth, injected failure).
    fn enter(&self, call: &str, headers: &HeaderMap, expected_auth: &str) -> Option<Reply> {
        let mut ledger = self.0.lock().unwrap();
        ledger.calls.push(call.to_owned());
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if auth != expected_auth {
            return Some(error(StatusCode::UNAUTHORIZED, "Authentication failed"));
        }
        if ledger.fail_next > 0 {
            ledger.fail_next -= 1;
            return Some(error(StatusCode::INTERNAL_SERVER_ERROR, "try again"));
        }
        None
    }
}

async fn serve(router: Router) -> (String, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .ok();
    });
    (url, shutdown)
}

/// Razorpay and RazorpayX.
pub struct FakeRazorpay {
    pub url: String,
    shared: Shared,
    shutdown: CancellationToken,
}

impl Drop for FakeRazorpay {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn basic_auth() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{RZP_KEY_ID}:{RZP_KEY_SECRET}"))
    )
}

async fn rzp_create_order(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Reply {
    if let Some(reply) = shared.enter("POST /v1/orders", &headers, &basic_auth()) {
        return reply;
    }
    let Some(amount) = body["amount"].as_i64().filter(|a| *a >= 100) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The amount must be atleast INR 1.00",
        );
    };
    let order = json!({
        "id": random_id("order"), "entity": "order", "amount": amount, "amount_paid": 0,
        "amount_due": amount, "currency": body["currency"], "receipt": body["receipt"],
        "status": "created", "attempts": 0, "notes": body["notes"], "created_at": 1_764_460_800,
    });
    let mut ledger = shared.0.lock().unwrap();
    ledger
        .orders
        .insert(order["id"].as_str().unwrap().to_owned(), order.clone());
    (StatusCode::OK, Json(order))
}

async fn rzp_order_payments(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    if let Some(reply) = shared.enter(
        &format!("GET /v1/orders/{id}/payments"),
        &headers,
        &basic_auth(),
    ) {
        return reply;
    }
    let ledger = shared.0.lock().unwrap();
    if !ledger.orders.contains_key(&id) {
        return error(StatusCode::BAD_REQUEST, "The id provided does not exist");
    }
    let items: Vec<Value> = ledger
        .payments
        .iter()
        .filter(|p| p["order_id"] == id.as_str())
        .cloned()
        .collect();
    (
        StatusCode::OK,
        Json(json!({ "entity": "collection", "count": items.len(), "items": items })),
    )
}

async fn rzpx_contact(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Reply {
    if let Some(reply) = shared.enter("POST /v1/contacts", &headers, &basic_auth()) {
        return reply;
    }
    let mut ledger = shared.0.lock().unwrap();
    // Identical details return the existing contact, as RazorpayX does.
    if let Some(existing) = ledger
        .contacts
        .iter()
        .find(|c| c["reference_id"] == body["reference_id"] && c["name"] == body["name"])
    {
        return (StatusCode::OK, Json(existing.clone()));
    }
    let contact = json!({ "id": random_id("cont"), "entity": "contact", "name": body["name"],
        "email": body["email"], "type": body["type"], "reference_id": body["reference_id"], "active": true });
    ledger.contacts.push(contact.clone());
    (StatusCode::CREATED, Json(contact))
}

async fn rzpx_fund_account(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Reply {
    if let Some(reply) = shared.enter("POST /v1/fund_accounts", &headers, &basic_auth()) {
        return reply;
    }
    let mut ledger = shared.0.lock().unwrap();
    if !ledger
        .contacts
        .iter()
        .any(|c| c["id"] == body["contact_id"])
    {
        return error(
            StatusCode::BAD_REQUEST,
            "The contact id provided does not exist",
        );
    }
    let account = json!({ "id": random_id("fa"), "entity": "fund_account", "contact_id": body["contact_id"],
        "account_type": body["account_type"], "vpa": body["vpa"], "bank_account": body["bank_account"], "active": true });
    ledger.fund_accounts.push(account.clone());
    (StatusCode::CREATED, Json(account))
}

async fn rzpx_payout(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Reply {
    if let Some(reply) = shared.enter("POST /v1/payouts", &headers, &basic_auth()) {
        return reply;
    }
    let Some(key) = headers
        .get("x-payout-idempotency")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "X-Payout-Idempotency header is required",
        );
    };
    let mut ledger = shared.0.lock().unwrap();
    if let Some(existing) = ledger.payouts.get(&key) {
        return (StatusCode::OK, Json(existing.clone()));
    }
    if body["account_number"] != RZPX_ACCOUNT {
        return error(StatusCode::BAD_REQUEST, "Invalid account number");
    }
    if !ledger
        .fund_accounts
        .iter()
        .any(|f| f["id"] == body["fund_account_id"])
    {
        return error(
            StatusCode::BAD_REQUEST,
            "The fund account id provided does not exist",
        );
    }
    let payout = json!({ "id": random_id("pout"), "entity": "payout", "fund_account_id": body["fund_account_id"],
        "amount": body["amount"], "currency": body["currency"], "mode": body["mode"], "purpose": body["purpose"],
        "reference_id": body["reference_id"], "status": "processing", "utr": null });
    ledger.payouts.insert(key, payout.clone());
    (StatusCode::OK, Json(payout))
}

impl FakeRazorpay {
    pub async fn start() -> Self {
        let shared = Shared(Arc::new(Mutex::new(Ledger::default())));
        let router = Router::new()
            .route("/v1/orders", post(rzp_create_order))
            .route("/v1/orders/{id}/payments", get(rzp_order_payments))
            .route("/v1/contacts", post(rzpx_contact))
            .route("/v1/fund_accounts", post(rzpx_fund_account))
            .route("/v1/payouts", post(rzpx_payout))
            .with_state(shared.clone());
        let (url, shutdown) = serve(router).await;
        Self {
            url,
            shared,
            shutdown,
        }
    }

    /// What the app's configuration needs to use this fake (payments and payouts).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PAYMENT_PROVIDER", "razorpay".into()),
            ("RAZORPAY_KEY_ID", RZP_KEY_ID.into()),
            ("RAZORPAY_KEY_SECRET", RZP_KEY_SECRET.into()),
            ("RAZORPAY_WEBHOOK_SECRET", RZP_WEBHOOK_SECRET.into()),
            ("RAZORPAY_API_URL", self.url.clone()),
            ("PAYOUT_PROVIDER", "razorpayx".into()),
            ("RAZORPAYX_ACCOUNT_NUMBER", RZPX_ACCOUNT.into()),
        ]
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Ledger) -> T) -> T {
        f(&mut self.shared.0.lock().unwrap())
    }

    pub fn order(&self, id: &str) -> Value {
        self.with(|l| l.orders.get(id).cloned().unwrap_or(Value::Null))
    }

    /// The buyer pays `order_id` in Checkout (captured, or failed); the payment entity.
    pub fn pay(&self, order_id: &str, captured: bool) -> Value {
        let order = self.order(order_id);
        let payment = json!({
            "id": random_id("pay"), "entity": "payment", "amount": order["amount"], "currency": "INR",
            "status": if captured { "captured" } else { "failed" }, "order_id": order_id,
            "method": "upi", "captured": captured,
            "error_description": if captured { Value::Null } else { json!("Payment failed because the UPI PIN was wrong") },
        });
        self.with(|l| l.payments.push(payment.clone()));
        payment
    }

    /// Checkout's handler signature for a payment.
    pub fn checkout_signature(order_id: &str, payment_id: &str) -> String {
        hmac_hex(
            RZP_KEY_SECRET,
            format!("{order_id}|{payment_id}").as_bytes(),
        )
    }

    /// A payment webhook body (`payment.captured`, `payment.failed`, `order.paid`).
    pub fn payment_event(&self, event: &str, payment: &Value) -> String {
        let mut payload = json!({ "payment": { "entity": payment } });
        if event == "order.paid" {
            let mut order = self.order(payment["order_id"].as_str().unwrap());
            order["status"] = json!("paid");
            order["amount_paid"] = payment["amount"].clone();
            payload["order"] = json!({ "entity": order });
        }
        json!({ "entity": "event", "account_id": "acc_test", "event": event,
            "contains": if event == "order.paid" { json!(["payment", "order"]) } else { json!(["payment"]) },
            "payload": payload, "created_at": 1_764_460_900 })
        .to_string()
    }

    /// A RazorpayX payout webhook body for the payout it holds under `payout_id`.
    pub fn payout_event(&self, event: &str, payout_id: &str, utr: Option<&str>) -> String {
        let mut payout = self.with(|l| l.payouts.get(payout_id).cloned()).unwrap();
        payout["status"] = json!(event.trim_start_matches("payout."));
        payout["utr"] = json!(utr);
        if event != "payout.processed" {
            payout["status_details"] = json!({ "reason": "beneficiary_bank_down", "description": "The beneficiary bank is down" });
        }
        json!({ "entity": "event", "account_id": "acc_test", "event": event, "contains": ["payout"],
            "payload": { "payout": { "entity": payout } }, "created_at": 1_764_461_000 })
        .to_string()
    }

    /// The headers Razorpay sends with `body`: its signature and a fresh event id.
    pub fn headers(body: &str, event_id: &str) -> Vec<(String, String)> {
        vec![
            (
                "X-Razorpay-Signature".into(),
                hmac_hex(RZP_WEBHOOK_SECRET, body.as_bytes()),
            ),
            ("X-Razorpay-Event-Id".into(), event_id.into()),
        ]
    }
}

/// Stripe PaymentIntents.
pub struct FakeStripe {
    pub url: String,
    shared: Shared,
    shutdown: CancellationToken,
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

fn stripe_auth() -> String {
    format!("Bearer {STRIPE_KEY}")
}

async fn stripe_create_intent(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    if let Some(reply) = shared.enter("POST /v1/payment_intents", &headers, &stripe_auth()) {
        return reply;
    }
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut ledger = shared.0.lock().unwrap();
    if let Some(existing) = key
        .as_ref()
        .and_then(|k| ledger.intent_keys.get(k))
        .and_then(|id| ledger.intents.get(id))
    {
        return (StatusCode::OK, Json(existing.clone()));
    }
    let Some(amount) = form.get("amount").and_then(|a| a.parse::<i64>().ok()) else {
        return error(StatusCode::BAD_REQUEST, "Missing required param: amount.");
    };
    let id = random_id("pi");
    let intent = json!({ "id": id, "object": "payment_intent", "amount": amount, "amount_received": 0,
        "currency": form.get("currency"), "status": "requires_payment_method",
        "client_secret": format!("{id}_secret_{}", random_id("s")), "latest_charge": null,
        "last_payment_error": null,
        "metadata": { "recharge_id": form.get("metadata[recharge_id]") } });
    ledger.intents.insert(id.clone(), intent.clone());
    if let Some(key) = key {
        ledger.intent_keys.insert(key, id);
    }
    (StatusCode::OK, Json(intent))
}

async fn stripe_get_intent(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    if let Some(reply) = shared.enter(
        &format!("GET /v1/payment_intents/{id}"),
        &headers,
        &stripe_auth(),
    ) {
        return reply;
    }
    match shared.0.lock().unwrap().intents.get(&id) {
        Some(intent) => (StatusCode::OK, Json(intent.clone())),
        None => error(StatusCode::NOT_FOUND, "No such payment_intent"),
    }
}

impl FakeStripe {
    pub async fn start() -> Self {
        let shared = Shared(Arc::new(Mutex::new(Ledger::default())));
        let router = Router::new()
            .route("/v1/payment_intents", post(stripe_create_intent))
            .route("/v1/payment_intents/{id}", get(stripe_get_intent))
            .with_state(shared.clone());
        let (url, shutdown) = serve(router).await;
        Self {
            url,
            shared,
            shutdown,
        }
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PAYMENT_PROVIDER", "stripe".into()),
            ("STRIPE_SECRET_KEY", STRIPE_KEY.into()),
            ("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET.into()),
            ("STRIPE_API_URL", self.url.clone()),
        ]
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Ledger) -> T) -> T {
        f(&mut self.shared.0.lock().unwrap())
    }

    /// The buyer confirms the intent: it succeeds (or its attempt fails). The intent after.
    pub fn pay(&self, intent_id: &str, succeeded: bool) -> Value {
        self.with(|l| {
            let intent = l.intents.get_mut(intent_id).unwrap();
            if succeeded {
                intent["status"] = json!("succeeded");
                intent["amount_received"] = intent["amount"].clone();
                intent["latest_charge"] = json!(random_id("ch"));
                intent["last_payment_error"] = Value::Null;
            } else {
                intent["last_payment_error"] =
                    json!({ "code": "card_declined", "message": "Your card was declined." });
            }
            intent.clone()
        })
    }

    /// An event body with `intent` as its object.
    pub fn event(kind: &str, intent: &Value) -> (String, String) {
        let id = random_id("evt");
        let body = json!({ "id": id, "object": "event", "type": kind, "api_version": "2024-06-20",
            "created": chrono::Utc::now().timestamp(), "data": { "object": intent } })
        .to_string();
        (id, body)
    }

    /// `Stripe-Signature` for `body` signed at `t` (with extra v1 values, as during a secret roll).
    pub fn signature(body: &str, t: i64, extra_v1: &[&str]) -> String {
        let v1 = hmac_hex(STRIPE_WEBHOOK_SECRET, format!("{t}.{body}").as_bytes());
        let mut header = format!("t={t}");
        for extra in extra_v1 {
            header.push_str(&format!(",v1={extra}"));
        }
        header.push_str(&format!(",v1={v1}"));
        header
    }
}

/// POSTs a webhook body with `headers` to `url`: (status, JSON answer).
pub async fn deliver(url: &str, body: &str, headers: &[(String, String)]) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
