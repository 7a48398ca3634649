//! Reviews as the API shows them, and as entered.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::reviews;

use super::Product;
use crate::{catalog::loaders::ProductById, error::AppResult, graphql::context::ContextExt as _};

/// A buyer's review of a product they received.
pub struct Review(pub reviews::Model);

#[Object]
impl Review {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// 1 to 5.
    async fn rating(&self) -> i32 {
        i32::from(self.0.rating)
    }

    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }

    /// The reviewer's name only: reviews are public.
    async fn author_name(&self, ctx: &Context<'_>) -> AppResult<String> {
        let user = crate::auth::service::active_user(&ctx.state().db, self.0.buyer_id).await;
        Ok(user.map_or_else(|_| "A former customer".into(), |u| u.full_name))
    }

    async fn product(&self, ctx: &Context<'_>) -> AppResult<Option<Product>> {
        Ok(ctx
            .loader()
            .load_one(ProductById(self.0.product_id))
            .await?
            .map(Product::from))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A review as entered.
#[derive(InputObject)]
pub struct ReviewInput {
    pub product_id: ID,
    /// 1 to 5.
    pub rating: i32,
    pub comment: Option<String>,
}
