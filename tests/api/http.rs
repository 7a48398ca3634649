//! The real HTTP server on a random port.

use serde_json::{Value, json};

use crate::support::{Gql, TestApp, server::start};

#[tokio::test]
async fn a_frontend_can_register_log_in_and_ask_who_it_is_over_http() {
    let app = TestApp::new().await;
    let server = start(&app).await;

    let registered = server
        .post(
            "mutation($input: RegisterInput!) { register(input: $input) { accessToken user { email } } }",
            json!({ "input": { "email": "web@example.com", "password": "kabaad2026", "fullName": "Web User" } }),
            None,
        )
        .await
        .data("register");
    let login = server
        .post(
            "mutation { login(input: { email: \"web@example.com\", password: \"kabaad2026\" }) { ... on AuthPayload { accessToken } } }",
            json!({}),
            None,
        )
        .await
        .data("login");
    let me = server
        .post("{ me { email } }", json!({}), login["accessToken"].as_str())
        .await
        .data("me");

    assert_eq!(registered["user"]["email"], "web@example.com");
    assert_eq!(me["email"], "web@example.com");
}

#[tokio::test]
async fn queries_work_over_get_but_mutations_do_not() {
    let app = TestApp::new().await;
    let server = start(&app).await;

    let query: Value = server
        .client
        .get(server.url("/graphql"))
        .query(&[("query", "{ systemSettings { key } }")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mutation = Gql::from_json(
        server
            .client
            .get(server.url("/graphql"))
            .query(&[(
                "query",
                "mutation { requestPasswordReset(email: \"a@b.co\") }",
            )])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );

    assert!(
        query["data"]["systemSettings"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(mutation.code(), "BAD_USER_INPUT");
    assert!(app.drain_jobs().await.is_empty(), "the GET changed nothing");
}

#[tokio::test]
async fn health_readiness_and_graphiql_answer() {
    let app = TestApp::new().await;
    let server = start(&app).await;

    let health = server
        .client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    let ready: Value = server
        .client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let playground = server
        .client
        .get(format!("{}/", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert_eq!(health.status(), 200);
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["database"], "ok");
    assert!(playground.contains("graphiql"), "GraphiQL is served at /");
}

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn readiness_reports_degraded_but_stays_ready_when_pubsub_is_unreachable() {
    let redis = format!("redis://127.0.0.1:{}", closed_port());
    let app = TestApp::with_env(&[("REDIS_URL", &redis)]).await;
    let server = start(&app).await;

    let ready = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    let status = ready.status();
    let body: Value = ready.json().await.unwrap();
    let query = server
        .post("{ categories { name } }", json!({}), None)
        .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "status": "degraded", "database": "ok", "pubsub": "unreachable", "pubsubBackend": "redis" })
    );
    assert!(query.data("categories").is_array(), "queries keep working");
}

#[tokio::test]
async fn readiness_is_refused_when_the_database_is_down() {
    let app = TestApp::new().await;
    let server = start(&app).await;

    app.state.db.clone().close().await.unwrap();
    let ready = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();

    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(
        (&body["status"], &body["database"]),
        (&json!("unavailable"), &json!("down"))
    );
}

#[tokio::test]
async fn errors_over_http_carry_codes_and_no_internals() {
    let app = TestApp::new().await;
    let server = start(&app).await;

    let syntax = server.post("{ me { id ", json!({}), None).await;
    let unknown_field = server.post("{ doesNotExist }", json!({}), None).await;

    assert_eq!(syntax.code(), "BAD_USER_INPUT");
    assert_eq!(unknown_field.code(), "BAD_USER_INPUT");
    let body = format!("{:?}", unknown_field.errors);
    assert!(!body.to_lowercase().contains("sql"));
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let app = TestApp::with_env(&[("MAX_BODY_BYTES", "1024")]).await;
    let server = start(&app).await;

    let big = "x".repeat(4096);
    let response = server
        .client
        .post(format!("{}/graphql", server.base))
        .json(&json!({ "query": format!("{{ me {{ id }} }} # {big}") }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 413);
}
