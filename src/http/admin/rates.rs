//! Rate cards: each city's rates in force (material, ₹ per kg, since when) and those set to
//! start later; a form to set a rate (the same function as `setRate`: a new versioned row,
//! never back-dated, audited).

use axum::{
    body::Bytes,
    extract::{Query, State},
};
use chrono::{NaiveDateTime, Utc};
use maud::html;
use serde::Deserialize;

use super::{
    session::Admin,
    view::{self, Flash, PageResult},
};
use crate::{
    error::AppError,
    http::HttpState,
    pickups::{admin as pickups_admin, service::rates::SetRateInput},
};

/// `GET /admin/rates`.
pub async fn page(
    admin: Admin,
    State(http): State<HttpState>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let db = &http.app.db;
    let (cards, names) = pickups_admin::rate_cards(db, Utc::now()).await?;
    let materials = pickups_admin::materials(db).await?;
    let choices: Vec<(String, &str)> = materials
        .iter()
        .map(|m| (m.id.to_string(), m.name.as_str()))
        .collect();
    let choices: Vec<(&str, &str)> = choices.iter().map(|(id, n)| (id.as_str(), *n)).collect();
    let name = |id: &uuid::Uuid| names.get(id).map_or("(removed material)", String::as_str);
    let body = html! {
        form.action method="post" action="/admin/rates" {
            (admin.csrf_field())
            label { "City" input type="text" name="city" list="cities" required; }
            datalist id="cities" { @for c in &cards { option value=(c.city) {} } }
            label { "Material" (view::select("material", "Choose a material", &choices, None)) }
            label { "₹ per kg" input type="text" inputmode="decimal" name="price" placeholder="14.50" required; }
            label { "From (UTC, optional)" input type="datetime-local" name="from"; }
            button type="submit" { "Set rate" }
            span.muted { "A new rate never changes a booking already made; it cannot start in the past." }
        }
        @if cards.is_empty() { p.muted { "No rates yet." } }
        @for card in &cards {
            h2 { (card.city) }
            (view::table(
                &[("Material", ""), ("₹ per kg", "num"), ("Since", "")],
                html! {
                    @for r in &card.current {
                        tr {
                            td { (name(&r.category_id)) }
                            td.num { (view::money(r.price_per_kg)) }
                            td { (view::when(r.effective_from)) }
                        }
                    }
                },
                card.current.is_empty(),
                "No rate in force yet.",
            ))
            @if !card.scheduled.is_empty() {
                h3 { "Starting later" }
                (view::table(
                    &[("Material", ""), ("₹ per kg", "num"), ("From", "")],
                    html! {
                        @for r in &card.scheduled {
                            tr {
                                td { (name(&r.category_id)) }
                                td.num { (view::money(r.price_per_kg)) }
                                td { (view::when(r.effective_from)) }
                            }
                        }
                    },
                    false,
                    "",
                ))
            }
        }
    };
    Ok(admin.page("/admin/rates", "Rate cards", &flash, body))
}

#[derive(Deserialize)]
pub struct RateForm {
    #[serde(default)]
    city: String,
    #[serde(default)]
    material: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    from: String,
}

/// The form as the service's input, or what is wrong with it.
fn rate_input(form: &RateForm) -> Result<SetRateInput, AppError> {
    let category_id = form
        .material
        .trim()
        .parse()
        .map_err(|_| AppError::bad_input("material", "choose a material"))?;
    let price_per_kg = view::parse_rupees("price", &form.price)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            AppError::bad_input(
                "price",
                "give the price per kg in rupees above 0, like 14.50",
            )
        })?;
    let effective_from = match form.from.trim() {
        "" => None,
        text => Some(
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
                .map_err(|_| AppError::bad_input("from", "give the start as YYYY-MM-DD HH:MM"))?
                .and_utc(),
        ),
    };
    Ok(SetRateInput {
        city: form.city.clone(),
        category_id,
        price_per_kg,
        effective_from,
    })
}

/// `POST /admin/rates`: the same function as `setRate`.
pub async fn set(admin: Admin, State(http): State<HttpState>, body: Bytes) -> view::ActionResult {
    let form: RateForm = admin.form(&body)?;
    let result = match rate_input(&form) {
        Ok(input) => pickups_admin::set_rate(&http.app, admin.viewer(), input).await,
        Err(err) => Err(err),
    };
    let notice = match &result {
        Ok(rate) => format!(
            "Rate set: {} per kg in {} from {}.",
            view::money(rate.price_per_kg),
            rate.city,
            view::when(rate.effective_from)
        ),
        Err(_) => String::new(),
    };
    Ok(view::after_action(result, "/admin/rates", &notice))
}
