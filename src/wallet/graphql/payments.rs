//! Real payment rails in GraphQL: `Recharge.checkout`, `confirmRecharge` (Razorpay Checkout's
//! handler result), and admin `unmatchedWebhookEvents` (events that matched no recharge or
//! payout, or whose amount or currency differed: for review).

use async_graphql::{Context, ID, InputObject, Object, connection::Connection};
use chrono::{DateTime, Utc};
use entity::{recharges, webhook_events};

use super::Recharge;
use crate::wallet::{ledger::CURRENCY, recharge, webhook};
use crate::{
    AppState,
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields},
        scalars::Paise,
    },
    paging::{Cursor, Page},
};

/// What the app needs to open the provider's payment page.
pub struct RechargeCheckout {
    provider: String,
    provider_order_id: String,
    key_id: Option<String>,
    client_secret: Option<String>,
    amount: i64,
}

impl RechargeCheckout {
    /// The checkout of a recharge that has a provider order.
    pub fn of(state: &AppState, recharge: &recharges::Model) -> Option<Self> {
        let order = recharge.provider_order_id.clone()?;
        let key_id = match recharge.provider.as_str() {
            crate::wallet::providers::razorpay::NAME => {
                state.providers.razorpay_key_id().map(str::to_owned)
            }
            _ => None,
        };
        Some(Self {
            provider: recharge.provider.clone(),
            provider_order_id: order,
            key_id,
            client_secret: recharge.client_secret.clone(),
            amount: recharge.amount,
        })
    }
}

#[Object]
impl RechargeCheckout {
    /// `razorpay` or `stripe`.
    async fn provider(&self) -> &str {
        &self.provider
    }

    /// Razorpay: the order id (Checkout's `order_id`). Stripe: the PaymentIntent id.
    async fn provider_order_id(&self) -> &str {
        &self.provider_order_id
    }

    /// Razorpay: the public key id Checkout opens with.
    async fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// Stripe: the PaymentIntent's client secret, for the payment sheet.
    async fn client_secret(&self) -> Option<&str> {
        self.client_secret.as_deref()
    }

    /// In paise.
    async fn amount(&self) -> Paise {
        Paise(self.amount)
    }

    /// ISO 4217: `INR`.
    async fn currency(&self) -> &str {
        CURRENCY
    }
}

/// Razorpay Checkout's handler result for a recharge.
#[derive(InputObject)]
pub struct ConfirmRechargeInput {
    /// The recharge the checkout was opened for.
    pub recharge_id: ID,
    /// `razorpay_payment_id`.
    pub provider_payment_id: String,
    /// `razorpay_signature`.
    pub signature: String,
}

/// A provider event kept for an admin to review.
pub struct WebhookEvent(webhook_events::Model);

#[Object]
impl WebhookEvent {
    /// Our id of the stored event.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// `razorpay`, `stripe`, `razorpayx` or `sandbox`.
    async fn provider(&self) -> &str {
        &self.0.provider
    }

    /// The provider's event id.
    async fn event_id(&self) -> &str {
        &self.0.event_id
    }

    /// The provider's event type, like `payment.captured`.
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }

    /// `unmatched` (no recharge or payout of ours), `mismatch` (amount or currency differ) or
    /// `second_payment` (a recharge already paid was paid again: refund it).
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }

    /// Why it needs review.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }

    /// The recharge or payout it was about, when one matched.
    async fn subject_id(&self) -> Option<ID> {
        self.0.subject_id.map(|id| ID(id.to_string()))
    }

    /// The body as the provider signed it.
    async fn payload(&self) -> Option<&str> {
        self.0.payload.as_deref()
    }

    /// When it arrived.
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }
}

#[derive(Default)]
pub struct PaymentsQuery;

#[Object]
impl PaymentsQuery {
    /// Admin: provider events that matched no recharge or payout, whose amount or currency
    /// differed, or that paid a recharge a second time (nothing was credited for them), newest
    /// first.
    async fn unmatched_webhook_events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<Cursor, WebhookEvent, ConnectionFields>> {
        ctx.admin()?;
        let page = Page::<Cursor>::new(first, after)?;
        let (rows, total) = webhook::unmatched(&ctx.state().db, &page).await?;
        Ok(relay::connection(
            &page,
            rows,
            total,
            |e| Cursor {
                at: e.received_at,
                id: e.id,
            },
            WebhookEvent,
        ))
    }
}

#[derive(Default)]
pub struct PaymentsMutation;

#[Object]
impl PaymentsMutation {
    /// Razorpay Checkout's handler result: credits the recharge when the signature proves the
    /// payment (once; a webhook for the same payment then changes nothing). A wrong signature
    /// is BAD_USER_INPUT on `signature` and changes nothing.
    async fn confirm_recharge(
        &self,
        ctx: &Context<'_>,
        input: ConfirmRechargeInput,
    ) -> AppResult<Recharge> {
        let viewer = ctx.viewer()?;
        let id = parse_id("rechargeId", &input.recharge_id)?;
        let confirmed = recharge::confirm(
            ctx.state(),
            viewer.user_id,
            id,
            &input.provider_payment_id,
            &input.signature,
        )
        .await?;
        Ok(Recharge(confirmed))
    }
}
