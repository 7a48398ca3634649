//! Users' own data: the profile and saved addresses. A user sees and changes only their own;
//! another user's address is NOT_FOUND (its existence is not revealed). Each user has at most
//! one default address, and has one whenever they have any.

pub mod admin;
pub mod graphql;
pub mod loaders;
pub mod service;
