//! `Authorization: Bearer <token>` → who is calling.

use axum::http::HeaderMap;

use crate::{AppState, auth::Auth};

pub fn auth_from_headers(state: &AppState, headers: &HeaderMap) -> Auth {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    auth_from_header(state, header)
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
        Ok(viewer) => Auth::Viewer(viewer),
        Err(err) => Auth::Invalid(err.to_string()),
    }
}
