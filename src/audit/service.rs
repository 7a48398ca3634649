//! Writing and reading the audit log.

use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    error::AppResult,
    paging::{Cursor, Page},
};

/// One admin action, as recorded.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The admin who acted (`None`: the system or a command-line tool).
    pub actor_id: Option<Uuid>,
    /// `domain.verb`: `user.deactivate`, `vendor.kyc_approve`, `order.refund`, …
    pub action: &'static str,
    /// `user`, `vendor`, `product`, `order`, `payout`, `wallet`, `job`, `setting`, `category`.
    pub subject_type: &'static str,
    pub subject_id: String,
    pub reason: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Entry {
    /// An entry for `actor` doing `action` to `subject_type` `subject_id`.
    pub fn new(
        actor_id: Uuid,
        action: &'static str,
        subject_type: &'static str,
        subject_id: impl ToString,
    ) -> Self {
        Self {
            actor_id: Some(actor_id),
            action,
            subject_type,
            subject_id: subject_id.to_string(),
            reason: None,
            before: None,
            after: None,
        }
    }

    /// The reason the admin gave; blank counts as none.
    pub fn reason(mut self, reason: Option<&str>) -> Self {
        self.reason = reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        self
    }

    pub fn change(mut self, before: Value, after: Value) -> Self {
        self.before = Some(before);
        self.after = Some(after);
        self
    }
}

/// Writes `entry` on `conn`: call it inside the transaction of the change it records.
#[tracing::instrument(skip_all, fields(action = entry.action, subject = %entry.subject_id))]
pub async fn record(conn: &impl ConnectionTrait, entry: Entry) -> AppResult<audit_log::Model> {
    let row = audit_log::ActiveModel {
        id: Set(crate::db::new_id()),
        actor_id: Set(entry.actor_id),
        action: Set(entry.action.to_owned()),
        subject_type: Set(entry.subject_type.to_owned()),
        subject_id: Set(entry.subject_id),
        reason: Set(entry.reason),
        before: Set(entry.before),
        after: Set(entry.after),
        created_at: Set(Utc::now()),
    };
    Ok(audit_log::Entity::insert(row)
        .exec_with_returning(conn)
        .await?)
}

/// Which entries to list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    /// Exactly this action (`order.refund`).
    pub action: Option<String>,
    pub subject_id: Option<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

/// Entries newest first, with the total count under the filter.
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &AuditFilter,
    page: &Page<Cursor>,
) -> AppResult<(Vec<audit_log::Model>, i64)> {
    let mut condition = Condition::all();
    if let Some(actor) = filter.actor_id {
        condition = condition.add(audit_log::Column::ActorId.eq(actor));
    }
    if let Some(action) = filter
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        condition = condition.add(audit_log::Column::Action.eq(action));
    }
    if let Some(subject) = filter
        .subject_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        condition = condition.add(audit_log::Column::SubjectId.eq(subject));
    }
    if let Some(from) = filter.from {
        condition = condition.add(audit_log::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        condition = condition.add(audit_log::Column::CreatedAt.lt(to));
    }
    crate::paging::newest_first::<audit_log::Entity>(
        conn,
        condition,
        audit_log::Column::CreatedAt,
        audit_log::Column::Id,
        page,
    )
    .await
}

/// The entries about one subject, newest first (a detail page's history).
pub async fn of_subject(
    conn: &impl ConnectionTrait,
    subject_id: &str,
    limit: u64,
) -> AppResult<Vec<audit_log::Model>> {
    let filter = AuditFilter {
        subject_id: Some(subject_id.to_owned()),
        ..AuditFilter::default()
    };
    let page = Page {
        limit: limit.saturating_sub(1),
        after: None,
    };
    Ok(list(conn, &filter, &page).await?.0)
}
