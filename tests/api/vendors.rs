//! Vendors: registration, KYC documents (uploads, privacy, review), per-vendor commission.

use serde_json::json;

use crate::support::{
    TestApp,
    catalog::{DELHI, PDF, PNG, approved_vendor, review_kyc, upload_kyc, vendor, vendor_input},
    server::start,
};

const MY_VENDOR: &str = "{ myVendor { id businessName kycStatus kycReason serviceRadiusKm commissionRateBps kycDocuments { kind } } me { role } }";
const VENDOR: &str = "query($id: ID!) { vendor(id: $id) { id businessName kycStatus kycReason kycDocuments { id } user { email } } }";

#[tokio::test]
async fn a_user_who_registers_as_a_vendor_becomes_one_awaiting_kyc() {
    let app = TestApp::new().await;
    let v = vendor(&app, "Sharma Scrap", DELHI).await;

    let mine = app
        .gql(MY_VENDOR, json!({}), Some(&v.session.access_token))
        .await;
    let profile = mine.data("myVendor");
    assert_eq!(profile["businessName"], "Sharma Scrap");
    assert_eq!(profile["kycStatus"], "PENDING");
    assert_eq!(profile["serviceRadiusKm"], 25.0);
    assert_eq!(profile["commissionRateBps"], 500, "the system default");
    assert_eq!(mine.data("me")["role"], "VENDOR");

    let again = app
        .gql(
            "mutation($input: VendorInput!) { registerVendor(input: $input) { id } }",
            json!({ "input": vendor_input("Again", DELHI, 5.0) }),
            Some(&v.session.access_token),
        )
        .await;
    assert_eq!(again.code(), "CONFLICT");
}

#[tokio::test]
async fn vendor_profiles_are_validated_field_by_field() {
    let app = TestApp::new().await;
    let user = app.customer("Ravi").await;
    let register = "mutation($input: VendorInput!) { registerVendor(input: $input) { id } }";
    for (input, field) in [
        (vendor_input("Ravi", DELHI, 0.0), "serviceRadiusKm"),
        (vendor_input("Ravi", DELHI, 500.0), "serviceRadiusKm"),
        (vendor_input("Ravi", (95.0, 77.0), 5.0), "latitude"),
        (vendor_input("", DELHI, 5.0), "businessName"),
        (
            {
                let mut i = vendor_input("Ravi", DELHI, 5.0);
                i["phone"] = json!("12");
                i
            },
            "phone",
        ),
    ] {
        let res = app
            .gql(
                register,
                json!({ "input": input }),
                Some(&user.access_token),
            )
            .await;
        assert_eq!(res.code(), "BAD_USER_INPUT", "{field}");
        assert_eq!(res.field().as_deref(), Some(field));
    }
    let anonymous = app
        .gql(
            register,
            json!({ "input": vendor_input("Ravi", DELHI, 5.0) }),
            None,
        )
        .await;
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
    let none = app
        .gql(MY_VENDOR, json!({}), Some(&user.access_token))
        .await;
    assert!(none.data("myVendor").is_null(), "nothing was written");
}

#[tokio::test]
async fn kyc_goes_from_submitted_to_approved_and_the_vendor_is_emailed() {
    let app = TestApp::new().await;
    let v = vendor(&app, "Gupta Metals", DELHI).await;
    let admin = app.admin().await;

    let too_early = review_kyc(&app, &admin, &v.vendor_id, true, None).await;
    assert_eq!(too_early.code(), "INVALID_TRANSITION", "no documents yet");

    let doc = upload_kyc(&app, &v.session, "GSTIN", "gst.pdf", PDF).await;
    let doc = doc.data("uploadKycDocument");
    assert_eq!(doc["kind"], "GSTIN");
    assert_eq!(doc["contentType"], "application/pdf");
    assert_eq!(doc["sizeBytes"], PDF.len());
    let mine = app
        .gql(MY_VENDOR, json!({}), Some(&v.session.access_token))
        .await;
    assert_eq!(mine.data("myVendor")["kycStatus"], "SUBMITTED");

    let approved = review_kyc(&app, &admin, &v.vendor_id, true, None).await;
    assert_eq!(approved.data("reviewKyc")["kycStatus"], "APPROVED");
    app.drain_jobs().await;
    assert!(
        app.mail_to(&v.session.email, "is approved").is_some(),
        "the vendor is told: {:?}",
        app.sent_mail()
    );
}

#[tokio::test]
async fn a_rejection_needs_a_reason_which_the_vendor_reads_and_can_answer_with_new_documents() {
    let app = TestApp::new().await;
    let v = vendor(&app, "Khan Kabaad", DELHI).await;
    let admin = app.admin().await;
    upload_kyc(&app, &v.session, "PAN", "pan.png", PNG)
        .await
        .data("uploadKycDocument");

    let no_reason = review_kyc(&app, &admin, &v.vendor_id, false, Some("  ")).await;
    assert_eq!(no_reason.code(), "BAD_USER_INPUT");
    assert_eq!(no_reason.field().as_deref(), Some("reason"));

    let rejected = review_kyc(&app, &admin, &v.vendor_id, false, Some("PAN is blurred")).await;
    assert_eq!(rejected.data("reviewKyc")["kycStatus"], "REJECTED");
    app.drain_jobs().await;
    assert!(app.mail_to(&v.session.email, "PAN is blurred").is_some());
    let mine = app
        .gql(MY_VENDOR, json!({}), Some(&v.session.access_token))
        .await;
    assert_eq!(mine.data("myVendor")["kycReason"], "PAN is blurred");

    upload_kyc(&app, &v.session, "PAN", "pan2.pdf", PDF)
        .await
        .data("uploadKycDocument");
    let mine = app
        .gql(MY_VENDOR, json!({}), Some(&v.session.access_token))
        .await;
    assert_eq!(mine.data("myVendor")["kycStatus"], "SUBMITTED");
    assert_eq!(
        mine.data("myVendor")["kycDocuments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_and_store_nothing() {
    let app = TestApp::with_env(&[("MAX_UPLOAD_BYTES", "1024")]).await;
    let v = vendor(&app, "Verma Traders", DELHI).await;

    let mut big = PDF.to_vec();
    big.resize(2048, b' ');
    let too_big = upload_kyc(&app, &v.session, "PAN", "pan.pdf", &big).await;
    assert_eq!(too_big.code(), "PAYLOAD_TOO_LARGE");

    let text = upload_kyc(&app, &v.session, "PAN", "pan.txt", b"just some text").await;
    assert_eq!(text.code(), "BAD_USER_INPUT");
    assert_eq!(text.field().as_deref(), Some("file"));

    // A Windows executable renamed to look like a PDF.
    let renamed = upload_kyc(
        &app,
        &v.session,
        "PAN",
        "pan.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00\x04",
    )
    .await;
    assert_eq!(renamed.code(), "BAD_USER_INPUT");

    let empty = upload_kyc(&app, &v.session, "PAN", "pan.pdf", b"").await;
    assert_eq!(empty.code(), "BAD_USER_INPUT");

    let mine = app
        .gql(MY_VENDOR, json!({}), Some(&v.session.access_token))
        .await;
    assert_eq!(mine.data("myVendor")["kycStatus"], "PENDING");
    assert_eq!(mine.data("myVendor")["kycDocuments"], json!([]));
    let stored = std::fs::read_dir(app.dirs.path().join("media").join("kyc"));
    assert!(stored.is_err(), "no file was written");

    let customer = app.customer("Not a vendor").await;
    let not_vendor = upload_kyc(&app, &customer, "PAN", "pan.pdf", PDF).await;
    assert_eq!(not_vendor.code(), "FORBIDDEN");
}

#[tokio::test]
async fn who_sees_a_vendor_and_its_kyc_is_a_matrix() {
    let app = TestApp::new().await;
    let pending = vendor(&app, "Pending Scrap", DELHI).await;
    upload_kyc(&app, &pending.session, "AADHAAR", "a.pdf", PDF)
        .await
        .data("uploadKycDocument");
    let other_vendor = approved_vendor(&app, "Other Scrap", DELHI).await;
    let customer = app.customer("Asha").await;
    let admin = app.admin().await;
    let vars = json!({ "id": pending.vendor_id });

    let anonymous = app.gql(VENDOR, vars.clone(), None).await;
    assert!(anonymous.data("vendor").is_null(), "not approved: hidden");
    for who in [&customer, &other_vendor.session] {
        let res = app.gql(VENDOR, vars.clone(), Some(&who.access_token)).await;
        assert!(res.data("vendor").is_null());
    }
    for who in [&pending.session, &admin] {
        let res = app.gql(VENDOR, vars.clone(), Some(&who.access_token)).await;
        let seen = res.data("vendor");
        assert_eq!(seen["kycDocuments"].as_array().unwrap().len(), 1);
        assert_eq!(seen["user"]["email"], pending.session.email);
    }

    // Once approved, everyone sees the profile, but KYC stays private.
    review_kyc(&app, &admin, &pending.vendor_id, true, None)
        .await
        .data("reviewKyc");
    for token in [
        None,
        Some(customer.access_token.as_str()),
        Some(other_vendor.session.access_token.as_str()),
    ] {
        let seen = app.gql(VENDOR, vars.clone(), token).await.data("vendor");
        assert_eq!(seen["kycStatus"], "APPROVED");
        assert_eq!(seen["kycDocuments"], json!([]));
        assert!(seen["user"].is_null());
    }

    // Reviewing and the commission are admin-only.
    let review = "mutation($id: ID!) { reviewKyc(vendorId: $id, approve: true) { id } }";
    let commission = "mutation($id: ID!) { setVendorCommission(vendorId: $id, commissionRateBps: 250) { commissionRateBps } }";
    for (token, code) in [
        (None, "UNAUTHENTICATED"),
        (Some(&customer), "FORBIDDEN"),
        (Some(&pending.session), "FORBIDDEN"),
        (Some(&other_vendor.session), "FORBIDDEN"),
    ] {
        let token = token.map(|s| s.access_token.as_str());
        assert_eq!(app.gql(review, vars.clone(), token).await.code(), code);
        assert_eq!(app.gql(commission, vars.clone(), token).await.code(), code);
    }
    let set = app
        .gql(commission, vars.clone(), Some(&admin.access_token))
        .await;
    assert_eq!(set.data("setVendorCommission")["commissionRateBps"], 250);

    // The admin's review queue and document list.
    let queue = app
        .gql(
            "{ vendors(kycStatus: APPROVED) { id } }",
            json!({}),
            Some(&admin.access_token),
        )
        .await
        .data("vendors");
    assert_eq!(queue.as_array().unwrap().len(), 2);
    let docs = app
        .gql(
            "query($id: ID) { kycDocuments(vendorId: $id) { kind } }",
            vars.clone(),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(docs.code(), "FORBIDDEN");
}

#[tokio::test]
async fn a_vendor_naming_its_own_id_in_kyc_documents_reads_them_like_without_it() {
    let app = TestApp::new().await;
    let owner = vendor(&app, "Own Scrap", DELHI).await;
    upload_kyc(&app, &owner.session, "PAN", "pan.pdf", PDF)
        .await
        .data("uploadKycDocument");
    let other_vendor = approved_vendor(&app, "Other Scrap", DELHI).await;
    let customer = app.customer("Asha").await;
    let admin = app.admin().await;
    let docs = "query($id: ID) { kycDocuments(vendorId: $id) { kind } }";
    let own_id = json!({ "id": owner.vendor_id });

    let without = app
        .gql(docs, json!({}), Some(&owner.session.access_token))
        .await
        .data("kycDocuments");
    assert_eq!(without, json!([{ "kind": "PAN" }]));
    for who in [&owner.session, &admin] {
        let with = app
            .gql(docs, own_id.clone(), Some(&who.access_token))
            .await
            .data("kycDocuments");
        assert_eq!(with, without, "{}", who.email);
    }

    // Anyone else's id stays refused, for another vendor, a customer and a vendor naming an id
    // that does not exist.
    for who in [&other_vendor.session, &customer] {
        let res = app.gql(docs, own_id.clone(), Some(&who.access_token)).await;
        assert_eq!(res.code(), "FORBIDDEN", "{}", who.email);
    }
    let unknown = json!({ "id": uuid::Uuid::new_v4().to_string() });
    let res = app
        .gql(docs, unknown, Some(&owner.session.access_token))
        .await;
    assert_eq!(res.code(), "FORBIDDEN");
    assert_eq!(app.gql(docs, own_id, None).await.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn kyc_files_go_up_by_multipart_and_come_back_only_to_the_vendor_and_admins() {
    let app = TestApp::new().await;
    let server = start(&app).await;
    let v = vendor(&app, "Multipart Metals", DELHI).await;
    let other = approved_vendor(&app, "Nosy Scrap", DELHI).await;
    let admin = app.admin().await;

    let response = server
        .upload(
            "mutation($file: Upload!) { uploadKycDocument(kind: SHOP_LICENSE, file: $file) { url contentType } }",
            json!({ "file": null }),
            &v.session.access_token,
            "licence.pdf",
            PDF,
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let url = body["data"]["uploadKycDocument"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("/media/kyc/"), "{url}");

    let fetch = |token: Option<String>| {
        let request = server.client.get(server.url(&url));
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        async move { request.send().await.unwrap() }
    };
    let own = fetch(Some(v.session.access_token.clone())).await;
    assert_eq!(own.status(), 200);
    assert_eq!(own.headers()["content-type"], "application/pdf");
    assert_eq!(own.bytes().await.unwrap().as_ref(), PDF);
    assert_eq!(fetch(Some(admin.access_token.clone())).await.status(), 200);
    assert_eq!(
        fetch(Some(other.session.access_token.clone()))
            .await
            .status(),
        404
    );
    assert_eq!(fetch(None).await.status(), 401);
    let traversal = server
        .client
        .get(server.url("/media/products/..%2fkyc%2fx.pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(traversal.status(), 404);
}

#[tokio::test]
async fn a_kyc_document_downloads_as_an_attachment_while_a_product_image_stays_inline() {
    let app = TestApp::new().await;
    let server = start(&app).await;
    let applicant = vendor(&app, "Header Metals", DELHI).await;
    let v = approved_vendor(&app, "Header Plastics", DELHI).await;
    let doc = upload_kyc(&app, &applicant.session, "PAN", "pan card.pdf", PDF)
        .await
        .data("uploadKycDocument");
    let product = crate::support::catalog::product(
        &app,
        &v.session,
        crate::support::catalog::product_input(
            "Brass",
            &crate::support::catalog::category(&app, "Metals").await,
            40_000,
            3,
        ),
    )
    .await;
    let image = app
        .gql_upload(
            "mutation($id: ID!, $file: Upload!) { addProductImage(productId: $id, file: $file) { url } }",
            json!({ "id": product, "file": null }),
            Some(&v.session.access_token),
            &[("variables.file", "brass.png", PNG)],
        )
        .await
        .data("addProductImage");

    let private = server
        .client
        .get(server.url(doc["url"].as_str().unwrap()))
        .bearer_auth(&applicant.session.access_token)
        .send()
        .await
        .unwrap();
    let public = server
        .client
        .get(server.url(image["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();

    assert_eq!(private.status(), 200);
    assert_eq!(public.status(), 200);
    let disposition = private.headers()["content-disposition"].to_str().unwrap();
    let name = doc["url"].as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(disposition, format!("attachment; filename=\"{name}\""));
    assert_eq!(private.headers()["x-content-type-options"], "nosniff");
    assert!(public.headers().get("content-disposition").is_none());
    assert_eq!(public.headers()["x-content-type-options"], "nosniff");
}
