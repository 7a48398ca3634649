//! The console's page frame and small view helpers: navigation, notices, tables, paging,
//! formats (money, times), error pages and the answer to a form (POST → redirect).

use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::assets;
use crate::error::AppError;

/// The sections, in the navigation's order: (path, label).
pub const SECTIONS: [(&str, &str); 12] = [
    ("/admin", "Dashboard"),
    ("/admin/users", "Users"),
    ("/admin/vendors", "Vendors"),
    ("/admin/products", "Products"),
    ("/admin/orders", "Orders"),
    ("/admin/pickups", "Pickups"),
    ("/admin/rates", "Rate cards"),
    ("/admin/payouts", "Payouts"),
    ("/admin/ledger", "Ledger"),
    ("/admin/jobs", "Jobs"),
    ("/admin/settings", "Settings"),
    ("/admin/audit", "Audit log"),
];

/// Notices carried through the redirect after a form: `?notice=` and `?error=`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Flash {
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// The notices, flattened into a list's query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct FlashFields {
    notice: Option<String>,
    error: Option<String>,
}

impl FlashFields {
    pub fn flash(&self) -> Flash {
        Flash {
            notice: self.notice.clone(),
            error: self.error.clone(),
        }
    }
}

pub(super) fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            // htmx must not insert a <style> (the policy allows none).
            meta name="htmx-config" content=r#"{"includeIndicatorStyles":false}"#;
            title { (title) " · Kabaadwala admin" }
            link rel="stylesheet" href=(assets::url("admin.css"));
            script src=(assets::url("htmx.min.js")) defer {}
        }
    }
}

/// A page without the navigation (sign-in, errors).
pub fn bare(status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare {
                main.narrow {
                    p.brand { "Kabaadwala " span { "admin" } }
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    html_response(status, markup)
}

pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "same-origin"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            ),
        ],
        markup.into_string(),
    )
        .into_response()
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        s if s.is_server_error() => "Something went wrong",
        _ => "Cannot do that",
    };
    bare(
        status,
        title,
        html! {
            p { (message) }
            p { a href="/admin" { "Back to the console" } }
        },
    )
}

/// An error page for an `AppError`, with the status its code calls for.
pub fn app_error_page(err: &AppError) -> Response {
    let status = match err {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::Internal(cause) => {
            tracing::error!(error = ?cause, "console page failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    error_page(status, &err.to_string())
}

/// What a page handler returns: the page, or an error page.
pub type PageResult = Result<Response, PageError>;

pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(err: AppError) -> Self {
        Self(err)
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self(err.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        app_error_page(&self.0)
    }
}

/// The answer to a form: back to `to` with a notice, or with the refusal's message. A failure
/// of ours is an error page (its cause is logged, never shown).
pub fn after_action<T>(result: Result<T, AppError>, to: &str, notice: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    match result {
        Ok(_) => Redirect::to(&format!("{to}{sep}notice={}", encode(notice))).into_response(),
        Err(err @ AppError::Internal(_)) => app_error_page(&err),
        Err(err) => {
            Redirect::to(&format!("{to}{sep}error={}", encode(&err.to_string()))).into_response()
        }
    }
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char);
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

pub fn money(paise: i64) -> String {
    crate::money::format_inr(paise)
}

pub fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn when_opt(at: Option<DateTime<Utc>>) -> String {
    at.map(when).unwrap_or_else(|| "—".into())
}

/// A status word as a coloured badge.
pub fn badge(text: &str) -> Markup {
    let tone = match text {
        "ACTIVE" | "APPROVED" | "PAID" | "COMPLETED" | "DELIVERED" | "SUCCEEDED" | "LISTED" => {
            "good"
        }
        "DEACTIVATED" | "REJECTED" | "DEAD" | "REFUNDED" | "CANCELLED" | "UNLISTED" | "EXPIRED" => {
            "bad"
        }
        "SUBMITTED" | "REQUESTED" | "PLACED" | "PENDING" | "RUNNING" | "HELD" | "DISPUTED" => {
            "wait"
        }
        _ => "plain",
    };
    html! { span class={"badge " (tone)} { (text) } }
}

/// "Next page" (and "first page") links for a list whose query string is `query` (without
/// `after`).
pub fn pager(base: &str, query: &[(&str, String)], next: Option<String>, total: i64) -> Markup {
    let mut params: Vec<String> = query
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let first = if params.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", params.join("&"))
    };
    let next = next.map(|cursor| {
        params.push(format!("after={}", encode(&cursor)));
        format!("{base}?{}", params.join("&"))
    });
    html! {
        nav.pager {
            span { (total) " in all" }
            a href=(first) { "First page" }
            @if let Some(next) = next {
                a rel="next" href=(next) { "Next page →" }
            }
        }
    }
}

/// A `<select>` of `options` (value, label) with `current` chosen; the first option is "any".
pub fn select(name: &str, any: &str, options: &[(&str, &str)], current: Option<&str>) -> Markup {
    html! {
        select name=(name) {
            option value="" { (any) }
            @for (value, label) in options {
                option value=(value) selected[current == Some(*value)] { (label) }
            }
        }
    }
}

/// A list's table: `columns` (label, class: `""`, `"num"`, `"hide-sm"`), the `rows`, and
/// `empty` across the table when there are none.
pub fn table(columns: &[(&str, &str)], rows: Markup, is_empty: bool, empty: &str) -> Markup {
    html! {
        div.table-wrap { table {
            thead { tr {
                @for (label, class) in columns {
                    th class=[(!class.is_empty()).then_some(*class)] { (label) }
                }
            } }
            tbody {
                (rows)
                @if is_empty { tr { td colspan=(columns.len()) .muted { (empty) } } }
            }
        } }
    }
}

/// The one of `all` called `text` (a filter's query value), if any.
pub fn by_name<T: Copy>(all: &[T], name: fn(T) -> &'static str, text: &str) -> Option<T> {
    all.iter().copied().find(|v| name(*v) == text)
}

/// `all` as a `<select>`'s options, each value its own label.
pub fn name_options<T: Copy>(
    all: &[T],
    name: fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|v| (name(*v), name(*v))).collect()
}

/// Rupees as typed (`150`, `-20.50`, `1,000`) in paise; `field` names the form field at fault.
pub fn parse_rupees(field: &str, text: &str) -> Result<i64, AppError> {
    let bad = || AppError::bad_input(field, "give an amount in rupees, like 150 or 20.50");
    let text = text.trim().replace(',', "");
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.to_owned()),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((&digits, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let paise = whole
        .checked_mul(100)
        .and_then(|p| p.checked_add(fraction))
        .ok_or_else(bad)?;
    Ok(if negative { -paise } else { paise })
}

/// A simple inline SVG string (already built from numbers only).
pub fn svg(text: String) -> Markup {
    PreEscaped(text)
}

/// Splits rows fetched with `LIMIT limit + 1` into the page and the next page's cursor.
pub fn split_page<T, C: async_graphql::connection::CursorType>(
    mut rows: Vec<T>,
    limit: u64,
    cursor: impl Fn(&T) -> C,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|row| cursor(row).encode_cursor())
    } else {
        None
    };
    (rows, next)
}

/// A page of the console's lists: `?after=` and 25 rows.
pub fn list_page(after: Option<&str>) -> Result<crate::paging::Page, PageError> {
    Ok(crate::paging::Page::new(
        Some(25),
        after.filter(|a| !a.is_empty()).map(str::to_owned),
    )?)
}

/// A `YYYY-MM-DD` form field as the start of that UTC day.
pub fn day_start(text: Option<&str>) -> Result<Option<DateTime<Utc>>, PageError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| AppError::bad_input("date", "use YYYY-MM-DD"))?;
    Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

/// A path segment as an id, or a 404 page.
pub fn id(text: &str) -> Result<uuid::Uuid, PageError> {
    text.parse()
        .map_err(|_| PageError(AppError::not_found("page")))
}

/// The cursor of a row ordered by (created_at, id).
pub fn at_id(at: DateTime<Utc>, id: uuid::Uuid) -> crate::paging::Cursor {
    crate::paging::Cursor { at, id }
}

/// A refused form (its error page or redirect), boxed: a `Response` is large.
pub struct Refused(Box<Response>);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Response> for Refused {
    fn from(response: Response) -> Self {
        Self(Box::new(response))
    }
}

impl From<PageError> for Refused {
    fn from(err: PageError) -> Self {
        Self(Box::new(err.into_response()))
    }
}

/// What an action handler returns.
pub type ActionResult = Result<Response, Refused>;

#[cfg(test)]
mod tests {
    use super::parse_rupees;

    #[test]
    fn rupees_as_typed_become_paise() {
        assert_eq!(parse_rupees("amount", "150").ok(), Some(15_000));
        assert_eq!(parse_rupees("amount", "-20.5").ok(), Some(-2_050));
        assert_eq!(parse_rupees("amount", "1,000.05").ok(), Some(100_005));
        assert!(parse_rupees("amount", "1.234").is_err());
        assert!(parse_rupees("amount", "abc").is_err());
        assert!(parse_rupees("amount", "").is_err());
    }
}
