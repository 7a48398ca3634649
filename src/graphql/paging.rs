//! The one "newest first" keyset page over a table, used by every connection ordered by
//! `(created_at, id)` descending: the total under `filter`, then up to `limit + 1` rows after
//! the cursor (the extra row only says there is a next page).

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
};

use super::relay::{Cursor, Page};
use crate::error::AppResult;

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
