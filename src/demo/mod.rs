//! `kabaadwala seed-demo`: a realistic demo data set for the playground and the benchmarks.
//!
//! Volume goes in with multi-row inserts (users, addresses, products); everything with rules
//! goes through the services: vendors register and are approved through KYC review, wallets are
//! recharged through the ledger, orders are placed with `orders::service::place_order` and moved
//! with `transition` (so stock, holds, releases, history and notifications are right), chat
//! messages through `chat::service::store_message`.
//!
//! Every demo account has an email under `@demo.kabaadwala.in` and the password
//! [`DEMO_PASSWORD`]. The first batch has three well-known sign-ins ([`SIGN_INS`]): the admin, a
//! customer and a vendor who share a completed order with a chat. A database that already has
//! demo accounts is refused unless `force`, which adds another, independent batch (new emails)
//! next to the first. The demo data set sends no email: the email jobs the services queue while
//! seeding are removed at the end.
//!
//! [`seed_if_empty`] is `serve --demo`: it fills only a database without users.

mod data;
mod helpers;
mod options;
mod pickups;
mod progress;

use std::time::Instant;

use anyhow::Context as _;
use chrono::{SubsecRound as _, Utc};
use entity::{
    addresses, categories, jobs, notifications, orders::OrderStatus, products, users, vendors,
};
use rand::{Rng as _, SeedableRng as _, rngs::StdRng};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _,
    QueryFilter as _, TransactionTrait as _, sea_query::Expr,
};
use uuid::Uuid;

pub use options::{
    ADMIN_EMAIL, CUSTOMER_EMAIL, DEMO_DOMAIN, DEMO_PASSWORD, Options, Report, SIGN_INS,
    VENDOR_EMAIL,
};
pub use progress::Progress;

use crate::{
    AppError, AppState,
    accounts::admin::verified_user_row,
    address::Address,
    auth::password,
    geo,
    orders::service::{self as orders, OrderLineInput, PlaceOrderInput},
    vendors::service::{self as vendors_service, VendorInput},
};
use helpers::{converse, fund, jitter, path, pick, unit_name};

/// Target statuses, one per order in turn: every status appears, COMPLETED the most.
const STATUS_CYCLE: &[OrderStatus] = &[
    OrderStatus::Completed,
    OrderStatus::Placed,
    OrderStatus::Confirmed,
    OrderStatus::Completed,
    OrderStatus::Packed,
    OrderStatus::Shipped,
    OrderStatus::Delivered,
    OrderStatus::Completed,
    OrderStatus::Cancelled,
    OrderStatus::Refunded,
];

struct Customer {
    id: Uuid,
    address: addresses::Model,
}

struct Shop {
    id: Uuid,
    user_id: Uuid,
    latitude: f64,
    longitude: f64,
    radius_km: f64,
    products: Vec<(Uuid, i64)>,
}

/// Whether the database already has demo accounts.
pub async fn has_demo_data(db: &DatabaseConnection) -> anyhow::Result<bool> {
    Ok(users::Entity::find()
        .filter(users::Column::Email.like(format!("%@{DEMO_DOMAIN}")))
        .count(db)
        .await?
        > 0)
}

/// What [`seed_if_empty`] found.
#[derive(Debug)]
pub enum DemoStart {
    /// The database had no users: it now has the demo data set.
    Seeded(Report),
    /// The database already had the demo data set and nothing else: left as it is.
    AlreadySeeded,
}

/// `serve --demo`: fills a database that has no users with the demo data set. A database whose
/// only users are demo accounts (a second `serve --demo`) is left as it is; one with any other
/// user is refused, so the demo never mixes into real data. Categories and settings alone (what
/// the first start installs) do not count as data.
pub async fn seed_if_empty(state: &AppState, opts: &Options) -> anyhow::Result<DemoStart> {
    let db = &state.db;
    let users = users::Entity::find().count(db).await?;
    let demo_users = users::Entity::find()
        .filter(users::Column::Email.like(format!("%@{DEMO_DOMAIN}")))
        .count(db)
        .await?;
    if users == 0 {
        return Ok(DemoStart::Seeded(seed(state, opts).await?));
    }
    if users == demo_users {
        return Ok(DemoStart::AlreadySeeded);
    }
    anyhow::bail!(
        "refusing to add demo data: this database already has {} account(s) that are not demo accounts. \
         --demo only fills an empty database; point DATABASE_URL at a new one \
         (e.g. DATABASE_URL=sqlite://data/demo.db?mode=rwc) or use `seed-demo --force` to add demo data anyway",
        users - demo_users
    )
}

/// Fills `state`'s database with the demo data set.
pub async fn seed(state: &AppState, opts: &Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    let seed_start = Utc::now() - chrono::Duration::seconds(1);
    let db = &state.db;
    let first_batch = !has_demo_data(db).await?;
    if !first_batch && !opts.force {
        anyhow::bail!(
            "this database already has demo data (accounts @{DEMO_DOMAIN}); run with --force to add another batch"
        );
    }
    let mut rng = StdRng::from_os_rng();
    // Emails of this batch: unique across `--force` runs.
    let tag = &Uuid::new_v4().simple().to_string()[..6];
    let mut progress = Progress::new(opts.progress);
    let app = |e: AppError| anyhow::anyhow!("{e}");

    crate::catalog::defaults::setup(db).await.map_err(app)?;
    let admin_email = ADMIN_EMAIL.to_owned();
    crate::accounts::admin::create_superuser(db, &admin_email, DEMO_PASSWORD, "Demo Admin")
        .await
        .map_err(app)?;
    let hash = password::hash(DEMO_PASSWORD.to_owned())
        .await
        .map_err(app)?;

    // Customers, each with a default address somewhere in the city.
    let now = Utc::now().trunc_subsecs(6);
    let mut customers = Vec::with_capacity(opts.customers);
    let mut user_rows = Vec::new();
    let mut address_rows = Vec::new();
    for i in 0..opts.customers {
        let first = pick(&mut rng, data::FIRST_NAMES);
        let last = pick(&mut rng, data::LAST_NAMES);
        let id = crate::db::new_id();
        let well_known = first_batch && i == 0;
        let email = if well_known {
            CUSTOMER_EMAIL.to_owned()
        } else {
            format!(
                "{}.{}.{i}.{tag}@{DEMO_DOMAIN}",
                first.to_lowercase(),
                last.to_lowercase()
            )
        };
        user_rows.push(verified_user_row(
            id,
            email,
            format!("{first} {last}"),
            users::Role::Customer,
            hash.clone(),
            now,
        ));
        // The well-known customer lives where the well-known vendor (shop 0) has its shop.
        let place = if well_known {
            &data::PLACES[0]
        } else {
            pick(&mut rng, data::PLACES)
        };
        let (lat, lon) = jitter(&mut rng, place.4, place.5, 0.01);
        let address = addresses::Model {
            id: crate::db::new_id(),
            user_id: id,
            label: "Home".into(),
            line1: format!(
                "House {}, {}",
                rng.random_range(1..400),
                pick(&mut rng, data::STREETS)
            ),
            line2: Some(place.0.into()),
            city: place.1.into(),
            state: place.2.into(),
            pincode: place.3.into(),
            latitude: Some(lat),
            longitude: Some(lon),
            is_default: true,
            created_at: now,
            updated_at: now,
        };
        address_rows.push(addresses::ActiveModel::from(address.clone()));
        customers.push(Customer { id, address });
    }
    for chunk in user_rows.chunks(200) {
        users::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    for chunk in address_rows.chunks(200) {
        addresses::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }

    // Vendors around the city: registered and reviewed through the vendor service.
    let total_vendors = opts.vendors + 2;
    let mut shops = Vec::with_capacity(opts.vendors);
    for i in 0..total_vendors {
        progress.show("vendors", i, total_vendors);
        let owner_first = pick(&mut rng, data::FIRST_NAMES);
        let owner_last = pick(&mut rng, data::LAST_NAMES);
        let place = data::PLACES[i % data::PLACES.len()];
        let business = format!(
            "{} {}",
            owner_last,
            data::SHOP_WORDS[i % data::SHOP_WORDS.len()]
        );
        let user_id = crate::db::new_id();
        let email = if first_batch && i == 0 {
            VENDOR_EMAIL.to_owned()
        } else {
            format!("shop{i}.{tag}@{DEMO_DOMAIN}")
        };
        users::Entity::insert(verified_user_row(
            user_id,
            email,
            format!("{owner_first} {owner_last}"),
            users::Role::Customer,
            hash.clone(),
            now,
        ))
        .exec_without_returning(db)
        .await?;
        let (lat, lon) = jitter(&mut rng, place.4, place.5, 0.006);
        let txn = db.begin().await?;
        let vendor = vendors_service::register(
            &txn,
            user_id,
            VendorInput {
                business_name: business,
                description: Some(format!(
                    "Doorstep scrap pickup in {} and nearby. Fair rates, digital weighing, instant payment.",
                    place.0
                )),
                phone: format!("98{:08}", rng.random_range(10_000_000..99_999_999)),
                address: Address {
                    label: "Shop".into(),
                    line1: format!(
                        "Shop {}, {}",
                        rng.random_range(1..120),
                        pick(&mut rng, data::STREETS)
                    ),
                    line2: Some(place.0.into()),
                    city: place.1.into(),
                    state: place.2.into(),
                    pincode: place.3.into(),
                    latitude: Some(lat),
                    longitude: Some(lon),
                },
                latitude: lat,
                longitude: lon,
                service_radius_km: f64::from(rng.random_range(25..=40)),
            },
        )
        .await
        .map_err(app)?;
        // Its KYC documents are "submitted"; all but the last two are approved.
        vendors::Entity::update_many()
            .col_expr(
                vendors::Column::KycStatus,
                Expr::value(vendors::KycStatus::Submitted),
            )
            .filter(vendors::Column::Id.eq(vendor.id))
            .exec(&txn)
            .await?;
        if i < opts.vendors {
            vendors_service::review_kyc(&txn, vendor.id, true, None)
                .await
                .map_err(app)?;
            shops.push(Shop {
                id: vendor.id,
                user_id,
                latitude: lat,
                longitude: lon,
                radius_km: vendor.service_radius_km,
                products: Vec::new(),
            });
        }
        txn.commit().await?;
    }

    // Products: multi-row inserts, spread over the approved vendors and the leaf categories.
    let category_ids: std::collections::HashMap<String, Uuid> = categories::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.slug, c.id))
        .collect();
    let mut rows = Vec::with_capacity(500);
    for i in 0..opts.products {
        let lot = pick(&mut rng, data::LOTS);
        let category_id = *category_ids
            .get(lot.0)
            .with_context(|| format!("category {} is missing", lot.0))?;
        let shop_index = i % shops.len().max(1);
        let Some(shop) = shops.get_mut(shop_index) else {
            break;
        };
        let id = crate::db::new_id();
        let price = rng.random_range(lot.3..=lot.4) / 10 * 10;
        let at = now - chrono::Duration::minutes(rng.random_range(0..60 * 24 * 90));
        let stock = match lot.2 {
            entity::products::Unit::Kg => rng.random_range(200..2_000),
            entity::products::Unit::Tonne => rng.random_range(5..40),
            _ => rng.random_range(5..60),
        };
        let grade = pick(&mut rng, data::GRADES);
        rows.push(products::ActiveModel {
            id: Set(id),
            vendor_id: Set(shop.id),
            category_id: Set(category_id),
            name: Set(format!("{grade}{}", lot.1)),
            description: Set(Some(format!(
                "{} — sorted and weighed, ready for pickup. Rate per {}.",
                lot.1,
                unit_name(lot.2)
            ))),
            unit: Set(lot.2),
            price: Set(price),
            stock: Set(stock),
            // A few lots are paused by their vendor.
            is_active: Set(i % 37 != 36),
            rating: Set(0.0),
            review_count: Set(0),
            created_at: Set(at),
            updated_at: Set(at),
            deleted_at: Set(None),
        });
        if i % 37 != 36 {
            shop.products.push((id, price));
        }
        if rows.len() == 500 || i + 1 == opts.products {
            products::Entity::insert_many(std::mem::take(&mut rows))
                .exec_without_returning(db)
                .await?;
            progress.show("products", i + 1, opts.products);
        }
    }

    // Wallets: every customer recharges through the sandbox provider and the ledger.
    for (i, customer) in customers.iter().enumerate() {
        progress.show("wallets", i, customers.len());
        fund(state, customer.id, rng.random_range(20..=80) * 500_000).await?;
    }

    // Orders in every state, through the order service.
    let admin = users::Entity::find()
        .filter(users::Column::Email.eq(&admin_email))
        .one(db)
        .await?
        .context("the demo admin is missing")?;
    let mut placed = 0;
    let mut messages = 0;
    let well_known_shop = shops.first().filter(|_| first_batch).map(|s| s.id);
    for n in 0..opts.orders {
        progress.show("orders", n, opts.orders);
        let customer = &customers[n % customers.len().max(1)];
        let (Some(lat), Some(lon)) = (customer.address.latitude, customer.address.longitude) else {
            continue;
        };
        let nearby: Vec<&Shop> = shops
            .iter()
            .filter(|s| {
                !s.products.is_empty()
                    && geo::distance_km(lat, lon, s.latitude, s.longitude) <= s.radius_km
            })
            .collect();
        if nearby.is_empty() {
            continue;
        }
        // The first order (completed, with a chat) is between the well-known customer and
        // vendor, who are neighbours.
        let shop = match nearby
            .iter()
            .find(|s| n == 0 && Some(s.id) == well_known_shop)
        {
            Some(first) => *first,
            None => *pick(&mut rng, &nearby),
        };
        let lines = rng.random_range(1..=3).min(shop.products.len());
        let mut items: Vec<OrderLineInput> = Vec::with_capacity(lines);
        while items.len() < lines {
            let (product_id, _) = *pick(&mut rng, &shop.products);
            if items.iter().all(|l| l.product_id != product_id) {
                items.push(OrderLineInput {
                    product_id,
                    quantity: rng.random_range(1..=5),
                });
            }
        }
        let input = PlaceOrderInput {
            items,
            address_id: customer.address.id,
            note: (n % 4 == 0).then(|| "Please ring the bell twice.".to_owned()),
            idempotency_key: format!("demo-{tag}-{n}"),
        };
        let order = match orders::place_order(db, customer.id, input.clone()).await {
            Ok(placed) => placed.order,
            Err(AppError::InsufficientFunds(_)) => {
                fund(state, customer.id, 5_000_000).await?;
                match orders::place_order(db, customer.id, input).await {
                    Ok(placed) => placed.order,
                    // Out of stock or still short: skip this one.
                    Err(AppError::BadUserInput { .. } | AppError::InsufficientFunds(_)) => {
                        continue;
                    }
                    Err(other) => return Err(app(other)),
                }
            }
            Err(AppError::BadUserInput { .. }) => continue,
            Err(other) => return Err(app(other)),
        };
        placed += 1;
        let target = STATUS_CYCLE[n % STATUS_CYCLE.len()];
        for (to, actor, actor_id) in path(target, customer.id, shop.user_id, admin.id) {
            let txn = db.begin().await?;
            orders::transition(&txn, order.id, to, actor, Some(actor_id), None)
                .await
                .map_err(app)?;
            if to == OrderStatus::Completed {
                orders::release_held_amount(&txn, order.id)
                    .await
                    .map_err(app)?;
            }
            txn.commit().await?;
        }
        // A chat on about a third of the orders.
        if n % 3 == 0 {
            messages += converse(db, &mut rng, &order, customer.id, shop.user_id).await?;
        }
    }
    progress.show("orders", opts.orders, opts.orders);
    progress.finish();

    pickups::seed(state, admin.id, &customers, &shops).await?;
    // The demo sends no email: drop the email jobs queued while seeding (releases already ran).
    jobs::Entity::delete_many()
        .filter(jobs::Column::CreatedAt.gte(seed_start))
        .filter(jobs::Column::Kind.is_in([
            "send_order_email",
            "send_kyc_decision_email",
            "send_notification",
            "release_held_amount",
            "process_wallet_recharge",
        ]))
        .exec(db)
        .await?;
    let notifications = notifications::Entity::find()
        .filter(notifications::Column::CreatedAt.gte(seed_start))
        .count(db)
        .await?;
    Ok(Report {
        admin_email,
        admin_password: DEMO_PASSWORD.into(),
        first_batch,
        customers: customers.len(),
        vendors: shops.len(),
        pending_vendors: total_vendors - shops.len(),
        products: opts.products,
        orders: placed,
        messages,
        notifications,
        elapsed: started.elapsed(),
    })
}
