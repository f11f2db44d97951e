//! The cost of a run in the JSON result and the table (only when the
//! scenario declares a cost: otherwise nothing here is written, and every
//! output stays as it was).

use std::fmt::Write as _;

use crate::table::{number, thousands};
use serde_json::{Map, Value, json};
use sysdes_cost::CostResult;

/// The top-level `cost` object: `total_usd`, `per_hour_usd`,
/// `per_million_requests_usd`, `per_million_tokens_usd` (where LLM servers
/// exist) and `by_component` (each with `total_usd`, `per_hour_usd`,
/// `billed_hours`, `interruptions` for a spot component, `egress_bytes` and
/// `egress_usd` where egress is priced, `stored_gb` and `storage_usd`
/// where storage is priced), and `egress_usd`, `storage_usd` where any is.
pub(crate) fn cost_json(c: &CostResult) -> Value {
    let by: Map<String, Value> = c
        .by_component
        .iter()
        .map(|i| {
            let mut entry = json!({
                "total_usd": i.total_usd,
                "per_hour_usd": i.per_hour_usd,
                "billed_hours": i.billed_hours,
            });
            if let Value::Object(m) = &mut entry {
                if let Some(n) = i.interruptions {
                    m.insert("interruptions".into(), json!(n));
                }
                if let (Some(b), Some(e)) = (i.egress_bytes, i.egress_usd) {
                    m.insert("egress_bytes".into(), json!(b));
                    m.insert("egress_usd".into(), json!(e));
                }
                if let (Some(gb), Some(usd)) = (i.stored_gb, i.storage_usd) {
                    m.insert("stored_gb".into(), json!(gb));
                    m.insert("storage_usd".into(), json!(usd));
                }
            }
            (i.name.clone(), entry)
        })
        .collect();
    let mut doc = json!({
        "total_usd": c.total_usd,
        "per_hour_usd": c.per_hour_usd,
        "per_million_requests_usd": c.per_million_requests_usd,
    });
    if let Value::Object(m) = &mut doc {
        if let Some(t) = c.per_million_tokens_usd {
            m.insert("per_million_tokens_usd".into(), json!(t));
        }
        if let Some(e) = c.egress_usd {
            m.insert("egress_usd".into(), json!(e));
        }
        if let Some(s) = c.storage_usd {
            m.insert("storage_usd".into(), json!(s));
        }
        if let Some(g) = c.goodput_requests {
            m.insert("goodput_requests".into(), json!(g));
            m.insert("goodput_per_usd".into(), json!(c.goodput_per_usd));
        }
        m.insert("by_component".into(), Value::Object(by));
    }
    doc
}

/// The table's cost section.
pub(crate) fn cost_table(out: &mut String, c: &CostResult) {
    let _ = writeln!(
        out,
        "cost: {} USD over the run, {} USD/h over the window, {} per million requests{}",
        usd(c.total_usd),
        usd(c.per_hour_usd),
        c.per_million_requests_usd
            .map_or_else(|| "-".to_owned(), |x| format!("{} USD", usd(x))),
        c.per_million_tokens_usd
            .map_or_else(String::new, |x| format!(
                ", {} USD per million tokens",
                usd(x)
            )),
    );
    if let (Some(g), Some(per)) = (c.goodput_requests, c.goodput_per_usd) {
        let _ = writeln!(
            out,
            "  goodput: {} requests within the SLO, {} per USD",
            thousands(g),
            number(per)
        );
    }
    for i in &c.by_component {
        // A component priced per use (a function, an API per request) has
        // no instance-hours: say so rather than print "0.00 billed hours".
        let hours = if i.billed_hours > 0.0 {
            format!(" ({} billed hours)", usd(i.billed_hours))
        } else if i.storage_usd == Some(i.total_usd) {
            " (priced per GB-month)".to_owned()
        } else {
            " (priced per use)".to_owned()
        };
        let mut spot = i
            .interruptions
            .map_or_else(String::new, |n| format!(", spot: {n} interruptions"));
        if let (Some(b), Some(e)) = (i.egress_bytes, i.egress_usd) {
            let _ = write!(
                spot,
                ", egress {} bytes across zones ({} USD)",
                thousands(b),
                usd(e)
            );
        }
        if let (Some(gb), Some(usd_)) = (i.stored_gb, i.storage_usd) {
            let _ = write!(spot, ", storage {} GB held ({} USD)", number(gb), usd(usd_));
        }
        let _ = writeln!(
            out,
            "  {}: {} USD{hours}, {} USD/h{spot}",
            i.name,
            usd(i.total_usd),
            usd(i.per_hour_usd)
        );
    }
}

/// Four significant digits at least, two decimals at least.
fn usd(x: f64) -> String {
    if x.abs() >= 100.0 || x == 0.0 {
        format!("{x:.2}")
    } else {
        let digits = (3 - x.abs().log10().floor() as i32).clamp(2, 9) as usize;
        format!("{x:.digits$}")
    }
}

/// `cost.csv` of `sysdes run --out`: one row per priced component (and
/// host pool), then `total`, with every figure of the `cost` object:
/// `total_usd`, `per_hour_usd`, `billed_hours`, `interruptions`,
/// `egress_bytes` (integers), `egress_usd`, `stored_gb`, `storage_usd`;
/// a cell is empty where the figure does not apply.
pub fn cost_csv(c: &CostResult) -> String {
    use sysdes_models::Figure;
    let cell = |f: Option<Figure>| f.map_or(String::new(), crate::flatten::figure_cell);
    let mut out = String::from(
        "component,total_usd,per_hour_usd,billed_hours,interruptions,egress_bytes,egress_usd,stored_gb,storage_usd\n",
    );
    for i in &c.by_component {
        let cells = [
            Some(Figure::Value(i.total_usd)),
            Some(Figure::Value(i.per_hour_usd)),
            Some(Figure::Value(i.billed_hours)),
            i.interruptions.map(Figure::Count),
            i.egress_bytes.map(Figure::Count),
            i.egress_usd.map(Figure::Value),
            i.stored_gb.map(Figure::Value),
            i.storage_usd.map(Figure::Value),
        ];
        let cells: Vec<String> = cells.into_iter().map(cell).collect();
        let _ = writeln!(out, "{},{}", crate::csv::quote(&i.name), cells.join(","));
    }
    let bytes: Option<u64> = c
        .by_component
        .iter()
        .filter_map(|i| i.egress_bytes)
        .reduce(|a, b| a + b);
    let billed: f64 = c.by_component.iter().map(|i| i.billed_hours).sum();
    let totals = [
        Some(Figure::Value(c.total_usd)),
        Some(Figure::Value(c.per_hour_usd)),
        Some(Figure::Value(billed)),
        None,
        bytes.map(Figure::Count),
        c.egress_usd.map(Figure::Value),
        None,
        c.storage_usd.map(Figure::Value),
    ];
    let cells: Vec<String> = totals.into_iter().map(cell).collect();
    let _ = writeln!(out, "total,{}", cells.join(","));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_keep_four_significant_digits() {
        assert_eq!(usd(0.0), "0.00");
        assert_eq!(usd(1234.567), "1234.57");
        assert_eq!(usd(12.3456), "12.35");
        assert_eq!(usd(0.4861), "0.4861");
        assert_eq!(usd(0.000_123_46), "0.0001235");
    }

    #[test]
    fn storage_keys_appear_only_where_storage_is_priced() {
        let item = |stored: Option<f64>| sysdes_cost::ItemCost {
            name: "s3".into(),
            total_usd: 0.5,
            per_hour_usd: 0.5,
            billed_hours: 0.0,
            interruptions: None,
            egress_bytes: None,
            egress_usd: None,
            stored_gb: stored,
            storage_usd: stored.map(|_| 0.5),
        };
        let mut c = CostResult {
            by_component: vec![item(None)],
            ..CostResult::default()
        };
        let plain = cost_json(&c).to_string();
        assert!(!plain.contains("storage"), "{plain}");
        c.by_component = vec![item(Some(100.0))];
        c.storage_usd = Some(0.5);
        let j = cost_json(&c);
        assert_eq!(j["storage_usd"], 0.5);
        assert_eq!(j["by_component"]["s3"]["stored_gb"], 100.0);
        let mut t = String::new();
        cost_table(&mut t, &c);
        assert!(t.contains("(priced per GB-month)"), "{t}");
        assert!(t.contains("storage 100.0 GB held (0.5000 USD)"), "{t}");
    }
}
