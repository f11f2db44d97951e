//! Warnings about settings a scenario gives that change nothing in this
//! run, where the same file is still worth running (a header command may
//! switch the setting that gives them meaning off on purpose, as
//! `--set components.api.discipline=fifo` does to compare). A setting that
//! can never have an effect is an error where it is read instead.

use crate::node::{Issue, Node, SNode};

/// The warnings of the (overridden) scenario tree `root`, in file order.
///
/// A workload's `priority` is only read by servers with `discipline:
/// priority` or `preemptive_priority`; when no component has one, every
/// `priority` key is reported (the classes all wait alike).
pub(crate) fn warnings(root: &SNode) -> Vec<Issue> {
    let mut out = Vec::new();
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
}
