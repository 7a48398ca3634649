//! Vendors and KYC: the review queue (`?kyc=SUBMITTED`, oldest first), the documents shown
//! inline, approve or reject with a reason, the commission rate, suspension.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::IntoResponse,
};
use entity::{kyc_documents, users, vendors::KycStatus};
use maud::html;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use serde::Deserialize;

use super::{
    session::Admin,
    users::account_status,
    view::{self, Flash, FlashFields, PageResult},
};
use crate::{
    audit,
    error::AppError,
    http::HttpState,
    vendors::{
        self,
        admin::{kyc_status_name, search_vendors},
    },
};

fn parse_kyc(text: &str) -> Option<KycStatus> {
    match text {
        "PENDING" => Some(KycStatus::Pending),
        "SUBMITTED" => Some(KycStatus::Submitted),
        "APPROVED" => Some(KycStatus::Approved),
        "REJECTED" => Some(KycStatus::Rejected),
        _ => None,
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    kyc: String,
    after: Option<String>,
    #[serde(flatten)]
    flash: FlashFields,
}

/// `GET /admin/vendors` (`?kyc=SUBMITTED`: the review queue).
pub async fn list(
    admin: Admin,
    State(http): State<HttpState>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let page = view::list_page(query.after.as_deref())?;
    let (rows, total) = search_vendors(
        &http.app.db,
        Some(&query.search),
        parse_kyc(&query.kyc),
        &page,
    )
    .await?;
    let (rows, next) = view::split_page(rows, page.limit, |v| view::at_id(v.created_at, v.id));
    let title = if query.kyc == "SUBMITTED" {
        "KYC review queue"
    } else {
        "Vendors"
    };
    let body = html! {
        p { a href="/admin/vendors?kyc=SUBMITTED" { "Review queue (submitted KYC, oldest first)" } }
        form.filters method="get" action="/admin/vendors" {
            label { "Search" input type="search" name="search" value=(query.search) placeholder="business name or city"; }
            label { "KYC" (view::select("kyc", "Any KYC status", &[("PENDING", "Pending"), ("SUBMITTED", "Submitted"), ("APPROVED", "Approved"), ("REJECTED", "Rejected")], Some(&query.kyc))) }
            button type="submit" { "Filter" }
        }
        div.table-wrap { table {
            thead { tr { th { "Business" } th { "City" } th { "KYC" } th.num { "Commission" } th.hide-sm { "Registered" } } }
            tbody {
                @for v in &rows {
                    tr {
                        td { a href={"/admin/vendors/" (v.id)} { (v.business_name) } }
                        td { (v.city) }
                        td { (view::badge(kyc_status_name(v.kyc_status))) }
                        td.num { (v.commission_bps.map(|b| format!("{b} bps")).unwrap_or_else(|| "default".into())) }
                        td.hide-sm { (view::when(v.created_at)) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="5" .muted { "No vendors match." } } }
            }
        } }
        (view::pager("/admin/vendors", &[("search", query.search.clone()), ("kyc", query.kyc.clone())], next, total))
    };
    Ok(admin.page("/admin/vendors", title, &query.flash.flash(), body))
}

/// `GET /admin/vendors/{id}`.
pub async fn detail(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let db = &http.app.db;
    let id = view::id(&id)?;
    let vendor = vendors::service::find(db, id).await?;
    let owner = users::Entity::find_by_id(vendor.user_id).one(db).await?;
    let documents = kyc_documents::Entity::find()
        .filter(kyc_documents::Column::VendorId.eq(id))
        .order_by_asc(kyc_documents::Column::CreatedAt)
        .all(db)
        .await?;
    let history = audit::service::of_subject(db, &id.to_string(), 20).await?;
    let here = format!("/admin/vendors/{id}");
    let body = html! {
        dl.facts {
            dt { "KYC" } dd { (view::badge(kyc_status_name(vendor.kyc_status))) @if let Some(r) = &vendor.kyc_reason { " " span.muted { (r) } } }
            dt { "Owner" } dd {
                @if let Some(owner) = &owner {
                    a href={"/admin/users/" (owner.id)} { (owner.email) } " " (view::badge(account_status(owner)))
                }
            }
            dt { "Phone" } dd { (vendor.phone) }
            dt { "Address" } dd { (vendor.address_line1) ", " (vendor.city) ", " (vendor.state) " " (vendor.pincode) }
            dt { "Service radius" } dd { (vendor.service_radius_km) " km" }
            dt { "Commission" } dd { (vendor.commission_bps.map(|b| format!("{b} bps")).unwrap_or_else(|| "the default".into())) }
            dt { "Registered" } dd { (view::when(vendor.created_at)) }
            dt { "Products" } dd { a href={"/admin/products?vendor=" (vendor.id)} { "This vendor's products" } }
            dt { "Orders" } dd { a href={"/admin/orders?vendor=" (view::encode(&vendor.business_name))} { "Orders with this vendor" } }
        }
        h2 { "KYC documents" }
        @if documents.is_empty() { p.muted { "None uploaded." } }
        div.docs {
            @for d in &documents {
                @let url = format!("{here}/documents/{}", d.id);
                figure {
                    @if d.content_type.starts_with("image/") {
                        a href=(url) { img src=(url) alt={(format!("{:?}", d.kind)) " document"}; }
                    } @else {
                        a href=(url) { "Open the " (format!("{:?}", d.kind)) " document (" (d.content_type) ")" }
                    }
                    figcaption { (format!("{:?}", d.kind)) " · " (view::when(d.created_at)) }
                }
            }
        }
        h2 { "Decide" }
        form.action method="post" action={(here) "/kyc"} {
            (admin.csrf_field())
            input type="hidden" name="decision" value="approve";
            button type="submit" { "Approve KYC" }
        }
        form.action method="post" action={(here) "/kyc"} {
            (admin.csrf_field())
            input type="hidden" name="decision" value="reject";
            label { "Reason" input type="text" name="reason" required placeholder="what is wrong"; }
            button.danger type="submit" { "Reject KYC" }
        }
        form.action method="post" action={(here) "/commission"} {
            (admin.csrf_field())
            label { "Commission (basis points; empty = default)" input type="number" name="bps" min="0" max="10000" value=[vendor.commission_bps]; }
            button type="submit" { "Set commission" }
        }
        form.action method="post" action={(here) "/suspend"} {
            (admin.csrf_field())
            label { "Reason" input type="text" name="reason" required; }
            button.danger type="submit" { "Suspend vendor" }
            span.muted { "Rejects the KYC (products leave the listings) and deactivates the owner's account." }
        }
        h2 { "History" }
        (super::audit::entries_table(&history))
    };
    Ok(admin.page("/admin/vendors", &vendor.business_name, &flash, body))
}

/// `GET /admin/vendors/{id}/documents/{doc}`: the file, shown inline.
pub async fn document(
    _admin: Admin,
    State(http): State<HttpState>,
    Path((id, doc)): Path<(String, String)>,
) -> PageResult {
    let (id, doc) = (view::id(&id)?, view::id(&doc)?);
    let document = kyc_documents::Entity::find_by_id(doc)
        .one(&http.app.db)
        .await?
        .filter(|d| d.vendor_id == id)
        .ok_or_else(|| AppError::not_found("document"))?;
    let bytes = http
        .app
        .storage
        .get(&document.storage_key)
        .await
        .map_err(AppError::internal)?
        .ok_or_else(|| AppError::not_found("document"))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, document.content_type.clone()),
            (header::CONTENT_DISPOSITION, "inline".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ReviewForm {
    decision: String,
    reason: Option<String>,
}

/// `POST /admin/vendors/{id}/kyc`: the same function as `reviewKyc`.
pub async fn review(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: ReviewForm = admin.form(&body)?;
    let id = view::id(&id)?;
    let approve = form.decision == "approve";
    let result =
        vendors::admin::review_kyc(&http.app, admin.viewer(), id, approve, form.reason).await;
    let notice = if approve {
        "KYC approved."
    } else {
        "KYC rejected."
    };
    Ok(view::after_action(
        result,
        &format!("/admin/vendors/{id}"),
        notice,
    ))
}

#[derive(Deserialize)]
pub struct CommissionForm {
    #[serde(default)]
    bps: String,
}

/// `POST /admin/vendors/{id}/commission`: the same function as `setVendorCommission`.
pub async fn commission(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: CommissionForm = admin.form(&body)?;
    let id = view::id(&id)?;
    let result = match form.bps.trim() {
        "" => vendors::admin::set_commission(&http.app, admin.viewer(), id, None).await,
        text => match text.parse::<i32>() {
            Ok(bps) => {
                vendors::admin::set_commission(&http.app, admin.viewer(), id, Some(bps)).await
            }
            Err(_) => Err(AppError::bad_input(
                "commissionRateBps",
                "must be a whole number",
            )),
        },
    };
    Ok(view::after_action(
        result,
        &format!("/admin/vendors/{id}"),
        "Commission set.",
    ))
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    pub reason: String,
}

/// `POST /admin/vendors/{id}/suspend`.
pub async fn suspend(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: ReasonForm = admin.form(&body)?;
    let id = view::id(&id)?;
    let result = vendors::admin::suspend(&http.app, admin.viewer(), id, &form.reason).await;
    Ok(view::after_action(
        result,
        &format!("/admin/vendors/{id}"),
        "Vendor suspended.",
    ))
}
