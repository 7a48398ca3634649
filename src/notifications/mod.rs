//! Notifications: in-app messages to one user, stored as rows (the real-time issue pushes them
//! live). Each user sees and marks only their own.

pub mod email;
pub mod graphql;
pub mod jobs;
pub mod service;
pub mod subscriptions;
