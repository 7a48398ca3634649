//! GraphQL: the plumbing every domain's resolvers use (context accessors, error codes, ids,
//! scalars, Relay helpers, limits and the checks every transport applies, the executor, uploads)
//! and, on top, the schema assembled from every domain's roots ([`schema`]). This file only names the parts:
//! the plumbing stands below the resolvers and [`schema`] above them, so nothing loops.

pub mod admission;
pub mod context;
pub mod engine;
pub mod errors;
pub mod executor;
pub mod extensions;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod relay;
pub mod scalars;
pub mod schema;
pub mod upload;
