//! Subscriptions through real WebSockets on a random port: chat, read receipts, typing, order
//! updates and notifications, the protocol's close codes, and (with `REDIS_URL`) delivery across
//! two instances and after Redis drops its connections.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    chat::{ChatOrder, chat_order, send},
    support::{
        TestApp,
        market::{set_status, shop},
        ws::{REDIS_SESSIONS, Server, Ws, serve},
    },
};

const MESSAGE_ADDED: &str =
    "subscription($r: ID!) { messageAdded(roomId: $r) { id body sender { id } room { id } } }";
const ROOM_EVENTS: &str = "subscription($r: ID!) { roomEvents(roomId: $r) { __typename \
    ... on ChatMessageAdded { message { body } } \
    ... on ChatMessagesRead { reader { id } lastReadAt } \
    ... on ChatTyping { user { id } } } }";

async fn started() -> (TestApp, ChatOrder, Server) {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    let server = serve(&app.state).await;
    (app, c, server)
}

#[tokio::test]
async fn buyer_and_vendor_chat_on_an_order_and_each_gets_the_others_messages_live() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let mut vendor = Ws::connect(&server, &c.shop.owner.access_token).await;
    vendor
        .subscribe("m", MESSAGE_ADDED, json!({ "r": c.room_id }))
        .await;
    let mut buyer = Ws::connect(&server, &c.buyer.access_token).await;
    buyer
        .subscribe("m", MESSAGE_ADDED, json!({ "r": c.room_id }))
        .await;

    send(&app, &c.buyer, &c.room_id, "Namaste! When can you pick up?")
        .await
        .data("sendMessage");
    let got = vendor.next("m").await;
    assert_eq!(
        got["data"]["messageAdded"]["body"],
        "Namaste! When can you pick up?"
    );
    assert_eq!(
        got["data"]["messageAdded"]["sender"]["id"],
        c.buyer.user_id.as_str()
    );
    assert_eq!(
        got["data"]["messageAdded"]["room"]["id"],
        c.room_id.as_str()
    );
    assert_eq!(buyer.next("m").await, got);

    send(&app, &c.shop.owner, &c.room_id, "Tomorrow at 10")
        .await
        .data("sendMessage");
    assert_eq!(
        buyer.next("m").await["data"]["messageAdded"]["body"],
        "Tomorrow at 10"
    );
    assert_eq!(
        vendor.next("m").await["data"]["messageAdded"]["body"],
        "Tomorrow at 10"
    );
}

#[tokio::test]
async fn a_third_user_and_another_vendor_are_refused_a_rooms_subscription() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let stranger = app.customer("Stranger").await;
    let other_vendor = shop(&app, "Other").await.owner;

    for who in [&stranger, &other_vendor] {
        let mut ws = Ws::connect(&server, &who.access_token).await;
        ws.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": ROOM_EVENTS, "variables": { "r": c.room_id } } }))
            .await;
        let refused = ws.recv().await;
        assert_eq!(refused["type"], "error");
        assert_eq!(refused["id"], "1");
        assert_eq!(refused["payload"][0]["extensions"]["code"], "NOT_FOUND");
        // Still connected and usable: nothing from the room reaches them.
        ws.subscribe(
            "n",
            "subscription { notificationAdded { kind } }",
            json!({}),
        )
        .await;
        send(&app, &c.buyer, &c.room_id, "private")
            .await
            .data("sendMessage");
        assert!(
            ws.next_within("1", Duration::from_millis(300))
                .await
                .is_none()
        );
    }
}

#[tokio::test]
async fn read_receipts_and_typing_arrive_on_room_events() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let mut buyer = Ws::connect(&server, &c.buyer.access_token).await;
    buyer
        .subscribe("e", ROOM_EVENTS, json!({ "r": c.room_id }))
        .await;

    send(&app, &c.buyer, &c.room_id, "Hello")
        .await
        .data("sendMessage");
    let added = buyer.next("e").await;
    assert_eq!(
        added["data"]["roomEvents"]["__typename"],
        "ChatMessageAdded"
    );
    assert_eq!(added["data"]["roomEvents"]["message"]["body"], "Hello");

    let typing = app
        .gql(
            "mutation($r: ID!) { sendTyping(roomId: $r) }",
            json!({ "r": c.room_id }),
            Some(&c.shop.owner.access_token),
        )
        .await;
    assert_eq!(typing.data("sendTyping"), true);
    let typing = buyer.next("e").await;
    assert_eq!(typing["data"]["roomEvents"]["__typename"], "ChatTyping");
    assert_eq!(
        typing["data"]["roomEvents"]["user"]["id"],
        c.shop.owner.user_id.as_str()
    );

    app.gql(
        "mutation($r: ID!) { markRoomRead(roomId: $r) { id } }",
        json!({ "r": c.room_id }),
        Some(&c.shop.owner.access_token),
    )
    .await
    .data("markRoomRead");
    let read = buyer.next("e").await;
    assert_eq!(read["data"]["roomEvents"]["__typename"], "ChatMessagesRead");
    assert_eq!(
        read["data"]["roomEvents"]["reader"]["id"],
        c.shop.owner.user_id.as_str()
    );
}

#[tokio::test]
async fn an_order_status_change_arrives_on_order_updated_and_as_a_notification() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let mut buyer = Ws::connect(&server, &c.buyer.access_token).await;
    buyer
        .subscribe(
            "o",
            "subscription($o: ID) { orderUpdated(orderId: $o) { id status } }",
            json!({ "o": c.order_id }),
        )
        .await;
    buyer
        .subscribe(
            "all",
            "subscription { orderUpdated { id status } }",
            json!({}),
        )
        .await;
    buyer
        .subscribe(
            "n",
            "subscription { notificationAdded { kind title order { id } isRead } }",
            json!({}),
        )
        .await;

    set_status(&app, &c.shop.owner, &c.order_id, "CONFIRMED")
        .await
        .data("updateOrderStatus");

    let updated = buyer.next("o").await;
    assert_eq!(
        updated["data"]["orderUpdated"],
        json!({ "id": c.order_id, "status": "CONFIRMED" })
    );
    assert_eq!(buyer.next("all").await, updated);
    let notified = buyer.next("n").await["data"]["notificationAdded"].clone();
    assert_eq!(notified["kind"], "ORDER_CONFIRMED");
    assert_eq!(notified["order"]["id"], c.order_id.as_str());
    assert_eq!(notified["isRead"], false);

    // A refused move publishes nothing.
    set_status(&app, &c.shop.owner, &c.order_id, "DELIVERED").await;
    assert!(
        buyer
            .next_within("o", Duration::from_millis(300))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn another_users_order_cannot_be_watched() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let stranger = app.customer("Stranger").await;
    let mut ws = Ws::connect(&server, &stranger.access_token).await;
    ws.send(json!({ "id": "o", "type": "subscribe", "payload": { "query": "subscription($o: ID) { orderUpdated(orderId: $o) { id } }", "variables": { "o": c.order_id } } }))
        .await;
    let refused = ws.recv().await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn queries_and_mutations_also_run_over_the_socket() {
    let _redis = REDIS_SESSIONS.read().await;
    let (_app, c, server) = started().await;
    let mut ws = Ws::connect(&server, &c.buyer.access_token).await;
    ws.subscribe("m", MESSAGE_ADDED, json!({ "r": c.room_id }))
        .await;

    ws.send(json!({ "id": "q", "type": "subscribe", "payload": { "query": "mutation($i: SendMessageInput!) { sendMessage(input: $i) { body } }", "variables": { "i": { "roomId": c.room_id, "body": "over the socket" } } } }))
        .await;

    // The mutation's answer and the event it caused may come in either order: operations run
    // concurrently with the socket's subscriptions.
    assert_eq!(
        ws.next("q").await["data"]["sendMessage"]["body"],
        "over the socket"
    );
    assert_eq!(
        ws.next("m").await["data"]["messageAdded"]["body"],
        "over the socket"
    );
    assert_eq!(ws.recv().await, json!({ "id": "q", "type": "complete" }));
}

#[tokio::test]
async fn the_legacy_graphql_ws_subprotocol_delivers_too() {
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server) = started().await;
    let mut ws = Ws::open(&server, "graphql-ws").await;
    ws.send(
        json!({ "type": "connection_init", "payload": { "authToken": c.shop.owner.access_token } }),
    )
    .await;
    assert_eq!(ws.recv().await["type"], "connection_ack");
    assert_eq!(ws.recv().await["type"], "ka");
    ws.send(json!({ "id": "1", "type": "start", "payload": { "query": MESSAGE_ADDED, "variables": { "r": c.room_id } } })).await;
    // A query on the same socket completes only after the start before it was handled.
    ws.send(json!({ "id": "2", "type": "start", "payload": { "query": "{ me { id } }" } }))
        .await;
    let me = ws.recv().await;
    assert_eq!(
        (me["type"].clone(), me["id"].clone()),
        (json!("data"), json!("2"))
    );
    assert_eq!(ws.recv().await, json!({ "id": "2", "type": "complete" }));

    send(&app, &c.buyer, &c.room_id, "legacy hello")
        .await
        .data("sendMessage");

    let data = ws.recv().await;
    assert_eq!(
        (data["type"].clone(), data["id"].clone()),
        (json!("data"), json!("1"))
    );
    assert_eq!(
        data["payload"]["data"]["messageAdded"]["body"],
        "legacy hello"
    );
}

async fn open(server: &Server) -> Ws {
    Ws::open(server, "graphql-transport-ws").await
}

#[tokio::test]
async fn an_unknown_message_type_closes_with_4400() {
    let (_app, c, server) = started().await;
    let mut ws = Ws::connect(&server, &c.buyer.access_token).await;
    ws.send(json!({ "type": "shout" })).await;
    assert_eq!(ws.close_code().await, 4400);
    let mut ws = open(&server).await;
    ws.send(Value::String("not an object".into())).await;
    assert_eq!(ws.close_code().await, 4400);
}

#[tokio::test]
async fn a_subscribe_before_connection_ack_closes_with_4401() {
    let (_app, c, server) = started().await;
    let mut ws = open(&server).await;
    ws.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": MESSAGE_ADDED, "variables": { "r": c.room_id } } }))
        .await;
    assert_eq!(ws.close_code().await, 4401);
}

#[tokio::test]
async fn an_invalid_token_closes_with_4403() {
    let (_app, _c, server) = started().await;
    let mut ws = open(&server).await;
    ws.send(
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer not-a-token" } }),
    )
    .await;
    assert_eq!(ws.close_code().await, 4403);
}

#[tokio::test]
async fn no_connection_init_within_the_timeout_closes_with_4408() {
    let app = TestApp::with_env(&[("WS_INIT_TIMEOUT_MS", "200")]).await;
    let server = serve(&app.state).await;
    let mut ws = open(&server).await;
    assert_eq!(ws.close_code().await, 4408);
}

#[tokio::test]
async fn a_duplicate_subscription_id_closes_with_4409() {
    let _redis = REDIS_SESSIONS.read().await;
    let (_app, c, server) = started().await;
    let mut ws = Ws::connect(&server, &c.buyer.access_token).await;
    ws.subscribe("same", MESSAGE_ADDED, json!({ "r": c.room_id }))
        .await;
    ws.send(json!({ "id": "same", "type": "subscribe", "payload": { "query": MESSAGE_ADDED, "variables": { "r": c.room_id } } }))
        .await;
    assert_eq!(ws.close_code().await, 4409);
}

#[tokio::test]
async fn delivery_stops_with_4403_when_the_token_expires_during_the_connection() {
    let _redis = REDIS_SESSIONS.read().await;
    let app = TestApp::with_env(&[("ACCESS_TOKEN_TTL_SECS", "1")]).await;
    let c = chat_order(&app).await;
    let short = app.login(&c.shop.owner.email).await;
    let server = serve(&app.state).await;
    let mut ws = Ws::connect(&server, &short.access_token).await;
    // Not waiting for the subscription's pong: on a loaded machine the one-second token can
    // expire before it, and the close frame is what this test waits for anyway.
    ws.send(json!({ "id": "m", "type": "subscribe", "payload": { "query": MESSAGE_ADDED, "variables": { "r": c.room_id } } }))
        .await;

    assert_eq!(ws.close_code().await, 4403);
}

fn redis_url() -> Option<String> {
    std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty())
}

#[tokio::test]
async fn a_message_sent_through_one_instance_reaches_a_subscriber_on_another() {
    let Some(_) = redis_url() else {
        eprintln!("skipped: needs REDIS_URL");
        return;
    };
    let _redis = REDIS_SESSIONS.read().await;
    let (app, c, server_a) = started().await;
    let config = (*app.state.config).clone();
    let db = kabaadwala::db::connect(&config).await.unwrap();
    let instance_b = kabaadwala::AppState::from_parts(config, db).unwrap();
    let server_b = serve(&instance_b).await;
    let mut on_b = Ws::connect(&server_b, &c.shop.owner.access_token).await;
    on_b.subscribe("m", MESSAGE_ADDED, json!({ "r": c.room_id }))
        .await;
    let mut on_a = Ws::connect(&server_a, &c.buyer.access_token).await;

    // Sent through instance A's socket.
    on_a.send(json!({ "id": "s", "type": "subscribe", "payload": { "query": "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }", "variables": { "i": { "roomId": c.room_id, "body": "via A" } } } }))
        .await;
    assert!(on_a.next("s").await["data"]["sendMessage"]["id"].is_string());

    assert_eq!(
        on_b.next("m").await["data"]["messageAdded"]["body"],
        "via A"
    );
}

#[tokio::test]
async fn when_redis_drops_its_connections_subscribers_are_told_to_resume_and_miss_nothing() {
    let Some(url) = redis_url() else {
        eprintln!("skipped: needs REDIS_URL");
        return;
    };
    let _exclusive = REDIS_SESSIONS.write().await;
    let (app, c, server) = started().await;
    let mut vendor = Ws::connect(&server, &c.shop.owner.access_token).await;
    vendor
        .subscribe("m", MESSAGE_ADDED, json!({ "r": c.room_id }))
        .await;
    send(&app, &c.buyer, &c.room_id, "before")
        .await
        .data("sendMessage");
    let before = vendor.next("m").await;
    assert_eq!(before["data"]["messageAdded"]["body"], "before");
    let last_seen = before["data"]["messageAdded"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let client = redis::Client::open(url).unwrap();
    let mut admin = client.get_multiplexed_async_connection().await.unwrap();
    for kind in ["pubsub", "normal"] {
        let _: redis::Value = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("TYPE")
            .arg(kind)
            .query_async(&mut admin)
            .await
            .unwrap_or(redis::Value::Nil);
    }
    // The database is the source of truth: the mutation succeeds whatever Redis does.
    send(&app, &c.buyer, &c.room_id, "during")
        .await
        .data("sendMessage");
    // Once the listener is back, sockets with subscriptions are closed with 1012 (what was
    // published meanwhile never reached this instance)...
    let code = vendor.close_code().await;
    // ...and the client resumes from the last message it saw.
    let mut resumed = Ws::connect(&server, &c.shop.owner.access_token).await;
    resumed
        .subscribe(
            "m",
            "subscription($r: ID!, $a: ID) { messageAdded(roomId: $r, after: $a) { id body sender { id } room { id } } }",
            json!({ "r": c.room_id, "a": last_seen }),
        )
        .await;
    send(&app, &c.buyer, &c.room_id, "after")
        .await
        .data("sendMessage");
    let first = resumed.next("m").await;
    let second = resumed.next("m").await;

    assert_eq!(code, 1012);
    assert_eq!(first["data"]["messageAdded"]["body"], "during");
    assert_eq!(second["data"]["messageAdded"]["body"], "after");
}
