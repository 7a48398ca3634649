//! The `realtime` scenario: a Rust load client speaking `graphql-transport-ws` against a real
//! server process (this binary's sibling `kabaadwala`, spawned on a scratch SQLite database with
//! the in-process pub/sub, or Redis when `REDIS_URL` is set).
//!
//! 1. 1,000 subscribers (`messageAdded` on one room; 1,000 distinct users: the buyer, the vendor
//!    and 998 staff accounts, so the per-user connection limit is on as in production) while
//!    messages are sent at 20/s and then 100/s over a WebSocket. Every body carries a sequence
//!    number: each subscriber must see each number exactly once. Latency is from just before
//!    the `sendMessage` mutation is sent (so it includes the insert and the commit) to the
//!    moment the LAST subscriber received it; p50 and p99 over the messages.
//! 2. The same on a second room whose subscribers also read a per-viewer field
//!    (`room { unreadCount }`): the group resolves each message once per viewer, 1,000 times.
//! 3. Memory per idle subscription: the server's VmRSS with 5,000 open subscriptions (5,000
//!    connections, one subscription each, five per user) minus its VmRSS before they were
//!    opened, / 5,000.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use entity::users;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::{net::TcpStream, sync::Mutex};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest as _, http::HeaderValue},
};
use uuid::Uuid;

use crate::{
    record,
    server::{Server, rss_kib},
};

mod fixtures;
use fixtures::{prepare, staff};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
/// Per subscriber: the sequence numbers it received, and when.
type Received = Arc<Mutex<Vec<Vec<(u64, Instant)>>>>;

const SUBSCRIBERS: usize = 1_000;
const IDLE_SUBSCRIPTIONS: usize = 5_000;
const SECONDS_PER_RATE: u64 = 10;
/// Sockets the messages are sent over, in turn, without waiting for answers.
const SENDERS: usize = 4;
const JWT_SECRET: &str = "bench-secret-that-is-long-enough-0123456789";
const MESSAGE_ADDED: &str = "subscription($r: ID!) { messageAdded(roomId: $r) { body } }";
/// The same with a field that differs per viewer.
const MESSAGE_ADDED_PER_VIEWER: &str =
    "subscription($r: ID!) { messageAdded(roomId: $r) { body room { unreadCount } } }";

/// One room of the run and the tokens of its 1,000 subscribers (its buyer first, who sends).
struct Room {
    id: Uuid,
    tokens: Vec<String>,
}

pub async fn run() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("kw-bench-rt-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let result = run_in(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(dir: &std::path::Path) -> anyhow::Result<()> {
    let database_url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let vars: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database_url.clone()),
        ("JWT_SECRET".into(), JWT_SECRET.into()),
        ("ACCESS_TOKEN_TTL_SECS".into(), "86400".into()),
        ("MAIL_DIR".into(), dir.join("mail").display().to_string()),
        ("MEDIA_DIR".into(), dir.join("media").display().to_string()),
    ];
    let lookup = |key: &str| vars.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let config = kabaadwala::config::Config::from_lookup(lookup)?;
    let db = kabaadwala::db::connect(&config).await?;
    kabaadwala::db::migrate(&db).await?;
    let staff = staff(&db, SUBSCRIBERS - 2).await?;
    let jwt = kabaadwala::auth::jwt::JwtKeys::new(&config);
    let mut staff_tokens = Vec::with_capacity(staff.len());
    for id in staff {
        staff_tokens.push(jwt.issue(id, users::Role::Admin)?);
    }
    // One user per subscriber (the room's two parties, then staff, who may read any room), so
    // the default WS_MAX_CONNECTIONS_PER_USER (20) holds: the limits are on, as in production.
    let mut rooms = Vec::with_capacity(2);
    for n in 1..=2 {
        let (buyer, vendor_user, id) = prepare(&db, n).await?;
        let mut tokens = vec![
            jwt.issue(buyer, users::Role::Customer)?,
            jwt.issue(vendor_user, users::Role::Customer)?,
        ];
        tokens.extend(staff_tokens.iter().cloned());
        rooms.push(Room { id, tokens });
    }
    db.close().await.ok();

    let mut vars = vars;
    if let Ok(redis) = std::env::var("REDIS_URL") {
        vars.push(("REDIS_URL".into(), redis));
    }
    let mut server = Server::spawn(dir, &vars, false)?;
    server.ready().await?;
    let pid = server.pid();
    println!(
        "server pid {pid} on {}, pub/sub: {}",
        server.addr,
        if std::env::var("REDIS_URL").is_ok() {
            "redis"
        } else {
            "in-process"
        }
    );
    scenarios(&server.addr, &rooms, pid).await
}

async fn scenarios(addr: &str, rooms: &[Room], pid: u32) -> anyhow::Result<()> {
    let mut seq = 0_u64;
    latency(addr, &rooms[0], MESSAGE_ADDED, "one room", pid, &mut seq).await?;
    latency(
        addr,
        &rooms[1],
        MESSAGE_ADDED_PER_VIEWER,
        "one room, reading the per-viewer `room { unreadCount }`",
        pid,
        &mut seq,
    )
    .await?;
    memory(addr, &rooms[0], pid).await
}

/// Latency and completeness with 1,000 subscribers of `document` on `room`, at 20 and then
/// 100 messages a second.
async fn latency(
    addr: &str,
    room: &Room,
    document: &str,
    label: &str,
    pid: u32,
    seq: &mut u64,
) -> anyhow::Result<()> {
    let tokens = &room.tokens;
    let mut subscribers = Vec::with_capacity(SUBSCRIBERS);
    for i in 0..SUBSCRIBERS {
        subscribers.push(subscribe(addr, &tokens[i % tokens.len()], room.id, document).await?);
    }
    println!("{SUBSCRIBERS} subscribers on {label}");
    let mut senders = Vec::with_capacity(SENDERS);
    for _ in 0..SENDERS {
        senders.push(connect(addr, &tokens[0]).await?);
    }
    let room = room.id;
    for rate in [20_u64, 100] {
        let count = rate * SECONDS_PER_RATE;
        let first = *seq;
        let received: Received = Arc::new(Mutex::new(Vec::with_capacity(SUBSCRIBERS)));
        // One deadline per reader for the whole rate, not a timer per frame: at 100 msg/s the
        // readers take 100,000 frames a second on the server's two cores.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(SECONDS_PER_RATE + 10);
        let readers: Vec<_> = subscribers
            .drain(..)
            .map(|mut socket| {
                let received = received.clone();
                tokio::spawn(async move {
                    let mut got = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
                    let give_up = tokio::time::sleep_until(deadline);
                    tokio::pin!(give_up);
                    while (got.len() as u64) < count {
                        let next = tokio::select! {
                            next = socket.next() => next,
                            () = &mut give_up => break,
                        };
                        let Some(Ok(Message::Text(text))) = next else {
                            break;
                        };
                        if let Some(n) = sequence(&text) {
                            got.push((n, Instant::now()));
                        }
                    }
                    received.lock().await.push(got);
                    socket
                })
            })
            .collect();
        // Sends on a fixed schedule, never waiting for an answer: several sockets, each with a
        // task that reads its answers (and fails the run on an error), so the offered rate is
        // the rate, whatever the mutation's own latency.
        let senders_n = SENDERS as u64;
        let mut sinks = Vec::with_capacity(SENDERS);
        let mut answer_readers = Vec::with_capacity(SENDERS);
        for (i, socket) in senders.drain(..).enumerate() {
            let (sink, mut stream) = socket.split();
            // Messages go round-robin: this socket carries every SENDERS-th one.
            let expected = (count + senders_n - 1 - i as u64) / senders_n;
            sinks.push(sink);
            answer_readers.push(tokio::spawn(async move {
                let mut completed = 0_u64;
                while completed < expected {
                    let frame = tokio::time::timeout(Duration::from_secs(20), stream.next())
                        .await
                        .context("no answer to sendMessage within 20 s")?;
                    let Some(Ok(Message::Text(text))) = frame else {
                        continue;
                    };
                    let answer: Value = serde_json::from_str(&text)?;
                    anyhow::ensure!(
                        !answer["payload"]["errors"].is_array(),
                        "sendMessage failed: {answer}"
                    );
                    if answer["type"] == "complete" {
                        completed += 1;
                    }
                }
                anyhow::Ok(stream)
            }));
        }
        let mut sent_at = HashMap::new();
        let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
        let started = Instant::now();
        for k in 0..count {
            ticker.tick().await;
            *seq += 1;
            sent_at.insert(*seq, Instant::now());
            let sink = &mut sinks[usize::try_from(k % senders_n).unwrap_or(0)];
            sink.send(Message::Text(send_message_frame(room, *seq).into()))
                .await?;
        }
        for (sink, reader) in sinks.into_iter().zip(answer_readers) {
            let stream = reader.await??;
            senders.push(sink.reunite(stream)?);
        }
        let sending = started.elapsed();
        let under_load = rss_kib(pid)?;
        for reader in readers {
            subscribers.push(reader.await?);
        }
        let received = received.lock().await;
        let mut last_delivery: HashMap<u64, Instant> = HashMap::new();
        let (mut lost, mut duplicated) = (0_u64, 0_u64);
        for got in received.iter() {
            let mut seen = vec![0_u32; usize::try_from(count).unwrap_or(0)];
            for (n, at) in got {
                let Some(slot) = n
                    .checked_sub(first + 1)
                    .and_then(|i| seen.get_mut(usize::try_from(i).ok()?))
                else {
                    continue;
                };
                *slot += 1;
                let last = last_delivery.entry(*n).or_insert(*at);
                if *at > *last {
                    *last = *at;
                }
            }
            lost += seen.iter().filter(|c| **c == 0).count() as u64;
            duplicated += seen.iter().filter(|c| **c > 1).count() as u64;
        }
        let mut latencies: Vec<Duration> = last_delivery
            .iter()
            .filter_map(|(n, at)| sent_at.get(n).map(|s| at.saturating_duration_since(*s)))
            .collect();
        latencies.sort();
        let p50 = record::ms(record::percentile(&latencies, 0.50));
        let p99 = record::ms(record::percentile(&latencies, 0.99));
        let target_ms = if rate <= 20 { 25.0 } else { 100.0 };
        record::row(
            format!("{SUBSCRIBERS} subscribers on {label}, {rate} msg/s for {SECONDS_PER_RATE} s"),
            format!(
                "lost {lost}, duplicated {duplicated}; publish-to-last-delivery p50 {p50:.1} ms, p99 {p99:.1} ms; server VmRSS {} MiB",
                under_load / 1024
            ),
            "",
            format!("p99 < {target_ms:.0} ms, nothing lost"),
            Some(p99 < target_ms && lost == 0 && duplicated == 0),
        );
        println!(
            "{rate} msg/s: {count} messages in {:.1} s to {} subscribers; lost {lost}, duplicated {duplicated}; publish-to-last-delivery p50 {p50:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
            sending.as_secs_f64(),
            received.len(),
            record::ms(latencies.last().copied().unwrap_or_default()),
        );
    }
    drop(subscribers);
    drop(senders);
    // Let the server drop the closed sockets (and their groups) before what comes next.
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(())
}

/// Memory per idle subscription: VmRSS with 5,000 open subscriptions on one room, less before.
async fn memory(addr: &str, room: &Room, pid: u32) -> anyhow::Result<()> {
    let tokens = &room.tokens;
    let idle = rss_kib(pid)?;
    let mut idle_sockets = Vec::with_capacity(IDLE_SUBSCRIPTIONS);
    for chunk in 0..IDLE_SUBSCRIPTIONS / 100 {
        let opened = futures_util::future::try_join_all((0..100).map(|i| {
            let token = &tokens[(chunk * 100 + i) % tokens.len()];
            subscribe(addr, token, room.id, MESSAGE_ADDED)
        }))
        .await?;
        idle_sockets.extend(opened);
    }
    let loaded = rss_kib(pid)?;
    let per = (loaded.saturating_sub(idle)) as f64 * 1024.0 / IDLE_SUBSCRIPTIONS as f64;
    println!(
        "memory: idle VmRSS {idle} KiB, with {IDLE_SUBSCRIPTIONS} open subscriptions {loaded} KiB: {:.1} KiB per idle subscription (connection included)",
        per / 1024.0
    );
    record::row(
        format!("memory per idle subscription ({IDLE_SUBSCRIPTIONS} open)"),
        format!(
            "{:.1} KiB, connection included ({idle} → {loaded} KiB VmRSS)",
            per / 1024.0
        ),
        "",
        "< 32 KiB",
        Some(per / 1024.0 < 32.0),
    );
    drop(idle_sockets);
    Ok(())
}

/// `seq:<n>` out of a `next` frame, without parsing the JSON or allocating (the client must
/// keep up).
fn sequence(frame: &str) -> Option<u64> {
    let start = frame.find("seq:")? + 4;
    let digits = frame.as_bytes()[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit());
    let mut n: Option<u64> = None;
    for digit in digits {
        n = Some(
            n.unwrap_or(0)
                .checked_mul(10)?
                .checked_add(u64::from(digit - b'0'))?,
        );
    }
    n
}

async fn connect(addr: &str, token: &str) -> anyhow::Result<Socket> {
    let mut request = format!("ws://{addr}/graphql").into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await?;
    let ack = recv(&mut socket).await?;
    anyhow::ensure!(
        ack["type"] == "connection_ack",
        "expected connection_ack, got {ack}"
    );
    Ok(socket)
}

/// A connection with one live subscription of `document` (confirmed by a ping/pong round
/// trip: the server handles a socket's messages in order).
async fn subscribe(addr: &str, token: &str, room: Uuid, document: &str) -> anyhow::Result<Socket> {
    let mut socket = connect(addr, token).await?;
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": document, "variables": { "r": room } } })).await?;
    send(&mut socket, json!({ "type": "ping" })).await?;
    let pong = recv(&mut socket).await?;
    anyhow::ensure!(pong["type"] == "pong", "subscription refused: {pong}");
    Ok(socket)
}

/// A `sendMessage` mutation carrying `seq`, as a graphql-transport-ws frame.
fn send_message_frame(room: Uuid, seq: u64) -> String {
    json!({ "id": format!("s{seq}"), "type": "subscribe", "payload": {
        "query": "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }",
        "variables": { "i": { "roomId": room, "body": format!("seq:{seq}") } } } })
    .to_string()
}

async fn send(socket: &mut Socket, message: Value) -> anyhow::Result<()> {
    socket
        .send(Message::Text(message.to_string().into()))
        .await?;
    Ok(())
}

async fn recv(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .context("no answer from the server within 10 s")?;
        match frame {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text)?),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => anyhow::bail!("unexpected frame {other:?}"),
        }
    }
}
