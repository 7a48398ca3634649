//! The order's output types: `Order` with its items, address and status history, and the
//! enums the API names (`OrderStatus`, `OrderActor`, `OrderRole`).

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    order_items,
    order_status_history::{self, OrderActor as ActorModel},
    orders::{self, OrderStatus as StatusModel},
};

use crate::accounts::loaders::UserById;
use crate::orders::loaders::{OrderHistory, OrderItems};
use crate::{
    accounts::graphql::User,
    catalog::{
        graphql::{Product, ProductUnit},
        loaders::ProductById,
    },
    error::AppResult,
    graphql::{
        context::ContextExt as _,
        scalars::{Money, Paise},
    },
    vendors::{graphql::Vendor, loaders::VendorById},
};

/// Where an order is in its lifecycle.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderStatus {
    /// Placed; the total is held from the buyer's wallet.
    Placed,
    /// The vendor accepted it.
    Confirmed,
    Packed,
    Shipped,
    Delivered,
    /// The buyer confirmed delivery (or the auto-release ran): the vendor is paid.
    Completed,
    /// Cancelled by the buyer or rejected by the vendor before confirmation; money returned.
    Cancelled,
    /// Refunded by an admin; money returned.
    Refunded,
}

impl From<StatusModel> for OrderStatus {
    fn from(s: StatusModel) -> Self {
        match s {
            StatusModel::Placed => Self::Placed,
            StatusModel::Confirmed => Self::Confirmed,
            StatusModel::Packed => Self::Packed,
            StatusModel::Shipped => Self::Shipped,
            StatusModel::Delivered => Self::Delivered,
            StatusModel::Completed => Self::Completed,
            StatusModel::Cancelled => Self::Cancelled,
            StatusModel::Refunded => Self::Refunded,
        }
    }
}

impl From<OrderStatus> for StatusModel {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::Placed => Self::Placed,
            OrderStatus::Confirmed => Self::Confirmed,
            OrderStatus::Packed => Self::Packed,
            OrderStatus::Shipped => Self::Shipped,
            OrderStatus::Delivered => Self::Delivered,
            OrderStatus::Completed => Self::Completed,
            OrderStatus::Cancelled => Self::Cancelled,
            OrderStatus::Refunded => Self::Refunded,
        }
    }
}

/// Who moved an order.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderActor {
    Buyer,
    Vendor,
    Admin,
    /// The platform itself (the automatic release of delivered orders).
    System,
}

impl From<ActorModel> for OrderActor {
    fn from(a: ActorModel) -> Self {
        match a {
            ActorModel::Buyer => Self::Buyer,
            ActorModel::Vendor => Self::Vendor,
            ActorModel::Admin => Self::Admin,
            ActorModel::System => Self::System,
        }
    }
}

/// Which side of their orders a user lists.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum OrderRole {
    /// Orders the user placed.
    Buyer,
    /// Orders placed with the user's shop.
    Vendor,
}

/// An order: one buyer, one vendor, lines with frozen prices, the money held in escrow until it
/// is completed.
pub struct Order(pub orders::Model);

#[Object]
impl Order {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Human-friendly number, e.g. `KW-2026-000123`.
    async fn number(&self) -> &str {
        &self.0.number
    }

    async fn status(&self) -> OrderStatus {
        self.0.status.into()
    }

    async fn buyer(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(ctx
            .loader()
            .load_one(UserById(self.0.buyer_id))
            .await?
            .map(User))
    }

    async fn vendor(&self, ctx: &Context<'_>) -> AppResult<Option<Vendor>> {
        Ok(ctx
            .loader()
            .load_one(VendorById(self.0.vendor_id))
            .await?
            .map(Vendor))
    }

    /// The lines, with prices as they were when the order was placed.
    async fn items(&self, ctx: &Context<'_>) -> AppResult<Vec<OrderItem>> {
        Ok(ctx
            .loader()
            .load_one(OrderItems(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(OrderItem)
            .collect())
    }

    /// Sum of the line totals, in paise.
    async fn subtotal(&self) -> Paise {
        Paise(self.0.subtotal)
    }

    /// The platform's commission, taken from the total when the order completes, in paise.
    async fn commission(&self) -> Paise {
        Paise(self.0.commission)
    }

    /// What the buyer pays (held from the wallet at placement), in paise.
    async fn total(&self) -> Paise {
        Paise(self.0.total)
    }

    /// What the vendor receives when the order completes: total less commission, in paise.
    async fn vendor_earnings(&self) -> Paise {
        Paise(self.0.total - self.0.commission)
    }

    /// The subtotal with currency and formatting.
    async fn subtotal_money(&self) -> Money {
        Money::inr(self.0.subtotal)
    }

    /// The commission with currency and formatting.
    async fn commission_money(&self) -> Money {
        Money::inr(self.0.commission)
    }

    /// The total with currency and formatting.
    async fn total_money(&self) -> Money {
        Money::inr(self.0.total)
    }

    /// The delivery address as it was when the order was placed.
    async fn address(&self) -> OrderAddress {
        let o = &self.0;
        OrderAddress {
            label: o.address_label.clone(),
            line1: o.address_line1.clone(),
            line2: o.address_line2.clone(),
            city: o.address_city.clone(),
            state: o.address_state.clone(),
            pincode: o.address_pincode.clone(),
            latitude: o.address_latitude,
            longitude: o.address_longitude,
        }
    }

    /// The buyer's note to the vendor.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// Every status the order entered, oldest first.
    async fn status_history(&self, ctx: &Context<'_>) -> AppResult<Vec<OrderStatusChange>> {
        Ok(ctx
            .loader()
            .load_one(OrderHistory(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(OrderStatusChange)
            .collect())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When the vendor marked it delivered.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }

    /// When it completed and the vendor was paid.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }

    /// The order's chat room, once opened with `createChatRoom`.
    async fn chat_room(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::chat::graphql::ChatRoom>> {
        crate::chat::graphql::room_of_order(ctx, self.0.id).await
    }
}

/// A delivery address frozen on an order.
#[derive(SimpleObject)]
pub struct OrderAddress {
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: String,
    pub pincode: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// One line of an order.
pub struct OrderItem(pub order_items::Model);

#[Object]
impl OrderItem {
    /// The product as it is now (name, unit and price at ordering time are on this line).
    async fn product(&self, ctx: &Context<'_>) -> AppResult<Option<Product>> {
        Ok(ctx
            .loader()
            .load_one(ProductById(self.0.product_id))
            .await?
            .map(Product::from))
    }

    /// The product's name when the order was placed.
    async fn product_name(&self) -> &str {
        &self.0.product_name
    }

    async fn unit(&self) -> ProductUnit {
        self.0.unit.into()
    }

    async fn quantity(&self) -> i32 {
        self.0.quantity
    }

    /// Price per unit when the order was placed, in paise.
    async fn unit_price(&self) -> Paise {
        Paise(self.0.unit_price)
    }

    /// `unitPrice × quantity`, in paise.
    async fn line_total(&self) -> Paise {
        Paise(self.0.line_total)
    }

    /// The line total with currency and formatting.
    async fn line_total_money(&self) -> Money {
        Money::inr(self.0.line_total)
    }
}

/// A status the order entered.
pub struct OrderStatusChange(pub order_status_history::Model);

#[Object]
impl OrderStatusChange {
    async fn status(&self) -> OrderStatus {
        self.0.status.into()
    }

    /// The status it left; null for the placement.
    async fn from_status(&self) -> Option<OrderStatus> {
        self.0.from_status.map(Into::into)
    }

    /// Why, as given by whoever moved it.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// Who moved it.
    async fn actor(&self) -> OrderActor {
        self.0.actor.into()
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
