//! Resumable subscriptions: `messageAdded`, `roomEvents` and `notificationAdded` with `after`
//! replay what the client missed from the database, then go on live, with no gap and no
//! duplicate at the seam, on one instance or (with Redis) across instances.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    chat::{ChatOrder, chat_order, send},
    support::{
        Session, TestApp,
        ws::{REDIS_SESSIONS, Ws, serve},
    },
};

const MESSAGE_ADDED: &str =
    "subscription($r: ID!, $after: ID) { messageAdded(roomId: $r, after: $after) { id body } }";
const ROOM_EVENTS: &str = "subscription($r: ID!, $after: ID) { roomEvents(roomId: $r, after: $after) { __typename ... on ChatMessageAdded { message { id body } } } }";
const NOTIFICATIONS: &str =
    "subscription($after: ID) { notificationAdded(after: $after) { id title } }";

async fn sent(app: &TestApp, c: &ChatOrder, who: &Session, body: &str) -> String {
    send(app, who, &c.room_id, body).await.data("sendMessage")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn body_of(payload: &Value) -> String {
    let data = &payload["data"];
    data["messageAdded"]["body"]
        .as_str()
        .or_else(|| data["roomEvents"]["message"]["body"].as_str())
        .unwrap_or_else(|| panic!("not a message: {payload}"))
        .to_owned()
}

#[tokio::test]
async fn resumed_with_after_the_missed_messages_come_first_in_order_then_live_ones() {
    let _redis = REDIS_SESSIONS.read().await;
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    let server = serve(&app.state).await;
    let mut seen = String::new();
    for i in 1..=5 {
        let id = sent(&app, &c, &c.buyer, &format!("m{i}")).await;
        if i == 2 {
            seen = id;
        }
    }

    let mut vendor = Ws::connect(&server, &c.shop.owner.access_token).await;
    vendor
        .subscribe("m", MESSAGE_ADDED, json!({ "r": c.room_id, "after": seen }))
        .await;
    let mut events = Ws::connect(&server, &c.buyer.access_token).await;
    events
        .subscribe("e", ROOM_EVENTS, json!({ "r": c.room_id, "after": seen }))
        .await;
    sent(&app, &c, &c.buyer, "m6").await;
    let mut got = Vec::new();
    let mut got_events = Vec::new();
    for _ in 0..4 {
        got.push(body_of(&vendor.next("m").await));
        got_events.push(body_of(&events.next("e").await));
    }

    assert_eq!(got, ["m3", "m4", "m5", "m6"]);
    assert_eq!(got_events, ["m3", "m4", "m5", "m6"]);
    assert!(
        vendor
            .next_within("m", Duration::from_millis(300))
            .await
            .is_none(),
        "nothing twice"
    );
}

#[tokio::test]
async fn a_resume_racing_with_new_messages_misses_none_and_repeats_none() {
    let _redis = REDIS_SESSIONS.read().await;
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    let server = serve(&app.state).await;
    let seen = sent(&app, &c, &c.buyer, "seen").await;
    const SENT: usize = 40;

    // Messages keep coming while the subscriber resumes.
    let sender = {
        let state = app.state.clone();
        let buyer = c.buyer.clone();
        let room = c.room_id.clone();
        tokio::spawn(async move {
            let schema = kabaadwala::graphql::schema::build_schema(state.clone());
            for i in 0..SENT {
                let request = async_graphql::Request::new(
                    "mutation($r: ID!, $b: String!) { sendMessage(input: { roomId: $r, body: $b }) { id } }",
                )
                .variables(async_graphql::Variables::from_json(
                    json!({ "r": room, "b": format!("n{i}") }),
                ));
                let auth = kabaadwala::http::auth_from_header(
                    &state,
                    Some(&format!("Bearer {}", buyer.access_token)),
                );
                let response = schema
                    .execute(kabaadwala::graphql::schema::request_data(
                        request, &state, auth,
                    ))
                    .await;
                assert!(response.errors.is_empty(), "{:?}", response.errors);
            }
        })
    };
    let mut vendor = Ws::connect(&server, &c.shop.owner.access_token).await;
    vendor
        .subscribe("m", MESSAGE_ADDED, json!({ "r": c.room_id, "after": seen }))
        .await;
    sender.await.unwrap();
    let mut got = Vec::new();
    for _ in 0..SENT {
        got.push(body_of(&vendor.next("m").await));
    }

    let expected: Vec<String> = (0..SENT).map(|i| format!("n{i}")).collect();
    assert_eq!(got, expected);
    assert!(
        vendor
            .next_within("m", Duration::from_millis(300))
            .await
            .is_none(),
        "no duplicate at the seam"
    );
}

#[tokio::test]
async fn notifications_resume_after_the_last_one_seen() {
    let _redis = REDIS_SESSIONS.read().await;
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    let server = serve(&app.state).await;
    // Each message notifies the other side: the vendor gets three notifications.
    for i in 1..=3 {
        sent(&app, &c, &c.buyer, &format!("m{i}")).await;
    }
    let list = app
        .gql(
            "{ notifications(first: 10) { edges { node { id title createdAt } } } }",
            json!({}),
            Some(&c.shop.owner.access_token),
        )
        .await
        .data("notifications");
    let ids: Vec<String> = list["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 3, "{list}");
    // Newest first: the oldest of the last three is the third from the top.
    let oldest_of_three = &ids[2];

    let mut vendor = Ws::connect(&server, &c.shop.owner.access_token).await;
    vendor
        .subscribe("n", NOTIFICATIONS, json!({ "after": oldest_of_three }))
        .await;
    sent(&app, &c, &c.buyer, "m4").await;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(
            vendor.next("n").await["data"]["notificationAdded"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    assert_eq!(got[0], ids[1]);
    assert_eq!(got[1], ids[0]);
    assert!(!ids.contains(&got[2]), "then the live one");
}

#[tokio::test]
async fn after_must_name_a_message_of_the_room() {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    let other = chat_order(&app).await;
    let elsewhere = sent(&app, &other, &other.buyer, "elsewhere").await;
    let server = serve(&app.state).await;
    let mut vendor = Ws::connect(&server, &c.shop.owner.access_token).await;

    vendor
        .send(json!({ "id": "m", "type": "subscribe", "payload": {
            "query": MESSAGE_ADDED, "variables": { "r": c.room_id, "after": elsewhere } } }))
        .await;
    let refused = vendor.recv().await;

    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    assert_eq!(refused["payload"][0]["extensions"]["field"], "after");
}

#[tokio::test]
async fn a_client_too_far_behind_is_told_to_reload_instead() {
    let app = TestApp::with_env(&[("WS_RESUME_MAX_EVENTS", "2")]).await;
    let c = chat_order(&app).await;
    let seen = sent(&app, &c, &c.buyer, "seen").await;
    for i in 0..3 {
        sent(&app, &c, &c.buyer, &format!("m{i}")).await;
    }
    let server = serve(&app.state).await;
    let mut vendor = Ws::connect(&server, &c.shop.owner.access_token).await;

    vendor
        .send(json!({ "id": "m", "type": "subscribe", "payload": {
            "query": MESSAGE_ADDED, "variables": { "r": c.room_id, "after": seen } } }))
        .await;
    let refused = vendor.recv().await;

    assert_eq!(refused["type"], "error", "{refused}");
    assert!(
        refused["payload"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("more than 2")),
        "{refused}"
    );
}

#[tokio::test]
async fn resumed_on_another_instance_the_subscriber_misses_nothing() {
    let Some(_) = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("skipped: needs REDIS_URL (instances share events through Redis)");
        return;
    };
    let _redis = REDIS_SESSIONS.read().await;
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    let server_a = serve(&app.state).await;
    let instance_b = app.second_instance().await;
    let server_b = serve(&instance_b).await;
    let mut on_a = Ws::connect(&server_a, &c.shop.owner.access_token).await;
    on_a.subscribe("m", MESSAGE_ADDED, json!({ "r": c.room_id }))
        .await;
    sent(&app, &c, &c.buyer, "before").await;
    let last = on_a.next("m").await["data"]["messageAdded"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Instance A goes away (a deploy); messages are sent while the client is away.
    drop(on_a);
    drop(server_a);
    sent(&app, &c, &c.buyer, "while away 1").await;
    sent(&app, &c, &c.buyer, "while away 2").await;
    let mut on_b = Ws::connect(&server_b, &c.shop.owner.access_token).await;
    on_b.subscribe("m", MESSAGE_ADDED, json!({ "r": c.room_id, "after": last }))
        .await;
    sent(&app, &c, &c.buyer, "after").await;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(body_of(&on_b.next("m").await));
    }

    assert_eq!(got, ["while away 1", "while away 2", "after"]);
}
