//! Every figure a sweep scenario's header tells the reader to look at is in
//! that scenario's sweep output, with values; and a sweep over servers
//! always names its bottleneck (issue 11: `batching-sweep.yaml` wrote an
//! empty `bottleneck` while `utilization:gpu` was 0.641).
//!
//! The figures are read from the header's "What to look at" paragraph: each
//! `identifier` in backquotes and each bare snake_case word, plus a few
//! phrases of prose ("hit ratio", "p99", "utilization"). Runs are shortened
//! to 10 s with 2 replications, so every summary column has an interval.

use std::path::Path;

use crate::{root, sysdes};

/// Names in headers that are plots `sysdes plot` draws, not columns.
const PLOTS: &[&str] = &["latency_vs_load", "heatmap"];

/// Prose a header uses for a figure, and the column (or column prefix)
/// that holds it.
const PHRASES: &[(&str, &str)] = &[
    ("hit ratio", "hit_ratio:"),
    ("p99", "latency_p99_ms"),
    ("utilization", "utilization:"),
    ("offered load", "offered_rps"),
];

/// The "What to look at" paragraph of a scenario's leading comment, as one
/// line of text.
fn what_to_look_at(text: &str) -> String {
    let comment: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .collect();
    let joined = comment.join(" ");
    let at = joined
        .find("What to look at")
        .expect("a sweep scenario's header says what to look at");
    joined[at..].to_owned()
}

/// The identifiers the paragraph names: simple identifiers in backquotes,
/// and snake_case words outside them (commands and paths in backquotes are
/// skipped whole).
fn named_figures(paragraph: &str) -> Vec<String> {
    let mut names = Vec::new();
    let is_ident = |w: &str| {
        !w.is_empty()
            && w.starts_with(|c: char| c.is_ascii_lowercase())
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    for (i, part) in paragraph.split('`').enumerate() {
        if i % 2 == 1 {
            if is_ident(part) {
                names.push(part.to_owned());
            }
            continue;
        }
        for word in
            part.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '/'))
        {
            let word = word.trim_end_matches('.');
            if word.contains('_') && is_ident(word) {
                names.push(word.to_owned());
            }
        }
    }
    names.retain(|n| !PLOTS.contains(&n.as_str()));
    names.dedup();
    names
}

/// A CSV file as a header and rows of cells (no quoted commas in these files'
/// numeric columns).
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).expect("csv exists");
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// Whether some row has a value in the column named `column`.
fn has_values(csv: &(Vec<String>, Vec<Vec<String>>), column: &str) -> bool {
    let Some(i) = csv.0.iter().position(|h| h == column) else {
        return false;
    };
    csv.1
        .iter()
        .any(|r| r.get(i).is_some_and(|c| !c.is_empty()))
}

/// Whether `name` is a filled column of `summary` (as `name`, `name_mean`,
/// or a per-component `name:COMPONENT_mean` / prefix match) or of `runs`.
fn filled(
    name: &str,
    summary: &(Vec<String>, Vec<Vec<String>>),
    runs: &(Vec<String>, Vec<Vec<String>>),
) -> bool {
    let in_summary = summary.0.iter().any(|h| {
        let metric = h.strip_suffix("_mean").unwrap_or(h);
        (h == name
            || metric == name
            || (name.ends_with(':') && metric.starts_with(name))
            || metric.starts_with(&format!("{name}:")))
            && has_values(summary, h)
    });
    in_summary
        || runs
            .0
            .iter()
            .any(|h| (h == name || h.starts_with(&format!("{name}:"))) && has_values(runs, h))
}

#[test]
fn every_figure_a_sweep_header_names_is_in_its_sweep_output() {
    let mut files: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-sweep.yaml"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let mut missing = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("scenario");
        let paragraph = what_to_look_at(&text);
        let dir = std::env::temp_dir().join(format!(
            "sysdes-sweep-figures-{}-{}",
            std::process::id(),
            file.file_stem().and_then(|s| s.to_str()).unwrap_or("x")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let out = sysdes(&[
            "sweep",
            file.to_str().expect("utf-8"),
            "--set",
            "duration=10s",
            "--set",
            "warmup=1s",
            "--set",
            "sweep.replications=2",
            "--out",
            dir.to_str().expect("utf-8"),
        ]);
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let summary = read_csv(&dir.join("summary.csv"));
        let runs = read_csv(&dir.join("runs.csv"));
        let runs_text = std::fs::read_to_string(dir.join("runs.csv")).expect("runs.csv");
        for name in named_figures(&paragraph) {
            // Parameter names and values (`max_batch`, `consistent_hash`)
            // are in runs.csv as text, and a path the paragraph suggests to
            // vary (`--vary ...max_delay=...`) is one too: not figures.
            let is_parameter = runs
                .0
                .iter()
                .take_while(|h| *h != "offered_rps")
                .any(|h| h.split(['.', '#']).any(|part| part == name))
                || runs_text.contains(&format!(",{name},"))
                || paragraph.contains(&format!(".{name}="));
            if !is_parameter && !filled(&name, &summary, &runs) {
                missing.push(format!("{}: `{name}`", file.display()));
            }
        }
        for (phrase, column) in PHRASES {
            if paragraph.contains(phrase) && !filled(column, &summary, &runs) {
                missing.push(format!("{}: \"{phrase}\" ({column})", file.display()));
            }
        }
        // A sweep over servers names its bottleneck in every run.
        if runs.0.iter().any(|h| h.starts_with("utilization:")) {
            let i = runs
                .0
                .iter()
                .position(|h| h == "bottleneck")
                .expect("column");
            for row in &runs.1 {
                if row.get(i).is_none_or(|c| c.is_empty()) {
                    missing.push(format!("{}: empty bottleneck in {row:?}", file.display()));
                    break;
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(
        missing.is_empty(),
        "not in the sweep output:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_paragraph_reader_finds_backquoted_and_bare_names() {
    let names = named_figures(
        "What to look at: `sysdes sweep x.yaml --out d`, then d/summary.csv: \
         latency_p99_ms_mean against `workloads.users.arrival.poisson#value`; the \
         `steady` column and latency_vs_load.",
    );
    assert_eq!(names, ["latency_p99_ms_mean", "steady"]);
}
