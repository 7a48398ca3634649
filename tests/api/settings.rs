//! System settings: readable by everyone, changed by admins within range.

use serde_json::json;

use crate::support::TestApp;

const UPDATE: &str = "mutation($k: String!, $v: String!) { updateSystemSetting(key: $k, value: $v) { key value updatedAt } }";

#[tokio::test]
async fn everyone_reads_the_settings_with_their_defaults() {
    let app = TestApp::new().await;

    let settings = app
        .gql(
            "{ systemSettings { key value description updatedAt } }",
            json!({}),
            None,
        )
        .await
        .data("systemSettings");

    let commission = settings
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "commission_rate_bps")
        .unwrap();
    assert_eq!(commission["value"], "500");
    assert_eq!(commission["updatedAt"], serde_json::Value::Null);
    assert!(
        settings
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["key"] == "auto_release_hours")
    );
}

#[tokio::test]
async fn admins_change_settings_within_their_range() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let customer = app.customer("Asha").await;

    let changed = app
        .gql(
            UPDATE,
            json!({ "k": "commission_rate_bps", "v": "750" }),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(changed.data("updateSystemSetting")["value"], "750");
    let value = kabaadwala::settings::service::get(
        &app.state.db,
        kabaadwala::settings::Setting::CommissionRateBps,
    )
    .await
    .unwrap();
    assert_eq!(value, 750);

    let out_of_range = app
        .gql(
            UPDATE,
            json!({ "k": "commission_rate_bps", "v": "90000" }),
            Some(&admin.access_token),
        )
        .await;
    let not_a_number = app
        .gql(
            UPDATE,
            json!({ "k": "auto_release_hours", "v": "soon" }),
            Some(&admin.access_token),
        )
        .await;
    let unknown = app
        .gql(
            UPDATE,
            json!({ "k": "free_money", "v": "1" }),
            Some(&admin.access_token),
        )
        .await;
    let min_above_max = app
        .gql(
            UPDATE,
            json!({ "k": "min_recharge_paise", "v": "20000000" }),
            Some(&admin.access_token),
        )
        .await;
    let as_customer = app
        .gql(
            UPDATE,
            json!({ "k": "commission_rate_bps", "v": "0" }),
            Some(&customer.access_token),
        )
        .await;
    let anonymous = app
        .gql(
            UPDATE,
            json!({ "k": "commission_rate_bps", "v": "0" }),
            None,
        )
        .await;

    assert_eq!(out_of_range.field().as_deref(), Some("value"));
    assert_eq!(not_a_number.field().as_deref(), Some("value"));
    assert_eq!(unknown.field().as_deref(), Some("key"));
    assert_eq!(min_above_max.code(), "BAD_USER_INPUT");
    assert_eq!(as_customer.code(), "FORBIDDEN");
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
    let value = kabaadwala::settings::service::get(
        &app.state.db,
        kabaadwala::settings::Setting::CommissionRateBps,
    )
    .await
    .unwrap();
    assert_eq!(value, 750, "refused changes wrote nothing");
}
