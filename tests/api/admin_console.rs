//! The operators' console (`/admin`), driven through the router: who may see it (an anonymous
//! visitor is sent to sign in, a customer or a vendor gets 403), form tokens (an action without
//! one changes nothing), sessions (idle timeout, sign-out), and every page and every action,
//! each action checked in the database and in the audit log.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use entity::{admin_sessions, audit_log, jobs, orders, payouts, products, users, vendors};
use kabaadwala::{auth::jobs::SendOtpEmail, jobs::queue};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use crate::{
    support::{
        Session, TestApp,
        catalog::{self, VendorSession},
        console::{self, Console, get, post, send, submit_login},
        market::{self, NEAR, Shop},
    },
    wallet::fund,
};

/// A drawn PAN card (a real image, so a browser shows it).
const PAN_CARD: &[u8] = include_bytes!("fixtures/pan-card.png");

/// A marketplace with one of everything an operator acts on.
pub struct Fixture {
    pub admin: Session,
    /// Registered, KYC document uploaded (SUBMITTED).
    pub kyc_vendor: VendorSession,
    pub shop: Shop,
    pub product: Uuid,
    pub buyer: Session,
    /// PLACED (refundable).
    pub order: String,
    /// REQUESTED by `shop`.
    pub payout: String,
    /// DEAD after its attempts.
    pub dead_job: Uuid,
    /// A plain customer.
    pub customer: Session,
}

pub async fn dead_job(app: &TestApp) -> Uuid {
    let id = queue::enqueue(
        &app.state.db,
        &SendOtpEmail {
            user_id: Uuid::new_v4(),
            code: "123456".into(),
        },
    )
    .await
    .unwrap();
    // As the worker leaves a job that failed every attempt.
    jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(jobs::JobStatus::Dead))
        .col_expr(jobs::Column::Attempts, Expr::col(jobs::Column::MaxAttempts))
        .col_expr(
            jobs::Column::LastError,
            Expr::value("smtp: connection refused"),
        )
        .col_expr(jobs::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(jobs::Column::Id.eq(id))
        .exec(&app.state.db)
        .await
        .unwrap();
    id
}

pub async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.admin().await;
    let kyc_vendor = catalog::vendor(app, "Kyc Vendor", NEAR).await;
    catalog::upload_kyc(app, &kyc_vendor.session, "PAN", "pan.png", PAN_CARD)
        .await
        .data("uploadKycDocument");
    let shop = market::shop(app, "Console Shop").await;
    let product = market::product(app, &shop, "Copper wire", 10_000, 100).await;
    let buyer = app.customer("Buyer").await;
    fund(app, &buyer, 100_000).await;
    let address = market::address(app, &buyer, Some(NEAR)).await;
    let completed = market::placed(app, &buyer, product, 1, &address).await;
    market::advance(app, &shop, &buyer, &admin, &completed, "COMPLETED").await;
    app.drain_jobs().await;
    let order = market::placed(app, &buyer, product, 2, &address).await;
    let payout = app
        .gql(
            "mutation($input: PayoutInput!) { requestPayout(input: $input) { id } }",
            json!({ "input": { "amount": 5_000, "idempotencyKey": "console-payout" } }),
            Some(&shop.owner.access_token),
        )
        .await
        .data("requestPayout")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dead_job = dead_job(app).await;
    let customer = app.customer("Someone").await;
    Fixture {
        admin,
        kyc_vendor,
        shop,
        product,
        buyer,
        order,
        payout,
        dead_job,
        customer,
    }
}

/// Every page, with real ids where a detail page needs one.
fn pages(fx: &Fixture) -> Vec<String> {
    vec![
        "/admin".into(),
        "/admin/users".into(),
        "/admin/users?search=buyer&role=CUSTOMER&status=active".into(),
        format!("/admin/users/{}", fx.buyer.user_id),
        "/admin/vendors".into(),
        "/admin/vendors?kyc=SUBMITTED".into(),
        format!("/admin/vendors/{}", fx.kyc_vendor.vendor_id),
        "/admin/products?search=copper".into(),
        format!("/admin/products/{}", fx.product),
        "/admin/orders?status=PLACED".into(),
        format!("/admin/orders/{}", fx.order),
        "/admin/payouts?status=REQUESTED".into(),
        format!("/admin/payouts/{}", fx.payout),
        "/admin/ledger?check=1".into(),
        "/admin/jobs?status=DEAD".into(),
        format!("/admin/jobs/{}", fx.dead_job),
        "/admin/settings".into(),
        "/admin/audit".into(),
    ]
}

/// Every action, with fields that would succeed.
fn actions(fx: &Fixture) -> Vec<(String, Vec<(&'static str, String)>)> {
    let reason = |r: &str| vec![("reason", r.to_owned())];
    vec![
        (
            format!("/admin/users/{}/active", fx.customer.user_id),
            vec![("active", "false".into()), ("reason", "fraud".into())],
        ),
        (
            format!("/admin/users/{}/role", fx.customer.user_id),
            vec![("role", "ADMIN".into())],
        ),
        (
            format!("/admin/users/{}/adjust", fx.buyer.user_id),
            vec![
                ("amount", "15".into()),
                ("reason", "goodwill".into()),
                ("key", Uuid::new_v4().to_string()),
            ],
        ),
        (
            format!("/admin/vendors/{}/kyc", fx.kyc_vendor.vendor_id),
            vec![("decision", "approve".into())],
        ),
        (
            format!("/admin/vendors/{}/commission", fx.shop.vendor_id),
            vec![("bps", "250".into())],
        ),
        (
            format!("/admin/products/{}/unlist", fx.product),
            reason("counterfeit"),
        ),
        (
            format!("/admin/orders/{}/refund", fx.order),
            reason("damaged"),
        ),
        (format!("/admin/payouts/{}/approve", fx.payout), vec![]),
        (format!("/admin/jobs/{}/retry", fx.dead_job), vec![]),
        (
            "/admin/jobs/purge".into(),
            vec![("status", "SUCCEEDED".into())],
        ),
        (
            "/admin/settings/auto_release_hours".into(),
            vec![("value", "48".into())],
        ),
        (
            "/admin/settings/categories".into(),
            vec![("name", "Console Glass".into())],
        ),
        (
            format!("/admin/vendors/{}/suspend", fx.shop.vendor_id),
            reason("chargebacks"),
        ),
    ]
}

async fn audit_rows(app: &TestApp) -> Vec<audit_log::Model> {
    audit_log::Entity::find().all(&app.state.db).await.unwrap()
}

#[tokio::test]
async fn an_anonymous_visitor_is_sent_to_the_sign_in_page_from_every_page_and_action() {
    let app = TestApp::new().await;
    let fx = fixture(&app).await;
    let router = kabaadwala::http::router(app.state.clone());

    for page in pages(&fx) {
        let answer = send(&router, get(&page, None)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{page}");
        assert!(
            answer
                .location
                .as_deref()
                .unwrap()
                .starts_with("/admin/login"),
            "{page}: {:?}",
            answer.location
        );
    }
    for (action, fields) in actions(&fx) {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = send(&router, post(&action, None, &fields)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{action}");
    }
    let login = send(&router, get("/admin/login", None)).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("Sign in"));
    assert!(audit_rows(&app).await.is_empty());
}

#[tokio::test]
async fn customers_and_vendors_are_refused_with_403() {
    let app = TestApp::new().await;
    let fx = fixture(&app).await;
    let router = kabaadwala::http::router(app.state.clone());

    for who in [&fx.customer, &fx.shop.owner] {
        let login = submit_login(&router, &who.email).await;
        assert_eq!(login.status, StatusCode::FORBIDDEN, "{}", login.body);
        assert!(login.cookie("kw_admin").is_none());
        for page in pages(&fx) {
            let request = axum::http::Request::get(&page)
                .header("authorization", format!("Bearer {}", who.access_token))
                .body(axum::body::Body::empty())
                .unwrap();
            let answer = send(&router, request).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{page}");
        }
    }
    let sessions = admin_sessions::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(sessions.is_empty());
}

#[tokio::test]
async fn every_page_renders_for_an_admin_with_its_data() {
    let app = TestApp::new().await;
    let fx = fixture(&app).await;
    let console = Console::sign_in(&app, &fx.admin.email).await;

    for page in pages(&fx) {
        let answer = console.get(&page).await;
        assert_eq!(answer.status, StatusCode::OK, "{page}: {}", answer.body);
        assert!(answer.body.contains("<nav"), "{page}");
        assert!(
            answer.headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("script-src 'self'"),
            "{page}"
        );
    }
    let users = console
        .get(&format!("/admin/users?search={}", fx.buyer.email))
        .await;
    assert!(users.body.contains(&fx.buyer.email));
    assert!(!users.body.contains(&fx.customer.email));
    let queue = console.get("/admin/vendors?kyc=SUBMITTED").await;
    assert!(queue.body.contains("Kyc Vendor"), "{}", queue.body);
    assert!(!queue.body.contains("Console Shop"));
    let vendor = console
        .get(&format!("/admin/vendors/{}", fx.kyc_vendor.vendor_id))
        .await;
    let document = vendor
        .body
        .split("<img src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the KYC document inline")
        .to_owned();
    let file = console.get(&document).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.headers["content-type"], "image/png");
    let order = console.get(&format!("/admin/orders/{}", fx.order)).await;
    assert!(order.body.contains("Copper wire"));
    assert!(order.body.contains("PLACED"));
    let dashboard = console.get("/admin").await;
    assert!(dashboard.body.contains("<svg"));
    let jobs = console.get("/admin/jobs?status=DEAD").await;
    assert!(jobs.body.contains("send_otp_email"), "{}", jobs.body);
    assert!(jobs.body.contains("cleanup_expired_sessions"));
    let missing = console
        .get(&format!("/admin/orders/{}", Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_action_without_its_form_token_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let fx = fixture(&app).await;
    let console = Console::sign_in(&app, &fx.admin.email).await;

    for (action, fields) in actions(&fx) {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let missing = console.post_without_token(&action, &fields).await;
        let mut wrong = vec![("csrf", "not-the-token")];
        wrong.extend_from_slice(&fields);
        let forged = console.post_without_token(&action, &wrong).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN, "{action}");
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{action}");
    }
    let logout = console.post_without_token("/admin/logout", &[]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    let (cookie, _) = console::login_form(&console.router).await;
    let forged_login = send(
        &console.router,
        post(
            "/admin/login",
            Some(&cookie),
            &[
                ("csrf", "forged"),
                ("email", &fx.admin.email),
                ("password", crate::support::PASSWORD),
            ],
        ),
    )
    .await;
    assert_eq!(forged_login.status, StatusCode::FORBIDDEN);

    assert!(audit_rows(&app).await.is_empty());
    let customer = users::Entity::find_by_id(fx.customer.user_id.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(customer.is_active);
    let order = orders::Entity::find_by_id(fx.order.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, orders::OrderStatus::Placed);
}

#[tokio::test]
async fn every_action_does_its_work_and_writes_its_audit_row() {
    let app = TestApp::new().await;
    let fx = fixture(&app).await;
    let console = Console::sign_in(&app, &fx.admin.email).await;
    let expected = [
        "user.deactivate",
        "user.set_role",
        "wallet.adjust",
        "vendor.kyc_approve",
        "vendor.set_commission",
        "product.unlist",
        "order.refund",
        "payout.approve",
        "job.retry",
        "job.purge",
        "setting.update",
        "category.create",
        "vendor.suspend",
    ];

    for ((action, fields), audit_action) in actions(&fx).into_iter().zip(expected) {
        let before = audit_rows(&app).await.len();
        let started = Utc::now() - Duration::milliseconds(5);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = console.post(&action, &fields).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            answer.body
        );
        let location = answer.location.unwrap();
        assert!(
            location.contains("notice="),
            "{action} was refused: {location}"
        );
        let rows = audit_rows(&app).await;
        assert!(rows.len() > before, "{action}");
        let row = rows
            .iter()
            .find(|r| r.action == audit_action && r.created_at >= started)
            .unwrap_or_else(|| panic!("{action}: no {audit_action} row"));
        assert_eq!(row.actor_id, Some(fx.admin.user_id.parse().unwrap()));
        assert!(row.after.is_some(), "{action}");
    }

    let db = &app.state.db;
    let customer = users::Entity::find_by_id(fx.customer.user_id.parse::<Uuid>().unwrap())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(!customer.is_active);
    assert_eq!(customer.role, users::Role::Admin);
    let vendor = vendors::Entity::find_by_id(fx.kyc_vendor.vendor_id.parse::<Uuid>().unwrap())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vendor.kyc_status, vendors::KycStatus::Approved);
    let shop = vendors::Entity::find_by_id(fx.shop.vendor_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(shop.commission_bps, Some(250));
    assert_eq!(shop.kyc_status, vendors::KycStatus::Rejected, "suspended");
    let owner = users::Entity::find_by_id(shop.user_id)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(!owner.is_active, "suspended");
    let product = products::Entity::find_by_id(fx.product)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(!product.is_active);
    let order = orders::Entity::find_by_id(fx.order.parse::<Uuid>().unwrap())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.status, orders::OrderStatus::Refunded);
    let payout = payouts::Entity::find_by_id(fx.payout.parse::<Uuid>().unwrap())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(payout.status, payouts::PayoutStatus::Approved);
    let job = jobs::Entity::find_by_id(fx.dead_job)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.status, jobs::JobStatus::Pending);
    let refund = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("order.refund"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refund.reason.as_deref(), Some("damaged"));
    assert_eq!(refund.before, Some(json!({ "status": "PLACED" })));
    assert_eq!(refund.after, Some(json!({ "status": "REFUNDED" })));
    market::assert_ledger_sound(&app).await;

    // The audit log shows them, filterable, and offers no way to change them.
    let log = console.get("/admin/audit?action=order.refund").await;
    assert!(log.body.contains("damaged"));
    assert!(!log.body.contains("vendor.kyc_approve"));
    assert!(!log.body.contains("method=\"post\" action=\"/admin/audit"));
}

#[tokio::test]
async fn a_refused_action_comes_back_with_its_reason_and_writes_nothing() {
    let app = TestApp::new().await;
    let fx = fixture(&app).await;
    let console = Console::sign_in(&app, &fx.admin.email).await;

    let no_reason = console
        .post(
            &format!("/admin/orders/{}/refund", fx.order),
            &[("reason", "")],
        )
        .await;
    let reject_without_reason = console
        .post(
            &format!("/admin/vendors/{}/kyc", fx.kyc_vendor.vendor_id),
            &[("decision", "reject")],
        )
        .await;
    let bad_setting = console
        .post(
            "/admin/settings/commission_rate_bps",
            &[("value", "999999")],
        )
        .await;

    assert_eq!(no_reason.status, StatusCode::SEE_OTHER);
    assert!(reject_without_reason.location.unwrap().contains("error="));
    assert!(bad_setting.location.unwrap().contains("error="));
    assert!(
        audit_rows(&app)
            .await
            .iter()
            .all(|r| r.action != "vendor.kyc_reject" && r.action != "setting.update")
    );
}

#[tokio::test]
async fn a_session_ends_when_idle_at_sign_out_and_when_its_admin_is_deactivated() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let other = app.admin().await;
    let console = Console::sign_in(&app, &admin.email).await;
    let second = Console::sign_in(&app, &other.email).await;
    let third = Console::sign_in(&app, &other.email).await;

    // Idle past the timeout.
    admin_sessions::Entity::update_many()
        .col_expr(
            admin_sessions::Column::LastSeenAt,
            Expr::value(Utc::now() - Duration::hours(2)),
        )
        .filter(admin_sessions::Column::UserId.eq(admin.user_id.parse::<Uuid>().unwrap()))
        .exec(&app.state.db)
        .await
        .unwrap();
    let idle = console.get("/admin").await;
    // Signed out.
    let out = second.post("/admin/logout", &[]).await;
    let after_out = second.get("/admin").await;
    // Deactivated by another admin: the session goes with the account.
    let fresh = Console::sign_in(&app, &admin.email).await;
    fresh
        .post(
            &format!("/admin/users/{}/active", other.user_id),
            &[("active", "false"), ("reason", "left the company")],
        )
        .await;
    let deactivated = third.get("/admin").await;
    let refused_login = submit_login(&console.router, &other.email).await;

    assert_eq!(idle.status, StatusCode::SEE_OTHER);
    assert!(idle.location.unwrap().starts_with("/admin/login"));
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.cookies.iter().any(|c| c.starts_with("kw_admin=;")));
    assert_eq!(after_out.status, StatusCode::SEE_OTHER);
    assert_eq!(deactivated.status, StatusCode::SEE_OTHER);
    assert_eq!(refused_login.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_strict_and_secure_in_production() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let router = kabaadwala::http::router(app.state.clone());

    let answer = submit_login(&router, &admin.email).await;

    let cookie = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("kw_admin="))
        .unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "development: {cookie}");
    let stored = admin_sessions::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let token = answer.cookie("kw_admin").unwrap();
    assert_ne!(stored.token_hash, token, "only a hash is stored");

    let production = TestApp::with_env(&[
        ("APP_ENV", "production"),
        ("METRICS_TOKEN", "metrics-token-for-tests"),
        ("PAYMENT_WEBHOOK_SECRET", "webhook-secret-for-tests"),
        // Production refuses the sandbox.
        ("PAYMENT_PROVIDER", "razorpay"),
        ("RAZORPAY_KEY_ID", "rzp_test_id"),
        ("RAZORPAY_KEY_SECRET", "rzp-test-secret"),
        ("RAZORPAY_WEBHOOK_SECRET", "rzp-test-webhook-secret"),
    ])
    .await;
    let admin = production.admin().await;
    let answer = submit_login(
        &kabaadwala::http::router(production.state.clone()),
        &admin.email,
    )
    .await;
    let cookie = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("kw_admin="))
        .unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn with_two_factor_on_sign_in_asks_for_the_emailed_code() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.gql(
        "mutation { setTwoFactor(enabled: true) { id } }",
        json!({}),
        Some(&admin.access_token),
    )
    .await;
    let router = kabaadwala::http::router(app.state.clone());

    let first = submit_login(&router, &admin.email).await;
    app.drain_jobs().await;
    let mail = app
        .mail_to(&admin.email, "sign-in code")
        .expect("the code by mail");
    let code = mail
        .lines()
        .find_map(|l| l.strip_prefix("Your sign-in code is: "))
        .unwrap()
        .trim()
        .to_owned();
    let pre = first.cookie("kw_admin_pre").unwrap();
    let token = first.input("csrf").unwrap();
    let challenge = first.input("challenge").unwrap();
    let wrong = send(
        &router,
        post(
            "/admin/login/code",
            Some(&format!("kw_admin_pre={pre}")),
            &[
                ("csrf", &token),
                ("challenge", &challenge),
                ("code", "000000"),
            ],
        ),
    )
    .await;
    let pre = wrong.cookie("kw_admin_pre").unwrap();
    let token = wrong.input("csrf").unwrap();
    let right = send(
        &router,
        post(
            "/admin/login/code",
            Some(&format!("kw_admin_pre={pre}")),
            &[("csrf", &token), ("challenge", &challenge), ("code", &code)],
        ),
    )
    .await;

    assert_eq!(first.status, StatusCode::OK);
    assert!(first.cookie("kw_admin").is_none());
    assert!(first.body.contains("6-digit code"));
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.body);
    assert!(right.cookie("kw_admin").is_some());
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_like_the_api_login() {
    let app = TestApp::with_env(&[("RATE_LIMIT_LOGIN_ACCOUNT", "2/900")]).await;
    // Made without signing in: with Redis the console counts with the API's login counters.
    let email = format!("admin-{}@example.com", Uuid::new_v4().simple());
    kabaadwala::accounts::admin::create_superuser(
        &app.state.db,
        &email,
        crate::support::PASSWORD,
        "Admin",
    )
    .await
    .unwrap();
    let router = kabaadwala::http::router(app.state.clone());

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (cookie, token) = console::login_form(&router).await;
        let answer = send(
            &router,
            post(
                "/admin/login",
                Some(&cookie),
                &[
                    ("csrf", &token),
                    ("email", &email),
                    ("password", "wrong-password-1"),
                ],
            ),
        )
        .await;
        statuses.push(answer.status);
    }

    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn the_console_assets_are_embedded_and_cached_for_a_year() {
    let app = TestApp::new().await;
    let router = kabaadwala::http::router(app.state.clone());
    let login = send(&router, get("/admin/login", None)).await;
    let links: Vec<String> = ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| login.body.split(attr).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .filter(|l| l.starts_with("/admin/assets/"))
        .map(str::to_owned)
        .collect();

    assert_eq!(links.len(), 2, "{}", login.body);
    for link in links {
        let asset = send(&router, get(&link, None)).await;
        assert_eq!(asset.status, StatusCode::OK, "{link}");
        assert_eq!(
            asset.headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(!asset.body.is_empty());
    }
    for needle in ["http://", "https://", "cdn"] {
        assert!(!login.body.contains(needle), "{needle}");
    }
}
