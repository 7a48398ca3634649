//! The WebSocket opening handshake (RFC 6455, HTTP/1.1), done here rather than by axum's
//! extractor so the connection keeps the raw stream under the WebSocket: after the server sends
//! a close frame it must read (and discard) what the client is still sending until the client
//! closes, or the kernel answers that unread data with a reset and the client never sees the
//! close code (a 1009 for an oversized message would arrive as 1006).

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::Response,
};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        handshake::derive_accept_key,
        protocol::{Role, WebSocketConfig},
    },
};

/// The socket type of a connection.
pub type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// The subprotocols we speak, in order of preference.
const PROTOCOLS: [&str; 2] = ["graphql-transport-ws", "graphql-ws"];

/// A valid upgrade request, not yet answered.
pub struct Upgrade {
    on_upgrade: OnUpgrade,
    accept: HeaderValue,
    /// The subprotocol chosen (the client's first one we speak), if it named any.
    pub protocol: Option<&'static str>,
}

/// Checks an upgrade request; the refusal to send when it is not a valid one.
pub fn check(parts: &mut Parts) -> Result<Upgrade, Box<Response>> {
    let headers = &parts.headers;
    if parts.method != Method::GET
        || !has_token(headers, header::CONNECTION, "upgrade")
        || !has_token(headers, header::UPGRADE, "websocket")
    {
        return Err(refused(StatusCode::BAD_REQUEST, "not a WebSocket upgrade"));
    }
    if !has_token(headers, header::SEC_WEBSOCKET_VERSION, "13") {
        let mut response = refused(StatusCode::UPGRADE_REQUIRED, "WebSocket version 13 only");
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return Err(response);
    }
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Key is missing",
        ));
    };
    let accept = HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
        .map_err(|_| refused(StatusCode::BAD_REQUEST, "bad Sec-WebSocket-Key"))?;
    let protocol = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|asked| PROTOCOLS.into_iter().find(|p| *p == asked.trim()));
    let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or_else(|| {
        refused(
            StatusCode::UPGRADE_REQUIRED,
            "this connection cannot be upgraded",
        )
    })?;
    Ok(Upgrade {
        on_upgrade,
        accept,
        protocol,
    })
}

impl Upgrade {
    /// Answers `101 Switching Protocols` and runs `serve` on the socket once the client has it.
    pub fn accept<F, Fut>(self, max_message_bytes: usize, serve: F) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        // Small buffers: most connections are idle subscriptions, and what clients send is
        // small (a longer message is read in several chunks). A frame over the limit is
        // refused from its header, before its bytes are buffered.
        let config = WebSocketConfig::default()
            .read_buffer_size(2 * 1024)
            .write_buffer_size(8 * 1024)
            .max_frame_size(Some(max_message_bytes))
            .max_message_size(Some(max_message_bytes));
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let socket = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    serve(socket).await;
                }
                Err(err) => tracing::debug!(error = %err, "WebSocket upgrade failed"),
            }
        });
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, self.accept);
        if let Some(protocol) = self.protocol {
            headers.insert(
                header::SEC_WEBSOCKET_PROTOCOL,
                HeaderValue::from_static(protocol),
            );
        }
        response
    }
}

/// True when the comma-separated `name` header holds `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn refused(status: StatusCode, message: &'static str) -> Box<Response> {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    Box::new(response)
}
