//! Batched account lookups.

use entity::users;
use uuid::Uuid;

use crate::loader::ById;

/// A user by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserById(pub Uuid);

impl ById for UserById {
    type Entity = users::Entity;
    const ID: users::Column = users::Column::Id;
    fn id(self) -> Uuid {
        self.0
    }
    fn of(row: &users::Model) -> Self {
        Self(row.id)
    }
}
