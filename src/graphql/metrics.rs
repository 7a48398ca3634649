//! The GraphQL side of `/metrics`: times each operation (from the request to the response,
//! parse and validation included) under its operation name, and counts its errors by code. It
//! is the outermost extension, so the codes it sees are the ones the client gets.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use async_graphql::{
    Response, ServerResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
    },
    parser::types::ExecutableDocument,
};

use crate::http::metrics;

pub struct GraphqlMetrics;

impl ExtensionFactory for GraphqlMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GraphqlMetricsExtension::default())
    }
}

/// One per request: the operation's name, once known.
#[derive(Default)]
struct GraphqlMetricsExtension {
    operation: Mutex<Option<String>>,
}

impl GraphqlMetricsExtension {
    fn set_operation(&self, name: &str) {
        *self
            .operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(name.to_owned());
    }
}

/// Records one operation: its label (`anonymous` when unnamed and fine, `invalid` when it never
/// got a name and failed), its time since `started`, and the codes of its errors (set by
/// `errors::annotate` before this runs).
pub fn record(operation: Option<&str>, started: Instant, response: &Response) {
    let codes: Vec<&str> = response
        .errors
        .iter()
        .map(|error| {
            error
                .extensions
                .as_ref()
                .and_then(|ext| ext.get("code"))
                .and_then(|code| match code {
                    async_graphql::Value::String(code) => Some(code.as_str()),
                    _ => None,
                })
                .unwrap_or("UNKNOWN")
        })
        .collect();
    let operation = operation.unwrap_or(if response.errors.is_empty() {
        "anonymous"
    } else {
        "invalid"
    });
    metrics::record_graphql(operation, started.elapsed(), &codes);
}

/// The label of an operation the engine ran under `name`.
pub fn executed_label(name: &str) -> &str {
    if is_name(name) { name } else { "invalid" }
}

/// A GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`, at most 64 characters) is a safe label value.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[async_trait::async_trait]
impl Extension for GraphqlMetricsExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let operation = self
            .operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        record(operation.as_deref(), started, &response);
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut operations = document.operations.iter();
        if let (Some((name, _)), None) = (operations.next(), operations.next()) {
            self.set_operation(name.map_or("anonymous", |n| n.as_str()));
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(name) = operation_name {
            self.set_operation(executed_label(name));
        }
        next.run(ctx, operation_name).await
    }
}
