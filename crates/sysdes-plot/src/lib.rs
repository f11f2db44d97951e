//! Figures from sysdes results: plots (SVG always, PNG with a bundled
//! font), a Vega-Lite spec beside each plot, and one self-contained HTML
//! report per run or sweep directory.
//!
//! ```text
//! run dir (result.json, series.csv, latency_cdf.csv) ──┐
//!                                                      ├─► plot_dir ─► *.svg *.png *.vl.json report.html
//! sweep dir (manifest.json, summary.csv) ──────────────┘
//! ```
//!
//! This crate only reads files that `sysdes run --out` and `sysdes sweep`
//! wrote; it never simulates and knows nothing of scenarios beyond their
//! names. Colours are Okabe-Ito (colour-blind safe), heatmaps viridis.
//! Text in PNGs is drawn with DejaVu Sans, compiled into the binary, so no
//! system font library (fontconfig, FreeType) is needed.

mod cap;
mod chart;
mod error;
mod html;
mod options;
mod output;
mod pareto;
mod run;
mod schedule;
mod style;
mod sweep;
mod table;
pub mod topology;
mod vega;

use std::path::{Path, PathBuf};

pub use error::PlotError;
pub use options::{ImageFormat, PlotOptions, Slo, Statistic, Window};
pub use pareto::pareto_front;
pub use schedule::{schedule_csv, schedule_windows};
pub use table::Table;

/// Which kind of results directory was plotted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirKind {
    /// One run (`sysdes run --out DIR`).
    Run,
    /// A sweep (`sysdes sweep --out DIR`).
    Sweep,
}

/// What a plot call wrote.
#[derive(Clone, Debug)]
pub struct PlotOutput {
    /// The kind of directory plotted.
    pub kind: DirKind,
    /// Every file written, in order (plots, specs, then `report.html`).
    pub files: Vec<PathBuf>,
}

/// Tells a run directory from a sweep directory by its files.
pub fn detect(dir: &Path) -> Result<DirKind, PlotError> {
    if !dir.is_dir() {
        return Err(PlotError::NoSuchDir {
            dir: dir.to_path_buf(),
        });
    }
    if dir.join("manifest.json").is_file() {
        Ok(DirKind::Sweep)
    } else if dir.join("result.json").is_file() {
        Ok(DirKind::Run)
    } else {
        Err(PlotError::UnknownDir {
            dir: dir.to_path_buf(),
        })
    }
}

/// Draws the default plots and the report of a run or sweep directory.
pub fn plot_dir(dir: &Path, options: &PlotOptions) -> Result<PlotOutput, PlotError> {
    match detect(dir)? {
        DirKind::Run => plot_run_dir(dir, options),
        DirKind::Sweep => plot_sweep_dir(dir, options),
    }
}

/// Draws a run directory's latency CDF and time series, their Vega-Lite
/// specs and `report.html`.
pub fn plot_run_dir(dir: &Path, options: &PlotOptions) -> Result<PlotOutput, PlotError> {
    if !dir.is_dir() {
        return Err(PlotError::NoSuchDir {
            dir: dir.to_path_buf(),
        });
    }
    run::plot_run(dir, options)
}

/// Draws a sweep directory's latency-vs-load plot (or bars for a
/// parameter that is not a number), the heatmap for two parameters, their
/// Vega-Lite specs and `report.html`.
pub fn plot_sweep_dir(dir: &Path, options: &PlotOptions) -> Result<PlotOutput, PlotError> {
    if !dir.is_dir() {
        return Err(PlotError::NoSuchDir {
            dir: dir.to_path_buf(),
        });
    }
    sweep::plot_sweep(dir, options)
}

/// The Vega-Lite specs of one run's plots (`latency_cdf` and `timeseries`,
/// fault windows and warm-up shaded), as [`plot_run_dir`] writes them but
/// built from the run's documents in memory (`result.json`, `series.csv`,
/// `latency_cdf.csv` text) with each CSV inline in the spec's `data`, for
/// a page that has no directory (the web playground).
pub fn run_specs(
    result_json: &str,
    series_csv: &str,
    latency_cdf_csv: &str,
) -> Result<Vec<(&'static str, serde_json::Value)>, PlotError> {
    run::run_specs(result_json, series_csv, latency_cdf_csv)
}
