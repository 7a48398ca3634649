//! Address book: CRUD, one default, privacy.

use serde_json::{Value, json};

use crate::support::TestApp;

const CREATE: &str = "mutation($input: AddressInput!) { createAddress(input: $input) { id label isDefault latitude longitude } }";
const LIST: &str = "{ addresses { id label isDefault } }";

fn home(label: &str) -> Value {
    json!({ "label": label, "line1": "12 MG Road", "city": "Bengaluru", "state": "Karnataka", "pincode": "560001", "latitude": 12.9716, "longitude": 77.5946 })
}

#[tokio::test]
async fn the_first_address_becomes_the_default_and_the_default_can_move() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let token = Some(asha.access_token.as_str());

    let first = app
        .gql(CREATE, json!({ "input": home("Home") }), token)
        .await
        .data("createAddress");
    let second = app
        .gql(CREATE, json!({ "input": home("Shop") }), token)
        .await
        .data("createAddress");
    assert_eq!(first["isDefault"], true);
    assert_eq!(second["isDefault"], false);
    assert_eq!(first["latitude"], 12.9716);

    let res = app
        .gql(
            "mutation($id: ID!) { setDefaultAddress(id: $id) { id isDefault } }",
            json!({ "id": second["id"] }),
            token,
        )
        .await;

    assert_eq!(res.data("setDefaultAddress")["isDefault"], true);
    let list = app.gql(LIST, json!({}), token).await.data("addresses");
    let defaults: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["isDefault"] == true)
        .collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["id"], second["id"]);
    assert_eq!(list[0]["id"], second["id"], "the default is listed first");
}

#[tokio::test]
async fn deleting_the_default_makes_another_address_the_default() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let token = Some(asha.access_token.as_str());
    let first = app
        .gql(CREATE, json!({ "input": home("Home") }), token)
        .await
        .data("createAddress");
    app.gql(CREATE, json!({ "input": home("Shop") }), token)
        .await
        .data("createAddress");

    let res = app
        .gql(
            "mutation($id: ID!) { deleteAddress(id: $id) }",
            json!({ "id": first["id"] }),
            token,
        )
        .await;

    assert_eq!(res.data("deleteAddress"), true);
    let list = app.gql(LIST, json!({}), token).await.data("addresses");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["label"], "Shop");
    assert_eq!(list[0]["isDefault"], true);
}

#[tokio::test]
async fn addresses_can_be_edited() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let token = Some(asha.access_token.as_str());
    let created = app
        .gql(CREATE, json!({ "input": home("Home") }), token)
        .await
        .data("createAddress");
    let mut changed = home("Warehouse");
    changed["line2"] = json!("Gate 3");

    let res = app
        .gql("mutation($id: ID!, $input: AddressInput!) { updateAddress(id: $id, input: $input) { label line2 isDefault } }", json!({ "id": created["id"], "input": changed }), token)
        .await;

    assert_eq!(
        res.data("updateAddress"),
        json!({ "label": "Warehouse", "line2": "Gate 3", "isDefault": true })
    );
}

#[tokio::test]
async fn another_users_address_is_not_found_and_stays_untouched() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let ravi = app.customer("Ravi").await;
    let admin = app.admin().await;
    let address = app
        .gql(
            CREATE,
            json!({ "input": home("Home") }),
            Some(&asha.access_token),
        )
        .await
        .data("createAddress");
    let id = json!({ "id": address["id"], "input": home("Mine now") });

    for token in [&ravi.access_token, &admin.access_token] {
        let update = app.gql("mutation($id: ID!, $input: AddressInput!) { updateAddress(id: $id, input: $input) { id } }", id.clone(), Some(token)).await;
        let delete = app
            .gql(
                "mutation($id: ID!) { deleteAddress(id: $id) }",
                id.clone(),
                Some(token),
            )
            .await;
        let default = app
            .gql(
                "mutation($id: ID!) { setDefaultAddress(id: $id) { id } }",
                id.clone(),
                Some(token),
            )
            .await;
        assert_eq!(update.code(), "NOT_FOUND");
        assert_eq!(delete.code(), "NOT_FOUND");
        assert_eq!(default.code(), "NOT_FOUND");
        let theirs = app
            .gql(LIST, json!({}), Some(token))
            .await
            .data("addresses");
        assert_eq!(theirs, json!([]), "nobody else lists it");
    }
    let mine = app
        .gql(LIST, json!({}), Some(&asha.access_token))
        .await
        .data("addresses");
    assert_eq!(mine[0]["label"], "Home");
}

#[tokio::test]
async fn addresses_need_a_signed_in_user() {
    let app = TestApp::new().await;

    assert_eq!(
        app.gql(LIST, json!({}), None).await.code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.gql(CREATE, json!({ "input": home("Home") }), None)
            .await
            .code(),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn bad_addresses_are_refused_naming_the_field() {
    let app = TestApp::new().await;
    let asha = app.customer("Asha").await;
    let with = |key: &str, value: Value| {
        let mut input = home("Home");
        input[key] = value;
        input
    };
    let mut no_longitude = home("Home");
    no_longitude.as_object_mut().unwrap().remove("longitude");
    let cases = [
        (with("pincode", json!("12345")), "pincode"),
        (with("pincode", json!("012345")), "pincode"),
        (with("latitude", json!(91.0)), "latitude"),
        (with("label", json!("")), "label"),
        (no_longitude, "longitude"),
    ];
    for (input, field) in cases {
        let res = app
            .gql(CREATE, json!({ "input": input }), Some(&asha.access_token))
            .await;
        assert_eq!(res.code(), "BAD_USER_INPUT");
        assert_eq!(res.field().as_deref(), Some(field));
    }
    let list = app
        .gql(LIST, json!({}), Some(&asha.access_token))
        .await
        .data("addresses");
    assert_eq!(list, json!([]));
}
