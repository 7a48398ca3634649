//! The GraphiQL playground at `/`: served from the binary (no CDN), with long-cached assets and
//! a strict Content-Security-Policy, and working in a real browser that can reach nothing but
//! the test server.
//!
//! The browser test needs Debian's `chromium` and `chromium-driver` (`/usr/bin/chromium`,
//! `/usr/bin/chromedriver`; `CHROMIUM` and `CHROMEDRIVER` override the paths). Without them it
//! fails, it never passes silently. It saves a screenshot to `target/tmp/graphiql.png`, and with
//! `UPDATE_SCREENSHOT=1` also to `docs/img/graphiql.png`; the one on the demo data set goes to
//! `target/tmp/graphiql-demo.png` and `docs/img/graphiql-demo.png` (the README's pictures).

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support::{
    Session, TestApp,
    server::{Server, start},
};

/// Every `src="…"` and `href="…"` on the page.
fn links(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_playground_and_its_assets_are_served_by_the_server_itself() {
    let app = TestApp::new().await;
    let server = start(&app).await;

    let page = server.client.get(server.url("/")).send().await.unwrap();
    let page_headers = page.headers().clone();
    let html = page.text().await.unwrap();
    let mut assets = Vec::new();
    for link in links(&html) {
        let response = server.client.get(server.url(&link)).send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap();
        assets.push((link, status, headers, body));
    }
    let wrong_version = server
        .client
        .get(server.url("/graphiql/000000000000/graphiql.min.js"))
        .send()
        .await
        .unwrap();

    assert_eq!(page_headers["content-type"], "text/html; charset=utf-8");
    let policy = page_headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(policy.contains("connect-src 'self' ws: wss:"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    for needle in ["http://", "https://", "//unpkg", "cdn"] {
        assert!(!html.contains(needle), "the page names {needle}:\n{html}");
    }
    let names: Vec<&str> = assets
        .iter()
        .filter_map(|(link, ..)| link.rsplit('/').next())
        .collect();
    assert_eq!(
        names,
        [
            "playground.js",
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
            "graphiql.min.css",
            "playground.css",
        ]
    );
    for (link, status, headers, body) in &assets {
        assert!(link.starts_with("/graphiql/"), "{link}");
        assert_eq!(*status, 200, "{link}");
        let expected = if link.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(headers["content-type"], expected, "{link}");
        assert_eq!(
            headers["cache-control"], "public, max-age=31536000, immutable",
            "{link}"
        );
        assert!(!body.is_empty(), "{link}");
    }
    assert_eq!(wrong_version.status(), 404);
}

#[tokio::test]
async fn with_graphiql_off_its_assets_are_not_served_either() {
    let on = TestApp::new().await;
    let off = TestApp::with_env(&[("GRAPHIQL", "false")]).await;
    let on_server = start(&on).await;
    let off_server = start(&off).await;
    let html = on_server
        .client
        .get(on_server.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let script = links(&html)
        .into_iter()
        .find(|link| link.ends_with("/graphiql.min.js"))
        .unwrap();

    let served = on_server.client.get(on_server.url(&script)).send().await;
    let refused = off_server.client.get(off_server.url(&script)).send().await;

    assert_eq!(served.unwrap().status(), 200);
    assert_eq!(refused.unwrap().status(), 404);
}

/// chromedriver on a free local port, and the Chromium profile it starts the browser with.
pub(crate) struct Chromedriver {
    process: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn installed(var: &str, default: &str) -> String {
    let path = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    assert!(
        std::path::Path::new(&path).exists(),
        "{path} is missing: the GraphiQL browser test needs headless Chromium and its driver \
         (`apt-get install -y chromium chromium-driver`, or set {var})"
    );
    path
}

pub(crate) async fn chromedriver() -> Chromedriver {
    let driver = installed("CHROMEDRIVER", "/usr/bin/chromedriver");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let profile = tempfile::tempdir().unwrap();
    let process = Command::new(driver)
        .arg(format!("--port={port}"))
        .arg(format!(
            "--log-path={}",
            profile.path().join("chromedriver.log").display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let status = format!("http://127.0.0.1:{port}/status");
    let deadline = Instant::now() + Duration::from_secs(10);
    while reqwest::get(&status).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not answer within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Chromedriver {
        process,
        port,
        profile,
    }
}

/// Headless Chromium that can resolve and reach nothing but 127.0.0.1: a request for a CDN fails.
pub(crate) async fn browser(driver: &Chromedriver) -> Client {
    let chromium = installed("CHROMIUM", "/usr/bin/chromium");
    let user_data = driver.profile.path().join("profile");
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--window-size=1280,800".to_owned(),
        format!("--user-data-dir={}", user_data.display()),
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1".to_owned(),
        "--proxy-server=127.0.0.1:9".to_owned(),
        "--proxy-bypass-list=127.0.0.1".to_owned(),
    ];
    let capabilities = serde_json::Map::from_iter([(
        "goog:chromeOptions".to_owned(),
        json!({ "binary": chromium, "args": args }),
    )]);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session")
}

const QUERY_EDITOR: &str = ".graphiql-query-editor .CodeMirror";
/// The headers editor: the one tool editor shown, as the page opens the Headers tab.
const HEADERS_EDITOR: &str = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror";
const RESULT: &str = ".result-window .CodeMirror";

/// Replaces the text of one of GraphiQL's CodeMirror editors, as typing would.
async fn set_editor(browser: &Client, selector: &str, text: &str) -> anyhow::Result<()> {
    browser
        .execute(
            "document.querySelector(arguments[0]).CodeMirror.setValue(arguments[1])",
            vec![json!(selector), json!(text)],
        )
        .await?;
    Ok(())
}

/// Sets the query and waits (at most 5 s) until GraphiQL has parsed it: the run button sends a
/// subscription over the WebSocket only once the editor's parsed document says it is one.
async fn set_query(browser: &Client, query: &str) -> anyhow::Result<()> {
    set_editor(browser, QUERY_EDITOR, query).await?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let parsed = browser
            .execute(
                "const editor = document.querySelector(arguments[0]).CodeMirror; \
                 const body = editor.documentAST?.loc?.source?.body; \
                 return body === editor.getValue()",
                vec![json!(QUERY_EDITOR)],
            )
            .await?;
        if parsed == json!(true) {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "GraphiQL never parsed {query}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks the run button and waits (at most 10 s) for the result pane to contain `expected`;
/// returns the pane's text.
async fn run(browser: &Client, expected: &str) -> anyhow::Result<String> {
    browser
        .find(Locator::Css(".graphiql-execute-button"))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let shown = browser
            .execute(
                "const pane = document.querySelector(arguments[0]); \
                 return pane ? pane.CodeMirror.getValue() : ''",
                vec![json!(RESULT)],
            )
            .await?;
        let shown = shown.as_str().unwrap_or_default().to_owned();
        if shown.contains(expected) {
            return Ok(shown);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the result pane never showed {expected}; it shows: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the page showed and did.
struct Seen {
    typename: String,
    me: String,
    subscription: String,
    nonced_styles: Value,
    resources: Value,
    csp_violations: Value,
}

async fn use_the_playground(
    browser: &Client,
    server: &Server,
    user: &Session,
) -> anyhow::Result<Seen> {
    browser.goto(&server.url("/")).await?;
    browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(QUERY_EDITOR))
        .await?;

    set_query(browser, "{\n  __typename\n}\n").await?;
    let typename = run(browser, "__typename").await?;
    let screenshot = browser.screenshot().await?;
    std::fs::write(
        concat!(env!("CARGO_TARGET_TMPDIR"), "/graphiql.png"),
        &screenshot,
    )?;
    if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/docs/img/graphiql.png"),
            &screenshot,
        )?;
    }

    // The token typed into the Headers pane: sent over HTTP …
    let headers = json!({ "Authorization": format!("Bearer {}", user.access_token) });
    set_editor(browser, HEADERS_EDITOR, &headers.to_string()).await?;
    set_query(browser, "{ me { id } }").await?;
    let me = run(browser, &user.user_id).await?;

    // … and in the WebSocket's connection_init: a signed-in caller watching an order that does
    // not exist is told NOT_FOUND, where an anonymous one would be UNAUTHENTICATED.
    let missing = uuid::Uuid::new_v4();
    set_query(
        browser,
        &format!("subscription {{ orderUpdated(orderId: \"{missing}\") {{ id }} }}"),
    )
    .await?;
    let subscription = run(browser, "\"code\"").await?;

    // A dialog locks scrolling with an inserted <style>, allowed by the page's nonce.
    browser
        .find(Locator::Css("button[aria-label='Open settings dialog']"))
        .await?
        .click()
        .await?;
    browser
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("[role='dialog']"))
        .await?;
    let nonced_styles = browser
        .execute(
            "return document.querySelectorAll('head style[nonce]').length",
            vec![],
        )
        .await?;

    let resources = browser
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            vec![],
        )
        .await?;
    let csp_violations = browser
        .execute("return window.cspViolations", vec![])
        .await?;
    Ok(Seen {
        typename,
        me,
        subscription,
        nonced_styles,
        resources,
        csp_violations,
    })
}

#[tokio::test]
async fn graphiql_runs_queries_and_subscriptions_in_a_browser_that_cannot_reach_a_cdn() {
    let app = TestApp::new().await;
    let server = start(&app).await;
    let user = app.customer("Browser").await;
    let driver = chromedriver().await;
    let browser = browser(&driver).await;

    let seen = use_the_playground(&browser, &server, &user).await;
    // Closed before any assertion can fail, so no Chromium outlives the test.
    let _ = browser.close().await;
    let seen = seen.unwrap();

    assert!(
        seen.typename.contains(r#""__typename": "QueryRoot""#),
        "{}",
        seen.typename
    );
    assert!(seen.me.contains(&user.user_id), "{}", seen.me);
    assert!(
        seen.subscription.contains("NOT_FOUND"),
        "{}",
        seen.subscription
    );
    assert_ne!(
        seen.nonced_styles,
        json!(0),
        "the dialog's <style> was inserted"
    );
    let resources = seen.resources.as_array().unwrap();
    assert!(!resources.is_empty());
    for resource in resources {
        let url = resource.as_str().unwrap();
        assert!(url.starts_with(&server.base), "the page loaded {url}");
    }
    assert_eq!(seen.csp_violations, json!([]));
}

/// GraphiQL on the demo data set, running the README's first Quick start query. Saves
/// `target/tmp/graphiql-demo.png`, and with `UPDATE_SCREENSHOT=1` also
/// `docs/img/graphiql-demo.png` (the picture at the top of the README).
#[tokio::test]
async fn graphiql_shows_the_demo_data_for_the_readme_first_query() {
    let app = TestApp::new().await;
    kabaadwala::demo::seed(&app.state, &kabaadwala::demo::Options::for_products(200))
        .await
        .unwrap();
    let server = start(&app).await;
    let driver = chromedriver().await;
    let browser = browser(&driver).await;

    let shown = async {
        browser.goto(&server.url("/")).await?;
        browser
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(QUERY_EDITOR))
            .await?;
        set_query(&browser, crate::first_start::NEARBY_PRODUCTS).await?;
        let shown = run(&browser, "businessName").await?;
        let screenshot = browser.screenshot().await?;
        std::fs::write(
            concat!(env!("CARGO_TARGET_TMPDIR"), "/graphiql-demo.png"),
            &screenshot,
        )?;
        if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
            std::fs::write(
                concat!(env!("CARGO_MANIFEST_DIR"), "/docs/img/graphiql-demo.png"),
                &screenshot,
            )?;
        }
        anyhow::Ok(shown)
    }
    .await;
    let _ = browser.close().await;
    let shown = shown.unwrap();

    assert!(shown.contains("\"distanceKm\""), "{shown}");
    assert!(shown.contains("\"formatted\": \"₹"), "{shown}");
    assert!(!shown.contains("\"errors\""), "{shown}");
}
