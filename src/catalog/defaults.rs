//! `setup-defaults`: the scrap category tree and the default settings. Safe to run any number of
//! times: what exists (matched by slug or key) is left as it is.

use sea_orm::{DatabaseConnection, TransactionTrait as _};

use super::categories::{self, CategoryInput};
use crate::{error::AppResult, settings};

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

pub async fn setup(db: &DatabaseConnection) -> AppResult<SetupReport> {
    let txn = db.begin().await?;
    let mut report = SetupReport::default();
    for (order, (name, slug, children)) in TREE.iter().enumerate() {
        let parent = match categories::find_by_slug(&txn, slug).await? {
            Some(existing) => existing,
            None => {
                report.categories += 1;
                categories::create(
                    &txn,
                    CategoryInput {
                        name: (*name).into(),
                        slug: Some((*slug).into()),
                        sort_order: i32::try_from(order).ok(),
                        ..Default::default()
                    },
                )
                .await?
            }
        };
        for (child_order, (child_name, child_slug)) in children.iter().enumerate() {
            if categories::find_by_slug(&txn, child_slug).await?.is_none() {
                report.categories += 1;
                categories::create(
                    &txn,
                    CategoryInput {
                        name: (*child_name).into(),
                        slug: Some((*child_slug).into()),
                        parent_id: Some(parent.id),
                        sort_order: i32::try_from(child_order).ok(),
                        ..Default::default()
                    },
                )
                .await?;
            }
        }
    }
    report.settings = settings::service::store_defaults(&txn).await?;
    txn.commit().await?;
    Ok(report)
}
