//! Coalesced holds (`HoldQueue`): concurrent holds on one wallet committed in batches, with the
//! same outcomes as one-by-one holds, the ledger sound and every balance-after exact.

use std::sync::Arc;

use entity::{holds, ledger_accounts::AccountKind, ledger_transfers};
use futures_util::future::join_all;
use kabaadwala::{
    AppError,
    wallet::{coalesce::HoldQueue, escrow, ledger},
};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait as _, DbBackend, EntityTrait as _, ExprTrait as _,
    QueryFilter as _, QueryOrder as _,
};
use uuid::Uuid;

use crate::{
    support::{Session, TestApp},
    wallet::fund,
};

fn uid(s: &Session) -> Uuid {
    s.user_id.parse().unwrap()
}

async fn assert_ledger_sound(app: &TestApp) {
    let report = ledger::check(&app.state.db).await.unwrap();
    assert!(report.ok(), "ledger violations: {:#?}", report.violations);
}

/// (available, held) of a user's wallet.
async fn balances(app: &TestApp, user: Uuid) -> (i64, i64) {
    let (available, held) = escrow::balances(&app.state.db, user).await.unwrap();
    (available.balance, held.balance)
}

/// Walks an account's transfers in id order and checks each recorded balance-after against the
/// running sum of its entries; returns the final balance.
async fn assert_balance_after_chain(app: &TestApp, account: Uuid) -> i64 {
    let rows = ledger_transfers::Entity::find()
        .filter(
            ledger_transfers::Column::DebitAccountId
                .eq(account)
                .or(ledger_transfers::Column::CreditAccountId.eq(account)),
        )
        .order_by_asc(ledger_transfers::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap();
    let mut running = 0;
    for row in rows {
        let recorded = if row.credit_account_id == account {
            running += row.amount;
            row.credit_balance_after
        } else {
            running -= row.amount;
            row.debit_balance_after
        };
        assert_eq!(recorded, running, "balance after transfer {}", row.id);
    }
    running
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_queued_holds_on_one_wallet_never_take_more_than_it_has() {
    let app = Arc::new(TestApp::new().await);
    let asha = app.customer("Asha").await;
    fund(&app, &asha, 37_500).await;
    let user = uid(&asha);
    let queue = HoldQueue::new(app.state.db.clone());

    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.hold(user, 1_000, &format!("order:{i}"), None).await })
        })
        .collect();
    let mut won = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(hold) => won.push(hold),
            Err(AppError::InsufficientFunds(_)) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    assert_eq!((won.len(), refused), (37, 63));
    assert_eq!(balances(&app, user).await, (500, 37_000));
    let stored = holds::Entity::find()
        .filter(holds::Column::UserId.eq(user))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 37);
    assert!(stored.iter().all(|h| won.iter().any(|w| w.id == h.id)));
    let (available, held) = escrow::balances(&app.state.db, user).await.unwrap();
    assert_eq!(assert_balance_after_chain(&app, available.id).await, 500);
    assert_eq!(assert_balance_after_chain(&app, held.id).await, 37_000);
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_failing_request_in_a_batch_leaves_the_others_untouched() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    fund(&app, &asha, 10_000).await;
    let user = uid(&asha);
    let queue = HoldQueue::new(app.state.db.clone());
    let first = queue
        .hold(user, 1_000, "order:old", Some("k-old".into()))
        .await
        .unwrap();

    // On this single-threaded runtime every request is queued before the worker first runs, so
    // they are all committed by one batch, in this order.
    let requests: Vec<(i64, &str, Option<&str>)> = vec![
        (2_000, "order:a", None),
        (50_000, "order:b", None),
        (3_000, "order:old", Some("k-old")),
        (1_000, "order:old", Some("k-old")),
        (2_500, "order:e", Some("k-new")),
        (2_500, "order:e", Some("k-new")),
        (4_000, "order:g", None),
        (600, "order:h", None),
        (500, "order:i", None),
    ];
    let results = join_all(requests.iter().map(|(amount, reference, key)| {
        queue.hold(user, *amount, reference, key.map(str::to_owned))
    }))
    .await;

    let codes: Vec<&str> = results
        .iter()
        .map(|r| r.as_ref().map_or_else(AppError::code, |_| "OK"))
        .collect();
    assert_eq!(
        codes,
        [
            "OK",
            "INSUFFICIENT_FUNDS",
            "CONFLICT",
            "OK",
            "OK",
            "OK",
            "OK",
            "INSUFFICIENT_FUNDS",
            "OK"
        ]
    );
    let ok = |i: usize| results[i].as_ref().unwrap();
    assert_eq!(ok(3), &first, "a replayed key returns the first hold");
    assert_eq!(ok(4), ok(5), "a key repeated within a batch holds once");
    assert!(
        [0, 4, 6, 8]
            .iter()
            .all(|&i| ok(i).created_at == ok(0).created_at),
        "one batch"
    );
    assert_eq!(balances(&app, user).await, (0, 10_000));
    let stored = holds::Entity::find()
        .filter(holds::Column::UserId.eq(user))
        .order_by_asc(holds::Column::Amount)
        .all(&app.state.db)
        .await
        .unwrap();
    let amounts: Vec<i64> = stored.iter().map(|h| h.amount).collect();
    assert_eq!(amounts, [500, 1_000, 2_000, 2_500, 4_000]);
    let (available, held) = escrow::balances(&app.state.db, user).await.unwrap();
    assert_eq!(assert_balance_after_chain(&app, available.id).await, 0);
    assert_eq!(assert_balance_after_chain(&app, held.id).await, 10_000);
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn a_batch_whose_transaction_fails_fails_every_caller_and_writes_nothing() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    fund(&app, &asha, 10_000).await;
    let user = uid(&asha);
    let db = &app.state.db;
    // Inserting a hold with the reference "boom" fails, after the batch's balance update and
    // transfer rows were written.
    let trigger: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &[
            "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN \
               IF NEW.reference = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; \
             END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON holds FOR EACH ROW \
             EXECUTE FUNCTION refuse_boom()",
        ],
        _ => &["CREATE TRIGGER refuse_boom BEFORE INSERT ON holds \
                WHEN NEW.reference = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END"],
    };
    for sql in trigger {
        db.execute_unprepared(sql).await.unwrap();
    }
    let transfers_before = ledger::check(db).await.unwrap().transfers_checked;
    let queue = HoldQueue::new(db.clone());

    let results = join_all([
        queue.hold(user, 1_000, "fine-1", None),
        queue.hold(user, 1_000, "boom", None),
        queue.hold(user, 1_000, "fine-2", Some("k".into())),
    ])
    .await;

    let codes: Vec<&str> = results
        .iter()
        .map(|r| r.as_ref().map_or_else(AppError::code, |_| "OK"))
        .collect();
    assert_eq!(codes, ["INTERNAL", "INTERNAL", "INTERNAL"]);
    assert_eq!(balances(&app, user).await, (10_000, 0));
    assert_eq!(
        ledger::check(db).await.unwrap().transfers_checked,
        transfers_before
    );
    assert_ledger_sound(&app).await;

    let retried = queue
        .hold(user, 1_000, "fine-2", Some("k".into()))
        .await
        .unwrap();
    assert_eq!(retried.amount, 1_000);
    assert_eq!(balances(&app, user).await, (9_000, 1_000));
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn queued_holds_settle_like_any_other_hold() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    fund(&app, &asha, 10_000).await;
    let user = uid(&asha);
    let queue = HoldQueue::new(app.state.db.clone());
    let db = &app.state.db;

    let held = join_all([
        queue.hold(user, 4_000, "order:1", None),
        queue.hold(user, 6_000, "order:2", None),
    ])
    .await;
    let zero = queue.hold(user, 0, "order:3", None).await;
    let earnings = ledger::account(db, AccountKind::VendorEarnings, Uuid::new_v4())
        .await
        .unwrap();
    let one = held[0].as_ref().unwrap();
    let two = held[1].as_ref().unwrap();
    escrow::release(db, one.id, &earnings, 4_000, escrow::commission(4_000, 500))
        .await
        .unwrap();
    escrow::void(db, two.id).await.unwrap();

    assert_eq!(zero.unwrap_err().code(), "BAD_USER_INPUT");
    assert_eq!(balances(&app, user).await, (6_000, 0));
    assert_eq!(
        ledger::account(db, AccountKind::VendorEarnings, earnings.owner_id)
            .await
            .unwrap()
            .balance,
        3_800
    );
    assert_ledger_sound(&app).await;
}
