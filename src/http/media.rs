//! `GET /media/{key}`: uploaded files. Who may read a key depends on its first segment:
//! `products/` is public; `kyc/{vendor}/` only to that vendor's user and admins; `chat/{room}/`
//! only to the room's participants and admins; `pickups/{pickup}/` (photos of the scale) only
//! to the pickup's household, its collector and admins. Anything else,
//! and anything not allowed, is 404, so a private file's existence is not revealed (401 only
//! asks an anonymous caller to sign in for a private area). Every file is `nosniff`; private
//! ones are sent as `Content-Disposition: attachment`, never rendered inline on the API's origin,
//! while product images stay inline for `<img>` tags.

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
        Some("pickups") => {
            let Ok(Some(viewer)) = auth.optional_viewer() else {
                return Access::SignIn;
            };
            if crate::pickups::service::may_read_photo(&state.db, &viewer, key).await {
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
    let (cache, private) = match access(&http.app, &auth, &key).await {
        Access::Public => ("public, max-age=86400, immutable", false),
        Access::Allowed => ("private, no-store", true),
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
            if private && let Ok(value) = HeaderValue::from_str(&attachment(&key)) {
                h.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(err) => {
            tracing::error!(error = %err, "reading a media file");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `attachment; filename="…"` with the key's last segment reduced to `[A-Za-z0-9._-]`: the
/// browser saves a private file instead of rendering it on our origin, and no quote, slash or
/// control character from a key can reach the header.
fn attachment(key: &str) -> String {
    let name: String = key
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.trim_start_matches('.');
    let name = if name.is_empty() { "download" } else { name };
    format!("attachment; filename=\"{name}\"")
}

#[cfg(test)]
mod tests {
    use super::attachment;

    #[test]
    fn an_attachment_name_keeps_only_safe_characters() {
        assert_eq!(
            attachment("kyc/1f/ab-12.pdf"),
            "attachment; filename=\"ab-12.pdf\""
        );
        assert_eq!(
            attachment("chat/r/\"evil\r\n.pdf"),
            "attachment; filename=\"_evil__.pdf\""
        );
        assert_eq!(attachment("chat/r/"), "attachment; filename=\"download\"");
    }
}
