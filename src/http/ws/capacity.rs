//! How many WebSocket connections this instance holds, in all and per signed-in user, so that no
//! client can open sockets without bound: past `WS_MAX_CONNECTIONS` an upgrade is refused with
//! HTTP 429; past `WS_MAX_CONNECTIONS_PER_USER` a `connection_init` is closed with 4429.
//! A slot is released when its guard drops, however the connection ends.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use uuid::Uuid;

/// The connection counts of one server.
#[derive(Default)]
pub struct Capacity {
    open: AtomicUsize,
    per_user: Mutex<HashMap<Uuid, usize>>,
}

/// One open connection; dropping it frees the slot.
pub struct ConnectionSlot {
    capacity: Arc<Capacity>,
}

/// One signed-in user's connection; dropping it frees the user's slot.
pub struct UserSlot {
    capacity: Arc<Capacity>,
    user_id: Uuid,
}

impl Capacity {
    /// A slot for a new connection, or `None` when `max` are open.
    pub fn open(self: &Arc<Self>, max: usize) -> Option<ConnectionSlot> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .ok()?;
        Some(ConnectionSlot {
            capacity: self.clone(),
        })
    }

    /// A slot for one more connection of `user_id`, or `None` when it has `max` open.
    pub fn for_user(self: &Arc<Self>, user_id: Uuid, max: usize) -> Option<UserSlot> {
        let mut per_user = self.per_user.lock().unwrap_or_else(|e| e.into_inner());
        let count = per_user.entry(user_id).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(UserSlot {
            capacity: self.clone(),
            user_id,
        })
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.capacity.open.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut per_user = self
            .capacity
            .per_user
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = per_user.get_mut(&self.user_id) {
            *count -= 1;
            if *count == 0 {
                per_user.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_freed_when_dropped() {
        let capacity = Arc::new(Capacity::default());
        let first = capacity.open(2);
        let second = capacity.open(2);
        assert!(first.is_some() && second.is_some());
        assert!(capacity.open(2).is_none());
        drop(first);
        assert!(capacity.open(2).is_some());

        let user = Uuid::new_v4();
        let a = capacity.for_user(user, 1);
        assert!(a.is_some());
        assert!(capacity.for_user(user, 1).is_none());
        assert!(capacity.for_user(Uuid::new_v4(), 1).is_some());
        drop(a);
        assert!(capacity.for_user(user, 1).is_some());
    }
}
