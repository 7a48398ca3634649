//! Batched lookups for chat fields: rooms by id, by order and by pickup, each room's newest
//! message, unread counts, each room's read positions.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{chat_messages, chat_reads, chat_rooms};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
use uuid::Uuid;

use crate::{
    error::AppError,
    loader::{AppLoader, ById},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChatRoomById(pub Uuid);

/// The room of an order, if one was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoomOfOrder(pub Uuid);

/// The room of a pickup, once it has a collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RoomOfPickup(pub Uuid);

/// The newest message of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LastMessageOfRoom(pub Uuid);

/// How many messages from others `user` has not read in `room` (a per-viewer value: the key
/// names the viewer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnreadCount {
    pub room: Uuid,
    pub user: Uuid,
}

/// Every participant's read position in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadsOfRoom(pub Uuid);

impl ById for ChatRoomById {
    type Entity = chat_rooms::Entity;
    const ID: chat_rooms::Column = chat_rooms::Column::Id;
    fn id(self) -> Uuid {
        self.0
    }
    fn of(row: &chat_rooms::Model) -> Self {
        Self(row.id)
    }
}

impl Loader<RoomOfOrder> for AppLoader {
    type Value = chat_rooms::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[RoomOfOrder],
    ) -> Result<HashMap<RoomOfOrder, Self::Value>, Self::Error> {
        let rows = chat_rooms::Entity::find()
            .filter(chat_rooms::Column::OrderId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((RoomOfOrder(r.order_id?), r)))
            .collect())
    }
}

impl Loader<RoomOfPickup> for AppLoader {
    type Value = chat_rooms::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[RoomOfPickup],
    ) -> Result<HashMap<RoomOfPickup, Self::Value>, Self::Error> {
        let rows = chat_rooms::Entity::find()
            .filter(chat_rooms::Column::PickupId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((RoomOfPickup(r.pickup_id?), r)))
            .collect())
    }
}

impl Loader<UnreadCount> for AppLoader {
    type Value = i64;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[UnreadCount],
    ) -> Result<HashMap<UnreadCount, Self::Value>, Self::Error> {
        let mut rooms: Vec<Uuid> = keys.iter().map(|k| k.room).collect();
        let mut users: Vec<Uuid> = keys.iter().map(|k| k.user).collect();
        rooms.sort_unstable();
        rooms.dedup();
        users.sort_unstable();
        users.dedup();
        let counts = super::unread::unread_counts(&self.db, &rooms, &users).await?;
        Ok(keys
            .iter()
            .map(|key| {
                (
                    *key,
                    counts.get(&(key.room, key.user)).copied().unwrap_or(0),
                )
            })
            .collect())
    }
}

impl Loader<LastMessageOfRoom> for AppLoader {
    type Value = chat_messages::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[LastMessageOfRoom],
    ) -> Result<HashMap<LastMessageOfRoom, Self::Value>, Self::Error> {
        // `chat_rooms.last_message_at` is the newest message's time: one indexed query.
        let rows = chat_messages::Entity::find()
            .filter(chat_messages::Column::RoomId.is_in(keys.iter().map(|k| k.0)))
            .filter(Expr::cust(
                "chat_messages.created_at = (SELECT r.last_message_at FROM chat_rooms r \
                 WHERE r.id = chat_messages.room_id)",
            ))
            .all(&self.db)
            .await?;
        let mut newest: HashMap<LastMessageOfRoom, Self::Value> = HashMap::new();
        for row in rows {
            let key = LastMessageOfRoom(row.room_id);
            // Two messages in the same microsecond: the larger id wins, as in the pages.
            if newest.get(&key).is_none_or(|m| m.id < row.id) {
                newest.insert(key, row);
            }
        }
        Ok(newest)
    }
}

impl Loader<ReadsOfRoom> for AppLoader {
    type Value = Vec<chat_reads::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ReadsOfRoom],
    ) -> Result<HashMap<ReadsOfRoom, Self::Value>, Self::Error> {
        let rows = chat_reads::Entity::find()
            .filter(chat_reads::Column::RoomId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        let mut by_room: HashMap<ReadsOfRoom, Self::Value> = HashMap::new();
        for row in rows {
            by_room
                .entry(ReadsOfRoom(row.room_id))
                .or_default()
                .push(row);
        }
        Ok(by_room)
    }
}
