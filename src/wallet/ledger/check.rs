//! `ledgerCheck`: every invariant of the ledger, checked with SQL aggregation.

use sea_orm::{ConnectionTrait, FromQueryResult, Statement};
use uuid::Uuid;

use crate::error::AppResult;

use super::stale;

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
    for stale in stale::find_all(conn).await? {
        report.violations.push(format!("stale hold: {stale}"));
    }
    Ok(report)
}
