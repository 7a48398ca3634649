//! Products: search by name, by vendor, listed or not; unlist one with a reason.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
};
use entity::{categories, vendors};
use maud::html;
use sea_orm::EntityTrait as _;
use serde::Deserialize;

use super::{
    session::Admin,
    vendors::ReasonForm,
    view::FlashFields,
    view::{self, Flash, PageResult},
};
use crate::{audit, catalog, error::AppError, http::HttpState};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    listed: String,
    after: Option<String>,
    #[serde(flatten)]
    flash: FlashFields,
}

/// `GET /admin/products`.
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
    let listed = match query.listed.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let (rows, total) =
        catalog::admin::search_products(&http.app.db, Some(&query.search), vendor, listed, &page)
            .await?;
    let (rows, next) = view::split_page(rows, page.limit, |p| view::at_id(p.created_at, p.id));
    let body = html! {
        form.filters method="get" action="/admin/products" {
            label { "Search" input type="search" name="search" value=(query.search) placeholder="product name"; }
            input type="hidden" name="vendor" value=(query.vendor);
            label { "Listed" (view::select("listed", "Listed or not", &[("yes", "Listed"), ("no", "Unlisted")], Some(&query.listed))) }
            button type="submit" { "Filter" }
        }
        div.table-wrap { table {
            thead { tr { th { "Name" } th.num { "Price" } th.num { "Stock" } th { "Status" } th.hide-sm { "Added" } } }
            tbody {
                @for p in &rows {
                    tr {
                        td { a href={"/admin/products/" (p.id)} { (p.name) } }
                        td.num { (view::money(p.price)) }
                        td.num { (p.stock) }
                        td { (view::badge(if p.is_active { "LISTED" } else { "UNLISTED" })) }
                        td.hide-sm { (view::when(p.created_at)) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="5" .muted { "No products match." } } }
            }
        } }
        (view::pager("/admin/products", &[("search", query.search.clone()), ("vendor", query.vendor.clone()), ("listed", query.listed.clone())], next, total))
    };
    Ok(admin.page("/admin/products", "Products", &query.flash.flash(), body))
}

/// `GET /admin/products/{id}`.
pub async fn detail(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let db = &http.app.db;
    let id = view::id(&id)?;
    let product = catalog::products::find(db, id)
        .await?
        .ok_or_else(|| AppError::not_found("product"))?;
    let vendor = vendors::Entity::find_by_id(product.vendor_id)
        .one(db)
        .await?;
    let category = categories::Entity::find_by_id(product.category_id)
        .one(db)
        .await?;
    let history = audit::service::of_subject(db, &id.to_string(), 20).await?;
    let body = html! {
        dl.facts {
            dt { "Status" } dd { (view::badge(if product.deleted_at.is_some() { "DELETED" } else if product.is_active { "LISTED" } else { "UNLISTED" })) }
            dt { "Vendor" } dd { @if let Some(v) = &vendor { a href={"/admin/vendors/" (v.id)} { (v.business_name) } } }
            dt { "Category" } dd { (category.map(|c| c.name).unwrap_or_default()) }
            dt { "Price" } dd { (view::money(product.price)) " per " (format!("{:?}", product.unit).to_lowercase()) }
            dt { "Stock" } dd { (product.stock) }
            dt { "Rating" } dd { (format!("{:.1}", product.rating)) " (" (product.review_count) " reviews)" }
            dt { "Description" } dd { (product.description.as_deref().unwrap_or("—")) }
            dt { "Added" } dd { (view::when(product.created_at)) }
        }
        @if product.is_active && product.deleted_at.is_none() {
            form.action method="post" action={"/admin/products/" (id) "/unlist"} {
                (admin.csrf_field())
                label { "Reason" input type="text" name="reason" required; }
                button.danger type="submit" { "Unlist" }
            }
        }
        h2 { "History" }
        (super::audit::entries_table(&history))
    };
    Ok(admin.page("/admin/products", &product.name, &flash, body))
}

/// `POST /admin/products/{id}/unlist`.
pub async fn unlist(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: ReasonForm = admin.form(&body)?;
    let id = view::id(&id)?;
    let result = catalog::admin::unlist_product(&http.app, admin.viewer(), id, &form.reason).await;
    Ok(view::after_action(
        result,
        &format!("/admin/products/{id}"),
        "Unlisted.",
    ))
}
