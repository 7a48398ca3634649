//! Money scalars. Amounts are integer paise (₹1 = 100 paise) in `Paise`, a JSON integer kept
//! within ±2^53 so every JSON client reads it exactly; read models also offer `Money`, with a
//! display string in the Indian grouping (₹1,00,000.00).

use crate::money::format_inr;
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, SimpleObject, Value};

/// The largest amount a JSON number carries exactly (2^53 - 1).
pub const MAX_SAFE_PAISE: i64 = 9_007_199_254_740_991;

/// An amount in paise (1 INR = 100 paise): a JSON integer, never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Paise(pub i64);

#[Scalar(name = "Paise")]
impl ScalarType for Paise {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => match n.as_i64() {
                // Not `v.abs()`: it overflows (a panic) for i64::MIN.
                Some(v) if (-MAX_SAFE_PAISE..=MAX_SAFE_PAISE).contains(&v) => Ok(Paise(v)),
                Some(_) => Err(InputValueError::custom("amount is out of range")),
                None => Err(InputValueError::custom(
                    "amounts are whole paise (an integer), not a fraction",
                )),
            },
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::Number(n) if n.is_i64())
    }

    fn to_value(&self) -> Value {
        Value::from(self.0)
    }
}

/// An amount with its currency and a display string.
#[derive(Debug, Clone, SimpleObject)]
pub struct Money {
    /// The amount in paise.
    pub paise: Paise,
    /// ISO 4217 currency code; always `INR` today.
    pub currency: String,
    /// For display, e.g. `₹1,00,000.50`.
    pub formatted: String,
}

impl Money {
    pub fn inr(paise: i64) -> Self {
        Self {
            paise: Paise(paise),
            currency: "INR".into(),
            formatted: format_inr(paise),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_and_strings_are_not_paise() {
        assert!(<Paise as ScalarType>::parse(Value::from(1.5)).is_err());
        assert!(<Paise as ScalarType>::parse(Value::from("100")).is_err());
        assert_eq!(
            <Paise as ScalarType>::parse(Value::from(100)).ok(),
            Some(Paise(100))
        );
    }
}
