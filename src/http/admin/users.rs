//! Users: search by email, name or phone; role and status filters; the detail page with
//! addresses, wallet, orders and history; deactivate/reactivate with a reason, change the role.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
};
use entity::{
    ledger_accounts::{self, AccountKind},
    orders, users, vendors,
};
use maud::html;
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
use serde::Deserialize;

use super::{
    session::Admin,
    view::{self, Flash, FlashFields, PageResult},
};
use crate::{
    accounts::{self, admin::UserFilter},
    audit,
    auth::jwt::role_name,
    http::HttpState,
    orders::state::name as status_name,
};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    status: String,
    after: Option<String>,
    #[serde(flatten)]
    flash: FlashFields,
}

pub fn parse_role(text: &str) -> Option<users::Role> {
    match text {
        "CUSTOMER" => Some(users::Role::Customer),
        "VENDOR" => Some(users::Role::Vendor),
        "ADMIN" => Some(users::Role::Admin),
        _ => None,
    }
}

pub fn account_status(user: &users::Model) -> &'static str {
    if user.is_active {
        "ACTIVE"
    } else {
        "DEACTIVATED"
    }
}

/// `GET /admin/users`.
pub async fn list(
    admin: Admin,
    State(http): State<HttpState>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let page = view::list_page(query.after.as_deref())?;
    let filter = UserFilter {
        search: Some(query.search.clone()),
        role: parse_role(&query.role),
        is_active: match query.status.as_str() {
            "active" => Some(true),
            "inactive" => Some(false),
            _ => None,
        },
    };
    let (rows, total) = accounts::admin::list_users(&http.app.db, &filter, &page).await?;
    let (rows, next) = view::split_page(rows, page.limit, |u| view::at_id(u.created_at, u.id));
    let body = html! {
        form.filters method="get" action="/admin/users" {
            label { "Search" input type="search" name="search" value=(query.search) placeholder="email, name or phone"; }
            label { "Role" (view::select("role", "Any role", &[("CUSTOMER", "Customer"), ("VENDOR", "Vendor"), ("ADMIN", "Admin")], Some(&query.role))) }
            label { "Status" (view::select("status", "Any status", &[("active", "Active"), ("inactive", "Deactivated")], Some(&query.status))) }
            button type="submit" { "Filter" }
        }
        div.table-wrap { table {
            thead { tr { th { "Name" } th { "Email" } th.hide-sm { "Phone" } th { "Role" } th { "Status" } th.hide-sm { "Joined" } } }
            tbody {
                @for user in &rows {
                    tr {
                        td { a href={"/admin/users/" (user.id)} { (user.full_name) } }
                        td { (user.email) }
                        td.hide-sm { (user.phone.as_deref().unwrap_or("—")) }
                        td { (role_name(user.role)) }
                        td { (view::badge(account_status(user))) }
                        td.hide-sm { (view::when(user.created_at)) }
                    }
                }
                @if rows.is_empty() { tr { td colspan="6" .muted { "No users match." } } }
            }
        } }
        (view::pager("/admin/users", &[("search", query.search.clone()), ("role", query.role.clone()), ("status", query.status.clone())], next, total))
    };
    Ok(admin.page("/admin/users", "Users", &query.flash.flash(), body))
}

/// `GET /admin/users/{id}`.
pub async fn detail(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let db = &http.app.db;
    let id = view::id(&id)?;
    let user = accounts::admin::find_user(db, id).await?;
    let addresses = accounts::service::list_addresses(db, id).await?;
    // Read only: a page view must not open ledger accounts (escrow::balances would).
    let wallet = ledger_accounts::Entity::find()
        .filter(ledger_accounts::Column::OwnerId.eq(id))
        .filter(ledger_accounts::Column::Kind.is_in([
            AccountKind::UserAvailable,
            AccountKind::UserHeld,
            AccountKind::UserPayoutHeld,
        ]))
        .all(db)
        .await?;
    let vendor = vendors::Entity::find()
        .filter(vendors::Column::UserId.eq(id))
        .one(db)
        .await?;
    let recent = orders::Entity::find()
        .filter(orders::Column::BuyerId.eq(id))
        .order_by_desc(orders::Column::CreatedAt)
        .limit(20)
        .all(db)
        .await?;
    let history = audit::service::of_subject(db, &id.to_string(), 20).await?;
    let here = format!("/admin/users/{id}");
    let body = html! {
        dl.facts {
            dt { "Email" } dd { (user.email) }
            dt { "Phone" } dd { (user.phone.as_deref().unwrap_or("—")) }
            dt { "Role" } dd { (role_name(user.role)) }
            dt { "Status" } dd { (view::badge(account_status(&user))) }
            dt { "Email verified" } dd { (view::when_opt(user.email_verified_at)) }
            dt { "Two-factor" } dd { (if user.two_factor_enabled { "on" } else { "off" }) }
            dt { "Last seen" } dd { (view::when_opt(user.last_seen_at)) }
            dt { "Joined" } dd { (view::when(user.created_at)) }
            @if let Some(vendor) = &vendor {
                dt { "Vendor" } dd { a href={"/admin/vendors/" (vendor.id)} { (vendor.business_name) } }
            }
        }
        h2 { "Account" }
        @if user.id == admin.user.id {
            p.muted { "This is your own account." }
        } @else if user.is_active {
            form.action method="post" action={(here) "/active"} {
                (admin.csrf_field())
                input type="hidden" name="active" value="false";
                label { "Reason" input type="text" name="reason" required placeholder="why deactivate"; }
                button.danger type="submit" { "Deactivate" }
            }
        } @else {
            form.action method="post" action={(here) "/active"} {
                (admin.csrf_field())
                input type="hidden" name="active" value="true";
                label { "Reason" input type="text" name="reason" required placeholder="why reactivate"; }
                button type="submit" { "Reactivate" }
            }
        }
        @if user.id != admin.user.id && user.role != users::Role::Admin {
            form.action method="post" action={(here) "/role"} {
                (admin.csrf_field())
                input type="hidden" name="role" value="ADMIN";
                span { "Give this user the admin role (full access to this console)." }
                button type="submit" { "Make admin" }
            }
        }
        @if user.id != admin.user.id && user.role == users::Role::Admin {
            form.action method="post" action={(here) "/role"} {
                (admin.csrf_field())
                input type="hidden" name="role" value=(if vendor.is_some() { "VENDOR" } else { "CUSTOMER" });
                span { "Take the admin role away." }
                button.danger type="submit" { "Remove admin" }
            }
        }
        h2 { "Wallet" }
        dl.facts {
            @for (kind, label) in [(AccountKind::UserAvailable, "Available"), (AccountKind::UserHeld, "Held in escrow"), (AccountKind::UserPayoutHeld, "Waiting to be paid out")] {
                dt { (label) }
                dd {
                    @match wallet.iter().find(|a| a.kind == kind) {
                        Some(account) => a href={"/admin/ledger/" (account.id)} { (view::money(account.balance)) },
                        None if kind == AccountKind::UserPayoutHeld => span.muted { "none" },
                        None => span.muted { "no wallet yet" },
                    }
                }
            }
        }
        form.action method="post" action={(here) "/adjust"} {
            (admin.csrf_field())
            input type="hidden" name="key" value=(uuid::Uuid::new_v4());
            label { "Adjustment (₹, negative debits)" input type="text" name="amount" inputmode="decimal" required placeholder="e.g. 150 or -20.50"; }
            label { "Reason" input type="text" name="reason" required; }
            button type="submit" { "Adjust wallet" }
        }
        h2 { "Addresses" }
        @if addresses.is_empty() { p.muted { "None saved." } }
        ul {
            @for a in &addresses {
                li { b { (a.label) } ": " (a.line1) @if let Some(l2) = &a.line2 { ", " (l2) } ", " (a.city) ", " (a.state) " " (a.pincode) @if a.is_default { " (default)" } }
            }
        }
        h2 { "Recent orders" }
        div.table-wrap { table {
            thead { tr { th { "Number" } th { "Status" } th.num { "Total" } th { "Placed" } } }
            tbody {
                @for o in &recent {
                    tr {
                        td { a href={"/admin/orders/" (o.id)} { (o.number) } }
                        td { (view::badge(status_name(o.status))) }
                        td.num { (view::money(o.total)) }
                        td { (view::when(o.created_at)) }
                    }
                }
                @if recent.is_empty() { tr { td colspan="4" .muted { "No orders." } } }
            }
        } }
        h2 { "History" }
        (super::audit::entries_table(&history))
    };
    Ok(admin.page("/admin/users", &user.full_name, &flash, body))
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: bool,
    #[serde(default)]
    reason: String,
}

/// `POST /admin/users/{id}/active`: the same function as `setUserActive`.
pub async fn set_active(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: ActiveForm = admin.form(&body)?;
    let id = view::id(&id)?;
    let result =
        accounts::admin::set_user_active(&http.app, admin.viewer(), id, form.active, &form.reason)
            .await;
    let notice = if form.active {
        "Reactivated."
    } else {
        "Deactivated: signed out everywhere."
    };
    Ok(view::after_action(
        result,
        &format!("/admin/users/{id}"),
        notice,
    ))
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

/// `POST /admin/users/{id}/role`: the same function as `setUserRole`.
pub async fn set_role(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: RoleForm = admin.form(&body)?;
    let id = view::id(&id)?;
    let result = match parse_role(&form.role) {
        Some(role) => accounts::admin::set_user_role(&http.app, admin.viewer(), id, role).await,
        None => Err(crate::AppError::bad_input("role", "unknown role")),
    };
    Ok(view::after_action(
        result,
        &format!("/admin/users/{id}"),
        "Role changed.",
    ))
}
