//! `setup-defaults`: the scrap category tree and the default settings. Safe to run any number of
//! times, also by several processes at once: what exists (matched by slug or key) is left as it
//! is. The server runs it on its first start on a fresh database ([`setup_on_first_start`]).

use chrono::Utc;
use entity::users;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait as _, PaginatorTrait as _,
    TransactionTrait as _, sea_query::OnConflict,
};
use uuid::Uuid;

use super::categories;
use crate::{
    error::{AppError, AppResult},
    settings,
};

/// A category as (name, slug).
type Entry = (&'static str, &'static str);

/// Top-level categories with their subcategories.
const TREE: &[(&str, &str, &[Entry])] = &[
    (
        "Metals",
        "metals",
        &[
            ("Iron & Steel", "iron-steel"),
            ("Copper", "copper"),
            ("Brass", "brass"),
            ("Aluminium", "aluminium"),
            ("Stainless Steel", "stainless-steel"),
        ],
    ),
    (
        "Paper",
        "paper",
        &[
            ("Newspaper", "newspaper"),
            ("Cardboard", "cardboard"),
            ("Books & Notebooks", "books-notebooks"),
            ("Office Paper", "office-paper"),
        ],
    ),
    (
        "Plastic",
        "plastic",
        &[
            ("PET Bottles", "pet-bottles"),
            ("Hard Plastic", "hard-plastic"),
            ("Plastic Film", "plastic-film"),
        ],
    ),
    (
        "E-Waste",
        "e-waste",
        &[
            ("Computers & Laptops", "computers-laptops"),
            ("Mobile Phones", "mobile-phones"),
            ("Batteries", "batteries"),
            ("Cables & Wires", "cables-wires"),
            ("Home Appliances", "home-appliances"),
        ],
    ),
    (
        "Glass",
        "glass",
        &[
            ("Glass Bottles", "glass-bottles"),
            ("Window Glass", "window-glass"),
        ],
    ),
    ("Rubber & Tyres", "rubber-tyres", &[]),
    ("Textiles", "textiles", &[]),
    ("Wood", "wood", &[]),
];

#[derive(Debug, Default, Clone, Copy)]
pub struct SetupReport {
    pub categories: usize,
    pub settings: usize,
}

/// Creates what is missing of the category tree and the default settings.
///
/// Each category goes in with `ON CONFLICT (slug) DO NOTHING`, so two processes running this at
/// once (two instances starting on the same fresh database) both succeed and create each row
/// once. The transaction writes before it reads, so on SQLite the second one waits for the
/// first one's write lock instead of failing on a stale snapshot.
pub async fn setup(db: &DatabaseConnection) -> AppResult<SetupReport> {
    let txn = db.begin().await?;
    let mut report = SetupReport::default();
    for (order, (name, slug, children)) in TREE.iter().enumerate() {
        report.categories += insert_missing(&txn, name, slug, None, order).await?;
        let parent = categories::find_by_slug(&txn, slug)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("category {slug} vanished")))?;
        for (child_order, (child_name, child_slug)) in children.iter().enumerate() {
            report.categories +=
                insert_missing(&txn, child_name, child_slug, Some(parent.id), child_order).await?;
        }
    }
    report.settings = settings::service::store_defaults(&txn).await?;
    txn.commit().await?;
    Ok(report)
}

/// What the first start of the server does: on a fresh database (no users and no categories
/// yet) it runs [`setup`], so a new marketplace opens with its category tree. A database that is
/// already in use is left as it is, even if its operator removed every category; `None` then.
pub async fn setup_on_first_start(db: &DatabaseConnection) -> AppResult<Option<SetupReport>> {
    let fresh = users::Entity::find().count(db).await? == 0
        && entity::categories::Entity::find().count(db).await? == 0;
    if !fresh {
        return Ok(None);
    }
    setup(db).await.map(Some)
}

/// Inserts one category unless its slug exists; returns how many rows went in (0 or 1).
async fn insert_missing(
    conn: &impl ConnectionTrait,
    name: &str,
    slug: &str,
    parent_id: Option<Uuid>,
    order: usize,
) -> AppResult<usize> {
    let inserted = entity::categories::Entity::insert(entity::categories::ActiveModel {
        id: Set(crate::db::new_id()),
        parent_id: Set(parent_id),
        name: Set(name.to_owned()),
        slug: Set(slug.to_owned()),
        icon_url: Set(None),
        sort_order: Set(i32::try_from(order).unwrap_or(i32::MAX)),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(entity::categories::Column::Slug)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(usize::try_from(inserted).unwrap_or(0))
}
