//! Topic names. Every publisher and subscriber builds them here, so a typo cannot split a
//! stream in two.

use uuid::Uuid;

/// Messages, read receipts and typing in one chat room.
pub fn chat(room_id: Uuid) -> String {
    format!("chat:{room_id}")
}

/// New notifications of one user.
pub fn notifications(user_id: Uuid) -> String {
    format!("user:{user_id}:notifications")
}

/// Changes of one order.
pub fn order(order_id: Uuid) -> String {
    format!("order:{order_id}")
}

/// Changes of every order one user buys or sells (`orderUpdated` without an id).
pub fn user_orders(user_id: Uuid) -> String {
    format!("user:{user_id}:orders")
}

/// Changes of every order (admins' `orderUpdated` without an id).
pub fn all_orders() -> String {
    "orders".to_owned()
}
