//! Vendors: a user's scrap-dealer profile (one per user) with its location and service radius,
//! KYC documents and their review. Only APPROVED vendors are listed, take orders and get payouts;
//! a KYC decision is mailed to the vendor through the job queue.

pub mod graphql;
pub mod jobs;
pub mod kyc;
pub mod loaders;
pub mod service;
