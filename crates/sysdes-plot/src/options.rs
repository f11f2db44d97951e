//! What to draw and where: image formats, the SLO, shaded windows.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::PlotError;

/// Which image files to write beside the Vega-Lite specs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImageFormat {
    /// SVG only.
    Svg,
    /// PNG only (the HTML report still inlines SVG).
    Png,
    /// Both SVG and PNG.
    #[default]
    Both,
}

impl ImageFormat {
    /// Whether SVG files are written.
    pub fn svg(self) -> bool {
        matches!(self, ImageFormat::Svg | ImageFormat::Both)
    }

    /// Whether PNG files are written.
    pub fn png(self) -> bool {
        matches!(self, ImageFormat::Png | ImageFormat::Both)
    }
}

/// A latency statistic an SLO can bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    /// The mean.
    Mean,
    /// The median.
    P50,
    /// The 90th percentile.
    P90,
    /// The 99th percentile.
    P99,
    /// The 99.9th percentile.
    P999,
    /// The maximum.
    Max,
}

impl Statistic {
    /// The key used in column names, e.g. `p99` in `latency_p99_ms`.
    pub fn key(self) -> &'static str {
        match self {
            Statistic::Mean => "mean",
            Statistic::P50 => "p50",
            Statistic::P90 => "p90",
            Statistic::P99 => "p99",
            Statistic::P999 => "p999",
            Statistic::Max => "max",
        }
    }

    /// The label shown on plots, e.g. `p99.9`.
    pub fn label(self) -> &'static str {
        match self {
            Statistic::P999 => "p99.9",
            other => other.key(),
        }
    }

    /// The metric's column stem, e.g. `latency_p99_ms`.
    pub fn metric(self) -> String {
        format!("latency_{}_ms", self.key())
    }
}

/// A service-level objective on latency, e.g. `p99=100ms`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slo {
    /// The bounded statistic.
    pub statistic: Statistic,
    /// The bound in milliseconds.
    pub threshold_ms: f64,
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ≤ {} ms", self.statistic.label(), self.threshold_ms)
    }
}

impl FromStr for Slo {
    type Err = PlotError;

    fn from_str(text: &str) -> Result<Slo, PlotError> {
        let bad = |reason: &str| PlotError::BadSlo {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (stat, value) = text
            .split_once('=')
            .ok_or_else(|| bad("no `=` between the percentile and the bound"))?;
        let statistic = match stat.trim().to_ascii_lowercase().as_str() {
            "mean" => Statistic::Mean,
            "p50" | "median" => Statistic::P50,
            "p90" => Statistic::P90,
            "p99" => Statistic::P99,
            "p999" | "p99.9" => Statistic::P999,
            "max" => Statistic::Max,
            _ => return Err(bad("unknown percentile")),
        };
        let value = value.trim();
        let split = value
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(value.len());
        let (number, unit) = value.split_at(split);
        let number: f64 = number
            .parse()
            .map_err(|_| bad("the bound is not a number"))?;
        let scale = match unit.trim() {
            "ms" => 1.0,
            "s" => 1000.0,
            "us" | "µs" => 0.001,
            "" => return Err(bad("the bound has no unit")),
            _ => return Err(bad("unknown unit")),
        };
        let threshold_ms = number * scale;
        if !(threshold_ms.is_finite() && threshold_ms > 0.0) {
            return Err(bad("the bound must be positive"));
        }
        Ok(Slo {
            statistic,
            threshold_ms,
        })
    }
}

/// A shaded stretch of simulated time on time-series plots (the warm-up,
/// and fault windows once scenarios have them).
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Start, in simulated seconds.
    pub start_s: f64,
    /// End, in simulated seconds.
    pub end_s: f64,
    /// The legend label, e.g. `warm-up` or `fault: db down`.
    pub label: String,
}

/// Options for [`crate::plot_dir`] and friends.
#[derive(Clone, Debug, Default)]
pub struct PlotOptions {
    /// Where to write plots and the report; `None` writes beside the data.
    pub out: Option<PathBuf>,
    /// Which image files to write.
    pub format: ImageFormat,
    /// The SLO to draw on latency-vs-load plots, and mark capacity at.
    pub slo: Option<Slo>,
    /// Extra shaded windows for time-series plots, beside the warm-up.
    pub windows: Vec<Window>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slo_reads_percentile_and_unit() {
        let slo: Slo = "p99=100ms".parse().unwrap();
        assert_eq!(slo.statistic, Statistic::P99);
        assert_eq!(slo.threshold_ms, 100.0);
        let slo: Slo = "p99.9=0.25s".parse().unwrap();
        assert_eq!(slo.statistic, Statistic::P999);
        assert_eq!(slo.threshold_ms, 250.0);
        for bad in [
            "p99",
            "p98=1ms",
            "p99=abc",
            "p99=10",
            "p99=10 parsecs",
            "p99=0ms",
        ] {
            assert!(bad.parse::<Slo>().is_err(), "{bad}");
        }
    }
}
