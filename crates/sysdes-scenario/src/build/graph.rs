//! The graph of who sends to whom (calls, cache backends, queue and stream
//! consumers, balancer backends), from the built specs: cycles are refused
//! (a request sent into one would never finish) and so are chains deeper
//! than [`MAX_CALL_DEPTH`], each reported at a component's name in the file.

use sysdes_models::ComponentSpec;

use super::Ctx;
use crate::node::SNode;

/// The deepest chain of components a request may pass through (a workload's
/// target counts as depth 1); see `docs/limits.md`.
pub const MAX_CALL_DEPTH: usize = 64;

/// Who sends to whom among the components of the file, by index (a
/// component's id is its index): each component's edges are
/// [`ComponentKind::downstream`] of its built spec, the one definition the
/// engine and capacity use, each target once and never itself. A component
/// whose own spec failed has no edges (its problems are reported already;
/// a cycle through it is reported once it is fixed).
///
/// [`ComponentKind::downstream`]: sysdes_models::ComponentKind::downstream
pub(super) fn edges(components: &[Option<ComponentSpec>]) -> Vec<Vec<usize>> {
    components
        .iter()
        .enumerate()
        .map(|(own, c)| {
            let mut out: Vec<usize> = Vec::new();
            if let Some(c) = c {
                c.kind.downstream(|target, _| {
                    let j = target.0 as usize;
                    if j != own && j < components.len() && !out.contains(&j) {
                        out.push(j);
                    }
                });
            }
            out
        })
        .collect()
}

/// Reports a chain of components deeper than [`MAX_CALL_DEPTH`] (on an
/// acyclic graph), once, at the component that starts it.
pub(super) fn check_depth(ctx: &mut Ctx, edges: &[Vec<usize>], names: &[&str], keys: &[&SNode]) {
    // Depth of the longest chain from each node, computed in reverse
    // topological order by an iterative DFS.
    let mut depth: Vec<usize> = vec![0; edges.len()];
    let mut next: Vec<usize> = vec![0; edges.len()];
    for start in 0..edges.len() {
        if depth[start] != 0 {
            continue;
        }
        let mut stack = vec![start];
        while let Some(&node) = stack.last() {
            if let Some(&succ) = edges[node].get(next[node]) {
                next[node] += 1;
                if depth[succ] == 0 {
                    stack.push(succ);
                }
                continue;
            }
            depth[node] = 1 + edges[node].iter().map(|&s| depth[s]).max().unwrap_or(0);
            stack.pop();
        }
    }
    if let Some((i, &d)) = depth.iter().enumerate().max_by_key(|(_, d)| **d) {
        if d > MAX_CALL_DEPTH {
            ctx.push(
                keys[i],
                format!(
                    "a request sent to `{}` may pass through a chain of {d} components, more than the limit of {MAX_CALL_DEPTH}",
                    names[i]
                ),
                Some("shorten the chain of calls, backends and consumers (see docs/limits.md)".to_owned()),
            );
        }
    }
}

/// Reports each cycle among components once; `true` if there is none.
pub(super) fn check_cycles(
    ctx: &mut Ctx,
    edges: &[Vec<usize>],
    names: &[&str],
    keys: &[&SNode],
    balancers: &[bool],
) -> bool {
    let mut acyclic = true;
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; edges.len()];
    for start in 0..edges.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next edge index); `path` is the active chain.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::Active;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let Some(&succ) = edges[node].get(*next) else {
                marks[node] = Mark::Done;
                stack.pop();
                continue;
            };
            *next += 1;
            match marks.get(succ).copied() {
                Some(Mark::New) => {
                    marks[succ] = Mark::Active;
                    stack.push((succ, 0));
                }
                Some(Mark::Active) => {
                    acyclic = false;
                    let from = stack.iter().position(|(n, _)| *n == succ).unwrap_or(0);
                    let all_balancers = stack[from..].iter().all(|(n, _)| balancers[*n]);
                    let mut chain: Vec<&str> =
                        stack[from..].iter().map(|(n, _)| names[*n]).collect();
                    chain.push(names[succ]);
                    let (what, help) = if all_balancers {
                        (
                            "load balancers form a cycle",
                            "a request routed into this loop would never reach a server",
                        )
                    } else {
                        (
                            "components form a cycle (calls, backends or consumers)",
                            "a request sent into this loop would never finish; unroll repeated passes into distinct components (see docs/limits.md)",
                        )
                    };
                    if let Some(key) = keys.get(succ) {
                        ctx.push(
                            key,
                            format!("{what}: {}", chain.join(" -> ")),
                            Some(help.to_owned()),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    acyclic
}
