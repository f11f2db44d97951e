//! The `sweep:` block of a scenario and `--vary PATH=...` arguments: which
//! values to try, how to combine them and how many replications to run.
//!
//! This module turns the block (read from the position-carrying tree, after
//! `--set` overrides, so `--set sweep.replications=8` works) into a
//! [`SweepDefinition`]: every varied path with its expanded list of values,
//! each value both as the text written (`120/s`, a `--set` VALUE) and, where
//! it has one, as a number (120). It does not run anything; numbering runs
//! and deriving seeds is the sweep crate's job.

use std::fmt;

use crate::de::{one_of, suggest};
use crate::node::{Issue, Node, Origin, SNode};
use crate::raw::{SweepDoc, schema_keys};
use crate::units::split_number;

const RANGE_KEYS: &[&str] = &["from", "to", "step", "points", "log"];
/// Most points one varied path may expand to, a guard against typos such as a tiny step.
const MAX_VALUES: usize = 100_000;

/// How the varied paths' values are combined into points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Combine {
    /// Every combination (cartesian product), the first path varying slowest.
    #[default]
    Grid,
    /// The i-th value of every path together; all paths need as many values.
    Zip,
}

impl fmt::Display for Combine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Combine::Grid => "grid",
            Combine::Zip => "zip",
        })
    }
}

/// How replication seeds are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SeedMode {
    /// Replication r uses the same seed at every point (common random numbers).
    #[default]
    Common,
    /// Every run gets its own seed, derived from its run index.
    Independent,
}

impl fmt::Display for SeedMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SeedMode::Common => "common",
            SeedMode::Independent => "independent",
        })
    }
}

/// One value a path takes: what is written into the `--set` override, and
/// its number when it has one (`120/s` -> 120, `round_robin` -> none).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepValue {
    /// The value as a `--set` VALUE, e.g. `120/s`.
    pub text: String,
    /// The leading number of the value, if it starts with one.
    pub number: Option<f64>,
}

/// How the values of one path were written.
#[derive(Clone, Debug, PartialEq)]
pub enum VarySpec {
    /// An explicit list.
    List,
    /// `{ from, to, step }`: evenly spaced by `step`, `to` included if reached.
    Range {
        /// First value, as written.
        from: String,
        /// Last value (inclusive bound), as written.
        to: String,
        /// Increment, as written.
        step: String,
    },
    /// `{ from, to, points }`, optionally `log: true`: `points` values from `from` to `to`.
    Points {
        /// First value, as written.
        from: String,
        /// Last value, as written.
        to: String,
        /// Number of values, at least 2.
        points: u32,
        /// Geometric (log-spaced) rather than linear spacing.
        log: bool,
    },
}

/// One varied path and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Vary {
    /// The path, in `--set` syntax, e.g. `workloads.users.arrival.poisson`.
    pub path: String,
    /// How the values were written.
    pub spec: VarySpec,
    /// The expanded values, in order.
    pub values: Vec<SweepValue>,
    /// Where each value came from, parallel to `values` (for error messages).
    pub(crate) origins: Vec<Origin>,
}

/// A parsed `sweep:` block (plus any `--vary` arguments).
#[derive(Clone, Debug, PartialEq)]
pub struct SweepDefinition {
    /// The varied paths, in the order written.
    pub vary: Vec<Vary>,
    /// How the paths are combined.
    pub combine: Combine,
    /// Runs per point, at least 1.
    pub replications: u32,
    /// How replication seeds are derived.
    pub seeds: SeedMode,
}

impl Default for SweepDefinition {
    fn default() -> Self {
        SweepDefinition {
            vary: Vec::new(),
            combine: Combine::Grid,
            replications: 1,
            seeds: SeedMode::Common,
        }
    }
}

impl SweepDefinition {
    /// Number of points: the product (grid) or common length (zip) of the
    /// paths' value counts; 1 when nothing is varied.
    /// Loading checks that it is at most [`MAX_SWEEP_POINTS`].
    pub fn point_count(&self) -> usize {
        self.checked_point_count().unwrap_or(usize::MAX)
    }

    /// [`Self::point_count`], or `None` when the grid's product overflows.
    pub fn checked_point_count(&self) -> Option<usize> {
        match self.combine {
            Combine::Grid => self
                .vary
                .iter()
                .try_fold(1usize, |n, v| n.checked_mul(v.values.len())),
            Combine::Zip => Some(self.vary.first().map_or(1, |v| v.values.len())),
        }
    }

    /// The index into each path's values for point `point` (grid: the last
    /// path varies fastest, like nested loops in the order written).
    pub fn choice(&self, point: usize) -> Vec<usize> {
        match self.combine {
            Combine::Zip => vec![point; self.vary.len()],
            Combine::Grid => {
                let mut rest = point;
                let mut out = vec![0; self.vary.len()];
                for (slot, v) in out.iter_mut().zip(&self.vary).rev() {
                    let n = v.values.len().max(1);
                    *slot = rest % n;
                    rest /= n;
                }
                out
            }
        }
    }

    /// The `PATH=VALUE` overrides of point `point`, in path order.
    pub fn overrides(&self, point: usize) -> Vec<String> {
        self.choice(point)
            .iter()
            .zip(&self.vary)
            .filter_map(|(&i, v)| v.values.get(i).map(|x| format!("{}={}", v.path, x.text)))
            .collect()
    }

    /// Adds or replaces (same path) a varied path, e.g. from `--vary`.
    pub fn set_vary(&mut self, vary: Vary) {
        match self.vary.iter_mut().find(|v| v.path == vary.path) {
            Some(slot) => *slot = vary,
            None => self.vary.push(vary),
        }
    }

    /// The origin of value `choice` of path `path_index`, if known.
    pub(crate) fn origin_of(&self, path_index: usize, choice: usize) -> Option<Origin> {
        self.vary
            .get(path_index)
            .and_then(|v| v.origins.get(choice))
            .copied()
    }
}

/// Formats a generated number the shortest way that reads back the same,
/// after rounding away float noise (`0.30000000000000004` -> `0.3`).
pub(crate) fn format_number(x: f64) -> String {
    let rounded = if x == 0.0 {
        0.0
    } else {
        let magnitude = x.abs().log10().floor();
        let scale = 10f64.powf(11.0 - magnitude);
        if scale.is_finite() && scale > 0.0 {
            (x * scale).round() / scale
        } else {
            x
        }
    };
    let text = format!("{rounded}");
    if text == "-0" { "0".to_owned() } else { text }
}

/// The leading number of `text` and the unit after it (`120/s` -> 120, `/s`).
pub(crate) fn number_and_unit(text: &str) -> Option<(f64, String)> {
    let (number, unit) = split_number(text);
    if number.is_empty() {
        return None;
    }
    number
        .replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| (v, unit.to_owned()))
}

fn value_from_text(text: String) -> SweepValue {
    SweepValue::from_text(text)
}

impl SweepValue {
    /// A value from its `--set` text; its number is the text's leading
    /// number, if any (`120/s` -> 120, `4ms` -> 4, `random` -> none).
    pub fn from_text(text: String) -> SweepValue {
        let number = number_and_unit(&text).map(|(n, _)| n);
        SweepValue { text, number }
    }
}

/// Renders a tree value as a YAML flow value usable after `PATH=`.
fn flow_text(node: &SNode) -> String {
    match &node.node {
        Node::Null => "null".to_owned(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) => format!("{f}"),
        Node::Str(s) => {
            let plain = !s.is_empty()
                && s.trim() == s
                && !s.contains([',', '{', '}', '[', ']', '#', '"', '\'', '&', '*', '!', '|'])
                && !s.contains(": ");
            if plain {
                s.clone()
            } else {
                serde_json::Value::from(s.as_str()).to_string()
            }
        }
        Node::Seq(items) => {
            let parts: Vec<String> = items.iter().map(flow_text).collect();
            format!("[{}]", parts.join(", "))
        }
        Node::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", flow_text(k), flow_text(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

fn scalar_text(node: &SNode) -> Option<String> {
    match &node.node {
        Node::Int(i) => Some(i.to_string()),
        Node::Float(f) => Some(format!("{f}")),
        Node::Str(s) => Some(s.clone()),
        _ => None,
    }
}

fn issue(origin: Origin, message: impl Into<String>, help: Option<String>) -> Issue {
    Issue {
        origin,
        message: message.into(),
        help,
    }
}

/// Reads a keyword field that takes one of `options`; otherwise a problem
/// naming what was expected, with a suggestion for a near miss.
fn keyword<const N: usize>(
    value: &SNode,
    field: &str,
    options: [&'static str; N],
) -> Result<&'static str, Issue> {
    if let Some(found) = value
        .as_str()
        .and_then(|s| options.iter().find(|o| **o == s))
    {
        return Ok(found);
    }
    let expected = options.map(|o| format!("`{o}`")).join(" or ");
    Err(issue(
        value.origin,
        format!("`{field}`: expected {expected}, found {}", value.describe()),
        value
            .as_str()
            .and_then(|s| suggest(s, options))
            .map(|s| format!("did you mean `{s}`?")),
    ))
}

/// A problem in a range, before it is given a position.
type RangeError = (String, Option<String>);

/// Expands `from..=to` by `step` (all texts with the same unit).
fn expand_step(from: &str, to: &str, step: &str) -> Result<Vec<String>, RangeError> {
    let parse = |what: &str, text: &str| {
        number_and_unit(text).ok_or_else(|| {
            (
                format!("`{what}` must be a number, with a unit where the path needs one, found `{text}`"),
                None,
            )
        })
    };
    let (a, unit) = parse("from", from)?;
    let (b, unit_b) = parse("to", to)?;
    let (s, unit_s) = parse("step", step)?;
    if unit_b != unit || unit_s != unit {
        return Err((
            format!(
                "`from`, `to` and `step` must have the same unit, found `{from}`, `{to}` and `{step}`"
            ),
            Some(format!("write all three with `{unit}`")),
        ));
    }
    if s <= 0.0 {
        return Err((
            format!("`step` must be greater than zero, found `{step}`"),
            None,
        ));
    }
    if b < a {
        return Err((
            format!("`to` ({to}) must not be less than `from` ({from})"),
            None,
        ));
    }
    let count = ((b - a) / s + 1e-9).floor() + 1.0;
    if count > MAX_VALUES as f64 {
        return Err((
            format!("this range has {count} values; the limit is {MAX_VALUES}"),
            Some("use a larger `step`".to_owned()),
        ));
    }
    let count = count as usize;
    Ok((0..count)
        .map(|i| format!("{}{unit}", format_number(a + s * i as f64)))
        .collect())
}

/// Expands `points` values from `from` to `to`, linear or log-spaced.
fn expand_points(from: &str, to: &str, points: i128, log: bool) -> Result<Vec<String>, RangeError> {
    let parse = |what: &str, text: &str| {
        number_and_unit(text).ok_or_else(|| {
            (
                format!("`{what}` must be a number, with a unit where the path needs one, found `{text}`"),
                None,
            )
        })
    };
    let (a, unit) = parse("from", from)?;
    let (b, unit_b) = parse("to", to)?;
    if unit_b != unit {
        return Err((
            format!("`from` and `to` must have the same unit, found `{from}` and `{to}`"),
            None,
        ));
    }
    if !(2..=MAX_VALUES as i128).contains(&points) {
        return Err((
            format!("`points` must be between 2 and {MAX_VALUES}, found {points}"),
            None,
        ));
    }
    if log && (a <= 0.0 || b <= 0.0) {
        return Err((
            format!(
                "a log-spaced range needs `from` and `to` greater than zero, found `{from}` and `{to}`"
            ),
            None,
        ));
    }
    let n = points as usize;
    Ok((0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            let x = if log {
                a * (b / a).powf(t)
            } else {
                a + (b - a) * t
            };
            let x = if i == n - 1 { b } else { x };
            format!("{}{unit}", format_number(x))
        })
        .collect())
}

/// Reads one `PATH: ...` entry of `vary`.
fn read_vary(key: &SNode, value: &SNode, issues: &mut Vec<Issue>) -> Option<Vary> {
    let path = key.as_str().unwrap_or("").to_owned();
    if path.is_empty() || path.split('.').any(|s| s.trim().is_empty()) {
        issues.push(issue(
            key.origin,
            format!("`{path}` is not a valid path"),
            Some(
                "a path uses the `--set` syntax, e.g. `workloads.users.arrival.poisson`".to_owned(),
            ),
        ));
        return None;
    }
    match &value.node {
        Node::Seq(items) => {
            if items.is_empty() {
                issues.push(issue(
                    value.origin,
                    format!("`{path}`: the list of values is empty"),
                    None,
                ));
                return None;
            }
            Some(Vary {
                path,
                spec: VarySpec::List,
                values: items
                    .iter()
                    .map(|i| value_from_text(flow_text(i)))
                    .collect(),
                origins: items.iter().map(|i| i.origin).collect(),
            })
        }
        Node::Map(entries) => {
            let before = issues.len();
            for (k, _) in entries {
                let name = k.as_str().unwrap_or("");
                if !RANGE_KEYS.contains(&name) {
                    let help = match suggest(name, RANGE_KEYS.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("the keys allowed here are {}", one_of(RANGE_KEYS)),
                    };
                    issues.push(issue(k.origin, format!("unknown key `{name}`"), Some(help)));
                }
            }
            let text_of = |name: &str, issues: &mut Vec<Issue>| -> Option<String> {
                match value.get(name) {
                    None => {
                        issues.push(issue(
                            value.origin,
                            format!("`{path}`: missing required key `{name}`"),
                            Some("write `{ from: X, to: Y, step: S }` or `{ from: X, to: Y, points: N, log: true }`".to_owned()),
                        ));
                        None
                    }
                    Some(node) => match scalar_text(node) {
                        Some(t) => Some(t),
                        None => {
                            issues.push(issue(
                                node.origin,
                                format!("`{name}`: expected a number or a quantity such as `100/s`, found {}", node.describe()),
                                None,
                            ));
                            None
                        }
                    },
                }
            };
            let from = text_of("from", issues);
            let to = text_of("to", issues);
            let log = match value.get("log") {
                None => false,
                Some(SNode {
                    node: Node::Bool(b),
                    ..
                }) => *b,
                Some(other) => {
                    issues.push(issue(
                        other.origin,
                        format!(
                            "`log`: expected `true` or `false`, found {}",
                            other.describe()
                        ),
                        None,
                    ));
                    false
                }
            };
            let expanded = match (value.get("step"), value.get("points")) {
                (Some(_), Some(p)) => {
                    issues.push(issue(
                        p.origin,
                        "give either `step` or `points`, not both",
                        None,
                    ));
                    None
                }
                (Some(step_node), None) => {
                    if log {
                        issues.push(issue(
                            value.at_or_near(&["log"]).origin,
                            "`log: true` needs `points`, not `step`",
                            Some("write `{ from: X, to: Y, points: N, log: true }`".to_owned()),
                        ));
                    }
                    let step = text_of("step", issues);
                    match (&from, &to, step) {
                        (Some(f), Some(t), Some(s)) => match expand_step(f, t, &s) {
                            Ok(v) => Some((
                                VarySpec::Range {
                                    from: f.clone(),
                                    to: t.clone(),
                                    step: s,
                                },
                                v,
                            )),
                            Err((m, h)) => {
                                issues.push(issue(step_node.origin, format!("`{path}`: {m}"), h));
                                None
                            }
                        },
                        _ => None,
                    }
                }
                (None, Some(points_node)) => {
                    let points = match points_node.node {
                        Node::Int(n) => Some(n),
                        _ => {
                            issues.push(issue(
                                points_node.origin,
                                format!(
                                    "`points`: expected a whole number, found {}",
                                    points_node.describe()
                                ),
                                None,
                            ));
                            None
                        }
                    };
                    match (&from, &to, points) {
                        (Some(f), Some(t), Some(n)) => match expand_points(f, t, n, log) {
                            Ok(v) => Some((
                                VarySpec::Points {
                                    from: f.clone(),
                                    to: t.clone(),
                                    points: u32::try_from(n).unwrap_or(0),
                                    log,
                                },
                                v,
                            )),
                            Err((m, h)) => {
                                issues.push(issue(points_node.origin, format!("`{path}`: {m}"), h));
                                None
                            }
                        },
                        _ => None,
                    }
                }
                (None, None) => {
                    issues.push(issue(
                        value.origin,
                        format!("`{path}`: a range needs `step` or `points`"),
                        Some("write `{ from: X, to: Y, step: S }` or `{ from: X, to: Y, points: N }`".to_owned()),
                    ));
                    None
                }
            };
            if issues.len() > before {
                return None;
            }
            let (spec, texts) = expanded?;
            let origins = vec![value.origin; texts.len()];
            Some(Vary {
                path,
                spec,
                values: texts.into_iter().map(value_from_text).collect(),
                origins,
            })
        }
        _ => {
            issues.push(issue(
                value.origin,
                format!(
                    "`{path}`: expected a list of values or a range `{{ from, to, step }}`, found {}",
                    value.describe()
                ),
                None,
            ));
            None
        }
    }
}

/// Reads the `sweep` block, if there is one; problems go to `issues`.
pub(crate) fn read(root: &SNode, issues: &mut Vec<Issue>) -> Option<SweepDefinition> {
    let block = root.get("sweep")?;
    let Node::Map(entries) = &block.node else {
        if !matches!(block.node, Node::Null) {
            issues.push(issue(
                block.origin,
                format!(
                    "`sweep`: expected a map with `vary` and optionally `combine`, `replications` and `seeds`, found {}",
                    block.describe()
                ),
                None,
            ));
        }
        return None;
    };
    let mut def = SweepDefinition::default();
    for (key, value) in entries {
        let name = key.as_str().unwrap_or("");
        match name {
            "vary" => match &value.node {
                Node::Map(paths) => {
                    for (k, v) in paths {
                        if let Some(vary) = read_vary(k, v, issues) {
                            def.vary.push(vary);
                        }
                    }
                }
                Node::Null => {}
                _ => issues.push(issue(
                    value.origin,
                    format!(
                        "`vary`: expected a map from paths to values, found {}",
                        value.describe()
                    ),
                    Some(
                        "e.g. `vary: { workloads.users.arrival.poisson: [100/s, 200/s] }`"
                            .to_owned(),
                    ),
                )),
            },
            "combine" => match keyword(value, "combine", ["grid", "zip"]) {
                Ok("grid") => def.combine = Combine::Grid,
                Ok(_) => def.combine = Combine::Zip,
                Err(problem) => issues.push(problem),
            },
            "seeds" => match keyword(value, "seeds", ["common", "independent"]) {
                Ok("common") => def.seeds = SeedMode::Common,
                Ok(_) => def.seeds = SeedMode::Independent,
                Err(problem) => issues.push(problem),
            },
            "replications" => match value.node {
                Node::Int(n) if (1..=1_000_000).contains(&n) => {
                    def.replications = u32::try_from(n).unwrap_or(1);
                }
                _ => issues.push(issue(
                    value.origin,
                    format!(
                        "`replications`: expected a whole number from 1 to 1000000, found {}",
                        value.describe()
                    ),
                    None,
                )),
            },
            _ => {
                let help = match suggest(name, schema_keys!(SweepDoc).iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "the keys allowed here are {}",
                        one_of(schema_keys!(SweepDoc))
                    ),
                };
                issues.push(issue(
                    key.origin,
                    format!("unknown key `{name}`"),
                    Some(help),
                ));
            }
        }
    }
    check_zip(&def, block, issues);
    Some(def)
}

/// Zip needs equal lengths; records a problem at `at` if not.
fn check_zip(def: &SweepDefinition, at: &SNode, issues: &mut Vec<Issue>) {
    if def.combine != Combine::Zip {
        return;
    }
    let lengths: Vec<String> = def
        .vary
        .iter()
        .map(|v| format!("`{}` has {}", v.path, v.values.len()))
        .collect();
    let first = def.vary.first().map_or(0, |v| v.values.len());
    if def.vary.iter().any(|v| v.values.len() != first) {
        issues.push(issue(
            at.at_or_near(&["combine"]).origin,
            format!(
                "`combine: zip` pairs values, so every path needs as many; {}",
                lengths.join(", ")
            ),
            Some("use `combine: grid` for every combination".to_owned()),
        ));
    }
}

/// Checks the definition after `--vary` arguments were merged into it.
pub(crate) fn check_combined(def: &SweepDefinition, root: &SNode, issues: &mut Vec<Issue>) {
    let at = root.get("sweep").unwrap_or(root);
    check_zip(def, at, issues);
}

/// The most points a sweep may have (each is loaded and kept before the
/// first run); see `docs/limits.md`.
pub const MAX_SWEEP_POINTS: usize = 100_000;
/// The most runs (points x replications) a sweep may have.
pub const MAX_SWEEP_RUNS: u64 = 10_000_000;

/// Refuses a sweep whose point or run count overflows or passes the limits.
pub(crate) fn check_size(def: &SweepDefinition, root: &SNode, issues: &mut Vec<Issue>) {
    let at = root.get("sweep").unwrap_or(root);
    let points = def.checked_point_count();
    let runs = points.and_then(|p| (p as u64).checked_mul(u64::from(def.replications)));
    let counts: Vec<String> = def
        .vary
        .iter()
        .map(|v| v.values.len().to_string())
        .collect();
    let too_many = match (points, runs) {
        (Some(p), Some(r)) if p <= MAX_SWEEP_POINTS && r <= MAX_SWEEP_RUNS => return,
        (Some(p), Some(r)) => format!("{p} points and {r} runs"),
        _ => "more points than a 64-bit count holds".to_owned(),
    };
    issues.push(Issue {
        origin: at.origin,
        message: format!(
            "the sweep has {too_many} ({} value(s) per path, {} replication(s)), more than the limits of {MAX_SWEEP_POINTS} points and {MAX_SWEEP_RUNS} runs",
            counts.join(" x "),
            def.replications
        ),
        help: Some(
            "vary fewer paths or values, use `combine: zip`, or split the sweep (see docs/limits.md)"
                .to_owned(),
        ),
    });
}

/// Why a `--vary` argument is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--vary {arg}: {message}")]
pub struct VaryArgError {
    /// The argument as given.
    pub arg: String,
    /// What is wrong.
    pub message: String,
}

/// Parses a `--vary` argument: `PATH=v1,v2,v3` (a list), `PATH=FROM:TO:STEP`
/// (a range, `TO` included), or `PATH=FROM:TO:N:log` / `PATH=FROM:TO:N:lin`
/// (`N` points, log- or linearly spaced).
pub fn parse_vary_arg(arg: &str) -> Result<Vary, VaryArgError> {
    let fail = |message: String| VaryArgError {
        arg: arg.to_owned(),
        message,
    };
    let Some((path, values)) = arg.split_once('=') else {
        return Err(fail(
            "expected `PATH=v1,v2,...` or `PATH=FROM:TO:STEP`".to_owned(),
        ));
    };
    let path = path.trim();
    if path.is_empty() || path.split('.').any(|s| s.trim().is_empty()) {
        return Err(fail(format!("`{path}` is not a valid path")));
    }
    let origin = Origin::Set {
        index: usize::MAX,
        offset: 0,
        len: 0,
    };
    let structured = values.contains(['{', '[']);
    let parts: Vec<&str> = values.split(':').map(str::trim).collect();
    let (spec, texts) = if !structured && !values.contains(',') && parts.len() == 3 {
        let (from, to, step) = (parts[0], parts[1], parts[2]);
        let texts = expand_step(from, to, step).map_err(|(m, _)| fail(m))?;
        (
            VarySpec::Range {
                from: from.to_owned(),
                to: to.to_owned(),
                step: step.to_owned(),
            },
            texts,
        )
    } else if !structured && !values.contains(',') && parts.len() == 4 {
        let log = match parts[3] {
            "log" => true,
            "lin" => false,
            other => {
                return Err(fail(format!(
                    "the fourth part must be `log` or `lin`, found `{other}`"
                )));
            }
        };
        let points: i128 = parts[2]
            .parse()
            .map_err(|_| fail(format!("`{}` is not a whole number of points", parts[2])))?;
        let texts = expand_points(parts[0], parts[1], points, log).map_err(|(m, _)| fail(m))?;
        (
            VarySpec::Points {
                from: parts[0].to_owned(),
                to: parts[1].to_owned(),
                points: u32::try_from(points).unwrap_or(0),
                log,
            },
            texts,
        )
    } else {
        let texts: Vec<String> = if structured {
            vec![values.trim().to_owned()]
        } else {
            values.split(',').map(|v| v.trim().to_owned()).collect()
        };
        if texts.iter().any(String::is_empty) {
            return Err(fail("a value is empty".to_owned()));
        }
        (VarySpec::List, texts)
    };
    let origins = vec![origin; texts.len()];
    Ok(Vary {
        path: path.to_owned(),
        spec,
        values: texts.into_iter().map(value_from_text).collect(),
        origins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_without_float_noise() {
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(120.0), "120");
        assert_eq!(format_number(1e-7), "0.0000001");
        assert_eq!(format_number(-0.0), "0");
    }

    #[test]
    fn ranges_keep_their_unit() {
        let v = expand_step("100/s", "240/s", "20/s").unwrap_or_default();
        assert_eq!(v.first().map(String::as_str), Some("100/s"));
        assert_eq!(v.last().map(String::as_str), Some("240/s"));
        assert_eq!(v.len(), 8);
        let p = expand_points("1ms", "100ms", 3, true).unwrap_or_default();
        assert_eq!(p, ["1ms", "10ms", "100ms"]);
        assert!(expand_step("1ms", "2s", "1ms").is_err());
        assert!(expand_step("1", "2", "0").is_err());
    }

    #[test]
    fn vary_arguments() {
        let Ok(v) = parse_vary_arg("components.lb.policy=random,round_robin") else {
            panic!("valid");
        };
        assert_eq!(v.values.len(), 2);
        assert_eq!(v.values[1].number, None);
        let Ok(v) = parse_vary_arg("workloads.users.arrival.poisson=20/s:60/s:20/s") else {
            panic!("valid");
        };
        let texts: Vec<&str> = v.values.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(texts, ["20/s", "40/s", "60/s"]);
        assert_eq!(v.values[2].number, Some(60.0));
        assert!(parse_vary_arg("x").is_err());
        assert!(parse_vary_arg("a.b=1:2:3:cubic").is_err());
    }

    #[test]
    fn grid_choice_is_row_major() {
        let mut def = SweepDefinition::default();
        for (path, n) in [("a", 2), ("b", 3)] {
            let values = (0..n).map(|i| value_from_text(i.to_string())).collect();
            def.vary.push(Vary {
                path: path.to_owned(),
                spec: VarySpec::List,
                values,
                origins: Vec::new(),
            });
        }
        assert_eq!(def.point_count(), 6);
        assert_eq!(def.choice(0), [0, 0]);
        assert_eq!(def.choice(1), [0, 1]);
        assert_eq!(def.choice(3), [1, 0]);
        assert_eq!(def.overrides(5), ["a=1", "b=2"]);
    }
}
