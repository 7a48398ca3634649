//! A real server on a random port and a small `graphql-transport-ws` client for it. Every wait
//! is bounded: a frame that does not come within [`WAIT`] fails the test.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use kabaadwala::AppState;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest as _, http::HeaderValue},
};
use tokio_util::sync::CancellationToken;

pub const WAIT: Duration = Duration::from_secs(10);

/// While tests share one Redis, the test that kills Redis connections takes this for writing
/// and every WebSocket test for reading, so no other test loses an event to the kill.
pub static REDIS_SESSIONS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

pub struct Server {
    pub addr: String,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Serves `state` on 127.0.0.1 at a random port.
pub async fn serve(state: &AppState) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let shutdown = CancellationToken::new();
    let router = kabaadwala::http::router(state.clone());
    let task = tokio::spawn(kabaadwala::http::serve(listener, router, shutdown.clone()));
    Server {
        addr,
        shutdown,
        task: Some(task),
    }
}

impl Server {
    /// Starts a graceful shutdown (what SIGTERM does in the binary).
    pub fn shut_down(&self) {
        self.shutdown.cancel();
    }

    /// Waits (bounded by [`WAIT`]) until `serve` has returned.
    pub async fn stopped(&mut self) {
        let task = self.task.take().expect("serve is running");
        tokio::time::timeout(WAIT, task)
            .await
            .expect("serve returns once shut down")
            .unwrap()
            .unwrap();
    }
}

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Frames read while waiting for another one.
    backlog: Vec<Value>,
}

impl Ws {
    /// Opens `ws://{addr}/graphql` asking for `protocol`.
    pub async fn open(server: &Server, protocol: &str) -> Ws {
        Self::open_with(server, protocol, &[]).await
    }

    /// [`Ws::open`] with extra headers on the upgrade request.
    pub async fn open_with(server: &Server, protocol: &str, headers: &[(&str, &str)]) -> Ws {
        let mut request = format!("ws://{}/graphql", server.addr)
            .into_client_request()
            .unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(protocol).unwrap(),
        );
        let (stream, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some(protocol)
        );
        Ws {
            stream,
            backlog: Vec::new(),
        }
    }

    /// Opens a `graphql-transport-ws` socket and initialises it as `token`'s user.
    pub async fn connect(server: &Server, token: &str) -> Ws {
        let mut ws = Ws::open(server, "graphql-transport-ws").await;
        ws.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
            .await;
        assert_eq!(ws.recv().await["type"], "connection_ack");
        ws
    }

    /// Sends a text message as it is (not necessarily JSON, of any size); `false` if the
    /// socket refused it.
    pub async fn send_text(&mut self, text: String) -> bool {
        self.stream.send(Message::Text(text.into())).await.is_ok()
    }

    /// Starts the closing handshake with `code` and returns the code of the server's answering
    /// close frame (`None`: the connection ended without one, which clients report as 1006).
    pub async fn close(&mut self, code: u16) -> Option<u16> {
        let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: code.into(),
            reason: "bye".into(),
        };
        self.stream.send(Message::Close(Some(frame))).await.ok()?;
        loop {
            match tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("the server answers in time")
            {
                Some(Ok(Message::Close(Some(frame)))) => return Some(frame.code.into()),
                Some(Ok(Message::Close(None))) => return Some(1005),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    async fn frame(&mut self) -> Option<Message> {
        loop {
            let message = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("no frame in time");
            match message {
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(message)) => return Some(message),
                _ => return None,
            }
        }
    }

    /// The next protocol message (fails on close).
    pub async fn recv(&mut self) -> Value {
        if !self.backlog.is_empty() {
            return self.backlog.remove(0);
        }
        match self.frame().await {
            Some(Message::Text(text)) => serde_json::from_str(&text).unwrap(),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The code the server closes the socket with.
    pub async fn close_code(&mut self) -> u16 {
        loop {
            match self.frame().await {
                Some(Message::Close(Some(frame))) => return frame.code.into(),
                Some(Message::Text(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }

    /// Subscribes and waits until the subscription is live (the server handles one socket's
    /// messages in order, so its `pong` to a later `ping` means the subscribe is done).
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }))
            .await;
        self.send(json!({ "type": "ping" })).await;
        // Frames before the pong (a resumed subscription's backlog) are kept, in order, after
        // those already kept.
        loop {
            let message = match self.frame().await {
                Some(Message::Text(text)) => serde_json::from_str::<Value>(&text).unwrap(),
                other => panic!("expected a message, got {other:?}"),
            };
            if message["type"] == "pong" {
                return;
            }
            self.backlog.push(message);
        }
    }

    /// The payload of the next `next` frame of subscription `id` (other frames are kept).
    pub async fn next(&mut self, id: &str) -> Value {
        if let Some(i) = self
            .backlog
            .iter()
            .position(|m| m["id"] == id && m["type"] == "next")
        {
            return self.backlog.remove(i)["payload"].clone();
        }
        loop {
            let message = match self.frame().await {
                Some(Message::Text(text)) => serde_json::from_str::<Value>(&text).unwrap(),
                other => panic!("expected a message, got {other:?}"),
            };
            if message["id"] == id && message["type"] == "next" {
                return message["payload"].clone();
            }
            self.backlog.push(message);
        }
    }

    /// Like [`Ws::next`], but `None` if nothing comes within `wait`.
    pub async fn next_within(&mut self, id: &str, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, self.next(id)).await.ok()
    }
}
