//! Factories for vendors, categories and products, made the way users make them.

use serde_json::{Value, json};

use super::{Session, TestApp};

/// The smallest files our sniffing accepts.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// Connaught Place, New Delhi.
pub const DELHI: (f64, f64) = (28.6315, 77.2167);

pub fn vendor_input(name: &str, (lat, lng): (f64, f64), radius_km: f64) -> Value {
    json!({
        "businessName": name,
        "description": "Paper, metal and e-waste",
        "phone": "+91 98765 43210",
        "address": {
            "label": "Shop", "line1": "12 Main Road", "city": "New Delhi",
            "state": "Delhi", "pincode": "110001"
        },
        "latitude": lat,
        "longitude": lng,
        "serviceRadiusKm": radius_km,
    })
}

pub struct VendorSession {
    pub session: Session,
    pub vendor_id: String,
}

const REGISTER: &str =
    "mutation($input: VendorInput!) { registerVendor(input: $input) { id kycStatus } }";
const UPLOAD_KYC: &str = "mutation($kind: KycDocumentKind!, $file: Upload!) { uploadKycDocument(kind: $kind, file: $file) { id kind contentType sizeBytes url } }";
const REVIEW: &str = "mutation($id: ID!, $approve: Boolean!, $reason: String) { reviewKyc(vendorId: $id, approve: $approve, reason: $reason) { id kycStatus kycReason } }";

/// A new user registered as a vendor at `at` (KYC PENDING).
pub async fn vendor(app: &TestApp, name: &str, at: (f64, f64)) -> VendorSession {
    let session = app.customer(name).await;
    let vendor_id = app
        .gql(
            REGISTER,
            json!({ "input": vendor_input(name, at, 25.0) }),
            Some(&session.access_token),
        )
        .await
        .data("registerVendor")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    VendorSession { session, vendor_id }
}

pub async fn upload_kyc(
    app: &TestApp,
    who: &Session,
    kind: &str,
    name: &str,
    bytes: &[u8],
) -> super::Gql {
    app.gql_upload(
        UPLOAD_KYC,
        json!({ "kind": kind, "file": null }),
        Some(&who.access_token),
        &[("variables.file", name, bytes)],
    )
    .await
}

pub async fn review_kyc(
    app: &TestApp,
    admin: &Session,
    vendor_id: &str,
    approve: bool,
    reason: Option<&str>,
) -> super::Gql {
    app.gql(
        REVIEW,
        json!({ "id": vendor_id, "approve": approve, "reason": reason }),
        Some(&admin.access_token),
    )
    .await
}

/// A vendor whose KYC an admin approved.
pub async fn approved_vendor(app: &TestApp, name: &str, at: (f64, f64)) -> VendorSession {
    let vendor = vendor(app, name, at).await;
    upload_kyc(app, &vendor.session, "PAN", "pan.pdf", PDF)
        .await
        .data("uploadKycDocument");
    let admin = app.admin().await;
    review_kyc(app, &admin, &vendor.vendor_id, true, None)
        .await
        .data("reviewKyc");
    vendor
}

/// A new top-level category (its id).
pub async fn category(app: &TestApp, name: &str) -> String {
    let admin = app.admin().await;
    app.gql(
        "mutation($input: CategoryInput!) { createCategory(input: $input) { id } }",
        json!({ "input": { "name": name } }),
        Some(&admin.access_token),
    )
    .await
    .data("createCategory")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn product_input(name: &str, category: &str, price: i64, stock: i32) -> Value {
    json!({
        "name": name,
        "description": format!("{name}, sorted and weighed"),
        "categoryId": category,
        "unit": "KG",
        "price": price,
        "stock": stock,
    })
}

/// A product of `vendor` (its id).
pub async fn product(app: &TestApp, vendor: &Session, input: Value) -> String {
    app.gql(
        "mutation($input: ProductInput!) { createProduct(input: $input) { id } }",
        json!({ "input": input }),
        Some(&vendor.access_token),
    )
    .await
    .data("createProduct")["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
