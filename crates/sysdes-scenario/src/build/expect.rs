//! The `expect:` block: targets a scenario sets for its own results.
//!
//! ```yaml
//! expect:
//!   - { workload: users, p99: "< 100ms" }
//!   - { component: kv, availability: ">= 0.999" }
//!   - { component: cache, hit_ratio: ">= 80%" }
//!   - { throughput: ">= 900/s" }
//! ```
//!
//! Each item names at most one subject (`workload:` or `component:`; none
//! is the run as a whole) and one or more figures, each with a comparison
//! (`<`, `<=`, `>`, `>=`, `==`) and a threshold in the figure's unit. The
//! figure names are the keys of the JSON result; this reader checks, at
//! load time, that the subject exists and that it reports the figure (a
//! component by its kind), and reports every problem with its position and
//! a suggestion. Evaluation is `sysdes-report`'s `targets` module; the
//! data is [`sysdes_models::expect_spec`].

use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use sysdes_models::expect_spec::{
    Comparison, FigureUnit, LATENCY_FIGURES, REQUEST_FIGURES, RUN_FIGURES, STATION_FIGURES, Target,
    TargetSubject, WORKLOAD_FIGURES, canonical_figure,
};
use sysdes_models::{
    AgeFigures, BatchFigures, CacheFigures, CallFigures, ComponentKind, Figure, LagFigures,
    LlmFigures, ModelSpec, ProbeFigures, QueueFigures, ScalingFigures, Scope, StoreFigures,
};

use crate::de::{one_of, suggest};
use crate::node::{Issue, Node, SNode};
use crate::units::{Duration, RateOrZero, split_number};

/// The keys that name a target's subject.
const SUBJECT_KEYS: &[&str] = &["workload", "component"];

/// An example target, for messages.
const EXAMPLE: &str = "`{ workload: users, p99: \"< 100ms\" }`";

/// The `expect:` block in the JSON Schema: a list of maps from figure
/// names to `"OP VALUE"` strings, with an optional `workload` or
/// `component`.
pub(crate) struct ExpectDoc;

impl JsonSchema for ExpectDoc {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Target".into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "description": "A target for the run's results, checked after the run (exit status 3 when one is missed): at most one of `workload` or `component` (none: the run as a whole), and one or more figures by their JSON result names, each `\"OP VALUE\"` with OP one of <, <=, >, >=, == and VALUE in the figure's unit (`\"< 100ms\"`, `\">= 900/s\"`, `\">= 99.9%\"`, `\"== 0\"`). See docs/scenario-format.md.",
            "properties": {
                "workload": { "type": "string", "description": "The workload the figures are of." },
                "component": { "type": "string", "description": "The component the figures are of." }
            },
            "additionalProperties": {
                "type": "string",
                "pattern": "^\\s*(<=|>=|==|<|>)\\s*\\S"
            },
            "minProperties": 1
        })
    }
}

/// Reads `expect:` from the scenario's `root`. Subjects and figures are
/// checked against `spec` when the rest of the scenario built (`None`: only
/// the syntax is checked). Problems go to `issues`.
pub(crate) fn read(root: &SNode, spec: Option<&ModelSpec>, issues: &mut Vec<Issue>) -> Vec<Target> {
    let mut targets = Vec::new();
    let Some(node) = root.get("expect") else {
        return targets;
    };
    let items = match &node.node {
        Node::Null => return targets,
        Node::Seq(items) => items,
        Node::Map(_) => std::slice::from_ref(node),
        _ => {
            push(
                issues,
                node,
                format!(
                    "`expect`: expected a list of targets, found {}",
                    node.describe()
                ),
                Some(format!(
                    "e.g. `expect: [ {} ]`",
                    &EXAMPLE[1..EXAMPLE.len() - 1]
                )),
            );
            return targets;
        }
    };
    for item in items {
        read_item(item, spec, issues, &mut targets);
    }
    targets
}

fn push(issues: &mut Vec<Issue>, node: &SNode, message: impl Into<String>, help: Option<String>) {
    issues.push(Issue {
        origin: node.origin,
        message: message.into(),
        help,
    });
}

/// One item of `expect:`: its subject, then each figure.
fn read_item(
    item: &SNode,
    spec: Option<&ModelSpec>,
    issues: &mut Vec<Issue>,
    targets: &mut Vec<Target>,
) {
    let Node::Map(entries) = &item.node else {
        push(
            issues,
            item,
            format!(
                "a target must be a map of a subject and figures, found {}",
                item.describe()
            ),
            Some(format!("e.g. {EXAMPLE}")),
        );
        return;
    };
    let mut subject = TargetSubject::Run;
    let mut subject_node: Option<&SNode> = None;
    for (key, value) in entries {
        let k = key.as_str().unwrap_or("");
        if !SUBJECT_KEYS.contains(&k) {
            continue;
        }
        let Some(name) = value.as_str() else {
            push(
                issues,
                value,
                format!("`{k}`: expected a name, found {}", value.describe()),
                None,
            );
            return;
        };
        if subject_node.is_some() {
            push(
                issues,
                key,
                "a target names one subject: `workload` or `component`, not both",
                Some("write one target for each subject".to_owned()),
            );
            return;
        }
        subject = if k == "workload" {
            TargetSubject::Workload(name.to_owned())
        } else {
            TargetSubject::Component(name.to_owned())
        };
        subject_node = Some(value);
    }
    // The figures this subject reports, when the scenario built.
    let figures: Option<Vec<String>> = match (spec, subject_node) {
        (None, _) => None,
        (Some(spec), node) => match subject_figures(spec, &subject) {
            Ok(f) => Some(f),
            Err(candidates) => {
                let (what, name) = match &subject {
                    TargetSubject::Workload(n) => ("workload", n.as_str()),
                    TargetSubject::Component(n) => ("component", n.as_str()),
                    TargetSubject::Run => ("subject", ""),
                };
                let names: Vec<&str> = candidates.iter().map(String::as_str).collect();
                let help = match suggest(name, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the {what}s are {}", one_of(&names)),
                };
                push(
                    issues,
                    node.unwrap_or(item),
                    format!("there is no {what} named `{name}`"),
                    Some(help),
                );
                return;
            }
        },
    };
    let mut any = false;
    for (key, value) in entries {
        let written = key.as_str().unwrap_or("");
        if SUBJECT_KEYS.contains(&written) {
            continue;
        }
        any = true;
        let figure = canonical_figure(written);
        if let Some(known) = &figures
            && !known.iter().any(|f| f == figure)
        {
            let names: Vec<&str> = known.iter().map(String::as_str).collect();
            let help = match suggest(written, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the figures here are {}", one_of(&names)),
            };
            let whose = match &subject {
                TargetSubject::Run => "the run".to_owned(),
                TargetSubject::Workload(n) => format!("workload `{n}`"),
                TargetSubject::Component(n) => format!("component `{n}`"),
            };
            push(
                issues,
                key,
                format!("{whose} reports no figure `{written}`"),
                Some(help),
            );
            continue;
        }
        let unit = FigureUnit::of(figure);
        let Some((comparison, threshold, value_text)) = threshold(value, written, unit, issues)
        else {
            continue;
        };
        let text = match subject.name() {
            Some(name) => format!("{name} {written} {} {value_text}", comparison.symbol()),
            None => format!("{written} {} {value_text}", comparison.symbol()),
        };
        targets.push(Target {
            subject: subject.clone(),
            figure: figure.to_owned(),
            comparison,
            threshold,
            unit,
            text,
        });
    }
    if !any {
        push(
            issues,
            item,
            "a target needs at least one figure and its threshold",
            Some(format!("e.g. {EXAMPLE}")),
        );
    }
}

/// Reads `"OP VALUE"` for figure `figure` (in `unit`): the comparison, the
/// threshold in the figure's unit and the value as written.
fn threshold(
    node: &SNode,
    figure: &str,
    unit: FigureUnit,
    issues: &mut Vec<Issue>,
) -> Option<(Comparison, f64, String)> {
    let example = match unit {
        FigureUnit::Milliseconds => "< 100ms",
        FigureUnit::Seconds => "<= 30s",
        FigureUnit::PerSecond => ">= 900/s",
        FigureUnit::Ratio => ">= 0.99",
        FigureUnit::Plain => "== 0",
    };
    let text = match &node.node {
        Node::Str(s) => s.trim(),
        Node::Int(_) | Node::Float(_) => {
            push(
                issues,
                node,
                format!("`{figure}`: a target needs a comparison and a value, found a bare number"),
                Some(format!(
                    "write e.g. `{figure}: \"{example}\"` (quoted: YAML reads a leading `>` as a folded block)"
                )),
            );
            return None;
        }
        _ => {
            push(
                issues,
                node,
                format!(
                    "`{figure}`: expected a comparison and a value such as `\"{example}\"`, found {}",
                    node.describe()
                ),
                None,
            );
            return None;
        }
    };
    let Some(comparison) = Comparison::ALL
        .into_iter()
        .find(|c| text.starts_with(c.symbol()))
    else {
        push(
            issues,
            node,
            format!("`{figure}`: `{text}` has no comparison (`<`, `<=`, `>`, `>=` or `==`)"),
            Some(format!("write e.g. `\"{example}\"`")),
        );
        return None;
    };
    let value = text[comparison.symbol().len()..].trim();
    let parsed = match unit {
        FigureUnit::Milliseconds => Duration::from_str(value)
            .map(|d| d.as_nanos() as f64 / 1e6)
            .map_err(|e| (e.message, e.help)),
        FigureUnit::Seconds => Duration::from_str(value)
            .map(|d| d.as_nanos() as f64 / 1e9)
            .map_err(|e| (e.message, e.help)),
        FigureUnit::PerSecond => RateOrZero::from_str(value)
            .map(RateOrZero::per_second)
            .map_err(|e| (e.message, e.help)),
        FigureUnit::Ratio => ratio(value),
        FigureUnit::Plain => plain(value),
    };
    match parsed {
        Ok(v) => Some((comparison, v, value.to_owned())),
        Err((message, help)) => {
            push(issues, node, format!("`{figure}`: {message}"), help);
            None
        }
    }
}

/// A ratio: `0.999` or `99.9%`, between 0 and 1.
fn ratio(text: &str) -> Result<f64, (String, Option<String>)> {
    let (number, unit) = split_number(text);
    let value: f64 = number.replace('_', "").parse().map_err(|_| {
        (
            format!("expected a ratio such as `0.99` or `99%`, found `{text}`"),
            None,
        )
    })?;
    let value = match unit {
        "" => value,
        "%" => value / 100.0,
        other => {
            return Err((
                format!("a ratio takes no unit but `%`, found `{other}` in `{text}`"),
                Some(format!("write `{number}` or `{number}%`")),
            ));
        }
    };
    if !(0.0..=1.0).contains(&value) {
        return Err((
            format!("a ratio lies between 0 and 1, found `{text}`"),
            Some(format!("write `{number}%` for a percentage")),
        ));
    }
    Ok(value)
}

/// A plain number (a count, messages, a load).
fn plain(text: &str) -> Result<f64, (String, Option<String>)> {
    let (number, unit) = split_number(text);
    if !unit.is_empty() {
        return Err((
            format!("this figure is a plain number and takes no unit, found `{text}`"),
            Some(format!("write `{number}`")),
        ));
    }
    number
        .replace('_', "")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| (format!("expected a number, found `{text}`"), None))
}

/// The figure names `subject` reports, or the names of the subjects of its
/// kind when there is no such subject (for the suggestion).
fn subject_figures(spec: &ModelSpec, subject: &TargetSubject) -> Result<Vec<String>, Vec<String>> {
    let mut names: Vec<String> = LATENCY_FIGURES.iter().map(|s| (*s).to_owned()).collect();
    match subject {
        TargetSubject::Run => {
            names.extend(
                REQUEST_FIGURES
                    .iter()
                    .chain(RUN_FIGURES)
                    .map(|s| (*s).to_owned()),
            );
        }
        TargetSubject::Workload(name) => {
            if !spec.workloads.iter().any(|w| &w.name == name) {
                return Err(spec.workloads.iter().map(|w| w.name.clone()).collect());
            }
            names.extend(
                REQUEST_FIGURES
                    .iter()
                    .chain(WORKLOAD_FIGURES)
                    .map(|s| (*s).to_owned()),
            );
        }
        TargetSubject::Component(name) => {
            let Some(c) = spec.components.iter().find(|c| &c.name == name) else {
                return Err(spec
                    .components
                    .iter()
                    .filter(|c| !c.name.ends_with(']'))
                    .map(|c| c.name.clone())
                    .collect());
            };
            names.extend(STATION_FIGURES.iter().map(|s| (*s).to_owned()));
            kind_figures(&c.kind, &mut names);
        }
    }
    Ok(names)
}

/// The kind-specific figures a component of `kind` may report, by the
/// names `ComponentResult::visit_figures` gives them (optional ones
/// included).
fn kind_figures(kind: &ComponentKind, names: &mut Vec<String>) {
    let mut add = |scope: Scope<'_>, name: &'static str, _: Figure| {
        names.push(match scope {
            Scope::Component => name.to_owned(),
            Scope::Group(g) => format!("{g}.{name}"),
        });
    };
    let crash = |add: &mut dyn FnMut(Scope<'_>, &'static str, Figure)| {
        add(Scope::Component, "lost_in_crash", Figure::Count(0));
    };
    let scaling = ScalingFigures {
        replicas_pending_max: Some(0),
        boot_time_mean_s: Some(0.0),
        host_pool_utilization: Some(0.0),
        ..ScalingFigures::default()
    };
    match kind {
        ComponentKind::Server(s) => {
            if !s.calls.is_empty() {
                CallFigures::template(&s.calls).visit(Scope::Component, &mut add);
            }
            crash(&mut add);
        }
        ComponentKind::LoadBalancer(_) => {}
        ComponentKind::Cache(_) => CacheFigures {
            hit_worker_utilization: Some(0.0),
            crash_misses: Some(0),
            ..CacheFigures::default()
        }
        .visit(Scope::Component, &mut add),
        ComponentKind::Queue(_) => {
            QueueFigures {
                blocked_producers: Some(0),
                mean_blocked: Some(0.0),
                consumer_errors: Some(0),
                ..QueueFigures::default()
            }
            .visit(Scope::Component, &mut add);
            crash(&mut add);
        }
        ComponentKind::Stream(s) => {
            crash(&mut add);
            add(Scope::Component, "messages_appended", Figure::Count(0));
            add(Scope::Component, "peak_retained", Figure::Count(0));
            for g in &s.groups {
                let mut figures = sysdes_models::GroupFigures::default();
                if g.start.is_some() {
                    figures.start_s = Some(0.0);
                    figures.backlog_at_start = Some(0);
                    figures.caught_up_s = Some(0.0);
                }
                figures.visit(Scope::Group(&g.name), &mut add);
            }
        }
        ComponentKind::ReplicaGroup(_) => {
            scaling.visit(Scope::Component, &mut add);
        }
        ComponentKind::ModelServer(_) => {
            BatchFigures::default().visit(Scope::Component, &mut add);
            crash(&mut add);
        }
        ComponentKind::LlmServer(_) => {
            LlmFigures::default().visit(Scope::Component, &mut add);
            crash(&mut add);
        }
        ComponentKind::Store(_) => {
            StoreFigures {
                read_age: Some(AgeFigures::default()),
                replication_lag: Some(LagFigures::default()),
                probes: Some(ProbeFigures::default()),
                ..StoreFigures::default()
            }
            .visit(Scope::Component, &mut add);
        }
        ComponentKind::TrainingJob(_) => {
            sysdes_models::TrainingFigures::default().visit(Scope::Component, &mut add);
        }
        ComponentKind::ReviewQueue(_) => {
            sysdes_models::ReviewFigures::default().visit(Scope::Component, &mut add);
        }
        ComponentKind::Function(_) => {
            sysdes_models::FunctionFigures::default().visit(Scope::Component, &mut add);
        }
        ComponentKind::Dns(_) => {
            sysdes_models::DnsFigures {
                failover_at_s: Some(0.0),
                failback_at_s: Some(0.0),
                ..Default::default()
            }
            .visit(Scope::Component, &mut add);
        }
        ComponentKind::BatchJob(_) => {
            sysdes_models::BatchJobFigures::default().visit(Scope::Component, &mut add);
        }
        ComponentKind::Storage(_) => {
            sysdes_models::StorageFigures::default().visit(Scope::Component, &mut add);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{has, problem_texts};
    use crate::{LoadOptions, load_str};
    use sysdes_models::expect_spec::{Comparison, FigureUnit, TargetSubject};

    const BASE: &str = "name: t
duration: 10s
workloads:
  - name: users
    target: cache
    arrival: { poisson: 100/s }
    keys: { uniform: 100 }
components:
  cache:
    type: cache
    capacity: 10
    backend: db
  db:
    type: server
    service_time: 5ms
";

    fn with(expect: &str) -> String {
        format!("{BASE}expect:\n{expect}")
    }

    #[test]
    fn targets_of_the_run_a_workload_and_a_component_load_in_their_units() {
        let text = with(
            "  - { workload: users, p99: \"< 100ms\", latency_ms.p50: \"<= 0.02s\" }
  - { component: cache, hit_ratio: \">= 80%\", utilization: \"< 0.5\" }
  - { throughput: \">= 90/s\", dropped: \"== 0\" }
",
        );
        let loaded = load_str("t.yaml", &text, &LoadOptions::default()).expect("loads");
        let t = &loaded.expect;
        assert_eq!(t.len(), 6);
        assert_eq!(t[0].subject, TargetSubject::Workload("users".into()));
        assert_eq!(t[0].figure, "p99");
        assert_eq!(t[0].comparison, Comparison::Less);
        assert_eq!(t[0].threshold, 100.0);
        assert_eq!(t[0].unit, FigureUnit::Milliseconds);
        assert_eq!(t[0].text, "users p99 < 100ms");
        assert_eq!(t[1].figure, "p50");
        assert_eq!(t[1].threshold, 20.0);
        assert_eq!(t[2].threshold, 0.8);
        assert_eq!(t[2].unit, FigureUnit::Ratio);
        assert_eq!(t[4].subject, TargetSubject::Run);
        assert_eq!(t[4].figure, "throughput_rps");
        assert_eq!(t[4].threshold, 90.0);
        assert_eq!(t[4].text, "throughput >= 90/s");
        assert_eq!(t[5].comparison, Comparison::Equal);
        // A scenario without `expect:` has no targets.
        let plain = load_str("t.yaml", BASE, &LoadOptions::default()).expect("loads");
        assert!(plain.expect.is_empty());
    }

    #[test]
    fn unknown_subjects_and_figures_are_located_with_a_suggestion() {
        let text = with(
            "  - { workload: user, p99: \"< 100ms\" }
  - { component: cache, hit_rato: \">= 0.8\" }
  - { component: db, hit_ratio: \">= 0.8\" }
  - { component: cashe, p99: \"< 1ms\" }
",
        );
        let p = problem_texts(&text);
        assert_eq!(p.len(), 4, "{p:#?}");
        has(
            &p,
            "t.yaml:17:17: there is no workload named `user` (help: did you mean `users`?)",
        );
        has(
            &p,
            "t.yaml:18:25: component `cache` reports no figure `hit_rato` (help: did you mean `hit_ratio`?)",
        );
        has(
            &p,
            "t.yaml:19:22: component `db` reports no figure `hit_ratio`",
        );
        has(
            &p,
            "there is no component named `cashe` (help: did you mean `cache`?)",
        );
    }

    #[test]
    fn thresholds_need_a_comparison_and_the_figure_s_unit() {
        let text = with(
            "  - { workload: users, p99: 100 }
  - { workload: users, p99: \"100ms\" }
  - { workload: users, p99: \"< 100\" }
  - { throughput: \">= 900\" }
  - { component: cache, hit_ratio: \">= 80\" }
  - { dropped: \"== 0ms\" }
  - [ p99 ]
  - { workload: users }
",
        );
        let p = problem_texts(&text);
        assert_eq!(p.len(), 8, "{p:#?}");
        has(
            &p,
            "`p99`: a target needs a comparison and a value, found a bare number",
        );
        has(&p, "`p99`: `100ms` has no comparison");
        has(&p, "`p99`: expected a duration with a unit");
        has(&p, "`throughput`: expected a rate with a unit");
        has(&p, "`hit_ratio`: a ratio lies between 0 and 1, found `80`");
        has(
            &p,
            "`dropped`: this figure is a plain number and takes no unit",
        );
        has(
            &p,
            "a target must be a map of a subject and figures, found a list",
        );
        has(&p, "a target needs at least one figure and its threshold");
    }

    #[test]
    fn stream_groups_and_store_figures_are_known() {
        let text = "name: t
duration: 10s
workloads:
  - name: w
    target: log
    arrival: { poisson: 10/s }
components:
  log:
    type: stream
    partitions: 2
    consumer_groups:
      - { name: search, target: idx }
  idx:
    type: server
    service_time: 1ms
expect:
  - { component: log, search.lag_mean: \"< 5\", search.lag_s_max: \"< 2s\" }
";
        let loaded = load_str("t.yaml", text, &LoadOptions::default()).expect("loads");
        assert_eq!(loaded.expect.len(), 2);
        assert_eq!(loaded.expect[1].unit, FigureUnit::Seconds);
        assert_eq!(loaded.expect[1].threshold, 2.0);
        let bad = text.replace("search.lag_mean", "serch.lag_mean");
        has(&problem_texts(&bad), "did you mean `search.lag_mean`?");
    }
}
