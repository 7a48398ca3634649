//! Content negotiation and status codes of GraphQL over HTTP, as the GraphQL-over-HTTP spec
//! says them:
//! - `Accept: application/graphql-response+json` gets that media type; a request that fails
//!   before execution (unreadable parameters, parse, validation, variable coercion, the abuse
//!   limits) is HTTP 400 and its body has no `data` entry;
//! - `Accept: application/json`, `*/*`, no `Accept`, or nothing we can produce gets
//!   `application/json`, and the same failures are HTTP 200 with `errors` (what older clients
//!   expect), except requests whose parameters cannot be read at all, which are 400 either way.
//!
//! Both media types are UTF-8 JSON.

use async_graphql::Response;
use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response as HttpResponse},
};
use serde_json::Value;

use crate::{
    AppError,
    graphql::{admission::Stage, errors::response_for},
};

/// The media types a GraphQL response can be sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`: the legacy type; errors before execution are still 200.
    Json,
    /// `application/graphql-response+json`: status codes tell what happened.
    GraphqlResponse,
}

impl MediaType {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Json => "application/json; charset=utf-8",
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        })
    }

    /// The preferred media type of an `Accept` header: the acceptable one with the highest
    /// quality, the first listed on a tie; `application/json` when the header is missing, is a
    /// wildcard, or names neither type.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut best: Option<(f32, Self)> = None;
        for value in headers.get_all(header::ACCEPT) {
            let Ok(value) = value.to_str() else { continue };
            for range in value.split(',') {
                let mut parts = range.split(';');
                let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                let quality = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                let kind = match media.as_str() {
                    "application/graphql-response+json" => Self::GraphqlResponse,
                    "application/json" | "application/*" | "*/*" => Self::Json,
                    _ => continue,
                };
                if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                    best = Some((quality, kind));
                }
            }
        }
        best.map_or(Self::Json, |(_, kind)| kind)
    }
}

/// A response of the executor in the negotiated media type, with the spec's status code.
pub fn respond(media: MediaType, response: Response, stage: Stage) -> HttpResponse {
    let mut headers = Vec::new();
    if response.is_ok()
        && let Some(value) = response.cache_control.value()
        && let Ok(value) = HeaderValue::from_str(&value)
    {
        headers.push((header::CACHE_CONTROL, value));
    }
    for (name, value) in response.http_headers.iter() {
        headers.push((name.clone(), value.clone()));
    }
    let status = match (media, stage) {
        (_, Stage::WrongMethod) => StatusCode::METHOD_NOT_ALLOWED,
        (MediaType::GraphqlResponse, Stage::Refused) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let mut body = serde_json::to_value(&response).unwrap_or(Value::Null);
    if status != StatusCode::OK
        && let Value::Object(map) = &mut body
    {
        map.remove("data");
    }
    let mut http = write(media, status, &body);
    if status == StatusCode::METHOD_NOT_ALLOWED {
        http.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    }
    for (name, value) in headers {
        http.headers_mut().append(name, value);
    }
    http
}

/// A request refused before it reached GraphQL (an unreadable body, a bad parameter, a wrong
/// method): `status`, in the negotiated media type, with `errors` only.
pub fn refuse(media: MediaType, status: StatusCode, error: AppError) -> HttpResponse {
    let mut body = serde_json::to_value(response_for(error)).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut body {
        map.remove("data");
    }
    write(media, status, &body)
}

fn write(media: MediaType, status: StatusCode, body: &Value) -> HttpResponse {
    let mut http = (status, body.to_string()).into_response();
    http.headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    http
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preferred(accept: Option<&str>) -> MediaType {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(
                header::ACCEPT,
                HeaderValue::from_str(accept).unwrap_or_else(|e| panic!("{e}")),
            );
        }
        MediaType::from_headers(&headers)
    }

    #[test]
    fn the_accept_header_picks_the_media_type_by_quality_then_order() {
        assert_eq!(preferred(None), MediaType::Json);
        assert_eq!(preferred(Some("*/*")), MediaType::Json);
        assert_eq!(preferred(Some("application/json")), MediaType::Json);
        assert_eq!(preferred(Some("text/html")), MediaType::Json);
        assert_eq!(
            preferred(Some("application/graphql-response+json")),
            MediaType::GraphqlResponse
        );
        assert_eq!(
            preferred(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            MediaType::GraphqlResponse
        );
        assert_eq!(
            preferred(Some("application/json, application/graphql-response+json")),
            MediaType::Json
        );
        assert_eq!(
            preferred(Some(
                "application/json;q=0.5, application/graphql-response+json"
            )),
            MediaType::GraphqlResponse
        );
        assert_eq!(
            preferred(Some("application/graphql-response+json;q=0, */*")),
            MediaType::Json
        );
    }
}
