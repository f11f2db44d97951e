//! The `sysdes` command line: run, validate and describe scenarios.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

mod errors;
mod estimate_cmd;
mod estimate_cost;
mod playground_cmd;
mod plot_cmd;
mod prices_arg;
mod sweep_cmd;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sysdes_kernel::SimTime;
use sysdes_models::{Observer, RunLimits, RunResult, Simulation, StopReason};
use sysdes_report::RunInfo;
use sysdes_scenario::{LoadOptions, LoadedScenario};

const EXAMPLES: &str = "\
Examples:
  sysdes run scenarios/mm1.yaml
  sysdes run scenarios/mm1.yaml --set workloads.users.arrival.poisson=0.8/s --format json
  sysdes run scenarios/lb-policies-sweep.yaml --set components.lb.policy=power_of_two --seed 3
  sysdes validate scenarios/*.yaml
  sysdes estimate scenarios/mmc.yaml --explain
  sysdes schema > sysdes.schema.json";

/// A fast, deterministic discrete-event simulator for distributed and AI systems.
#[derive(Parser, Debug)]
#[command(name = "sysdes", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Simulate a scenario and report latency, throughput and utilization.
    #[command(after_help = "\
Examples:
  sysdes run scenarios/mm1.yaml
  sysdes run scenarios/hockey-stick.yaml --set workloads.users.arrival.poisson=240/s
  sysdes run scenarios/mmc.yaml --format json > result.json
  sysdes run scenarios/mm1.yaml --out results/mm1

Exit status: 0 success; 2 invalid scenario or arguments; 1 the run failed
(unstable system, or a --max-events / --max-wall limit was reached); 3 the
run completed but missed a target of the scenario's `expect:` (1 wins over 3).")]
    Run(RunArgs),
    /// Check scenario files (syntax, units, references) without simulating.
    Validate {
        /// Scenario files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The memory budget the scenario's counts are checked against, e.g. `4GiB` (default 1GiB; see docs/limits.md).
        #[arg(long, value_name = "SIZE")]
        max_memory: Option<sysdes_scenario::units::Size>,
    },
    /// Print the JSON Schema of the scenario format, for editor completion.
    Schema,
    /// Predict utilization, latency and capacity from theory, without simulating.
    #[command(after_help = "\
Examples:
  sysdes estimate scenarios/mmc.yaml
  sysdes estimate scenarios/hockey-stick.yaml --explain
  sysdes estimate scenarios/hockey-stick.yaml --slo p99=100ms --target-rate 600/s")]
    Estimate(estimate_cmd::EstimateArgs),
    /// Draw plots (SVG/PNG), Vega-Lite specs and report.html from a run or sweep directory.
    #[command(after_help = "\
Examples:
  sysdes run scenarios/web-tier.yaml --out results/web
  sysdes plot results/web --format png
  sysdes sweep scenarios/hockey-stick-sweep.yaml --out results/hockey
  sysdes plot results/hockey --slo p99=100ms --out figures

Exit status: 0 success; 2 missing or malformed directory, file or option; 1 cannot write.")]
    Plot(plot_cmd::PlotArgs),
    /// Run a parameter sweep: every point of the scenario's `sweep:` block (and `--vary`), in parallel.
    #[command(after_help = "\
Examples:
  sysdes sweep scenarios/hockey-stick-sweep.yaml --out results/hockey
  sysdes sweep scenarios/mm1.yaml --vary workloads.users.arrival.poisson=0.1/s:0.9/s:0.2/s
  sysdes sweep scenarios/hockey-stick-sweep.yaml --out results/hockey --resume
  sysdes sweep scenarios/hockey-stick-sweep.yaml --out shard0 --shard 0/2

Files: manifest.json, runs.jsonl, runs.csv, summary.csv, runs.parquet, summary.parquet,
runs_long.csv, summary_long.csv, summary_long.parquet (see docs/sweeps.md and docs/python.md).
Exit status: 0 success; 2 invalid scenario, sweep or arguments (or --out holds another sweep); 1 cannot write;
3 with --check-targets, a run missed an `expect:` target.")]
    Sweep(sweep_cmd::SweepArgs),
    /// Combine the output directories of `sweep --shard` into what one unsharded sweep writes.
    #[command(after_help = "\
Examples:
  sysdes sweep scenarios/hockey-stick-sweep.yaml --out shard0 --shard 0/2
  sysdes sweep scenarios/hockey-stick-sweep.yaml --out shard1 --shard 1/2
  sysdes merge shard0 shard1 --out results/hockey

Exit status: 0 success; 2 unreadable or mismatched inputs; 1 runs are missing (files are still written).")]
    Merge(sweep_cmd::MergeArgs),
    /// Serve the web playground (editor, runs, plots, topology) on localhost.
    #[command(after_help = "\
Examples:
  sysdes playground --open
  sysdes playground --port 0

The web assets are embedded at build time from web/dist (see docs/playground.md).
Exit status: 2 no embedded assets or the port is taken; 1 the server failed.")]
    Playground(playground_cmd::PlaygroundArgs),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The scenario file (YAML).
    file: PathBuf,
    /// Override one value, e.g. `components.server.workers=4`; repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Override the scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write result.json, summary.csv, series.csv, latency_cdf.csv,
    /// report.txt, scenario.yaml and topology.svg into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Stop after this many events (the run then exits with status 1).
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// Stop after this much wall-clock time, e.g. `30s` (exit status 1).
    #[arg(long, value_name = "DURATION")]
    max_wall: Option<sysdes_scenario::units::Duration>,
    /// Requests in flight at which the system is declared unstable.
    #[arg(long, value_name = "N", default_value_t = RunLimits::default().max_in_flight)]
    max_in_flight: u64,
    /// Redo run N of the scenario's sweep alone (its point's values and its
    /// seed); give the same `--set`, `--seed` and `--vary` as the sweep.
    #[arg(long, value_name = "N")]
    run_index: Option<u64>,
    /// With `--run-index`: a `--vary` argument of the sweep; repeatable.
    #[arg(long = "vary", value_name = "PATH=VALUES", requires = "run_index")]
    vary: Vec<String>,
    /// Choose the warm-up automatically: a pilot run of the same seed, then
    /// MSER-5 on its per-interval latency (capped at half the duration);
    /// the scenario's warm-up is kept if the pilot never settles.
    #[arg(long)]
    auto_warmup: bool,
    /// The memory budget the scenario's counts are checked against at load,
    /// e.g. `4GiB` (default 1GiB; see docs/limits.md).
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<sysdes_scenario::units::Size>,
    /// A price table (YAML, as prices/2026-12.yaml) whose rows override the
    /// shipped one by name; see docs/cost.md.
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// An aligned, human-readable table.
    Table,
    /// One JSON document (the result contract).
    Json,
    /// Tidy CSV, one row per scope.
    Csv,
    /// The CSV's rows as Parquet, typed (counts as integers): written to
    /// stdout (redirect it, `> result.parquet`); with `--out DIR`, also
    /// DIR/summary.parquet and every other table of the run
    /// (components.parquet, workloads.parquet, series.parquet,
    /// latency_cdf.parquet); on a terminal without `--out` it is refused.
    Parquet,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { files, max_memory } => validate(&files, max_memory),
        Command::Estimate(args) => estimate_cmd::estimate(args),
        Command::Plot(args) => plot_cmd::plot(args),
        Command::Sweep(args) => sweep_cmd::sweep(args),
        Command::Merge(args) => sweep_cmd::merge(args),
        Command::Playground(args) => playground_cmd::playground(args),
        Command::Schema => {
            let schema = sysdes_scenario::json_schema();
            let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
            if print_stdout(&format!("{text}\n")) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(FAILED)
            }
        }
    }
}

/// Exit status for an invalid scenario or invalid arguments.
const INVALID: u8 = 2;
/// Exit status for a run that failed.
const FAILED: u8 = 1;
/// Exit status for a run that completed but missed one of its `expect:`
/// targets. A failed or unstable run (1) takes precedence: its figures are
/// not a steady state, so meeting or missing a target says nothing.
const MISSED: u8 = 3;

/// Success, or [`MISSED`] with a note on stderr when a target is missed.
fn targets_status(result: &RunResult, targets: &[sysdes_models::expect_spec::Target]) -> ExitCode {
    match sysdes_report::targets::missed(result, targets) {
        0 => ExitCode::SUCCESS,
        n => {
            eprintln!(
                "error: {n} of {} targets missed (see the targets section, or `targets` in the JSON)",
                targets.len()
            );
            ExitCode::from(MISSED)
        }
    }
}

/// Writes `text` to stdout. A pipe closed by its reader (`| head`) is not
/// an error: the reader has what it wanted, and the command ends quietly
/// instead of panicking. Returns false on any other write error.
pub(crate) fn print_stdout(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) => e.kind() == std::io::ErrorKind::BrokenPipe,
    }
}

/// Prints the scenario's warnings (settings that change nothing in this
/// run) to stderr, one located line each; the run goes on. `run`,
/// `validate`, `estimate` and `sweep` (once, before its runs) print them.
pub(crate) fn print_warnings(scenario: &sysdes_scenario::LoadedScenario) {
    for w in &scenario.warnings {
        eprintln!("warning: {w}");
    }
}

fn report_scenario_error(error: sysdes_scenario::ScenarioError) {
    errors::report_scenario_error(&error);
}

fn validate(files: &[PathBuf], max_memory: Option<sysdes_scenario::units::Size>) -> ExitCode {
    let mut ok = true;
    let options = LoadOptions {
        max_memory: max_memory.map(sysdes_scenario::units::Size::bytes),
        ..LoadOptions::default()
    };
    for file in files {
        match sysdes_scenario::load_file(file, &options) {
            Ok(s) => {
                print_warnings(&s);
                print_stdout(&format!(
                    "{}: ok ({} workload(s), {} component(s))\n",
                    file.display(),
                    s.spec.workloads.len(),
                    s.spec.components.len()
                ));
            }
            Err(e) => {
                ok = false;
                report_scenario_error(e);
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(INVALID)
    }
}

fn run(args: RunArgs) -> ExitCode {
    let prices = match prices_arg::read(args.prices.as_deref()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if matches!(args.format, Format::Parquet)
        && args.out.is_none()
        && std::io::stdout().is_terminal()
    {
        eprintln!(
            "error: --format parquet writes binary data: redirect it to a file (`> result.parquet`) or give --out DIR"
        );
        return ExitCode::from(INVALID);
    }
    let options = LoadOptions {
        overrides: args.set.clone(),
        seed: args.seed,
        max_memory: args.max_memory.map(sysdes_scenario::units::Size::bytes),
        prices,
    };
    let loaded = match args.run_index {
        Some(index) => sweep_cmd::load_run(&args.file, &options, &args.vary, index),
        None => sysdes_scenario::load_file(&args.file, &options),
    };
    let mut scenario = match loaded {
        Ok(s) => {
            print_warnings(&s);
            s
        }
        Err(e) => {
            report_scenario_error(e);
            return ExitCode::from(INVALID);
        }
    };
    let limits = RunLimits {
        max_events: args.max_events,
        max_in_flight: args.max_in_flight,
    };
    if args.auto_warmup {
        match sysdes_sweep::pilot_warmup(&scenario.spec, limits) {
            Some(w) => {
                eprintln!(
                    "auto warm-up (MSER-5 on a pilot run): {:.3} s instead of {:.3} s",
                    w.as_nanos() as f64 / 1e9,
                    scenario.spec.warmup.as_nanos() as f64 / 1e9
                );
                scenario.spec.warmup = w;
            }
            None => eprintln!(
                "auto warm-up: the pilot run never settled (or failed); keeping the scenario's warm-up"
            ),
        }
    }
    // Offered load is the theory's figure (the engine computes none).
    let offered = sysdes_theory::offered_loads(&scenario.spec);
    // The series' per-interval latency quantiles are read only by the files
    // of `--out` (series.csv, plots) and the CSV and Parquet tables; the JSON
    // and the table on stdout (verdict included) read none of them.
    let series_quantiles =
        args.out.is_some() || !matches!(args.format, Format::Json | Format::Table);
    let simulation = match Simulation::new(&scenario.spec) {
        Ok(s) if series_quantiles => s.with_offered_loads(offered.clone()),
        Ok(s) => s
            .with_offered_loads(offered.clone())
            .without_series_quantiles(),
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::from(INVALID);
        }
    };
    let started = Instant::now();
    let mut progress = Progress::new(
        &scenario,
        args.max_wall.map(|d| Duration::from_nanos(d.as_nanos())),
    );
    let outcome = simulation.run(limits, &mut progress);
    progress.finish();
    // Theory is computed only for a run that did not fail.
    let wall_time_s = started.elapsed().as_secs_f64();
    let mut result = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::from(FAILED);
        }
    };
    sysdes_theory::annotate_offered(&offered, &mut result);
    let max_wall = args.max_wall.map(|d| Duration::from_nanos(d.as_nanos()));
    let theory = theory_within(
        &scenario.spec,
        max_wall.map(|max| max.saturating_sub(started.elapsed())),
    );
    let unmodelled = theory
        .as_ref()
        .map(|t| sysdes_theory::unmodelled(&scenario.spec, t));
    let cost = (!scenario.cost.is_empty())
        .then(|| sysdes_cost::cost(&scenario.spec, &scenario.cost, &result));
    let info = RunInfo {
        wall_time_s,
        theory: theory.as_ref(),
        unmodelled: unmodelled.as_ref(),
        cost: cost.as_ref(),
        targets: &scenario.expect,
    };
    let text = match args.format {
        Format::Table => sysdes_report::to_table(&result, info),
        Format::Json => format!("{:#}\n", sysdes_report::to_json(&result, info)),
        Format::Csv | Format::Parquet => sysdes_report::to_csv(&result),
    };
    if matches!(args.format, Format::Parquet) {
        let json = args
            .out
            .as_ref()
            .map(|_| sysdes_report::to_json(&result, info));
        let tables = json.map(|json| {
            sysdes_sweep::tidy::run_tables(
                &text,
                &json,
                &sysdes_report::series_csv(&result),
                &sysdes_report::latency_cdf_csv(&result),
            )
        });
        if let Err(code) = write_parquet(&text, args.out.as_deref(), tables.unwrap_or_default()) {
            return code;
        }
    } else if !print_stdout(&text) {
        return ExitCode::from(FAILED);
    }
    if let Some(dir) = &args.out {
        if let Err(e) = write_outputs(dir, &scenario, &result, info) {
            eprintln!("error: cannot write results to {}: {e}", dir.display());
            return ExitCode::from(FAILED);
        }
        if let Err(e) = plot_cmd::plot_run_outputs(dir) {
            eprintln!("error: cannot draw the plots in {}: {e}", dir.display());
            return ExitCode::from(FAILED);
        }
    }
    match result.stop {
        StopReason::Drained if sysdes_report::assess(&result).unstable() => {
            eprintln!(
                "error: the system is unstable: its backlog grew over the whole measurement window (see the verdict); the figures are written but are not a steady state"
            );
            ExitCode::from(FAILED)
        }
        StopReason::Drained => targets_status(&result, &scenario.expect),
        StopReason::EventLimit => {
            eprintln!(
                "error: stopped at --max-events {}: results are partial",
                args.max_events.unwrap_or(0)
            );
            ExitCode::from(FAILED)
        }
        StopReason::Interrupted => {
            match progress.stalled {
                Some(stall) => match &result.hot_loop {
                    Some(hot) => eprintln!(
                        "error: no progress: {stall}; the loop: {hot}: results are partial (see docs/limits.md)"
                    ),
                    None => eprintln!(
                        "error: no progress: {stall}; the loop runs through {}: results are partial (see docs/limits.md)",
                        busiest(&result)
                    ),
                },
                None => eprintln!("error: stopped at the --max-wall limit: results are partial"),
            }
            ExitCode::from(FAILED)
        }
    }
}

/// `--format parquet`: the summary CSV's rows as a typed Parquet file, to
/// stdout unless it is a terminal, and into `out` every table of the run
/// (`tables`: summary, components, workloads, series and latency CDF, see
/// `sysdes_sweep::tidy::run_tables`), one Parquet file each.
fn write_parquet(
    csv: &str,
    out: Option<&Path>,
    tables: Vec<(&'static str, sysdes_sweep::tidy::Table)>,
) -> Result<(), ExitCode> {
    let encode = |table: &sysdes_sweep::tidy::Table| {
        sysdes_sweep::parquet::to_parquet(table).map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(FAILED)
        })
    };
    let bytes = encode(&sysdes_sweep::tidy::tidied(
        sysdes_sweep::tidy::run_summary_table(csv),
    ))?;
    if let Some(dir) = out {
        let mut files = Vec::with_capacity(tables.len());
        for (name, table) in &tables {
            files.push((*name, encode(table)?));
        }
        let written = std::fs::create_dir_all(dir).and_then(|()| {
            for (name, contents) in &files {
                let tmp = dir.join(format!(".{name}.tmp"));
                std::fs::write(&tmp, contents)?;
                std::fs::rename(&tmp, dir.join(name))?;
            }
            Ok(())
        });
        if let Err(e) = written {
            eprintln!("error: cannot write results to {}: {e}", dir.display());
            return Err(ExitCode::from(FAILED));
        }
    }
    let mut stdout = std::io::stdout().lock();
    if stdout.is_terminal() {
        // Checked before the run: `--out` was given.
        return Ok(());
    }
    match stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(_) => Err(ExitCode::from(FAILED)),
    }
}

/// The theory column's prediction, within what is left of `--max-wall`
/// (`left`; no limit when `None`). Every routine of the theory has its own
/// iteration budget, so it always ends; the wall limit also covers it: past
/// it the run's figures are printed without the theory column, and a note
/// says why.
fn theory_within(
    spec: &sysdes_models::ModelSpec,
    left: Option<Duration>,
) -> Option<sysdes_theory::Prediction> {
    let Some(left) = left else {
        return Some(sysdes_theory::predict(spec, None, None));
    };
    let prediction = if left.is_zero() {
        None
    } else {
        let spec = spec.clone();
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = send.send(sysdes_theory::predict(&spec, None, None));
        });
        receive.recv_timeout(left).ok()
    };
    if prediction.is_none() {
        eprintln!("note: the theory column is left out: it did not finish within --max-wall");
    }
    prediction
}

/// The (up to) three components with the most arrivals, with their kind:
/// where a loop that stopped the progress guard spins.
fn busiest(result: &RunResult) -> String {
    let mut by_arrivals: Vec<_> = result.components.iter().collect();
    by_arrivals.sort_by_key(|c| std::cmp::Reverse(c.arrivals));
    let names: Vec<String> = by_arrivals
        .iter()
        .take(3)
        .map(|c| format!("{} ({}, {} arrivals)", c.name, c.kind, c.arrivals))
        .collect();
    if names.is_empty() {
        "the workloads' own events".to_owned()
    } else {
        names.join(", ")
    }
}

/// Writes the run's files into `dir`, each through a temporary file and a
/// rename so that a reader never sees half a file.
fn write_outputs(
    dir: &Path,
    scenario: &LoadedScenario,
    result: &RunResult,
    info: RunInfo,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = sysdes_report::to_json(result, info);
    // The scenario's scheduled changes, shaded on the time series.
    let schedule = sysdes_plot::schedule_windows(&scenario.spec);
    let schedule =
        (!schedule.is_empty()).then(|| ("schedule.csv", sysdes_plot::schedule_csv(&schedule)));
    let mut files = vec![
        ("result.json", format!("{json:#}\n")),
        ("summary.csv", sysdes_report::to_csv(result)),
        ("series.csv", sysdes_report::series_csv(result)),
        ("latency_cdf.csv", sysdes_report::latency_cdf_csv(result)),
        ("report.txt", sysdes_report::to_table(result, info)),
        ("scenario.yaml", scenario.source.clone()),
        (
            "topology.svg",
            sysdes_plot::topology::topology_svg(&scenario.spec, Some(&json)),
        ),
    ];
    // Only a scenario that declares a cost has a bill.
    if let Some(cost) = info.cost {
        files.push(("cost.csv", sysdes_report::cost_csv(cost)));
    }
    for (name, contents) in files.into_iter().chain(schedule) {
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, contents)?;
        std::fs::rename(&tmp, dir.join(name))?;
    }
    Ok(())
}

/// A progress bar on stderr, shown only on a terminal and only once a run
/// has lasted a second; also enforces `--max-wall`.
struct Progress {
    started: Instant,
    max_wall: Option<Duration>,
    bar: Option<ProgressBar>,
    interactive: bool,
    duration: SimTime,
    /// Stops a run whose simulated time stops advancing.
    guard: sysdes_kernel::ProgressGuard,
    /// Why the guard stopped the run, if it did.
    stalled: Option<sysdes_kernel::Stall>,
}

impl Progress {
    fn new(scenario: &LoadedScenario, max_wall: Option<Duration>) -> Self {
        Progress {
            started: Instant::now(),
            max_wall,
            bar: None,
            interactive: std::io::stderr().is_terminal(),
            duration: SimTime::ZERO + scenario.spec.duration,
            guard: sysdes_kernel::ProgressGuard::new(),
            stalled: None,
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn progress(&mut self, now: SimTime, events: u64) -> bool {
        if let Some(stall) = self.guard.check(now, events) {
            self.stalled = Some(stall);
            return false;
        }
        let elapsed = self.started.elapsed();
        if self.max_wall.is_some_and(|max| elapsed >= max) {
            return false;
        }
        if self.interactive && elapsed >= Duration::from_secs(1) {
            let total = self.duration.as_nanos() / 1_000_000;
            let bar = self.bar.get_or_insert_with(|| {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{bar:40} {percent:>3}% of simulated time, eta {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar
            });
            bar.set_position((now.as_nanos() / 1_000_000).min(total));
        }
        true
    }
}
