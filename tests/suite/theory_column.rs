//! The theory column of `sysdes run` is honest: in every scenario a row
//! either shows a two-moment approximation within its documented 15 %
//! (docs/estimation.md, for SCVs up to 1) or says why there is no
//! prediction; the regressions name the scenarios whose rows were far off
//! (geo-latency +1,132 % to +3,170 %, fault-crash +513 %, hedged fan-out
//! -89 %, power-of-two and least-outstanding balancers -55 % and -65 %).

use crate::{root, sysdes};

/// The theory rows of a scenario's table: (name, method, mean diff %).
fn theory_rows(file: &str) -> Vec<(String, String, Option<f64>)> {
    theory_rows_with_p99(file)
        .into_iter()
        .map(|(name, method, mean, _)| (name, method, mean))
        .collect()
}

/// The theory rows of a scenario's table: (name, method, mean diff %, p99
/// diff %).
fn theory_rows_with_p99(file: &str) -> Vec<(String, String, Option<f64>, Option<f64>)> {
    let out = sysdes(&["run", file]);
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    let mut rows = Vec::new();
    let mut lines = table
        .lines()
        .skip_while(|l| !l.starts_with("theory vs simulation"));
    let Some(_) = lines.next() else {
        return rows;
    };
    let Some(header) = lines.next() else {
        return rows;
    };
    let method_at = header.find("method").expect("a method column");
    let mean_at = header.find("mean ms").expect("a mean column");
    for line in lines.take_while(|l| !l.trim().is_empty()) {
        let name = line[..method_at].trim().to_string();
        let method = line[method_at..mean_at].trim().to_string();
        // The first "diff" figure is the mean's ("+1.9 %"), the second the p99's.
        let cells: Vec<&str> = line[mean_at..].split_whitespace().collect();
        let mut diffs = cells
            .windows(2)
            .filter(|w| w[1] == "%")
            .map(|w| w[0].parse::<f64>().ok());
        let diff = diffs.next().flatten();
        let p99 = diffs.next().flatten();
        rows.push((name, method, diff, p99));
    }
    rows
}

#[test]
fn every_theory_row_is_within_its_bound_or_says_why_not() {
    let mut files: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut two_moment = 0;
    for file in files {
        let file = file.to_str().expect("utf-8").to_string();
        for (name, method, diff) in theory_rows(&file) {
            if let Some(reason) = method.strip_prefix("not predicted: ") {
                assert!(!reason.is_empty(), "{file}: {name}");
                continue;
            }
            // A plain Kingman or Allen-Cunneen row (no calls composed in).
            let plain = (method.contains("Kingman") || method.contains("Allen-Cunneen"))
                && !["through", "then", " of ", "+"]
                    .iter()
                    .any(|w| method.contains(w));
            if method.starts_with('~') && plain {
                let d = diff.unwrap_or_else(|| panic!("{file}: {name}: no mean diff"));
                assert!(
                    d.abs() <= 15.0,
                    "{file}: {name} ({method}) is {d:+.1} % off"
                );
                two_moment += 1;
            }
        }
    }
    assert!(two_moment >= 5, "only {two_moment} two-moment rows checked");
}

#[test]
fn rows_beyond_the_formulas_say_why() {
    let says = |file: &str, name: &str, reason: &str| {
        let rows = theory_rows(&format!("scenarios/{file}.yaml"));
        let row = rows
            .iter()
            .find(|r| r.0 == name)
            .unwrap_or_else(|| panic!("{file}: no theory row {name}: {rows:?}"));
        assert_eq!(row.1, format!("not predicted: {reason}"), "{file}: {name}");
    };
    says("fault-crash", "workload clients", "faults");
    says("fault-crash", "app-2", "faults");
    says("geo-latency", "workload users-ap", "zones and links");
    says("geo-latency", "web", "zones and links");
    says("tail-at-scale", "root-hedged", "hedging");
    says("tail-at-scale", "workload fan-out-hedged", "hedging");
    says("lb-policies", "p1", "power-of-two balancer");
    says(
        "lb-policies",
        "workload via-least-outstanding",
        "least-outstanding balancer",
    );
    says(
        "web-tier",
        "app-1",
        "variability beyond the approximation's checked range (SCV > 1)",
    );
    // What still holds is still predicted: geo-latency's database, the
    // un-hedged fan-out (+0.8 % in docs/estimation.md).
    let rows = theory_rows("scenarios/geo-latency.yaml");
    assert!(
        rows.iter().any(|r| r.0 == "db" && r.1.starts_with('~')),
        "{rows:?}"
    );
    let rows = theory_rows("scenarios/tail-at-scale.yaml");
    assert!(
        rows.iter().any(|r| r.0 == "root" && r.1.starts_with('~')),
        "{rows:?}"
    );
}

/// The notes `sysdes estimate` prints come with the run's theory column.
#[test]
fn the_run_prints_the_estimates_notes() {
    let out = sysdes(&["run", "scenarios/fault-crash.yaml"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("zones, links and faults are not modelled by the estimate"),
        "{table}"
    );
}

/// The JSON `theory` object of a row the table marks `not predicted:
/// REASON` carries that reason and no predicted figure; a row whose
/// assumptions hold keeps the full key set (docs/results.md).
#[test]
fn json_theory_says_not_predicted_without_figures() {
    let result = crate::run_json(&root().join("scenarios/tail-at-scale.yaml"), &[]);
    let hedged = &result["components"]["root-hedged"]["theory"];
    assert_eq!(hedged["not_predicted"], "hedging", "{hedged}");
    for key in ["mean_ms", "p99_ms", "mean_diff", "p99_diff", "utilization"] {
        assert!(hedged.get(key).is_none(), "root-hedged has {key}: {hedged}");
    }
    let workload = &result["workloads"]["fan-out-hedged"]["theory"];
    assert_eq!(workload["not_predicted"], "hedging", "{workload}");
    assert!(workload.get("mean_ms").is_none(), "{workload}");
    let plain = &result["components"]["root"]["theory"];
    let mut keys: Vec<&str> = plain
        .as_object()
        .expect("a theory object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "exact",
            "mean_diff",
            "mean_ms",
            "method",
            "p99_diff",
            "p99_ms",
            "utilization"
        ],
        "{plain}"
    );
    assert!(
        plain["mean_ms"].as_f64().is_some_and(|m| m > 0.0),
        "{plain}"
    );
}

/// Exact rows (`=`) show a p99 within the simulation's statistical error of
/// the prediction: the bound of `exact_predictions_match_every_scenario`
/// (tests/suite/theory.rs), 2.5 x max(6 %, 6 / ((1 - rho) sqrt(n))) for n
/// requests at utilization rho, checked here on the figure the reader sees.
/// lb-policies' `ch5` (M/M/1, rho 0.82, n = 47,721: bound 38 %) reads
/// +30.1 % at the scenario's seed: its load is right (predicted 0.8173 from
/// the ring's key shares, simulated 0.8205) and over seeds 1-8 its p99
/// diff ranges from -12.8 % to +34.1 % around +6.8 % (the mean's from
/// -4.5 % to +9.6 % around +0.2 %): sampling error of a p99, not bias.
#[test]
fn exact_rows_show_a_p99_within_statistical_error() {
    let mut checked = 0;
    for file in [
        "scenarios/lb-policies.yaml",
        "scenarios/mm1.yaml",
        "scenarios/mmc.yaml",
    ] {
        let rows = theory_rows_with_p99(file);
        let json = crate::run_json(&root().join(file), &[]);
        // A workload's error is that of the busiest server on its path.
        let busiest = json["components"]
            .as_object()
            .expect("components")
            .values()
            .filter_map(|c| c["utilization"].as_f64())
            .fold(0.0, f64::max);
        for (name, method, _, p99) in rows {
            if !method.starts_with('=') {
                continue;
            }
            let Some(p99) = p99 else { continue };
            let item = match name.strip_prefix("workload ") {
                Some(w) => &json["workloads"][w],
                None => &json["components"][&name],
            };
            let n = item["latency_ms"]["count"].as_f64().expect("a count");
            let rho = item["theory"]["utilization"].as_f64().unwrap_or(busiest);
            let bound = 2.5 * (6.0 / ((1.0 - rho).max(0.01) * n.max(1.0).sqrt())).max(0.06) * 100.0;
            assert!(
                p99.abs() <= bound,
                "{file}: {name} ({method}) p99 {p99:+.1} % is beyond {bound:.1} %"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} exact p99 rows checked");
}
