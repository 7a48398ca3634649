//! The wallet: recharges, escrow, webhooks, adjustments, and the ledger's invariants under
//! concurrency.

use std::sync::Arc;

use entity::ledger_accounts::AccountKind;
use kabaadwala::wallet::{escrow, ledger};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, TransactionTrait as _};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Session, TestApp};

const RECHARGE: &str = "mutation($input: RechargeInput!) { rechargeWallet(input: $input) { id amount status failureReason } }";
const WALLET: &str = "{ wallet { availableBalance heldBalance currency available { formatted } transactions(first: 10) { totalCount edges { node { kind amount balance balanceAfter reference } } } } }";

async fn recharge(app: &TestApp, who: &Session, amount: i64, key: &str) -> crate::support::Gql {
    app.gql(
        RECHARGE,
        json!({ "input": { "amount": amount, "idempotencyKey": key } }),
        Some(&who.access_token),
    )
    .await
}

async fn wallet(app: &TestApp, who: &Session) -> Value {
    app.gql(WALLET, json!({}), Some(&who.access_token))
        .await
        .data("wallet")
}

/// Puts `amount` into the user's wallet the way a user does it.
pub async fn fund(app: &TestApp, who: &Session, amount: i64) {
    recharge(app, who, amount, &Uuid::new_v4().to_string())
        .await
        .data("rechargeWallet");
    app.drain_jobs().await;
}

/// The wallet's (available, held) balances, as `wallet` answers them.
async fn balances(app: &TestApp, who: &Session) -> (i64, i64) {
    let w = wallet(app, who).await;
    let paise = |field: &str| w[field].as_i64().unwrap_or(i64::MIN);
    (paise("availableBalance"), paise("heldBalance"))
}

async fn assert_ledger_sound(app: &TestApp) {
    let report = ledger::check(&app.state.db).await.unwrap();
    assert!(report.ok(), "ledger violations: {:#?}", report.violations);
}

fn uid(s: &Session) -> Uuid {
    s.user_id.parse().unwrap()
}

#[tokio::test]
async fn a_recharge_credits_the_wallet_once_the_provider_confirms() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let pending = recharge(&app, &asha, 50_000, "r-1")
        .await
        .data("rechargeWallet");
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(wallet(&app, &asha).await["availableBalance"], 0);
    app.drain_jobs().await;

    let w = wallet(&app, &asha).await;
    assert_eq!(w["availableBalance"], 50_000);
    assert_eq!(w["currency"], "INR");
    assert_eq!(w["available"]["formatted"], "₹500.00");
    let tx = &w["transactions"]["edges"][0]["node"];
    assert_eq!(
        (
            tx["kind"].as_str(),
            tx["amount"].as_i64(),
            tx["balanceAfter"].as_i64()
        ),
        (Some("RECHARGE"), Some(50_000), Some(50_000))
    );
    let status = app
        .gql(
            "query($id: ID!) { recharge(id: $id) { status } }",
            json!({ "id": pending["id"] }),
            Some(&asha.access_token),
        )
        .await;
    assert_eq!(status.data("recharge")["status"], "SUCCEEDED");
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_replayed_idempotency_key_returns_the_first_recharge_and_credits_once() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let first = recharge(&app, &asha, 20_000, "same-key")
        .await
        .data("rechargeWallet");
    let replay = recharge(&app, &asha, 20_000, "same-key")
        .await
        .data("rechargeWallet");
    let different = recharge(&app, &asha, 30_000, "same-key").await;
    app.drain_jobs().await;

    assert_eq!(first["id"], replay["id"]);
    assert_eq!(different.code(), "CONFLICT");
    assert_eq!(wallet(&app, &asha).await["availableBalance"], 20_000);
    let ravi = app.customer("Ravi").await;
    let other_user = recharge(&app, &ravi, 30_000, "same-key")
        .await
        .data("rechargeWallet");
    assert_ne!(other_user["id"], first["id"], "keys are scoped per user");
}

#[tokio::test]
async fn recharges_outside_the_limits_or_not_in_whole_paise_are_refused() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    app.drain_jobs().await;

    let too_small = recharge(&app, &asha, 99, "a").await;
    let too_big = recharge(&app, &asha, 10_000_001, "b").await;
    let fraction = app
        .gql(
            RECHARGE,
            json!({ "input": { "amount": 100.5, "idempotencyKey": "c" } }),
            Some(&asha.access_token),
        )
        .await;
    let as_string = app
        .gql(
            RECHARGE,
            json!({ "input": { "amount": "10000", "idempotencyKey": "d" } }),
            Some(&asha.access_token),
        )
        .await;
    let anonymous = app
        .gql(
            RECHARGE,
            json!({ "input": { "amount": 10_000, "idempotencyKey": "e" } }),
            None,
        )
        .await;

    assert_eq!(
        (too_small.code(), too_small.field()),
        ("BAD_USER_INPUT".into(), Some("amount".into()))
    );
    assert_eq!(too_big.field().as_deref(), Some("amount"));
    assert_eq!(fraction.code(), "BAD_USER_INPUT");
    assert_eq!(as_string.code(), "BAD_USER_INPUT");
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
    assert!(app.drain_jobs().await.is_empty(), "nothing was started");
}

#[tokio::test]
async fn a_declined_recharge_credits_nothing() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;

    let declined = recharge(&app, &asha, 10_013, "x")
        .await
        .data("rechargeWallet");
    app.drain_jobs().await;

    let status = app
        .gql(
            "query($id: ID!) { recharge(id: $id) { status failureReason } }",
            json!({ "id": declined["id"] }),
            Some(&asha.access_token),
        )
        .await
        .data("recharge");
    assert_eq!(status["status"], "FAILED");
    assert!(
        status["failureReason"]
            .as_str()
            .unwrap()
            .contains("declined")
    );
    assert_eq!(wallet(&app, &asha).await["availableBalance"], 0);
}

#[tokio::test]
async fn a_wallet_is_opened_with_both_of_its_accounts() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    fund(&app, &asha, 10_000).await;
    // The first recharge opened the available account and, with it, the held one: the first
    // hold finds both and creates nothing.
    let kinds: Vec<AccountKind> = entity::ledger_accounts::Entity::find()
        .filter(entity::ledger_accounts::Column::OwnerId.eq(uid(&asha)))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.kind)
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds.contains(&AccountKind::UserAvailable), "{kinds:?}");
    assert!(kinds.contains(&AccountKind::UserHeld), "{kinds:?}");
    let hold = escrow::hold(&app.state.db, uid(&asha), 10_000, "order:1").await;
    assert!(hold.is_ok(), "{hold:?}");
    let refused = escrow::hold(&app.state.db, uid(&asha), 1, "order:2").await;
    assert!(
        matches!(refused, Err(kabaadwala::AppError::InsufficientFunds(_))),
        "{refused:?}"
    );
    assert_eq!(balances(&app, &asha).await, (0, 10_000));
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_hold_then_release_pays_the_vendor_less_commission() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    fund(&app, &asha, 50_000).await;
    let vendor = Uuid::new_v4();
    let db = &app.state.db;

    let hold = escrow::hold(db, uid(&asha), 30_000, "order:1")
        .await
        .unwrap();
    assert_eq!(balances(&app, &asha).await, (20_000, 30_000));

    let txn = db.begin().await.unwrap();
    let earnings = ledger::account(&txn, AccountKind::VendorEarnings, vendor)
        .await
        .unwrap();
    escrow::release(
        &txn,
        hold.id,
        &earnings,
        30_000,
        escrow::commission(30_000, 500).unwrap(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();

    assert_eq!(balances(&app, &asha).await, (20_000, 0));
    assert_eq!(
        ledger::account(db, AccountKind::VendorEarnings, vendor)
            .await
            .unwrap()
            .balance,
        28_500
    );
    assert_eq!(
        ledger::account(db, AccountKind::PlatformRevenue, ledger::PLATFORM)
            .await
            .unwrap()
            .balance,
        1_500
    );
    let again = escrow::release(db, hold.id, &earnings, 30_000, 0).await;
    assert!(
        matches!(again, Err(kabaadwala::AppError::Conflict(_))),
        "{again:?}"
    );
    let void_after = escrow::void(db, hold.id).await;
    assert!(matches!(void_after, Err(kabaadwala::AppError::Conflict(_))));
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_void_returns_the_hold_and_a_partial_release_returns_the_rest() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    fund(&app, &asha, 40_000).await;
    let db = &app.state.db;
    let earnings = ledger::account(db, AccountKind::VendorEarnings, Uuid::new_v4())
        .await
        .unwrap();

    let voided = escrow::hold(db, uid(&asha), 10_000, "order:v")
        .await
        .unwrap();
    escrow::void(db, voided.id).await.unwrap();
    let partial = escrow::hold(db, uid(&asha), 20_000, "order:p")
        .await
        .unwrap();
    escrow::release(db, partial.id, &earnings, 15_000, 750)
        .await
        .unwrap();

    let w = wallet(&app, &asha).await;
    assert_eq!(w["availableBalance"], 40_000 - 15_000);
    assert_eq!(w["heldBalance"], 0);
    assert_eq!(
        ledger::account(db, AccountKind::VendorEarnings, earnings.owner_id)
            .await
            .unwrap()
            .balance,
        14_250
    );
    let kinds: Vec<String> = w["transactions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.contains(&"REFUND".to_owned()) && kinds.contains(&"HOLD".to_owned()),
        "{kinds:?}"
    );
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_hold_beyond_the_balance_is_refused_and_writes_nothing() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    fund(&app, &asha, 10_000).await;

    let txn = app.state.db.begin().await.unwrap();
    let refused = escrow::hold(&txn, uid(&asha), 10_001, "order:x").await;
    drop(txn);

    assert!(
        matches!(refused, Err(kabaadwala::AppError::InsufficientFunds(_))),
        "{refused:?}"
    );
    assert_eq!(balances(&app, &asha).await, (10_000, 0));
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn transactions_page_newest_first_and_filter_by_kind() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    for amount in [10_000, 20_000, 30_000] {
        fund(&app, &asha, amount).await;
    }
    escrow::hold(&app.state.db, uid(&asha), 5_000, "order:1")
        .await
        .unwrap();
    const PAGE: &str = "query($after: String, $kind: TransactionKind) { walletTransactions(first: 2, after: $after, kind: $kind) { totalCount pageInfo { hasNextPage endCursor } edges { node { kind amount balanceAfter } } } }";

    let first = app
        .gql(PAGE, json!({}), Some(&asha.access_token))
        .await
        .data("walletTransactions");
    let second = app
        .gql(
            PAGE,
            json!({ "after": first["pageInfo"]["endCursor"] }),
            Some(&asha.access_token),
        )
        .await
        .data("walletTransactions");
    let recharges = app
        .gql(
            PAGE,
            json!({ "kind": "RECHARGE" }),
            Some(&asha.access_token),
        )
        .await
        .data("walletTransactions");

    assert_eq!(first["totalCount"], 4);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        first["edges"][0]["node"],
        json!({ "kind": "HOLD", "amount": -5_000, "balanceAfter": 55_000 })
    );
    assert_eq!(second["edges"].as_array().unwrap().len(), 2);
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    assert_eq!(second["edges"][1]["node"]["balanceAfter"], 10_000);
    assert_eq!(recharges["totalCount"], 3);
    let bad_cursor = app
        .gql(
            PAGE,
            json!({ "after": "garbage" }),
            Some(&asha.access_token),
        )
        .await;
    assert_eq!(bad_cursor.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn admins_adjust_wallets_with_a_reason_and_check_the_ledger() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let asha = app.customer("Asha").await;
    const ADJUST: &str = "mutation($input: AdjustWalletInput!) { adjustWallet(input: $input) { kind amount balanceAfter reference } }";
    let input = |amount: i64, key: &str| json!({ "input": { "userId": asha.user_id, "amount": amount, "reason": "goodwill for a late pickup", "idempotencyKey": key } });

    let credit = app
        .gql(ADJUST, input(5_000, "k1"), Some(&admin.access_token))
        .await
        .data("adjustWallet");
    let replay = app
        .gql(ADJUST, input(5_000, "k1"), Some(&admin.access_token))
        .await
        .data("adjustWallet");
    let changed = app
        .gql(ADJUST, input(7_000, "k1"), Some(&admin.access_token))
        .await;
    let overdraw = app
        .gql(ADJUST, input(-9_000, "k2"), Some(&admin.access_token))
        .await;
    let as_customer = app
        .gql(ADJUST, input(5_000, "k3"), Some(&asha.access_token))
        .await;
    let no_reason = app.gql(ADJUST, json!({ "input": { "userId": asha.user_id, "amount": 1, "reason": " ", "idempotencyKey": "k4" } }), Some(&admin.access_token)).await;

    assert_eq!(credit["kind"], "ADJUSTMENT");
    assert_eq!(credit["balanceAfter"], 5_000);
    assert_eq!(replay, credit);
    assert_eq!(changed.code(), "CONFLICT");
    assert_eq!(overdraw.code(), "INSUFFICIENT_FUNDS");
    assert_eq!(as_customer.code(), "FORBIDDEN");
    assert_eq!(no_reason.field().as_deref(), Some("reason"));
    assert_eq!(wallet(&app, &asha).await["availableBalance"], 5_000);

    let check = app
        .gql(
            "{ ledgerCheck { ok violations totalBalance accountsChecked } }",
            json!({}),
            Some(&admin.access_token),
        )
        .await
        .data("ledgerCheck");
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["totalBalance"], 0);
    let forbidden = app
        .gql(
            "{ ledgerCheck { ok } }",
            json!({}),
            Some(&asha.access_token),
        )
        .await;
    assert_eq!(forbidden.code(), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_holds_on_one_wallet_never_take_more_than_it_has() {
    let app = Arc::new(TestApp::new().await);
    let asha = app.customer("Asha").await;
    fund(&app, &asha, 10_000).await;
    let user = uid(&asha);

    let tasks: Vec<_> = (0..25)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let txn = app.state.db.begin().await.unwrap();
                match escrow::hold(&txn, user, 1_000, &format!("order:{i}")).await {
                    Ok(_) => {
                        txn.commit().await.unwrap();
                        true
                    }
                    Err(kabaadwala::AppError::InsufficientFunds(_)) => false,
                    Err(other) => panic!("unexpected {other:?}"),
                }
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        if task.await.unwrap() {
            won += 1;
        }
    }

    assert_eq!(won, 10);
    assert_eq!(balances(&app, &asha).await, (0, 10_000));
    assert_ledger_sound(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_randomized_concurrent_run_keeps_every_invariant() {
    let app = Arc::new(TestApp::new().await);
    let mut users = Vec::new();
    for name in ["A", "B", "C"] {
        let s = app.customer(name).await;
        fund(&app, &s, 20_000).await;
        users.push(uid(&s));
    }
    let vendor = Uuid::new_v4();

    let tasks: Vec<_> = (0..60u64)
        .map(|i| {
            let app = app.clone();
            let user = users[(i % 3) as usize];
            tokio::spawn(async move {
                let db = &app.state.db;
                // A cheap deterministic mix: recharge, hold+release, hold+void, hold kept.
                let amount = 500 + (i * 37 % 2_000) as i64;
                let txn = db.begin().await.unwrap();
                let result = match i % 4 {
                    0 => {
                        let key = format!("r{i}");
                        let s = app.state.clone();
                        drop(txn);
                        kabaadwala::wallet::recharge::request(&s, user, 10_000, &key)
                            .await
                            .map(|_| ())
                    }
                    1 => match escrow::hold(&txn, user, amount, "order:r").await {
                        Ok(hold) => {
                            let earnings =
                                ledger::account(&txn, AccountKind::VendorEarnings, vendor)
                                    .await
                                    .unwrap();
                            let fee = escrow::commission(amount, 500).unwrap();
                            escrow::release(&txn, hold.id, &earnings, amount, fee)
                                .await
                                .map(|_| ())
                                .and(txn.commit().await.map_err(Into::into))
                        }
                        Err(e) => Err(e),
                    },
                    2 => match escrow::hold(&txn, user, amount, "order:v").await {
                        Ok(hold) => escrow::void(&txn, hold.id)
                            .await
                            .map(|_| ())
                            .and(txn.commit().await.map_err(Into::into)),
                        Err(e) => Err(e),
                    },
                    _ => escrow::hold(&txn, user, amount, "order:k")
                        .await
                        .map(|_| ())
                        .and(txn.commit().await.map_err(Into::into)),
                };
                match result {
                    Ok(()) | Err(kabaadwala::AppError::InsufficientFunds(_)) => {}
                    Err(other) => panic!("unexpected {other:?}"),
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    app.drain_jobs().await;

    assert_ledger_sound(&app).await;
    let report = ledger::check(&app.state.db).await.unwrap();
    assert!(report.transfers_checked > 60, "{report:?}");
}

mod webhooks {
    //! The sandbox's webhook (development only): signed with PAYMENT_WEBHOOK_SECRET, stored,
    //! answered at once, processed by the job queue.

    use super::*;
    use kabaadwala::wallet::providers::sandbox;

    async fn post(app: &TestApp, body: &Value, signature: Option<String>) -> (u16, Value) {
        let server = crate::support::server::start(app).await;
        let mut request = reqwest::Client::new()
            .post(server.url("/webhooks/payments/sandbox"))
            .body(serde_json::to_vec(body).unwrap());
        if let Some(signature) = signature {
            request = request.header("x-signature", signature);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let json = response.json().await.unwrap_or(Value::Null);
        (status, json)
    }

    fn signed(app: &TestApp, body: &Value) -> Option<String> {
        Some(sandbox::sign(
            secrecy::ExposeSecret::expose_secret(&app.state.config.payment_webhook_secret),
            &serde_json::to_vec(body).unwrap(),
        ))
    }

    async fn outcome(app: &TestApp, event_id: &str) -> String {
        entity::webhook_events::Entity::find()
            .filter(entity::webhook_events::Column::EventId.eq(event_id))
            .one(&app.state.db)
            .await
            .unwrap()
            .map(|e| e.outcome)
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn a_signed_event_credits_once_however_often_it_is_delivered() {
        let app = TestApp::new().await;
        let asha = app.customer("Asha").await;
        let pending = recharge(&app, &asha, 25_000, "w1")
            .await
            .data("rechargeWallet");
        let event = json!({ "id": "evt_1", "type": "payment.succeeded", "data": { "rechargeId": pending["id"], "amount": 25_000 } });

        let first = post(&app, &event, signed(&app, &event)).await;
        let again = post(&app, &event, signed(&app, &event)).await;
        app.drain_jobs().await;

        assert_eq!(
            first,
            (200, json!({ "received": true, "duplicate": false }))
        );
        assert_eq!(again, (200, json!({ "received": true, "duplicate": true })));
        // The sandbox's own job and the event are two proofs of one payment: one credit.
        assert!(["credited", "already_settled"].contains(&outcome(&app, "evt_1").await.as_str()));
        assert_eq!(wallet(&app, &asha).await["availableBalance"], 25_000);
        assert_ledger_sound(&app).await;
    }

    #[tokio::test]
    async fn a_bad_signature_is_refused_and_credits_nothing() {
        let app = TestApp::new().await;
        let asha = app.customer("Asha").await;
        let pending = recharge(&app, &asha, 25_000, "w2")
            .await
            .data("rechargeWallet");
        let event = json!({ "id": "evt_2", "type": "payment.succeeded", "data": { "rechargeId": pending["id"], "amount": 25_000 } });

        let forged = post(&app, &event, Some("00".repeat(32))).await;
        let unsigned = post(&app, &event, None).await;

        assert_eq!(forged.0, 401);
        assert_eq!(unsigned.0, 401);
        assert_eq!(outcome(&app, "evt_2").await, "", "nothing stored");
        assert_eq!(wallet(&app, &asha).await["availableBalance"], 0);
    }

    #[tokio::test]
    async fn an_event_for_an_unknown_recharge_is_acknowledged_and_kept_for_review() {
        let app = TestApp::new().await;
        let event = json!({ "id": "evt_3", "type": "payment.succeeded", "data": { "rechargeId": Uuid::new_v4(), "amount": 1_000 } });

        let (status, _) = post(&app, &event, signed(&app, &event)).await;
        app.drain_jobs().await;

        assert_eq!(status, 200);
        assert_eq!(outcome(&app, "evt_3").await, "unmatched");
        assert_ledger_sound(&app).await;
    }

    #[tokio::test]
    async fn a_failed_payment_event_fails_the_recharge() {
        let app = TestApp::new().await;
        let asha = app.customer("Asha").await;
        let pending = recharge(&app, &asha, 25_013, "w4")
            .await
            .data("rechargeWallet");
        let event = json!({ "id": "evt_4", "type": "payment.failed", "data": { "rechargeId": pending["id"], "amount": 25_013, "reason": "card declined" } });

        post(&app, &event, signed(&app, &event)).await;
        // The event's job runs before the sandbox's own (queued earlier, but the event is
        // processed first here to fix the reason).
        let event_id = entity::webhook_events::Entity::find()
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap()
            .id;
        kabaadwala::wallet::webhook::process_payment_event(&app.state, event_id)
            .await
            .unwrap();
        app.drain_jobs().await;

        assert_eq!(outcome(&app, "evt_4").await, "failed");
        let status = app
            .gql(
                "query($id: ID!) { recharge(id: $id) { status failureReason } }",
                json!({ "id": pending["id"] }),
                Some(&asha.access_token),
            )
            .await
            .data("recharge");
        assert_eq!(
            status,
            json!({ "status": "FAILED", "failureReason": "card declined" })
        );
        assert_eq!(wallet(&app, &asha).await["availableBalance"], 0);
    }
}
