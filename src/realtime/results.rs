//! What a fan-out group sends for each event, and how a member reads it: the same bytes for
//! everyone, or one result per viewer of which each member takes only its own.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
};

use futures_util::{Stream, StreamExt as _};
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};
use uuid::Uuid;

/// Who an audience is: a signed-in user in a role, or anonymous (`None`).
pub type ViewerKey = Option<(Uuid, &'static str)>;

/// One serialized result for one member, ready to be spliced into a `next` frame, with the id
/// of the stored event it came from (for resumed subscriptions, which skip what they replayed).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event: Option<Uuid>,
    pub json: Arc<str>,
}

/// What a group sends on its channel for one event.
#[derive(Debug)]
pub(super) struct Sent {
    pub(super) event: Option<Uuid>,
    pub(super) results: Resolved,
}

#[derive(Debug)]
pub(super) enum Resolved {
    /// Resolved for nobody in particular: the same bytes for every member.
    Everyone(Arc<str>),
    /// Resolved once per viewer: each member takes its own viewer's entry (none when the
    /// resolver skipped the event for that viewer, or the viewer joined after it was resolved).
    PerViewer(HashMap<ViewerKey, Arc<str>>),
}

/// A member's results: its group's channel, read as its viewer. Yields a lag error when the
/// member fell more than the group's capacity (`fanout::GROUP_CAPACITY`) events behind and skipped some.
pub struct Results {
    pub(super) events: BroadcastStream<Arc<Sent>>,
    pub(super) viewer: ViewerKey,
}

impl Stream for Results {
    type Item = Result<Delivery, BroadcastStreamRecvError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let sent = match ready!(self.events.poll_next_unpin(cx)) {
                None => return Poll::Ready(None),
                Some(Err(lagged)) => return Poll::Ready(Some(Err(lagged))),
                Some(Ok(sent)) => sent,
            };
            let json = match &sent.results {
                Resolved::Everyone(json) => Some(json),
                Resolved::PerViewer(by_viewer) => by_viewer.get(&self.viewer),
            };
            if let Some(json) = json {
                return Poll::Ready(Some(Ok(Delivery {
                    event: sent.event,
                    json: json.clone(),
                })));
            }
        }
    }
}
