//! Driving the operators' console through the router (no socket): a signed-in admin with its
//! session cookie and form token, and plain requests.

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use tower::ServiceExt as _;

use super::{PASSWORD, TestApp};

/// An answer: status, `Location`, `Set-Cookie` values and the body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Answer {
    /// The value of cookie `name` this answer sets.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        })
    }

    /// The first `<input name="{name}" value="…">` on the page.
    pub fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        self.body
            .split(&marker)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
    }
}

pub async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let location = headers
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let cookies = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        location,
        cookies,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub fn form(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

pub fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).unwrap()
}

pub fn post(path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Request<Body> {
    let mut request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(form(fields))).unwrap()
}

/// A signed-in console session.
pub struct Console {
    pub router: Router,
    pub cookie: String,
    pub csrf: String,
}

/// The sign-in page's pre-session cookie and form token.
pub async fn login_form(router: &Router) -> (String, String) {
    let page = send(router, get("/admin/login", None)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let pre = page.cookie("kw_admin_pre").expect("a pre-session cookie");
    let token = page.input("csrf").expect("a form token");
    (format!("kw_admin_pre={pre}"), token)
}

/// Posts the sign-in form for `email` (password [`PASSWORD`]).
pub async fn submit_login(router: &Router, email: &str) -> Answer {
    let (cookie, token) = login_form(router).await;
    send(
        router,
        post(
            "/admin/login",
            Some(&cookie),
            &[
                ("csrf", &token),
                ("email", email),
                ("password", PASSWORD),
                ("next", "/admin"),
            ],
        ),
    )
    .await
}

impl Console {
    /// Signs `email` (an admin) in through the sign-in form.
    pub async fn sign_in(app: &TestApp, email: &str) -> Console {
        let router = kabaadwala::http::router(app.state.clone());
        Self::sign_in_on(router, email).await
    }

    pub async fn sign_in_on(router: Router, email: &str) -> Console {
        let answer = submit_login(&router, email).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let session = answer.cookie("kw_admin").expect("a session cookie");
        let cookie = format!("kw_admin={session}");
        let home = send(&router, get("/admin", Some(&cookie))).await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        let csrf = home.input("csrf").expect("the session's form token");
        Console {
            router,
            cookie,
            csrf,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        send(&self.router, get(path, Some(&self.cookie))).await
    }

    /// Posts a form with the session's form token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        send(&self.router, post(path, Some(&self.cookie), &all)).await
    }

    /// Posts a form without any form token.
    pub async fn post_without_token(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        send(&self.router, post(path, Some(&self.cookie), fields)).await
    }
}
