//! `registerVendor`, `myVendor`, `vendor`, KYC upload and review, per-vendor commission.

use async_graphql::{
    Context, Enum, ID, InputObject, Object, SimpleObject, Upload, connection::Connection,
};
use chrono::{DateTime, Utc};
use entity::{kyc_documents, vendors};
use sea_orm::TransactionTrait as _;
use uuid::Uuid;

use super::{kyc, service};
use crate::{
    accounts::graphql::{AddressInput, User},
    auth::Viewer,
    catalog::{
        graphql::{Product, product_page},
        search::{ProductCursor, ProductFilter, ProductSort, Scope},
    },
    error::{AppError, AppResult},
    graphql::{
        context::ContextExt as _, ids::parse_id, relay::ConnectionFields, upload::read_upload,
    },
    storage::{self, sniff},
};

/// Where a vendor stands in KYC review. Only APPROVED vendors are listed and take orders.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum KycStatus {
    /// Registered, no documents yet.
    Pending,
    /// Documents uploaded, waiting for an admin.
    Submitted,
    Approved,
    Rejected,
}

impl From<vendors::KycStatus> for KycStatus {
    fn from(s: vendors::KycStatus) -> Self {
        match s {
            vendors::KycStatus::Pending => Self::Pending,
            vendors::KycStatus::Submitted => Self::Submitted,
            vendors::KycStatus::Approved => Self::Approved,
            vendors::KycStatus::Rejected => Self::Rejected,
        }
    }
}

/// The kind of a KYC document.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum KycDocumentKind {
    Pan,
    Gstin,
    Aadhaar,
    BankProof,
    ShopLicense,
}

impl From<KycDocumentKind> for kyc_documents::KycKind {
    fn from(k: KycDocumentKind) -> Self {
        match k {
            KycDocumentKind::Pan => Self::Pan,
            KycDocumentKind::Gstin => Self::Gstin,
            KycDocumentKind::Aadhaar => Self::Aadhaar,
            KycDocumentKind::BankProof => Self::BankProof,
            KycDocumentKind::ShopLicense => Self::ShopLicense,
        }
    }
}

impl From<kyc_documents::KycKind> for KycDocumentKind {
    fn from(k: kyc_documents::KycKind) -> Self {
        match k {
            kyc_documents::KycKind::Pan => Self::Pan,
            kyc_documents::KycKind::Gstin => Self::Gstin,
            kyc_documents::KycKind::Aadhaar => Self::Aadhaar,
            kyc_documents::KycKind::BankProof => Self::BankProof,
            kyc_documents::KycKind::ShopLicense => Self::ShopLicense,
        }
    }
}

/// A scrap dealer selling on the marketplace.
pub struct Vendor(pub vendors::Model);

/// A vendor's shop address.
#[derive(SimpleObject)]
pub struct VendorAddress {
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: String,
    pub pincode: String,
}

impl Vendor {
    /// The vendor's own user or an admin.
    fn private_to(&self, ctx: &Context<'_>) -> Option<Viewer> {
        ctx.auth()
            .optional_viewer()
            .ok()
            .flatten()
            .filter(|v| v.user_id == self.0.user_id || v.is_admin())
    }
}

#[Object]
impl Vendor {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn business_name(&self) -> &str {
        &self.0.business_name
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The shop's contact number.
    async fn phone(&self) -> &str {
        &self.0.phone
    }

    async fn address(&self) -> VendorAddress {
        let v = &self.0;
        VendorAddress {
            label: v.address_label.clone(),
            line1: v.address_line1.clone(),
            line2: v.address_line2.clone(),
            city: v.city.clone(),
            state: v.state.clone(),
            pincode: v.pincode.clone(),
        }
    }

    async fn latitude(&self) -> f64 {
        self.0.latitude
    }

    async fn longitude(&self) -> f64 {
        self.0.longitude
    }

    /// How far from the shop the vendor delivers or collects, in km.
    async fn service_radius_km(&self) -> f64 {
        self.0.service_radius_km
    }

    async fn kyc_status(&self) -> KycStatus {
        self.0.kyc_status.into()
    }

    /// Why KYC was rejected. Only the vendor and admins see it.
    async fn kyc_reason(&self, ctx: &Context<'_>) -> Option<&str> {
        self.private_to(ctx)?;
        self.0.kyc_reason.as_deref()
    }

    /// The vendor's KYC documents. Only the vendor and admins see them; empty for anyone else.
    async fn kyc_documents(&self, ctx: &Context<'_>) -> AppResult<Vec<KycDocument>> {
        if self.private_to(ctx).is_none() {
            return Ok(Vec::new());
        }
        Ok(kyc::list(&ctx.state().db, self.0.id)
            .await?
            .into_iter()
            .map(KycDocument)
            .collect())
    }

    /// The commission rate the platform takes on this vendor's orders, in basis points
    /// (500 = 5%): the vendor's own rate, or the system default.
    async fn commission_rate_bps(&self, ctx: &Context<'_>) -> AppResult<i64> {
        service::commission_bps(&ctx.state().db, &self.0).await
    }

    /// The user who owns this vendor profile. Only the vendor and admins see it.
    async fn user(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        if self.private_to(ctx).is_none() {
            return Ok(None);
        }
        let user = crate::auth::service::active_user(&ctx.state().db, self.0.user_id).await;
        Ok(user.ok().map(User))
    }

    /// The vendor's listed products, newest first.
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<ProductCursor, Product, ConnectionFields>> {
        let filter = ProductFilter {
            vendor_id: Some(self.0.id),
            ..ProductFilter::default()
        };
        product_page(
            ctx,
            Scope::Public,
            filter,
            ProductSort::Newest,
            first,
            after,
        )
        .await
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A KYC document. `url` works only for the vendor and admins (with their access token).
pub struct KycDocument(pub kyc_documents::Model);

#[Object]
impl KycDocument {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn kind(&self) -> KycDocumentKind {
        self.0.kind.into()
    }

    /// What the file is, as read from its bytes.
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }

    async fn size_bytes(&self) -> i64 {
        self.0.size_bytes
    }

    /// Fetch with `Authorization: Bearer <accessToken>`.
    async fn url(&self) -> String {
        storage::url(&self.0.storage_key)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A vendor profile as entered.
#[derive(InputObject)]
pub struct VendorInput {
    pub business_name: String,
    pub description: Option<String>,
    pub phone: String,
    pub address: AddressInput,
    pub latitude: f64,
    pub longitude: f64,
    /// At most 100 km.
    pub service_radius_km: f64,
}

impl From<VendorInput> for service::VendorInput {
    fn from(i: VendorInput) -> Self {
        Self {
            business_name: i.business_name,
            description: i.description,
            phone: i.phone,
            address: i.address.into(),
            latitude: i.latitude,
            longitude: i.longitude,
            service_radius_km: i.service_radius_km,
        }
    }
}

/// Whether the caller may see `vendor`: anyone once APPROVED, else its owner and admins.
pub fn visible(viewer: Option<&Viewer>, vendor: &vendors::Model) -> bool {
    vendor.kyc_status == vendors::KycStatus::Approved
        || viewer.is_some_and(|v| v.user_id == vendor.user_id || v.is_admin())
}

#[derive(Default)]
pub struct VendorsQuery;

#[Object]
impl VendorsQuery {
    /// The signed-in user's vendor profile; null when they are not a vendor.
    async fn my_vendor(&self, ctx: &Context<'_>) -> AppResult<Option<Vendor>> {
        let viewer = ctx.viewer()?;
        Ok(service::of_user(&ctx.state().db, viewer.user_id)
            .await?
            .map(Vendor))
    }

    /// A vendor by id. Vendors not yet approved are visible only to themselves and admins.
    async fn vendor(&self, ctx: &Context<'_>, id: ID) -> AppResult<Option<Vendor>> {
        let id = parse_id("id", &id)?;
        let viewer = ctx.auth().optional_viewer()?;
        let found = ctx
            .loader()
            .load_one(super::loaders::VendorById(id))
            .await?;
        Ok(found.filter(|v| visible(viewer.as_ref(), v)).map(Vendor))
    }

    /// The signed-in vendor's KYC documents; `vendorId` may name the vendor's own profile.
    /// Admins: any vendor's, with `vendorId`.
    async fn kyc_documents(
        &self,
        ctx: &Context<'_>,
        vendor_id: Option<ID>,
    ) -> AppResult<Vec<KycDocument>> {
        let viewer = ctx.viewer()?;
        let db = &ctx.state().db;
        let vendor_id = match vendor_id {
            Some(id) if viewer.is_admin() => parse_id("vendorId", &id)?,
            Some(id) => {
                // A vendor may name itself; anyone else's id is refused the same way whether
                // or not that vendor exists.
                let own = service::of_user(db, viewer.user_id).await?;
                match own {
                    Some(own) if id.parse::<Uuid>().ok() == Some(own.id) => own.id,
                    _ => return Err(AppError::forbidden()),
                }
            }
            None => service::require_own(db, viewer.user_id).await?.id,
        };
        Ok(kyc::list(db, vendor_id)
            .await?
            .into_iter()
            .map(KycDocument)
            .collect())
    }

    /// Admin: vendors, optionally only those in one KYC status (SUBMITTED is the review queue),
    /// oldest first.
    async fn vendors(
        &self,
        ctx: &Context<'_>,
        kyc_status: Option<KycStatus>,
    ) -> AppResult<Vec<Vendor>> {
        ctx.admin()?;
        let status = kyc_status.map(|s| match s {
            KycStatus::Pending => vendors::KycStatus::Pending,
            KycStatus::Submitted => vendors::KycStatus::Submitted,
            KycStatus::Approved => vendors::KycStatus::Approved,
            KycStatus::Rejected => vendors::KycStatus::Rejected,
        });
        Ok(service::list(&ctx.state().db, status)
            .await?
            .into_iter()
            .map(Vendor)
            .collect())
    }
}

#[derive(Default)]
pub struct VendorsMutation;

#[Object]
impl VendorsMutation {
    /// Becomes a vendor: creates the caller's vendor profile (KYC PENDING) and gives them the
    /// VENDOR role. Upload KYC documents next.
    async fn register_vendor(&self, ctx: &Context<'_>, input: VendorInput) -> AppResult<Vendor> {
        let viewer = ctx.viewer()?;
        let vendor = service::register(&ctx.state().db, viewer.user_id, input.into()).await?;
        Ok(Vendor(vendor))
    }

    /// Replaces the caller's vendor profile.
    async fn update_vendor_profile(
        &self,
        ctx: &Context<'_>,
        input: VendorInput,
    ) -> AppResult<Vendor> {
        let viewer = ctx.viewer()?;
        let vendor = service::update_profile(&ctx.state().db, viewer.user_id, input.into()).await?;
        Ok(Vendor(vendor))
    }

    /// Uploads a KYC document (PDF, JPEG, PNG or WebP, up to `MAX_UPLOAD_BYTES`) through the
    /// GraphQL multipart request spec. Moves a PENDING or REJECTED vendor to SUBMITTED.
    async fn upload_kyc_document(
        &self,
        ctx: &Context<'_>,
        kind: KycDocumentKind,
        file: Upload,
    ) -> AppResult<KycDocument> {
        let viewer = ctx.viewer()?;
        let state = ctx.state();
        let vendor = service::require_own(&state.db, viewer.user_id).await?;
        let (bytes, file_kind) = read_upload(ctx, "file", &file, sniff::DOCUMENTS)?;
        let doc = kyc::upload(
            &state.db,
            &state.storage,
            &vendor,
            kind.into(),
            &bytes,
            file_kind,
        )
        .await?;
        Ok(KycDocument(doc))
    }

    /// Admin: approves or rejects a vendor's KYC (a rejection needs a reason). The vendor is
    /// emailed the decision.
    async fn review_kyc(
        &self,
        ctx: &Context<'_>,
        vendor_id: ID,
        approve: bool,
        reason: Option<String>,
    ) -> AppResult<Vendor> {
        ctx.admin()?;
        let vendor_id = parse_id("vendorId", &vendor_id)?;
        let state = ctx.state();
        let txn = state.db.begin().await?;
        let vendor = service::review_kyc(&txn, vendor_id, approve, reason).await?;
        txn.commit().await?;
        state.wake_worker();
        state.catalog_cache.invalidate();
        Ok(Vendor(vendor))
    }

    /// Admin: sets a vendor's commission rate in basis points; null returns it to the system
    /// default.
    async fn set_vendor_commission(
        &self,
        ctx: &Context<'_>,
        vendor_id: ID,
        commission_rate_bps: Option<i32>,
    ) -> AppResult<Vendor> {
        ctx.admin()?;
        let vendor_id: Uuid = parse_id("vendorId", &vendor_id)?;
        let vendor =
            service::set_commission(&ctx.state().db, vendor_id, commission_rate_bps).await?;
        Ok(Vendor(vendor))
    }
}
