//! Limits on the shape of a GraphQL document, checked before the engine parses, validates or
//! runs it (in the spirit of graphql-armor): lexical tokens (counted with a small scanner that
//! stops at the limit, so a huge document costs no more than a legal one), then, on the parsed
//! document, aliases, directives and field depth. Depth does not count the introspection fields
//! (`__schema`, `__type`), so GraphiQL's schema query works with a small limit; introspection
//! is bounded by the complexity and token limits instead, and can be turned off.
//!
//! The engine's own limits cover the rest (see `build_schema`): complexity (a connection costs
//! `first` times its node), directives per field and recursion depth. A refused document is
//! `BAD_USER_INPUT` with a message naming the limit.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use async_graphql::{
    Positioned, ServerError, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet},
};

use crate::{config::Config, error::AppError};

/// The document limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentLimits {
    pub max_tokens: usize,
    pub max_aliases: usize,
    pub max_directives: usize,
    pub max_depth: usize,
}

impl DocumentLimits {
    pub fn from_config(config: &Config) -> Self {
        Self {
            max_tokens: config.graphql_max_tokens,
            max_aliases: config.graphql_max_aliases,
            max_directives: config.graphql_max_directives,
            max_depth: config.graphql_max_depth,
        }
    }

    /// Checks the text before parsing: tokens (the scan stops past the limit), then aliases and
    /// directives, counted lexically (a `:` outside parentheses is an alias, every `@` a
    /// directive) with the same counts and messages as [`Self::check_document`], so a refused
    /// document costs no parse.
    pub fn check_text(&self, query: &str) -> Result<(), AppError> {
        let scan = scan(query, self.max_tokens);
        if scan.too_many_tokens {
            return Err(refused(format!(
                "the document has more than {} tokens",
                self.max_tokens
            )));
        }
        self.check_counts(scan.aliases, scan.directives)
    }

    fn check_counts(&self, aliases: usize, directives: usize) -> Result<(), AppError> {
        if aliases > self.max_aliases {
            return Err(refused(format!(
                "the document uses {aliases} aliases; at most {} are allowed",
                self.max_aliases
            )));
        }
        if directives > self.max_directives {
            return Err(refused(format!(
                "the document uses {directives} directives; at most {} are allowed",
                self.max_directives
            )));
        }
        Ok(())
    }

    /// Checks a parsed document: aliases, directives, depth.
    pub fn check_document(&self, document: &ExecutableDocument) -> Result<(), AppError> {
        let shape = Shape::of(document);
        self.check_counts(shape.aliases, shape.directives)?;
        let mut depths = Depths {
            fragments: &document.fragments,
            known: HashMap::new(),
            visiting: HashSet::new(),
        };
        for (_, operation) in document.operations.iter() {
            let depth = depths.of(&operation.node.selection_set.node);
            if depth > self.max_depth {
                return Err(refused(format!(
                    "the document is {depth} fields deep; at most {} is allowed",
                    self.max_depth
                )));
            }
        }
        Ok(())
    }
}

fn refused(message: String) -> AppError {
    AppError::BadUserInput {
        message,
        field: None,
    }
}

#[derive(Default)]
struct Shape {
    aliases: usize,
    directives: usize,
}

impl Shape {
    /// Aliases and directives of the whole document, each fragment counted once.
    fn of(document: &ExecutableDocument) -> Self {
        let mut shape = Self::default();
        for (_, operation) in document.operations.iter() {
            shape.directives += operation.node.directives.len();
            for variable in &operation.node.variable_definitions {
                shape.directives += variable.node.directives.len();
            }
            shape.count(&operation.node.selection_set.node);
        }
        for fragment in document.fragments.values() {
            shape.directives += fragment.node.directives.len();
            shape.count(&fragment.node.selection_set.node);
        }
        shape
    }

    /// Counts syntactically: each fragment definition is counted once, where it is written.
    fn count(&mut self, set: &SelectionSet) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    self.aliases += usize::from(field.node.alias.is_some());
                    self.directives += field.node.directives.len();
                    self.count(&field.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    self.directives += spread.node.directives.len();
                }
                Selection::InlineFragment(inline) => {
                    self.directives += inline.node.directives.len();
                    self.count(&inline.node.selection_set.node);
                }
            }
        }
    }
}

/// Field depth with fragments expanded, each fragment measured once (so fragments spreading
/// each other many times cannot make this exponential) and cycles cut (validation reports
/// them later).
struct Depths<'a> {
    fragments: &'a HashMap<async_graphql::Name, Positioned<FragmentDefinition>>,
    known: HashMap<&'a str, usize>,
    visiting: HashSet<&'a str>,
}

impl<'a> Depths<'a> {
    fn of(&mut self, set: &'a SelectionSet) -> usize {
        let mut deepest = 0;
        for item in &set.items {
            let depth = match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if name == "__schema" || name == "__type" {
                        0
                    } else {
                        1 + self.of(&field.node.selection_set.node)
                    }
                }
                Selection::InlineFragment(inline) => self.of(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    self.of_fragment(spread.node.fragment_name.node.as_str())
                }
            };
            deepest = deepest.max(depth);
        }
        deepest
    }

    fn of_fragment(&mut self, name: &'a str) -> usize {
        if let Some(depth) = self.known.get(name) {
            return *depth;
        }
        let Some(fragment) = self.fragments.get(name) else {
            return 0;
        };
        if !self.visiting.insert(name) {
            return 0;
        }
        let depth = self.of(&fragment.node.selection_set.node);
        self.visiting.remove(name);
        self.known.insert(name, depth);
        depth
    }
}

/// True when `query` has more than `max` lexical tokens.
pub fn exceeds_tokens(query: &str, max: usize) -> bool {
    scan(query, max).too_many_tokens
}

/// What one lexical pass over a document found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan {
    /// More than the maximum tokens (the scan stopped there; the counts below are partial).
    too_many_tokens: bool,
    aliases: usize,
    directives: usize,
}

/// Scans `query` once, stopping as soon as it has more than `max_tokens` tokens. Token
/// boundaries follow the GraphQL lexer closely enough for counting: punctuators, `...`, names,
/// numbers and strings (block strings included) are one token each; whitespace, commas and
/// comments are none; any other character counts as one (the parser will refuse it). In an
/// executable document, `@` only starts a directive, and a `:` outside parentheses (arguments,
/// variable definitions and their values are all inside them) only follows an alias.
fn scan(query: &str, max_tokens: usize) -> Scan {
    let bytes = query.as_bytes();
    let mut i = 0;
    let mut tokens = 0usize;
    let mut parens = 0usize;
    let mut found = Scan::default();
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'(' => {
                parens += 1;
                i += 1;
            }
            b')' => {
                parens = parens.saturating_sub(1);
                i += 1;
            }
            b':' => {
                if parens == 0 {
                    found.aliases += 1;
                }
                i += 1;
            }
            b'@' => {
                found.directives += 1;
                i += 1;
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
            }
            b'-' | b'0'..=b'9' => {
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
            }
            _ => {
                // One character, however many bytes it takes (BOM and stray Unicode included).
                i += query[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
        tokens += 1;
        if tokens > max_tokens {
            found.too_many_tokens = true;
            return found;
        }
    }
    found
}

/// The extension that applies [`DocumentLimits`] to every request and subscription.
pub struct Limits(pub DocumentLimits);

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension(self.0))
    }
}

struct LimitsExtension(DocumentLimits);

/// A refusal as the engine's error type, with the `AppError` as its source (for its code).
pub fn server_error(error: AppError) -> ServerError {
    let mut server_error = ServerError::new(error.to_string(), None);
    server_error.source = Some(Arc::new(error));
    server_error
}

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        self.0.check_text(query).map_err(server_error)?;
        let document = next.run(ctx, query, variables).await?;
        self.0.check_document(&document).map_err(server_error)?;
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(query: &str) -> usize {
        (0..10_000)
            .find(|max| !exceeds_tokens(query, *max))
            .unwrap_or(usize::MAX)
    }

    #[test]
    fn tokens_are_counted_like_the_graphql_lexer() {
        assert_eq!(count("{ a }"), 3);
        assert_eq!(
            count("query Q($x: Int = -1.5e3) { a(x: $x) @skip(if: true) }"),
            26
        );
        assert_eq!(
            count("{ a(s: \"x, y \\\" z\") ...F } # comment { } { }"),
            10
        );
        assert_eq!(count("{ a(s: \"\"\"many\ntokens \\\"\"\" here\"\"\") }"), 8);
    }

    fn limits() -> DocumentLimits {
        DocumentLimits {
            max_tokens: 1000,
            max_aliases: 2,
            max_directives: 2,
            max_depth: 3,
        }
    }

    fn check(query: &str) -> Result<(), AppError> {
        let document = async_graphql::parser::parse_query(query).unwrap_or_else(|e| panic!("{e}"));
        limits().check_document(&document)
    }

    #[test]
    fn depth_expands_fragments_and_skips_introspection() {
        assert!(check("{ a { b { c } } }").is_ok());
        assert!(check("{ a { b { c { d } } } }").is_err());
        assert!(check("{ a { ...F } } fragment F on T { b { c { d } } }").is_err());
        assert!(check("{ __schema { types { fields { type { ofType { name } } } } } }").is_ok());
        // A cycle is cut here and refused by validation later.
        assert!(check("{ a { ...F } } fragment F on T { ...F }").is_ok());
    }

    #[test]
    fn aliases_and_directives_are_counted_across_the_document() {
        assert!(check("{ x: a y: b }").is_ok());
        assert!(check("{ x: a y: b ...F } fragment F on T { z: c }").is_err());
        assert!(check("{ a @skip(if: false) b @include(if: true) c @skip(if: false) }").is_err());
    }

    #[test]
    fn lexical_counts_match_the_parsed_document() {
        let documents = [
            "{ x: a y: b ...F } fragment F on T { z: c @skip(if: false) }",
            "query Q($v: In = {a: 1, b: [2]}) @op { a(x: $v, y: {k: \"s: @\"}) { b: c } }",
            "subscription S { m: messageAdded(roomId: \"r\") { ... on M @include(if: true) { id } } }",
            "{ a(s: \"\"\"block: with @ and (\"\"\") # comment: @ (\n b }",
        ];
        for query in documents {
            let document =
                async_graphql::parser::parse_query(query).unwrap_or_else(|e| panic!("{e}"));
            let shape = Shape::of(&document);
            let lexical = scan(query, 1000);
            assert_eq!(
                (lexical.aliases, lexical.directives),
                (shape.aliases, shape.directives),
                "{query}"
            );
        }
    }
}
