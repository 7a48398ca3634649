//! The category tree: defaults, admin-only changes, integrity.

use serde_json::json;

use crate::support::TestApp;

const TREE: &str =
    "{ categories { name slug parent { slug } children { name slug parent { slug } } } }";
const CREATE: &str = "mutation($input: CategoryInput!) { createCategory(input: $input) { id name slug parent { slug } } }";

#[tokio::test]
async fn setup_defaults_creates_the_scrap_tree_once() {
    let app = TestApp::new().await;

    let first = kabaadwala::catalog::defaults::setup(&app.state.db)
        .await
        .unwrap();
    let second = kabaadwala::catalog::defaults::setup(&app.state.db)
        .await
        .unwrap();

    assert!(first.categories >= 25, "{first:?}");
    assert_eq!(second.categories, 0);
    assert_eq!(second.settings, 0);
    let tree = app.gql(TREE, json!({}), None).await.data("categories");
    let slugs: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    for slug in ["metals", "paper", "plastic", "e-waste", "glass"] {
        assert!(slugs.contains(&slug), "{slugs:?}");
    }
    let metals = tree
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == "metals")
        .unwrap();
    assert!(
        metals["children"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["slug"] == "copper")
    );
    assert_eq!(metals["children"][0]["parent"]["slug"], "metals");
    assert_eq!(metals["parent"], serde_json::Value::Null);
}

#[tokio::test]
async fn only_admins_change_categories() {
    let app = TestApp::new().await;
    let customer = app.customer("Asha").await;
    let admin = app.admin().await;
    let input = json!({ "input": { "name": "Copper Wire" } });

    let anonymous = app.gql(CREATE, input.clone(), None).await;
    let as_customer = app
        .gql(CREATE, input.clone(), Some(&customer.access_token))
        .await;
    let as_admin = app
        .gql(CREATE, input.clone(), Some(&admin.access_token))
        .await;

    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
    assert_eq!(as_customer.code(), "FORBIDDEN");
    let created = as_admin.data("createCategory");
    assert_eq!(created["slug"], "copper-wire");
    let id = json!({ "id": created["id"], "input": { "name": "Copper Cable" } });
    for (token, code) in [
        (None, "UNAUTHENTICATED"),
        (Some(customer.access_token.as_str()), "FORBIDDEN"),
    ] {
        let update = app.gql("mutation($id: ID!, $input: CategoryInput!) { updateCategory(id: $id, input: $input) { name } }", id.clone(), token).await;
        let delete = app
            .gql(
                "mutation($id: ID!) { deleteCategory(id: $id) }",
                id.clone(),
                token,
            )
            .await;
        assert_eq!(update.code(), code);
        assert_eq!(delete.code(), code);
    }
    let renamed = app.gql("mutation($id: ID!, $input: CategoryInput!) { updateCategory(id: $id, input: $input) { name slug } }", id.clone(), Some(&admin.access_token)).await;
    assert_eq!(
        renamed.data("updateCategory"),
        json!({ "name": "Copper Cable", "slug": "copper-wire" })
    );
    let deleted = app
        .gql(
            "mutation($id: ID!) { deleteCategory(id: $id) }",
            id,
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(deleted.data("deleteCategory"), true);
}

#[tokio::test]
async fn the_tree_stays_a_tree() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let token = Some(admin.access_token.as_str());
    let metals = app
        .gql(CREATE, json!({ "input": { "name": "Metals" } }), token)
        .await
        .data("createCategory");
    let copper = app
        .gql(
            CREATE,
            json!({ "input": { "name": "Copper", "parentId": metals["id"] } }),
            token,
        )
        .await
        .data("createCategory");
    assert_eq!(copper["parent"]["slug"], "metals");

    let cycle = app
        .gql("mutation($id: ID!, $input: CategoryInput!) { updateCategory(id: $id, input: $input) { id } }", json!({ "id": metals["id"], "input": { "name": "Metals", "parentId": copper["id"] } }), token)
        .await;
    let with_children = app
        .gql(
            "mutation($id: ID!) { deleteCategory(id: $id) }",
            json!({ "id": metals["id"] }),
            token,
        )
        .await;
    let duplicate = app
        .gql(CREATE, json!({ "input": { "name": "METALS" } }), token)
        .await;

    assert_eq!(cycle.code(), "BAD_USER_INPUT");
    assert_eq!(cycle.field().as_deref(), Some("parentId"));
    assert_eq!(with_children.code(), "CONFLICT");
    assert_eq!(duplicate.code(), "CONFLICT");
}

#[tokio::test]
async fn a_category_can_be_found_by_id_or_slug() {
    let app = TestApp::new().await;
    kabaadwala::catalog::defaults::setup(&app.state.db)
        .await
        .unwrap();

    let by_slug = app
        .gql(
            "{ category(slug: \"copper\") { id name parent { slug } } }",
            json!({}),
            None,
        )
        .await
        .data("category");
    let by_id = app
        .gql(
            "query($id: ID) { category(id: $id) { slug } }",
            json!({ "id": by_slug["id"] }),
            None,
        )
        .await
        .data("category");
    let bad_id = app
        .gql("{ category(id: \"nope\") { slug } }", json!({}), None)
        .await;

    assert_eq!(by_slug["parent"]["slug"], "metals");
    assert_eq!(by_id["slug"], "copper");
    assert_eq!(bad_id.code(), "BAD_USER_INPUT");
}
