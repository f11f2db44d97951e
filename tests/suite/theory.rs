//! Theory beside simulation: on every scenario, where the prediction is
//! exact, the simulated figures must agree with it. A disagreement beyond
//! statistical error is a bug in the model or in the theory.

use crate::{root, run_json, sysdes};

/// Relative tolerance on a mean measured over `n` requests at utilization
/// `rho`: the statistical error of a queue's mean grows like 1/(1 - rho) and
/// shrinks like 1/sqrt(n). `6 / ((1 - rho) sqrt(n))` reproduces the
/// tolerances of shared/validation.md at n = 10^6 (rho 0.5: 1.2 %, 0.8: 3 %,
/// 0.9: 6 %); never below 6 %. Tail quantiles are 2-5x noisier: 2.5x.
fn mean_tolerance(rho: f64, n: f64) -> f64 {
    (6.0 / ((1.0 - rho).max(0.01) * n.max(1.0).sqrt())).max(0.06)
}
const P99_FACTOR: f64 = 2.5;

#[test]
fn exact_predictions_match_every_scenario() {
    let mut checked = 0;
    let mut files: Vec<_> = std::fs::read_dir(root().join("scenarios"))
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for file in files {
        let v = run_json(&file, &[]);
        let busiest = v["components"]
            .as_object()
            .expect("components")
            .values()
            .filter_map(|c| c["utilization"].as_f64())
            .fold(0.0, f64::max);
        for scope in ["components", "workloads"] {
            let Some(items) = v[scope].as_object() else {
                continue;
            };
            for (name, item) in items {
                let t = &item["theory"];
                if t["exact"] != true {
                    continue;
                }
                let what = format!("{}: {scope}.{name} ({})", file.display(), t["method"]);
                let rho = t["utilization"].as_f64().unwrap_or(busiest);
                let n = item["latency_ms"]["count"].as_f64().unwrap_or(0.0);
                let tolerance = mean_tolerance(rho, n);
                let mean = t["mean_diff"]
                    .as_f64()
                    .expect("an exact method predicts the mean");
                assert!(
                    mean.abs() < tolerance,
                    "{what}: mean differs by {:.1} % (tolerance {:.1} %)",
                    mean * 100.0,
                    tolerance * 100.0
                );
                if let Some(p99) = t["p99_diff"].as_f64() {
                    let tolerance = P99_FACTOR * tolerance;
                    assert!(
                        p99.abs() < tolerance,
                        "{what}: p99 differs by {:.1} % (tolerance {:.1} %)",
                        p99 * 100.0,
                        tolerance * 100.0
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 10,
        "only {checked} exact predictions were checked"
    );
}

#[test]
fn estimate_reproduces_erlang_c_and_explains_itself() {
    let file = root().join("scenarios/mmc.yaml");
    let out = sysdes(&[
        "estimate",
        file.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let pool = &v["components"]["pool"];
    // validation.md: c 4, lambda 3.2 (per mean service time 1 ms): mean T
    // 1.7455, p99 6.893.
    assert!((pool["mean_ms"].as_f64().expect("mean") - 1.7455).abs() < 5e-5);
    assert!((pool["p99_ms"].as_f64().expect("p99") - 6.893).abs() < 5e-4);
    assert_eq!(pool["method"]["exact"], true);
    assert!((v["capacity"]["max_open_rps"].as_f64().expect("max") - 4000.0).abs() < 1e-6);

    let out = sysdes(&[
        "estimate",
        file.to_str().expect("utf-8"),
        "--explain",
        "--slo",
        "p99=5ms",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Erlang C = 0.5964"), "{text}");
    assert!(text.contains("meeting the SLO"), "{text}");
    let out = sysdes(&[
        "estimate",
        file.to_str().expect("utf-8"),
        "--slo",
        "p98=5ms",
    ]);
    assert_eq!(out.status.code(), Some(2), "a bad SLO is an argument error");
}

/// Every way an SLO search can come up empty tells the student why.
#[test]
fn an_slo_that_cannot_be_sized_says_why() {
    let say = |file: &str, slo: &str| {
        let path = root().join(file);
        let out = sysdes(&["estimate", path.to_str().expect("utf-8"), "--slo", slo]);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    // Exponential 12 ms service alone has p99 = 12 ms x ln 100 = 55.3 ms.
    assert!(
        say("scenarios/ride-hailing-eta.yaml", "p99=50ms").contains("cannot be met at any rate")
    );
    assert!(say("scenarios/closed-loop.yaml", "p99=100ms").contains("has none"));
    // Log-normal mixture service: no exact tail, so no p99 prediction.
    assert!(say("scenarios/web-tier.yaml", "p99=50ms").contains("try an SLO on the mean"));
}
