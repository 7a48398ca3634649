//! `GET /metrics`: what a real request leaves behind in the Prometheus exposition.

use kabaadwala::http::metrics;
use serde_json::json;

use crate::support::{
    TestApp,
    process::{free_port, spawn_server},
    server::start,
};

fn line_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn a_graphql_request_is_counted_timed_and_its_errors_counted_by_code() {
    let app = TestApp::new().await;
    let server = start(&app).await;
    app.customer("Asha").await; // one PENDING verification job
    let operation = format!("Probe_{}", uuid::Uuid::new_v4().simple());

    server
        .post(
            &format!("query {operation} {{ me {{ id }} }}"),
            json!({}),
            None,
        )
        .await
        .data("me");
    let refused = server
        .post(
            "query JobsAsAnonymous { jobStats { oldestPendingAgeSeconds } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(refused.code(), "UNAUTHENTICATED");
    metrics::WS_SUBSCRIPTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scrape = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    metrics::WS_SUBSCRIPTIONS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);

    assert_eq!(scrape.status(), 200);
    assert!(
        scrape.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = scrape.text().await.unwrap();
    let op = format!("{{operation=\"{operation}\"}}");
    assert_eq!(
        line_value(&text, &format!("kabaadwala_graphql_operations_total{op}")),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        line_value(
            &text,
            &format!("kabaadwala_graphql_operation_duration_seconds_count{op}")
        ),
        Some(1.0)
    );
    assert_eq!(
        line_value(
            &text,
            &format!(
                "kabaadwala_graphql_operation_duration_seconds_bucket{{operation=\"{operation}\",le=\"+Inf\"}}"
            )
        ),
        Some(1.0)
    );
    assert!(
        line_value(
            &text,
            "kabaadwala_graphql_errors_total{code=\"UNAUTHENTICATED\"}"
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        line_value(
            &text,
            "kabaadwala_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"}"
        )
        .unwrap()
            >= 2.0
    );
    assert!(text.contains("kabaadwala_http_request_duration_seconds_bucket{method=\"POST\",route=\"/graphql\",le=\"0.005\"}"));
    assert_eq!(
        line_value(&text, "kabaadwala_jobs{status=\"PENDING\"}"),
        Some(1.0)
    );
    assert_eq!(
        line_value(&text, "kabaadwala_jobs{status=\"DEAD\"}"),
        Some(0.0)
    );
    assert!(line_value(&text, "kabaadwala_db_pool_max_connections").unwrap() >= 1.0);
    assert!(line_value(&text, "kabaadwala_db_pool_connections{state=\"idle\"}").is_some());
    assert!(line_value(&text, "kabaadwala_ws_subscriptions").unwrap() >= 1.0);
}

#[tokio::test]
async fn routes_are_labelled_by_pattern_not_by_raw_path() {
    let app = TestApp::new().await;
    let server = start(&app).await;
    let missing = format!("/media/products/{}.png", uuid::Uuid::new_v4());

    server
        .client
        .get(server.url(&missing))
        .send()
        .await
        .unwrap();
    let text = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(text.contains("route=\"/media/{*key}\""), "{text}");
    assert!(!text.contains(&missing));
}

#[tokio::test]
async fn with_a_metrics_token_only_its_bearer_may_scrape() {
    let app = TestApp::with_env(&[("METRICS_TOKEN", "scrape-me")]).await;
    let server = start(&app).await;
    let url = server.url("/metrics");

    let anonymous = server.client.get(&url).send().await.unwrap();
    let wrong = server
        .client
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    let right = server
        .client
        .get(&url)
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();

    let statuses = [anonymous.status(), wrong.status(), right.status()].map(|s| s.as_u16());
    assert_eq!(statuses, [401, 401, 200]);
}

#[tokio::test]
async fn with_a_metrics_listener_metrics_leave_the_public_router() {
    let app = TestApp::with_env(&[("METRICS_BIND_ADDR", "127.0.0.1:0")]).await;
    let server = start(&app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(kabaadwala::http::serve_metrics(
        listener,
        app.state.clone(),
        stop.clone(),
    ));

    let public = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    let private = server.client.get(&metrics_url).send().await.unwrap();
    stop.cancel();

    assert_eq!(public.status(), 404);
    assert_eq!(private.status(), 200);
    let text = private.text().await.unwrap();
    assert!(
        text.contains("# TYPE kabaadwala_http_requests_total counter"),
        "{text}"
    );
}

#[tokio::test]
async fn in_production_the_server_serves_metrics_on_its_own_listener() {
    let app = TestApp::new().await;
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let server = spawn_server(
        &app,
        "production",
        &[
            ("APP_ENV", "production"),
            ("PAYMENT_WEBHOOK_SECRET", "a-webhook-secret"),
            ("METRICS_BIND_ADDR", &metrics_addr),
            ("PAYMENT_PROVIDER", "razorpay"),
            ("RAZORPAY_KEY_ID", "rzp_test_id"),
            ("RAZORPAY_KEY_SECRET", "rzp-test-secret"),
            ("RAZORPAY_WEBHOOK_SECRET", "rzp-test-webhook-secret"),
        ],
    )
    .await;
    let client = reqwest::Client::new();

    let public = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    let private = client
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();

    assert_eq!(public.status(), 404);
    assert_eq!(private.status(), 200);
    assert!(private.text().await.unwrap().contains("kabaadwala_jobs"));
}
