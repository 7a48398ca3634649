//! Console sessions: the signed-in operator of a request, the session cookie, and the form
//! token (CSRF) every POST must carry.
//!
//! What must stay true here:
//! - the cookie holds a random token; the database holds only its SHA-256, so a leaked table
//!   signs nobody in; the cookie is HttpOnly, SameSite=Strict, and Secure outside development;
//! - a session ends after `ADMIN_SESSION_IDLE_MINUTES` unused, `ADMIN_SESSION_MAX_HOURS` after
//!   sign-in, at sign-out, and when its user is deactivated or stops being an admin;
//! - only admins get a session; a request by anyone else is 403, an anonymous one is sent to
//!   the sign-in page;
//! - every POST carries the session's form token (the sign-in form a pre-session one, bound to
//!   a cookie of its own), compared in constant time.

use std::time::Duration;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use chrono::Utc;
use entity::{admin_sessions, users};
use maud::{DOCTYPE, Markup, html};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _, sea_query::Expr,
};
use serde::Deserialize;
use uuid::Uuid;

use super::view;
use crate::{
    AppState,
    auth::{Auth, Viewer, secrets},
    config::AppEnv,
    error::AppResult,
    http::HttpState,
};

pub const COOKIE: &str = "kw_admin";
/// The sign-in form's own token cookie (there is no session yet to bind it to).
pub const PRE_COOKIE: &str = "kw_admin_pre";

/// The signed-in operator.
#[derive(Debug, Clone)]
pub struct Admin {
    pub user: users::Model,
    pub session_id: Uuid,
    pub csrf: String,
}

impl Admin {
    pub fn viewer(&self) -> Viewer {
        Viewer {
            user_id: self.user.id,
            role: self.user.role,
        }
    }

    /// A console page: the navigation (with `section` marked), the notices, then `body`.
    pub fn page(&self, section: &str, title: &str, flash: &view::Flash, body: Markup) -> Response {
        let markup = html! {
            (DOCTYPE)
            html lang="en" {
                (view::head(title))
                body hx-boost="true" {
                    header.top {
                        a.brand href="/admin" { "Kabaadwala" span { "admin" } }
                        nav {
                            @for (path, label) in view::SECTIONS {
                                a href=(path) aria-current=[(path == section).then_some("page")] { (label) }
                            }
                        }
                        form.signout method="post" action="/admin/logout" {
                            (self.csrf_field())
                            span.who { (self.user.email) }
                            button.link type="submit" { "Sign out" }
                        }
                    }
                    main {
                        h1 { (title) }
                        @if let Some(notice) = &flash.notice {
                            p.notice role="status" { (notice) }
                        }
                        @if let Some(error) = &flash.error {
                            p.error role="alert" { (error) }
                        }
                        (body)
                    }
                }
            }
        };
        view::html_response(StatusCode::OK, markup)
    }

    /// The session's form token, as a hidden field.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }

    /// Parses a posted form after checking its `csrf` field: a missing or wrong token is 403.
    pub fn form<T: for<'de> Deserialize<'de>>(&self, body: &[u8]) -> Result<T, view::Refused> {
        #[derive(Deserialize)]
        struct Token {
            csrf: Option<String>,
        }
        let token = serde_urlencoded::from_bytes::<Token>(body)
            .ok()
            .and_then(|t| t.csrf)
            .unwrap_or_default();
        if !secrets::constant_time_eq(&token, &self.csrf) {
            return Err(forbidden(
                "This form has expired or did not come from this console. Go back, reload \
                 the page and try again.",
            )
            .into());
        }
        serde_urlencoded::from_bytes::<T>(body).map_err(|err| {
            view::error_page(StatusCode::BAD_REQUEST, &format!("bad form: {err}")).into()
        })
    }
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
}

/// A `Set-Cookie` value with the console's attributes (`max_age: Some(0)` removes it).
pub fn set_cookie(app: &AppState, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let secure = if app.config.app_env == AppEnv::Production {
        "; Secure"
    } else {
        ""
    };
    let max_age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let text = format!("{name}={value}; Path=/admin; HttpOnly; SameSite=Strict{secure}{max_age}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn forbidden(message: &str) -> Response {
    view::error_page(StatusCode::FORBIDDEN, message)
}

fn to_login(parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .filter(|p| parts.method == axum::http::Method::GET && *p != "/admin")
        .map(|p| format!("?next={}", view::encode(p)))
        .unwrap_or_default();
    Redirect::to(&format!("/admin/login{next}")).into_response()
}

impl FromRequestParts<HttpState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        http: &HttpState,
    ) -> Result<Self, Self::Rejection> {
        let app = &http.app;
        let Some(token) = cookie(&parts.headers, COOKIE) else {
            return Err(refuse_other(parts, app));
        };
        match find(app, &token).await {
            Ok(Found::Admin(admin)) => Ok(*admin),
            Ok(Found::NotAdmin) => Err(forbidden("This console is for administrators only.")),
            Ok(Found::None) => Err(refuse_other(parts, app)),
            Err(err) => Err(view::app_error_page(&err)),
        }
    }
}

/// No console session: someone signed in to the API as a non-admin is refused (403), anyone
/// else is sent to sign in.
fn refuse_other(parts: &Parts, app: &AppState) -> Response {
    let header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match crate::http::auth_from_header(app, header) {
        Auth::Viewer(viewer) if !viewer.is_admin() => {
            forbidden("This console is for administrators only.")
        }
        _ => to_login(parts),
    }
}

/// The admin whose session cookie `headers` carry, if any.
pub async fn lookup(app: &AppState, headers: &HeaderMap) -> Option<Admin> {
    let token = cookie(headers, COOKIE)?;
    match find(app, &token).await {
        Ok(Found::Admin(admin)) => Some(*admin),
        _ => None,
    }
}

enum Found {
    Admin(Box<Admin>),
    NotAdmin,
    None,
}

/// The session of a cookie token, touched; an expired one is deleted.
async fn find(app: &AppState, token: &str) -> AppResult<Found> {
    let hash = secrets::hash_token(token);
    let Some(session) = admin_sessions::Entity::find()
        .filter(admin_sessions::Column::TokenHash.eq(hash))
        .one(&app.db)
        .await?
    else {
        return Ok(Found::None);
    };
    let now = Utc::now();
    let idle = chrono::Duration::from_std(app.config.admin_session_idle).unwrap_or_default();
    if session.last_seen_at + idle <= now || session.expires_at <= now {
        end(app, session.id).await?;
        return Ok(Found::None);
    }
    let user = users::Entity::find_by_id(session.user_id)
        .one(&app.db)
        .await?;
    let Some(user) = user.filter(|u| u.is_active) else {
        end(app, session.id).await?;
        return Ok(Found::None);
    };
    if user.role != users::Role::Admin {
        end(app, session.id).await?;
        return Ok(Found::NotAdmin);
    }
    admin_sessions::Entity::update_many()
        .col_expr(admin_sessions::Column::LastSeenAt, Expr::value(now))
        .filter(admin_sessions::Column::Id.eq(session.id))
        .exec(&app.db)
        .await?;
    Ok(Found::Admin(Box::new(Admin {
        user,
        session_id: session.id,
        csrf: session.csrf_token,
    })))
}

/// Starts a session for an admin; returns the cookie token. The user's lapsed sessions go.
pub async fn start(app: &AppState, user: &users::Model) -> AppResult<String> {
    let now = Utc::now();
    let idle = chrono::Duration::from_std(app.config.admin_session_idle).unwrap_or_default();
    admin_sessions::Entity::delete_many()
        .filter(admin_sessions::Column::UserId.eq(user.id))
        .filter(
            sea_orm::Condition::any()
                .add(admin_sessions::Column::ExpiresAt.lte(now))
                .add(admin_sessions::Column::LastSeenAt.lte(now - idle)),
        )
        .exec(&app.db)
        .await?;
    let token = secrets::new_token();
    let max = chrono::Duration::from_std(app.config.admin_session_max)
        .unwrap_or_else(|_| chrono::Duration::hours(12));
    admin_sessions::Entity::insert(admin_sessions::ActiveModel {
        id: Set(crate::db::new_id()),
        token_hash: Set(secrets::hash_token(&token)),
        user_id: Set(user.id),
        csrf_token: Set(secrets::new_token()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + max),
    })
    .exec_without_returning(&app.db)
    .await?;
    Ok(token)
}

/// Ends a session.
pub async fn end(app: &AppState, session_id: Uuid) -> AppResult<()> {
    admin_sessions::Entity::delete_by_id(session_id)
        .exec(&app.db)
        .await?;
    Ok(())
}

/// How long a console session cookie lives in the browser at most.
pub fn cookie_max_age(app: &AppState) -> Duration {
    app.config.admin_session_max
}
