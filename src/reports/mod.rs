//! Daily platform reports: the figures of one UTC day (sign-ups, new vendors, wallet
//! recharges, and, from the orders code, orders by status, GMV and commission), computed by the
//! scheduled `generate_daily_report` job, stored one row per day in `daily_reports`, emailed to
//! the admins and readable by admins through GraphQL.

pub mod email;
pub mod figures;
pub mod graphql;
pub mod jobs;
pub mod service;
