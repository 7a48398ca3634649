//! A GraphQL response, with the accessors tests need.

use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Gql {
    pub data: Value,
    pub errors: Vec<Value>,
}

impl Gql {
    pub fn from_response(response: async_graphql::Response) -> Self {
        let json = serde_json::to_value(&response).expect("serialize response");
        Self::from_json(json)
    }

    pub fn from_json(json: Value) -> Self {
        Self {
            data: json.get("data").cloned().unwrap_or(Value::Null),
            errors: json
                .get("errors")
                .and_then(|e| e.as_array())
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// `data[field]`, failing the test (with the errors) if the operation failed.
    #[track_caller]
    pub fn data(&self, field: &str) -> Value {
        assert!(
            self.errors.is_empty(),
            "unexpected errors: {:#?}",
            self.errors
        );
        self.data[field].clone()
    }

    /// The code of the first error, failing the test if there was none.
    #[track_caller]
    pub fn code(&self) -> String {
        let first = self
            .errors
            .first()
            .unwrap_or_else(|| panic!("expected an error, got {:#}", self.data));
        first["extensions"]["code"]
            .as_str()
            .unwrap_or("<none>")
            .to_owned()
    }

    /// `extensions.field` of the first error.
    pub fn field(&self) -> Option<String> {
        self.errors.first()?["extensions"]["field"]
            .as_str()
            .map(str::to_owned)
    }

    pub fn message(&self) -> String {
        self.errors
            .first()
            .and_then(|e| e["message"].as_str())
            .unwrap_or_default()
            .to_owned()
    }
}
