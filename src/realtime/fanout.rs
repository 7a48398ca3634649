//! Subscriber groups: one resolution and one serialization per event per (operation, variables,
//! viewer), shared as `Arc<str>` by every member (see the module docs of `realtime`).
//!
//! A group lives while it has members: the last one leaving removes it from the map and stops
//! its task, which drops its topic subscription. Joining and leaving happen under one lock, so
//! a joiner never gets a group that is being torn down.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
};

use async_graphql::{Request, Response};
use futures_util::StreamExt as _;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{Probe, Replay};
use crate::{
    AppState,
    auth::{Auth, jwt::role_name},
    error::AppError,
    graphql::{AppSchema, errors::response_for, loader::new_loader},
};

/// Open subscriptions in this process (a gauge for `/metrics`).
pub static OPEN_SUBSCRIPTIONS: AtomicI64 = AtomicI64::new(0);

/// How many events a member may lag behind its group before it skips some.
const GROUP_CAPACITY: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    query: String,
    operation_name: Option<String>,
    variables: String,
    viewer: Option<(Uuid, &'static str)>,
}

struct Group {
    sender: broadcast::Sender<Arc<str>>,
    members: usize,
    task: tokio::task::JoinHandle<()>,
}

/// The groups of one server (one per router).
pub struct Fanout {
    schema: AppSchema,
    state: AppState,
    groups: Mutex<HashMap<GroupKey, Group>>,
    resolutions: AtomicU64,
}

/// A subscriber's place in a group; leaving the group is dropping it.
pub struct Membership {
    fanout: Arc<Fanout>,
    key: GroupKey,
}

impl Drop for Membership {
    fn drop(&mut self) {
        OPEN_SUBSCRIPTIONS.fetch_sub(1, Ordering::Relaxed);
        let mut groups = self.fanout.lock();
        if let Some(group) = groups.get_mut(&self.key) {
            group.members -= 1;
            if group.members == 0
                && let Some(group) = groups.remove(&self.key)
            {
                group.task.abort();
            }
        }
    }
}

/// What a subscriber gets: its membership and the group's shared, serialized results
/// (`{"data":…}` or `{"errors":…}`), ready to be wrapped in a `next` frame.
pub struct Joined {
    pub membership: Membership,
    pub results: broadcast::Receiver<Arc<str>>,
}

impl Fanout {
    pub fn new(schema: AppSchema, state: AppState) -> Arc<Self> {
        Arc::new(Self {
            schema,
            state,
            groups: Mutex::new(HashMap::new()),
            resolutions: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<GroupKey, Group>> {
        self.groups.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many events this server's groups have resolved (each once per group).
    pub fn resolutions(&self) -> u64 {
        self.resolutions.load(Ordering::Relaxed)
    }

    /// How many groups are live.
    pub fn group_count(&self) -> usize {
        self.lock().len()
    }

    /// Authorizes `request` as `auth` (its subscription resolver runs with a [`Probe`]) and
    /// joins its group. On refusal, the response carrying the errors to send back.
    pub async fn subscribe(
        self: &Arc<Self>,
        request: &Request,
        auth: &Auth,
    ) -> Result<Joined, Response> {
        let probe = Probe::default();
        let mut probing = self.schema.execute_stream(
            copy_request(request)
                .data(auth.clone())
                .data(probe.clone())
                .data(new_loader(&self.state)),
        );
        while let Some(response) = probing.next().await {
            if response.is_err() {
                return Err(response);
            }
        }
        drop(probing);
        let Some(topic) = probe.topic() else {
            return Err(response_for(AppError::bad_input(
                "query",
                "this operation has no subscription field",
            )));
        };
        let key = GroupKey {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).unwrap_or_default(),
            viewer: match auth {
                Auth::Viewer(v) => Some((v.user_id, role_name(v.role))),
                _ => None,
            },
        };
        Ok(self.join(key, topic, request, auth))
    }

    fn join(
        self: &Arc<Self>,
        key: GroupKey,
        topic: String,
        request: &Request,
        auth: &Auth,
    ) -> Joined {
        let mut groups = self.lock();
        let results = match groups.get_mut(&key) {
            Some(group) => {
                group.members += 1;
                group.sender.subscribe()
            }
            None => {
                let (sender, results) = broadcast::channel(GROUP_CAPACITY);
                // Subscribed here, before the caller returns, so nothing published after
                // `subscribe` completes is missed.
                let events = self.state.pubsub.subscribe(&topic);
                let task = tokio::spawn(run_group(
                    Arc::downgrade(self),
                    copy_request(request),
                    auth.clone(),
                    topic,
                    events,
                    sender.clone(),
                ));
                groups.insert(
                    key.clone(),
                    Group {
                        sender,
                        members: 1,
                        task,
                    },
                );
                results
            }
        };
        OPEN_SUBSCRIPTIONS.fetch_add(1, Ordering::Relaxed);
        Joined {
            membership: Membership {
                fanout: self.clone(),
                key,
            },
            results,
        }
    }
}

/// Resolves each event of `topic` once for the group and shares the serialized result.
async fn run_group(
    fanout: std::sync::Weak<Fanout>,
    request: Request,
    auth: Auth,
    topic: String,
    mut events: impl futures_util::Stream<Item = Arc<str>> + Unpin,
    sender: broadcast::Sender<Arc<str>>,
) {
    while let Some(payload) = events.next().await {
        let Some(fanout) = fanout.upgrade() else {
            return;
        };
        fanout.resolutions.fetch_add(1, Ordering::Relaxed);
        let replay = Replay {
            topic: topic.clone(),
            payload,
        };
        let request = copy_request(&request)
            .data(auth.clone())
            .data(new_loader(&fanout.state))
            .data(replay);
        let response = fanout.schema.execute_stream(request).next().await;
        drop(fanout);
        let Some(response) = response else {
            continue; // the resolver skipped this event
        };
        match serde_json::to_string(&response) {
            Ok(json) => {
                let _ = sender.send(Arc::from(json));
            }
            Err(err) => tracing::error!(error = %err, %topic, "could not serialize an event"),
        }
    }
}

/// The parts of a request that define an operation (requests hold their data by value).
fn copy_request(request: &Request) -> Request {
    let mut copy = Request::new(request.query.clone()).variables(request.variables.clone());
    if let Some(name) = &request.operation_name {
        copy = copy.operation_name(name.clone());
    }
    copy
}
