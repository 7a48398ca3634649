//! A minimal HTTP/1.1 keep-alive client for the load scenarios: one connection per simulated
//! client, whole responses read by `Content-Length`. Lean on purpose: the load generator must
//! cost far less CPU than the server it measures on the same 2 cores.

use anyhow::Context as _;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

/// The bytes of `POST /graphql` with `query` (and `variables`) as JSON.
pub fn post(query: &str, token: Option<&str>) -> Vec<u8> {
    post_json(&serde_json::json!({ "query": query }), token)
}

pub fn post_json(body: &serde_json::Value, token: Option<&str>) -> Vec<u8> {
    let body = body.to_string();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!(
        "POST /graphql HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    body_start: usize,
}

impl Client {
    pub async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(64 * 1024),
            body_start: 0,
        })
    }

    /// The body of the last response.
    pub fn body(&self) -> &[u8] {
        &self.buf[self.body_start..]
    }

    /// Sends `request`; true when the answer is 200 without `errors`.
    pub async fn call(&mut self, request: &[u8]) -> anyhow::Result<bool> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        let mut chunk = [0_u8; 16 * 1024];
        let (head_end, length) = loop {
            let n = self.stream.read(&mut chunk).await?;
            anyhow::ensure!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
            if let Some(pos) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..pos]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .context("a response without content-length")?;
                break (pos + 4, length);
            }
        };
        while self.buf.len() < head_end + length {
            let n = self.stream.read(&mut chunk).await?;
            anyhow::ensure!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
        self.buf.truncate(head_end + length);
        self.body_start = head_end;
        let ok_status = self.buf.starts_with(b"HTTP/1.1 200");
        let has_errors = self.body().windows(9).any(|w| w == b"\"errors\":");
        Ok(ok_status && !has_errors)
    }
}
