//! The catalog's GraphQL: categories, products (with images, search, reviews, wishlist).

mod categories;
mod listing;
mod mutations;
mod products;
mod reviews;

pub use categories::{CatalogMutation, CatalogQuery, Category, CategoryInput};
pub use listing::{NearInput, ProductFilter, ProductSort, ProductsQuery, product_page};
pub use mutations::{ProductInput, ProductsMutation};
pub use products::{Product, ProductImage, ProductUnit};
pub use reviews::{Review, ReviewInput};
