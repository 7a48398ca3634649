//! What the `realtime` scenario runs on: staff accounts and rooms with a real order behind them.

use chrono::Utc;
use entity::{
    ledger_accounts::AccountKind,
    ledger_transfers::TransferKind,
    orders, users,
    vendors::{self, KycStatus},
};
use kabaadwala::wallet::{escrow, ledger};
use sea_orm::{ActiveValue::Set, EntityTrait as _, TransactionTrait as _};
use uuid::Uuid;

/// `count` staff accounts (admins), inserted at once; their ids.
pub async fn staff(db: &sea_orm::DatabaseConnection, count: usize) -> anyhow::Result<Vec<Uuid>> {
    let now = Utc::now();
    let rows: Vec<_> = (0..count)
        .map(|i| {
            let id = Uuid::new_v4();
            let mut row = kabaadwala::accounts::admin::verified_user_row(
                id,
                format!("staff-{i}-{id}@example.com"),
                format!("Staff {i}"),
                users::Role::Admin,
                "-".into(),
                now,
            );
            row.last_seen_at = Set(Some(now + chrono::Duration::days(1)));
            row
        })
        .collect();
    let ids = rows.iter().filter_map(|r| r.id.clone().take()).collect();
    for chunk in rows.chunks(200) {
        users::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(ids)
}

/// A buyer, an approved vendor, an order between them (with its money really held) and the
/// order's chat room; `n` numbers the order. Returns (buyer, vendor's user, room).
pub async fn prepare(
    db: &sea_orm::DatabaseConnection,
    n: u32,
) -> anyhow::Result<(Uuid, Uuid, Uuid)> {
    let now = Utc::now();
    let user = |name: &str| {
        let id = Uuid::new_v4();
        let mut row = kabaadwala::accounts::admin::verified_user_row(
            id,
            format!("{name}-{id}@example.com"),
            name.into(),
            users::Role::Customer,
            "-".into(),
            now,
        );
        // Online: no notification emails are queued during the run.
        row.last_seen_at = Set(Some(now + chrono::Duration::days(1)));
        row
    };
    let buyer = user("buyer");
    let owner = user("vendor");
    let (buyer_id, owner_id) = (buyer.id.clone().unwrap(), owner.id.clone().unwrap());
    users::Entity::insert_many([buyer, owner])
        .exec_without_returning(db)
        .await?;
    let vendor_id = Uuid::new_v4();
    vendors::Entity::insert(vendors::ActiveModel {
        id: Set(vendor_id),
        user_id: Set(owner_id),
        business_name: Set("Bench Kabaad Store".into()),
        description: Set(None),
        phone: Set("+919820000000".into()),
        address_label: Set("Shop".into()),
        address_line1: Set("1 Market Road".into()),
        address_line2: Set(None),
        city: Set("Mumbai".into()),
        state: Set("Maharashtra".into()),
        pincode: Set("400014".into()),
        latitude: Set(19.0178),
        longitude: Set(72.8478),
        service_radius_km: Set(10.0),
        kyc_status: Set(KycStatus::Approved),
        kyc_reason: Set(None),
        commission_bps: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    let txn = db.begin().await?;
    let app_error = |e: kabaadwala::AppError| anyhow::anyhow!("{e}");
    let clearing = ledger::account(&txn, AccountKind::ProviderClearing, ledger::PLATFORM)
        .await
        .map_err(app_error)?;
    let wallet = ledger::account(&txn, AccountKind::UserAvailable, buyer_id)
        .await
        .map_err(app_error)?;
    ledger::transfer(
        &txn,
        ledger::Transfer {
            debit: clearing,
            credit: wallet,
            amount: 100_000,
            kind: TransferKind::Recharge,
            reference: "bench".into(),
            idempotency_key: None,
            hold_id: None,
        },
    )
    .await
    .map_err(app_error)?;
    let hold = escrow::hold(&txn, buyer_id, 10_000, "bench order")
        .await
        .map_err(app_error)?;
    let order_id = Uuid::new_v4();
    orders::Entity::insert(orders::ActiveModel::from(orders::Model {
        id: order_id,
        number: format!("KW-BENCH-{n:06}"),
        buyer_id,
        vendor_id,
        status: orders::OrderStatus::Placed,
        subtotal: 10_000,
        commission: 500,
        commission_bps: 500,
        total: 10_000,
        hold_id: hold.id,
        address_id: None,
        address_label: "Home".into(),
        address_line1: "2 Station Road".into(),
        address_line2: None,
        address_city: "Mumbai".into(),
        address_state: "Maharashtra".into(),
        address_pincode: "400014".into(),
        address_latitude: 19.044,
        address_longitude: 72.861,
        note: None,
        idempotency_key: format!("bench-{n}"),
        request_hash: "bench".into(),
        created_at: now,
        updated_at: now,
        delivered_at: None,
        completed_at: None,
    }))
    .exec_without_returning(&txn)
    .await?;
    let viewer = kabaadwala::auth::Viewer {
        user_id: buyer_id,
        role: users::Role::Customer,
    };
    let room = kabaadwala::chat::service::open_room(&txn, &viewer, order_id)
        .await
        .map_err(app_error)?;
    txn.commit().await?;
    Ok((buyer_id, owner_id, room.id))
}
