//! The figures of one day, as stored and as emailed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The figures of one day. Stored as JSON: a figure added later needs no migration, and rows
/// written before it read it as its default (`#[serde(default)]` on the new field).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DailyFigures {
    /// Accounts created that day.
    pub new_users: i64,
    /// Vendor profiles created that day.
    pub new_vendors: i64,
    /// Wallet recharges that succeeded that day, and their total in paise.
    pub recharges: i64,
    pub recharged_paise: i64,
    /// Orders placed that day, by their status now (keys are the statuses' API names).
    pub orders_by_status: BTreeMap<String, i64>,
    /// Gross merchandise value: the totals of the orders placed that day, less those since
    /// cancelled or refunded.
    pub gmv_paise: i64,
    /// Commission earned that day: on the orders completed (money released) that day.
    pub commission_paise: i64,
}
