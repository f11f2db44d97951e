//! `sysdes sweep`, `sysdes merge` and `sysdes run --run-index`: the command
//! line side of parameter sweeps (flags, progress bar, messages, exit
//! status). The work itself is in the `sysdes-sweep` crate.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sysdes_models::RunLimits;
use sysdes_scenario::{LoadOptions, LoadedScenario, ScenarioError, SweepDefinition, Vary};
use sysdes_sweep::{ProgressEvent, Shard, SweepOptions, SweepPlan};

/// Exit status for an invalid scenario or invalid arguments.
const INVALID: u8 = 2;
/// Exit status for a sweep that failed.
const FAILED: u8 = 1;
/// Exit status of `--check-targets` when a run missed a target.
const MISSED: u8 = 3;

/// Runs in `out` checked against `expect:` targets, and those of them that
/// missed at least one (metric `targets_missed` > 0).
fn target_misses(out: &Path) -> (u64, u64) {
    let Ok(journal) = std::fs::read_to_string(out.join("runs.jsonl")) else {
        return (0, 0);
    };
    let mut checked = 0;
    let mut missed = 0;
    for line in journal.lines() {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let Some(n) = record["metrics"]["targets_missed"].as_u64() else {
            continue;
        };
        checked += 1;
        missed += u64::from(n > 0);
    }
    (checked, missed)
}

/// The points of the sweep in `out` with an unstable run (metric
/// `unstable` = 1), each as `point N (PATH=VALUE, ...)`, in point order.
fn unstable_points(out: &Path) -> Vec<String> {
    let Ok(journal) = std::fs::read_to_string(out.join("runs.jsonl")) else {
        return Vec::new();
    };
    let mut points = std::collections::BTreeMap::new();
    for line in journal.lines() {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if record["metrics"]["unstable"].as_u64() != Some(1) {
            continue;
        }
        let Some(point) = record["point"].as_u64() else {
            continue;
        };
        let params = record["params"]
            .as_object()
            .map(|p| {
                p.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        points
            .entry(point)
            .or_insert_with(|| format!("point {point} ({params})"));
    }
    points.into_values().collect()
}

/// Arguments of `sysdes sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The scenario file (YAML), usually with a `sweep:` block.
    file: PathBuf,
    /// Override one value, e.g. `duration=60s` or `sweep.replications=8`; repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Vary a value: `PATH=v1,v2,v3`, `PATH=FROM:TO:STEP` or
    /// `PATH=FROM:TO:N:log` (N log-spaced points); repeatable. Replaces the
    /// `sweep:` block's entry for the same path, else adds one.
    #[arg(long = "vary", value_name = "PATH=VALUES")]
    vary: Vec<String>,
    /// Override the scenario's seed (the root of every run's seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Runs simulated at once (default: one per core). Results do not depend on it.
    #[arg(long, value_name = "N", default_value_t = 0)]
    jobs: usize,
    /// Output directory (default: `sweep-<scenario file stem>`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Continue the sweep in `--out`, skipping runs already in its runs.jsonl.
    #[arg(long)]
    resume: bool,
    /// Run only the runs with `run_index % N == I` (I from 0 to N-1), e.g. `--shard 0/4`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Find each run's warm-up automatically: a pilot run of the same seed,
    /// MSER-5 on its mean latency per interval (capped at half the
    /// duration), then the measured run with that warm-up; the scenario's
    /// warm-up is kept where the pilot never settles.
    #[arg(long)]
    auto_warmup: bool,
    /// Requests in flight at which a run is declared unstable (recorded as failed).
    #[arg(long, value_name = "N", default_value_t = RunLimits::default().max_in_flight)]
    max_in_flight: u64,
    /// The memory budget each run's counts are checked against at load,
    /// e.g. `4GiB` (default 1GiB; see docs/limits.md).
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<sysdes_scenario::units::Size>,
    /// A price table whose rows override the shipped one; see docs/cost.md.
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    /// Exit with status 3 when a run missed one of the scenario's `expect:`
    /// targets (without it, misses are counted in runs.csv, `targets_met`
    /// and `targets_missed`, and reported, but do not fail the sweep).
    #[arg(long)]
    check_targets: bool,
}

/// Arguments of `sysdes merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard output directories of one sweep.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Where to write the merged files.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

fn parse_vary(args: &[String]) -> Result<Vec<Vary>, ExitCode> {
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        match sysdes_scenario::parse_vary_arg(a) {
            Ok(v) => out.push(v),
            Err(e) => {
                eprintln!("error: {e}");
                return Err(ExitCode::from(INVALID));
            }
        }
    }
    Ok(out)
}

fn report(error: ScenarioError) -> ExitCode {
    crate::errors::report_scenario_error(&error);
    ExitCode::from(INVALID)
}

/// Loads the scenario, its sweep and every point.
fn load_plan(
    file: &Path,
    options: &LoadOptions,
    vary: &[Vary],
) -> Result<SweepPlan, ScenarioError> {
    let (base, definition): (LoadedScenario, SweepDefinition) =
        sysdes_scenario::load_sweep_file(file, options, vary)?;
    SweepPlan::new(base, options, definition)
}

/// The scenario of run `index` of the file's sweep (for `sysdes run --run-index`),
/// with the point's values applied and the run's seed set.
pub fn load_run(
    file: &Path,
    options: &LoadOptions,
    vary: &[String],
    index: u64,
) -> Result<LoadedScenario, ScenarioError> {
    let file_name = file.display().to_string();
    let vary = parse_vary(vary).map_err(|_| {
        ScenarioError::whole_file(&file_name, "invalid --vary argument (see above)")
    })?;
    let plan = load_plan(file, options, &vary)?;
    let (Some(run), mut scenario) = (plan.run(index), plan.base.clone()) else {
        return Err(ScenarioError::whole_file(
            &file_name,
            format!(
                "--run-index {index} is out of range: this sweep has {} runs (0 to {})",
                plan.run_count(),
                plan.run_count().saturating_sub(1)
            ),
        ));
    };
    if let Some(spec) = plan.spec(&run) {
        scenario.spec = spec;
    }
    let params: Vec<String> = plan
        .params(run.point)
        .iter()
        .map(|(p, v)| format!("{p}={v}"))
        .collect();
    eprintln!(
        "run {index}: point {}, replication {}, seed {}{}{}",
        run.point,
        run.replication,
        run.seed,
        if params.is_empty() { "" } else { ", " },
        params.join(", ")
    );
    Ok(scenario)
}

/// `sysdes sweep`.
pub fn sweep(args: SweepArgs) -> ExitCode {
    let shard = match args.shard.as_deref().map(Shard::parse).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: --shard: {e}");
            return ExitCode::from(INVALID);
        }
    };
    let vary = match parse_vary(&args.vary) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let prices = match crate::prices_arg::read(args.prices.as_deref()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let options = LoadOptions {
        overrides: args.set.clone(),
        seed: args.seed,
        max_memory: args.max_memory.map(sysdes_scenario::units::Size::bytes),
        prices,
    };
    let plan = match load_plan(&args.file, &options, &vary) {
        Ok(p) => p,
        Err(e) => return report(e),
    };
    // Once, before the runs: the scenario's, as `sysdes run` prints them.
    crate::print_warnings(&plan.base);
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .file
            .file_stem()
            .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from(format!("sweep-{stem}"))
    });
    let options = SweepOptions {
        jobs: args.jobs,
        out: out.clone(),
        resume: args.resume,
        shard,
        auto_warmup: args.auto_warmup,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        limits: RunLimits {
            max_events: None,
            max_in_flight: args.max_in_flight,
        },
    };
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    let interactive = std::io::stderr().is_terminal();
    let progress = |event: ProgressEvent| {
        if !interactive {
            return;
        }
        let Ok(mut slot) = bar.lock() else {
            return;
        };
        match event {
            ProgressEvent::Start { todo } => {
                let b = ProgressBar::with_draw_target(Some(todo), ProgressDrawTarget::stderr());
                b.set_style(
                    ProgressStyle::with_template("{bar:40} {pos}/{len} runs, {per_sec}, eta {eta}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                *slot = Some(b);
            }
            ProgressEvent::Finished { .. } => {
                if let Some(b) = slot.as_ref() {
                    b.inc(1);
                }
            }
        }
    };
    let started = Instant::now();
    let result = sysdes_sweep::run_sweep(&plan, &options, &progress);
    if let Ok(Some(b)) = bar.lock().map(|mut s| s.take()) {
        b.finish_and_clear();
    }
    match result {
        Ok(s) => {
            let wall = started.elapsed().as_secs_f64();
            let rate = if wall > 0.0 {
                s.executed as f64 / wall
            } else {
                0.0
            };
            eprintln!(
                "{} run(s){}: {} simulated, {} already done, {} failed; {:.3} s wall, {:.1} runs/s; results in {}",
                s.runs,
                shard.map_or_else(String::new, |sh| format!(
                    " in shard {}/{}",
                    sh.index, sh.count
                )),
                s.executed,
                s.skipped,
                s.failed,
                wall,
                rate,
                out.display()
            );
            if s.failed > 0 {
                eprintln!(
                    "warning: {} run(s) failed (see the `error` key in runs.jsonl); their metrics are empty",
                    s.failed
                );
            }
            // Near-capacity points are expected in a hockey-stick sweep, so
            // they do not fail it; but their figures are not a steady state.
            let unstable = unstable_points(&out);
            if !unstable.is_empty() {
                eprintln!(
                    "warning: {} point(s) unstable (backlog growing or run stopped early; `unstable` = 1 in runs.csv): {}",
                    unstable.len(),
                    unstable.join("; ")
                );
            }
            // A shard holds part of the runs: plots come after `merge`.
            if shard.is_none() {
                if let Err(e) = crate::plot_cmd::plot_sweep_outputs(&out) {
                    eprintln!("error: cannot draw the plots in {}: {e}", out.display());
                    return ExitCode::from(FAILED);
                }
            }
            // A sweep explores: points beyond the targets are what it is
            // for, so misses fail it only when asked (`--check-targets`).
            let (checked, missed) = target_misses(&out);
            if missed > 0 {
                eprintln!(
                    "{}: {missed} of {checked} run(s) missed an `expect:` target (`targets_missed` in runs.csv)",
                    if args.check_targets { "error" } else { "note" }
                );
                if args.check_targets {
                    return ExitCode::from(MISSED);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                sysdes_sweep::SweepError::Mismatch { .. } => ExitCode::from(INVALID),
                _ => ExitCode::from(FAILED),
            }
        }
    }
}

/// `sysdes merge`.
pub fn merge(args: MergeArgs) -> ExitCode {
    match sysdes_sweep::merge(&args.dirs, &args.out) {
        Ok(m) if m.missing.is_empty() => {
            eprintln!(
                "merged {} of {} runs into {}",
                m.found,
                m.runs,
                args.out.display()
            );
            if let Err(e) = crate::plot_cmd::plot_sweep_outputs(&args.out) {
                eprintln!(
                    "error: cannot draw the plots in {}: {e}",
                    args.out.display()
                );
                return ExitCode::from(FAILED);
            }
            ExitCode::SUCCESS
        }
        Ok(m) => {
            let list: Vec<String> = m.missing.iter().map(u64::to_string).collect();
            eprintln!(
                "error: merged {} of {} runs into {}; missing runs include {} (rerun their shards with --resume, then merge again)",
                m.found,
                m.runs,
                args.out.display(),
                list.join(", ")
            );
            ExitCode::from(FAILED)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(INVALID)
        }
    }
}
