//! The `realtime` scenario: a Rust load client speaking `graphql-transport-ws` against a real
//! server process (this binary's sibling `kabaadwala`, spawned on a scratch SQLite database with
//! the in-process pub/sub, or Redis when `REDIS_URL` is set).
//!
//! 1. 1,000 subscribers (`messageAdded` on one room; 1,000 distinct users: the buyer, the vendor
//!    and 998 staff accounts, so the per-user connection limit is on as in production) while messages are sent at 20/s and then 100/s over a WebSocket. Every body
//!    carries a sequence number: each subscriber must see each number exactly once. Latency is
//!    from just before the `sendMessage` mutation is sent (so it includes the insert and the
//!    commit) to the moment the LAST subscriber received it; p50 and p99 over the messages.
//! 2. Memory per idle subscription: the server's VmRSS with 5,000 open subscriptions (5,000
//!    connections, one subscription each, five per user) minus its VmRSS before they were
//!    opened, / 5,000.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use chrono::Utc;
use entity::{
    ledger_accounts::AccountKind,
    ledger_transfers::TransferKind,
    orders, users,
    vendors::{self, KycStatus},
};
use futures_util::{SinkExt as _, StreamExt as _};
use kabaadwala::wallet::{escrow, ledger};
use sea_orm::{ActiveValue::Set, EntityTrait as _, TransactionTrait as _};
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
    let (buyer, vendor_user, room) = prepare(&db).await?;
    let staff = staff(&db, SUBSCRIBERS - 2).await?;
    let jwt = kabaadwala::auth::jwt::JwtKeys::new(&config);
    // One user per subscriber (the room's two parties, then staff, who may read any room), so
    // the default WS_MAX_CONNECTIONS_PER_USER (20) holds: the limits are on, as in production.
    let mut tokens = vec![
        jwt.issue(buyer, users::Role::Customer)?,
        jwt.issue(vendor_user, users::Role::Customer)?,
    ];
    for id in staff {
        tokens.push(jwt.issue(id, users::Role::Admin)?);
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
    scenarios(&server.addr, &tokens, room, pid).await
}

async fn scenarios(addr: &str, tokens: &[String], room: Uuid, pid: u32) -> anyhow::Result<()> {
    // Latency and completeness with 1,000 subscribers.
    let mut subscribers = Vec::with_capacity(SUBSCRIBERS);
    for i in 0..SUBSCRIBERS {
        subscribers.push(subscribe(addr, &tokens[i % tokens.len()], room).await?);
    }
    println!("{SUBSCRIBERS} subscribers on one room");
    let mut senders = Vec::with_capacity(SENDERS);
    for _ in 0..SENDERS {
        senders.push(connect(addr, &tokens[0]).await?);
    }
    let mut seq = 0_u64;
    for rate in [20_u64, 100] {
        let count = rate * SECONDS_PER_RATE;
        let first = seq;
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
            seq += 1;
            sent_at.insert(seq, Instant::now());
            let sink = &mut sinks[usize::try_from(k % senders_n).unwrap_or(0)];
            sink.send(Message::Text(send_message_frame(room, seq).into()))
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
            format!("{SUBSCRIBERS} subscribers on one room, {rate} msg/s for {SECONDS_PER_RATE} s"),
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

    // Memory per idle subscription.
    tokio::time::sleep(Duration::from_secs(2)).await; // let the server drop the closed sockets
    let idle = rss_kib(pid)?;
    let mut idle_sockets = Vec::with_capacity(IDLE_SUBSCRIPTIONS);
    for chunk in 0..IDLE_SUBSCRIPTIONS / 100 {
        let opened = futures_util::future::try_join_all(
            (0..100).map(|i| subscribe(addr, &tokens[(chunk * 100 + i) % tokens.len()], room)),
        )
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

/// A connection with one live `messageAdded` subscription (confirmed by a ping/pong round
/// trip: the server handles a socket's messages in order).
async fn subscribe(addr: &str, token: &str, room: Uuid) -> anyhow::Result<Socket> {
    let mut socket = connect(addr, token).await?;
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": MESSAGE_ADDED, "variables": { "r": room } } })).await?;
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

/// A buyer, an approved vendor, an order between them (with its money really held) and the
/// order's chat room. Returns (buyer, vendor's user, room).
/// `count` staff accounts (admins), inserted at once; their ids.
async fn staff(db: &sea_orm::DatabaseConnection, count: usize) -> anyhow::Result<Vec<Uuid>> {
    let now = Utc::now();
    let rows: Vec<_> = (0..count)
        .map(|i| {
            let id = Uuid::new_v4();
            let mut row = kabaadwala::accounts::admin::verified_user_row(
                id,
                format!("staff-{i}-{id}@example.com"),
                format!("Staff {i}"),
                users::Role::Admin,
                "-".into(),
                now,
            );
            row.last_seen_at = Set(Some(now + chrono::Duration::days(1)));
            row
        })
        .collect();
    let ids = rows.iter().filter_map(|r| r.id.clone().take()).collect();
    for chunk in rows.chunks(200) {
        users::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(ids)
}

async fn prepare(db: &sea_orm::DatabaseConnection) -> anyhow::Result<(Uuid, Uuid, Uuid)> {
    let now = Utc::now();
    let user = |name: &str| {
        let id = Uuid::new_v4();
        let mut row = kabaadwala::accounts::admin::verified_user_row(
            id,
            format!("{name}-{id}@example.com"),
            name.into(),
            users::Role::Customer,
            "-".into(),
            now,
        );
        // Online: no notification emails are queued during the run.
        row.last_seen_at = Set(Some(now + chrono::Duration::days(1)));
        row
    };
    let buyer = user("buyer");
    let owner = user("vendor");
    let (buyer_id, owner_id) = (buyer.id.clone().unwrap(), owner.id.clone().unwrap());
    users::Entity::insert_many([buyer, owner])
        .exec_without_returning(db)
        .await?;
    let vendor_id = Uuid::new_v4();
    vendors::Entity::insert(vendors::ActiveModel {
        id: Set(vendor_id),
        user_id: Set(owner_id),
        business_name: Set("Bench Kabaad Store".into()),
        description: Set(None),
        phone: Set("+919820000000".into()),
        address_label: Set("Shop".into()),
        address_line1: Set("1 Market Road".into()),
        address_line2: Set(None),
        city: Set("Mumbai".into()),
        state: Set("Maharashtra".into()),
        pincode: Set("400014".into()),
        latitude: Set(19.0178),
        longitude: Set(72.8478),
        service_radius_km: Set(10.0),
        kyc_status: Set(KycStatus::Approved),
        kyc_reason: Set(None),
        commission_bps: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    let txn = db.begin().await?;
    let app_error = |e: kabaadwala::AppError| anyhow::anyhow!("{e}");
    let clearing = ledger::account(&txn, AccountKind::ProviderClearing, ledger::PLATFORM)
        .await
        .map_err(app_error)?;
    let wallet = ledger::account(&txn, AccountKind::UserAvailable, buyer_id)
        .await
        .map_err(app_error)?;
    ledger::transfer(
        &txn,
        ledger::Transfer {
            debit: clearing,
            credit: wallet,
            amount: 100_000,
            kind: TransferKind::Recharge,
            reference: "bench".into(),
            idempotency_key: None,
            hold_id: None,
        },
    )
    .await
    .map_err(app_error)?;
    let hold = escrow::hold(&txn, buyer_id, 10_000, "bench order")
        .await
        .map_err(app_error)?;
    let order_id = Uuid::new_v4();
    orders::Entity::insert(orders::ActiveModel::from(orders::Model {
        id: order_id,
        number: "KW-BENCH-000001".into(),
        buyer_id,
        vendor_id,
        status: orders::OrderStatus::Placed,
        subtotal: 10_000,
        commission: 500,
        commission_bps: 500,
        total: 10_000,
        hold_id: hold.id,
        address_id: None,
        address_label: "Home".into(),
        address_line1: "2 Station Road".into(),
        address_line2: None,
        address_city: "Mumbai".into(),
        address_state: "Maharashtra".into(),
        address_pincode: "400014".into(),
        address_latitude: 19.044,
        address_longitude: 72.861,
        note: None,
        idempotency_key: "bench".into(),
        request_hash: "bench".into(),
        created_at: now,
        updated_at: now,
        delivered_at: None,
        completed_at: None,
    }))
    .exec_without_returning(&txn)
    .await?;
    let viewer = kabaadwala::auth::Viewer {
        user_id: buyer_id,
        role: users::Role::Customer,
    };
    let room = kabaadwala::chat::service::open_room(&txn, &viewer, order_id)
        .await
        .map_err(app_error)?;
    txn.commit().await?;
    Ok((buyer_id, owner_id, room.id))
}
