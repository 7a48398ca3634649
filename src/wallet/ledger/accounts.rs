//! The ledger's accounts: who owns which, created on first use, and which may go negative.

use chrono::Utc;
use entity::ledger_accounts::{self, AccountKind};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Owner of the platform's own accounts.
pub const PLATFORM: Uuid = Uuid::nil();
pub const CURRENCY: &str = "INR";

/// Whether an account of this kind may go below zero.
pub fn may_go_negative(kind: AccountKind) -> bool {
    matches!(
        kind,
        AccountKind::ProviderClearing | AccountKind::PlatformAdjustments
    )
}

/// The account of `kind` owned by `owner`, created (with balance 0) on first use. A user's
/// wallet accounts (available and held) are created together.
pub async fn account(
    conn: &impl ConnectionTrait,
    kind: AccountKind,
    owner: Uuid,
) -> AppResult<ledger_accounts::Model> {
    let find = || {
        ledger_accounts::Entity::find()
            .filter(ledger_accounts::Column::OwnerId.eq(owner))
            .filter(ledger_accounts::Column::Kind.eq(kind))
            .filter(ledger_accounts::Column::Currency.eq(CURRENCY))
    };
    if let Some(found) = find().one(conn).await? {
        return Ok(found);
    }
    create_accounts(conn, &with_wallet_sibling(kind, owner)).await?;
    find()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("ledger account vanished")))
}

/// The balance of `owner`'s account of `kind`, 0 when it has none; read only (unlike
/// [`account`], it never opens the account).
pub async fn balance_of(
    conn: &impl ConnectionTrait,
    kind: AccountKind,
    owner: Uuid,
) -> AppResult<i64> {
    Ok(ledger_accounts::Entity::find()
        .filter(ledger_accounts::Column::OwnerId.eq(owner))
        .filter(ledger_accounts::Column::Kind.eq(kind))
        .filter(ledger_accounts::Column::Currency.eq(CURRENCY))
        .one(conn)
        .await?
        .map_or(0, |a| a.balance))
}

/// The accounts to create with `(kind, owner)`: a user's wallet is both of its accounts.
fn with_wallet_sibling(kind: AccountKind, owner: Uuid) -> Vec<(AccountKind, Uuid)> {
    match kind {
        AccountKind::UserAvailable | AccountKind::UserHeld => vec![
            (AccountKind::UserAvailable, owner),
            (AccountKind::UserHeld, owner),
        ],
        other => vec![(other, owner)],
    }
}

/// Creates the accounts of `wanted` (kind, owner) that do not exist yet, with balance 0, in one
/// statement; the ones that exist (even if created by someone else meanwhile) are left alone.
pub(super) async fn create_accounts(
    conn: &impl ConnectionTrait,
    wanted: &[(AccountKind, Uuid)],
) -> AppResult<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows = wanted
        .iter()
        .map(|(kind, owner)| ledger_accounts::ActiveModel {
            id: Set(crate::db::new_id()),
            kind: Set(*kind),
            owner_id: Set(*owner),
            currency: Set(CURRENCY.to_owned()),
            balance: Set(0),
            created_at: Set(now),
        });
    ledger_accounts::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([
            ledger_accounts::Column::OwnerId,
            ledger_accounts::Column::Kind,
            ledger_accounts::Column::Currency,
        ])
        .exec(conn)
        .await?;
    Ok(())
}
