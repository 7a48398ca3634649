//! The GraphiQL playground at `/`, served entirely from the binary so it works offline: our page
//! and boot script (`assets/graphiql/`) and pinned production builds of GraphiQL and React
//! (versions and licences in `assets/graphiql/README.md`), embedded at build time.
//!
//! What must stay true here:
//! - no URL on the page points outside this server, and its Content-Security-Policy would block
//!   one anyway (scripts and styles from `'self'` only; the one `<style>` GraphiQL inserts
//!   carries a per-response nonce);
//! - assets live under `/graphiql/{version}/{file}`, where the version is a hash of all of them,
//!   so browsers may cache them for a year and a new binary's assets get new URLs;
//! - with `GRAPHIQL=false` the page and its assets are 404.

use std::sync::LazyLock;

use axum::{
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::HttpState;

/// One embedded file under `/graphiql/{version}/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset {
        name: "playground.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/playground.js"),
    },
    Asset {
        name: "playground.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/graphiql/playground.css"),
    },
    Asset {
        name: "graphiql.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: JS,
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
];

/// The page, with `%BASE%` (the assets' path) and `%NONCE%` to fill in.
const PAGE: &str = include_str!("../../assets/graphiql/index.html");

/// The first 12 hex digits of a SHA-256 over every asset: changes whenever one does.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    for asset in ASSETS {
        hash.update(asset.name.as_bytes());
        hash.update((asset.bytes.len() as u64).to_le_bytes());
        hash.update(asset.bytes);
    }
    hex::encode(hash.finalize())[..12].to_owned()
});

/// `GET /`: the playground page.
pub async fn page(State(http): State<HttpState>) -> Response {
    if !http.app.config.graphiql {
        return StatusCode::NOT_FOUND.into_response();
    }
    let nonce = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    let html = PAGE
        .replace("%BASE%", &format!("/graphiql/{}", *VERSION))
        .replace("%NONCE%", &nonce);
    let policy = format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; \
         object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The nonce is new on every response: never reuse a stored page.
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        [(header::CONTENT_SECURITY_POLICY, policy)],
        html,
    )
        .into_response()
}

/// `GET /graphiql/{version}/{file}`: an embedded asset. Another version than this binary's is
/// 404, so a long-cached URL never holds other bytes than its name promises.
pub async fn asset(
    State(http): State<HttpState>,
    Path((version, name)): Path<(String, String)>,
) -> Response {
    if !http.app.config.graphiql || version != *VERSION {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.bytes,
    )
        .into_response()
}
