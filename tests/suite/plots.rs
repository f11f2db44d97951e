//! Plots and the HTML report, through the binary: every file decodes or
//! parses, the plotted data matches the CSV it came from, the report has no
//! external references, and bad directories are clear errors.

use std::path::{Path, PathBuf};

use crate::{Csv, sysdes, sysdes_ok, sysdes_out, temp_scenario};

const SMALL: &str = "name: plot-small
duration: 20s
warmup: 2s
workloads:
  - name: users
    target: server
    arrival: { poisson: 200/s }
components:
  server:
    type: server
    service_time: { exponential: 3ms }
";

/// A fresh, empty directory for one test, created.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = crate::fresh_dir(&format!("plots-{name}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Parses an SVG file as XML and returns the point count of each polyline.
fn polyline_lengths(path: &Path) -> Vec<usize> {
    let text = std::fs::read_to_string(path).expect("svg readable");
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not well-formed XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .map(|n| {
            n.attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .count()
        })
        .collect()
}

/// Parses an SVG file as XML and returns the text of its `<text>` elements.
fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("svg readable");
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} is not well-formed XML: {e}", path.display()));
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

/// Decodes a PNG file fully and returns its size.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("png readable");
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} has no PNG signature",
        path.display()
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png header decodes");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png image decodes");
    (info.width, info.height)
}

fn vega(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("spec readable"))
        .expect("spec is JSON")
}

fn assert_self_contained(html_path: &Path) -> String {
    let html = std::fs::read_to_string(html_path).expect("report.html readable");
    for bad in [
        "src=\"http",
        "<link",
        "<script src",
        "<img src=\"http",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(bad), "report.html references `{bad}`");
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    html
}

#[test]
fn run_out_draws_plots_whose_data_matches_the_csv() {
    let file = temp_scenario("plot-small.yaml", SMALL);
    let dir = sysdes_out("plots-run", &["run", s(&file)]);

    // The CDF: one polyline point per CSV row (all latencies are > 0 here).
    let cdf_rows = Csv::read(&dir.join("latency_cdf.csv")).rows.len();
    assert!(cdf_rows > 10);
    let lines = polyline_lengths(&dir.join("latency_cdf.svg"));
    assert_eq!(lines.iter().max(), Some(&cdf_rows), "polylines {lines:?}");
    assert_eq!(png_size(&dir.join("latency_cdf.png")), (1600, 1000));
    let spec = vega(&dir.join("latency_cdf.vl.json"));
    assert_eq!(spec["data"]["url"], "latency_cdf.csv");
    assert_eq!(spec["encoding"]["x"]["field"], "latency_ms");
    assert_eq!(spec["encoding"]["x"]["scale"]["type"], "log");

    // The time series: the throughput line has one point per interval.
    let intervals = Csv::read(&dir.join("series.csv")).rows.len();
    let lines = polyline_lengths(&dir.join("timeseries.svg"));
    assert!(
        lines.contains(&intervals),
        "{intervals} intervals, polylines {lines:?}"
    );
    png_size(&dir.join("timeseries.png"));
    assert_eq!(
        vega(&dir.join("timeseries.vl.json"))["data"]["url"],
        "series.csv"
    );

    let html = assert_self_contained(&dir.join("report.html"));
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("plot-small"));
    assert!(
        html.contains("poisson: 200/s"),
        "the scenario text is in the report"
    );
}

/// A two-parameter sweep: a numeric rate and a categorical policy, two
/// replications per point.
fn write_sweep(dir: &Path) {
    let manifest = r#"{
  "sysdes_version": "0.1.0",
  "scenario": "scenarios/hockey-stick.yaml",
  "parameters": ["workloads.users.arrival.poisson", "components.lb.policy"],
  "metrics": ["latency_p99_ms"]
}"#;
    let mut csv = String::from(
        "point,workloads.users.arrival.poisson,workloads.users.arrival.poisson#value,components.lb.policy,components.lb.policy#value,replications",
    );
    let metrics = [
        "offered_rps",
        "latency_mean_ms",
        "latency_p50_ms",
        "latency_p99_ms",
        "latency_p999_ms",
        "utilization:api",
    ];
    for m in metrics {
        csv.push_str(&format!(",{m}_mean,{m}_ci95_low,{m}_ci95_high"));
    }
    csv.push('\n');
    let mut point = 0;
    for policy in ["random", "power_of_two"] {
        for rate in [100.0, 200.0, 300.0, 400.0] {
            let base = if policy == "random" { 2.0 } else { 1.0 };
            let p99 = base * 1000.0 / (500.0 - rate);
            csv.push_str(&format!("{point},{rate}/s,{rate},{policy},,2"));
            for (m, v) in
                metrics
                    .iter()
                    .zip([rate, p99 / 4.0, p99 / 5.0, p99, p99 * 1.5, rate / 500.0])
            {
                let _ = m;
                csv.push_str(&format!(",{v},{},{}", v * 0.9, v * 1.1));
            }
            csv.push('\n');
            point += 1;
        }
    }
    std::fs::write(dir.join("manifest.json"), manifest).expect("write manifest");
    std::fs::write(dir.join("summary.csv"), csv).expect("write summary");
}

#[test]
fn a_sweep_gets_latency_vs_load_a_heatmap_and_a_report() {
    let base = fresh_dir("sweep");
    let dir = base.join("sweep");
    std::fs::create_dir_all(&dir).expect("sweep dir");
    write_sweep(&dir);
    let figs = base.join("figs");
    sysdes_ok(&[
        "plot",
        s(&dir),
        "--out",
        s(&figs),
        "--slo",
        "p99=8ms",
        "--format",
        "both",
    ]);

    // One p99 line per policy, each with one point per rate.
    let lines = polyline_lengths(&figs.join("latency_vs_load.svg"));
    assert_eq!(
        lines.iter().filter(|&&n| n == 4).count(),
        2,
        "polylines {lines:?}"
    );
    png_size(&figs.join("latency_vs_load.png"));
    let spec = vega(&figs.join("latency_vs_load.vl.json"));
    assert_eq!(spec["data"]["url"], "../sweep/summary.csv");
    let text = spec.to_string();
    assert!(text.contains("offered_rps_mean"));
    assert!(
        text.contains("latency_p99_ms_ci95_low"),
        "CI band in the spec"
    );

    // The same percentiles against the busiest server's utilization.
    let lines = polyline_lengths(&figs.join("latency_vs_utilization.svg"));
    assert_eq!(
        lines.iter().filter(|&&n| n == 4).count(),
        2,
        "polylines {lines:?}"
    );
    let spec = vega(&figs.join("latency_vs_utilization.vl.json")).to_string();
    assert!(
        spec.contains("utilization:api_mean"),
        "x is the utilization column"
    );

    // The heatmap: one labelled cell per summary row.
    let texts = svg_texts(&figs.join("heatmap.svg"));
    for label in ["5", "6.667", "10", "20", "2.5", "3.333"] {
        assert!(
            texts.iter().any(|t| t == label),
            "cell {label} in the heatmap: {texts:?}"
        );
    }
    png_size(&figs.join("heatmap.png"));
    assert_eq!(
        vega(&figs.join("heatmap.vl.json"))["data"]["url"],
        "../sweep/summary.csv"
    );

    let html = assert_self_contained(&figs.join("report.html"));
    assert_eq!(
        html.matches("<svg").count(),
        3,
        "load, utilization and heatmap plots"
    );
    assert!(
        html.contains("hockey-stick"),
        "the title names the scenario"
    );
    assert!(html.contains("Capacity at the SLO"), "the capacity note");
    assert!(
        html.contains("&quot;parameters&quot;"),
        "the manifest, escaped"
    );
}

#[test]
fn a_sweep_over_names_gets_bars() {
    let dir = fresh_dir("bars");
    std::fs::write(
        dir.join("manifest.json"),
        r#"{"scenario": "lb-policies", "parameters": ["components.lb.policy"], "metrics": []}"#,
    )
    .expect("manifest");
    std::fs::write(
        dir.join("summary.csv"),
        "point,components.lb.policy,replications,offered_rps_mean,latency_mean_ms_mean,latency_p99_ms_mean\n\
         0,random,1,400,12,80\n1,round_robin,1,400,9,40\n2,power_of_two,1,400,8,30\n",
    )
    .expect("summary");
    sysdes_ok(&["plot", s(&dir), "--format", "svg"]);
    let texts = svg_texts(&dir.join("latency_by_value.svg"));
    for name in ["random", "round_robin", "power_of_two"] {
        assert!(
            texts.iter().any(|t| t == name),
            "category {name}: {texts:?}"
        );
    }
    assert!(
        !dir.join("latency_by_value.png").exists(),
        "--format svg writes no PNG"
    );
    assert_self_contained(&dir.join("report.html"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plot_errors_are_clear_and_exit_2() {
    let missing = std::env::temp_dir().join("sysdes-plots-no-such-dir");
    let out = sysdes(&["plot", s(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sysdes-plots-no-such-dir: no such directory"),
        "{err}"
    );

    let empty = fresh_dir("empty");
    let out = sysdes(&["plot", s(&empty)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a run directory"));

    let bad = fresh_dir("bad-csv");
    write_sweep(&bad);
    let summary = std::fs::read_to_string(bad.join("summary.csv")).expect("summary");
    let broken = summary.replacen(",2,100,", ",2,lots,", 1);
    std::fs::write(bad.join("summary.csv"), broken).expect("write");
    let out = sysdes(&["plot", s(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("summary.csv") && err.contains("line 2"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    let out = sysdes(&["plot", s(&bad), "--slo", "p99=fast"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid SLO"));

    let run = fresh_dir("run-no-cdf");
    std::fs::write(
        run.join("result.json"),
        r#"{"scenario": "x", "warmup_s": 0}"#,
    )
    .expect("write");
    let out = sysdes(&["plot", s(&run)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("latency_cdf.csv: missing"), "{err}");
    for dir in [empty, bad, run] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

const TWO_WORKLOADS: &str = "name: plot-two
duration: 20s
warmup: 2s
workloads:
  - name: to-fast
    target: fast
    arrival: { poisson: 200/s }
  - name: to-slow
    target: slow
    arrival: { poisson: 50/s }
components:
  fast:
    type: server
    workers: 8
    service_time: { exponential: 1ms }
  slow:
    type: server
    workers: 8
    service_time: { exponential: 20ms }
";

#[test]
fn series_csv_has_per_workload_columns_and_the_plot_a_p99_line_each() {
    let file = temp_scenario("plot-two.yaml", TWO_WORKLOADS);
    let dir = sysdes_out("plots-two-workloads", &["run", s(&file)]);
    let series = Csv::read(&dir.join("series.csv"));
    let column = |name: &str| series.col(name);
    let completed = column("completed");
    let mut per_workload = Vec::new();
    for w in ["to-fast", "to-slow"] {
        for c in [
            "completed",
            "latency_mean_ms",
            "latency_p50_ms",
            "latency_p99_ms",
        ] {
            column(&format!("{w}.{c}"));
        }
        per_workload.push(column(&format!("{w}.completed")));
    }
    // Every completion in an interval is one workload's.
    let rows = &series.rows;
    assert!(rows.len() >= 100, "{} intervals", rows.len());
    for (i, row) in rows.iter().enumerate() {
        let n = |k: usize| row[k].parse::<u64>().expect("a count");
        assert_eq!(
            per_workload.iter().map(|&k| n(k)).sum::<u64>(),
            n(completed),
            "row {i}"
        );
    }
    // The latency panel has one p99 line per workload, named in its legend.
    let texts = svg_texts(&dir.join("timeseries.svg"));
    for name in ["to-fast p99", "to-slow p99"] {
        assert!(texts.iter().any(|t| t == name), "{name} not in {texts:?}");
    }
    let spec = std::fs::read_to_string(dir.join("timeseries.vl.json")).expect("spec");
    assert!(
        spec.contains("to-slow.latency_p99_ms"),
        "the Vega-Lite spec plots it too"
    );

    // One workload: no per-workload columns, the end-to-end p50/p99 lines.
    let file = temp_scenario("plot-small.yaml", SMALL);
    let dir = sysdes_out("plots-one-workload", &["run", s(&file)]);
    let header = Csv::read(&dir.join("series.csv")).header;
    assert!(
        !header.iter().any(|h| h.ends_with(".latency_p99_ms")),
        "{header:?}"
    );
    let texts = svg_texts(&dir.join("timeseries.svg"));
    assert!(texts.iter().any(|t| t == "p99"), "{texts:?}");
}
