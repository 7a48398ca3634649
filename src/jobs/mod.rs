//! The durable job queue (the Celery replacement). A job is a row in `jobs`, inserted with
//! [`queue::enqueue`] in the same transaction as the change that needs it, so it is never lost
//! and never runs for a change that rolled back. Workers claim due jobs (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL, so many workers never take the same job), run them, and on failure
//! retry with exponential backoff until `max_attempts`, after which the job is parked as DEAD
//! for inspection and manual retry. [`schedule`] enqueues the recurring jobs, once per slot
//! across the fleet; [`control`] and [`graphql`] let admins inspect and steer the queue.
//!
//! The queue knows no domain: each domain declares its job kinds ([`job::Job`]) and their
//! handlers in its own `jobs.rs`, and [`kinds`] registers them all at start-up.

pub mod cleanup;
pub mod control;
pub mod graphql;
pub mod job;
pub mod kinds;
pub mod queue;
pub mod schedule;
pub mod worker;
