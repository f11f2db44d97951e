//! Costs end to end: hand-computed totals through the CLI, autoscaled
//! fleets against the sum over their replicas' lifetimes, the figures the
//! cost scenarios' headers name, the build-vs-buy crossover against its
//! closed form (docs/cost.md), and `--prices`.

use std::path::Path;

use crate::{Csv, root, run_json, sysdes, sysdes_out, temp_scenario};

/// Two fixed servers, one deployment of 2 replicas on a pool of 3 hosts.
const PRICED: &str = "name: priced
duration: 100s
workloads:
  - { name: to-a, target: a, arrival: { constant: 10/s } }
  - { name: to-b, target: b, arrival: { constant: 10/s } }
hosts:
  pool: { count: 3, cores: 4, memory: 16GiB, cost: { per_hour: 1.0, billing: per_hour } }
components:
  a:
    type: server
    service_time: 1ms
    cost: { per_hour: 0.36, billing: per_second, minimum: 60s }
  b:
    type: server
    service_time: 1ms
    replicas: 2
    host: pool
    cost: { per_hour: 0.5 }
  c:
    type: server
    service_time: 1ms
";

/// The listed price of the shipped table's row `name`: the file
/// `prices/2026-12.yaml` (December 2026; every row gives its source URL and
/// the date it was read, 2026-12-05), which `sysdes-cost` embeds. The
/// tests read the figure from the table instead of repeating it, so a row
/// the table updates moves the expected bill with it; the comments quote
/// the figures as read on that date.
fn listed(name: &str) -> f64 {
    sysdes_cost::PriceTable::shipped()
        .get(name)
        .unwrap_or_else(|| panic!("prices/2026-12.yaml has no row `{name}`"))
        .price
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= want.abs() * 1e-9,
        "{what}: got {got}, want {want}"
    );
}

#[test]
fn fixed_instances_cost_instances_times_billed_time_times_price() {
    let v = run_json(&temp_scenario("priced.yaml", PRICED), &[]);
    // Billing runs to the later of `duration` and the last request's end.
    let end_s = v["drained_at_s"].as_f64().unwrap().max(100.0);
    assert!(end_s < 101.0, "{end_s}");
    let billed_s = end_s.ceil();
    // a: one instance, whole seconds (over the 60 s minimum) at $0.36/h.
    let a = billed_s * 0.36 / 3600.0;
    // b: two replicas for the whole run at $0.5/h each.
    let b = 2.0 * billed_s * 0.5 / 3600.0;
    // The pool: three hosts, each billed a whole hour at $1/h.
    let hosts = 3.0;
    let cost = &v["cost"];
    close(
        "a",
        cost["by_component"]["a"]["total_usd"].as_f64().unwrap(),
        a,
    );
    close(
        "b",
        cost["by_component"]["b"]["total_usd"].as_f64().unwrap(),
        b,
    );
    close(
        "hosts",
        cost["by_component"]["hosts.pool"]["total_usd"]
            .as_f64()
            .unwrap(),
        hosts,
    );
    close("total", cost["total_usd"].as_f64().unwrap(), a + b + hosts);
    close(
        "a's cost_usd",
        v["components"]["a"]["cost_usd"].as_f64().unwrap(),
        a,
    );
    assert!(
        v["components"]["c"].get("cost_usd").is_none(),
        "c declares no cost"
    );
    // The window is the whole 100 s: 0.36 + 2 x 0.5 + 3 x 1 per hour.
    close("per hour", cost["per_hour_usd"].as_f64().unwrap(), 4.36);
    let completed = v["requests"]["completed"].as_u64().unwrap();
    assert_eq!(completed, 2000);
    close(
        "per million requests",
        cost["per_million_requests_usd"].as_f64().unwrap(),
        4.36 * 100.0 / 3600.0 / 2000.0 * 1e6,
    );
}

#[test]
fn a_scenario_without_costs_has_no_cost_keys() {
    let v = run_json(&root().join("scenarios/mm1.yaml"), &[]);
    assert!(v.get("cost").is_none());
    assert!(v["components"]["server"].get("cost_usd").is_none());
    let table = sysdes(&["run", "scenarios/mm1.yaml"]);
    assert!(!String::from_utf8_lossy(&table.stdout).contains("\ncost:"));
}

#[test]
fn autoscaled_cost_is_the_sum_over_replica_lifetimes_under_the_rule() {
    let loaded = sysdes_scenario::load_file(
        &root().join("scenarios/cost-autoscale.yaml"),
        &sysdes_scenario::LoadOptions::default(),
    )
    .unwrap();
    let result = sysdes_models::Simulation::new(&loaded.spec)
        .unwrap()
        .run(
            sysdes_models::RunLimits::default(),
            &mut sysdes_models::NoObserver,
        )
        .unwrap();
    let cost = sysdes_cost::cost(&loaded.spec, &loaded.cost, &result);
    // m7i.large, $0.1008/h; fargate.1vcpu-2gb, $0.04937/h.
    for (i, (name, price)) in [
        ("api-vm", listed("m7i.large")),
        ("api-container", listed("fargate.1vcpu-2gb")),
    ]
    .into_iter()
    .enumerate()
    {
        let lives = &result.lifetimes.by_component[i];
        // Ten replicas at the start, more for the spike.
        assert!(lives.len() > 10, "{name}: {} lifetimes", lives.len());
        // Each: whole seconds, at least 60 (EC2 and Fargate bill so).
        let billed_s: u64 = lives
            .iter()
            .map(|l| l.len_ns().div_ceil(1_000_000_000).max(60))
            .sum();
        let item = cost.component(name).unwrap();
        close(name, item.total_usd, billed_s as f64 * price / 3600.0);
        // A replica is billed at least for the time it was ready.
        let c = &result.components[i];
        let ready_h = c.scaling.unwrap().replicas_ready_mean * 900.0 / 3600.0;
        assert!(
            item.billed_hours >= ready_h,
            "{name}: {} < {ready_h}",
            item.billed_hours
        );
        println!(
            "{name}: {} replicas started, {:.2} billed hours, {:.4} USD, {:.3} USD/h",
            lives.len(),
            item.billed_hours,
            item.total_usd,
            item.per_hour_usd
        );
    }
}

/// The backquoted `cost.A.B` paths and `cost_usd` of a scenario's header.
fn named_cost_figures(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    crate::header_comment(&text)
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with("cost.") || *s == "cost_usd")
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_figures_the_cost_scenarios_name_are_in_their_results() {
    for (file, figures) in [
        ("scenarios/cost-autoscale.yaml", vec![]),
        (
            "scenarios/cost-build-vs-buy.yaml",
            vec![
                ("self-hosted", "ttft_p99_ms"),
                ("self-hosted", "tpot_mean_ms"),
            ],
        ),
    ] {
        let path = root().join(file);
        let named = named_cost_figures(&path);
        assert!(named.len() >= 3, "{file}: {named:?}");
        let v = run_json(&path, &[]);
        for n in &named {
            if n == "cost_usd" {
                let any = v["components"]
                    .as_object()
                    .unwrap()
                    .values()
                    .any(|c| c.get("cost_usd").is_some());
                assert!(any, "{file}: no component has cost_usd");
                continue;
            }
            let mut at = &v;
            for key in n.split('.') {
                at = at.get(key).unwrap_or_else(|| {
                    panic!("{file}: the header names `{n}`, which is not in the result")
                });
            }
            assert!(at.is_number() || at.is_object(), "{file}: `{n}` is {at}");
        }
        for (component, key) in figures {
            assert!(
                v["components"][component][key].is_number(),
                "{file}: {component}.{key}"
            );
        }
    }
}

/// The mean bills (`cost_usd:NAME_mean`) of components `a` and `b` at the
/// sweep point whose column `rate_column` reads `rate`.
fn bills_at(summary: &Csv, (rate_column, rate): (&str, &str), (a, b): (&str, &str)) -> (f64, f64) {
    let at = summary.col(rate_column);
    let row = summary
        .rows
        .iter()
        .find(|row| row[at] == rate)
        .unwrap_or_else(|| panic!("no point at {rate_column} = {rate}"));
    let bill = |name: &str| -> f64 {
        let cell = &row[summary.col(&format!("cost_usd:{name}_mean"))];
        cell.parse()
            .unwrap_or_else(|e| panic!("{name}: {cell}: {e}"))
    };
    (bill(a), bill(b))
}

#[test]
fn the_build_vs_buy_sweep_has_cost_columns_and_crosses_where_the_closed_form_says() {
    let out = sysdes_out(
        "cost-sweep",
        &["sweep", "scenarios/cost-build-vs-buy-sweep.yaml"],
    );
    let summary = Csv::read(&out.join("summary.csv"));
    for c in [
        "cost_total_usd_mean",
        "cost_per_hour_usd_ci95_low",
        "cost_per_million_requests_usd_ci95_high",
    ] {
        summary.col(c);
    }
    let row = |r: &str| {
        bills_at(
            &summary,
            ("workloads.to-api.arrival.poisson", r),
            ("llm-api", "self-hosted"),
        )
    };
    let (api_1, gpu_1) = row("1/s");
    let (api_15, gpu_15) = row("1.5/s");
    assert!(
        api_1 < gpu_1,
        "at 1/s the API is cheaper: {api_1} vs {gpu_1}"
    );
    assert!(
        api_15 > gpu_15,
        "at 1.5/s the GPU is cheaper: {api_15} vs {gpu_15}"
    );
    // Closed form: the API's expected bill over the 600 s is
    // rate x 600 x $0.001 (the scenario's own `per_request: 0.001`); the
    // GPU's is its measured (flat) total G, so they cross at G / 0.6
    // (runpod.h100-sxm's $4.76 / 3.6 = 1.32/s per hour, a little more
    // over the run since the GPU is also paid while the last requests
    // drain). The sweep's crossover is interpolated between 1/s and 1.5/s.
    let g = (gpu_1 + gpu_15) / 2.0;
    let closed = g / 0.6;
    let d1 = api_1 - gpu_1;
    let d15 = api_15 - gpu_15;
    let measured = 1.0 + 0.5 * (-d1) / (d15 - d1);
    // Tolerance from the run length: the API's bill at rate r is Poisson,
    // sd sqrt(600 r) x $0.001 per run, / sqrt(3) for the mean of three
    // replications; through the interpolation that moves the crossover by
    // 0.5 x sqrt(sd_1^2 + sd_15^2) / (d15 - d1). Three of those.
    let sd = |r: f64| (600.0 * r).sqrt() * 0.001 / 3f64.sqrt();
    let tolerance = 3.0 * 0.5 * (sd(1.0).powi(2) + sd(1.5).powi(2)).sqrt() / (d15 - d1);
    println!(
        "crossover: measured {measured:.4}/s, closed form {closed:.4}/s (tolerance {tolerance:.4})"
    );
    assert!(
        (measured - closed).abs() <= tolerance,
        "crossover {measured} vs closed form {closed} (tolerance {tolerance})"
    );
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn prices_from_a_file_override_the_shipped_table() {
    let prices = temp_scenario(
        "prices.yaml",
        "date: 2027-01-01\nrows:\n  - { name: runpod.h100-sxm, kind: gpu, unit: hour, price: 1.0 }\n",
    );
    let v = run_json(
        &root().join("scenarios/cost-build-vs-buy.yaml"),
        &[
            "--prices",
            prices.to_str().unwrap(),
            "--set",
            "duration=60s",
            "--set",
            "warmup=0s",
        ],
    );
    close(
        "self-hosted per hour",
        v["cost"]["by_component"]["self-hosted"]["per_hour_usd"]
            .as_f64()
            .unwrap(),
        1.0,
    );
    let bad = temp_scenario(
        "bad-prices.yaml",
        "rows:\n  - { name: x, kind: vm, unit: hour, price: -1 }\n",
    );
    let out = sysdes(&[
        "run",
        "scenarios/mm1.yaml",
        "--prices",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("row `x`: `price` must be zero or more"),
        "{err}"
    );
}

#[test]
fn an_unknown_instance_is_a_located_error_with_the_nearest_rows() {
    let text = PRICED.replace(
        "cost: { per_hour: 0.36, billing: per_second, minimum: 60s }",
        "cost: { instance: m7i.larg }",
    );
    let out = sysdes(&[
        "validate",
        temp_scenario("unknown.yaml", &text).to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown.yaml:12:"), "{err}");
    assert!(err.contains("no price-table row named `m7i.larg`"), "{err}");
    assert!(err.contains("`m7i.large`"), "{err}");
}

#[test]
fn estimate_prices_the_instances_it_sizes() {
    let text = "name: est
duration: 60s
workloads:
  - { name: users, target: api, arrival: { poisson: 300/s } }
components:
  api:
    type: server
    workers: 4
    service_time: { exponential: 10ms }
    cost: { instance: m7i.xlarge }
";
    let path = temp_scenario("est.yaml", text);
    let out = sysdes(&[
        "estimate",
        path.to_str().unwrap(),
        "--target-rate",
        "2000/s",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // 2000/s x 10 ms = 20 busy workers; at 80 % that is 25 workers, so
    // 7 instances of 4 workers, at m7i.xlarge's $0.2016/h each.
    let m7i_xlarge = listed("m7i.xlarge");
    assert_eq!(v["cost"]["by_component"]["api"]["instances_for_target"], 7);
    close(
        "now",
        v["cost"]["per_hour_usd"].as_f64().unwrap(),
        m7i_xlarge,
    );
    close(
        "at target",
        v["cost"]["per_hour_usd_at_target"].as_f64().unwrap(),
        7.0 * m7i_xlarge,
    );
}

/// The function-vs-container sweep: the bills cross where the closed form
/// says (the exact bill identity is checked per run by
/// `a_functions_bill_is_invocations_and_billed_gb_seconds`): the containers'
/// measured (flat) total C against the function's expected bill over the
/// run, r x 3600 s x (0.0000002 + 1 GiB x 0.050 s x 0.0000166667): the
/// price table's `lambda.request` and `lambda.gb_second`.
#[test]
fn the_function_vs_container_sweep_crosses_where_the_closed_form_says() {
    let out = sysdes_out(
        "fvc-sweep",
        &["sweep", "scenarios/cost-function-vs-container-sweep.yaml"],
    );
    let summary = Csv::read(&out.join("summary.csv"));
    let row = |r: &str| {
        bills_at(
            &summary,
            ("workloads.to-function.arrival.poisson", r),
            ("fn", "containers"),
        )
    };
    let (f20, c20) = row("20/s");
    let (f30, c30) = row("30/s");
    assert!(f20 < c20, "at 20/s the function is cheaper: {f20} vs {c20}");
    assert!(
        f30 > c30,
        "at 30/s the containers are cheaper: {f30} vs {c30}"
    );
    // Per request a second over the hour: $3600 x (2e-7 + 0.05 x 1.66667e-5).
    let per_rate = 3600.0 * (listed("lambda.request") + 0.05 * listed("lambda.gb_second"));
    let closed = (c20 + c30) / 2.0 / per_rate;
    let (d20, d30) = (f20 - c20, f30 - c30);
    let measured = 20.0 + 10.0 * (-d20) / (d30 - d20);
    // Tolerance from the run length: the function's bill at rate r is
    // Poisson in its invocations, sd sqrt(3600 r) x per_rate / 3600 per
    // run, / sqrt(3) for the mean of three; through the interpolation that
    // moves the crossover by 10 x sqrt(sd_20^2 + sd_30^2) / (d30 - d20).
    // Three of those. The closed form leaves out cold starts; at 20-30/s
    // they are a few dozen 250 ms invocations in 72,000-108,000, far below
    // this tolerance.
    let sd = |r: f64| (3600.0 * r).sqrt() * per_rate / 3600.0 / 3f64.sqrt();
    let tolerance = 3.0 * 10.0 * (sd(20.0).powi(2) + sd(30.0).powi(2)).sqrt() / (d30 - d20);
    println!(
        "function vs container crossover: measured {measured:.3}/s, closed form {closed:.3}/s (tolerance {tolerance:.3})"
    );
    assert!(
        (measured - closed).abs() <= tolerance,
        "crossover {measured} vs closed form {closed} (tolerance {tolerance})"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// The function's bill in the single run is exactly its invocations and
/// billed GB-seconds at Lambda's prices.
#[test]
fn a_functions_bill_is_invocations_and_billed_gb_seconds() {
    let v = run_json(
        &root().join("scenarios/cost-function-vs-container.yaml"),
        &[],
    );
    let f = &v["components"]["fn"];
    let n = f["invocations"].as_f64().unwrap();
    let gbs = f["billed_gb_seconds"].as_f64().unwrap();
    assert!(n > 30_000.0, "{n}");
    assert!(f["cold_starts"].as_f64().unwrap() >= 1.0);
    // Warm invocations bill exactly 50 ms; cold ones 300 ms.
    let cold = f["cold_starts"].as_f64().unwrap();
    assert_eq!(
        f["billed_ms"].as_f64().unwrap(),
        50.0 * (n - cold) + 300.0 * cold
    );
    close(
        "fn",
        v["cost"]["by_component"]["fn"]["total_usd"]
            .as_f64()
            .unwrap(),
        n * listed("lambda.request") + gbs * listed("lambda.gb_second"),
    );
}

/// The spot scenario: each spot GPU's window rate is its price times the
/// window time it lived (its interruptions' crash windows cut out, the
/// replacement unbilled), its interruption count is its crash windows,
/// the on-demand GPUs cost their price, and the interruptions cost tail
/// latency and retries (failures without retries).
#[test]
fn spot_gpus_cost_their_price_while_alive_and_their_interruptions_are_crashes() {
    let path = root().join("scenarios/cost-spot-vs-on-demand.yaml");
    let v = run_json(&path, &[]);
    let by = &v["cost"]["by_component"];
    let (from, to) = (60.0, 3600.0);
    let mut interruptions = 0;
    for i in 1..=4 {
        close(
            "on demand",
            by[format!("od-{i}")]["per_hour_usd"].as_f64().unwrap(),
            listed("runpod.h100-sxm"),
        );
        assert!(by[format!("od-{i}")].get("interruptions").is_none());
        let name = format!("spot-{i}");
        let crashes: Vec<(f64, f64)> = v["faults"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["target"] == name.as_str())
            .map(|f| {
                assert_eq!(f["kind"], "crash");
                (f["start_s"].as_f64().unwrap(), f["end_s"].as_f64().unwrap())
            })
            .collect();
        let n = by[&name]["interruptions"].as_u64().unwrap();
        assert_eq!(n, crashes.len() as u64, "{name}");
        interruptions += n;
        let down: f64 = crashes
            .iter()
            .map(|(a, b)| (b.min(to) - a.max(from)).max(0.0))
            .sum();
        close(
            &name,
            by[&name]["per_hour_usd"].as_f64().unwrap(),
            listed("runpod.h100-sxm.spot") * (to - from - down) / (to - from),
        );
    }
    // Four GPUs at 1/h for about 12/13 of an hour each: 3.7 expected, a
    // Poisson count; the header quotes the seed's 3.
    assert_eq!(interruptions, 3);
    let (od, spot) = (&v["workloads"]["to-on-demand"], &v["workloads"]["to-spot"]);
    assert!(spot["latency_ms"]["p99"].as_f64() > od["latency_ms"]["p99"].as_f64());
    assert_eq!(od["requests"]["retries"], 0);
    let retried = spot["requests"]["retries"].as_u64().unwrap();
    assert!(retried > 0);
    assert_eq!(spot["requests"]["failed"], 0);
    let v = run_json(&path, &["--set", "workloads.to-spot.retries.max=0"]);
    assert_eq!(v["workloads"]["to-spot"]["requests"]["failed"], retried);
    // The verdict names the losses as spot interruptions, not crashes.
    let verdict = v["verdict"].as_str().unwrap();
    assert!(verdict.contains("spot interruption"), "{verdict}");
    assert!(!verdict.contains("crashed"), "{verdict}");
}

/// The spot-replica scenario (`scenarios/cost-spot-replicas.yaml`): what
/// its header names is in the output. Every interruption of a `gpu-spot`
/// replica is a crash window of `gpu-spot[i]`, counted on the group and in
/// its cost; with the two-minute notice (longer than any batch) no request
/// fails; without it the same interruptions (the same draws) fail exactly
/// the requests they caught inside. The on-demand group costs its price;
/// the spot group at most its price for four GPUs (the gaps unbilled).
#[test]
fn spot_replicas_with_a_notice_fail_nothing_and_pay_their_lives() {
    let path = root().join("scenarios/cost-spot-replicas.yaml");
    let starts = |v: &serde_json::Value| -> Vec<f64> {
        v["faults"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["target"].as_str().unwrap().starts_with("gpu-spot["))
            .map(|f| {
                assert_eq!(f["kind"], "crash");
                f["start_s"].as_f64().unwrap()
            })
            .collect()
    };
    let v = run_json(&path, &[]);
    let spot = &v["components"]["gpu-spot"];
    let n = spot["interruptions"].as_u64().unwrap();
    let at = starts(&v);
    assert_eq!(n, at.len() as u64);
    assert_eq!(n, 4, "the seed's draws");
    assert_eq!(v["cost"]["by_component"]["gpu-spot"]["interruptions"], n);
    assert_eq!(spot["lost_in_interruptions"], 0);
    assert_eq!(v["requests"]["failed"], 0);
    close(
        "on demand",
        v["cost"]["by_component"]["gpu-od"]["per_hour_usd"]
            .as_f64()
            .unwrap(),
        // Four replicas of runpod.h100-sxm at $4.76/h: $19.04/h.
        4.0 * listed("runpod.h100-sxm"),
    );
    let spot_h = v["cost"]["by_component"]["gpu-spot"]["per_hour_usd"]
        .as_f64()
        .unwrap();
    // Four spot GPUs (runpod.h100-sxm.spot, $2.69/h) less their gaps.
    let spot_price = listed("runpod.h100-sxm.spot");
    assert!(
        spot_h < 4.0 * spot_price && spot_h > 3.0 * spot_price,
        "{spot_h}"
    );
    assert!(v["components"]["gpu-od"].get("interruptions").is_none());
    let v0 = run_json(&path, &["--set", "components.gpu-spot.cost.spot.notice=0s"]);
    assert_eq!(starts(&v0), at, "the notice changes no draw");
    let lost = v0["components"]["gpu-spot"]["lost_in_interruptions"]
        .as_u64()
        .unwrap();
    assert!(lost > 0);
    assert_eq!(v0["requests"]["failed"], lost);
}

/// Egress by hand: 1,000 requests (10 a second for 100 s, no warm-up)
/// from `users` in us to `api` in us, which calls `db` in eu. Only two
/// messages cross a zone per request: api's call to db (its own
/// `request_size`, 300 bytes) and db's answer (5,000 bytes); users' 1,000
/// byte requests and api's 2,000 byte answers stay in us. A component in
/// no zone (`cache`, called by api too) crosses nothing.
#[test]
fn egress_is_the_bytes_each_component_sends_to_another_zone() {
    let text = "name: egress
duration: 100s
warmup: 0s
network:
  latency: 1ms
  zones:
    us: { eu: 40ms }
    eu: {}
workloads:
  - { name: users, target: api, zone: us, request_size: 1000B, arrival: { constant: 10/s } }
components:
  api:
    type: server
    zone: us
    service_time: 1ms
    request_size: 300B
    response_size: 2000B
    calls: [db, cache]
    cost: { per_hour: 0.1, egress_per_gb: 0.01 }
  db:
    type: server
    zone: eu
    service_time: 1ms
    response_size: 5000B
    cost: { egress: aws.egress.inter_zone }
  cache:
    type: server
    service_time: 1ms
    response_size: 7000B
    cost: { egress_per_gb: 1 }
";
    let path = temp_scenario("egress.yaml", text);
    let v = run_json(&path, &[]);
    assert_eq!(v["requests"]["completed"], 1000);
    let by = &v["cost"]["by_component"];
    assert_eq!(by["api"]["egress_bytes"], 300_000);
    assert_eq!(by["db"]["egress_bytes"], 5_000_000);
    assert_eq!(by["cache"]["egress_bytes"], 0);
    // api at its own $0.01 per GB; db at aws.egress.inter_zone's, $0.01.
    let api = 300_000e-9 * 0.01;
    let db = 5_000_000e-9 * listed("aws.egress.inter_zone");
    close("api", by["api"]["egress_usd"].as_f64().unwrap(), api);
    close("db", by["db"]["egress_usd"].as_f64().unwrap(), db);
    close(
        "total egress",
        v["cost"]["egress_usd"].as_f64().unwrap(),
        api + db,
    );
    // In the totals: db costs only its egress, over the run and per hour
    // of the 100 s window (every message was sent in it).
    close("db total", by["db"]["total_usd"].as_f64().unwrap(), db);
    close(
        "db per hour",
        by["db"]["per_hour_usd"].as_f64().unwrap(),
        db * 36.0,
    );
    // Without a zone anywhere, nothing crosses.
    let flat = text
        .replace("zone: us, ", "")
        .replace("    zone: us\n", "")
        .replace("    zone: eu\n", "");
    let v = run_json(&temp_scenario("egress-flat.yaml", &flat), &[]);
    assert_eq!(v["cost"]["by_component"]["db"]["egress_bytes"], 0);
}

/// The geo egress scenario: every operation of the three-region store
/// moves two 16 KiB payloads across regions (no read repair, no failures,
/// no warm-up), priced at aws.egress.inter_region's $0.02 per GB; in one
/// region nothing crosses.
#[test]
fn the_geo_store_sends_two_payloads_across_regions_per_operation() {
    let path = root().join("scenarios/cost-geo-egress.yaml");
    let v = run_json(&path, &[]);
    let ops = v["requests"]["generated"].as_u64().unwrap();
    assert_eq!(v["requests"]["completed"].as_u64(), Some(ops));
    let kv = &v["cost"]["by_component"]["kv"];
    assert_eq!(kv["egress_bytes"].as_u64(), Some(ops * 2 * 16_384));
    close(
        "kv egress",
        kv["egress_usd"].as_f64().unwrap(),
        (ops * 2 * 16_384) as f64 * 1e-9 * listed("aws.egress.inter_region"),
    );
    let v = run_json(&path, &["--set", "components.kv.zones=[us, us, us]"]);
    assert_eq!(v["cost"]["by_component"]["kv"]["egress_bytes"], 0);
}

/// Egress and storage reach a sweep's runs.csv (egress bytes as integers)
/// and summary.csv (means and 95 % intervals): the geo store with 1, 2, 3
/// replicas in us, eu, ap (quorums of 1), 200 GB held per replica. Each
/// operation's coordinator sends one 16 KiB payload to each other replica,
/// all in other regions: exactly generated x (replicas - 1) x 16,384 bytes.
#[test]
fn a_sweep_reports_egress_and_storage_columns_with_intervals() {
    let out = sysdes_out(
        "egress-sweep",
        &[
            "sweep",
            "scenarios/cost-geo-egress.yaml",
            "--vary",
            "components.kv.replicas=1,2,3",
            "--set",
            "components.kv.read_quorum=1",
            "--set",
            "components.kv.write_quorum=1",
            "--set",
            "components.kv.size=200GB",
            "--set",
            "components.kv.cost.per_gb_month=0.023",
            "--set",
            "duration=5s",
            "--set",
            "sweep.replications=2",
        ],
    );
    let runs = Csv::read(&out.join("runs.csv"));
    let (replicas, generated, bytes, egress, storage, total) = (
        runs.col("components.kv.replicas"),
        runs.col("generated"),
        runs.col("cost_egress_bytes:kv"),
        runs.col("cost_egress_usd:kv"),
        runs.col("cost_storage_usd:kv"),
        runs.col("cost_egress_usd"),
    );
    runs.col("cost_storage_usd");
    runs.col("cost_stored_gb:kv");
    assert_eq!(runs.rows.len(), 3 * 2, "3 points x 2 replications");
    for row in &runs.rows {
        let n: u64 = row[replicas].parse().unwrap();
        let ops: u64 = row[generated].parse().unwrap();
        // An integer cell, not a float.
        let sent: u64 = row[bytes]
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", row[bytes]));
        assert_eq!(sent, ops * (n - 1) * 16_384, "{n} replicas");
        close(
            "egress usd",
            row[egress].parse().unwrap(),
            sent as f64 * 1e-9 * listed("aws.egress.inter_region"),
        );
        assert_eq!(row[egress], row[total]);
        // 200 GB per replica for the run: 5 s and the drain of the last
        // operations (a few cross-region round trips).
        let usd: f64 = row[storage].parse().unwrap();
        let per_second = n as f64 * 200.0 / 730.0 * 0.023 / 3600.0;
        assert!(usd >= 5.0 * per_second && usd < 5.5 * per_second, "{usd}");
    }
    let summary = Csv::read(&out.join("summary.csv"));
    for name in [
        "cost_egress_usd",
        "cost_storage_usd",
        "cost_egress_bytes:kv",
        "cost_egress_usd:kv",
        "cost_stored_gb:kv",
        "cost_storage_usd:kv",
    ] {
        for stat in ["_mean", "_ci95_low", "_ci95_high"] {
            summary.col(&format!("{name}{stat}"));
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// `sysdes run --out` writes `cost.csv` for a priced scenario: each
/// component's figures (egress bytes an integer) and a total row.
#[test]
fn a_priced_run_writes_cost_csv() {
    let dir = sysdes_out("cost-csv", &["run", "scenarios/cost-geo-egress.yaml"]);
    let cost = Csv::read(&dir.join("cost.csv"));
    assert_eq!(cost.header[0], "component");
    assert_eq!(cost.header[5], "egress_bytes");
    // seed 13: 35,510 operations x 2 x 16,384 bytes (docs/cost.md).
    let (kv, total) = (&cost.rows[0], &cost.rows[1]);
    assert_eq!(kv[0], "kv");
    assert_eq!(kv[5], "1163591680");
    assert_eq!(total[0], "total");
    assert_eq!(total[5], "1163591680");
    close("total", total[1].parse().unwrap(), kv[1].parse().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    // Without a cost, no cost.csv.
    let plain = temp_scenario(
        "no-cost-csv.yaml",
        "name: plain\nduration: 1s\nworkloads:\n  - { name: u, target: a, arrival: { poisson: 10/s } }\ncomponents:\n  a: { type: server, service_time: 1ms }\n",
    );
    let dir2 = sysdes_out("no-cost-csv", &["run", plain.to_str().unwrap()]);
    assert!(!dir2.join("cost.csv").exists());
    let _ = std::fs::remove_dir_all(&dir2);
}
