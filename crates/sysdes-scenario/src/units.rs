//! Quantities with units, as written in scenario files: durations (`5ms`),
//! rates (`900/s`) and sizes (`64KiB`).
//!
//! Each type parses from a string with [`std::str::FromStr`] and deserializes
//! from a YAML string. A bare number is always an error, because `5` could
//! mean seconds or milliseconds and guessing silently is worse than asking.
//! This module knows nothing about YAML positions; the loader attaches them.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::de::HELP_MARK;

/// Why a string is not a valid duration, rate or size.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseUnitError {
    /// What is wrong, as a full sentence fragment (`unknown duration unit ...`).
    pub message: String,
    /// How to fix it, when there is an obvious fix.
    pub help: Option<String>,
}

impl ParseUnitError {
    fn new(message: impl Into<String>, help: Option<String>) -> Self {
        ParseUnitError {
            message: message.into(),
            help,
        }
    }

    /// The error as one string for `serde::de::Error::custom`, with the help
    /// attached in the form the loader's error type splits off again.
    pub(crate) fn to_custom(&self) -> String {
        match &self.help {
            Some(help) => format!("{}{HELP_MARK}{help}", self.message),
            None => self.message.clone(),
        }
    }
}

/// Splits `text` into a leading decimal number and the rest (the unit),
/// trimming spaces around both.
pub(crate) fn split_number(text: &str) -> (&str, &str) {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit()
                || c == '.'
                || c == '_'
                || ((c == '-' || c == '+') && i == 0)
                || ((c == 'e' || c == 'E')
                    && text[i + 1..].starts_with(|d: char| d.is_ascii_digit() || d == '-')))
        })
        .map_or(text.len(), |(i, _)| i);
    (text[..end].trim(), text[end..].trim())
}

/// Parses the number part; `what` names the quantity for messages.
fn parse_number(
    number: &str,
    original: &str,
    what: &str,
    example: &str,
) -> Result<f64, ParseUnitError> {
    if number.is_empty() {
        return Err(ParseUnitError::new(
            format!("expected {what} such as `{example}`, found `{original}`"),
            None,
        ));
    }
    let cleaned = number.replace('_', "");
    match cleaned.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(ParseUnitError::new(
            format!("`{number}` is not a number (in `{original}`)"),
            None,
        )),
    }
}

/// A span of time written with a unit: `250ns`, `80us` (or `µs`), `5ms`,
/// `1.5s`, `2m`, `1h`. Stored as whole nanoseconds, rounded to nearest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    nanos: u64,
}

impl Duration {
    /// The duration of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: u64) -> Self {
        Duration { nanos }
    }

    /// The duration in whole nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.nanos
    }

    /// The duration as a simulator duration.
    pub const fn to_sim(self) -> sysdes_kernel::SimDuration {
        sysdes_kernel::SimDuration::from_nanos(self.nanos)
    }
}

/// Nanoseconds per duration unit.
fn duration_unit(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1.0,
        "us" | "µs" | "μs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        _ => return None,
    })
}

const DURATION_UNITS: &str = "`ns`, `us`, `ms`, `s`, `m` (minutes) or `h`";

impl FromStr for Duration {
    type Err = ParseUnitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (number, unit) = split_number(text);
        let value = parse_number(number, text.trim(), "a duration", "5ms")?;
        if unit.is_empty() {
            return Err(ParseUnitError::new(
                "expected a duration with a unit, such as `5ms`",
                Some(format!("write `{number}s` or `{number}ms`")),
            ));
        }
        let Some(factor) = duration_unit(unit) else {
            return Err(ParseUnitError::new(
                format!("unknown duration unit `{unit}` in `{}`", text.trim()),
                Some(format!("use one of {DURATION_UNITS}, e.g. `{number}ms`")),
            ));
        };
        if value < 0.0 {
            return Err(ParseUnitError::new(
                format!("a duration cannot be negative, found `{}`", text.trim()),
                None,
            ));
        }
        let nanos = (value * factor).round();
        if nanos > crate::budget::MAX_DURATION_NS as f64 {
            return Err(ParseUnitError::new(
                format!(
                    "the duration `{}` is too long (the limit of 100 years, 3153600000s, keeps simulated times, nanoseconds in 64 bits, from saturating)",
                    text.trim()
                ),
                None,
            ));
        }
        Ok(Duration {
            nanos: nanos as u64,
        })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.nanos;
        if n == 0 {
            write!(f, "0s")
        } else if n % 1_000_000_000 == 0 {
            write!(f, "{}s", n / 1_000_000_000)
        } else if n % 1_000_000 == 0 {
            write!(f, "{}ms", n / 1_000_000)
        } else if n % 1_000 == 0 {
            write!(f, "{}us", n / 1_000)
        } else {
            write!(f, "{n}ns")
        }
    }
}

/// Events per unit of time: `900/s`, `12/ms`, `3000/min` (also `/us`, `/ns`,
/// `/h`). Stored per second; always greater than zero.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Rate {
    per_second: f64,
}

impl Rate {
    /// The rate in events per second.
    pub const fn per_second(self) -> f64 {
        self.per_second
    }
}

/// Seconds per rate unit (the divisor after `/`), as events/unit -> events/s factor.
fn rate_unit(unit: &str) -> Option<f64> {
    Some(match unit {
        "ns" => 1e9,
        "us" | "µs" | "μs" => 1e6,
        "ms" => 1e3,
        "s" | "sec" => 1.0,
        "m" | "min" => 1.0 / 60.0,
        "h" => 1.0 / 3600.0,
        _ => return None,
    })
}

impl FromStr for Rate {
    type Err = ParseUnitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let Some((number, unit)) = trimmed.split_once('/') else {
            let (number, _) = split_number(trimmed);
            let number = if number.is_empty() { "100" } else { number };
            return Err(ParseUnitError::new(
                format!("expected a rate with a unit, such as `900/s`, found `{trimmed}`"),
                Some(format!("write `{number}/s` for {number} per second")),
            ));
        };
        let (number, unit) = (number.trim(), unit.trim());
        let value = parse_number(number, trimmed, "a rate", "900/s")?;
        let Some(factor) = rate_unit(unit) else {
            return Err(ParseUnitError::new(
                format!("unknown rate unit `/{unit}` in `{trimmed}`"),
                Some(format!(
                    "use `/s`, `/ms`, `/us`, `/min` or `/h`, e.g. `{number}/s`"
                )),
            ));
        };
        let per_second = value * factor;
        if !(per_second > 0.0 && per_second.is_finite()) {
            return Err(ParseUnitError::new(
                format!("a rate must be greater than zero, found `{trimmed}`"),
                None,
            ));
        }
        Ok(Rate { per_second })
    }
}

/// A rate that may be zero (`0/s`), for a silent phase of arrivals.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct RateOrZero {
    per_second: f64,
}

impl RateOrZero {
    /// The rate in events per second (zero or more).
    pub const fn per_second(self) -> f64 {
        self.per_second
    }
}

impl FromStr for RateOrZero {
    type Err = ParseUnitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some((number, unit)) = text.trim().split_once('/') {
            if number.trim().parse::<f64>() == Ok(0.0) && rate_unit(unit.trim()).is_some() {
                return Ok(RateOrZero { per_second: 0.0 });
            }
        }
        text.parse::<Rate>().map(|r| RateOrZero {
            per_second: r.per_second(),
        })
    }
}

/// An amount of data: `512B`, `64KiB`, `16GiB` (binary) or `10KB`, `5MB`,
/// `1GB` (decimal). Stored in whole bytes, rounded to nearest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Size {
    bytes: u64,
}

impl Size {
    /// The size in bytes.
    pub const fn bytes(self) -> u64 {
        self.bytes
    }
}

fn size_unit(unit: &str) -> Option<f64> {
    Some(match unit {
        "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    })
}

impl FromStr for Size {
    type Err = ParseUnitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (number, unit) = split_number(text);
        let value = parse_number(number, text.trim(), "a size", "64KiB")?;
        if unit.is_empty() {
            return Err(ParseUnitError::new(
                "expected a size with a unit, such as `64KiB`",
                Some(format!("write `{number}B` or `{number}KiB`")),
            ));
        }
        let Some(factor) = size_unit(unit) else {
            return Err(ParseUnitError::new(
                format!("unknown size unit `{unit}` in `{}`", text.trim()),
                Some("use `B`, `KB`, `MB`, `GB`, `KiB`, `MiB` or `GiB`".to_owned()),
            ));
        };
        if value < 0.0 {
            return Err(ParseUnitError::new(
                format!("a size cannot be negative, found `{}`", text.trim()),
                None,
            ));
        }
        let bytes = (value * factor).round();
        if bytes >= u64::MAX as f64 {
            return Err(ParseUnitError::new(
                format!("the size `{}` is too large", text.trim()),
                None,
            ));
        }
        Ok(Size {
            bytes: bytes as u64,
        })
    }
}

/// A bandwidth: `1Gbit/s`, `100Mbit/s`, `100MB/s`, `1GiB/s` (bits or bytes,
/// decimal or binary prefixes, always per second). Stored in bytes per
/// second; always greater than zero.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Bandwidth {
    bytes_per_second: f64,
}

impl Bandwidth {
    /// The bandwidth in bytes per second.
    pub const fn bytes_per_second(self) -> f64 {
        self.bytes_per_second
    }
}

/// Bytes per unit of a bandwidth's amount (the part before `/s`).
fn bandwidth_unit(unit: &str) -> Option<f64> {
    Some(match unit {
        "bit" | "b" => 1.0 / 8.0,
        "Kbit" | "kbit" | "Kb" | "kb" => 1e3 / 8.0,
        "Mbit" | "Mb" => 1e6 / 8.0,
        "Gbit" | "Gb" => 1e9 / 8.0,
        "Tbit" | "Tb" => 1e12 / 8.0,
        other => return size_unit(other),
    })
}

impl FromStr for Bandwidth {
    type Err = ParseUnitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let example = Some("write e.g. `1Gbit/s`, `100Mbit/s` or `100MB/s`".to_owned());
        let Some((amount, per)) = trimmed.split_once('/') else {
            return Err(ParseUnitError::new(
                format!("expected a bandwidth per second, such as `1Gbit/s`, found `{trimmed}`"),
                example,
            ));
        };
        if !matches!(per.trim(), "s" | "sec") {
            return Err(ParseUnitError::new(
                format!(
                    "a bandwidth is per second (`/s`), found `/{}` in `{trimmed}`",
                    per.trim()
                ),
                example,
            ));
        }
        let (number, unit) = split_number(amount);
        let value = parse_number(number, trimmed, "a bandwidth", "1Gbit/s")?;
        let Some(factor) = bandwidth_unit(unit) else {
            return Err(ParseUnitError::new(
                format!("unknown bandwidth unit `{unit}/s` in `{trimmed}`"),
                Some("use `bit`, `Kbit`, `Mbit`, `Gbit` (bits) or `B`, `KB`, `MB`, `GB`, `KiB`, `MiB`, `GiB` (bytes), per second".to_owned()),
            ));
        };
        let bytes_per_second = value * factor;
        if !(bytes_per_second > 0.0 && bytes_per_second.is_finite()) {
            return Err(ParseUnitError::new(
                format!("a bandwidth must be greater than zero, found `{trimmed}`"),
                None,
            ));
        }
        Ok(Bandwidth { bytes_per_second })
    }
}

/// A share of something: a number from 0 to 1 (`0.25`) or a percentage
/// (`25%`). Stored as the fraction; the reader checks its own range (most
/// shares must be greater than zero).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Share {
    fraction: f64,
}

impl Share {
    /// The share as a fraction (`25%` is 0.25).
    pub const fn fraction(self) -> f64 {
        self.fraction
    }
}

impl FromStr for Share {
    type Err = ParseUnitError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let help = Some(
            "write a number from 0 to 1 such as `0.25`, or a percentage such as `25%`".to_owned(),
        );
        let fraction = match trimmed.strip_suffix('%') {
            Some(number) => number.trim().parse::<f64>().ok().map(|p| p / 100.0),
            None => trimmed.parse::<f64>().ok(),
        };
        match fraction {
            Some(f) if (0.0..=1.0).contains(&f) => Ok(Share { fraction: f }),
            Some(_) => Err(ParseUnitError::new(
                format!("a share must be from 0 to 1 (0 % to 100 %), found `{trimmed}`"),
                help,
            )),
            None => Err(ParseUnitError::new(
                format!("expected a share such as `0.25` or `25%`, found `{trimmed}`"),
                help,
            )),
        }
    }
}

/// Reads a share from a YAML number or a `25%` string.
struct ShareVisitor;

impl Visitor<'_> for ShareVisitor {
    type Value = Share;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a share such as `0.25` or `25%`")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Share, E> {
        v.to_string()
            .parse::<Share>()
            .map_err(|e| E::custom(e.to_custom()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Share, E> {
        self.visit_f64(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Share, E> {
        self.visit_f64(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Share, E> {
        v.parse::<Share>().map_err(|e| E::custom(e.to_custom()))
    }
}

impl<'de> Deserialize<'de> for Share {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShareVisitor)
    }
}

impl JsonSchema for Share {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Share")
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A share: a number from 0 to 1 (`0.25`) or a percentage (`25%`).",
            "anyOf": [
                { "type": "number", "minimum": 0, "maximum": 1 },
                { "type": "string", "pattern": r"^\s*[0-9][0-9_]*(\.[0-9_]*)?\s*%\s*$" }
            ]
        })
    }
}

/// A serde visitor for any of the unit types: accepts only strings.
struct UnitVisitor<T> {
    expecting: &'static str,
    marker: std::marker::PhantomData<T>,
}

impl<T> Visitor<'_> for UnitVisitor<T>
where
    T: FromStr<Err = ParseUnitError>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse::<T>().map_err(|e| E::custom(e.to_custom()))
    }
}

macro_rules! unit_serde {
    ($ty:ident, $expecting:literal, $name:literal, $pattern:literal, $description:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(UnitVisitor {
                    expecting: $expecting,
                    marker: std::marker::PhantomData,
                })
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": $description,
                })
            }
        }
    };
}

unit_serde!(
    Duration,
    "a duration with a unit, such as `5ms`",
    "Duration",
    r"^\s*[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?\s*(ns|us|µs|μs|ms|s|m|min|h)\s*$",
    "A duration with a unit: `250ns`, `80us`, `5ms`, `1.5s`, `2m` (minutes), `1h`. A bare number is an error."
);
unit_serde!(
    Rate,
    "a rate with a unit, such as `900/s`",
    "Rate",
    r"^\s*[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?\s*/\s*(ns|us|µs|μs|ms|s|sec|m|min|h)\s*$",
    "Events per unit of time, greater than zero: `900/s`, `12/ms`, `3000/min`, `2/h`."
);
unit_serde!(
    RateOrZero,
    "a rate with a unit, such as `900/s` or `0/s`",
    "RateOrZero",
    r"^\s*[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?\s*/\s*(ns|us|µs|μs|ms|s|sec|m|min|h)\s*$",
    "Events per unit of time, zero or more: `900/s`, `0/s`."
);
unit_serde!(
    Size,
    "a size with a unit, such as `64KiB`",
    "Size",
    r"^\s*[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?\s*(B|KB|kB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$",
    "An amount of data: `512B`, `64KiB`, `16GiB` (binary) or `10KB`, `5MB`, `1GB` (decimal)."
);

unit_serde!(
    Bandwidth,
    "a bandwidth with a unit, such as `1Gbit/s`",
    "Bandwidth",
    r"^\s*[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?\s*(b|bit|Kbit|kbit|Kb|kb|Mbit|Mb|Gbit|Gb|Tbit|Tb|B|KB|kB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*/\s*(s|sec)\s*$",
    "Data per second, greater than zero: `1Gbit/s`, `100Mbit/s` (bits) or `100MB/s`, `1GiB/s` (bytes)."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_parse_fractions_and_percentages() {
        let f = |t: &str| t.parse::<Share>().map(Share::fraction);
        assert_eq!(f("0.25"), Ok(0.25));
        assert_eq!(f("25%"), Ok(0.25));
        assert_eq!(f(" 100 % "), Ok(1.0));
        assert_eq!(f("0"), Ok(0.0));
        assert!(f("150%").is_err());
        assert!(f("1.5").is_err());
        assert!(f("-0.1").is_err());
        assert!(f("half").is_err());
    }

    #[test]
    fn bandwidths_parse_bits_and_bytes_per_second() {
        let bps = |t: &str| t.parse::<Bandwidth>().map(Bandwidth::bytes_per_second);
        assert_eq!(bps("1Gbit/s"), Ok(125e6));
        assert_eq!(bps("100MB/s"), Ok(100e6));
        assert_eq!(bps("1GiB/s"), Ok(1024.0 * 1024.0 * 1024.0));
        assert_eq!(bps("8bit/s"), Ok(1.0));
        assert!(bps("1Gbit").is_err());
        assert!(bps("1Gbit/ms").is_err());
        assert!(bps("1Gbat/s").is_err());
        assert!(bps("0MB/s").is_err());
        assert!(bps("100").is_err());
    }

    fn ns(text: &str) -> u64 {
        text.parse::<Duration>()
            .map(Duration::as_nanos)
            .unwrap_or(u64::MAX)
    }

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(ns("250ns"), 250);
        assert_eq!(ns("80us"), 80_000);
        assert_eq!(ns("80µs"), 80_000);
        assert_eq!(ns("5ms"), 5_000_000);
        assert_eq!(ns("1.5s"), 1_500_000_000);
        assert_eq!(ns("2m"), 120_000_000_000);
        assert_eq!(ns("2min"), 120_000_000_000);
        assert_eq!(ns("1h"), 3_600_000_000_000);
        assert_eq!(ns("0ms"), 0);
        assert_eq!(ns(" 0.5 ms "), 500_000);
        assert_eq!(ns("0.0000015ms"), 2, "rounds to the nearest nanosecond");
        assert_eq!(ns("1_000ms"), 1_000_000_000);
        assert_eq!(ns("1e3ms"), 1_000_000_000);
    }

    #[test]
    fn bad_durations_explain_themselves() {
        let bare = "5".parse::<Duration>().err();
        assert_eq!(
            bare.as_ref().map(|e| e.message.as_str()),
            Some("expected a duration with a unit, such as `5ms`")
        );
        assert_eq!(
            bare.and_then(|e| e.help).as_deref(),
            Some("write `5s` or `5ms`")
        );
        let parsecs = "5 parsecs".parse::<Duration>().err().map(|e| e.message);
        assert_eq!(
            parsecs.as_deref(),
            Some("unknown duration unit `parsecs` in `5 parsecs`")
        );
        let negative = "-5ms".parse::<Duration>().err().map(|e| e.message);
        assert!(negative.is_some_and(|m| m.contains("cannot be negative")));
        assert!("ms".parse::<Duration>().is_err());
        assert!("".parse::<Duration>().is_err());
        assert!("1.2.3s".parse::<Duration>().is_err());
        assert!("1e400s".parse::<Duration>().is_err());
        assert!("1000000000h".parse::<Duration>().is_err());
    }

    #[test]
    fn rates_convert_to_per_second() {
        let per_s = |t: &str| t.parse::<Rate>().map(Rate::per_second).unwrap_or(f64::NAN);
        assert_eq!(per_s("900/s"), 900.0);
        assert_eq!(per_s("12/ms"), 12_000.0);
        assert_eq!(per_s("3000/min"), 50.0);
        assert_eq!(per_s("2/us"), 2_000_000.0);
        assert_eq!(per_s("7200/h"), 2.0);
        assert_eq!(per_s("0.9/s"), 0.9);
        assert_eq!(per_s(" 800 / s "), 800.0);
    }

    #[test]
    fn bad_rates_explain_themselves() {
        let zero = "0/s".parse::<Rate>().err().map(|e| e.message);
        assert!(zero.is_some_and(|m| m.contains("greater than zero")));
        assert!("-3/s".parse::<Rate>().is_err());
        let bare = "900".parse::<Rate>().err();
        assert_eq!(
            bare.and_then(|e| e.help).as_deref(),
            Some("write `900/s` for 900 per second")
        );
        let unit = "5/fortnight".parse::<Rate>().err().map(|e| e.message);
        assert!(unit.is_some_and(|m| m.contains("unknown rate unit `/fortnight`")));
    }

    #[test]
    fn sizes_binary_and_decimal() {
        let bytes = |t: &str| t.parse::<Size>().map(Size::bytes).unwrap_or(u64::MAX);
        assert_eq!(bytes("512B"), 512);
        assert_eq!(bytes("64KiB"), 65_536);
        assert_eq!(bytes("16GiB"), 17_179_869_184);
        assert_eq!(bytes("2MiB"), 2_097_152);
        assert_eq!(bytes("10KB"), 10_000);
        assert_eq!(bytes("5MB"), 5_000_000);
        assert_eq!(bytes("1GB"), 1_000_000_000);
        assert_eq!(bytes("1.5KiB"), 1536);
        assert!("512".parse::<Size>().is_err());
        assert!("5 parsecs".parse::<Size>().is_err());
        assert!("-1B".parse::<Size>().is_err());
    }

    #[test]
    fn durations_display_in_the_largest_exact_unit() {
        assert_eq!(Duration::from_nanos(1_500_000_000).to_string(), "1500ms");
        assert_eq!(Duration::from_nanos(2_000_000_000).to_string(), "2s");
        assert_eq!(Duration::from_nanos(80_000).to_string(), "80us");
        assert_eq!(Duration::from_nanos(7).to_string(), "7ns");
    }
}
