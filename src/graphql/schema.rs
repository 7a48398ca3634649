//! The schema: each domain's Query/Mutation/Subscription roots merged into one, with the
//! extensions, limits and data every execution needs. The top of the GraphQL layer: it names
//! every domain's resolvers, and nothing below names it.

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

use super::{admission, executor, extensions, limits};
use crate::loader;

use crate::{
    AppState, accounts, audit, auth, catalog, chat, jobs, notifications, orders, payouts, pickups,
    reports, settings, vendors, wallet,
};

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    accounts::graphql::AccountsQuery,
    catalog::graphql::CatalogQuery,
    catalog::graphql::ProductsQuery,
    settings::graphql::SettingsQuery,
    vendors::graphql::VendorsQuery,
    wallet::graphql::WalletQuery,
    wallet::graphql::payments::PaymentsQuery,
    orders::graphql::OrdersQuery,
    orders::graphql::AnalyticsQuery,
    payouts::graphql::PayoutsQuery,
    pickups::graphql::PickupsQuery,
    notifications::graphql::NotificationsQuery,
    chat::graphql::ChatQuery,
    jobs::graphql::JobsQuery,
    reports::graphql::ReportsQuery,
    accounts::graphql::admin::AccountsAdminQuery,
    audit::graphql::AuditQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    auth::graphql::AuthMutation,
    accounts::graphql::AccountsMutation,
    catalog::graphql::CatalogMutation,
    catalog::graphql::ProductsMutation,
    settings::graphql::SettingsMutation,
    vendors::graphql::VendorsMutation,
    wallet::graphql::WalletMutation,
    wallet::graphql::payments::PaymentsMutation,
    orders::graphql::OrdersMutation,
    payouts::graphql::PayoutsMutation,
    pickups::graphql::PickupsMutation,
    notifications::graphql::NotificationsMutation,
    chat::graphql::ChatMutation,
    jobs::graphql::JobsMutation,
    accounts::graphql::admin::AccountsAdminMutation,
);

#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(
    chat::subscriptions::ChatSubscription,
    notifications::subscriptions::NotificationsSubscription,
    orders::subscriptions::OrdersSubscription,
    pickups::graphql::PickupsSubscription,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The schema without runtime data: enough for the SDL.
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    // Metrics, error codes, publish after commit: the list the HTTP executor applies too.
    extensions::install(bare_builder())
}

/// The roots without extensions: any extension makes the engine wrap every field's resolver
/// in its hooks, so the HTTP schema has none (see [`executor`]).
fn bare_builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
}

/// The two executable schemas over one state (and one rate limiter, so both count alike).
pub struct Schemas {
    /// With the extensions (limits, error codes, metrics, publish after commit): WebSocket
    /// operations, subscriptions and tests that execute on the schema directly.
    pub full: AppSchema,
    /// Without extensions, for [`executor::HttpExecutor`], which does their work once per
    /// request instead of once per field.
    pub http: executor::HttpExecutor,
    /// Without extensions and with the fast validation, for fan-out groups replaying an event
    /// for their members: each member's subscribe went through `full` and its strict
    /// validation, so a replay only runs the rules execution needs; replays annotate errors.
    pub replays: AppSchema,
}

/// The executable schema over `state`.
pub fn build_schema(state: AppState) -> AppSchema {
    let limiter = rate_limiter(&state.config);
    finish(schema_builder(), state, limiter, true)
}

/// Both schemas over `state`: see [`Schemas`].
pub fn build_schemas(state: AppState) -> Schemas {
    let limiter = rate_limiter(&state.config);
    let full = finish(schema_builder(), state.clone(), limiter.clone(), true);
    let bare = finish(bare_builder(), state.clone(), limiter.clone(), false);
    let replays = finish(
        bare_builder().validation_mode(async_graphql::ValidationMode::Fast),
        state.clone(),
        limiter,
        false,
    );
    let limits = limits::DocumentLimits::from_config(&state.config);
    Schemas {
        full,
        http: executor::HttpExecutor::new(std::sync::Arc::new(bare), limits, state),
        replays,
    }
}

fn rate_limiter(config: &crate::config::Config) -> crate::ratelimit::RateLimiter {
    crate::ratelimit::RateLimiter::from_config(config).unwrap_or_else(|err| {
        tracing::error!(error = ?err, "rate limits fall back to this process's memory");
        crate::ratelimit::RateLimiter::in_memory(config.rate_limits.clone())
    })
}

/// The engine's limits and switches, the state and the limiter. `with_limits` adds the
/// document-limits extension; a schema without it is only run by the executor, which applies
/// the same limits itself.
fn finish(
    builder: SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot>,
    state: AppState,
    limiter: crate::ratelimit::RateLimiter,
    with_limits: bool,
) -> AppSchema {
    let config = &state.config;
    // Complexity, recursion, directives per field, introspection, suggestions.
    let mut builder = admission::engine_checks(builder, config);
    if with_limits {
        // Depth, aliases, directives and tokens: limits::Limits (depth without introspection).
        builder = builder.extension(limits::Limits(limits::DocumentLimits::from_config(config)));
    }
    builder.data(limiter).data(state).finish()
}

/// The SDL written to `schema.graphql` (by `kabaadwala export-schema`).
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// Data added to every request: who is calling, and a fresh DataLoader.
pub fn request_data(
    request: async_graphql::Request,
    state: &AppState,
    auth: auth::Auth,
) -> async_graphql::Request {
    request.data(auth).data(loader::new_loader(state))
}

/// [`request_data`] plus the client's IP address (for rate limits).
pub fn request_data_from(
    request: async_graphql::Request,
    state: &AppState,
    auth: auth::Auth,
    ip: Option<std::net::IpAddr>,
) -> async_graphql::Request {
    let request = request_data(request, state, auth);
    match ip {
        Some(ip) => request.data(crate::ratelimit::ClientIp(ip)),
        None => request,
    }
}
