//! Paging, domain-neutral: keyset positions (`Cursor`: a timestamp and an id; `SeqCursor`: a
//! monotonic sequence), forward pages of them, and the one "newest first" keyset page over a
//! table used by every list ordered by `(created_at, id)` descending: the total under `filter`,
//! then up to `limit + 1` rows after the cursor (the extra row only says there is a next page).
//! How a cursor is written for clients (opaque base64) is the GraphQL layer's (`graphql::relay`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
};

use uuid::Uuid;

use crate::error::AppResult;

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// A keyset position: rows are ordered by (`at`, `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

/// A position in a list ordered by a monotonic integer id (the ledger's transfers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqCursor(pub i64);

/// Validated forward-paging arguments.
#[derive(Debug, Clone, Copy)]
pub struct Page<C = Cursor> {
    pub limit: u64,
    pub after: Option<C>,
}

/// The rows of `page` under `filter`, newest first, and the total under `filter`.
pub async fn newest_first<E>(
    conn: &impl ConnectionTrait,
    filter: Condition,
    created_at: E::Column,
    id: E::Column,
    page: &Page<Cursor>,
) -> AppResult<(Vec<E::Model>, i64)>
where
    E: EntityTrait,
    E::Model: FromQueryResult + Send + Sync,
{
    let total = E::find().filter(filter.clone()).count(conn).await?;
    let mut filter = filter;
    if let Some(after) = page.after {
        filter = filter.add(
            Condition::any().add(created_at.lt(after.at)).add(
                Condition::all()
                    .add(created_at.eq(after.at))
                    .add(id.lt(after.id)),
            ),
        );
    }
    let rows = E::find()
        .filter(filter)
        .order_by_desc(created_at)
        .order_by_desc(id)
        .limit(page.limit + 1)
        .all(conn)
        .await?;
    Ok((rows, i64::try_from(total).unwrap_or(i64::MAX)))
}
