//! How a connection ends: the server's close codes, the closing handshake (after its own close
//! frame the server reads until the client closes), failed reads, and pub/sub gaps that make a
//! subscribed socket close so its client resumes with `after`.

use std::time::Duration;

use tokio::{io::AsyncReadExt as _, sync::broadcast};
use tokio_tungstenite::tungstenite::Error as WsError;

use super::upgrade::Socket;

/// After the server's close frame, how long (and how many bytes) it waits for the client to
/// close, discarding what it still sends.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 64 << 20;

/// Why a connection is closed by the server.
pub struct Close(pub u16, pub &'static str);

/// How the message loop ended.
pub enum End {
    /// The client sent its close frame: answer it.
    ClientClosed,
    /// The connection is gone (reset, or a write failed): nothing more can be sent.
    Gone,
    /// The server closes the connection with this code.
    Close(Close),
}

impl From<Close> for End {
    fn from(close: Close) -> Self {
        Self::Close(close)
    }
}

/// Reads and discards what the client still sends after the server's close frame, until
/// it closes the connection (bounded in time and bytes). Closing a TCP socket with unread
/// data makes the kernel send a reset, which can overtake the close frame: the client would
/// see 1006 instead of the code (1009 after an oversized message). Raw reads, because the
/// WebSocket layer may be mid-frame (an oversized frame is refused from its header).
pub async fn linger(socket: &mut Socket) {
    let raw = socket.get_mut();
    let mut buffer = [0u8; 8 * 1024];
    let mut drained = 0;
    let deadline = tokio::time::Instant::now() + LINGER;
    while drained < LINGER_BYTES {
        match tokio::time::timeout_at(deadline, raw.read(&mut buffer)).await {
            Ok(Ok(n)) if n > 0 => drained += n,
            _ => break,
        }
    }
}

/// Waits for the next pub/sub gap: `true` on one, `false` (once) when the hub is gone, after
/// which it waits forever.
pub async fn next_gap(gaps: &mut Option<broadcast::Receiver<()>>) -> bool {
    let Some(receiver) = gaps else {
        return std::future::pending().await;
    };
    match receiver.recv().await {
        Ok(()) | Err(broadcast::error::RecvError::Lagged(_)) => true,
        Err(broadcast::error::RecvError::Closed) => {
            *gaps = None;
            false
        }
    }
}

/// A failed read: a message over the size limit is closed with 1009 (Message Too Big); any
/// other failure means the connection is gone.
pub fn read_failed(err: WsError) -> End {
    if matches!(err, WsError::Capacity(_)) {
        End::Close(Close(1009, "Message too big"))
    } else {
        tracing::debug!(error = %err, "WebSocket read failed");
        End::Gone
    }
}
