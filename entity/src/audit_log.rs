//! `audit_log`: every admin action, who did it, to what, why, and the values before and after.
//! Inserted in the same transaction as the change; never updated or deleted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The admin who acted (none for the system).
    pub actor_id: Option<Uuid>,
    /// What was done, `domain.verb` (`user.deactivate`, `order.refund`, …).
    pub action: String,
    /// The kind of thing acted on (`user`, `vendor`, `order`, `setting`, …).
    pub subject_type: String,
    /// Its id (a UUID, or a setting's key).
    pub subject_id: String,
    pub reason: Option<String>,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
