//! `AppState`: everything a request, a job or a command needs, built once from the `Config`.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::{
    auth::jwt::JwtKeys, catalog::cache::CatalogCache, config::Config, db, mail::Mailer,
    orders::service::queue::PlacementQueue, pickups::service::booking::BookingQueue,
    pubsub::PubSub, storage::Storage,
};

/// Cheap to clone: every field is a handle.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub pubsub: PubSub,
    pub mailer: Mailer,
    /// Uploaded files (KYC documents, product images, chat attachments).
    pub storage: Storage,
    /// Recent counts and pages of the public catalog.
    pub catalog_cache: Arc<CatalogCache>,
    pub config: Arc<Config>,
    pub jwt: Arc<JwtKeys>,
    /// Group commit of `createOrder`: concurrent placements share transactions.
    pub placements: PlacementQueue,
    /// Group commit of `bookPickup` into slots: concurrent bookings share transactions.
    pub bookings: BookingQueue,
    /// Wakes this process's job worker when a request has just enqueued work.
    pub jobs_wakeup: Arc<Notify>,
    /// Access tokens cut off before they expire (deactivated users, changed roles).
    pub revocations: Arc<crate::auth::revoked::Revocations>,
    /// SQLite: WAL checkpoints in the background while this state lives (`db::checkpoint`).
    pub checkpoints: Option<Arc<db::checkpoint::Checkpointer>>,
    /// The configured payment and payout providers.
    pub providers: Arc<crate::wallet::providers::Providers>,
}

impl AppState {
    /// Connects to the database (applying pending migrations), pub/sub and mail.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = db::connect(&config).await?;
        db::migrate(&db).await?;
        let state = Self::from_parts(config, db)?;
        // Deactivated users' tokens are refused from the first request on.
        state.revocations.load(&state.db).await?;
        Ok(state)
    }

    /// Builds the state around an already connected and migrated database.
    pub fn from_parts(config: Config, db: DatabaseConnection) -> anyhow::Result<Self> {
        crate::auth::password::limit_concurrency(config.password_hash_concurrency);
        let pubsub = match &config.redis_url {
            Some(url) => PubSub::redis(url)?,
            None => PubSub::local(),
        };
        let mailer = Mailer::from_config(&config)?;
        let revocations = Arc::new(crate::auth::revoked::Revocations::default());
        crate::auth::revoked::Revocations::follow(&revocations, &pubsub);
        let providers = Arc::new(crate::wallet::providers::Providers::from_config(&config)?);
        Ok(Self {
            revocations,
            placements: PlacementQueue::new(db.clone()),
            bookings: BookingQueue::new(db.clone()),
            db,
            pubsub,
            mailer,
            storage: Storage::local(&config.media_dir),
            catalog_cache: Arc::new(CatalogCache::new(
                config.catalog_count_ttl,
                config.catalog_page_ttl,
            )),
            jwt: Arc::new(JwtKeys::new(&config)),
            checkpoints: db::checkpoint::Checkpointer::start(&config.database_url).map(Arc::new),
            config: Arc::new(config),
            jobs_wakeup: Arc::new(Notify::new()),
            providers,
        })
    }

    /// Call after committing a transaction that enqueued jobs.
    pub fn wake_worker(&self) {
        self.jobs_wakeup.notify_one();
    }
}
