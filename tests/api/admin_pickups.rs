//! The console's pickup pages and rate cards (`/admin/pickups`, `/admin/rates`), driven through
//! the router: who may see them, the list's filters, the detail page, resolving a dispute
//! (exact balances, the audit row, the form token, bad weights) and setting a rate.

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use entity::{audit_log, ledger_accounts::AccountKind, pickups, users};
use kabaadwala::pickups::service::rates;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
use serde_json::json;
use uuid::Uuid;

use crate::{
    pickups::{Yard, book, booked, dispute, set_status, yard},
    support::{
        TestApp, catalog,
        console::{Console, get, post, send},
        market::{self, assert_ledger_sound, balances, ledger_balance},
    },
};

/// ₹1,000 in the collector's wallet (the yard's float).
const FLOAT: i64 = 100_000;

/// Walks a booked pickup to WEIGHED at `grams` with a photo of the scale.
async fn weighed_with_photo(app: &TestApp, y: &Yard, id: &str, grams: i64) {
    for status in ["EN_ROUTE", "ARRIVED"] {
        set_status(app, &y.shop.owner, id, status)
            .await
            .data("updatePickupStatus");
    }
    app.gql_upload(
        "mutation($p: ID!, $l: [WeighingLineInput!]!, $f: Upload) { recordWeighing(pickupId: $p, lines: $l, photo: $f) { id } }",
        json!({ "p": id, "l": [{ "categoryId": y.material, "weightGrams": grams }], "f": null }),
        Some(&y.shop.owner.access_token),
        &[("variables.f", "scale.png", catalog::PNG)],
    )
    .await
    .data("recordWeighing");
}

/// A pickup of 10 kg booked, weighed at 12.4 kg and disputed by the household.
pub async fn disputed(app: &TestApp, y: &Yard) -> String {
    let id = booked(app, y).await;
    weighed_with_photo(app, y, &id, 12_400).await;
    dispute(app, &y.household, &id).await.data("disputePickup");
    id
}

async fn pickup_row(app: &TestApp, id: &str) -> pickups::Model {
    pickups::Entity::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
}

async fn audit_of(app: &TestApp, action: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .all(&app.state.db)
        .await
        .unwrap()
}

/// Follows a form's redirect and returns the page it lands on.
async fn landing(console: &Console, answer: &crate::support::console::Answer) -> String {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    console.get(answer.location.as_deref().unwrap()).await.body
}

#[tokio::test]
async fn the_pickups_list_filters_by_status_and_finds_a_pickup_by_number_or_household_email() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let in_dispute = disputed(&app, &y).await;
    let assigned = booked(&app, &y).await;
    let neighbour = app.customer("Neighbour").await;
    let address = market::address(&app, &neighbour, Some(market::NEAR)).await;
    let offered = book(
        &app,
        &neighbour,
        &address,
        None,
        &y.material,
        3.0,
        "neighbour-1",
    )
    .await
    .data("bookPickup")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disputed_no = pickup_row(&app, &in_dispute).await.number;
    let assigned_no = pickup_row(&app, &assigned).await.number;
    let offered_no = pickup_row(&app, &offered).await.number;
    let console = Console::sign_in(&app, &y.admin.email).await;

    let all = console.get("/admin/pickups").await;
    let only_disputed = console.get("/admin/pickups?status=DISPUTED").await;
    let by_email = console
        .get(&format!(
            "/admin/pickups?search={}",
            neighbour.email.to_uppercase()
        ))
        .await;
    let by_number = console
        .get(&format!("/admin/pickups?search={}", &assigned_no[3..]))
        .await;
    let dashboard = console.get("/admin").await;

    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    for n in [&disputed_no, &assigned_no, &offered_no] {
        assert!(all.body.contains(n.as_str()), "{n} missing");
    }
    assert!(all.body.contains("3 in all"));
    // Newest first.
    let at = |n: &str| all.body.find(n).unwrap();
    assert!(at(&offered_no) < at(&assigned_no) && at(&assigned_no) < at(&disputed_no));
    assert!(all.body.contains("Ravi"), "the collector is shown");
    assert!(all.body.contains("₹140.00"), "the quote is shown");
    assert!(only_disputed.body.contains(&disputed_no));
    assert!(!only_disputed.body.contains(&assigned_no));
    assert!(!only_disputed.body.contains(&offered_no));
    assert!(only_disputed.body.contains("₹173.60"), "the final amount");
    assert!(by_email.body.contains(&offered_no), "{}", by_email.body);
    assert!(!by_email.body.contains(&disputed_no));
    assert!(by_number.body.contains(&assigned_no));
    assert!(!by_number.body.contains(&disputed_no));
    assert!(dashboard.body.contains("Disputed pickups"));
    assert!(
        dashboard
            .body
            .contains("href=\"/admin/pickups?status=DISPUTED\"")
    );
    assert!(
        dashboard.body.contains("href=\"/admin/pickups\""),
        "in the navigation"
    );
}

#[tokio::test]
async fn the_detail_page_shows_the_parties_the_lines_the_money_the_history_and_the_photo() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = disputed(&app, &y).await;
    let row = pickup_row(&app, &id).await;
    let console = Console::sign_in(&app, &y.admin.email).await;

    let page = console.get(&format!("/admin/pickups/{id}")).await;
    let photo = console.get(&format!("/admin/pickups/{id}/photo")).await;
    // The API's media route takes a bearer token; the console's cookie does not open it.
    let key = row.weighing_photo_key.clone().unwrap();
    let media = send(
        &console.router,
        get(&format!("/media/{key}"), Some(&console.cookie)),
    )
    .await;
    let missing = console
        .get(&format!("/admin/pickups/{}", Uuid::new_v4()))
        .await;

    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    for needle in [
        row.number.as_str(),
        "DISPUTED",
        &y.household.email,
        &format!("/admin/vendors/{}", y.shop.vendor_id),
        "Newspaper",
        "10.000 kg",
        "12.400 kg",
        "₹14.00 / kg",
        "₹140.00",
        "₹210.00",
        "₹173.60",
        "₹8.68",
        "the scale was off",
        "Settle the pickup",
        "Cancel the pickup",
        &format!("/admin/pickups/{id}/photo"),
    ] {
        assert!(body.contains(needle), "{needle} missing");
    }
    let room = app
        .gql(
            "query($p: ID!) { pickup(id: $p) { chatRoom { id } } }",
            json!({ "p": id }),
            Some(&y.admin.access_token),
        )
        .await
        .data("pickup")["chatRoom"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains(&room), "the chat room's id");
    assert_eq!(photo.status, StatusCode::OK);
    assert_eq!(photo.headers["content-type"], "image/png");
    assert_eq!(media.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn nobody_but_a_signed_in_admin_sees_the_pickup_pages_or_acts_on_them() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = disputed(&app, &y).await;
    let router = kabaadwala::http::router(app.state.clone());
    let pages = [
        "/admin/pickups".to_owned(),
        "/admin/pickups?status=DISPUTED".to_owned(),
        format!("/admin/pickups/{id}"),
        format!("/admin/pickups/{id}/photo"),
        "/admin/rates".to_owned(),
    ];
    let actions = [
        (
            format!("/admin/pickups/{id}/resolve"),
            vec![("decision", "cancel")],
        ),
        (
            "/admin/rates".to_owned(),
            vec![
                ("city", "Pune"),
                ("material", y.material.as_str()),
                ("price", "20"),
            ],
        ),
    ];
    // An admin signed in, then no longer an admin.
    let demoted = app.admin().await;
    let console = Console::sign_in(&app, &demoted.email).await;
    users::Entity::update_many()
        .col_expr(users::Column::Role, Expr::value(users::Role::Customer))
        .filter(users::Column::Email.eq(demoted.email.clone()))
        .exec(&app.state.db)
        .await
        .unwrap();

    for page in &pages {
        let anonymous = send(&router, get(page, None)).await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{page}");
        assert!(anonymous.location.unwrap().starts_with("/admin/login"));
        for who in [&y.household, &y.shop.owner] {
            let request = axum::http::Request::get(page.as_str())
                .header("authorization", format!("Bearer {}", who.access_token))
                .body(axum::body::Body::empty())
                .unwrap();
            assert_eq!(
                send(&router, request).await.status,
                StatusCode::FORBIDDEN,
                "{page}"
            );
        }
    }
    let as_demoted = console.get("/admin/pickups").await;
    assert_eq!(as_demoted.status, StatusCode::FORBIDDEN);
    for (action, fields) in &actions {
        let anonymous = send(&router, post(action, None, fields)).await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "{action}");
    }

    assert_eq!(
        pickup_row(&app, &id).await.status,
        pickups::PickupStatus::Disputed
    );
    assert!(audit_of(&app, "pickup.resolve_dispute").await.is_empty());
    assert_eq!(
        audit_of(&app, "pickup.set_rate").await.len(),
        1,
        "the yard's own rate"
    );
}

#[tokio::test]
async fn settling_a_dispute_from_the_console_pays_exactly_for_the_corrected_weight_and_is_audited()
{
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = disputed(&app, &y).await;
    let console = Console::sign_in(&app, &y.admin.email).await;
    let started = Utc::now() - Duration::milliseconds(5);

    // Support weighs it again: 10 kg, not 12.4.
    let field = format!("grams.{}", y.material);
    let answer = console
        .post(
            &format!("/admin/pickups/{id}/resolve"),
            &[("decision", "settle"), (field.as_str(), "10000")],
        )
        .await;
    let page = landing(&console, &answer).await;

    assert!(
        page.contains("Settled: ₹140.00 paid to the household."),
        "{page}"
    );
    let row = pickup_row(&app, &id).await;
    assert_eq!(row.status, pickups::PickupStatus::Completed);
    assert_eq!(row.final_amount, Some(14_000), "10 kg × ₹14");
    assert_eq!(row.commission, Some(700), "5% of ₹140");
    assert_eq!(balances(&app, &y.household).await, (14_000, 0));
    assert_eq!(
        balances(&app, &y.shop.owner).await,
        (FLOAT - 14_000 - 700, 0),
        "the rest of the ₹210 hold came back"
    );
    assert_eq!(
        ledger_balance(&app, AccountKind::PlatformRevenue, Uuid::nil()).await,
        700
    );
    assert_ledger_sound(&app).await;
    let audit = audit_of(&app, "pickup.resolve_dispute").await;
    assert_eq!(audit.len(), 1);
    let entry = &audit[0];
    assert_eq!(entry.actor_id, Some(y.admin.user_id.parse().unwrap()));
    assert_eq!(entry.subject_id, id);
    assert!(entry.created_at >= started);
    assert_eq!(
        entry.before,
        Some(json!({ "status": "DISPUTED", "finalAmount": 17_360, "commission": 868 }))
    );
    assert_eq!(
        entry.after,
        Some(
            json!({ "status": "COMPLETED", "finalAmount": 14_000, "commission": 700, "detail": "settled" })
        )
    );
    assert!(
        page.contains("pickup.resolve_dispute"),
        "the page's admin actions"
    );
    assert!(page.contains("10.000 kg"), "the corrected line");
    assert!(!page.contains("Settle the pickup"), "no form once resolved");
}

#[tokio::test]
async fn cancelling_a_dispute_from_the_console_returns_the_whole_hold() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = disputed(&app, &y).await;
    let console = Console::sign_in(&app, &y.admin.email).await;

    let answer = console
        .post(
            &format!("/admin/pickups/{id}/resolve"),
            &[("decision", "cancel")],
        )
        .await;
    let page = landing(&console, &answer).await;

    assert!(
        page.contains("Cancelled: the collector's hold is returned."),
        "{page}"
    );
    assert_eq!(
        pickup_row(&app, &id).await.status,
        pickups::PickupStatus::Cancelled
    );
    assert_eq!(balances(&app, &y.shop.owner).await, (FLOAT, 0));
    assert_eq!(balances(&app, &y.household).await, (0, 0));
    assert_ledger_sound(&app).await;
    let audit = audit_of(&app, "pickup.resolve_dispute").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].after.as_ref().unwrap()["status"], "CANCELLED");
}

#[tokio::test]
async fn a_resolve_form_with_a_wrong_token_or_bad_weights_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let id = disputed(&app, &y).await;
    let console = Console::sign_in(&app, &y.admin.email).await;
    let action = format!("/admin/pickups/{id}/resolve");
    let field = format!("grams.{}", y.material);
    let before = (
        balances(&app, &y.household).await,
        balances(&app, &y.shop.owner).await,
    );

    let forged = console
        .post_without_token(
            &action,
            &[("csrf", "not-the-token"), ("decision", "cancel")],
        )
        .await;
    let missing = console
        .post_without_token(&action, &[("decision", "cancel")])
        .await;
    let mut messages = Vec::new();
    for weight in ["twelve", "-5", "12.4", "0", ""] {
        let answer = console
            .post(&action, &[("decision", "settle"), (field.as_str(), weight)])
            .await;
        assert!(
            answer.location.as_deref().unwrap().contains("error="),
            "{weight}"
        );
        messages.push(landing(&console, &answer).await);
    }
    let too_heavy = console
        .post(
            &action,
            &[("decision", "settle"), (field.as_str(), "100000001")],
        )
        .await;
    let stranger = format!("grams.{}", Uuid::new_v4());
    let unknown = console
        .post(
            &action,
            &[("decision", "settle"), (stranger.as_str(), "1000")],
        )
        .await;

    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(messages[0].contains("&quot;twelve&quot; is not a weight: give whole grams"));
    assert!(messages[1].contains("-5 g: a weight cannot be negative"));
    assert!(messages[2].contains("&quot;12.4&quot; is not a weight"));
    assert!(messages[3].contains("0 g: leave the field empty"));
    assert!(messages[4].contains("give at least one weight, or cancel"));
    for message in &messages {
        assert!(message.contains("role=\"alert\""), "shown as an error");
    }
    assert!(
        landing(&console, &too_heavy)
            .await
            .contains("each weight is 1 to")
    );
    assert!(landing(&console, &unknown).await.contains("had no rate"));
    let row = pickup_row(&app, &id).await;
    assert_eq!(row.status, pickups::PickupStatus::Disputed);
    assert_eq!(row.final_amount, Some(17_360));
    assert_eq!(
        (
            balances(&app, &y.household).await,
            balances(&app, &y.shop.owner).await
        ),
        before
    );
    assert!(audit_of(&app, "pickup.resolve_dispute").await.is_empty());
    assert_ledger_sound(&app).await;
}

#[tokio::test]
async fn setting_a_rate_from_the_console_changes_the_citys_rate_card_now_or_later() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let console = Console::sign_in(&app, &y.admin.email).await;
    let material: Uuid = y.material.parse().unwrap();
    let later = Utc::now() + Duration::days(2);

    let now = console
        .post(
            "/admin/rates",
            &[
                ("city", "  Pune "),
                ("material", &y.material),
                ("price", "16.50"),
                ("from", ""),
            ],
        )
        .await;
    let now_page = landing(&console, &now).await;
    let scheduled = console
        .post(
            "/admin/rates",
            &[
                ("city", "pune"),
                ("material", &y.material),
                ("price", "18"),
                ("from", &later.format("%Y-%m-%dT%H:%M").to_string()),
            ],
        )
        .await;
    let scheduled_page = landing(&console, &scheduled).await;
    let refused = [
        [
            ("city", "Pune"),
            ("material", y.material.as_str()),
            ("price", "abc"),
            ("from", ""),
        ],
        [
            ("city", "Pune"),
            ("material", y.material.as_str()),
            ("price", "-3"),
            ("from", ""),
        ],
        [
            ("city", "Pune"),
            ("material", ""),
            ("price", "10"),
            ("from", ""),
        ],
        [
            ("city", "Pune"),
            ("material", y.material.as_str()),
            ("price", "10"),
            ("from", "2020-01-01T00:00"),
        ],
        [
            ("city", "Pune"),
            ("material", y.material.as_str()),
            ("price", "10"),
            ("from", "tomorrow"),
        ],
    ];
    let mut errors = Vec::new();
    for fields in &refused {
        let answer = console.post("/admin/rates", fields).await;
        assert!(
            answer.location.as_deref().unwrap().contains("error="),
            "{fields:?}"
        );
        errors.push(landing(&console, &answer).await);
    }

    assert!(
        now_page.contains("Rate set: ₹16.50 per kg in Pune"),
        "{now_page}"
    );
    assert!(scheduled_page.contains("Starting later"));
    assert!(scheduled_page.contains("₹18.00"));
    assert!(scheduled_page.contains("Mumbai"), "every city's card");
    let db = &app.state.db;
    let card = rates::rate_card(db, "PUNE", Utc::now()).await.unwrap();
    assert_eq!(card.len(), 1);
    assert_eq!(
        (card[0].category_id, card[0].price_per_kg),
        (material, 1_650)
    );
    assert_eq!(card[0].city, "Pune");
    let at_later = rates::rate_at(db, "Pune", material, later + Duration::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(at_later.price_per_kg, 1_800);
    let gql = app
        .gql(
            "query($m: ID!, $at: DateTime!) { rateCard(city: \"pune\") { pricePerKg } rateAt(city: \"Pune\", categoryId: $m, at: $at) { pricePerKg } }",
            json!({ "m": y.material, "at": later + Duration::minutes(1) }),
            None,
        )
        .await;
    assert_eq!(gql.data("rateCard"), json!([{ "pricePerKg": 1_650 }]));
    assert_eq!(gql.data("rateAt"), json!({ "pricePerKg": 1_800 }));
    assert!(errors[0].contains("give the price per kg in rupees"));
    assert!(errors[1].contains("above 0"));
    assert!(errors[2].contains("choose a material"));
    assert!(errors[3].contains("cannot start in the past"));
    assert!(errors[4].contains("YYYY-MM-DD HH:MM"));
    let audit = audit_of(&app, "pickup.set_rate").await;
    assert_eq!(audit.len(), 3, "the yard's rate and the two set here");
    assert!(
        audit
            .iter()
            .filter(|r| r.actor_id == Some(y.admin.user_id.parse().unwrap()))
            .count()
            == 3
    );
}
