//! Connecting to the database. PostgreSQL gets a normal pool. SQLite gets one connection in WAL
//! mode with `synchronous=FULL` (a commit is on disk before it is acknowledged): SQLite has a
//! single writer anyway, and one connection means a transaction can never be refused with
//! SQLITE_BUSY half-way, so the same service code is correct on both backends. Its WAL is
//! checkpointed in the background ([`checkpoint`]), off the writer's path.

pub mod bulk;
pub mod checkpoint;
pub mod numbers;

use std::time::Duration;

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};

use crate::config::Config;

/// A pooled PostgreSQL connection idle this long is pinged before it is handed out.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(10);

pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    connect_url(&config.database_url, config.database_max_connections).await
}

pub async fn connect_url(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, max_connections, PING_IF_IDLE_FOR).await
}

/// [`connect_url`] with the idle time past which a PostgreSQL connection is pinged before it is
/// handed out (tests pass zero: every checkout is pinged, so a dropped connection shows at once).
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    ping_if_idle_for: Duration,
) -> anyhow::Result<DatabaseConnection> {
    let is_sqlite = url.starts_with("sqlite:");
    if is_sqlite {
        ensure_sqlite_dir(url)?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10));
    if is_sqlite {
        options
            .max_connections(1)
            .min_connections(1)
            // A local connection held by this process cannot go stale: no ping per checkout.
            .test_before_acquire(false)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    // FULL syncs the WAL on every commit: an acknowledged order or credit
                    // survives a power cut, not only a process crash (NORMAL could lose the last
                    // commits). The group commit batches many requests per commit, so the sync
                    // is paid once per batch (`bench orders-sqlite`, docs/PERFORMANCE.md).
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    // Statement journals of big multi-row statements stay in memory instead
                    // of temporary files created and deleted in every batch.
                    .pragma("temp_store", "memory")
                    .pragma(
                        "wal_autocheckpoint",
                        checkpoint::WRITER_CHECKPOINT_FRAMES.to_string(),
                    )
            });
    } else {
        options
            .max_connections(max_connections)
            .min_connections(1)
            // A connection used in the last few seconds is alive: pinging it on every checkout
            // was one more round trip per query outside transactions (the product page's
            // loaders) and per transaction. Idle ones are still pinged, so connections a
            // restart or a proxy dropped while the pool sat idle are replaced, not handed out.
            .test_before_acquire_if_idle_for(ping_if_idle_for);
    }
    Database::connect(options)
        .await
        .with_context(|| format!("connect to the database ({})", backend_name(url)))
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("apply migrations")
}

/// Rows per multi-row insert: well under SQLite's 32,766 bound parameters for our widest rows.
const INSERT_CHUNK: usize = 500;

/// Inserts `rows` with multi-row inserts of at most [`INSERT_CHUNK`] rows each, in order (so ids
/// of auto-numbered rows follow the order of `rows`).
pub async fn insert_chunked<E>(
    conn: &impl sea_orm::ConnectionTrait,
    rows: impl IntoIterator<Item = E::ActiveModel>,
) -> Result<(), sea_orm::DbErr>
where
    E: sea_orm::EntityTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
        E::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// The rows of `scope` that come after the row `(after_at, after_id)` in `(created_at, id)`
/// order, oldest first: at most `max`, and whether there were more. The keyset scan behind
/// "what did I miss since this one" (resumed subscriptions).
pub async fn rows_after<E>(
    conn: &impl sea_orm::ConnectionTrait,
    scope: sea_orm::Condition,
    (created_at, id): (E::Column, E::Column),
    (after_at, after_id): (chrono::DateTime<chrono::Utc>, uuid::Uuid),
    max: usize,
) -> Result<(Vec<E::Model>, bool), sea_orm::DbErr>
where
    E: sea_orm::EntityTrait,
    E::Model: sea_orm::FromQueryResult + Send + Sync,
{
    use sea_orm::{
        ColumnTrait as _, Condition, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    };
    let mut rows = E::find()
        .filter(scope)
        .filter(
            Condition::any().add(created_at.gt(after_at)).add(
                Condition::all()
                    .add(created_at.eq(after_at))
                    .add(id.gt(after_id)),
            ),
        )
        .order_by_asc(created_at)
        .order_by_asc(id)
        .limit(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
        .all(conn)
        .await?;
    let more = rows.len() > max;
    rows.truncate(max);
    Ok((rows, more))
}

/// A new row id: a UUIDv7 (milliseconds since the epoch, a counter, random bits), from the
/// `uuid` crate, whose generator is monotonic within a process even inside one millisecond.
/// Ids made one after another sort one after another, so every insert lands at the right edge
/// of the primary key's index and of the indexes that reference it, instead of on a random page
/// of each: a batch of orders dirties a handful of index pages, not one page per index per row
/// (on SQLite, each dirty page is a 4 KiB write to the WAL; on PostgreSQL, a page to write back
/// and log). The random bits keep ids unguessable.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

pub fn is_postgres(db: &impl sea_orm::ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

fn backend_name(url: &str) -> &'static str {
    if url.starts_with("sqlite:") {
        "sqlite"
    } else if url.starts_with("postgres") {
        "postgres"
    } else {
        "unknown"
    }
}

/// The file of an SQLite URL; `None` for other databases and in-memory ones.
pub fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path == ":memory:" || query.split('&').any(|p| p == "mode=memory");
    (!path.is_empty() && !in_memory).then_some(path)
}

/// SQLite creates the file (with `mode=rwc`) but not its folder.
fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    if let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("create the database folder {}", dir.display()))?;
    }
    Ok(())
}

/// `postgres://u@h:5432/test?x=y` with the database swapped for `name` (tests and benchmarks
/// create their own databases on the server `DATABASE_URL` names).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = base[scheme_end..]
        .find('/')
        .map_or(base, |slash| &base[..scheme_end + slash]);
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_made_one_after_another_sort_one_after_another() {
        let ids: Vec<uuid::Uuid> = (0..10_000).map(|_| super::new_id()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ids[0].get_version_num(), 7);
    }

    use super::*;

    #[test]
    fn new_ids_are_version_7_and_sort_in_the_order_they_were_made() {
        // One after the other, in the same millisecond or not: the uuid crate's v7 counter
        // keeps them in order without waiting for the clock to move.
        let first = new_id();
        let second = new_id();
        assert_eq!(first.get_version_num(), 7);
        assert_eq!(first.get_variant(), uuid::Variant::RFC4122);
        assert!(first < second);
        // Made in the same millisecond, they still differ: 74 random bits.
        let many: std::collections::HashSet<_> = (0..1_000).map(|_| new_id()).collect();
        assert_eq!(many.len(), 1_000);
    }

    #[test]
    fn sqlite_files_are_told_from_other_urls() {
        assert_eq!(
            sqlite_file("sqlite://data/kabaadwala.db?mode=rwc"),
            Some("data/kabaadwala.db")
        );
        assert_eq!(sqlite_file("sqlite:x.db"), Some("x.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x.db?mode=memory"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }
}
