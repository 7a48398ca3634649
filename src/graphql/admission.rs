//! The checks a GraphQL operation passes before it runs, whichever transport brought it: one
//! list, [`CHECKS`], in the order they are applied, and the two places that apply it. Every
//! check is applied either by [`admit`] (before the engine sees the document) or by the engine
//! itself, configured by [`engine_checks`] (both executable schemas are built through it), or
//! by both; [`Check::applied_by`] says which, and neither place names a check that is not in
//! the list.
//!
//! Both transports admit through [`admit`]: `POST`/`GET /graphql` in
//! [`super::executor::HttpExecutor::execute`], and every WebSocket `subscribe` (queries and
//! mutations as well as subscriptions) through [`super::executor::HttpExecutor::admit`]
//! before it runs anywhere. What the caller is (its verified token, its client IP for the
//! per-IP rate limits, a fresh DataLoader) goes with the operation through one function too,
//! `schema::request_data_from`. `tests/api/admission.rs` sends a document breaking each check
//! over HTTP and over the WebSocket (as a query and as a subscription) and fails when one side
//! lets it through or answers differently.

use async_graphql::{
    ObjectType, Positioned, Request, SchemaBuilder, ServerError, SubscriptionType,
    parser::types::{
        DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
        SelectionSet,
    },
};

use super::limits::{self, DocumentLimits};
use crate::{
    AppError,
    config::{AppEnv, Config},
};

/// The engine's recursion limit on selection sets (`limit_recursive_depth`).
pub const MAX_RECURSIVE_DEPTH: usize = 32;

/// One check an operation passes before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Lexical tokens (`GRAPHQL_MAX_TOKENS`), aliases and directives counted on the text,
    /// before it is parsed, so a huge document costs no parse.
    TextLimits,
    /// The document parses.
    Syntax,
    /// Selection sets nest at most [`MAX_RECURSIVE_DEPTH`] deep.
    RecursionDepth,
    /// At most `GRAPHQL_MAX_DIRECTIVES` directives on one field.
    DirectivesPerField,
    /// Aliases, directives and field depth of the parsed document (`GRAPHQL_MAX_ALIASES`,
    /// `GRAPHQL_MAX_DIRECTIVES`, `GRAPHQL_MAX_DEPTH`; introspection fields not counted).
    DocumentLimits,
    /// A GET runs queries only ([`Allow::Queries`]); the other ways in allow any operation.
    Method,
    /// The operation's cost within `GRAPHQL_MAX_COMPLEXITY` (a connection costs `first` times
    /// its node), checked by the engine when it validates the document.
    Complexity,
    /// `__schema`/`__type` refused when `GRAPHQL_INTROSPECTION=false`.
    Introspection,
    /// No "did you mean …" in errors in production: it would spell out the schema to someone
    /// who cannot introspect it.
    Suggestions,
}

/// Where a check is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliedBy {
    /// [`admit`], before the engine sees the document.
    Admission,
    /// The engine, as configured by [`engine_checks`].
    Engine,
    /// Both: the engine has it, and [`admit`] applies it first, in the engine's order, so a
    /// document breaking several checks gets the same message on every path.
    Both,
}

impl Check {
    pub fn applied_by(self) -> AppliedBy {
        match self {
            Self::TextLimits | Self::Syntax | Self::DocumentLimits | Self::Method => {
                AppliedBy::Admission
            }
            Self::RecursionDepth | Self::DirectivesPerField => AppliedBy::Both,
            Self::Complexity | Self::Introspection | Self::Suggestions => AppliedBy::Engine,
        }
    }
}

/// Every check, in the order applied.
pub const CHECKS: [Check; 9] = [
    Check::TextLimits,
    Check::Syntax,
    Check::RecursionDepth,
    Check::DirectivesPerField,
    Check::DocumentLimits,
    Check::Method,
    Check::Complexity,
    Check::Introspection,
    Check::Suggestions,
];

/// Which operations a request may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    /// POST and the WebSocket: any operation.
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

/// A refused operation: the error to answer with, and where it stopped.
pub type Refusal = Box<(ServerError, Stage)>;

/// An operation that passed [`admit`]; its parsed document stays in the request.
#[derive(Debug, Clone, Default)]
pub struct Admitted {
    /// The type of the operation the request runs; `None` when the document has no such
    /// operation (execution reports it).
    pub operation: Option<OperationType>,
    /// The label the metrics give a parsed document with one operation.
    pub parsed_label: Option<String>,
    /// The name the engine runs the operation under, if it runs it.
    pub executed_name: Option<String>,
}

/// Applies every check of [`CHECKS`] that is not the engine's alone, in order. The parsed
/// document is left in `request`, so the engine does not parse it again.
pub fn admit(
    limits: &DocumentLimits,
    request: &mut Request,
    allow: Allow,
) -> Result<Admitted, Refusal> {
    for check in CHECKS {
        if check.applied_by() != AppliedBy::Engine {
            apply(check, limits, request, allow)?;
        }
    }
    let operation_name = request.operation_name.clone();
    let document = request.parsed_query().map_err(refused)?;
    let mut operations = document.operations.iter();
    let parsed_label = match (operations.next(), operations.next()) {
        (Some((name, _)), None) => Some(name.map_or("anonymous", |n| n.as_str()).to_owned()),
        _ => None,
    };
    // The name the engine passes to its `execute` hook (see `prepare_request`).
    let (executed_name, operation) = match (&document.operations, operation_name) {
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
    Ok(Admitted {
        operation: operation.map(|op| op.node.ty),
        parsed_label,
        executed_name,
    })
}

fn refused(error: ServerError) -> Refusal {
    Box::new((error, Stage::Refused))
}

/// One check of [`admit`].
fn apply(
    check: Check,
    limits: &DocumentLimits,
    request: &mut Request,
    allow: Allow,
) -> Result<(), Refusal> {
    let limit = |e: AppError| refused(limits::server_error(e));
    match check {
        Check::TextLimits => limits.check_text(&request.query).map_err(limit),
        Check::Syntax => request.parsed_query().map(|_| ()).map_err(refused),
        Check::RecursionDepth => {
            let document = request.parsed_query().map_err(refused)?;
            check_recursive_depth(document, MAX_RECURSIVE_DEPTH).map_err(refused)
        }
        Check::DirectivesPerField => {
            let document = request.parsed_query().map_err(refused)?;
            check_directives_per_field(document, limits.max_directives).map_err(refused)
        }
        Check::DocumentLimits => {
            let document = request.parsed_query().map_err(refused)?;
            limits.check_document(document).map_err(limit)
        }
        Check::Method => {
            let name = request.operation_name.clone();
            let document = request.parsed_query().map_err(refused)?;
            let wrong = allow == Allow::Queries
                && operation_of(document, name.as_deref())
                    .is_some_and(|op| op.node.ty != OperationType::Query);
            if wrong {
                let error = AppError::bad_request(
                    "only queries can be sent with GET; send mutations with POST",
                );
                return Err(Box::new((limits::server_error(error), Stage::WrongMethod)));
            }
            Ok(())
        }
        // The engine's alone: `engine_checks`.
        Check::Complexity | Check::Introspection | Check::Suggestions => Ok(()),
    }
}

/// The operation the engine would run: the named one, or the only one.
fn operation_of<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), None) => Some(op),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(map), Some(name)) => map.get(name),
        (DocumentOperations::Multiple(map), None) if map.len() == 1 => map.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Configures the engine's checks of [`CHECKS`] on `builder`: every executable schema is built
/// through this function, so all of them apply the same ones.
pub fn engine_checks<Q, M, S>(
    builder: SchemaBuilder<Q, M, S>,
    config: &Config,
) -> SchemaBuilder<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    CHECKS
        .into_iter()
        .filter(|check| check.applied_by() != AppliedBy::Admission)
        .fold(builder, |builder, check| match check {
            Check::RecursionDepth => builder.limit_recursive_depth(MAX_RECURSIVE_DEPTH),
            Check::DirectivesPerField => builder.limit_directives(config.graphql_max_directives),
            Check::Complexity => builder.limit_complexity(config.graphql_max_complexity),
            Check::Introspection if !config.graphql_introspection => {
                builder.disable_introspection()
            }
            Check::Suggestions if config.app_env == AppEnv::Production => {
                builder.disable_suggestions()
            }
            // Switched off by the configuration, or [`admit`]'s alone.
            Check::Introspection
            | Check::Suggestions
            | Check::TextLimits
            | Check::Syntax
            | Check::DocumentLimits
            | Check::Method => builder,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_applied_somewhere_and_in_the_documented_order() {
        let mut seen = std::collections::HashSet::new();
        for check in CHECKS {
            assert!(
                seen.insert(format!("{check:?}")),
                "{check:?} is listed twice"
            );
        }
        // Admission's checks come in the engine's order: text before parse before the shape.
        let position = |c: Check| CHECKS.iter().position(|x| *x == c).unwrap_or(usize::MAX);
        assert!(position(Check::TextLimits) < position(Check::Syntax));
        assert!(position(Check::Syntax) < position(Check::RecursionDepth));
        assert!(position(Check::DirectivesPerField) < position(Check::DocumentLimits));
    }
}
