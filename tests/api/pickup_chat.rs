//! A pickup's chat room: it exists exactly when the pickup has a collector (booked into a slot,
//! or accepted from an offer), the household and the collector chat in it as buyer and vendor
//! do in an order's room (messages, read receipts, unread counts, listings, notifications,
//! `messageAdded`/`roomEvents` over a real socket, resumption with `after`), and nobody else
//! may read, write or subscribe to it but admins.

use sea_orm::{EntityTrait as _, QuerySelect as _};
use serde_json::{Value, json};

use crate::{
    chat::send,
    pickups::{Yard, accept, book, booked, offered, yard},
    support::{
        Session, TestApp, market,
        ws::{REDIS_SESSIONS, Ws, serve},
    },
    wallet::fund,
};

const ROOM: &str = "chatRoom { id order { id } pickup { id number } \
    participants { id } lastMessage { body } }";

async fn room_of(app: &TestApp, who: &Session, pickup_id: &str) -> Value {
    app.gql(
        &format!("query($p: ID!) {{ pickup(id: $p) {{ {ROOM} }} }}"),
        json!({ "p": pickup_id }),
        Some(&who.access_token),
    )
    .await
    .data("pickup")["chatRoom"]
        .clone()
}

/// A pickup booked into the yard's slot, and its room's id.
async fn pickup_room(app: &TestApp, y: &Yard) -> (String, String) {
    let id = booked(app, y).await;
    let room = room_of(app, &y.household, &id).await["id"]
        .as_str()
        .expect("a booked pickup has a room")
        .to_owned();
    (id, room)
}

async fn read(app: &TestApp, who: Option<&Session>, room: &str) -> crate::support::Gql {
    app.gql(
        "query($r: ID!) { messages(roomId: $r) { totalCount edges { node { body sender { id } } } } }",
        json!({ "r": room }),
        who.map(|s| s.access_token.as_str()),
    )
    .await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_pickup_has_a_chat_room_once_a_collector_takes_it_and_not_before() {
    let app = TestApp::new().await;
    let y = yard(&app).await;

    let slotted = book(
        &app,
        &y.household,
        &y.address,
        Some(&y.slot),
        &y.material,
        1.0,
        "slotted",
    )
    .await
    .data("bookPickup");
    let slotted_id = slotted["id"].as_str().unwrap();
    let room = room_of(&app, &y.household, slotted_id).await;
    assert_eq!(room["pickup"]["id"], slotted_id);
    assert_eq!(room["pickup"]["number"], slotted["number"]);
    assert_eq!(room["order"], Value::Null);
    assert_eq!(
        ids(&room["participants"]),
        [y.household.user_id.clone(), y.shop.owner.user_id.clone()]
    );
    assert_eq!(
        room_of(&app, &y.shop.owner, slotted_id).await["id"],
        room["id"]
    );

    let other = market::shop(&app, "Other").await;
    fund(&app, &other.owner, 100_000).await;
    let offered_id = offered(&app, &y).await;
    assert_eq!(
        room_of(&app, &y.household, &offered_id).await,
        Value::Null,
        "no collector yet, no room"
    );
    accept(&app, &other.owner, &offered_id)
        .await
        .data("acceptPickup");
    let room = room_of(&app, &y.household, &offered_id).await;
    assert_eq!(room["pickup"]["id"], offered_id.as_str());
    assert_eq!(
        ids(&room["participants"]),
        [y.household.user_id.clone(), other.owner.user_id.clone()]
    );
    let room_id = room["id"].as_str().unwrap();
    assert_eq!(
        read(&app, Some(&y.shop.owner), room_id).await.code(),
        "NOT_FOUND",
        "a collector that was offered the pickup but lost it is not in the room"
    );
}

#[tokio::test]
async fn the_household_and_its_collector_chat_read_and_are_notified_like_in_an_order_room() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let (pickup_id, room) = pickup_room(&app, &y).await;

    send(&app, &y.household, &room, "The bundles are by the gate")
        .await
        .data("sendMessage");
    send(&app, &y.shop.owner, &room, "I will ring twice")
        .await
        .data("sendMessage");

    let page = read(&app, Some(&y.household), &room).await.data("messages");
    assert_eq!(page["totalCount"], 2);
    let unread = |who: &Session| {
        let (app, room) = (&app, &room);
        let token = who.access_token.clone();
        async move {
            app.gql(
                "{ chatRooms { totalCount edges { node { id unreadCount pickup { id } lastMessage { body } } } } }",
                json!({}),
                Some(&token),
            )
            .await
            .data("chatRooms")["edges"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["node"]["id"] == room.as_str())
                .map(|e| e["node"].clone())
                .expect("the room is listed for its parties")
        }
    };
    let listed = unread(&y.household).await;
    assert_eq!(listed["unreadCount"], 1);
    assert_eq!(listed["pickup"]["id"], pickup_id.as_str());
    assert_eq!(listed["lastMessage"]["body"], "I will ring twice");
    assert_eq!(unread(&y.shop.owner).await["unreadCount"], 0);

    let marked = app
        .gql(
            "mutation($r: ID!) { markRoomRead(roomId: $r) { unreadCount } }",
            json!({ "r": room }),
            Some(&y.household.access_token),
        )
        .await
        .data("markRoomRead");
    assert_eq!(marked["unreadCount"], 0);
    let receipts = app
        .gql(
            "query($r: ID!) { messages(roomId: $r) { edges { node { body readBy { id } } } } }",
            json!({ "r": room }),
            Some(&y.shop.owner.access_token),
        )
        .await
        .data("messages");
    assert_eq!(
        ids(&receipts["edges"][1]["node"]["readBy"]),
        [y.household.user_id.as_str()],
        "the collector sees the household read the reply"
    );

    let notices = app
        .gql(
            "{ notifications { edges { node { kind title } } } }",
            json!({}),
            Some(&y.shop.owner.access_token),
        )
        .await
        .data("notifications");
    let number = room_of(&app, &y.household, &pickup_id).await["pickup"]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        notices["edges"].as_array().unwrap().iter().any(|e| {
            e["node"]["kind"] == "CHAT_MESSAGE"
                && e["node"]["title"] == format!("New message about pickup {number}").as_str()
        }),
        "the collector is told about the household's message: {notices}"
    );
}

#[tokio::test]
async fn household_and_collector_hear_each_other_on_message_added_and_resume_with_after() {
    let _redis = REDIS_SESSIONS.read().await;
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let (_, room) = pickup_room(&app, &y).await;
    let server = serve(&app.state).await;
    let query = "subscription($r: ID!, $after: ID) { messageAdded(roomId: $r, after: $after) { id body sender { id } room { pickup { id } } } }";
    let mut household = Ws::connect(&server, &y.household.access_token).await;
    household.subscribe("m", query, json!({ "r": room })).await;
    let mut collector = Ws::connect(&server, &y.shop.owner.access_token).await;
    collector.subscribe("m", query, json!({ "r": room })).await;

    let first = send(&app, &y.household, &room, "Come after 4?")
        .await
        .data("sendMessage");
    let heard = collector.next("m").await["data"]["messageAdded"].clone();
    assert_eq!(heard["body"], "Come after 4?");
    assert_eq!(heard["sender"]["id"], y.household.user_id.as_str());
    assert!(heard["room"]["pickup"]["id"].is_string());
    assert_eq!(
        household.next("m").await["data"]["messageAdded"]["id"],
        first["id"]
    );

    send(&app, &y.shop.owner, &room, "Yes, at 4:30")
        .await
        .data("sendMessage");
    assert_eq!(
        household.next("m").await["data"]["messageAdded"]["body"],
        "Yes, at 4:30"
    );

    // A socket lost after the first message: resuming from it replays the reply, then live.
    let mut resumed = Ws::connect(&server, &y.household.access_token).await;
    resumed
        .subscribe(
            "e",
            "subscription($r: ID!, $after: ID) { roomEvents(roomId: $r, after: $after) { __typename ... on ChatMessageAdded { message { body } } } }",
            json!({ "r": room, "after": first["id"] }),
        )
        .await;
    assert_eq!(
        resumed.next("e").await["data"]["roomEvents"]["message"]["body"],
        "Yes, at 4:30"
    );
    send(&app, &y.shop.owner, &room, "On my way")
        .await
        .data("sendMessage");
    assert_eq!(
        resumed.next("e").await["data"]["roomEvents"]["message"]["body"],
        "On my way"
    );
}

#[tokio::test]
async fn only_the_household_its_collector_and_admins_may_read_write_or_subscribe_to_a_pickup_room()
{
    let _redis = REDIS_SESSIONS.read().await;
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let (_, room) = pickup_room(&app, &y).await;
    let other_vendor = market::shop(&app, "Other").await.owner;
    let other_customer = app.customer("Nosy").await;
    let server = serve(&app.state).await;
    let query = "subscription($r: ID!) { messageAdded(roomId: $r) { body } }";

    // Refused: anonymous, another collector, another customer.
    assert_eq!(read(&app, None, &room).await.code(), "UNAUTHENTICATED");
    let anonymous_send = app
        .gql(
            "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }",
            json!({ "i": { "roomId": room, "body": "hi" } }),
            None,
        )
        .await;
    assert_eq!(anonymous_send.code(), "UNAUTHENTICATED");
    let mut anonymous = Ws::open(&server, "graphql-transport-ws").await;
    anonymous
        .send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(anonymous.recv().await["type"], "connection_ack");
    anonymous
        .send(json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": { "r": room } } }))
        .await;
    let refused = anonymous.recv().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    for who in [&other_vendor, &other_customer] {
        assert_eq!(read(&app, Some(who), &room).await.code(), "NOT_FOUND");
        assert_eq!(send(&app, who, &room, "hello?").await.code(), "NOT_FOUND");
        let mut ws = Ws::connect(&server, &who.access_token).await;
        ws.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": { "r": room } } }))
            .await;
        let refused = ws.recv().await;
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["payload"][0]["extensions"]["code"], "NOT_FOUND");
        let listed = app
            .gql(
                "{ chatRooms { totalCount } }",
                json!({}),
                Some(&who.access_token),
            )
            .await
            .data("chatRooms");
        assert_eq!(listed["totalCount"], 0);
    }

    // Allowed: the household, its collector, an admin; each hears the others.
    let mut sockets = Vec::new();
    for who in [&y.household, &y.shop.owner, &y.admin] {
        let mut ws = Ws::connect(&server, &who.access_token).await;
        ws.subscribe("m", query, json!({ "r": room })).await;
        sockets.push(ws);
    }
    for (i, who) in [&y.household, &y.shop.owner, &y.admin]
        .into_iter()
        .enumerate()
    {
        let body = format!("message {i}");
        send(&app, who, &room, &body).await.data("sendMessage");
        assert_eq!(
            read(&app, Some(who), &room).await.data("messages")["totalCount"],
            i + 1
        );
        for ws in &mut sockets {
            assert_eq!(ws.next("m").await["data"]["messageAdded"]["body"], body);
        }
    }
    let all = app
        .gql(
            "{ chatRooms { totalCount } }",
            json!({}),
            Some(&y.admin.access_token),
        )
        .await
        .data("chatRooms");
    assert_eq!(all["totalCount"], 1);
}

#[tokio::test]
async fn a_page_of_pickups_with_their_chat_rooms_costs_the_same_for_two_or_six() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let slot = crate::pickups::add_slot(&app, &y.shop.owner, 10).await;
    for n in 0..6 {
        let id = book(
            &app,
            &y.household,
            &y.address,
            Some(&slot),
            &y.material,
            1.0,
            &format!("k{n}"),
        )
        .await
        .data("bookPickup")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let room = room_of(&app, &y.household, &id).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        send(&app, &y.household, &room, "hello")
            .await
            .data("sendMessage");
    }
    let query = format!(
        "query($n: Int) {{ pickups(first: $n) {{ edges {{ node {{ id {ROOM} unread: chatRoom {{ unreadCount }} }} }} }} }}"
    );
    let (two, cost_two) = app
        .gql_counting(&query, json!({ "n": 2 }), Some(&y.household.access_token))
        .await;
    let (six, cost_six) = app
        .gql_counting(&query, json!({ "n": 6 }), Some(&y.household.access_token))
        .await;
    assert_eq!(two.data("pickups")["edges"].as_array().unwrap().len(), 2);
    let six = six.data("pickups");
    assert_eq!(six["edges"].as_array().unwrap().len(), 6);
    assert!(
        six["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["chatRoom"]["lastMessage"]["body"] == "hello"
                && e["node"]["unread"]["unreadCount"] == 0)
    );
    assert_eq!(
        cost_two, cost_six,
        "the rooms load in batches, not one by one"
    );
}

#[tokio::test]
async fn the_migration_keeps_every_order_rooms_messages_and_reads_both_ways() {
    use migration::{Migrator, MigratorTrait as _};
    let app = TestApp::new().await;
    let c = crate::chat::chat_order(&app).await;
    send(&app, &c.buyer, &c.room_id, "Is it still in stock?")
        .await
        .data("sendMessage");
    send(&app, &c.shop.owner, &c.room_id, "Yes")
        .await
        .data("sendMessage");
    let y = yard(&app).await;
    pickup_room(&app, &y).await;
    let query = "query($r: ID!) { messages(roomId: $r) { totalCount edges { node { body readBy { id } } } } }";
    let vars = json!({ "r": c.room_id });
    let token = Some(c.buyer.access_token.as_str());
    let before = app.gql(query, vars.clone(), token).await.data("messages");

    let steps = crate::support::migrations_since("m20261202_000101_add_chat_rooms_pickup");
    Migrator::down(&app.state.db, Some(steps)).await.unwrap();
    let rooms: Vec<uuid::Uuid> = entity::chat_rooms::Entity::find()
        .select_only()
        .column(entity::chat_rooms::Column::Id)
        .into_tuple()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        rooms.len(),
        1,
        "only the order's room is left without pickup rooms"
    );
    Migrator::up(&app.state.db, None).await.unwrap();

    assert_eq!(
        app.gql(query, vars, token).await.data("messages"),
        before,
        "messages and read receipts survive"
    );
    assert_eq!(before["totalCount"], 2);
    let both = entity::chat_rooms::ActiveModel {
        id: sea_orm::ActiveValue::Set(uuid::Uuid::new_v4()),
        order_id: sea_orm::ActiveValue::Set(None),
        pickup_id: sea_orm::ActiveValue::Set(None),
        last_message_at: sea_orm::ActiveValue::Set(None),
        created_at: sea_orm::ActiveValue::Set(chrono::Utc::now()),
    };
    assert!(
        entity::chat_rooms::Entity::insert(both)
            .exec_without_returning(&app.state.db)
            .await
            .is_err(),
        "a room about nothing is refused"
    );
}

#[tokio::test]
async fn an_attachment_in_a_pickup_room_is_served_to_its_parties_and_admins_only() {
    let app = TestApp::new().await;
    let y = yard(&app).await;
    let (_, room) = pickup_room(&app, &y).await;
    let other_vendor = market::shop(&app, "Other").await.owner;

    let sent = app
        .gql_upload(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { attachmentUrl } }",
            json!({ "input": { "roomId": room, "body": "the bundle", "attachment": null } }),
            Some(&y.household.access_token),
            &[(
                "variables.input.attachment",
                "bundle.pdf",
                b"%PDF-1.7\n1 0 obj\n",
            )],
        )
        .await;
    let url = sent.data("sendMessage")["attachmentUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&format!("/media/chat/{room}/")), "{url}");

    let server = crate::support::server::start(&app).await;
    let fetch = |token: Option<String>| {
        let request = server.client.get(server.url(&url));
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(fetch(Some(y.household.access_token.clone())).await, 200);
    assert_eq!(fetch(Some(y.shop.owner.access_token.clone())).await, 200);
    assert_eq!(fetch(Some(y.admin.access_token.clone())).await, 200);
    assert_eq!(fetch(Some(other_vendor.access_token.clone())).await, 404);
    assert_eq!(fetch(None).await, 401);
}
