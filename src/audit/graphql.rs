//! `auditLog`: the admin actions, filterable, read-only.

use async_graphql::{Context, ID, InputObject, Json, Object, connection::Connection};
use chrono::{DateTime, Utc};
use entity::audit_log;

use super::service::{self, AuditFilter};
use crate::{
    accounts::{graphql::User, loaders::UserById},
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        ids::parse_id,
        relay::{self, ConnectionFields, Cursor, Page},
    },
};

/// One admin action: who did what to which object, why, and the values before and after.
pub struct AuditEntry(pub audit_log::Model);

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The admin who acted; null for the system or a command-line tool (or a removed account).
    async fn actor(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        let Some(actor) = self.0.actor_id else {
            return Ok(None);
        };
        Ok(ctx.loader().load_one(UserById(actor)).await?.map(User))
    }

    /// What was done, `domain.verb`: `user.deactivate`, `vendor.kyc_approve`, `order.refund`, …
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// The kind of object acted on: `user`, `vendor`, `product`, `order`, `payout`, `wallet`,
    /// `job`, `setting`, `category`.
    async fn subject_type(&self) -> &str {
        &self.0.subject_type
    }

    /// The object's id (a setting's key for settings).
    async fn subject_id(&self) -> &str {
        &self.0.subject_id
    }

    /// The reason the admin gave, where the action asks for one.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }

    /// The changed values before the action (JSON).
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        self.0.before.clone().map(Json)
    }

    /// The changed values after the action (JSON).
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        self.0.after.clone().map(Json)
    }

    /// When it was done.
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Narrows the audit log; every field given must match.
#[derive(InputObject, Default)]
pub struct AuditLogFilter {
    /// Only this admin's actions.
    pub actor_id: Option<ID>,
    /// Only this action (`order.refund`).
    pub action: Option<String>,
    /// Only actions on this object.
    pub subject_id: Option<ID>,
    /// At or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Admin: the audit log, newest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditLogFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<Cursor, AuditEntry, ConnectionFields>> {
        ctx.admin()?;
        let filter = filter.unwrap_or_default();
        let filter = AuditFilter {
            actor_id: filter
                .actor_id
                .as_ref()
                .map(|id| parse_id("actorId", id))
                .transpose()?,
            action: filter.action,
            subject_id: filter.subject_id.map(|id| id.0),
            from: filter.from,
            to: filter.to,
        };
        let page = Page::<Cursor>::new(first, after)?;
        let (rows, total) = service::list(&ctx.state().db, &filter, &page).await?;
        Ok(relay::connection(
            &page,
            rows,
            total,
            |row| Cursor {
                at: row.created_at,
                id: row.id,
            },
            AuditEntry,
        ))
    }
}
