//! Unread counts: how many messages from others a user has not read in a room, for many
//! rooms or many users at once (the `ChatRoom.unreadCount` loader).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{chat_messages, chat_reads};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, FromQueryResult,
    QueryFilter as _, QuerySelect as _,
    sea_query::{Alias, Expr, ExprTrait as _, Func, JoinType, Query},
};
use uuid::Uuid;

use crate::error::AppResult;

/// Messages from others that each user has not read, for every pair of `rooms` × `users`
/// (pairs with nothing unread may be absent). One user (the `chatRooms` list): one grouped
/// count. Several users (a fan-out group resolving `unreadCount` for each of its viewers): the
/// read positions and the rooms' messages newer than the oldest of them, counted here, so the
/// cost grows with the messages plus the users, not with their product.
pub async fn unread_counts(
    conn: &impl ConnectionTrait,
    rooms: &[Uuid],
    users: &[Uuid],
) -> AppResult<HashMap<(Uuid, Uuid), i64>> {
    match users {
        [] => Ok(HashMap::new()),
        [user] => unread_counts_of_one(conn, rooms, *user).await,
        _ => unread_counts_of_many(conn, rooms, users).await,
    }
}

async fn unread_counts_of_one(
    conn: &impl ConnectionTrait,
    rooms: &[Uuid],
    user: Uuid,
) -> AppResult<HashMap<(Uuid, Uuid), i64>> {
    #[derive(FromQueryResult)]
    struct Unread {
        room_id: Uuid,
        unread: i64,
    }
    let (m, r) = (Alias::new("m"), Alias::new("r"));
    let col = |table: &Alias, column: &str| Expr::col((table.clone(), Alias::new(column)));
    let query = Query::select()
        .expr_as(col(&m, "room_id"), Alias::new("room_id"))
        .expr_as(
            Func::count(col(&m, "id")).cast_as(Alias::new("BIGINT")),
            Alias::new("unread"),
        )
        .from_as(chat_messages::Entity, m.clone())
        .join_as(
            JoinType::LeftJoin,
            chat_reads::Entity,
            r.clone(),
            Condition::all()
                .add(col(&r, "room_id").equals((m.clone(), Alias::new("room_id"))))
                .add(col(&r, "user_id").eq(user)),
        )
        .and_where(col(&m, "room_id").is_in(rooms.iter().copied()))
        .and_where(col(&m, "sender_id").ne(user))
        .cond_where(
            Condition::any()
                .add(col(&r, "last_read_at").is_null())
                .add(col(&m, "created_at").gt(col(&r, "last_read_at"))),
        )
        .group_by_col((m, Alias::new("room_id")))
        .to_owned();
    let rows = Unread::find_by_statement(conn.get_database_backend().build(&query))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| ((row.room_id, user), row.unread))
        .collect())
}

async fn unread_counts_of_many(
    conn: &impl ConnectionTrait,
    rooms: &[Uuid],
    users: &[Uuid],
) -> AppResult<HashMap<(Uuid, Uuid), i64>> {
    let reads: HashMap<(Uuid, Uuid), DateTime<Utc>> = chat_reads::Entity::find()
        .filter(chat_reads::Column::RoomId.is_in(rooms.iter().copied()))
        .filter(chat_reads::Column::UserId.is_in(users.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|read| ((read.room_id, read.user_id), read.last_read_at))
        .collect();
    // Per room, only messages newer than the oldest read position can be unread (all of them
    // when one of the users never read the room).
    let mut newer = Condition::any();
    for room in rooms {
        let oldest = users
            .iter()
            .map(|user| reads.get(&(*room, *user)).copied())
            .min()
            .flatten();
        let in_room = chat_messages::Column::RoomId.eq(*room);
        newer = newer.add(match oldest {
            Some(at) => Condition::all()
                .add(in_room)
                .add(chat_messages::Column::CreatedAt.gt(at)),
            None => Condition::all().add(in_room),
        });
    }
    let messages: Vec<(Uuid, Uuid, DateTime<Utc>)> = chat_messages::Entity::find()
        .select_only()
        .columns([
            chat_messages::Column::RoomId,
            chat_messages::Column::SenderId,
            chat_messages::Column::CreatedAt,
        ])
        .filter(newer)
        .into_tuple()
        .all(conn)
        .await?;
    // Per room, every message's time, and per sender their own, each sorted: a user's count
    // is the room's messages after their read position minus their own after it.
    let mut times: HashMap<Uuid, Vec<DateTime<Utc>>> = HashMap::new();
    let mut own: HashMap<(Uuid, Uuid), Vec<DateTime<Utc>>> = HashMap::new();
    for (room, sender, at) in messages {
        times.entry(room).or_default().push(at);
        own.entry((room, sender)).or_default().push(at);
    }
    times.values_mut().for_each(|v| v.sort_unstable());
    own.values_mut().for_each(|v| v.sort_unstable());
    let after = |sorted: Option<&Vec<DateTime<Utc>>>, read: Option<DateTime<Utc>>| {
        sorted.map_or(0, |v| {
            let from = read.map_or(0, |at| v.partition_point(|t| *t <= at));
            i64::try_from(v.len() - from).unwrap_or(i64::MAX)
        })
    };
    let mut counts = HashMap::new();
    for room in rooms {
        for user in users {
            let read = reads.get(&(*room, *user)).copied();
            let unread = after(times.get(room), read) - after(own.get(&(*room, *user)), read);
            counts.insert((*room, *user), unread);
        }
    }
    Ok(counts)
}
