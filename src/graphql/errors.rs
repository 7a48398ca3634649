//! Gives every error in a response an `extensions.code` from API.md. Errors raised by resolvers
//! carry their `AppError` (as the error's source) and get its code; parse, validation, limit and
//! input-coercion errors, which come from the GraphQL engine, are `BAD_USER_INPUT`. Internal
//! causes are logged here, once, and never sent.

use std::sync::Arc;

use async_graphql::{
    ErrorExtensionValues, Response, ServerError, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe},
    futures_util::stream::BoxStream,
};
use futures_util::StreamExt as _;

use crate::error::AppError;

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

#[async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        annotate(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(annotate).boxed()
    }
}

/// Sets the code of every error of `response` (and logs internal causes).
pub fn annotate(mut response: Response) -> Response {
    for error in &mut response.errors {
        annotate_error(error);
    }
    response
}

fn annotate_error(error: &mut ServerError) {
    let app_error = error.source::<AppError>().cloned();
    let extensions = error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    match app_error {
        Some(app_error) => {
            extensions.set("code", app_error.code());
            match &app_error {
                AppError::BadUserInput {
                    field: Some(field), ..
                } => extensions.set("field", field.as_str()),
                AppError::RateLimited {
                    retry_after_secs, ..
                } => extensions.set("retryAfter", Value::from(*retry_after_secs)),
                AppError::Internal(cause) => {
                    tracing::error!(error = ?cause, path = ?error.path, "internal error");
                }
                _ => {}
            }
        }
        None if extensions.get("code").is_none() => {
            extensions.set("code", "BAD_USER_INPUT");
        }
        None => {}
    }
}

/// Converts an error raised outside the schema (a bad HTTP request) into a response with a code.
pub fn response_for(error: AppError) -> Response {
    let mut server_error = ServerError::new(error.to_string(), None);
    server_error.source = Some(Arc::new(error));
    annotate(Response::from_errors(vec![server_error]))
}
