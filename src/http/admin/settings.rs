//! Settings and categories: edit the system settings within their ranges; the category tree,
//! add and delete a category.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
};
use entity::categories;
use maud::{Markup, html};
use sea_orm::{EntityTrait as _, QueryOrder as _};
use serde::Deserialize;

use super::{
    session::Admin,
    view::{self, Flash, PageResult},
};
use crate::{
    catalog::{self, categories::CategoryInput},
    http::HttpState,
    settings,
};

fn tree(admin: &Admin, all: &[categories::Model], parent: Option<uuid::Uuid>) -> Markup {
    html! {
        ul {
            @for c in all.iter().filter(|c| c.parent_id == parent) {
                li {
                    b { (c.name) } " " code { (c.slug) }
                    form.inline method="post" action={"/admin/settings/categories/" (c.id) "/delete"} {
                        (admin.csrf_field())
                        button.link type="submit" { "delete" }
                    }
                    (tree(admin, all, Some(c.id)))
                }
            }
        }
    }
}

/// `GET /admin/settings`.
pub async fn page(
    admin: Admin,
    State(http): State<HttpState>,
    Query(flash): Query<Flash>,
) -> PageResult {
    let db = &http.app.db;
    let current = settings::service::list(db).await?;
    let all = categories::Entity::find()
        .order_by_asc(categories::Column::SortOrder)
        .order_by_asc(categories::Column::Name)
        .all(db)
        .await?;
    let body = html! {
        h2 { "System settings" }
        div.table-wrap { table {
            thead { tr { th { "Setting" } th { "What it does" } th { "Value" } th.hide-sm { "Changed" } } }
            tbody {
                @for (setting, value, changed) in &current {
                    tr {
                        td { code { (setting.key()) } }
                        td { (setting.description()) }
                        td {
                            form method="post" action={"/admin/settings/" (setting.key())} {
                                (admin.csrf_field())
                                input type="number" name="value" value=(value) required;
                                " "
                                button type="submit" { "Save" }
                            }
                        }
                        td.hide-sm { (view::when_opt(*changed)) }
                    }
                }
            }
        } }
        h2 { "Categories" }
        (tree(&admin, &all, None))
        form.action method="post" action="/admin/settings/categories" {
            (admin.csrf_field())
            label { "New category" input type="text" name="name" required; }
            label { "Under" select name="parent" {
                option value="" { "(top level)" }
                @for c in &all { option value=(c.id) { (c.name) } }
            } }
            button type="submit" { "Add category" }
        }
    };
    Ok(admin.page("/admin/settings", "Settings and categories", &flash, body))
}

#[derive(Deserialize)]
pub struct ValueForm {
    #[serde(default)]
    value: String,
}

/// `POST /admin/settings/{key}`: the same function as `updateSystemSetting`.
pub async fn update(
    admin: Admin,
    State(http): State<HttpState>,
    Path(key): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    let form: ValueForm = admin.form(&body)?;
    let result =
        settings::admin::update_setting(&http.app, admin.viewer(), &key, &form.value).await;
    Ok(view::after_action(
        result,
        "/admin/settings",
        &format!("{key} saved."),
    ))
}

#[derive(Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent: String,
}

/// `POST /admin/settings/categories`: the same function as `createCategory`.
pub async fn create_category(
    admin: Admin,
    State(http): State<HttpState>,
    body: Bytes,
) -> view::ActionResult {
    let form: CategoryForm = admin.form(&body)?;
    let parent_id = match form.parent.trim() {
        "" => None,
        text => Some(view::id(text)?),
    };
    let input = CategoryInput {
        name: form.name,
        parent_id,
        ..CategoryInput::default()
    };
    let result = catalog::admin::create_category(&http.app, admin.viewer(), input).await;
    Ok(view::after_action(
        result,
        "/admin/settings",
        "Category added.",
    ))
}

/// `POST /admin/settings/categories/{id}/delete`: the same function as `deleteCategory`.
pub async fn delete_category(
    admin: Admin,
    State(http): State<HttpState>,
    Path(id): Path<String>,
    body: Bytes,
) -> view::ActionResult {
    admin.form::<HashMap<String, String>>(&body)?;
    let id = view::id(&id)?;
    let result = catalog::admin::delete_category(&http.app, admin.viewer(), id).await;
    Ok(view::after_action(
        result,
        "/admin/settings",
        "Category deleted.",
    ))
}
