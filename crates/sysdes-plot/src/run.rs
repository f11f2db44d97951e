//! Plots of one run directory (`sysdes run --out DIR`): the latency CDF and
//! the time series.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::chart::{Figure, Mark, Series, Shade, XyChart};
use crate::options::{PlotOptions, Window};
use crate::output::Writer;
use crate::table::Table;
use crate::vega::{base, palette_scale};
use crate::{PlotError, html};

/// What a run directory holds, read once.
pub(crate) struct RunData {
    pub dir: PathBuf,
    pub name: String,
    pub warmup_s: f64,
    pub summary: Option<Table>,
    pub cdf: Table,
    pub series: Table,
    pub report_txt: Option<String>,
    pub scenario_text: Option<String>,
    /// The run's fault windows (result.json `faults`), shaded on the series.
    pub faults: Vec<Window>,
    /// Whether the run generated any request (result.json
    /// `requests.generated`; true when absent). A run without (a training
    /// job alone) gets no throughput and latency panels.
    pub requests: bool,
    /// Whether any call in the run has a circuit breaker (result.json has
    /// a `breaker_opened` figure): its throughput panel then also plots
    /// failed requests per second, which an open breaker turns completions
    /// into (fail fast), so a drop in completions is not read as idleness.
    pub breaker: bool,
    /// The scenario's scheduled changes (`schedule.csv`: routing phases,
    /// arrival phases, review shifts), shaded on the series; empty when
    /// the directory has no such file.
    pub schedule: Vec<Window>,
}

/// Whether `value` holds a `breaker_opened` key at any depth.
fn has_breaker(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k == "breaker_opened" || has_breaker(v)),
        Value::Array(items) => items.iter().any(has_breaker),
        _ => false,
    }
}

/// Whether a result document says requests were generated (true if it
/// does not say).
fn has_requests(result: &Value) -> bool {
    result
        .get("requests")
        .and_then(|r| r.get("generated"))
        .and_then(Value::as_u64)
        .is_none_or(|n| n > 0)
}

/// The `faults` array of a result document as shaded windows. A crash of
/// a spot component (one whose `cost.by_component` entry counts
/// `interruptions`; the loader refuses other crashes of it), or of a
/// replica `NAME[i]` of one, is labelled `spot interruption: NAME`.
fn fault_windows(result: &Value) -> Vec<Window> {
    let Some(items) = result.get("faults").and_then(Value::as_array) else {
        return Vec::new();
    };
    let spot = |target: &str| {
        let owner = target.split_once('[').map_or(target, |(name, _)| name);
        result
            .get("cost")
            .and_then(|c| c.get("by_component"))
            .and_then(|b| b.get(owner))
            .and_then(|c| c.get("interruptions"))
            .is_some()
    };
    items
        .iter()
        .filter_map(|f| {
            let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("");
            let (kind, target) = (text("kind"), text("target"));
            let kind = if kind == "crash" && spot(target) {
                "spot interruption"
            } else {
                kind
            };
            Some(Window {
                start_s: f.get("start_s")?.as_f64()?,
                end_s: f.get("end_s")?.as_f64()?,
                label: format!("{kind}: {target}"),
            })
        })
        .collect()
}

/// Reads a JSON file into a value, naming the file on error.
pub(crate) fn read_json(path: &Path, needed_for: &str) -> Result<Value, PlotError> {
    if !path.is_file() {
        return Err(PlotError::MissingFile {
            path: path.to_path_buf(),
            needed_for: needed_for.to_string(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| PlotError::Json {
        path: path.to_path_buf(),
        message: format!("not valid JSON: {e}"),
    })
}

fn read_optional_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

impl RunData {
    pub(crate) fn read(dir: &Path) -> Result<RunData, PlotError> {
        let result_path = dir.join("result.json");
        let result = read_json(&result_path, "the plot titles and the warm-up")?;
        let name = result
            .get("scenario")
            .and_then(Value::as_str)
            .ok_or_else(|| PlotError::Json {
                path: result_path.clone(),
                message: "no `scenario` name".to_string(),
            })?
            .to_string();
        let warmup_s = result
            .get("warmup_s")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let summary_path = dir.join("summary.csv");
        let summary = if summary_path.is_file() {
            Some(Table::read(&summary_path, "the results table")?)
        } else {
            None
        };
        Ok(RunData {
            dir: dir.to_path_buf(),
            name,
            warmup_s,
            summary,
            cdf: Table::read(&dir.join("latency_cdf.csv"), "the latency CDF plot")?,
            series: Table::read(&dir.join("series.csv"), "the time-series plot")?,
            report_txt: read_optional_text(&dir.join("report.txt")),
            scenario_text: read_optional_text(&dir.join("scenario.yaml")),
            faults: fault_windows(&result),
            requests: has_requests(&result),
            breaker: has_breaker(&result),
            schedule: {
                let path = dir.join("schedule.csv");
                if path.is_file() {
                    crate::schedule::read_schedule(&Table::read(&path, "the shaded schedule")?)?
                } else {
                    Vec::new()
                }
            },
        })
    }
}

/// The latency CDF on a log latency axis.
pub(crate) fn cdf_figure(data: &RunData) -> Result<(Figure, Value, usize), PlotError> {
    let ms = data.cdf.numbers("latency_ms")?;
    let fraction = data.cdf.numbers("fraction")?;
    let points: Vec<(f64, f64)> = ms
        .iter()
        .zip(&fraction)
        .filter(|(m, f)| **m > 0.0 && m.is_finite() && f.is_finite())
        .map(|(&m, &f)| (m, f))
        .collect();
    let n = points.len();
    let title = format!("{}: end-to-end latency CDF", data.name);
    let chart = XyChart {
        title: title.clone(),
        x_label: "latency (ms, log scale)".to_string(),
        y_label: "fraction of requests at or below".to_string(),
        x_log: true,
        series: vec![Series {
            name: "end-to-end latency".to_string(),
            colour: 0,
            points,
            band: Vec::new(),
            mark: Mark::Line,
        }],
        ..XyChart::default()
    };
    let mut spec = base(&title, "");
    spec.insert(
        "transform".into(),
        json!([{ "filter": "datum.latency_ms > 0" }]),
    );
    spec.insert("width".into(), json!(640));
    spec.insert("height".into(), json!(360));
    spec.insert(
        "mark".into(),
        json!({ "type": "line", "interpolate": "step-after" }),
    );
    spec.insert(
        "encoding".into(),
        json!({
            "x": { "field": "latency_ms", "type": "quantitative",
                   "scale": { "type": "log" }, "title": "latency (ms, log scale)" },
            "y": { "field": "fraction", "type": "quantitative",
                   "title": "fraction of requests at or below" },
            "color": { "datum": "end-to-end latency", "scale": palette_scale(), "title": null }
        }),
    );
    Ok((Figure::Xy(chart), Value::Object(spec), n))
}

/// Throughput and latency per interval, the warm-up and `windows` shaded.
pub(crate) fn series_figure(
    data: &RunData,
    windows: &[Window],
) -> Result<(Figure, Value), PlotError> {
    let t = &data.series;
    let start = t.numbers("start_s")?;
    let end = t.numbers("end_s")?;
    let mid: Vec<f64> = start.iter().zip(&end).map(|(a, b)| (a + b) / 2.0).collect();
    let completed = t.numbers("completed")?;
    let pick = |name: &str| -> Result<Vec<(f64, f64)>, PlotError> {
        let v = t.numbers(name)?;
        Ok(mid
            .iter()
            .zip(&v)
            .zip(&completed)
            .map(|((&x, &y), &c)| (x, if c > 0.0 { y } else { f64::NAN }))
            .collect())
    };
    let throughput: Vec<(f64, f64)> = mid
        .iter()
        .zip(t.numbers("throughput_rps")?)
        .map(|(&x, y)| (x, y))
        .collect();
    // With a breaker, failures per second beside completions: the
    // interval's `failed` count over its length.
    let failed = match t.numbers_if_present("failed")? {
        Some(failed) if data.breaker => Some(
            mid.iter()
                .zip(start.iter().zip(&end))
                .zip(&failed)
                .map(|((&x, (&a, &b)), &n)| (x, if b > a { n / (b - a) } else { f64::NAN }))
                .collect::<Vec<(f64, f64)>>(),
        ),
        _ => None,
    };
    let mut shades = Vec::new();
    if data.warmup_s > 0.0 {
        shades.push(Shade {
            from: 0.0,
            to: data.warmup_s,
            label: format!(
                "warm-up ({} s, not counted)",
                crate::style::fmt_num(data.warmup_s)
            ),
            colour: None,
        });
    }
    for (k, w) in windows.iter().enumerate() {
        shades.push(Shade {
            from: w.start_s,
            to: w.end_s,
            label: w.label.clone(),
            colour: Some(1 + k),
        });
    }
    let x_label = "simulated time (s)".to_string();
    let mut top_series = vec![Series {
        name: "completions per second".to_string(),
        colour: 0,
        points: throughput,
        band: Vec::new(),
        mark: Mark::Line,
    }];
    if let Some(points) = failed.clone() {
        top_series.push(Series {
            name: "failed per second".to_string(),
            colour: 3,
            points,
            band: Vec::new(),
            mark: Mark::Line,
        });
    }
    let top = XyChart {
        title: String::new(),
        x_label: x_label.clone(),
        y_label: "throughput (req/s)".to_string(),
        series: top_series,
        shades: shades.clone(),
        ..XyChart::default()
    };
    let replicas = replica_panel(data, &mid, &shades, &x_label)?;
    let kind_panels = kind_gauge_panels(data, &mid, &shades, &x_label)?;
    let workloads = workload_names(t);
    // With several workloads, one p99 line each (an interval without a
    // completion of that workload is a gap), so deployments the workloads
    // reach can be compared; the merged end-to-end lines would hide that.
    let latency_lines = if workloads.is_empty() {
        vec![
            Series {
                name: "p50".to_string(),
                colour: 2,
                points: pick("latency_p50_ms")?,
                band: Vec::new(),
                mark: Mark::Line,
            },
            Series {
                name: "p99".to_string(),
                colour: 1,
                points: pick("latency_p99_ms")?,
                band: Vec::new(),
                mark: Mark::Line,
            },
        ]
    } else {
        let mut lines = Vec::with_capacity(workloads.len());
        for (k, name) in workloads.iter().enumerate() {
            let done = t.numbers(&format!("{name}.completed"))?;
            let p99 = t.numbers(&format!("{name}.latency_p99_ms"))?;
            lines.push(Series {
                name: format!("{name} p99"),
                colour: 1 + k,
                points: mid
                    .iter()
                    .zip(&p99)
                    .zip(&done)
                    .map(|((&x, &y), &c)| (x, if c > 0.0 { y } else { f64::NAN }))
                    .collect(),
                band: Vec::new(),
                mark: Mark::Line,
            });
        }
        lines
    };
    let bottom = XyChart {
        title: String::new(),
        x_label: x_label.clone(),
        y_label: "latency (ms)".to_string(),
        series: latency_lines,
        shades,
        ..XyChart::default()
    };
    // Without requests the two request panels would be empty: keep only
    // the gauges (when there are some to draw).
    let request_panels = data.requests || (replicas.is_none() && kind_panels.is_empty());
    let title = if !request_panels {
        format!("{}: per interval", data.name)
    } else if replicas.is_some() {
        format!(
            "{}: throughput, latency and replicas per interval",
            data.name
        )
    } else {
        format!("{}: throughput and latency per interval", data.name)
    };

    let mut windows_json: Vec<Value> = Vec::new();
    if data.warmup_s > 0.0 {
        windows_json.push(json!({ "start_s": 0.0, "end_s": data.warmup_s, "window": "warm-up" }));
    }
    for w in windows {
        windows_json.push(json!({ "start_s": w.start_s, "end_s": w.end_s, "window": w.label }));
    }
    // Each panel resolves colour per layer: the shade layer's one-colour
    // scale would otherwise merge with the lines' and paint them black.
    let shade_layer = json!({
        "data": { "values": windows_json },
        "mark": { "type": "rect", "opacity": 0.12 },
        "encoding": {
            "x": { "field": "start_s", "type": "quantitative" },
            "x2": { "field": "end_s" },
            "color": { "field": "window", "type": "nominal", "scale": { "range": ["#000000"] } }
        }
    });
    let latency_layer = if workloads.is_empty() {
        json!({ "width": 640, "height": 200, "resolve": { "scale": { "color": "independent" } }, "layer": [
            shade_layer,
            { "transform": [
                { "filter": "datum.completed > 0" },
                { "fold": ["latency_p50_ms", "latency_p99_ms"], "as": ["statistic", "latency_ms"] }
              ],
              "mark": "line", "encoding": {
                "x": { "field": "time_s", "type": "quantitative", "title": x_label },
                "y": { "field": "latency_ms", "type": "quantitative", "title": "latency (ms)" },
                "color": { "field": "statistic", "type": "nominal",
                           "scale": { "range": ["#009E73", "#D55E00"] } }
            } }
        ] })
    } else {
        // A workload's p99 where it completed something in the interval,
        // read as `datum["NAME.column"]`: Vega-Lite would take a dot in a
        // plain field name for nesting.
        let lines: Vec<Value> = workloads
            .iter()
            .map(|name| {
                json!({ "transform": [
                    { "filter": format!("toNumber(datum[{}]) > 0", Value::String(format!("{name}.completed"))) },
                    { "calculate": format!("toNumber(datum[{}])", Value::String(format!("{name}.latency_p99_ms"))), "as": "latency_ms" },
                    { "calculate": Value::String(format!("{name} p99")).to_string(), "as": "workload" }
                  ],
                  "mark": "line", "encoding": {
                    "x": { "field": "time_s", "type": "quantitative", "title": x_label },
                    "y": { "field": "latency_ms", "type": "quantitative", "title": "latency (ms)" },
                    "color": { "field": "workload", "type": "nominal" }
                } })
            })
            .collect();
        let mut layer = vec![shade_layer.clone()];
        layer.extend(lines);
        json!({ "width": 640, "height": 200, "resolve": { "scale": { "color": "independent" } }, "layer": layer })
    };
    let mut spec = base(&title, "");
    spec.insert(
        "transform".into(),
        // Vega-Lite parses only the CSV columns an encoding names as
        // quantitative; `+` on the others would join strings.
        json!([{ "calculate": "(toNumber(datum.start_s) + toNumber(datum.end_s)) / 2", "as": "time_s" }]),
    );
    let throughput_line = if failed.is_some() {
        json!({ "transform": [
            { "calculate": "toNumber(datum.failed) / (toNumber(datum.end_s) - toNumber(datum.start_s))", "as": "failed per second" },
            { "calculate": "toNumber(datum.throughput_rps)", "as": "completions per second" },
            { "fold": ["completions per second", "failed per second"], "as": ["series", "rate"] }
          ],
          "mark": "line", "encoding": {
            "x": { "field": "time_s", "type": "quantitative", "title": x_label },
            "y": { "field": "rate", "type": "quantitative", "title": "throughput (req/s)" },
            "color": { "field": "series", "type": "nominal",
                       "scale": { "range": ["#0072B2", "#CC79A7"] } }
        } })
    } else {
        json!({ "mark": "line", "encoding": {
            "x": { "field": "time_s", "type": "quantitative", "title": x_label },
            "y": { "field": "throughput_rps", "type": "quantitative", "title": "throughput (req/s)" }
        } })
    };
    let request_layers = if request_panels {
        json!([
            { "width": 640, "height": 200, "resolve": { "scale": { "color": "independent" } }, "layer": [
                shade_layer,
                throughput_line
            ] },
            latency_layer
        ])
    } else {
        json!([])
    };
    spec.insert("vconcat".into(), request_layers);
    if let Some((_, columns)) = &replicas {
        if let Some(Value::Array(panels)) = spec.get_mut("vconcat") {
            panels.push(json!({ "width": 640, "height": 200, "resolve": { "scale": { "color": "independent" } }, "layer": [
                shade_layer,
                { "transform": [
                    { "fold": columns, "as": ["gauge", "replicas"] }
                  ],
                  "mark": "line", "encoding": {
                    "x": { "field": "time_s", "type": "quantitative", "title": x_label },
                    "y": { "field": "replicas", "type": "quantitative", "title": "replicas" },
                    "color": { "field": "gauge", "type": "nominal" }
                } }
            ] }));
        }
    }
    if let Some(Value::Array(panels)) = spec.get_mut("vconcat") {
        for (_, column, y_label) in &kind_panels {
            panels.push(json!({ "width": 640, "height": 200, "layer": [
                { "transform": [ { "calculate": format!("toNumber(datum[{}])", Value::String(column.clone())), "as": "value" } ],
                  "mark": "line", "encoding": {
                    "x": { "field": "time_s", "type": "quantitative", "title": x_label },
                    "y": { "field": "value", "type": "quantitative", "title": y_label }
                } }
            ] }));
        }
    }
    spec.insert(
        "resolve".into(),
        json!({ "scale": { "color": "independent" } }),
    );
    let mut panels = if request_panels {
        vec![top, bottom]
    } else {
        Vec::new()
    };
    if let Some((replica_panels, _)) = replicas {
        panels.extend(replica_panels);
    }
    panels.extend(kind_panels.iter().map(|(panel, _, _)| panel.clone()));
    // The panels share the time axis: name it once, under the last.
    let last = panels.len() - 1;
    for panel in &mut panels[..last] {
        panel.x_label.clear();
    }
    Ok((Figure::Stacked { title, panels }, Value::Object(spec)))
}

/// The workloads whose own columns (`NAME.completed`, `NAME.latency_p99_ms`)
/// the series has, in column order; empty for a single-workload run, whose
/// series carries only the end-to-end figures.
fn workload_names(t: &Table) -> Vec<String> {
    t.headers
        .iter()
        .filter_map(|h| h.strip_suffix(".latency_p99_ms"))
        .filter(|name| t.headers.iter().any(|h| *h == format!("{name}.completed")))
        .map(str::to_string)
        .collect()
}

/// The replica panels of a run and the series columns they plot.
type ReplicaPanels = (Vec<XyChart>, Vec<String>);

/// A panel of replicas over time (ready, and booting while any boot) for
/// each deployment whose gauges (`NAME.replicas_ready`,
/// `NAME.replicas_booting`) the series has; `None` if there are none.
/// Returns the panels and the columns they plot.
fn replica_panel(
    data: &RunData,
    mid: &[f64],
    shades: &[Shade],
    x_label: &str,
) -> Result<Option<ReplicaPanels>, PlotError> {
    let t = &data.series;
    let mut columns = Vec::new();
    let deployments: Vec<String> = t
        .headers
        .iter()
        .filter_map(|h| h.strip_suffix(".replicas_ready").map(str::to_string))
        .collect();
    let mut panels = Vec::new();
    for (k, name) in deployments.iter().enumerate() {
        let mut series = Vec::new();
        for (what, suffix) in [("ready", "replicas_ready"), ("booting", "replicas_booting")] {
            let column = format!("{name}.{suffix}");
            let Some(values) = t.numbers_if_present(&column)? else {
                continue;
            };
            if what == "booting" && values.iter().all(|v| *v == 0.0) {
                continue;
            }
            series.push(Series {
                name: format!("{name} {what}"),
                colour: 3 + 2 * k + usize::from(what == "booting"),
                points: mid.iter().copied().zip(values).collect(),
                band: Vec::new(),
                mark: Mark::Line,
            });
            columns.push(column);
        }
        if !series.is_empty() {
            // One panel per deployment, so deployments compared side by
            // side (VMs and containers) each get their own scale.
            panels.push(XyChart {
                title: String::new(),
                x_label: x_label.to_string(),
                y_label: "replicas".to_string(),
                series,
                shades: shades.to_vec(),
                ..XyChart::default()
            });
        }
    }
    if panels.is_empty() {
        return Ok(None);
    }
    Ok(Some((panels, columns)))
}

/// The gauges of a kind that get a panel of their own: the column suffix,
/// the line's name and the axis title.
const KIND_GAUGES: [(&str, &str, &str); 4] = [
    (".backlog", "backlog", "review backlog (items)"),
    (".steps_kept", "steps kept", "training steps kept"),
    (".lag_s", "lag", "consumer lag (s)"),
    (".view_age_s", "view age", "batch view age (s)"),
];

/// One panel per column of [`KIND_GAUGES`] the series has (a review
/// queue's backlog, a training job's steps kept, a stream group's lag in
/// seconds, a batch job's view age), with the column and the axis title.
fn kind_gauge_panels(
    data: &RunData,
    mid: &[f64],
    shades: &[Shade],
    x_label: &str,
) -> Result<Vec<(XyChart, String, String)>, PlotError> {
    let t = &data.series;
    let mut out = Vec::new();
    for header in &t.headers {
        for (suffix, what, y_label) in KIND_GAUGES {
            let Some(name) = header.strip_suffix(suffix) else {
                continue;
            };
            let Some(values) = t.numbers_if_present(header)? else {
                continue;
            };
            out.push((
                XyChart {
                    title: String::new(),
                    x_label: x_label.to_string(),
                    y_label: y_label.to_string(),
                    series: vec![Series {
                        name: format!("{name} {what}"),
                        colour: 3 + out.len(),
                        points: mid.iter().copied().zip(values).collect(),
                        band: Vec::new(),
                        mark: Mark::Line,
                    }],
                    shades: shades.to_vec(),
                    ..XyChart::default()
                },
                header.clone(),
                y_label.to_string(),
            ));
        }
    }
    Ok(out)
}

fn set_url(spec: &mut Value, url: String) {
    if let Some(data) = spec.get_mut("data") {
        data["url"] = json!(url);
    }
}

/// Replaces a spec's `data.url` with the CSV text itself (inline data,
/// still parsed as CSV), so the spec renders without a file beside it.
fn set_inline(spec: &mut Value, csv: &str) {
    if let Some(data) = spec.get_mut("data") {
        *data = json!({ "values": csv, "format": { "type": "csv" } });
    }
}

/// The Vega-Lite specs of a run's plots (`latency_cdf`, `timeseries`, the
/// same specs [`plot_run`] writes, fault windows shaded) built from the
/// run's documents in memory, each with its CSV inline instead of a URL.
pub(crate) fn run_specs(
    result_json: &str,
    series_csv: &str,
    latency_cdf_csv: &str,
) -> Result<Vec<(&'static str, Value)>, PlotError> {
    let result: Value = serde_json::from_str(result_json).map_err(|e| PlotError::Json {
        path: PathBuf::from("result.json"),
        message: format!("not valid JSON: {e}"),
    })?;
    let name = result
        .get("scenario")
        .and_then(Value::as_str)
        .ok_or_else(|| PlotError::Json {
            path: PathBuf::from("result.json"),
            message: "no `scenario` name".to_string(),
        })?
        .to_string();
    let data = RunData {
        dir: PathBuf::new(),
        name,
        warmup_s: result
            .get("warmup_s")
            .and_then(Value::as_f64)
            .unwrap_or(0.0),
        summary: None,
        cdf: Table::parse(Path::new("latency_cdf.csv"), latency_cdf_csv.as_bytes())?,
        series: Table::parse(Path::new("series.csv"), series_csv.as_bytes())?,
        report_txt: None,
        scenario_text: None,
        faults: fault_windows(&result),
        requests: has_requests(&result),
        breaker: has_breaker(&result),
        schedule: Vec::new(),
    };
    let (_, mut cdf, _) = cdf_figure(&data)?;
    set_inline(&mut cdf, latency_cdf_csv);
    let (_, mut series) = series_figure(&data, &data.faults)?;
    set_inline(&mut series, series_csv);
    Ok(vec![("latency_cdf", cdf), ("timeseries", series)])
}

/// Draws every run plot and the report into the output directory.
pub(crate) fn plot_run(dir: &Path, options: &PlotOptions) -> Result<crate::PlotOutput, PlotError> {
    let data = RunData::read(dir)?;
    let out = options.out.clone().unwrap_or_else(|| dir.to_path_buf());
    let mut w = Writer::new(&out, options.format)?;

    let (fig, mut spec, _) = cdf_figure(&data)?;
    set_url(&mut spec, w.data_url(&data.cdf.path));
    w.emit(
        "latency_cdf",
        "End-to-end latency CDF (latency_cdf.csv): the fraction of counted requests that finished within each latency, on a log latency axis.",
        &fig,
        &spec,
    )?;

    // Fault windows of the run first, then its scheduled changes, then
    // any the user asked for.
    let windows: Vec<Window> = data
        .faults
        .iter()
        .chain(&data.schedule)
        .chain(&options.windows)
        .cloned()
        .collect();
    let (fig, mut spec) = series_figure(&data, &windows)?;
    set_url(&mut spec, w.data_url(&data.series.path));
    let about = if data.requests {
        "Throughput and p50/p99 latency per interval of simulated time (series.csv); the shaded warm-up is not counted in the results."
    } else {
        "The components' gauges per interval of simulated time (series.csv); the run generated no requests, so it has no throughput or latency panels."
    };
    w.emit("timeseries", about, &fig, &spec)?;

    let html = html::run_report(&data, &w.plots);
    w.write("report.html", html.as_bytes())?;
    Ok(crate::PlotOutput {
        kind: crate::DirKind::Run,
        files: w.files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> RunData {
        let cdf = b"latency_ms,fraction\n0,0.1\n1.5,0.5\n3,0.9\n12,1\n";
        let series = b"start_s,end_s,completed,throughput_rps,dropped,timed_out,latency_mean_ms,latency_p50_ms,latency_p99_ms,in_flight\n\
0,1,10,10,0,0,2,1.5,3,1\n1,2,0,0,0,0,0,0,0,0\n2,3,12,12,0,0,2.5,2,4,2\n";
        RunData {
            dir: PathBuf::from("."),
            name: "t".to_string(),
            warmup_s: 1.0,
            summary: None,
            cdf: Table::parse(Path::new("latency_cdf.csv"), cdf).unwrap(),
            series: Table::parse(Path::new("series.csv"), series).unwrap(),
            report_txt: None,
            scenario_text: None,
            faults: Vec::new(),
            requests: true,
            breaker: false,
            schedule: Vec::new(),
        }
    }

    /// A run with a circuit breaker plots failed requests per second
    /// (the interval's `failed` over its length) beside completions; a
    /// run without one keeps the single completions line.
    #[test]
    fn a_breaker_run_plots_failed_per_second() {
        let mut d = data();
        let series = b"start_s,end_s,completed,throughput_rps,dropped,timed_out,latency_mean_ms,latency_p50_ms,latency_p99_ms,in_flight,failed\n\
0,0.5,10,20,0,0,2,1.5,3,1,0\n0.5,1,0,0,0,0,0,0,0,0,40\n";
        d.series = Table::parse(Path::new("series.csv"), series).unwrap();
        let result = serde_json::json!({ "components": [ { "calls": { "payments": { "breaker_opened": 1 } } } ] });
        assert!(has_breaker(&result));
        assert!(!has_breaker(&serde_json::json!({ "components": [] })));
        let top = |d: &RunData| {
            let (fig, spec) = series_figure(d, &[]).unwrap();
            let Figure::Stacked { panels, .. } = fig else {
                panic!("stacked panels expected")
            };
            (panels[0].series.clone(), spec.to_string())
        };
        let (lines, spec) = top(&d);
        assert_eq!(lines.len(), 1);
        assert!(!spec.contains("failed per second"));
        d.breaker = true;
        let (lines, spec) = top(&d);
        assert_eq!(lines[1].name, "failed per second");
        assert_eq!(lines[1].points, vec![(0.25, 0.0), (0.75, 80.0)]);
        assert!(spec.contains("toNumber(datum.failed)"));
    }

    #[test]
    fn fault_windows_are_read_from_the_result() {
        let result = serde_json::json!({ "faults": [
            { "kind": "crash", "target": "db", "start_s": 30.0, "end_s": 50.0 }
        ] });
        assert_eq!(
            fault_windows(&result),
            vec![Window {
                start_s: 30.0,
                end_s: 50.0,
                label: "crash: db".to_string()
            }]
        );
        assert!(fault_windows(&serde_json::json!({})).is_empty());
    }

    /// A crash of a spot component, or of a replica of a spot group, is an
    /// interruption; a crash of an on-demand component stays a crash.
    #[test]
    fn spot_crashes_are_labelled_interruptions() {
        let result = serde_json::json!({
            "faults": [
                { "kind": "crash", "target": "gpu", "start_s": 1.0, "end_s": 2.0 },
                { "kind": "crash", "target": "api[3]", "start_s": 1.0, "end_s": 2.0 },
                { "kind": "crash", "target": "db", "start_s": 1.0, "end_s": 2.0 }
            ],
            "cost": { "by_component": {
                "gpu": { "interruptions": 1 },
                "api": { "interruptions": 1 },
                "db": { "total_usd": 1.0 }
            } }
        });
        let labels: Vec<String> = fault_windows(&result)
            .into_iter()
            .map(|w| w.label)
            .collect();
        assert_eq!(
            labels,
            [
                "spot interruption: gpu",
                "spot interruption: api[3]",
                "crash: db"
            ]
        );
    }

    #[test]
    fn the_cdf_plots_every_positive_row_and_renders() {
        let d = data();
        let (fig, spec, n) = cdf_figure(&d).unwrap();
        assert_eq!(n, 3, "the zero-latency row cannot sit on a log axis");
        assert_eq!(fig.series_lengths(), vec![3]);
        assert_eq!(spec["encoding"]["x"]["scale"]["type"], "log");
        let svg = crate::style::render_svg(&fig).unwrap();
        assert!(svg.contains("t: end-to-end latency CDF"));
        let (w, h, rgb) = crate::style::render_rgb(&fig).unwrap();
        assert_eq!(rgb.len(), (w * h * 3) as usize);
        assert!(rgb.iter().any(|&b| b != 255), "something was drawn");
    }

    #[test]
    fn the_series_has_a_point_per_interval_and_shades_warmup_and_windows() {
        let d = data();
        let windows = [Window {
            start_s: 1.5,
            end_s: 2.5,
            label: "fault: db down".to_string(),
        }];
        let (fig, spec) = series_figure(&d, &windows).unwrap();
        assert_eq!(fig.series_lengths(), vec![3, 3, 3]);
        let Figure::Stacked { panels, .. } = &fig else {
            panic!("two panels expected")
        };
        assert_eq!(panels[0].shades.len(), 2);
        assert!(
            panels[1].series[1].points[1].1.is_nan(),
            "an empty interval breaks the line"
        );
        assert!(spec.to_string().contains("fault: db down"));
        crate::style::render_svg(&fig).unwrap();
    }

    #[test]
    fn several_workloads_get_a_p99_line_each_broken_where_one_completed_nothing() {
        let mut d = data();
        let series = b"start_s,end_s,completed,throughput_rps,dropped,timed_out,latency_mean_ms,latency_p50_ms,latency_p99_ms,in_flight,a.completed,a.latency_mean_ms,a.latency_p50_ms,a.latency_p99_ms,b.completed,b.latency_mean_ms,b.latency_p50_ms,b.latency_p99_ms\n\
0,1,10,10,0,0,2,1.5,3,1,4,1,1,2,6,3,3,5\n1,2,3,3,0,0,1,1,1,0,3,1,1,1,0,0,0,0\n2,3,12,12,0,0,2.5,2,4,2,6,2,2,3,6,3,3,6\n";
        d.series = Table::parse(Path::new("series.csv"), series).unwrap();
        assert_eq!(workload_names(&d.series), ["a", "b"]);
        let (fig, spec) = series_figure(&d, &[]).unwrap();
        let Figure::Stacked { panels, .. } = &fig else {
            panic!("stacked panels expected")
        };
        let names: Vec<&str> = panels[1].series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a p99", "b p99"]);
        let b: Vec<f64> = panels[1].series[1].points.iter().map(|p| p.1).collect();
        assert_eq!(b[0], 5.0);
        assert!(b[1].is_nan(), "b completed nothing in the second interval");
        assert_eq!(b[2], 6.0);
        assert!(spec.to_string().contains("b.latency_p99_ms"));
        crate::style::render_svg(&fig).unwrap();
        assert!(workload_names(&data().series).is_empty());
    }

    /// A run without requests (a training job alone) draws its gauges
    /// only: no empty throughput and latency panels. With no gauge either,
    /// the request panels stay (something to draw).
    #[test]
    fn a_run_without_requests_draws_only_its_gauges() {
        let mut d = data();
        let series = b"start_s,end_s,completed,throughput_rps,dropped,timed_out,latency_mean_ms,latency_p50_ms,latency_p99_ms,in_flight,trainer.steps_kept\n\
0,1,0,0,0,0,0,0,0,0,5\n1,2,0,0,0,0,0,0,0,0,9\n";
        d.series = Table::parse(Path::new("series.csv"), series).unwrap();
        d.requests = false;
        let (fig, spec) = series_figure(&d, &[]).unwrap();
        let Figure::Stacked { panels, .. } = &fig else {
            panic!("stacked panels expected")
        };
        assert_eq!(panels.len(), 1);
        assert_eq!(panels[0].series[0].name, "trainer steps kept");
        assert_eq!(spec["vconcat"].as_array().map(Vec::len), Some(1));
        assert!(!spec.to_string().contains("throughput_rps"));
        crate::style::render_svg(&fig).unwrap();
        // Requests, or no gauge to draw: the two request panels are kept.
        let panel_count = |d: &RunData| match series_figure(d, &[]).unwrap().0 {
            Figure::Stacked { panels, .. } => panels.len(),
            _ => 0,
        };
        d.requests = true;
        assert_eq!(panel_count(&d), 3);
        let mut bare = data();
        bare.requests = false;
        assert_eq!(panel_count(&bare), 2);
        assert!(has_requests(&serde_json::json!({})));
        assert!(!has_requests(
            &serde_json::json!({ "requests": { "generated": 0 } })
        ));
    }

    #[test]
    fn in_memory_specs_carry_their_csv_and_the_fault_windows() {
        let result = r#"{"scenario": "t", "warmup_s": 1.0, "faults": [
            {"kind": "crash", "target": "db", "start_s": 1.5, "end_s": 2.5}]}"#;
        let cdf = "latency_ms,fraction\n1.5,0.5\n3,1\n";
        let series = "start_s,end_s,completed,throughput_rps,latency_p50_ms,latency_p99_ms\n0,1,10,10,1.5,3\n";
        let specs = run_specs(result, series, cdf).unwrap();
        let names: Vec<&str> = specs.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["latency_cdf", "timeseries"]);
        assert_eq!(specs[0].1["data"]["values"], cdf);
        assert_eq!(specs[1].1["data"]["values"], series);
        assert_eq!(specs[1].1["data"]["format"]["type"], "csv");
        assert!(specs[1].1.to_string().contains("crash: db"));
        assert!(
            run_specs("{}", series, cdf).is_err(),
            "a result without a name"
        );
    }
}
