//! Reading a wallet's history: the ledger transfers that moved money in or out of a user's two
//! balances (available and held), newest first, a page at a time.

use entity::ledger_transfers::{self, TransferKind};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use uuid::Uuid;

use crate::{
    error::AppResult,
    paging::{Page, SeqCursor},
};

/// The transfers of `page` that touch one of `accounts` (a wallet's available and held
/// accounts), of `kind` if given, newest first (up to `limit + 1` rows: the extra one only says
/// there is a next page), and how many there are in all.
pub async fn transfers_page(
    conn: &impl ConnectionTrait,
    accounts: [Uuid; 2],
    kind: Option<TransferKind>,
    page: &Page<SeqCursor>,
) -> AppResult<(Vec<ledger_transfers::Model>, i64)> {
    let mut filter = Condition::all().add(
        Condition::any()
            .add(ledger_transfers::Column::DebitAccountId.is_in(accounts))
            .add(ledger_transfers::Column::CreditAccountId.is_in(accounts)),
    );
    if let Some(kind) = kind {
        filter = filter.add(ledger_transfers::Column::Kind.eq(kind));
    }
    let total = ledger_transfers::Entity::find()
        .filter(filter.clone())
        .count(conn)
        .await?;
    if let Some(SeqCursor(after)) = page.after {
        filter = filter.add(ledger_transfers::Column::Id.lt(after));
    }
    let rows = ledger_transfers::Entity::find()
        .filter(filter)
        .order_by_desc(ledger_transfers::Column::Id)
        .limit(page.limit + 1)
        .all(conn)
        .await?;
    Ok((rows, i64::try_from(total).unwrap_or(i64::MAX)))
}
