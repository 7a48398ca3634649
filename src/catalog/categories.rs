//! Category rules.

use std::collections::HashSet;

use chrono::Utc;
use entity::categories;
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait,
    IntoActiveModel as _, PaginatorTrait as _, QueryFilter, QueryOrder as _,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub name: String,
    /// Derived from the name when absent.
    pub slug: Option<String>,
    pub parent_id: Option<Uuid>,
    pub icon_url: Option<String>,
    pub sort_order: Option<i32>,
}

/// Top-level categories, in display order.
pub async fn roots(conn: &impl ConnectionTrait) -> AppResult<Vec<categories::Model>> {
    Ok(categories::Entity::find()
        .filter(categories::Column::ParentId.is_null())
        .order_by_asc(categories::Column::SortOrder)
        .order_by_asc(categories::Column::Name)
        .all(conn)
        .await?)
}

pub async fn find(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<categories::Model> {
    categories::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("category"))
}

pub async fn find_by_slug(
    conn: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<categories::Model>> {
    Ok(categories::Entity::find()
        .filter(categories::Column::Slug.eq(slug))
        .one(conn)
        .await?)
}

pub async fn create(
    conn: &impl ConnectionTrait,
    input: CategoryInput,
) -> AppResult<categories::Model> {
    let name = check_name(&input.name)?;
    let slug = check_slug(input.slug.as_deref().unwrap_or(&name))?;
    if let Some(parent) = input.parent_id {
        find(conn, parent)
            .await
            .map_err(|_| AppError::bad_input("parentId", "no such category"))?;
    }
    if find_by_slug(conn, &slug).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "a category with slug {slug:?} already exists"
        )));
    }
    Ok(categories::ActiveModel {
        id: Set(crate::db::new_id()),
        parent_id: Set(input.parent_id),
        name: Set(name),
        slug: Set(slug),
        icon_url: Set(input.icon_url.filter(|u| !u.trim().is_empty())),
        sort_order: Set(input.sort_order.unwrap_or(0)),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?)
}

pub async fn update(
    conn: &impl ConnectionTrait,
    id: Uuid,
    input: CategoryInput,
) -> AppResult<categories::Model> {
    let existing = find(conn, id).await?;
    let name = check_name(&input.name)?;
    let slug = check_slug(input.slug.as_deref().unwrap_or(&existing.slug))?;
    if let Some(parent) = input.parent_id {
        ensure_not_descendant(conn, id, parent).await?;
    }
    if slug != existing.slug && find_by_slug(conn, &slug).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "a category with slug {slug:?} already exists"
        )));
    }
    let mut active = existing.into_active_model();
    active.name = Set(name);
    active.slug = Set(slug);
    active.parent_id = Set(input.parent_id);
    active.icon_url = Set(input.icon_url.filter(|u| !u.trim().is_empty()));
    if let Some(order) = input.sort_order {
        active.sort_order = Set(order);
    }
    Ok(active.update(conn).await?)
}

/// Deletes a category without subcategories.
pub async fn delete(conn: &impl ConnectionTrait, id: Uuid) -> AppResult<bool> {
    find(conn, id).await?;
    let children = categories::Entity::find()
        .filter(categories::Column::ParentId.eq(id))
        .count(conn)
        .await?;
    if children > 0 {
        return Err(AppError::Conflict(
            "this category has subcategories; move or delete them first".into(),
        ));
    }
    categories::Entity::delete_by_id(id).exec(conn).await?;
    Ok(true)
}

/// Refuses to hang `id` under `new_parent` if that would make a cycle.
async fn ensure_not_descendant(
    conn: &impl ConnectionTrait,
    id: Uuid,
    new_parent: Uuid,
) -> AppResult<()> {
    let cycle = || AppError::bad_input("parentId", "a category cannot be placed under itself");
    let mut seen = HashSet::new();
    let mut current = Some(new_parent);
    while let Some(at) = current {
        if at == id || !seen.insert(at) {
            return Err(cycle());
        }
        current = find(conn, at)
            .await
            .map_err(|_| AppError::bad_input("parentId", "no such category"))?
            .parent_id;
    }
    Ok(())
}

fn check_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(AppError::bad_input("name", "must be 1 to 80 characters"));
    }
    Ok(name.to_owned())
}

/// Lower-case words joined by hyphens: "E-Waste & Electronics" → "e-waste-electronics".
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn check_slug(raw: &str) -> AppResult<String> {
    let slug = slugify(raw);
    if slug.is_empty() || slug.len() > 80 {
        return Err(AppError::bad_input(
            "slug",
            "must have 1 to 80 letters or digits",
        ));
    }
    Ok(slug)
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_lowercase_hyphenated_words() {
        assert_eq!(slugify("E-Waste & Electronics"), "e-waste-electronics");
        assert_eq!(slugify("  Copper  "), "copper");
        assert_eq!(slugify("!!!"), "");
    }
}
