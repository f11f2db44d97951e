//! `sysdes plot DIR`: draws the plots and the HTML report of a run or sweep
//! directory, and the hook `run --out` uses to draw a run's plots.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use sysdes_plot::{ImageFormat, PlotOptions, Slo};

/// Arguments of `sysdes plot`.
#[derive(clap::Args, Debug)]
pub struct PlotArgs {
    /// A run directory (from `sysdes run --out`) or a sweep directory.
    pub dir: PathBuf,
    /// Write the plots and report.html here instead of into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A latency SLO to draw, with the capacity at it marked, e.g. `p99=100ms`.
    #[arg(long, value_name = "STAT=BOUND", value_parser = parse_slo)]
    pub slo: Option<Slo>,
    /// Which image files to write (the report always inlines SVG).
    #[arg(long, value_enum, default_value_t = PlotFormat::Both)]
    pub format: PlotFormat,
}

/// Image formats on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PlotFormat {
    /// SVG files only.
    Svg,
    /// PNG files only.
    Png,
    /// SVG and PNG files.
    Both,
}

impl From<PlotFormat> for ImageFormat {
    fn from(f: PlotFormat) -> ImageFormat {
        match f {
            PlotFormat::Svg => ImageFormat::Svg,
            PlotFormat::Png => ImageFormat::Png,
            PlotFormat::Both => ImageFormat::Both,
        }
    }
}

fn parse_slo(text: &str) -> Result<Slo, String> {
    text.parse::<Slo>().map_err(|e| e.to_string())
}

/// Runs `sysdes plot`: exit 0, 2 for a bad directory or file, 1 when
/// writing fails.
pub fn plot(args: PlotArgs) -> ExitCode {
    let options = PlotOptions {
        out: args.out,
        format: args.format.into(),
        slo: args.slo,
        windows: Vec::new(),
    };
    match sysdes_plot::plot_dir(&args.dir, &options) {
        Ok(output) => {
            let list: String = output
                .files
                .iter()
                .map(|f| format!("{}\n", f.display()))
                .collect();
            crate::print_stdout(&list);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
    }
}

/// Draws the default plots and report of a run just written to `dir`.
pub fn plot_run_outputs(dir: &Path) -> Result<(), sysdes_plot::PlotError> {
    sysdes_plot::plot_run_dir(dir, &PlotOptions::default()).map(|_| ())
}

/// Draws the default plots and report of a finished sweep into its directory
/// (what `sysdes sweep --out` and `sysdes merge` do after writing results).
pub fn plot_sweep_outputs(dir: &Path) -> Result<(), sysdes_plot::PlotError> {
    sysdes_plot::plot_sweep_dir(dir, &PlotOptions::default()).map(|_| ())
}
