//! Scheduled work: a slot fires once across instances; the cleanup deletes exactly what is
//! expired or stale; the daily report's figures.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::{
    email_tokens::{self, Purpose},
    jobs::{self, JobStatus},
    otp_challenges, refresh_tokens, schedule_runs,
};
use kabaadwala::jobs::{
    queue,
    schedule::{self, Schedule},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use crate::support::{TestApp, catalog, market};

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

fn schedule_named(app: &TestApp, name: &str) -> Schedule {
    schedule::schedules(&app.state.config)
        .unwrap()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap()
}

async fn jobs_of(app: &TestApp, kind: &str) -> Vec<jobs::Model> {
    jobs::Entity::find()
        .filter(jobs::Column::Kind.eq(kind))
        .all(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_firing_the_same_slot_enqueue_exactly_one_job() {
    let app = TestApp::new().await;
    let other = app.second_instance().await;
    let cleanup = schedule_named(&app, "cleanup_expired_sessions");
    let slot = at("2026-11-25T02:30:00Z");

    let (a, b) = tokio::join!(
        schedule::fire(&app.state, &cleanup, slot),
        schedule::fire(&other, &cleanup, slot)
    );

    let won = [a.unwrap(), b.unwrap()];
    assert_eq!(
        won.iter().filter(|w| **w).count(),
        1,
        "one instance wins: {won:?}"
    );
    assert_eq!(jobs_of(&app, "cleanup_expired_sessions").await.len(), 1);
    let runs = schedule_runs::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].schedule.as_str(), runs[0].slot_at),
        ("cleanup_expired_sessions", slot)
    );

    // A later firing of the same slot (a slow timer) is skipped too; the next slot fires.
    assert!(!schedule::fire(&other, &cleanup, slot).await.unwrap());
    assert!(
        schedule::fire(&other, &cleanup, slot + Duration::days(1))
            .await
            .unwrap()
    );
    assert_eq!(jobs_of(&app, "cleanup_expired_sessions").await.len(), 2);
}

#[tokio::test]
async fn the_daily_report_slot_covers_the_previous_utc_day() {
    let app = TestApp::new().await;
    let report = schedule_named(&app, "generate_daily_report");
    let timer_fired = at("2026-11-26T00:05:00.412Z");
    let slot = report.slot_at(timer_fired).unwrap();
    assert_eq!(slot, at("2026-11-26T00:05:00Z"));

    assert!(schedule::fire(&app.state, &report, slot).await.unwrap());

    let job = &jobs_of(&app, "generate_daily_report").await[0];
    assert_eq!(job.payload, json!({ "day": "2026-11-25" }));
}

#[tokio::test]
async fn a_schedule_set_to_off_is_not_registered() {
    let app = TestApp::with_env(&[("SCHEDULE_CLEANUP", "off")]).await;
    let names: Vec<_> = schedule::schedules(&app.state.config)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["auto_release_delivered", "generate_daily_report"]);
}

#[tokio::test]
async fn cleanup_deletes_exactly_the_expired_and_stale_rows() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let user: Uuid = asha.user_id.parse().unwrap();
    app.drain_jobs().await;
    let db = &app.state.db;
    let now = Utc::now();
    let long_ago = now - Duration::days(30);
    let recently = now - Duration::hours(1);
    let later = now + Duration::days(1);

    // refresh tokens: (expires_at, revoked_at, should survive)
    let tokens = [
        (recently, None, false),
        (later, Some(long_ago), false),
        (later, Some(recently), true),
        (later, None, true),
    ];
    let mut expected = Vec::new();
    for (expires_at, revoked_at, keep) in tokens {
        let id = Uuid::new_v4();
        refresh_tokens::Entity::insert(refresh_tokens::ActiveModel {
            id: Set(id),
            user_id: Set(user),
            family_id: Set(Uuid::new_v4()),
            token_hash: Set(Uuid::new_v4().to_string()),
            expires_at: Set(expires_at),
            revoked_at: Set(revoked_at),
            created_at: Set(long_ago),
        })
        .exec_without_returning(db)
        .await
        .unwrap();
        expected.push(("refresh", id, keep));
    }
    for (expires_at, consumed_at, keep) in [
        (recently, None, false),
        (later, Some(long_ago), false),
        (later, None, true),
    ] {
        let id = Uuid::new_v4();
        otp_challenges::Entity::insert(otp_challenges::ActiveModel {
            id: Set(id),
            user_id: Set(user),
            code_hash: Set("h".into()),
            attempts: Set(0),
            expires_at: Set(expires_at),
            consumed_at: Set(consumed_at),
            created_at: Set(long_ago),
        })
        .exec_without_returning(db)
        .await
        .unwrap();
        expected.push(("otp", id, keep));
    }
    for (expires_at, used_at, keep) in [
        (recently, None, false),
        (later, Some(long_ago), false),
        (later, Some(recently), true),
        (later, None, true),
    ] {
        let id = Uuid::new_v4();
        email_tokens::Entity::insert(email_tokens::ActiveModel {
            id: Set(id),
            user_id: Set(user),
            purpose: Set(Purpose::ResetPassword),
            token_hash: Set(Uuid::new_v4().to_string()),
            expires_at: Set(expires_at),
            used_at: Set(used_at),
            created_at: Set(long_ago),
        })
        .exec_without_returning(db)
        .await
        .unwrap();
        expected.push(("email", id, keep));
    }
    for (status, finished_at, keep) in [
        (JobStatus::Succeeded, Some(long_ago), false),
        (JobStatus::Dead, Some(long_ago), false),
        (JobStatus::Succeeded, Some(recently), true),
        (JobStatus::Pending, None, true),
    ] {
        let id = queue::enqueue_at(
            db,
            &kabaadwala::vendors::jobs::SendKycDecisionEmail {
                vendor_id: Uuid::new_v4(),
            },
            later,
        )
        .await
        .unwrap();
        jobs::Entity::update_many()
            .col_expr(jobs::Column::Status, Expr::value(status))
            .col_expr(jobs::Column::FinishedAt, Expr::value(finished_at))
            .filter(jobs::Column::Id.eq(id))
            .exec(db)
            .await
            .unwrap();
        expected.push(("job", id, keep));
    }
    let cleanup = schedule_named(&app, "cleanup_expired_sessions");
    schedule::fire(&app.state, &cleanup, long_ago)
        .await
        .unwrap();
    let recent_slot = cleanup.slot_at(now).unwrap();

    schedule::fire(&app.state, &cleanup, recent_slot)
        .await
        .unwrap();
    let ran = app.drain_jobs().await;

    assert_eq!(ran.len(), 2, "{ran:?}");
    assert!(
        ran.iter().all(|o| o.status == JobStatus::Succeeded),
        "{ran:?}"
    );
    for (what, id, keep) in expected {
        let exists = match what {
            "refresh" => refresh_tokens::Entity::find_by_id(id)
                .one(db)
                .await
                .unwrap()
                .is_some(),
            "otp" => otp_challenges::Entity::find_by_id(id)
                .one(db)
                .await
                .unwrap()
                .is_some(),
            "email" => email_tokens::Entity::find_by_id(id)
                .one(db)
                .await
                .unwrap()
                .is_some(),
            _ => jobs::Entity::find_by_id(id)
                .one(db)
                .await
                .unwrap()
                .is_some(),
        };
        assert_eq!(exists, keep, "{what} {id}");
    }
    // The old schedule run went; the recent one stays.
    let runs = schedule_runs::Entity::find().all(db).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| r.slot_at).collect::<Vec<_>>(),
        [recent_slot]
    );
    // Asha's own session still works.
    let me = app
        .gql("{ me { id } }", json!({}), Some(&asha.access_token))
        .await;
    assert_eq!(me.data("me")["id"], asha.user_id);
    let refreshed = app
        .gql(
            "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
            json!({ "t": asha.refresh_token }),
            None,
        )
        .await;
    assert!(refreshed.errors.is_empty(), "{:?}", refreshed.errors);
}

const REPORT: &str = "query($d: NaiveDate!) { dailyReport(date: $d) { date newUsers newVendors walletRecharges walletRechargeTotal { paise formatted } } }";

#[tokio::test]
async fn the_daily_report_counts_the_days_sign_ups_vendors_and_recharges() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let asha = app.customer("Asha").await;
    let ravi = app.customer("Ravi").await;
    catalog::vendor(&app, "Kabaad Kings", catalog::DELHI).await;
    // Yesterday's sign-up does not count today.
    let old = app.customer("Old").await;
    entity::users::Entity::update_many()
        .col_expr(
            entity::users::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::days(1)),
        )
        .filter(entity::users::Column::Id.eq(old.user_id.parse::<Uuid>().unwrap()))
        .exec(&app.state.db)
        .await
        .unwrap();
    crate::wallet::fund(&app, &asha, 50_000).await;
    crate::wallet::fund(&app, &ravi, 25_050).await;
    // Declined by the sandbox (ends in 13 paise): not a recharge.
    app.gql(
        "mutation($input: RechargeInput!) { rechargeWallet(input: $input) { id } }",
        json!({ "input": { "amount": 10_013, "idempotencyKey": "declined" } }),
        Some(&ravi.access_token),
    )
    .await
    .data("rechargeWallet");
    let today: NaiveDate = Utc::now().date_naive();

    queue::enqueue(
        &app.state.db,
        &kabaadwala::reports::jobs::GenerateDailyReport { day: today },
    )
    .await
    .unwrap();
    app.drain_jobs().await;

    let report = app
        .gql(
            REPORT,
            json!({ "d": today.to_string() }),
            Some(&admin.access_token),
        )
        .await
        .data("dailyReport");
    assert_eq!(
        report,
        json!({
            "date": today.to_string(),
            // admin, Asha, Ravi, the vendor's user
            "newUsers": 4,
            "newVendors": 1,
            "walletRecharges": 2,
            "walletRechargeTotal": { "paise": 75_050, "formatted": "₹750.50" },
        })
    );
    let mail = app
        .mail_to(&admin.email, "daily report")
        .expect("the report is emailed to admins");
    assert!(mail.contains("New users: 4"), "{mail}");
    assert!(app.mail_to(&asha.email, "daily report").is_none());
    // Generating the same day again replaces the row.
    queue::enqueue(
        &app.state.db,
        &kabaadwala::reports::jobs::GenerateDailyReport { day: today },
    )
    .await
    .unwrap();
    app.drain_jobs().await;
    assert_eq!(
        entity::daily_reports::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );
    let list = app
        .gql(
            "{ dailyReports(first: 5) { totalCount edges { node { date newUsers } } } }",
            json!({}),
            Some(&admin.access_token),
        )
        .await
        .data("dailyReports");
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["edges"][0]["node"]["newUsers"], 4);
}

#[tokio::test]
async fn daily_reports_are_for_admins_only() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let query = "{ dailyReports { totalCount } }";

    assert_eq!(
        app.gql(query, json!({}), None).await.code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.gql(query, json!({}), Some(&asha.access_token))
            .await
            .code(),
        "FORBIDDEN"
    );
    let missing = app
        .gql(
            REPORT,
            json!({ "d": "2020-01-01" }),
            Some(&app.admin().await.access_token),
        )
        .await;
    assert_eq!(missing.data("dailyReport"), serde_json::Value::Null);
}

#[tokio::test]
async fn the_daily_report_counts_orders_by_status_gmv_and_commission() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let shop = market::shop(&app, "Dadar").await;
    let product = market::product(&app, &shop, "Copper wire", 40_000, 100).await;
    let buyer = app.customer("Meera").await;
    crate::wallet::fund(&app, &buyer, 1_000_000).await;
    let address = market::address(&app, &buyer, Some(market::NEAR)).await;
    let completed = market::placed(&app, &buyer, product, 2, &address).await;
    market::advance(&app, &shop, &buyer, &admin, &completed, "COMPLETED").await;
    let cancelled = market::placed(&app, &buyer, product, 1, &address).await;
    market::advance(&app, &shop, &buyer, &admin, &cancelled, "CANCELLED").await;
    let open = market::placed(&app, &buyer, product, 3, &address).await;
    app.drain_jobs().await;
    let row = |id: &str| {
        let id: Uuid = id.parse().unwrap();
        let db = app.state.db.clone();
        async move {
            entity::orders::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let (done, standing) = (row(&completed).await, row(&open).await);
    let today = Utc::now().date_naive();

    queue::enqueue(
        &app.state.db,
        &kabaadwala::reports::jobs::GenerateDailyReport { day: today },
    )
    .await
    .unwrap();
    app.drain_jobs().await;

    let report = app
        .gql(
            "query($d: NaiveDate!) { dailyReport(date: $d) { ordersByStatus { status count } gmv { paise } commission { paise } } }",
            json!({ "d": today.to_string() }),
            Some(&admin.access_token),
        )
        .await
        .data("dailyReport");
    assert_eq!(
        report,
        json!({
            "ordersByStatus": [
                { "status": "CANCELLED", "count": 1 },
                { "status": "COMPLETED", "count": 1 },
                { "status": "PLACED", "count": 1 },
            ],
            "gmv": { "paise": done.total + standing.total },
            "commission": { "paise": done.commission },
        })
    );
    assert!(done.commission > 0);
    let mail = app.mail_to(&admin.email, "daily report").unwrap();
    assert!(mail.contains("Orders placed: 3"), "{mail}");
}
