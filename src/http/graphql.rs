//! GraphQL over HTTP.

use std::net::{IpAddr, SocketAddr};

use async_graphql::ParseRequestError;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse, rejection::GraphQLRejection};
use axum::{
    extract::{ConnectInfo, FromRequestParts, State},
    http::{HeaderMap, StatusCode, request::Parts},
    response::{IntoResponse, Response},
};

use super::{HttpState, auth::auth_from_headers};
use crate::{
    AppError,
    graphql::{errors::response_for, request_data_from},
};

/// The peer address of the connection, when the server was started with connect info (tests
/// that drive the router without a socket have none).
pub struct PeerAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
        ))
    }
}

/// The client's IP: the socket's peer, or, with `TRUST_PROXY=true`, the last address in
/// `X-Forwarded-For` (the one our proxy appended; earlier entries are the client's to forge).
pub fn client_ip(
    trust_proxy: bool,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<IpAddr> {
    if trust_proxy {
        // The rightmost entry of the last header: what our proxy appended. Garbage there
        // falls back to the peer address.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|peer| peer.ip())
}

pub async fn post(
    State(http): State<HttpState>,
    peer: PeerAddr,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    match request {
        Ok(request) => execute(&http, &headers, peer, request)
            .await
            .into_response(),
        Err(rejection) => rejected(rejection),
    }
}

/// A body that is not a GraphQL request (not JSON, a broken multipart body, a batch, …): a
/// GraphQL error with a code, never the parser's internals.
pub fn rejected(rejection: GraphQLRejection) -> Response {
    tracing::debug!(error = ?rejection.0, "unreadable GraphQL request");
    let (status, error) = match rejection.0 {
        ParseRequestError::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            AppError::PayloadTooLarge("the request is too large".into()),
        ),
        ParseRequestError::UnsupportedBatch => (
            StatusCode::BAD_REQUEST,
            AppError::BadUserInput {
                message: "batched requests are not supported; send one operation per request"
                    .into(),
                field: None,
            },
        ),
        _ => (
            StatusCode::BAD_REQUEST,
            AppError::BadUserInput {
                message: "the body is not a GraphQL request: send JSON `{\"query\": …, \"variables\": {…}}` or a GraphQL multipart upload".into(),
                field: None,
            },
        ),
    };
    (status, axum::Json(response_for(error))).into_response()
}

/// Queries over GET (`?query=…&variables=…`). Mutations are refused: a GET must not change
/// anything.
pub async fn get(
    State(http): State<HttpState>,
    peer: PeerAddr,
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
    execute(&http, &headers, peer, request).await
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
    peer: PeerAddr,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let auth = auth_from_headers(&http.app, headers);
    let ip = client_ip(http.app.config.trust_proxy, headers, peer.0);
    let request = request_data_from(request.into_inner(), &http.app, auth, ip);
    http.executor.execute(request).await.into()
}
