//! A position-carrying YAML tree.
//!
//! The scenario text is first parsed into this generic tree (with
//! serde-saphyr) so that every value keeps where it came from: a line,
//! column and byte range of the file, or the `--set` argument that put it
//! there. Overrides edit this tree; the typed schema is read from it
//! afterwards. This module does not know what a scenario is.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Where a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A position in the scenario file (1-based line and column, byte range).
    File {
        line: usize,
        column: usize,
        offset: usize,
        len: usize,
    },
    /// The `--set` argument with this index; `offset`/`len` are a byte range
    /// within that argument's text.
    Set {
        index: usize,
        offset: usize,
        len: usize,
    },
}

/// A YAML value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<SNode>),
    Map(Vec<(SNode, SNode)>),
}

/// A YAML value with its origin. Map keys are always `Node::Str`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SNode {
    pub node: Node,
    pub origin: Origin,
}

impl SNode {
    /// The value under `key`, if this is a map that has it.
    pub fn get(&self, key: &str) -> Option<&SNode> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and the value under `key`, if this is a map that has it.
    pub fn entry(&self, key: &str) -> Option<(&SNode, &SNode)> {
        match &self.node {
            Node::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// The string if this is a string scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.node {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The `i`-th item of a list, if any.
    pub fn item(&self, i: usize) -> Option<&SNode> {
        match &self.node {
            Node::Seq(items) => items.get(i),
            _ => None,
        }
    }

    /// The value at `path` (map keys), or the deepest node found on the way.
    pub fn at_or_near(&self, path: &[&str]) -> &SNode {
        let mut node = self;
        for key in path {
            match node.get(key) {
                Some(child) => node = child,
                None => break,
            }
        }
        node
    }

    /// A short description of the kind of value, for messages.
    pub fn describe(&self) -> String {
        match &self.node {
            Node::Null => "an empty value".to_owned(),
            Node::Bool(b) => format!("`{b}`"),
            Node::Int(i) => format!("the number {i}"),
            Node::Float(f) => format!("the number {f}"),
            Node::Str(s) => format!("the string `{s}`"),
            Node::Seq(_) => "a list".to_owned(),
            Node::Map(_) => "a map".to_owned(),
        }
    }
}

/// A problem found anywhere in loading, with where it is.
#[derive(Clone, Debug)]
pub(crate) struct Issue {
    pub origin: Origin,
    pub message: String,
    pub help: Option<String>,
}

/// What serde-saphyr hands us; converted to [`SNode`] afterwards.
enum Raw {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
        Raw::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Raw, E> {
        i128::try_from(v)
            .map(Raw::Int)
            .map_err(|_| E::custom("this number is too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Raw, E> {
        Ok(Raw::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Raw::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

/// The byte offset of a 1-based (line, character column) in `text`.
pub(crate) fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(l.trim_end_matches('\n').len(), |(b, _)| b);
            return offset + col;
        }
        offset += l.len();
    }
    text.len()
}

fn origin_of(text: &str, loc: &serde_saphyr::Location) -> Origin {
    let line = usize::try_from(loc.line()).unwrap_or(0);
    let column = usize::try_from(loc.column()).unwrap_or(0);
    let span = loc.span();
    let (offset, len) = match (span.byte_offset(), span.byte_len()) {
        (Some(o), Some(l)) => (
            usize::try_from(o).unwrap_or(0),
            usize::try_from(l).unwrap_or(0),
        ),
        _ => (byte_offset(text, line, column), 0),
    };
    Origin::File {
        line: line.max(1),
        column: column.max(1),
        offset: offset.min(text.len()),
        len,
    }
}

fn convert(text: &str, raw: Spanned<Raw>, problems: &mut Vec<Issue>) -> SNode {
    let origin = origin_of(text, &raw.referenced);
    let node = match raw.value {
        Raw::Null => Node::Null,
        Raw::Bool(b) => Node::Bool(b),
        Raw::Int(i) => Node::Int(i),
        Raw::Float(f) => Node::Float(f),
        Raw::Str(s) => Node::Str(s),
        Raw::Seq(items) => Node::Seq(
            items
                .into_iter()
                .map(|i| convert(text, i, problems))
                .collect(),
        ),
        Raw::Map(entries) => {
            let mut out: Vec<(SNode, SNode)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let mut key = convert(text, k, problems);
                let name = match &key.node {
                    Node::Str(s) => Some(s.clone()),
                    Node::Int(i) => Some(i.to_string()),
                    Node::Float(f) => Some(f.to_string()),
                    Node::Bool(b) => Some(b.to_string()),
                    Node::Null => Some("null".to_owned()),
                    Node::Seq(_) | Node::Map(_) => None,
                };
                let value = convert(text, v, problems);
                match name {
                    Some(name) => {
                        key.node = Node::Str(name);
                        out.push((key, value));
                    }
                    None => problems.push(Issue {
                        origin: key.origin,
                        message: "a map key must be a plain name, not a list or a map".to_owned(),
                        help: None,
                    }),
                }
            }
            Node::Map(out)
        }
    };
    SNode { node, origin }
}

fn saphyr_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
    }
}

/// Strips serde-saphyr's `error: line L column C: ` prefix from a message.
fn bare_message(message: &str) -> String {
    let mut m = message.trim();
    m = m.strip_prefix("error: ").unwrap_or(m);
    if let Some(rest) = m.strip_prefix("line ") {
        if let Some((head, after)) = rest.split_once(": ") {
            if head.contains("column") {
                m = after;
            }
        }
    }
    let first = m.lines().next().unwrap_or(m);
    first.to_owned()
}

/// Parses `text` into a tree. On a YAML syntax error, returns the problem.
pub(crate) fn parse(text: &str) -> Result<(SNode, Vec<Issue>), Issue> {
    match serde_saphyr::from_str_with_options::<Spanned<Raw>>(text, saphyr_options()) {
        Ok(raw) => {
            let mut problems = Vec::new();
            let node = convert(text, raw, &mut problems);
            Ok((node, problems))
        }
        Err(err) => {
            let origin = match err.location() {
                Some(loc) => origin_of(text, &loc),
                None => Origin::File {
                    line: 1,
                    column: 1,
                    offset: 0,
                    len: 0,
                },
            };
            Err(Issue {
                origin,
                message: format!(
                    "invalid YAML: {}",
                    bare_message(&err.without_snippet().to_string())
                ),
                help: None,
            })
        }
    }
}

/// Parses the VALUE of a `--set` argument as a YAML flow value. Positions are
/// relative to `value`; the caller rebases them onto the argument.
pub(crate) fn parse_value(value: &str) -> Result<SNode, (String, usize)> {
    match serde_saphyr::from_str_with_options::<Spanned<Raw>>(value, saphyr_options()) {
        Ok(raw) => {
            let mut problems = Vec::new();
            let node = convert(value, raw, &mut problems);
            match problems.into_iter().next() {
                Some(p) => Err((p.message, offset_in(&p.origin))),
                None => Ok(node),
            }
        }
        Err(err) => {
            let offset = err
                .location()
                .map_or(0, |loc| offset_in(&origin_of(value, &loc)));
            Err((
                format!(
                    "invalid YAML value: {}",
                    bare_message(&err.without_snippet().to_string())
                ),
                offset,
            ))
        }
    }
}

fn offset_in(origin: &Origin) -> usize {
    match origin {
        Origin::File { offset, .. } | Origin::Set { offset, .. } => *offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_byte_offsets_exact() {
        let text = "é: 5\nname: x\n";
        let Ok((tree, problems)) = parse(text) else {
            panic!("valid YAML must parse");
        };
        assert!(problems.is_empty());
        let Some((key, value)) = tree.entry("name") else {
            panic!("name must be there");
        };
        assert_eq!(
            key.origin,
            Origin::File {
                line: 2,
                column: 1,
                offset: 6,
                len: 4
            }
        );
        assert_eq!(value.as_str(), Some("x"));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let Err(problem) = parse("a: [\n") else {
            panic!("must fail");
        };
        assert!(
            problem.message.starts_with("invalid YAML: "),
            "{}",
            problem.message
        );
        assert!(matches!(
            problem.origin,
            Origin::File {
                line: 1,
                column: 4,
                offset: 3,
                ..
            }
        ));
    }

    #[test]
    fn yes_and_no_stay_strings() {
        let Ok((tree, _)) = parse("y: yes\nn: no\n") else {
            panic!("valid YAML must parse");
        };
        assert_eq!(tree.get("y").and_then(SNode::as_str), Some("yes"));
    }

    #[test]
    fn byte_offsets_from_line_and_column() {
        assert_eq!(byte_offset("ab\ncd", 2, 2), 4);
        assert_eq!(byte_offset("ab\ncd", 9, 2), 5);
        assert_eq!(byte_offset("µx\n", 1, 2), 2);
    }
}
