//! The catalog: the category tree (metals → copper, …), vendors' products with images, the
//! public search (text, price, category subtree, nearby), reviews and wishlists. Slugs are unique;
//! a category with subcategories cannot be deleted; a category can never become its own ancestor.
//! Only products that are active, not deleted and of an APPROVED vendor are listed publicly;
//! `rating`/`reviewCount` change only with a review, in the same transaction.
//!
//! Product pages: `search` builds and reads the SQL, `listing` serves pages (through `cache`
//! for the public catalog) as domain rows (`rows`); `graphql` only maps them.

pub mod admin;
pub mod cache;
pub mod categories;
pub mod defaults;
pub mod graphql;
pub mod images;
pub mod listing;
pub mod loaders;
pub mod products;
pub mod reviews;
pub mod rows;
pub mod search;
pub mod wishlist;
