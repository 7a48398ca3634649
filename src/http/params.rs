//! The GraphQL request parameters of a `POST` JSON body or a `GET` query string, read strictly
//! as the GraphQL-over-HTTP spec describes them: `query` a string (required); `operationName`
//! a string or null; `variables` and `extensions` a map or null (in a GET, a map encoded as a
//! JSON string). Anything else is refused with a message naming the parameter, before any
//! GraphQL work is done.

use std::collections::HashMap;

use async_graphql::{Request, Variables};
use serde_json::{Map, Value};

use crate::AppError;

/// Reads a JSON body. A batch (an array) is refused: one operation per request.
pub fn from_json_body(body: &[u8]) -> Result<Request, AppError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        AppError::bad_request(
            "the body is not valid JSON: send `{\"query\": …, \"variables\": {…}}`",
        )
    })?;
    match value {
        Value::Object(map) => from_map(map),
        Value::Array(_) => Err(AppError::bad_request(
            "batched requests are not supported; send one operation per request",
        )),
        _ => Err(AppError::bad_request(
            "the body must be a JSON object with a `query`",
        )),
    }
}

fn from_map(mut map: Map<String, Value>) -> Result<Request, AppError> {
    let query = match map.remove("query") {
        Some(Value::String(query)) => query,
        None | Some(Value::Null) => {
            return Err(AppError::bad_input(
                "query",
                "`query` is missing: send the GraphQL document as `query`",
            ));
        }
        Some(_) => return Err(AppError::bad_input("query", "`query` must be a string")),
    };
    let mut request = Request::new(query);
    match map.remove("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request = request.operation_name(name),
        Some(_) => {
            return Err(AppError::bad_input(
                "operationName",
                "`operationName` must be a string or null",
            ));
        }
    }
    if let Some(variables) = optional_map(map.remove("variables"), "variables")? {
        request = request.variables(Variables::from_json(Value::Object(variables)));
    }
    if let Some(extensions) = optional_map(map.remove("extensions"), "extensions")? {
        for (key, value) in extensions {
            if let Ok(value) = async_graphql::Value::from_json(value) {
                request.extensions.insert(key, value);
            }
        }
    }
    Ok(request)
}

fn optional_map(value: Option<Value>, name: &str) -> Result<Option<Map<String, Value>>, AppError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(AppError::bad_input(
            name,
            format!("`{name}` must be a map (a JSON object) or null"),
        )),
    }
}

/// Reads a GET query string (`?query=…&variables=<JSON>&operationName=…&extensions=<JSON>`).
pub fn from_query_string(query: Option<&str>) -> Result<Request, AppError> {
    let pairs: HashMap<String, String> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| AppError::bad_request("the query string cannot be read"))?;
    let mut map = Map::new();
    for (key, value) in pairs {
        let value = match key.as_str() {
            "variables" | "extensions" if !value.is_empty() => serde_json::from_str(&value)
                .map_err(|_| AppError::bad_input(&key, format!("`{key}` must be a JSON object")))?,
            "variables" | "extensions" => Value::Null,
            _ => Value::String(value),
        };
        map.insert(key, value);
    }
    from_map(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_field(body: &str) -> Option<String> {
        match from_json_body(body.as_bytes()) {
            Err(AppError::BadUserInput { field, .. }) => field,
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => panic!("{body} was accepted"),
        }
    }

    #[test]
    fn parameters_of_the_wrong_type_are_refused_naming_the_parameter() {
        assert_eq!(
            refused_field(r#"{"notquery": "{ a }"}"#).as_deref(),
            Some("query")
        );
        assert_eq!(refused_field(r#"{"query": 0}"#).as_deref(), Some("query"));
        assert_eq!(
            refused_field(r#"{"query": ["x"]}"#).as_deref(),
            Some("query")
        );
        assert_eq!(
            refused_field(r#"{"query": "{ a }", "operationName": false}"#).as_deref(),
            Some("operationName")
        );
        assert_eq!(
            refused_field(r#"{"query": "{ a }", "variables": "{}"}"#).as_deref(),
            Some("variables")
        );
        assert_eq!(
            refused_field(r#"{"query": "{ a }", "extensions": []}"#).as_deref(),
            Some("extensions")
        );
        assert_eq!(refused_field(r#"[{"query": "{ a }"}]"#), None);
        assert_eq!(refused_field(r#"{ "not a JSON"#), None);
    }

    #[test]
    fn null_optional_parameters_and_maps_are_accepted() {
        let request = from_json_body(
            br#"{"query": "query Q($n: String) { a }", "operationName": null, "variables": {"n": "x"}, "extensions": null}"#,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(request.query, "query Q($n: String) { a }");
        assert!(request.operation_name.is_none());
        assert!(!request.variables.is_empty());
    }

    #[test]
    fn a_query_string_decodes_its_json_parameters() {
        let request = from_query_string(Some(
            "query=query%20T(%24n%3A%20String!)%20%7B%20a%20%7D&variables=%7B%22n%22%3A%22x%22%7D&operationName=T",
        ))
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(request.operation_name.as_deref(), Some("T"));
        assert!(!request.variables.is_empty());
        assert!(from_query_string(Some("variables=%7B%7D")).is_err());
        assert!(from_query_string(Some("query=%7Ba%7D&variables=3")).is_err());
    }
}
