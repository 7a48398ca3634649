//! The keyset position of a product list: the sort key of the last row and its id, opaque to
//! clients (base64 of `i|<int>|<id>` or `f|<bits>|<id>`, a float carried bit for bit so that a
//! page boundary on a rating or a distance is exact).

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::AppError;

/// A keyset position: the sort key of the last row and its id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProductCursor {
    pub(super) key: SortKey,
    pub(super) id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum SortKey {
    Int(i64),
    Float(f64),
}

impl ProductCursor {
    /// Reads a cursor a client sent back; BAD_USER_INPUT on `after` when it is not one.
    pub fn decode(s: &str) -> Result<Self, AppError> {
        let bad = || AppError::bad_input("after", "invalid cursor");
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.splitn(3, '|');
        let (Some(tag), Some(key), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let key = match tag {
            "i" => SortKey::Int(key.parse().map_err(|_| bad())?),
            "f" => SortKey::Float(f64::from_bits(
                u64::from_str_radix(key, 16).map_err(|_| bad())?,
            )),
            _ => return Err(bad()),
        };
        Ok(Self {
            key,
            id: id.parse().map_err(|_| bad())?,
        })
    }

    pub fn encode(&self) -> String {
        let text = match self.key {
            SortKey::Int(v) => format!("i|{v}|{}", self.id),
            SortKey::Float(v) => format!("f|{:x}|{}", v.to_bits(), self.id),
        };
        URL_SAFE_NO_PAD.encode(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_exactly() {
        for key in [SortKey::Int(-5), SortKey::Float(0.1 + 0.2)] {
            let cursor = ProductCursor {
                key,
                id: Uuid::new_v4(),
            };
            assert_eq!(ProductCursor::decode(&cursor.encode()).ok(), Some(cursor));
        }
        assert!(ProductCursor::decode("x").is_err());
    }
}
