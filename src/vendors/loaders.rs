//! Batched vendor lookups.

use entity::vendors;
use uuid::Uuid;

use crate::loader::ById;

/// A vendor by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VendorById(pub Uuid);

impl ById for VendorById {
    type Entity = vendors::Entity;
    const ID: vendors::Column = vendors::Column::Id;
    fn id(self) -> Uuid {
        self.0
    }
    fn of(row: &vendors::Model) -> Self {
        Self(row.id)
    }
}
