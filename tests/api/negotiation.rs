//! GraphQL over HTTP as the GraphQL-over-HTTP spec says it (the `graphql-http` audit in
//! `tests/node` checks the same from a reference client): the media type follows `Accept`, and
//! with `application/graphql-response+json` a request refused before execution is HTTP 400
//! without a `data` entry.

use serde_json::{Value, json};

use crate::support::{
    TestApp,
    server::{Server, start},
};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// Posts `body` (raw) with the given headers; the status, the content type and the JSON body.
async fn post(
    server: &Server,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> (u16, String, Value) {
    let mut request = server.client.post(server.url("/graphql")).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

fn json_body(value: Value) -> String {
    value.to_string()
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test]
async fn the_media_type_follows_the_accept_header_and_defaults_to_application_json() {
    let app = TestApp::new().await;
    let server = start(&app).await;
    let body = json_body(json!({ "query": "{ __typename }" }));

    for (accept, expected) in [
        (None, "application/json"),
        (Some("*/*"), "application/json"),
        (Some("application/json"), "application/json"),
        (Some(GRAPHQL_RESPONSE), GRAPHQL_RESPONSE),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            GRAPHQL_RESPONSE,
        ),
    ] {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(accept) = accept {
            headers.push(("accept", accept));
        }
        let (status, content_type, answer) = post(&server, &headers, body.clone()).await;

        assert_eq!(status, 200, "{accept:?}");
        assert!(
            content_type.starts_with(expected) && content_type.contains("utf-8"),
            "{accept:?} got {content_type}"
        );
        assert_eq!(answer["data"]["__typename"], "QueryRoot");
    }
}

#[tokio::test]
async fn with_graphql_response_json_a_request_refused_before_execution_is_400_without_data() {
    let app = TestApp::new().await;
    let server = start(&app).await;
    let refused = [
        ("parse", json!({ "query": "{" })),
        ("validation", json!({ "query": "{ doesNotExist }" })),
        (
            "coercion",
            json!({ "query": "query Q($id: ID!) { __typename }", "variables": { "id": null } }),
        ),
        (
            "tokens limit",
            json!({ "query": format!("{{ {} }}", "__typename ".repeat(3_001)) }),
        ),
    ];

    for (what, body) in refused {
        let body = json_body(body);
        let (status, content_type, strict) = post(
            &server,
            &[
                ("content-type", "application/json"),
                ("accept", GRAPHQL_RESPONSE),
            ],
            body.clone(),
        )
        .await;
        let (legacy_status, _, legacy) = post(
            &server,
            &[
                ("content-type", "application/json"),
                ("accept", "application/json"),
            ],
            body,
        )
        .await;

        assert_eq!(status, 400, "{what}");
        assert!(content_type.starts_with(GRAPHQL_RESPONSE), "{what}");
        assert!(strict.get("data").is_none(), "{what}: {strict}");
        assert_eq!(code(&strict), "BAD_USER_INPUT", "{what}");
        assert_eq!(legacy_status, 200, "{what}: application/json keeps 200");
        assert_eq!(code(&legacy), "BAD_USER_INPUT", "{what}");
    }
}

#[tokio::test]
async fn a_resolver_error_is_still_200_with_data_under_graphql_response_json() {
    let app = TestApp::new().await;
    let server = start(&app).await;

    let (status, _, body) = post(
        &server,
        &[
            ("content-type", "application/json"),
            ("accept", GRAPHQL_RESPONSE),
        ],
        json_body(json!({ "query": "{ wallet { availableBalance } }" })),
    )
    .await;

    assert_eq!(status, 200);
    assert!(body.get("data").is_some(), "{body}");
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_post_without_a_json_content_type_is_415_and_unreadable_parameters_are_400() {
    let app = TestApp::new().await;
    let server = start(&app).await;
    let query = json_body(json!({ "query": "{ __typename }" }));

    let (no_type, _, _) = post(&server, &[], query.clone()).await;
    let (text, _, _) = post(&server, &[("content-type", "text/plain")], query).await;
    let mut bad_requests = Vec::new();
    for body in [
        "",
        "{ \"not a JSON",
        r#"{"qeury": "{ __typename }"}"#,
        r#"{"query": {"obj": "ect"}}"#,
        r#"{"query": "{ __typename }", "operationName": 0}"#,
        r#"{"query": "{ __typename }", "variables": "string"}"#,
        r#"{"query": "{ __typename }", "extensions": ["array"]}"#,
        r#"[{"query": "{ __typename }"}]"#,
    ] {
        let (status, _, answer) =
            post(&server, &[("content-type", "application/json")], body).await;
        bad_requests.push((
            body,
            status,
            code(&answer).to_owned(),
            answer.get("data").is_some(),
        ));
    }

    assert_eq!(no_type, 415);
    assert_eq!(text, 415);
    for (body, status, code, has_data) in bad_requests {
        assert_eq!(status, 400, "{body}");
        assert_eq!(code, "BAD_USER_INPUT", "{body}");
        assert!(!has_data, "{body}");
    }
}

#[tokio::test]
async fn null_optional_parameters_are_accepted() {
    let app = TestApp::new().await;
    let server = start(&app).await;

    for parameter in ["variables", "operationName", "extensions"] {
        let (status, _, body) = post(
            &server,
            &[("content-type", "application/json")],
            json_body(json!({ "query": "{ __typename }", parameter: null })),
        )
        .await;

        assert_eq!(status, 200, "{parameter}");
        assert!(body.get("errors").is_none(), "{parameter}: {body}");
    }
}

#[tokio::test]
async fn a_mutation_over_get_is_405_and_a_get_over_the_token_limit_is_refused_unparsed() {
    let app = TestApp::new().await;
    let server = start(&app).await;
    let get = |query: String| {
        let server = &server;
        async move {
            let response = server
                .client
                .get(server.url("/graphql"))
                .header("accept", GRAPHQL_RESPONSE)
                .query(&[("query", query)])
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let allow = response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (status, allow, response.json::<Value>().await.unwrap())
        }
    };

    let (mutation, allow, _) = get("mutation { __typename }".into()).await;
    // Unbalanced braces would fail to parse: the refusal names the token limit, so the
    // document was refused before it was parsed.
    let (huge, _, body) = get(format!("{{ {}", "__typename ".repeat(3_001))).await;
    let (query, _, ok) = get("{ __typename }".into()).await;

    assert_eq!(mutation, 405);
    assert_eq!(allow.as_deref(), Some("GET, POST"));
    assert_eq!(huge, 400);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("tokens")),
        "{body}"
    );
    assert_eq!(query, 200);
    assert_eq!(ok["data"]["__typename"], "QueryRoot");
    assert!(
        app.drain_jobs().await.is_empty(),
        "the GETs changed nothing"
    );
}
