//! The storage-tier scenarios (`type: storage`) teach what their headers
//! and docs/course/storage-tiers.md say: every figure the headers name is
//! in the result, small operations favour the volume and the file system
//! over the object store, a hot S3 prefix throttles down to its request
//! rate, and large objects favour the object store's per-connection
//! bandwidth over the shared bandwidth of the other two.

use crate::sysdes_ok;

/// Runs `file` at full length and returns its JSON result.
fn run(file: &str) -> serde_json::Value {
    let out = sysdes_ok(&["run", file, "--format", "json"]);
    serde_json::from_slice(&out.stdout).expect("JSON result")
}

fn figure(json: &serde_json::Value, component: &str, name: &str) -> f64 {
    json["components"][component][name]
        .as_f64()
        .unwrap_or_else(|| panic!("{component} has no `{name}`"))
}

fn latency(json: &serde_json::Value, workload: &str, stat: &str) -> f64 {
    json["workloads"][workload]["latency_ms"][stat]
        .as_f64()
        .unwrap_or_else(|| panic!("{workload} has no {stat}"))
}

#[test]
fn small_operations_favour_block_and_a_hot_prefix_is_throttled() {
    let json = run("scenarios/storage-tiers.yaml");
    for c in ["ebs", "efs", "s3", "s3-hot"] {
        for name in [
            "operations",
            "reads",
            "writes",
            "bytes_read",
            "bytes_written",
            "throttled",
            "iops_utilization",
            "bandwidth_utilization",
            "stored_gb_mean",
        ] {
            figure(&json, c, name);
        }
        // Counts are integers in the JSON.
        assert!(json["components"][c]["bytes_read"].is_u64(), "{c}");
    }
    let (ebs, efs, s3) = (
        latency(&json, "small-ebs", "mean"),
        latency(&json, "small-efs", "mean"),
        latency(&json, "small-s3", "mean"),
    );
    assert!(ebs < efs && efs < s3, "means {ebs} {efs} {s3}");
    // M/D/1 at the 3,000 IOPS gate (rho 0.5: 0.167 ms) + 1 ms + 4 KiB at
    // 125 MiB/s (0.031 ms): 1.198 ms; the run is 25 s of 1,500/s.
    assert!((ebs - 1.198).abs() < 0.03, "ebs mean {ebs}");
    // Half the volume's IOPS; 4,096 bytes per operation.
    let ops = figure(&json, "ebs", "operations");
    assert!((figure(&json, "ebs", "iops_utilization") - 0.5).abs() < 0.02);
    assert_eq!(
        figure(&json, "ebs", "bytes_read") + figure(&json, "ebs", "bytes_written"),
        ops * 4096.0
    );
    // 8,000 GETs/s on one prefix of 5,500/s: 1 - 5500/8000 = 0.3125 refused.
    let arrivals = json["components"]["s3-hot"]["arrivals"]
        .as_f64()
        .expect("arrivals");
    let share = figure(&json, "s3-hot", "throttled") / arrivals;
    assert!((share - 0.3125).abs() < 0.01, "throttled share {share}");
    assert_eq!(figure(&json, "s3", "throttled"), 0.0);
}

#[test]
fn large_objects_favour_the_object_stores_own_connections() {
    let json = run("scenarios/storage-tiers-large.yaml");
    let p99 = |w| latency(&json, w, "p99");
    assert!(p99("large-s3") < p99("large-ebs"), "s3 vs ebs");
    assert!(p99("large-ebs") < p99("efs-a") && p99("large-ebs") < p99("efs-b"));
    // S3: 100 ms + 64 MiB at 85 MB/s = 889.5 ms, every read.
    assert!((latency(&json, "large-s3", "mean") - 889.5).abs() < 0.5);
    // The shared pipes are busy 80 MiB/s over 125 and 100 MiB/s.
    assert!((figure(&json, "ebs", "bandwidth_utilization") - 0.64).abs() < 0.03);
    assert!((figure(&json, "efs", "bandwidth_utilization") - 0.8).abs() < 0.03);
    assert_eq!(figure(&json, "s3", "bandwidth_utilization"), 0.0);
}
