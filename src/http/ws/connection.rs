//! One WebSocket connection: its message loop, its subscriptions and how it ends (see the
//! module docs of `http::ws` for the protocol and the limits).

use std::{collections::HashMap, net::IpAddr, sync::Arc, time::Duration};

use async_graphql::{Request, Response, Variables, parser::types::OperationType};
use chrono::{DateTime, Utc};
use entity::users;
use futures_util::{FutureExt as _, SinkExt, StreamExt as _};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tokio_stream::{StreamMap, wrappers::errors::BroadcastStreamRecvError};
use tokio_tungstenite::tungstenite::{
    Message,
    protocol::{CloseFrame, frame::coding::CloseCode},
};
use tokio_util::sync::CancellationToken;

use super::{
    capacity::{ConnectionSlot, UserSlot},
    closing::{Close, End, linger, next_gap, read_failed},
    operations::InFlight,
    upgrade::Socket,
};
use crate::{
    AppError,
    auth::Auth,
    graphql::{errors::annotate, executor::Allow, limits::server_error, schema::request_data_from},
    http::{HttpState, auth::auth_from_header},
    realtime::{
        fanout::Membership,
        results::{Delivery, Results},
        resume::Seam,
    },
};

/// How often an open, signed-in connection refreshes its user's `last_seen_at` (so chat
/// notifications are not emailed to someone who is online).
const SEEN_EVERY: Duration = Duration::from_secs(60);

/// At most this many frames are written before the socket is flushed.
const MAX_BATCH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws`.
    Transport,
    /// The legacy `graphql-ws` (subscriptions-transport-ws).
    Legacy,
}

/// One live subscription of a connection.
struct Subscription {
    /// `{"type":"next","id":"<id>","payload":` (legacy: `data`): a result's bytes and a `}`
    /// complete the frame.
    prefix: Box<str>,
    /// Live events already sent from the backlog of a resumed subscription.
    seam: Seam,
    /// Held for its `Drop`, which leaves the fan-out group.
    _membership: Membership,
}

pub struct Connection {
    http: HttpState,
    socket: Socket,
    protocol: Protocol,
    /// Set by `connection_init`.
    auth: Option<Auth>,
    expires: Option<DateTime<Utc>>,
    /// The signed-in user and the role their token claims, and the users whose tokens an
    /// administrator just limited: the socket closes if it is theirs.
    revocable: Option<(uuid::Uuid, users::Role)>,
    revocations: broadcast::Receiver<uuid::Uuid>,
    /// The client's address, for per-IP rate limits.
    ip: Option<IpAddr>,
    /// Keyed by subscription id (shared with `subscriptions`, so yielding one is no copy).
    results: StreamMap<Arc<str>, Results>,
    subscriptions: HashMap<Arc<str>, Subscription>,
    /// Queries and mutations not answered yet.
    in_flight: InFlight,
    /// Cancelled when the server shuts down.
    stop: CancellationToken,
    /// Pub/sub gaps (Redis came back after a drop); `None` once the hub is gone.
    gaps: Option<broadcast::Receiver<()>>,
    /// This connection's places in the server's connection counts.
    _slot: ConnectionSlot,
    user_slot: Option<UserSlot>,
}

impl Connection {
    pub fn new(
        http: HttpState,
        socket: Socket,
        protocol: Protocol,
        stop: CancellationToken,
        ip: Option<IpAddr>,
        slot: ConnectionSlot,
    ) -> Self {
        let gaps = Some(http.app.pubsub.gaps());
        let revocations = http.app.revocations.watch();
        Self {
            revocable: None,
            revocations,
            gaps,
            http,
            socket,
            protocol,
            auth: None,
            expires: None,
            ip,
            results: StreamMap::new(),
            subscriptions: HashMap::new(),
            in_flight: InFlight::default(),
            stop,
            _slot: slot,
            user_slot: None,
        }
    }

    pub async fn run(mut self) {
        match self.serve().await {
            End::Close(Close(code, reason)) => {
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                if self.socket.send(Message::Close(Some(frame))).await.is_ok() {
                    linger(&mut self.socket).await;
                }
            }
            // The reply to the client's close frame is queued by the WebSocket layer; closing
            // flushes it (without it the client sees 1006, an abnormal closure).
            End::ClientClosed => {
                let _ = SinkExt::close(&mut self.socket).await;
            }
            End::Gone => {}
        }
        self.touch_last_seen().await;
        // Dropping the subscriptions leaves the groups; dropping the slots frees them.
        self.user_slot.take();
    }

    /// Serves until the client leaves or the connection must be closed.
    async fn serve(&mut self) -> End {
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
                message = self.socket.next() => {
                    let text = match message {
                        None => return End::Gone,
                        Some(Err(err)) => return read_failed(err),
                        Some(Ok(Message::Close(_))) => return End::ClientClosed,
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                        Some(Ok(Message::Binary(_))) => {
                            return Close(4400, "binary messages are not part of the protocol").into();
                        }
                    };
                    let was_acked = self.auth.is_some();
                    if let Err(end) = self.handle(text.as_str()).await {
                        return end;
                    }
                    if !was_acked && let Some(expires) = self.expires {
                        let left = (expires - Utc::now()).to_std().unwrap_or_default();
                        expiry.as_mut().reset(tokio::time::Instant::now() + left);
                    }
                }
                Some(first) = self.results.next(), if !self.results.is_empty() => {
                    if let Err(end) = self.deliver(first).await {
                        return end;
                    }
                }
                Some((id, response)) = self.in_flight.next(), if !self.in_flight.is_empty() => {
                    if let Err(end) = self.send_result(&id, &response).await {
                        return end;
                    }
                }
                () = &mut init_deadline, if self.auth.is_none() => {
                    return Close(4408, "Connection initialisation timeout").into();
                }
                () = &mut expiry, if self.expires.is_some() => {
                    return Close(4403, "Forbidden: the access token expired").into();
                }
                _ = self.revocations.recv(), if self.revocable.is_some() => {
                    if let Some((user, role)) = self.revocable
                        && self.http.app.revocations.refuses(user, role)
                    {
                        return Close(4403, "Forbidden: the session was ended by an administrator").into();
                    }
                }
                _ = seen.tick(), if self.auth.is_some() => self.touch_last_seen().await,
                () = &mut stopped => {
                    return Close(1001, "Going away: the server is shutting down").into();
                }
                gap = next_gap(&mut self.gaps), if !self.subscriptions.is_empty() => {
                    if gap {
                        // Live events published meanwhile never reached this instance: the
                        // client reconnects and resumes with `after` from the database.
                        return Close(1012, "Service restart: events may have been missed; resubscribe with after").into();
                    }
                }
            }
        }
    }

    /// Writes `first` and the results already waiting behind it (up to [`MAX_BATCH`]), then
    /// flushes once.
    async fn deliver(
        &mut self,
        first: (Arc<str>, Result<Delivery, BroadcastStreamRecvError>),
    ) -> Result<(), End> {
        if self.expires.is_some_and(|e| e <= Utc::now()) {
            return Err(Close(4403, "Forbidden: the access token expired").into());
        }
        let mut next = Some(first);
        let mut written = 0;
        while let Some((id, result)) = next.take() {
            match result {
                Ok(delivery) => {
                    if let Some(subscription) = self.subscriptions.get(&id)
                        && !subscription.seam.replayed(delivery.event)
                    {
                        let frame = splice(&subscription.prefix, &delivery.json);
                        if self.socket.feed(Message::Text(frame.into())).await.is_err() {
                            return Err(End::Gone);
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
        self.socket.flush().await.map_err(|_| End::Gone)
    }

    async fn send(&mut self, message: Value) -> Result<(), End> {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .map_err(|_| End::Gone)
    }

    /// One client message. `Err` ends the connection.
    async fn handle(&mut self, text: &str) -> Result<(), End> {
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
            return Err(Close(4400, "Invalid message: not a JSON object").into());
        };
        let Some(kind) = message.get("type").and_then(Value::as_str) else {
            return Err(Close(4400, "Invalid message: no type").into());
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
                self.send(pong).await
            }
            (Protocol::Transport, "pong") => Ok(()),
            (Protocol::Transport, "subscribe") | (Protocol::Legacy, "start") => {
                let Some(id) = id.filter(|id| !id.is_empty()) else {
                    return Err(Close(4400, "Invalid message: subscribe needs an id").into());
                };
                self.subscribe(id, &payload).await
            }
            (Protocol::Transport, "complete") | (Protocol::Legacy, "stop") => {
                if let Some(id) = id {
                    self.results.remove(id.as_str());
                    self.subscriptions.remove(id.as_str());
                    self.in_flight.forget(&id);
                    if self.protocol == Protocol::Legacy {
                        self.send(json!({ "type": "complete", "id": id })).await?;
                    }
                }
                Ok(())
            }
            (Protocol::Legacy, "connection_terminate") => Err(Close(1000, "terminated").into()),
            _ => Err(Close(4400, "Invalid message: unknown type").into()),
        }
    }

    async fn init(&mut self, payload: &Value) -> Result<(), End> {
        if self.auth.is_some() {
            return Err(Close(4429, "Too many initialisation requests").into());
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
                    self.revocable = Some((viewer.user_id, viewer.role));
                    let max = self.http.app.config.ws_max_connections_per_user;
                    let Some(slot) = self.http.sockets.for_user(viewer.user_id, max) else {
                        return Err(Close(4429, "Too many connections for this user").into());
                    };
                    self.user_slot = Some(slot);
                    Auth::Viewer(viewer)
                }
                _ => return Err(Close(4403, "Forbidden").into()),
            },
        };
        self.auth = Some(auth);
        self.send(json!({ "type": "connection_ack" })).await?;
        if self.protocol == Protocol::Legacy {
            self.send(json!({ "type": "ka" })).await?;
        }
        self.touch_last_seen().await;
        Ok(())
    }

    async fn subscribe(&mut self, id: String, payload: &Value) -> Result<(), End> {
        let Some(auth) = self.auth.clone() else {
            return Err(Close(4401, "Unauthorized").into());
        };
        if self.subscriptions.contains_key(id.as_str()) || self.in_flight.contains(&id) {
            return Err(Close(4409, "Subscriber for this id already exists").into());
        }
        let Some(query) = payload.get("query").and_then(Value::as_str) else {
            return Err(Close(4400, "Invalid message: subscribe needs payload.query").into());
        };
        let max = self.http.app.config.ws_max_subscriptions;
        if self.subscriptions.len() + self.in_flight.len() >= max {
            let refused = AppError::RateLimited {
                message: format!(
                    "this connection already has {max} subscriptions and operations open; complete one first"
                ),
                retry_after_secs: 0,
            };
            return self.send_error(&id, &refusal(refused)).await;
        }
        let mut request = Request::new(query);
        if let Some(variables) = payload.get("variables").filter(|v| !v.is_null()) {
            request = request.variables(Variables::from_json(variables.clone()));
        }
        if let Some(name) = payload.get("operationName").and_then(Value::as_str) {
            request = request.operation_name(name);
        }
        // The document limits come before the parse that tells the operation's type.
        let operation = match self.http.executor.operation_type(&mut request) {
            Ok(operation) => operation,
            Err(error) => {
                let response = annotate(Response::from_errors(vec![error]));
                return self.send_error(&id, &response).await;
            }
        };
        if operation != Some(OperationType::Subscription) {
            // Queries and mutations: the same executor as over HTTP, once, answered when done.
            let request = request_data_from(request, &self.http.app, auth, self.ip);
            let executor = self.http.executor.clone();
            self.in_flight.start(id.into(), async move {
                executor.execute(request, Allow::Any).await.response
            });
            return Ok(());
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
                // What the client missed comes first, in one flush.
                for json in &joined.backlog {
                    let frame = splice(&prefix, json);
                    if self.socket.feed(Message::Text(frame.into())).await.is_err() {
                        return Err(End::Gone);
                    }
                }
                if !joined.backlog.is_empty() {
                    self.socket.flush().await.map_err(|_| End::Gone)?;
                }
                let id: Arc<str> = id.into();
                self.results.insert(id.clone(), joined.results);
                self.subscriptions.insert(
                    id,
                    Subscription {
                        prefix: prefix.into(),
                        seam: joined.seam,
                        _membership: joined.membership,
                    },
                );
                Ok(())
            }
            Err(response) => self.send_error(&id, &response).await,
        }
    }

    /// A query or mutation result: `next` then `complete`.
    async fn send_result(&mut self, id: &str, response: &Response) -> Result<(), End> {
        let kind = match self.protocol {
            Protocol::Transport => "next",
            Protocol::Legacy => "data",
        };
        let payload = serde_json::to_value(response).unwrap_or(Value::Null);
        self.send(json!({ "id": id, "type": kind, "payload": payload }))
            .await?;
        self.send(json!({ "id": id, "type": "complete" })).await
    }

    /// A refused operation: `error` with the GraphQL errors (legacy: `data` with errors, then
    /// `complete`).
    async fn send_error(&mut self, id: &str, response: &Response) -> Result<(), End> {
        match self.protocol {
            Protocol::Transport => {
                let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
                self.send(json!({ "id": id, "type": "error", "payload": errors }))
                    .await
            }
            Protocol::Legacy => self.send_result(id, response).await,
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

/// A `next` frame: the subscription's prefix, the result's bytes, `}`.
fn splice(prefix: &str, json: &str) -> String {
    let mut frame = String::with_capacity(prefix.len() + json.len() + 1);
    frame.push_str(prefix);
    frame.push_str(json);
    frame.push('}');
    frame
}

/// A refusal as a response with its code.
fn refusal(error: AppError) -> Response {
    annotate(Response::from_errors(vec![server_error(error)]))
}
