//! The catalog's GraphQL: categories, products (with images, search, reviews, wishlist).

mod categories;
mod products;

pub use categories::{CatalogMutation, CatalogQuery, Category, CategoryInput};
pub use products::{
    Product, ProductImage, ProductRow, ProductUnit, ProductsMutation, ProductsQuery, product_page,
};
