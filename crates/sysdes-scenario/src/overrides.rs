//! `--set PATH=VALUE` overrides, applied to the tree before it is read.
//!
//! PATH is dot-separated map keys; list items (such as workloads) are
//! addressed by their `name` (or their index). VALUE is a YAML flow value.
//! Every node an override creates carries the origin of its `--set`
//! argument, so later errors in it are reported against that argument.

use crate::de::{one_of, suggest};
use crate::node::{Issue, Node, Origin, SNode, parse_value};

/// Applies every override in order; problems are recorded in `issues`.
pub(crate) fn apply(root: &mut SNode, overrides: &[String], issues: &mut Vec<Issue>) {
    for (index, arg) in overrides.iter().enumerate() {
        if let Err(issue) = apply_one(root, index, arg) {
            issues.push(issue);
        }
    }
}

fn set_origin(index: usize, offset: usize, len: usize) -> Origin {
    Origin::Set { index, offset, len }
}

/// Moves origins of a value parsed from `VALUE` onto the `--set` argument.
fn rebase(node: &mut SNode, index: usize, base: usize, value_len: usize) {
    let (offset, len) = match node.origin {
        Origin::File { offset, len, .. } => (offset, len),
        Origin::Set { offset, len, .. } => (offset, len),
    };
    let len = if len == 0 {
        value_len.saturating_sub(offset)
    } else {
        len
    };
    node.origin = set_origin(index, base + offset.min(value_len), len);
    match &mut node.node {
        Node::Seq(items) => items
            .iter_mut()
            .for_each(|n| rebase(n, index, base, value_len)),
        Node::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            rebase(k, index, base, value_len);
            rebase(v, index, base, value_len);
        }),
        _ => {}
    }
}

struct Segment<'a> {
    text: &'a str,
    offset: usize,
}

fn apply_one(root: &mut SNode, index: usize, arg: &str) -> Result<(), Issue> {
    let whole = set_origin(index, 0, arg.len());
    let Some((path, value_text)) = arg.split_once('=') else {
        return Err(Issue {
            origin: whole,
            message: "expected `PATH=VALUE`".to_owned(),
            help: Some("e.g. `--set components.db.workers=16`".to_owned()),
        });
    };
    let mut segments = Vec::new();
    let mut offset = 0;
    for text in path.split('.') {
        if text.trim().is_empty() {
            return Err(Issue {
                origin: set_origin(index, 0, path.len()),
                message: format!("`{path}` is not a valid path"),
                help: Some(
                    "a path is keys separated by dots, e.g. `workloads.users.arrival.poisson`"
                        .to_owned(),
                ),
            });
        }
        segments.push(Segment {
            text: text.trim(),
            offset,
        });
        offset += text.len() + 1;
    }
    let base = path.len() + 1;
    let mut value = match parse_value(value_text) {
        Ok(v) => v,
        Err((message, at)) => {
            return Err(Issue {
                origin: set_origin(
                    index,
                    base + at.min(value_text.len()),
                    value_text.len().saturating_sub(at),
                ),
                message,
                help: Some(
                    "VALUE is YAML: e.g. `16`, `0.5`, `800/s`, `{ exponential: 2ms }`, `[s1, s2]`"
                        .to_owned(),
                ),
            });
        }
    };
    rebase(&mut value, index, base, value_text.len());
    if matches!(root.node, Node::Null) {
        root.node = Node::Map(Vec::new());
    }
    set_at(root, &segments, 0, value, index)
}

fn set_at(
    node: &mut SNode,
    segments: &[Segment<'_>],
    depth: usize,
    value: SNode,
    index: usize,
) -> Result<(), Issue> {
    let Some(seg) = segments.get(depth) else {
        *node = value;
        return Ok(());
    };
    let last = depth + 1 == segments.len();
    let seg_origin = set_origin(index, seg.offset, seg.text.len());
    let prefix: Vec<&str> = segments[..depth].iter().map(|s| s.text).collect();
    let prefix = prefix.join(".");
    if matches!(node.node, Node::Null) {
        node.node = Node::Map(Vec::new());
    }
    match &mut node.node {
        Node::Map(entries) => {
            if let Some(i) = entries
                .iter()
                .position(|(k, _)| k.as_str() == Some(seg.text))
            {
                return match entries.get_mut(i) {
                    Some((_, child)) => set_at(child, segments, depth + 1, value, index),
                    None => Ok(()),
                };
            }
            if !last && depth == 1 && prefix == "components" {
                let names: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
                return Err(unknown_name(seg, seg_origin, "component", &names));
            }
            let key = SNode {
                node: Node::Str(seg.text.to_owned()),
                origin: seg_origin,
            };
            let mut child = SNode {
                node: Node::Map(Vec::new()),
                origin: seg_origin,
            };
            set_at(&mut child, segments, depth + 1, value, index)?;
            entries.push((key, child));
            Ok(())
        }
        Node::Seq(items) => {
            let by_name = items
                .iter()
                .position(|item| item.get("name").and_then(SNode::as_str) == Some(seg.text));
            let by_index = seg.text.parse::<usize>().ok().filter(|i| *i < items.len());
            match by_name.or(by_index).and_then(|i| items.get_mut(i)) {
                Some(child) => set_at(child, segments, depth + 1, value, index),
                None => {
                    let names: Vec<&str> = items
                        .iter()
                        .filter_map(|item| item.get("name").and_then(SNode::as_str))
                        .collect();
                    let what = if prefix == "workloads" {
                        "workload"
                    } else {
                        "list item"
                    };
                    Err(unknown_name(seg, seg_origin, what, &names))
                }
            }
        }
        _ => Err(Issue {
            origin: seg_origin,
            message: format!(
                "cannot set `{}` inside `{prefix}`: `{prefix}` is {}, not a map",
                seg.text,
                node.describe()
            ),
            help: Some(format!(
                "set the whole value instead, e.g. `--set {prefix}={{ {}: ... }}`",
                seg.text
            )),
        }),
    }
}

fn unknown_name(seg: &Segment<'_>, origin: Origin, what: &str, names: &[&str]) -> Issue {
    let help = match suggest(seg.text, names.iter().copied()) {
        Some(s) => Some(format!("did you mean `{s}`?")),
        None if names.is_empty() => None,
        None => Some(format!("the {what}s are {}", one_of(names))),
    };
    Issue {
        origin,
        message: format!("there is no {what} named `{}`", seg.text),
        help,
    }
}
