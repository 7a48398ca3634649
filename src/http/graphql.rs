//! GraphQL over HTTP, and the GraphiQL page.

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    extract::State,
    http::HeaderMap,
    response::{Html, IntoResponse},
};

use super::{HttpState, auth::auth_from_headers};
use crate::{
    AppError,
    graphql::{errors::response_for, request_data},
};

pub async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .title("Kabaadwala GraphQL playground")
            .finish(),
    )
}

pub async fn post(
    State(http): State<HttpState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    execute(&http, &headers, request).await
}

/// Queries over GET (`?query=…&variables=…`). Mutations are refused: a GET must not change
/// anything.
pub async fn get(
    State(http): State<HttpState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    if is_mutation(&request.0) {
        let refused = AppError::BadUserInput {
            message: "mutations must be sent with POST".into(),
            field: None,
        };
        return response_for(refused).into();
    }
    execute(&http, &headers, request).await
}

fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false; // the executor reports the syntax error
    };
    document
        .operations
        .iter()
        .any(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Mutation)
}

async fn execute(
    http: &HttpState,
    headers: &HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let auth = auth_from_headers(&http.app, headers);
    let request = request_data(request.into_inner(), &http.app, auth);
    http.schema.execute(request).await.into()
}
