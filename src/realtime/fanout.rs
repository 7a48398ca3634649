//! Subscriber groups: one group per (operation, variables, topic), whoever subscribed. Each
//! event is resolved and serialized once for the whole group when the operation does not
//! depend on the viewer, and once per viewer of the group when it does; the bytes are shared
//! as `Arc<str>` by every member (see the module docs of `realtime`).
//!
//! A group has one channel, whatever its size. Members are counted in audiences, one per viewer
//! (user and role), only to know whom to resolve for: once the operation reads the viewer,
//! each event goes out as one entry holding every audience's own result, and a member's stream
//! ([`Results`]) yields its own viewer's result and nothing else, so sharing a group cannot leak
//! one user's view to another. One channel per group keeps memory per subscriber small (a
//! receiver, not a 1,024-slot buffer per viewer) and each event costs one send.
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
use futures_util::{StreamExt as _, future::join_all};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use uuid::Uuid;

use super::{
    Probe, Replay,
    operation::{Operation, copy_request},
    results::{Resolved, Results, Sent, ViewerKey},
    resume::{Resume, Seam},
};
use crate::{
    AppState,
    auth::{Auth, jwt::role_name},
    error::AppError,
    graphql::{
        context::NeutralPass,
        engine::SharedEngine,
        errors::{annotate, response_for},
    },
    loader::{RequestLoader, new_loader},
};

/// Open subscriptions in this process (a gauge for `/metrics`).
pub static OPEN_SUBSCRIPTIONS: AtomicI64 = AtomicI64::new(0);

/// How many events a member may lag behind its group before it skips some. The channel holds
/// one pointer per slot, so a group's buffer is 1,024 × 32 bytes whatever its size.
const GROUP_CAPACITY: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    query: String,
    operation_name: Option<String>,
    variables: String,
    topic: String,
}

fn viewer_key(auth: &Auth) -> ViewerKey {
    match auth {
        Auth::Viewer(v) => Some((v.user_id, role_name(v.role))),
        _ => None,
    }
}

/// The members of a group that share one viewer.
struct Audience {
    auth: Auth,
    members: usize,
}

type Audiences = Arc<Mutex<HashMap<ViewerKey, Audience>>>;

struct Group {
    sender: broadcast::Sender<Arc<Sent>>,
    /// Shared with the group's task, which reads it once per event.
    audiences: Audiences,
    members: usize,
    task: tokio::task::JoinHandle<()>,
}

/// The groups of one server (one per router).
pub struct Fanout {
    /// Authorizes subscribers (with the extensions: error codes, limits, metrics).
    schema: SharedEngine,
    /// Replays events for groups: the schema without extensions, whose hooks would otherwise
    /// wrap every field of every replay; errors are annotated afterwards.
    replays: SharedEngine,
    state: AppState,
    groups: Mutex<HashMap<GroupKey, Group>>,
    resolutions: AtomicU64,
}

/// A subscriber's place in a group; leaving the group is dropping it.
pub struct Membership {
    fanout: Arc<Fanout>,
    key: GroupKey,
    viewer: ViewerKey,
}

impl Drop for Membership {
    fn drop(&mut self) {
        OPEN_SUBSCRIPTIONS.fetch_sub(1, Ordering::Relaxed);
        let mut groups = self.fanout.lock();
        let Some(group) = groups.get_mut(&self.key) else {
            return;
        };
        {
            let mut audiences = lock(&group.audiences);
            if let Some(audience) = audiences.get_mut(&self.viewer) {
                audience.members -= 1;
                if audience.members == 0 {
                    audiences.remove(&self.viewer);
                }
            }
        }
        group.members -= 1;
        if group.members == 0
            && let Some(group) = groups.remove(&self.key)
        {
            group.task.abort();
        }
    }
}

/// What a subscriber gets: its membership and its group's shared, serialized results
/// (`{"data":…}` or `{"errors":…}`), ready to be spliced into a `next` frame. A subscription
/// resumed with `after` also gets the results of the stored events it missed, to send first,
/// and the seam: live results whose event is in it were already sent from the backlog.
pub struct Joined {
    pub membership: Membership,
    pub results: Results,
    pub backlog: Vec<Arc<str>>,
    pub seam: Seam,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Fanout {
    pub fn new(schema: SharedEngine, replays: SharedEngine, state: AppState) -> Arc<Self> {
        Arc::new(Self {
            schema,
            replays,
            state,
            groups: Mutex::new(HashMap::new()),
            resolutions: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<GroupKey, Group>> {
        lock(&self.groups)
    }

    /// How many times this server's groups have resolved an event (once per group and event
    /// for operations that do not read the viewer, once per viewer for those that do).
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
        let resume = probe.take_resume();
        let key = GroupKey {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).unwrap_or_default(),
            topic,
        };
        let event_id = resume.as_ref().map(|r| r.event_id);
        // Listening first, reading the backlog second: see `realtime::resume`.
        let mut joined = self.join(key, request, auth, event_id);
        if let Some(resume) = resume {
            self.replay_backlog(&mut joined, resume, request, auth)
                .await
                .map_err(response_for)?;
        }
        Ok(joined)
    }

    /// Resolves, as the subscriber, the stored events it missed.
    async fn replay_backlog(
        &self,
        joined: &mut Joined,
        resume: Resume,
        request: &Request,
        auth: &Auth,
    ) -> Result<(), AppError> {
        let backlog = (resume.load)().await?;
        joined.seam = Seam::new(&backlog);
        let topic = joined.membership.key.topic.clone();
        let operation = Operation::new(request);
        for (_, payload) in backlog {
            let replay = Replay {
                topic: topic.clone(),
                payload,
            };
            let response = self
                .resolve(&operation, auth.clone(), replay, new_loader(&self.state))
                .await;
            if let Some(json) = response.and_then(|r| serialize(&r, &topic)) {
                joined.backlog.push(json);
            }
        }
        Ok(())
    }

    fn join(
        self: &Arc<Self>,
        key: GroupKey,
        request: &Request,
        auth: &Auth,
        event_id: Option<fn(&str) -> Option<Uuid>>,
    ) -> Joined {
        let viewer = viewer_key(auth);
        let mut groups = self.lock();
        let group = match groups.get_mut(&key) {
            Some(group) => group,
            None => {
                let audiences = Audiences::default();
                let sender = broadcast::channel(GROUP_CAPACITY).0;
                // Subscribed here, before the caller returns, so nothing published after
                // `subscribe` completes is missed.
                let events = self.state.pubsub.subscribe(&key.topic);
                let task = tokio::spawn(run_group(
                    Arc::downgrade(self),
                    Operation::new(request),
                    key.topic.clone(),
                    events,
                    GroupOutput {
                        sender: sender.clone(),
                        audiences: audiences.clone(),
                    },
                    event_id,
                ));
                groups.entry(key.clone()).or_insert(Group {
                    sender,
                    audiences,
                    members: 0,
                    task,
                })
            }
        };
        group.members += 1;
        lock(&group.audiences)
            .entry(viewer)
            .or_insert_with(|| Audience {
                auth: auth.clone(),
                members: 0,
            })
            .members += 1;
        let results = Results {
            events: BroadcastStream::new(group.sender.subscribe()),
            viewer,
        };
        OPEN_SUBSCRIPTIONS.fetch_add(1, Ordering::Relaxed);
        Joined {
            membership: Membership {
                fanout: self.clone(),
                key,
                viewer,
            },
            results,
            backlog: Vec::new(),
            seam: Seam::default(),
        }
    }
}

/// Where a group's task sends its results, and for whom it resolves them.
struct GroupOutput {
    sender: broadcast::Sender<Arc<Sent>>,
    audiences: Audiences,
}

impl GroupOutput {
    fn send(&self, event: Option<Uuid>, results: Resolved) {
        // No receiver left: the last member is leaving and the task is being stopped.
        let _ = self.sender.send(Arc::new(Sent { event, results }));
    }
}

/// Resolves each event of `topic` for the group and shares the serialized results: once for
/// everyone while the operation never reads the viewer, otherwise once per audience (from the
/// first event that did read it on, for good: the document is the same for every event).
/// The audiences of one event are resolved concurrently with one loader, so a per-viewer field
/// (`ChatRoom.unreadCount`) is one batched statement for all of them, not one per viewer.
/// A group of resumed subscriptions (`event_id` set) tags each result with its event's id.
async fn run_group(
    fanout: std::sync::Weak<Fanout>,
    operation: Operation,
    topic: String,
    mut events: impl futures_util::Stream<Item = Arc<str>> + Unpin,
    output: GroupOutput,
    event_id: Option<fn(&str) -> Option<Uuid>>,
) {
    let operation = Arc::new(operation);
    let mut per_viewer = false;
    while let Some(payload) = events.next().await {
        let Some(fanout) = fanout.upgrade() else {
            return;
        };
        let event = event_id.and_then(|read| read(&payload));
        let replay = Replay {
            topic: topic.clone(),
            payload,
        };
        if !per_viewer {
            let pass = NeutralPass::default();
            let response = fanout
                .resolve(
                    &operation,
                    pass.clone(),
                    replay.clone(),
                    new_loader(&fanout.state),
                )
                .await;
            if pass.viewer_was_read() {
                per_viewer = true;
            } else {
                if let Some(json) = response.and_then(|r| serialize(&r, &topic)) {
                    output.send(event, Resolved::Everyone(json));
                }
                continue;
            }
        }
        let viewers: Vec<(ViewerKey, Auth)> = lock(&output.audiences)
            .iter()
            .map(|(key, audience)| (*key, audience.auth.clone()))
            .collect();
        // Large groups split their viewers over the cores; all parts share one loader.
        let parts = if viewers.len() < SPLIT_FROM {
            1
        } else {
            cores()
        };
        let loader = new_loader(&fanout.state);
        let mut tasks = Vec::with_capacity(parts);
        for part in viewers.chunks(viewers.len().div_ceil(parts).max(1)) {
            tasks.push(tokio::spawn(resolve_for(
                fanout.clone(),
                operation.clone(),
                replay.clone(),
                loader.clone(),
                part.to_vec(),
            )));
        }
        let mut by_viewer = HashMap::with_capacity(viewers.len());
        for task in tasks {
            match task.await {
                Ok(part) => by_viewer.extend(part),
                Err(err) => tracing::error!(error = %err, %topic, "a per-viewer resolution failed"),
            }
        }
        output.send(event, Resolved::PerViewer(by_viewer));
    }
}

/// Groups with at least this many viewers resolve them on every core.
const SPLIT_FROM: usize = 8;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Resolves and serializes one event for each of `viewers`, concurrently, with `loader`.
async fn resolve_for(
    fanout: Arc<Fanout>,
    operation: Arc<Operation>,
    replay: Replay,
    loader: RequestLoader,
    viewers: Vec<(ViewerKey, Auth)>,
) -> Vec<(ViewerKey, Arc<str>)> {
    let topic = replay.topic.clone();
    let resolved = join_all(viewers.into_iter().map(|(key, auth)| {
        let (fanout, operation, replay, loader) =
            (&fanout, &operation, replay.clone(), loader.clone());
        async move {
            let response = fanout.resolve(operation, auth, replay, loader).await;
            (key, response)
        }
    }))
    .await;
    resolved
        .into_iter()
        .filter_map(|(key, response)| Some((key, serialize(&response?, &topic)?)))
        .collect()
}

impl Fanout {
    /// Runs the group's operation on one event, as `who` (an [`Auth`] or a [`NeutralPass`]).
    /// `None` when the resolver skipped the event.
    async fn resolve(
        &self,
        operation: &Operation,
        who: impl std::any::Any + Send + Sync,
        replay: Replay,
        loader: RequestLoader,
    ) -> Option<Response> {
        self.resolutions.fetch_add(1, Ordering::Relaxed);
        let request = operation.request().data(who).data(loader).data(replay);
        let response = self.replays.execute_stream(request).next().await?;
        Some(annotate(response))
    }
}

fn serialize(response: &Response, topic: &str) -> Option<Arc<str>> {
    match serde_json::to_string(response) {
        Ok(json) => Some(Arc::from(json)),
        Err(err) => {
            tracing::error!(error = %err, %topic, "could not serialize an event");
            None
        }
    }
}
