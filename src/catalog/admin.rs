//! Admin changes to the catalog, shared by the admin GraphQL fields and the operators'
//! console: categories, and unlisting a vendor's product. Each writes its audit row in the
//! transaction of the change.

use chrono::Utc;
use entity::{categories, products};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, IntoActiveModel as _, TransactionTrait as _,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::categories::{self as service, CategoryInput};
use crate::{
    AppState,
    audit::{self, Entry},
    auth::Viewer,
    error::{AppError, AppResult},
};

fn category_json(category: &categories::Model) -> Value {
    json!({
        "name": category.name,
        "slug": category.slug,
        "parentId": category.parent_id,
        "sortOrder": category.sort_order,
    })
}

/// Admin: adds a category.
pub async fn create_category(
    state: &AppState,
    actor: Viewer,
    input: CategoryInput,
) -> AppResult<categories::Model> {
    let txn = state.db.begin().await?;
    let created = service::create(&txn, input).await?;
    audit::record(
        &txn,
        Entry::new(actor.user_id, "category.create", "category", created.id)
            .change(Value::Null, category_json(&created)),
    )
    .await?;
    txn.commit().await?;
    state.catalog_cache.invalidate();
    Ok(created)
}

/// Admin: renames or moves a category.
pub async fn update_category(
    state: &AppState,
    actor: Viewer,
    id: Uuid,
    input: CategoryInput,
) -> AppResult<categories::Model> {
    let txn = state.db.begin().await?;
    let before = service::find(&txn, id).await?;
    let updated = service::update(&txn, id, input).await?;
    audit::record(
        &txn,
        Entry::new(actor.user_id, "category.update", "category", id)
            .change(category_json(&before), category_json(&updated)),
    )
    .await?;
    txn.commit().await?;
    state.catalog_cache.invalidate();
    Ok(updated)
}

/// Admin: deletes a category that has no subcategories.
pub async fn delete_category(state: &AppState, actor: Viewer, id: Uuid) -> AppResult<bool> {
    let txn = state.db.begin().await?;
    let before = service::find(&txn, id).await?;
    let deleted = service::delete(&txn, id).await?;
    audit::record(
        &txn,
        Entry::new(actor.user_id, "category.delete", "category", id)
            .change(category_json(&before), Value::Null),
    )
    .await?;
    txn.commit().await?;
    state.catalog_cache.invalidate();
    Ok(deleted)
}

/// Admin: takes a product off the listings (it stays in orders that contain it), with a
/// reason. Listing an unlisted product is `INVALID_TRANSITION`.
pub async fn unlist_product(
    state: &AppState,
    actor: Viewer,
    product_id: Uuid,
    reason: &str,
) -> AppResult<products::Model> {
    if reason.trim().is_empty() {
        return Err(AppError::bad_input(
            "reason",
            "say why the product is unlisted",
        ));
    }
    let txn = state.db.begin().await?;
    let product = super::products::find(&txn, product_id)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or_else(|| AppError::not_found("product"))?;
    if !product.is_active {
        return Err(AppError::InvalidTransition(
            "the product is not listed".into(),
        ));
    }
    let mut row = product.into_active_model();
    row.is_active = Set(false);
    row.updated_at = Set(Utc::now());
    let updated = row.update(&txn).await?;
    audit::record(
        &txn,
        Entry::new(actor.user_id, "product.unlist", "product", product_id)
            .reason(Some(reason))
            .change(json!({ "isActive": true }), json!({ "isActive": false })),
    )
    .await?;
    txn.commit().await?;
    state.catalog_cache.invalidate();
    Ok(updated)
}

/// Admin: products (not deleted) whose name contains `search`, optionally of one vendor and
/// listed or not, newest first, with the total.
pub async fn search_products(
    conn: &impl sea_orm::ConnectionTrait,
    search: Option<&str>,
    vendor_id: Option<Uuid>,
    listed: Option<bool>,
    page: &crate::paging::Page,
) -> AppResult<(Vec<products::Model>, i64)> {
    use sea_orm::{ColumnTrait as _, Condition};
    let mut filter = Condition::all().add(products::Column::DeletedAt.is_null());
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        filter = filter.add(crate::accounts::admin::contains_ci(
            products::Column::Name,
            search,
        ));
    }
    if let Some(vendor_id) = vendor_id {
        filter = filter.add(products::Column::VendorId.eq(vendor_id));
    }
    if let Some(listed) = listed {
        filter = filter.add(products::Column::IsActive.eq(listed));
    }
    crate::paging::newest_first::<products::Entity>(
        conn,
        filter,
        products::Column::CreatedAt,
        products::Column::Id,
        page,
    )
    .await
}
