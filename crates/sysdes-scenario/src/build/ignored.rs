//! Warnings about settings a scenario gives that change nothing in this
//! run, where the same file is still worth running (a header command may
//! switch the setting that gives them meaning off on purpose, as
//! `--set components.api.discipline=fifo` does to compare). A setting that
//! can never have an effect is an error where it is read instead.

use sysdes_models::{ArrivalSpec, ComponentKind, ModelSpec};

use crate::node::{Issue, Node, SNode};
use crate::units::Duration;

/// The warnings of the (overridden) scenario tree `root`, built into `spec`.
///
/// A workload's `priority` is only read by servers with `discipline:
/// priority` or `preemptive_priority`; when no component has one, every
/// `priority` key is reported (the classes all wait alike). A balancer's
/// routing phase or a workload's arrival phase that starts at or after
/// the end of the run never happens: a warning, not an error, because
/// shortening a run (`--set duration=10s`, as the test suite and sweeps
/// do) legitimately cuts a schedule short.
pub(crate) fn warnings(root: &SNode, spec: &ModelSpec) -> Vec<Issue> {
    let mut out = Vec::new();
    phases_after_the_end(root, spec, &mut out);
    let by_priority = match root.get("components").map(|c| &c.node) {
        Some(Node::Map(entries)) => entries.iter().any(|(_, body)| {
            matches!(
                body.get("discipline").and_then(SNode::as_str),
                Some("priority" | "preemptive_priority")
            )
        }),
        _ => true,
    };
    if !by_priority {
        if let Some(Node::Seq(items)) = root.get("workloads").map(|w| &w.node) {
            for item in items {
                let Some((key, value)) = item.entry("priority") else {
                    continue;
                };
                let name = item.get("name").and_then(SNode::as_str).unwrap_or("?");
                let shown = match value.node {
                    Node::Int(n) => n.to_string(),
                    _ => "…".to_owned(),
                };
                out.push(Issue {
                    origin: key.origin,
                    message: format!(
                        "workload `{name}` sets `priority: {shown}`, but no server here has a priority discipline: every server serves in arrival order (fifo), so the priority changes nothing"
                    ),
                    help: Some(
                        "give the server it reaches `discipline: priority` (or `preemptive_priority`), or remove `priority`"
                            .to_owned(),
                    ),
                });
            }
        }
    }
    out
}

/// Routing and arrival phases that start at or after `spec.duration`.
fn phases_after_the_end(root: &SNode, spec: &ModelSpec, out: &mut Vec<Issue>) {
    let end = spec.duration.as_nanos();
    let show = |ns: u64| Duration::from_nanos(ns).to_string();
    for c in &spec.components {
        let ComponentKind::LoadBalancer(lb) = &c.kind else {
            continue;
        };
        let Some(body) = root.get("components").and_then(|m| m.get(&c.name)) else {
            continue;
        };
        let node = body.at_or_near(&["phases"]);
        for (i, p) in lb.routing.phases.iter().enumerate() {
            if p.at.as_nanos() >= end {
                out.push(Issue {
                    origin: node.item(i).unwrap_or(node).at_or_near(&["at"]).origin,
                    message: format!(
                        "this phase of `{}` starts at {}, not before the end of the run ({}): its weights never route a request in this run",
                        c.name,
                        show(p.at.as_nanos()),
                        show(end)
                    ),
                    help: Some("move `at` before `duration`, lengthen `duration`, or remove the phase".to_owned()),
                });
            }
        }
    }
    for (i, w) in spec.workloads.iter().enumerate() {
        let ArrivalSpec::Phases(phases) = &w.arrival else {
            continue;
        };
        let Some(item) = root.get("workloads").and_then(|l| l.item(i)) else {
            continue;
        };
        let node = item.at_or_near(&["arrival", "phases"]);
        let mut start = 0u64;
        for (j, p) in phases.iter().enumerate() {
            if start >= end {
                out.push(Issue {
                    origin: node.item(j).unwrap_or(node).origin,
                    message: format!(
                        "this phase of workload `{}` starts at {}, not before the end of the run ({}): its rate never sends a request in this run",
                        w.name,
                        show(start),
                        show(end)
                    ),
                    help: Some("shorten the earlier phases' `for`, lengthen `duration`, or remove the phase".to_owned()),
                });
                break;
            }
            start = start.saturating_add(p.length.map_or(u64::MAX, |l| l.as_nanos()));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{LoadOptions, load_str};

    /// Lines: 4 the checkout workload, 7 its `priority`, 12 `discipline`.
    fn text(discipline: &str) -> String {
        format!(
            "name: t\nduration: 10s\nworkloads:\n  - name: checkout\n    target: api\n    arrival: {{ poisson: 10/s }}\n    priority: 1\n  - name: browse\n    target: api\n    arrival: {{ poisson: 10/s }}\ncomponents:\n  api:\n    type: server\n    service_time: 1ms\n{discipline}"
        )
    }

    fn warnings(text: &str) -> Vec<String> {
        load_str("t.yaml", text, &LoadOptions::default())
            .expect("loads")
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn priority_without_a_priority_discipline_is_a_located_warning() {
        for fifo in ["", "    discipline: fifo\n"] {
            let found = warnings(&text(fifo));
            assert_eq!(found.len(), 1, "{found:#?}");
            assert!(
                found[0].starts_with("t.yaml:7:5: workload `checkout` sets `priority: 1`, but no server here has a priority discipline"),
                "{found:#?}"
            );
            assert!(found[0].contains("(help: give the server it reaches `discipline: priority`"));
        }
        for by_priority in ["priority", "preemptive_priority"] {
            let found = warnings(&text(&format!("    discipline: {by_priority}\n")));
            assert!(found.is_empty(), "{found:#?}");
        }
        // Set from the command line, it is located in the `--set`.
        let options = LoadOptions {
            overrides: vec!["components.api.discipline=fifo".to_owned()],
            ..LoadOptions::default()
        };
        let loaded =
            load_str("t.yaml", &text("    discipline: priority\n"), &options).expect("loads");
        assert_eq!(loaded.warnings.len(), 1);
        assert_eq!(loaded.warnings[0].line, 7);
    }

    /// A routing phase at or after the end of the run (10 s) is a located
    /// warning; one before the end is not.
    #[test]
    fn a_routing_phase_after_the_run_is_a_located_warning() {
        let text = |at: &str| {
            format!(
                "name: t\nduration: 10s\nworkloads:\n  - {{ name: u, target: lb, arrival: {{ poisson: 10/s }} }}\ncomponents:\n  lb:\n    type: load_balancer\n    backends: [a, b]\n    phases:\n      - {{ at: {at}, weights: [0, 1] }}\n  a: {{ type: server, service_time: 1ms }}\n  b: {{ type: server, service_time: 1ms }}\n"
            )
        };
        let found = warnings(&text("10s"));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].starts_with("t.yaml:10:15: this phase of `lb` starts at 10s, not before the end of the run (10s)"),
            "{found:#?}"
        );
        assert!(warnings(&text("9s")).is_empty());
    }
}
