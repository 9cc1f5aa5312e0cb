//! Reading one editor's YAML file safely, and knowing where everything in it is.
//!
//! A file is read in four steps, each of which reports problems with `file:line:column`:
//! 1. limits: at most [`MAX_FILE_BYTES`], valid UTF-8;
//! 2. a YAML event pass that builds a [`Node`] tree with positions, refusing aliases (the
//!    quadratic fan-out that serde's YAML crates do not stop), nesting deeper than
//!    [`MAX_DEPTH`], duplicate keys and multiple documents;
//! 3. [`check_schema`]: the tree against the JSON Schema generated from the Rust types, reporting
//!    every unknown or misspelt field ("did you mean"), every missing field and wrong type at once;
//! 4. the typed parse with `serde_norway`, which after step 3 only fails on subtler value errors.
//!
//! Later validation finds positions again with [`Node::locate`] and a path such as
//! `topics[3].department`.

use std::fmt;
use std::path::{Path, PathBuf};

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::diag::ConfigIssue;
use crate::text::did_you_mean;

/// Largest editor file accepted, in bytes. Real flow files are a few hundred kilobytes at most.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting accepted. The flow language needs six levels.
pub const MAX_DEPTH: usize = 32;

/// A position in a file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem in an editor's file, ready to print as `file:line:column: error: message`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
            help: None,
        }
    }

    pub fn warning(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, pos, message)
        }
    }

    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {kind}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}

/// A YAML value with the position where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A scalar and whether it was plain (unquoted), which decides if `true` or `12` are typed.
    Scalar {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Keys in file order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar's text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key node of `key` in a mapping (for errors about the key itself).
    pub fn key(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, _)| k),
            _ => None,
        }
    }

    fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, plain: true }
            if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The node that `path` (`a.b[2].c`) names, if the tree has it.
    pub fn find(&self, path: &str) -> Option<&Node> {
        let mut node = self;
        for seg in split_path(path) {
            node = match seg {
                Seg::Key(k) => node.get(k)?,
                Seg::Index(i) => match &node.kind {
                    NodeKind::Seq(items) => items.get(i)?,
                    _ => return None,
                },
            };
        }
        Some(node)
    }

    /// The position of the deepest node that `path` (`a.b[2].c`) reaches; where the path leaves
    /// the tree, the position of the last node it did reach.
    pub fn locate(&self, path: &str) -> Pos {
        let mut node = self;
        for seg in split_path(path) {
            let next = match seg {
                Seg::Key(k) => node.get(k),
                Seg::Index(i) => match &node.kind {
                    NodeKind::Seq(items) => items.get(i),
                    _ => None,
                },
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node.pos
    }
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Seg<'_>> {
    let mut segs = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            segs.push(Seg::Key(key));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                segs.push(Seg::Index(i));
            }
        }
    }
    segs
}

/// One file read into memory with its tree: what later stages need to report positions.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as shown in diagnostics (relative to where the command ran, when it can be).
    pub name: String,
    pub text: String,
    pub root: Node,
}

impl SourceFile {
    /// A diagnostic at the node that `path` names.
    pub fn error_at(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(&self.name, self.root.locate(path), message)
    }

    pub fn warning_at(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(&self.name, self.root.locate(path), message)
    }

    /// A pure module's [`ConfigIssue`] as a diagnostic in this file.
    pub fn issue(&self, issue: &ConfigIssue) -> Diagnostic {
        self.error_at(&issue.path, issue.message.clone())
            .with_help(issue.help.clone())
    }
}

/// Shown name of a path: relative to the current directory when possible.
pub fn display_name(path: &Path) -> String {
    let rel: PathBuf = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    rel.display().to_string()
}

/// Reads and parses a file into its tree; problems come back as diagnostics.
pub fn read_file(path: &Path) -> Result<SourceFile, Vec<Diagnostic>> {
    let name = display_name(path);
    let start = Pos { line: 1, column: 1 };
    let meta = std::fs::metadata(path).map_err(|e| {
        vec![Diagnostic::error(
            &name,
            start,
            format!("cannot read file: {e}"),
        )]
    })?;
    if meta.len() > MAX_FILE_BYTES as u64 {
        return Err(vec![too_large(&name, meta.len() as usize)]);
    }
    let bytes = std::fs::read(path).map_err(|e| {
        vec![Diagnostic::error(
            &name,
            start,
            format!("cannot read file: {e}"),
        )]
    })?;
    parse_bytes(&name, &bytes)
}

fn too_large(name: &str, len: usize) -> Diagnostic {
    Diagnostic::error(
        name,
        Pos { line: 1, column: 1 },
        format!(
            "file is {len} bytes; the limit is {MAX_FILE_BYTES} bytes: split it into several files"
        ),
    )
}

/// Parses bytes (already read) into a [`SourceFile`]: size limit, UTF-8 and the YAML tree.
pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<SourceFile, Vec<Diagnostic>> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(vec![too_large(name, bytes.len())]);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&valid[line_start..])
                .chars()
                .count()
                + 1;
            return Err(vec![Diagnostic::error(
                name,
                Pos { line, column },
                "file is not valid UTF-8 text: save it as UTF-8",
            )]);
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = build_tree(name, text)?;
    Ok(SourceFile {
        name: name.to_string(),
        text: text.to_string(),
        root,
    })
}

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

enum Open {
    Seq(Pos, Vec<Node>),
    Map(Pos, Vec<(Node, Node)>, Option<Node>),
}

fn build_tree(name: &str, text: &str) -> Result<Node, Vec<Diagnostic>> {
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0usize;
    let mut errors = Vec::new();
    for event in Parser::new_from_str(text) {
        let (event, span) = match event {
            Ok(ev) => ev,
            Err(e) => {
                let m = e.marker();
                let pos = Pos {
                    line: m.line(),
                    column: m.col() + 1,
                };
                let message = if e.info().contains("recursion limit") {
                    format!("nesting deeper than {MAX_DEPTH} levels is not allowed")
                } else {
                    format!("invalid YAML: {}", e.info())
                };
                return Err(vec![Diagnostic::error(name, pos, message)]);
            }
        };
        let pos = pos_of(&span);
        let node = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(vec![Diagnostic::error(
                        name,
                        pos,
                        "a file holds one YAML document; remove the second `---`",
                    )]);
                }
                continue;
            }
            Event::Alias(_) => {
                return Err(vec![Diagnostic::error(
                    name,
                    pos,
                    "aliases (`*name`) are not allowed in flow files",
                )
                .with_help(Some(
                    "write the value out in full; aliases make files hard to read and can blow up in size"
                        .into(),
                ))]);
            }
            Event::Scalar(value, style, _, _) => Node {
                pos,
                kind: NodeKind::Scalar {
                    value: value.into_owned(),
                    plain: style == ScalarStyle::Plain,
                },
            },
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(vec![Diagnostic::error(
                        name,
                        pos,
                        format!("nesting deeper than {MAX_DEPTH} levels is not allowed"),
                    )]);
                }
                if matches!(event, Event::SequenceStart(..)) {
                    stack.push(Open::Seq(pos, Vec::new()));
                } else {
                    stack.push(Open::Map(pos, Vec::new(), None));
                }
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq(p, items)) => Node {
                    pos: p,
                    kind: NodeKind::Seq(items),
                },
                Some(Open::Map(p, entries, _)) => Node {
                    pos: p,
                    kind: NodeKind::Map(entries),
                },
                None => continue,
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending)) => match pending.take() {
                None => {
                    if !matches!(node.kind, NodeKind::Scalar { .. }) {
                        errors.push(Diagnostic::error(
                            name,
                            node.pos,
                            "a key must be a plain word, not a list or mapping",
                        ));
                    } else if let Some(k) = node.as_str() {
                        if entries.iter().any(|(e, _)| e.as_str() == Some(k)) {
                            errors.push(Diagnostic::error(
                                name,
                                node.pos,
                                format!("duplicate key `{k}`"),
                            ));
                        }
                    }
                    *pending = Some(node);
                }
                Some(key) => entries.push((key, node)),
            },
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(root.unwrap_or(Node {
        pos: Pos { line: 1, column: 1 },
        kind: NodeKind::Scalar {
            value: String::new(),
            plain: true,
        },
    }))
}

/// Checks `node` against a JSON Schema (as generated by schemars from the Rust types) and returns
/// every problem found, each with its position.
pub fn check_schema(file: &SourceFile, schema: &Json) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if file.root.is_null() && file.text.trim().is_empty() {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Json::as_array)
            .map(|r| r.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        if !required.is_empty() {
            out.push(
                Diagnostic::error(&file.name, Pos { line: 1, column: 1 }, "the file is empty")
                    .with_help(Some(format!("it needs at least {}", list(&required)))),
            );
        }
        return out;
    }
    let checker = Checker { file, root: schema };
    checker.check(&file.root, schema, &mut out);
    out
}

struct Checker<'a> {
    file: &'a SourceFile,
    root: &'a Json,
}

impl Checker<'_> {
    fn resolve<'s>(&'s self, mut schema: &'s Json) -> &'s Json {
        for _ in 0..16 {
            let Some(r) = schema.get("$ref").and_then(Json::as_str) else {
                break;
            };
            let Some(name) = r.strip_prefix("#/$defs/") else {
                break;
            };
            match self.root.get("$defs").and_then(|d| d.get(name)) {
                Some(s) => schema = s,
                None => break,
            }
        }
        schema
    }

    fn err(&self, node: &Node, msg: String, help: Option<String>) -> Diagnostic {
        Diagnostic::error(&self.file.name, node.pos, msg).with_help(help)
    }

    fn check(&self, node: &Node, schema: &Json, out: &mut Vec<Diagnostic>) {
        let schema = self.resolve(schema);
        if schema.as_bool() == Some(true) {
            return;
        }
        // Unions: `Option<T>` (anyOf T, null) and untagged or documented enums (oneOf).
        let branches = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Json::as_array);
        if let Some(branches) = branches {
            self.check_union(node, branches, out);
            return;
        }
        if let Some(values) = schema.get("enum").and_then(Json::as_array) {
            self.check_enum(node, values, out);
            return;
        }
        if let Some(c) = schema.get("const") {
            self.check_enum(node, std::slice::from_ref(c), out);
            return;
        }
        let types: Vec<&str> = match schema.get("type") {
            Some(Json::String(t)) => vec![t.as_str()],
            Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
            _ => return,
        };
        if types.contains(&"null") && node.is_null() {
            return;
        }
        match &node.kind {
            NodeKind::Map(entries) if types.contains(&"object") => {
                self.check_object(node, entries, schema, out)
            }
            NodeKind::Seq(items) if types.contains(&"array") => {
                if let Some(item_schema) = schema.get("items") {
                    for item in items {
                        self.check(item, item_schema, out);
                    }
                }
                if let Some(max) = schema.get("maxItems").and_then(Json::as_u64) {
                    if items.len() as u64 > max {
                        out.push(self.err(
                            node,
                            format!(
                                "at most {max} items are allowed here, found {}",
                                items.len()
                            ),
                            None,
                        ));
                    }
                }
            }
            NodeKind::Scalar { value, plain } if !node.is_null() || types.contains(&"string") => {
                if let Some(problem) = scalar_mismatch(value, *plain, &types) {
                    out.push(self.err(node, problem, None));
                }
            }
            _ => out.push(self.err(
                node,
                format!("expected {}, found {}", describe(&types), kind_name(node)),
                None,
            )),
        }
    }

    fn check_union(&self, node: &Node, branches: &[Json], out: &mut Vec<Diagnostic>) {
        let branches: Vec<&Json> = branches.iter().map(|b| self.resolve(b)).collect();
        let is_null_branch = |b: &&Json| b.get("type").and_then(Json::as_str) == Some("null");
        if node.is_null() && branches.iter().any(is_null_branch) {
            return;
        }
        let consts: Vec<Json> = branches
            .iter()
            .filter_map(|b| {
                b.get("const")
                    .cloned()
                    .or_else(|| b.get("enum").and_then(Json::as_array)?.first().cloned())
            })
            .collect();
        if consts.len() == branches.len() {
            self.check_enum(node, &consts, out);
            return;
        }
        let mut best: Option<Vec<Diagnostic>> = None;
        for b in branches.iter().filter(|b| !is_null_branch(b)) {
            let mut trial = Vec::new();
            self.check(node, b, &mut trial);
            if trial.is_empty() {
                return;
            }
            // Prefer the branch whose shape matches (its errors are deeper than the node itself).
            let shape_ok = trial
                .iter()
                .all(|d| (d.line, d.column) != (node.pos.line, node.pos.column));
            match &best {
                None => best = Some(trial),
                Some(_) if shape_ok => {
                    best = Some(trial);
                    break;
                }
                _ => {}
            }
        }
        out.extend(best.unwrap_or_default());
    }

    fn check_enum(&self, node: &Node, values: &[Json], out: &mut Vec<Diagnostic>) {
        let allowed: Vec<&str> = values.iter().filter_map(Json::as_str).collect();
        let found = node.as_str().unwrap_or_default();
        if allowed.contains(&found) {
            return;
        }
        let help = did_you_mean(found, allowed.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| Some(format!("expected one of {}", list(&allowed))));
        let what = if node.as_str().is_some() {
            format!("unknown value `{found}`")
        } else {
            format!(
                "expected one of {}, found {}",
                list(&allowed),
                kind_name(node)
            )
        };
        out.push(self.err(node, what, help));
    }

    fn check_object(
        &self,
        node: &Node,
        entries: &[(Node, Node)],
        schema: &Json,
        out: &mut Vec<Diagnostic>,
    ) {
        let empty = serde_json::Map::new();
        let props = schema
            .get("properties")
            .and_then(Json::as_object)
            .unwrap_or(&empty);
        let extra = schema.get("additionalProperties");
        for (k, v) in entries {
            let key = k.as_str().unwrap_or_default();
            if let Some(s) = props.get(key) {
                self.check(v, s, out);
            } else {
                match extra {
                    Some(Json::Bool(false)) => {
                        let help = did_you_mean(key, props.keys().map(String::as_str))
                            .map(|s| format!("did you mean `{s}`?"))
                            .or_else(|| {
                                let names: Vec<&str> = props.keys().map(String::as_str).collect();
                                Some(format!("allowed here: {}", list(&names)))
                            });
                        out.push(self.err(k, format!("unknown field `{key}`"), help));
                    }
                    Some(s @ Json::Object(_)) => self.check(v, s, out),
                    _ => {}
                }
            }
        }
        if let Some(required) = schema.get("required").and_then(Json::as_array) {
            for r in required.iter().filter_map(Json::as_str) {
                if node.get(r).is_none() {
                    out.push(self.err(node, format!("missing field `{r}`"), None));
                }
            }
        }
    }
}

fn scalar_mismatch(value: &str, plain: bool, types: &[&str]) -> Option<String> {
    let ok = types.iter().any(|t| match *t {
        "string" => true,
        "integer" => plain && value.parse::<i64>().is_ok(),
        "number" => plain && value.parse::<f64>().is_ok(),
        "boolean" => plain && matches!(value, "true" | "false"),
        _ => false,
    });
    (!ok).then(|| format!("expected {}, found `{value}`", describe(types)))
}

fn describe(types: &[&str]) -> String {
    let words: Vec<&str> = types
        .iter()
        .filter(|t| **t != "null")
        .map(|t| match *t {
            "object" => "a mapping (`key: value` lines)",
            "array" => "a list (`- item` lines or `[a, b]`)",
            "string" => "text",
            "integer" => "a whole number",
            "number" => "a number",
            "boolean" => "`true` or `false`",
            other => other,
        })
        .collect();
    words.join(" or ")
}

fn kind_name(node: &Node) -> &'static str {
    match &node.kind {
        NodeKind::Map(_) => "a mapping",
        NodeKind::Seq(_) => "a list",
        NodeKind::Scalar { .. } if node.is_null() => "nothing",
        NodeKind::Scalar { .. } => "text",
    }
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The JSON Schema of `T`, as editors' tools and [`check_schema`] use it.
pub fn schema_of<T: schemars::JsonSchema>() -> Json {
    schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// Reads a file all the way to its typed value: limits, tree, schema, serde.
pub fn load_typed<T: DeserializeOwned + schemars::JsonSchema>(
    file: &SourceFile,
    schema: &Json,
) -> Result<T, Vec<Diagnostic>> {
    let problems = check_schema(file, schema);
    if !problems.is_empty() {
        return Err(problems);
    }
    let text = if file.text.trim().is_empty() {
        "{}"
    } else {
        &file.text
    };
    serde_norway::from_str::<T>(text).map_err(|e| {
        let pos = e
            .location()
            .map(|l| Pos {
                line: l.line(),
                column: l.column(),
            })
            .unwrap_or(Pos { line: 1, column: 1 });
        vec![Diagnostic::error(
            &file.name,
            pos,
            clean_serde_message(&e.to_string()),
        )]
    })
}

/// serde's messages name Rust types and repeat the position; keep the part an editor can use.
fn clean_serde_message(msg: &str) -> String {
    let msg = match msg.find(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    let msg = msg.split_once(": ").map_or(msg, |(path, rest)| {
        if path.contains('.') || path.contains('[') {
            rest
        } else {
            msg
        }
    });
    msg.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SourceFile, Vec<Diagnostic>> {
        parse_bytes("t.yaml", text.as_bytes())
    }

    #[test]
    fn locates_paths() {
        let f = parse("a:\n  - x: 1\n  - x: 2\n    y: [3, 4]\n").unwrap();
        assert_eq!(
            f.root.locate("a[1].y[1]"),
            Pos {
                line: 4,
                column: 12
            }
        );
        assert_eq!(f.root.locate("a[1].x"), Pos { line: 3, column: 8 });
        // Where the path leaves the tree, the last node reached.
        assert_eq!(f.root.locate("a[1].z"), Pos { line: 3, column: 5 });
    }

    #[test]
    fn refuses_aliases_depth_duplicates_and_bad_utf8() {
        let e = parse("a: &x [1, 2]\nb: *x\n").unwrap_err();
        assert!(e[0].message.contains("aliases"), "{e:?}");
        assert_eq!((e[0].line, e[0].column), (2, 4));

        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let e = parse(&deep).unwrap_err();
        assert!(e[0].message.contains("nesting"), "{e:?}");

        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e[0].message, "duplicate key `a`");
        assert_eq!(e[0].line, 3);

        let e = parse_bytes("t.yaml", b"a: 1\nb: \xff\n").unwrap_err();
        assert!(e[0].message.contains("UTF-8"));
        assert_eq!((e[0].line, e[0].column), (2, 4));

        let e = parse("a: [1, 2\n").unwrap_err();
        assert!(e[0].message.starts_with("invalid YAML"), "{e:?}");

        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(e[0].message.contains("one YAML document"), "{e:?}");
    }

    #[test]
    fn refuses_oversized_input() {
        let big = vec![b'#'; MAX_FILE_BYTES + 1];
        let e = parse_bytes("t.yaml", &big).unwrap_err();
        assert!(e[0].message.contains("limit"));
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        #[serde(default)]
        count: Option<u32>,
        kind: Kind,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    #[allow(dead_code)]
    enum Kind {
        Small,
        VeryLarge,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }

    #[test]
    fn schema_check_reports_every_problem_with_hints() {
        let f = parse(
            "items:\n  - name: a\n    kind: very-larg\n    tgas: [x]\n  - nmae: b\n    kind: small\n    count: lots\n",
        )
        .unwrap();
        let schema = schema_of::<Doc>();
        let errs = load_typed::<Doc>(&f, &schema).err().unwrap();
        let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(errs.len(), 5, "{shown:#?}");
        assert!(shown[0].starts_with("t.yaml:3:11: error: unknown value `very-larg`"));
        assert!(shown[0].contains("did you mean `very-large`?"));
        assert!(shown[1].starts_with("t.yaml:4:5: error: unknown field `tgas`"));
        assert!(shown[1].contains("did you mean `tags`?"));
        assert!(shown[2].contains("unknown field `nmae`"));
        assert!(shown[3].contains("expected a whole number, found `lots`"));
        assert!(shown[4].contains("missing field `name`"));
    }

    #[test]
    fn valid_documents_parse() {
        let f = parse("items:\n  - name: a\n    kind: small\n    count: 3\n").unwrap();
        let d: Doc = load_typed(&f, &schema_of::<Doc>()).unwrap();
        assert_eq!(d.items[0].count, Some(3));
    }
}
