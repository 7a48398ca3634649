//! One booking in its own transaction: the path of slot-less bookings (offers), of a slot
//! booking whose batch failed as a whole, and of callers outside the API (the demo seed).

use chrono::{DateTime, Duration, SubsecRound as _, Utc};
use entity::{
    pickup_items,
    pickup_status_history::PickupActor,
    pickups::{self, PickupStatus},
    vendors,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait as _, TransactionTrait as _};
use uuid::Uuid;

use super::{
    BookPickupInput, Booked, Checked, OfferRules, by_key, check_input, collector_notice,
    collector_short, household_notice, items_of, new_pickup, no_such_address, no_such_slot,
    priced_items,
};
use crate::{
    accounts::service as accounts,
    error::{AppError, AppResult},
    pickups::service::{
        common::{next_number, open_chat_room, record_history, reference, tell_all},
        offers::{check_vendor_serves, commission_and_margin, hold_amount, offer},
        rates, slots,
    },
    vendors::service as vendors_service,
    wallet::escrow,
};

/// Books a pickup in one transaction: the quote at the rates in force now (locked on the
/// items); with a slot, a booking of it is taken and the vendor's hold placed (ASSIGNED); without
/// one, it is offered to the nearest covering vendors (REQUESTED). Replaying the idempotency key
/// with the same input returns the first pickup.
pub async fn book_pickup(
    db: &DatabaseConnection,
    household: Uuid,
    input: BookPickupInput,
    rules: OfferRules,
    now: DateTime<Utc>,
) -> AppResult<Booked> {
    let checked = check_input(input)?;
    book_checked(db, household, &checked, rules, now).await
}

/// [`book_pickup`] of an input already checked.
pub(super) async fn book_checked(
    db: &DatabaseConnection,
    household: Uuid,
    checked: &Checked,
    rules: OfferRules,
    now: DateTime<Utc>,
) -> AppResult<Booked> {
    if let Some(pickup) = by_key(db, household, &checked.key, &checked.hash).await? {
        return Ok(Booked {
            pickup,
            created: false,
        });
    }
    let txn = db.begin().await?;
    match book_in(&txn, household, checked, rules, now).await {
        Ok(pickup) => {
            txn.commit().await?;
            Ok(Booked {
                pickup,
                created: true,
            })
        }
        Err(err) => {
            txn.rollback().await?;
            // A parallel request with the same key won the unique index: answer with it.
            if matches!(err, AppError::Conflict(_))
                && let Some(pickup) = by_key(db, household, &checked.key, &checked.hash).await?
            {
                return Ok(Booked {
                    pickup,
                    created: false,
                });
            }
            Err(err)
        }
    }
}

async fn book_in(
    conn: &impl ConnectionTrait,
    household: Uuid,
    checked: &Checked,
    rules: OfferRules,
    now: DateTime<Utc>,
) -> AppResult<pickups::Model> {
    let now = now.trunc_subsecs(6);
    let address = accounts::own_address(conn, household, checked.address_id)
        .await
        .map_err(|_| no_such_address())?;
    let location = slots::location_of(&address)?;
    let categories: Vec<Uuid> = checked.items.iter().map(|(c, _)| *c).collect();
    let card = rates::rates_at(conn, &address.city, &categories, now).await?;
    let (items, quote) = priced_items(checked, &card, &address.city)?;
    let id = crate::db::new_id();
    let number = next_number(conn, now).await?;
    let mut pickup = new_pickup(
        id, number, household, &address, location, checked, quote, now,
    );
    let told_household = household_notice(&pickup);

    match checked.slot_id {
        Some(slot_id) => {
            let slot = slots::find(conn, slot_id)
                .await
                .map_err(|_| no_such_slot())?;
            let vendor = vendors_service::find(conn, slot.vendor_id).await?;
            check_vendor_serves(&vendor, household, location, "slotId")?;
            let (bps, margin) = commission_and_margin(conn, &vendor).await?;
            let told_vendor = collector_notice(vendor.user_id, &pickup, &slot);
            // Rows that lock nothing shared come first: the slot's counter and the collector's
            // wallet, which every booking of that collector needs, stay locked from the moment
            // they are taken until the commit, so they are taken as late as possible.
            tell_all(conn, vec![told_vendor, told_household]).await?;
            slots::take(conn, slot.id, now).await?;
            let hold = escrow::hold(
                conn,
                vendor.user_id,
                hold_amount(quote, margin)?,
                &reference(id),
            )
            .await
            .map_err(collector_short)?;
            pickup.status = PickupStatus::Assigned;
            pickup.vendor_id = Some(vendor.id);
            pickup.slot_id = Some(slot.id);
            pickup.hold_id = Some(hold.id);
            pickup.commission_bps = Some(bps);
            insert_pickup(conn, &pickup, items).await?;
            open_chat_room(conn, pickup.id, now).await?;
            record_history(
                conn,
                &pickup,
                None,
                PickupActor::Household,
                Some(household),
                None,
            )
            .await?;
        }
        None => {
            let nearest: Vec<(vendors::Model, f64)> = slots::covering_vendors(conn, location)
                .await?
                .into_iter()
                .filter(|(v, _)| v.user_id != household)
                .take(rules.vendors.max(1))
                .collect();
            if nearest.is_empty() {
                return Err(AppError::bad_input(
                    "addressId",
                    "no collector serves this address yet",
                ));
            }
            let expires = now + Duration::minutes(rules.minutes);
            pickup.offer_round = 1;
            pickup.offer_expires_at = Some(expires);
            insert_pickup(conn, &pickup, items).await?;
            record_history(
                conn,
                &pickup,
                None,
                PickupActor::Household,
                Some(household),
                None,
            )
            .await?;
            offer(conn, &pickup, &nearest, 1, now, expires).await?;
            tell_all(conn, vec![told_household]).await?;
        }
    }
    Ok(pickup)
}

async fn insert_pickup(
    conn: &impl ConnectionTrait,
    pickup: &pickups::Model,
    items: Vec<pickup_items::ActiveModel>,
) -> AppResult<()> {
    pickups::Entity::insert(pickups::ActiveModel::from(pickup.clone()))
        .exec_without_returning(conn)
        .await?;
    pickup_items::Entity::insert_many(items_of(pickup.id, items))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
