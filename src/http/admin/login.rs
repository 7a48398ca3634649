//! Signing in to the console (the account's password, then the emailed code when two-factor is
//! on, through the same auth service and rate limits as the API's `login`/`verifyOtp`) and
//! signing out. Only admins get a session; anyone else is told 403.

use axum::{
    Extension,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    ConsoleLimiter,
    session::{self, Admin, PRE_COOKIE},
    view,
};
use crate::{
    AppState,
    auth::{
        secrets,
        service::{self as auth, LoginOutcome, Tokens},
    },
    error::AppError,
    http::{
        HttpState,
        graphql::{PeerAddr, client_ip},
    },
    ratelimit::Action,
};

#[derive(Deserialize, Default)]
pub struct Next {
    next: Option<String>,
}

/// Only a path inside the console is a place to go back to.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/admin") && !n.starts_with("/admin/login") && !n.contains("//"))
        .unwrap_or("/admin")
        .to_owned()
}

fn password_form(token: &str, next: &str, email: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error { p.error role="alert" { (error) } }
        form.stack method="post" action="/admin/login" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label { "Email" input type="email" name="email" value=(email) required autocomplete="username"; }
            label { "Password" input type="password" name="password" required autocomplete="current-password"; }
            button type="submit" { "Sign in" }
        }
    }
}

fn code_form(token: &str, next: &str, challenge: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(error) = error { p.error role="alert" { (error) } }
        p { "We emailed you a 6-digit code. Enter it to finish signing in." }
        form.stack method="post" action="/admin/login/code" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            input type="hidden" name="challenge" value=(challenge);
            label { "Code" input type="text" name="code" inputmode="numeric" autocomplete="one-time-code" required; }
            button type="submit" { "Verify" }
        }
    }
}

/// A sign-in page with a fresh pre-session form token in its cookie.
fn with_pre_token(
    app: &AppState,
    status: StatusCode,
    title: &str,
    body: impl FnOnce(&str) -> Markup,
) -> Response {
    let token = secrets::new_token();
    let mut response = view::bare(status, title, body(&token));
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(app, PRE_COOKIE, &token, Some(3600)),
    );
    response
}

/// `GET /admin/login`.
pub async fn page(
    State(http): State<HttpState>,
    headers: HeaderMap,
    Query(next): Query<Next>,
) -> Response {
    let next = safe_next(next.next.as_deref());
    if session::lookup(&http.app, &headers).await.is_some() {
        return Redirect::to(&next).into_response();
    }
    with_pre_token(&http.app, StatusCode::OK, "Sign in", |token| {
        password_form(token, &next, "", None)
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: Option<String>,
    email: String,
    password: String,
    next: Option<String>,
}

/// The pre-session token of the form matches its cookie.
fn pre_token_ok(headers: &HeaderMap, posted: Option<&str>) -> bool {
    match (session::cookie(headers, PRE_COOKIE), posted) {
        (Some(cookie), Some(posted)) => secrets::constant_time_eq(&cookie, posted),
        _ => false,
    }
}

/// `POST /admin/login`.
pub async fn password(
    State(http): State<HttpState>,
    Extension(limiter): Extension<ConsoleLimiter>,
    peer: PeerAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app = &http.app;
    let Ok(form) = serde_urlencoded::from_bytes::<PasswordForm>(&body) else {
        return view::error_page(
            StatusCode::BAD_REQUEST,
            "fill in the email and the password",
        );
    };
    if !pre_token_ok(&headers, form.csrf.as_deref()) {
        return session::forbidden("This sign-in form has expired. Reload the page and try again.");
    }
    let next = safe_next(form.next.as_deref());
    let ip = client_ip(app.config.trust_proxy, &headers, peer.0);
    let outcome = match limiter.0.check(Action::Login, ip, Some(&form.email)).await {
        Ok(()) => auth::login(app, &form.email, &form.password).await,
        Err(err) => Err(err),
    };
    match outcome {
        Ok(LoginOutcome::Tokens(tokens)) => finish(app, *tokens, &next).await,
        Ok(LoginOutcome::OtpRequired { challenge_id }) => {
            with_pre_token(app, StatusCode::OK, "Enter your code", |token| {
                code_form(token, &next, &challenge_id.to_string(), None)
            })
        }
        Err(err) => refused(app, &err, |token, message| {
            password_form(token, &next, &form.email, Some(message))
        }),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: Option<String>,
    challenge: String,
    code: String,
    next: Option<String>,
}

/// `POST /admin/login/code`.
pub async fn code(
    State(http): State<HttpState>,
    Extension(limiter): Extension<ConsoleLimiter>,
    peer: PeerAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app = &http.app;
    let Ok(form) = serde_urlencoded::from_bytes::<CodeForm>(&body) else {
        return view::error_page(StatusCode::BAD_REQUEST, "enter the code");
    };
    if !pre_token_ok(&headers, form.csrf.as_deref()) {
        return session::forbidden("This sign-in form has expired. Reload the page and try again.");
    }
    let next = safe_next(form.next.as_deref());
    let ip = client_ip(app.config.trust_proxy, &headers, peer.0);
    let outcome = match form.challenge.parse::<uuid::Uuid>() {
        Err(_) => Err(AppError::bad_input("challenge", "sign in again")),
        Ok(challenge) => match limiter
            .0
            .check(Action::VerifyOtp, ip, Some(&form.challenge))
            .await
        {
            Ok(()) => auth::verify_otp(app, challenge, &form.code).await,
            Err(err) => Err(err),
        },
    };
    match outcome {
        Ok(tokens) => finish(app, tokens, &next).await,
        Err(err) => refused(app, &err, |token, message| {
            code_form(token, &next, &form.challenge, Some(message))
        }),
    }
}

/// A refused attempt: the form again with the reason (401, or 429 when rate-limited).
fn refused(app: &AppState, err: &AppError, form: impl FnOnce(&str, &str) -> Markup) -> Response {
    let status = match err {
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Internal(_) => return view::app_error_page(err),
        _ => StatusCode::UNAUTHORIZED,
    };
    let message = err.to_string();
    with_pre_token(app, status, "Sign in", |token| form(token, &message))
}

/// Signed in through the auth service: an admin gets a console session (the API's refresh
/// token the service issued is revoked at once: the console does not use it).
async fn finish(app: &AppState, tokens: Tokens, next: &str) -> Response {
    if let Err(err) = auth::logout(app, &tokens.refresh_token).await {
        return view::app_error_page(&err);
    }
    if tokens.user.role != entity::users::Role::Admin {
        return session::forbidden("This console is for administrators only.");
    }
    match session::start(app, &tokens.user).await {
        Ok(token) => {
            let mut response = Redirect::to(next).into_response();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                session::set_cookie(
                    app,
                    session::COOKIE,
                    &token,
                    Some(session::cookie_max_age(app).as_secs()),
                ),
            );
            headers.append(
                header::SET_COOKIE,
                session::set_cookie(app, PRE_COOKIE, "", Some(0)),
            );
            response
        }
        Err(err) => view::app_error_page(&err),
    }
}

/// `POST /admin/logout`.
pub async fn logout(State(http): State<HttpState>, admin: Admin, body: Bytes) -> Response {
    if let Err(refused) = admin.form::<std::collections::HashMap<String, String>>(&body) {
        return refused.into_response();
    }
    if let Err(err) = session::end(&http.app, admin.session_id).await {
        return view::app_error_page(&err);
    }
    let mut response = Redirect::to("/admin/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(&http.app, session::COOKIE, "", Some(0)),
    );
    response
}
