//! Resumable subscriptions: a client that lost its socket subscribes again with `after` (the id
//! of the last message or notification it saw) and gets every later stored event, in order,
//! then the live ones, with no gap and no duplicate at the seam.
//!
//! How the seam stays closed: the subscriber first listens to the topic (it joins its fan-out
//! group, whose channel buffers what arrives), only then reads the stored events after `after`
//! from the database. Events are published after their commit, so a live event that arrives
//! while the backlog is read is either in the backlog (committed before the read: it is
//! skipped by its id) or committed after the read (it is delivered live). Nothing committed
//! can fall between the two. Each stored event is turned into the same raw payload the
//! publisher sends, so replayed and live events go through the same resolver.
//!
//! A resolver offers resumption by passing a [`Resume`] to `realtime::resumable`: how to load
//! the backlog, and how to read an event's id from a raw payload.

use std::{collections::HashSet, sync::Arc};

use futures_util::future::BoxFuture;
use uuid::Uuid;

use crate::error::AppResult;

/// Stored events after the client's last one, oldest first: each event's id and its raw topic
/// payload (what the publisher would have sent).
pub type Backlog = Vec<(Uuid, Arc<str>)>;

/// Loads the backlog; called once the subscriber already listens to the topic.
pub type LoadBacklog = Box<dyn FnOnce() -> BoxFuture<'static, AppResult<Backlog>> + Send>;

/// What a resumable subscription resolver hands over.
pub struct Resume {
    pub load: LoadBacklog,
    /// The id of the event a raw payload carries (`None`: an event that is never stored, like
    /// typing, which is never skipped).
    pub event_id: fn(&str) -> Option<Uuid>,
}

/// The ids of the replayed events: live events with one of these ids were already sent.
#[derive(Default, Debug, Clone)]
pub struct Seam(Arc<HashSet<Uuid>>);

impl Seam {
    pub fn new(backlog: &Backlog) -> Self {
        Self(Arc::new(backlog.iter().map(|(id, _)| *id).collect()))
    }

    /// True when a live event was already sent from the backlog.
    pub fn replayed(&self, event: Option<Uuid>) -> bool {
        event.is_some_and(|id| self.0.contains(&id))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
