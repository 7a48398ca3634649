//! The catalog: today the category tree (metals → copper, …); products, images, reviews and the
//! wishlist join it. Slugs are unique; a category with subcategories cannot be deleted; a
//! category can never become its own ancestor.

pub mod categories;
pub mod defaults;
pub mod graphql;
pub mod loaders;
