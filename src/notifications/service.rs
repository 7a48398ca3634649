//! Storing, listing and marking notifications. [`notify`] runs inside the caller's transaction,
//! so a notification exists exactly when the change it announces does.

use chrono::{SubsecRound as _, Utc};
use entity::notifications;
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    paging::{Cursor, Page},
};

/// Stores a notification for `user_id`.
pub async fn notify(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    kind: &str,
    title: &str,
    body: &str,
    order_id: Option<Uuid>,
) -> AppResult<notifications::Model> {
    let model = new_notification(user_id, kind, title.to_owned(), body.to_owned(), order_id);
    insert_all(conn, std::slice::from_ref(&model)).await?;
    // Published on `user:{id}:notifications` once the operation's transaction has committed.
    crate::realtime::live::record_notification(&model);
    Ok(model)
}

/// Stores several notifications with one multi-row insert (what [`notify`] does for one).
pub async fn notify_all(
    conn: &impl ConnectionTrait,
    models: Vec<notifications::Model>,
) -> AppResult<Vec<notifications::Model>> {
    insert_all(conn, &models).await?;
    for model in &models {
        crate::realtime::live::record_notification(model);
    }
    Ok(models)
}

/// A notification for `user_id`, not stored yet (see [`insert_all`]).
pub fn new_notification(
    user_id: Uuid,
    kind: &str,
    title: String,
    body: String,
    order_id: Option<Uuid>,
) -> notifications::Model {
    notifications::Model {
        id: crate::db::new_id(),
        user_id,
        kind: kind.to_owned(),
        title,
        body,
        order_id,
        read_at: None,
        created_at: Utc::now().trunc_subsecs(6),
    }
}

/// Stores `models` with multi-row inserts inside the caller's transaction. Unlike [`notify`] it
/// does not schedule their publication: the caller does, from the task of the operation that
/// owns them (`crate::realtime::live::record_notification`), as they may be stored by another.
pub async fn insert_all(
    conn: &impl ConnectionTrait,
    models: &[notifications::Model],
) -> AppResult<()> {
    crate::db::insert_chunked::<notifications::Entity>(
        conn,
        models.iter().cloned().map(notifications::ActiveModel::from),
    )
    .await?;
    Ok(())
}

/// A page of `user_id`'s notifications, newest first, and how many there are in all.
pub async fn page(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    unread_only: bool,
    page: &Page<Cursor>,
) -> AppResult<(Vec<notifications::Model>, i64)> {
    let mut filter = Condition::all().add(notifications::Column::UserId.eq(user_id));
    if unread_only {
        filter = filter.add(notifications::Column::ReadAt.is_null());
    }
    crate::paging::newest_first::<notifications::Entity>(
        conn,
        filter,
        notifications::Column::CreatedAt,
        notifications::Column::Id,
        page,
    )
    .await
}

/// `user_id`'s notifications created after `after` (one of theirs), oldest first: what a client
/// that saw `after` missed. More than `max` is BAD_USER_INPUT: that client reloads through
/// `notifications` instead.
pub async fn notifications_since(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    after: Uuid,
    max: usize,
) -> AppResult<Vec<notifications::Model>> {
    use notifications::Column as C;
    let seen = notifications::Entity::find_by_id(after)
        .filter(C::UserId.eq(user_id))
        .one(conn)
        .await?
        .ok_or_else(|| AppError::bad_input("after", "`after` is not one of your notifications"))?;
    let (rows, more) = crate::db::rows_after::<notifications::Entity>(
        conn,
        Condition::all().add(C::UserId.eq(user_id)),
        (C::CreatedAt, C::Id),
        (seen.created_at, seen.id),
        max,
    )
    .await?;
    if more {
        return Err(AppError::bad_input(
            "after",
            format!(
                "more than {max} notifications came after `after`: load them with `notifications` and subscribe again from the newest"
            ),
        ));
    }
    Ok(rows)
}

/// Marks `ids` (or, with `None`, every notification) of `user_id` read; returns how many were
/// unread. Other users' ids are ignored.
pub async fn mark_read(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    ids: Option<Vec<Uuid>>,
) -> AppResult<i64> {
    let mut update = notifications::Entity::update_many()
        .col_expr(notifications::Column::ReadAt, Expr::value(Utc::now()))
        .filter(notifications::Column::UserId.eq(user_id))
        .filter(notifications::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        update = update.filter(notifications::Column::Id.is_in(ids));
    }
    let result = update.exec(conn).await?;
    Ok(i64::try_from(result.rows_affected).unwrap_or(i64::MAX))
}
