//! The shape of `src/`, checked from its text (README, "Layout"): imports only point down, no
//! file is a big room, services never reach up into the GraphQL layer.
//!
//! A module is a file (`src/orders/service/rules.rs` is `orders::service::rules`). Its edges
//! are every path it names: `use crate::…`, `use super::…`, relative `use child::…`, and
//! `crate::…`/`super::…` paths inline, each resolved to the deepest module it reaches, so
//! `crate::jobs::queue::enqueue` is an edge to `jobs::queue`. Test modules are not walked.
//!
//! One exception, and only one: resolver modules (a domain's `graphql.rs`, `graphql/`,
//! `subscriptions.rs`) may name each other. The API's type graph has cycles (`Order.chatRoom`
//! and `ChatRoom.order`, `Product.vendor` and `Vendor.products`), and async-graphql needs each
//! object's fields in one `impl`, so two object types that point at each other import each
//! other. Every other edge takes part in the check: a cycle through any service, plumbing or
//! start-up module fails it.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::{Path, PathBuf},
};

type Module = Vec<String>;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every module file of the library (the `bin/` targets stand above it and are not walked).
fn modules() -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bin") {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = src_dir();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        .filter_map(|path| {
            let rel = path.strip_prefix(&root).ok()?.with_extension("");
            let mut parts: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if parts == ["lib"] || parts == ["main"] {
                parts.clear();
            }
            Some((parts, path))
        })
        .collect()
}

/// The text of a module without its tests and comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let text = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The deepest module that `path` (segments from the crate root) reaches.
fn resolve(modules: &BTreeMap<Module, PathBuf>, path: &[String]) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|k| path[..k].to_vec())
        .find(|prefix| modules.contains_key(prefix))
}

/// The leaf paths of a use tree (`a::{b, c::{d}}` → `a::b`, `a::c::d`), `self` dropped.
fn use_leaves(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    if tree.is_empty() {
        return;
    }
    if let Some(inner) = tree.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    use_leaves(prefix, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        use_leaves(prefix, &inner[start..], out);
        return;
    }
    let (head, rest) = match tree.find("::{") {
        Some(at) => (&tree[..at], Some(&tree[at + 2..])),
        None => (&tree[..], None),
    };
    let head = head.split("as").next().unwrap_or(head);
    let mut path = prefix.to_vec();
    path.extend(
        head.split("::")
            .filter(|s| !s.is_empty() && *s != "self")
            .map(str::to_owned),
    );
    match rest {
        Some(rest) => use_leaves(&path, rest, out),
        None => out.push(path),
    }
}

/// `super::`/`self::` at the start of a path from `module` (a file module: its parent is
/// `super`).
fn relative(module: &Module, path: &str) -> Option<(Vec<String>, String)> {
    let mut base = module.clone();
    let mut rest = path;
    let mut moved = false;
    loop {
        if let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
            moved = true;
        } else if let Some(r) = rest.strip_prefix("self::") {
            rest = r;
            moved = true;
        } else {
            break;
        }
    }
    moved.then(|| (base, rest.to_owned()))
}

/// Every path a module's code names through `crate::`, `super::` or a `use` of a child.
fn edges(modules: &BTreeMap<Module, PathBuf>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut graph = BTreeMap::new();
    for (module, path) in modules {
        let text = code(path);
        let mut leaves: Vec<Vec<String>> = Vec::new();
        // `use` statements (trees).
        for statement in text.split(';') {
            let Some(at) = statement.find("use ") else {
                continue;
            };
            if at > 0 && statement[..at].chars().last().is_some_and(is_ident) {
                continue;
            }
            let tree = statement[at + 4..].trim();
            if let Some(rest) = tree.strip_prefix("crate::") {
                use_leaves(&[], rest, &mut leaves);
            } else if let Some((base, rest)) = relative(module, tree) {
                use_leaves(&base, &rest, &mut leaves);
            } else {
                let first: String = tree.chars().take_while(|c| is_ident(*c)).collect();
                let mut child = module.clone();
                child.push(first);
                if modules.contains_key(&child) {
                    use_leaves(module, tree, &mut leaves);
                }
            }
        }
        // Names brought in by `use` (`use crate::orders;` then `orders::service::x`).
        let aliases: HashMap<String, Vec<String>> = leaves
            .iter()
            .filter_map(|leaf| Some((leaf.last()?.clone(), leaf.clone())))
            .collect();
        // Inline paths.
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let starts_word = i == 0 || !(is_ident(chars[i - 1]) || chars[i - 1] == ':');
            if starts_word && is_ident(chars[i]) {
                let end = (i..chars.len())
                    .find(|&j| !(is_ident(chars[j]) || chars[j] == ':'))
                    .unwrap_or(chars.len());
                let word: String = chars[i..end].iter().collect();
                let segments: Vec<String> = word
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if segments.len() > 1 {
                    if segments[0] == "crate" {
                        leaves.push(segments[1..].to_vec());
                    } else if let Some((base, rest)) = relative(module, &word) {
                        let mut path = base;
                        path.extend(
                            rest.split("::")
                                .filter(|s| !s.is_empty())
                                .map(str::to_owned),
                        );
                        leaves.push(path);
                    } else if let Some(full) = aliases.get(&segments[0]) {
                        let mut path = full.clone();
                        path.extend(segments[1..].iter().cloned());
                        leaves.push(path);
                    }
                }
                i = end;
            } else {
                i += 1;
            }
        }
        let targets: BTreeSet<Module> = leaves
            .iter()
            .filter_map(|leaf| resolve(modules, leaf))
            .filter(|target| target != module)
            .collect();
        graph.insert(module.clone(), targets);
    }
    graph
}

fn is_resolver(module: &Module) -> bool {
    module
        .iter()
        .skip(1)
        .any(|part| part == "graphql" || part == "subscriptions")
        && module.first().is_some_and(|d| d != "graphql")
}

/// The cycles of `graph` (its strongly connected components with more than one module).
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        graph: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: HashMap<&'a Module, usize>,
        low: HashMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a Module) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w.join("::"));
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !tarjan.index.contains_key(v) {
            tarjan.visit(v);
        }
    }
    tarjan.found
}

#[test]
fn imports_between_modules_form_no_cycle() {
    let modules = modules();
    assert!(modules.len() > 100, "src/ was not found");
    let mut graph = edges(&modules);
    for (module, targets) in graph.iter_mut() {
        if is_resolver(module) {
            targets.retain(|target| !is_resolver(target));
        }
    }
    let found = cycles(&graph);
    assert!(found.is_empty(), "import cycles: {found:#?}");
}

#[test]
fn the_cycle_check_sees_a_cycle_when_there_is_one() {
    let module = |s: &str| s.split("::").map(str::to_owned).collect::<Module>();
    let mut graph = BTreeMap::new();
    graph.insert(module("a"), BTreeSet::from([module("b::c")]));
    graph.insert(module("b::c"), BTreeSet::from([module("a")]));
    graph.insert(module("d"), BTreeSet::from([module("a")]));
    assert_eq!(
        cycles(&graph),
        vec![vec!["a".to_owned(), "b::c".to_owned()]]
    );
    // And on the real tree: the schema's assembly names the orders' resolvers.
    let real = edges(&modules());
    assert!(real[&module("graphql::schema")].contains(&module("orders::graphql")));
    assert!(
        real[&module("orders::service::placement")].contains(&module("orders::service::rules"))
    );
}

#[test]
fn no_source_file_is_over_500_lines() {
    let long: Vec<String> = modules()
        .values()
        .chain(
            std::fs::read_dir(src_dir().join("bin/bench"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .collect::<Vec<_>>()
                .iter(),
        )
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            let code = text
                .find("#[cfg(test)]")
                .map_or(&text[..], |at| &text[..at]);
            let lines = code.lines().count();
            (lines > 500).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over 500 lines: {long:#?}");
}

#[test]
fn no_service_imports_the_graphql_layer() {
    let modules = modules();
    let graph = edges(&modules);
    let floor_below_graphql = |m: &Module| {
        let top = m.first().map(String::as_str).unwrap_or_default();
        !matches!(top, "" | "graphql" | "http" | "cli" | "demo" | "realtime")
            && !is_resolver(m)
            && !m.iter().any(|p| p == "loaders")
    };
    let offenders: Vec<String> = graph
        .iter()
        .filter(|(module, _)| floor_below_graphql(module))
        .filter(|(_, targets)| {
            targets
                .iter()
                .any(|t| t.first().is_some_and(|top| top == "graphql") || is_resolver(t))
        })
        .map(|(module, _)| module.join("::"))
        .collect();
    assert!(
        offenders.is_empty(),
        "services importing GraphQL: {offenders:#?}"
    );
}
