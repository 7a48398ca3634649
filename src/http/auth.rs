//! `Authorization: Bearer <token>` → who is calling.

use axum::http::HeaderMap;

use crate::{AppState, auth::Auth};

/// The caller of an HTTP request. A verified caller's id (never the token) is recorded as
/// `user_id` on the request's `http` span, so every log line of the request carries it.
pub fn auth_from_headers(state: &AppState, headers: &HeaderMap) -> Auth {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let auth = auth_from_header(state, header);
    if let Auth::Viewer(viewer) = &auth {
        tracing::Span::current().record("user_id", tracing::field::display(viewer.user_id));
    }
    auth
}

/// Reads an `Authorization` value (`Bearer <token>`; a bare token is accepted too).
pub fn auth_from_header(state: &AppState, header: Option<&str>) -> Auth {
    let Some(raw) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Auth::Anonymous;
    };
    let token = raw
        .strip_prefix("Bearer ")
        .or_else(|| raw.strip_prefix("bearer "))
        .unwrap_or(raw)
        .trim();
    match state.jwt.verify(token) {
        // A deactivated user's tokens (or ones issued before a role change) stop at once.
        Ok(viewer) if state.revocations.refuses(viewer.user_id, viewer.role) => {
            Auth::Invalid("this session was ended by an administrator; sign in again".into())
        }
        Ok(viewer) => Auth::Viewer(viewer),
        Err(err) => Auth::Invalid(err.to_string()),
    }
}
