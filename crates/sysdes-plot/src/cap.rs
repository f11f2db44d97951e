//! The CAP plot of a sweep over a replicated store: availability (overall
//! and during faults) and the stale-read rate against the swept parameter,
//! with 95 % confidence bands when there are replications. Drawn whenever
//! `summary.csv` has the consistency columns (`availability_mean`,
//! `stale_read_rate_mean`, see `docs/consistency.md`).
//!
//! Availability and the stale-read rate get a panel each over the same x
//! axis, each y axis fitted to its data (availability lives near 1, stale
//! reads near 0): the trade-off reads off the two panels (a quorum or
//! replication setting that buys availability during a partition pays in
//! stale reads).

use serde_json::{Value, json};

use crate::PlotError;
use crate::chart::{BarGroup, Bars, Figure, Mark, Series, XyChart};
use crate::sweep::{SweepData, XAxis, group_rows, short};
use crate::vega::{base, field, palette_scale};

/// The metrics drawn, with their legend labels, in palette order.
const METRICS: [(&str, &str); 3] = [
    ("availability", "availability"),
    ("availability_during_faults", "availability during faults"),
    ("stale_read_rate", "stale-read rate"),
];

/// Whether the sweep's summary has consistency columns worth a CAP plot.
pub(crate) fn has_consistency(data: &SweepData) -> bool {
    METRICS.iter().any(|(m, _)| {
        data.summary
            .numbers_if_present(&format!("{m}_mean"))
            .ok()
            .flatten()
            .is_some_and(|v| v.iter().any(|x| x.is_finite()))
    })
}

/// The metrics present with at least one number, with their palette index.
fn present(data: &SweepData) -> Result<Vec<(usize, &'static str, &'static str)>, PlotError> {
    let mut out = Vec::new();
    for (i, &(m, label)) in METRICS.iter().enumerate() {
        if let Some(v) = data.summary.numbers_if_present(&format!("{m}_mean"))? {
            if v.iter().any(|x| x.is_finite()) {
                out.push((i, m, label));
            }
        }
    }
    Ok(out)
}

/// A share's confidence bounds, clamped to [0, 1]; NaN where unknown.
fn bounds(data: &SweepData, metric: &str) -> Result<(Vec<f64>, Vec<f64>), PlotError> {
    let t = &data.summary;
    let n = t.len();
    let lo = t
        .numbers_if_present(&format!("{metric}_ci95_low"))?
        .unwrap_or_else(|| vec![f64::NAN; n]);
    let hi = t
        .numbers_if_present(&format!("{metric}_ci95_high"))?
        .unwrap_or_else(|| vec![f64::NAN; n]);
    Ok((
        lo.into_iter().map(|x| x.clamp(0.0, 1.0)).collect(),
        hi.into_iter().map(|x| x.clamp(0.0, 1.0)).collect(),
    ))
}

/// The CAP plot: lines over a numeric axis, or bars when the swept
/// parameter is not a number.
pub(crate) fn cap_plot(
    data: &SweepData,
    axis: Option<&XAxis>,
) -> Result<(Figure, Value), PlotError> {
    match axis {
        Some(axis) => lines(data, axis),
        None => bars(data),
    }
}

fn lines(data: &SweepData, axis: &XAxis) -> Result<(Figure, Value), PlotError> {
    let t = &data.summary;
    let metrics = present(data)?;
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
    let mut series = Vec::new();
    for (g, (key, rows)) in groups.iter().enumerate() {
        let mut rows = rows.clone();
        rows.sort_by(|&a, &b| axis.values[a].total_cmp(&axis.values[b]));
        for &(colour, metric, label) in &metrics {
            let mean = t.numbers(&format!("{metric}_mean"))?;
            let (lo, hi) = bounds(data, metric)?;
            let points = rows.iter().map(|&r| (axis.values[r], mean[r])).collect();
            let band = if bands {
                rows.iter()
                    .filter(|&&r| lo[r].is_finite() && hi[r].is_finite())
                    .map(|&r| (axis.values[r], lo[r], hi[r]))
                    .collect()
            } else {
                Vec::new()
            };
            series.push(Series {
                name: if single {
                    label.to_string()
                } else {
                    format!("{label} ({key})")
                },
                colour: if single {
                    colour
                } else {
                    g * METRICS.len() + colour
                },
                points,
                band,
                // Availability with dots, the stale-read rate as a plain line.
                mark: if metric == "stale_read_rate" {
                    Mark::Line
                } else {
                    Mark::LinePoints
                },
            });
        }
    }
    let reps = if bands { " (mean, 95% CI band)" } else { "" };
    let title = format!(
        "{}: availability and stale reads vs {}{reps}",
        data.name,
        short(&axis.label)
    );
    // Two panels, each fitted to its data: availability sits near 1 and the
    // stale-read rate near 0, so one shared 0-1 axis flattens both.
    let (stale, available): (Vec<Series>, Vec<Series>) = series
        .into_iter()
        .partition(|se| se.name.starts_with("stale-read rate"));
    let panel = |series: Vec<Series>, what: &str| XyChart {
        title: String::new(),
        x_label: axis.label.clone(),
        x_log: axis.log,
        x_integer: axis.integer,
        y_label: what.to_string(),
        series,
        y_fit: true,
        ..XyChart::default()
    };
    let panels: Vec<XyChart> = [(available, "availability"), (stale, "stale-read rate")]
        .into_iter()
        .filter(|(s, _)| !s.is_empty())
        .map(|(s, what)| panel(s, what))
        .collect();

    let x = json!({ "field": field(&axis.column), "type": "quantitative", "title": axis.label });
    let mut layers = Vec::new();
    for &(_, metric, label) in &metrics {
        let colour = json!({ "datum": label, "scale": palette_scale(), "title": "measure" });
        if bands {
            layers.push(json!({
                "mark": { "type": "errorband", "opacity": 0.2 },
                "encoding": { "x": x,
                              "y": { "field": field(&format!("{metric}_ci95_low")), "type": "quantitative" },
                              "y2": { "field": field(&format!("{metric}_ci95_high")) },
                              "color": colour }
            }));
        }
        layers.push(json!({
            "mark": { "type": "line", "point": true },
            "encoding": { "x": x,
                          "y": { "field": field(&format!("{metric}_mean")), "type": "quantitative",
                                 "title": format!("share{reps}"), "scale": { "zero": false } },
                          "color": colour }
        }));
    }
    let mut spec = base(&title, "");
    spec.insert("width".into(), json!(640));
    spec.insert("height".into(), json!(360));
    spec.insert("layer".into(), Value::Array(layers));
    Ok((Figure::Stacked { title, panels }, Value::Object(spec)))
}

fn bars(data: &SweepData) -> Result<(Figure, Value), PlotError> {
    let t = &data.summary;
    let metrics = present(data)?;
    let replicated = data.replicated()?;
    let categories: Vec<String> = (0..t.len())
        .map(|r| {
            data.params
                .iter()
                .map(|p| p.text[r].clone())
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect();
    let mut groups = Vec::new();
    for &(colour, metric, label) in &metrics {
        let (lo, hi) = bounds(data, metric)?;
        groups.push(BarGroup {
            name: label.to_string(),
            colour,
            values: t.numbers(&format!("{metric}_mean"))?,
            ci: if replicated {
                lo.into_iter().zip(hi).collect()
            } else {
                Vec::new()
            },
        });
    }
    let x_label = data
        .params
        .iter()
        .map(|p| p.path.as_str())
        .collect::<Vec<_>>()
        .join(" / ");
    let title = format!(
        "{}: availability and stale reads by {}",
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
        y_label: format!("share{reps}"),
        categories,
        groups,
        hline: None,
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
    let folded: Vec<String> = metrics
        .iter()
        .map(|(_, m, _)| format!("{m}_mean"))
        .collect();
    transform.push(json!({ "fold": folded, "as": ["measure", "share"] }));
    let mut spec = base(&title, "");
    spec.insert("width".into(), json!(640));
    spec.insert("height".into(), json!(360));
    spec.insert("transform".into(), Value::Array(transform));
    spec.insert("mark".into(), json!("bar"));
    spec.insert(
        "encoding".into(),
        json!({
            "x": { "field": field(&category), "type": "nominal", "sort": null, "title": x_label },
            "xOffset": { "field": "measure" },
            "y": { "field": "share", "type": "quantitative", "title": format!("share{reps}"),
                   "scale": { "domain": [0, 1] } },
            "color": { "field": "measure", "type": "nominal", "scale": palette_scale() }
        }),
    );
    Ok((figure, Value::Object(spec)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::x_axis;
    use std::path::PathBuf;

    fn fixture(name: &str, manifest: &str, summary: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sysdes-plot-cap-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("manifest.json"), manifest).unwrap();
        std::fs::write(dir.join("summary.csv"), summary).unwrap();
        dir
    }

    const HEADER: &str = "point,components.kv.read_quorum,components.kv.read_quorum#value,replications,offered_rps_mean,latency_p50_ms_mean,latency_p99_ms_mean,availability_mean,availability_ci95_low,availability_ci95_high,availability_during_faults_mean,availability_during_faults_ci95_low,availability_during_faults_ci95_high,stale_read_rate_mean,stale_read_rate_ci95_low,stale_read_rate_ci95_high";

    #[test]
    fn numeric_parameter_gives_lines_with_bands() {
        let summary = format!(
            "{HEADER}\n\
             0,1,1,5,100,1,5,1.0,1.0,1.0,1.0,1.0,1.0,0.30,0.28,0.32\n\
             1,2,2,5,100,2,6,0.97,0.95,0.99,0.67,0.6,0.74,0.02,0.01,0.03\n\
             2,3,3,5,100,3,7,0.9,0.85,1.02,0.3,0.2,0.4,0.0,-0.01,0.01\n"
        );
        let dir = fixture(
            "lines",
            r#"{"scenario": "kv.yaml", "parameters": ["components.kv.read_quorum"]}"#,
            &summary,
        );
        let data = SweepData::read(&dir).unwrap();
        assert!(has_consistency(&data));
        let axis = x_axis(&data).unwrap().unwrap();
        let (fig, spec) = cap_plot(&data, Some(&axis)).unwrap();
        assert_eq!(fig.series_lengths(), vec![3, 3, 3]);
        let Figure::Stacked { panels, .. } = &fig else {
            panic!("two panels expected")
        };
        // Availability above, stale reads below, each axis fitted to its data.
        assert_eq!(panels.len(), 2);
        assert!(panels.iter().all(|p| p.y_fit));
        assert_eq!(panels[1].series[0].name, "stale-read rate");
        // Bands are clamped to shares.
        assert!(
            panels
                .iter()
                .flat_map(|p| &p.series)
                .flat_map(|s| &s.band)
                .all(|&(_, lo, hi)| (0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi))
        );
        let text = spec.to_string();
        assert!(text.contains("stale_read_rate_ci95_low") && text.contains("errorband"));
        crate::style::render_svg(&fig).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn text_parameter_gives_bars_and_missing_fault_column_is_skipped() {
        let dir = fixture(
            "bars",
            r#"{"scenario": "kv.yaml", "parameters": ["components.kv.mode"]}"#,
            "point,components.kv.mode,components.kv.mode#value,replications,availability_mean,availability_during_faults_mean,stale_read_rate_mean\n\
             0,leader,,1,0.67,,0.0\n1,leaderless,,1,1.0,,0.12\n",
        );
        let data = SweepData::read(&dir).unwrap();
        assert!(has_consistency(&data));
        assert!(x_axis(&data).unwrap().is_none());
        let (fig, _spec) = cap_plot(&data, None).unwrap();
        assert_eq!(fig.series_lengths(), vec![2, 2]);
        crate::style::render_svg(&fig).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn plotting_a_synthetic_store_sweep_directory_draws_the_cap_plot() {
        let summary = format!(
            "{HEADER}\n\
             0,1,1,3,100,1,5,1.0,1.0,1.0,1.0,1.0,1.0,0.30,0.28,0.32\n\
             1,2,2,3,100,2,6,0.9,0.85,0.95,0.67,0.6,0.74,0.0,0.0,0.0\n"
        );
        let dir = fixture(
            "dir",
            r#"{"scenario": "kv.yaml", "parameters": ["components.kv.read_quorum"]}"#,
            &summary,
        );
        let options = crate::PlotOptions {
            format: crate::ImageFormat::Svg,
            ..crate::PlotOptions::default()
        };
        let out = crate::plot_sweep_dir(&dir, &options).unwrap();
        let names: Vec<String> = out
            .files
            .iter()
            .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        for f in [
            "cap.svg",
            "cap.vl.json",
            "latency_vs_read_quorum.svg",
            "report.html",
        ] {
            assert!(names.iter().any(|n| n == f), "{f} in {names:?}");
        }
        let svg = std::fs::read_to_string(dir.join("cap.svg")).unwrap();
        assert!(svg.contains("stale-read rate"));
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        assert!(html.contains("CAP trade-off"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_sweep_without_a_store_has_no_cap_plot() {
        let dir = fixture(
            "nostore",
            r#"{"scenario": "mm1.yaml", "parameters": ["x"]}"#,
            "point,x,x#value,replications,latency_p99_ms_mean\n0,1,1,1,5\n",
        );
        let data = SweepData::read(&dir).unwrap();
        assert!(!has_consistency(&data));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
