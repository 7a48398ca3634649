//! GraphQL over HTTP without per-field extension hooks. Any schema extension makes the engine
//! build a `ResolveInfo` and run every extension's `resolve` hook (a boxed future each) around
//! every field it resolves: on a 50-product page that is thousands of hooks doing nothing. The
//! HTTP schema therefore has no extension, and [`HttpExecutor::execute`] does, once per request
//! and in the same order, what the extensions do on the full schema:
//!
//! 1. document limits (`limits::Limits`): tokens before parsing; after parsing, the engine's
//!    recursion-depth and per-field directive checks (repeated here so that a document breaking
//!    several limits gets the same message as on the full schema), then aliases, directives and
//!    depth. The parsed document is handed to the engine, which does not parse it again;
//!    complexity stays with the engine (a schema setting, not an extension);
//! 2. publish after commit (`realtime::live::PublishAfterCommit`): the operation runs inside
//!    `live::after`;
//! 3. error codes (`errors::ErrorCodes`): `errors::annotate` on the response;
//! 4. metrics (`metrics::GraphqlMetrics`): the same operation label and timing.
//!
//! WebSocket operations and subscriptions keep the full schema. What must stay true: anything
//! added as an extension in `graphql::schema_builder` must be mirrored here, or it will not
//! apply over HTTP.

use std::time::Instant;

use async_graphql::{
    Positioned, Request, Response, ServerError, Value,
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
    },
};

use super::{engine::SharedEngine, errors, limits, metrics};
use crate::{AppError, AppState, realtime::live};

/// The engine's recursion limit on selection sets (`limit_recursive_depth`).
pub const MAX_RECURSIVE_DEPTH: usize = 32;

/// Runs HTTP requests on a schema without extensions.
#[derive(Clone)]
pub struct HttpExecutor {
    schema: SharedEngine,
    limits: limits::DocumentLimits,
    state: AppState,
}

/// Which operations a request may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    /// POST: any operation.
    Any,
    /// GET: queries only (a GET must not change anything).
    Queries,
}

/// Where a request stopped; the HTTP layer turns it into a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Refused before execution: a document limit, parse, validation or variable coercion.
    Refused,
    /// A mutation or subscription sent where only queries may run (a GET).
    WrongMethod,
    /// Executed; any errors came from resolvers.
    Executed,
}

/// A response and where its request stopped.
pub struct Executed {
    pub response: Response,
    pub stage: Stage,
}

/// What the metrics label of a request depends on, known once the document is parsed.
struct Labels {
    /// The label the metrics extension gives a parsed document with one operation.
    parsed: Option<String>,
    /// The name the engine runs the operation under, if it runs it.
    executed: Option<String>,
    subscription: bool,
}

impl HttpExecutor {
    pub fn new(schema: SharedEngine, limits: limits::DocumentLimits, state: AppState) -> Self {
        Self {
            schema,
            limits,
            state,
        }
    }

    /// The schema it runs requests on (without extensions).
    pub fn schema(&self) -> &SharedEngine {
        &self.schema
    }

    /// Executes one request as the full schema would, extensions included. With
    /// [`Allow::Queries`] (a GET), a mutation or subscription is refused once the document is
    /// parsed (after the document limits, so a refused document costs no parse).
    pub async fn execute(&self, mut request: Request, allow: Allow) -> Executed {
        let started = Instant::now();
        let (response, label, stage) = match self.prepare(&mut request, allow) {
            Err(refusal) => {
                let (error, stage) = *refusal;
                (Response::from_errors(vec![error]), None, stage)
            }
            Ok(labels) => {
                let response = live::after(&self.state, self.schema.execute(request)).await;
                let executed = labels.subscription
                    || response.errors.is_empty()
                    || response.data != Value::Null
                    || response.errors.iter().any(|e| !e.path.is_empty());
                let label = match (executed, labels.executed) {
                    (true, Some(name)) => Some(metrics::executed_label(&name).to_owned()),
                    _ => labels.parsed,
                };
                let stage = if executed {
                    Stage::Executed
                } else {
                    Stage::Refused
                };
                (response, label, stage)
            }
        };
        let response = errors::annotate(response);
        metrics::record(label.as_deref(), started, &response);
        Executed { response, stage }
    }

    /// The type of the operation `request` would run, once the document passed the limits
    /// (checked on the text before it is parsed). The parsed document stays in `request`.
    /// `None` when the document has no such operation (execution reports it).
    pub fn operation_type(
        &self,
        request: &mut Request,
    ) -> Result<Option<OperationType>, ServerError> {
        self.limits
            .check_text(&request.query)
            .map_err(limits::server_error)?;
        let name = request.operation_name.clone();
        let document = request.parsed_query()?;
        self.limits
            .check_document(document)
            .map_err(limits::server_error)?;
        Ok(match (&document.operations, name) {
            (DocumentOperations::Single(op), _) => Some(op.node.ty),
            (DocumentOperations::Multiple(map), Some(name)) => {
                map.get(name.as_str()).map(|op| op.node.ty)
            }
            (DocumentOperations::Multiple(map), None) if map.len() == 1 => {
                map.values().next().map(|op| op.node.ty)
            }
            _ => None,
        })
    }

    /// The limits, in the order the full schema applies them; leaves the parsed document in
    /// `request` for the engine.
    fn prepare(
        &self,
        request: &mut Request,
        allow: Allow,
    ) -> Result<Labels, Box<(ServerError, Stage)>> {
        let refused = |error: ServerError| Box::new((error, Stage::Refused));
        self.limits
            .check_text(&request.query)
            .map_err(|e| refused(limits::server_error(e)))?;
        let operation_name = request.operation_name.clone();
        let document = request.parsed_query().map_err(refused)?;
        check_recursive_depth(document, MAX_RECURSIVE_DEPTH).map_err(refused)?;
        check_directives_per_field(document, self.limits.max_directives).map_err(refused)?;
        self.limits
            .check_document(document)
            .map_err(|e| refused(limits::server_error(e)))?;
        let mut operations = document.operations.iter();
        let parsed = match (operations.next(), operations.next()) {
            (Some((name, _)), None) => Some(name.map_or("anonymous", |n| n.as_str()).to_owned()),
            _ => None,
        };
        // The name the engine passes to its `execute` hook (see `prepare_request`).
        let (executed, operation) = match (&document.operations, operation_name) {
            (DocumentOperations::Multiple(map), Some(name)) => {
                let operation = map.get(name.as_str());
                (operation.map(|_| name), operation)
            }
            (DocumentOperations::Multiple(map), None) if map.len() == 1 => {
                let mut only = map.iter();
                match only.next() {
                    Some((name, operation)) => (Some(name.to_string()), Some(operation)),
                    None => (None, None),
                }
            }
            (DocumentOperations::Single(operation), None) => (None, Some(operation)),
            _ => (None, None),
        };
        let subscription = operation.is_some_and(|op| op.node.ty == OperationType::Subscription);
        if allow == Allow::Queries && operation.is_some_and(|op| op.node.ty != OperationType::Query)
        {
            let error = AppError::bad_request(
                "only queries can be sent with GET; send mutations with POST",
            );
            return Err(Box::new((limits::server_error(error), Stage::WrongMethod)));
        }
        Ok(Labels {
            parsed,
            executed,
            subscription,
        })
    }
}

/// The engine's recursion-depth check (`limit_recursive_depth`), same message.
fn check_recursive_depth(document: &ExecutableDocument, max: usize) -> Result<(), ServerError> {
    fn walk(
        document: &ExecutableDocument,
        set: &Positioned<SelectionSet>,
        depth: usize,
        max: usize,
    ) -> Result<(), ServerError> {
        if depth > max {
            return Err(ServerError::new(
                format!("The recursion depth of the query cannot be greater than `{max}`"),
                Some(set.pos),
            ));
        }
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    if !field.node.selection_set.node.items.is_empty() {
                        walk(document, &field.node.selection_set, depth + 1, max)?;
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                    {
                        walk(document, &fragment.node.selection_set, depth + 1, max)?;
                    }
                }
                Selection::InlineFragment(inline) => {
                    walk(document, &inline.node.selection_set, depth + 1, max)?;
                }
            }
        }
        Ok(())
    }
    for (_, operation) in document.operations.iter() {
        walk(document, &operation.node.selection_set, 0, max)?;
    }
    Ok(())
}

/// The engine's directives-per-field check (`limit_directives`), same message.
fn check_directives_per_field(
    document: &ExecutableDocument,
    max: usize,
) -> Result<(), ServerError> {
    fn walk(
        document: &ExecutableDocument,
        set: &Positioned<SelectionSet>,
        max: usize,
    ) -> Result<(), ServerError> {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    if field.node.directives.len() > max {
                        return Err(ServerError::new(
                            format!(
                                "The number of directives on the field `{}` cannot be greater than `{max}`",
                                field.node.name.node
                            ),
                            Some(field.pos),
                        ));
                    }
                    walk(document, &field.node.selection_set, max)?;
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node)
                    {
                        walk(document, &fragment.node.selection_set, max)?;
                    }
                }
                Selection::InlineFragment(inline) => {
                    walk(document, &inline.node.selection_set, max)?;
                }
            }
        }
        Ok(())
    }
    for (_, operation) in document.operations.iter() {
        walk(document, &operation.node.selection_set, max)?;
    }
    Ok(())
}
