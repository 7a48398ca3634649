//! The WebSocket's edges: the closing handshake, and the limits that keep one client from taking
//! the server's memory or skipping the rate limits (message size, subscriptions per connection,
//! connections per user and in all, document limits before parsing, per-IP limits).

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::{
    PASSWORD, TestApp,
    process::spawn_server,
    ws::{REDIS_SESSIONS, WAIT, Ws, serve},
};

const NOTIFICATIONS: &str = "subscription { notificationAdded { id title } }";

#[tokio::test]
async fn a_clients_close_frame_is_answered_with_the_servers_own() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let server = serve(&app.state).await;

    let mut idle = Ws::connect(&server, &asha.access_token).await;
    let mut subscribed = Ws::connect(&server, &asha.access_token).await;
    subscribed.subscribe("n", NOTIFICATIONS, json!({})).await;
    let mut legacy = Ws::open(&server, "graphql-ws").await;

    assert_eq!(idle.close(1000).await, Some(1000));
    assert_eq!(subscribed.close(1000).await, Some(1000));
    assert_eq!(legacy.close(1001).await, Some(1001));
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_the_socket_with_1009() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let server = serve(&app.state).await;
    let mut ws = Ws::connect(&server, &asha.access_token).await;
    let huge = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": format!("{{ __typename }} # {}", "x".repeat(8 << 20)) }
    });

    ws.send_text(huge.to_string()).await;

    assert_eq!(ws.close_code().await, 1009);
}

#[tokio::test]
async fn past_the_subscription_cap_a_subscribe_is_rate_limited_and_the_socket_stays_open() {
    let app = TestApp::with_env(&[("WS_MAX_SUBSCRIPTIONS", "2")]).await;
    let asha = app.customer("Asha").await;
    let server = serve(&app.state).await;
    let mut ws = Ws::connect(&server, &asha.access_token).await;
    ws.subscribe("a", NOTIFICATIONS, json!({})).await;
    ws.subscribe("b", NOTIFICATIONS, json!({})).await;

    ws.send(json!({ "id": "c", "type": "subscribe", "payload": { "query": NOTIFICATIONS } }))
        .await;
    let refused = ws.recv().await;
    ws.send(json!({ "id": "a", "type": "complete" })).await;
    ws.send(json!({ "id": "d", "type": "subscribe", "payload": { "query": NOTIFICATIONS } }))
        .await;
    ws.send(json!({ "type": "ping" })).await;
    let after_complete = ws.recv().await;

    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "c");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    assert_eq!(
        after_complete["type"], "pong",
        "completing one frees its place and the socket stays open: {after_complete}"
    );
}

#[tokio::test]
async fn connections_past_the_per_user_cap_are_closed_with_4429_and_past_the_total_refused_with_429()
 {
    let app = TestApp::with_env(&[
        ("WS_MAX_CONNECTIONS_PER_USER", "2"),
        ("WS_MAX_CONNECTIONS", "4"),
    ])
    .await;
    let asha = app.customer("Asha").await;
    let ravi = app.customer("Ravi").await;
    let server = serve(&app.state).await;
    let init = |token: &str| json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });

    let _first = Ws::connect(&server, &asha.access_token).await;
    let _second = Ws::connect(&server, &asha.access_token).await;
    let mut third = Ws::open(&server, "graphql-transport-ws").await;
    third.send(init(&asha.access_token)).await;
    let third_code = third.close_code().await;
    drop(third);
    let _ravis = Ws::connect(&server, &ravi.access_token).await;
    let _anonymous = Ws::open(&server, "graphql-transport-ws").await;
    let over_total =
        tokio_tungstenite::connect_async(format!("ws://{}/graphql", server.addr)).await;

    assert_eq!(third_code, 4429);
    match over_total {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 429);
        }
        other => panic!("expected HTTP 429, got {other:?}"),
    }
}

#[tokio::test]
async fn a_document_over_the_token_limit_on_the_socket_is_refused_before_it_is_parsed() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let server = serve(&app.state).await;
    let mut ws = Ws::connect(&server, &asha.access_token).await;
    // Unbalanced: a parse would fail with a syntax error, not the token limit.
    let query = format!("subscription {{ {}", "notificationAdded ".repeat(3_001));

    ws.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }))
        .await;
    let refused = ws.recv().await;

    assert_eq!(refused["type"], "error");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    assert!(
        refused["payload"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("tokens")),
        "{refused}"
    );
}

const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { __typename } }";

async fn login_over(ws: &mut Ws, id: &str, email: &str) -> Value {
    ws.send(json!({ "id": id, "type": "subscribe", "payload": {
        "query": LOGIN,
        "variables": { "input": { "email": email, "password": PASSWORD } } } }))
        .await;
    ws.next(id).await
}

#[tokio::test]
async fn sign_ins_over_the_socket_are_rate_limited_per_client_ip() {
    let app = TestApp::with_env(&[("RATE_LIMIT_LOGIN_IP", "2/60")]).await;
    let people = [
        app.customer("A").await,
        app.customer("B").await,
        app.customer("C").await,
    ];
    let server = serve(&app.state).await;
    let mut ws = Ws::open(&server, "graphql-transport-ws").await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(ws.recv().await["type"], "connection_ack");

    let first = login_over(&mut ws, "1", &people[0].email).await;
    let second = login_over(&mut ws, "2", &people[1].email).await;
    let third = login_over(&mut ws, "3", &people[2].email).await;

    assert_eq!(
        first["data"]["login"]["__typename"], "AuthPayload",
        "{first}"
    );
    assert_eq!(second["data"]["login"]["__typename"], "AuthPayload");
    assert_eq!(
        third["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{third}"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_socket_counts_the_forwarded_ip() {
    let app = TestApp::with_env(&[("RATE_LIMIT_LOGIN_IP", "1/60"), ("TRUST_PROXY", "true")]).await;
    let asha = app.customer("Asha").await;
    let server = serve(&app.state).await;
    let open = |ip: &'static str| {
        let server = &server;
        async move {
            let forwarded = format!("198.51.100.1, {ip}");
            let mut ws = Ws::open_with(
                server,
                "graphql-transport-ws",
                &[("x-forwarded-for", forwarded.as_str())],
            )
            .await;
            ws.send(json!({ "type": "connection_init" })).await;
            assert_eq!(ws.recv().await["type"], "connection_ack");
            ws
        }
    };

    let mut one = open("203.0.113.7").await;
    let mut same = open("203.0.113.7").await;
    let mut other = open("203.0.113.8").await;
    let first = login_over(&mut one, "1", &asha.email).await;
    let again = login_over(&mut same, "1", &asha.email).await;
    let elsewhere = login_over(&mut other, "1", &asha.email).await;

    assert_eq!(first["data"]["login"]["__typename"], "AuthPayload");
    assert_eq!(again["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert_eq!(elsewhere["data"]["login"]["__typename"], "AuthPayload");
}

/// The abuse that took a server from 35 MB to 782 MB: one signed-in socket sending 20,000
/// `subscribe` messages with distinct documents. Past the cap each is refused, and the server
/// (the real binary, so the figure is its own) stays under 100 MB.
#[tokio::test]
async fn twenty_thousand_subscribes_on_one_socket_are_refused_past_the_cap_and_memory_stays_low() {
    let _redis = REDIS_SESSIONS.read().await;
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let process = spawn_server(&app, "subscribe-flood", &[]).await;
    let url = process.base.replace("http://", "ws://") + "/graphql";
    let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let (mut sink, mut stream) = socket.split();
    let init = json!({ "type": "connection_init", "payload": { "authToken": asha.access_token } });
    sink.send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    const FLOOD: usize = 20_000;

    let writer = tokio::spawn(async move {
        for i in 0..FLOOD {
            let message = json!({ "id": i.to_string(), "type": "subscribe", "payload": {
                "query": format!("subscription S{i} {{ notificationAdded {{ id title body }} }}") } });
            sink.send(Message::Text(message.to_string().into()))
                .await
                .unwrap();
        }
        sink.send(Message::Text(json!({ "type": "ping" }).to_string().into()))
            .await
            .unwrap();
        sink
    });
    let (mut refused, mut other) = (0, Vec::new());
    loop {
        let frame = tokio::time::timeout(WAIT * 6, stream.next())
            .await
            .expect("the server keeps answering")
            .expect("the socket stays open")
            .unwrap();
        let Message::Text(text) = frame else { continue };
        let message: Value = serde_json::from_str(&text).unwrap();
        match message["type"].as_str() {
            Some("pong") => break,
            Some("connection_ack") => {}
            Some("error") if message["payload"][0]["extensions"]["code"] == "RATE_LIMITED" => {
                refused += 1;
            }
            _ => other.push(message),
        }
    }
    let rss_mib = process.rss_kib() / 1024;
    let _sink = writer.await.unwrap();

    assert_eq!(
        refused,
        FLOOD - 100,
        "every subscribe past the 100th is refused"
    );
    assert!(other.is_empty(), "{:?}", other.first());
    assert!(rss_mib < 100, "the server uses {rss_mib} MiB");
}
