//! The per-request DataLoader, below every domain and the GraphQL layer alike (batched lookups
//! by typed keys over the database; nothing in it knows GraphQL). Each domain implements `Loader<ItsKey>` for [`AppLoader`] in its
//! own `loaders.rs`, with typed keys (`CategoryChildren(Uuid)`), so one loader batches every kind
//! of lookup of a request. Loaders never authorize: the parent field already did.
//!
//! One pattern for the two common shapes: a row by its id is a key that implements [`ById`]
//! (the `Loader` impl is the one below, for every such key), and the rows that belong to a
//! parent (an order's lines) are put back under their keys by [`grouped`].

use std::{collections::HashMap, hash::Hash, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait, QueryFilter as _};
use uuid::Uuid;

use crate::{AppState, error::AppError};

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

/// A typed key for one row of [`Self::Entity`] by its id (`VendorById(Uuid)`): one
/// `WHERE id IN (…)` per batch, and a key whose row does not exist loads nothing.
pub trait ById: Copy + Eq + Hash + Send + Sync + 'static {
    type Entity: EntityTrait;
    /// The column the ids are matched against.
    const ID: <Self::Entity as EntityTrait>::Column;
    /// The id this key asks for.
    fn id(self) -> Uuid;
    /// The key a loaded row answers.
    fn of(row: &<Self::Entity as EntityTrait>::Model) -> Self;
}

impl<K> Loader<K> for AppLoader
where
    K: ById,
    <K::Entity as EntityTrait>::Model: Sync,
{
    type Value = <K::Entity as EntityTrait>::Model;
    type Error = AppError;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, Self::Value>, Self::Error> {
        let rows = K::Entity::find()
            .filter(K::ID.is_in(keys.iter().map(|k| k.id())))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|row| (K::of(&row), row)).collect())
    }
}

/// `rows` under the key `key_of` gives each, with an empty list for every key that has none
/// (a parent without children loads `[]`, not nothing). The rows keep their order.
pub fn grouped<K: Hash + Eq + Copy, V>(
    keys: &[K],
    rows: Vec<V>,
    key_of: impl Fn(&V) -> K,
) -> HashMap<K, Vec<V>> {
    let mut out: HashMap<K, Vec<V>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for row in rows {
        out.entry(key_of(&row)).or_default().push(row);
    }
    out
}
