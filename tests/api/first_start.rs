//! The first five minutes: the first start on a fresh database installs the category tree and
//! the settings (once, even with two instances starting together); `serve --demo` / `demo` fills
//! an empty database with the demo data set, prints the sign-ins and serves, and refuses a
//! database with other accounts. The README's "Quick start" queries are run here against the
//! demo data, through the real binary.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use entity::{categories, system_settings, users};
use kabaadwala::{catalog::defaults, demo};
use sea_orm::{EntityTrait as _, PaginatorTrait as _};
use serde_json::{Value, json};

use crate::support::{TestApp, process::free_port};

/// The README's Quick start queries, word for word.
pub const NEARBY_PRODUCTS: &str = r#"{
  products(
    filter: { near: { latitude: 28.6315, longitude: 77.2167, radiusKm: 10 } }
    sort: DISTANCE
    first: 5
  ) {
    totalCount
    nodes {
      name
      priceMoney { formatted }
      unit
      distanceKm
      category { name parent { name } }
      vendor { businessName address { line2 city } }
    }
  }
}"#;
const ME_AND_WALLET: &str = r#"{
  me { fullName email role }
  wallet { available { formatted } held { formatted } }
}"#;
const ORDERS_WITH_CHAT: &str = r#"{
  orders(first: 5) {
    nodes {
      number
      status
      totalMoney { formatted }
      vendor { businessName }
      items { productName quantity unit }
      chatRoom { id lastMessage { body sender { fullName } } }
    }
  }
}"#;
const MESSAGES: &str = r#"query($roomId: ID!) {
  messages(roomId: $roomId) { nodes { body sender { fullName } createdAt } }
}"#;
const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { ... on AuthPayload { accessToken user { role } } } }";

const CATEGORY_TREE: &str = "{ categories { slug children { slug } } }";

async fn category_count(app: &TestApp) -> u64 {
    categories::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_first_start_on_a_fresh_database_installs_the_category_tree_and_settings_once() {
    let app = TestApp::new().await;
    assert_eq!(
        category_count(&app).await,
        0,
        "migrations add no categories"
    );

    let first = defaults::setup_on_first_start(&app.state.db)
        .await
        .unwrap()
        .expect("a fresh database gets the defaults");
    let tree = app
        .gql(CATEGORY_TREE, json!({}), None)
        .await
        .data("categories");
    let top: Vec<&str> = tree
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert!(
        top.contains(&"metals") && top.contains(&"e-waste"),
        "{top:?}"
    );
    assert!(
        tree[0]["children"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
    assert_eq!(category_count(&app).await, first.categories as u64);
    let settings = system_settings::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert!(settings > 0 && settings == first.settings as u64);

    // The second start finds a database in use and adds nothing; `setup-defaults` by hand
    // neither.
    let second = defaults::setup_on_first_start(&app.state.db).await.unwrap();
    assert!(second.is_none());
    let by_hand = defaults::setup(&app.state.db).await.unwrap();
    assert_eq!((by_hand.categories, by_hand.settings), (0, 0));
    assert_eq!(category_count(&app).await, first.categories as u64);
    let again = app
        .gql(CATEGORY_TREE, json!({}), None)
        .await
        .data("categories");
    assert_eq!(again, tree);
}

#[tokio::test]
async fn instances_starting_together_on_a_fresh_database_create_each_category_once() {
    let app = TestApp::new().await;
    // Four, so that at least two of them really overlap on a loaded machine.
    let mut instances = vec![app.state.clone()];
    for _ in 0..3 {
        instances.push(app.second_instance().await);
    }

    let starts = instances
        .iter()
        .map(|state| defaults::setup_on_first_start(&state.db));
    let reports = futures_util::future::join_all(starts).await;
    let created: usize = reports
        .into_iter()
        .map(|r| r.unwrap().map_or(0, |r| r.categories))
        .sum();

    let rows = categories::Entity::find().all(&app.state.db).await.unwrap();
    let mut slugs: Vec<&str> = rows.iter().map(|c| c.slug.as_str()).collect();
    slugs.sort_unstable();
    slugs.dedup();
    assert_eq!(slugs.len(), rows.len(), "no slug twice");
    assert_eq!(
        created,
        rows.len(),
        "each row counted by the one that made it"
    );
    assert!(rows.len() > 20, "the whole tree: {}", rows.len());
}

#[tokio::test]
async fn a_database_already_in_use_gets_no_defaults_at_start() {
    let app = TestApp::new().await;
    app.customer("Existing User").await;

    let report = defaults::setup_on_first_start(&app.state.db).await.unwrap();

    assert!(report.is_none());
    assert_eq!(category_count(&app).await, 0);
}

#[tokio::test]
async fn the_server_binary_opens_a_fresh_database_on_its_category_tree() {
    let app = TestApp::new().await;

    let server = Server::start(&app, "fresh", &["serve", "--no-worker"]);
    server.wait_ready().await;

    let tree = server.gql(CATEGORY_TREE, json!({}), None).await;
    let tree = tree["data"]["categories"].as_array().unwrap().clone();
    assert!(tree.len() >= 5, "{tree:?}");
}

#[tokio::test]
async fn kabaadwala_demo_fills_an_empty_database_prints_the_sign_ins_and_serves_the_readme_queries()
{
    let app = TestApp::new().await;

    let server = Server::start(&app, "demo", &["demo", "--products", "120"]);
    server.wait_ready().await;

    let printed = std::fs::read_to_string(app.dirs.path().join("demo.out")).unwrap();
    for (_, email) in demo::SIGN_INS {
        assert!(printed.contains(email), "{email} not printed: {printed}");
    }
    assert!(printed.contains(demo::DEMO_PASSWORD), "{printed}");

    // The printed sign-ins work, with the roles they are printed as.
    let mut tokens = Vec::new();
    for (who, email) in demo::SIGN_INS {
        let vars = json!({ "input": { "email": email, "password": demo::DEMO_PASSWORD } });
        let res = server.gql(LOGIN, vars, None).await;
        let payload = &res["data"]["login"];
        assert_eq!(payload["user"]["role"], who.to_uppercase(), "{res}");
        tokens.push(payload["accessToken"].as_str().unwrap().to_owned());
    }
    let customer = tokens[1].as_str();

    // Query 1, anonymous: lots near Connaught Place, nearest first, with vendor and category.
    let res = server.gql(NEARBY_PRODUCTS, json!({}), None).await;
    let nodes = res["data"]["products"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty(), "{res}");
    assert!(nodes[0]["vendor"]["businessName"].is_string(), "{res}");
    // Ties in distance (one vendor's lots) come in id order: the first may be in a top-level
    // category, so every node is checked for a named category.
    assert!(
        nodes.iter().all(|n| n["category"]["name"].is_string()),
        "{res}"
    );
    assert!(nodes[0]["distanceKm"].as_f64().unwrap() <= 10.0);

    // Query 2, as the customer: who am I and what is in my wallet.
    let res = server.gql(ME_AND_WALLET, json!({}), Some(customer)).await;
    assert_eq!(res["data"]["me"]["email"], demo::CUSTOMER_EMAIL, "{res}");
    assert!(res["data"]["wallet"]["available"]["formatted"].is_string());

    // Query 3, as the customer: orders, one of them with the vendor's chat.
    let res = server
        .gql(ORDERS_WITH_CHAT, json!({}), Some(customer))
        .await;
    let orders = res["data"]["orders"]["nodes"].as_array().unwrap();
    let with_chat = orders
        .iter()
        .find(|o| o["chatRoom"]["lastMessage"]["body"].is_string())
        .unwrap_or_else(|| panic!("no order with a chat: {res}"));
    let room = with_chat["chatRoom"]["id"].as_str().unwrap();
    let res = server
        .gql(MESSAGES, json!({ "roomId": room }), Some(customer))
        .await;
    let messages = res["data"]["messages"]["nodes"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{res}");
    let vendor_side =
        &orders.iter().find(|o| o["chatRoom"]["id"] == room).unwrap()["vendor"]["businessName"];
    assert!(vendor_side.is_string());

    // The well-known vendor is the other side of that chat.
    let res = server
        .gql(MESSAGES, json!({ "roomId": room }), Some(&tokens[2]))
        .await;
    assert_eq!(
        res["data"]["messages"]["nodes"].as_array().unwrap().len(),
        2,
        "{res}"
    );
}

#[tokio::test]
async fn serve_demo_a_second_time_keeps_the_demo_data_and_prints_the_sign_ins_again() {
    let app = TestApp::new().await;
    let first = demo::seed_if_empty(&app.state, &demo::Options::for_products(120))
        .await
        .unwrap();
    assert!(matches!(first, demo::DemoStart::Seeded(_)));
    let accounts = users::Entity::find().count(&app.state.db).await.unwrap();

    let second = demo::seed_if_empty(&app.state, &demo::Options::for_products(120))
        .await
        .unwrap();

    assert!(matches!(second, demo::DemoStart::AlreadySeeded));
    assert_eq!(
        users::Entity::find().count(&app.state.db).await.unwrap(),
        accounts
    );
}

#[tokio::test]
async fn serve_demo_is_refused_on_a_database_with_other_accounts_and_adds_nothing() {
    let app = TestApp::new().await;
    app.customer("Real Customer").await;

    let mut server = Server::start(&app, "refused", &["serve", "--demo"]);
    let status = server.wait_exit(Duration::from_secs(60));

    assert!(!status.success());
    let stderr = std::fs::read_to_string(app.dirs.path().join("refused.err")).unwrap();
    assert!(
        stderr.contains("refusing to add demo data") && stderr.contains("1 account"),
        "{stderr}"
    );
    assert_eq!(users::Entity::find().count(&app.state.db).await.unwrap(), 1);
    assert!(!demo::has_demo_data(&app.state.db).await.unwrap());
}

/// The real binary with `args` on the app's database, stdout and stderr in `{name}.out` and
/// `{name}.err` under its temp folder; killed when dropped.
struct Server {
    child: Child,
    base: String,
    client: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(app: &TestApp, name: &str, args: &[&str]) -> Self {
        let port = free_port();
        let dir: &Path = app.dirs.path();
        let mut command = Command::new(env!("CARGO_BIN_EXE_kabaadwala"));
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &app.state.config.database_url)
            .env("MAIL_DIR", dir.join("mail"))
            .env("MEDIA_DIR", dir.join("media"))
            .env("JWT_SECRET", "test-secret-that-is-long-enough-0123456789")
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join(format!("{name}.out"))).unwrap())
            .stderr(std::fs::File::create(dir.join(format!("{name}.err"))).unwrap());
        if let Ok(redis) = std::env::var("REDIS_URL") {
            command.env("REDIS_URL", redis);
        }
        Self {
            child: command.spawn().expect("start the kabaadwala binary"),
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        }
    }

    /// Polls `/readyz` (bounded); fails early if the process exits.
    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let ready = self
                .client
                .get(format!("{}/readyz", self.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not become ready within 90 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the process did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let body: Value = response.json().await.unwrap();
        assert!(body["errors"].is_null(), "{body}");
        body
    }
}
