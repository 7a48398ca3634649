//! The GraphQL schema: each domain's Query/Mutation roots merged into one, plus the plumbing
//! every domain uses (context accessors, error codes, scalars, Relay helpers, the DataLoader).

pub mod context;
pub mod errors;
pub mod limits;
pub mod loader;
pub mod metrics;
pub mod paging;
pub mod relay;
pub mod scalars;
pub mod upload;

use async_graphql::{MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::{
    AppState, accounts, auth, catalog, chat, jobs, notifications, orders, payouts, realtime,
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
    orders::graphql::OrdersQuery,
    orders::graphql::AnalyticsQuery,
    payouts::graphql::PayoutsQuery,
    notifications::graphql::NotificationsQuery,
    chat::graphql::ChatQuery,
    jobs::graphql::JobsQuery,
    reports::graphql::ReportsQuery,
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
    orders::graphql::OrdersMutation,
    payouts::graphql::PayoutsMutation,
    notifications::graphql::NotificationsMutation,
    chat::graphql::ChatMutation,
    jobs::graphql::JobsMutation,
);

#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(
    chat::graphql::ChatSubscription,
    realtime::subscriptions::NotificationsSubscription,
    realtime::subscriptions::OrdersSubscription,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The schema without runtime data: enough for the SDL.
pub fn schema_builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    // Outermost first: metrics see the codes the client gets.
    .extension(metrics::GraphqlMetrics)
    .extension(errors::ErrorCodes)
    .extension(realtime::live::PublishAfterCommit)
}

/// The executable schema over `state`.
pub fn build_schema(state: AppState) -> AppSchema {
    let config = &state.config;
    let mut builder = schema_builder()
        // Depth, aliases, directives and tokens: limits::Limits (depth without introspection).
        .extension(limits::Limits(limits::DocumentLimits::from_config(config)))
        .limit_complexity(config.graphql_max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(config.graphql_max_directives);
    if config.app_env == crate::config::AppEnv::Production {
        // "Did you mean …" would spell out the schema to someone who cannot introspect it.
        builder = builder.disable_suggestions();
    }
    if !config.graphql_introspection {
        builder = builder.disable_introspection();
    }
    let limiter = crate::ratelimit::RateLimiter::from_config(config).unwrap_or_else(|err| {
        tracing::error!(error = ?err, "rate limits fall back to this process's memory");
        crate::ratelimit::RateLimiter::in_memory(config.rate_limits.clone())
    });
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

/// Parses a GraphQL `ID` as a UUID, or BAD_USER_INPUT naming the argument.
pub fn parse_id(field: &str, id: &async_graphql::ID) -> crate::AppResult<uuid::Uuid> {
    id.parse()
        .map_err(|_| crate::AppError::bad_input(field, "is not a valid id"))
}
