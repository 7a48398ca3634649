//! Abuse limits: document shape (depth, aliases, directives, tokens, complexity), introspection
//! and suggestions switches, and rate limits per account and per IP.

use serde_json::json;
use uuid::Uuid;

use crate::support::{PASSWORD, TestApp, server::start};

fn nested(depth: usize) -> String {
    format!(
        "{{ {}id{} }}",
        "a { ".repeat(depth - 1),
        " }".repeat(depth - 1)
    )
}

#[tokio::test]
async fn a_document_deeper_than_the_limit_is_refused_before_validation() {
    let app = TestApp::new().await;

    let deep = app.gql(&nested(11), json!({}), None).await;

    assert_eq!(deep.code(), "BAD_USER_INPUT");
    assert!(
        deep.message().contains("11 fields deep"),
        "{}",
        deep.message()
    );
    // At the limit the document goes on to validation (which finds no field `a`).
    let at_limit = app.gql(&nested(10), json!({}), None).await;
    assert!(
        !at_limit.message().contains("deep"),
        "{}",
        at_limit.message()
    );
}

#[tokio::test]
async fn fifteen_aliases_pass_and_sixteen_are_refused() {
    let app = TestApp::new().await;
    let aliases = |n: usize| {
        let fields: String = (0..n).map(|i| format!("m{i}: me {{ id }} ")).collect();
        format!("{{ {fields}}}")
    };

    let fifteen = app.gql(&aliases(15), json!({}), None).await;
    let sixteen = app.gql(&aliases(16), json!({}), None).await;

    assert!(fifteen.errors.is_empty(), "{:?}", fifteen.errors);
    assert_eq!(sixteen.code(), "BAD_USER_INPUT");
    assert!(sixteen.message().contains("16 aliases"));
}

#[tokio::test]
async fn more_than_fifty_directives_are_refused() {
    let app = TestApp::new().await;
    let many: String = "__typename @include(if: true) ".repeat(51);

    let refused = app.gql(&format!("{{ {many}}}"), json!({}), None).await;

    assert_eq!(refused.code(), "BAD_USER_INPUT");
    assert!(
        refused.message().contains("51 directives"),
        "{}",
        refused.message()
    );
}

#[tokio::test]
async fn a_huge_document_is_refused_by_its_token_count_before_parsing() {
    // How fast the refusal is, is measured by `bench limits` (docs/PERFORMANCE.md), not here.
    let app = TestApp::new().await;
    // About 2 MB and 400 000 tokens.
    let huge = format!("{{ {} }}", "__typename ".repeat(200_000));
    let small_enough = format!("{{ {} }}", "__typename ".repeat(2_900));

    let first = app.gql(&huge, json!({}), None).await;
    let limits = kabaadwala::graphql::limits::DocumentLimits::from_config(&app.state.config);
    assert!(limits.check_text(&huge).is_err());
    assert_eq!(first.code(), "BAD_USER_INPUT");
    assert!(
        first.message().contains("more than 3000 tokens"),
        "{}",
        first.message()
    );
    assert!(
        app.gql(&small_enough, json!({}), None)
            .await
            .errors
            .is_empty()
    );
}

const PRODUCTS_PAGE: &str = "query Page($after: String) { products(first: 50, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name description price unit stock isActive createdAt rating reviewCount inWishlist category { id name slug } vendor { id businessName } images { id url } } } } }";

#[tokio::test]
async fn a_fifty_item_page_fits_the_complexity_budget_and_a_costlier_one_does_not() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let jobs_page = |first: usize| {
        format!(
            "{{ jobs(first: {first}) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ id kind status attempts maxAttempts runAt lastError createdAt updatedAt finishedAt }} }} }} }}"
        )
    };

    let products = app.gql(PRODUCTS_PAGE, json!({}), None).await;
    let fifty_jobs = app
        .gql(&jobs_page(50), json!({}), Some(&admin.access_token))
        .await;

    assert!(products.errors.is_empty(), "{:?}", products.errors);
    assert!(fifty_jobs.errors.is_empty(), "{:?}", fifty_jobs.errors);
    let tight = TestApp::with_env(&[("GRAPHQL_MAX_COMPLEXITY", "200")]).await;
    let admin = tight.admin().await;
    let costly = tight
        .gql(&jobs_page(50), json!({}), Some(&admin.access_token))
        .await;
    assert_eq!(costly.code(), "BAD_USER_INPUT");
    assert!(
        costly.message().to_lowercase().contains("complex"),
        "{}",
        costly.message()
    );
    let cheap = tight
        .gql(&jobs_page(5), json!({}), Some(&admin.access_token))
        .await;
    assert!(cheap.errors.is_empty(), "{:?}", cheap.errors);
}

/// The schema query GraphiQL sends (graphql-js `getIntrospectionQuery`).
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}
"#;

#[tokio::test]
async fn graphiqls_introspection_query_passes_the_limits_unless_introspection_is_off() {
    let app = TestApp::new().await;
    let closed = TestApp::with_env(&[("GRAPHQL_INTROSPECTION", "false")]).await;

    let open = app.gql(INTROSPECTION, json!({}), None).await;
    let refused = closed.gql(INTROSPECTION, json!({}), None).await;

    assert!(open.errors.is_empty(), "{:?}", open.errors);
    assert!(open.data["__schema"]["types"].as_array().unwrap().len() > 20);
    assert!(!refused.errors.is_empty() || refused.data["__schema"].is_null());
    // Ordinary queries still work without introspection.
    assert!(
        closed
            .gql("{ me { id } }", json!({}), None)
            .await
            .errors
            .is_empty()
    );
}

#[tokio::test]
async fn field_suggestions_are_given_in_development_but_not_in_production() {
    let dev = TestApp::new().await;
    let prod = TestApp::with_env(&[
        ("APP_ENV", "production"),
        ("PAYMENT_WEBHOOK_SECRET", "a-webhook-secret-for-the-test"),
        ("METRICS_TOKEN", "a-metrics-token-for-the-test"),
        // Production refuses the sandbox.
        ("PAYMENT_PROVIDER", "razorpay"),
        ("RAZORPAY_KEY_ID", "rzp_test_id"),
        ("RAZORPAY_KEY_SECRET", "rzp-test-secret"),
        ("RAZORPAY_WEBHOOK_SECRET", "rzp-test-webhook-secret"),
    ])
    .await;
    let typo = "{ walet { id } }";

    let dev_message = dev.gql(typo, json!({}), None).await.message();
    let prod_message = prod.gql(typo, json!({}), None).await.message();

    assert!(dev_message.contains("Did you mean"), "{dev_message}");
    assert!(!prod_message.contains("Did you mean"), "{prod_message}");
    assert!(!prod_message.contains("\"wallet\""), "{prod_message}");
}

#[tokio::test]
async fn graphiql_can_be_turned_off_and_batches_are_refused_without_a_server_error() {
    let on = TestApp::new().await;
    let off = TestApp::with_env(&[("GRAPHIQL", "false")]).await;
    let on_server = start(&on).await;
    let off_server = start(&off).await;

    let page = on_server
        .client
        .get(on_server.url("/"))
        .send()
        .await
        .unwrap();
    let none = off_server
        .client
        .get(off_server.url("/"))
        .send()
        .await
        .unwrap();
    let batch = on_server
        .client
        .post(on_server.url("/graphql"))
        .json(&json!([{ "query": "{ me { id } }" }, { "query": "{ me { id } }" }]))
        .send()
        .await
        .unwrap();

    assert_eq!(page.status(), 200);
    assert_eq!(none.status(), 404);
    assert!(batch.status().is_client_error(), "{}", batch.status());
}

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename } }";

#[tokio::test]
async fn logging_in_too_often_to_one_account_is_rate_limited_with_a_retry_after() {
    let app = TestApp::with_env(&[("RATE_LIMIT_LOGIN_ACCOUNT", "3/60")]).await;
    let asha = app.customer("Asha").await;
    let ravi = app.customer("Ravi").await;
    let login =
        |email: &str, password: &str| json!({ "input": { "email": email, "password": password } });

    for _ in 0..3 {
        let wrong = app
            .gql(LOGIN, login(&asha.email, "wrong-password-1"), None)
            .await;
        assert_ne!(wrong.code(), "RATE_LIMITED");
    }
    let limited = app.gql(LOGIN, login(&asha.email, PASSWORD), None).await;

    assert_eq!(limited.code(), "RATE_LIMITED");
    let retry_after = limited.errors[0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // The same email in another case is the same account.
    let shouted = app
        .gql(LOGIN, login(&asha.email.to_uppercase(), PASSWORD), None)
        .await;
    assert_eq!(shouted.code(), "RATE_LIMITED");
    // Another account is not affected.
    let other = app.gql(LOGIN, login(&ravi.email, PASSWORD), None).await;
    assert_eq!(other.data("login")["__typename"], "AuthPayload");
}

#[tokio::test]
async fn otp_password_reset_and_recharge_are_rate_limited_per_account() {
    let app = TestApp::with_env(&[
        ("RATE_LIMIT_OTP_ACCOUNT", "1/60"),
        ("RATE_LIMIT_PASSWORD_RESET_ACCOUNT", "1/60"),
        ("RATE_LIMIT_RECHARGE_ACCOUNT", "1/60"),
        ("RATE_LIMIT_REGISTER_ACCOUNT", "1/60"),
    ])
    .await;
    let asha = app.customer("Asha").await;
    let challenge = Uuid::new_v4().to_string();
    let otp =
        "mutation($id: ID!) { verifyOtp(challengeId: $id, code: \"123456\") { accessToken } }";
    let reset = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    let recharge = "mutation($k: String!) { rechargeWallet(input: { amount: 10000, idempotencyKey: $k }) { id } }";
    let register = "mutation($e: String!) { register(input: { email: $e, password: \"kabaad2026\", fullName: \"Dup\" }) { accessToken } }";
    let token = Some(asha.access_token.as_str());
    let cases = [
        (otp, json!({ "id": challenge }), None),
        (reset, json!({ "e": asha.email }), None),
        (recharge, json!({ "k": "r-1" }), token),
        (register, json!({ "e": new_email() }), None),
    ];

    for (query, vars, token) in cases {
        let first = app.gql(query, vars.clone(), token).await;
        let second = app.gql(query, vars, token).await;
        if !first.errors.is_empty() {
            assert_ne!(first.code(), "RATE_LIMITED", "{query}");
        }
        assert_eq!(second.code(), "RATE_LIMITED", "{query}");
    }
}

const REGISTER: &str = "mutation($e: String!) { register(input: { email: $e, password: \"kabaad2026\", fullName: \"Web\" }) { accessToken } }";

fn new_email() -> String {
    format!("web-{}@example.com", Uuid::new_v4().simple())
}

#[tokio::test]
async fn registering_from_one_ip_is_rate_limited_over_http() {
    let app = TestApp::with_env(&[("RATE_LIMIT_REGISTER_IP", "2/3600")]).await;
    let server = start(&app).await;

    server
        .post(REGISTER, json!({ "e": new_email() }), None)
        .await
        .data("register");
    server
        .post(REGISTER, json!({ "e": new_email() }), None)
        .await
        .data("register");
    let third = server
        .post(REGISTER, json!({ "e": new_email() }), None)
        .await;

    assert_eq!(third.code(), "RATE_LIMITED");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_ip_is_the_one_counted() {
    let app = TestApp::with_env(&[
        ("RATE_LIMIT_REGISTER_IP", "1/3600"),
        ("TRUST_PROXY", "true"),
    ])
    .await;
    let server = start(&app).await;
    let register = |ip: &'static str| {
        let server = &server;
        async move {
            let response = server
                .client
                .post(server.url("/graphql"))
                .header("x-forwarded-for", format!("198.51.100.1, {ip}"))
                .json(&json!({ "query": REGISTER, "variables": { "e": new_email() } }))
                .send()
                .await
                .unwrap();
            crate::support::Gql::from_json(response.json().await.unwrap())
        }
    };

    let first = register("203.0.113.7").await;
    let again = register("203.0.113.7").await;
    let other = register("203.0.113.8").await;

    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(again.code(), "RATE_LIMITED");
    assert!(other.errors.is_empty(), "{:?}", other.errors);
}

#[tokio::test]
async fn with_redis_every_instance_shares_the_counters_and_in_memory_each_counts_its_own() {
    let app = TestApp::with_env(&[("RATE_LIMIT_LOGIN_ACCOUNT", "2/60")]).await;
    let asha = app.customer("Asha").await;
    let other = kabaadwala::graphql::schema::build_schema(app.second_instance().await);
    let vars = json!({ "input": { "email": asha.email, "password": PASSWORD } });

    app.gql(LOGIN, vars.clone(), None).await.data("login");
    let on_other = other
        .execute(
            async_graphql::Request::new(LOGIN)
                .variables(async_graphql::Variables::from_json(vars.clone())),
        )
        .await;
    assert!(on_other.errors.is_empty(), "{:?}", on_other.errors);
    let third = app.gql(LOGIN, vars, None).await;

    if app.state.config.redis_url.is_some() {
        assert_eq!(third.code(), "RATE_LIMITED");
    } else {
        assert!(third.errors.is_empty(), "{:?}", third.errors);
    }
}

#[tokio::test]
async fn over_http_every_document_limit_refuses_with_the_same_code_and_message_as_the_schema() {
    let app = TestApp::with_env(&[("GRAPHQL_MAX_COMPLEXITY", "200")]).await;
    let server = start(&app).await;
    let admin = app.admin().await;
    let aliases: String = (0..16).map(|i| format!("m{i}: me {{ id }} ")).collect();
    let directives = "__typename @include(if: true) ".repeat(51);
    let refused = [
        ("deep", nested(11)),
        ("aliases", format!("{{ {aliases}}}")),
        ("directives", format!("{{ {directives}}}")),
        ("tokens", format!("{{ {} }}", "__typename ".repeat(3_001))),
        (
            "complexity",
            "{ jobs(first: 50) { edges { node { id kind status attempts maxAttempts runAt lastError createdAt updatedAt finishedAt } } } }".to_owned(),
        ),
        ("recursion", format!("{{ {}__typename{} }}", "... on Query { ".repeat(40), " }".repeat(40))),
    ];

    for (limit, query) in refused {
        let token = Some(admin.access_token.as_str());
        let over_http = server.post(&query, json!({}), token).await;
        let on_schema = app.gql(&query, json!({}), token).await;

        assert_eq!(
            over_http.code(),
            "BAD_USER_INPUT",
            "{limit}: {:?}",
            over_http.errors
        );
        assert_eq!(over_http.errors, on_schema.errors, "{limit}");
        assert!(over_http.data.is_null(), "{limit}: {:?}", over_http.data);
    }
    let legal = server.post("{ categories { id } }", json!({}), None).await;
    assert!(legal.errors.is_empty(), "{:?}", legal.errors);
}
