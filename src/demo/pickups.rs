//! The demo's doorstep pickups: Delhi NCR rate cards for the common household materials, and
//! pickups of demo households in every status (booked into slots, offered, walked on through
//! the pickups services so holds, settlements, history and notifications are all real); every
//! pickup with a collector has a short exchange in its chat room.

use anyhow::Context as _;
use chrono::{Duration, Utc};
use entity::{categories, pickups::PickupStatus};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, TransactionTrait as _};
use uuid::Uuid;

use super::{Customer, Shop, fund};
use crate::{
    AppError, AppState,
    auth::Viewer,
    chat::service as chat,
    geo,
    pickups::service::{
        self as pickups,
        booking::{self, BookPickupInput, OfferRules, PickupItemInput},
        completion, offers,
        rates::{self, SetRateInput},
        settlement::WeighingLine,
        slots::{self, SlotInput},
        transitions,
    },
};

/// The Delhi NCR cities of the demo's places.
pub const NCR_CITIES: [&str; 5] = ["New Delhi", "Gurugram", "Noida", "Faridabad", "Ghaziabad"];

/// (category slug, paise per kg): what NCR kabadiwalas pay households, roughly.
pub const NCR_RATES: [(&str, i64); 8] = [
    ("newspaper", 1_400),
    ("cardboard", 900),
    ("iron-steel", 2_800),
    ("copper", 42_500),
    ("brass", 30_000),
    ("aluminium", 10_500),
    ("plastic", 1_000),
    ("e-waste", 2_000),
];

/// Every status a demo pickup is left in.
const STATUSES: [PickupStatus; 9] = [
    PickupStatus::Requested,
    PickupStatus::Assigned,
    PickupStatus::EnRoute,
    PickupStatus::Arrived,
    PickupStatus::Weighed,
    PickupStatus::Completed,
    PickupStatus::Cancelled,
    PickupStatus::Expired,
    PickupStatus::Disputed,
];

/// Rate cards for NCR, then two pickups in each status; returns how many pickups.
pub(super) async fn seed(
    state: &AppState,
    admin_id: Uuid,
    customers: &[Customer],
    shops: &[Shop],
) -> anyhow::Result<usize> {
    let app = |e: AppError| anyhow::anyhow!("{e}");
    let db = &state.db;
    let mut materials = Vec::new();
    for (slug, price) in NCR_RATES {
        let Some(category) = categories::Entity::find()
            .filter(categories::Column::Slug.eq(slug))
            .one(db)
            .await?
        else {
            continue;
        };
        for city in NCR_CITIES {
            let txn = db.begin().await?;
            rates::set_rate(
                &txn,
                admin_id,
                SetRateInput {
                    city: city.into(),
                    category_id: category.id,
                    price_per_kg: price,
                    effective_from: None,
                },
                Utc::now(),
            )
            .await
            .map_err(app)?;
            txn.commit().await?;
        }
        materials.push(category.id);
    }
    if materials.len() < 2 {
        return Ok(0);
    }
    // NCR households with an approved shop covering them.
    let pairs: Vec<(&Customer, &Shop)> = customers
        .iter()
        .filter(|c| NCR_CITIES.contains(&c.address.city.as_str()))
        .filter_map(|c| {
            let (lat, lon) = (c.address.latitude?, c.address.longitude?);
            let shop = shops.iter().find(|s| {
                s.user_id != c.id
                    && geo::distance_km(lat, lon, s.latitude, s.longitude) <= s.radius_km
            })?;
            Some((c, shop))
        })
        .collect();
    if pairs.is_empty() {
        return Ok(0);
    }
    let mut made = 0;
    for n in 0..STATUSES.len() * 2 {
        let target = STATUSES[n % STATUSES.len()];
        let (customer, shop) = pairs[n % pairs.len()];
        fund(state, shop.user_id, 2_000_000).await?;
        let slot = if matches!(target, PickupStatus::Requested | PickupStatus::Expired) {
            None
        } else {
            let start = Utc::now() + Duration::hours(2 + (n % 8) as i64);
            let txn = db.begin().await?;
            let vendor = crate::vendors::service::find(&txn, shop.id)
                .await
                .map_err(app)?;
            let added = slots::add_slots(
                &txn,
                &vendor,
                vec![SlotInput {
                    start,
                    end: start + Duration::hours(2),
                    capacity: 3,
                }],
                Utc::now(),
            )
            .await
            .map_err(app)?;
            txn.commit().await?;
            added.first().map(|s| s.id)
        };
        let first = materials[n % materials.len()];
        let second = materials[(n + 1) % materials.len()];
        let rules = OfferRules {
            minutes: 15,
            vendors: if target == PickupStatus::Expired {
                1_000
            } else {
                5
            },
        };
        let booked = booking::book_pickup(
            db,
            customer.id,
            BookPickupInput {
                address_id: customer.address.id,
                slot_id: slot,
                items: vec![
                    PickupItemInput {
                        category_id: first,
                        estimated_kg: 5.0 + (n % 7) as f64,
                    },
                    PickupItemInput {
                        category_id: second,
                        estimated_kg: 2.5,
                    },
                ],
                note: Some("Bundled and kept by the gate".into()),
                idempotency_key: format!("demo-pickup-{}", Uuid::new_v4().simple()),
            },
            rules,
            Utc::now(),
        )
        .await
        .map_err(app)?;
        if slot.is_some() {
            converse(db, booked.pickup.id, customer.id, shop.user_id, n).await?;
        }
        walk(
            state,
            booked.pickup.id,
            target,
            customer.id,
            shop,
            (first, second),
            rules,
        )
        .await
        .with_context(|| format!("walk a demo pickup to {target:?}"))?;
        made += 1;
    }
    Ok(made)
}

/// (household, collector): what they say in a pickup's room before the collector comes.
const PICKUP_CHAT: [(&str, &str); 3] = [
    (
        "The bundles are by the gate, ring the bell twice.",
        "Noted. I bring a calibrated scale, you can watch the reading.",
    ),
    (
        "Can you come after 4? I am out until then.",
        "Yes, I will message when I am on the way.",
    ),
    (
        "There is also an old cooler, do you take that?",
        "Yes, I will weigh it as iron and plastic separately.",
    ),
];

/// A question from the household and the collector's answer in the pickup's room.
async fn converse(
    db: &sea_orm::DatabaseConnection,
    pickup_id: Uuid,
    household: Uuid,
    collector: Uuid,
    n: usize,
) -> anyhow::Result<()> {
    use entity::users::Role;
    let app = |e: AppError| anyhow::anyhow!("{e}");
    let Some(room) = chat::room_of_pickup(db, pickup_id).await.map_err(app)? else {
        return Ok(());
    };
    let (question, answer) = PICKUP_CHAT[n % PICKUP_CHAT.len()];
    let txn = db.begin().await?;
    for (user_id, role, text) in [
        (household, Role::Customer, question),
        (collector, Role::Vendor, answer),
    ] {
        let viewer = Viewer { user_id, role };
        let access = chat::access(&txn, &viewer, room.id).await.map_err(app)?;
        chat::store_message(
            &txn,
            &access,
            user_id,
            crate::db::new_id(),
            text.to_owned(),
            None,
        )
        .await
        .map_err(app)?;
    }
    txn.commit().await?;
    Ok(())
}

/// Moves a booked pickup to `target` the way its parties would.
async fn walk(
    state: &AppState,
    pickup_id: Uuid,
    target: PickupStatus,
    household: Uuid,
    shop: &Shop,
    (first, second): (Uuid, Uuid),
    rules: OfferRules,
) -> anyhow::Result<()> {
    use PickupStatus::*;
    use entity::pickup_status_history::PickupActor::{Household, Vendor};
    let app = |e: AppError| anyhow::anyhow!("{e}");
    let db = &state.db;
    let now = Utc::now;
    let step = |to: PickupStatus| async move {
        let txn = db.begin().await?;
        let pickup = pickups::find(&txn, pickup_id).await.map_err(app)?;
        match to {
            EnRoute | Arrived => {
                transitions::update_status(&txn, &pickup, to, Vendor, shop.user_id, now())
                    .await
                    .map_err(app)?;
            }
            Weighed => {
                let lines = [
                    WeighingLine {
                        category_id: first,
                        weight_grams: 6_350,
                    },
                    WeighingLine {
                        category_id: second,
                        weight_grams: 2_180,
                    },
                ];
                transitions::record_weighing(
                    &txn,
                    &pickup,
                    &lines,
                    None,
                    Vendor,
                    shop.user_id,
                    now(),
                )
                .await
                .map_err(app)?;
            }
            Disputed => {
                transitions::dispute_pickup(
                    &txn,
                    &pickup,
                    Some("The scale read 1 kg heavier when I checked.".into()),
                    Household,
                    household,
                    now(),
                )
                .await
                .map_err(app)?;
            }
            Cancelled => {
                transitions::cancel_pickup(
                    &txn,
                    &pickup,
                    Some("Sold it to a neighbour".into()),
                    Household,
                    household,
                    now(),
                )
                .await
                .map_err(app)?;
            }
            _ => {}
        }
        txn.commit().await?;
        anyhow::Ok(())
    };
    match target {
        Requested | Assigned => {}
        Expired => {
            let txn = db.begin().await?;
            offers::end_offer_round(&txn, pickup_id, 1, rules, now())
                .await
                .map_err(app)?;
            txn.commit().await?;
        }
        Cancelled => step(Cancelled).await?,
        EnRoute => step(EnRoute).await?,
        Arrived => {
            step(EnRoute).await?;
            step(Arrived).await?;
        }
        Weighed | Completed | Disputed => {
            step(EnRoute).await?;
            step(Arrived).await?;
            step(Weighed).await?;
            if target == Disputed {
                step(Disputed).await?;
            }
            if target == Completed {
                let pickup = pickups::find(db, pickup_id).await.map_err(app)?;
                let code = pickup.handover_code.unwrap_or_default();
                completion::complete_pickup(db, pickup_id, &code, Vendor, shop.user_id, now())
                    .await
                    .map_err(app)?;
                let txn = db.begin().await?;
                let done = pickups::find(&txn, pickup_id).await.map_err(app)?;
                transitions::review_pickup(
                    &txn,
                    &done,
                    5,
                    Some("On time, honest scale.".into()),
                    now(),
                )
                .await
                .map_err(app)?;
                txn.commit().await?;
            }
        }
    }
    Ok(())
}
