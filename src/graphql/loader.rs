//! The per-request DataLoader. Each domain implements `Loader<ItsKey>` for [`AppLoader`] in its
//! own `loaders.rs`, with typed keys (`CategoryChildren(Uuid)`), so one loader batches every kind
//! of lookup of a request. Loaders never authorize: the parent field already did.

use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, HashMapCache};
use sea_orm::DatabaseConnection;

use crate::AppState;

pub struct AppLoader {
    pub db: DatabaseConnection,
}

/// The loader every request and WebSocket connection gets; shared (`Arc`) so that a fan-out
/// group resolving one event for many viewers at once batches all their lookups together.
pub type RequestLoader = Arc<DataLoader<AppLoader, HashMapCache>>;

pub fn new_loader(state: &AppState) -> RequestLoader {
    // Cached for the request: a parent that already read rows (the product page joins its
    // vendors) feeds them in, and a value asked for twice is loaded once.
    Arc::new(DataLoader::with_cache(
        AppLoader {
            db: state.db.clone(),
        },
        tokio::spawn,
        HashMapCache::default(),
    ))
}
