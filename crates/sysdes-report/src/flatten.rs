//! The one place where a component's typed figures become keys.
//!
//! [`ComponentResult::visit_figures`] walks a component's kind-specific
//! figures; this module names them for each output:
//!
//! - the JSON result and the table use the flat key: the figure's name, or
//!   `GROUP.NAME` for a stream's consumer group (the historical keys, kept
//!   because JSON keys only grow); JSON adds each group's figures again
//!   under `groups.GROUP.NAME`, and each store's own `consistency` object;
//! - sweeps use one column per figure, `NAME:COMPONENT`, or
//!   `NAME:COMPONENT/GROUP` for a group, beside `utilization:COMPONENT`.
//!
//! Counts stay integers everywhere ([`Figure::Count`]).

use serde_json::{Map, Value, json};
use sysdes_models::{ComponentResult, Figure, KindFigures, RunResult, Scope};

/// A figure as a JSON value: counts as integers, other figures as numbers
/// (`null` when not finite).
pub fn figure_json(value: Figure) -> Value {
    match value {
        Figure::Count(n) => json!(n),
        Figure::Value(x) => json!(x),
    }
}

/// The flat key of a figure: `NAME`, or `GROUP.NAME` inside a group.
pub fn flat_key(scope: Scope<'_>, name: &str) -> String {
    match scope {
        Scope::Component => name.to_owned(),
        Scope::Group(g) => format!("{g}.{name}"),
    }
}

/// The component's figures under their flat keys, in report order (what
/// the table prints).
pub fn flat_figures(c: &ComponentResult) -> Vec<(String, Figure)> {
    let mut out = Vec::new();
    c.visit_figures(&mut |scope, name, value| out.push((flat_key(scope, name), value)));
    out
}

/// Adds the component's figures to its JSON object: every flat key, a
/// `groups` object for a stream (`groups.GROUP.NAME`), and a store's own
/// `consistency` object.
pub fn json_figures(c: &ComponentResult, object: &mut Map<String, Value>) {
    let mut groups: Map<String, Value> = Map::new();
    c.visit_figures(&mut |scope, name, value| {
        object.insert(flat_key(scope, name), figure_json(value));
        if let Scope::Group(g) = scope {
            if let Value::Object(group) = groups
                .entry(g.to_owned())
                .or_insert_with(|| Value::Object(Map::new()))
            {
                group.insert(name.to_owned(), figure_json(value));
            }
        }
    });
    if !groups.is_empty() {
        object.insert("groups".into(), Value::Object(groups));
    }
    if let KindFigures::Store(s) = &c.figures {
        if let Some(report) = &s.consistency {
            object.insert(
                "consistency".into(),
                crate::consistency::consistency_json(report),
            );
        }
    }
}

/// The sweep column of a figure of component `component`:
/// `NAME:COMPONENT` or `NAME:COMPONENT/GROUP`.
pub fn sweep_column(component: &str, scope: Scope<'_>, name: &str) -> String {
    match scope {
        Scope::Component => format!("{name}:{component}"),
        Scope::Group(g) => format!("{name}:{component}/{g}"),
    }
}

/// A figure as a CSV cell, written as the sweeps write theirs: a count as
/// an integer, any other figure as the shortest decimal that reads back
/// the same, empty when not finite (`null` in JSON).
pub fn figure_cell(value: Figure) -> String {
    match value {
        Figure::Count(n) => n.to_string(),
        Figure::Value(x) if x.is_finite() => format!("{x}"),
        Figure::Value(_) => String::new(),
    }
}

/// The kind-specific columns of a run's CSV: every flat key any component
/// reports (the JSON keys), in order of first appearance.
pub fn figure_columns(result: &RunResult) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for c in &result.components {
        c.visit_figures(&mut |scope, name, _| {
            let key = flat_key(scope, name);
            if !columns.contains(&key) {
                columns.push(key);
            }
        });
    }
    columns
}

/// A run's cost as sweep columns: `cost_total_usd`, `cost_per_hour_usd`,
/// `cost_per_million_requests_usd`, `cost_per_million_tokens_usd` (where
/// LLM servers exist), `cost_goodput_per_usd` (where a workload has an
/// SLO), `cost_egress_usd` and `cost_storage_usd` (where any component
/// prices them), then for each priced component `cost_usd:COMPONENT` and,
/// where it has them, `cost_interruptions:COMPONENT` and
/// `cost_egress_bytes:COMPONENT` (counts), `cost_egress_usd:COMPONENT`,
/// `cost_stored_gb:COMPONENT`, `cost_storage_usd:COMPONENT`: every figure of
/// the JSON `cost` object. A scenario that prices no egress or storage has
/// the columns it had before they existed.
pub fn cost_columns(c: &sysdes_cost::CostResult) -> Vec<(String, Option<Figure>)> {
    let value = |x: f64| Some(Figure::Value(x));
    let mut out = vec![
        ("cost_total_usd".to_owned(), value(c.total_usd)),
        ("cost_per_hour_usd".to_owned(), value(c.per_hour_usd)),
        (
            "cost_per_million_requests_usd".to_owned(),
            c.per_million_requests_usd.map(Figure::Value),
        ),
    ];
    if c.per_million_tokens_usd.is_some() {
        out.push((
            "cost_per_million_tokens_usd".to_owned(),
            c.per_million_tokens_usd.map(Figure::Value),
        ));
    }
    if c.goodput_requests.is_some() {
        out.push((
            "cost_goodput_per_usd".to_owned(),
            c.goodput_per_usd.map(Figure::Value),
        ));
    }
    if let Some(usd) = c.egress_usd {
        out.push(("cost_egress_usd".to_owned(), value(usd)));
    }
    if let Some(usd) = c.storage_usd {
        out.push(("cost_storage_usd".to_owned(), value(usd)));
    }
    for i in &c.by_component {
        out.push((format!("cost_usd:{}", i.name), value(i.total_usd)));
        let extra = [
            ("interruptions", i.interruptions.map(Figure::Count)),
            ("egress_bytes", i.egress_bytes.map(Figure::Count)),
            ("egress_usd", i.egress_usd.map(Figure::Value)),
            ("stored_gb", i.stored_gb.map(Figure::Value)),
            ("storage_usd", i.storage_usd.map(Figure::Value)),
        ];
        for (name, figure) in extra {
            if figure.is_some() {
                out.push((format!("cost_{name}:{}", i.name), figure));
            }
        }
    }
    out
}

/// The component's figures as sweep columns: its `drops` (a count every
/// component has, which headers point at: `components.gpu-cold.drops`),
/// then its kind's figures in report order. Its utilization has a column
/// of its own where it has one (`utilization:COMPONENT`, see
/// `sysdes-sweep`).
pub fn sweep_figures(c: &ComponentResult) -> Vec<(String, Figure)> {
    let mut out = vec![(
        sweep_column(&c.name, Scope::Component, "drops"),
        Figure::Count(c.drops),
    )];
    c.visit_figures(&mut |scope, name, value| {
        out.push((sweep_column(&c.name, scope, name), value));
    });
    out
}

/// A replica group's sweep columns from its replicas' figures
/// (`replicas`, the results whose `replica_of` is the group), for a group
/// whose replicas report figures it does not (a group of model servers:
/// `mean_batch_size`, `slot_utilization`, ...): one `FIGURE:GROUP` column
/// per figure any replica reports, a count summed over the replicas, any
/// other figure their plain mean (over the replicas that report it). The
/// replicas have no columns of their own (their number may vary between
/// points), so this is how their figures reach a sweep. Figures the group
/// reports itself (its `replicas_*`) are left out.
pub fn group_sweep_figures(
    group: &ComponentResult,
    replicas: &[&ComponentResult],
) -> Vec<(String, Figure)> {
    let mut own: Vec<&'static str> = Vec::new();
    group.visit_figures(&mut |_, name, _| own.push(name));
    // (name, sum, replicas reporting it, whether a count), first-seen order.
    let mut sums: Vec<(&'static str, f64, u64, bool)> = Vec::new();
    for r in replicas {
        r.visit_figures(&mut |scope, name, value| {
            if scope != Scope::Component || own.contains(&name) {
                return;
            }
            let count = matches!(value, Figure::Count(_));
            match sums.iter_mut().find(|s| s.0 == name) {
                Some(s) => {
                    s.1 += value.as_f64();
                    s.2 += 1;
                }
                None => sums.push((name, value.as_f64(), 1, count)),
            }
        });
    }
    sums.into_iter()
        .map(|(name, sum, n, count)| {
            let figure = if count {
                // A sum of counts below 2^53 is exact.
                Figure::Count(sum as u64)
            } else {
                Figure::Value(sum / n as f64)
            };
            (sweep_column(&group.name, Scope::Component, name), figure)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysdes_models::{CacheFigures, ComponentType, GroupFigures, StreamFigures};
    use sysdes_stats::LatencyHistogram;

    fn component(name: &str, kind: ComponentType, figures: KindFigures) -> ComponentResult {
        ComponentResult {
            name: name.into(),
            kind,
            workers: 0,
            arrivals: 0,
            completions: 0,
            drops: 0,
            utilization: 0.0,
            mean_queue_length: 0.0,
            mean_in_system: 0.0,
            peak_queue_length: 0,
            latency: LatencyHistogram::default(),
            offered_load: None,
            figures,
            lost_in_crash: None,
            scaling: None,
            replica_of: None,
        }
    }

    #[test]
    fn counts_are_integers_and_ratios_are_numbers() {
        let c = component(
            "cache",
            ComponentType::Cache,
            KindFigures::Cache(CacheFigures {
                hit_ratio: 0.5,
                reads: 24185,
                ..CacheFigures::default()
            }),
        );
        let mut m = Map::new();
        json_figures(&c, &mut m);
        let text = Value::Object(m).to_string();
        assert!(text.contains("\"reads\":24185,"), "{text}");
        assert!(text.contains("\"hit_ratio\":0.5,"), "{text}");
        assert_eq!(c.figure("reads"), Some(24185.0));
        let columns = sweep_figures(&c);
        assert_eq!(columns[0], ("drops:cache".to_owned(), Figure::Count(0)));
        assert_eq!(columns[1].0, "hit_ratio:cache");
    }

    #[test]
    fn a_group_sums_its_replicas_counts_and_averages_the_rest() {
        use sysdes_models::BatchFigures;
        let replica = |name: &str, batches: u64, size: f64| {
            let mut c = component(
                name,
                ComponentType::ModelServer,
                KindFigures::Batching(BatchFigures {
                    batches,
                    mean_batch_size: size,
                    ..BatchFigures::default()
                }),
            );
            c.replica_of = Some("eta".into());
            c
        };
        let (a, b) = (replica("eta[0]", 10, 2.0), replica("eta[1]", 30, 4.0));
        let group = component("eta", ComponentType::ModelServer, KindFigures::None);
        let columns = group_sweep_figures(&group, &[&a, &b]);
        assert!(
            columns.contains(&("batches:eta".to_owned(), Figure::Count(40))),
            "{columns:?}"
        );
        assert!(
            columns.contains(&("mean_batch_size:eta".to_owned(), Figure::Value(3.0))),
            "{columns:?}"
        );
        assert!(group_sweep_figures(&group, &[]).is_empty());
    }

    #[test]
    fn stream_groups_keep_their_dotted_keys_and_gain_an_object() {
        let c = component(
            "orders",
            ComponentType::Stream,
            KindFigures::Stream(StreamFigures {
                messages_appended: 10,
                peak_retained: 3,
                groups: vec![GroupFigures {
                    group: "search".into(),
                    expired: 7,
                    lag_mean: 1.5,
                    ..GroupFigures::default()
                }],
            }),
        );
        let mut m = Map::new();
        json_figures(&c, &mut m);
        assert_eq!(m["search.expired"], json!(7));
        assert_eq!(m["groups"]["search"]["expired"], json!(7));
        assert_eq!(m["groups"]["search"]["lag_mean"], json!(1.5));
        assert_eq!(c.figure("search.lag_mean"), Some(1.5));
        let columns: Vec<String> = sweep_figures(&c).into_iter().map(|(k, _)| k).collect();
        assert!(
            columns.contains(&"expired:orders/search".to_owned()),
            "{columns:?}"
        );
        assert_eq!(flat_figures(&c).len(), 2 + 8);
    }
}
