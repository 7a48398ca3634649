//! `schema.graphql` is the contract frontends build against: it must be what the server serves.

#[test]
fn schema_graphql_matches_the_built_schema() {
    let built = kabaadwala::graphql::schema::sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == built,
        "schema.graphql is out of date: run `cargo run -- export-schema --out schema.graphql`"
    );
}

#[test]
fn money_is_never_a_float_in_the_schema() {
    let sdl = kabaadwala::graphql::schema::sdl();
    for line in sdl.lines().filter(|l| l.contains("Float")) {
        let field = line.trim();
        assert!(
            field.starts_with("latitude")
                || field.starts_with("longitude")
                || field.starts_with("radiusKm")
                || field.starts_with("distanceKm")
                || field.starts_with("serviceRadiusKm")
                // An average of 1-5 stars: a score, never money.
                || field.starts_with("rating: Float")
                // The collector's coordinates, as arguments.
                || field.starts_with("sharePickupLocation(pickupId: ID!, latitude: Float!, longitude: Float!)")
                // A weight in kilograms (pickups): never money, which is in paise.
                || field
                    .split([':', '('])
                    .next()
                    .is_some_and(|name| name == "kg" || name.ends_with("Kg")),
            "only coordinates, distances and ratings may be floats, found: {field}"
        );
    }
}
