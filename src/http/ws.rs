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
//! - when the token expires, delivery stops: the socket is closed with 4403 at that instant;
//! - when the server shuts down (SIGTERM), every socket is closed with `1001 Going Away`.
//!
//! Subscriptions authorize when they are subscribed and then join a fan-out group
//! (`realtime::fanout`): each event is resolved and serialized once per group and this
//! handler only splices the shared bytes after the subscription's prebuilt frame prefix
//! (`{"type":"next","id":…,"payload":`). Frames that are ready together (one event for several
//! subscriptions of the socket, or a backlog) are written with one flush. Queries and mutations sent over the socket
//! run like HTTP ones. Each operation gets a fresh DataLoader, not one per connection: loaders
//! only batch, and a connection that lives for hours must not serve rows cached at its start.
//! Messages of one connection are handled in order, so a client's `ping` after `subscribe`
//! is answered only once the subscription is live.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::{Request, Response, Variables, parser::types::OperationType};
use async_graphql_axum::GraphQLRequest;
use axum::{
    extract::{
        FromRequest as _, FromRequestParts as _, State,
        ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    },
    http::header,
    response::{IntoResponse as _, Response as HttpResponse},
};
use chrono::{DateTime, Utc};
use entity::users;
use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
use serde_json::{Value, json};
use tokio_stream::{
    StreamMap,
    wrappers::{BroadcastStream, errors::BroadcastStreamRecvError},
};

use futures_util::future::Either;
use tokio_util::sync::CancellationToken;

use super::{HttpState, Shutdown, auth::auth_from_header};
use crate::{auth::Auth, graphql::request_data, realtime::fanout::Membership};

pub use crate::realtime::fanout::OPEN_SUBSCRIPTIONS;

/// How often an open, signed-in connection refreshes its user's `last_seen_at` (so chat
/// notifications are not emailed to someone who is online).
const SEEN_EVERY: Duration = Duration::from_secs(60);

/// At most this many frames are written before the socket is flushed.
const MAX_BATCH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// `graphql-transport-ws`.
    Transport,
    /// The legacy `graphql-ws` (subscriptions-transport-ws).
    Legacy,
}

/// `GET /graphql`: a WebSocket upgrade, or a query over HTTP.
pub async fn get_or_upgrade(
    State(http): State<HttpState>,
    request: axum::extract::Request,
) -> HttpResponse {
    let (mut parts, body) = request.into_parts();
    let is_upgrade = parts
        .headers
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if is_upgrade {
        // Served by `http::serve`: the shutdown signal; a bare router (tests): never.
        let shutdown = parts.extensions.get::<Shutdown>().cloned();
        return match WebSocketUpgrade::from_request_parts(&mut parts, &http).await {
            Ok(ws) => upgrade(http, ws, shutdown),
            Err(rejection) => rejection.into_response(),
        };
    }
    let headers = parts.headers.clone();
    let peer = super::graphql::PeerAddr(
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0),
    );
    let request = axum::extract::Request::from_parts(parts, body);
    match GraphQLRequest::from_request(request, &http).await {
        Ok(graphql) => super::graphql::get(State(http), peer, headers, graphql)
            .await
            .into_response(),
        Err(rejection) => super::graphql::rejected(rejection),
    }
}

fn upgrade(http: HttpState, ws: WebSocketUpgrade, shutdown: Option<Shutdown>) -> HttpResponse {
    let ws = ws
        .protocols(["graphql-transport-ws", "graphql-ws"])
        // Small buffers: most connections are idle subscriptions, and what clients send is
        // small (a longer message is simply read in several chunks).
        .read_buffer_size(2 * 1024)
        .write_buffer_size(8 * 1024);
    let protocol = match ws.selected_protocol().map(|p| p.as_bytes()) {
        Some(b"graphql-ws") => Protocol::Legacy,
        _ => Protocol::Transport,
    };
    ws.on_upgrade(move |socket| {
        let (stop, sockets) = match shutdown {
            Some(shutdown) => (shutdown.token, Some(shutdown.sockets)),
            None => (CancellationToken::new(), None),
        };
        let connection = Connection {
            http,
            socket,
            protocol,
            auth: None,
            expires: None,
            results: StreamMap::new(),
            subscriptions: HashMap::new(),
            stop,
        }
        .run();
        // Tracked from now, so `serve` waits for this socket's close frame.
        match sockets {
            Some(sockets) => Either::Left(sockets.track_future(connection)),
            None => Either::Right(connection),
        }
    })
}

/// Why a connection is closed.
struct Close(u16, &'static str);

/// One live subscription of a connection.
struct Subscription {
    /// `{"type":"next","id":"<id>","payload":` (legacy: `data`): a result's bytes and a `}`
    /// complete the frame.
    prefix: Box<str>,
    /// Held for its `Drop`, which leaves the fan-out group.
    _membership: Membership,
}

struct Connection {
    http: HttpState,
    socket: WebSocket,
    protocol: Protocol,
    /// Set by `connection_init`.
    auth: Option<Auth>,
    expires: Option<DateTime<Utc>>,
    /// Keyed by subscription id (shared with `subscriptions`, so yielding one is no copy).
    results: StreamMap<Arc<str>, BroadcastStream<Arc<str>>>,
    subscriptions: HashMap<Arc<str>, Subscription>,
    /// Cancelled when the server shuts down.
    stop: CancellationToken,
}

impl Connection {
    async fn run(mut self) {
        let close = self.serve().await;
        if let Some(Close(code, reason)) = close {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = self.socket.send(Message::Close(Some(frame))).await;
        }
        self.touch_last_seen().await;
        // Dropping the subscriptions leaves the groups.
    }

    /// Serves until the client leaves (`None`) or the connection must be closed.
    async fn serve(&mut self) -> Option<Close> {
        let init_deadline = tokio::time::sleep(self.http.app.config.ws_init_timeout);
        tokio::pin!(init_deadline);
        let expiry = tokio::time::sleep(Duration::from_secs(86_400 * 365));
        tokio::pin!(expiry);
        let mut seen = tokio::time::interval(SEEN_EVERY);
        seen.tick().await;
        // One waiter on the server-wide shutdown token for the connection's life, not a new one
        // (registered and removed under the token's lock, which every connection shares) each
        // time the loop wakes.
        let stop = self.stop.clone();
        let stopped = stop.cancelled();
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                message = self.socket.recv() => {
                    let text = match message {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return None,
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Binary(_))) => return Some(Close(4400, "binary messages are not part of the protocol")),
                    };
                    let was_acked = self.auth.is_some();
                    if let Some(close) = self.handle(text.as_str()).await {
                        return Some(close);
                    }
                    if !was_acked && let Some(expires) = self.expires {
                        let left = (expires - Utc::now()).to_std().unwrap_or_default();
                        expiry.as_mut().reset(tokio::time::Instant::now() + left);
                    }
                }
                Some(first) = self.results.next(), if !self.results.is_empty() => {
                    if let Err(close) = self.deliver(first).await {
                        return close;
                    }
                }
                () = &mut init_deadline, if self.auth.is_none() => {
                    return Some(Close(4408, "Connection initialisation timeout"));
                }
                () = &mut expiry, if self.expires.is_some() => {
                    return Some(Close(4403, "Forbidden: the access token expired"));
                }
                _ = seen.tick(), if self.auth.is_some() => self.touch_last_seen().await,
                () = &mut stopped => {
                    return Some(Close(1001, "Going away: the server is shutting down"));
                }
            }
        }
    }

    /// Writes `first` and the results already waiting behind it (up to [`MAX_BATCH`]), then
    /// flushes once. `Err` ends the connection (with a close frame, or none when it is gone).
    async fn deliver(
        &mut self,
        first: (Arc<str>, Result<Arc<str>, BroadcastStreamRecvError>),
    ) -> Result<(), Option<Close>> {
        if self.expires.is_some_and(|e| e <= Utc::now()) {
            return Err(Some(Close(4403, "Forbidden: the access token expired")));
        }
        let mut next = Some(first);
        let mut written = 0;
        while let Some((id, result)) = next.take() {
            match result {
                Ok(payload) => {
                    if let Some(subscription) = self.subscriptions.get(&id) {
                        let prefix = &subscription.prefix;
                        let mut frame = String::with_capacity(prefix.len() + payload.len() + 1);
                        frame.push_str(prefix);
                        frame.push_str(&payload);
                        frame.push('}');
                        if self.socket.feed(Message::Text(frame.into())).await.is_err() {
                            return Err(None);
                        }
                        written += 1;
                    }
                }
                Err(BroadcastStreamRecvError::Lagged(skipped)) => {
                    tracing::warn!(%id, skipped, "a slow subscriber skipped events");
                }
            }
            if written < MAX_BATCH {
                next = self.results.next().now_or_never().flatten();
            }
        }
        if self.socket.flush().await.is_err() {
            return Err(None);
        }
        Ok(())
    }

    async fn send(&mut self, message: Value) -> bool {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .is_ok()
    }

    /// One client message. `Some` closes the connection.
    async fn handle(&mut self, text: &str) -> Option<Close> {
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
            return Some(Close(4400, "Invalid message: not a JSON object"));
        };
        let Some(kind) = message.get("type").and_then(Value::as_str) else {
            return Some(Close(4400, "Invalid message: no type"));
        };
        let id = message.get("id").and_then(Value::as_str).map(str::to_owned);
        let payload = message.get("payload").cloned().unwrap_or(Value::Null);
        match (self.protocol, kind) {
            (_, "connection_init") => self.init(&payload).await,
            (Protocol::Transport, "ping") => {
                let pong = match payload {
                    Value::Null => json!({ "type": "pong" }),
                    payload => json!({ "type": "pong", "payload": payload }),
                };
                (!self.send(pong).await).then_some(Close(1000, "gone"))
            }
            (Protocol::Transport, "pong") => None,
            (Protocol::Transport, "subscribe") | (Protocol::Legacy, "start") => {
                let Some(id) = id.filter(|id| !id.is_empty()) else {
                    return Some(Close(4400, "Invalid message: subscribe needs an id"));
                };
                self.subscribe(id, &payload).await
            }
            (Protocol::Transport, "complete") | (Protocol::Legacy, "stop") => {
                if let Some(id) = id {
                    self.results.remove(id.as_str());
                    self.subscriptions.remove(id.as_str());
                    if self.protocol == Protocol::Legacy {
                        let _ = self.send(json!({ "type": "complete", "id": id })).await;
                    }
                }
                None
            }
            (Protocol::Legacy, "connection_terminate") => Some(Close(1000, "terminated")),
            _ => Some(Close(4400, "Invalid message: unknown type")),
        }
    }

    async fn init(&mut self, payload: &Value) -> Option<Close> {
        if self.auth.is_some() {
            return Some(Close(4429, "Too many initialisation requests"));
        }
        let token = payload
            .get("Authorization")
            .or_else(|| payload.get("authorization"))
            .or_else(|| payload.get("authToken"))
            .and_then(Value::as_str);
        let auth = match token {
            None => Auth::Anonymous,
            Some(token) => match auth_from_header(&self.http.app, Some(token)) {
                Auth::Viewer(viewer) => {
                    let bare = token
                        .trim()
                        .strip_prefix("Bearer ")
                        .or_else(|| token.trim().strip_prefix("bearer "))
                        .unwrap_or(token.trim());
                    self.expires = self
                        .http
                        .app
                        .jwt
                        .verify_with_expiry(bare.trim())
                        .ok()
                        .map(|(_, expires)| expires);
                    Auth::Viewer(viewer)
                }
                _ => return Some(Close(4403, "Forbidden")),
            },
        };
        self.auth = Some(auth);
        if !self.send(json!({ "type": "connection_ack" })).await {
            return Some(Close(1000, "gone"));
        }
        if self.protocol == Protocol::Legacy {
            let _ = self.send(json!({ "type": "ka" })).await;
        }
        self.touch_last_seen().await;
        None
    }

    async fn subscribe(&mut self, id: String, payload: &Value) -> Option<Close> {
        let Some(auth) = self.auth.clone() else {
            return Some(Close(4401, "Unauthorized"));
        };
        if self.subscriptions.contains_key(id.as_str()) {
            return Some(Close(4409, "Subscriber for this id already exists"));
        }
        let Some(query) = payload.get("query").and_then(Value::as_str) else {
            return Some(Close(
                4400,
                "Invalid message: subscribe needs payload.query",
            ));
        };
        let mut request = Request::new(query);
        if let Some(variables) = payload.get("variables").filter(|v| !v.is_null()) {
            request = request.variables(Variables::from_json(variables.clone()));
        }
        if let Some(name) = payload.get("operationName").and_then(Value::as_str) {
            request = request.operation_name(name);
        }
        if operation_type(&request) != Some(OperationType::Subscription) {
            // Queries, mutations and documents that do not parse: executed (or refused) once.
            let app = &self.http.app;
            let response = self
                .http
                .schema
                .execute(request_data(request, app, auth))
                .await;
            return self.send_result(&id, &response, true).await;
        }
        match self.http.fanout.subscribe(&request, &auth).await {
            Ok(joined) => {
                let kind = match self.protocol {
                    Protocol::Transport => "next",
                    Protocol::Legacy => "data",
                };
                let prefix = format!(
                    r#"{{"type":"{kind}","id":{},"payload":"#,
                    Value::String(id.clone())
                );
                let id: Arc<str> = id.into();
                self.results
                    .insert(id.clone(), BroadcastStream::new(joined.results));
                self.subscriptions.insert(
                    id,
                    Subscription {
                        prefix: prefix.into(),
                        _membership: joined.membership,
                    },
                );
                None
            }
            Err(response) => self.send_error(&id, &response).await,
        }
    }

    /// A query or mutation result: `next` then `complete`.
    async fn send_result(
        &mut self,
        id: &str,
        response: &Response,
        complete: bool,
    ) -> Option<Close> {
        let kind = match self.protocol {
            Protocol::Transport => "next",
            Protocol::Legacy => "data",
        };
        let payload = serde_json::to_value(response).unwrap_or(Value::Null);
        if !self
            .send(json!({ "id": id, "type": kind, "payload": payload }))
            .await
        {
            return Some(Close(1000, "gone"));
        }
        if complete && !self.send(json!({ "id": id, "type": "complete" })).await {
            return Some(Close(1000, "gone"));
        }
        None
    }

    /// A refused subscription: `error` with the GraphQL errors (legacy: `data` with errors,
    /// then `complete`).
    async fn send_error(&mut self, id: &str, response: &Response) -> Option<Close> {
        match self.protocol {
            Protocol::Transport => {
                let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
                (!self
                    .send(json!({ "id": id, "type": "error", "payload": errors }))
                    .await)
                    .then_some(Close(1000, "gone"))
            }
            Protocol::Legacy => self.send_result(id, response, true).await,
        }
    }

    fn touch_last_seen(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let viewer = match &self.auth {
            Some(Auth::Viewer(viewer)) => Some(*viewer),
            _ => None,
        };
        let db = self.http.app.db.clone();
        async move {
            let Some(viewer) = viewer else {
                return;
            };
            let updated = users::Entity::update_many()
                .col_expr(users::Column::LastSeenAt, Expr::value(Utc::now()))
                .filter(users::Column::Id.eq(viewer.user_id))
                .exec(&db)
                .await;
            if let Err(err) = updated {
                tracing::warn!(error = %err, "could not record that a user is online");
            }
        }
    }
}

/// The type of the operation `request` would run, if its document parses.
fn operation_type(request: &Request) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    match &request.operation_name {
        Some(name) => document
            .operations
            .iter()
            .find(|(n, _)| n.is_some_and(|n| n.as_str() == name))
            .map(|(_, op)| op.node.ty),
        None => document.operations.iter().next().map(|(_, op)| op.node.ty),
    }
}
