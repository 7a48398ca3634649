//! `categories` (everyone) and the admin category mutations.

use async_graphql::{Context, ID, InputObject, Object};
use entity::categories;

use super::super::{
    categories as service,
    loaders::{CategoryById, CategoryChildren},
};
use crate::{
    error::AppResult,
    graphql::{context::ContextExt as _, ids::parse_id},
};

/// A scrap category. Categories form a tree: `children` are its subcategories.
pub struct Category(pub categories::Model);

#[Object]
impl Category {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Unique, URL-friendly name: `copper`, `e-waste`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    /// The parent category; null for a top-level one.
    async fn parent(&self, ctx: &Context<'_>) -> AppResult<Option<Category>> {
        let Some(parent_id) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(ctx
            .loader()
            .load_one(CategoryById(parent_id))
            .await?
            .map(Category))
    }

    /// Direct subcategories, in display order.
    async fn children(&self, ctx: &Context<'_>) -> AppResult<Vec<Category>> {
        Ok(ctx
            .loader()
            .load_one(CategoryChildren(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Category)
            .collect())
    }

    async fn icon_url(&self) -> Option<&str> {
        self.0.icon_url.as_deref()
    }

    /// Position among its siblings (ascending).
    async fn sort_order(&self) -> i32 {
        self.0.sort_order
    }
}

#[derive(InputObject)]
pub struct CategoryInput {
    pub name: String,
    /// Derived from the name when omitted.
    pub slug: Option<String>,
    /// The parent category; omit for a top-level category.
    pub parent_id: Option<ID>,
    pub icon_url: Option<String>,
    pub sort_order: Option<i32>,
}

impl CategoryInput {
    fn into_service(self) -> AppResult<service::CategoryInput> {
        Ok(service::CategoryInput {
            parent_id: self
                .parent_id
                .as_ref()
                .map(|id| parse_id("parentId", id))
                .transpose()?,
            name: self.name,
            slug: self.slug,
            icon_url: self.icon_url,
            sort_order: self.sort_order,
        })
    }
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// The category tree: the top-level categories, each with its `children`.
    async fn categories(&self, ctx: &Context<'_>) -> AppResult<Vec<Category>> {
        Ok(service::roots(&ctx.state().db)
            .await?
            .into_iter()
            .map(Category)
            .collect())
    }

    /// One category by id or slug.
    async fn category(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        slug: Option<String>,
    ) -> AppResult<Option<Category>> {
        let db = &ctx.state().db;
        let found = match (id, slug) {
            (Some(id), _) => {
                let id = parse_id("id", &id)?;
                ctx.loader().load_one(CategoryById(id)).await?
            }
            (None, Some(slug)) => service::find_by_slug(db, &slug).await?,
            (None, None) => None,
        };
        Ok(found.map(Category))
    }
}

#[derive(Default)]
pub struct CatalogMutation;

#[Object]
impl CatalogMutation {
    /// Admin: adds a category.
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        input: CategoryInput,
    ) -> AppResult<Category> {
        ctx.admin()?;
        let created = service::create(&ctx.state().db, input.into_service()?).await?;
        Ok(Category(created))
    }

    /// Admin: renames or moves a category.
    async fn update_category(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: CategoryInput,
    ) -> AppResult<Category> {
        ctx.admin()?;
        let id = parse_id("id", &id)?;
        let updated = service::update(&ctx.state().db, id, input.into_service()?).await?;
        Ok(Category(updated))
    }

    /// Admin: deletes a category that has no subcategories.
    async fn delete_category(&self, ctx: &Context<'_>, id: ID) -> AppResult<bool> {
        ctx.admin()?;
        let id = parse_id("id", &id)?;
        service::delete(&ctx.state().db, id).await
    }
}
