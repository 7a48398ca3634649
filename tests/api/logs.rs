//! Structured logs: with `LOG_FORMAT=json` the real binary writes one JSON object per line, and
//! a request's lines carry its request id and the signed-in user's id (never the token).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{TestApp, process::spawn_server};

#[tokio::test]
async fn json_logs_carry_the_request_id_and_the_user_id_but_not_the_token() {
    let app = TestApp::new().await;
    let user = app.customer("Logger").await;
    let server = spawn_server(
        &app,
        "json",
        &[("LOG_FORMAT", "json"), ("RUST_LOG", "info")],
    )
    .await;
    let request_id = format!("log-test-{}", uuid::Uuid::new_v4().simple());
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(&user.access_token)
        .header("x-request-id", &request_id)
        .json(&json!({ "query": "{ me { id } }" }))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], request_id.as_str());

    let path = app.dirs.path().join("json.out");
    let deadline = Instant::now() + Duration::from_secs(10);
    let line: Value = loop {
        let out = std::fs::read_to_string(&path).unwrap_or_default();
        let found = out
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["span"]["request_id"] == request_id.as_str());
        if let Some(line) = found {
            assert!(
                !out.contains(&user.access_token),
                "the token must never be logged"
            );
            // Every line is JSON.
            assert!(
                out.lines()
                    .all(|l| serde_json::from_str::<Value>(l).is_ok())
            );
            break line;
        }
        assert!(
            Instant::now() < deadline,
            "no log line with the request id in:\n{out}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(line["span"]["user_id"], user.user_id.as_str(), "{line}");
    assert_eq!(line["span"]["path"], "/graphql");
    assert_eq!(line["level"], "INFO");
    server.kill();
}
