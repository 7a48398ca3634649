//! Relay cursor connections. Cursors are opaque (base64 of a keyset position: a timestamp and an
//! id), so pages stay stable while rows are added, and a cursor from one list is refused by
//! another only by failing to match, never by leaking internals.

use async_graphql::{
    OutputType, SimpleObject,
    connection::{Connection, CursorType, Edge},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::DateTime;

use crate::error::{AppError, AppResult};
pub use crate::paging::{Cursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, SeqCursor};

/// Extra fields on every connection.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct ConnectionFields {
    /// How many items the whole list has (all pages).
    pub total_count: i64,
}

impl CursorType for Cursor {
    type Error = AppError;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bad = || AppError::bad_input("after", "invalid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (micros, id) = text.split_once('|').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        Ok(Self {
            at: DateTime::from_timestamp_micros(micros).ok_or_else(bad)?,
            id: id.parse().map_err(|_| bad())?,
        })
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.at.timestamp_micros(), self.id))
    }
}

impl CursorType for SeqCursor {
    type Error = AppError;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bad = || AppError::bad_input("after", "invalid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let seq = text.strip_prefix("seq:").ok_or_else(bad)?;
        Ok(Self(seq.parse().map_err(|_| bad())?))
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("seq:{}", self.0))
    }
}

// `Page` is domain-neutral (`crate::paging`); reading it from a query's arguments decodes
// the cursor, which is the GraphQL layer's business.
impl<C: CursorType<Error = AppError>> Page<C> {
    pub fn new(first: Option<i32>, after: Option<String>) -> AppResult<Self> {
        let limit = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if n < 1 => return Err(AppError::bad_input("first", "must be at least 1")),
            Some(n) => u64::try_from(n).unwrap_or(MAX_PAGE_SIZE).min(MAX_PAGE_SIZE),
        };
        let after = after.as_deref().map(C::decode_cursor).transpose()?;
        Ok(Self { limit, after })
    }
}

/// A connection page from `rows` fetched with `LIMIT page.limit + 1` (the extra row only tells
/// that a next page exists).
pub fn connection<C, R, N>(
    page: &Page<C>,
    mut rows: Vec<R>,
    total_count: i64,
    cursor: impl Fn(&R) -> C,
    node: impl Fn(R) -> N,
) -> Connection<C, N, ConnectionFields>
where
    C: CursorType + Send + Sync,
    N: OutputType,
{
    let has_next = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    let mut connection = Connection::with_additional_fields(
        page.after.is_some(),
        has_next,
        ConnectionFields { total_count },
    );
    connection.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(cursor(&row), node(row))),
    );
    connection
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let cursor = Cursor {
            at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap_or_default(),
            id: Uuid::new_v4(),
        };
        assert_eq!(
            Cursor::decode_cursor(&cursor.encode_cursor()).ok(),
            Some(cursor)
        );
    }

    #[test]
    fn garbage_cursors_are_bad_input() {
        assert!(matches!(
            Cursor::decode_cursor("not-a-cursor"),
            Err(AppError::BadUserInput { .. })
        ));
        assert!(Page::<Cursor>::new(Some(0), None).is_err());
        assert_eq!(
            Page::<SeqCursor>::new(Some(1000), None)
                .map(|p| p.limit)
                .ok(),
            Some(MAX_PAGE_SIZE)
        );
    }
}
