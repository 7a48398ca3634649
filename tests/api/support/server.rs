//! The real HTTP server on a random port, and a client for it.

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Gql, TestApp};

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn start(app: &TestApp) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let router = kabaadwala::http::router(app.state.clone());
    tokio::spawn(kabaadwala::http::serve(listener, router, shutdown.clone()));
    Server {
        base,
        shutdown,
        client: reqwest::Client::new(),
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, query: &str, variables: Value, token: Option<&str>) -> Gql {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("x-request-id"));
        Gql::from_json(response.json().await.unwrap())
    }

    /// A GraphQL multipart request (one file, at `variables.file`), built by hand as the spec
    /// describes it: `operations`, `map`, then the file part.
    pub async fn upload(
        &self,
        query: &str,
        variables: Value,
        token: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let boundary = "----kabaadwala-test-boundary";
        let operations = json!({ "query": query, "variables": variables });
        let mut body = Vec::new();
        let mut part = |name: &str, extra: &str, content: &[u8]| {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        };
        part("operations", "", operations.to_string().as_bytes());
        part("map", "", br#"{"0":["variables.file"]}"#);
        part(
            "0",
            &format!("; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream"),
            bytes,
        );
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }
}
