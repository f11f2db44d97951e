//! The price table: dated rows of list prices, read from YAML.

use serde::Deserialize;

use crate::billing::{Billing, Increment, parse_seconds};

/// What a row prices.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// A virtual machine, per instance-hour.
    Vm,
    /// A GPU instance or one GPU, per hour.
    Gpu,
    /// A container resource (vCPU-hour or GB-hour).
    Container,
    /// Serverless functions (per request, per GB-second).
    Function,
    /// Data transfer out, per GB.
    Egress,
    /// Storage, per GB-month.
    Storage,
    /// A hosted API, per request or per token.
    Api,
}

/// The unit a row's `price` is per.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// USD per hour (of an instance, a GPU, a vCPU or a GB of memory).
    Hour,
    /// USD per request.
    Request,
    /// USD per GB-second of configured memory.
    GbSecond,
    /// USD per GB transferred.
    Gb,
    /// USD per GB stored for a month.
    GbMonth,
    /// USD per million tokens.
    MillionTokens,
}

impl Unit {
    /// The name used in price tables.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Hour => "hour",
            Unit::Request => "request",
            Unit::GbSecond => "gb_second",
            Unit::Gb => "gb",
            Unit::GbMonth => "gb_month",
            Unit::MillionTokens => "million_tokens",
        }
    }
}

/// One row of the price table.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceRow {
    /// The name a scenario uses (`instance: m7i.large`).
    pub name: String,
    /// What it prices.
    pub kind: RowKind,
    /// What `price` is per.
    pub unit: Unit,
    /// USD per `unit`, zero or more.
    pub price: f64,
    /// `per_second` or `per_hour` increments (instance rows; default `per_second`).
    pub billing: Option<Increment>,
    /// Billed at least this long, e.g. `60s` (instance rows; default none).
    pub minimum: Option<String>,
    /// Virtual CPUs of the instance.
    pub vcpus: Option<f64>,
    /// Memory of the instance, GiB.
    pub memory_gib: Option<f64>,
    /// GPUs of the instance.
    pub gpus: Option<u32>,
    /// Who sells it (`aws`, `gcp`, `azure`, `runpod`, ...).
    pub provider: Option<String>,
    /// The region the price is for.
    pub region: Option<String>,
    /// Where the figure comes from (a URL); required in a shipped table.
    pub source: Option<String>,
    /// When the figure was read (YYYY-MM-DD); required in a shipped table.
    pub date: Option<String>,
    /// What is uncertain about it, if anything.
    pub note: Option<String>,
}

impl PriceRow {
    /// The row's billing rule (`per_second` and no minimum by default).
    pub fn billing_rule(&self) -> Result<Billing, String> {
        let minimum_s = match &self.minimum {
            None => 0,
            Some(m) => parse_seconds(m)?,
        };
        Ok(Billing {
            increment: self.billing.unwrap_or_default(),
            minimum_s,
        })
    }
}

/// A price table file: its date, currency and rows.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct TableFile {
    date: Option<String>,
    currency: Option<String>,
    rows: Vec<PriceRow>,
}

/// Why a price table could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableError {
    /// What is wrong, with the line and column where the YAML parser knows them.
    pub message: String,
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TableError {}

/// Rows of prices by name; later rows with the same name replace earlier ones.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PriceTable {
    /// The table's date (`YYYY-MM-DD`), if it says.
    pub date: Option<String>,
    /// The rows, each name once, in file order.
    pub rows: Vec<PriceRow>,
}

/// The shipped table's text.
const SHIPPED: &str = include_str!("../../../prices/2026-12.yaml");

impl PriceTable {
    /// The table shipped with sysdes (`prices/2026-12.yaml`).
    pub fn shipped() -> PriceTable {
        // The shipped file is checked by this crate's tests; an unreadable
        // one would be a build defect, so fall back to an empty table
        // rather than panic.
        PriceTable::parse(SHIPPED).unwrap_or_default()
    }

    /// Reads a table from YAML text: `date`, `currency` (USD only) and
    /// `rows`. Every row's price must be zero or more, its `minimum` a
    /// duration in whole seconds, minutes or hours.
    pub fn parse(text: &str) -> Result<PriceTable, TableError> {
        let file: TableFile = serde_saphyr::from_str(text).map_err(|e| TableError {
            message: e.to_string(),
        })?;
        if let Some(c) = &file.currency {
            if c != "USD" {
                return Err(TableError {
                    message: format!("`currency`: only USD is supported, found `{c}`"),
                });
            }
        }
        let mut table = PriceTable {
            date: file.date,
            rows: Vec::new(),
        };
        for row in file.rows {
            if let Some(problem) = row_problem(&row) {
                return Err(TableError {
                    message: format!("row `{}`: {problem}", row.name),
                });
            }
            table.insert(row);
        }
        Ok(table)
    }

    /// Adds `row`, replacing a row of the same name.
    pub fn insert(&mut self, row: PriceRow) {
        match self.rows.iter_mut().find(|r| r.name == row.name) {
            Some(old) => *old = row,
            None => self.rows.push(row),
        }
    }

    /// This table with `other`'s rows added, replacing rows of the same name.
    pub fn overridden_by(&self, other: &PriceTable) -> PriceTable {
        let mut out = self.clone();
        for row in &other.rows {
            out.insert(row.clone());
        }
        if other.date.is_some() {
            out.date.clone_from(&other.date);
        }
        out
    }

    /// The row named `name`.
    pub fn get(&self, name: &str) -> Option<&PriceRow> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// Up to three row names closest to `name`, closest first.
    pub fn nearest(&self, name: &str) -> Vec<&str> {
        let lower = name.to_ascii_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .rows
            .iter()
            .map(|r| {
                let score = strsim::jaro_winkler(&lower, &r.name.to_ascii_lowercase());
                (score, r.name.as_str())
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    }
}

/// What is wrong with a row, if anything (a negative or non-finite price,
/// an unreadable minimum).
pub fn row_problem(row: &PriceRow) -> Option<String> {
    if !(row.price >= 0.0 && row.price.is_finite()) {
        return Some(format!("`price` must be zero or more, found {}", row.price));
    }
    row.billing_rule().err().map(|e| format!("`minimum`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_parses_and_every_row_has_a_source_and_a_date() {
        let table = PriceTable::parse(SHIPPED).expect("prices/2026-12.yaml parses");
        assert!(table.rows.len() >= 30, "{}", table.rows.len());
        for row in &table.rows {
            let source = row.source.as_deref().unwrap_or("");
            assert!(source.starts_with("https://"), "{}: {source}", row.name);
            assert!(
                row.date.as_deref().is_some_and(|d| d.len() == 10),
                "{}",
                row.name
            );
        }
        for name in [
            "m7i.large",
            "n2-standard-4",
            "runpod.h100-sxm",
            "runpod.h200",
            "runpod.l4",
            "runpod.rtx-4090",
            "runpod.rtx-pro-6000",
            "runpod.a100-sxm",
            "fargate.vcpu",
            "lambda.request",
            "lambda.gb_second",
            "aws.egress.inter_zone",
            "s3.standard",
            "ebs.gp3",
            "efs.standard",
        ] {
            assert!(table.get(name).is_some(), "{name}");
        }
        assert_eq!(PriceTable::shipped(), table);
        let m7i = table.get("m7i.large").unwrap();
        assert_eq!(m7i.price, 0.1008);
        let s3 = table.get("s3.standard").unwrap();
        assert_eq!((s3.unit, s3.price), (Unit::GbMonth, 0.023));
        assert_eq!(
            m7i.billing_rule(),
            Ok(Billing {
                increment: Increment::PerSecond,
                minimum_s: 60
            })
        );
    }

    #[test]
    fn nearest_names_suggest_the_intended_row() {
        let table = PriceTable::shipped();
        assert_eq!(table.nearest("m7i.larg")[0], "m7i.large");
        assert_eq!(table.nearest("M7I.XLARGE")[0], "m7i.xlarge");
    }

    #[test]
    fn bad_rows_are_refused_with_the_row_named() {
        let text = "rows:\n  - { name: x, kind: vm, unit: hour, price: -1 }\n";
        let err = PriceTable::parse(text).unwrap_err();
        assert!(
            err.message
                .contains("row `x`: `price` must be zero or more"),
            "{err}"
        );
        let text = "rows:\n  - { name: x, kind: vm, unit: hour, price: 1, minimum: 60 }\n";
        assert!(
            PriceTable::parse(text)
                .unwrap_err()
                .message
                .contains("minimum")
        );
        let text = "rows:\n  - { name: x, kind: vm, unit: hour, price: 1, colour: red }\n";
        assert!(PriceTable::parse(text).is_err());
        let text = "currency: EUR\nrows: []\n";
        assert!(PriceTable::parse(text).unwrap_err().message.contains("USD"));
    }

    #[test]
    fn an_override_replaces_a_row_of_the_same_name() {
        let over = PriceTable::parse(
            "date: 2027-01-01\nrows:\n  - { name: m7i.large, kind: vm, unit: hour, price: 0.05 }\n  - { name: mine, kind: vm, unit: hour, price: 1 }\n",
        )
        .unwrap();
        let t = PriceTable::shipped().overridden_by(&over);
        assert_eq!(t.get("m7i.large").unwrap().price, 0.05);
        assert_eq!(t.get("mine").unwrap().price, 1.0);
        assert_eq!(t.rows.len(), PriceTable::shipped().rows.len() + 1);
        assert_eq!(t.date.as_deref(), Some("2027-01-01"));
    }
}
