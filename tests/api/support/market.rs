//! Marketplace factories: approved (or not) vendors with products, delivery addresses, orders
//! walked to any status, and the ledger soundness check. Rows the tests only need to exist are
//! inserted directly (fast); everything under test goes through GraphQL.

use chrono::Utc;
use entity::{
    categories, products,
    vendors::{self, KycStatus},
};
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, EntityTrait as _};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Gql, Session, TestApp};

/// Mumbai (Dadar): where the test shops are.
pub const SHOP_AT: (f64, f64) = (19.0178, 72.8478);
/// About 3 km from the shops.
pub const NEAR: (f64, f64) = (19.0440, 72.8610);
/// Pune: about 120 km away.
pub const FAR: (f64, f64) = (18.5204, 73.8567);

pub const ORDER_FIELDS: &str = "id number status subtotal commission total vendorEarnings \
    totalMoney { formatted } note \
    buyer { id } vendor { id } \
    items { product { id name stock } productName quantity unitPrice lineTotal } \
    address { label city latitude longitude } \
    statusHistory { status fromStatus note actor at } createdAt";

/// A vendor's owner (signed in) and the vendor id.
#[derive(Debug, Clone)]
pub struct Shop {
    pub owner: Session,
    pub vendor_id: Uuid,
}

/// An APPROVED vendor at [`SHOP_AT`] serving 10 km, on the system commission rate.
pub async fn shop(app: &TestApp, name: &str) -> Shop {
    shop_with(app, name, KycStatus::Approved, None).await
}

pub async fn shop_with(
    app: &TestApp,
    name: &str,
    kyc: KycStatus,
    commission_bps: Option<i32>,
) -> Shop {
    let owner = app.customer(name).await;
    let now = Utc::now();
    let vendor = vendors::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(owner.user_id.parse().unwrap()),
        business_name: Set(format!("{name} Kabaad Store")),
        description: Set(None),
        phone: Set("+919820000000".into()),
        address_label: Set("Shop".into()),
        address_line1: Set("1 Market Road".into()),
        address_line2: Set(None),
        city: Set("Mumbai".into()),
        state: Set("Maharashtra".into()),
        pincode: Set("400014".into()),
        latitude: Set(SHOP_AT.0),
        longitude: Set(SHOP_AT.1),
        service_radius_km: Set(10.0),
        kyc_status: Set(kyc),
        kyc_reason: Set(None),
        commission_bps: Set(commission_bps),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    Shop {
        owner,
        vendor_id: vendor.id,
    }
}

/// An active product of `shop`: `price` paise per unit, `stock` units.
pub async fn product(app: &TestApp, shop: &Shop, name: &str, price: i64, stock: i32) -> Uuid {
    let category = categories::ActiveModel {
        id: Set(Uuid::new_v4()),
        parent_id: Set(None),
        name: Set(format!("{name} category")),
        slug: Set(format!("c-{}", Uuid::new_v4().simple())),
        icon_url: Set(None),
        sort_order: Set(0),
        created_at: Set(Utc::now()),
    }
    .insert(&app.state.db)
    .await
    .unwrap();
    let now = Utc::now();
    products::ActiveModel {
        id: Set(Uuid::new_v4()),
        vendor_id: Set(shop.vendor_id),
        category_id: Set(category.id),
        name: Set(name.into()),
        description: Set(None),
        unit: Set(products::Unit::Kg),
        price: Set(price),
        stock: Set(stock),
        is_active: Set(true),
        rating: Set(0.0),
        review_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(&app.state.db)
    .await
    .unwrap()
    .id
}

pub async fn stock_of(app: &TestApp, product: Uuid) -> i32 {
    products::Entity::find_by_id(product)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .stock
}

/// One of `who`'s addresses, at `at` (or without coordinates).
pub async fn address(app: &TestApp, who: &Session, at: Option<(f64, f64)>) -> String {
    let mut input = json!({ "label": "Home", "line1": "2 Lane", "city": "Mumbai", "state": "Maharashtra", "pincode": "400016" });
    if let Some((lat, lon)) = at {
        input["latitude"] = json!(lat);
        input["longitude"] = json!(lon);
    }
    app.gql(
        "mutation($input: AddressInput!) { createAddress(input: $input) { id } }",
        json!({ "input": input }),
        Some(&who.access_token),
    )
    .await
    .data("createAddress")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `createOrder` as `who`.
pub async fn place(
    app: &TestApp,
    who: &Session,
    items: &[(Uuid, i32)],
    address_id: &str,
    key: &str,
) -> Gql {
    let items: Vec<Value> = items
        .iter()
        .map(|(p, q)| json!({ "productId": p.to_string(), "quantity": q }))
        .collect();
    app.gql(
        &format!(
            "mutation($input: CreateOrderInput!) {{ createOrder(input: $input) {{ {ORDER_FIELDS} }} }}"
        ),
        json!({ "input": { "items": items, "addressId": address_id, "note": "ring twice", "idempotencyKey": key } }),
        Some(&who.access_token),
    )
    .await
}

/// `updateOrderStatus` as `who`.
pub async fn set_status(app: &TestApp, who: &Session, order: &str, status: &str) -> Gql {
    app.gql(
        &format!("mutation($id: ID!, $status: OrderStatus!) {{ updateOrderStatus(orderId: $id, status: $status, note: \"step\") {{ {ORDER_FIELDS} }} }}"),
        json!({ "id": order, "status": status }),
        Some(&who.access_token),
    )
    .await
}

pub async fn cancel(app: &TestApp, who: &Session, order: &str) -> Gql {
    app.gql(
        &format!("mutation($id: ID!) {{ cancelOrder(orderId: $id, reason: \"changed my mind\") {{ {ORDER_FIELDS} }} }}"),
        json!({ "id": order }),
        Some(&who.access_token),
    )
    .await
}

pub async fn confirm_delivery(app: &TestApp, who: &Session, order: &str) -> Gql {
    app.gql(
        &format!("mutation($id: ID!) {{ confirmDelivery(orderId: $id) {{ {ORDER_FIELDS} }} }}"),
        json!({ "id": order }),
        Some(&who.access_token),
    )
    .await
}

pub async fn refund(app: &TestApp, who: &Session, order: &str) -> Gql {
    app.gql(
        &format!("mutation($id: ID!) {{ refundOrder(orderId: $id, reason: \"damaged\") {{ {ORDER_FIELDS} }} }}"),
        json!({ "id": order }),
        Some(&who.access_token),
    )
    .await
}

/// `order(id)` as `who`.
pub async fn order(app: &TestApp, who: &Session, id: &str) -> Gql {
    app.gql(
        &format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"),
        json!({ "id": id }),
        Some(&who.access_token),
    )
    .await
}

/// (available, held) of `who`'s wallet.
pub async fn balances(app: &TestApp, who: &Session) -> (i64, i64) {
    let w = app
        .gql(
            "{ wallet { availableBalance heldBalance } }",
            json!({}),
            Some(&who.access_token),
        )
        .await
        .data("wallet");
    (
        w["availableBalance"].as_i64().unwrap(),
        w["heldBalance"].as_i64().unwrap(),
    )
}

/// A ledger account's balance, read directly.
pub async fn ledger_balance(
    app: &TestApp,
    kind: entity::ledger_accounts::AccountKind,
    owner: Uuid,
) -> i64 {
    kabaadwala::wallet::ledger::account(&app.state.db, kind, owner)
        .await
        .unwrap()
        .balance
}

/// Every ledger invariant holds.
pub async fn assert_ledger_sound(app: &TestApp) {
    let report = kabaadwala::wallet::ledger::check(&app.state.db)
        .await
        .unwrap();
    assert!(report.ok(), "ledger violations: {:#?}", report.violations);
}

/// A PLACED order of `buyer` for `qty` of `product`; returns its id.
pub async fn placed(
    app: &TestApp,
    buyer: &Session,
    product: Uuid,
    qty: i32,
    address: &str,
) -> String {
    place(
        app,
        buyer,
        &[(product, qty)],
        address,
        &Uuid::new_v4().to_string(),
    )
    .await
    .data("createOrder")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The vendor's steps, in order.
pub const VENDOR_STEPS: [&str; 4] = ["CONFIRMED", "PACKED", "SHIPPED", "DELIVERED"];

/// Walks a PLACED order forward to `status` through the legal moves.
pub async fn advance(
    app: &TestApp,
    shop: &Shop,
    buyer: &Session,
    admin: &Session,
    order: &str,
    status: &str,
) {
    match status {
        "PLACED" => {}
        "CANCELLED" => {
            cancel(app, buyer, order).await.data("cancelOrder");
        }
        "REFUNDED" => {
            refund(app, admin, order).await.data("refundOrder");
        }
        _ => {
            for step in VENDOR_STEPS {
                set_status(app, &shop.owner, order, step)
                    .await
                    .data("updateOrderStatus");
                if step == status {
                    return;
                }
            }
            assert_eq!(status, "COMPLETED", "unknown status {status}");
            confirm_delivery(app, buyer, order)
                .await
                .data("confirmDelivery");
        }
    }
}
