//! The one error type of this crate: every variant names the file or plot at
//! fault, so the CLI can print it as it is.

use std::path::PathBuf;

/// Why a directory could not be plotted.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The directory to plot does not exist or is not a directory.
    #[error("{}: no such directory", dir.display())]
    NoSuchDir {
        /// The directory asked for.
        dir: PathBuf,
    },
    /// The directory holds neither a run's nor a sweep's files.
    #[error(
        "{}: neither a run directory (result.json, series.csv, latency_cdf.csv from `sysdes run --out`) nor a sweep directory (manifest.json, summary.csv)",
        dir.display()
    )]
    UnknownDir {
        /// The directory asked for.
        dir: PathBuf,
    },
    /// A file the plot needs is missing.
    #[error("{}: missing (needed for {needed_for})", path.display())]
    MissingFile {
        /// The missing file.
        path: PathBuf,
        /// What the file was needed for.
        needed_for: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV file is malformed.
    #[error("{}: malformed CSV: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line where known.
        message: String,
    },
    /// A CSV file lacks a column the plot needs.
    #[error("{}: no column `{column}`", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column looked for.
        column: String,
    },
    /// A cell that must be a number is not one.
    #[error("{}: line {line}, column `{column}`: `{value}` is not a number", path.display())]
    BadNumber {
        /// The file.
        path: PathBuf,
        /// The 1-based line in the file.
        line: u64,
        /// The column's header.
        column: String,
        /// The cell as written.
        value: String,
    },
    /// A JSON file is malformed or lacks a key.
    #[error("{}: {message}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An `--slo` option could not be read.
    #[error(
        "invalid SLO `{text}`: {reason} (expected e.g. `p99=100ms`; percentiles p50, p90, p99, p999, mean, max; units us, ms, s)"
    )]
    BadSlo {
        /// The option as written.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// Plotters failed to draw a figure.
    #[error("cannot draw {plot}: {message}")]
    Draw {
        /// The plot's file stem.
        plot: String,
        /// The drawing backend's message.
        message: String,
    },
    /// A PNG could not be encoded.
    #[error("{}: cannot encode PNG: {message}", path.display())]
    Png {
        /// The file being written.
        path: PathBuf,
        /// The encoder's message.
        message: String,
    },
}

impl PlotError {
    /// Whether the error is the user's (a bad directory, file or option,
    /// exit status 2) rather than a failure to write (exit status 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(
            self,
            PlotError::Io { .. } | PlotError::Draw { .. } | PlotError::Png { .. }
        )
    }
}
