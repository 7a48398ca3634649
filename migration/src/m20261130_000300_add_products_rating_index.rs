//! An index for the catalog's "best rated first" sort: `(rating, id)`, walked backwards from
//! the cursor, so a page by rating reads only the rows it returns, like newest first
//! (`idx_products_newest`) and by price (`idx_products_price`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_products_rating")
                    .table("products")
                    .col("rating")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_products_rating")
                    .table("products")
                    .to_owned(),
            )
            .await
    }
}
