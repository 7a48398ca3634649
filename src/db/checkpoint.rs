//! WAL checkpoints of an SQLite database, off the writer's path.
//!
//! In WAL mode a commit appends the pages it changed to the WAL file; a checkpoint copies them
//! back into the database file and syncs both files. Left to SQLite, the connection that commits
//! runs the checkpoint itself whenever the WAL holds 1,000 pages, and with our single connection
//! (see [`crate::db`]) that stalls the only writer for a copy and two fsyncs every few batches
//! of orders: about 40% of the writer's time under load (`bench orders-sqlite`).
//!
//! So a second connection, which never writes data, runs PASSIVE checkpoints in the background
//! while the application serves ([`Checkpointer`], held by `AppState`): they copy and sync what
//! is committed while the writer goes on appending. A PASSIVE checkpoint neither waits for the
//! writer nor blocks it, and the writer never waits for it.
//!
//! The writer keeps a checkpoint of its own, but only once the WAL holds
//! [`WRITER_CHECKPOINT_FRAMES`] pages: SQLite starts the WAL over from its beginning when a
//! checkpoint has copied all of it before the writer's next transaction, which a background
//! checkpoint racing a busy writer rarely does. That bounds the WAL (about 40 MiB) under
//! sustained load, and by then the background has already copied and synced nearly all of it.
//! Commands without an `AppState` (migrations, the CLI) just checkpoint at that bound.

use std::{str::FromStr as _, time::Duration};

use sea_orm::sqlx::{
    self, ConnectOptions as _, Connection as _,
    sqlite::{SqliteConnectOptions, SqliteConnection, SqliteSynchronous},
};
use tokio_util::sync::{CancellationToken, DropGuard};

/// WAL pages after which the writer checkpoints by itself (SQLite's default is 1,000).
pub const WRITER_CHECKPOINT_FRAMES: u32 = 10_000;

/// Pause after a checkpoint that found new pages in the WAL: the writer is busy, keep up.
const BUSY_PAUSE: Duration = Duration::from_millis(20);

/// Pause after a checkpoint that found nothing new.
const IDLE_PAUSE: Duration = Duration::from_millis(250);

/// Checkpoints the WAL in the background until dropped.
pub struct Checkpointer {
    _stop: DropGuard,
}

impl Checkpointer {
    /// Starts checkpointing the SQLite database at `url`; `None` for other databases, for
    /// in-memory ones and outside a Tokio runtime.
    pub fn start(url: &str) -> Option<Self> {
        super::sqlite_file(url)?;
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let options = match SqliteConnectOptions::from_str(url) {
            Ok(options) => options
                .create_if_missing(false)
                .synchronous(SqliteSynchronous::Normal)
                .disable_statement_logging(),
            Err(err) => {
                tracing::warn!(error = %err, "no background WAL checkpoints: bad SQLite URL");
                return None;
            }
        };
        let stop = CancellationToken::new();
        runtime.spawn(run(options, stop.clone()));
        Some(Self {
            _stop: stop.drop_guard(),
        })
    }
}

async fn run(options: SqliteConnectOptions, stop: CancellationToken) {
    let mut conn = match options.connect().await {
        Ok(conn) => conn,
        Err(err) => {
            tracing::warn!(error = %err, "no background WAL checkpoints: cannot connect");
            return;
        }
    };
    let mut last_size = None;
    let mut failing = false;
    loop {
        let pause = match checkpoint(&mut conn).await {
            Ok(size) => {
                if failing {
                    tracing::info!("background WAL checkpoints work again");
                    failing = false;
                }
                let grew = last_size != Some(size);
                last_size = Some(size);
                if grew { BUSY_PAUSE } else { IDLE_PAUSE }
            }
            // The writer is checkpointing by itself right now: nothing to do.
            Err(err) if is_busy(&err) => BUSY_PAUSE,
            Err(err) => {
                if !failing {
                    tracing::warn!(error = %err, "background WAL checkpoint failed");
                    failing = true;
                }
                IDLE_PAUSE
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    conn.close().await.ok();
}

/// One PASSIVE checkpoint; the number of pages in the WAL when it ran.
async fn checkpoint(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    let (_busy, wal_pages, _copied): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *conn)
            .await?;
    Ok(wal_pages)
}

/// SQLITE_BUSY or SQLITE_LOCKED, extended codes included.
fn is_busy(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .and_then(|e| e.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use sea_orm::ConnectionTrait as _;

    use super::*;

    #[tokio::test]
    async fn the_background_copies_the_wal_into_the_database_file() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("kw-checkpoint-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}?mode=rwc", dir.join("c.db").display());
        let db = crate::db::connect_url(&url, 1).await?;
        let checkpointer = Checkpointer::start(&url);
        assert!(checkpointer.is_some());
        db.execute_unprepared("CREATE TABLE t (x BLOB)").await?;
        for _ in 0..50 {
            db.execute_unprepared("INSERT INTO t VALUES (randomblob(4000))")
                .await?;
        }
        // The writer alone would not checkpoint below WRITER_CHECKPOINT_FRAMES pages: the rows
        // reach the database file only through the background.
        let file = dir.join("c.db");
        let mut size = 0;
        for _ in 0..200 {
            size = std::fs::metadata(&file)?.len();
            if size > 50 * 4000 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(size > 50 * 4000, "database file still {size} bytes");
        drop(checkpointer);
        db.close().await?;
        std::fs::remove_dir_all(&dir).ok();
        Ok(())
    }

    #[test]
    fn nothing_to_checkpoint_without_a_file() {
        assert!(Checkpointer::start("postgres://localhost/x").is_none());
        assert!(Checkpointer::start("sqlite::memory:").is_none());
    }
}
