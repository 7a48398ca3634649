//! The operation a fan-out group runs for each event, parsed once.

use async_graphql::{Request, parser::types::ExecutableDocument};

/// What a group runs for each event: the operation, parsed once (a group of 1,000 viewers of a
/// per-viewer operation runs it 1,000 times an event).
pub struct Operation {
    source: Request,
    document: Option<ExecutableDocument>,
}

impl Operation {
    pub fn new(request: &Request) -> Self {
        let mut source = copy_request(request);
        // The subscriber's probe already parsed and validated it; should parsing fail here
        // anyway, each run parses again and reports the error itself.
        let document = source.parsed_query().ok().cloned();
        Self {
            source: copy_request(request),
            document,
        }
    }

    pub fn request(&self) -> Request {
        let mut request = copy_request(&self.source);
        if let Some(document) = &self.document {
            request.set_parsed_query(document.clone());
        }
        request
    }
}

/// The parts of a request that define an operation (requests hold their data by value).
pub fn copy_request(request: &Request) -> Request {
    let mut copy = Request::new(request.query.clone()).variables(request.variables.clone());
    if let Some(name) = &request.operation_name {
        copy = copy.operation_name(name.clone());
    }
    copy
}
