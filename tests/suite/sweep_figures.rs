//! Every figure a sweep scenario's header tells the reader to look at is in
//! that scenario's sweep output, with values; and a sweep over servers
//! always names its bottleneck (issue 11: `batching-sweep.yaml` wrote an
//! empty `bottleneck` while `utilization:gpu` was 0.641).
//!
//! Every other scenario's header is held to the same rule for the
//! component figures it names (a key of a component in the run's JSON):
//! a sweep over it carries them too.
//!
//! Every station kind with a capacity has its `utilization:NAME` column
//! and competes for `bottleneck`; components without one have `null`
//! utilization in JSON and no column.
//!
//! The figures are read from the header's "What to look at" paragraph: each
//! `identifier` in backquotes and each bare snake_case word, plus a few
//! phrases of prose ("hit ratio", "p99", "utilization"). Runs are shortened
//! to 10 s with 2 replications, so every summary column has an interval.

use std::path::Path;

use crate::{Csv, root, run_json, sysdes_out, temp_scenario};

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
/// line of text; `None` when the header has none.
fn what_to_look_at(text: &str) -> Option<String> {
    let joined = crate::header_comment(text);
    let at = joined.find("What to look at")?;
    Some(joined[at..].to_owned())
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

/// Whether some row has a value in the column named `column`.
fn has_values(csv: &Csv, column: &str) -> bool {
    let Some(i) = csv.position(column) else {
        return false;
    };
    csv.rows
        .iter()
        .any(|r| r.get(i).is_some_and(|c| !c.is_empty()))
}

/// Whether `name` is a filled column of `summary` (as `name`, `name_mean`,
/// or a per-component `name:COMPONENT_mean` / prefix match) or of `runs`.
fn filled(name: &str, summary: &Csv, runs: &Csv) -> bool {
    let in_summary = summary.header.iter().any(|h| {
        let metric = h.strip_suffix("_mean").unwrap_or(h);
        (h == name
            || metric == name
            || (name.ends_with(':') && metric.starts_with(name))
            || metric.starts_with(&format!("{name}:")))
            && has_values(summary, h)
    });
    in_summary
        || runs
            .header
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
        let paragraph =
            what_to_look_at(&text).expect("a sweep scenario's header says what to look at");
        let tag = file.file_stem().and_then(|s| s.to_str()).unwrap_or("x");
        let (summary, runs) = sweep_csvs(file, tag, &crate::SHORT_SWEEP);
        for name in named_figures(&paragraph) {
            // Parameter names and values (`max_batch`, `consistent_hash`)
            // are in runs.csv as text, and a path the paragraph suggests to
            // vary (`--vary ...max_delay=...`) is one too: not figures.
            let is_parameter = runs
                .header
                .iter()
                .take_while(|h| *h != "offered_rps")
                .any(|h| h.split(['.', '#']).any(|part| part == name))
                || runs.rows.iter().any(|r| r.contains(&name))
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
        if runs.header.iter().any(|h| h.starts_with("utilization:")) {
            let i = runs.col("bottleneck");
            for row in &runs.rows {
                if row.get(i).is_none_or(|c| c.is_empty()) {
                    missing.push(format!("{}: empty bottleneck in {row:?}", file.display()));
                    break;
                }
            }
        }
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

/// A sweep of `file` with `args` into a fresh directory: its summary.csv
/// and runs.csv.
fn sweep_csvs(file: &Path, tag: &str, args: &[&str]) -> (Csv, Csv) {
    let mut all = vec!["sweep", file.to_str().expect("utf-8")];
    all.extend_from_slice(args);
    let dir = sysdes_out(&format!("sweep-figures-{tag}"), &all);
    let csvs = (
        Csv::read(&dir.join("summary.csv")),
        Csv::read(&dir.join("runs.csv")),
    );
    let _ = std::fs::remove_dir_all(&dir);
    csvs
}

/// The numeric keys of the components of a JSON result (a stream group's
/// `GROUP.NAME` also as `NAME`): the component figures a header can name.
fn component_figure_keys(json: &serde_json::Value) -> Vec<String> {
    let mut keys = Vec::new();
    for c in json["components"].as_object().expect("components").values() {
        for (k, v) in c.as_object().expect("component") {
            if v.is_number() {
                let short = k.rsplit('.').next().unwrap_or(k);
                for key in [k.as_str(), short] {
                    if !keys.iter().any(|x| x == key) {
                        keys.push(key.to_owned());
                    }
                }
            }
        }
    }
    keys
}

#[test]
fn every_component_figure_any_header_names_is_in_a_sweep_of_it() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for (file, name) in crate::scenarios::every_scenario() {
        if name.ends_with("-sweep") {
            continue; // The test above holds them to the whole paragraph.
        }
        let text = std::fs::read_to_string(&file).expect("scenario");
        let Some(paragraph) = what_to_look_at(&text) else {
            continue;
        };
        // Fault windows must lie inside the run: those keep their length
        // and are swept over their own seed (one point, the same run).
        let faults = text.lines().any(|l| l.starts_with("faults:"));
        let short: &[&str] = if faults {
            &[]
        } else {
            &["--set", "duration=10s", "--set", "warmup=1s"]
        };
        let json = run_json(&file, short);
        let keys = component_figure_keys(&json);
        let seed = format!("seed={}", json["seed"]);
        let mut args = vec!["--vary", seed.as_str(), "--set", "sweep.replications=2"];
        args.extend_from_slice(short);
        let (summary, runs) = sweep_csvs(&file, &name, &args);
        for figure in named_figures(&paragraph) {
            if keys.contains(&figure) {
                checked += 1;
                if !filled(&figure, &summary, &runs) {
                    missing.push(format!("{name}: `{figure}`"));
                }
            }
        }
        let has_utilization = json["components"]
            .as_object()
            .expect("components")
            .values()
            .any(|c| c["utilization"].is_number());
        if paragraph.contains("utilization")
            && has_utilization
            && !filled("utilization:", &summary, &runs)
        {
            missing.push(format!("{name}: \"utilization\""));
        }
        if paragraph.contains("hit ratio") && !filled("hit_ratio:", &summary, &runs) {
            missing.push(format!("{name}: \"hit ratio\""));
        }
    }
    assert!(checked > 50, "the headers name figures: {checked}");
    assert!(
        missing.is_empty(),
        "named in a header, not in a sweep of it:\n{}",
        missing.join("\n")
    );
}

/// Every station kind with a capacity (a cache with workers, a queue's
/// consumers, a store's replicas, servers) has its `utilization:NAME`
/// column in runs.csv and summary.csv and competes for `bottleneck`; a
/// cache without workers and a load balancer have neither column nor
/// number (`null` in JSON). Here the cache's one hit worker is the busiest
/// (about 0.5 and 0.7 at the two points): a sweep that looked only at
/// servers would have named `worker` or `db`.
const STATIONS: &str = "name: stations
seed: 3
duration: 20s
warmup: 2s
workloads:
  - name: readers
    target: cache
    arrival: { poisson: 400/s }
    keys: { zipf: { n: 100, s: 1.0 } }
  - name: lookups
    target: memo
    arrival: { poisson: 50/s }
    keys: { zipf: { n: 100, s: 1.0 } }
  - name: producers
    target: gate
    arrival: { poisson: 150/s }
  - name: clients
    target: kv
    arrival: { poisson: 200/s }
    ops: { read: 0.7, write: 0.3 }
    keys: { zipf: { n: 1000, s: 0.9 } }
components:
  cache:
    type: cache
    capacity: 50
    policy: lru
    hit_time: { exponential: 2ms }
    workers: 1
    backend: db
  memo:
    type: cache
    capacity: 50
    policy: lru
    hit_time: 0.2ms
    backend: db
  db:
    type: server
    workers: 8
    service_time: { exponential: 5ms }
  gate:
    type: load_balancer
    backends: [jobs]
  jobs:
    type: queue
    consumers: { target: worker, concurrency: 4 }
  worker:
    type: server
    workers: 4
    service_time: { exponential: 10ms }
  kv:
    type: store
    mode: leaderless
    replicas: 3
    read_quorum: 1
    write_quorum: 1
    workers: 2
    read_time: { exponential: 1ms }
    write_time: { exponential: 2ms }
sweep:
  vary:
    workloads.readers.arrival.poisson: [300/s, 450/s]
  replications: 2
";

#[test]
fn every_station_kind_has_a_utilization_column_and_can_be_the_bottleneck() {
    let file = temp_scenario("stations-sweep.yaml", STATIONS);
    let (summary, runs) = sweep_csvs(&file, "stations", &[]);
    let stations = ["cache", "db", "jobs", "worker", "kv"];
    for s in stations {
        let column = format!("utilization:{s}");
        assert!(has_values(&runs, &column), "{column} in runs.csv");
        for suffix in ["mean", "ci95_low", "ci95_high"] {
            let column = format!("utilization:{s}_{suffix}");
            assert!(has_values(&summary, &column), "{column} in summary.csv");
        }
    }
    for none in ["memo", "gate"] {
        assert!(
            runs.position(&format!("utilization:{none}")).is_none(),
            "{none} has no capacity: {:?}",
            runs.header
        );
    }
    let at = |name: &str| runs.col(name);
    for (i, row) in runs.rows.iter().enumerate() {
        // The bottleneck is the busiest of the utilization columns, and
        // each column is the run's JSON utilization, to the bit.
        let utilization = |s: &str| -> f64 {
            row[at(&format!("utilization:{s}"))]
                .parse()
                .expect("number")
        };
        let busiest = stations
            .iter()
            .copied()
            .max_by(|a, b| utilization(a).total_cmp(&utilization(b)))
            .expect("stations");
        assert_eq!(row[at("bottleneck")], busiest, "run {i}");
        assert_eq!(busiest, "cache", "run {i}: the hit worker is the busiest");
        assert_eq!(
            row[at("max_utilization")].parse::<f64>().expect("number"),
            utilization(busiest)
        );
        let index = i.to_string();
        let json = run_json(&file, &["--run-index", &index]);
        for s in stations {
            assert_eq!(
                json["components"][s]["utilization"].as_f64(),
                Some(utilization(s)),
                "run {i}: {s}"
            );
        }
        for none in ["memo", "gate"] {
            assert!(
                json["components"][none]["utilization"].is_null(),
                "run {i}: {none} is not 0 % busy: {}",
                json["components"][none]
            );
        }
    }
}

#[test]
fn each_store_has_its_consistency_and_sweeps_keep_both_stale_read_names() {
    let file = root().join("scenarios/quorum-tuning.yaml");
    let short = ["--set", "duration=10s", "--set", "warmup=1s"];
    let json = run_json(&file, &short);
    let stores: Vec<(&String, &serde_json::Value)> = json["components"]
        .as_object()
        .expect("components")
        .iter()
        .filter(|(_, c)| c["type"] == "store")
        .collect();
    assert_eq!(stores.len(), 4);
    for (name, c) in &stores {
        assert_eq!(
            c["consistency"]["stale_read_rate"], c["stale_read_ratio"],
            "{name} has its own consistency object"
        );
    }
    let seed = format!("seed={}", json["seed"]);
    let mut args = vec!["--vary", seed.as_str(), "--set", "sweep.replications=2"];
    args.extend_from_slice(&short);
    let (summary, runs) = sweep_csvs(&file, "quorum-tuning", &args);
    let cell = |name: &str| runs.column(name)[0].to_owned();
    // The first store's, under the old name and the JSON's.
    assert_eq!(cell("stale_read_rate"), cell("stale_read_ratio"));
    let (first, _) = stores[0];
    assert_eq!(
        cell("stale_read_ratio"),
        cell(&format!("stale_read_ratio:{first}"))
    );
    for (name, _) in &stores {
        for figure in ["stale_read_ratio", "availability", "lost_writes"] {
            let column = format!("{figure}:{name}_mean");
            assert!(has_values(&summary, &column), "{column}");
        }
    }
}
