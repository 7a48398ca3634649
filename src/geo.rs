//! Distances on the Earth's surface. Coordinates are degrees; distances kilometres. Used by the
//! nearby product search and by order placement (does a vendor's service radius cover the
//! delivery address?).

/// Mean Earth radius in km (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance between two points by the haversine formula.
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// Checks a latitude/longitude pair; `None` names the bad one.
pub fn check_point(latitude: f64, longitude: f64) -> Result<(), &'static str> {
    if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
        return Err("latitude");
    }
    if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
        return Err("longitude");
    }
    Ok(())
}

/// A latitude/longitude box that contains every point within `radius_km` of the centre: a
/// cheap, index-friendly pre-filter before the exact distance.
pub fn bounding_box(latitude: f64, longitude: f64, radius_km: f64) -> BoundingBox {
    let dlat = (radius_km / EARTH_RADIUS_KM).to_degrees();
    let cos = latitude.to_radians().cos().abs().max(1e-6);
    let dlon = (radius_km / (EARTH_RADIUS_KM * cos))
        .to_degrees()
        .min(180.0);
    BoundingBox {
        min_lat: latitude - dlat,
        max_lat: latitude + dlat,
        min_lon: longitude - dlon,
        max_lon: longitude + dlon,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances_match() {
        // Connaught Place to India Gate, New Delhi: about 2.4 km.
        let d = distance_km(28.6315, 77.2167, 28.6129, 77.2295);
        assert!((d - 2.43).abs() < 0.05, "{d}");
        // Mumbai CST to Pune station: about 119 km as the crow flies.
        let d = distance_km(18.9402, 72.8356, 18.5289, 73.8744);
        assert!((d - 119.0).abs() < 1.5, "{d}");
        assert!(distance_km(12.97, 77.59, 12.97, 77.59).abs() < 1e-9);
    }

    #[test]
    fn the_bounding_box_contains_the_circle() {
        let b = bounding_box(28.6, 77.2, 10.0);
        assert!(distance_km(28.6, 77.2, b.max_lat, 77.2) >= 9.99);
        assert!(distance_km(28.6, 77.2, 28.6, b.max_lon) >= 9.99);
        assert!(check_point(91.0, 0.0).is_err());
        assert!(check_point(0.0, 181.0).is_err());
        assert!(check_point(f64::NAN, 0.0).is_err());
    }
}
