//! HTTP and the WebSocket apply the same checks (`graphql::admission::CHECKS`): for every check
//! in the list, a document that breaks it is refused over `POST /graphql`, over the socket as a
//! query and, where the check can apply to one, over the socket as a subscription, with the same
//! message and code. A check added to the list needs a case here (the match is exhaustive), and
//! a check applied on one side only fails its case.

use kabaadwala::graphql::admission::{CHECKS, Check};
use serde_json::{Value, json};

use crate::support::{
    TestApp,
    ws::{Server, Ws, serve},
};

/// A document breaking one check, as a query and (where it can) as a subscription, and the
/// configuration it needs.
struct Case {
    env: &'static [(&'static str, &'static str)],
    query: String,
    subscription: Option<String>,
}

const PRODUCTION: &[(&str, &str)] = &[
    ("APP_ENV", "production"),
    ("PAYMENT_WEBHOOK_SECRET", "a-webhook-secret-for-the-test"),
    ("METRICS_TOKEN", "a-metrics-token-for-the-test"),
    // Production refuses the sandbox.
    ("PAYMENT_PROVIDER", "razorpay"),
    ("RAZORPAY_KEY_ID", "rzp_test_id"),
    ("RAZORPAY_KEY_SECRET", "rzp-test-secret"),
    ("RAZORPAY_WEBHOOK_SECRET", "rzp-test-webhook-secret"),
];

fn case(check: Check) -> Case {
    match check {
        Check::TextLimits => Case {
            env: &[],
            query: format!("{{ {} }}", "__typename ".repeat(3_001)),
            subscription: Some(format!(
                "subscription {{ notificationAdded {{ {} }} }}",
                "id ".repeat(3_001)
            )),
        },
        Check::Syntax => Case {
            env: &[],
            query: "{ me { id }".into(),
            subscription: Some("subscription { notificationAdded { id }".into()),
        },
        Check::RecursionDepth => Case {
            env: &[],
            query: format!(
                "{{ {}__typename{} }}",
                "... on Query { ".repeat(40),
                " }".repeat(40)
            ),
            subscription: Some(format!(
                "subscription {{ notificationAdded {{ {}id{} }} }}",
                "... on Notification { ".repeat(40),
                " }".repeat(40)
            )),
        },
        Check::DirectivesPerField => Case {
            env: &[],
            query: format!("{{ __typename {}}}", "@include(if: true) ".repeat(51)),
            subscription: Some(format!(
                "subscription {{ notificationAdded {}{{ id }} }}",
                "@include(if: true) ".repeat(51)
            )),
        },
        Check::DocumentLimits => Case {
            env: &[],
            query: format!("{{ {}id{} }}", "a { ".repeat(10), " }".repeat(10)),
            subscription: Some(format!(
                "subscription {{ {}id{} }}",
                "a { ".repeat(10),
                " }".repeat(10)
            )),
        },
        // GET runs queries only; `get_refuses_what_may_change_something` checks it, and the
        // socket runs any operation, as POST does.
        Check::Method => Case {
            env: &[],
            query: "mutation { __typename }".into(),
            subscription: None,
        },
        // A budget that signing up fits in, and documents that cost more.
        Check::Complexity => Case {
            env: &[("GRAPHQL_MAX_COMPLEXITY", "20")],
            query: "{ jobs(first: 50) { edges { node { id kind status } } } }".into(),
            subscription: Some(
                "subscription { notificationAdded { id kind title body isRead readAt createdAt \
                 order { id number status subtotal commission total vendorEarnings note \
                 createdAt updatedAt buyer { id } vendor { id } } } }"
                    .into(),
            ),
        },
        // Introspection fields exist only on the query root.
        Check::Introspection => Case {
            env: &[("GRAPHQL_INTROSPECTION", "false")],
            query: "{ __schema { queryType { name } } }".into(),
            subscription: None,
        },
        Check::Suggestions => Case {
            env: PRODUCTION,
            query: "{ walet { id } }".into(),
            subscription: Some("subscription { notificationAdde { id } }".into()),
        },
    }
}

/// A response as `{ "data": …, "errors": … }` (a missing entry is null).
fn normal(response: &Value) -> Value {
    json!({
        "data": response.get("data").cloned().unwrap_or(Value::Null),
        "errors": response.get("errors").cloned().unwrap_or(Value::Null),
    })
}

/// `query` over `POST /graphql`, as `token`'s user.
async fn over_http(server: &Server, query: &str, token: &str) -> Value {
    let body: Value = reqwest::Client::new()
        .post(format!("http://{}/graphql", server.addr))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    normal(&body)
}

/// `query` sent with `subscribe` on `ws`: the response of a query or mutation, or the errors of
/// a refusal, as [`normal`] writes them.
async fn over_ws(ws: &mut Ws, id: &str, query: &str) -> Value {
    ws.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query } }))
        .await;
    let frame = ws.recv().await;
    assert_eq!(frame["id"], id, "{frame}");
    match frame["type"].as_str() {
        Some("error") => normal(&json!({ "errors": frame["payload"] })),
        Some("next") => {
            assert_eq!(ws.recv().await["type"], "complete");
            normal(&frame["payload"])
        }
        _ => panic!("unexpected frame {frame}"),
    }
}

/// The first error's message and code.
fn refusal(response: &Value) -> (String, String) {
    let first = &response["errors"][0];
    (
        first["message"].as_str().unwrap_or_default().to_owned(),
        first["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn every_check_refuses_alike_over_http_and_over_the_websocket() {
    for check in CHECKS {
        let case = case(check);
        let app = TestApp::with_env(case.env).await;
        let asha = app.customer("Asha").await;
        let server = serve(&app.state).await;
        let mut ws = Ws::connect(&server, &asha.access_token).await;

        let http = over_http(&server, &case.query, &asha.access_token).await;
        let socket = over_ws(&mut ws, "q", &case.query).await;

        // Queries run through the same executor on both sides: the whole answer is the same.
        assert_eq!(socket, http, "{check:?} as a query");
        match check {
            // POST and the socket allow every operation.
            Check::Method => {
                assert_eq!(http["data"]["__typename"], "MutationRoot", "{http}");
                continue;
            }
            // The engine answers as if the field were not there.
            Check::Introspection => assert!(http["data"]["__schema"].is_null(), "{http}"),
            _ => {
                let (message, code) = refusal(&http);
                assert!(!message.is_empty(), "{check:?}: not refused: {http}");
                assert!(!code.is_empty(), "{check:?}: no code: {http}");
                assert!(http["data"].is_null(), "{check:?}: {http}");
            }
        }

        if let Some(subscription) = &case.subscription {
            let http = over_http(&server, subscription, &asha.access_token).await;
            let socket = over_ws(&mut ws, "s", subscription).await;
            let (message, code) = refusal(&http);
            assert!(
                !message.is_empty(),
                "{check:?}: subscription not refused over HTTP: {http}"
            );
            assert_eq!(
                refusal(&socket),
                (message, code),
                "{check:?} as a subscription"
            );
        }
    }
}

#[tokio::test]
async fn get_refuses_what_may_change_something() {
    let app = TestApp::new().await;
    let server = serve(&app.state).await;
    let get = |query: &str| {
        reqwest::Client::new()
            .get(format!("http://{}/graphql", server.addr))
            .query(&[("query", query)])
            .send()
    };

    let query: Value = get("{ __typename }").await.unwrap().json().await.unwrap();
    let mutation: Value = get("mutation { __typename }")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(query["data"]["__typename"], "QueryRoot", "{query}");
    let (message, code) = refusal(&mutation);
    assert!(message.contains("only queries"), "{mutation}");
    assert_eq!(code, "BAD_USER_INPUT");
}
