//! The one bulk update: many rows of one table each moved by its own amount, in one statement
//! per thousand rows, built with sea-query so it renders for PostgreSQL and SQLite alike:
//!
//! `UPDATE t SET col = col + CASE WHEN id = a THEN da … ELSE 0 END [, other = …]
//!  WHERE id IN (a, …) RETURNING id, CAST(col AS BIGINT)`
//!
//! Callers lock the rows first and know what every row must hold afterwards; the update checks
//! that each row it touched holds exactly that, so a row changed behind the lock (or missing)
//! is an error and the caller rolls back.

use std::collections::HashMap;

use sea_orm::{
    ConnectionTrait,
    sea_query::{Alias, CaseStatement, Expr, ExprTrait as _, IntoIden, Query, SimpleExpr},
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// One row's change: add `delta`, leaving `expected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub id: Uuid,
    pub delta: i64,
    pub expected: i64,
}

/// Adds each move's delta to `column` of its row in `table` (keyed by `id`), also setting
/// `also` on every row touched. INTERNAL when a row is missing or does not hold its expected
/// value afterwards (`what` names the rows in that error).
pub async fn add_by_id(
    conn: &impl ConnectionTrait,
    table: &'static str,
    column: &'static str,
    moves: &[Move],
    also: &[(&'static str, SimpleExpr)],
    what: &str,
) -> AppResult<()> {
    let backend = conn.get_database_backend();
    for chunk in moves.chunks(1000) {
        let mut case = CaseStatement::new();
        for m in chunk {
            case = case.case(Expr::col(Alias::new("id")).eq(m.id), m.delta);
        }
        let case = case.finally(0i64);
        let mut update = Query::update();
        update
            .table(Alias::new(table))
            .value(
                Alias::new(column).into_iden(),
                Expr::col(Alias::new(column)).add(case),
            )
            .and_where(Expr::col(Alias::new("id")).is_in(chunk.iter().map(|m| m.id)))
            .returning(Query::returning().exprs([
                Expr::col(Alias::new("id")),
                Expr::col(Alias::new(column)).cast_as(Alias::new("BIGINT")),
            ]));
        for (name, value) in also {
            update.value(Alias::new(*name).into_iden(), value.clone());
        }
        let rows = conn.query_all_raw(backend.build(&update)).await?;
        let expected: HashMap<Uuid, i64> = chunk.iter().map(|m| (m.id, m.expected)).collect();
        let mut exact = rows.len() == chunk.len();
        for row in &rows {
            // By position: the cast column has no portable name.
            let id: Uuid = row.try_get_by_index(0)?;
            let value: i64 = row.try_get_by_index(1)?;
            exact &= expected.get(&id) == Some(&value);
        }
        if !exact {
            return Err(AppError::internal(anyhow::anyhow!(
                "{what} changed while locked"
            )));
        }
    }
    Ok(())
}
