//! Graceful shutdown: cancelling the server's shutdown token (SIGTERM in the binary) closes
//! every open subscription with the protocol's close frame (1001 Going Away), not a reset, and
//! `serve` returns once they are closed.

use serde_json::json;

use crate::support::{
    TestApp, process,
    ws::{self, Ws},
};

#[tokio::test]
async fn shutting_down_closes_open_subscriptions_with_going_away() {
    let _redis = ws::REDIS_SESSIONS.read().await;
    let app = TestApp::new().await;
    let user = app.customer("Listener").await;
    let mut server = ws::serve(&app.state).await;
    let mut socket = Ws::connect(&server, &user.access_token).await;
    socket
        .subscribe(
            "n",
            "subscription { notificationAdded { kind } }",
            json!({}),
        )
        .await;
    let mut legacy = Ws::open(&server, "graphql-ws").await;
    legacy
        .send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(legacy.recv().await["type"], "connection_ack");

    server.shut_down();
    // A close frame within the bound (`close_code` fails on a reset or a silent socket).
    assert_eq!(socket.close_code().await, 1001);
    assert_eq!(legacy.close_code().await, 1001);
    server.stopped().await;
    // Nothing listens any more.
    assert!(
        tokio::net::TcpStream::connect(&server.addr).await.is_err(),
        "the server still accepts connections"
    );
}

#[tokio::test]
async fn the_binary_stops_cleanly_on_sigterm_after_its_worker() {
    let app = TestApp::new().await;
    let server = process::spawn_server(
        &app,
        "term",
        &[("RUST_LOG", "info"), ("LOG_FORMAT", "json")],
    )
    .await;
    assert!(server.terminate().await, "exit status is not success");
    let log = std::fs::read_to_string(app.dirs.path().join("term.out")).unwrap();
    let messages: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|l| l["fields"]["message"].as_str().map(str::to_owned))
        .collect();
    // The worker was awaited: it stopped after the signal and before the process's last word.
    let at = |m: &str| messages.iter().position(|x| x.starts_with(m));
    let (term, worker) = (at("shutting down"), at("job worker stopped"));
    assert!(term.is_some() && worker > term, "{messages:?}");
    assert_eq!(
        messages.last().map(String::as_str),
        Some("stopped"),
        "{messages:?}"
    );
}
