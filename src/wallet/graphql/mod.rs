//! `wallet`, `walletTransactions`, `rechargeWallet`; admin `ledgerCheck` and `adjustWallet`.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, connection::Connection};
use chrono::{DateTime, Utc};
use entity::{
    ledger_accounts,
    ledger_transfers::{self, TransferKind},
    recharges,
};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// `confirmRecharge`, `Recharge.checkout`, admin `unmatchedWebhookEvents`.
pub mod payments;

use super::{escrow, history, ledger, recharge};
use crate::{
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Page, SeqCursor},
        scalars::{Money, Paise},
    },
};

/// What moved money.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TransactionKind {
    Recharge,
    Hold,
    Release,
    Refund,
    Deduct,
    Payout,
    Commission,
    Adjustment,
}

impl From<TransferKind> for TransactionKind {
    fn from(kind: TransferKind) -> Self {
        match kind {
            TransferKind::Recharge => Self::Recharge,
            TransferKind::Hold => Self::Hold,
            TransferKind::Release => Self::Release,
            TransferKind::Refund => Self::Refund,
            TransferKind::Deduct => Self::Deduct,
            TransferKind::Payout => Self::Payout,
            TransferKind::Commission => Self::Commission,
            TransferKind::Adjustment => Self::Adjustment,
        }
    }
}

impl From<TransactionKind> for TransferKind {
    fn from(kind: TransactionKind) -> Self {
        match kind {
            TransactionKind::Recharge => Self::Recharge,
            TransactionKind::Hold => Self::Hold,
            TransactionKind::Release => Self::Release,
            TransactionKind::Refund => Self::Refund,
            TransactionKind::Deduct => Self::Deduct,
            TransactionKind::Payout => Self::Payout,
            TransactionKind::Commission => Self::Commission,
            TransactionKind::Adjustment => Self::Adjustment,
        }
    }
}

/// Which part of the wallet a transaction moved.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum WalletBalance {
    /// Spendable money.
    Available,
    /// Money held in escrow for orders.
    Held,
}

/// The signed-in user's wallet.
pub struct Wallet {
    available: ledger_accounts::Model,
    held: ledger_accounts::Model,
}

#[Object]
impl Wallet {
    /// The id of the wallet (its available-balance account).
    async fn id(&self) -> ID {
        ID(self.available.id.to_string())
    }

    /// Spendable balance, in paise.
    async fn available_balance(&self) -> Paise {
        Paise(self.available.balance)
    }

    /// Balance held in escrow for open orders, in paise.
    async fn held_balance(&self) -> Paise {
        Paise(self.held.balance)
    }

    /// Money of wallet payouts on its way to the user's payout account (requested, approved or
    /// sent, not yet paid), in paise. It left the available balance when the payout was
    /// requested and comes back to it if the payout is rejected or reversed.
    async fn payout_held_balance(&self, ctx: &Context<'_>) -> AppResult<Paise> {
        let owner = self.available.owner_id;
        let held = ledger::balance_of(
            &ctx.state().db,
            ledger_accounts::AccountKind::UserPayoutHeld,
            owner,
        )
        .await?;
        Ok(Paise(held))
    }

    /// ISO 4217 code: `INR`.
    async fn currency(&self) -> &str {
        &self.available.currency
    }

    /// The available balance with a display string.
    async fn available(&self) -> Money {
        Money::inr(self.available.balance)
    }

    /// The held balance with a display string.
    async fn held(&self) -> Money {
        Money::inr(self.held.balance)
    }

    /// History, newest first.
    async fn transactions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        kind: Option<TransactionKind>,
    ) -> AppResult<Connection<SeqCursor, WalletTransaction, ConnectionFields>> {
        transactions(
            &ctx.state().db,
            &self.available,
            &self.held,
            first,
            after,
            kind,
        )
        .await
    }
}

/// One movement of money in or out of the wallet.
pub struct WalletTransaction {
    transfer: ledger_transfers::Model,
    /// The wallet account this row is about.
    account: Uuid,
    balance: WalletBalance,
}

#[Object]
impl WalletTransaction {
    async fn id(&self) -> ID {
        ID(self.transfer.id.to_string())
    }

    async fn kind(&self) -> TransactionKind {
        self.transfer.kind.into()
    }

    /// Paise in (positive) or out (negative) of `balance`.
    async fn amount(&self) -> Paise {
        if self.transfer.credit_account_id == self.account {
            Paise(self.transfer.amount)
        } else {
            Paise(-self.transfer.amount)
        }
    }

    /// Which balance moved: available or held.
    async fn balance(&self) -> WalletBalance {
        self.balance
    }

    /// That balance after this transaction, in paise.
    async fn balance_after(&self) -> Paise {
        if self.transfer.credit_account_id == self.account {
            Paise(self.transfer.credit_balance_after)
        } else {
            Paise(self.transfer.debit_balance_after)
        }
    }

    /// What caused it: `recharge:<id>`, `hold:<id>`, …
    async fn reference(&self) -> &str {
        &self.transfer.reference
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.transfer.created_at
    }
}

/// A page of the wallet's history, as `walletTransactions` and `Wallet.transactions` show it.
async fn transactions(
    conn: &impl ConnectionTrait,
    available: &ledger_accounts::Model,
    held: &ledger_accounts::Model,
    first: Option<i32>,
    after: Option<String>,
    kind: Option<TransactionKind>,
) -> AppResult<Connection<SeqCursor, WalletTransaction, ConnectionFields>> {
    let page = Page::<SeqCursor>::new(first, after)?;
    let (rows, total) =
        history::transfers_page(conn, [available.id, held.id], kind.map(Into::into), &page).await?;
    // A hold moves money between the user's own two balances; show it once, as the available
    // balance going down.
    Ok(relay::connection(
        &page,
        rows,
        total,
        |transfer| SeqCursor(transfer.id),
        |transfer| {
            let (account, balance) = if transfer.debit_account_id == available.id
                || transfer.credit_account_id == available.id
            {
                (available.id, WalletBalance::Available)
            } else {
                (held.id, WalletBalance::Held)
            };
            WalletTransaction {
                transfer,
                account,
                balance,
            }
        },
    ))
}

/// Status of a recharge.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RechargeStatus {
    /// Waiting for the payment provider.
    Pending,
    /// Paid; the wallet was credited.
    Succeeded,
    /// Declined; nothing was credited.
    Failed,
}

/// A request to add money to the wallet.
pub struct Recharge(pub recharges::Model);

#[Object]
impl Recharge {
    /// The recharge's id (Razorpay's `receipt`, Stripe's `metadata.recharge_id`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// In paise.
    async fn amount(&self) -> Paise {
        Paise(self.0.amount)
    }

    /// PENDING until the provider proves the payment (SUCCEEDED) or its failure (FAILED).
    async fn status(&self) -> RechargeStatus {
        match self.0.status {
            recharges::RechargeStatus::Pending => RechargeStatus::Pending,
            recharges::RechargeStatus::Succeeded => RechargeStatus::Succeeded,
            recharges::RechargeStatus::Failed => RechargeStatus::Failed,
        }
    }

    /// Why the provider declined it.
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }

    /// The payment provider: `sandbox` (development), `razorpay` or `stripe`.
    async fn provider(&self) -> &str {
        &self.0.provider
    }

    /// What the app needs to open the provider's payment page (null for the sandbox, which
    /// decides by itself).
    async fn checkout(&self, ctx: &Context<'_>) -> Option<payments::RechargeCheckout> {
        payments::RechargeCheckout::of(ctx.state(), &self.0)
    }

    /// When it was started.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Add money to the wallet.
#[derive(InputObject)]
pub struct RechargeInput {
    /// In paise, within the platform's minimum and maximum (see `systemSettings`).
    pub amount: Paise,
    /// Any unique string per attempt: retrying with the same key never charges twice.
    pub idempotency_key: String,
}

/// Admin: a support correction to a user's wallet.
#[derive(InputObject)]
pub struct AdjustWalletInput {
    pub user_id: ID,
    /// Paise to add (positive) or take away (negative).
    pub amount: Paise,
    /// Why; kept on the ledger.
    pub reason: String,
    pub idempotency_key: String,
}

/// The result of checking every ledger invariant.
#[derive(SimpleObject)]
pub struct LedgerCheck {
    /// True when there are no violations.
    pub ok: bool,
    pub accounts_checked: i64,
    pub transfers_checked: i64,
    /// Sum of every account balance: zero in a sound ledger.
    pub total_balance: Paise,
    /// Each broken invariant, described.
    pub violations: Vec<String>,
}

#[derive(Default)]
pub struct WalletQuery;

#[Object]
impl WalletQuery {
    /// The signed-in user's wallet.
    async fn wallet(&self, ctx: &Context<'_>) -> AppResult<Wallet> {
        let viewer = ctx.viewer()?;
        let (available, held) = escrow::balances(&ctx.state().db, viewer.user_id).await?;
        Ok(Wallet { available, held })
    }

    /// The signed-in user's wallet history, newest first.
    async fn wallet_transactions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        kind: Option<TransactionKind>,
    ) -> AppResult<Connection<SeqCursor, WalletTransaction, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let db = &ctx.state().db;
        let (available, held) = escrow::balances(db, viewer.user_id).await?;
        transactions(db, &available, &held, first, after, kind).await
    }

    /// One of the signed-in user's recharges.
    async fn recharge(&self, ctx: &Context<'_>, id: ID) -> AppResult<Option<Recharge>> {
        let viewer = ctx.viewer()?;
        let id = parse_id("id", &id)?;
        let found = recharge::find(&ctx.state().db, id).await?;
        Ok(found
            .filter(|r| r.user_id == viewer.user_id || viewer.is_admin())
            .map(Recharge))
    }

    /// Admin: checks every ledger invariant.
    async fn ledger_check(&self, ctx: &Context<'_>) -> AppResult<LedgerCheck> {
        ctx.admin()?;
        let report = ledger::check(&ctx.state().db).await?;
        Ok(LedgerCheck {
            ok: report.ok(),
            accounts_checked: report.accounts_checked,
            transfers_checked: report.transfers_checked,
            total_balance: Paise(report.total_balance),
            violations: report.violations,
        })
    }
}

#[derive(Default)]
pub struct WalletMutation;

#[Object]
impl WalletMutation {
    /// Starts a recharge through the payment provider. It is PENDING until the provider
    /// confirms; the wallet is credited once, when it does.
    async fn recharge_wallet(
        &self,
        ctx: &Context<'_>,
        input: RechargeInput,
    ) -> AppResult<Recharge> {
        let viewer = ctx.viewer()?;
        let user = viewer.user_id.to_string();
        crate::ratelimit::check(ctx, crate::ratelimit::Action::Recharge, Some(&user)).await?;
        let created = recharge::request(
            ctx.state(),
            viewer.user_id,
            input.amount.0,
            &input.idempotency_key,
        )
        .await?;
        Ok(Recharge(created))
    }

    /// Admin: credits or debits a user's wallet, with a reason, as a ledger transfer.
    async fn adjust_wallet(
        &self,
        ctx: &Context<'_>,
        input: AdjustWalletInput,
    ) -> AppResult<WalletTransaction> {
        let actor = ctx.admin()?;
        let user_id = parse_id("userId", &input.user_id)?;
        let (transfer, account) = super::admin::adjust_wallet(
            ctx.state(),
            actor,
            user_id,
            input.amount.0,
            &input.reason,
            &input.idempotency_key,
        )
        .await?;
        Ok(WalletTransaction {
            transfer,
            account,
            balance: WalletBalance::Available,
        })
    }
}
