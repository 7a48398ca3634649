//! The per-request DataLoader. Each domain implements `Loader<ItsKey>` for [`AppLoader`] in its
//! own `loaders.rs`, with typed keys (`CategoryChildren(Uuid)`), so one loader batches every kind
//! of lookup of a request. Loaders never authorize: the parent field already did.

use async_graphql::dataloader::DataLoader;
use sea_orm::DatabaseConnection;

use crate::AppState;

pub struct AppLoader {
    pub db: DatabaseConnection,
}

pub fn new_loader(state: &AppState) -> DataLoader<AppLoader> {
    DataLoader::new(
        AppLoader {
            db: state.db.clone(),
        },
        tokio::spawn,
    )
}
