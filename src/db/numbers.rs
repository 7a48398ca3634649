//! Human-facing numbers (`ORD-2026-000042`, `PK-2026-000007`): from a sequence on PostgreSQL (no
//! lock held until commit); on SQLite, a counter row bumped in the caller's transaction (SQLite
//! has one writer, so the numbers in between are the caller's).

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};

use crate::error::{AppError, AppResult};

/// A numbered kind of row.
#[derive(Debug, Clone, Copy)]
pub enum Counter {
    Orders,
    Pickups,
}

impl Counter {
    fn sequence(self) -> &'static str {
        match self {
            Self::Orders => "order_number_seq",
            Self::Pickups => "pickup_number_seq",
        }
    }

    fn row(self) -> &'static str {
        match self {
            Self::Orders => "order_number",
            Self::Pickups => "pickup_number",
        }
    }
}

#[derive(FromQueryResult)]
struct Next {
    value: i64,
}

/// The next number of `counter`.
pub async fn next(conn: &impl ConnectionTrait, counter: Counter) -> AppResult<i64> {
    next_many(conn, counter, 1)
        .await?
        .pop()
        .ok_or_else(|| missing(counter))
}

/// `n` new numbers of `counter`, ascending.
pub async fn next_many(
    conn: &impl ConnectionTrait,
    counter: Counter,
    n: usize,
) -> AppResult<Vec<i64>> {
    let backend = conn.get_database_backend();
    let count = i64::try_from(n).map_err(AppError::internal)?;
    let mut numbers: Vec<i64> = match backend {
        DbBackend::Postgres if n == 1 => Next::find_by_statement(Statement::from_string(
            backend,
            format!("SELECT nextval('{}') AS value", counter.sequence()),
        ))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.value)
        .collect(),
        DbBackend::Postgres => Next::find_by_statement(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT nextval('{}') AS value FROM generate_series(1, $1)",
                counter.sequence()
            ),
            [count.into()],
        ))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.value)
        .collect(),
        _ => {
            let last = Next::find_by_statement(Statement::from_sql_and_values(
                backend,
                "UPDATE counters SET value = value + ?1 WHERE name = ?2 RETURNING value",
                [count.into(), counter.row().into()],
            ))
            .one(conn)
            .await?
            .map(|row| row.value)
            .ok_or_else(|| missing(counter))?;
            (last - count + 1..=last).collect()
        }
    };
    numbers.sort_unstable();
    if numbers.len() != n {
        return Err(AppError::internal(anyhow::anyhow!(
            "asked for {n} numbers of {counter:?}, got {}",
            numbers.len()
        )));
    }
    Ok(numbers)
}

fn missing(counter: Counter) -> AppError {
    AppError::internal(anyhow::anyhow!("the {} counter is missing", counter.row()))
}
