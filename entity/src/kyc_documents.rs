//! `kyc_documents`: files a vendor uploaded for KYC. Private: only the vendor and admins see them.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum KycKind {
    #[sea_orm(string_value = "PAN")]
    Pan,
    #[sea_orm(string_value = "GSTIN")]
    Gstin,
    #[sea_orm(string_value = "AADHAAR")]
    Aadhaar,
    #[sea_orm(string_value = "BANK_PROOF")]
    BankProof,
    #[sea_orm(string_value = "SHOP_LICENSE")]
    ShopLicense,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "kyc_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub vendor_id: Uuid,
    pub kind: KycKind,
    /// Where the storage keeps the bytes (`kyc/{vendor}/{id}.pdf`).
    pub storage_key: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
