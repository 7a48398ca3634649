//! Payouts: lists by status (waiting, approved, paid, rejected); approve, reject with a reason,
//! mark paid with the bank or provider reference.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
};
use entity::{payouts::PayoutStatus, vendors};
use maud::html;
use sea_orm::EntityTrait as _;
use serde::Deserialize;

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

fn parse_status(text: &str) -> Option<PayoutStatus> {
    match text {
        "REQUESTED" => Some(PayoutStatus::Requested),
        "APPROVED" => Some(PayoutStatus::Approved),
        "PAID" => Some(PayoutStatus::Paid),
        "REJECTED" => Some(PayoutStatus::Rejected),
        _ => None,
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
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
    let page = view::list_page(query.after.as_deref())?;
    let vendor = match query.vendor.trim() {
        "" => None,
        text => Some(view::id(text)?),
    };
    let (rows, total) =
        payouts::service::page(&http.app.db, vendor, parse_status(&query.status), &page).await?;
    let (rows, next) = view::split_page(rows, page.limit, |p| view::at_id(p.created_at, p.id));
    let body = html! {
        nav.pager {
            a href="/admin/payouts?status=REQUESTED" { "Waiting" }
            a href="/admin/payouts?status=APPROVED" { "Approved" }
            a href="/admin/payouts?status=PAID" { "Paid" }
            a href="/admin/payouts?status=REJECTED" { "Rejected" }
            a href="/admin/payouts" { "All" }
        }
        form.filters method="get" action="/admin/payouts" {
            label { "Status" (view::select("status", "Any status", &[("REQUESTED", "Waiting"), ("APPROVED", "Approved"), ("PAID", "Paid"), ("REJECTED", "Rejected")], Some(&query.status))) }
            label { "Vendor id" input type="text" name="vendor" value=(query.vendor); }
            button type="submit" { "Filter" }
        }
        div.table-wrap { table {
            thead { tr { th { "Requested" } th.num { "Amount" } th { "Status" } th.hide-sm { "Reference / reason" } } }
            tbody {
                @for p in &rows {
                    tr {
                        td { a href={"/admin/payouts/" (p.id)} { (view::when(p.created_at)) } }
                        td.num { (view::money(p.amount)) }
                        td { (view::badge(status_name(p.status))) }
                        td.hide-sm { (p.reference.as_deref().or(p.reason.as_deref()).unwrap_or("")) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="4" .muted { "No payouts match." } } }
            }
        } }
        (view::pager("/admin/payouts", &[("status", query.status.clone()), ("vendor", query.vendor.clone())], next, total))
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
    let vendor = vendors::Entity::find_by_id(payout.vendor_id)
        .one(db)
        .await?;
    let history = audit::service::of_subject(db, &id.to_string(), 20).await?;
    let here = format!("/admin/payouts/{id}");
    let body = html! {
        dl.facts {
            dt { "Status" } dd { (view::badge(status_name(payout.status))) }
            dt { "Vendor" } dd { @if let Some(v) = &vendor { a href={"/admin/vendors/" (v.id)} { (v.business_name) } } }
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
    Ok(view::after_action(
        result,
        &format!("/admin/payouts/{id}"),
        "Rejected: the amount is back in the vendor's earnings.",
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
