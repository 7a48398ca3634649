//! Order chat through the schema: rooms, who may use them, messages, paging, read positions,
//! attachments and the notifications a message creates.

use chrono::{Duration, Utc};
use entity::users;
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    support::{
        Session, TestApp,
        market::{NEAR, Shop, address, placed, product, shop},
    },
    wallet::fund,
};

/// An order between a buyer and a shop, with its chat room open.
pub struct ChatOrder {
    pub shop: Shop,
    pub buyer: Session,
    pub admin: Session,
    pub order_id: String,
    pub room_id: String,
}

pub async fn chat_order(app: &TestApp) -> ChatOrder {
    let shop = shop(app, "Ravi").await;
    let product = product(app, &shop, "Copper wire", 5_000, 10).await;
    let buyer = app.customer("Asha").await;
    fund(app, &buyer, 100_000).await;
    let address = address(app, &buyer, Some(NEAR)).await;
    let order_id = placed(app, &buyer, product, 1, &address).await;
    let admin = app.admin().await;
    let room_id = create_room(app, &buyer, &order_id)
        .await
        .data("createChatRoom")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ChatOrder {
        shop,
        buyer,
        admin,
        order_id,
        room_id,
    }
}

pub async fn create_room(app: &TestApp, who: &Session, order_id: &str) -> crate::support::Gql {
    app.gql(
        "mutation($o: ID!) { createChatRoom(orderId: $o) { id order { id } participants { id } unreadCount lastMessage { body } } }",
        json!({ "o": order_id }),
        Some(&who.access_token),
    )
    .await
}

pub async fn send(app: &TestApp, who: &Session, room_id: &str, body: &str) -> crate::support::Gql {
    app.gql(
        "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id body sender { id } attachmentUrl readBy { id } createdAt room { id } } }",
        json!({ "input": { "roomId": room_id, "body": body } }),
        Some(&who.access_token),
    )
    .await
}

async fn messages(app: &TestApp, who: &Session, room_id: &str, args: &str) -> Value {
    app.gql(
        &format!("query($r: ID!) {{ messages(roomId: $r{args}) {{ totalCount pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor }} edges {{ node {{ body readBy {{ id }} }} }} }} }}"),
        json!({ "r": room_id }),
        Some(&who.access_token),
    )
    .await
    .data("messages")
}

fn bodies(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["body"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn one_room_per_order_and_creating_it_again_returns_the_same_room() {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;

    let again = create_room(&app, &c.shop.owner, &c.order_id)
        .await
        .data("createChatRoom");

    assert_eq!(again["id"], c.room_id.as_str());
    assert_eq!(again["order"]["id"], c.order_id.as_str());
    let participants: Vec<&str> = again["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        participants,
        [c.buyer.user_id.as_str(), c.shop.owner.user_id.as_str()]
    );
    let order = app
        .gql(
            "query($id: ID!) { order(id: $id) { chatRoom { id } } }",
            json!({ "id": c.order_id }),
            Some(&c.buyer.access_token),
        )
        .await
        .data("order");
    assert_eq!(order["chatRoom"]["id"], c.room_id.as_str());
}

#[tokio::test]
async fn strangers_and_other_vendors_cannot_open_read_or_write_a_room() {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    let stranger = app.customer("Stranger").await;
    let other_vendor = shop(&app, "Other").await.owner;

    for who in [&stranger, &other_vendor] {
        assert_eq!(
            create_room(&app, who, &c.order_id).await.code(),
            "NOT_FOUND"
        );
        assert_eq!(
            send(&app, who, &c.room_id, "hello?").await.code(),
            "NOT_FOUND"
        );
        let read = app
            .gql(
                "query($r: ID!) { messages(roomId: $r) { totalCount } }",
                json!({ "r": c.room_id }),
                Some(&who.access_token),
            )
            .await;
        assert_eq!(read.code(), "NOT_FOUND");
        let rooms = app
            .gql(
                "{ chatRooms { totalCount } }",
                json!({}),
                Some(&who.access_token),
            )
            .await
            .data("chatRooms");
        assert_eq!(rooms["totalCount"], 0);
    }
    let anonymous = send(&app, &stranger, &c.room_id, "x").await;
    assert_eq!(anonymous.code(), "NOT_FOUND");
}

#[tokio::test]
async fn admins_may_read_and_write_every_room() {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;

    send(&app, &c.admin, &c.room_id, "Admin here: all good?")
        .await
        .data("sendMessage");

    let page = messages(&app, &c.buyer, &c.room_id, "").await;
    assert_eq!(bodies(&page), ["Admin here: all good?"]);
    let rooms = app
        .gql(
            "{ chatRooms { totalCount } }",
            json!({}),
            Some(&c.admin.access_token),
        )
        .await
        .data("chatRooms");
    assert_eq!(rooms["totalCount"], 1);
}

#[tokio::test]
async fn message_bodies_must_be_one_to_four_thousand_characters() {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;

    let empty = send(&app, &c.buyer, &c.room_id, "   ").await;
    assert_eq!(empty.code(), "BAD_USER_INPUT");
    assert_eq!(empty.field().as_deref(), Some("body"));
    let long = send(&app, &c.buyer, &c.room_id, &"क".repeat(4001)).await;
    assert_eq!(long.code(), "BAD_USER_INPUT");
    assert_eq!(long.field().as_deref(), Some("body"));
    let longest = send(&app, &c.buyer, &c.room_id, &"क".repeat(4000)).await;
    assert_eq!(
        longest.data("sendMessage")["body"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        4000
    );
}

#[tokio::test]
async fn messages_page_backwards_from_the_newest() {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    for i in 1..=5 {
        send(&app, &c.buyer, &c.room_id, &format!("m{i}"))
            .await
            .data("sendMessage");
    }

    let newest = messages(&app, &c.buyer, &c.room_id, ", last: 2").await;
    assert_eq!(bodies(&newest), ["m4", "m5"]);
    assert_eq!(newest["totalCount"], 5);
    assert_eq!(newest["pageInfo"]["hasPreviousPage"], true);
    let before = newest["pageInfo"]["startCursor"].as_str().unwrap();
    let older = messages(
        &app,
        &c.buyer,
        &c.room_id,
        &format!(", last: 2, before: \"{before}\""),
    )
    .await;
    assert_eq!(bodies(&older), ["m2", "m3"]);
    let before = older["pageInfo"]["startCursor"].as_str().unwrap();
    let oldest = messages(
        &app,
        &c.buyer,
        &c.room_id,
        &format!(", last: 2, before: \"{before}\""),
    )
    .await;
    assert_eq!(bodies(&oldest), ["m1"]);
    assert_eq!(oldest["pageInfo"]["hasPreviousPage"], false);
    let after = older["pageInfo"]["endCursor"].as_str().unwrap();
    let forward = messages(
        &app,
        &c.buyer,
        &c.room_id,
        &format!(", first: 10, after: \"{after}\""),
    )
    .await;
    assert_eq!(bodies(&forward), ["m4", "m5"]);
    assert_eq!(forward["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn reading_a_room_clears_its_unread_count_and_shows_a_read_receipt() {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    send(&app, &c.buyer, &c.room_id, "Is it still available?")
        .await
        .data("sendMessage");
    send(&app, &c.buyer, &c.room_id, "I can pick up today")
        .await
        .data("sendMessage");
    let before = room_node(&app, &c.shop.owner).await;
    assert_eq!(before["unreadCount"], 2);
    assert_eq!(before["lastMessage"]["body"], "I can pick up today");
    assert_eq!(before["id"], c.room_id.as_str());
    assert_eq!(room_node(&app, &c.buyer).await["unreadCount"], 0);

    let read = app
        .gql(
            "mutation($r: ID!) { markRoomRead(roomId: $r) { unreadCount } }",
            json!({ "r": c.room_id }),
            Some(&c.shop.owner.access_token),
        )
        .await
        .data("markRoomRead");

    assert_eq!(read["unreadCount"], 0);
    let page = messages(&app, &c.buyer, &c.room_id, "").await;
    for edge in page["edges"].as_array().unwrap() {
        assert_eq!(
            edge["node"]["readBy"],
            json!([{ "id": c.shop.owner.user_id }])
        );
    }
}

/// The first room of `who`'s `chatRooms`.
async fn room_node(app: &TestApp, who: &Session) -> Value {
    app.gql(
        "{ chatRooms { edges { node { id unreadCount lastMessage { body } } } } }",
        json!({}),
        Some(&who.access_token),
    )
    .await
    .data("chatRooms")["edges"][0]["node"]
        .clone()
}

/// `sendMessage` with a file, as the multipart request spec maps it.
async fn send_file(
    app: &TestApp,
    who: &Session,
    room_id: &str,
    name: &str,
    bytes: &[u8],
) -> crate::support::Gql {
    app.gql_upload(
        "mutation($input: SendMessageInput!) { sendMessage(input: $input) { body attachmentUrl } }",
        json!({ "input": { "roomId": room_id, "body": "the receipt", "attachment": null } }),
        Some(&who.access_token),
        &[("variables.input.attachment", name, bytes)],
    )
    .await
}

#[tokio::test]
async fn a_pdf_attachment_is_stored_privately_under_the_room_and_other_files_are_refused() {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;

    let sent = send_file(
        &app,
        &c.buyer,
        &c.room_id,
        "receipt.pdf",
        b"%PDF-1.7\n1 0 obj\n",
    )
    .await;
    let url = sent.data("sendMessage")["attachmentUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&format!("/media/chat/{}/", c.room_id)) && url.ends_with(".pdf"),
        "{url}"
    );
    let key = url.trim_start_matches("/media/");
    assert!(app.state.storage.get(key).await.unwrap().is_some());
    let viewer = |s: &Session| kabaadwala::auth::Viewer {
        user_id: s.user_id.parse().unwrap(),
        role: entity::users::Role::Customer,
    };
    let stranger = app.customer("Stranger").await;
    assert!(
        kabaadwala::chat::service::may_read_attachment(&app.state.db, &viewer(&c.shop.owner), key)
            .await
    );
    assert!(
        !kabaadwala::chat::service::may_read_attachment(&app.state.db, &viewer(&stranger), key)
            .await
    );
    // Over HTTP: participants fetch it, anyone else does not learn it exists.
    let server = crate::support::server::start(&app).await;
    let fetch = |token: Option<String>| {
        let request = server.client.get(server.url(&url));
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(fetch(Some(c.buyer.access_token.clone())).await, 200);
    assert_eq!(fetch(Some(c.shop.owner.access_token.clone())).await, 200);
    assert_eq!(fetch(Some(stranger.access_token.clone())).await, 404);
    assert_eq!(fetch(None).await, 401);

    let refused = send_file(
        &app,
        &c.buyer,
        &c.room_id,
        "run.exe",
        b"MZ\x90\0not a document",
    )
    .await;
    assert_eq!(refused.code(), "BAD_USER_INPUT");
    assert_eq!(refused.field().as_deref(), Some("attachment"));
}

#[tokio::test]
async fn a_message_notifies_the_other_side_and_emails_them_only_when_they_were_not_online() {
    let app = TestApp::new().await;
    let c = chat_order(&app).await;
    let vendor_id: Uuid = c.shop.owner.user_id.parse().unwrap();
    // The vendor was last seen an hour ago; the buyer just registered (online).
    users::ActiveModel {
        id: Set(vendor_id),
        last_seen_at: Set(Some(Utc::now() - Duration::hours(1))),
        ..Default::default()
    }
    .update(&app.state.db)
    .await
    .unwrap();
    app.drain_jobs().await;
    let before = app.sent_mail().len();

    send(&app, &c.buyer, &c.room_id, "Please bring a receipt")
        .await
        .data("sendMessage");
    send(&app, &c.shop.owner, &c.room_id, "Will do")
        .await
        .data("sendMessage");
    app.drain_jobs().await;

    let kinds = |who: &Session| {
        let app = &app;
        let token = who.access_token.clone();
        async move {
            app.gql(
                "{ notifications { edges { node { kind body } } } }",
                json!({}),
                Some(&token),
            )
            .await
            .data("notifications")["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["node"]["kind"].as_str().unwrap().to_owned(),
                        e["node"]["body"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert!(
        kinds(&c.shop.owner)
            .await
            .contains(&("CHAT_MESSAGE".into(), "Please bring a receipt".into()))
    );
    assert!(
        kinds(&c.buyer)
            .await
            .contains(&("CHAT_MESSAGE".into(), "Will do".into()))
    );
    assert!(
        app.mail_to(&c.shop.owner.email, "Please bring a receipt")
            .is_some()
    );
    assert!(app.mail_to(&c.buyer.email, "Will do").is_none());
    assert_eq!(app.sent_mail().len(), before + 1);
}
