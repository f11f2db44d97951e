//! The `consistency` part of a run's report: the JSON object (documented key
//! by key in `docs/consistency.md`) and the table section. Only runs whose
//! scenario has a replicated store carry one.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::table::{number, thousands};
use sysdes_stats::{ConsistencyReport, GuaranteeCount};

/// The JSON `consistency` object.
pub(crate) fn consistency_json(c: &ConsistencyReport) -> Value {
    let k = &c.k_staleness;
    let t = &c.t_visibility;
    let a = &c.availability;
    let l = &c.linearizability;
    let b = &c.bounds;
    // P(k-staleness < K) for K = 1, 2, ...: the PBS "one of the last K
    // versions" probability, up to the largest k seen.
    let total: u64 = k.counts.iter().sum();
    let mut seen = 0;
    let within: Vec<f64> = k
        .counts
        .iter()
        .take(k.max as usize + 1)
        .map(|&n| {
            seen += n;
            if total > 0 {
                seen as f64 / total as f64
            } else {
                1.0
            }
        })
        .collect();
    let guarantee =
        |g: &GuaranteeCount| json!({ "checked": g.checked, "violations": g.violations });
    json!({
        "reads": c.reads,
        "writes": c.writes,
        "failed_reads": c.failed_reads,
        "failed_writes": c.failed_writes,
        "stale_reads": c.stale_reads,
        "stale_read_rate": c.stale_read_rate,
        "k_staleness": {
            "mean": k.mean,
            "p50": k.p50,
            "p90": k.p90,
            "p99": k.p99,
            "p999": k.p999,
            "max": k.max,
            "within": within,
        },
        "t_visibility_ms": {
            "mean": t.mean_ms,
            "p50": t.p50_ms,
            "p90": t.p90_ms,
            "p99": t.p99_ms,
            "p999": t.p999_ms,
            "max": t.max_ms,
            "count": t.count,
        },
        "session_violations": {
            "read_your_writes": guarantee(&c.sessions.read_your_writes),
            "monotonic_reads": guarantee(&c.sessions.monotonic_reads),
            "monotonic_writes": guarantee(&c.sessions.monotonic_writes),
            "writes_follow_reads": guarantee(&c.sessions.writes_follow_reads),
            "total": c.sessions.total(),
        },
        "lost_writes": c.lost_writes,
        "availability": {
            "overall": a.overall,
            "during_faults": a.during_faults,
            "outside_faults": a.outside_faults,
            "requests": a.requests,
            "requests_during_faults": a.requests_during_faults,
            "failed": a.failed,
            "failed_during_faults": a.failed_during_faults,
        },
        "linearizable": c.linearizable,
        "linearizability": {
            "enabled": l.enabled,
            "keys_checked": l.keys_checked,
            "keys_not_checked": l.keys_not_checked,
            "keys_violating": l.keys_violating,
            "first_violating_key": l.first_violating_key,
        },
        "bounds": {
            "history_per_key": b.history_per_key,
            "reads_beyond_history": b.reads_beyond_history,
            "k_staleness_truncated": b.k_staleness_truncated,
            "lost_writes_truncated_keys": b.lost_writes_truncated_keys,
            "session_ops_untracked": b.session_ops_untracked,
        },
    })
}

/// The table section: a few lines a student reads at a glance.
pub(crate) fn consistency_table(out: &mut String, store: &str, c: &ConsistencyReport) {
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.2} %", v * 100.0));
    let _ = writeln!(
        out,
        "consistency of {store}: {} reads, {} writes; stale reads {} ({:.3} %), k-staleness p99 {} max {}, t-visibility p99 {} ms",
        thousands(c.reads),
        thousands(c.writes),
        thousands(c.stale_reads),
        c.stale_read_rate * 100.0,
        thousands(c.k_staleness.p99),
        thousands(c.k_staleness.max),
        number(c.t_visibility.p99_ms)
    );
    let s = &c.sessions;
    let _ = writeln!(
        out,
        "  session violations: read-your-writes {}, monotonic reads {}, monotonic writes {}, writes-follow-reads {}; lost writes {}",
        thousands(s.read_your_writes.violations),
        thousands(s.monotonic_reads.violations),
        thousands(s.monotonic_writes.violations),
        thousands(s.writes_follow_reads.violations),
        thousands(c.lost_writes)
    );
    let a = &c.availability;
    let _ = writeln!(
        out,
        "  availability: {} overall, {} during faults, {} outside faults; linearizable: {}",
        pct(a.overall),
        pct(a.during_faults),
        pct(a.outside_faults),
        match c.linearizable {
            Some(true) => "yes",
            Some(false) => "no",
            None => "not checked",
        }
    );
    let b = &c.bounds;
    if b.reads_beyond_history + b.k_staleness_truncated + b.lost_writes_truncated_keys > 0
        || b.session_ops_untracked > 0
    {
        let _ = writeln!(
            out,
            "  bounded history ({} versions per key): {} reads unclassified, {} k-staleness lower bounds, {} keys with lost writes beyond it, {} session checks skipped",
            thousands(b.history_per_key),
            thousands(b.reads_beyond_history),
            thousands(b.k_staleness_truncated),
            thousands(b.lost_writes_truncated_keys),
            thousands(b.session_ops_untracked)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysdes_kernel::SimTime;
    use sysdes_stats::ConsistencyTracker;

    fn report() -> ConsistencyReport {
        let t = SimTime::from_nanos;
        let mut c = ConsistencyTracker::default();
        c.add_fault_window(t(100), t(200));
        c.write_acked(1, 1, 1, t(0), t(10));
        c.write_acked(1, 1, 2, t(10), t(20));
        c.read_done(1, 1, 0, t(30), t(40));
        c.read_done(2, 1, 2, t(30), t(40));
        c.read_failed(t(150));
        c.finish(|_| 1)
    }

    #[test]
    fn json_carries_every_documented_key() {
        let v = consistency_json(&report());
        assert_eq!(v["reads"], 2);
        assert_eq!(v["stale_reads"], 1);
        assert_eq!(v["stale_read_rate"], 0.5);
        assert_eq!(v["k_staleness"]["max"], 2);
        assert_eq!(v["k_staleness"]["within"], json!([0.5, 0.5, 1.0]));
        assert_eq!(v["t_visibility_ms"]["count"], 1);
        assert_eq!(v["session_violations"]["read_your_writes"]["violations"], 1);
        assert_eq!(v["session_violations"]["total"], 1);
        assert_eq!(v["lost_writes"], 1);
        assert_eq!(v["availability"]["during_faults"], 0.0);
        assert_eq!(v["availability"]["outside_faults"], 1.0);
        assert_eq!(v["linearizable"], Value::Null);
        assert_eq!(v["linearizability"]["enabled"], false);
        assert_eq!(v["bounds"]["history_per_key"], 64);
    }

    #[test]
    fn table_section_reads_at_a_glance() {
        let mut out = String::new();
        consistency_table(&mut out, "kv", &report());
        assert!(out.contains("consistency of kv:"), "{out}");
        assert!(out.contains("stale reads 1 (50.000 %)"), "{out}");
        assert!(out.contains("read-your-writes 1"), "{out}");
        assert!(out.contains("0.00 % during faults"), "{out}");
        assert!(out.contains("linearizable: not checked"), "{out}");
        assert!(!out.contains("bounded history"), "{out}");
    }
}
