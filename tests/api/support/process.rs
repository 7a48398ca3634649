//! The real `kabaadwala` binary as a child process on the test's database.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::TestApp;

/// The `kabaadwala` binary (`serve`) on `app`'s database and a port of its own, its stdout and
/// stderr in `{name}.out` / `{name}.err` under the app's temp folder; SIGKILLed when dropped.
pub struct Process {
    child: Child,
    pub base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn spawn_server(app: &TestApp, name: &str, env: &[(&str, &str)]) -> Process {
    let config = &app.state.config;
    let port = free_port();
    let stdout = std::fs::File::create(app.dirs.path().join(format!("{name}.out"))).unwrap();
    let stderr = std::fs::File::create(app.dirs.path().join(format!("{name}.err"))).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kabaadwala"));
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &config.database_url)
        .env("MAIL_DIR", app.dirs.path().join("mail"))
        .env("MEDIA_DIR", app.dirs.path().join("media"))
        .env("JWT_SECRET", "test-secret-that-is-long-enough-0123456789")
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    for (key, value) in env {
        command.env(key, value);
    }
    if let Ok(redis) = std::env::var("REDIS_URL") {
        command.env("REDIS_URL", redis);
    }
    let process = Process {
        child: command.spawn().expect("start the kabaadwala binary"),
        base: format!("http://127.0.0.1:{port}"),
    };
    // Short polling of /readyz, bounded.
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client
            .get(format!("{}/readyz", process.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return process;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not become ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Process {
    /// The server's resident memory (VmRSS), in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read the server's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status")
    }

    /// SIGKILL (on Unix), then reap.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Sends SIGTERM and waits (bounded) for the process to exit; returns whether it exited
    /// successfully.
    pub async fn terminate(mut self) -> bool {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(sent, "could not send SIGTERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop within 30 s of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
