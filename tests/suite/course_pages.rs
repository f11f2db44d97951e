//! The course pages (docs/course/): their figures are what
//! scripts/course-figures.sh draws today, byte for byte; every link points
//! at a file that exists; every command works when pasted; every topic page
//! has a figure and is on the lesson map; every scenario is used by the
//! course.
//!
//! The figures are compared as SVG, the format committed: sysdes draws the
//! same SVG bytes for the same run on every run and thread count (its text
//! is real text and its numbers are formatted, not rasterised), and SVG is
//! a tenth of the PNG's size in the repository.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::commands::{markdown_scripts, run_all};
use crate::root;

/// Every markdown file under docs/course/, sorted.
fn course_pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable docs/course") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut pages = Vec::new();
    walk(&root().join("docs/course"), &mut pages);
    pages.sort();
    assert!(pages.len() >= 13, "only {} course pages", pages.len());
    pages
}

/// The topic pages: docs/course/*.md except the index.
fn topic_pages() -> Vec<PathBuf> {
    course_pages()
        .into_iter()
        .filter(|p| p.parent() == Some(&root().join("docs/course")))
        .filter(|p| !p.ends_with("index.md"))
        .collect()
}

/// The targets of the markdown links `[text](target)` and images
/// `![alt](target)` of a page, outside code blocks and code spans.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        // Drop code spans: a `](` inside backquotes is not a link.
        let prose: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = prose.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    targets
}

/// A path relative to the repository root, with `/` separators.
fn repo_relative(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path
        .strip_prefix(root())
        .expect("inside the repository")
        .components()
    {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}

#[test]
fn course_figures_are_what_the_script_draws_today() {
    let fresh = crate::fresh_dir("course-figures");
    let out = Command::new("sh")
        .arg(root().join("scripts/course-figures.sh"))
        .arg(&fresh)
        .env("SYSDES", env!("CARGO_BIN_EXE_sysdes"))
        .output()
        .expect("sh runs the script");
    assert!(
        out.status.success(),
        "scripts/course-figures.sh failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let names = |dir: &Path| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .expect("a figures directory")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect()
    };
    let committed_dir = root().join("docs/course/figures");
    let committed = names(&committed_dir);
    let drawn = names(&fresh);
    assert!(
        drawn.len() >= 13,
        "the script drew only {} figures",
        drawn.len()
    );
    let how = "regenerate with `cargo build --release && scripts/course-figures.sh docs/course/figures`, review the diff, commit";
    assert_eq!(
        committed, drawn,
        "docs/course/figures/ does not hold exactly the figures the script draws; {how}"
    );
    let drifted: Vec<&String> = drawn
        .iter()
        .filter(|n| {
            std::fs::read(fresh.join(n)).expect("fresh figure")
                != std::fs::read(committed_dir.join(n)).expect("committed figure")
        })
        .collect();
    let _ = std::fs::remove_dir_all(&fresh);
    assert!(
        drifted.is_empty(),
        "these course figures differ from what the scenarios draw today: {drifted:?}; {how}"
    );
}

#[test]
fn course_pages_link_only_to_files_that_exist() {
    let mut missing = Vec::new();
    for page in course_pages() {
        let text = std::fs::read_to_string(&page).expect("readable page");
        for target in link_targets(&text) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            let file = target.split('#').next().unwrap_or_default();
            if file.is_empty() {
                continue; // an anchor on the same page
            }
            let resolved = page.parent().expect("page dir").join(file);
            if !resolved.exists() {
                missing.push(format!("{}: {target}", repo_relative(&page)));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "links to files that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_topic_page_has_a_figure_and_is_on_the_lesson_map() {
    let index = std::fs::read_to_string(root().join("docs/course/index.md")).expect("index");
    let figures_dir = root().join("docs/course/figures");
    let mut used = BTreeSet::new();
    let pages = topic_pages();
    assert!(pages.len() >= 12, "only {} topic pages", pages.len());
    for page in &pages {
        let name = page
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(page).expect("readable page");
        assert!(
            index.contains(&format!("]({name})")),
            "docs/course/index.md does not link to {name}"
        );
        let figures: Vec<String> = link_targets(&text)
            .into_iter()
            .filter(|t| t.starts_with("figures/"))
            .collect();
        assert!(
            text.contains("![") && !figures.is_empty(),
            "{name} shows no figure from docs/course/figures/"
        );
        for part in [
            "**The question.**",
            "## Commands",
            "## What to notice",
            "## Exercises",
        ] {
            assert!(text.contains(part), "{name} has no `{part}`");
        }
        used.extend(
            figures
                .into_iter()
                .map(|f| f["figures/".len()..].to_string()),
        );
    }
    let unused: Vec<String> = std::fs::read_dir(&figures_dir)
        .expect("figures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !used.contains(n))
        .collect();
    assert!(unused.is_empty(), "figures no page shows: {unused:?}");
}

#[test]
fn every_scenario_is_used_by_the_course() {
    let text: String = course_pages()
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable page"))
        .collect();
    let mut unused = Vec::new();
    for entry in std::fs::read_dir(root().join("scenarios")).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let stem = path
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned();
            if !text.contains(&format!("`{stem}`")) && !text.contains(&format!("{stem}.yaml")) {
                unused.push(stem);
            }
        }
    }
    unused.sort();
    assert!(
        unused.is_empty(),
        "scenarios no course page names (add them to docs/course/index.md): {unused:?}"
    );
}

#[test]
fn every_course_command_works_when_pasted() {
    let mut scripts = Vec::new();
    for page in course_pages() {
        let found = markdown_scripts(&page);
        let is_topic = topic_pages().contains(&page);
        assert!(
            !is_topic || !found.is_empty(),
            "{} has no command block that runs sysdes",
            page.display()
        );
        scripts.extend(found);
    }
    let failed = run_all(&scripts);
    assert!(
        failed.is_empty(),
        "{} of {} course scripts failed:\n\n{}",
        failed.len(),
        scripts.len(),
        failed.join("\n\n")
    );
}

/// Figures the pages quote, and where each comes from: (page, the
/// `sysdes` arguments, the words on the page, what the run prints). When a
/// model change moves one, this test names the page whose "What to notice"
/// has gone stale.
const QUOTED: &[(&str, &[&str], &str, &str)] = &[
    (
        "economics-spot-and-egress.md",
        &[
            "run",
            "scenarios/cost-geo-egress.yaml",
            "--set",
            "components.kv.replicas=2",
            "--set",
            "components.kv.read_quorum=1",
            "--set",
            "components.kv.write_quorum=1",
        ],
        "`egress 581,795,840 bytes across zones`",
        "egress 581,795,840 bytes across zones",
    ),
    (
        "economics-spot-and-egress.md",
        &["run", "scenarios/cost-spot-vs-on-demand.yaml"],
        "p99 of `to-spot` is 159.5 ms against 127.7 ms",
        "159.5",
    ),
    (
        "economics-spot-and-egress.md",
        &["run", "scenarios/cost-spot-vs-on-demand.yaml"],
        "spot-4 at 2.234",
        "2.234 USD/h, spot: 2 interruptions",
    ),
    (
        "economics-spot-and-egress.md",
        &["run", "scenarios/cost-geo-egress.yaml"],
        "egress 1,163,591,680 bytes across zones",
        "egress 1,163,591,680 bytes across zones",
    ),
    (
        "economics-spot-and-egress.md",
        &[
            "run",
            "scenarios/cost-geo-egress.yaml",
            "--set",
            "components.kv.zones=[us, us, us]",
        ],
        "it costs 0.3024 USD/h",
        "0.3024 USD/h",
    ),
    (
        "economics-spot-and-egress.md",
        &["run", "scenarios/cost-spot-replicas.yaml"],
        "`interruptions 4, lost in interruptions 0`",
        "interruptions 4, lost in interruptions 0",
    ),
    (
        "economics-spot-and-egress.md",
        &[
            "run",
            "scenarios/cost-spot-replicas.yaml",
            "--set",
            "components.gpu-spot.cost.spot.notice=0s",
        ],
        "`lost in interruptions 10`",
        "lost in interruptions 10",
    ),
    (
        "economics-spot-and-egress.md",
        &["run", "scenarios/cost-spot-replicas.yaml"],
        "3.638 ready replicas with the notice",
        "replicas ready mean 3.638",
    ),
    (
        "economics-spot-and-egress.md",
        &[
            "run",
            "scenarios/cost-spot-replicas.yaml",
            "--set",
            "components.gpu-spot.cost.spot.notice=0s",
        ],
        "against 3.761 without",
        "replicas ready mean 3.761",
    ),
    (
        "economics-spot-and-egress.md",
        &["run", "scenarios/cost-spot-replicas.yaml"],
        "the p99 of `to-spot` is 141.0 ms",
        "141.0",
    ),
    (
        "economics-spot-and-egress.md",
        &[
            "run",
            "scenarios/cost-spot-replicas.yaml",
            "--set",
            "components.gpu-spot.cost.spot.notice=0s",
        ],
        "against 139.2 ms (127.3 ms on demand)",
        "139.2",
    ),
    (
        "economics-spot-and-egress.md",
        &["run", "scenarios/cost-spot-replicas.yaml"],
        "9.922 USD/h with the notice",
        "9.922 USD/h, spot: 4 interruptions",
    ),
    (
        "economics-spot-and-egress.md",
        &[
            "run",
            "scenarios/cost-spot-replicas.yaml",
            "--set",
            "components.gpu-spot.cost.spot.notice=0s",
        ],
        "10.25 USD/h without",
        "10.25 USD/h, spot: 4 interruptions",
    ),
    (
        "economics-spot-and-egress.md",
        &["run", "scenarios/cost-spot-replicas.yaml"],
        "19.04 USD/h for the on-demand group",
        "gpu-od: 19.05 USD (4.001 billed hours), 19.04 USD/h",
    ),
    (
        "latency-vs-throughput.md",
        &["run", "scenarios/rest-vs-grpc.yaml"],
        "the p99 is 23.20 ms against 11.39 ms",
        "23.20",
    ),
    (
        "latency-vs-throughput.md",
        &[
            "run",
            "scenarios/rest-vs-grpc.yaml",
            "--set",
            "workloads.rest.arrival.poisson=1400/s",
            "--set",
            "workloads.grpc.arrival.poisson=1400/s",
        ],
        "p99 of 91.95 ms",
        "91.95",
    ),
    (
        "deployment-strategies.md",
        &["run", "scenarios/deploy-canary.yaml"],
        "v2's 58.59 ms",
        "58.59",
    ),
    (
        "deployment-strategies.md",
        &[
            "run",
            "scenarios/deploy-canary.yaml",
            "--set",
            "components.lb.weights=[100, 0]",
            "--set",
            "components.lb.phases=[{at: 20s, weights: [0, 100]}]",
        ],
        "mean is 11.94 ms",
        "11.94",
    ),
    (
        "deployment-strategies.md",
        &["run", "scenarios/deploy-shadow.yaml"],
        "`shadowed 11,679`",
        "shadowed 11,679",
    ),
    (
        "deployment-strategies.md",
        &[
            "run",
            "scenarios/deploy-shadow.yaml",
            "--set",
            "components.lb.shadow.share=1",
        ],
        "to 84.9 %",
        "84.9 %",
    ),
    (
        "vm-container-serverless.md",
        &["run", "scenarios/cost-function-vs-container.yaml"],
        "only 12 of 36,134 invocations are cold",
        "invocations 36,134, cold starts 12,",
    ),
    (
        "latency-vs-throughput.md",
        &["run", "scenarios/hockey-stick.yaml"],
        "p99 88.6 ms",
        "88.60",
    ),
    (
        "latency-vs-throughput.md",
        &["run", "scenarios/mmc.yaml"],
        "mean of 1.76 ms",
        "1.763",
    ),
    (
        "back-of-envelope.md",
        &[
            "estimate",
            "scenarios/ride-hailing-eta.yaml",
            "--slo",
            "p99=100ms",
        ],
        "at 344 req/s",
        "344.1 req/s",
    ),
    (
        "back-of-envelope.md",
        &["run", "scenarios/ride-hailing-eta.yaml"],
        "16.20 ms and 60.03 ms",
        "60.03",
    ),
    (
        "load-balancing.md",
        &["run", "scenarios/lb-policies.yaml"],
        "p99 of 230.2 ms",
        "230.2",
    ),
    (
        "load-balancing.md",
        &["run", "scenarios/lb-policies.yaml"],
        "runs at 93.7 %",
        "93.7 %",
    ),
    (
        "caching.md",
        &["run", "scenarios/cache-zipf.yaml"],
        "hit ratio is 38.7 %",
        "hit ratio 38.70 %",
    ),
    (
        "cap-and-quorums.md",
        &["run", "scenarios/cap-cp-vs-ap.yaml"],
        "86.3 % over the run",
        "availability 86.30 %",
    ),
    (
        "cap-and-quorums.md",
        &["run", "scenarios/cap-cp-vs-ap.yaml"],
        "2,628 stale reads",
        "stale reads 2,628",
    ),
    (
        "replication.md",
        &["run", "scenarios/replication-lag.yaml"],
        "mean lag of 875 ms",
        "replication lag mean 874.6 ms",
    ),
    (
        "replication.md",
        &["run", "scenarios/leader-failover.yaml"],
        "and 50 writes",
        "lost writes 50",
    ),
    (
        "async-messaging.md",
        &["run", "scenarios/queue-burst.yaml"],
        "11,633 requests",
        "11,633 timed out",
    ),
    (
        "async-messaging.md",
        &["run", "scenarios/stream-lag.yaml"],
        "44,968 messages",
        "search.expired 44,968",
    ),
    (
        "fan-out-and-tail.md",
        &["run", "scenarios/tail-at-scale.yaml"],
        "2,176 extra calls",
        "hedges sent 2,176",
    ),
    (
        "retries-and-timeouts.md",
        &["run", "scenarios/retry-storm.yaml"],
        "99,177 retries",
        "retries sent: 99,177",
    ),
    (
        "inference-batching.md",
        &["run", "scenarios/model-batching.yaml"],
        "batches of 4.4",
        "mean batch size 4.362",
    ),
    (
        "llm-serving.md",
        &["run", "scenarios/llm-serving.yaml"],
        "TTFT p99 275 ms",
        "ttft p99 275.3 ms",
    ),
    (
        "autoscaling.md",
        &["run", "scenarios/autoscale-vm-vs-container.yaml"],
        "drop 95,002 requests",
        "dropped 95,002",
    ),
    (
        "autoscaling.md",
        &["run", "scenarios/gpu-autoscale.yaml"],
        "drops 39,714 requests",
        "dropped 39,714",
    ),
    (
        "rag-pipeline.md",
        &["run", "scenarios/rag-pipeline.yaml"],
        "the LLM 597 ms",
        "596.5",
    ),
    (
        "recommendation-funnel.md",
        &["run", "scenarios/recommendation-funnel.yaml"],
        "p99 of 49.6 ms",
        "49.61",
    ),
    (
        "feature-stores.md",
        &["run", "scenarios/feature-store-batch.yaml"],
        "30.0 s old on average",
        "read age mean 30,010 ms",
    ),
    (
        "feature-stores.md",
        &["run", "scenarios/feature-store-streaming.yaml"],
        "2.1 s old on average",
        "read age mean 2,109 ms",
    ),
    (
        "lambda-vs-kappa.md",
        &["run", "scenarios/lambda-architecture.yaml"],
        "peaks at 600 + 210.2 = 810.2 s, and it is 450.1 s old on average",
        "run time max 210.2 s, view age mean 450.1 s, view age max 810.2 s",
    ),
    (
        "lambda-vs-kappa.md",
        &["run", "scenarios/lambda-architecture.yaml"],
        "the batch cluster runs 25.0 % of the time",
        "batch_job  25.0 %",
    ),
    (
        "lambda-vs-kappa.md",
        &[
            "run",
            "scenarios/lambda-architecture.yaml",
            "--set",
            "components.batch.every=5m",
        ],
        "peak staleness to 525.3 s",
        "view age max 525.3 s",
    ),
    (
        "lambda-vs-kappa.md",
        &[
            "run",
            "scenarios/lambda-architecture.yaml",
            "--set",
            "components.batch.every=5m",
        ],
        "the cluster runs 52.6 % of the time",
        "batch_job  52.6 %",
    ),
    (
        "lambda-vs-kappa.md",
        &["run", "scenarios/lambda-architecture.yaml"],
        "4 workers, 5.0 % busy",
        "speed-layer      server      5.0 %",
    ),
    (
        "lambda-vs-kappa.md",
        &["run", "scenarios/kappa-reprocessing.yaml"],
        "`caught up 40.23 s`",
        "v2.backlog at start 120,238, v2.caught up 40.23 s",
    ),
    (
        "lambda-vs-kappa.md",
        &[
            "run",
            "scenarios/kappa-reprocessing.yaml",
            "--set",
            "components.events.retention=60s",
        ],
        "(`caught up 20.38 s`)",
        "v2.caught up 20.38 s",
    ),
    (
        "lambda-vs-kappa.md",
        &[
            "run",
            "scenarios/kappa-reprocessing.yaml",
            "--set",
            "components.events.retention=60s",
        ],
        "49,923 older events expired",
        "v2.expired 49,923",
    ),
    (
        "lambda-vs-kappa.md",
        &["run", "scenarios/lambda-architecture.yaml"],
        "0.00041 s behind on average",
        "speed.lag mean 0.00041 s",
    ),
    (
        "faults.md",
        &["run", "scenarios/fault-crash.yaml"],
        "8,951 requests fail",
        "lost in crash 8,951",
    ),
    (
        "dns-failover.md",
        &["run", "scenarios/dns-failover.yaml"],
        "fails 27,975 requests in all",
        "lost in crash 27,975",
    ),
    (
        "dns-failover.md",
        &["run", "scenarios/dns-failover.yaml"],
        "failover at 90.00 s",
        "failover at 90.00 s",
    ),
    (
        "dns-failover.md",
        &["run", "scenarios/dns-failover.yaml"],
        "2,639 over the run here",
        "lookups 2,639",
    ),
    (
        "dns-failover.md",
        &[
            "run",
            "scenarios/dns-failover.yaml",
            "--set",
            "components.dns.ttl=10s",
        ],
        "14,968 requests fail",
        "14,968 failed",
    ),
    (
        "dns-failover.md",
        &[
            "run",
            "scenarios/dns-failover.yaml",
            "--set",
            "components.dns.ttl=10s",
        ],
        "(14,550 at 10 s",
        "lookups 14,550",
    ),
    (
        "dns-failover.md",
        &[
            "run",
            "scenarios/dns-failover.yaml",
            "--set",
            "components.dns.ignore_ttl=0.05",
        ],
        "30,864 requests fail",
        "30,864 failed",
    ),
    (
        "dns-failover.md",
        &[
            "run",
            "scenarios/dns-failover.yaml",
            "--set",
            "components.dns.ttl=0s",
        ],
        "| 0 s | 12,623 |",
        "12,623 failed",
    ),
    (
        "dns-failover.md",
        &[
            "run",
            "scenarios/dns-failover.yaml",
            "--set",
            "components.dns.ttl=30s",
        ],
        "| 30 s | 20,042 |",
        "20,042 failed",
    ),
    (
        "dns-failover.md",
        &[
            "run",
            "scenarios/dns-failover.yaml",
            "--set",
            "components.dns.ttl=120s",
        ],
        "| 120 s | 42,462 |",
        "42,462 failed",
    ),
    (
        "distributed-training.md",
        &["run", "scenarios/training-stragglers.yaml"],
        "stragglers' share is 0.304",
        "stragglers share 0.304",
    ),
    (
        "vision-human-review.md",
        &["run", "scenarios/vision-review.yaml"],
        "mean review age is 8,387 s",
        "review age mean 8,387 s",
    ),
    (
        "vision-human-review.md",
        &["run", "scenarios/vision-review.yaml"],
        "the bottleneck at 85 % utilization",
        "review is the bottleneck at 85 % utilization",
    ),
    (
        "vision-human-review.md",
        &["run", "scenarios/vision-review.yaml"],
        "the backlog reaches 11,706 at its peak",
        "backlog max 11,706",
    ),
    (
        "geo-latency.md",
        &["run", "scenarios/geo-latency.yaml"],
        "`users-eu` 164.5 ms",
        "164.5",
    ), // The capstones' "What it costs" (their `cost:` blocks).
    (
        "capstones/ecommerce-search.md",
        &["run", "scenarios/capstone-ecommerce-search.yaml"],
        "ranker keeps its slots busy 100 % of the time, but batching absorbs the load: it runs at 39 % of its full-batch capacity (mean batch 6.4)",
        "ranker keeps its slots busy 100 % of the time, but batching absorbs the load: it runs at 39 % of its full-batch capacity (mean batch 6.4)",
    ),
    (
        "capstones/ecommerce-search.md",
        &["run", "scenarios/capstone-ecommerce-search.yaml"],
        "window costs 4.580 USD/h, 1.059 USD per million requests",
        "4.580 USD/h over the window, 1.059 USD per million requests",
    ),
    (
        "capstones/ecommerce-search.md",
        &[
            "run",
            "scenarios/capstone-ecommerce-search.yaml",
            "--set",
            "components.ranker.replicas=3",
        ],
        "prints 5.586 USD/h",
        "5.586 USD/h over the window",
    ),
    (
        "capstones/ride-hailing-pricing.md",
        &["run", "scenarios/capstone-ride-hailing-pricing.yaml"],
        "2.617 USD/h over the window, 0.3146 USD per million requests",
        "2.617 USD/h over the window, 0.3146 USD per million requests",
    ),
    (
        "capstones/ride-hailing-pricing.md",
        &[
            "run",
            "scenarios/capstone-ride-hailing-pricing.yaml",
            "--set",
            "components.eta-model.replicas=1",
        ],
        "prints 1.611 USD/h and 0.1937 USD per million requests",
        "1.611 USD/h over the window, 0.1937 USD per million requests",
    ),
    (
        "capstones/ad-bidding.md",
        &["run", "scenarios/capstone-ad-bidding.yaml"],
        "0.8064 USD/h over the window, 0.06384 USD per million bid requests",
        "0.8064 USD/h over the window, 0.06384 USD per million requests",
    ),
    (
        "storage-tiers.md",
        &["run", "scenarios/storage-tiers.yaml"],
        "the volume's mean is 1.206 ms, the file system's 1.551 ms",
        "workload small-ebs                             1,510    1.206",
    ),
    (
        "storage-tiers.md",
        &["run", "scenarios/storage-tiers.yaml"],
        "the file system's 1.551 ms",
        "workload small-efs                             1,504    1.551",
    ),
    (
        "storage-tiers.md",
        &["run", "scenarios/storage-tiers.yaml"],
        "63,406 requests are refused",
        "throttled 63,406",
    ),
    (
        "storage-tiers.md",
        &[
            "run",
            "scenarios/storage-tiers.yaml",
            "--set",
            "workloads.small-ebs.arrival.poisson=2900/s",
        ],
        "mean grows to 7.171 ms and its p99 to 28.36 ms",
        "7.171   4.960   16.16   28.36",
    ),
    (
        "storage-tiers.md",
        &["run", "scenarios/storage-tiers-large.yaml"],
        "its p99 is 3,123 ms",
        "957.6   774.9   1,703   3,123",
    ),
    (
        "storage-tiers.md",
        &["run", "scenarios/storage-tiers-large.yaml"],
        "a p99 of 7,478 and 7,357 ms",
        "1,942   1,449   3,953   7,478",
    ),
    (
        "storage-tiers.md",
        &["run", "scenarios/storage-tiers-large.yaml"],
        "the same 889.5 ms",
        "889.5   889.7",
    ),
    (
        "storage-tiers.md",
        &[
            "run",
            "scenarios/storage-tiers-large.yaml",
            "--set",
            "workloads.efs-b.arrival.poisson=0.01/s",
        ],
        "falls from 1,942 ms to 880.5 ms",
        "workload efs-a                                0.642    880.5",
    ),
];

#[test]
fn course_pages_quote_what_the_runs_give() {
    let mut stale = Vec::new();
    let mut pages_checked = BTreeSet::new();
    for (page, args, on_page, printed) in QUOTED {
        // Words wrap anywhere on a page: compare with single spaces.
        let text = std::fs::read_to_string(root().join("docs/course").join(page))
            .expect("page")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            text.contains(on_page),
            "{page} no longer says {on_page:?}: update QUOTED with the figure it quotes now"
        );
        let out = crate::sysdes(args);
        // Exit 1 is an unstable run (retry-storm), which still prints its table.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "sysdes {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if !String::from_utf8_lossy(&out.stdout).contains(printed) {
            stale.push(format!(
                "{page} quotes {on_page:?}, but `sysdes {}` no longer prints {printed:?}",
                args.join(" ")
            ));
        }
        pages_checked.insert(*page);
    }
    assert!(
        stale.is_empty(),
        "course pages quote figures the runs no longer give (rerun, update the page and QUOTED):\n{}",
        stale.join("\n")
    );
    // Every topic page has at least one checked figure.
    for page in topic_pages() {
        let name = page
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(
            pages_checked.contains(name.as_str()),
            "{name} quotes no figure that QUOTED checks"
        );
    }
}
