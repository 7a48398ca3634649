//! Vendors with their KYC documents; products with images, reviews and wishlists; and the
//! purchase record that entitles a buyer to review a product.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(from: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: &'static str,
    cols: &[&'static str],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(*col);
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("vendors")
                    .col(pk_uuid("id"))
                    .col(uuid_uniq("user_id"))
                    .col(string("business_name"))
                    .col(text_null("description"))
                    .col(string_len("phone", 20))
                    .col(string("address_label"))
                    .col(string("address_line1"))
                    .col(string_null("address_line2"))
                    .col(string("city"))
                    .col(string("state"))
                    .col(string_len("pincode", 12))
                    .col(double("latitude"))
                    .col(double("longitude"))
                    .col(double("service_radius_km"))
                    .col(string_len("kyc_status", 16))
                    .col(text_null("kyc_reason"))
                    .col(integer_null("commission_bps"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("vendors", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_vendors_location",
            "vendors",
            &["latitude", "longitude"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("kyc_documents")
                    .col(pk_uuid("id"))
                    .col(uuid("vendor_id"))
                    .col(string_len("kind", 16))
                    .col(string("storage_key"))
                    .col(string_len("content_type", 64))
                    .col(big_integer("size_bytes"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("kyc_documents", "vendor_id", "vendors"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_kyc_documents_vendor",
            "kyc_documents",
            &["vendor_id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("products")
                    .col(pk_uuid("id"))
                    .col(uuid("vendor_id"))
                    .col(uuid("category_id"))
                    .col(string("name"))
                    .col(text_null("description"))
                    .col(string_len("unit", 8))
                    .col(big_integer("price"))
                    .col(integer("stock"))
                    .col(boolean("is_active"))
                    .col(double("rating"))
                    .col(integer("review_count"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("deleted_at"))
                    .check(Expr::cust("price > 0"))
                    .check(Expr::cust("stock >= 0"))
                    .foreign_key(&mut fk("products", "vendor_id", "vendors"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("products", "category_id")
                            .to("categories", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_products_vendor",
            "products",
            &["vendor_id", "created_at"],
        )
        .await?;
        index(
            manager,
            "idx_products_category",
            "products",
            &["category_id"],
        )
        .await?;
        index(
            manager,
            "idx_products_newest",
            "products",
            &["created_at", "id"],
        )
        .await?;
        index(manager, "idx_products_price", "products", &["price", "id"]).await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            // Word-prefix search on name and description (catalog::search hides the SQLite path).
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE INDEX idx_products_search ON products USING GIN \
                     (to_tsvector('simple', name || ' ' || coalesce(description, '')))",
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table("product_images")
                    .col(pk_uuid("id"))
                    .col(uuid("product_id"))
                    .col(string("storage_key"))
                    .col(string_len("content_type", 64))
                    .col(integer("position"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk("product_images", "product_id", "products"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_product_images_product",
            "product_images",
            &["product_id", "position"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("reviews")
                    .col(pk_uuid("id"))
                    .col(uuid("product_id"))
                    .col(uuid("buyer_id"))
                    .col(small_integer("rating"))
                    .col(text_null("comment"))
                    .col(timestamp_with_time_zone("created_at"))
                    .check(Expr::cust("rating BETWEEN 1 AND 5"))
                    .foreign_key(&mut fk("reviews", "product_id", "products"))
                    .foreign_key(&mut fk("reviews", "buyer_id", "users"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_reviews_buyer_product")
                    .table("reviews")
                    .col("product_id")
                    .col("buyer_id")
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("wishlist_items")
                    .col(uuid("user_id"))
                    .col(uuid("product_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("user_id").col("product_id"))
                    .foreign_key(&mut fk("wishlist_items", "user_id", "users"))
                    .foreign_key(&mut fk("wishlist_items", "product_id", "products"))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_wishlist_items_product",
            "wishlist_items",
            &["product_id"],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("product_purchases")
                    .col(uuid("buyer_id"))
                    .col(uuid("product_id"))
                    .col(timestamp_with_time_zone("received_at"))
                    .primary_key(Index::create().col("buyer_id").col("product_id"))
                    .foreign_key(&mut fk("product_purchases", "buyer_id", "users"))
                    .foreign_key(&mut fk("product_purchases", "product_id", "products"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "product_purchases",
            "wishlist_items",
            "reviews",
            "product_images",
            "products",
            "kyc_documents",
            "vendors",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
