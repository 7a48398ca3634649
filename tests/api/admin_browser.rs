//! The operators' console in a real browser (headless Chromium through chromedriver, the
//! playground test's helpers): an admin signs in, approves a vendor's KYC, refunds an order,
//! retries a dead job, deactivates a user and opens a disputed pickup from the pickups list,
//! each step checked on the page and in the database. Screenshots go to `target/tmp/admin-*.png`, and with `UPDATE_SCREENSHOT=1` also to
//! `docs/img/admin-*.png` (the README's pictures).

use std::time::Duration;

use entity::{jobs, orders, users, vendors};
use fantoccini::{Client, Locator};
use sea_orm::EntityTrait as _;
use uuid::Uuid;

use crate::{
    admin_console::{Fixture, fixture},
    playground::{browser, chromedriver},
    support::{
        PASSWORD, TestApp,
        server::{Server, start},
    },
};

async fn screenshot(browser: &Client, name: &str) -> anyhow::Result<()> {
    let png = browser.screenshot().await?;
    std::fs::write(
        format!("{}/admin-{name}.png", env!("CARGO_TARGET_TMPDIR")),
        &png,
    )?;
    if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
        std::fs::write(
            format!("{}/docs/img/admin-{name}.png", env!("CARGO_MANIFEST_DIR")),
            &png,
        )?;
    }
    Ok(())
}

/// Clicks the button labelled `label` and waits for the page's notice; returns its text.
async fn press(browser: &Client, label: &str) -> anyhow::Result<String> {
    browser
        .find(Locator::XPath(&format!(
            "//button[normalize-space()='{label}']"
        )))
        .await?
        .click()
        .await?;
    let notice = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("p.notice, p.error"))
        .await?;
    Ok(notice.text().await?)
}

async fn fill(browser: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    browser
        .find(Locator::Css(css))
        .await?
        .send_keys(text)
        .await?;
    Ok(())
}

async fn heading(browser: &Client) -> anyhow::Result<String> {
    let h1 = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("main h1"))
        .await?;
    Ok(h1.text().await?)
}

/// What the browser saw at each step.
#[derive(Debug, Default)]
struct Seen {
    login_heading: String,
    dashboard: String,
    approved: String,
    refunded: String,
    retried: String,
    deactivated: String,
    audit: String,
    pickup: String,
}

async fn operate(
    browser: &Client,
    server: &Server,
    app: &TestApp,
    fx: &Fixture,
    pickup_number: &str,
) -> anyhow::Result<Seen> {
    let mut seen = Seen::default();
    let db = &app.state.db;

    browser.goto(&server.url("/admin")).await?;
    seen.login_heading = heading(browser).await?;
    fill(browser, "input[name=email]", &fx.admin.email).await?;
    fill(browser, "input[name=password]", PASSWORD).await?;
    browser
        .find(Locator::Css("form button[type=submit]"))
        .await?
        .click()
        .await?;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("svg.chart"))
        .await?;
    seen.dashboard = heading(browser).await?;
    screenshot(browser, "dashboard").await?;

    // KYC: from the review queue to the vendor, approve.
    browser
        .goto(&server.url("/admin/vendors?kyc=SUBMITTED"))
        .await?;
    browser
        .find(Locator::LinkText("Kyc Vendor"))
        .await
        .or(Err(anyhow::anyhow!("the vendor is not in the queue")))?
        .click()
        .await?;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".docs img"))
        .await?;
    screenshot(browser, "kyc").await?;
    seen.approved = press(browser, "Approve KYC").await?;
    let vendor = vendors::Entity::find_by_id(fx.kyc_vendor.vendor_id.parse::<Uuid>()?)
        .one(db)
        .await?;
    anyhow::ensure!(vendor.map(|v| v.kyc_status) == Some(vendors::KycStatus::Approved));

    // Refund an order, with a reason.
    browser
        .goto(&server.url(&format!("/admin/orders/{}", fx.order)))
        .await?;
    fill(
        browser,
        "form[action$='/refund'] input[name=reason]",
        "damaged in transit",
    )
    .await?;
    seen.refunded = press(browser, "Refund order").await?;
    screenshot(browser, "order").await?;
    let order = orders::Entity::find_by_id(fx.order.parse::<Uuid>()?)
        .one(db)
        .await?;
    anyhow::ensure!(order.map(|o| o.status) == Some(orders::OrderStatus::Refunded));

    // Retry the dead job from the jobs page.
    browser.goto(&server.url("/admin/jobs?status=DEAD")).await?;
    screenshot(browser, "jobs").await?;
    seen.retried = press(browser, "Retry").await?;
    let job = jobs::Entity::find_by_id(fx.dead_job).one(db).await?;
    anyhow::ensure!(job.map(|j| j.status) == Some(jobs::JobStatus::Pending));

    // Deactivate a user, with a reason.
    browser
        .goto(&server.url(&format!("/admin/users/{}", fx.customer.user_id)))
        .await?;
    fill(
        browser,
        "form[action$='/active'] input[name=reason]",
        "payment fraud",
    )
    .await?;
    seen.deactivated = press(browser, "Deactivate").await?;
    screenshot(browser, "user").await?;
    let user = users::Entity::find_by_id(fx.customer.user_id.parse::<Uuid>()?)
        .one(db)
        .await?;
    anyhow::ensure!(user.is_some_and(|u| !u.is_active));

    browser.goto(&server.url("/admin/audit")).await?;
    seen.audit = browser.find(Locator::Css("main")).await?.text().await?;
    screenshot(browser, "audit").await?;

    // A disputed pickup, from the list filtered to disputes.
    browser
        .goto(&server.url("/admin/pickups?status=DISPUTED"))
        .await?;
    browser
        .find(Locator::LinkText(pickup_number))
        .await
        .or(Err(anyhow::anyhow!("the pickup is not in the list")))?
        .click()
        .await?;
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//button[normalize-space()='Settle the pickup']",
        ))
        .await?;
    seen.pickup = heading(browser).await?;
    screenshot(browser, "pickup").await?;

    // The same console on a phone's width.
    browser.set_window_size(390, 844).await?;
    browser.goto(&server.url("/admin/orders")).await?;
    heading(browser).await?;
    screenshot(browser, "phone").await?;
    Ok(seen)
}

#[tokio::test]
async fn an_admin_runs_the_marketplace_from_the_console_in_a_real_browser() {
    let app = TestApp::new().await;
    let fx = fixture(&app).await;
    // Today's report, so the dashboard's chart has a day to draw.
    kabaadwala::reports::service::generate(&app.state.db, chrono::Utc::now().date_naive())
        .await
        .unwrap();
    let yard = crate::pickups::yard(&app).await;
    let pickup = crate::admin_pickups::disputed(&app, &yard).await;
    let pickup_number = entity::pickups::Entity::find_by_id(pickup.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .number;
    let server = start(&app).await;
    let driver = chromedriver().await;
    let browser = browser(&driver).await;

    let seen = operate(&browser, &server, &app, &fx, &pickup_number).await;
    // Closed before any assertion can fail, so no Chromium outlives the test.
    let _ = browser.close().await;
    let seen = seen.unwrap();

    assert_eq!(seen.login_heading, "Sign in");
    assert_eq!(seen.dashboard, "Dashboard");
    assert_eq!(seen.approved, "KYC approved.");
    assert_eq!(seen.refunded, "Refunded: the hold is voided.");
    assert_eq!(seen.retried, "Queued again, due now.");
    assert_eq!(seen.deactivated, "Deactivated: signed out everywhere.");
    assert_eq!(seen.pickup, format!("Pickup {pickup_number}"));
    for action in [
        "vendor.kyc_approve",
        "order.refund",
        "job.retry",
        "user.deactivate",
    ] {
        assert!(
            seen.audit.contains(action),
            "{action} missing:\n{}",
            seen.audit
        );
    }
    assert!(seen.audit.contains("damaged in transit"));
}
