//! The postal address as the domains take it in: one value type for a user's saved addresses
//! and a vendor's shop (and the one check of an address as entered, [`Address::check`]), so the
//! fields and their rules are written once. The tables keep an address as columns of their own
//! (an order freezes a copy of the delivery address), and the GraphQL types that show one
//! (`AddressInput`, `Address`, `VendorAddress`, `OrderAddress`) are the API's shapes.

use crate::error::{AppError, AppResult};

/// A postal address, with its place on the map when known (both coordinates or neither).
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    /// What the user calls it: `Home`, `Shop`.
    pub label: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: String,
    /// A 6-digit Indian PIN code.
    pub pincode: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// An address whose fields passed [`Address::check`]: trimmed, within their lengths, a valid
/// PIN code, both coordinates or neither, each in range.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedAddress(Address);

impl CheckedAddress {
    pub fn into_inner(self) -> Address {
        self.0
    }
}

impl std::ops::Deref for CheckedAddress {
    type Target = Address;

    fn deref(&self) -> &Address {
        &self.0
    }
}

impl Address {
    /// Trims and validates an address as entered (PIN code, lengths, coordinates); the error
    /// names the field.
    pub fn check(self) -> AppResult<CheckedAddress> {
        let text = |field: &str, value: &str, max: usize| -> AppResult<String> {
            let value = value.trim();
            if value.is_empty() {
                return Err(AppError::bad_input(field, "must not be empty"));
            }
            if value.chars().count() > max {
                return Err(AppError::bad_input(
                    field,
                    format!("must be at most {max} characters"),
                ));
            }
            Ok(value.to_owned())
        };
        let pincode = self.pincode.trim().to_owned();
        if pincode.len() != 6
            || !pincode.chars().all(|c| c.is_ascii_digit())
            || pincode.starts_with('0')
        {
            return Err(AppError::bad_input("pincode", "enter a 6-digit PIN code"));
        }
        match (self.latitude, self.longitude) {
            (Some(lat), Some(lng)) => {
                if !(-90.0..=90.0).contains(&lat) || lat.is_nan() {
                    return Err(AppError::bad_input(
                        "latitude",
                        "must be between -90 and 90",
                    ));
                }
                if !(-180.0..=180.0).contains(&lng) || lng.is_nan() {
                    return Err(AppError::bad_input(
                        "longitude",
                        "must be between -180 and 180",
                    ));
                }
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(AppError::bad_input(
                    "longitude",
                    "give both latitude and longitude",
                ));
            }
            (None, Some(_)) => {
                return Err(AppError::bad_input(
                    "latitude",
                    "give both latitude and longitude",
                ));
            }
        }
        Ok(CheckedAddress(Self {
            label: text("label", &self.label, 50)?,
            line1: text("line1", &self.line1, 200)?,
            line2: self
                .line2
                .as_deref()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| text("line2", l, 200))
                .transpose()?,
            city: text("city", &self.city, 100)?,
            state: text("state", &self.state, 100)?,
            pincode,
            latitude: self.latitude,
            longitude: self.longitude,
        }))
    }
}
