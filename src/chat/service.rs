//! Chat rules: who may use a room, sending (with the other side's notification), paging
//! messages from the newest, read positions and unread counts.

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use entity::{
    chat_messages, chat_reads, chat_rooms, order_status_history::OrderActor, orders, users,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
    sea_query::{Expr, ExprTrait as _, OnConflict, Query},
};
use uuid::Uuid;

use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    jobs::queue,
    notifications::jobs::SendNotification,
    notifications::service as notifications,
    orders::service as orders_service,
    paging::{Cursor, Page},
    vendors::service as vendors,
};

/// The longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 4000;
/// A user seen within this window counts as online: they get no email for a chat message.
pub const ONLINE_WINDOW_MINUTES: i64 = 5;

/// A room the viewer may use, its order, and what the viewer is to it.
#[derive(Debug, Clone)]
pub struct RoomAccess {
    pub room: chat_rooms::Model,
    pub order: orders::Model,
    pub actor: OrderActor,
}

fn now() -> DateTime<Utc> {
    // Microseconds, as PostgreSQL keeps them: keyset cursors must match stored values.
    Utc::now().trunc_subsecs(6)
}

pub async fn find_room(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<chat_rooms::Model> {
    chat_rooms::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("chat room"))
}

/// `room_id` if `viewer` is its buyer, its vendor's user or an admin; NOT_FOUND otherwise (a
/// room of someone else's order does not exist for them).
pub async fn access(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    room_id: Uuid,
) -> AppResult<RoomAccess> {
    let room = find_room(conn, room_id).await?;
    let (order, actor) = orders_service::visible(conn, viewer, room.order_id)
        .await
        .map_err(|err| match err {
            AppError::NotFound(_) => AppError::not_found("chat room"),
            other => other,
        })?;
    Ok(RoomAccess { room, order, actor })
}

/// The room of `order_id`, if one was opened.
pub async fn room_of_order(
    conn: &impl ConnectionTrait,
    order_id: Uuid,
) -> AppResult<Option<chat_rooms::Model>> {
    Ok(chat_rooms::Entity::find()
        .filter(chat_rooms::Column::OrderId.eq(order_id))
        .one(conn)
        .await?)
}

/// The room of an order `viewer` may see (NOT_FOUND otherwise), created if there is none yet.
/// Two racing calls end with the same room (the order id is unique).
pub async fn open_room(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    order_id: Uuid,
) -> AppResult<chat_rooms::Model> {
    orders_service::visible(conn, viewer, order_id).await?;
    if let Some(room) = room_of_order(conn, order_id).await? {
        return Ok(room);
    }
    chat_rooms::Entity::insert(chat_rooms::ActiveModel {
        id: Set(crate::db::new_id()),
        order_id: Set(order_id),
        last_message_at: Set(None),
        created_at: Set(now()),
    })
    .on_conflict_do_nothing_on([chat_rooms::Column::OrderId])
    .exec_without_returning(conn)
    .await?;
    room_of_order(conn, order_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("chat room vanished after insert")))
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

/// The order's two parties: its buyer and its vendor's user.
pub async fn parties(conn: &impl ConnectionTrait, order: &orders::Model) -> AppResult<[Uuid; 2]> {
    let vendor = vendors::find(conn, order.vendor_id).await?;
    Ok([order.buyer_id, vendor.user_id])
}

/// What [`store_message`] did.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub message: chat_messages::Model,
    /// Whether an email job was queued (the caller wakes the worker after the commit only
    /// then: most recipients are online, and a needless wake-up costs a write on `jobs`).
    pub emails_queued: bool,
}

/// Stores a message from `sender` (whose own read position moves to it), and notifies the
/// order's other parties, queueing an email for those not seen lately. Runs in the caller's
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
    let number = &access.order.number;
    let online_since = Utc::now() - Duration::minutes(ONLINE_WINDOW_MINUTES);
    let mut emails_queued = false;
    for user in parties(conn, &access.order).await? {
        if user == sender {
            continue;
        }
        let notification = notifications::notify(
            conn,
            user,
            "CHAT_MESSAGE",
            &format!("New message about order {number}"),
            &preview,
            Some(access.order.id),
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

/// A page of the rooms `viewer` takes part in (admins: every room), newest first, and how
/// many there are.
pub async fn rooms(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    page: &Page<Cursor>,
) -> AppResult<(Vec<chat_rooms::Model>, i64)> {
    use chat_rooms::Column as C;
    let mut filter = Condition::all();
    if !viewer.is_admin() {
        let mut mine = Condition::any().add(orders::Column::BuyerId.eq(viewer.user_id));
        if let Some(vendor) = vendors::of_user(conn, viewer.user_id).await? {
            mine = mine.add(orders::Column::VendorId.eq(vendor.id));
        }
        let visible = Query::select()
            .column(orders::Column::Id)
            .from(orders::Entity)
            .cond_where(mine)
            .to_owned();
        filter = filter.add(C::OrderId.in_subquery(visible));
    }
    crate::paging::newest_first::<chat_rooms::Entity>(conn, filter, C::CreatedAt, C::Id, page).await
}

/// Whether `viewer` may read the stored file `key` (`chat/{roomId}/…`): participants of the
/// room and admins. For `http::media`.
pub async fn may_read_attachment(conn: &impl ConnectionTrait, viewer: &Viewer, key: &str) -> bool {
    let Some(room_id) = key
        .strip_prefix("chat/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|id| id.parse::<Uuid>().ok())
    else {
        return false;
    };
    access(conn, viewer, room_id).await.is_ok()
}
