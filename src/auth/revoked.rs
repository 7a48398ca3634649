//! Access tokens that stop working before they expire. Access tokens are stateless JWTs, so a
//! deactivated user's (or a user whose role changed) would otherwise keep working until `exp`.
//! Each instance keeps, per such user, what is still accepted: nothing (deactivated), or only
//! tokens that claim the user's current role (after a role change; a refresh gives one).
//!
//! What must stay true here:
//! - the instance that made the change applies it before answering (its next request is
//!   refused at once); other instances learn it through pub/sub ([`TOPIC`]) and load the
//!   deactivated users from the database when they start;
//! - open WebSocket connections hear of it through [`Revocations::watch`] and close.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, Weak},
};

use entity::users::{self, Role};
use futures_util::StreamExt as _;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QuerySelect as _,
};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::jwt::role_name;
use crate::{error::AppResult, pubsub::PubSub};

/// The pub/sub topic on which instances tell each other: `<user id> <ALL | role>`.
pub const TOPIC: &str = "accounts:revocations";

/// What is still accepted of a user's tokens: `None`, nothing; `Some(role)`, those claiming it.
pub type Accepted = Option<Role>;

/// Per-user limits on the tokens accepted.
pub struct Revocations {
    limits: RwLock<HashMap<Uuid, Accepted>>,
    changed: broadcast::Sender<Uuid>,
}

impl Default for Revocations {
    fn default() -> Self {
        Self {
            limits: RwLock::default(),
            changed: broadcast::channel(256).0,
        }
    }
}

fn parse_role(text: &str) -> Option<Role> {
    [Role::Customer, Role::Vendor, Role::Admin]
        .into_iter()
        .find(|r| role_name(*r) == text)
}

impl Revocations {
    /// Whether a token of `user_id` claiming `role` is refused.
    pub fn refuses(&self, user_id: Uuid, role: Role) -> bool {
        match self
            .limits
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&user_id)
        {
            None => false,
            Some(None) => true,
            Some(Some(current)) => *current != role,
        }
    }

    /// Applies a limit here and tells open connections.
    pub fn apply(&self, user_id: Uuid, accepted: Accepted) {
        self.limits
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(user_id, accepted);
        // Nobody listening (no open socket) is fine.
        let _ = self.changed.send(user_id);
    }

    /// Applies a limit here and on every other instance.
    pub async fn publish(&self, pubsub: &PubSub, user_id: Uuid, accepted: Accepted) {
        self.apply(user_id, accepted);
        let what = accepted.map_or("ALL", role_name);
        pubsub.publish(TOPIC, format!("{user_id} {what}")).await;
    }

    /// The users whose tokens were just limited (a WebSocket closes if it is theirs).
    pub fn watch(&self) -> broadcast::Receiver<Uuid> {
        self.changed.subscribe()
    }

    /// Refuses every deactivated user's tokens (at start-up, when nothing was heard yet).
    pub async fn load(&self, conn: &impl ConnectionTrait) -> AppResult<usize> {
        let inactive: Vec<Uuid> = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::IsActive.eq(false))
            .into_tuple()
            .all(conn)
            .await?;
        let count = inactive.len();
        let mut limits = self.limits.write().unwrap_or_else(|e| e.into_inner());
        for id in inactive {
            limits.entry(id).or_insert(None);
        }
        Ok(count)
    }

    /// Follows [`TOPIC`] while `this` lives.
    pub fn follow(this: &Arc<Self>, pubsub: &PubSub) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<Self> = Arc::downgrade(this);
        let mut messages = pubsub.subscribe(TOPIC);
        runtime.spawn(async move {
            while let Some(message) = messages.next().await {
                let Some(this) = weak.upgrade() else { break };
                let parsed = message.split_once(' ').and_then(|(id, what)| {
                    let id = id.parse::<Uuid>().ok()?;
                    match what {
                        "ALL" => Some((id, None)),
                        role => parse_role(role).map(|r| (id, Some(r))),
                    }
                });
                match parsed {
                    Some((id, accepted)) => this.apply(id, accepted),
                    None => tracing::warn!(%message, "unreadable revocation message"),
                }
            }
        });
    }
}
