//! Small steps of the demo seed: an order's path to a status, a conversation, funding a
//! wallet, scattering points around a place.

use entity::{order_status_history::OrderActor, orders::OrderStatus, users};
use rand::{Rng as _, rngs::StdRng};
use sea_orm::{DatabaseConnection, TransactionTrait as _};
use uuid::Uuid;

use crate::{AppError, AppState, auth::Viewer, chat::service as chat, wallet::recharge};

/// The transitions that take a PLACED order to `target`, with who makes each.
pub(super) fn path(
    target: OrderStatus,
    buyer: Uuid,
    vendor_user: Uuid,
    admin: Uuid,
) -> Vec<(OrderStatus, OrderActor, Uuid)> {
    use OrderStatus::*;
    let vendor_steps = [Confirmed, Packed, Shipped, Delivered];
    let mut steps: Vec<(OrderStatus, OrderActor, Uuid)> = Vec::new();
    let forward = |n: usize| {
        vendor_steps[..n]
            .iter()
            .map(|s| (*s, OrderActor::Vendor, vendor_user))
            .collect::<Vec<_>>()
    };
    match target {
        Placed => {}
        Confirmed => steps = forward(1),
        Packed => steps = forward(2),
        Shipped => steps = forward(3),
        Delivered => steps = forward(4),
        Completed => {
            steps = forward(4);
            steps.push((Completed, OrderActor::Buyer, buyer));
        }
        Cancelled => steps.push((Cancelled, OrderActor::Buyer, buyer)),
        Refunded => {
            steps = forward(2);
            steps.push((Refunded, OrderActor::Admin, admin));
        }
    }
    steps
}

/// A short exchange between buyer and vendor in the order's room; returns how many messages.
pub(super) async fn converse(
    db: &DatabaseConnection,
    rng: &mut StdRng,
    order: &entity::orders::Model,
    buyer: Uuid,
    vendor_user: Uuid,
) -> anyhow::Result<usize> {
    let app = |e: AppError| anyhow::anyhow!("{e}");
    let (question, answer) = *pick(rng, super::data::CHAT);
    let buyer_viewer = Viewer {
        user_id: buyer,
        role: users::Role::Customer,
    };
    let vendor_viewer = Viewer {
        user_id: vendor_user,
        role: users::Role::Vendor,
    };
    let txn = db.begin().await?;
    let room = chat::open_room(&txn, &buyer_viewer, order.id)
        .await
        .map_err(app)?;
    let mut sent = 0;
    for (viewer, text) in [(buyer_viewer, question), (vendor_viewer, answer)] {
        let access = chat::access(&txn, &viewer, room.id).await.map_err(app)?;
        chat::store_message(
            &txn,
            &access,
            viewer.user_id,
            crate::db::new_id(),
            text.to_owned(),
            None,
        )
        .await
        .map_err(app)?;
        sent += 1;
    }
    txn.commit().await?;
    Ok(sent)
}

/// Recharges `user`'s wallet by `amount` paise through the sandbox provider: the recharge row,
/// then its success (the ledger credit from the provider's clearing account).
pub(super) async fn fund(state: &AppState, user: Uuid, amount: i64) -> anyhow::Result<()> {
    let app = |e: AppError| anyhow::anyhow!("{e}");
    let max = crate::settings::service::get(
        &state.db,
        crate::settings::service::Setting::MaxRechargePaise,
    )
    .await
    .map_err(app)?;
    let amount = amount.min(max);
    let key = format!("demo-{}", Uuid::new_v4().simple());
    let r = recharge::request(state, user, amount, &key)
        .await
        .map_err(app)?;
    recharge::succeed(&state.db, r.id).await.map_err(app)?;
    Ok(())
}

/// A point within about `spread` degrees of (`lat`, `lon`).
pub(super) fn jitter(rng: &mut StdRng, lat: f64, lon: f64, spread: f64) -> (f64, f64) {
    let round = |x: f64| (x * 1e6).round() / 1e6;
    (
        round(lat + rng.random_range(-spread..spread)),
        round(lon + rng.random_range(-spread..spread)),
    )
}

pub(super) fn unit_name(unit: entity::products::Unit) -> &'static str {
    match unit {
        entity::products::Unit::Kg => "kg",
        entity::products::Unit::Piece => "piece",
        entity::products::Unit::Litre => "litre",
        entity::products::Unit::Tonne => "tonne",
    }
}

pub(super) fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}
