//! `webhook_events`: every verified provider event, stored by (provider, event id) before it is
//! acted on, so a redelivered event is recognised and does nothing. The job that processes it
//! writes its `outcome`; an event that matched nothing (or whose amount or currency differed) is
//! kept for an admin to review.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub provider: String,
    pub event_id: String,
    pub event_type: String,
    /// What processing it did: `received` (not yet processed), `credited`, `failed`,
    /// `already_settled`, `ignored`, and for review `unmatched` or `mismatch`.
    pub outcome: String,
    pub received_at: DateTimeUtc,
    /// The raw body as the provider signed it.
    pub payload: Option<String>,
    /// What an admin should know (why it matched nothing, which amounts differed).
    pub detail: Option<String>,
    /// The recharge or payout it was about, when it matched one.
    pub subject_id: Option<Uuid>,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
