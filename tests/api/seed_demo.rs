//! `seed-demo`: the demo data set is complete (every order status, chats, notifications), its
//! money is sound, and a second run without `--force` is refused.

use entity::{chat_messages, orders, products, vendors};
use kabaadwala::{demo, orders::state, wallet::ledger};
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};

use crate::support::TestApp;

#[tokio::test]
async fn seed_demo_fills_every_order_status_with_a_sound_ledger_and_refuses_a_second_run() {
    let app = TestApp::new().await;
    let db = &app.state.db;
    let options = demo::Options::for_products(120);
    let report = demo::seed(&app.state, &options).await.unwrap();

    assert_eq!(report.products, 120);
    assert_eq!(products::Entity::find().count(db).await.unwrap(), 120);
    assert_eq!(report.vendors, options.vendors);
    assert_eq!(
        vendors::Entity::find()
            .filter(vendors::Column::KycStatus.eq(vendors::KycStatus::Approved))
            .count(db)
            .await
            .unwrap(),
        options.vendors as u64
    );
    assert_eq!(
        vendors::Entity::find()
            .filter(vendors::Column::KycStatus.eq(vendors::KycStatus::Submitted))
            .count(db)
            .await
            .unwrap(),
        2
    );
    let all = orders::Entity::find().all(db).await.unwrap();
    assert_eq!(all.len(), report.orders);
    assert!(report.orders >= options.orders * 3 / 4, "{report:?}");
    for status in state::ALL {
        assert!(
            all.iter().any(|o| o.status == status),
            "no {} order in the demo data",
            state::name(status)
        );
    }
    assert!(chat_messages::Entity::find().count(db).await.unwrap() > 0);
    assert!(report.notifications > 0);
    let check = ledger::check(db).await.unwrap();
    assert!(check.ok(), "ledger violations: {:?}", check.violations);
    // The demo admin can sign in with the printed password.
    let res = app
        .gql(
            "mutation($input: LoginInput!) { login(input: $input) { __typename ... on AuthPayload { user { role } } } }",
            serde_json::json!({ "input": { "email": report.admin_email, "password": report.admin_password } }),
            None,
        )
        .await;
    assert_eq!(res.data("login")["user"]["role"], "ADMIN");
    assert!(
        report.first_batch,
        "the well-known sign-ins are in the first batch"
    );

    let again = demo::seed(&app.state, &options).await.unwrap_err();
    assert!(again.to_string().contains("--force"), "{again}");
    let mut forced = options.clone();
    forced.force = true;
    let second = demo::seed(&app.state, &forced).await.unwrap();
    assert!(!second.first_batch, "a forced batch takes new emails");
    assert_eq!(products::Entity::find().count(db).await.unwrap(), 240);
    assert!(second.orders > 0);
    assert!(ledger::check(db).await.unwrap().ok());
}
