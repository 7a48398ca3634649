//! Ledger accounts and transfers: the only code that changes a balance. A debit is a conditional
//! update (`balance >= amount`), so concurrent spends can never take a balance below zero, on
//! SQLite and PostgreSQL alike; the two rows of a transfer are locked in id order so opposite
//! transfers cannot deadlock.

use std::collections::HashMap;

use chrono::Utc;
use entity::{
    ledger_accounts::{self, AccountKind},
    ledger_transfers::{self, TransferKind},
};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait as _, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder as _, QuerySelect as _, Statement,
};
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
async fn create_accounts(
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

/// One movement to record.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub debit: ledger_accounts::Model,
    pub credit: ledger_accounts::Model,
    pub amount: i64,
    pub kind: TransferKind,
    pub reference: String,
    /// Replaying a key returns the first transfer and moves nothing.
    pub idempotency_key: Option<String>,
    pub hold_id: Option<Uuid>,
}

#[derive(FromQueryResult)]
struct BalanceRow {
    balance: i64,
}

/// Records `t` inside the caller's transaction. INSUFFICIENT_FUNDS (and nothing written by this
/// call) when the debit account may not go negative and holds less than the amount.
pub async fn transfer(
    conn: &impl ConnectionTrait,
    t: Transfer,
) -> AppResult<ledger_transfers::Model> {
    if t.amount <= 0 {
        return Err(AppError::bad_input("amount", "must be more than zero"));
    }
    if t.debit.id == t.credit.id {
        return Err(AppError::internal(anyhow::anyhow!(
            "transfer to the same account"
        )));
    }
    if let Some(key) = &t.idempotency_key {
        let existing = ledger_transfers::Entity::find()
            .filter(ledger_transfers::Column::IdempotencyKey.eq(key.as_str()))
            .one(conn)
            .await?;
        if let Some(existing) = existing {
            let same = existing.amount == t.amount
                && existing.debit_account_id == t.debit.id
                && existing.credit_account_id == t.credit.id
                && existing.kind == t.kind;
            if !same {
                return Err(AppError::Conflict(
                    "this idempotency key was already used for a different request".into(),
                ));
            }
            return Ok(existing);
        }
    }
    let debit_first = t.debit.id < t.credit.id;
    let (debit_after, credit_after) = if debit_first {
        let d = apply(conn, &t.debit, -t.amount).await?;
        let c = apply(conn, &t.credit, t.amount).await?;
        (d, c)
    } else {
        let c = apply(conn, &t.credit, t.amount).await?;
        let d = apply(conn, &t.debit, -t.amount).await?;
        (d, c)
    };
    let inserted = ledger_transfers::Entity::insert(ledger_transfers::ActiveModel {
        id: NotSet,
        debit_account_id: Set(t.debit.id),
        credit_account_id: Set(t.credit.id),
        amount: Set(t.amount),
        kind: Set(t.kind),
        reference: Set(t.reference),
        idempotency_key: Set(t.idempotency_key),
        hold_id: Set(t.hold_id),
        debit_balance_after: Set(debit_after),
        credit_balance_after: Set(credit_after),
        created_at: Set(Utc::now()),
    })
    .exec_with_returning(conn)
    .await?;
    Ok(inserted)
}

#[derive(FromQueryResult)]
struct LockedRow {
    id: Uuid,
    balance: i64,
}

/// A user's two wallet accounts.
#[derive(Debug, Clone)]
pub(crate) struct Wallet {
    pub available: ledger_accounts::Model,
    pub held: ledger_accounts::Model,
}

/// The wallet accounts (available and held) of every one of `owners`, created when missing, and
/// locked until the caller's transaction ends: `FOR UPDATE` in id order on PostgreSQL (the order
/// [`transfer`] locks in, so batches and single transfers cannot deadlock); SQLite has one
/// writer. The balances returned are the ones [`record_locked`] starts from.
pub(crate) async fn lock_wallets(
    conn: &impl ConnectionTrait,
    owners: &[Uuid],
) -> AppResult<HashMap<Uuid, Wallet>> {
    let mut owners = owners.to_vec();
    owners.sort();
    owners.dedup();
    if owners.is_empty() {
        return Ok(HashMap::new());
    }
    let kinds = [AccountKind::UserAvailable, AccountKind::UserHeld];
    let backend = conn.get_database_backend();
    let lock = || {
        let query = ledger_accounts::Entity::find()
            .filter(ledger_accounts::Column::OwnerId.is_in(owners.clone()))
            .filter(ledger_accounts::Column::Kind.is_in(kinds))
            .filter(ledger_accounts::Column::Currency.eq(CURRENCY))
            .order_by_asc(ledger_accounts::Column::Id);
        match backend {
            DbBackend::Postgres => query.lock_exclusive(),
            _ => query,
        }
    };
    let mut rows = lock().all(conn).await?;
    if rows.len() < owners.len() * kinds.len() {
        // First holds of new wallets: create what is missing in one statement, lock again.
        let missing: Vec<(AccountKind, Uuid)> = owners
            .iter()
            .flat_map(|owner| kinds.map(|kind| (kind, *owner)))
            .filter(|(kind, owner)| !rows.iter().any(|a| a.owner_id == *owner && a.kind == *kind))
            .collect();
        create_accounts(conn, &missing).await?;
        rows = lock().all(conn).await?;
    }
    let mut available = HashMap::new();
    let mut held = HashMap::new();
    for row in rows {
        match row.kind {
            AccountKind::UserAvailable => available.insert(row.owner_id, row),
            _ => held.insert(row.owner_id, row),
        };
    }
    owners
        .into_iter()
        .map(
            |owner| match (available.remove(&owner), held.remove(&owner)) {
                (Some(available), Some(held)) => Ok((owner, Wallet { available, held })),
                _ => Err(AppError::internal(anyhow::anyhow!(
                    "the wallet accounts of {owner} are missing"
                ))),
            },
        )
        .collect()
}

/// One movement between accounts the caller locked (see [`record_locked`]).
#[derive(Debug, Clone)]
pub(crate) struct LockedTransfer {
    pub debit: Uuid,
    pub credit: Uuid,
    pub amount: i64,
    pub kind: TransferKind,
    pub reference: String,
    pub hold_id: Option<Uuid>,
}

/// Records `transfers` between accounts the caller holds locked, exactly as if they were recorded
/// one after another in the given order. `accounts` has every account involved with its balance
/// as read under the lock ([`lock_wallets`]). The caller has already decided that every debit is
/// covered; this checks it again (INSUFFICIENT_FUNDS, or INTERNAL for anything else wrong), and
/// then changes each account by ONE update for its net movement (checked against the balance it
/// must leave) and inserts the transfers with multi-row inserts, each with the balances it leaves
/// behind, so the `balance_after` chain of every account stays exact. Any `Err` means the caller
/// must roll back: something may have been written.
pub(crate) async fn record_locked(
    conn: &impl ConnectionTrait,
    accounts: &HashMap<Uuid, ledger_accounts::Model>,
    transfers: Vec<LockedTransfer>,
) -> AppResult<()> {
    let missing = |id: Uuid| AppError::internal(anyhow::anyhow!("ledger account {id} not locked"));
    let mut running: HashMap<Uuid, i64> = HashMap::new();
    let mut rows = Vec::with_capacity(transfers.len());
    let now = Utc::now();
    for t in transfers {
        if t.amount <= 0 {
            return Err(AppError::bad_input("amount", "must be more than zero"));
        }
        if t.debit == t.credit {
            return Err(AppError::internal(anyhow::anyhow!(
                "transfer to the same account"
            )));
        }
        let debit = accounts.get(&t.debit).ok_or_else(|| missing(t.debit))?;
        let credit = accounts.get(&t.credit).ok_or_else(|| missing(t.credit))?;
        let too_large = || AppError::internal(anyhow::anyhow!("a balance would overflow"));
        let debit_after = running
            .get(&debit.id)
            .copied()
            .unwrap_or(debit.balance)
            .checked_sub(t.amount)
            .ok_or_else(too_large)?;
        if debit_after < 0 && !may_go_negative(debit.kind) {
            return Err(AppError::InsufficientFunds(
                "the balance is too low for this".into(),
            ));
        }
        let credit_after = running
            .get(&credit.id)
            .copied()
            .unwrap_or(credit.balance)
            .checked_add(t.amount)
            .ok_or_else(too_large)?;
        running.insert(debit.id, debit_after);
        running.insert(credit.id, credit_after);
        rows.push(ledger_transfers::ActiveModel {
            id: NotSet,
            debit_account_id: Set(debit.id),
            credit_account_id: Set(credit.id),
            amount: Set(t.amount),
            kind: Set(t.kind),
            reference: Set(t.reference),
            idempotency_key: Set(None),
            hold_id: Set(t.hold_id),
            debit_balance_after: Set(debit_after),
            credit_balance_after: Set(credit_after),
            created_at: Set(now),
        });
    }
    let mut changed: Vec<(Uuid, i64, i64)> = running
        .iter()
        .filter_map(|(id, after)| {
            let before = accounts.get(id)?.balance;
            (*after != before).then_some((*id, *after - before, *after))
        })
        .collect();
    changed.sort_by_key(|(id, _, _)| *id);
    let backend = conn.get_database_backend();
    for chunk in changed.chunks(1000) {
        // balance = balance + CASE id WHEN a THEN da WHEN b THEN db ... END, for these ids only.
        let mut values: Vec<sea_orm::Value> = Vec::with_capacity(chunk.len() * 3);
        let mut cases = String::new();
        for (id, delta, _) in chunk {
            values.push((*id).into());
            values.push((*delta).into());
            let n = values.len();
            cases.push_str(&format!(" WHEN ${} THEN ${n}", n - 1));
        }
        let first_id = values.len() + 1;
        let ids: Vec<String> = (first_id..first_id + chunk.len())
            .map(|n| format!("${n}"))
            .collect();
        values.extend(chunk.iter().map(|(id, _, _)| sea_orm::Value::from(*id)));
        let sql = format!(
            "UPDATE ledger_accounts SET balance = balance + CASE id{cases} ELSE 0 END \
             WHERE id IN ({}) RETURNING id, balance",
            ids.join(", ")
        );
        let updated = LockedRow::find_by_statement(Statement::from_sql_and_values(
            backend,
            portable(backend, &sql),
            values,
        ))
        .all(conn)
        .await?;
        let expected: HashMap<Uuid, i64> = chunk.iter().map(|(id, _, a)| (*id, *a)).collect();
        let exact = updated.len() == chunk.len()
            && updated
                .iter()
                .all(|row| expected.get(&row.id) == Some(&row.balance));
        if !exact {
            return Err(AppError::internal(anyhow::anyhow!(
                "ledger accounts changed while locked"
            )));
        }
    }
    // Multi-row inserts number their ids in row order, so ids follow the balance chains.
    crate::db::insert_chunked::<ledger_transfers::Entity>(conn, rows).await?;
    Ok(())
}

/// Adds `delta` to an account's balance and returns the new balance. A negative delta on an
/// account that may not go negative only applies if the balance covers it.
async fn apply(
    conn: &impl ConnectionTrait,
    account: &ledger_accounts::Model,
    delta: i64,
) -> AppResult<i64> {
    let guarded = delta < 0 && !may_go_negative(account.kind);
    let sql = if guarded {
        "UPDATE ledger_accounts SET balance = balance + $1 WHERE id = $2 AND balance + $1 >= 0 RETURNING balance"
    } else {
        "UPDATE ledger_accounts SET balance = balance + $1 WHERE id = $2 RETURNING balance"
    };
    let backend = conn.get_database_backend();
    let stmt = Statement::from_sql_and_values(
        backend,
        portable(backend, sql),
        [delta.into(), account.id.into()],
    );
    match BalanceRow::find_by_statement(stmt).one(conn).await? {
        Some(row) => Ok(row.balance),
        None if guarded => Err(AppError::InsufficientFunds(
            "the balance is too low for this".into(),
        )),
        None => Err(AppError::internal(anyhow::anyhow!(
            "ledger account {} missing",
            account.id
        ))),
    }
}

/// `$1`-style parameters for PostgreSQL; SQLite takes the same numbers as `?1`.
pub fn portable(backend: DbBackend, sql: &str) -> String {
    match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    }
}

/// What `ledgerCheck` found.
#[derive(Debug, Clone, Default)]
pub struct LedgerReport {
    pub accounts_checked: i64,
    pub transfers_checked: i64,
    /// Sum of every balance: zero in a sound ledger.
    pub total_balance: i64,
    pub violations: Vec<String>,
}

impl LedgerReport {
    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }
}

#[derive(FromQueryResult)]
struct AccountCheck {
    id: Uuid,
    kind: String,
    balance: i64,
    entries: i64,
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

/// Checks every invariant of the ledger with SQL aggregation.
pub async fn check(conn: &impl ConnectionTrait) -> AppResult<LedgerReport> {
    let backend = conn.get_database_backend();
    let accounts = AccountCheck::find_by_statement(Statement::from_string(
        backend,
        "SELECT a.id AS id, a.kind AS kind, a.balance AS balance, \
           CAST(COALESCE((SELECT SUM(t.amount) FROM ledger_transfers t WHERE t.credit_account_id = a.id), 0) \
              - COALESCE((SELECT SUM(t.amount) FROM ledger_transfers t WHERE t.debit_account_id = a.id), 0) AS BIGINT) AS entries \
         FROM ledger_accounts a",
    ))
    .all(conn)
    .await?;
    let mut report = LedgerReport {
        accounts_checked: i64::try_from(accounts.len()).unwrap_or(i64::MAX),
        ..Default::default()
    };
    for account in &accounts {
        report.total_balance = report.total_balance.saturating_add(account.balance);
        if account.balance != account.entries {
            report.violations.push(format!(
                "account {} ({}) has balance {} but its entries sum to {}",
                account.id, account.kind, account.balance, account.entries
            ));
        }
        let negative_allowed = matches!(
            account.kind.as_str(),
            "PROVIDER_CLEARING" | "PLATFORM_ADJUSTMENTS"
        );
        if account.balance < 0 && !negative_allowed {
            report.violations.push(format!(
                "account {} ({}) is negative: {}",
                account.id, account.kind, account.balance
            ));
        }
    }
    if report.total_balance != 0 {
        report.violations.push(format!(
            "balances sum to {} instead of zero",
            report.total_balance
        ));
    }
    let count =
        |sql: &str| Count::find_by_statement(Statement::from_string(backend, sql.to_owned()));
    report.transfers_checked = count("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM ledger_transfers")
        .one(conn)
        .await?
        .map_or(0, |c| c.n);
    let bad_amounts =
        count("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM ledger_transfers WHERE amount <= 0")
            .one(conn)
            .await?
            .map_or(0, |c| c.n);
    if bad_amounts > 0 {
        report.violations.push(format!(
            "{bad_amounts} transfers have a non-positive amount"
        ));
    }
    // Every row's balance after it is the running sum of its account's entries up to it (ids
    // are taken while the account's row is locked, so they follow each account's history).
    let broken_chain = count(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM ( \
           SELECT e.recorded AS recorded, \
             SUM(e.delta) OVER (PARTITION BY e.account_id ORDER BY e.id ROWS UNBOUNDED PRECEDING) AS running_sum \
           FROM ( \
             SELECT id, credit_account_id AS account_id, amount AS delta, credit_balance_after AS recorded FROM ledger_transfers \
             UNION ALL \
             SELECT id, debit_account_id AS account_id, -amount AS delta, debit_balance_after AS recorded FROM ledger_transfers \
           ) e \
         ) c WHERE c.recorded <> c.running_sum",
    )
    .one(conn)
    .await?
    .map_or(0, |c| c.n);
    if broken_chain > 0 {
        report.violations.push(format!(
            "{broken_chain} balance-after values differ from the running sum of their account's entries"
        ));
    }
    // Money held for a user equals the sum of that user's open holds.
    let mismatched_holds = count(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM ledger_accounts a \
         WHERE a.kind = 'USER_HELD' AND a.balance <> \
           COALESCE((SELECT SUM(h.amount) FROM holds h WHERE h.user_id = a.owner_id AND h.status = 'HELD'), 0)",
    )
    .one(conn)
    .await?
    .map_or(0, |c| c.n);
    if mismatched_holds > 0 {
        report.violations.push(format!(
            "{mismatched_holds} held balances differ from the sum of their open holds"
        ));
    }
    // A hold settled more than once would show as more movement out of HELD than it held.
    let over_settled = count(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM holds h WHERE h.status <> 'HELD' AND \
           (SELECT COALESCE(SUM(t.amount), 0) FROM ledger_transfers t WHERE t.hold_id = h.id AND t.kind <> 'HOLD') <> h.amount",
    )
    .one(conn)
    .await?
    .map_or(0, |c| c.n);
    if over_settled > 0 {
        report.violations.push(format!(
            "{over_settled} settled holds moved a different amount than they held"
        ));
    }
    // Money still held for an order or payout that is over (a release job that went DEAD).
    for stale in super::stale::find_all(conn).await? {
        report.violations.push(format!("stale hold: {stale}"));
    }
    Ok(report)
}
