//! The PostgreSQL pool pings only connections that sat idle (`db::PING_IF_IDLE_FOR`), not every
//! checkout: a connection the server dropped while the pool was idle must still be replaced
//! before it is handed out, so no request fails on it.

use std::time::Duration;

use sea_orm::{ConnectionTrait as _, DbBackend, FromQueryResult, Statement};

use crate::support::TestApp;

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

#[tokio::test]
async fn connections_dropped_while_the_pool_was_idle_are_replaced_before_use() {
    let app = TestApp::new().await;
    if app.state.db.get_database_backend() != DbBackend::Postgres {
        // SQLite: one connection to a local file, owned by the process; nothing can drop it.
        return;
    }
    let url = app.state.config.database_url.clone();
    // Pinged before every checkout (in production: after PING_IF_IDLE_FOR of idleness), so the
    // test needs no wait for the connections to count as idle.
    let pool = kabaadwala::db::connect_with(&url, 4, Duration::ZERO)
        .await
        .unwrap();
    pool.execute_unprepared("SELECT 1").await.unwrap();

    // The server drops every other connection to this database, the new pool's among them.
    let killed = Count::find_by_statement(Statement::from_string(
        DbBackend::Postgres,
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    ))
    .one(&app.state.db)
    .await
    .unwrap()
    .map(|c| c.n);
    assert!(killed.unwrap_or(0) >= 1, "terminated {killed:?}");

    for _ in 0..4 {
        let answer = Count::find_by_statement(Statement::from_string(
            DbBackend::Postgres,
            "SELECT 1::bigint AS n",
        ))
        .one(&pool)
        .await;
        assert!(
            matches!(answer, Ok(Some(Count { n: 1 }))),
            "a dropped connection was handed out: {:?}",
            answer.err()
        );
    }
    pool.close().await.ok();
}
