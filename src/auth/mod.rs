//! Authentication: who the caller is. Passwords are argon2id hashes; access tokens are short
//! JWTs (HS256 pinned; `exp`, `iss`, `aud`, `sub`, `role` checked); refresh tokens are opaque,
//! stored hashed and rotated on every use (presenting a rotated one revokes its whole family);
//! OTP codes are 6 digits, stored as keyed hashes, valid 10 minutes for 5 attempts; emailed
//! tokens (verification, password reset) are single-use and stored hashed.

pub mod graphql;
pub mod jobs;
pub mod jwt;
pub mod password;
pub mod secrets;
pub mod service;
mod viewer;

pub use viewer::{Auth, Viewer};
