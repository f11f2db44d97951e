//! The scheduled changes of a scenario, as shaded windows on time-series
//! plots: a balancer's routing phases (traffic shifts), a workload's
//! arrival phases and a review queue's staffing shifts. `sysdes run --out`
//! writes them to `schedule.csv` beside `series.csv`; the plot reads that
//! file back, as it reads the fault windows from `result.json`.
//!
//! The setting in force at time 0 is the baseline and is not shaded: a
//! band marks a change, from its start to the next change or the end.

use sysdes_models::{ArrivalSpec, ComponentKind, ModelSpec};

use crate::options::Window;

/// At most this many bands per component or workload (a short staffing
/// rota repeats over a long run).
const MAX_BANDS: usize = 24;

/// Bands from a list of `(start_ns, label)` changes, each lasting to the
/// next change or `end_ns`; the change at 0 is the baseline (not shaded),
/// and so is a later one that returns to it.
fn bands(changes: &[(u64, String)], end_ns: u64) -> Vec<Window> {
    let secs = |ns: u64| ns as f64 / 1e9;
    let baseline = changes.first().filter(|c| c.0 == 0).map(|c| &c.1);
    let mut out = Vec::new();
    for (i, (start, label)) in changes.iter().enumerate() {
        let stop = changes.get(i + 1).map_or(end_ns, |c| c.0).min(end_ns);
        if *start >= stop || out.len() == MAX_BANDS || baseline == Some(label) {
            continue;
        }
        out.push(Window {
            start_s: secs(*start),
            end_s: secs(stop),
            label: label.clone(),
        });
    }
    out
}

/// The scheduled changes of `spec` within its run, in component order,
/// then workload order.
pub fn schedule_windows(spec: &ModelSpec) -> Vec<Window> {
    let end = spec.duration.as_nanos();
    let mut out = Vec::new();
    for c in &spec.components {
        match &c.kind {
            ComponentKind::LoadBalancer(lb) => {
                let changes: Vec<(u64, String)> = lb
                    .routing
                    .phases
                    .iter()
                    .map(|p| {
                        let w: Vec<String> = p.weights.iter().map(u32::to_string).collect();
                        (
                            p.at.as_nanos(),
                            format!("{} weights {}", c.name, w.join(":")),
                        )
                    })
                    .collect();
                out.extend(bands(&changes, end));
            }
            ComponentKind::ReviewQueue(q) if q.shifts.len() > 1 => {
                // The rota repeats: every shift in the run, the first one's
                // staffing the baseline.
                let mut changes = Vec::new();
                let mut t = 0u64;
                'rota: loop {
                    for s in &q.shifts {
                        if t >= end || changes.len() > 2 * MAX_BANDS {
                            break 'rota;
                        }
                        changes.push((t, format!("{}: {} reviewers", c.name, s.reviewers)));
                        t = t.saturating_add(s.length.as_nanos().max(1));
                    }
                }
                out.extend(bands(&changes, end));
            }
            _ => {}
        }
    }
    // Workloads with the same phases share a band: (band, their names).
    let mut arrivals: Vec<(Window, Vec<&str>)> = Vec::new();
    for w in &spec.workloads {
        let ArrivalSpec::Phases(phases) = &w.arrival else {
            continue;
        };
        let mut changes = Vec::new();
        let mut t = 0u64;
        for p in phases {
            if t >= end {
                break;
            }
            changes.push((t, format!("{}/s", crate::style::fmt_num(p.per_second))));
            match p.length {
                Some(l) => t = t.saturating_add(l.as_nanos()),
                None => break,
            }
        }
        for band in bands(&changes, end) {
            match arrivals.iter_mut().find(|(b, _)| *b == band) {
                Some((_, names)) => names.push(&w.name),
                None => arrivals.push((band, vec![&w.name])),
            }
        }
    }
    out.extend(arrivals.into_iter().map(|(mut band, names)| {
        band.label = format!("{} {}", names.join(", "), band.label);
        band
    }));
    out
}

/// `windows` as `schedule.csv`: `start_s,end_s,label`, one row each.
pub fn schedule_csv(windows: &[Window]) -> String {
    let mut out = String::from("start_s,end_s,label\n");
    for w in windows {
        let label = w.label.replace('"', "'");
        out.push_str(&format!("{},{},\"{label}\"\n", w.start_s, w.end_s));
    }
    out
}

/// The windows of a `schedule.csv` table.
pub(crate) fn read_schedule(t: &crate::table::Table) -> Result<Vec<Window>, crate::PlotError> {
    let (start, end, label) = (t.numbers("start_s")?, t.numbers("end_s")?, t.text("label")?);
    Ok(start
        .into_iter()
        .zip(end)
        .zip(label)
        .map(|((start_s, end_s), label)| Window {
            start_s,
            end_s,
            label,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use sysdes_kernel::{ComponentId, SimDuration};
    use sysdes_models::{ArrivalSpec, Distribution, ModelSpec, PhaseSpec, WorkloadSpec};

    use super::*;

    /// Two workloads with the same burst share one band; the phase back to
    /// the first rate is the baseline again (not shaded); a phase past
    /// the run's end is cut at the end.
    #[test]
    fn arrival_phases_become_bands_past_the_baseline() {
        let mut spec = ModelSpec::single_server(
            1.0,
            1,
            Distribution::Constant(SimDuration::from_millis(1)),
            SimDuration::from_secs(60),
        );
        let phases = ArrivalSpec::Phases(vec![
            PhaseSpec {
                per_second: 150.0,
                length: Some(SimDuration::from_secs(30)),
            },
            PhaseSpec {
                per_second: 1000.0,
                length: Some(SimDuration::from_secs(10)),
            },
            PhaseSpec {
                per_second: 150.0,
                length: None,
            },
        ]);
        spec.workloads = vec![
            WorkloadSpec::new("users", ComponentId(0), phases.clone()),
            WorkloadSpec::new("producers", ComponentId(0), phases),
        ];
        let windows = schedule_windows(&spec);
        assert_eq!(
            windows,
            vec![Window {
                start_s: 30.0,
                end_s: 40.0,
                label: "users, producers 1,000/s".to_owned()
            }]
        );
        let csv = schedule_csv(&windows);
        assert_eq!(
            csv,
            "start_s,end_s,label\n30,40,\"users, producers 1,000/s\"\n"
        );
        let table =
            crate::table::Table::parse(std::path::Path::new("schedule.csv"), csv.as_bytes())
                .unwrap();
        assert_eq!(read_schedule(&table).unwrap(), windows);
        spec.duration = SimDuration::from_secs(35);
        assert_eq!(schedule_windows(&spec)[0].end_s, 35.0);
    }
}
