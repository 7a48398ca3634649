//! Chat between the two parties of an order (its buyer and the vendor's user) or of a pickup
//! (its household and its collector's user), and admins (who may read and write every room).
//! An order's room is created on demand; a pickup's room is created with the pickup's
//! collector, in the same transaction, so it exists exactly when the pickup has one. Nobody
//! else learns a room exists (NOT_FOUND). Messages are 1–4,000 characters of text with an
//! optional image or PDF attachment, checked by content and stored privately under
//! `chat/{roomId}/`. A participant's read position is one timestamp per room (`chat_reads`):
//! read receipts and unread counts derive from it. A new message notifies the other side (and
//! emails them through the job queue if they have not been online lately). Events are
//! published on `chat:{roomId}` after the commit.

pub mod events;
pub mod graphql;
pub mod loaders;
pub mod rooms;
pub mod service;
pub mod subscriptions;
pub mod unread;
