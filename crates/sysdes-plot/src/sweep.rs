//! Plots of one sweep directory (`manifest.json`, `summary.csv`, one row
//! per point): latency vs offered load with CI bands, SLO and capacity; a
//! heatmap for two parameters; bars for a parameter that is not a number.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::chart::{BarGroup, Bars, Figure, HLine, Heatmap, Mark, Marker, Series, XyChart};
use crate::options::{PlotOptions, Slo, Statistic};
use crate::output::Writer;
use crate::run::read_json;
use crate::style::fmt_num;
use crate::table::Table;
use crate::vega::{base, field, palette_scale};
use crate::{DirKind, PlotError, PlotOutput, html};

/// One swept parameter: its `--set` path and its values per summary row.
pub(crate) struct Param {
    pub path: String,
    pub text: Vec<String>,
    /// The `<path>#value` companion when every cell is a number.
    pub numeric: Option<Vec<f64>>,
}

/// What a sweep directory holds, read once.
pub(crate) struct SweepData {
    pub dir: PathBuf,
    pub name: String,
    pub manifest_text: String,
    pub params: Vec<Param>,
    pub summary: Table,
    pub scenario_text: Option<String>,
    /// Sentences about capacity at the SLO, for the report.
    pub notes: Vec<String>,
}

fn scenario_name(manifest: &Value, dir: &Path) -> String {
    let from_path = |s: &str| {
        let p = Path::new(s);
        match p.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => p
                .file_stem()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| s.to_string()),
            _ => s.to_string(),
        }
    };
    let candidates = [
        manifest.get("scenario_name"),
        manifest.get("scenario").and_then(|s| s.get("name")),
        manifest.get("scenario"),
        manifest.get("scenario_file"),
        manifest.get("name"),
    ];
    for c in candidates.into_iter().flatten() {
        if let Some(s) = c.as_str() {
            if !s.is_empty() {
                return from_path(s);
            }
        }
    }
    dir.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".to_string())
}

impl SweepData {
    pub(crate) fn read(dir: &Path) -> Result<SweepData, PlotError> {
        let manifest_path = dir.join("manifest.json");
        let manifest = read_json(&manifest_path, "the sweep's parameters")?;
        let list = manifest
            .get("parameters")
            .and_then(Value::as_array)
            .ok_or_else(|| PlotError::Json {
                path: manifest_path.clone(),
                message: "no `parameters` list".to_string(),
            })?;
        let mut paths = Vec::new();
        for p in list {
            let path = p
                .as_str()
                .or_else(|| p.get("path").and_then(Value::as_str))
                .ok_or_else(|| PlotError::Json {
                    path: manifest_path.clone(),
                    message: format!("`parameters` entry {p} is not a path"),
                })?;
            paths.push(path.to_string());
        }
        let summary = Table::read(&dir.join("summary.csv"), "the sweep plots")?;
        let mut params = Vec::new();
        for path in paths {
            let text = summary.text(&path)?;
            let numeric = summary
                .numbers_if_present(&format!("{path}#value"))
                .ok()
                .flatten()
                .filter(|v| !v.is_empty() && v.iter().all(|x| x.is_finite()));
            params.push(Param {
                path,
                text,
                numeric,
            });
        }
        Ok(SweepData {
            dir: dir.to_path_buf(),
            name: scenario_name(&manifest, dir),
            manifest_text: format!("{manifest:#}"),
            params,
            summary,
            scenario_text: std::fs::read_to_string(dir.join("scenario.yaml")).ok(),
            notes: Vec::new(),
        })
    }

    /// Whether any point has more than one replication (then CIs exist).
    pub(crate) fn replicated(&self) -> Result<bool, PlotError> {
        Ok(self
            .summary
            .numbers_if_present("replications")?
            .is_some_and(|r| r.iter().any(|&k| k > 1.0)))
    }
}

/// The x axis of the latency plot (offered load, or a swept parameter).
pub(crate) struct XAxis {
    pub(crate) values: Vec<f64>,
    pub(crate) column: String,
    pub(crate) label: String,
    pub(crate) unit: &'static str,
    /// The parameter that x follows (left out of the grouping).
    pub(crate) driver: Option<usize>,
    /// Whether to draw it on a log scale (swept values spanning a decade).
    pub(crate) log: bool,
    /// Whether every value is a whole number (a swept count: workers,
    /// replicas, a capacity), so its ticks are whole numbers too.
    pub(crate) integer: bool,
}

/// Whether every value is a whole number.
fn whole(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite() && x.fract() == 0.0)
}

/// Whether positive values span at least a factor of ten: such a swept
/// parameter (a cache capacity of 10 to 5,000) reads on a log axis, where a
/// linear one squeezes the small values against the origin.
fn spans_a_decade(v: &[f64]) -> bool {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    lo > 0.0 && hi >= 10.0 * lo
}

/// A swept path as an axis label: its last element and the unit its values
/// are written in (what follows their leading number), e.g.
/// `components.gpu.batching.max_delay` with values `5ms` reads
/// `max_delay (ms)`, and an arrival rate `100/s` reads `poisson (req/s)`.
pub(crate) fn path_label(p: &Param) -> String {
    let name = short(&p.path);
    // Only a value that starts with a number has a unit (`round_robin`,
    // a policy, has none).
    let unit = p
        .text
        .iter()
        .map(|t| t.trim())
        .filter(|t| t.starts_with(|c: char| c.is_ascii_digit() || c == '.'))
        .map(|t| {
            t.trim_start_matches(|c: char| c.is_ascii_digit() || matches!(c, '.' | '_'))
                .trim()
        })
        .find(|u| !u.is_empty())
        .unwrap_or("");
    match unit {
        "" => name.to_string(),
        "/s" if p.path.contains("arrival") => format!("{name} (req/s)"),
        u if u.contains(['{', '[', ' ']) => name.to_string(),
        u => format!("{name} ({u})"),
    }
}

fn varies(v: &[f64]) -> bool {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    hi - lo > 1e-9 * hi.abs().max(1.0)
}

/// Row indices grouped by the text of `params` (first appearance order).
pub(crate) fn group_rows(data: &SweepData, params: &[usize]) -> Vec<(String, Vec<usize>)> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for row in 0..data.summary.len() {
        let key = params
            .iter()
            .map(|&p| {
                format!(
                    "{}={}",
                    short(&data.params[p].path),
                    data.params[p].text[row]
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(row),
            None => groups.push((key, vec![row])),
        }
    }
    groups
}

/// The last segment of a `--set` path, for legends.
pub(crate) fn short(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

pub(crate) fn x_axis(data: &SweepData) -> Result<Option<XAxis>, PlotError> {
    if let Some(offered) = data.summary.numbers_if_present("offered_rps_mean")? {
        if offered.iter().all(|v| v.is_finite()) && varies(&offered) {
            // The driver is the parameter that, with the others held fixed,
            // takes as many values as the offered load does.
            let driver = (0..data.params.len()).find(|&p| {
                let others: Vec<usize> = (0..data.params.len()).filter(|&q| q != p).collect();
                group_rows(data, &others).iter().all(|(_, rows)| {
                    let mut ps: Vec<&str> = rows
                        .iter()
                        .map(|&r| data.params[p].text[r].as_str())
                        .collect();
                    ps.sort_unstable();
                    ps.dedup();
                    let mut xs: Vec<u64> = rows.iter().map(|&r| offered[r].to_bits()).collect();
                    xs.sort_unstable();
                    xs.dedup();
                    ps.len() == xs.len() && ps.len() > 1
                })
            });
            return Ok(Some(XAxis {
                values: offered,
                column: "offered_rps_mean".to_string(),
                label: "offered load (req/s)".to_string(),
                unit: "req/s",
                driver,
                log: false,
                integer: false,
            }));
        }
    }
    for (i, p) in data.params.iter().enumerate() {
        if let Some(v) = &p.numeric {
            if varies(v) {
                return Ok(Some(XAxis {
                    values: v.clone(),
                    column: format!("{}#value", p.path),
                    label: path_label(p),
                    unit: "",
                    driver: Some(i),
                    log: spans_a_decade(v),
                    integer: whole(v),
                }));
            }
        }
    }
    Ok(None)
}

/// The file name (without extension) of the latency plot against `axis`:
/// `latency_vs_load` against the offered load, else `latency_vs_PARAM`
/// after the swept parameter's last path element (`latency_vs_workers`,
/// `latency_vs_capacity`), so the name says what the x axis is.
pub(crate) fn latency_plot_name(data: &SweepData, axis: &XAxis) -> String {
    if axis.column == "offered_rps_mean" {
        return "latency_vs_load".to_string();
    }
    let param = axis
        .driver
        .and_then(|p| data.params.get(p))
        .map_or("parameter", |p| short(&p.path));
    let slug: String = param
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("latency_vs_{slug}")
}

/// The utilization of the sweep's bottleneck (the server whose mean
/// utilization reaches the highest value) as an x axis, when it varies: the
/// latency-vs-utilization form of the hockey stick, comparable across
/// systems of different capacity. `driver` is the load axis's.
fn utilization_axis(data: &SweepData, load: &XAxis) -> Result<Option<XAxis>, PlotError> {
    let mut best: Option<(f64, String, Vec<f64>)> = None;
    for header in &data.summary.headers {
        let Some(server) = header
            .strip_prefix("utilization:")
            .and_then(|h| h.strip_suffix("_mean"))
        else {
            continue;
        };
        let Some(values) = data.summary.numbers_if_present(header)? else {
            continue;
        };
        let peak = values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        if values.iter().all(|v| v.is_finite())
            && varies(&values)
            && best.as_ref().is_none_or(|b| peak > b.0)
        {
            best = Some((peak, server.to_owned(), values));
        }
    }
    Ok(best.map(|(_, server, values)| XAxis {
        values,
        column: format!("utilization:{server}_mean"),
        label: format!("utilization of {server}"),
        unit: "",
        driver: load.driver,
        log: false,
        integer: false,
    }))
}

fn stat_columns(stat: Statistic) -> (String, String, String) {
    let m = stat.metric();
    (
        format!("{m}_mean"),
        format!("{m}_ci95_low"),
        format!("{m}_ci95_high"),
    )
}

/// Highest x of the leading run of points whose statistic meets the SLO.
pub(crate) fn capacity(points: &[(f64, f64)], threshold: f64) -> Option<(f64, f64)> {
    let mut best = None;
    for &(x, y) in points {
        if y.is_finite() && y <= threshold {
            best = Some((x, y));
        } else {
            break;
        }
    }
    best
}

fn latency_vs_load(
    data: &SweepData,
    axis: &XAxis,
    slo: Option<Slo>,
    notes: &mut Vec<String>,
) -> Result<(Figure, Value), PlotError> {
    let t = &data.summary;
    let bands = data.replicated()?;
    let others: Vec<usize> = (0..data.params.len())
        .filter(|&p| Some(p) != axis.driver)
        .collect();
    let groups = if axis.driver.is_some() {
        group_rows(data, &others)
    } else {
        vec![(String::new(), (0..t.len()).collect())]
    };
    let single = groups.len() == 1;
    let stats: Vec<(Statistic, usize)> = if single {
        [
            (Statistic::P50, 0),
            (Statistic::P99, 1),
            (Statistic::P999, 3),
        ]
        .into_iter()
        .filter(|(s, _)| t.find(&stat_columns(*s).0).is_some())
        .collect()
    } else {
        vec![(slo.map_or(Statistic::P99, |s| s.statistic), 0)]
    };
    if stats.is_empty() {
        return Err(PlotError::MissingColumn {
            path: t.path.clone(),
            column: stat_columns(Statistic::P99).0,
        });
    }
    let mut series = Vec::new();
    let mut markers = Vec::new();
    for (g, (key, rows)) in groups.iter().enumerate() {
        let mut rows = rows.clone();
        rows.sort_by(|&a, &b| axis.values[a].total_cmp(&axis.values[b]));
        for &(stat, colour) in &stats {
            let (mean, low, high) = stat_columns(stat);
            let m = t.numbers(&mean)?;
            let points: Vec<(f64, f64)> = rows.iter().map(|&r| (axis.values[r], m[r])).collect();
            let band = match (bands, t.find(&low), t.find(&high)) {
                (true, Some(_), Some(_)) => {
                    let (lo, hi) = (t.numbers(&low)?, t.numbers(&high)?);
                    // Latency is never negative, whatever a wide interval says.
                    rows.iter()
                        .map(|&r| (axis.values[r], lo[r].max(0.0), hi[r]))
                        .collect()
                }
                _ => Vec::new(),
            };
            let name = if single {
                stat.label().to_string()
            } else {
                format!("{} ({key})", stat.label())
            };
            if let Some(slo) = slo.filter(|s| s.statistic == stat) {
                let where_ = if single {
                    String::new()
                } else {
                    format!(" ({key})")
                };
                match capacity(&points, slo.threshold_ms) {
                    Some((x, y)) => {
                        let at = if axis.unit.is_empty() {
                            format!("{} = {}", short(&axis.label), fmt_num(x))
                        } else {
                            format!("{} {}", fmt_num(x), axis.unit)
                        };
                        let label = format!("capacity at SLO{where_}: {at}");
                        notes.push(format!(
                            "Capacity at the SLO ({slo}){where_}: {at}, where {} = {} ms.",
                            stat.label(),
                            fmt_num(y)
                        ));
                        markers.push(Marker {
                            at: (x, y),
                            label,
                            colour: if single { colour } else { g },
                        });
                    }
                    None => notes.push(format!(
                        "No point meets the SLO ({slo}){where_}: the lowest load already exceeds it."
                    )),
                }
            }
            series.push(Series {
                name,
                colour: if single { colour } else { g },
                points,
                band,
                mark: Mark::LinePoints,
            });
        }
    }
    let title = if axis.column == "offered_rps_mean" {
        format!("{}: latency vs offered load", data.name)
    } else {
        format!("{}: latency vs {}", data.name, axis.label)
    };
    let hlines = slo
        .map(|s| HLine {
            y: s.threshold_ms,
            label: format!("SLO: {s}"),
        })
        .into_iter()
        .collect();
    let reps = if bands { " (mean, 95% CI band)" } else { "" };
    let chart = XyChart {
        title: title.clone(),
        x_label: axis.label.clone(),
        x_log: axis.log,
        x_integer: axis.integer,
        y_label: format!("latency (ms){reps}"),
        series,
        hlines,
        markers,
        ..XyChart::default()
    };

    // Vega-Lite: one layer per statistic (band + line + points), or one
    // coloured line per group.
    let mut x =
        json!({ "field": field(&axis.column), "type": "quantitative", "title": axis.label });
    if axis.log {
        x["scale"] = json!({ "type": "log" });
    }
    if axis.integer {
        x["axis"] = json!({ "tickMinStep": 1 });
    }
    let mut layers = Vec::new();
    if single {
        for &(stat, _) in &stats {
            let (mean, low, high) = stat_columns(stat);
            let colour =
                json!({ "datum": stat.label(), "scale": palette_scale(), "title": "statistic" });
            if bands {
                layers.push(json!({
                    "mark": { "type": "errorband", "opacity": 0.2 },
                    "encoding": { "x": x, "y": { "field": field(&low), "type": "quantitative" },
                                  "y2": { "field": field(&high) }, "color": colour }
                }));
            }
            layers.push(json!({
                "mark": { "type": "line", "point": true },
                "encoding": { "x": x, "y": { "field": field(&mean), "type": "quantitative",
                              "title": format!("latency (ms){reps}") }, "color": colour }
            }));
        }
    } else {
        let stat = stats[0].0;
        let (mean, low, high) = stat_columns(stat);
        let group_field = "group";
        let parts: Vec<String> = others
            .iter()
            .map(|&p| {
                format!(
                    "'{}=' + datum['{}']",
                    short(&data.params[p].path),
                    data.params[p].path
                )
            })
            .collect();
        let colour = json!({ "field": group_field, "type": "nominal", "scale": palette_scale(), "title": null });
        let calc = json!({ "calculate": parts.join(" + ', ' + "), "as": group_field });
        if bands {
            layers.push(json!({
                "transform": [calc],
                "mark": { "type": "errorband", "opacity": 0.2 },
                "encoding": { "x": x, "y": { "field": field(&low), "type": "quantitative" },
                              "y2": { "field": field(&high) }, "color": colour }
            }));
        }
        layers.push(json!({
            "transform": [calc],
            "mark": { "type": "line", "point": true },
            "encoding": { "x": x, "y": { "field": field(&mean), "type": "quantitative",
                          "title": format!("{} latency (ms){reps}", stat.label()) }, "color": colour }
        }));
    }
    if let Some(s) = slo {
        layers.push(json!({
            "data": { "values": [{ "slo_ms": s.threshold_ms, "label": format!("SLO: {s}") }] },
            "mark": { "type": "rule", "strokeDash": [8, 5] },
            "encoding": { "y": { "field": "slo_ms", "type": "quantitative" } }
        }));
        let caps: Vec<Value> = chart
            .markers
            .iter()
            .map(|m| json!({ "x": m.at.0, "y": m.at.1, "label": m.label }))
            .collect();
        layers.push(json!({
            "data": { "values": caps },
            "mark": { "type": "point", "shape": "circle", "size": 120, "color": "black", "filled": false },
            "encoding": { "x": { "field": "x", "type": "quantitative" },
                          "y": { "field": "y", "type": "quantitative" },
                          "tooltip": { "field": "label" } }
        }));
    }
    let mut spec = base(&title, "");
    spec.insert("width".into(), json!(640));
    spec.insert("height".into(), json!(360));
    spec.insert("layer".into(), Value::Array(layers));
    Ok((Figure::Xy(chart), Value::Object(spec)))
}

/// Distinct values of a parameter in display order, and each row's index.
fn levels(p: &Param) -> (Vec<String>, Vec<usize>) {
    let mut order: Vec<(String, f64)> = Vec::new();
    for (k, t) in p.text.iter().enumerate() {
        if !order.iter().any(|o| &o.0 == t) {
            let key = p.numeric.as_ref().map_or(order.len() as f64, |v| v[k]);
            order.push((t.clone(), key));
        }
    }
    if p.numeric.is_some() {
        order.sort_by(|a, b| a.1.total_cmp(&b.1));
    }
    let names: Vec<String> = order.into_iter().map(|o| o.0).collect();
    let index = p
        .text
        .iter()
        .map(|t| names.iter().position(|n| n == t).unwrap_or(0))
        .collect();
    (names, index)
}

/// Whether the sweep varies two parameters over a grid (some value of one
/// meets more than one value of the other). Two parameters varied together
/// (`combine: zip`) fill only a diagonal: a heatmap of them would read as a
/// grid with holes, so they get none.
fn is_grid(data: &SweepData) -> bool {
    if data.params.len() != 2 {
        return false;
    }
    let (xs, _) = levels(&data.params[0]);
    let (ys, _) = levels(&data.params[1]);
    data.summary.len() > xs.len().max(ys.len())
}

fn heatmap(data: &SweepData, stat: Statistic) -> Result<(Figure, Value), PlotError> {
    let (px, py) = (&data.params[0], &data.params[1]);
    let (xs, xi) = levels(px);
    let (ys, yi) = levels(py);
    let (mean, _, _) = stat_columns(stat);
    let v = data.summary.numbers(&mean)?;
    let cells = (0..data.summary.len())
        .map(|r| (xi[r], yi[r], v[r]))
        .collect();
    let title = format!(
        "{}: {} latency by {} and {}",
        data.name,
        stat.label(),
        short(&px.path),
        short(&py.path)
    );
    let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // The same rule as the drawing: log colours when values span 10x.
    let log = lo > 0.0 && hi / lo >= 10.0;
    let value_label = if log {
        format!("{} latency (ms, log colour scale)", stat.label())
    } else {
        format!("{} latency (ms)", stat.label())
    };
    let figure = Figure::Heatmap(Heatmap {
        title: title.clone(),
        x_label: path_label(px),
        y_label: path_label(py),
        x_values: xs.clone(),
        y_values: ys.clone(),
        cells,
        value_label: value_label.clone(),
    });
    let mut spec = base(&title, "");
    spec.insert("width".into(), json!(480));
    spec.insert("height".into(), json!(360));
    let enc_x =
        json!({ "field": field(&px.path), "type": "ordinal", "sort": xs, "title": path_label(px) });
    let enc_y = json!({ "field": field(&py.path), "type": "ordinal", "sort": ys.iter().rev().collect::<Vec<_>>(), "title": path_label(py) });
    spec.insert(
        "layer".into(),
        json!([
            { "mark": "rect", "encoding": { "x": enc_x, "y": enc_y,
                "color": { "field": field(&mean), "type": "quantitative",
                           "scale": { "scheme": "viridis", "type": if log { "log" } else { "linear" } }, "title": value_label } } },
            { "mark": "text", "encoding": { "x": enc_x, "y": enc_y,
                "text": { "field": field(&mean), "type": "quantitative", "format": ".4~r" } } }
        ]),
    );
    Ok((figure, Value::Object(spec)))
}

fn bars(data: &SweepData, slo: Option<Slo>) -> Result<(Figure, Value), PlotError> {
    let t = &data.summary;
    let categories: Vec<String> = (0..t.len())
        .map(|r| {
            data.params
                .iter()
                .map(|p| p.text[r].clone())
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect();
    let replicated = data.replicated()?;
    let mut groups = Vec::new();
    for (stat, colour) in [(Statistic::Mean, 0), (Statistic::P99, 1)] {
        let (mean, low, high) = stat_columns(stat);
        let values = t.numbers(&mean)?;
        let ci = match (replicated, t.find(&low), t.find(&high)) {
            (true, Some(_), Some(_)) => t
                .numbers(&low)?
                .into_iter()
                .map(|l| l.max(0.0))
                .zip(t.numbers(&high)?)
                .collect(),
            _ => Vec::new(),
        };
        groups.push(BarGroup {
            name: format!("{} latency", stat.label()),
            colour,
            values,
            ci,
        });
    }
    let x_label = data
        .params
        .iter()
        .map(path_label)
        .collect::<Vec<_>>()
        .join(" / ");
    let title = format!(
        "{}: latency by {}",
        data.name,
        data.params
            .iter()
            .map(|p| short(&p.path))
            .collect::<Vec<_>>()
            .join(" / ")
    );
    let reps = if replicated { " (mean, 95% CI)" } else { "" };
    let figure = Figure::Bars(Bars {
        title: title.clone(),
        x_label: x_label.clone(),
        y_label: format!("latency (ms){reps}"),
        categories: categories.clone(),
        groups,
        hline: slo.map(|s| HLine {
            y: s.threshold_ms,
            label: format!("SLO: {s}"),
        }),
    });
    let category = if data.params.len() == 1 {
        data.params[0].path.clone()
    } else {
        "category".to_string()
    };
    let mut transform = Vec::new();
    if data.params.len() > 1 {
        let parts: Vec<String> = data
            .params
            .iter()
            .map(|p| format!("datum['{}']", p.path))
            .collect();
        transform.push(json!({ "calculate": parts.join(" + ' / ' + "), "as": "category" }));
    }
    transform.push(json!({ "fold": ["latency_mean_ms_mean", "latency_p99_ms_mean"], "as": ["statistic", "latency_ms"] }));
    let mut spec = base(&title, "");
    spec.insert("width".into(), json!(640));
    spec.insert("height".into(), json!(360));
    spec.insert("transform".into(), Value::Array(transform));
    spec.insert("mark".into(), json!("bar"));
    spec.insert(
        "encoding".into(),
        json!({
            "x": { "field": field(&category), "type": "nominal", "sort": null, "title": x_label },
            "xOffset": { "field": "statistic" },
            "y": { "field": "latency_ms", "type": "quantitative", "title": format!("latency (ms){reps}") },
            "color": { "field": "statistic", "type": "nominal", "scale": palette_scale() }
        }),
    );
    Ok((figure, Value::Object(spec)))
}

/// Draws every sweep plot and the report into the output directory.
pub(crate) fn plot_sweep(dir: &Path, options: &PlotOptions) -> Result<PlotOutput, PlotError> {
    let mut data = SweepData::read(dir)?;
    let out = options.out.clone().unwrap_or_else(|| dir.to_path_buf());
    let mut w = Writer::new(&out, options.format)?;
    let url = w.data_url(&data.summary.path);
    let set_url = |mut spec: Value| {
        spec["data"]["url"] = json!(url);
        spec
    };
    let mut notes = Vec::new();
    let axis = x_axis(&data)?;
    match &axis {
        Some(axis) => {
            let (fig, spec) = latency_vs_load(&data, axis, options.slo, &mut notes)?;
            w.emit(
                &latency_plot_name(&data, axis),
                &format!(
                    "Latency percentiles (mean over replications) against {} (summary.csv){}.",
                    axis.label,
                    if options.slo.is_some() {
                        ", with the SLO and the capacity at it"
                    } else {
                        ""
                    }
                ),
                &fig,
                &set_url(spec),
            )?;
            if axis.column == "offered_rps_mean" {
                if let Some(util) = utilization_axis(&data, axis)? {
                    let mut ignored = Vec::new();
                    let (fig, spec) = latency_vs_load(&data, &util, options.slo, &mut ignored)?;
                    w.emit(
                        "latency_vs_utilization",
                        &format!(
                            "Latency percentiles (mean over replications) against the {} (summary.csv): the hockey stick on a scale that does not depend on capacity.",
                            util.label
                        ),
                        &fig,
                        &set_url(spec),
                    )?;
                }
            }
        }
        None => {
            let (fig, spec) = bars(&data, options.slo)?;
            w.emit(
                "latency_by_value",
                "Mean and p99 latency per swept value (summary.csv), with 95% confidence intervals when there are replications.",
                &fig,
                &set_url(spec),
            )?;
        }
    }
    if is_grid(&data) {
        let stat = Statistic::P99;
        let (fig, spec) = heatmap(&data, stat)?;
        w.emit(
            "heatmap",
            "p99 latency (mean over replications) for every pair of the two swept parameters (summary.csv).",
            &fig,
            &set_url(spec),
        )?;
    }
    // The front compares designs: across load levels (an arrival rate
    // swept) its points are not alternatives, so it is not drawn.
    let load_swept = data.params.iter().any(|p| p.path.contains(".arrival."));
    if crate::pareto::has_cost(&data) && !load_swept {
        let (fig, spec) = crate::pareto::latency_vs_cost(&data)?;
        w.emit(
            "latency_vs_cost",
            "p99 latency against cost per hour (means over replications, summary.csv), one point per sweep point; the Pareto front (no other point is both cheaper and faster) is joined and labelled with its swept values.",
            &fig,
            &set_url(spec),
        )?;
    }
    if crate::pareto::has_cost(&data) {
        if let Some((stem, fig, spec)) = crate::pareto::cost_vs_param(&data)? {
            w.emit(
                &stem,
                "Each priced component's cost over the run (mean over replications, with its 95% confidence interval) against the swept parameter (summary.csv), with its egress and storage parts where it prices them: where two lines cross, the designs cost the same.",
                &fig,
                &set_url(spec),
            )?;
        }
    }
    if crate::cap::has_consistency(&data) {
        let (fig, spec) = crate::cap::cap_plot(&data, axis.as_ref())?;
        w.emit(
            "cap",
            "Availability (overall and during faults) and stale-read rate against the swept parameter (summary.csv), with 95% confidence intervals when there are replications: the CAP trade-off.",
            &fig,
            &set_url(spec),
        )?;
    }
    data.notes = notes;
    let html = html::sweep_report(&data, &w.plots);
    w.write("report.html", html.as_bytes())?;
    Ok(PlotOutput {
        kind: DirKind::Sweep,
        files: w.files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swept_paths_read_as_their_last_element_and_unit() {
        let param = |path: &str, values: &[&str]| Param {
            path: path.to_string(),
            text: values.iter().map(|v| v.to_string()).collect(),
            numeric: None,
        };
        let l = |path, values| path_label(&param(path, values));
        assert_eq!(l("components.cache.capacity", &["10", "100"]), "capacity");
        assert_eq!(
            l("components.gpu.batching.max_delay", &["1ms", "5ms"]),
            "max_delay (ms)"
        );
        assert_eq!(
            l("workloads.users.arrival.poisson", &["100/s"]),
            "poisson (req/s)"
        );
        assert_eq!(
            l("components.lb.policy", &["random", "round_robin"]),
            "policy"
        );
        assert_eq!(l("components.cache.capacity", &["64MiB"]), "capacity (MiB)");
    }

    /// Regression: cache capacity 10 to 5,000 was drawn on a linear axis.
    #[test]
    fn a_parameter_spanning_a_decade_gets_a_log_axis() {
        assert!(spans_a_decade(&[10.0, 100.0, 1000.0, 5000.0]));
        assert!(!spans_a_decade(&[1.0, 2.0, 3.0]));
        assert!(!spans_a_decade(&[0.0, 100.0]));
    }

    #[test]
    fn capacity_is_the_last_point_of_the_leading_run_under_the_slo() {
        let pts = [(100.0, 5.0), (200.0, 8.0), (300.0, 150.0), (400.0, 50.0)];
        assert_eq!(capacity(&pts, 100.0), Some((200.0, 8.0)));
        assert_eq!(capacity(&pts, 1.0), None);
        assert_eq!(capacity(&pts, 1000.0), Some((400.0, 50.0)));
    }

    fn fixture(name: &str, manifest: &str, summary: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sysdes-plot-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("manifest.json"), manifest).unwrap();
        std::fs::write(dir.join("summary.csv"), summary).unwrap();
        dir
    }

    /// Regression: two rates varied together (`combine: zip`) were drawn as
    /// a heatmap whose only cells were its diagonal.
    #[test]
    fn only_a_grid_of_two_parameters_gets_a_heatmap() {
        let manifest = r#"{"scenario": "scenarios/x.yaml", "parameters": ["workloads.a.arrival.poisson", "workloads.b.arrival.poisson"]}"#;
        let header = "point,workloads.a.arrival.poisson,workloads.a.arrival.poisson#value,workloads.b.arrival.poisson,workloads.b.arrival.poisson#value,replications,offered_rps_mean,latency_p50_ms_mean,latency_p99_ms_mean,latency_p999_ms_mean\n";
        let zip = fixture(
            "zip",
            manifest,
            &format!("{header}0,1/s,1,1/s,1,1,2,5,9,12\n1,2/s,2,2/s,2,1,4,6,10,13\n"),
        );
        assert!(!is_grid(&SweepData::read(&zip).unwrap()));
        let cross = fixture(
            "cross",
            manifest,
            &format!(
                "{header}0,1/s,1,1/s,1,1,2,5,9,12\n1,1/s,1,2/s,2,1,3,5,9,12\n2,2/s,2,1/s,1,1,3,6,10,13\n3,2/s,2,2/s,2,1,4,6,10,13\n"
            ),
        );
        assert!(is_grid(&SweepData::read(&cross).unwrap()));
    }

    #[test]
    fn without_varying_load_the_numeric_parameter_is_the_x_axis() {
        let dir = fixture(
            "workers",
            r#"{"scenario": "scenarios/mmc.yaml", "parameters": ["components.api.workers"]}"#,
            "point,components.api.workers,components.api.workers#value,replications,offered_rps_mean,latency_p50_ms_mean,latency_p99_ms_mean,latency_p999_ms_mean\n\
             0,1,1,1,100,50,400,900\n1,2,2,1,100,5,40,90\n2,4,4,1,100,4,30,60\n",
        );
        let data = SweepData::read(&dir).unwrap();
        assert_eq!(data.name, "mmc");
        let axis = x_axis(&data).unwrap().unwrap();
        assert_eq!(axis.column, "components.api.workers#value");
        // Named after the swept parameter, not the (constant) load.
        assert_eq!(latency_plot_name(&data, &axis), "latency_vs_workers");
        let slo = Some("p99=100ms".parse().unwrap());
        let mut notes = Vec::new();
        let (fig, spec) = latency_vs_load(&data, &axis, slo, &mut notes).unwrap();
        assert_eq!(fig.series_lengths(), vec![3, 3, 3]);
        // The leading run of points under the SLO is empty: the first misses.
        assert!(notes[0].starts_with("No point meets the SLO"), "{notes:?}");
        assert!(
            spec.to_string()
                .contains("components\\\\.api\\\\.workers#value")
        );
        crate::style::render_svg(&fig).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Regression: a sweep over workers 1 to 4 drew x ticks at 1.5, 2.5
    /// and 3.5. A count gets whole-number ticks, in the SVG and the
    /// Vega-Lite spec; a rate keeps its own.
    #[test]
    fn a_swept_count_gets_whole_number_ticks() {
        let dir = fixture(
            "ticks",
            r#"{"scenario": "scenarios/mmc.yaml", "parameters": ["components.api.workers"]}"#,
            "point,components.api.workers,components.api.workers#value,replications,offered_rps_mean,latency_p50_ms_mean,latency_p99_ms_mean,latency_p999_ms_mean\n\
             0,1,1,1,100,50,400,900\n1,2,2,1,100,5,40,90\n2,3,3,1,100,4,35,70\n3,4,4,1,100,4,30,60\n",
        );
        let data = SweepData::read(&dir).unwrap();
        let axis = x_axis(&data).unwrap().unwrap();
        assert!(axis.integer && !axis.log);
        let (fig, spec) = latency_vs_load(&data, &axis, None, &mut Vec::new()).unwrap();
        let svg = crate::style::render_svg(&fig).unwrap();
        // Tick labels are `<text ...>LABEL</text>`; the x axis's are the
        // ones between the range's ends.
        let labels: Vec<&str> = svg
            .split("</text>")
            .filter_map(|t| t.rsplit('>').next())
            .map(str::trim)
            .collect();
        for fraction in ["0.5", "1.5", "2.5", "3.5"] {
            assert!(
                !labels.contains(&fraction),
                "a tick at {fraction}: {labels:?}"
            );
        }
        for whole in ["1", "2", "3", "4"] {
            assert!(labels.contains(&whole), "no tick at {whole}: {labels:?}");
        }
        assert!(spec.to_string().contains(r#""tickMinStep":1"#), "{spec}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_sweep_without_parameters_is_an_error_naming_the_manifest() {
        let dir = fixture("noparams", r#"{"scenario": "x"}"#, "point\n");
        let err = SweepData::read(&dir).err().unwrap().to_string();
        assert!(err.contains("manifest.json: no `parameters` list"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
