//! GraphQL `ID`s: every id of the API is a UUID.

/// Parses a GraphQL `ID` as a UUID, or BAD_USER_INPUT naming the argument.
pub fn parse_id(field: &str, id: &async_graphql::ID) -> crate::AppResult<uuid::Uuid> {
    id.parse()
        .map_err(|_| crate::AppError::bad_input(field, "is not a valid id"))
}
