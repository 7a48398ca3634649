//! `requestPayout`, `payouts`; admin `approvePayout`, `rejectPayout`, `markPayoutPaid`.

use async_graphql::{Context, Enum, ID, InputObject, Object, connection::Connection};
use chrono::{DateTime, Utc};
use entity::payouts::{self, PayoutStatus as StatusModel};
use sea_orm::TransactionTrait as _;

use super::service;
use crate::{
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Cursor, Page},
        scalars::{Money, Paise},
    },
    vendors::{graphql::Vendor, loaders::VendorById, service as vendors},
};

/// Where a payout stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PayoutStatus {
    /// Waiting for an admin; the amount is reserved from the vendor's earnings.
    Requested,
    /// Approved; waiting to be paid.
    Approved,
    /// Rejected; the amount is back in the vendor's earnings.
    Rejected,
    /// Paid out to the vendor.
    Paid,
}

impl From<StatusModel> for PayoutStatus {
    fn from(s: StatusModel) -> Self {
        match s {
            StatusModel::Requested => Self::Requested,
            StatusModel::Approved => Self::Approved,
            StatusModel::Rejected => Self::Rejected,
            StatusModel::Paid => Self::Paid,
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
        }
    }
}

/// A vendor's request to be paid its earnings.
pub struct Payout(pub payouts::Model);

#[Object]
impl Payout {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn vendor(&self, ctx: &Context<'_>) -> AppResult<Option<Vendor>> {
        Ok(ctx
            .loader()
            .load_one(VendorById(self.0.vendor_id))
            .await?
            .map(Vendor))
    }

    /// In paise.
    async fn amount(&self) -> Paise {
        Paise(self.0.amount)
    }

    /// The amount with currency and formatting.
    async fn amount_money(&self) -> Money {
        Money::inr(self.0.amount)
    }

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

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When an admin approved or rejected it.
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }

    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid_at
    }
}

/// Ask to be paid.
#[derive(InputObject)]
pub struct PayoutInput {
    /// In paise; at most the earnings available for payout.
    pub amount: Paise,
    /// Any unique string per attempt: retrying with the same key never requests twice.
    pub idempotency_key: String,
}

#[derive(Default)]
pub struct PayoutsQuery;

#[Object]
impl PayoutsQuery {
    /// Payouts, newest first: a vendor's own, or (admins) everyone's.
    async fn payouts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<PayoutStatus>,
    ) -> AppResult<Connection<Cursor, Payout, ConnectionFields>> {
        let viewer = ctx.viewer()?;
        let page = Page::<Cursor>::new(first, after)?;
        let db = &ctx.state().db;
        let vendor = if viewer.is_admin() {
            None
        } else {
            Some(vendors::require_own(db, viewer.user_id).await?.id)
        };
        let (rows, total) = service::page(db, vendor, status.map(Into::into), &page).await?;
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
    /// Vendor (KYC APPROVED): asks to be paid `amount` of its earnings. INSUFFICIENT_FUNDS when
    /// the earnings available for payout are lower.
    async fn request_payout(&self, ctx: &Context<'_>, input: PayoutInput) -> AppResult<Payout> {
        let viewer = ctx.viewer()?;
        let db = &ctx.state().db;
        let vendor = vendors::require_own(db, viewer.user_id).await?;
        let payout =
            service::request_payout(db, &vendor, input.amount.0, &input.idempotency_key).await?;
        Ok(Payout(payout))
    }

    /// Admin: approves a requested payout.
    async fn approve_payout(&self, ctx: &Context<'_>, id: ID) -> AppResult<Payout> {
        ctx.admin()?;
        let id = parse_id("id", &id)?;
        let txn = ctx.state().db.begin().await?;
        let payout = service::approve(&txn, id).await?;
        txn.commit().await?;
        Ok(Payout(payout))
    }

    /// Admin: rejects a requested or approved payout; the amount returns to the vendor's
    /// earnings.
    async fn reject_payout(&self, ctx: &Context<'_>, id: ID, reason: String) -> AppResult<Payout> {
        ctx.admin()?;
        let id = parse_id("id", &id)?;
        let txn = ctx.state().db.begin().await?;
        let payout = service::reject(&txn, id, &reason).await?;
        txn.commit().await?;
        Ok(Payout(payout))
    }

    /// Admin: records that an approved payout was paid, with the bank or provider reference.
    async fn mark_payout_paid(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reference: String,
    ) -> AppResult<Payout> {
        ctx.admin()?;
        let id = parse_id("id", &id)?;
        let txn = ctx.state().db.begin().await?;
        let payout = service::mark_paid(&txn, id, &reference).await?;
        txn.commit().await?;
        Ok(Payout(payout))
    }
}
