//! Subscriber groups: one group per (operation, variables, topic), whoever subscribed. Each
//! event is resolved and serialized once for the whole group when the operation does not
//! depend on the viewer, and once per viewer of the group when it does; the bytes are shared
//! as `Arc<str>` by every member (see the module docs of `realtime`).
//!
//! Inside a group, members are gathered into audiences, one per viewer (user and role), each
//! with its own channel: an audience only ever receives what was resolved for nobody in
//! particular or for its own viewer, so sharing a group cannot leak one user's view to another.
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

use super::{
    Probe, Replay,
    resume::{Resume, Seam},
};
use crate::{
    AppState,
    auth::{Auth, jwt::role_name},
    error::AppError,
    graphql::{
        context::NeutralPass, engine::SharedEngine, errors::response_for, loader::new_loader,
    },
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
    topic: String,
}

/// Who an audience is: a signed-in user in a role, or anonymous (`None`).
type ViewerKey = Option<(Uuid, &'static str)>;

fn viewer_key(auth: &Auth) -> ViewerKey {
    match auth {
        Auth::Viewer(v) => Some((v.user_id, role_name(v.role))),
        _ => None,
    }
}

/// One serialized result of a group, ready to be spliced into a `next` frame, with the id of the
/// stored event it came from (for resumed subscriptions, which skip what they replayed).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event: Option<Uuid>,
    pub json: Arc<str>,
}

/// The members of a group that share one viewer.
struct Audience {
    auth: Auth,
    sender: broadcast::Sender<Delivery>,
    members: usize,
}

type Audiences = Arc<Mutex<HashMap<ViewerKey, Audience>>>;

struct Group {
    /// Shared with the group's task, which reads it once per event.
    audiences: Audiences,
    members: usize,
    task: tokio::task::JoinHandle<()>,
}

/// The groups of one server (one per router).
pub struct Fanout {
    schema: SharedEngine,
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

/// What a subscriber gets: its membership and its audience's shared, serialized results
/// (`{"data":…}` or `{"errors":…}`), ready to be spliced into a `next` frame. A subscription
/// resumed with `after` also gets the results of the stored events it missed, to send first,
/// and the seam: live results whose event is in it were already sent from the backlog.
pub struct Joined {
    pub membership: Membership,
    pub results: broadcast::Receiver<Delivery>,
    pub backlog: Vec<Arc<str>>,
    pub seam: Seam,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Fanout {
    pub fn new(schema: SharedEngine, state: AppState) -> Arc<Self> {
        Arc::new(Self {
            schema,
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
        for (_, payload) in backlog {
            let replay = Replay {
                topic: topic.clone(),
                payload,
            };
            let response = self.resolve(request, auth.clone(), replay).await;
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
                // Subscribed here, before the caller returns, so nothing published after
                // `subscribe` completes is missed.
                let events = self.state.pubsub.subscribe(&key.topic);
                let task = tokio::spawn(run_group(
                    Arc::downgrade(self),
                    copy_request(request),
                    key.topic.clone(),
                    events,
                    audiences.clone(),
                    event_id,
                ));
                groups.entry(key.clone()).or_insert(Group {
                    audiences,
                    members: 0,
                    task,
                })
            }
        };
        group.members += 1;
        let results = lock(&group.audiences)
            .entry(viewer)
            .or_insert_with(|| Audience {
                auth: auth.clone(),
                sender: broadcast::channel(GROUP_CAPACITY).0,
                members: 0,
            })
            .join();
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

impl Audience {
    fn join(&mut self) -> broadcast::Receiver<Delivery> {
        self.members += 1;
        self.sender.subscribe()
    }
}

/// Resolves each event of `topic` for the group and shares the serialized results: once for
/// everyone while the operation never reads the viewer, otherwise once per audience (from the
/// first event that did read it on, for good: the document is the same for every event).
/// A group of resumed subscriptions (`event_id` set) tags each result with its event's id.
async fn run_group(
    fanout: std::sync::Weak<Fanout>,
    request: Request,
    topic: String,
    mut events: impl futures_util::Stream<Item = Arc<str>> + Unpin,
    audiences: Audiences,
    event_id: Option<fn(&str) -> Option<Uuid>>,
) {
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
            let response = fanout.resolve(&request, pass.clone(), replay.clone()).await;
            if pass.viewer_was_read() {
                per_viewer = true;
            } else {
                if let Some(json) = response.and_then(|r| serialize(&r, &topic)) {
                    let delivery = Delivery { event, json };
                    for audience in lock(&audiences).values() {
                        let _ = audience.sender.send(delivery.clone());
                    }
                }
                continue;
            }
        }
        let targets: Vec<(Auth, broadcast::Sender<Delivery>)> = lock(&audiences)
            .values()
            .map(|a| (a.auth.clone(), a.sender.clone()))
            .collect();
        for (auth, sender) in targets {
            let response = fanout.resolve(&request, auth, replay.clone()).await;
            if let Some(json) = response.and_then(|r| serialize(&r, &topic)) {
                let _ = sender.send(Delivery { event, json });
            }
        }
    }
}

impl Fanout {
    /// Runs the group's operation on one event, as `who` (an [`Auth`] or a [`NeutralPass`]).
    /// `None` when the resolver skipped the event.
    async fn resolve(
        &self,
        request: &Request,
        who: impl std::any::Any + Send + Sync,
        replay: Replay,
    ) -> Option<Response> {
        self.resolutions.fetch_add(1, Ordering::Relaxed);
        let request = copy_request(request)
            .data(who)
            .data(new_loader(&self.state))
            .data(replay);
        self.schema.execute_stream(request).next().await
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

/// The parts of a request that define an operation (requests hold their data by value).
fn copy_request(request: &Request) -> Request {
    let mut copy = Request::new(request.query.clone()).variables(request.variables.clone());
    if let Some(name) = &request.operation_name {
        copy = copy.operation_name(name.clone());
    }
    copy
}
