//! The console's two assets (`assets/admin/`: our stylesheet and a pinned htmx), embedded at
//! build time and served under `/admin/assets/{version}/{file}`, where the version is a hash of
//! both, so browsers may cache them for a year.

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest as _, Sha256};

const ASSETS: [(&str, &str, &[u8]); 2] = [
    (
        "admin.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/admin/admin.css"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/admin/htmx.min.js"),
    ),
];

static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    for (name, _, bytes) in ASSETS {
        hash.update(name.as_bytes());
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    }
    hex::encode(hash.finalize())[..12].to_owned()
});

/// The URL of an asset of this binary.
pub fn url(name: &str) -> String {
    format!("/admin/assets/{}/{name}", *VERSION)
}

/// `GET /admin/assets/{version}/{file}`: public (a sign-in page needs them too).
pub async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    if version != *VERSION {
        return StatusCode::NOT_FOUND.into_response();
    }
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
