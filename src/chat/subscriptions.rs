//! The chat subscriptions: `messageAdded` and `roomEvents`, resumable with `after` (see
//! `realtime::resume`).

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Subscription, Union};
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use uuid::Uuid;

use super::{
    events::{self, RoomEvent},
    graphql::ChatMessage,
    service,
};
use crate::{
    accounts::graphql::User,
    error::{AppError, AppResult},
    graphql::{context::ContextExt as _, ids::parse_id},
    orders::loaders::UserById,
    realtime::{Resume, is_replay, resumable, topic},
};

/// A new message in a room.
pub struct ChatMessageAdded(ChatMessage);

#[Object]
impl ChatMessageAdded {
    async fn message(&self) -> &ChatMessage {
        &self.0
    }
}

/// A participant read the room up to `lastReadAt` (a read receipt).
pub struct ChatMessagesRead {
    room_id: Uuid,
    user_id: Uuid,
    last_read_at: DateTime<Utc>,
}

#[Object]
impl ChatMessagesRead {
    async fn room_id(&self) -> ID {
        ID(self.room_id.to_string())
    }

    /// Who read.
    async fn reader(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(ctx
            .loader()
            .load_one(UserById(self.user_id))
            .await?
            .map(User))
    }

    /// Every message sent up to this instant is read by `reader`.
    async fn last_read_at(&self) -> DateTime<Utc> {
        self.last_read_at
    }
}

/// A participant is typing (sent by `sendTyping`; show it for a few seconds).
pub struct ChatTyping {
    room_id: Uuid,
    user_id: Uuid,
    at: DateTime<Utc>,
}

#[Object]
impl ChatTyping {
    async fn room_id(&self) -> ID {
        ID(self.room_id.to_string())
    }

    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(ctx
            .loader()
            .load_one(UserById(self.user_id))
            .await?
            .map(User))
    }

    async fn at(&self) -> DateTime<Utc> {
        self.at
    }
}

/// Something that happened in a chat room.
#[derive(Union)]
pub enum ChatRoomEvent {
    MessageAdded(ChatMessageAdded),
    MessagesRead(ChatMessagesRead),
    Typing(ChatTyping),
}

impl From<RoomEvent> for ChatRoomEvent {
    fn from(event: RoomEvent) -> Self {
        match event {
            RoomEvent::MessageAdded { message } => {
                Self::MessageAdded(ChatMessageAdded(ChatMessage(message.into())))
            }
            RoomEvent::MessagesRead {
                room_id,
                user_id,
                last_read_at,
            } => Self::MessagesRead(ChatMessagesRead {
                room_id,
                user_id,
                last_read_at,
            }),
            RoomEvent::Typing {
                room_id,
                user_id,
                at,
            } => Self::Typing(ChatTyping {
                room_id,
                user_id,
                at,
            }),
        }
    }
}

#[derive(Default)]
pub struct ChatSubscription;

/// The room's topic, after checking that the caller takes part in it, and, with `after`, how
/// to load the messages the caller missed. A fan-out group replaying an event does not ask who
/// the caller is: each member was checked when it subscribed, and not reading the viewer lets
/// the group resolve the event once for all users.
async fn room_subscription(
    ctx: &Context<'_>,
    room_id: &ID,
    after: Option<&ID>,
) -> AppResult<(String, Option<Resume>)> {
    let room_id = parse_id("roomId", room_id)?;
    let after = after.map(|id| parse_id("after", id)).transpose()?;
    if is_replay(ctx) {
        return Ok((topic::chat(room_id), None));
    }
    let viewer = ctx.viewer()?;
    service::access(&ctx.state().db, &viewer, room_id).await?;
    let resume = after.map(|after| {
        let db = ctx.state().db.clone();
        let max = ctx.state().config.ws_resume_max_events;
        Resume {
            load: Box::new(move || {
                Box::pin(async move {
                    let messages = service::messages_since(&db, room_id, after, max).await?;
                    Ok(messages
                        .iter()
                        .filter_map(|m| Some((m.id, events::message_added_payload(m)?)))
                        .collect())
                })
            }),
            event_id: events::message_id,
        }
    });
    Ok((topic::chat(room_id), resume))
}

#[Subscription]
impl ChatSubscription {
    /// New messages in a room the caller takes part in (NOT_FOUND otherwise). With `after`
    /// (the id of the last message the client saw), every later stored message comes first, in
    /// order, then the live ones: a client that lost its socket resubscribes and misses nothing.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        after: Option<ID>,
    ) -> Result<BoxStream<'static, ChatMessage>, AppError> {
        let (topic, resume) = room_subscription(ctx, &room_id, after.as_ref()).await?;
        Ok(resumable(
            ctx,
            topic,
            resume,
            |payload: Arc<str>| async move {
                match serde_json::from_str::<RoomEvent>(&payload).ok()? {
                    RoomEvent::MessageAdded { message } => Some(ChatMessage(message.into())),
                    _ => None,
                }
            },
        ))
    }

    /// Everything that happens in a room the caller takes part in: messages, read receipts,
    /// typing. With `after` (the id of the last message the client saw), the stored messages
    /// after it come first (read receipts and typing are not stored, so not replayed).
    async fn room_events(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        after: Option<ID>,
    ) -> Result<BoxStream<'static, ChatRoomEvent>, AppError> {
        let (topic, resume) = room_subscription(ctx, &room_id, after.as_ref()).await?;
        Ok(resumable(
            ctx,
            topic,
            resume,
            |payload: Arc<str>| async move {
                serde_json::from_str::<RoomEvent>(&payload)
                    .ok()
                    .map(ChatRoomEvent::from)
            },
        ))
    }
}
