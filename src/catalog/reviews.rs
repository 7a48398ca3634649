//! Reviews: only a buyer who received the product (a `product_purchases` row, written by the
//! orders domain when an order is delivered) may review it, once; the product's `rating` and
//! `review_count` are recomputed from the reviews in the same transaction.

use chrono::Utc;
use entity::{product_purchases, products, reviews};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait as _,
    QueryFilter, QuerySelect as _,
    sea_query::{Expr, ExprTrait as _, OnConflict},
};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    paging::{Cursor, Page, newest_first},
    validate::optional_text,
};

#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub product_id: Uuid,
    pub rating: i32,
    pub comment: Option<String>,
}

/// Records that `buyer` received `product` (called by the orders domain on delivery).
pub async fn record_purchase(
    conn: &impl ConnectionTrait,
    buyer: Uuid,
    product: Uuid,
) -> AppResult<()> {
    product_purchases::Entity::insert(product_purchases::ActiveModel {
        buyer_id: Set(buyer),
        product_id: Set(product),
        received_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            product_purchases::Column::BuyerId,
            product_purchases::Column::ProductId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Whether `buyer` received `product` in a delivered order.
pub async fn has_received(
    conn: &impl ConnectionTrait,
    buyer: Uuid,
    product: Uuid,
) -> AppResult<bool> {
    Ok(product_purchases::Entity::find()
        .filter(product_purchases::Column::BuyerId.eq(buyer))
        .filter(product_purchases::Column::ProductId.eq(product))
        .count(conn)
        .await?
        > 0)
}

#[derive(FromQueryResult)]
struct Aggregate {
    total: Option<i64>,
    count: i64,
}

pub async fn create(
    conn: &impl ConnectionTrait,
    buyer: Uuid,
    input: ReviewInput,
) -> AppResult<reviews::Model> {
    if !(1..=5).contains(&input.rating) {
        return Err(AppError::bad_input("rating", "must be from 1 to 5"));
    }
    let comment = optional_text("comment", input.comment, 2000)?;
    let product = products::Entity::find_by_id(input.product_id)
        .one(conn)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or_else(|| AppError::not_found("product"))?;
    if !has_received(conn, buyer, product.id).await? {
        return Err(AppError::Forbidden(
            "only buyers who received this product can review it".into(),
        ));
    }
    let already = reviews::Entity::find()
        .filter(reviews::Column::ProductId.eq(product.id))
        .filter(reviews::Column::BuyerId.eq(buyer))
        .count(conn)
        .await?;
    if already > 0 {
        return Err(AppError::Conflict(
            "you have already reviewed this product".into(),
        ));
    }
    let review = reviews::Model {
        id: crate::db::new_id(),
        product_id: product.id,
        buyer_id: buyer,
        rating: i16::try_from(input.rating).unwrap_or(5),
        comment,
        created_at: Utc::now(),
    };
    // The unique index settles a race between two submissions: the loser gets CONFLICT.
    reviews::Entity::insert(reviews::ActiveModel {
        id: Set(review.id),
        product_id: Set(review.product_id),
        buyer_id: Set(review.buyer_id),
        rating: Set(review.rating),
        comment: Set(review.comment.clone()),
        created_at: Set(review.created_at),
    })
    .exec_without_returning(conn)
    .await?;
    let agg = reviews::Entity::find()
        .select_only()
        .column_as(Expr::col(reviews::Column::Rating).sum(), "total")
        .column_as(Expr::col(reviews::Column::Id).count(), "count")
        .filter(reviews::Column::ProductId.eq(product.id))
        .into_model::<Aggregate>()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("review aggregate missing")))?;
    let count = i32::try_from(agg.count).unwrap_or(i32::MAX);
    #[allow(clippy::cast_precision_loss)] // a rating sum is far below 2^52
    let rating = if agg.count > 0 {
        agg.total.unwrap_or(0) as f64 / agg.count as f64
    } else {
        0.0
    };
    products::Entity::update_many()
        .col_expr(products::Column::Rating, Expr::value(rating))
        .col_expr(products::Column::ReviewCount, Expr::value(count))
        .filter(products::Column::Id.eq(product.id))
        .exec(conn)
        .await?;
    Ok(review)
}

/// A product's reviews, newest first.
pub async fn page(
    conn: &impl ConnectionTrait,
    product: Uuid,
    page: &Page<Cursor>,
) -> AppResult<(Vec<reviews::Model>, i64)> {
    newest_first::<reviews::Entity>(
        conn,
        sea_orm::Condition::all().add(reviews::Column::ProductId.eq(product)),
        reviews::Column::CreatedAt,
        reviews::Column::Id,
        page,
    )
    .await
}
