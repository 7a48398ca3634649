//! GraphQL over HTTP without per-field extension hooks. Any schema extension makes the engine
//! build a `ResolveInfo` and run every extension's `resolve` hook (a boxed future each) around
//! every field it resolves: on a 50-product page that is thousands of hooks doing nothing. The
//! HTTP schema therefore has no extension, and [`HttpExecutor::execute`] does, once per request
//! and in the same order, what the extensions do on the full schema (`extensions::EXTENSIONS`,
//! the one list both go through):
//!
//! 1. the checks (`admission::admit`, the same list every transport applies): document limits
//!    on the text before parsing, then on the parsed document; the parsed document is handed
//!    to the engine, which does not parse it again; the engine's own checks (complexity,
//!    introspection, suggestions) are configured on both schemas by `admission::engine_checks`;
//! 2. publish after commit (`realtime::live::PublishAfterCommit`): the operation runs inside
//!    `live::after`;
//! 3. error codes (`errors::ErrorCodes`): `errors::annotate` on the response;
//! 4. metrics (`metrics::GraphqlMetrics`): the same operation label and timing.
//!
//! WebSocket queries and mutations run through this executor too; subscriptions keep the full
//! schema, after [`HttpExecutor::admit`] has applied the same checks. An extension added to
//! `extensions::EXTENSIONS` is installed on the full schema and applied here by the same
//! exhaustive matches, so it cannot exist on one side only.

use std::time::Instant;

use async_graphql::{Request, Response, Value, parser::types::OperationType};
use futures_util::future::BoxFuture;

use super::{
    admission::{self, Admitted, Allow, Refusal, Stage},
    engine::SharedEngine,
    errors,
    extensions::{EXTENSIONS, Extension},
    limits, metrics,
};
use crate::{AppState, realtime::live};

/// Runs HTTP requests on a schema without extensions.
#[derive(Clone)]
pub struct HttpExecutor {
    schema: SharedEngine,
    limits: limits::DocumentLimits,
    state: AppState,
}

/// A response and where its request stopped.
pub struct Executed {
    pub response: Response,
    pub stage: Stage,
}

impl HttpExecutor {
    pub fn new(schema: SharedEngine, limits: limits::DocumentLimits, state: AppState) -> Self {
        Self {
            schema,
            limits,
            state,
        }
    }

    /// The schema it runs requests on (without extensions).
    pub fn schema(&self) -> &SharedEngine {
        &self.schema
    }

    /// Executes one request as the full schema would, extensions included. With
    /// [`Allow::Queries`] (a GET), a mutation or subscription is refused once the document is
    /// parsed (after the document limits, so a refused document costs no parse).
    pub async fn execute(&self, mut request: Request, allow: Allow) -> Executed {
        let started = Instant::now();
        let (response, label, stage) = match self.admit(&mut request, allow) {
            Err(refusal) => {
                let (error, stage) = *refusal;
                (Response::from_errors(vec![error]), None, stage)
            }
            Ok(admitted) => {
                let response = self.run(request).await;
                let executed = admitted.operation == Some(OperationType::Subscription)
                    || response.errors.is_empty()
                    || response.data != Value::Null
                    || response.errors.iter().any(|e| !e.path.is_empty());
                let label = match (executed, admitted.executed_name) {
                    (true, Some(name)) => Some(metrics::executed_label(&name).to_owned()),
                    _ => admitted.parsed_label,
                };
                let stage = if executed {
                    Stage::Executed
                } else {
                    Stage::Refused
                };
                (response, label, stage)
            }
        };
        // The extensions that work on the response, innermost first.
        let mut response = response;
        for extension in EXTENSIONS.into_iter().rev() {
            match extension {
                Extension::ErrorCodes => response = errors::annotate(response),
                Extension::Metrics => metrics::record(label.as_deref(), started, &response),
                // Around the run: see `run`.
                Extension::PublishAfterCommit => {}
            }
        }
        Executed { response, stage }
    }

    /// Runs an admitted request on the engine inside the extensions that wrap the run,
    /// innermost first.
    async fn run(&self, request: Request) -> Response {
        let mut run: BoxFuture<'_, Response> = self.schema.execute(request);
        for extension in EXTENSIONS.into_iter().rev() {
            run = match extension {
                Extension::PublishAfterCommit => Box::pin(live::after(&self.state, run)),
                // They work on the response: see `execute`.
                Extension::ErrorCodes | Extension::Metrics => run,
            };
        }
        run.await
    }

    /// Applies the checks every transport applies (`admission::admit`): the WebSocket calls
    /// this before it runs a subscription, and [`Self::execute`] before anything else. The
    /// parsed document stays in `request`.
    pub fn admit(&self, request: &mut Request, allow: Allow) -> Result<Admitted, Refusal> {
        admission::admit(&self.limits, request, allow)
    }
}
