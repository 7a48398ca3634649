//! `AppError`: the one error type of the application. Its variants are the error codes of the
//! API contract (API.md); [`AppError::code`] is the only place an error becomes a code.
//! `Internal` keeps its cause for the log and shows the client only "internal error".

use std::sync::Arc;

pub type AppResult<T> = Result<T, AppError>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Bad input; `field` names the input field at fault, where there is one.
    #[error("{message}")]
    BadUserInput {
        message: String,
        field: Option<String>,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InsufficientFunds(String),
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Anything the client cannot act on. The cause is logged, never returned.
    #[error("internal error")]
    Internal(Arc<anyhow::Error>),
}

impl AppError {
    /// The `extensions.code` this error carries in a GraphQL response.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::InsufficientFunds(_) => "INSUFFICIENT_FUNDS",
            Self::InvalidTransition(_) => "INVALID_TRANSITION",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// Bad input that no single field is at fault for.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadUserInput {
            message: message.into(),
            field: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn unauthenticated() -> Self {
        Self::Unauthenticated("sign in to do this".into())
    }

    pub fn forbidden() -> Self {
        Self::Forbidden("you are not allowed to do this".into())
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(Arc::new(err.into()))
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(Arc::new(err))
    }
}

impl From<sea_orm::DbErr> for AppError {
    /// Constraint violations are the client's doing (a duplicate, a dangling reference); every
    /// other database error is internal.
    fn from(err: sea_orm::DbErr) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                Self::Conflict("that already exists".into())
            }
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => Self::BadUserInput {
                message: "a referenced record does not exist or is still in use".into(),
                field: None,
            },
            // PostgreSQL refuses NUL characters in text (SQLite stores them): the client's
            // input, not our failure.
            _ if err
                .to_string()
                .contains("invalid byte sequence for encoding") =>
            {
                Self::BadUserInput {
                    message: "text must not contain NUL characters".into(),
                    field: None,
                }
            }
            _ => Self::Internal(Arc::new(anyhow::Error::new(err).context("database"))),
        }
    }
}

/// Adds context to internal failures so a log line tells where it broke.
pub trait ResultExt<T> {
    fn context_internal(self, what: &'static str) -> AppResult<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> ResultExt<T> for Result<T, E> {
    fn context_internal(self, what: &'static str) -> AppResult<T> {
        self.map_err(|err| AppError::Internal(Arc::new(anyhow::Error::new(err).context(what))))
    }
}
