//! GraphQL over HTTP.

use std::net::{IpAddr, SocketAddr};

use async_graphql::ParseRequestError;
use async_graphql_axum::{GraphQLRequest, rejection::GraphQLRejection};
use axum::{
    extract::{ConnectInfo, FromRequest as _, FromRequestParts, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::Response,
};

use super::{
    HttpState,
    auth::auth_from_headers,
    negotiate::{self, MediaType},
    params,
};
use crate::{
    AppError,
    graphql::{admission::Allow, schema::request_data_from},
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

/// `POST /graphql`: a JSON body, or a GraphQL multipart request (uploads). Anything else, and
/// a request without a content type, is 415.
pub async fn post(
    State(http): State<HttpState>,
    peer: PeerAddr,
    request: axum::extract::Request,
) -> Response {
    let headers = request.headers().clone();
    let media = MediaType::from_headers(&headers);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let essence = content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .map(str::trim);
    let parsed = match essence {
        Some("application/json") => {
            let charset_ok = content_type.as_deref().is_none_or(|c| {
                c.split(';')
                    .filter_map(|p| p.trim().strip_prefix("charset="))
                    .all(|cs| cs.trim_matches('"') == "utf-8")
            });
            if !charset_ok {
                return unsupported(media, "JSON bodies must be UTF-8 (`charset=utf-8`)");
            }
            let limit = http.app.config.max_body_bytes;
            match axum::body::to_bytes(request.into_body(), limit).await {
                Ok(body) => params::from_json_body(&body),
                Err(_) => return too_large(media),
            }
        }
        Some("multipart/form-data") => match GraphQLRequest::from_request(request, &http).await {
            Ok(request) => Ok(request.into_inner()),
            Err(rejection) => return rejected(media, rejection),
        },
        _ => {
            return unsupported(
                media,
                "send the request as `content-type: application/json` (or multipart/form-data for uploads)",
            );
        }
    };
    match parsed {
        Ok(request) => execute(&http, &headers, peer, request, Allow::Any).await,
        Err(error) => negotiate::refuse(media, StatusCode::BAD_REQUEST, error),
    }
}

fn unsupported(media: MediaType, message: &str) -> Response {
    negotiate::refuse(
        media,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        AppError::bad_request(message),
    )
}

fn too_large(media: MediaType) -> Response {
    negotiate::refuse(
        media,
        StatusCode::PAYLOAD_TOO_LARGE,
        AppError::PayloadTooLarge("the request is too large".into()),
    )
}

/// A multipart body that is not a GraphQL request (broken, a batch, too large): a GraphQL
/// error with a code, never the parser's internals.
fn rejected(media: MediaType, rejection: GraphQLRejection) -> Response {
    tracing::debug!(error = ?rejection.0, "unreadable GraphQL request");
    match rejection.0 {
        ParseRequestError::PayloadTooLarge => too_large(media),
        ParseRequestError::UnsupportedBatch => negotiate::refuse(
            media,
            StatusCode::BAD_REQUEST,
            AppError::bad_request(
                "batched requests are not supported; send one operation per request",
            ),
        ),
        _ => negotiate::refuse(
            media,
            StatusCode::BAD_REQUEST,
            AppError::bad_request(
                "the body is not a GraphQL multipart request (see the GraphQL multipart request spec)",
            ),
        ),
    }
}

/// Queries over GET (`?query=…&variables=…`). Mutations are refused with 405: a GET must not
/// change anything.
pub async fn get(
    http: HttpState,
    peer: PeerAddr,
    headers: HeaderMap,
    query_string: Option<&str>,
) -> Response {
    match params::from_query_string(query_string) {
        Ok(request) => execute(&http, &headers, peer, request, Allow::Queries).await,
        Err(error) => negotiate::refuse(
            MediaType::from_headers(&headers),
            StatusCode::BAD_REQUEST,
            error,
        ),
    }
}

async fn execute(
    http: &HttpState,
    headers: &HeaderMap,
    peer: PeerAddr,
    request: async_graphql::Request,
    allow: Allow,
) -> Response {
    let media = MediaType::from_headers(headers);
    let auth = auth_from_headers(&http.app, headers);
    let ip = client_ip(http.app.config.trust_proxy, headers, peer.0);
    let request = request_data_from(request, &http.app, auth, ip);
    let executed = http.executor.execute(request, allow).await;
    negotiate::respond(media, executed.response, executed.stage)
}
