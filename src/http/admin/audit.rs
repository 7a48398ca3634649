//! The audit log: every admin action (console or GraphQL), filterable by actor, action,
//! subject and dates; read-only (there is no form here, and no route that changes a row).

use axum::extract::{Path, Query, State};
use entity::{audit_log, users};
use maud::{Markup, html};
use sea_orm::EntityTrait as _;
use serde::Deserialize;

use super::{
    session::Admin,
    view::FlashFields,
    view::{self, Flash, PageResult},
};
use crate::{
    audit::{self, AuditFilter},
    error::AppError,
    http::HttpState,
};

fn json_text(value: Option<&serde_json::Value>) -> String {
    value
        .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
        .unwrap_or_else(|| "—".into())
}

/// A link to the page of an entry's subject.
fn subject_link(entry: &audit_log::Model) -> Markup {
    let section = match entry.subject_type.as_str() {
        "user" => Some("users"),
        "vendor" => Some("vendors"),
        "product" => Some("products"),
        "order" => Some("orders"),
        "pickup" => Some("pickups"),
        "payout" => Some("payouts"),
        "job" if entry.subject_id.contains('-') => Some("jobs"),
        _ => None,
    };
    html! {
        (entry.subject_type) " "
        @match section {
            Some(section) => a href={"/admin/" (section) "/" (entry.subject_id)} { code { (entry.subject_id) } },
            None => code { (entry.subject_id) },
        }
    }
}

/// Entries as a table (also on detail pages, as their history).
pub fn entries_table(entries: &[audit_log::Model]) -> Markup {
    html! {
        div.table-wrap { table {
            thead { tr { th { "When" } th { "Action" } th { "Subject" } th { "Reason" } th.hide-sm { "Before" } th.hide-sm { "After" } } }
            tbody {
                @for e in entries {
                    tr {
                        td { a href={"/admin/audit/" (e.id)} { (view::when(e.created_at)) } }
                        td { code { (e.action) } }
                        td { (subject_link(e)) }
                        td { (e.reason.as_deref().unwrap_or("—")) }
                        td.hide-sm { pre.json { (json_text(e.before.as_ref())) } }
                        td.hide-sm { pre.json { (json_text(e.after.as_ref())) } }
                    }
                }
                @if entries.is_empty() { tr { td colspan="6" .muted { "Nothing recorded." } } }
            }
        } }
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    after: Option<String>,
    #[serde(flatten)]
    flash: FlashFields,
}

/// `GET /admin/audit`.
pub async fn list(
    admin: Admin,
    State(http): State<HttpState>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let page = view::list_page(query.after.as_deref())?;
    let actor = match query.actor.trim() {
        "" => None,
        text => Some(
            text.parse()
                .map_err(|_| AppError::bad_input("actor", "is not a valid id"))?,
        ),
    };
    let filter = AuditFilter {
        actor_id: actor,
        action: Some(query.action.clone()),
        subject_id: Some(query.subject.clone()),
        from: view::day_start(Some(&query.from))?,
        to: view::day_start(Some(&query.to))?.map(|t| t + chrono::Duration::days(1)),
    };
    let (rows, total) = audit::service::list(&http.app.db, &filter, &page).await?;
    let (rows, next) = view::split_page(rows, page.limit, |e| view::at_id(e.created_at, e.id));
    let body = html! {
        form.filters method="get" action="/admin/audit" {
            label { "Actor id" input type="text" name="actor" value=(query.actor); }
            label { "Action" input type="text" name="action" value=(query.action) placeholder="order.refund"; }
            label { "Subject id" input type="text" name="subject" value=(query.subject); }
            label { "From" input type="date" name="from" value=(query.from); }
            label { "To" input type="date" name="to" value=(query.to); }
            button type="submit" { "Filter" }
        }
        (entries_table(&rows))
        (view::pager("/admin/audit", &[("actor", query.actor.clone()), ("action", query.action.clone()), ("subject", query.subject.clone()), ("from", query.from.clone()), ("to", query.to.clone())], next, total))
    };
    Ok(admin.page("/admin/audit", "Audit log", &query.flash.flash(), body))
}

/// `GET /admin/audit/{id}`.
pub async fn detail(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let id = view::id(&id)?;
    let entry = audit_log::Entity::find_by_id(id)
        .one(&http.app.db)
        .await?
        .ok_or_else(|| AppError::not_found("audit entry"))?;
    let actor = match entry.actor_id {
        Some(actor) => users::Entity::find_by_id(actor).one(&http.app.db).await?,
        None => None,
    };
    let body = html! {
        dl.facts {
            dt { "When" } dd { (view::when(entry.created_at)) }
            dt { "Who" } dd {
                @match &actor {
                    Some(actor) => a href={"/admin/users/" (actor.id)} { (actor.email) },
                    None => "the system",
                }
            }
            dt { "Action" } dd { code { (entry.action) } }
            dt { "Subject" } dd { (subject_link(&entry)) }
            dt { "Reason" } dd { (entry.reason.as_deref().unwrap_or("—")) }
            dt { "Before" } dd { pre.json { (json_text(entry.before.as_ref())) } }
            dt { "After" } dd { pre.json { (json_text(entry.after.as_ref())) } }
        }
        p { a href={"/admin/audit?subject=" (entry.subject_id)} { "Everything done to this subject" } }
    };
    Ok(admin.page("/admin/audit", "Audit entry", &flash, body))
}
