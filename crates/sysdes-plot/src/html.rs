//! The self-contained HTML report: plots inlined as SVG, tables, the
//! scenario text and (for sweeps) the manifest. No external references: no
//! scripts, stylesheets, fonts or images are loaded from anywhere.

use std::fmt::Write;

use crate::output::DrawnPlot;
use crate::run::RunData;
use crate::sweep::SweepData;
use crate::table::Table;

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: system-ui, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
figure { margin: 1.5em 0; } figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.85em; }
.note { background: #eef6fb; padding: 0.5em 1em; border-left: 4px solid #0072B2; }
";

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    )
}

/// The SVG text without any XML declaration, ready to inline.
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

fn figures(out: &mut String, plots: &[DrawnPlot]) {
    out.push_str("<h2>Figures</h2>\n");
    for p in plots {
        let _ = write!(
            out,
            "<figure id=\"{stem}\">\n{svg}\n<figcaption><b>{stem}</b> ({stem}.svg, {stem}.png, {stem}.vl.json): {caption}</figcaption>\n</figure>\n",
            stem = escape(&p.stem),
            svg = inline_svg(&p.svg),
            caption = escape(&p.caption),
        );
    }
}

/// An HTML table of `table`'s columns `columns` (all when empty).
fn html_table(out: &mut String, table: &Table, columns: &[usize]) {
    let all: Vec<usize> = (0..table.headers.len()).collect();
    let columns = if columns.is_empty() {
        &all[..]
    } else {
        columns
    };
    out.push_str("<table>\n<tr>");
    for &c in columns {
        let _ = write!(out, "<th>{}</th>", escape(&table.headers[c]));
    }
    out.push_str("</tr>\n");
    for row in &table.rows {
        out.push_str("<tr>");
        for &c in columns {
            let _ = write!(out, "<td>{}</td>", cell(&row[c]));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// A table cell: long decimals shortened for reading (the exact value in
/// a tooltip), everything else as written.
fn cell(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(v) if text.contains('.') && v.is_finite() => format!(
            "<span title=\"{}\">{}</span>",
            escape(text),
            escape(&crate::style::fmt_num(v))
        ),
        _ => escape(text),
    }
}

fn pre(out: &mut String, heading: &str, text: &str) {
    let _ = write!(
        out,
        "<h2>{}</h2>\n<pre>{}</pre>\n",
        escape(heading),
        escape(text)
    );
}

fn footer(out: &mut String) {
    let _ = write!(
        out,
        "<p><small>Made by sysdes {}. Every figure's data is in the CSV named in its caption; the .vl.json beside it restyles it in Vega-Lite.</small></p>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
}

/// The report of one run.
pub(crate) fn run_report(data: &RunData, plots: &[DrawnPlot]) -> String {
    let title = format!("sysdes run: {}", data.name);
    let mut out = head(&title);
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    let _ = writeln!(
        out,
        "<p>Results of one run, from <code>{}</code>.</p>",
        escape(&data.dir.display().to_string())
    );
    if let Some(report) = &data.report_txt {
        pre(&mut out, "Summary", report);
    }
    figures(&mut out, plots);
    if let Some(summary) = &data.summary {
        out.push_str("<h2>Results (summary.csv)</h2>\n");
        html_table(&mut out, summary, &[]);
    }
    if let Some(text) = &data.scenario_text {
        pre(&mut out, "Scenario (scenario.yaml)", text);
    }
    footer(&mut out);
    out
}

/// The report of one sweep.
pub(crate) fn sweep_report(data: &SweepData, plots: &[DrawnPlot]) -> String {
    let title = format!("sysdes sweep: {}", data.name);
    let mut out = head(&title);
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    let params: Vec<String> = data
        .params
        .iter()
        .map(|p| format!("<code>{}</code>", escape(&p.path)))
        .collect();
    let _ = writeln!(
        out,
        "<p>{} points over {}, from <code>{}</code>.</p>",
        data.summary.len(),
        params.join(", "),
        escape(&data.dir.display().to_string())
    );
    for note in &data.notes {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(note));
    }
    figures(&mut out, plots);
    // The headline columns first; the full summary below.
    let t = &data.summary;
    let mut cols: Vec<usize> = Vec::new();
    let mut add = |name: &str| {
        if let Some(i) = t.find(name) {
            if !cols.contains(&i) {
                cols.push(i);
            }
        }
    };
    add("point");
    for p in &data.params {
        add(&p.path);
    }
    for name in [
        "replications",
        "offered_rps_mean",
        "throughput_rps_mean",
        "latency_mean_ms_mean",
        "latency_p50_ms_mean",
        "latency_p99_ms_mean",
        "latency_p99_ms_ci95_low",
        "latency_p99_ms_ci95_high",
        "latency_p999_ms_mean",
        "max_utilization_mean",
    ] {
        add(name);
    }
    out.push_str("<h2>Results (summary.csv, headline columns)</h2>\n");
    html_table(&mut out, t, &cols);
    out.push_str("<details><summary>Every column of summary.csv</summary>\n");
    html_table(&mut out, t, &[]);
    out.push_str("</details>\n");
    pre(&mut out, "Manifest (manifest.json)", &data.manifest_text);
    if let Some(text) = &data.scenario_text {
        pre(&mut out, "Scenario (scenario.yaml)", text);
    }
    footer(&mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
