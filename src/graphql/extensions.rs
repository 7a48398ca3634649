//! What every operation gets besides the checks (`super::admission`), whichever way it runs:
//! metrics, error codes, events published after commit. One list, [`EXTENSIONS`], used twice:
//! [`install`] puts it on the full schema as extensions (WebSocket subscriptions, tests that
//! execute on the schema), and the HTTP executor (`super::executor`), which runs without
//! per-field extension hooks, does each one's work once per request. Both go through the list
//! with an exhaustive `match`, so an extension added here is applied on both paths or the
//! build fails.

use async_graphql::{ObjectType, SchemaBuilder, SubscriptionType};

use super::{errors, metrics};
use crate::realtime::live;

/// One extension of every operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// `kabaadwala_graphql_*` metrics: the operation's label, duration and errors.
    Metrics,
    /// `extensions.code` on every error.
    ErrorCodes,
    /// Events of the operation's committed work are published once it is over.
    PublishAfterCommit,
}

/// Outermost first: metrics see the codes the client gets.
pub const EXTENSIONS: [Extension; 3] = [
    Extension::Metrics,
    Extension::ErrorCodes,
    Extension::PublishAfterCommit,
];

/// The full schema's extensions: [`EXTENSIONS`], in order.
pub fn install<Q, M, S>(builder: SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    EXTENSIONS
        .into_iter()
        .fold(builder, |builder, extension| match extension {
            Extension::Metrics => builder.extension(metrics::GraphqlMetrics),
            Extension::ErrorCodes => builder.extension(errors::ErrorCodes),
            Extension::PublishAfterCommit => builder.extension(live::PublishAfterCommit),
        })
}
