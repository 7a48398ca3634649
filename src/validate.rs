//! Small input checks shared by the domains.

use crate::error::{AppError, AppResult};

/// Trims optional free text; empty becomes `None`; longer than `max` characters is
/// BAD_USER_INPUT on `field`.
pub fn optional_text(field: &str, raw: Option<String>, max: usize) -> AppResult<Option<String>> {
    let text = raw.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if text.as_ref().is_some_and(|t| t.chars().count() > max) {
        return Err(AppError::bad_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(text)
}
