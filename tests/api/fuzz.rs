//! A CI-sized fuzz run against the real HTTP server: random and malformed GraphQL documents,
//! variables and bodies (a fixed seed, so a failure replays), with and without a valid token.
//! The server keeps answering `/healthz`, never answers 5xx, every GraphQL error has a code that
//! is not INTERNAL and no message shows SQL or a file path, and the ledger is sound afterwards.

use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom as _};
use serde_json::{Value, json};

use crate::{
    support::{
        TestApp,
        market::{self, NEAR, assert_ledger_sound},
        server,
    },
    wallet::fund,
};

const SEED: u64 = 0x4B57_2026;
const CASES: usize = 480;

/// Well-formed operations the mutators start from.
const SEEDS: [&str; 10] = [
    "{ me { id email fullName } }",
    "query($f: ProductFilter) { products(filter: $f, first: 5) { totalCount nodes { id name price } } }",
    "mutation($input: RechargeInput!) { rechargeWallet(input: $input) { id amount status } }",
    "mutation($input: CreateOrderInput!) { createOrder(input: $input) { id total status } }",
    "mutation($input: AddressInput!) { createAddress(input: $input) { id } }",
    "query($id: ID!) { order(id: $id) { id items { quantity } } }",
    "{ wallet { availableBalance heldBalance transactions(first: 3) { nodes { id amount } } } }",
    "mutation($input: PayoutInput!) { requestPayout(input: $input) { id } }",
    "mutation($e: String!) { requestPasswordReset(email: $e) }",
    "query($roomId: ID!) { messages(roomId: $roomId, last: 2) { nodes { body } } }",
];

const PUNCTUATION: [&str; 16] = [
    "{", "}", "(", ")", "[", "]", ":", "$", "!", "...", "@", "=", ",", "\"", "#", "|",
];

const KEYWORDS: [&str; 10] = [
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "__schema",
    "__typename",
    "@include(if: true)",
    "@skip(if: $x)",
    "null",
];

/// Strings that have hurt servers before.
const NASTY: [&str; 12] = [
    "",
    "\u{0}",
    "a\u{0}b",
    "🦀🔥💰",
    "\u{202e}evil",
    "' OR 1=1; --",
    "\"; DROP TABLE users; --",
    "%s%n%x",
    "../../../../etc/passwd",
    "\u{FEFF}",
    "ﷺ\u{10FFFF}",
    "null",
];

/// Numbers that are wrong for `Paise`/`Int` one way or another.
fn wrong_number(rng: &mut StdRng) -> Value {
    match rng.random_range(0..9) {
        0 => json!(-1),
        1 => json!(i64::MAX),
        2 => json!(i64::MIN),
        3 => json!(u64::MAX),
        4 => json!(1.5),
        5 => json!(1e300),
        6 => json!("100"),
        7 => json!(true),
        _ => json!(rng.random_range(-1_000_000_000_000i64..1_000_000_000_000)),
    }
}

fn junk_value(rng: &mut StdRng, depth: usize) -> Value {
    match rng.random_range(0..8) {
        0 => wrong_number(rng),
        1 => json!(NASTY.choose(rng).unwrap()),
        2 => json!("x".repeat(rng.random_range(1_000..120_000))),
        3 if depth < 4 => json!([junk_value(rng, depth + 1), junk_value(rng, depth + 1)]),
        4 if depth < 4 => {
            json!({ "amount": junk_value(rng, depth + 1), "idempotencyKey": junk_value(rng, depth + 1), "items": junk_value(rng, depth + 1) })
        }
        5 => Value::Null,
        6 => json!(uuid::Uuid::new_v4().to_string()),
        _ => json!(rng.random::<bool>()),
    }
}

/// Variables for the seed operations: right names, mostly wrong values.
fn variables(rng: &mut StdRng, query: &str, product: &str, address: &str) -> Value {
    match rng.random_range(0..16) {
        0 => json!([1, 2, 3]),
        1 => json!("not an object"),
        2 => json!(42),
        _ => {
            let amount = if rng.random_bool(0.5) {
                json!(rng.random_range(10_000..50_000))
            } else {
                wrong_number(rng)
            };
            let quantity = if rng.random_bool(0.5) {
                json!(rng.random_range(1..4))
            } else {
                wrong_number(rng)
            };
            let key = format!("fuzz-{}", rng.random_range(0..40));
            // Mostly the shape the document asks for, so some operations run for real.
            let shape = if rng.random_bool(0.2) {
                rng.random_range(0..4)
            } else if query.contains("RechargeInput") || query.contains("PayoutInput") {
                0
            } else if query.contains("CreateOrderInput") {
                1
            } else if query.contains("AddressInput") {
                2
            } else {
                3
            };
            let input = match shape {
                0 => json!({ "amount": amount, "idempotencyKey": key }),
                1 => json!({
                    "items": [{ "productId": product, "quantity": quantity }],
                    "addressId": if rng.random_bool(0.7) { json!(address) } else { junk_value(rng, 2) },
                    "idempotencyKey": key,
                }),
                2 => json!({
                    "label": junk_value(rng, 3), "line1": "1 Road", "city": "Mumbai",
                    "state": "MH", "pincode": junk_value(rng, 3),
                    "latitude": junk_value(rng, 3), "longitude": NEAR.1,
                }),
                _ => {
                    json!({ "amount": amount, "idempotencyKey": key, "items": junk_value(rng, 2) })
                }
            };
            json!({
                "input": input,
                "f": { "minPrice": wrong_number(rng), "search": junk_value(rng, 3), "near": { "latitude": wrong_number(rng), "longitude": 1, "radiusKm": wrong_number(rng) } },
                "id": junk_value(rng, 2),
                "roomId": junk_value(rng, 2),
                "e": junk_value(rng, 2),
            })
        }
    }
}

/// A random or mangled GraphQL document.
fn document(rng: &mut StdRng, words: &[String]) -> String {
    let seed = *SEEDS.choose(rng).unwrap();
    match rng.random_range(0..14) {
        // Token soup from the schema's own names.
        0 => (0..rng.random_range(1..80))
            .map(|_| match rng.random_range(0..3) {
                0 => words.choose(rng).unwrap().clone(),
                1 => (*PUNCTUATION.choose(rng).unwrap()).to_owned(),
                _ => (*KEYWORDS.choose(rng).unwrap()).to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        // Truncated.
        1 => {
            let cut = rng.random_range(0..seed.len());
            seed[..cut].to_owned()
        }
        // Unbalanced braces.
        2 => format!(
            "{}{}",
            "{".repeat(rng.random_range(0..5)),
            seed.replace('}', "")
        ),
        // Deep nesting.
        3 => {
            let depth = rng.random_range(5..200);
            let mut q = String::from("{ me ");
            for _ in 0..depth {
                q.push_str("{ me ");
            }
            q.push_str(&"}".repeat(depth + 1));
            q
        }
        // Many aliases.
        4 => {
            let n = rng.random_range(5..300);
            let body: Vec<String> = (0..n).map(|i| format!("a{i}: me {{ id }}")).collect();
            format!("{{ {} }}", body.join(" "))
        }
        // A huge or nasty string literal.
        5 => {
            let s = if rng.random_bool(0.5) {
                "é".repeat(rng.random_range(10_000..100_000))
            } else {
                (*NASTY.choose(rng).unwrap()).to_owned()
            };
            format!(
                "mutation {{ requestPasswordReset(email: {}) }}",
                serde_json::to_string(&s).unwrap()
            )
        }
        // Literal numbers that do not fit.
        6 => {
            let n = [
                "99999999999999999999999999",
                "-1",
                "1.5",
                "1e400",
                "-9223372036854775809",
                "0x10",
                "NaN",
            ]
            .choose(rng)
            .unwrap()
            .to_owned();
            format!(
                "mutation {{ rechargeWallet(input: {{ amount: {n}, idempotencyKey: \"k{n}\" }}) {{ id }} }} "
            )
        }
        // Fields with random arguments.
        7 => {
            let field = words.choose(rng).unwrap();
            let arg = words.choose(rng).unwrap();
            format!(
                "{} {{ {field}({arg}: {}) {{ __typename }} }}",
                if rng.random_bool(0.5) {
                    "query"
                } else {
                    "mutation"
                },
                [
                    "1",
                    "\"x\"",
                    "null",
                    "[1, {a: 2}]",
                    "{x: $y}",
                    "ENUM",
                    "-0.0"
                ]
                .choose(rng)
                .unwrap()
            )
        }
        // Many directives, fragments that spread themselves.
        8 => {
            if rng.random_bool(0.5) {
                format!(
                    "{{ me {} {{ id }} }}",
                    "@include(if: true) ".repeat(rng.random_range(1..120))
                )
            } else {
                "query { ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }"
                    .to_owned()
            }
        }
        // A well-formed seed (with random variables).
        _ => seed.to_owned(),
    }
}

/// Malformed HTTP bodies and content types: (content type, body).
fn raw_body(rng: &mut StdRng) -> (Option<&'static str>, Vec<u8>) {
    match rng.random_range(0..8) {
        0 => (
            Some("application/json"),
            (0..rng.random_range(0..200)).map(|_| rng.random()).collect(),
        ),
        1 => (Some("application/json"), b"{\"query\": \"{ me { id } }\"".to_vec()),
        2 => (
            Some("application/json"),
            br#"{"query": "{ me { id } }", "variables": {"a": "\ud800"}}"#.to_vec(),
        ),
        3 => (Some("text/plain"), b"{ me { id } }".to_vec()),
        4 => (Some("application/xml"), b"<query>me</query>".to_vec()),
        5 => (
            Some("multipart/form-data; boundary=xyz"),
            b"--xyz\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{ me { id } }\"}\r\n--xyz--\r\n".to_vec(),
        ),
        6 => (
            Some("application/json"),
            serde_json::to_vec(&json!([{ "query": "{ me { id } }" }, { "query": "{ categories { id } }" }, 7]))
                .unwrap(),
        ),
        _ => (None, b"query=%7B%20me%20%7D".to_vec()),
    }
}

/// Messages that would show the implementation.
fn leaks(message: &str) -> bool {
    [
        "SELECT", "INSERT", "sqlx", "sea_orm", "sea-orm", ".rs:", "/src/", "/root/", "/tmp/",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// Every GraphQL error in `body` (a response or a batch of them).
fn errors_of(body: &Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items.iter().flat_map(errors_of).collect(),
        other => other["errors"].as_array().cloned().unwrap_or_default(),
    }
}

#[tokio::test]
async fn random_and_malformed_requests_never_break_the_server_or_the_ledger() {
    let app = TestApp::new().await;
    let shop = market::shop(&app, "Fuzz Vendor").await;
    let product = market::product(&app, &shop, "Copper", 1_000, 1_000)
        .await
        .to_string();
    let buyer = app.customer("Fuzz Buyer").await;
    fund(&app, &buyer, 500_000).await;
    let address = market::address(&app, &buyer, Some(NEAR)).await;
    let server = server::start(&app).await;

    let schema = app
        .gql(
            "{ __schema { types { name fields { name } } } }",
            json!({}),
            None,
        )
        .await
        .data("__schema");
    let mut words: Vec<String> = Vec::new();
    for t in schema["types"].as_array().unwrap() {
        words.push(t["name"].as_str().unwrap().to_owned());
        for f in t["fields"].as_array().into_iter().flatten() {
            words.push(f["name"].as_str().unwrap().to_owned());
        }
    }

    let mut rng = StdRng::seed_from_u64(SEED);
    let mut failures = Vec::new();
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for case in 0..CASES {
        let token = match rng.random_range(0..3) {
            0 => None,
            1 => Some(buyer.access_token.clone()),
            _ => Some(shop.owner.access_token.clone()),
        };
        let garbage_auth = rng.random_bool(0.05);
        let mut request = if rng.random_bool(0.15) {
            let (content_type, body) = raw_body(&mut rng);
            let r = server.client.post(server.url("/graphql")).body(body);
            match content_type {
                Some(ct) => r.header("content-type", ct),
                None => r,
            }
        } else if rng.random_bool(0.1) {
            // URLs stay short: a GET carries a small document.
            let q: String = document(&mut rng, &words).chars().take(1_500).collect();
            server
                .client
                .get(server.url("/graphql"))
                .query(&[("query", q.as_str()), ("variables", "{\"x\": [}")])
        } else {
            let q = document(&mut rng, &words);
            let vars = variables(&mut rng, &q, &product, &address);
            if std::env::var_os("KW_FUZZ_TRACE").is_some() {
                let sent: String = format!("{q} {vars}").chars().take(400).collect();
                eprintln!("case {case} sends {sent}");
            }
            server
                .client
                .post(server.url("/graphql"))
                .json(&json!({ "query": q, "variables": vars }))
        };
        if garbage_auth {
            request = request.header("authorization", "Bearer not.a.jwt");
        } else if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        *statuses.entry(status.as_u16()).or_default() += 1;
        let text = response.text().await.unwrap();
        let short: String = text.chars().take(300).collect();
        if std::env::var_os("KW_FUZZ_TRACE").is_some() {
            eprintln!("case {case}: {status} {short}");
        }
        if status.is_server_error() {
            failures.push(format!("case {case}: {status}: {short}"));
        }
        // An unreadable request is answered as GraphQL: JSON errors with a code.
        if status == 400 && serde_json::from_str::<Value>(&text).is_err() {
            failures.push(format!(
                "case {case}: a 400 that is not a GraphQL error: {short}"
            ));
        }
        if leaks(&text) && serde_json::from_str::<Value>(&text).is_err() {
            failures.push(format!(
                "case {case}: a non-JSON answer shows internals: {short}"
            ));
        }
        if let Ok(body) = serde_json::from_str::<Value>(&text) {
            for error in errors_of(&body) {
                let code = error["extensions"]["code"].as_str().unwrap_or("<none>");
                *codes.entry(code.to_owned()).or_default() += 1;
                let message = error["message"].as_str().unwrap_or_default();
                if code == "<none>" || code == "INTERNAL" {
                    failures.push(format!("case {case}: code {code}: {message}"));
                }
                if leaks(message) {
                    failures.push(format!(
                        "case {case}: the message shows internals: {message}"
                    ));
                }
            }
        }
        if case % 40 == 0 {
            let health = server
                .client
                .get(server.url("/healthz"))
                .send()
                .await
                .unwrap();
            assert_eq!(health.status(), 200, "healthz after case {case}");
        }
    }

    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // The server still does real work.
    let me = server
        .post("{ me { id } }", json!({}), Some(&buyer.access_token))
        .await
        .data("me");
    assert_eq!(me["id"], buyer.user_id.as_str());
    app.drain_jobs().await;
    assert_ledger_sound(&app).await;
    println!("{CASES} cases, seed {SEED:#x}; statuses {statuses:?}; error codes {codes:?}");
    assert!(
        failures.is_empty(),
        "{} failure(s) (seed {SEED:#x}):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
