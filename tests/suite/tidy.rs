//! Tidy output for analysis tools: the typed Parquet files of a sweep and of
//! `run --format parquet` hold the same values as the CSV files, and
//! `runs_long.csv` is `runs.csv` in long form with plain column names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::{Csv, sysdes, sysdes_out, sysdes_out_output, temp_scenario};

/// A short cache sweep: component figures (`hit_ratio:cache`), counts,
/// text metrics and two replications per point.
const CACHE_SWEEP: &str = "name: tidy-cache
seed: 5
duration: 4s
warmup: 1s
workloads:
  - name: users
    target: cache
    arrival: { poisson: 400/s }
    keys: { zipf: { n: 500, s: 1.0 } }
components:
  cache:
    type: cache
    capacity: 50
    policy: lru
    hit_time: 0.2ms
    backend: db
  db:
    type: server
    workers: 4
    service_time: { exponential: 5ms }
sweep:
  vary:
    components.cache.capacity: [10, 100]
  replications: 2
";

fn run_sweep(name: &str) -> PathBuf {
    let file = temp_scenario(&format!("{name}.yaml"), CACHE_SWEEP);
    sysdes_out(
        &format!("tidy-{name}"),
        &["sweep", file.to_str().expect("utf-8"), "--jobs", "2"],
    )
}

/// A Parquet file as its column names and rows of fields.
fn read_parquet(path: &Path) -> (Vec<String>, Vec<Vec<Field>>) {
    let file = std::fs::File::open(path).expect("parquet file");
    let reader = SerializedFileReader::new(file).expect("a Parquet file");
    let names = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let rows = reader
        .get_row_iter(None)
        .expect("rows")
        .map(|r| {
            r.expect("row")
                .get_column_iter()
                .map(|(_, f)| f.clone())
                .collect()
        })
        .collect();
    (names, rows)
}

/// Whether a Parquet field holds the value the CSV cell writes.
fn same_value(field: &Field, cell: &str) -> bool {
    match field {
        Field::Null => cell.is_empty(),
        Field::ULong(n) => cell == n.to_string(),
        Field::Double(x) => cell.parse::<f64>().is_ok_and(|c| c == *x),
        Field::Str(s) => cell == s,
        Field::Bool(b) => cell == b.to_string(),
        _ => false,
    }
}

fn assert_same_table(csv_text: &str, parquet: &Path) -> (Vec<String>, Vec<Vec<Field>>) {
    let Csv { header, rows } = Csv::parse(csv_text);
    let (names, fields) = read_parquet(parquet);
    assert_eq!(
        names,
        sysdes_sweep::tidy::tidy_columns(&header),
        "{}: the CSV's columns, tidy",
        parquet.display()
    );
    assert_eq!(fields.len(), rows.len(), "{}: rows", parquet.display());
    for (r, (row, typed)) in rows.iter().zip(&fields).enumerate() {
        for ((name, cell), field) in header.iter().zip(row).zip(typed) {
            assert!(
                same_value(field, cell),
                "{} row {r} column {name}: Parquet {field:?}, CSV `{cell}`",
                parquet.display()
            );
        }
    }
    (names, fields)
}

fn column<'a>(table: &'a (Vec<String>, Vec<Vec<Field>>), name: &str) -> Vec<&'a Field> {
    let name = sysdes_sweep::tidy::tidy_name(name);
    let i = table
        .0
        .iter()
        .position(|n| *n == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", table.0));
    table.1.iter().map(|row| &row[i]).collect()
}

#[test]
fn sweep_parquet_files_hold_the_csv_values_with_types() {
    let dir = run_sweep("wide");
    let runs_csv = std::fs::read_to_string(dir.join("runs.csv")).expect("runs.csv");
    let runs = assert_same_table(&runs_csv, &dir.join("runs.parquet"));
    assert_eq!(runs.1.len(), 4, "2 points x 2 replications");
    // Counts are unsigned integers, figures floats, ids text, flags booleans.
    for (name, kind) in [
        ("run_index", "ULong"),
        ("seed", "ULong"),
        ("completed", "ULong"),
        ("reads:cache", "ULong"),
        ("latency_mean_ms", "Double"),
        ("hit_ratio:cache", "Double"),
        ("components.cache.capacity#value", "Double"),
        ("components.cache.capacity", "Str"),
        ("bottleneck", "Str"),
        ("steady", "Bool"),
    ] {
        for f in column(&runs, name) {
            let tag = format!("{f:?}");
            assert!(
                tag.starts_with(kind) || *f == Field::Null,
                "{name}: {tag}, expected {kind}"
            );
        }
    }
    let summary_csv = std::fs::read_to_string(dir.join("summary.csv")).expect("summary.csv");
    let summary = assert_same_table(&summary_csv, &dir.join("summary.parquet"));
    assert_eq!(
        column(&summary, "replications"),
        [&Field::ULong(2), &Field::ULong(2)]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A name pandas, R's `read.csv` and Polars keep unchanged:
/// `^[A-Za-z_][A-Za-z0-9_]*$`.
fn is_tidy(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[test]
fn every_tidy_file_has_plain_column_names() {
    let dir = run_sweep("names");
    for name in ["runs.parquet", "summary.parquet"] {
        let (names, rows) = read_parquet(&dir.join(name));
        assert!(!rows.is_empty(), "{name}: rows");
        for n in &names {
            assert!(is_tidy(n), "{name}: column `{n}`");
        }
    }
    for name in ["runs_long.csv", "summary_long.csv"] {
        let text = std::fs::read_to_string(dir.join(name)).expect("long CSV");
        for n in Csv::parse(&text).header {
            assert!(is_tidy(&n), "{name}: column `{n}`");
        }
    }
    // The wide CSV files keep their names (users' files depend on them).
    let runs_csv = std::fs::read_to_string(dir.join("runs.csv")).expect("runs.csv");
    assert!(
        Csv::parse(&runs_csv)
            .header
            .iter()
            .any(|n| n == "hit_ratio:cache")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_long_summary_is_summary_csv_one_row_per_point_and_metric() {
    let dir = run_sweep("summary-long");
    let Csv {
        header: wide_header,
        rows: wide_rows,
    } = Csv::parse(&std::fs::read_to_string(dir.join("summary.csv")).expect("summary.csv"));
    let long_text =
        std::fs::read_to_string(dir.join("summary_long.csv")).expect("summary_long.csv");
    let Csv { header, rows } = Csv::parse(&long_text);
    assert_eq!(
        header,
        [
            "point",
            "components_cache_capacity",
            "components_cache_capacity_value",
            "replications",
            "component",
            "metric",
            "n",
            "mean",
            "ci_low",
            "ci_high"
        ]
    );
    // The Parquet file holds the CSV's values, typed.
    let typed = assert_same_table(&long_text, &dir.join("summary_long.parquet"));
    assert!(
        column(&typed, "n")
            .iter()
            .all(|f| matches!(f, Field::ULong(_)))
    );
    let cell = |point: &str, name: &str| -> String {
        let i = wide_header.iter().position(|h| h == name).expect("column");
        wide_rows.iter().find(|r| r[0] == point).expect("point")[i].clone()
    };
    let metrics = (wide_header.len() - 5) / 3;
    assert_eq!(rows.len(), 2 * metrics, "a row per point and metric");
    for row in &rows {
        let name = if row[4].is_empty() {
            row[5].clone()
        } else {
            format!("{}:{}", row[5], row[4])
        };
        assert_eq!(row[3], cell(&row[0], "replications"));
        assert_eq!(row[7], cell(&row[0], &format!("{name}_mean")), "{name}");
        assert_eq!(row[8], cell(&row[0], &format!("{name}_ci95_low")), "{name}");
        assert_eq!(
            row[9],
            cell(&row[0], &format!("{name}_ci95_high")),
            "{name}"
        );
    }
    assert!(
        rows.iter()
            .any(|r| r[4] == "cache" && r[5] == "hit_ratio" && r[6] == "2"),
        "the cache's hit ratio over two replications"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_long_csv_is_runs_csv_one_row_per_run_and_metric() {
    let dir = run_sweep("long");
    let Csv {
        header: wide_header,
        rows: wide_rows,
    } = Csv::parse(&std::fs::read_to_string(dir.join("runs.csv")).expect("runs.csv"));
    let long_text = std::fs::read_to_string(dir.join("runs_long.csv")).expect("runs_long.csv");
    let Csv { header, rows } = Csv::parse(&long_text);
    assert_eq!(
        header,
        [
            "run",
            "point",
            "replication",
            "seed",
            "components_cache_capacity",
            "components_cache_capacity_value",
            "component",
            "metric",
            "value"
        ]
    );
    for name in &header {
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{name}: R's read.csv would rename it"
        );
    }
    // Every long row is the wide cell of its run and column.
    let wide: BTreeMap<(String, String), String> = wide_rows
        .iter()
        .flat_map(|row| {
            wide_header
                .iter()
                .zip(row)
                .map(|(h, c)| ((row[0].clone(), h.clone()), c.clone()))
        })
        .collect();
    let mut per_run: BTreeMap<String, usize> = BTreeMap::new();
    for row in &rows {
        let column = if row[6].is_empty() {
            row[7].clone()
        } else {
            format!("{}:{}", row[7], row[6])
        };
        let cell = wide
            .get(&(row[0].clone(), column.clone()))
            .unwrap_or_else(|| panic!("run {} has no column {column} in runs.csv", row[0]));
        assert_eq!(&row[8], cell, "run {} {column}", row[0]);
        assert_eq!(
            Some(&row[5]),
            wide.get(&(row[0].clone(), "components.cache.capacity#value".to_owned()))
        );
        *per_run.entry(row[0].clone()).or_default() += 1;
    }
    // One row per numeric metric: every metric column but the text ones.
    let text = ["bottleneck", "steady", "stopped"];
    let numeric = wide_header.len() - 6 - text.len();
    assert_eq!(per_run.len(), 4);
    assert!(per_run.values().all(|n| *n == numeric), "{per_run:?}");
    assert!(
        rows.iter()
            .any(|r| r[6] == "cache" && r[7] == "hit_ratio" && !r[8].is_empty()),
        "the cache's hit ratio is a (component, metric) pair"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_format_parquet_is_the_csv_typed() {
    let file = temp_scenario("tidy-run.yaml", crate::GOOD);
    let file = file.to_str().expect("utf-8");
    let csv = sysdes(&["run", file, "--format", "csv"]);
    assert!(csv.status.success());
    let (dir, parquet) = sysdes_out_output("tidy-run", &["run", file, "--format", "parquet"]);
    // stdout (a pipe here) and DIR/summary.parquet are the same file.
    let written = std::fs::read(dir.join("summary.parquet")).expect("summary.parquet");
    assert_eq!(parquet.stdout, written);
    let table = assert_same_table(
        &String::from_utf8_lossy(&csv.stdout),
        &dir.join("summary.parquet"),
    );
    assert_eq!(column(&table, "scope")[0], &Field::Str("system".into()));
    assert!(matches!(column(&table, "completed")[0], Field::ULong(n) if *n > 0));
    // With --out, every table of the run: the series and the CDF are their
    // CSV files typed, components and workloads the JSON's figures, long.
    for name in ["series", "latency_cdf"] {
        let csv = std::fs::read_to_string(dir.join(format!("{name}.csv"))).expect("csv");
        let typed = assert_same_table(&csv, &dir.join(format!("{name}.parquet")));
        assert!(!typed.1.is_empty(), "{name}: rows");
    }
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("result.json")).expect("result.json"),
    )
    .expect("JSON");
    let components = read_parquet(&dir.join("components.parquet"));
    assert_eq!(components.0, ["component", "type", "metric", "value"]);
    for (name, object) in json["components"].as_object().expect("components") {
        let rows: Vec<&Vec<Field>> = components
            .1
            .iter()
            .filter(|r| r[0] == Field::Str(name.clone()))
            .collect();
        let value = |metric: &str| {
            rows.iter()
                .find(|r| r[2] == Field::Str(metric.into()))
                .map(|r| r[3].clone())
        };
        assert_eq!(
            value("utilization"),
            object["utilization"].as_f64().map(Field::Double),
            "{name}"
        );
        assert_eq!(
            value("latency_p99_ms"),
            object["latency_ms"]["p99"].as_f64().map(Field::Double),
            "{name}"
        );
        assert!(
            rows.iter()
                .all(|r| r[1] == Field::Str(object["type"].as_str().expect("type").into())),
            "{name}: its type on every row"
        );
    }
    let workloads = read_parquet(&dir.join("workloads.parquet"));
    assert_eq!(workloads.0, ["workload", "metric", "value"]);
    let (name, users) = json["workloads"]
        .as_object()
        .and_then(|w| w.iter().next())
        .expect("a workload");
    assert!(workloads.1.contains(&vec![
        Field::Str(name.clone()),
        Field::Str("completed".into()),
        Field::Double(users["requests"]["completed"].as_f64().expect("count")),
    ]));
    for file in [
        "summary",
        "components",
        "workloads",
        "series",
        "latency_cdf",
    ] {
        for n in read_parquet(&dir.join(format!("{file}.parquet"))).0 {
            assert!(is_tidy(&n), "{file}.parquet: column `{n}`");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A table without its wall-clock columns (names containing `wall`).
fn without_wall(table: (Vec<String>, Vec<Vec<Field>>)) -> (Vec<String>, Vec<Vec<Field>>) {
    let keep: Vec<usize> = (0..table.0.len())
        .filter(|&i| !table.0[i].contains("wall"))
        .collect();
    (
        keep.iter().map(|&i| table.0[i].clone()).collect(),
        table
            .1
            .iter()
            .map(|row| keep.iter().map(|&i| row[i].clone()).collect())
            .collect(),
    )
}

#[test]
fn tidy_files_do_not_depend_on_the_job_count() {
    let file = temp_scenario("tidy-jobs.yaml", CACHE_SWEEP);
    let mut dirs = Vec::new();
    for jobs in ["1", "2"] {
        let dir = sysdes_out(
            &format!("tidy-jobs{jobs}"),
            &["sweep", file.to_str().expect("utf-8"), "--jobs", jobs],
        );
        dirs.push(dir);
    }
    for name in ["runs.parquet", "summary.parquet"] {
        assert_eq!(
            without_wall(read_parquet(&dirs[0].join(name))),
            without_wall(read_parquet(&dirs[1].join(name))),
            "{name}"
        );
    }
    let long = |dir: &Path| -> Vec<String> {
        std::fs::read_to_string(dir.join("runs_long.csv"))
            .expect("runs_long.csv")
            .lines()
            .filter(|l| !l.contains("wall"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(long(&dirs[0]), long(&dirs[1]), "runs_long.csv");
    // The long summary's wall-clock figure is a row (`wall_time_s`).
    let summary_long = |dir: &Path| -> Vec<String> {
        std::fs::read_to_string(dir.join("summary_long.csv"))
            .expect("summary_long.csv")
            .lines()
            .filter(|l| !l.contains("wall"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        summary_long(&dirs[0]),
        summary_long(&dirs[1]),
        "summary_long.csv"
    );
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}
