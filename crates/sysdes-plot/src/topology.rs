//! The system as a picture: the topology of a scenario drawn as SVG.
//!
//! Components are boxes coloured by kind (or, after a run, by utilization),
//! workloads are rounded boxes on the left, and arrows are the flows of
//! requests: a workload's target, a balancer's backends, a server's calls, a
//! cache's backend, a queue's consumer, a stream's consumer groups. Zones
//! are horizontal bands. The layout is layered: a box's column is its
//! longest distance from a workload along the arrows (back edges of a cycle
//! are ignored for the layering and drawn curved), so requests flow left to
//! right. Replicas of a group (`NAME[i]`) are drawn as their group's one box.
//!
//! The same function draws `topology.svg` for the CLI and the diagram of the
//! web playground (through `sysdes-wasm`), so both show the same picture.
//! This module reads a [`ModelSpec`] and, optionally, the result JSON of a
//! run; it simulates nothing and writes no files.

use std::fmt::Write;

use serde_json::Value;
use sysdes_models::{ComponentKind, ModelSpec};

const BOX_W: f64 = 150.0;
const BOX_H: f64 = 46.0;
const COL_GAP: f64 = 70.0;
const ROW_GAP: f64 = 18.0;
const ZONE_PAD: f64 = 14.0;
const ZONE_LABEL: f64 = 16.0;
const MARGIN: f64 = 12.0;

/// One box of the diagram.
struct Node {
    name: String,
    kind: &'static str,
    replicas: u32,
    workload: bool,
    zone: usize,
    column: usize,
    row: usize,
}

/// Draws the topology of `spec` as a standalone SVG document.
///
/// With `result` (the document `sysdes run --format json` prints), each
/// component box is filled by its utilization (white at 0, through amber,
/// to red at 1), shows the figure, and is outlined in red where the run's
/// verdict names it as a problem (saturated, overloaded, the bottleneck)
/// or where it dropped requests. Every box is a `<g>` with
/// a `data-component` attribute holding the component's or workload's name.
pub fn topology_svg(spec: &ModelSpec, result: Option<&Value>) -> String {
    let n = spec.components.len();
    // Replicas of a group are drawn as the group: map each id to the box it is drawn as.
    let mut shown: Vec<usize> = (0..n).collect();
    let mut replicas = vec![1u32; n];
    for (i, c) in spec.components.iter().enumerate() {
        if let ComponentKind::ReplicaGroup(g) = &c.kind {
            let members = g.members.ids();
            if !members.is_empty() {
                replicas[i] = members.len() as u32;
            }
            for m in members {
                if m.index() < n {
                    shown[m.index()] = i;
                }
            }
        }
    }
    // Edges between shown boxes; workloads are boxes n.. n + workloads.
    let mut edges: Vec<(usize, usize, &'static str)> = Vec::new();
    let add = |edges: &mut Vec<(usize, usize, &'static str)>, a: usize, b: usize, label| {
        if a != b && !edges.iter().any(|&(x, y, _)| x == a && y == b) {
            edges.push((a, b, label));
        }
    };
    for (w, workload) in spec.workloads.iter().enumerate() {
        if let Some(&t) = shown.get(workload.target.index()) {
            add(&mut edges, n + w, t, "");
        }
    }
    for (i, c) in spec.components.iter().enumerate() {
        let from = shown[i];
        let to = |edges: &mut Vec<_>, id: sysdes_kernel::ComponentId, label| {
            if let Some(&t) = shown.get(id.index()) {
                add(edges, from, t, label);
            }
        };
        match &c.kind {
            ComponentKind::Server(s) => {
                for step in &s.calls {
                    for &t in &step.targets {
                        to(&mut edges, t, "calls");
                    }
                }
            }
            ComponentKind::ReplicaGroup(g) => {
                for step in g.members.station().iter().flat_map(|s| &s.calls) {
                    for &t in &step.targets {
                        to(&mut edges, t, "calls");
                    }
                }
            }
            ComponentKind::LoadBalancer(lb) => {
                for &t in &lb.backends {
                    to(&mut edges, t, "");
                }
            }
            ComponentKind::Cache(cache) => to(&mut edges, cache.backend, "miss"),
            ComponentKind::Queue(q) => to(&mut edges, q.consumer, "consumer"),
            ComponentKind::Stream(s) => {
                for g in &s.groups {
                    to(&mut edges, g.target, "group");
                }
            }
            ComponentKind::Dns(d) => {
                for &t in &d.records {
                    to(&mut edges, t, "");
                }
            }
            ComponentKind::Function(_)
            | ComponentKind::BatchJob(_)
            | ComponentKind::Storage(_)
            | ComponentKind::ModelServer(_)
            | ComponentKind::LlmServer(_)
            | ComponentKind::Store(_)
            | ComponentKind::TrainingJob(_)
            | ComponentKind::ReviewQueue(_) => {}
        }
    }

    // Layering: longest path from the workloads, ignoring back edges (a
    // bounded relaxation, so a cycle cannot loop forever).
    let total = n + spec.workloads.len();
    let mut column = vec![0usize; total];
    for _ in 0..total {
        let mut changed = false;
        for &(a, b, _) in &edges {
            if column[b] < column[a] + 1 && column[a] + 1 < total {
                column[b] = column[a] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Workloads stay in column 0, the components they feed start at 1.
    for c in column.iter_mut().take(n) {
        *c = (*c).max(1);
    }
    for c in column.iter_mut().skip(n) {
        *c = 0;
    }

    let zone_of_component =
        |i: usize| spec.network.component_zones.get(i).copied().unwrap_or(0) as usize;
    let zone_of_workload =
        |w: usize| spec.network.workload_zones.get(w).copied().unwrap_or(0) as usize;
    let mut nodes: Vec<Option<Node>> = (0..total).map(|_| None).collect();
    for (w, workload) in spec.workloads.iter().enumerate() {
        nodes[n + w] = Some(Node {
            name: workload.name.clone(),
            kind: "workload",
            replicas: 1,
            workload: true,
            zone: zone_of_workload(w),
            column: 0,
            row: 0,
        });
    }
    for (i, c) in spec.components.iter().enumerate() {
        if shown[i] != i {
            continue;
        }
        nodes[i] = Some(Node {
            name: c.name.clone(),
            kind: kind_name(&c.kind),
            replicas: replicas[i],
            workload: false,
            zone: zone_of_component(i),
            column: column[i],
            row: 0,
        });
    }

    // Zones are bands, top to bottom in zone order; inside a band, rows per column.
    let zones = spec.network.zones.len() + 1;
    let columns = column.iter().copied().max().unwrap_or(0) + 1;
    let mut rows_in = vec![vec![0usize; columns]; zones];
    // Workloads first, then components in file order.
    let order: Vec<usize> = (n..total).chain(0..n).collect();
    for &i in &order {
        if let Some(node) = nodes[i].as_mut() {
            node.row = rows_in[node.zone][node.column];
            rows_in[node.zone][node.column] += 1;
        }
    }
    let band_rows: Vec<usize> = rows_in
        .iter()
        .map(|r| r.iter().copied().max().unwrap_or(0))
        .collect();
    let named_zones = !spec.network.zones.is_empty();
    let pad = if named_zones { ZONE_PAD } else { 0.0 };
    let label = if named_zones { ZONE_LABEL } else { 0.0 };
    let mut band_top = vec![0.0; zones];
    let mut y = MARGIN;
    for z in 0..zones {
        band_top[z] = y;
        if band_rows[z] > 0 {
            y += label + 2.0 * pad + band_rows[z] as f64 * (BOX_H + ROW_GAP);
        }
    }
    let height = y + MARGIN;
    let width = MARGIN * 2.0 + 2.0 * pad + columns as f64 * (BOX_W + COL_GAP) - COL_GAP;
    let pos = |node: &Node| {
        (
            MARGIN + pad + node.column as f64 * (BOX_W + COL_GAP),
            band_top[node.zone] + label + pad + node.row as f64 * (BOX_H + ROW_GAP),
        )
    };

    let components = result.and_then(|r| r.get("components"));
    let verdict = result
        .and_then(|r| r.get("verdict"))
        .and_then(Value::as_str)
        .unwrap_or("");

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">
<title>{}: topology</title>
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>
<rect width="100%" height="100%" fill="#ffffff"/>
"##,
        escape(&spec.name)
    );
    if named_zones {
        for z in 0..zones {
            if band_rows[z] == 0 {
                continue;
            }
            let name = if z == 0 {
                "(no zone)"
            } else {
                &spec.network.zones[z - 1]
            };
            let h = label + 2.0 * pad + band_rows[z] as f64 * (BOX_H + ROW_GAP) - ROW_GAP;
            let _ = writeln!(
                svg,
                r##"<g class="zone" data-zone="{0}"><rect x="{1:.1}" y="{2:.1}" width="{3:.1}" height="{4:.1}" rx="8" fill="#f4f7fb" stroke="#8aa1bd" stroke-dasharray="5 3"/><text x="{5:.1}" y="{6:.1}" fill="#44607f" font-weight="bold">zone {0}</text></g>"##,
                escape(name),
                MARGIN / 2.0,
                band_top[z],
                width - MARGIN,
                h,
                MARGIN / 2.0 + 8.0,
                band_top[z] + 13.0,
            );
        }
    }
    for &(a, b, edge_label) in &edges {
        let (Some(na), Some(nb)) = (nodes[a].as_ref(), nodes[b].as_ref()) else {
            continue;
        };
        let (ax, ay) = pos(na);
        let (bx, by) = pos(nb);
        let (x1, y1) = (ax + BOX_W, ay + BOX_H / 2.0);
        let (x2, y2) = (bx, by + BOX_H / 2.0);
        let path = if nb.column > na.column {
            let mid = (x1 + x2) / 2.0;
            format!("M{x1:.1},{y1:.1} C{mid:.1},{y1:.1} {mid:.1},{y2:.1} {x2:.1},{y2:.1}")
        } else {
            // A back edge (or same column): loop below the boxes.
            let low = ay.max(by) + BOX_H + ROW_GAP * 0.8;
            format!(
                "M{:.1},{:.1} C{:.1},{low:.1} {:.1},{low:.1} {:.1},{:.1}",
                ax + BOX_W / 2.0,
                ay + BOX_H,
                ax + BOX_W / 2.0,
                bx + BOX_W / 2.0,
                bx + BOX_W / 2.0,
                by + BOX_H
            )
        };
        let _ = write!(
            svg,
            r##"<path class="edge" d="{path}" fill="none" stroke="#555" stroke-width="1.3" marker-end="url(#arrow)"/>"##
        );
        if !edge_label.is_empty() {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#666" text-anchor="middle">{edge_label}</text>"##,
                (x1 + x2) / 2.0,
                (y1 + y2) / 2.0 - 4.0
            );
        }
        svg.push('\n');
    }
    for node in nodes.iter().flatten() {
        let (x, y) = pos(node);
        let figures = components.and_then(|c| c.get(&node.name));
        let utilization = figures
            .and_then(|f| f.get("utilization"))
            .and_then(Value::as_f64);
        let drops = figures
            .and_then(|f| f.get("drops"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let named = !node.workload && blamed(verdict, &node.name);
        let flagged = named || drops > 0.0;
        let fill = match utilization {
            Some(u) if !node.workload => heat(u),
            _ => kind_colour(node.kind).to_owned(),
        };
        let (stroke, stroke_width) = if flagged {
            ("#c62828", 3.0)
        } else {
            ("#37474f", 1.2)
        };
        let rx = if node.workload { 18 } else { 4 };
        let kind = if node.replicas > 1 {
            format!("{} ×{}", node.kind, node.replicas)
        } else {
            node.kind.to_owned()
        };
        let detail = match utilization {
            Some(u) if !node.workload && (u > 0.0 || node.kind != "load balancer") => {
                format!(" · {:.0} %", u * 100.0)
            }
            _ => String::new(),
        };
        let _ = writeln!(
            svg,
            r##"<g class="node" data-component="{name}" data-kind="{kindattr}"{flag}><title>{name} ({kind}){detail}{why}</title><rect x="{x:.1}" y="{y:.1}" width="{BOX_W}" height="{BOX_H}" rx="{rx}" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}"/><text x="{tx:.1}" y="{ty1:.1}" text-anchor="middle" font-weight="bold">{short}</text><text x="{tx:.1}" y="{ty2:.1}" text-anchor="middle" font-size="10" fill="#333">{kind}{detail}</text></g>"##,
            name = escape(&node.name),
            kindattr = node.kind,
            flag = if flagged {
                r#" data-flagged="true""#
            } else {
                ""
            },
            why = if named {
                " — named by the verdict"
            } else if drops > 0.0 {
                " — dropping"
            } else {
                ""
            },
            short = escape(&shorten(&node.name, 20)),
            tx = x + BOX_W / 2.0,
            ty1 = y + 19.0,
            ty2 = y + 35.0,
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The kind as shown in a box.
fn kind_name(kind: &ComponentKind) -> &'static str {
    match kind {
        ComponentKind::Server(_) => "server",
        ComponentKind::LoadBalancer(_) => "load balancer",
        ComponentKind::Cache(_) => "cache",
        ComponentKind::Queue(_) => "queue",
        ComponentKind::Stream(_) => "stream",
        ComponentKind::ModelServer(_) => "model server",
        ComponentKind::LlmServer(_) => "llm server",
        ComponentKind::Store(_) => "store",
        ComponentKind::ReplicaGroup(g) if g.members.station().is_some() => "deployment",
        ComponentKind::ReplicaGroup(_) => "group",
        ComponentKind::TrainingJob(_) => "training job",
        ComponentKind::ReviewQueue(_) => "review queue",
        ComponentKind::Function(_) => "function",
        ComponentKind::Dns(_) => "dns",
        ComponentKind::BatchJob(_) => "batch job",
        ComponentKind::Storage(_) => "storage",
    }
}

/// A pale fill per kind (Okabe-Ito hues, lightened) before any run.
fn kind_colour(kind: &str) -> &'static str {
    match kind {
        "workload" => "#e8eaf6",
        "server" | "deployment" | "group" | "function" | "batch job" => "#dbeefa",
        "load balancer" | "dns" => "#fdf0d5",
        "cache" => "#d9f2e9",
        "queue" | "stream" | "review queue" => "#f9e0ef",
        "model server" | "llm server" | "training job" => "#fbe3d6",
        "store" | "storage" => "#eeeeee",
        _ => "#ffffff",
    }
}

/// White at utilization 0, amber at 0.5, red at 1 (clamped).
fn heat(u: f64) -> String {
    let u = if u.is_finite() {
        u.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (r, g, b) = if u < 0.5 {
        let t = u / 0.5;
        (
            255.0,
            255.0 - t * (255.0 - 213.0),
            255.0 - t * (255.0 - 79.0),
        )
    } else {
        let t = (u - 0.5) / 0.5;
        (255.0 - t * 25.0, 213.0 - t * 150.0, 79.0 - t * 20.0)
    };
    format!("#{:02x}{:02x}{:02x}", r as u8, g as u8, b as u8)
}

/// Whether a sentence of the verdict names `name` as a problem: saturated,
/// overloaded, the bottleneck, dropping, lagging or unstable. ("No component
/// is saturated; the busiest is X" and "X keeps its slots busy, but
/// batching absorbs the load" name X without blaming it.)
fn blamed(verdict: &str, name: &str) -> bool {
    const PROBLEMS: [&str; 6] = [
        "is saturated",
        "is overloaded",
        "is the bottleneck",
        "dropp",
        "lag",
        "unstable",
    ];
    verdict.split(". ").any(|sentence| {
        !sentence.starts_with("No component")
            && names_in(sentence, name)
            && PROBLEMS.iter().any(|p| sentence.contains(p))
    })
}

/// Whether `text` mentions `name` as a whole word (not inside a longer name).
fn names_in(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '-' || c == '_' || c == '[';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_owned()
    } else {
        let head: String = name.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_names_a_component_only_as_a_whole_word() {
        assert!(names_in("app-2 is saturated", "app-2"));
        assert!(!names_in("app-20 is saturated", "app-2"));
        assert!(!names_in("the db-app is fine", "app"));
    }

    #[test]
    fn only_a_sentence_that_blames_a_component_flags_it() {
        assert!(blamed(
            "api is saturated at 98 % utilization: latency is dominated by its queue.",
            "api"
        ));
        assert!(!blamed(
            "No component is saturated; the busiest is api at 54 % utilization.",
            "api"
        ));
        assert!(!blamed(
            "llm keeps its slots busy 99 % of the time, but batching absorbs the load.",
            "llm"
        ));
        assert!(!blamed("api is saturated at 98 % utilization.", "db"));
    }

    #[test]
    fn heat_runs_from_white_to_red() {
        assert_eq!(heat(0.0), "#ffffff");
        assert_eq!(heat(1.0), "#e63f3b");
        assert_eq!(heat(f64::NAN), "#ffffff");
    }
}
