//! A serde `Deserializer` over the position-carrying tree.
//!
//! Typed schema structs are read from [`SNode`]s with this deserializer, so
//! that every error carries the origin of the innermost value that caused
//! it. It supports exactly what the schema needs: scalars, lists, maps,
//! structs, options and externally tagged enums (a string is a unit variant,
//! a one-key map is a variant with content). It is not a general YAML
//! deserializer and does not touch the file text.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};

use crate::node::{Node, Origin, SNode};

/// Separates a message from its help inside `de::Error::custom` strings.
pub(crate) const HELP_MARK: &str = "\u{1f}help\u{1f}";

/// A deserialization error with the origin of the value at fault.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DeError {
    pub message: String,
    pub help: Option<String>,
    pub origin: Option<Origin>,
    /// The key under which the failing value sits, for the message prefix.
    pub field: Option<String>,
    /// Set once the error must not get a field prefix any more (errors in
    /// keys and variant names, or after the innermost key was attached).
    sealed: bool,
}

impl DeError {
    pub fn new(message: impl Into<String>, help: Option<String>) -> Self {
        DeError {
            message: message.into(),
            help,
            origin: None,
            field: None,
            sealed: false,
        }
    }

    /// Attaches `origin` unless the error already has one.
    fn at(mut self, origin: Origin) -> Self {
        if self.origin.is_none() {
            self.origin = Some(origin);
        }
        self
    }

    /// Records that the failing value sits under `key`, if no inner key did.
    pub fn in_field(mut self, key: &str) -> Self {
        if !self.sealed {
            self.field = Some(key.to_owned());
            self.sealed = true;
        }
        self
    }

    fn seal(mut self) -> Self {
        self.sealed = true;
        self
    }

    /// The message with the field name in front, if known.
    pub fn full_message(&self) -> String {
        match &self.field {
            Some(field) => format!("`{field}`: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full_message())
    }
}

impl std::error::Error for DeError {}

/// Turns serde's names for expected types into words a user knows.
fn friendly_expected(exp: &dyn de::Expected) -> String {
    let text = exp.to_string();
    match text.as_str() {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
            "a whole number, zero or more".to_owned()
        }
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a boolean" => "`true` or `false`".to_owned(),
        _ if text.starts_with("a tuple of size ") || text.starts_with("tuple of ") => {
            "a list of two values".to_owned()
        }
        _ => text,
    }
}

fn describe_unexpected(unexp: &Unexpected<'_>) -> String {
    match unexp {
        Unexpected::Bool(b) => format!("`{b}`"),
        Unexpected::Unsigned(n) => format!("the number {n}"),
        Unexpected::Signed(n) => format!("the number {n}"),
        Unexpected::Float(n) => format!("the number {n}"),
        Unexpected::Char(c) => format!("the string `{c}`"),
        Unexpected::Str(s) => format!("the string `{s}`"),
        Unexpected::Unit | Unexpected::Option => "an empty value".to_owned(),
        Unexpected::Seq => "a list".to_owned(),
        Unexpected::Map => "a map".to_owned(),
        other => other.to_string(),
    }
}

fn number_text(unexp: &Unexpected<'_>) -> Option<String> {
    match unexp {
        Unexpected::Unsigned(n) => Some(n.to_string()),
        Unexpected::Signed(n) => Some(n.to_string()),
        Unexpected::Float(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let score = strsim::normalized_damerau_levenshtein(&word_lower, &c.to_lowercase())
                .max(strsim::jaro_winkler(&word_lower, &c.to_lowercase()) - 0.2);
            (score, c)
        })
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "`a`, `b` or `c`".
pub(crate) fn one_of(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        let text = msg.to_string();
        match text.split_once(HELP_MARK) {
            Some((message, help)) => DeError::new(message, Some(help.to_owned())),
            None => DeError::new(text, None),
        }
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let expected = friendly_expected(exp);
        let help = number_text(&unexp).and_then(|n| {
            if expected.contains("duration") {
                Some(format!("write `{n}s` or `{n}ms`"))
            } else if expected.contains("rate") {
                Some(format!("write `{n}/s` for {n} per second"))
            } else if expected.contains("size") {
                Some(format!("write `{n}B` or `{n}KiB`"))
            } else {
                None
            }
        });
        DeError::new(
            format!("expected {expected}, found {}", describe_unexpected(&unexp)),
            help,
        )
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::invalid_type(unexp, exp)
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        DeError::new(
            format!("expected {}, found {len} values", friendly_expected(exp)),
            None,
        )
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let help =
            suggest(variant, expected.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        DeError::new(
            format!("unknown value `{variant}`, expected {}", one_of(expected)),
            help,
        )
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let help = match suggest(field, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None if expected.is_empty() => "no keys are allowed here".to_owned(),
            None => format!("the keys allowed here are {}", one_of(expected)),
        };
        DeError::new(format!("unknown key `{field}`"), Some(help))
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::new(format!("missing required key `{field}`"), None)
    }

    fn duplicate_field(field: &'static str) -> Self {
        DeError::new(format!("`{field}` is given twice"), None)
    }
}

/// Deserializes a `T` from a node.
pub(crate) fn from_node<'de, T: de::Deserialize<'de>>(node: &SNode) -> Result<T, DeError> {
    T::deserialize(NodeDe(node)).map_err(|e| e.at(node.origin))
}

/// The deserializer over one node.
pub(crate) struct NodeDe<'a>(pub &'a SNode);

impl NodeDe<'_> {
    fn unexpected(&self) -> Unexpected<'_> {
        match &self.0.node {
            Node::Null => Unexpected::Unit,
            Node::Bool(b) => Unexpected::Bool(*b),
            Node::Int(i) => match i64::try_from(*i) {
                Ok(v) => Unexpected::Signed(v),
                Err(_) => Unexpected::Other("a very large number"),
            },
            Node::Float(f) => Unexpected::Float(*f),
            Node::Str(s) => Unexpected::Str(s),
            Node::Seq(_) => Unexpected::Seq,
            Node::Map(_) => Unexpected::Map,
        }
    }

    fn wrong_type<V: de::Expected>(&self, visitor: &V) -> DeError {
        <DeError as de::Error>::invalid_type(self.unexpected(), visitor).at(self.0.origin)
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
                self.deserialize_any(visitor)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let origin = self.0.origin;
        let result = match &self.0.node {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(*b),
            Node::Int(i) => {
                if let Ok(v) = i64::try_from(*i) {
                    visitor.visit_i64(v)
                } else if let Ok(v) = u64::try_from(*i) {
                    visitor.visit_u64(v)
                } else {
                    Err(DeError::new("this number is too large", None))
                }
            }
            Node::Float(f) => visitor.visit_f64(*f),
            Node::Str(s) => visitor.visit_str(s),
            Node::Seq(items) => visitor.visit_seq(SeqAcc {
                items: items.iter(),
            }),
            Node::Map(entries) => visitor.visit_map(MapAcc {
                entries: entries.iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.at(origin))
    }

    forward_to_any! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_identifier deserialize_i128 deserialize_u128
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let origin = self.0.origin;
        match self.0.node {
            Node::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| e.at(origin))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.node {
            Node::Null => visitor
                .visit_unit()
                .map_err(|e: DeError| e.at(self.0.origin)),
            _ => Err(self.wrong_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let origin = self.0.origin;
        visitor.visit_newtype_struct(self).map_err(|e| e.at(origin))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.node {
            Node::Seq(_) => self.deserialize_any(visitor),
            _ => Err(self.wrong_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.0.node {
            Node::Seq(items) if items.len() == len => self.deserialize_any(visitor),
            Node::Seq(items) => Err(DeError::new(
                format!("expected a list of {len} values, found {}", items.len()),
                None,
            )
            .at(self.0.origin)),
            _ => Err(self.wrong_type(&visitor)),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0.node {
            Node::Map(_) => self.deserialize_any(visitor),
            _ => Err(self.wrong_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let origin = self.0.origin;
        match &self.0.node {
            Node::Str(_) => visitor
                .visit_enum(StrEnum(self.0))
                .map_err(|e| e.at(origin)),
            Node::Map(entries) if entries.len() == 1 => match entries.first() {
                Some((key, value)) => visitor
                    .visit_enum(MapEnum { key, value })
                    .map_err(|e| e.at(origin)),
                None => Err(DeError::new("expected one key", None).at(origin)),
            },
            Node::Map(entries) => {
                let found: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
                Err(DeError::new(
                    format!(
                        "expected exactly one of {} as the only key, found {}",
                        one_of(variants),
                        if found.is_empty() {
                            "no keys".to_owned()
                        } else {
                            one_of(&found)
                        }
                    ),
                    None,
                )
                .at(origin))
            }
            _ => Err(self.wrong_type(&visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct SeqAcc<'a> {
    items: std::slice::Iter<'a, SNode>,
}

impl<'de> SeqAccess<'de> for SeqAcc<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(item) => seed
                .deserialize(NodeDe(item))
                .map(Some)
                .map_err(|e| e.at(item.origin)),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAcc<'a> {
    entries: std::slice::Iter<'a, (SNode, SNode)>,
    value: Option<(&'a SNode, &'a SNode)>,
}

impl<'de> MapAccess<'de> for MapAcc<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some((key, value));
                seed.deserialize(NodeDe(key))
                    .map(Some)
                    .map_err(|e| e.at(key.origin).seal())
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some((key, value)) => seed
                .deserialize(NodeDe(value))
                .map_err(|e| e.at(value.origin).in_field(key.as_str().unwrap_or(""))),
            None => Err(DeError::new(
                "internal error: a map value was read before its key",
                None,
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// `policy: round_robin` — a variant named by a string.
struct StrEnum<'a>(&'a SNode);

impl<'de, 'a> EnumAccess<'de> for StrEnum<'a> {
    type Error = DeError;
    type Variant = StrVariant<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, StrVariant<'a>), DeError> {
        let tag = seed
            .deserialize(NodeDe(self.0))
            .map_err(|e| e.at(self.0.origin).seal())?;
        Ok((tag, StrVariant(self.0)))
    }
}

struct StrVariant<'a>(&'a SNode);

impl StrVariant<'_> {
    fn needs_value(&self) -> DeError {
        let name = self.0.as_str().unwrap_or("");
        DeError::new(
            format!("`{name}` needs a value"),
            Some(format!("write it as a map: `{{ {name}: ... }}`")),
        )
        .at(self.0.origin)
    }
}

impl<'de> VariantAccess<'de> for StrVariant<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, DeError> {
        Err(self.needs_value())
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, DeError> {
        Err(self.needs_value())
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, DeError> {
        Err(self.needs_value())
    }
}

/// `arrival: { poisson: 800/s }` — a variant named by the only key of a map.
struct MapEnum<'a> {
    key: &'a SNode,
    value: &'a SNode,
}

impl<'de, 'a> EnumAccess<'de> for MapEnum<'a> {
    type Error = DeError;
    type Variant = MapVariant<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, MapVariant<'a>), DeError> {
        let tag = seed
            .deserialize(NodeDe(self.key))
            .map_err(|e| e.at(self.key.origin).seal())?;
        Ok((
            tag,
            MapVariant {
                key: self.key,
                value: self.value,
            },
        ))
    }
}

struct MapVariant<'a> {
    key: &'a SNode,
    value: &'a SNode,
}

impl MapVariant<'_> {
    fn name(&self) -> &str {
        self.key.as_str().unwrap_or("")
    }
}

impl<'de> VariantAccess<'de> for MapVariant<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.value.node {
            Node::Null => Ok(()),
            _ => {
                let name = self.name();
                Err(DeError::new(
                    format!("`{name}` takes no value"),
                    Some(format!("write just `{name}`")),
                )
                .at(self.value.origin))
            }
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(NodeDe(self.value))
            .map_err(|e| e.at(self.value.origin).in_field(self.name()))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, DeError> {
        NodeDe(self.value)
            .deserialize_tuple(len, visitor)
            .map_err(|e| e.in_field(self.name()))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        NodeDe(self.value)
            .deserialize_struct("", fields, visitor)
            .map_err(|e| e.in_field(self.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let fields = ["workers", "service_time", "queue_capacity"];
        assert_eq!(suggest("service_tme", fields), Some("service_time"));
        assert_eq!(suggest("wokers", fields), Some("workers"));
        assert_eq!(suggest("colour", fields), None);
        assert_eq!(
            suggest("sever", ["server", "load_balancer"]),
            Some("server")
        );
        assert_eq!(
            suggest("round_robbin", ["round_robin", "random"]),
            Some("round_robin")
        );
    }

    #[test]
    fn one_of_reads_like_english() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
