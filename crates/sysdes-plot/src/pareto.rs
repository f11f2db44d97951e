//! The trade-off plot of a sweep whose scenario declares a cost: p99
//! latency against cost per hour, one point per sweep point, with the
//! Pareto front (the points no other point beats on both) joined and named.

use serde_json::{Value, json};

use crate::PlotError;
use crate::chart::{Figure, Mark, Marker, Series, XyChart};
use crate::sweep::SweepData;
use crate::vega::{base, field};

/// The summary columns the plot reads: cost per hour and p99 (means).
const COST: &str = "cost_per_hour_usd_mean";
const P99: &str = "latency_p99_ms_mean";

/// Whether the sweep has what the plot needs (its scenario declares a cost).
pub(crate) fn has_cost(data: &SweepData) -> bool {
    data.summary.find(COST).is_some() && data.summary.find(P99).is_some()
}

/// The indices of the Pareto front of `points` (x: cost, y: latency; lower
/// is better on both), sorted by cost: a point is on it when no other point
/// is at most as costly and at most as slow, and better on one of the two.
/// Points with a non-finite coordinate are never on it.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let mut front: Vec<usize> = (0..points.len())
        .filter(|&i| finite(&points[i]))
        .filter(|&i| {
            let (x, y) = points[i];
            !points
                .iter()
                .any(|q| finite(q) && q.0 <= x && q.1 <= y && (q.0 < x || q.1 < y))
        })
        .collect();
    front.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[a].1.total_cmp(&points[b].1))
    });
    // Equal points: keep one.
    front.dedup_by(|a, b| points[*a] == points[*b]);
    front
}

/// The label of summary row `r`: its swept values.
fn row_label(data: &SweepData, r: usize) -> String {
    let mut parts: Vec<String> = data
        .params
        .iter()
        .map(|p| {
            let short = p.path.rsplit('.').next().unwrap_or(&p.path);
            format!("{short}={}", p.text[r])
        })
        .collect();
    // Parameters varied together (`combine: zip`) often read the same.
    parts.dedup();
    parts.join(", ")
}

/// `latency_vs_cost`: every point, the front as a line with each of its
/// points named by its swept values.
pub(crate) fn latency_vs_cost(data: &SweepData) -> Result<(Figure, Value), PlotError> {
    let t = &data.summary;
    let (cost, p99) = (t.numbers(COST)?, t.numbers(P99)?);
    let points: Vec<(f64, f64)> = cost.iter().copied().zip(p99.iter().copied()).collect();
    let front = pareto_front(&points);
    let dominated: Vec<(f64, f64)> = (0..points.len())
        .filter(|i| !front.contains(i))
        .map(|i| points[i])
        .filter(|p| p.0.is_finite() && p.1.is_finite())
        .collect();
    let mut series = vec![Series {
        name: "Pareto front".to_string(),
        colour: 0,
        points: front.iter().map(|&i| points[i]).collect(),
        band: Vec::new(),
        mark: Mark::LinePoints,
    }];
    if !dominated.is_empty() {
        series.push(Series {
            name: "dominated".to_string(),
            colour: 1,
            points: dominated,
            band: Vec::new(),
            mark: Mark::Points,
        });
    }
    let markers = front
        .iter()
        .map(|&i| Marker {
            at: points[i],
            label: row_label(data, i),
            colour: 0,
        })
        .collect();
    let title = format!("{}: p99 latency vs cost per hour", data.name);
    let chart = XyChart {
        title: title.clone(),
        x_label: "cost (USD per hour, mean over replications)".to_string(),
        y_label: "p99 latency (ms, mean over replications)".to_string(),
        series,
        markers,
        ..XyChart::default()
    };
    let mut spec = base(&title, "");
    spec.insert("width".into(), json!(640));
    spec.insert("height".into(), json!(360));
    spec.insert(
        "mark".into(),
        json!({ "type": "point", "filled": true, "size": 60 }),
    );
    spec.insert(
        "encoding".into(),
        json!({
            "x": { "field": field(COST), "type": "quantitative", "title": "cost (USD per hour)" },
            "y": { "field": field(P99), "type": "quantitative", "title": "p99 latency (ms)" }
        }),
    );
    Ok((Figure::Xy(chart), Value::Object(spec)))
}

/// `cost_vs_PARAM`: each priced component's cost over the run (mean over
/// replications, with its 95 % interval as a band) against the first swept
/// parameter that is a number, and beside it, where the component prices
/// them, its egress (`NAME: egress`) and storage (`NAME: storage`) parts;
/// where the lines cross, the designs cost the same. `None` without such a
/// parameter or without per-component costs.
pub(crate) fn cost_vs_param(
    data: &SweepData,
) -> Result<Option<(String, Figure, Value)>, PlotError> {
    let Some((param, xs)) = data
        .params
        .iter()
        .find_map(|p| p.numeric.as_ref().map(|xs| (p, xs)))
    else {
        return Ok(None);
    };
    let t = &data.summary;
    let names: Vec<&str> = t
        .headers
        .iter()
        .filter_map(|h| h.strip_prefix("cost_usd:")?.strip_suffix("_mean"))
        .collect();
    if names.is_empty() {
        return Ok(None);
    }
    let mut rows: Vec<usize> = (0..t.len()).filter(|&r| xs[r].is_finite()).collect();
    rows.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let bands = data.replicated()?;
    let mut series = Vec::new();
    let mut layers = Vec::new();
    let short = param.path.rsplit('.').next().unwrap_or(&param.path);
    let x = json!({ "field": field(&format!("{}#value", param.path)), "type": "quantitative", "title": short });
    // Each component's whole bill, then the parts of it that are egress
    // and storage (where priced): the rest is its instances.
    let mut lines: Vec<(String, String)> = Vec::new();
    for name in &names {
        lines.push((format!("cost_usd:{name}"), (*name).to_string()));
        for part in ["egress", "storage"] {
            let column = format!("cost_{part}_usd:{name}");
            if t.find(&format!("{column}_mean")).is_some() {
                lines.push((column, format!("{name}: {part}")));
            }
        }
    }
    for (colour, (column, label)) in lines.iter().enumerate() {
        let mean = t.numbers(&format!("{column}_mean"))?;
        let band = match (
            bands,
            t.numbers_if_present(&format!("{column}_ci95_low"))?,
            t.numbers_if_present(&format!("{column}_ci95_high"))?,
        ) {
            (true, Some(lo), Some(hi)) => rows.iter().map(|&r| (xs[r], lo[r], hi[r])).collect(),
            _ => Vec::new(),
        };
        series.push(Series {
            name: label.clone(),
            colour,
            points: rows.iter().map(|&r| (xs[r], mean[r])).collect(),
            band,
            mark: Mark::LinePoints,
        });
        layers.push(json!({
            "mark": { "type": "line", "point": true },
            "encoding": { "x": x,
                          "y": { "field": field(&format!("{column}_mean")), "type": "quantitative",
                                 "title": "cost over the run (USD)" },
                          "color": { "datum": label, "title": "component" } }
        }));
    }
    let lo = rows.first().map_or(0.0, |&r| xs[r]);
    let hi = rows.last().map_or(0.0, |&r| xs[r]);
    let log = lo > 0.0 && hi >= 10.0 * lo;
    let title = format!("{}: cost by component vs {short}", data.name);
    let chart = XyChart {
        title: title.clone(),
        x_label: param.path.clone(),
        x_log: log,
        // A swept count (replicas, workers) gets whole-number ticks.
        x_integer: rows.iter().all(|&r| xs[r].fract() == 0.0),
        y_label: format!(
            "cost over the run (USD){}",
            if bands { ", mean and 95% CI" } else { "" }
        ),
        series,
        ..XyChart::default()
    };
    let mut spec = base(&title, "");
    spec.insert("width".into(), json!(640));
    spec.insert("height".into(), json!(360));
    spec.insert("layer".into(), Value::Array(layers));
    let slug: String = short
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    Ok(Some((
        format!("cost_vs_{slug}"),
        Figure::Xy(chart),
        Value::Object(spec),
    )))
}

#[cfg(test)]
mod tests {
    use super::pareto_front;

    #[test]
    fn the_front_keeps_exactly_the_points_nothing_beats_on_both() {
        // (cost, p99): c dominates d; a, b, c trade off; e is a duplicate
        // of b; f has no cost.
        let points = [
            (1.0, 90.0),
            (2.0, 50.0),
            (4.0, 20.0),
            (5.0, 25.0),
            (2.0, 50.0),
            (f64::NAN, 1.0),
            (3.0, 50.0),
        ];
        assert_eq!(pareto_front(&points), vec![0, 1, 2]);
        assert_eq!(pareto_front(&[]), Vec::<usize>::new());
        assert_eq!(pareto_front(&[(1.0, 1.0)]), vec![0]);
    }
}
