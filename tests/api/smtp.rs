//! Mail over real SMTP: a minimal SMTP listener on a random local port receives what the
//! verification job sends.

use tokio::{
    io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader},
    net::TcpListener,
    sync::oneshot,
};

use crate::support::TestApp;

/// Accepts one SMTP session and returns the DATA it received.
async fn smtp_listener() -> (u16, oneshot::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test.local ESMTP\r\n").await.unwrap();
        let mut data = String::new();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let verb = line
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 test.local\r\n",
                "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.1.0 ok\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.ok();
                    break;
                }
                _ => b"502 not implemented\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
        let _ = tx.send(data);
    });
    (port, rx)
}

#[tokio::test]
async fn verification_mail_is_delivered_over_smtp() {
    let (port, received) = smtp_listener().await;
    let app = TestApp::with_env(&[("SMTP_URL", &format!("smtp://127.0.0.1:{port}"))]).await;
    let asha = app.customer("Asha").await;

    let ran = app.drain_jobs().await;

    assert_eq!(ran[0].status, entity::jobs::JobStatus::Succeeded, "{ran:?}");
    let message = received.await.unwrap();
    assert!(
        message.contains(&format!("To: {}", asha.email)),
        "{message}"
    );
    assert!(message.contains("Subject: Verify your Kabaadwala email address"));
    assert!(app.sent_mail().is_empty(), "nothing went to files");
}
