//! Fan-out groups (`realtime::fanout`) seen from the sockets: subscribers of different users on
//! one room share a group, a viewer-dependent field is still resolved for each viewer, every
//! subscription gets every message once and in order, and sharing never lets a stranger in.

use std::time::Duration;

use serde_json::json;

use crate::{
    chat::{ChatOrder, chat_order, send},
    support::{
        TestApp,
        market::shop,
        ws::{REDIS_SESSIONS, Server, Ws, serve},
    },
};

const QUIET: Duration = Duration::from_millis(300);

async fn started() -> (TestApp, ChatOrder, Server) {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    let server = serve(&app.state).await;
    (app, c, server)
}

#[tokio::test]
async fn buyer_vendor_and_admin_on_one_room_get_the_same_correct_message() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let query = "subscription($r: ID!) { messageAdded(roomId: $r) { id body sender { id fullName } room { id } } }";
    let mut sockets = Vec::new();
    for who in [&c.buyer, &c.shop.owner, &c.admin] {
        let mut ws = Ws::connect(&server, &who.access_token).await;
        ws.subscribe("m", query, json!({ "r": c.room_id })).await;
        sockets.push(ws);
    }

    let sent = send(&app, &c.shop.owner, &c.room_id, "Pickup at 10?").await;
    let sent = sent.data("sendMessage");

    let mut payloads = Vec::new();
    for ws in &mut sockets {
        payloads.push(ws.next("m").await);
    }
    let message = &payloads[0]["data"]["messageAdded"];
    assert_eq!(message["id"], sent["id"]);
    assert_eq!(message["body"], "Pickup at 10?");
    assert_eq!(message["sender"]["id"], c.shop.owner.user_id.as_str());
    assert_eq!(message["room"]["id"], c.room_id.as_str());
    assert!(payloads.iter().all(|p| *p == payloads[0]));
}

#[tokio::test]
async fn a_viewer_dependent_field_is_resolved_for_each_subscriber() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let query = "subscription($r: ID!) { messageAdded(roomId: $r) { body room { unreadCount } } }";
    let mut buyer = Ws::connect(&server, &c.buyer.access_token).await;
    buyer.subscribe("m", query, json!({ "r": c.room_id })).await;
    let mut vendor = Ws::connect(&server, &c.shop.owner.access_token).await;
    vendor
        .subscribe("m", query, json!({ "r": c.room_id }))
        .await;
    let mut admin = Ws::connect(&server, &c.admin.access_token).await;
    admin.subscribe("m", query, json!({ "r": c.room_id })).await;
    let unread = |payload: serde_json::Value| {
        assert_eq!(payload["errors"], serde_json::Value::Null, "{payload}");
        payload["data"]["messageAdded"]["room"]["unreadCount"].clone()
    };

    send(&app, &c.buyer, &c.room_id, "one")
        .await
        .data("sendMessage");
    // The sender has read their own message; the vendor and the admin have not.
    assert_eq!(unread(buyer.next("m").await), 0);
    assert_eq!(unread(vendor.next("m").await), 1);
    assert_eq!(unread(admin.next("m").await), 1);

    send(&app, &c.shop.owner, &c.room_id, "two")
        .await
        .data("sendMessage");
    assert_eq!(unread(buyer.next("m").await), 1);
    assert_eq!(unread(vendor.next("m").await), 0);
    assert_eq!(unread(admin.next("m").await), 2);
}

/// A group resolving a per-viewer field for many viewers runs their resolutions together with
/// one loader: the SQL statements per message do not grow with the viewers.
#[tokio::test]
async fn per_viewer_resolutions_of_one_event_share_their_statements() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let query =
        "subscription($r: ID!) { messageAdded(roomId: $r) { body room { id unreadCount } } }";
    // Statements of one message with two viewers subscribed (after a first message, which
    // turns the group to per-viewer resolution), then with twelve.
    let mut statements = Vec::new();
    let mut sockets: Vec<Ws> = Vec::new();
    for viewers in [2_usize, 2, 12] {
        while sockets.len() < viewers {
            let who = match sockets.len() {
                0 => c.buyer.clone(),
                1 => c.shop.owner.clone(),
                _ => app.admin().await,
            };
            let mut ws = Ws::connect(&server, &who.access_token).await;
            ws.subscribe("m", query, json!({ "r": c.room_id })).await;
            sockets.push(ws);
        }
        let before = app.sql_statements.load(std::sync::atomic::Ordering::SeqCst);
        send(&app, &c.shop.owner, &c.room_id, "counted")
            .await
            .data("sendMessage");
        for ws in &mut sockets {
            let payload = ws.next("m").await;
            assert_eq!(payload["errors"], serde_json::Value::Null, "{payload}");
        }
        statements.push(app.sql_statements.load(std::sync::atomic::Ordering::SeqCst) - before);
    }
    // Twelve viewers are split over the cores, and each part may load in its own batch (a few
    // statements more at most); one statement per viewer would be ten more or worse.
    assert!(
        statements[2] < statements[1] + 5,
        "statements for one message with 2 viewers: {}, with 12: {}",
        statements[1],
        statements[2]
    );
}

#[tokio::test]
async fn every_subscription_gets_every_message_exactly_once_and_in_order() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let query = "subscription($r: ID!) { messageAdded(roomId: $r) { body } }";
    let mut sockets = Vec::new();
    for who in [&c.buyer, &c.shop.owner, &c.buyer] {
        let mut ws = Ws::connect(&server, &who.access_token).await;
        // Two subscriptions of the same group on one socket: each gets its own frames.
        ws.subscribe("a", query, json!({ "r": c.room_id })).await;
        ws.subscribe("b", query, json!({ "r": c.room_id })).await;
        sockets.push(ws);
    }

    let bodies: Vec<String> = (0..15).map(|i| format!("message {i}")).collect();
    for (i, body) in bodies.iter().enumerate() {
        let from = if i % 2 == 0 { &c.buyer } else { &c.shop.owner };
        send(&app, from, &c.room_id, body).await.data("sendMessage");
    }

    for ws in &mut sockets {
        for id in ["a", "b"] {
            for body in &bodies {
                assert_eq!(ws.next(id).await["data"]["messageAdded"]["body"], *body);
            }
            assert!(ws.next_within(id, QUIET).await.is_none(), "a duplicate");
        }
    }
}

#[tokio::test]
async fn a_completed_subscription_stops_while_the_rest_of_its_group_goes_on() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let query = "subscription($r: ID!) { messageAdded(roomId: $r) { body } }";
    let mut leaving = Ws::connect(&server, &c.buyer.access_token).await;
    leaving
        .subscribe("m", query, json!({ "r": c.room_id }))
        .await;
    let mut staying = Ws::connect(&server, &c.buyer.access_token).await;
    staying
        .subscribe("m", query, json!({ "r": c.room_id }))
        .await;

    leaving.send(json!({ "id": "m", "type": "complete" })).await;
    // Handled in order: once the pong is back, the subscription is gone.
    leaving
        .subscribe(
            "n",
            "subscription { notificationAdded { kind } }",
            json!({}),
        )
        .await;
    send(&app, &c.shop.owner, &c.room_id, "after")
        .await
        .data("sendMessage");

    assert_eq!(
        staying.next("m").await["data"]["messageAdded"]["body"],
        "after"
    );
    assert!(leaving.next_within("m", QUIET).await.is_none());
}

#[tokio::test]
async fn a_stranger_asking_for_a_live_groups_operation_is_refused_and_gets_nothing() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let query = "subscription($r: ID!) { messageAdded(roomId: $r) { body } }";
    let mut buyer = Ws::connect(&server, &c.buyer.access_token).await;
    buyer.subscribe("m", query, json!({ "r": c.room_id })).await;
    let stranger = shop(&app, "Other").await.owner;
    let mut ws = Ws::connect(&server, &stranger.access_token).await;

    ws.send(json!({ "id": "m", "type": "subscribe", "payload": { "query": query, "variables": { "r": c.room_id } } }))
        .await;
    let refused = ws.recv().await;
    send(&app, &c.buyer, &c.room_id, "private")
        .await
        .data("sendMessage");

    assert_eq!(refused["type"], "error");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(
        buyer.next("m").await["data"]["messageAdded"]["body"],
        "private"
    );
    assert!(ws.next_within("m", QUIET).await.is_none());
}
