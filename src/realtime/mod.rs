//! Real time: GraphQL subscriptions fed by pub/sub topics, and what publishes to them.
//!
//! Topics (see [`topic`]): `chat:{roomId}` (messages, read receipts, typing), `user:{userId}:notifications`,
//! `order:{orderId}`, plus `user:{userId}:orders` and `orders` for `orderUpdated` without an id.
//! Everything is published after the database commit ([`live`]); a failed publish is logged,
//! never returned, because the database is the source of truth.
//!
//! ## Resolve once, share the bytes
//! A subscription resolver does two things: it authorizes the caller and names a topic, and it
//! turns one raw topic payload into an output object. The WebSocket handler (`http::ws`) uses
//! them separately ([`fanout`]):
//! - at subscribe time, per subscriber, it runs the operation with a [`Probe`] in the context:
//!   the resolver authorizes (NOT_FOUND/FORBIDDEN go back to that subscriber only), records its
//!   topic and returns an empty stream;
//! - the subscriber then joins the group of subscribers with the same operation, variables and
//!   topic, whoever they are. The group (one task) subscribes to the topic once and, for each
//!   payload, runs the operation once with a [`Replay`] of that payload and no caller (a
//!   `NeutralPass`), serializes the result once, and hands the same `Arc<str>` to every member,
//!   whose connection only splices it into its `next` frame.
//!
//! Some fields depend on who asks (`ChatRoom.unreadCount`, `User.email`, `Product.inWishlist`).
//! Every resolver learns the caller through `ContextExt::auth`, which during a neutral pass
//! answers "anonymous" and marks the pass; a group whose pass was marked discards that result
//! and from then on resolves each event once per viewer among its members (concurrently, with one
//! loader, so per-viewer fields batch), sends every viewer's result in one entry of the group's
//! one channel, and each member reads only its own viewer's result: a viewer-dependent value
//! never reaches another user. Replays skip authorization, which each member passed when it
//! subscribed, and so do not read the viewer themselves: 1,000 connections of two users on one
//! room resolve and serialize each `messageAdded { body }` once.
//!
//! Executed any other way (`Schema::execute_stream` without a probe or replay), the resolvers
//! behave as ordinary per-subscriber subscriptions, so the schema stays usable on its own.

pub mod fanout;
pub mod live;
mod operation;
pub mod results;
pub mod resume;
pub mod topic;

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use async_graphql::Context;
use futures_util::{
    StreamExt as _,
    stream::{self, BoxStream},
};

pub use resume::Resume;

/// Put in a request's data by the WebSocket handler to authorize a subscription without
/// running it: the resolver records its topic (and, resumed with `after`, how to load what the
/// client missed) here and returns an empty stream.
#[derive(Clone, Default)]
pub struct Probe {
    topic: Arc<Mutex<Option<String>>>,
    resume: Arc<Mutex<Option<Resume>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Probe {
    pub fn topic(&self) -> Option<String> {
        lock(&self.topic).clone()
    }

    /// The resumption the resolver asked for, if the client passed `after`.
    pub fn take_resume(&self) -> Option<Resume> {
        lock(&self.resume).take()
    }

    fn set(&self, topic: &str, resume: Option<Resume>) {
        *lock(&self.topic) = Some(topic.to_owned());
        *lock(&self.resume) = resume;
    }
}

/// Put in a request's data by a fan-out group: resolve this one payload of `topic` (the group's
/// members were authorized by a [`Probe`] when they subscribed).
#[derive(Clone)]
pub struct Replay {
    pub topic: String,
    pub payload: Arc<str>,
}

/// True while a fan-out group resolves an event: the resolver skips authorization, which each
/// member passed at subscribe time.
pub fn is_replay(ctx: &Context<'_>) -> bool {
    ctx.data_opt::<Replay>().is_some()
}

/// The events of `topic`, each turned into an output value by `map` (`None` skips it). See the
/// module docs for the probe and replay modes.
pub fn events<T, F, Fut>(ctx: &Context<'_>, topic: String, map: F) -> BoxStream<'static, T>
where
    T: Send + 'static,
    F: Fn(Arc<str>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<T>> + Send + 'static,
{
    resumable(ctx, topic, None, map)
}

/// [`events`], first replaying the stored events `resume` loads (see [`resume`]): listening to
/// the topic starts before the backlog is read, and live events already replayed are skipped.
pub fn resumable<T, F, Fut>(
    ctx: &Context<'_>,
    topic: String,
    resume: Option<Resume>,
    map: F,
) -> BoxStream<'static, T>
where
    T: Send + 'static,
    F: Fn(Arc<str>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<T>> + Send + 'static,
{
    if let Some(probe) = ctx.data_opt::<Probe>() {
        probe.set(&topic, resume);
        return stream::empty().boxed();
    }
    if let Some(replay) = ctx.data_opt::<Replay>() {
        if replay.topic != topic {
            return stream::empty().boxed();
        }
        return stream::once(map(replay.payload.clone()))
            .filter_map(std::future::ready)
            .boxed();
    }
    let live = ctx
        .data_unchecked::<crate::AppState>()
        .pubsub
        .subscribe(&topic);
    let Some(resume) = resume else {
        return live.then(map).filter_map(std::future::ready).boxed();
    };
    let payloads = async move {
        let backlog = (resume.load)().await.unwrap_or_else(|err| {
            tracing::warn!(error = %err, %topic, "could not load the events to resume from");
            Vec::new()
        });
        let seam = resume::Seam::new(&backlog);
        let event_id = resume.event_id;
        stream::iter(backlog.into_iter().map(|(_, payload)| payload)).chain(
            live.filter(move |payload| std::future::ready(!seam.replayed(event_id(payload)))),
        )
    };
    stream::once(payloads)
        .flatten()
        .then(map)
        .filter_map(std::future::ready)
        .boxed()
}
