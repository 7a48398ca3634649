//! KYC documents: stored privately under `kyc/{vendor}/`, listed to the vendor and admins only.
//! The first upload (or one after a rejection) moves the vendor to SUBMITTED for review.

use chrono::Utc;
use entity::{
    kyc_documents::{self, KycKind},
    vendors::{self, KycStatus},
};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder as _, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    error::{AppResult, ResultExt as _},
    storage::{Storage, sniff::FileKind},
};

/// Stores a checked file as a KYC document of `vendor`.
pub async fn upload(
    conn: &impl ConnectionTrait,
    storage: &Storage,
    vendor: &vendors::Model,
    kind: KycKind,
    bytes: &[u8],
    file: FileKind,
) -> AppResult<kyc_documents::Model> {
    let id = crate::db::new_id();
    let key = format!("kyc/{}/{id}.{}", vendor.id, file.extension());
    storage
        .put(&key, bytes)
        .await
        .map_err(crate::AppError::from)?;
    let saved = kyc_documents::ActiveModel {
        id: Set(id),
        vendor_id: Set(vendor.id),
        kind: Set(kind),
        storage_key: Set(key.clone()),
        content_type: Set(file.content_type().to_owned()),
        size_bytes: Set(i64::try_from(bytes.len()).context_internal("file size")?),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await;
    let saved = match saved {
        Ok(saved) => saved,
        Err(err) => {
            // Do not leave an orphaned file behind a failed insert.
            storage.delete(&key).await.ok();
            return Err(err.into());
        }
    };
    vendors::Entity::update_many()
        .col_expr(
            vendors::Column::KycStatus,
            Expr::value(KycStatus::Submitted),
        )
        .col_expr(vendors::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(vendors::Column::Id.eq(vendor.id))
        .filter(vendors::Column::KycStatus.is_in([KycStatus::Pending, KycStatus::Rejected]))
        .exec(conn)
        .await?;
    Ok(saved)
}

/// A vendor's documents, newest first.
pub async fn list(
    conn: &impl ConnectionTrait,
    vendor_id: Uuid,
) -> AppResult<Vec<kyc_documents::Model>> {
    Ok(kyc_documents::Entity::find()
        .filter(kyc_documents::Column::VendorId.eq(vendor_id))
        .order_by_desc(kyc_documents::Column::CreatedAt)
        .order_by_desc(kyc_documents::Column::Id)
        .all(conn)
        .await?)
}
