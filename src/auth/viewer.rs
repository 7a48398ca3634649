//! The caller of a request, as established from its access token.

use entity::users::Role;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// A signed-in caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Uuid,
    pub role: Role,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// What the request's credentials amount to. An invalid token is kept apart from no token, so
/// that a client with an expired token is told to refresh rather than silently treated as
/// anonymous.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Anonymous,
    Viewer(Viewer),
    Invalid(String),
}

impl Auth {
    /// The signed-in viewer, or UNAUTHENTICATED.
    pub fn viewer(&self) -> AppResult<Viewer> {
        match self {
            Self::Viewer(viewer) => Ok(*viewer),
            Self::Anonymous => Err(AppError::unauthenticated()),
            Self::Invalid(reason) => Err(AppError::Unauthenticated(reason.clone())),
        }
    }

    /// The viewer if there is one; an invalid token is still an error.
    pub fn optional_viewer(&self) -> AppResult<Option<Viewer>> {
        match self {
            Self::Viewer(viewer) => Ok(Some(*viewer)),
            Self::Anonymous => Ok(None),
            Self::Invalid(reason) => Err(AppError::Unauthenticated(reason.clone())),
        }
    }

    /// The viewer, who must be an admin.
    pub fn admin(&self) -> AppResult<Viewer> {
        let viewer = self.viewer()?;
        if viewer.is_admin() {
            Ok(viewer)
        } else {
            Err(AppError::Forbidden("only admins may do this".into()))
        }
    }
}
