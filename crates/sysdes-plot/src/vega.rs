//! Helpers for the Vega-Lite specs written beside each plot. Each spec
//! reads the same CSV through `data.url` and encodes the same columns, so it
//! can be restyled in Altair, Observable or the Vega editor.

use serde_json::{Value, json};

use crate::style::palette_hex;

/// The Vega-Lite v5 schema URL.
pub(crate) const SCHEMA: &str = "https://vega.github.io/schema/vega-lite/v5.json";

/// Escapes a CSV column name for a Vega-Lite `field` (`.` and `[]` would
/// otherwise mean nested access).
pub(crate) fn field(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '.' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The spec's common top: schema, title, size and the CSV data source.
pub(crate) fn base(title: &str, url: &str) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("$schema".into(), json!(SCHEMA));
    m.insert("title".into(), json!(title));
    m.insert(
        "data".into(),
        json!({ "url": url, "format": { "type": "csv" } }),
    );
    m
}

/// A colour scale with the Okabe-Ito palette.
pub(crate) fn palette_scale() -> Value {
    json!({ "range": palette_hex() })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dots_in_field_names_are_escaped() {
        assert_eq!(
            super::field("workloads.users.arrival.poisson#value"),
            "workloads\\.users\\.arrival\\.poisson#value"
        );
    }
}
