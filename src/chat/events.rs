//! What is published on `chat:{roomId}`: a message was added (the whole message, so delivering
//! it needs no query), a participant read up to an instant, or someone is typing.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::chat_messages;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    AppState,
    realtime::{live::publish_json, topic},
};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoomEvent {
    MessageAdded {
        message: MessageData,
    },
    MessagesRead {
        room_id: Uuid,
        user_id: Uuid,
        last_read_at: DateTime<Utc>,
    },
    Typing {
        room_id: Uuid,
        user_id: Uuid,
        at: DateTime<Utc>,
    },
}

/// A chat message as published.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageData {
    pub id: Uuid,
    pub room_id: Uuid,
    pub sender_id: Uuid,
    pub body: String,
    pub attachment_key: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&chat_messages::Model> for MessageData {
    fn from(m: &chat_messages::Model) -> Self {
        Self {
            id: m.id,
            room_id: m.room_id,
            sender_id: m.sender_id,
            body: m.body.clone(),
            attachment_key: m.attachment_key.clone(),
            created_at: m.created_at,
        }
    }
}

impl From<MessageData> for chat_messages::Model {
    fn from(m: MessageData) -> Self {
        Self {
            id: m.id,
            room_id: m.room_id,
            sender_id: m.sender_id,
            body: m.body,
            attachment_key: m.attachment_key,
            created_at: m.created_at,
        }
    }
}

/// The id of the message a raw `chat:{roomId}` payload adds (`None` for read receipts and
/// typing, which are not stored).
pub fn message_id(payload: &str) -> Option<Uuid> {
    #[derive(Deserialize)]
    struct Event {
        message: Option<Message>,
    }
    #[derive(Deserialize)]
    struct Message {
        id: Uuid,
    }
    serde_json::from_str::<Event>(payload)
        .ok()?
        .message
        .map(|m| m.id)
}

/// A stored message as the raw payload [`publish`] sends for it (a resumed subscription
/// replays these).
pub fn message_added_payload(message: &chat_messages::Model) -> Option<Arc<str>> {
    let event = RoomEvent::MessageAdded {
        message: message.into(),
    };
    serde_json::to_string(&event).ok().map(Arc::from)
}

/// Publishes `event` on its room's topic. Call after the commit; failures are logged.
pub async fn publish(state: &AppState, room_id: Uuid, event: &RoomEvent) {
    publish_json(state, &topic::chat(room_id), event).await;
}
