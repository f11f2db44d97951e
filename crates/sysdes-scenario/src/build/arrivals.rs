//! Reading the realistic arrival processes of a workload's `arrival`: a
//! periodic rate `curve`, a Markov-modulated `mmpp` and trace replay
//! (`trace`), with their schema structs. The trace's own format (CSV and
//! JSONL fields) is parsed by [`crate::trace`]; this file finds its text
//! (a file next to the scenario, or inline) and locates its problems.

use std::path::Path;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
use sysdes_kernel::SimDuration;
use sysdes_models::{
    ArrivalSpec, CurveShape, MmppSpec, MmppState, RateCurveSpec, TraceRecord, TraceSpec,
};

use super::{Ctx, positive_duration};
use crate::node::SNode;
use crate::trace::{TraceProblem, parse_csv, parse_jsonl};
use crate::units::{Duration, RateOrZero};

/// The largest trace file read, in bytes (256 MiB).
pub(crate) const MAX_TRACE_FILE_BYTES: u64 = 256 << 20;

/// A periodic rate curve: Poisson arrivals whose rate follows `points`, repeating every `period`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `points` and optionally `period`, `shape`, `start`"
)]
#[schemars(rename = "RateCurve")]
pub(crate) struct CurveRaw {
    /// How long until the curve repeats (default `24h`).
    pub period: Option<Duration>,
    /// The rate at offsets within the period, the first at `0s`, e.g. `[ { at: 0h, poisson: 200/s }, { at: 12h, poisson: 900/s } ]`.
    pub points: Vec<CurvePointRaw>,
    /// How the rate runs between points: `linear` (default; the last point joins the first over the wrap) or `step` (held until the next point).
    pub shape: Option<CurveShapeRaw>,
    /// The time within the period at which the run starts, e.g. `6h` (default `0s`).
    pub start: Option<Duration>,
}

/// One point of a rate curve.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a point: a map with `at` and `poisson`"
)]
#[schemars(rename = "CurvePoint")]
pub(crate) struct CurvePointRaw {
    /// The offset within the period.
    pub at: Duration,
    /// The Poisson arrival rate there (`0/s` for silence).
    pub poisson: RateOrZero,
}

/// How a rate curve joins its points.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "CurveShape")]
pub(crate) enum CurveShapeRaw {
    /// Straight lines between points.
    Linear,
    /// Each point's rate held until the next.
    Step,
}

/// A Markov-modulated Poisson process: Poisson arrivals at the current state's rate; a state lasts an exponential time of mean `mean_stay`, then moves to one of the others, chosen uniformly.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a map with `states`")]
#[schemars(rename = "Mmpp")]
pub(crate) struct MmppRaw {
    /// At least two states, e.g. `[ { poisson: 100/s, mean_stay: 20s }, { poisson: 1000/s, mean_stay: 2s } ]`.
    pub states: Vec<MmppStateRaw>,
}

/// One state of an MMPP.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a state: a map with `poisson` and `mean_stay`"
)]
#[schemars(rename = "MmppState")]
pub(crate) struct MmppStateRaw {
    /// The Poisson arrival rate in this state (`0/s` for silence).
    pub poisson: RateOrZero,
    /// The mean time spent in the state (exponential), greater than zero.
    pub mean_stay: Duration,
}

/// Trace replay: arrivals (and per-request keys, operations, ...) from a CSV or JSONL trace, given as a `file` or inline as `csv` or `jsonl` text (exactly one).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a map with `file` (or `csv` or `jsonl`) and optionally `speed`, `ignore_columns`"
)]
#[schemars(rename = "Trace")]
pub(crate) struct TraceRaw {
    /// A trace file, relative to the scenario file: `.csv` or `.jsonl` (see docs/scenario-format.md for its fields).
    pub file: Option<String>,
    /// An inline CSV trace: a header row, then one record per line.
    pub csv: Option<String>,
    /// An inline JSONL trace: one JSON object per line.
    pub jsonl: Option<String>,
    /// Replay speed: `2` replays twice as fast (every time halved); default `1`.
    pub speed: Option<f64>,
    /// Columns (or JSONL keys) to skip, for traces that carry more than sysdes reads.
    pub ignore_columns: Option<Vec<String>>,
}

/// A `curve`; `node` is its map.
pub(crate) fn curve(ctx: &mut Ctx, raw: &CurveRaw, node: &SNode) -> Option<ArrivalSpec> {
    let before = ctx.issues.len();
    let period = match raw.period {
        None => SimDuration::from_secs(24 * 3600),
        Some(d) => positive_duration(ctx, d, node.at_or_near(&["period"]), "period")?,
    };
    let points_node = node.at_or_near(&["points"]);
    if raw.points.is_empty() {
        ctx.push(
            points_node,
            "`points` must list at least one point",
            Some(
                "e.g. `points: [ { at: 0h, poisson: 200/s }, { at: 12h, poisson: 900/s } ]`"
                    .to_owned(),
            ),
        );
        return None;
    }
    let mut points = Vec::with_capacity(raw.points.len());
    let mut last: Option<SimDuration> = None;
    for (i, p) in raw.points.iter().enumerate() {
        let item = points_node.item(i).unwrap_or(points_node);
        let at = p.at.to_sim();
        if i == 0 && at != SimDuration::ZERO {
            ctx.push(
                item.at_or_near(&["at"]),
                "the first point must be at `0s` (the start of the period)",
                Some("add a point `{ at: 0s, poisson: ... }` first".to_owned()),
            );
        } else if last.is_some_and(|l| at <= l) {
            ctx.push(
                item.at_or_near(&["at"]),
                "the points must be in increasing order of `at`",
                None,
            );
        } else if at >= period {
            ctx.push(
                item.at_or_near(&["at"]),
                format!(
                    "`at` must be within the period ({} s), found {} s",
                    period.as_nanos() as f64 / 1e9,
                    at.as_nanos() as f64 / 1e9
                ),
                None,
            );
        }
        last = Some(at);
        points.push((at, p.poisson.per_second()));
    }
    if points.iter().all(|p| p.1 == 0.0) {
        ctx.push(
            points_node,
            "every point's rate is zero: the curve sends nothing",
            Some("give at least one point a rate, e.g. `poisson: 100/s`".to_owned()),
        );
    }
    let start = raw.start.map_or(SimDuration::ZERO, Duration::to_sim);
    if start >= period {
        ctx.push(
            node.at_or_near(&["start"]),
            "`start` must be within the period",
            Some("e.g. `start: 6h` for a run that begins at 06:00 of a 24 h day".to_owned()),
        );
    }
    let shape = match raw.shape {
        None | Some(CurveShapeRaw::Linear) => CurveShape::Linear,
        Some(CurveShapeRaw::Step) => CurveShape::Step,
    };
    (ctx.issues.len() == before).then_some(ArrivalSpec::Curve(RateCurveSpec {
        period,
        points,
        shape,
        start,
    }))
}

/// An `mmpp`; `node` is its map.
pub(crate) fn mmpp(ctx: &mut Ctx, raw: &MmppRaw, node: &SNode) -> Option<ArrivalSpec> {
    let states_node = node.at_or_near(&["states"]);
    if raw.states.len() < 2 {
        ctx.push(
            states_node,
            format!(
                "an MMPP needs at least two `states`, found {}",
                raw.states.len()
            ),
            Some("e.g. `states: [ { poisson: 100/s, mean_stay: 20s }, { poisson: 1000/s, mean_stay: 2s } ]`".to_owned()),
        );
        return None;
    }
    let before = ctx.issues.len();
    let mut states = Vec::with_capacity(raw.states.len());
    for (i, s) in raw.states.iter().enumerate() {
        let item = states_node.item(i).unwrap_or(states_node);
        if let Some(mean_stay) = positive_duration(
            ctx,
            s.mean_stay,
            item.at_or_near(&["mean_stay"]),
            "mean_stay",
        ) {
            states.push(MmppState {
                per_second: s.poisson.per_second(),
                mean_stay,
            });
        }
    }
    if raw.states.iter().all(|s| s.poisson.per_second() == 0.0) {
        ctx.push(
            states_node,
            "every state's rate is zero: the process sends nothing",
            None,
        );
    }
    (ctx.issues.len() == before).then_some(ArrivalSpec::Mmpp(MmppSpec { states }))
}

/// A `trace`; `node` is its map, `dir` the scenario file's directory.
pub(crate) fn trace(
    ctx: &mut Ctx,
    raw: &TraceRaw,
    node: &SNode,
    dir: &Path,
) -> Option<ArrivalSpec> {
    let speed = raw.speed.unwrap_or(1.0);
    if !(speed.is_finite() && speed > 0.0) {
        ctx.push(
            node.at_or_near(&["speed"]),
            format!("`speed` must be greater than zero, found {speed}"),
            Some("`2` replays the trace twice as fast, `0.5` at half speed".to_owned()),
        );
        return None;
    }
    let ignore = raw.ignore_columns.clone().unwrap_or_default();
    let given = [&raw.file, &raw.csv, &raw.jsonl]
        .iter()
        .filter(|x| x.is_some())
        .count();
    if given != 1 {
        ctx.push(
            node,
            if given == 0 {
                "a trace needs `file` (or inline `csv` or `jsonl` text)"
            } else {
                "give exactly one of `file`, `csv` and `jsonl`"
            },
            Some("e.g. `trace: { file: traces/day.csv }`".to_owned()),
        );
        return None;
    }
    let (source, at, parsed) = if let Some(text) = &raw.csv {
        ("inline csv".to_owned(), "csv", parse_csv(text, &ignore))
    } else if let Some(text) = &raw.jsonl {
        (
            "inline jsonl".to_owned(),
            "jsonl",
            parse_jsonl(text, &ignore),
        )
    } else {
        let name = raw.file.as_deref().unwrap_or_default();
        let file_node = node.at_or_near(&["file"]);
        let jsonl = name.ends_with(".jsonl") || name.ends_with(".ndjson");
        if !jsonl && !name.ends_with(".csv") {
            ctx.push(
                file_node,
                format!("`file` must name a `.csv` or `.jsonl` trace, found `{name}`"),
                None,
            );
            return None;
        }
        let text = match crate::read_bounded(&dir.join(name), MAX_TRACE_FILE_BYTES) {
            Ok(text) => text,
            Err(e) => {
                ctx.push(
                    file_node,
                    format!("cannot read the trace `{name}`: {e}"),
                    Some("a trace file's path is relative to the scenario file".to_owned()),
                );
                return None;
            }
        };
        let parsed = if jsonl {
            parse_jsonl(&text, &ignore)
        } else {
            parse_csv(&text, &ignore)
        };
        (name.to_owned(), "file", parsed)
    };
    match parsed {
        Ok(records) => Some(ArrivalSpec::Trace(TraceSpec {
            source,
            records: Arc::<[TraceRecord]>::from(records),
            speed,
        })),
        Err(problems) => {
            let at = node.at_or_near(&[at]);
            for p in problems {
                ctx.push(at, located(&source, &p), None);
            }
            None
        }
    }
}

/// `SOURCE:LINE: field `F`: MESSAGE`.
fn located(source: &str, p: &TraceProblem) -> String {
    let line = if p.line > 0 {
        format!(":{}", p.line)
    } else {
        String::new()
    };
    let field = p
        .field
        .as_ref()
        .map_or(String::new(), |f| format!(" field `{f}`:"));
    format!("trace {source}{line}:{field} {}", p.message)
}
