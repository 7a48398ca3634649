//! `GET /media/{key}`: uploaded files. Who may read a key depends on its first segment:
//! `products/` is public; `kyc/{vendor}/` only to that vendor's user and admins; `chat/{room}/`
//! only to the room's participants and admins. Anything else,
//! and anything not allowed, is 404, so a private file's existence is not revealed (401 only
//! asks an anonymous caller to sign in for a private area).

use axum::{
    body::Body,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use uuid::Uuid;

use super::{HttpState, auth::auth_from_headers};
use crate::{AppState, auth::Auth, storage::sniff::FileKind, vendors};

enum Access {
    Public,
    Allowed,
    SignIn,
    Denied,
}

async fn access(state: &AppState, auth: &Auth, key: &str) -> Access {
    let mut segments = key.split('/');
    match segments.next() {
        Some("products") => Access::Public,
        Some("kyc") => {
            let Ok(Some(viewer)) = auth.optional_viewer() else {
                return Access::SignIn;
            };
            if viewer.is_admin() {
                return Access::Allowed;
            }
            let Some(vendor_id) = segments.next().and_then(|s| s.parse::<Uuid>().ok()) else {
                return Access::Denied;
            };
            match vendors::service::find(&state.db, vendor_id).await {
                Ok(vendor) if vendor.user_id == viewer.user_id => Access::Allowed,
                _ => Access::Denied,
            }
        }
        Some("chat") => {
            let Ok(Some(viewer)) = auth.optional_viewer() else {
                return Access::SignIn;
            };
            if crate::chat::service::may_read_attachment(&state.db, &viewer, key).await {
                Access::Allowed
            } else {
                Access::Denied
            }
        }
        _ => Access::Denied,
    }
}

pub async fn get(
    State(http): State<HttpState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let auth = auth_from_headers(&http.app, &headers);
    let cache = match access(&http.app, &auth, &key).await {
        Access::Public => "public, max-age=86400, immutable",
        Access::Allowed => "private, no-store",
        Access::SignIn => return StatusCode::UNAUTHORIZED.into_response(),
        Access::Denied => return StatusCode::NOT_FOUND.into_response(),
    };
    let Some(kind) = FileKind::for_key(&key) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match http.app.storage.get(&key).await {
        Ok(Some(bytes)) => {
            let mut response = Response::new(Body::from(bytes));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(kind.content_type()),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => {
            tracing::error!(error = %err, "reading a media file");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
