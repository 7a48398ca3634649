//! The deployment of `deploy/`: nginx, configured by `deploy/nginx.conf`, in front of the real
//! binary, configured as in `.env.production.example` (APP_ENV=production, TRUST_PROXY=true). On
//! PostgreSQL + Redis it is the fleet of the README's "Deploying": two API instances
//! (`serve --no-worker`) and one `worker`. Through the proxy, a buyer places an order and chats
//! while a vendor's subscription on the other instance receives both; the vendor's instance gets
//! SIGTERM mid-stream (the socket closes with 1001), the client reconnects through the proxy (to
//! the instance still up) with `after:` and misses nothing; every job ran exactly once.
//!
//! Which instance a socket reaches is made deterministic with listeners of the same server
//! block: the test renders `deploy/nginx.conf`'s `server { }` once on the balanced upstream
//! (both instances, as in production) and once more on each of two one-instance upstreams
//! ("pinned" to A, to B). The vendor's first socket goes through the A listener, the buyer's
//! requests through the B one, and the reconnection through the balanced one, where nginx skips
//! the instance that refuses connections, exactly as it would during a rolling deploy.
//!
//! Without Redis (and on SQLite) instances cannot share events, so the test runs the
//! one-instance variant: nginx in front of one `serve` (API and worker), restarted in place.
//! Without nginx the test fails, naming the Debian package.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use entity::jobs::{self, JobStatus};
use futures_util::{SinkExt as _, StreamExt as _};
use sea_orm::EntityTrait as _;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest as _, http::HeaderValue},
};

use crate::{
    chat::{ChatOrder, chat_order},
    support::{
        Session, TestApp,
        market::{self, NEAR},
        process::free_port,
        ws::REDIS_SESSIONS,
    },
};

/// Every wait of this test is bounded by this.
const WAIT: Duration = Duration::from_secs(30);
/// How long an instance may take to be ready (as `support::process::spawn_server` allows).
const START: Duration = Duration::from_secs(60);
/// How long a process may take to exit after SIGTERM (the server itself gives up after 30 s).
const STOP: Duration = Duration::from_secs(45);
const TEMPLATE: &str = include_str!("../../deploy/nginx.conf");
const SUBSCRIBE_MESSAGES: &str =
    "subscription($r: ID!, $after: ID) { messageAdded(roomId: $r, after: $after) { id body } }";
const SUBSCRIBE_ORDERS: &str = "subscription { orderUpdated { id number status } }";
/// The instances' METRICS_TOKEN.
const METRICS_TOKEN: &str = "test-metrics-token";
/// Sign-in attempts one client IP may make (in 5 minutes) on the spawned instances.
const LOGINS_PER_IP: usize = 3;
/// Messages sent while the vendor's instance shuts down and the client reconnects.
const STREAM: usize = 30;

// ---------------------------------------------------------------------------------------------
// Processes

/// A child process, SIGKILLed and reaped when dropped.
struct Proc {
    name: String,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// SIGTERM, then a bounded wait for the exit; whether it exited successfully.
    async fn terminate(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "could not send SIGTERM to {}", self.name);
        let deadline = Instant::now() + STOP;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(
                Instant::now() < deadline,
                "{} did not stop within {STOP:?} of SIGTERM",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn assert_running(&mut self, dir: &Path) {
        if let Some(status) = self.child.try_wait().unwrap() {
            let err =
                std::fs::read_to_string(dir.join(format!("{}.err", self.name))).unwrap_or_default();
            panic!("{} exited ({status}):\n{err}", self.name);
        }
    }
}

/// The `kabaadwala` binary with `args` on the app's database, as the fleet runs it (behind a
/// proxy: TRUST_PROXY=true); output in `{name}.out` / `{name}.err` under the app's folder.
fn spawn_kabaadwala(app: &TestApp, name: &str, args: &[&str], port: Option<u16>) -> Proc {
    let dir = app.dirs.path();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kabaadwala"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.state.config.database_url)
        .env("MAIL_DIR", dir.join("mail"))
        .env("MEDIA_DIR", dir.join("media"))
        .env("JWT_SECRET", "test-secret-that-is-long-enough-0123456789")
        // As .env.production.example runs them.
        .env("APP_ENV", "production")
        .env("PAYMENT_WEBHOOK_SECRET", "test-webhook-secret")
        .env("PAYMENT_PROVIDER", "razorpay")
        .env("RAZORPAY_KEY_ID", "rzp_test_id")
        .env("RAZORPAY_KEY_SECRET", "rzp-test-secret")
        .env("RAZORPAY_WEBHOOK_SECRET", "rzp-test-webhook-secret")
        .env("METRICS_TOKEN", METRICS_TOKEN)
        .env("TRUST_PROXY", "true")
        // Per client IP; the fleet counts in Redis, under this test's own keys.
        .env("RATE_LIMIT_LOGIN_IP", format!("{LOGINS_PER_IP}/300"))
        .env(
            "RATE_LIMIT_KEY_PREFIX",
            format!(
                "kwproxy-{}",
                dir.file_name().unwrap_or_default().to_string_lossy()
            ),
        )
        .env("WORKER_POLL_MS", "100")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join(format!("{name}.out"))).unwrap())
        .stderr(std::fs::File::create(dir.join(format!("{name}.err"))).unwrap());
    if let Some(port) = port {
        command.env("BIND_ADDR", format!("127.0.0.1:{port}"));
    }
    if let Ok(redis) = std::env::var("REDIS_URL") {
        command.env("REDIS_URL", redis);
    }
    Proc {
        name: name.to_owned(),
        child: command.spawn().expect("start the kabaadwala binary"),
    }
}

/// `GET {url}` answers `status` (polled briefly, bounded by [`START`]).
async fn wait_for(url: &str, status: u16, proc: &mut Proc, dir: &Path) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + START;
    loop {
        let answered = client
            .get(url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().as_u16() == status);
        if answered {
            return;
        }
        proc.assert_running(dir);
        assert!(
            Instant::now() < deadline,
            "{url} did not answer {status} within {START:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An API instance on `port`, ready.
async fn instance(app: &TestApp, name: &str, args: &[&str], port: u16) -> Proc {
    let mut proc = spawn_kabaadwala(app, name, args, Some(port));
    wait_for(
        &format!("http://127.0.0.1:{port}/readyz"),
        200,
        &mut proc,
        app.dirs.path(),
    )
    .await;
    proc
}

// ---------------------------------------------------------------------------------------------
// nginx

/// The nginx binary, or a failure that says how to install it.
fn nginx_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "nginx is not installed, and this test runs the proxy of deploy/nginx.conf: \
                 install the Debian package `nginx` (apt-get install -y nginx)"
            )
        })
}

/// The top-level blocks and statements of an http-level nginx file, comments dropped.
fn top_level(conf: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for line in conf.lines() {
        let code = line.split('#').next().unwrap_or("").trim_end();
        if code.trim().is_empty() {
            continue;
        }
        current.push_str(code);
        current.push('\n');
        depth += code.matches('{').count();
        depth -= code.matches('}').count();
        if depth == 0 {
            out.push(std::mem::take(&mut current));
        }
    }
    assert_eq!(depth, 0, "unbalanced braces in deploy/nginx.conf");
    out
}

/// `deploy/nginx.conf` for this test: its `kabaadwala_api` upstream on `balanced`, plus one
/// upstream per `pinned` (name, port), and its server block once per (listen port, upstream).
/// Nothing else changes.
fn render_site(balanced: &[u16], pinned: &[(&str, u16)], listeners: &[(u16, &str)]) -> String {
    let blocks = top_level(TEMPLATE);
    let upstream = blocks
        .iter()
        .find(|b| b.starts_with("upstream kabaadwala_api "))
        .expect("deploy/nginx.conf has `upstream kabaadwala_api`");
    let server = blocks
        .iter()
        .find(|b| b.starts_with("server "))
        .expect("deploy/nginx.conf has a server block");
    let with_servers = |name: &str, ports: &[u16]| {
        let mut out = String::new();
        let mut done = false;
        for line in upstream.lines() {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix("server ") {
                if !done {
                    // The template's parameters (max_fails, fail_timeout) on every test server.
                    let params = rest.split_once(' ').map_or(";", |(_, p)| p);
                    for port in ports {
                        writeln!(out, "    server 127.0.0.1:{port} {params}").unwrap();
                    }
                    done = true;
                }
            } else if line.starts_with("upstream kabaadwala_api ") {
                writeln!(out, "upstream {name} {{").unwrap();
            } else {
                writeln!(out, "{line}").unwrap();
            }
        }
        assert!(done, "the upstream of deploy/nginx.conf has no server line");
        out
    };
    let mut site = String::new();
    for block in &blocks {
        if block == upstream {
            site.push_str(&with_servers("kabaadwala_api", balanced));
            for (name, port) in pinned {
                site.push_str(&with_servers(name, &[*port]));
            }
        } else if block == server {
            for (port, upstream_name) in listeners {
                assert!(server.contains("    listen 80;\n"), "{server}");
                assert!(server.contains("http://kabaadwala_api;"), "{server}");
                site.push_str(
                    &server
                        .replace(
                            "    listen 80;\n",
                            &format!("    listen 127.0.0.1:{port};\n"),
                        )
                        .replace(
                            "http://kabaadwala_api;",
                            &format!("http://{upstream_name};"),
                        ),
                );
            }
        } else {
            site.push_str(block);
        }
    }
    site
}

/// nginx in the foreground, every file of it under its own temp folder; stopped on drop.
struct Nginx {
    // Stopped before its folder goes.
    proc: Proc,
    dir: tempfile::TempDir,
}

impl Drop for Nginx {
    /// SIGTERM to the master, which stops its workers and waits for them (a SIGKILLed master
    /// would leave its workers running, still listening); SIGKILL if it takes too long.
    fn drop(&mut self) {
        let pid = self.proc.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if !matches!(self.proc.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Nginx {
    async fn start(site: &str, first_port: u16) -> Nginx {
        let binary = nginx_binary();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("site.conf"), site).unwrap();
        // Run as root (CI), nginx's workers would run as `nobody` and could not use the temp
        // folders: keep them as the user that owns them.
        let as_root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(root).unwrap()) == 0;
        let temp = |name: &str| root.join(name).display().to_string();
        let main = format!(
            "{user}worker_processes 1;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n\
             \x20   client_body_temp_path {body};\n\
             \x20   proxy_temp_path {proxy};\n\
             \x20   fastcgi_temp_path {fastcgi};\n\
             \x20   uwsgi_temp_path {uwsgi};\n\
             \x20   scgi_temp_path {scgi};\n\
             \x20   log_format kw '$server_port $request_method $uri $status $upstream_addr';\n\
             \x20   access_log {access} kw;\n\
             \x20   include {site};\n\
             }}\n",
            user = if as_root { "user root;\n" } else { "" },
            body = temp("client_body_temp"),
            proxy = temp("proxy_temp"),
            fastcgi = temp("fastcgi_temp"),
            uwsgi = temp("uwsgi_temp"),
            scgi = temp("scgi_temp"),
            access = temp("access.log"),
            site = temp("site.conf"),
        );
        std::fs::write(root.join("nginx.conf"), main).unwrap();
        let globals = format!(
            "daemon off; pid {}; error_log {} info;",
            temp("nginx.pid"),
            temp("error.log")
        );
        let child = Command::new(&binary)
            .arg("-p")
            .arg(root)
            .arg("-e")
            .arg(temp("error.log"))
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .arg("-g")
            .arg(&globals)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(root.join("nginx.out")).unwrap())
            .stderr(std::fs::File::create(root.join("nginx.err")).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let mut proc = Proc {
            name: "nginx".into(),
            child,
        };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", first_port)).await.is_err() {
            if let Some(status) = proc.child.try_wait().unwrap() {
                panic!(
                    "nginx exited ({status}): {}{}\nconfiguration:\n{site}",
                    std::fs::read_to_string(root.join("nginx.err")).unwrap_or_default(),
                    std::fs::read_to_string(root.join("error.log")).unwrap_or_default(),
                );
            }
            assert!(Instant::now() < deadline, "nginx did not listen in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Nginx { proc, dir }
    }

    /// The access log's lines (`port method uri status upstream…`).
    fn access_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Waits (bounded) for an access-log line that starts with `prefix`.
    async fn logged(&self, prefix: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(line) = self
                .access_log()
                .into_iter()
                .find(|l| l.starts_with(prefix))
            {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no access-log line {prefix:?} in {:#?}",
                self.access_log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Clients through the proxy

async fn graphql(port: u16, token: &str, query: &str, variables: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .timeout(WAIT)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "through the proxy on {port}");
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

async fn send_message(port: u16, who: &Session, room: &str, body: &str) -> String {
    graphql(
        port,
        &who.access_token,
        "mutation($r: ID!, $b: String!) { sendMessage(input: { roomId: $r, body: $b }) { id } }",
        json!({ "r": room, "b": body }),
    )
    .await["sendMessage"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What a subscriber sees.
#[derive(Debug)]
enum Frame {
    Next { id: String, payload: Value },
    Closed(Option<u16>),
}

/// A `graphql-transport-ws` client (the support one is tied to in-process servers).
struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    backlog: Vec<Value>,
}

impl Socket {
    /// `ws://127.0.0.1:{port}/graphql`, initialised as `token`'s user.
    async fn connect(port: u16, token: &str) -> Socket {
        let mut request = format!("ws://127.0.0.1:{port}/graphql")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (stream, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("the WebSocket upgrade through the proxy in time")
            .expect("the WebSocket upgrade through the proxy");
        let mut socket = Socket {
            stream,
            backlog: Vec::new(),
        };
        socket
            .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
            .await;
        assert_eq!(socket.text().await.unwrap()["type"], "connection_ack");
        socket
    }

    async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// The next text message; `Err(code)` when the socket closes.
    async fn text(&mut self) -> Result<Value, Option<u16>> {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("no frame in time")
            {
                Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| f.code.into())),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    /// Subscribes and waits until the subscription is live (its `pong` to a later `ping`).
    async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
        self.send(json!({ "type": "ping" })).await;
        loop {
            let message = self.text().await.expect("open while subscribing");
            if message["type"] == "pong" {
                return;
            }
            assert_ne!(message["type"], "error", "{message}");
            self.backlog.push(message);
        }
    }

    /// The next `next` frame (of any subscription), or the close.
    async fn frame(&mut self) -> Frame {
        let message = if self.backlog.is_empty() {
            match self.text().await {
                Ok(message) => message,
                Err(code) => return Frame::Closed(code),
            }
        } else {
            self.backlog.remove(0)
        };
        assert_eq!(message["type"], "next", "{message}");
        assert!(message["payload"]["errors"].is_null(), "{message}");
        Frame::Next {
            id: message["id"].as_str().unwrap().to_owned(),
            payload: message["payload"]["data"].clone(),
        }
    }

    /// The next message of the `messageAdded` subscription `id`, as (id, body).
    async fn message(&mut self, id: &str) -> (String, String) {
        match self.frame().await {
            Frame::Next { id: got, payload } if got == id => message_of(&payload),
            other => panic!("expected a message on {id}, got {other:?}"),
        }
    }

    /// Nothing more arrives within a short while.
    async fn quiet(&mut self) {
        assert!(self.backlog.is_empty(), "{:?}", self.backlog);
        let extra = tokio::time::timeout(Duration::from_millis(500), self.stream.next()).await;
        if let Ok(Some(Ok(Message::Text(text)))) = extra {
            panic!("nothing more expected, got {text}");
        }
    }
}

fn message_of(payload: &Value) -> (String, String) {
    let m = &payload["messageAdded"];
    (
        m["id"].as_str().unwrap().to_owned(),
        m["body"].as_str().unwrap().to_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// The scenario

/// Where the parts of the scenario go: the vendor's first socket, the buyer's requests, the
/// reconnection (all nginx listeners).
struct Routes {
    vendor: u16,
    buyer: u16,
    reconnect: u16,
}

/// The proxy answers what the deployment promises before any instance sees a request:
/// /metrics hidden, bodies over MAX_BODY_BYTES refused, ordinary requests passed on.
async fn proxy_basics(port: u16, instance_port: u16) {
    let client = reqwest::Client::new();
    let metrics = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        metrics.status(),
        404,
        "/metrics is not exposed by the proxy, even with the token"
    );
    let direct = client
        .get(format!("http://127.0.0.1:{instance_port}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        direct.status(),
        200,
        "the instance itself serves /metrics to the scraper"
    );
    let too_big = client
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .header("content-type", "application/json")
        .body(vec![b' '; 10 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(
        too_big.status(),
        413,
        "client_max_body_size = MAX_BODY_BYTES"
    );
    // The client IP the instances see is the one nginx appended to X-Forwarded-For: a client
    // that forges the header still counts as itself (with TRUST_PROXY=true).
    let mut codes = Vec::new();
    for i in 0..=LOGINS_PER_IP {
        let answer: Value = client
            .post(format!("http://127.0.0.1:{port}/graphql"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&json!({
                "query": "mutation($input: LoginInput!) { login(input: $input) { __typename } }",
                "variables": { "input": { "email": format!("nobody-{i}@example.com"), "password": "not-the-password" } },
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        codes.push(answer["errors"][0]["extensions"]["code"].clone());
    }
    assert_eq!(
        codes.last().unwrap(),
        "RATE_LIMITED",
        "one client behind forged X-Forwarded-For headers: {codes:?}"
    );
    assert!(
        codes[..LOGINS_PER_IP].iter().all(|c| c != "RATE_LIMITED"),
        "{codes:?}"
    );
    let ready = client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
}

/// The vendor subscribes through `routes.vendor`; the buyer places an order and sends a message
/// through `routes.buyer`; the vendor's socket receives both. Returns the socket and the id of
/// the message it saw.
async fn order_and_chat(app: &TestApp, c: &ChatOrder, routes: &Routes) -> (Socket, String, String) {
    let product = market::product(app, &c.shop, "Brass scrap", 2_000, 10).await;
    let address = market::address(app, &c.buyer, Some(NEAR)).await;
    let mut vendor = Socket::connect(routes.vendor, &c.shop.owner.access_token).await;
    vendor.subscribe("o", SUBSCRIBE_ORDERS, json!({})).await;
    vendor
        .subscribe("m", SUBSCRIBE_MESSAGES, json!({ "r": c.room_id }))
        .await;

    let order = graphql(
        routes.buyer,
        &c.buyer.access_token,
        "mutation($input: CreateOrderInput!) { createOrder(input: $input) { id number status } }",
        json!({ "input": {
            "items": [{ "productId": product.to_string(), "quantity": 1 }],
            "addressId": address,
            "idempotencyKey": uuid::Uuid::new_v4().to_string(),
        } }),
    )
    .await["createOrder"]
        .clone();
    match vendor.frame().await {
        Frame::Next { id, payload } if id == "o" => {
            assert_eq!(payload["orderUpdated"]["id"], order["id"]);
            assert_eq!(payload["orderUpdated"]["status"], "PLACED");
        }
        other => panic!("expected the order on the vendor's socket, got {other:?}"),
    }
    let sent = send_message(routes.buyer, &c.buyer, &c.room_id, "hello through nginx").await;
    let (id, body) = vendor.message("m").await;
    assert_eq!(
        (id.as_str(), body.as_str()),
        (sent.as_str(), "hello through nginx")
    );
    let number = order["number"].as_str().unwrap().to_owned();
    (vendor, id, number)
}

/// Reads the vendor's socket until it closes; returns the messages seen and the close code.
async fn until_closed(vendor: &mut Socket) -> (Vec<(String, String)>, Option<u16>) {
    let mut seen = Vec::new();
    loop {
        match vendor.frame().await {
            Frame::Next { id, payload } if id == "m" => seen.push(message_of(&payload)),
            Frame::Next { id, payload } => panic!("unexpected event on {id}: {payload}"),
            Frame::Closed(code) => return (seen, code),
        }
    }
}

/// Waits (bounded) until no job due so far is PENDING or RUNNING, then checks that every job
/// ran exactly once and succeeded, and that the order's email went out once.
async fn every_job_ran_once(app: &TestApp, buyer: &Session, order_number: &str) {
    let deadline = Instant::now() + WAIT;
    let all = loop {
        let now = chrono::Utc::now();
        let all = jobs::Entity::find().all(&app.state.db).await.unwrap();
        let busy = all.iter().any(|j| {
            matches!(j.status, JobStatus::Pending | JobStatus::Running) && j.run_at <= now
        });
        if !busy {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "jobs still waiting after {WAIT:?}: {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Every job that was tried ran exactly once and succeeded (a failed try waiting for its
    // retry is PENDING with attempts > 0, and fails this too).
    let tried: Vec<_> = all
        .iter()
        .filter(|j| j.status != JobStatus::Pending || j.attempts > 0)
        .collect();
    for job in &tried {
        assert_eq!(job.status, JobStatus::Succeeded, "{job:#?}");
        assert_eq!(job.attempts, 1, "a job ran more than once: {job:#?}");
    }
    // One order email each for the two orders (the chat's, and the one placed through nginx).
    let order_emails = tried
        .iter()
        .filter(|j| j.kind == "send_order_email")
        .count();
    assert_eq!(order_emails, 2, "{all:#?}");
    eprintln!(
        "proxy: {} jobs, each SUCCEEDED on its first attempt",
        tried.len()
    );
    let to_buyer = app
        .sent_mail()
        .into_iter()
        .filter(|m| m.contains(&format!("To: {}", buyer.email)) && m.contains(order_number))
        .count();
    assert_eq!(to_buyer, 1, "the order-placed email, exactly once");
}

fn bodies(messages: &[(String, String)]) -> Vec<String> {
    messages.iter().map(|(_, body)| body.clone()).collect()
}

#[tokio::test]
async fn behind_nginx_a_rolling_restart_loses_no_message_and_runs_every_job_once() {
    let _redis = REDIS_SESSIONS.read().await;
    // Before anything else: without nginx this fails here, naming the package.
    nginx_binary();
    let app = TestApp::new().await;
    let fleet = std::env::var("REDIS_URL").is_ok_and(|u| !u.is_empty())
        && app.state.config.database_url.starts_with("postgres");
    if fleet {
        fleet_scenario(&app).await;
    } else {
        eprintln!(
            "proxy: one-instance variant (instances share events only through Redis on \
             PostgreSQL; run with DATABASE_URL=postgres://… REDIS_URL=redis://… for the fleet)"
        );
        single_instance_scenario(&app).await;
    }
}

/// Two API instances, one worker, nginx; SIGTERM on the vendor's instance mid-stream.
async fn fleet_scenario(app: &TestApp) {
    let c = chat_order(app).await;
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = instance(app, "api-a", &["serve", "--no-worker"], port_a).await;
    let _b = instance(app, "api-b", &["serve", "--no-worker"], port_b).await;
    let _worker = spawn_kabaadwala(app, "worker", &["worker"], None);
    let (balanced, pin_a, pin_b) = (free_port(), free_port(), free_port());
    let site = render_site(
        &[port_a, port_b],
        &[("kw_pinned_a", port_a), ("kw_pinned_b", port_b)],
        &[
            (balanced, "kabaadwala_api"),
            (pin_a, "kw_pinned_a"),
            (pin_b, "kw_pinned_b"),
        ],
    );
    let nginx = Nginx::start(&site, balanced).await;
    proxy_basics(balanced, port_a).await;
    let routes = Routes {
        vendor: pin_a,
        buyer: pin_b,
        reconnect: balanced,
    };

    // The vendor on A, the buyer on B: events cross instances through Redis.
    let (mut vendor, first, order_number) = order_and_chat(app, &c, &routes).await;
    let mut seen = vec![(first, "hello through nginx".to_owned())];

    // Messages keep coming (through B) while A shuts down and the vendor reconnects.
    let sender = {
        let buyer = c.buyer.clone();
        let room = c.room_id.clone();
        let port = routes.buyer;
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..STREAM {
                ids.push(send_message(port, &buyer, &room, &format!("n{i}")).await);
            }
            ids
        })
    };
    // Some of the stream arrives live on A, then A gets SIGTERM.
    for _ in 0..3 {
        seen.push(vendor.message("m").await);
    }
    let still_sending = !sender.is_finished();
    let stopped = tokio::spawn(async move {
        let clean = a.terminate().await;
        (a, clean)
    });
    let (more, code) = until_closed(&mut vendor).await;
    seen.extend(more);
    let live_on_a = seen.len() - 1;
    assert_eq!(
        code,
        Some(1001),
        "the vendor's socket closes with Going Away"
    );
    let (_a, clean) = stopped.await.unwrap();
    assert!(clean, "instance A exits 0 on SIGTERM");

    // Reconnect through the balanced listener (A refuses, nginx passes to B), resume after the
    // last message seen.
    let last = seen.last().unwrap().0.clone();
    let mut resumed = Socket::connect(routes.reconnect, &c.shop.owner.access_token).await;
    resumed
        .subscribe(
            "m",
            SUBSCRIBE_MESSAGES,
            json!({ "r": c.room_id, "after": last }),
        )
        .await;
    let sent_ids = tokio::time::timeout(WAIT, sender)
        .await
        .expect("the sender finishes in time")
        .unwrap();
    while seen.len() < STREAM + 1 {
        seen.push(resumed.message("m").await);
    }
    resumed.quiet().await;
    eprintln!(
        "proxy: fleet of two instances and a worker; {live_on_a} of {STREAM} streamed messages \
         live on A before its SIGTERM (sender still sending then: {still_sending}), the rest \
         after resuming on B"
    );

    let expected: Vec<String> = std::iter::once("hello through nginx".to_owned())
        .chain((0..STREAM).map(|i| format!("n{i}")))
        .collect();
    assert_eq!(bodies(&seen), expected, "every message once, in order");
    let ids: Vec<String> = seen[1..].iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, sent_ids);

    // The resumed socket went through the balanced listener to B.
    drop(resumed);
    let line = nginx.logged(&format!("{balanced} GET /graphql 101 ")).await;
    assert!(
        line.ends_with(&format!("127.0.0.1:{port_b}")),
        "the reconnection reached B: {line}"
    );
    let first_socket = nginx.logged(&format!("{pin_a} GET /graphql 101 ")).await;
    assert!(
        first_socket.ends_with(&format!("127.0.0.1:{port_a}")),
        "{first_socket}"
    );

    every_job_ran_once(app, &c.buyer, &order_number).await;
}

/// One `serve` (API and worker) behind nginx, restarted in place: the socket closes with 1001,
/// messages sent while it is down are replayed after the restart with `after`, then live ones.
async fn single_instance_scenario(app: &TestApp) {
    let c = chat_order(app).await;
    let port = free_port();
    let mut a = instance(app, "api", &["serve"], port).await;
    let proxy = free_port();
    let site = render_site(&[port], &[], &[(proxy, "kabaadwala_api")]);
    let _nginx = Nginx::start(&site, proxy).await;
    proxy_basics(proxy, port).await;
    let routes = Routes {
        vendor: proxy,
        buyer: proxy,
        reconnect: proxy,
    };

    let (mut vendor, first, order_number) = order_and_chat(app, &c, &routes).await;
    let mut seen = vec![(first, "hello through nginx".to_owned())];
    for i in 0..5 {
        send_message(routes.buyer, &c.buyer, &c.room_id, &format!("n{i}")).await;
        seen.push(vendor.message("m").await);
    }

    // The restart: SIGTERM closes the socket with 1001, the process exits 0.
    let stopped = tokio::spawn(async move {
        let clean = a.terminate().await;
        (a, clean)
    });
    let (more, code) = until_closed(&mut vendor).await;
    assert!(more.is_empty(), "{more:?}");
    assert_eq!(
        code,
        Some(1001),
        "the vendor's socket closes with Going Away"
    );
    let (old, clean) = stopped.await.unwrap();
    assert!(clean, "the instance exits 0 on SIGTERM");
    drop(old);
    // Written while no instance runs (straight to the database).
    for i in 5..10 {
        crate::chat::send(app, &c.buyer, &c.room_id, &format!("n{i}"))
            .await
            .data("sendMessage");
    }
    let _a = instance(app, "api-restarted", &["serve"], port).await;

    let last = seen.last().unwrap().0.clone();
    let mut resumed = Socket::connect(routes.reconnect, &c.shop.owner.access_token).await;
    resumed
        .subscribe(
            "m",
            SUBSCRIBE_MESSAGES,
            json!({ "r": c.room_id, "after": last }),
        )
        .await;
    for i in 10..STREAM {
        send_message(routes.buyer, &c.buyer, &c.room_id, &format!("n{i}")).await;
    }
    while seen.len() < STREAM + 1 {
        seen.push(resumed.message("m").await);
    }
    resumed.quiet().await;

    let expected: Vec<String> = std::iter::once("hello through nginx".to_owned())
        .chain((0..STREAM).map(|i| format!("n{i}")))
        .collect();
    assert_eq!(bodies(&seen), expected, "every message once, in order");
    every_job_ran_once(app, &c.buyer, &order_number).await;
}
