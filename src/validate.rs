//! Small input checks shared by the domains: free text, names, emails and phone numbers.

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

/// Lower-cased and checked: one `@`, a dotted domain, no spaces, at most 254 characters.
pub fn normalize_email(field: &str, raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(AppError::bad_input(field, "enter a valid email address"))
    }
}

pub fn check_name(field: &str, raw: &str) -> AppResult<String> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err(AppError::bad_input(field, "must not be empty")),
        n if n > 100 => Err(AppError::bad_input(field, "must be at most 100 characters")),
        _ => Ok(name.to_owned()),
    }
}

/// Keeps digits and a leading `+`; 10 to 15 digits.
pub fn normalize_phone(field: &str, raw: &str) -> AppResult<String> {
    let trimmed = raw.trim();
    let plus = trimmed.starts_with('+');
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let only_separators = trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '+' | '(' | ')'));
    if !only_separators || !(10..=15).contains(&digits.len()) {
        return Err(AppError::bad_input(
            field,
            "enter a phone number of 10 to 15 digits",
        ));
    }
    Ok(if plus { format!("+{digits}") } else { digits })
}
