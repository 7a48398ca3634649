//! The real server process (this binary's sibling `kabaadwala`): spawned, waited on until
//! `/readyz` answers 200, measured through `/proc`, stopped with SIGTERM. The `server` scenario:
//! cold start to ready on the embedded default (a fresh SQLite file, migrations included) and on
//! a migrated PostgreSQL database of 10,000 products; idle RSS; RSS under the catalog load; the
//! time from SIGTERM to exit.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use sea_orm::ConnectionTrait as _;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

use crate::{SECONDS, catalog, record};

/// A spawned server, killed however the bench ends.
pub struct Server {
    child: std::process::Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `kabaadwala serve` in `dir` with only PATH and `vars` in its environment (so an
    /// empty `vars` is the embedded default), on a free port.
    pub fn spawn(dir: &Path, vars: &[(String, String)], with_worker: bool) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let bin = binary()?;
        let mut command = std::process::Command::new(&bin);
        command.arg("serve");
        if !with_worker {
            command.arg("--no-worker");
        }
        command
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BIND_ADDR", &addr)
            .env("RUST_LOG", "warn")
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .stdout(std::process::Stdio::null());
        let child = command
            .spawn()
            .with_context(|| format!("start {} (build it with --release)", bin.display()))?;
        Ok(Self { child, addr })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `/readyz` answers 200 (database and pub/sub up).
    pub async fn ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the server exited before it was ready: {status}");
            }
            if readyz(&self.addr).await.unwrap_or(false) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        anyhow::bail!("the server on {} was not ready within 60 s", self.addr)
    }

    /// Sends SIGTERM and waits for the exit; returns how long it took.
    pub fn terminate(&mut self) -> anyhow::Result<Duration> {
        let began = Instant::now();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        anyhow::ensure!(sent.success(), "kill -TERM failed");
        let status = self.child.wait()?;
        anyhow::ensure!(
            status.success(),
            "the server exited with {status} on SIGTERM"
        );
        Ok(began.elapsed())
    }
}

/// The `kabaadwala` binary next to this one.
fn binary() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()?
        .parent()
        .context("the bench binary has a folder")?
        .join("kabaadwala"))
}

async fn readyz(addr: &str) -> anyhow::Result<bool> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .await?;
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).await?;
    Ok(&head == b"HTTP/1.1 200")
}

/// VmRSS of a process, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS in /proc/<pid>/status")
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The whole `server` scenario.
pub async fn run(admin_url: &str) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("kw-bench-server-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    let result = run_in(admin_url, &dir).await;
    std::fs::remove_dir_all(&dir).ok();
    result
}

async fn run_in(admin_url: &str, dir: &Path) -> anyhow::Result<()> {
    // 1. The embedded default, as `cargo run --release` on a fresh clone: no environment at all.
    let began = Instant::now();
    let mut embedded = Server::spawn(dir, &[], true)?;
    embedded.ready().await?;
    let cold = began.elapsed();
    let embedded_idle = rss_kib(embedded.pid())?;
    let stop = embedded.terminate()?;
    println!(
        "cold start to ready, embedded default (fresh SQLite file, migrations run): {:.0} ms; idle VmRSS {:.1} MiB; SIGTERM to exit {:.0} ms",
        cold.as_secs_f64() * 1e3,
        mib(embedded_idle),
        stop.as_secs_f64() * 1e3
    );
    record::row(
        "cold start to ready, embedded default (fresh SQLite file, every migration run, worker on): spawn of the process to the first 200 from `/readyz`",
        format!("{:.0} ms", cold.as_secs_f64() * 1e3),
        "",
        "",
        None,
    );

    // 2. PostgreSQL with 10,000 products, already migrated: start, idle, under load, stop.
    let (url, name) = crate::create_database(admin_url, "kw_bench_server").await?;
    let outcome = on_postgres(&url, dir).await;
    crate::drop_database(admin_url, &name).await?;
    let (cold, idle, peak, page, stop) = outcome?;
    println!(
        "cold start to ready, PostgreSQL (10,000 products, migrated): {:.0} ms; idle VmRSS {:.1} MiB; under load {:.1} MiB (peak); SIGTERM to exit {:.0} ms",
        cold.as_secs_f64() * 1e3,
        mib(idle),
        mib(peak),
        stop.as_secs_f64() * 1e3
    );
    record::row(
        "cold start to ready, PostgreSQL with 10,000 products (migrated, worker on): spawn of the process to the first 200 from `/readyz`",
        format!("{:.0} ms", cold.as_secs_f64() * 1e3),
        "",
        "",
        None,
    );
    record::row(
        "server memory (VmRSS of the `kabaadwala` process, PostgreSQL)",
        format!(
            "idle {:.1} MiB; under load {:.1} MiB (peak while 64 clients fetch the product page for {SECONDS} s)",
            mib(idle),
            mib(peak)
        ),
        format!(
            "the embedded default (SQLite, in-process pub/sub) idles at {:.1} MiB",
            mib(embedded_idle)
        ),
        "",
        None,
    );
    record::row(
        "catalog page against the real binary (separate process, its own pool and worker, page cache at its default): one fixed page, 64 clients",
        page.summary(),
        "",
        "",
        None,
    );
    record::row(
        "graceful shutdown: SIGTERM to exit, after the load",
        format!("{:.0} ms", stop.as_secs_f64() * 1e3),
        "",
        "",
        None,
    );
    Ok(())
}

type PostgresFigures = (Duration, u64, u64, catalog::HttpOutcome, Duration);

async fn on_postgres(url: &str, dir: &Path) -> anyhow::Result<PostgresFigures> {
    let db = kabaadwala::db::connect_url(url, 8).await?;
    kabaadwala::db::migrate(&db).await?;
    catalog::seed(&db, catalog::PRODUCTS).await?;
    db.execute_unprepared("ANALYZE").await?;
    db.close().await.ok();

    let vars = vec![("DATABASE_URL".to_owned(), url.to_owned())];
    let began = Instant::now();
    let mut server = Server::spawn(dir, &vars, true)?;
    server.ready().await?;
    let cold = began.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = rss_kib(server.pid())?;

    let pid = server.pid();
    let sampling = tokio::spawn(async move {
        let mut peak = 0;
        for _ in 0..(SECONDS * 10 + 20) {
            peak = peak.max(rss_kib(pid).unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    });
    let addr: std::net::SocketAddr = server.addr.parse()?;
    let fixed = [catalog::fixed_page()];
    catalog::load(addr, &fixed, 1).await?;
    let page = catalog::load(addr, &fixed, SECONDS).await?;
    let peak = sampling.await?;
    let stop = server.terminate()?;
    Ok((cold, idle, peak, page, stop))
}
