//! Pickups: search by number or household email and filter by status (DISPUTED is the queue of
//! pickups waiting for an operator); the detail page with the parties, the address and slot,
//! the items at their locked rates, the weighed lines, the money (quote, hold, final amount,
//! commission), the status history, the reasons, the scale's photo and the chat room; on a
//! DISPUTED pickup, settle at corrected weights or cancel (the same function as
//! `resolvePickupDispute`).

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::IntoResponse as _,
};
use entity::pickups::PickupStatus;
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    session::Admin,
    view::{self, Flash, FlashFields, PageResult},
};
use crate::{
    audit,
    error::AppError,
    http::HttpState,
    pickups::{
        admin::{self as pickups_admin, PickupDetail, PickupSearch},
        service::settlement::WeighingLine,
        state::{ALL as STATUSES, name as status_name},
    },
    storage::sniff::FileKind,
};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    status: String,
    after: Option<String>,
    #[serde(flatten)]
    flash: FlashFields,
}

/// `GET /admin/pickups`.
pub async fn list(
    admin: Admin,
    State(http): State<HttpState>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let page = view::list_page(query.after.as_deref())?;
    let search = PickupSearch {
        text: Some(query.search.clone()),
        status: view::by_name(&STATUSES, status_name, &query.status),
    };
    let (rows, total) = pickups_admin::search_pickups(&http.app.db, &search, &page).await?;
    let (rows, next) = view::split_page(rows, page.limit, |r| {
        view::at_id(r.pickup.created_at, r.pickup.id)
    });
    let statuses = view::name_options(&STATUSES, status_name);
    let body = html! {
        form.filters method="get" action="/admin/pickups" {
            label { "Search" input type="search" name="search" value=(query.search) placeholder="pickup number or household email"; }
            label { "Status" (view::select("status", "Any status", &statuses, Some(&query.status))) }
            button type="submit" { "Search" }
        }
        (view::table(
            &[("Number", ""), ("Status", ""), ("Household", ""), ("Collector", "hide-sm"),
              ("Quote", "num"), ("Final", "num"), ("Booked", "hide-sm")],
            html! {
                @for r in &rows {
                    @let p = &r.pickup;
                    tr {
                        td { a href={"/admin/pickups/" (p.id)} { (p.number) } }
                        td { (view::badge(status_name(p.status))) }
                        td { (r.household.as_ref().map_or("—", |u| u.email.as_str())) }
                        td.hide-sm { (r.collector.as_ref().map_or("—", |v| v.business_name.as_str())) }
                        td.num { (view::money(p.quote)) }
                        td.num { (p.final_amount.map_or_else(|| "—".into(), view::money)) }
                        td.hide-sm { (view::when(p.created_at)) }
                    }
                }
            },
            rows.is_empty(),
            "No pickups match.",
        ))
        (view::pager("/admin/pickups", &[("search", query.search.clone()), ("status", query.status.clone())], next, total))
    };
    Ok(admin.page("/admin/pickups", "Pickups", &query.flash.flash(), body))
}

/// Grams as kilograms, to the gram.
fn kg(grams: i64) -> String {
    format!("{}.{:03} kg", grams / 1000, (grams % 1000).abs())
}

fn material<'a>(d: &'a PickupDetail, id: &Uuid) -> &'a str {
    d.materials
        .get(id)
        .map_or("(removed material)", String::as_str)
}

/// `GET /admin/pickups/{id}`.
pub async fn detail(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let db = &http.app.db;
    let id = view::id(&id)?;
    let d = pickups_admin::pickup_detail(db, id).await?;
    let history = audit::service::of_subject(db, &id.to_string(), 20).await?;
    let p = &d.pickup;
    let here = format!("/admin/pickups/{id}");
    let body = html! {
        dl.facts {
            dt { "Status" } dd { (view::badge(status_name(p.status))) }
            dt { "Household" } dd { @if let Some(u) = &d.household { a href={"/admin/users/" (u.id)} { (u.full_name) " <" (u.email) ">" } } }
            dt { "Collector" } dd {
                @match &d.collector {
                    Some(v) => { a href={"/admin/vendors/" (v.id)} { (v.business_name) } " · " a href={"/admin/users/" (v.user_id)} { "its user" } }
                    None => { "none yet" }
                }
            }
            dt { "Address" } dd { (p.address_line1) @if let Some(l2) = &p.address_line2 { ", " (l2) } ", " (p.address_city) " " (p.address_pincode) " (" (p.address_label) ")" }
            dt { "Slot" } dd {
                @match &d.slot {
                    Some(s) => { (view::when(s.starts_at)) " – " (view::when(s.ends_at)) }
                    None => { "none (offered to nearby collectors)" }
                }
            }
            dt { "Note" } dd { (p.note.as_deref().unwrap_or("—")) }
            dt { "Quote" } dd { (view::money(p.quote)) }
            dt { "Hold" } dd {
                @match &d.hold {
                    Some(h) => { (view::badge(&format!("{:?}", h.status).to_uppercase())) " " (view::money(h.amount)) " · released " (view::money(h.released_amount)) " · " (view::when_opt(h.settled_at)) }
                    None => { "—" }
                }
            }
            dt { "Final amount" } dd { (p.final_amount.map_or_else(|| "—".into(), view::money)) }
            dt { "Commission" } dd { (p.commission.map_or_else(|| "—".into(), view::money)) @if let Some(bps) = p.commission_bps { " (" (bps) " bps)" } }
            dt { "Dispute reason" } dd { (p.dispute_reason.as_deref().unwrap_or("—")) }
            dt { "Cancel reason" } dd { (p.cancel_reason.as_deref().unwrap_or("—")) }
            dt { "Scale photo" } dd {
                @if p.weighing_photo_key.is_some() { a href={(here) "/photo"} { "Open the photo of the scale" } } @else { "—" }
            }
            dt { "Chat room" } dd { @if let Some(room) = d.chat_room { code { (room) } } @else { "—" } }
            dt { "Booked" } dd { (view::when(p.created_at)) }
            dt { "Weighed" } dd { (view::when_opt(p.weighed_at)) }
            dt { "Completed" } dd { (view::when_opt(p.completed_at)) }
        }
        @if p.status == PickupStatus::Disputed { (resolve_forms(&admin, &d, &here)) }
        h2 { "Items (as booked)" }
        (view::table(
            &[("Material", ""), ("Estimated", "num"), ("Locked rate", "num")],
            html! {
                @for i in &d.items {
                    tr {
                        td { (material(&d, &i.category_id)) }
                        td.num { (kg(i.estimated_grams)) }
                        td.num { (view::money(i.price_per_kg)) " / kg" }
                    }
                }
            },
            d.items.is_empty(),
            "No items.",
        ))
        h2 { "Weighed" }
        (view::table(
            &[("Material", ""), ("Weight", "num"), ("Rate", "num"), ("Amount", "num")],
            html! {
                @for l in &d.lines {
                    tr {
                        td { (material(&d, &l.category_id)) }
                        td.num { (kg(l.weight_grams)) " (" (l.weight_grams) " g)" }
                        td.num { (view::money(l.price_per_kg)) " / kg" }
                        td.num { (view::money(l.amount)) }
                    }
                }
            },
            d.lines.is_empty(),
            "Not weighed yet.",
        ))
        h2 { "Status history" }
        (view::table(
            &[("When", ""), ("From", ""), ("To", ""), ("By", ""), ("Note", "")],
            html! {
                @for h in &d.history {
                    tr {
                        td { (view::when(h.change.created_at)) }
                        td { (h.change.from_status.map_or("—", status_name)) }
                        td { (view::badge(status_name(h.change.status))) }
                        td {
                            (format!("{:?}", h.change.actor).to_lowercase())
                            @if let Some(u) = &h.by { " · " a href={"/admin/users/" (u.id)} { (u.email) } }
                        }
                        td { (h.change.note.as_deref().unwrap_or("")) }
                    }
                }
            },
            d.history.is_empty(),
            "No history.",
        ))
        h2 { "Admin actions" }
        (super::audit::entries_table(&history))
    };
    Ok(admin.page(
        "/admin/pickups",
        &format!("Pickup {}", p.number),
        &flash,
        body,
    ))
}

/// The two ways out of a dispute: settle at (corrected) weights, or cancel.
fn resolve_forms(admin: &Admin, d: &PickupDetail, here: &str) -> Markup {
    // Every material listed or weighed, the weighed ones first, with what the scale said.
    let mut rows: Vec<(Uuid, Option<i64>)> = d
        .lines
        .iter()
        .map(|l| (l.category_id, Some(l.weight_grams)))
        .collect();
    for item in &d.items {
        if !rows.iter().any(|(c, _)| *c == item.category_id) {
            rows.push((item.category_id, None));
        }
    }
    html! {
        h2 { "Resolve the dispute" }
        form.action method="post" action={(here) "/resolve"} {
            (admin.csrf_field())
            input type="hidden" name="decision" value="settle";
            p.muted { "Settle at these weights (in grams; leave a field empty to leave that material out). Each line is paid at the rate locked at booking; the household is paid, the commission goes to the platform and the rest of the collector's hold is released." }
            @for (category, grams) in &rows {
                label {
                    (material(d, category)) " (g)"
                    input type="text" inputmode="numeric" name={"grams." (category)} value=[grams.map(|g| g.to_string())];
                }
            }
            button type="submit" { "Settle the pickup" }
        }
        form.action method="post" action={(here) "/resolve"} {
            (admin.csrf_field())
            input type="hidden" name="decision" value="cancel";
            button.danger type="submit" { "Cancel the pickup" }
            span.muted { "Nobody is paid; the collector's whole hold is returned." }
        }
    }
}

/// A weight field as typed: empty is "left out"; anything else must be whole grams above 0.
fn parse_grams(text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim().replace([',', '_'], "");
    if text.is_empty() {
        return Ok(None);
    }
    let grams: i64 = text.parse().map_err(|_| {
        AppError::bad_input(
            "lines",
            format!("\"{text}\" is not a weight: give whole grams, like 12400"),
        )
    })?;
    if grams < 0 {
        return Err(AppError::bad_input(
            "lines",
            format!("{grams} g: a weight cannot be negative"),
        ));
    }
    if grams == 0 {
        return Err(AppError::bad_input(
            "lines",
            "0 g: leave the field empty to leave a material out",
        ));
    }
    Ok(Some(grams))
}

/// The decision of a resolve form: `Ok(None)` to cancel, else the lines to settle at.
fn resolve_decision(fields: &[(String, String)]) -> Result<Option<Vec<WeighingLine>>, AppError> {
    let decision = fields
        .iter()
        .find(|(k, _)| k == "decision")
        .map(|(_, v)| v.as_str());
    match decision {
        Some("cancel") => return Ok(None),
        Some("settle") => {}
        _ => return Err(AppError::bad_input("decision", "settle or cancel")),
    }
    let mut lines = Vec::new();
    for (key, value) in fields {
        let Some(category) = key.strip_prefix("grams.") else {
            continue;
        };
        let category_id = category
            .parse()
            .map_err(|_| AppError::bad_input("lines", "unknown material"))?;
        if let Some(weight_grams) = parse_grams(value)? {
            lines.push(WeighingLine {
                category_id,
                weight_grams,
            });
        }
    }
    if lines.is_empty() {
        return Err(AppError::bad_input(
            "lines",
            "give at least one weight, or cancel the pickup instead",
        ));
    }
    Ok(Some(lines))
}

/// `POST /admin/pickups/{id}/resolve`: the same function as `resolvePickupDispute`.
pub async fn resolve(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let fields: Vec<(String, String)> = admin.form(&body)?;
    let id = view::id(&id)?;
    let here = format!("/admin/pickups/{id}");
    let result = match resolve_decision(&fields) {
        Ok(None) => pickups_admin::resolve_dispute(&http.app, admin.viewer(), id, None, true).await,
        Ok(Some(lines)) => {
            pickups_admin::resolve_dispute(&http.app, admin.viewer(), id, Some(lines), false).await
        }
        Err(err) => Err(err),
    };
    let notice = match &result {
        Ok(p) if p.status == PickupStatus::Completed => format!(
            "Settled: {} paid to the household.",
            p.final_amount.map_or_else(|| "—".into(), view::money)
        ),
        _ => "Cancelled: the collector's hold is returned.".to_owned(),
    };
    Ok(view::after_action(result, &here, &notice))
}

/// `GET /admin/pickups/{id}/photo`: the photo of the scale. (`/media/pickups/…` takes the API's
/// bearer token, and the console's cookie is scoped to `/admin`, so the console serves it
/// itself, to its signed-in admins only.)
pub async fn photo(
    _admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
) -> PageResult {
    let id = view::id(&id)?;
    let (key, bytes) = pickups_admin::scale_photo(&http.app, id)
        .await?
        .ok_or_else(|| AppError::not_found("photo"))?;
    let kind = FileKind::for_key(&key).ok_or_else(|| AppError::not_found("photo"))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, "inline".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::{kg, parse_grams};

    #[test]
    fn weights_as_typed_are_whole_grams_above_zero() {
        assert_eq!(parse_grams(" 12,400 ").ok(), Some(Some(12_400)));
        assert_eq!(parse_grams("").ok(), Some(None));
        assert!(parse_grams("12.4").is_err());
        assert!(parse_grams("abc").is_err());
        assert!(parse_grams("-5").is_err());
        assert!(parse_grams("0").is_err());
        assert_eq!(kg(12_400), "12.400 kg");
    }
}
