//! The admin GraphQL operations added with the console — `users`, `setUserActive`,
//! `setUserRole`, `auditLog` — and the audit rows every admin mutation writes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    admin_console::fixture,
    support::{
        TestApp,
        ws::{Ws, serve},
    },
};

const USERS: &str = "query($filter: UsersFilter, $first: Int, $after: String) { users(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id email role isActive } } }";
const SET_ACTIVE: &str = "mutation($id: ID!, $active: Boolean!, $reason: String!) { setUserActive(userId: $id, active: $active, reason: $reason) { id isActive } }";
const SET_ROLE: &str =
    "mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { id role } }";
const AUDIT: &str = "query($filter: AuditLogFilter, $first: Int) { auditLog(filter: $filter, first: $first) { totalCount nodes { id actor { id } action subjectType subjectId reason before after at } } }";
const ME: &str = "{ me { id } }";
const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename } }";

fn emails(list: &Value) -> Vec<String> {
    list["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admins_search_users_by_email_name_or_phone_and_filter_by_role_and_status() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let asha = app.customer("Asha Kulkarni").await;
    let ravi = app.customer("Ravi Shah").await;
    let token = Some(admin.access_token.as_str());

    let by_name = app
        .gql(USERS, json!({ "filter": { "search": "KULKARNI" } }), token)
        .await
        .data("users");
    let by_email = app
        .gql(
            USERS,
            json!({ "filter": { "search": &ravi.email[..12] } }),
            token,
        )
        .await
        .data("users");
    let admins = app
        .gql(USERS, json!({ "filter": { "role": "ADMIN" } }), token)
        .await
        .data("users");
    let first_page = app
        .gql(USERS, json!({ "first": 2 }), token)
        .await
        .data("users");
    let second_page = app
        .gql(
            USERS,
            json!({ "first": 2, "after": first_page["pageInfo"]["endCursor"] }),
            token,
        )
        .await
        .data("users");
    app.gql(
        SET_ACTIVE,
        json!({ "id": ravi.user_id, "active": false, "reason": "spam" }),
        token,
    )
    .await
    .data("setUserActive");
    let inactive = app
        .gql(USERS, json!({ "filter": { "isActive": false } }), token)
        .await
        .data("users");
    let as_customer = app.gql(USERS, json!({}), Some(&asha.access_token)).await;
    let anonymous = app.gql(USERS, json!({}), None).await;

    assert_eq!(emails(&by_name), vec![asha.email.as_str()]);
    assert_eq!(emails(&by_email), vec![ravi.email.as_str()]);
    assert_eq!(emails(&admins), vec![admin.email.as_str()]);
    assert_eq!(first_page["totalCount"], 3);
    assert_eq!(first_page["pageInfo"]["hasNextPage"], true);
    assert_eq!(emails(&second_page).len(), 1);
    assert_eq!(emails(&inactive), vec![ravi.email.as_str()]);
    assert_eq!(as_customer.code(), "FORBIDDEN");
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_deactivated_users_tokens_stop_at_once_and_sign_in_is_refused_until_reactivated() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let asha = app.customer("Asha").await;
    let token = Some(admin.access_token.as_str());

    let before = app.gql(ME, json!({}), Some(&asha.access_token)).await;
    let no_reason = app
        .gql(
            SET_ACTIVE,
            json!({ "id": asha.user_id, "active": false, "reason": " " }),
            token,
        )
        .await;
    let done = app
        .gql(
            SET_ACTIVE,
            json!({ "id": asha.user_id, "active": false, "reason": "chargeback fraud" }),
            token,
        )
        .await
        .data("setUserActive");
    let next_request = app.gql(ME, json!({}), Some(&asha.access_token)).await;
    let login = app
        .gql(
            LOGIN,
            json!({ "input": { "email": asha.email, "password": crate::support::PASSWORD } }),
            None,
        )
        .await;
    let refresh = app
        .gql(
            "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
            json!({ "t": asha.refresh_token }),
            None,
        )
        .await;
    let self_deactivation = app
        .gql(
            SET_ACTIVE,
            json!({ "id": admin.user_id, "active": false, "reason": "bye" }),
            token,
        )
        .await;
    app.gql(
        SET_ACTIVE,
        json!({ "id": asha.user_id, "active": true, "reason": "cleared" }),
        token,
    )
    .await
    .data("setUserActive");
    let again = app.login(&asha.email).await;
    let after = app.gql(ME, json!({}), Some(&again.access_token)).await;
    let audit = app
        .gql(
            AUDIT,
            json!({ "filter": { "subjectId": asha.user_id } }),
            token,
        )
        .await
        .data("auditLog");

    assert_eq!(before.data("me")["id"], asha.user_id.as_str());
    assert_eq!(no_reason.code(), "BAD_USER_INPUT");
    assert_eq!(done["isActive"], false);
    assert_eq!(next_request.code(), "UNAUTHENTICATED");
    assert_eq!(login.code(), "UNAUTHENTICATED");
    assert_eq!(refresh.code(), "UNAUTHENTICATED");
    assert_eq!(self_deactivation.code(), "BAD_USER_INPUT");
    assert_eq!(after.data("me")["id"], asha.user_id.as_str());
    let actions: Vec<&str> = audit["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.reactivate", "user.deactivate"]);
    let deactivation = &audit["nodes"][1];
    assert_eq!(deactivation["reason"], "chargeback fraud");
    assert_eq!(deactivation["actor"]["id"], admin.user_id.as_str());
    assert_eq!(deactivation["before"], json!({ "isActive": true }));
    assert_eq!(deactivation["after"], json!({ "isActive": false }));
}

#[tokio::test]
async fn a_deactivated_users_open_subscription_is_closed_with_4403() {
    let _redis = crate::support::ws::REDIS_SESSIONS.read().await;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let asha = app.customer("Asha").await;
    let server = serve(&app.state).await;
    let mut ws = Ws::connect(&server, &asha.access_token).await;
    ws.subscribe("n", "subscription { notificationAdded { id } }", json!({}))
        .await;

    app.gql(
        SET_ACTIVE,
        json!({ "id": asha.user_id, "active": false, "reason": "abuse" }),
        Some(&admin.access_token),
    )
    .await
    .data("setUserActive");
    let code = tokio::time::timeout(Duration::from_secs(10), ws.close_code()).await;
    let mut reconnect = Ws::open(&server, "graphql-transport-ws").await;
    reconnect
        .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", asha.access_token) } }))
        .await;

    assert_eq!(code.unwrap(), 4403);
    assert_eq!(reconnect.close_code().await, 4403);
}

#[tokio::test]
async fn set_user_role_makes_an_admin_whose_old_token_must_be_refreshed() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let asha = app.customer("Asha").await;
    let vendorless = app.customer("Ravi").await;
    let token = Some(admin.access_token.as_str());

    let made = app
        .gql(
            SET_ROLE,
            json!({ "id": asha.user_id, "role": "ADMIN" }),
            token,
        )
        .await
        .data("setUserRole");
    let old_token = app.gql(ME, json!({}), Some(&asha.access_token)).await;
    let fresh = app.login(&asha.email).await;
    let as_admin = app.gql(USERS, json!({}), Some(&fresh.access_token)).await;
    let vendor_without_profile = app
        .gql(
            SET_ROLE,
            json!({ "id": vendorless.user_id, "role": "VENDOR" }),
            token,
        )
        .await;
    let demote_self = app
        .gql(
            SET_ROLE,
            json!({ "id": admin.user_id, "role": "CUSTOMER" }),
            token,
        )
        .await;
    let audit = app
        .gql(
            AUDIT,
            json!({ "filter": { "action": "user.set_role" } }),
            token,
        )
        .await
        .data("auditLog");

    assert_eq!(made["role"], "ADMIN");
    assert_eq!(old_token.code(), "UNAUTHENTICATED");
    assert_eq!(as_admin.data("users")["totalCount"], 3);
    assert_eq!(vendor_without_profile.code(), "BAD_USER_INPUT");
    assert_eq!(demote_self.code(), "BAD_USER_INPUT");
    assert_eq!(audit["totalCount"], 1);
    assert_eq!(audit["nodes"][0]["before"], json!({ "role": "CUSTOMER" }));
    assert_eq!(audit["nodes"][0]["after"], json!({ "role": "ADMIN" }));
}

async fn run(app: &TestApp, token: Option<&str>, query: &str, variables: Value) {
    let res = app.gql(query, variables, token).await;
    assert!(res.errors.is_empty(), "{query}: {:?}", res.errors);
}

#[tokio::test]
async fn every_admin_mutation_writes_its_audit_row_readable_through_audit_log() {
    let app = TestApp::new().await;
    let fx = fixture(&app).await;
    let token = Some(fx.admin.access_token.as_str());

    run(&app, token, "mutation($id: ID!) { reviewKyc(vendorId: $id, approve: false, reason: \"blurry\") { id } }", json!({ "id": fx.kyc_vendor.vendor_id })).await;
    run(
        &app,
        token,
        "mutation($id: ID!) { setVendorCommission(vendorId: $id, commissionRateBps: 300) { id } }",
        json!({ "id": fx.shop.vendor_id.to_string() }),
    )
    .await;
    run(
        &app,
        token,
        "mutation($id: ID!) { refundOrder(orderId: $id, reason: \"lost\") { id } }",
        json!({ "id": fx.order }),
    )
    .await;
    run(
        &app,
        token,
        "mutation($id: ID!) { rejectPayout(id: $id, reason: \"wrong account\") { id } }",
        json!({ "id": fx.payout }),
    )
    .await;
    run(
        &app,
        token,
        "mutation($id: ID!) { retryJob(id: $id) { id } }",
        json!({ "id": fx.dead_job.to_string() }),
    )
    .await;
    run(
        &app,
        token,
        "mutation { purgeJobs(status: SUCCEEDED) }",
        json!({}),
    )
    .await;
    run(
        &app,
        token,
        "mutation { updateSystemSetting(key: \"commission_rate_bps\", value: \"600\") { key } }",
        json!({}),
    )
    .await;
    run(&app, token, "mutation($input: AdjustWalletInput!) { adjustWallet(input: $input) { id } }", json!({ "input": { "userId": fx.buyer.user_id, "amount": 2_500, "reason": "goodwill", "idempotencyKey": "audit-adjust" } })).await;
    run(&app, token, "mutation($input: AdjustWalletInput!) { adjustWallet(input: $input) { id } }", json!({ "input": { "userId": fx.buyer.user_id, "amount": 2_500, "reason": "goodwill", "idempotencyKey": "audit-adjust" } })).await;
    run(
        &app,
        token,
        "mutation { createCategory(input: { name: \"Audited Glass\" }) { id } }",
        json!({}),
    )
    .await;

    let log = app
        .gql(AUDIT, json!({ "first": 50 }), token)
        .await
        .data("auditLog");
    let mut actions: Vec<&str> = log["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["action"].as_str().unwrap())
        .collect();
    actions.sort_unstable();
    let mine = app
        .gql(
            AUDIT,
            json!({ "filter": { "actorId": fx.admin.user_id, "action": "order.refund" } }),
            token,
        )
        .await
        .data("auditLog");
    let future = app
        .gql(
            AUDIT,
            json!({ "filter": { "from": "2999-01-01T00:00:00Z" } }),
            token,
        )
        .await
        .data("auditLog");
    let as_vendor = app
        .gql(AUDIT, json!({}), Some(&fx.shop.owner.access_token))
        .await;

    assert_eq!(
        actions,
        [
            "category.create",
            "job.purge",
            "job.retry",
            "order.refund",
            "payout.reject",
            "setting.update",
            "vendor.kyc_reject",
            "vendor.set_commission",
            "wallet.adjust",
        ],
        "one row per change; the replayed adjustment wrote none"
    );
    assert_eq!(mine["totalCount"], 1);
    assert_eq!(mine["nodes"][0]["subjectId"], fx.order.as_str());
    assert_eq!(mine["nodes"][0]["subjectType"], "order");
    assert_eq!(mine["nodes"][0]["reason"], "lost");
    assert_eq!(future["totalCount"], 0);
    assert_eq!(as_vendor.code(), "FORBIDDEN");
}

#[tokio::test]
async fn with_redis_every_instance_refuses_a_deactivated_users_tokens_and_closes_their_sockets() {
    let Some(_) = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: needs REDIS_URL (instances hear of deactivations through Redis)");
        return;
    };
    let _redis = crate::support::ws::REDIS_SESSIONS.read().await;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let asha = app.customer("Asha").await;
    let instance_b = app.second_instance().await;
    let server_b = serve(&instance_b).await;
    let mut on_b = Ws::connect(&server_b, &asha.access_token).await;
    on_b.subscribe("n", "subscription { notificationAdded { id } }", json!({}))
        .await;
    let auth_on_b = || {
        kabaadwala::http::auth_from_header(
            &instance_b,
            Some(&format!("Bearer {}", asha.access_token)),
        )
    };
    let before = auth_on_b();

    app.gql(
        SET_ACTIVE,
        json!({ "id": asha.user_id, "active": false, "reason": "abuse" }),
        Some(&admin.access_token),
    )
    .await
    .data("setUserActive");
    let code = tokio::time::timeout(Duration::from_secs(10), on_b.close_code()).await;
    let after = auth_on_b();
    // An instance started later learns it from the database.
    let instance_c = app.second_instance().await;
    let loaded = instance_c.revocations.load(&instance_c.db).await.unwrap();
    let on_c = kabaadwala::http::auth_from_header(
        &instance_c,
        Some(&format!("Bearer {}", asha.access_token)),
    );

    assert!(matches!(before, kabaadwala::auth::Auth::Viewer(_)));
    assert_eq!(code.unwrap(), 4403);
    assert!(
        matches!(after, kabaadwala::auth::Auth::Invalid(_)),
        "{after:?}"
    );
    assert_eq!(loaded, 1);
    assert!(
        matches!(on_c, kabaadwala::auth::Auth::Invalid(_)),
        "{on_c:?}"
    );
}
