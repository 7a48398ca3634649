//! `chatRooms`, `createChatRoom`, `messages`, `sendMessage`, `markRoomRead`, `sendTyping`, the
//! `messageAdded` and `roomEvents` subscriptions, and the `ChatRoom`/`ChatMessage` types.

use async_graphql::{
    Context, ID, InputObject, Object, Upload,
    connection::{Connection, Edge},
};
use chrono::{DateTime, Utc};
use entity::{chat_messages, chat_rooms};
use uuid::Uuid;

use super::{
    events::{self, RoomEvent},
    loaders::{
        ChatRoomById, LastMessageOfRoom, ReadsOfRoom, RoomOfOrder, RoomOfPickup, UnreadCount,
    },
    service::{self, MessagesPage},
};
use crate::{
    accounts::graphql::User,
    error::{AppError, AppResult},
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Cursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page},
        upload::read_upload,
    },
    orders::{
        graphql::Order,
        loaders::{OrderById, UserById},
    },
    pickups::{graphql::Pickup, loaders::PickupById},
    storage::{self, sniff::DOCUMENTS},
    vendors::loaders::VendorById,
};

/// The conversation about one order between its buyer and its vendor, or about one pickup
/// between its household and its collector (admins may join).
pub struct ChatRoom(pub chat_rooms::Model);

#[Object]
impl ChatRoom {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The order the room is about (null for a pickup's room).
    async fn order(&self, ctx: &Context<'_>) -> AppResult<Option<Order>> {
        let Some(order_id) = self.0.order_id else {
            return Ok(None);
        };
        Ok(ctx.loader().load_one(OrderById(order_id)).await?.map(Order))
    }

    /// The pickup the room is about (null for an order's room).
    async fn pickup(&self, ctx: &Context<'_>) -> AppResult<Option<Pickup>> {
        let Some(pickup_id) = self.0.pickup_id else {
            return Ok(None);
        };
        Ok(ctx
            .loader()
            .load_one(PickupById(pickup_id))
            .await?
            .map(Pickup))
    }

    /// The order's buyer or the pickup's household, and the vendor's user. (Admins may read
    /// and write every room without being listed.)
    async fn participants(&self, ctx: &Context<'_>) -> AppResult<Vec<User>> {
        let loader = ctx.loader();
        let (party, vendor_id) = match (self.0.order_id, self.0.pickup_id) {
            (Some(order_id), _) => match loader.load_one(OrderById(order_id)).await? {
                Some(order) => (order.buyer_id, Some(order.vendor_id)),
                None => return Ok(Vec::new()),
            },
            (None, Some(pickup_id)) => match loader.load_one(PickupById(pickup_id)).await? {
                Some(pickup) => (pickup.household_id, pickup.vendor_id),
                None => return Ok(Vec::new()),
            },
            (None, None) => return Ok(Vec::new()),
        };
        let mut ids = vec![party];
        if let Some(vendor_id) = vendor_id
            && let Some(vendor) = loader.load_one(VendorById(vendor_id)).await?
        {
            ids.push(vendor.user_id);
        }
        let users = loader.load_many(ids.iter().copied().map(UserById)).await?;
        Ok(ids
            .iter()
            .filter_map(|id| users.get(&UserById(*id)).cloned().map(User))
            .collect())
    }

    /// The newest message, if any.
    async fn last_message(&self, ctx: &Context<'_>) -> AppResult<Option<ChatMessage>> {
        Ok(ctx
            .loader()
            .load_one(LastMessageOfRoom(self.0.id))
            .await?
            .map(ChatMessage))
    }

    /// Messages from others the signed-in user has not read yet.
    async fn unread_count(&self, ctx: &Context<'_>) -> AppResult<i64> {
        let viewer = ctx.viewer()?;
        let key = UnreadCount {
            room: self.0.id,
            user: viewer.user_id,
        };
        Ok(ctx.loader().load_one(key).await?.unwrap_or(0))
    }

    /// When the newest message was sent.
    async fn last_message_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_message_at
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One message in a chat room.
pub struct ChatMessage(pub chat_messages::Model);

#[Object]
impl ChatMessage {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn room(&self, ctx: &Context<'_>) -> AppResult<Option<ChatRoom>> {
        Ok(ctx
            .loader()
            .load_one(ChatRoomById(self.0.room_id))
            .await?
            .map(ChatRoom))
    }

    async fn sender(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(ctx
            .loader()
            .load_one(UserById(self.0.sender_id))
            .await?
            .map(User))
    }

    /// The text (may be empty when a file is attached).
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// Path of the attached image or PDF under this server (`/media/chat/…`), readable only by
    /// the room's participants and admins.
    async fn attachment_url(&self) -> Option<String> {
        self.0.attachment_key.as_deref().map(storage::url)
    }

    /// Participants other than the sender who have read this message.
    async fn read_by(&self, ctx: &Context<'_>) -> AppResult<Vec<User>> {
        let loader = ctx.loader();
        let reads = loader
            .load_one(ReadsOfRoom(self.0.room_id))
            .await?
            .unwrap_or_default();
        let readers: Vec<Uuid> = reads
            .iter()
            .filter(|r| r.user_id != self.0.sender_id && r.last_read_at >= self.0.created_at)
            .map(|r| r.user_id)
            .collect();
        let users = loader
            .load_many(readers.iter().copied().map(UserById))
            .await?;
        Ok(readers
            .iter()
            .filter_map(|id| users.get(&UserById(*id)).cloned().map(User))
            .collect())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A message to send.
#[derive(InputObject)]
pub struct SendMessageInput {
    pub room_id: ID,
    /// 1 to 4,000 characters (may be left out when a file is attached).
    pub body: Option<String>,
    /// An image (JPEG, PNG, WebP) or a PDF, up to `MAX_UPLOAD_BYTES`, checked by its content.
    pub attachment: Option<Upload>,
}

/// The room of an order, if one was opened; for `Order.chatRoom`. The caller already sees the
/// order.
pub async fn room_of_order(ctx: &Context<'_>, order_id: Uuid) -> AppResult<Option<ChatRoom>> {
    Ok(ctx
        .loader()
        .load_one(RoomOfOrder(order_id))
        .await?
        .map(ChatRoom))
}

/// The room of a pickup, once it has a collector; for `Pickup.chatRoom`. The caller already
/// sees the pickup.
pub async fn room_of_pickup(ctx: &Context<'_>, pickup_id: Uuid) -> AppResult<Option<ChatRoom>> {
    Ok(ctx
        .loader()
        .load_one(RoomOfPickup(pickup_id))
        .await?
        .map(ChatRoom))
}

#[derive(Default)]
pub struct ChatQuery;

#[Object]
impl ChatQuery {
    /// The rooms the signed-in user takes part in (admins: all), newest first.
    async fn chat_rooms(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<Cursor, ChatRoom, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let page = Page::<Cursor>::new(first, after)?;
        let (rows, total) = service::rooms(&ctx.state().db, &viewer, &page).await?;
        Ok(relay::connection(
            &page,
            rows,
            total,
            |r| Cursor {
                at: r.created_at,
                id: r.id,
            },
            ChatRoom,
        ))
    }

    /// A room's messages, oldest first within a page. By default (or with `last`/`before`) the
    /// page is the newest messages, and `before: pageInfo.startCursor` goes back in time; with
    /// `first`/`after` it pages forward from a cursor.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        room_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<Cursor, ChatMessage, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let room_id = parse_id("roomId", &room_id)?;
        let db = &ctx.state().db;
        service::access(db, &viewer, room_id).await?;
        let size = |n: Option<i32>, field: &str| -> AppResult<u64> {
            match n {
                None => Ok(DEFAULT_PAGE_SIZE),
                Some(n) if n < 1 => Err(AppError::bad_input(field, "must be at least 1")),
                Some(n) => Ok(u64::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE)),
            }
        };
        let decode = |c: Option<String>, field: &str| -> AppResult<Option<Cursor>> {
            c.map(|c| {
                <Cursor as async_graphql::connection::CursorType>::decode_cursor(&c)
                    .map_err(|_| AppError::bad_input(field, "invalid cursor"))
            })
            .transpose()
        };
        let after = decode(after, "after")?;
        let before = decode(before, "before")?;
        let forward = first.is_some() || after.is_some();
        if forward && (last.is_some() || before.is_some()) {
            return Err(AppError::bad_input(
                "last",
                "page either forward (first/after) or backward (last/before)",
            ));
        }
        let page = match after {
            Some(after) => MessagesPage::Forward {
                after,
                limit: size(first, "first")?,
            },
            // `first` alone: the newest messages, like `last`.
            None if first.is_some() => MessagesPage::Backward {
                before: None,
                limit: size(first, "first")?,
            },
            None => MessagesPage::Backward {
                before,
                limit: size(last, "last")?,
            },
        };
        let (rows, more, total) = service::messages(db, room_id, page).await?;
        let (has_previous, has_next) = match page {
            MessagesPage::Backward { before, .. } => (more, before.is_some()),
            MessagesPage::Forward { .. } => (true, more),
        };
        let mut connection = Connection::with_additional_fields(
            has_previous,
            has_next,
            ConnectionFields { total_count: total },
        );
        connection.edges.extend(rows.into_iter().map(|m| {
            Edge::new(
                Cursor {
                    at: m.created_at,
                    id: m.id,
                },
                ChatMessage(m),
            )
        }));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct ChatMutation;

#[Object]
impl ChatMutation {
    /// The chat room of an order the caller may see (NOT_FOUND otherwise), opened if there is
    /// none yet: there is one room per order.
    async fn create_chat_room(&self, ctx: &Context<'_>, order_id: ID) -> AppResult<ChatRoom> {
        let viewer = ctx.viewer()?;
        let order_id = parse_id("orderId", &order_id)?;
        Ok(ChatRoom(
            service::open_room(&ctx.state().db, &viewer, order_id).await?,
        ))
    }

    /// Sends a message (and notifies the other side). Participants and admins only.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        input: SendMessageInput,
    ) -> AppResult<ChatMessage> {
        let viewer = ctx.viewer()?;
        let room_id = parse_id("roomId", &input.room_id)?;
        let state = ctx.state();
        let access = service::access(&state.db, &viewer, room_id).await?;
        let body = service::check_body(input.body.as_deref(), input.attachment.is_some())?;
        let attachment = input
            .attachment
            .as_ref()
            .map(|upload| read_upload(ctx, "attachment", upload, DOCUMENTS))
            .transpose()?
            .map(|(bytes, kind)| service::Attachment { bytes, kind });
        let stored = service::send_message(
            &state.db,
            &state.storage,
            &access,
            viewer.user_id,
            body,
            attachment,
        )
        .await?;
        if stored.emails_queued {
            state.wake_worker();
        }
        let message = stored.message;
        events::publish(
            state,
            room_id,
            &RoomEvent::MessageAdded {
                message: (&message).into(),
            },
        )
        .await;
        Ok(ChatMessage(message))
    }

    /// Marks every message in the room read by the caller (a read receipt for the others).
    async fn mark_room_read(&self, ctx: &Context<'_>, room_id: ID) -> AppResult<ChatRoom> {
        let viewer = ctx.viewer()?;
        let room_id = parse_id("roomId", &room_id)?;
        let state = ctx.state();
        let access = service::access(&state.db, &viewer, room_id).await?;
        let at = service::mark_read(&state.db, room_id, viewer.user_id).await?;
        events::publish(
            state,
            room_id,
            &RoomEvent::MessagesRead {
                room_id,
                user_id: viewer.user_id,
                last_read_at: at,
            },
        )
        .await;
        Ok(ChatRoom(access.room))
    }

    /// Tells the room the caller is typing (nothing is stored).
    async fn send_typing(&self, ctx: &Context<'_>, room_id: ID) -> AppResult<bool> {
        let viewer = ctx.viewer()?;
        let room_id = parse_id("roomId", &room_id)?;
        let state = ctx.state();
        service::access(&state.db, &viewer, room_id).await?;
        events::publish(
            state,
            room_id,
            &RoomEvent::Typing {
                room_id,
                user_id: viewer.user_id,
                at: Utc::now(),
            },
        )
        .await;
        Ok(true)
    }
}
