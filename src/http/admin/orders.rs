//! Orders: search by number, buyer, vendor, status and dates; the detail page with the lines,
//! the status timeline, the hold and the chat transcript; refund with a reason.

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
};
use entity::{
    chat_messages, chat_rooms, holds, order_items, order_status_history, orders::OrderStatus,
    users, vendors,
};
use maud::html;
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};
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
    orders::{
        self,
        admin::OrderSearch,
        state::{ALL as STATUSES, name as status_name},
    },
};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    number: String,
    #[serde(default)]
    buyer: String,
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    after: Option<String>,
    #[serde(flatten)]
    flash: FlashFields,
}

/// `GET /admin/orders`.
pub async fn list(
    admin: Admin,
    State(http): State<HttpState>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let page = view::list_page(query.after.as_deref())?;
    let search = OrderSearch {
        number: Some(query.number.clone()),
        buyer: Some(query.buyer.clone()),
        vendor: Some(query.vendor.clone()),
        status: view::by_name(&STATUSES, status_name, &query.status),
        from: view::day_start(Some(&query.from))?,
        to: view::day_start(Some(&query.to))?.map(|t| t + chrono::Duration::days(1)),
    };
    let (rows, total) = orders::admin::search_orders(&http.app.db, &search, &page).await?;
    let (rows, next) = view::split_page(rows, page.limit, |o| view::at_id(o.created_at, o.id));
    let statuses = view::name_options(&STATUSES, status_name);
    let body = html! {
        form.filters method="get" action="/admin/orders" {
            label { "Number" input type="search" name="number" value=(query.number); }
            label { "Buyer" input type="search" name="buyer" value=(query.buyer) placeholder="email or name"; }
            label { "Vendor" input type="search" name="vendor" value=(query.vendor) placeholder="business name"; }
            label { "Status" (view::select("status", "Any status", &statuses, Some(&query.status))) }
            label { "From" input type="date" name="from" value=(query.from); }
            label { "To" input type="date" name="to" value=(query.to); }
            button type="submit" { "Search" }
        }
        (view::table(
            &[("Number", ""), ("Status", ""), ("Total", "num"), ("Placed", "hide-sm")],
            html! {
                @for o in &rows {
                    tr {
                        td { a href={"/admin/orders/" (o.id)} { (o.number) } }
                        td { (view::badge(status_name(o.status))) }
                        td.num { (view::money(o.total)) }
                        td.hide-sm { (view::when(o.created_at)) }
                    }
                }
            },
            rows.is_empty(),
            "No orders match.",
        ))
        (view::pager("/admin/orders", &[("number", query.number.clone()), ("buyer", query.buyer.clone()), ("vendor", query.vendor.clone()), ("status", query.status.clone()), ("from", query.from.clone()), ("to", query.to.clone())], next, total))
    };
    Ok(admin.page("/admin/orders", "Orders", &query.flash.flash(), body))
}

/// `GET /admin/orders/{id}`.
pub async fn detail(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let db = &http.app.db;
    let id = view::id(&id)?;
    let order = orders::service::find(db, id).await?;
    let buyer = users::Entity::find_by_id(order.buyer_id).one(db).await?;
    let vendor = vendors::Entity::find_by_id(order.vendor_id).one(db).await?;
    let lines = order_items::Entity::find()
        .filter(order_items::Column::OrderId.eq(id))
        .order_by_asc(order_items::Column::Position)
        .all(db)
        .await?;
    let timeline = order_status_history::Entity::find()
        .filter(order_status_history::Column::OrderId.eq(id))
        .order_by_asc(order_status_history::Column::CreatedAt)
        .order_by_asc(order_status_history::Column::Id)
        .all(db)
        .await?;
    let hold = holds::Entity::find_by_id(order.hold_id).one(db).await?;
    let room = chat_rooms::Entity::find()
        .filter(chat_rooms::Column::OrderId.eq(id))
        .one(db)
        .await?;
    let messages = match &room {
        Some(room) => {
            chat_messages::Entity::find()
                .filter(chat_messages::Column::RoomId.eq(room.id))
                .order_by_asc(chat_messages::Column::CreatedAt)
                .order_by_asc(chat_messages::Column::Id)
                .limit(200)
                .all(db)
                .await?
        }
        None => Vec::new(),
    };
    let history = audit::service::of_subject(db, &id.to_string(), 20).await?;
    let name_of = |user_id: uuid::Uuid| {
        if buyer.as_ref().is_some_and(|b| b.id == user_id) {
            "buyer"
        } else if vendor.as_ref().is_some_and(|v| v.user_id == user_id) {
            "vendor"
        } else {
            "admin"
        }
    };
    let refundable = !matches!(
        order.status,
        OrderStatus::Completed | OrderStatus::Cancelled | OrderStatus::Refunded
    );
    let body = html! {
        dl.facts {
            dt { "Status" } dd { (view::badge(status_name(order.status))) }
            dt { "Buyer" } dd { @if let Some(b) = &buyer { a href={"/admin/users/" (b.id)} { (b.full_name) " <" (b.email) ">" } } }
            dt { "Vendor" } dd { @if let Some(v) = &vendor { a href={"/admin/vendors/" (v.id)} { (v.business_name) } } }
            dt { "Subtotal" } dd { (view::money(order.subtotal)) }
            dt { "Commission" } dd { (view::money(order.commission)) " (" (order.commission_bps) " bps)" }
            dt { "Total" } dd { (view::money(order.total)) }
            dt { "Hold" } dd {
                @if let Some(h) = &hold {
                    (view::badge(&format!("{:?}", h.status).to_uppercase())) " " (view::money(h.amount)) " · released " (view::money(h.released_amount)) " · " (view::when_opt(h.settled_at))
                }
            }
            dt { "Deliver to" } dd { (order.address_line1) ", " (order.address_city) " " (order.address_pincode) }
            dt { "Note" } dd { (order.note.as_deref().unwrap_or("—")) }
            dt { "Placed" } dd { (view::when(order.created_at)) }
        }
        @if refundable {
            form.action method="post" action={"/admin/orders/" (id) "/refund"} {
                (admin.csrf_field())
                label { "Reason" input type="text" name="reason" required; }
                button.danger type="submit" { "Refund order" }
                span.muted { "Voids the hold (money back to the buyer) and restores the stock." }
            }
        }
        h2 { "Lines" }
        div.table-wrap { table {
            thead { tr { th { "Product" } th.num { "Quantity" } th.num { "Unit price" } th.num { "Line total" } } }
            tbody {
                @for l in &lines {
                    tr {
                        td { a href={"/admin/products/" (l.product_id)} { (l.product_name) } }
                        td.num { (l.quantity) " " (format!("{:?}", l.unit).to_lowercase()) }
                        td.num { (view::money(l.unit_price)) }
                        td.num { (view::money(l.line_total)) }
                    }
                }
            }
        } }
        h2 { "Status timeline" }
        div.table-wrap { table {
            thead { tr { th { "When" } th { "From" } th { "To" } th { "By" } th { "Note" } } }
            tbody {
                @for h in &timeline {
                    tr {
                        td { (view::when(h.created_at)) }
                        td { (h.from_status.map(status_name).unwrap_or("—")) }
                        td { (view::badge(status_name(h.status))) }
                        td { (format!("{:?}", h.actor).to_lowercase()) }
                        td { (h.note.as_deref().unwrap_or("")) }
                    }
                }
            }
        } }
        h2 { "Chat" }
        @if messages.is_empty() { p.muted { "No messages." } }
        div.chat {
            @for m in &messages {
                p { small { (view::when(m.created_at)) " · " (name_of(m.sender_id)) } br; (m.body) @if m.attachment_key.is_some() { " " span.muted { "(attachment)" } } }
            }
        }
        h2 { "History" }
        (super::audit::entries_table(&history))
    };
    Ok(admin.page(
        "/admin/orders",
        &format!("Order {}", order.number),
        &flash,
        body,
    ))
}

/// `POST /admin/orders/{id}/refund`: the same function as `refundOrder`.
pub async fn refund(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: ReasonForm = admin.form(&body)?;
    let id = view::id(&id)?;
    let result =
        orders::admin::refund_order(&http.app, admin.viewer(), id, Some(form.reason)).await;
    Ok(view::after_action(
        result,
        &format!("/admin/orders/{id}"),
        "Refunded: the hold is voided.",
    ))
}
