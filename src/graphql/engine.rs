//! An executable schema, whatever its roots. The plumbing (the HTTP executor, the subscription
//! fan-out) runs operations through this trait, so it never names the assembled schema, which
//! stands above every resolver ([`super::schema`]).

use std::sync::Arc;

use async_graphql::{ObjectType, Request, Response, Schema, SubscriptionType};
use futures_util::{StreamExt as _, future::BoxFuture, stream::BoxStream};

pub trait Engine: Send + Sync + 'static {
    /// Runs a query or mutation.
    fn execute(&self, request: Request) -> BoxFuture<'static, Response>;
    /// Runs a subscription (or any operation) as a stream of responses.
    fn execute_stream(&self, request: Request) -> BoxStream<'static, Response>;
}

/// A handle on an engine, cheap to clone.
pub type SharedEngine = Arc<dyn Engine>;

impl<Q, M, S> Engine for Schema<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    fn execute(&self, request: Request) -> BoxFuture<'static, Response> {
        let schema = self.clone();
        Box::pin(async move { schema.execute(request).await })
    }

    fn execute_stream(&self, request: Request) -> BoxStream<'static, Response> {
        Schema::execute_stream(self, request).boxed()
    }
}
