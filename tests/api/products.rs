//! Products: vendor CRUD and images, who sees what, the public search (filters, text, nearby,
//! sorts, stable paging), reviews, the wishlist, and the SQL cost of a page.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{
    TestApp,
    catalog::{
        DELHI, PNG, VendorSession, approved_vendor, category, product, product_input, vendor,
    },
    server::start,
};

const PRODUCT: &str = "query($id: ID!) { product(id: $id) { id name price stock isActive } }";
const SEARCH: &str = "query($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String) { products(filter: $filter, sort: $sort, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name price distanceKm } } } }";

async fn search(
    app: &TestApp,
    filter: Value,
    sort: &str,
    first: i32,
    after: Option<&str>,
) -> Value {
    app.gql(
        SEARCH,
        json!({ "filter": filter, "sort": sort, "first": first, "after": after }),
        None,
    )
    .await
    .data("products")
}

fn names(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn only_approved_vendors_active_products_are_listed_but_owners_and_admins_see_their_own() {
    let app = TestApp::new().await;
    let metals = category(&app, "Metals").await;
    let pending = vendor(&app, "Pending Scrap", DELHI).await;
    let approved = approved_vendor(&app, "Approved Scrap", DELHI).await;
    let customer = app.customer("Asha").await;
    let admin = app.admin().await;
    let hidden = product(
        &app,
        &pending.session,
        product_input("Hidden copper", &metals, 50_000, 5),
    )
    .await;
    let listed = product(
        &app,
        &approved.session,
        product_input("Listed brass", &metals, 30_000, 5),
    )
    .await;
    let mut inactive_input = product_input("Inactive iron", &metals, 2_000, 5);
    inactive_input["isActive"] = json!(false);
    let inactive = product(&app, &approved.session, inactive_input).await;

    let public = search(&app, json!({}), "NEWEST", 10, None).await;
    assert_eq!(names(&public), ["Listed brass"]);
    assert_eq!(public["totalCount"], 1);

    for (id, owner) in [(&hidden, &pending.session), (&inactive, &approved.session)] {
        let vars = json!({ "id": id });
        for token in [
            None,
            Some(&customer),
            Some(&approved.session).filter(|s| s.user_id != owner.user_id),
        ] {
            let res = app
                .gql(
                    PRODUCT,
                    vars.clone(),
                    token.map(|t| t.access_token.as_str()),
                )
                .await;
            assert!(
                res.data("product").is_null(),
                "unlisted products are hidden"
            );
        }
        for who in [owner, &admin] {
            let res = app
                .gql(PRODUCT, vars.clone(), Some(&who.access_token))
                .await;
            assert_eq!(res.data("product")["id"], json!(id));
        }
    }
    let anyone = app.gql(PRODUCT, json!({ "id": listed }), None).await;
    assert_eq!(anyone.data("product")["price"], 30_000);

    let own = app
        .gql(
            "{ vendorProducts(first: 10) { totalCount edges { node { name isActive } } } }",
            json!({}),
            Some(&approved.session.access_token),
        )
        .await
        .data("vendorProducts");
    assert_eq!(
        own["totalCount"], 2,
        "listed and inactive, the vendor's own only"
    );
}

#[tokio::test]
async fn product_mutations_are_for_the_owning_vendor_only() {
    let app = TestApp::new().await;
    let metals = category(&app, "Metals").await;
    let owner = approved_vendor(&app, "Owner Scrap", DELHI).await;
    let other = approved_vendor(&app, "Other Scrap", DELHI).await;
    let customer = app.customer("Asha").await;
    let admin = app.admin().await;
    let id = product(
        &app,
        &owner.session,
        product_input("Copper", &metals, 50_000, 5),
    )
    .await;

    let create = "mutation($input: ProductInput!) { createProduct(input: $input) { id } }";
    let update = "mutation($id: ID!, $input: ProductInput!) { updateProduct(id: $id, input: $input) { name price } }";
    let delete = "mutation($id: ID!) { deleteProduct(id: $id) }";
    let image = "mutation($id: ID!, $file: Upload!) { addProductImage(productId: $id, file: $file) { id url position } }";
    let input = product_input("Copper, sorted", &metals, 55_000, 4);
    let vars = json!({ "id": id, "input": input });

    let matrix: [(Option<&crate::support::Session>, &str, &str); 4] = [
        (None, "UNAUTHENTICATED", "UNAUTHENTICATED"),
        (Some(&customer), "FORBIDDEN", "FORBIDDEN"),
        (Some(&admin), "FORBIDDEN", "FORBIDDEN"),
        (Some(&other.session), "NOT_FOUND", "OK"),
    ];
    for (who, on_existing, on_create) in matrix {
        let token = who.map(|s| s.access_token.as_str());
        assert_eq!(
            app.gql(update, vars.clone(), token).await.code(),
            on_existing
        );
        assert_eq!(
            app.gql(delete, vars.clone(), token).await.code(),
            on_existing
        );
        let upload = app
            .gql_upload(
                image,
                json!({ "id": id, "file": null }),
                token,
                &[("variables.file", "a.png", PNG)],
            )
            .await;
        assert_eq!(upload.code(), on_existing);
        let created = app.gql(create, json!({ "input": input }), token).await;
        if on_create == "OK" {
            created.data("createProduct");
        } else {
            assert_eq!(created.code(), on_create);
        }
    }
    let still = app
        .gql(PRODUCT, json!({ "id": id }), None)
        .await
        .data("product");
    assert_eq!(still["name"], "Copper", "nobody else changed it");

    let updated = app
        .gql(update, vars.clone(), Some(&owner.session.access_token))
        .await;
    assert_eq!(updated.data("updateProduct")["price"], 55_000);
    let deleted = app
        .gql(delete, vars.clone(), Some(&owner.session.access_token))
        .await;
    assert_eq!(deleted.data("deleteProduct"), true);
    for who in [&owner.session, &admin] {
        let gone = app
            .gql(PRODUCT, json!({ "id": id }), Some(&who.access_token))
            .await;
        assert!(
            gone.data("product").is_null(),
            "a deleted product is gone for everyone"
        );
    }
    let again = app
        .gql(delete, vars, Some(&owner.session.access_token))
        .await;
    assert_eq!(again.code(), "NOT_FOUND");
}

#[tokio::test]
async fn product_input_is_checked_field_by_field() {
    let app = TestApp::new().await;
    let metals = category(&app, "Metals").await;
    let v = approved_vendor(&app, "Checked Scrap", DELHI).await;
    let create = "mutation($input: ProductInput!) { createProduct(input: $input) { id } }";
    for (input, field) in [
        (product_input("Copper", &metals, 0, 5), "price"),
        (product_input("Copper", &metals, 100, -1), "stock"),
        (product_input("", &metals, 100, 1), "name"),
        (
            product_input("Copper", &uuid::Uuid::new_v4().to_string(), 100, 1),
            "categoryId",
        ),
        (product_input("Copper", "not-an-id", 100, 1), "categoryId"),
    ] {
        let res = app
            .gql(
                create,
                json!({ "input": input }),
                Some(&v.session.access_token),
            )
            .await;
        assert_eq!(res.code(), "BAD_USER_INPUT", "{field}");
        assert_eq!(res.field().as_deref(), Some(field));
    }
    let float_price = app
        .gql(create, json!({ "input": product_input("Copper", &metals, 100, 1).as_object().cloned().map(|mut o| { o.insert("price".into(), json!(10.5)); o }) }), Some(&v.session.access_token))
        .await;
    assert_eq!(float_price.code(), "BAD_USER_INPUT", "money is whole paise");
    let count = app
        .gql(
            "{ vendorProducts { totalCount } }",
            json!({}),
            Some(&v.session.access_token),
        )
        .await
        .data("vendorProducts");
    assert_eq!(count["totalCount"], 0);
}

#[tokio::test]
async fn images_are_ordered_public_files_checked_by_content() {
    let app = TestApp::new().await;
    let server = start(&app).await;
    let metals = category(&app, "Metals").await;
    let v = approved_vendor(&app, "Pictures Scrap", DELHI).await;
    let other = approved_vendor(&app, "Other Scrap", DELHI).await;
    let id = product(
        &app,
        &v.session,
        product_input("Copper", &metals, 50_000, 5),
    )
    .await;
    let add = "mutation($id: ID!, $file: Upload!) { addProductImage(productId: $id, file: $file) { id url position } }";
    let upload = |bytes: &'static [u8], name: &'static str| {
        let (app, id, token) = (&app, id.clone(), v.session.access_token.clone());
        async move {
            app.gql_upload(
                add,
                json!({ "id": id, "file": null }),
                Some(&token),
                &[("variables.file", name, bytes)],
            )
            .await
        }
    };

    let first = upload(PNG, "a.png").await.data("addProductImage");
    let second = upload(PNG, "b.png").await.data("addProductImage");
    assert_eq!(
        (first["position"].clone(), second["position"].clone()),
        (json!(0), json!(1))
    );
    let pdf = upload(crate::support::catalog::PDF, "photo.png").await;
    assert_eq!(pdf.code(), "BAD_USER_INPUT", "a PDF is not a picture");

    let url = first["url"].as_str().unwrap();
    assert!(url.starts_with("/media/products/"));
    let fetched = server.client.get(server.url(url)).send().await.unwrap();
    assert_eq!(fetched.status(), 200, "product images are public");
    assert_eq!(fetched.headers()["content-type"], "image/png");

    let remove = "mutation($id: ID!) { removeProductImage(id: $id) }";
    let not_theirs = app
        .gql(
            remove,
            json!({ "id": first["id"] }),
            Some(&other.session.access_token),
        )
        .await;
    assert_eq!(not_theirs.code(), "NOT_FOUND");
    let removed = app
        .gql(
            remove,
            json!({ "id": first["id"] }),
            Some(&v.session.access_token),
        )
        .await;
    assert_eq!(removed.data("removeProductImage"), true);
    let images = app
        .gql(
            "query($id: ID!) { product(id: $id) { images { id position } } }",
            json!({ "id": id }),
            None,
        )
        .await
        .data("product");
    assert_eq!(
        images["images"],
        json!([{ "id": second["id"], "position": 1 }])
    );
    let gone = server.client.get(server.url(url)).send().await.unwrap();
    assert_eq!(gone.status(), 404);
}

async fn catalog_with_text(app: &TestApp) -> (String, String, VendorSession) {
    let metals = category(app, "Metals").await;
    let admin = app.admin().await;
    let copper = app
        .gql(
            "mutation($input: CategoryInput!) { createCategory(input: $input) { id } }",
            json!({ "input": { "name": "Copper", "parentId": metals } }),
            Some(&admin.access_token),
        )
        .await
        .data("createCategory")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let paper = category(app, "Paper").await;
    let v = approved_vendor(app, "Text Scrap", DELHI).await;
    for (name, cat, price, stock) in [
        ("Copper wire, bright", &copper, 70_000, 10),
        ("Brass fittings", &metals, 40_000, 3),
        ("Old newspaper", &paper, 1_500, 0),
        ("Copper-clad cable scrap", &copper, 30_000, 2),
    ] {
        product(app, &v.session, product_input(name, cat, price, stock)).await;
    }
    (metals, paper, v)
}

#[tokio::test]
async fn filters_combine_category_subtrees_words_prices_and_stock() {
    let app = TestApp::new().await;
    let (metals, paper, v) = catalog_with_text(&app).await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    let in_metals = search(&app, json!({ "categoryId": metals }), "PRICE_ASC", 10, None).await;
    assert_eq!(
        names(&in_metals),
        [
            "Copper-clad cable scrap",
            "Brass fittings",
            "Copper wire, bright"
        ],
        "subcategories included"
    );
    let copp = search(&app, json!({ "search": "COPP" }), "NEWEST", 10, None).await;
    assert_eq!(
        sorted(names(&copp)),
        ["Copper wire, bright", "Copper-clad cable scrap"]
    );
    let two_words = search(
        &app,
        json!({ "search": "copper cable" }),
        "NEWEST",
        10,
        None,
    )
    .await;
    assert_eq!(names(&two_words), ["Copper-clad cable scrap"]);
    let in_description = search(&app, json!({ "search": "weighed" }), "NEWEST", 10, None).await;
    assert_eq!(
        in_description["totalCount"], 4,
        "descriptions are searched too"
    );
    let mid_word = search(&app, json!({ "search": "opper" }), "NEWEST", 10, None).await;
    assert_eq!(mid_word["totalCount"], 0, "words match from their start");
    let punctuation = search(&app, json!({ "search": "%_'" }), "NEWEST", 10, None).await;
    assert_eq!(punctuation["totalCount"], 0);
    let priced = search(
        &app,
        json!({ "minPrice": 30_000, "maxPrice": 40_000 }),
        "PRICE_DESC",
        10,
        None,
    )
    .await;
    assert_eq!(
        names(&priced),
        ["Brass fittings", "Copper-clad cable scrap"]
    );
    let out = search(&app, json!({ "inStock": false }), "NEWEST", 10, None).await;
    assert_eq!(names(&out), ["Old newspaper"]);
    let paper_in_stock = search(
        &app,
        json!({ "categoryId": paper, "inStock": true }),
        "NEWEST",
        10,
        None,
    )
    .await;
    assert_eq!(paper_in_stock["totalCount"], 0);
    let by_vendor = search(&app, json!({ "vendorId": v.vendor_id }), "NEWEST", 10, None).await;
    assert_eq!(by_vendor["totalCount"], 4);
    let negative = app
        .gql(SEARCH, json!({ "filter": { "minPrice": -1 } }), None)
        .await;
    assert_eq!(negative.code(), "BAD_USER_INPUT");
}

#[tokio::test]
async fn nearby_search_finds_vendors_within_the_radius_with_true_distances() {
    let app = TestApp::new().await;
    let metals = category(&app, "Metals").await;
    // Known places: Connaught Place (the search centre), India Gate (≈2.43 km),
    // Noida Sector 18 (≈14.6 km), Gurugram Cyber City (≈18.9 km), Mumbai (≈1,150 km).
    let places = [
        ("At Connaught Place", (28.6315, 77.2167), 0.0),
        ("At India Gate", (28.6129, 77.2295), 2.43),
        ("In Noida", (28.5706, 77.3261), 12.84),
        ("In Gurugram", (28.4951, 77.0896), 19.54),
        ("In Mumbai", (19.0760, 72.8777), 1150.0),
    ];
    for (name, at, _) in places {
        let v = approved_vendor(&app, name, at).await;
        product(&app, &v.session, product_input(name, &metals, 10_000, 1)).await;
    }
    let centre = json!({ "latitude": 28.6315, "longitude": 77.2167, "radiusKm": 5.0 });
    let near = search(&app, json!({ "near": centre }), "DISTANCE", 10, None).await;
    assert_eq!(names(&near), ["At Connaught Place", "At India Gate"]);
    let distance = near["edges"][1]["node"]["distanceKm"].as_f64().unwrap();
    assert!((distance - 2.43).abs() < 0.05, "{distance}");

    let wider = json!({ "latitude": 28.6315, "longitude": 77.2167, "radiusKm": 25.0 });
    let page = search(&app, json!({ "near": wider }), "DISTANCE", 10, None).await;
    assert_eq!(
        names(&page),
        [
            "At Connaught Place",
            "At India Gate",
            "In Noida",
            "In Gurugram"
        ]
    );
    for (edge, (_, _, km)) in page["edges"].as_array().unwrap().iter().zip(places) {
        let d = edge["node"]["distanceKm"].as_f64().unwrap();
        assert!(
            (d - km).abs() < 0.25,
            "{} is {d} km, expected {km}",
            edge["node"]["name"]
        );
    }
    let second = search(
        &app,
        json!({ "near": wider }),
        "DISTANCE",
        2,
        page["edges"][1]["cursor"].as_str(),
    )
    .await;
    assert_eq!(names(&second), ["In Noida", "In Gurugram"]);

    let no_centre = app.gql(SEARCH, json!({ "sort": "DISTANCE" }), None).await;
    assert_eq!(no_centre.code(), "BAD_USER_INPUT");
    let too_wide = app
        .gql(SEARCH, json!({ "filter": { "near": { "latitude": 28.6, "longitude": 77.2, "radiusKm": 5000.0 } } }), None)
        .await;
    assert_eq!(too_wide.field().as_deref(), Some("radiusKm"));
}

#[tokio::test]
async fn paging_through_500_products_in_every_sort_has_no_duplicates_or_gaps() {
    let app = TestApp::new().await;
    let metals = category(&app, "Metals").await;
    let v = approved_vendor(&app, "Big Scrap", DELHI).await;
    let vendor = kabaadwala::vendors::service::find(&app.state.db, v.vendor_id.parse().unwrap())
        .await
        .unwrap();
    for i in 0..500_i64 {
        let input = kabaadwala::catalog::products::ProductInput {
            name: format!("Lot {i}"),
            description: None,
            category_id: metals.parse().unwrap(),
            unit: entity::products::Unit::Kg,
            // Few distinct prices: most rows tie on the sort key.
            price: 1_000 + (i % 7) * 100,
            stock: i32::try_from(i % 3).unwrap(),
            is_active: Some(true),
        };
        kabaadwala::catalog::products::create(&app.state.db, &vendor, input)
            .await
            .unwrap();
    }
    let centre = json!({ "latitude": DELHI.0, "longitude": DELHI.1, "radiusKm": 10.0 });
    for (sort, filter) in [
        ("NEWEST", json!({})),
        ("PRICE_ASC", json!({})),
        ("PRICE_DESC", json!({})),
        ("RATING", json!({})),
        ("DISTANCE", json!({ "near": centre })),
    ] {
        let mut seen = HashSet::new();
        let mut after: Option<String> = None;
        let mut previous_price = None;
        loop {
            let page = search(&app, filter.clone(), sort, 37, after.as_deref()).await;
            assert_eq!(page["totalCount"], 500, "{sort}");
            for edge in page["edges"].as_array().unwrap() {
                assert!(
                    seen.insert(edge["node"]["id"].as_str().unwrap().to_owned()),
                    "{sort}: a duplicate"
                );
                let price = edge["node"]["price"].as_i64().unwrap();
                if let Some(prev) = previous_price {
                    match sort {
                        "PRICE_ASC" => assert!(price >= prev),
                        "PRICE_DESC" => assert!(price <= prev),
                        _ => {}
                    }
                }
                previous_price = Some(price);
            }
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        }
        assert_eq!(seen.len(), 500, "{sort}: no gaps");
    }
    let stocked = search(&app, json!({ "inStock": true }), "NEWEST", 1, None).await;
    assert_eq!(stocked["totalCount"], 333);
}

#[tokio::test]
async fn only_buyers_who_received_a_product_review_it_once_and_the_rating_follows() {
    let app = TestApp::new().await;
    let metals = category(&app, "Metals").await;
    let v = approved_vendor(&app, "Rated Scrap", DELHI).await;
    let id = product(
        &app,
        &v.session,
        product_input("Copper", &metals, 50_000, 5),
    )
    .await;
    let (asha, ravi) = (app.customer("Asha").await, app.customer("Ravi").await);
    let review = "mutation($input: ReviewInput!) { createReview(input: $input) { rating comment authorName } }";
    let input = |rating: i32| json!({ "input": { "productId": id, "rating": rating, "comment": "Fair weight" } });

    let not_bought = app.gql(review, input(5), Some(&asha.access_token)).await;
    assert_eq!(not_bought.code(), "FORBIDDEN");
    let anonymous = app.gql(review, input(5), None).await;
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");

    for buyer in [&asha, &ravi] {
        kabaadwala::catalog::reviews::record_purchase(
            &app.state.db,
            buyer.user_id.parse().unwrap(),
            id.parse().unwrap(),
        )
        .await
        .unwrap();
    }
    let out_of_range = app.gql(review, input(6), Some(&asha.access_token)).await;
    assert_eq!(out_of_range.field().as_deref(), Some("rating"));
    let first = app.gql(review, input(5), Some(&asha.access_token)).await;
    assert_eq!(first.data("createReview")["authorName"], "Asha");
    let twice = app.gql(review, input(1), Some(&asha.access_token)).await;
    assert_eq!(twice.code(), "CONFLICT");
    app.gql(review, input(2), Some(&ravi.access_token))
        .await
        .data("createReview");

    let shown = app
        .gql("query($id: ID!) { product(id: $id) { rating reviewCount reviews(first: 10) { totalCount edges { node { rating } } } } }", json!({ "id": id }), None)
        .await
        .data("product");
    assert_eq!(shown["rating"], 3.5);
    assert_eq!(shown["reviewCount"], 2);
    assert_eq!(shown["reviews"]["totalCount"], 2);
    let best = search(&app, json!({}), "RATING", 1, None).await;
    assert_eq!(names(&best), ["Copper"]);
}

#[tokio::test]
async fn the_wishlist_toggles_and_shows_on_each_product_for_its_owner_only() {
    let app = TestApp::new().await;
    let metals = category(&app, "Metals").await;
    let v = approved_vendor(&app, "Wished Scrap", DELHI).await;
    let pending = vendor(&app, "Pending Scrap", DELHI).await;
    let id = product(
        &app,
        &v.session,
        product_input("Copper", &metals, 50_000, 5),
    )
    .await;
    let unlisted = product(
        &app,
        &pending.session,
        product_input("Secret", &metals, 50_000, 5),
    )
    .await;
    let (asha, ravi) = (app.customer("Asha").await, app.customer("Ravi").await);
    let toggle = "mutation($id: ID!) { toggleWishlist(productId: $id) }";
    let flag = "query($id: ID!) { product(id: $id) { inWishlist } }";

    assert_eq!(
        app.gql(toggle, json!({ "id": id }), None).await.code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.gql(toggle, json!({ "id": unlisted }), Some(&asha.access_token))
            .await
            .code(),
        "NOT_FOUND"
    );
    assert_eq!(
        app.gql(toggle, json!({ "id": id }), Some(&asha.access_token))
            .await
            .data("toggleWishlist"),
        true
    );
    let mine = app
        .gql(flag, json!({ "id": id }), Some(&asha.access_token))
        .await;
    assert_eq!(mine.data("product")["inWishlist"], true);
    for token in [None, Some(ravi.access_token.as_str())] {
        assert_eq!(
            app.gql(flag, json!({ "id": id }), token)
                .await
                .data("product")["inWishlist"],
            false
        );
    }
    let list = app
        .gql(
            "{ wishlist(first: 5) { totalCount edges { node { name } } } }",
            json!({}),
            Some(&asha.access_token),
        )
        .await
        .data("wishlist");
    assert_eq!(list["totalCount"], 1);
    assert_eq!(
        app.gql(toggle, json!({ "id": id }), Some(&asha.access_token))
            .await
            .data("toggleWishlist"),
        false
    );
    let empty = app
        .gql(
            "{ wishlist { totalCount } }",
            json!({}),
            Some(&asha.access_token),
        )
        .await
        .data("wishlist");
    assert_eq!(empty["totalCount"], 0);
}

#[tokio::test]
async fn a_page_of_50_products_with_every_nested_field_costs_a_constant_few_statements() {
    // Counted every time: the worst case.
    let app = TestApp::with_env(&[("CATALOG_COUNT_TTL_MS", "0")]).await;
    let metals = category(&app, "Metals").await;
    let buyer = app.customer("Asha").await;
    for n in 0..5 {
        let v = approved_vendor(&app, &format!("Vendor {n}"), DELHI).await;
        for i in 0..12 {
            let cat = if i % 2 == 0 {
                metals.clone()
            } else {
                category(&app, &format!("Cat {n}-{i}")).await
            };
            let id = product(
                &app,
                &v.session,
                product_input(&format!("Lot {n}-{i}"), &cat, 1_000, 1),
            )
            .await;
            if i % 3 == 0 {
                app.gql_upload(
                    "mutation($id: ID!, $file: Upload!) { addProductImage(productId: $id, file: $file) { id } }",
                    json!({ "id": id, "file": null }),
                    Some(&v.session.access_token),
                    &[("variables.file", "a.png", PNG)],
                )
                .await
                .data("addProductImage");
                app.gql(
                    "mutation($id: ID!) { toggleWishlist(productId: $id) }",
                    json!({ "id": id }),
                    Some(&buyer.access_token),
                )
                .await
                .data("toggleWishlist");
            }
        }
    }
    let query = "query($first: Int) { products(first: $first) { totalCount edges { node { id name price rating reviewCount inWishlist vendor { id businessName } category { id name } images { url } } } } }";
    let (small, small_cost) = app
        .gql_counting(query, json!({ "first": 5 }), Some(&buyer.access_token))
        .await;
    let (page, cost) = app
        .gql_counting(query, json!({ "first": 50 }), Some(&buyer.access_token))
        .await;
    let page = page.data("products");
    assert_eq!(page["edges"].as_array().unwrap().len(), 50);
    assert_eq!(small.data("products")["totalCount"], 60);
    let with_images = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["node"]["images"].as_array().unwrap().is_empty())
        .count();
    assert!(with_images > 10);
    assert!(
        page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["inWishlist"] == true)
    );
    // One statement for the page (with the vendors and the count), one each for categories,
    // images and wishlist flags.
    assert!(cost <= 4, "a 50-product page ran {cost} SQL statements");
    assert_eq!(
        cost, small_cost,
        "the cost does not grow with the page size"
    );
    let (_, anonymous_cost) = app.gql_counting(query, json!({ "first": 50 }), None).await;
    assert!(anonymous_cost <= 3, "{anonymous_cost}");
}

#[tokio::test]
async fn the_cached_total_count_follows_listing_changes_made_here_at_once() {
    let app = TestApp::new().await;
    let metals = category(&app, "Metals").await;
    let v = approved_vendor(&app, "Counted Scrap", DELHI).await;
    product(
        &app,
        &v.session,
        product_input("Copper", &metals, 50_000, 5),
    )
    .await;
    let count = "{ products(first: 1) { totalCount } }";
    let (first, cost_counted) = app.gql_counting(count, json!({}), None).await;
    assert_eq!(first.data("products")["totalCount"], 1);
    let (again, cost_cached) = app.gql_counting(count, json!({}), None).await;
    assert_eq!(again.data("products")["totalCount"], 1);
    assert!(
        cost_cached <= cost_counted,
        "{cost_cached} > {cost_counted}"
    );

    let id = product(&app, &v.session, product_input("Brass", &metals, 30_000, 5)).await;
    let after_create = app.gql(count, json!({}), None).await;
    assert_eq!(after_create.data("products")["totalCount"], 2);
    app.gql(
        "mutation($id: ID!) { deleteProduct(id: $id) }",
        json!({ "id": id }),
        Some(&v.session.access_token),
    )
    .await
    .data("deleteProduct");
    let after_delete = app.gql(count, json!({}), None).await;
    assert_eq!(after_delete.data("products")["totalCount"], 1);
}

#[tokio::test]
async fn a_cached_page_answers_like_a_fresh_one_and_a_lone_product_loads_the_same_nested_fields() {
    let app = TestApp::with_env(&[("CATALOG_PAGE_TTL_MS", "60000")]).await;
    let metals = category(&app, "Metals").await;
    let v = approved_vendor(&app, "Kabadi Ram", DELHI).await;
    let id = product(
        &app,
        &v.session,
        product_input("Copper lot", &metals, 1_000, 1),
    )
    .await;
    app.gql_upload(
        "mutation($id: ID!, $file: Upload!) { addProductImage(productId: $id, file: $file) { id } }",
        json!({ "id": id, "file": null }),
        Some(&v.session.access_token),
        &[("variables.file", "a.png", PNG)],
    )
    .await
    .data("addProductImage");
    let fields = "id name price vendor { id businessName } category { id name } images { url }";
    let page =
        format!("{{ products(first: 10) {{ totalCount edges {{ node {{ {fields} }} }} }} }}");

    let (fresh, _) = app.gql_counting(&page, json!({}), None).await;
    let (cached, cached_cost) = app.gql_counting(&page, json!({}), None).await;
    let lone = app
        .gql(
            &format!("query($id: ID!) {{ product(id: $id) {{ {fields} }} }}"),
            json!({ "id": id }),
            None,
        )
        .await;

    let fresh = fresh.data("products");
    assert_eq!(cached.data("products"), fresh);
    assert_eq!(cached_cost, 0, "a cached page runs no SQL");
    let node = &fresh["edges"][0]["node"];
    assert_eq!(node["vendor"]["businessName"], "Kabadi Ram");
    assert_eq!(node["category"]["name"], "Metals");
    assert_eq!(node["images"].as_array().map(Vec::len), Some(1));
    assert_eq!(&lone.data("product"), node);
}
