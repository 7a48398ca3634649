//! System settings: platform-wide values admins can change at run time (commission rate,
//! auto-release delay, recharge limits). Every key is known here with its type, range and
//! default; the table stores only what was set, and a missing row reads as the default.

pub mod admin;
pub mod graphql;
pub mod service;

pub use service::Setting;
