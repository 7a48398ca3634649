//! Payouts: lists by status (waiting, approved, paid, rejected), source (a vendor's earnings or
//! a user's wallet), user and vendor, each row with whose payout it is; approve, reject with a
//! reason, mark paid with the bank or provider reference.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
};
use entity::{
    payouts::{self as payout_rows, PayoutSource, PayoutStatus},
    users, vendors,
};
use maud::{Markup, html};
use sea_orm::{ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    session::Admin,
    vendors::ReasonForm,
    view::FlashFields,
    view::{self, Flash, PageResult},
};
use crate::{
    audit,
    http::HttpState,
    payouts::{self, admin::status_name},
};

const STATUSES: [(&str, &str); 6] = [
    ("REQUESTED", "Waiting"),
    ("APPROVED", "Approved"),
    ("PROCESSING", "Processing"),
    ("PAID", "Paid"),
    ("REJECTED", "Rejected"),
    ("REVERSED", "Reversed"),
];

const SOURCES: [(&str, &str); 2] = [("EARNINGS", "Vendor earnings"), ("WALLET", "Wallet")];

fn parse_status(text: &str) -> Option<PayoutStatus> {
    match text {
        "REQUESTED" => Some(PayoutStatus::Requested),
        "APPROVED" => Some(PayoutStatus::Approved),
        "PROCESSING" => Some(PayoutStatus::Processing),
        "PAID" => Some(PayoutStatus::Paid),
        "REJECTED" => Some(PayoutStatus::Rejected),
        "REVERSED" => Some(PayoutStatus::Reversed),
        _ => None,
    }
}

fn parse_source(text: &str) -> Option<PayoutSource> {
    match text {
        "EARNINGS" => Some(PayoutSource::Earnings),
        "WALLET" => Some(PayoutSource::Wallet),
        _ => None,
    }
}

/// What the payout draws from, as an operator reads it.
fn source_label(source: PayoutSource) -> &'static str {
    match source {
        PayoutSource::Earnings => "Vendor earnings",
        PayoutSource::Wallet => "Wallet",
    }
}

fn optional_id(text: &str) -> Result<Option<Uuid>, view::PageError> {
    match text.trim() {
        "" => Ok(None),
        text => view::id(text).map(Some),
    }
}

/// The users and vendors `rows` pay, by id, read in one query each.
async fn payees(
    db: &impl ConnectionTrait,
    rows: &[payout_rows::Model],
) -> Result<(HashMap<Uuid, users::Model>, HashMap<Uuid, vendors::Model>), sea_orm::DbErr> {
    let user_ids: Vec<Uuid> = rows.iter().map(|p| p.user_id).collect();
    let vendor_ids: Vec<Uuid> = rows.iter().filter_map(|p| p.vendor_id).collect();
    let users = users::Entity::find()
        .filter(users::Column::Id.is_in(user_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let vendors = vendors::Entity::find()
        .filter(vendors::Column::Id.is_in(vendor_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    Ok((users, vendors))
}

/// Whose payout it is: the user, and for earnings the vendor's business.
fn payee(
    payout: &payout_rows::Model,
    user: Option<&users::Model>,
    vendor: Option<&vendors::Model>,
) -> Markup {
    html! {
        a href={"/admin/users/" (payout.user_id)} {
            (user.map_or("(unknown user)", |u| u.full_name.as_str()))
        }
        @if let Some(v) = vendor {
            " · " a href={"/admin/vendors/" (v.id)} { (v.business_name) }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    vendor: String,
    after: Option<String>,
    #[serde(flatten)]
    flash: FlashFields,
}

/// `GET /admin/payouts`.
pub async fn list(
    admin: Admin,
    State(http): State<HttpState>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let db = &http.app.db;
    let page = view::list_page(query.after.as_deref())?;
    let filter = payouts::service::PayoutFilter {
        user_id: optional_id(&query.user)?,
        vendor_id: optional_id(&query.vendor)?,
        source: parse_source(&query.source),
        status: parse_status(&query.status),
    };
    let (rows, total) = payouts::service::page(db, filter, &page).await?;
    let (rows, next) = view::split_page(rows, page.limit, |p| view::at_id(p.created_at, p.id));
    let (users, vendors) = payees(db, &rows).await?;
    let body = html! {
        nav.pager {
            a href="/admin/payouts?status=REQUESTED" { "Waiting" }
            a href="/admin/payouts?status=APPROVED" { "Approved" }
            a href="/admin/payouts?status=PAID" { "Paid" }
            a href="/admin/payouts?status=REJECTED" { "Rejected" }
            a href="/admin/payouts?source=WALLET" { "Households' wallets" }
            a href="/admin/payouts" { "All" }
        }
        form.filters method="get" action="/admin/payouts" {
            label { "Status" (view::select("status", "Any status", &STATUSES, Some(&query.status))) }
            label { "Source" (view::select("source", "Any source", &SOURCES, Some(&query.source))) }
            label { "User id" input type="text" name="user" value=(query.user); }
            label { "Vendor id" input type="text" name="vendor" value=(query.vendor); }
            button type="submit" { "Filter" }
        }
        div.table-wrap { table {
            thead { tr { th { "Requested" } th { "Payee" } th { "Source" } th.num { "Amount" } th { "Status" } th.hide-sm { "Reference / reason" } } }
            tbody {
                @for p in &rows {
                    tr {
                        td { a href={"/admin/payouts/" (p.id)} { (view::when(p.created_at)) } }
                        td { (payee(p, users.get(&p.user_id), p.vendor_id.and_then(|v| vendors.get(&v)))) }
                        td { (source_label(p.source)) }
                        td.num { (view::money(p.amount)) }
                        td { (view::badge(status_name(p.status))) }
                        td.hide-sm { (p.reference.as_deref().or(p.reason.as_deref()).unwrap_or("")) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="6" .muted { "No payouts match." } } }
            }
        } }
        (view::pager("/admin/payouts", &[("status", query.status.clone()), ("source", query.source.clone()), ("user", query.user.clone()), ("vendor", query.vendor.clone())], next, total))
    };
    Ok(admin.page("/admin/payouts", "Payouts", &query.flash.flash(), body))
}

/// `GET /admin/payouts/{id}`.
pub async fn detail(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let db = &http.app.db;
    let id = view::id(&id)?;
    let payout = payouts::service::find(db, id).await?;
    let (users, vendors) = payees(db, std::slice::from_ref(&payout)).await?;
    let user = users.get(&payout.user_id);
    let vendor = payout.vendor_id.and_then(|v| vendors.get(&v));
    let history = audit::service::of_subject(db, &id.to_string(), 20).await?;
    let here = format!("/admin/payouts/{id}");
    let body = html! {
        dl.facts {
            dt { "Status" } dd { (view::badge(status_name(payout.status))) }
            dt { "Payee" } dd { (payee(&payout, user, vendor)) @if let Some(u) = user { " (" (u.email) ")" } }
            dt { "Source" } dd { (source_label(payout.source)) }
            dt { "Amount" } dd { (view::money(payout.amount)) }
            dt { "Requested" } dd { (view::when(payout.created_at)) }
            dt { "Decided" } dd { (view::when_opt(payout.decided_at)) }
            dt { "Paid" } dd { (view::when_opt(payout.paid_at)) }
            dt { "Reference" } dd { (payout.reference.as_deref().unwrap_or("—")) }
            dt { "Reason" } dd { (payout.reason.as_deref().unwrap_or("—")) }
        }
        @if payout.status == PayoutStatus::Requested {
            form.action method="post" action={(here) "/approve"} {
                (admin.csrf_field())
                button type="submit" { "Approve" }
            }
        }
        @if payout.status == PayoutStatus::Approved {
            form.action method="post" action={(here) "/paid"} {
                (admin.csrf_field())
                label { "Bank or provider reference" input type="text" name="reference" required; }
                button type="submit" { "Mark paid" }
            }
        }
        @if matches!(payout.status, PayoutStatus::Requested | PayoutStatus::Approved) {
            form.action method="post" action={(here) "/reject"} {
                (admin.csrf_field())
                label { "Reason" input type="text" name="reason" required; }
                button.danger type="submit" { "Reject" }
            }
        }
        h2 { "History" }
        (super::audit::entries_table(&history))
    };
    Ok(admin.page("/admin/payouts", "Payout", &flash, body))
}

/// `POST /admin/payouts/{id}/approve`: the same function as `approvePayout`.
pub async fn approve(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    admin.form::<std::collections::HashMap<String, String>>(&body)?;
    let id = view::id(&id)?;
    let result = payouts::admin::approve(&http.app, admin.viewer(), id).await;
    Ok(view::after_action(
        result,
        &format!("/admin/payouts/{id}"),
        "Approved.",
    ))
}

/// `POST /admin/payouts/{id}/reject`: the same function as `rejectPayout`.
pub async fn reject(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: ReasonForm = admin.form(&body)?;
    let id = view::id(&id)?;
    let result = payouts::admin::reject(&http.app, admin.viewer(), id, &form.reason).await;
    let notice = match &result {
        Ok(p) if p.source == PayoutSource::Wallet => {
            "Rejected: the amount is back in the user's wallet."
        }
        _ => "Rejected: the amount is back in the vendor's earnings.",
    };
    Ok(view::after_action(
        result,
        &format!("/admin/payouts/{id}"),
        notice,
    ))
}

#[derive(Deserialize)]
pub struct PaidForm {
    #[serde(default)]
    reference: String,
}

/// `POST /admin/payouts/{id}/paid`: the same function as `markPayoutPaid`.
pub async fn mark_paid(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: PaidForm = admin.form(&body)?;
    let id = view::id(&id)?;
    let result = payouts::admin::mark_paid(&http.app, admin.viewer(), id, &form.reference).await;
    Ok(view::after_action(
        result,
        &format!("/admin/payouts/{id}"),
        "Marked paid.",
    ))
}
