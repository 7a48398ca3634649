//! GraphQL over WebSocket on `GET /graphql` (upgrade): the `graphql-transport-ws` protocol (the
//! `graphql-ws` library; the default when the client names no subprotocol) and the legacy
//! `graphql-ws` subprotocol (subscriptions-transport-ws).
//!
//! Our own handler, because the protocol's close codes are part of the contract:
//! - `connection_init` within `WS_INIT_TIMEOUT_MS`, or 4408; a second one is 4429;
//! - its payload carries the token, `{"Authorization": "Bearer <t>"}` or `{"authToken": "<t>"}`;
//!   a bad or expired token is 4403, no token is an anonymous connection;
//! - `subscribe` (legacy: `start`) before `connection_ack` is 4401; an id already in use is
//!   4409; an unknown message type or a malformed message is 4400;
//! - `ping` is answered with `pong`; `complete` (legacy: `stop`) ends one subscription;
//! - a client's close frame is answered with the server's own (the closing handshake);
//! - when the token expires, delivery stops: the socket is closed with 4403 at that instant;
//! - when the server shuts down (SIGTERM), every socket is closed with `1001 Going Away`.
//!
//! Limits ([`capacity`] and the connection loop), so that one client cannot take the server's
//! memory: a message over `WS_MAX_MESSAGE_BYTES` closes with 1009 (the frame is refused from its
//! header, before it is buffered); past `WS_MAX_SUBSCRIPTIONS` open subscriptions a `subscribe`
//! gets an `error` with RATE_LIMITED and the socket stays open; past `WS_MAX_CONNECTIONS` an
//! upgrade is refused with HTTP 429, past `WS_MAX_CONNECTIONS_PER_USER` a `connection_init` is
//! closed with 4429. The document limits are applied to the text before it is parsed, and the
//! client's IP (from the upgrade request, `TRUST_PROXY` respected) goes with every operation, so
//! per-IP rate limits apply over the socket as over HTTP.
//!
//! Queries and mutations sent over the socket run through the same executor as HTTP ones
//! (`graphql::executor`), so both transports apply the same checks by construction. They run
//! concurrently ([`operations`]): a slow one holds back neither the others nor the socket's
//! subscriptions; they count with the subscriptions against `WS_MAX_SUBSCRIPTIONS`.
//! Subscriptions authorize when they are subscribed and then join a fan-out group
//! (`realtime::fanout`): each event is resolved and serialized once per group and this
//! handler only splices the shared bytes after the subscription's prebuilt frame prefix
//! (`{"type":"next","id":…,"payload":`). A subscription resumed with `after` first sends the
//! stored events it missed, then live ones, skipping live events already replayed.

mod capacity;
mod closing;
mod connection;
mod operations;
mod upgrade;

use std::sync::Arc;

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::Response as HttpResponse,
};
use futures_util::future::Either;
use tokio_util::sync::CancellationToken;

pub use crate::realtime::fanout::OPEN_SUBSCRIPTIONS;
pub use capacity::Capacity;

use super::{
    HttpState, Shutdown,
    graphql::{PeerAddr, client_ip},
    negotiate::{MediaType, refuse},
};
use crate::AppError;
use connection::{Connection, Protocol};

/// `GET /graphql`: a WebSocket upgrade, or a query over HTTP.
pub async fn get_or_upgrade(
    State(http): State<HttpState>,
    request: axum::extract::Request,
) -> HttpResponse {
    let (mut parts, _body) = request.into_parts();
    let peer = PeerAddr(
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0),
    );
    let is_upgrade = parts
        .headers
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if !is_upgrade {
        return super::graphql::get(http, peer, parts.headers, parts.uri.query()).await;
    }
    let upgrade = match upgrade::check(&mut parts) {
        Ok(upgrade) => upgrade,
        Err(refused) => return *refused,
    };
    let Some(slot) = http.sockets.open(http.app.config.ws_max_connections) else {
        tracing::warn!("WebSocket refused: WS_MAX_CONNECTIONS reached");
        let mut refused = refuse(
            MediaType::from_headers(&parts.headers),
            StatusCode::TOO_MANY_REQUESTS,
            AppError::RateLimited {
                message: "this server has as many WebSocket connections as it takes; retry shortly"
                    .into(),
                retry_after_secs: 5,
            },
        );
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        return refused;
    };
    // Served by `http::serve`: the shutdown signal; a bare router (tests): never.
    let shutdown = parts.extensions.get::<Shutdown>().cloned();
    let ip = client_ip(http.app.config.trust_proxy, &parts.headers, peer.0);
    let protocol = match upgrade.protocol {
        Some("graphql-ws") => Protocol::Legacy,
        _ => Protocol::Transport,
    };
    let max_message = http.app.config.ws_max_message_bytes;
    upgrade.accept(max_message, move |socket| {
        let (stop, sockets) = match shutdown {
            Some(shutdown) => (shutdown.token, Some(shutdown.sockets)),
            None => (CancellationToken::new(), None),
        };
        let connection = Connection::new(http, socket, protocol, stop, ip, slot).run();
        // Tracked from now, so `serve` waits for this socket's close frame.
        match sockets {
            Some(sockets) => Either::Left(sockets.track_future(connection)),
            None => Either::Right(connection),
        }
    })
}

/// The connection counts a router's sockets share.
pub fn new_capacity() -> Arc<Capacity> {
    Arc::new(Capacity::default())
}
