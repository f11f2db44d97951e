//! `sysdes estimate`: back-of-envelope and queueing theory, no simulation.

use std::path::PathBuf;
use std::process::ExitCode;

use sysdes_scenario::LoadOptions;
use sysdes_scenario::units::{Duration, Rate};
use sysdes_theory::{Slo, SloMetric};

/// Arguments of `sysdes estimate`.
#[derive(clap::Args, Debug)]
pub struct EstimateArgs {
    /// The scenario file (YAML).
    file: PathBuf,
    /// Override one value, e.g. `components.server.workers=4`; repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// A latency objective, `p99=100ms` or `mean=20ms`: find the highest
    /// rate that meets it, end to end and per server.
    #[arg(long, value_name = "STAT=DURATION", value_parser = parse_slo)]
    slo: Option<Slo>,
    /// Size every server for this total open-loop rate, e.g. `2000/s`.
    #[arg(long, value_name = "RATE")]
    target_rate: Option<Rate>,
    /// Print the arithmetic step by step.
    #[arg(long)]
    explain: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EstimateFormat::Table)]
    format: EstimateFormat,
    /// The memory budget the scenario's counts are checked against at load,
    /// e.g. `4GiB` (default 1GiB; see docs/limits.md).
    #[arg(long, value_name = "SIZE")]
    max_memory: Option<sysdes_scenario::units::Size>,
    /// A price table whose rows override the shipped one; see docs/cost.md.
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
}

/// Output formats of `sysdes estimate`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum EstimateFormat {
    /// An aligned table.
    Table,
    /// One JSON document.
    Json,
}

/// Parses `p99=100ms` or `mean=20ms`.
pub fn parse_slo(text: &str) -> Result<Slo, String> {
    let (stat, limit) = text
        .split_once('=')
        .ok_or_else(|| format!("expected STAT=DURATION such as `p99=100ms`, found `{text}`"))?;
    let metric = match stat.trim() {
        "p99" => SloMetric::P99,
        "mean" => SloMetric::Mean,
        other => return Err(format!("unknown statistic `{other}`: use `p99` or `mean`")),
    };
    let limit: Duration = limit
        .trim()
        .parse()
        .map_err(|e: sysdes_scenario::units::ParseUnitError| e.to_string())?;
    Ok(Slo {
        metric,
        limit_s: limit.as_nanos() as f64 / 1e9,
    })
}

/// Runs `sysdes estimate`.
pub fn estimate(args: EstimateArgs) -> ExitCode {
    let prices = match crate::prices_arg::read(args.prices.as_deref()) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let options = LoadOptions {
        overrides: args.set,
        seed: None,
        max_memory: args.max_memory.map(sysdes_scenario::units::Size::bytes),
        prices,
    };
    let scenario = match sysdes_scenario::load_file(&args.file, &options) {
        Ok(s) => {
            crate::print_warnings(&s);
            s
        }
        Err(e) => {
            crate::report_scenario_error(e);
            return ExitCode::from(crate::INVALID);
        }
    };
    let mut prediction = sysdes_theory::predict(
        &scenario.spec,
        args.slo,
        args.target_rate.map(|r| r.per_second()),
    );
    withhold_unmodelled(&scenario.spec, &mut prediction);
    let name = &scenario.spec.name;
    let (spec, cost) = (&scenario.spec, &scenario.cost);
    let text = match args.format {
        EstimateFormat::Table => {
            sysdes_report::estimate_table(name, &prediction, args.explain)
                + &crate::estimate_cost::cost_table(spec, cost, &prediction)
        }
        EstimateFormat::Json => {
            let mut doc = sysdes_report::estimate_json(name, &prediction);
            if let Some(c) = crate::estimate_cost::cost_json(spec, cost, &prediction) {
                doc["cost"] = c;
            }
            format!("{doc:#}\n")
        }
    };
    if crate::print_stdout(&text) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Mechanisms the formulas leave out and that change the answer where they
/// act (unlike zones, links and faults, which the estimate leaves out on
/// purpose, describing the system without them): there the estimate says
/// `not predicted: REASON`, as `sysdes run` does, instead of a figure
/// outside its assumptions.
const WITHHELD: [&str; 6] = [
    "reneging",
    "priority classes",
    "call deadlines",
    "circuit breakers",
    "routing phases",
    "shadow traffic",
];

fn withhold_unmodelled(
    spec: &sysdes_models::ModelSpec,
    prediction: &mut sysdes_theory::Prediction,
) {
    let u = sysdes_theory::unmodelled(spec, prediction);
    let withheld = |r: Option<&'static str>| r.filter(|r| WITHHELD.contains(r));
    let not_predicted = |r: &str| {
        Some(sysdes_theory::Method {
            name: format!("not predicted: {r}"),
            exact: false,
        })
    };
    for (s, r) in prediction.stations.iter_mut().zip(&u.stations) {
        if let (Some(s), Some(r)) = (s, withheld(*r)) {
            s.method = not_predicted(r);
            (s.mean_s, s.p99_s) = (None, None);
        }
    }
    for (w, r) in prediction.workloads.iter_mut().zip(&u.workloads) {
        if let Some(r) = withheld(*r) {
            w.method = not_predicted(r);
            (w.mean_s, w.p99_s) = (None, None);
        }
    }
}
