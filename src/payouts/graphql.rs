//! `requestPayout`, `payouts`, `setPayoutAccount`, `payoutAccount`; admin `approvePayout`,
//! `rejectPayout`, `markPayoutPaid`.

use async_graphql::{Context, Enum, ID, InputObject, Object, connection::Connection};
use chrono::{DateTime, Utc};
use entity::{
    payout_accounts::{self, PayoutAccountKind as AccountKindModel},
    payouts::{self, PayoutSource as SourceModel, PayoutStatus as StatusModel},
};

use super::{accounts, service};
use crate::{
    accounts::{graphql::User, loaders::UserById},
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Cursor, Page},
        scalars::{Money, Paise},
    },
    vendors::{graphql::Vendor, loaders::VendorById},
};

/// Where a payout stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PayoutStatus {
    /// Waiting for an admin; the amount is reserved from its source.
    Requested,
    /// Approved; waiting to be paid.
    Approved,
    /// Rejected; the amount is back in its source (earnings or wallet).
    Rejected,
    /// Paid out to the user's payout account.
    Paid,
    /// Sent to the payout provider; waiting for it to reach the account.
    Processing,
    /// The provider failed, rejected or reversed it; the amount is back in its source.
    Reversed,
}

/// What a payout draws from.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PayoutSource {
    /// A vendor's earnings from its orders (vendors with approved KYC).
    Earnings,
    /// The user's available wallet balance (a household paid for its scrap, or any user).
    Wallet,
}

impl From<SourceModel> for PayoutSource {
    fn from(s: SourceModel) -> Self {
        match s {
            SourceModel::Earnings => Self::Earnings,
            SourceModel::Wallet => Self::Wallet,
        }
    }
}

impl From<PayoutSource> for SourceModel {
    fn from(s: PayoutSource) -> Self {
        match s {
            PayoutSource::Earnings => Self::Earnings,
            PayoutSource::Wallet => Self::Wallet,
        }
    }
}

impl From<StatusModel> for PayoutStatus {
    fn from(s: StatusModel) -> Self {
        match s {
            StatusModel::Requested => Self::Requested,
            StatusModel::Approved => Self::Approved,
            StatusModel::Rejected => Self::Rejected,
            StatusModel::Paid => Self::Paid,
            StatusModel::Processing => Self::Processing,
            StatusModel::Reversed => Self::Reversed,
        }
    }
}

impl From<PayoutStatus> for StatusModel {
    fn from(s: PayoutStatus) -> Self {
        match s {
            PayoutStatus::Requested => Self::Requested,
            PayoutStatus::Approved => Self::Approved,
            PayoutStatus::Rejected => Self::Rejected,
            PayoutStatus::Paid => Self::Paid,
            PayoutStatus::Processing => Self::Processing,
            PayoutStatus::Reversed => Self::Reversed,
        }
    }
}

/// A user's request to be paid: a vendor's earnings, or the user's wallet balance.
pub struct Payout(pub payouts::Model);

#[Object]
impl Payout {
    /// The payout's id (RazorpayX's `reference_id`).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The vendor whose earnings are paid (EARNINGS payouts; null for WALLET payouts).
    async fn vendor(&self, ctx: &Context<'_>) -> AppResult<Option<Vendor>> {
        let Some(vendor) = self.0.vendor_id else {
            return Ok(None);
        };
        Ok(ctx.loader().load_one(VendorById(vendor)).await?.map(Vendor))
    }

    /// The user being paid (a vendor's user for EARNINGS payouts).
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(ctx
            .loader()
            .load_one(UserById(self.0.user_id))
            .await?
            .map(User))
    }

    /// What it draws from: the vendor's EARNINGS or the user's WALLET.
    async fn source(&self) -> PayoutSource {
        self.0.source.into()
    }

    /// In paise.
    async fn amount(&self) -> Paise {
        Paise(self.0.amount)
    }

    /// The amount with currency and formatting.
    async fn amount_money(&self) -> Money {
        Money::inr(self.0.amount)
    }

    /// REQUESTED → APPROVED → (PROCESSING →) PAID | REVERSED; or REJECTED.
    async fn status(&self) -> PayoutStatus {
        self.0.status.into()
    }

    /// Why it was rejected.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// The bank or provider reference of the payment.
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }

    /// When the user asked.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When an admin approved or rejected it.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    /// When it was paid.
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid_at
    }
}

/// Ask to be paid.
#[derive(InputObject)]
pub struct PayoutInput {
    /// In paise; at most what the source holds (earnings available for payout, or the
    /// available wallet balance).
    pub amount: Paise,
    /// Any unique string per attempt: retrying with the same key never requests twice.
    pub idempotency_key: String,
    /// What to draw from. Default: EARNINGS for a user with a vendor profile, WALLET for
    /// anyone else.
    pub source: Option<PayoutSource>,
}

/// Where a user is paid: a UPI VPA, or a bank account. Give `vpa` alone, or `accountNumber`,
/// `ifsc` and `holderName` together.
#[derive(InputObject)]
pub struct PayoutAccountInput {
    /// A UPI VPA, like `name@okbank`.
    pub vpa: Option<String>,
    /// 9 to 18 digits.
    pub account_number: Option<String>,
    /// The branch's IFSC, like `HDFC0001234`.
    pub ifsc: Option<String>,
    /// The name on the bank account.
    pub holder_name: Option<String>,
}

/// Which kind of payout account.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PayoutAccountKind {
    /// A UPI VPA.
    Vpa,
    /// A bank account (IMPS or NEFT).
    Bank,
}

/// Where a user is paid.
pub struct PayoutAccount(pub payout_accounts::Model);

#[Object]
impl PayoutAccount {
    /// The account's id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// VPA or BANK.
    async fn kind(&self) -> PayoutAccountKind {
        match self.0.kind {
            AccountKindModel::Vpa => PayoutAccountKind::Vpa,
            AccountKindModel::Bank => PayoutAccountKind::Bank,
        }
    }

    /// The UPI VPA (VPA accounts).
    async fn vpa(&self) -> Option<&str> {
        self.0.vpa.as_deref()
    }

    /// The last four digits of the account number (bank accounts); the rest is not kept.
    async fn account_number_last4(&self) -> Option<&str> {
        self.0.account_number_last4.as_deref()
    }

    /// The branch's IFSC (bank accounts).
    async fn ifsc(&self) -> Option<&str> {
        self.0.ifsc.as_deref()
    }

    /// The name on the bank account.
    async fn holder_name(&self) -> Option<&str> {
        self.0.holder_name.as_deref()
    }

    /// When the payout provider accepted the account (null with manual payouts).
    async fn verified_at(&self) -> Option<DateTime<Utc>> {
        self.0.verified_at
    }
}

#[derive(Default)]
pub struct PayoutsQuery;

#[Object]
impl PayoutsQuery {
    /// The signed-in user's payout account, if one is set.
    async fn payout_account(&self, ctx: &Context<'_>) -> AppResult<Option<PayoutAccount>> {
        let viewer = ctx.viewer()?;
        Ok(accounts::find(&ctx.state().db, viewer.user_id)
            .await?
            .map(PayoutAccount))
    }

    /// Payouts, newest first: the signed-in user's own (of both sources), or (admins)
    /// everyone's.
    async fn payouts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<PayoutStatus>,
        source: Option<PayoutSource>,
    ) -> AppResult<Connection<Cursor, Payout, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let page = Page::<Cursor>::new(first, after)?;
        let filter = service::PayoutFilter {
            user_id: (!viewer.is_admin()).then_some(viewer.user_id),
            source: source.map(Into::into),
            status: status.map(Into::into),
            ..Default::default()
        };
        let (rows, total) = service::page(&ctx.state().db, filter, &page).await?;
        Ok(relay::connection(
            &page,
            rows,
            total,
            |p| Cursor {
                at: p.created_at,
                id: p.id,
            },
            Payout,
        ))
    }
}

#[derive(Default)]
pub struct PayoutsMutation;

#[Object]
impl PayoutsMutation {
    /// Asks to be paid `amount`: a vendor (KYC APPROVED) from its earnings, any user from its
    /// available wallet balance (`source`; by default EARNINGS for vendors, WALLET for everyone
    /// else). INSUFFICIENT_FUNDS when the source holds less.
    async fn request_payout(&self, ctx: &Context<'_>, input: PayoutInput) -> AppResult<Payout> {
        let viewer = ctx.viewer()?;
        let db = &ctx.state().db;
        let draw = service::choose_source(db, viewer.user_id, input.source.map(Into::into)).await?;
        let payout =
            service::request_payout(db, draw, input.amount.0, &input.idempotency_key).await?;
        Ok(Payout(payout))
    }

    /// Admin: approves a requested payout. With RazorpayX payouts it is sent at once and
    /// becomes PROCESSING (the payee needs a payout account); the provider's webhook then
    /// makes it PAID or REVERSED.
    async fn approve_payout(&self, ctx: &Context<'_>, id: ID) -> AppResult<Payout> {
        let actor = ctx.admin()?;
        let id = parse_id("id", &id)?;
        let payout = super::admin::approve(ctx.state(), actor, id).await?;
        Ok(Payout(payout))
    }

    /// Sets where the signed-in user is paid: a UPI VPA, or a bank account (account number,
    /// IFSC, holder name). Replaces the previous one.
    async fn set_payout_account(
        &self,
        ctx: &Context<'_>,
        input: PayoutAccountInput,
    ) -> AppResult<PayoutAccount> {
        let viewer = ctx.viewer()?;
        let request = accounts::PayoutAccountRequest {
            vpa: input.vpa,
            account_number: input.account_number,
            ifsc: input.ifsc,
            holder_name: input.holder_name,
        };
        Ok(PayoutAccount(
            accounts::set(ctx.state(), viewer.user_id, &request).await?,
        ))
    }

    /// Admin: rejects a requested or approved payout; the amount returns to its source (the
    /// vendor's earnings or the user's wallet).
    async fn reject_payout(&self, ctx: &Context<'_>, id: ID, reason: String) -> AppResult<Payout> {
        let actor = ctx.admin()?;
        let id = parse_id("id", &id)?;
        let payout = super::admin::reject(ctx.state(), actor, id, &reason).await?;
        Ok(Payout(payout))
    }

    /// Admin: records that an approved payout was paid, with the bank or provider reference.
    async fn mark_payout_paid(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reference: String,
    ) -> AppResult<Payout> {
        let actor = ctx.admin()?;
        let id = parse_id("id", &id)?;
        let payout = super::admin::mark_paid(ctx.state(), actor, id, &reference).await?;
        Ok(Payout(payout))
    }
}
