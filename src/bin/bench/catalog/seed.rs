//! The catalog's data: a grid of approved vendors around New Delhi, five categories, products
//! with prices from ₹10 to ₹109.60, ratings, stock and images.

use entity::{categories, product_images, products, users, vendors};
use kabaadwala::accounts::admin::verified_user_row;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait as _};
use uuid::Uuid;

pub const VENDORS: usize = 100;

/// 100 approved vendors around Delhi, five categories, `count` products (one a second, newest
/// first), an image on every third; returns the categories' ids.
pub async fn seed(db: &DatabaseConnection, count: usize) -> anyhow::Result<Vec<Uuid>> {
    let now = chrono::Utc::now();
    let category_ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    categories::Entity::insert_many(
        category_ids
            .iter()
            .enumerate()
            .map(|(i, id)| categories::ActiveModel {
                id: Set(*id),
                parent_id: Set(None),
                name: Set(format!("Category {i}")),
                slug: Set(format!("category-{i}")),
                icon_url: Set(None),
                sort_order: Set(i32::try_from(i).unwrap_or(0)),
                created_at: Set(now),
            })
            .collect::<Vec<_>>(),
    )
    .exec_without_returning(db)
    .await?;
    let mut vendor_ids = Vec::with_capacity(VENDORS);
    let mut user_rows = Vec::new();
    let mut vendor_rows = Vec::new();
    for i in 0..VENDORS {
        let (user, vendor) = approved_vendor(i, now);
        vendor_ids.push(*vendor.id.as_ref());
        user_rows.push(user);
        vendor_rows.push(vendor);
    }
    users::Entity::insert_many(user_rows)
        .exec_without_returning(db)
        .await?;
    vendors::Entity::insert_many(vendor_rows)
        .exec_without_returning(db)
        .await?;
    let names = [
        "Copper wire",
        "Brass fittings",
        "Old newspaper",
        "Aluminium cans",
        "PET bottles",
        "Iron rods",
        "Cardboard",
        "E-waste boards",
    ];
    for chunk in (0..count).collect::<Vec<_>>().chunks(1000) {
        let mut product_rows = Vec::with_capacity(chunk.len());
        let mut image_rows = Vec::new();
        for &i in chunk {
            let id = Uuid::new_v4();
            let at = now - chrono::Duration::seconds(i64::try_from(i)?);
            product_rows.push(products::ActiveModel {
                id: Set(id),
                vendor_id: Set(vendor_ids[i % VENDORS]),
                category_id: Set(category_ids[i % category_ids.len()]),
                name: Set(format!("{} lot {i}", names[i % names.len()])),
                description: Set(Some("Sorted, weighed and ready for pickup".into())),
                unit: Set(products::Unit::Kg),
                price: Set(1_000 + i64::try_from(i % 997)? * 10),
                stock: Set(i32::try_from(i % 50)?),
                is_active: Set(true),
                rating: Set((i % 5) as f64 + 0.5),
                review_count: Set(i32::try_from(i % 20)?),
                created_at: Set(at),
                updated_at: Set(at),
                deleted_at: Set(None),
            });
            if i % 3 == 0 {
                image_rows.push(product_images::ActiveModel {
                    id: Set(Uuid::new_v4()),
                    product_id: Set(id),
                    storage_key: Set(format!("products/{id}/0.jpg")),
                    content_type: Set("image/jpeg".into()),
                    position: Set(0),
                    created_at: Set(at),
                });
            }
        }
        products::Entity::insert_many(product_rows)
            .exec_without_returning(db)
            .await?;
        product_images::Entity::insert_many(image_rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(category_ids)
}

/// An approved vendor (and its user) number `i`, on a grid of shops around New Delhi.
pub fn approved_vendor(
    i: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> (users::ActiveModel, vendors::ActiveModel) {
    let (user, vendor) = (Uuid::new_v4(), Uuid::new_v4());
    let user_row = verified_user_row(
        user,
        format!("vendor-{i}-{user}@example.com"),
        format!("Vendor {i}"),
        users::Role::Vendor,
        "-".into(),
        now,
    );
    let f = i as f64;
    let vendor_row = vendors::ActiveModel {
        id: Set(vendor),
        user_id: Set(user),
        business_name: Set(format!("Kabaadi {i}")),
        description: Set(Some("Paper, metal, plastic and e-waste".into())),
        phone: Set("+919876543210".into()),
        address_label: Set("Shop".into()),
        address_line1: Set(format!("{i} Main Road")),
        address_line2: Set(None),
        city: Set("New Delhi".into()),
        state: Set("Delhi".into()),
        pincode: Set("110001".into()),
        latitude: Set(28.5 + (f % 10.0) * 0.03),
        longitude: Set(77.0 + (f / 10.0).floor() * 0.03),
        service_radius_km: Set(15.0),
        kyc_status: Set(vendors::KycStatus::Approved),
        kyc_reason: Set(None),
        commission_bps: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    (user_row, vendor_row)
}
