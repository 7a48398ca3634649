//! Chat rules: sending (the attachment stored first and removed again if the message is not,
//! the other side notified), paging messages from the newest, read positions. Rooms and who may
//! use them are in [`super::rooms`], re-exported here; unread counts in [`super::unread`].

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use entity::{chat_messages, chat_reads, chat_rooms, users};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, Condition, ConnectionTrait, DatabaseConnection, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    TransactionTrait as _,
    sea_query::{Expr, ExprTrait as _, OnConflict},
};
use uuid::Uuid;

pub use super::rooms::{
    RoomAccess, Subject, access, find_room, may_read_attachment, open_room, parties, room_of_order,
    room_of_pickup, rooms,
};
use crate::{
    error::{AppError, AppResult},
    jobs::queue,
    notifications::jobs::SendNotification,
    notifications::service as notifications,
    paging::Cursor,
    storage::{Storage, sniff::FileKind},
};

/// The longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 4000;
/// A user seen within this window counts as online: they get no email for a chat message.
pub const ONLINE_WINDOW_MINUTES: i64 = 5;

fn now() -> DateTime<Utc> {
    // Microseconds, as PostgreSQL keeps them: keyset cursors must match stored values.
    Utc::now().trunc_subsecs(6)
}

/// The body to store: trimmed, 1–4,000 characters (it may be empty when a file is attached).
pub fn check_body(body: Option<&str>, has_attachment: bool) -> AppResult<String> {
    let body = body.unwrap_or_default().trim();
    let chars = body.chars().count();
    if chars == 0 && !has_attachment {
        return Err(AppError::bad_input(
            "body",
            "write a message or attach a file",
        ));
    }
    if chars > MAX_BODY_CHARS {
        return Err(AppError::bad_input(
            "body",
            format!("must be at most {MAX_BODY_CHARS} characters"),
        ));
    }
    Ok(body.to_owned())
}

/// What [`store_message`] did.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub message: chat_messages::Model,
    /// Whether an email job was queued (the caller wakes the worker after the commit only
    /// then: most recipients are online, and a needless wake-up costs a write on `jobs`).
    pub emails_queued: bool,
}

/// A file attached to a message: its bytes, already checked to be of an allowed kind.
#[derive(Debug)]
pub struct Attachment {
    pub bytes: Vec<u8>,
    pub kind: FileKind,
}

/// Sends a message in its own transaction: the attachment is stored first (under
/// `chat/{roomId}/`), then the message and the notifications; if the transaction fails, the
/// file is removed again, so no file outlives a message that was never stored.
pub async fn send_message(
    db: &DatabaseConnection,
    storage: &Storage,
    access: &RoomAccess,
    sender: Uuid,
    body: String,
    attachment: Option<Attachment>,
) -> AppResult<StoredMessage> {
    let id = crate::db::new_id();
    let key = match attachment {
        Some(file) => {
            let key = format!("chat/{}/{id}.{}", access.room.id, file.kind.extension());
            storage
                .put(&key, &file.bytes)
                .await
                .map_err(AppError::internal)?;
            Some(key)
        }
        None => None,
    };
    let stored = async {
        let txn = db.begin().await?;
        let stored = store_message(&txn, access, sender, id, body, key.clone()).await?;
        txn.commit().await?;
        AppResult::Ok(stored)
    }
    .await;
    if stored.is_err()
        && let Some(key) = &key
        && let Err(err) = storage.delete(key).await
    {
        tracing::warn!(error = %err, %key, "could not remove an orphaned chat attachment");
    }
    stored
}

/// Stores a message from `sender` (whose own read position moves to it), and notifies the
/// room's other party, queueing an email for those not seen lately. Runs in the caller's
/// transaction; tells whether an email job was queued.
pub async fn store_message(
    conn: &impl ConnectionTrait,
    access: &RoomAccess,
    sender: Uuid,
    id: Uuid,
    body: String,
    attachment_key: Option<String>,
) -> AppResult<StoredMessage> {
    let at = now();
    let message = chat_messages::Model {
        id,
        room_id: access.room.id,
        sender_id: sender,
        body,
        attachment_key,
        created_at: at,
    };
    chat_messages::Entity::insert(chat_messages::ActiveModel::from(message.clone()))
        .exec_without_returning(conn)
        .await?;
    chat_rooms::Entity::update_many()
        .col_expr(
            chat_rooms::Column::LastMessageAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .filter(chat_rooms::Column::Id.eq(access.room.id))
        .exec(conn)
        .await?;
    set_read(conn, access.room.id, sender, at).await?;

    let preview: String = if message.body.is_empty() {
        "sent an attachment".to_owned()
    } else {
        message.body.chars().take(140).collect()
    };
    let about = access.subject.label();
    let online_since = Utc::now() - Duration::minutes(ONLINE_WINDOW_MINUTES);
    let mut emails_queued = false;
    for user in parties(conn, &access.subject).await? {
        if user == sender {
            continue;
        }
        let notification = notifications::notify(
            conn,
            user,
            "CHAT_MESSAGE",
            &format!("New message about {about}"),
            &preview,
            access.subject.order_id(),
        )
        .await?;
        let recently_online = users::Entity::find_by_id(user)
            .select_only()
            .column(users::Column::LastSeenAt)
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(conn)
            .await?
            .flatten()
            .is_some_and(|seen| seen >= online_since);
        if !recently_online {
            queue::enqueue(
                conn,
                &SendNotification {
                    notification_id: notification.id,
                },
            )
            .await?;
            emails_queued = true;
        }
    }
    Ok(StoredMessage {
        message,
        emails_queued,
    })
}

/// Moves `user`'s read position in `room_id` to `at` (never backwards).
pub async fn set_read(
    conn: &impl ConnectionTrait,
    room_id: Uuid,
    user_id: Uuid,
    at: DateTime<Utc>,
) -> AppResult<()> {
    // One statement (it runs for every message sent): insert, or move forward only.
    chat_reads::Entity::insert(chat_reads::ActiveModel {
        room_id: Set(room_id),
        user_id: Set(user_id),
        last_read_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([chat_reads::Column::RoomId, chat_reads::Column::UserId])
            .update_column(chat_reads::Column::LastReadAt)
            .action_and_where(
                Expr::col((chat_reads::Entity, chat_reads::Column::LastReadAt))
                    .lt(Expr::cust("excluded.last_read_at")),
            )
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Marks everything in the room read by `user_id` now; returns the new read position.
pub async fn mark_read(
    conn: &impl ConnectionTrait,
    room_id: Uuid,
    user_id: Uuid,
) -> AppResult<DateTime<Utc>> {
    let at = now();
    set_read(conn, room_id, user_id, at).await?;
    Ok(at)
}

/// Which end of a room's history a page starts from.
#[derive(Debug, Clone, Copy)]
pub enum MessagesPage {
    /// The `limit` messages before `before` (or the newest ones).
    Backward { before: Option<Cursor>, limit: u64 },
    /// The `limit` messages after `after`.
    Forward { after: Cursor, limit: u64 },
}

/// A page of `room_id`'s messages, oldest first within the page, whether more lie beyond it
/// (older for a backward page, newer for a forward one), and the room's message count.
pub async fn messages(
    conn: &impl ConnectionTrait,
    room_id: Uuid,
    page: MessagesPage,
) -> AppResult<(Vec<chat_messages::Model>, bool, i64)> {
    use chat_messages::Column as C;
    let total = chat_messages::Entity::find()
        .filter(C::RoomId.eq(room_id))
        .count(conn)
        .await?;
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    let query = chat_messages::Entity::find().filter(C::RoomId.eq(room_id));
    let (mut rows, limit, backward) = match page {
        MessagesPage::Backward { before, limit } => {
            let mut query = query;
            if let Some(c) = before {
                query = query.filter(
                    Condition::any().add(C::CreatedAt.lt(c.at)).add(
                        Condition::all()
                            .add(C::CreatedAt.eq(c.at))
                            .add(C::Id.lt(c.id)),
                    ),
                );
            }
            let rows = query
                .order_by_desc(C::CreatedAt)
                .order_by_desc(C::Id)
                .limit(limit + 1)
                .all(conn)
                .await?;
            (rows, limit, true)
        }
        MessagesPage::Forward { after, limit } => {
            let rows = query
                .filter(
                    Condition::any().add(C::CreatedAt.gt(after.at)).add(
                        Condition::all()
                            .add(C::CreatedAt.eq(after.at))
                            .add(C::Id.gt(after.id)),
                    ),
                )
                .order_by_asc(C::CreatedAt)
                .order_by_asc(C::Id)
                .limit(limit + 1)
                .all(conn)
                .await?;
            (rows, limit, false)
        }
    };
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if backward {
        rows.reverse();
    }
    Ok((rows, more, total))
}

/// The messages of `room_id` stored after `after` (a message of that room), oldest first: what
/// a client that saw `after` missed. More than `max` is BAD_USER_INPUT: that client reloads
/// through `messages` instead.
pub async fn messages_since(
    conn: &impl ConnectionTrait,
    room_id: Uuid,
    after: Uuid,
    max: usize,
) -> AppResult<Vec<chat_messages::Model>> {
    use chat_messages::Column as C;
    let seen = chat_messages::Entity::find_by_id(after)
        .filter(C::RoomId.eq(room_id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::bad_input("after", "`after` is not a message of this room"))?;
    let (rows, more) = crate::db::rows_after::<chat_messages::Entity>(
        conn,
        Condition::all().add(C::RoomId.eq(room_id)),
        (C::CreatedAt, C::Id),
        (seen.created_at, seen.id),
        max,
    )
    .await?;
    if more {
        return Err(AppError::bad_input(
            "after",
            format!(
                "more than {max} messages were sent after `after`: load them with `messages` and subscribe again from the newest"
            ),
        ));
    }
    Ok(rows)
}
