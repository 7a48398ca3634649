//! Fixed-window counters in Redis, shared by every instance: `SET key 0 EX window NX` then
//! `INCR` and `TTL` in one MULTI, so a window always expires even if this process dies between
//! commands.

use std::time::Duration;

use anyhow::Context as _;
use redis::aio::ConnectionManager;

const TIMEOUT: Duration = Duration::from_millis(500);

pub struct RedisCounters {
    conn: ConnectionManager,
}

impl RedisCounters {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context("parse REDIS_URL")?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .context("create the Redis rate-limit connection")?;
        Ok(Self { conn })
    }

    /// Counts a hit on `key`; returns the count in the current window and the seconds until it
    /// resets.
    pub async fn hit(&self, key: &str, window_secs: u64) -> anyhow::Result<(u64, u64)> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("SET")
            .arg(key)
            .arg(0)
            .arg("EX")
            .arg(window_secs)
            .arg("NX")
            .ignore()
            .cmd("INCR")
            .arg(key)
            .cmd("TTL")
            .arg(key);
        let (count, ttl): (u64, i64) = tokio::time::timeout(TIMEOUT, pipe.query_async(&mut conn))
            .await
            .context("redis timed out")?
            .context("count a rate-limit hit")?;
        Ok((count, u64::try_from(ttl).unwrap_or(window_secs).max(1)))
    }
}
