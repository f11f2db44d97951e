//! Downstream calls: the time a server waits for its call steps.
//!
//! A step's calls run in parallel and end when `wait_for` of them have
//! answered; steps run one after another. For K identical M/M/1 targets fed
//! by the same Poisson stream and waiting for all, fork-join theory applies
//! (Nelson and Tantawi 1988: exact for K = 2, an approximation for K >= 3).
//! Every other combination is approximated by order statistics of
//! independent shifted exponentials with the targets' means.

use crate::portable::Portable;
use sysdes_models::{CallMode, ComponentKind, Distribution, KeySpec, ModelSpec, WaitFor};

use crate::formulas::erlang_c;
use crate::predict::{Leaf, StationPrediction, Tail, fmt_s, g, walk};

/// The time one call takes: a constant network round trip plus the
/// target's time, taken as exponential with mean `mean` (seconds), or
/// distributed as `shape` (a target that almost never queues).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TargetTime {
    /// Network round trip, seconds.
    pub shift: f64,
    /// Mean time at the target, seconds.
    pub mean: f64,
    /// The target's service-time distribution, when its time is just that.
    pub shape: Option<Distribution>,
}

/// The standard normal distribution function (Abramowitz and Stegun
/// 7.1.26, error below 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).libm_exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// P(X <= t) for `d`, `t` in seconds.
pub(crate) fn cdf(d: &Distribution, t: f64) -> f64 {
    let t = t * 1e9;
    match d {
        Distribution::Constant(x) => f64::from(u8::from(t >= x.as_nanos() as f64)),
        Distribution::Exponential { mean_ns } => -(-t / mean_ns).libm_exp_m1(),
        Distribution::Uniform { low_ns, high_ns } => {
            if t <= *low_ns {
                0.0
            } else if t >= *high_ns {
                1.0
            } else {
                (t - low_ns) / (high_ns - low_ns)
            }
        }
        Distribution::LogNormal { median_ns, sigma } => {
            if t <= 0.0 {
                0.0
            } else {
                normal_cdf((t / median_ns).libm_ln() / sigma)
            }
        }
        Distribution::Pareto { scale_ns, shape } => {
            if t <= *scale_ns {
                0.0
            } else {
                1.0 - (scale_ns / t).libm_powf(*shape)
            }
        }
        Distribution::Erlang { k, mean_ns } => {
            let x = f64::from(*k) * t / mean_ns;
            let (mut term, mut sum) = (1.0, 1.0);
            for i in 1..*k {
                term *= x / f64::from(i);
                sum += term;
            }
            (1.0 - (-x).libm_exp() * sum).clamp(0.0, 1.0)
        }
        Distribution::Mixture(parts) => {
            let total: f64 = parts.iter().map(|(w, _)| w).sum();
            parts.iter().map(|(w, d)| w / total * cdf(d, t / 1e9)).sum()
        }
    }
}

/// Where `d`'s distribution function has kinks or jumps, seconds.
fn kinks(d: &Distribution, out: &mut Vec<f64>) {
    match d {
        Distribution::Constant(x) => out.push(x.as_nanos() as f64 / 1e9),
        Distribution::Uniform { low_ns, high_ns } => {
            out.push(low_ns / 1e9);
            out.push(high_ns / 1e9);
        }
        Distribution::Pareto { scale_ns, .. } => out.push(scale_ns / 1e9),
        Distribution::Mixture(parts) => parts.iter().for_each(|(_, d)| kinks(d, out)),
        _ => {}
    }
}

/// The n-th harmonic number 1 + 1/2 + ... + 1/n.
pub fn harmonic(n: u32) -> f64 {
    (1..=n).map(|i| 1.0 / f64::from(i)).sum()
}

/// Mean response time of a fork-join over `k` identical M/M/1 servers with
/// arrival rate `lambda` and service rate `mu`, and whether it is exact.
///
/// K = 2: R_2 = (12 - rho)/8 x 1/(mu - lambda), exact (Flatto and Hahn 1984;
/// Nelson and Tantawi 1988). K >= 3: the Nelson-Tantawi approximation
/// R_K = [H_K/H_2 + (4/11)(1 - H_K/H_2) rho] R_2, which runs 1-3 % low.
/// K = 1 is the M/M/1 mean 1/(mu - lambda).
pub fn fork_join_mm1(k: u32, lambda: f64, mu: f64) -> (f64, bool) {
    let rho = lambda / mu;
    let single = 1.0 / (mu - lambda);
    match k {
        0 => (0.0, true),
        1 => (single, true),
        2 => ((12.0 - rho) / 8.0 * single, true),
        _ => {
            let ratio = harmonic(k) / harmonic(2);
            (
                (ratio + 4.0 / 11.0 * (1.0 - ratio) * rho) * (12.0 - rho) / 8.0 * single,
                false,
            )
        }
    }
}

/// Probability that fewer than `n` of the calls have answered by time `t`.
fn fewer_than(targets: &[TargetTime], n: usize, t: f64, dp: &mut Vec<f64>) -> f64 {
    let done = |x: &TargetTime| {
        if t <= x.shift {
            0.0
        } else if let Some(d) = &x.shape {
            cdf(d, t - x.shift)
        } else if x.mean <= 0.0 {
            1.0
        } else {
            -(-(t - x.shift) / x.mean).libm_exp_m1()
        }
    };
    // Fan-outs repeat one target: evaluate each run of equal targets once.
    let runs = || {
        let mut rest = targets;
        std::iter::from_fn(move || {
            let first = rest.first()?;
            let len = rest.iter().take_while(|x| *x == first).count();
            rest = &rest[len..];
            Some((done(first), len as i32))
        })
    };
    if n == 1 {
        return runs().map(|(p, len)| (1.0 - p).powi(len)).product();
    }
    if n == targets.len() {
        return 1.0 - runs().map(|(p, len)| p.powi(len)).product::<f64>();
    }
    // Poisson-binomial counts, truncated at n - 1.
    dp.clear();
    dp.resize(n, 0.0);
    dp[0] = 1.0;
    for x in targets {
        let p = done(x);
        for j in (0..n).rev() {
            let from_below = if j > 0 { dp[j - 1] * p } else { 0.0 };
            dp[j] = dp[j] * (1.0 - p) + from_below;
        }
    }
    dp.iter().sum::<f64>().min(1.0)
}

/// The most evaluations of the integrand one [`integrate`] may make.
const INTEGRATION_BUDGET: u32 = 200_000;

/// Adaptive Simpson integration of `f` over [a, b], within
/// [`INTEGRATION_BUDGET`] evaluations; NaN when the integrand is not finite
/// (a heavy tail, an undefined moment), so that callers report "not
/// predicted" instead of looping.
fn integrate(f: &mut impl FnMut(f64) -> f64, a: f64, b: f64) -> f64 {
    let mut left = INTEGRATION_BUDGET;
    let mut counted = |t: f64| {
        left = left.saturating_sub(1);
        if left == 0 { f64::NAN } else { f(t) }
    };
    integrate_within(&mut counted, a, b)
}

fn integrate_within(f: &mut impl FnMut(f64) -> f64, a: f64, b: f64) -> f64 {
    #[allow(clippy::too_many_arguments)]
    fn step(
        f: &mut impl FnMut(f64) -> f64,
        a: f64,
        b: f64,
        fa: f64,
        fm: f64,
        fb: f64,
        whole: f64,
        tol: f64,
        depth: u32,
    ) -> f64 {
        let m = 0.5 * (a + b);
        let (lm, rm) = (0.5 * (a + m), 0.5 * (m + b));
        let (flm, frm) = (f(lm), f(rm));
        let left = (m - a) / 6.0 * (fa + 4.0 * flm + fm);
        let right = (b - m) / 6.0 * (fm + 4.0 * frm + fb);
        let delta = left + right - whole;
        if !delta.is_finite() {
            return f64::NAN;
        }
        if depth == 0 || delta.abs() <= 15.0 * tol {
            left + right + delta / 15.0
        } else {
            step(f, a, m, fa, flm, fm, left, tol / 2.0, depth - 1)
                + step(f, m, b, fm, frm, fb, right, tol / 2.0, depth - 1)
        }
    }
    if b <= a {
        return 0.0;
    }
    let (fa, fm, fb) = (f(a), f(0.5 * (a + b)), f(b));
    let whole = (b - a) / 6.0 * (fa + 4.0 * fm + fb);
    let tol = 1e-9 * (b - a).max(1e-12) * fa.abs().max(fb.abs()).max(fm.abs()).max(1e-12);
    step(f, a, b, fa, fm, fb, whole, tol, 40)
}

/// Mean and second moment (seconds, seconds squared) of the time until `n`
/// of `targets` have answered, the targets' times independent shifted
/// exponentials: an approximation for any real step.
pub(crate) fn order_statistic(targets: &[TargetTime], n: usize) -> (f64, f64) {
    let n = n.clamp(1, targets.len().max(1));
    if targets.is_empty() {
        return (0.0, 0.0);
    }
    let mut dp = Vec::with_capacity(n);
    // Integrate piecewise between the shifts, where the survival has kinks,
    // then far enough into the tail that 50 of the largest means remain.
    let mut points: Vec<f64> = targets.iter().map(|x| x.shift).collect();
    points.push(0.0);
    let largest = targets.iter().map(|x| x.mean).fold(0.0, f64::max);
    let last = points.iter().copied().fold(0.0, f64::max);
    // Split the tail at a few scales so small means are resolved too.
    for scale in [0.5, 2.0, 8.0, 50.0, 400.0] {
        points.push(last + scale * largest);
    }
    let mut shape_kinks = Vec::new();
    for x in targets {
        if let Some(d) = &x.shape {
            shape_kinks.clear();
            kinks(d, &mut shape_kinks);
            points.extend(shape_kinks.iter().map(|k| k + x.shift));
        }
    }
    points.sort_by(f64::total_cmp);
    points.dedup();
    let (mut mean, mut second) = (0.0, 0.0);
    for w in points.windows(2) {
        mean += integrate(&mut |t| fewer_than(targets, n, t, &mut dp), w[0], w[1]);
        second += integrate(
            &mut |t| 2.0 * t * fewer_than(targets, n, t, &mut dp),
            w[0],
            w[1],
        );
    }
    (mean, second)
}

/// Whether a caller's calls leave it as a Poisson stream (given Poisson
/// arrivals at the caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// Exactly Poisson: an async M/M/c caller (Burke's theorem).
    Exact,
    /// Nearly Poisson: the caller almost never queues (M/G/infinity).
    Approx,
    /// Not Poisson.
    No,
}

/// The call graph among servers (through balancers): an order with every
/// server's call targets before it, and which servers lie on a call cycle.
pub(crate) fn call_order(spec: &ModelSpec) -> (Vec<usize>, Vec<bool>) {
    let n = spec.components.len();
    let edges: Vec<Vec<usize>> = (0..n)
        .map(|k| {
            let mut out = Vec::new();
            if let ComponentKind::Server(s) = &spec.components[k].kind {
                for step in &s.calls {
                    for t in &step.targets {
                        servers_behind(spec, t.index(), &mut out, 0);
                    }
                }
            }
            out
        })
        .collect();
    // 0 unvisited, 1 on the stack, 2 done.
    let mut state = vec![0u8; n];
    let mut order = Vec::with_capacity(n);
    let mut cyclic = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    fn visit(
        k: usize,
        edges: &[Vec<usize>],
        state: &mut [u8],
        order: &mut Vec<usize>,
        cyclic: &mut [bool],
        stack: &mut Vec<usize>,
    ) {
        state[k] = 1;
        stack.push(k);
        for &t in &edges[k] {
            match state[t] {
                0 => visit(t, edges, state, order, cyclic, stack),
                1 => {
                    let from = stack.iter().rposition(|&x| x == t).unwrap_or(0);
                    for &x in &stack[from..] {
                        cyclic[x] = true;
                    }
                }
                _ => {}
            }
            if cyclic[t] {
                cyclic[k] = true;
            }
        }
        stack.pop();
        state[k] = 2;
        order.push(k);
    }
    for k in 0..n {
        if state[k] == 0 {
            visit(k, &edges, &mut state, &mut order, &mut cyclic, &mut stack);
        }
    }
    (order, cyclic)
}

/// The servers reached from `component`, through any balancers (whose
/// backends are [`ComponentKind::downstream`]).
fn servers_behind(spec: &ModelSpec, component: usize, out: &mut Vec<usize>, guard: u32) {
    if guard > 64 {
        return;
    }
    match spec.components.get(component).map(|c| &c.kind) {
        Some(ComponentKind::Server(_)) if !out.contains(&component) => out.push(component),
        Some(ComponentKind::Server(_)) => {}
        Some(lb @ ComponentKind::LoadBalancer(_)) => {
            // Not the shadow target: nobody waits for a shadow copy.
            lb.downstream(|b, flow| {
                if flow != sysdes_models::Flow::Mirror {
                    servers_behind(spec, b.index(), out, guard + 1);
                }
            });
        }
        Some(_) | None => {}
    }
}

/// Adds to `visits` every server the requests reaching `leaves` call,
/// recursively: each target of each step once per request (the calls of a
/// step all go out, whatever `wait_for`). The targets' arrivals keep the
/// caller's inter-arrival variability; they are Poisson if the caller's are
/// and its `output` says so. Servers on a call cycle are not expanded.
#[allow(clippy::too_many_arguments)]
pub(crate) fn expand_calls(
    spec: &ModelSpec,
    keys: &KeySpec,
    leaves: &[Leaf],
    output: &[Output],
    cyclic: &[bool],
    visits: &mut Vec<Leaf>,
    steps: &mut Vec<String>,
    guard: u32,
) {
    if guard > 64 {
        return;
    }
    for l in leaves {
        let ComponentKind::Server(s) = &spec.components[l.server].kind else {
            continue;
        };
        if s.calls.is_empty() || cyclic[l.server] {
            continue;
        }
        let mut reached = Vec::new();
        // A later step's calls leave when the previous step ends: still a
        // Poisson stream only after single calls to exponential leaf
        // servers (Burke's theorem); after a fork-join, not.
        let mut still_poisson = true;
        for step in &s.calls {
            for t in &step.targets {
                let mut scratch = Vec::new();
                walk(
                    spec,
                    keys,
                    t.index(),
                    Leaf {
                        server: t.index(),
                        probability: l.probability,
                        depth: 1,
                        scv: l.scv,
                        poisson_preserved: l.poisson_preserved
                            && still_poisson
                            && output[l.server] != Output::No,
                        approx_poisson: l.approx_poisson || output[l.server] == Output::Approx,
                    },
                    &mut reached,
                    &mut scratch,
                    0,
                );
                for line in scratch {
                    if !steps.contains(&line) {
                        steps.push(line);
                    }
                }
            }
            still_poisson &= step.targets.len() == 1
                && matches!(
                    &spec.components[step.targets[0].index()].kind,
                    ComponentKind::Server(t) if t.calls.is_empty()
                        && t.queue_capacity.is_none()
                        && matches!(t.service_time, sysdes_models::Distribution::Exponential { .. })
                );
        }
        visits.extend(reached.iter().cloned());
        expand_calls(
            spec,
            keys,
            &reached,
            output,
            cyclic,
            visits,
            steps,
            guard + 1,
        );
    }
}

/// The time a server spends waiting for its calls, steps in sequence.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CallWait {
    /// Mean, seconds.
    pub mean: f64,
    /// Second moment, seconds squared (steps taken as independent).
    pub second: f64,
    /// Whether the mean is exact.
    pub exact: bool,
    /// The method(s), e.g. `fork-join 2 x M/M/1`.
    pub label: String,
}

/// One call target's time, through any balancers: `None` if a server it
/// reaches has no predicted mean.
fn target_time(
    spec: &ModelSpec,
    keys: &KeySpec,
    target: usize,
    stations: &[Option<StationPrediction>],
    latency_s: f64,
) -> Option<(TargetTime, bool, Vec<String>)> {
    let mut leaves = Vec::new();
    let mut scratch = Vec::new();
    walk(
        spec,
        keys,
        target,
        Leaf {
            server: target,
            probability: 1.0,
            depth: 1,
            scv: 1.0,
            poisson_preserved: true,
            approx_poisson: false,
        },
        &mut leaves,
        &mut scratch,
        0,
    );
    // A target that almost never queues takes its service time: keep the
    // distribution's shape (a direct server without calls).
    let shape = match (&spec.components[target].kind, leaves.as_slice()) {
        (ComponentKind::Server(s), [_]) if s.calls.is_empty() => {
            stations.get(target)?.as_ref().and_then(|st| {
                let load = st.arrival_rps * st.service_s;
                (load < f64::from(st.workers)
                    && erlang_c(st.workers, load) < NO_QUEUEING
                    && !matches!(s.service_time, Distribution::Exponential { .. }))
                .then(|| s.service_time.clone())
            })
        }
        _ => None,
    };
    let (mut shift, mut mean, mut exact, mut names) = (0.0, 0.0, true, Vec::new());
    for l in &leaves {
        let st = stations.get(l.server)?.as_ref()?;
        mean += l.probability * st.mean_s?;
        shift += l.probability * 2.0 * f64::from(l.depth) * latency_s;
        let method = st.method.as_ref()?;
        exact &= method.exact;
        if !names.contains(&method.name) {
            names.push(method.name.clone());
        }
    }
    (!leaves.is_empty()).then_some((TargetTime { shift, mean, shape }, exact, names))
}

/// Below this probability of waiting a target's time is its service time.
const NO_QUEUEING: f64 = 1e-3;

/// Whether `st` was predicted as an M/M/1 station (exactly, or with
/// nearly Poisson arrivals) and its (lambda, mu).
fn mm1(st: &StationPrediction) -> Option<(f64, f64)> {
    match st.tail {
        Some(Tail::Mmc { c: 1, lambda, mu }) => Some((lambda, mu)),
        _ => None,
    }
}

fn ordinal(n: usize) -> String {
    match n {
        1 => "1st".into(),
        2 => "2nd".into(),
        3 => "3rd".into(),
        _ => format!("{n}th"),
    }
}

/// Predicts the time server `k` waits for its calls, given its call rate
/// `caller_rps` and the stations already predicted (its targets come first
/// in [`call_order`]); `None` if a target has no prediction.
#[allow(clippy::too_many_arguments)]
pub(crate) fn call_wait(
    spec: &ModelSpec,
    keys: &KeySpec,
    k: usize,
    caller_rps: f64,
    stations: &[Option<StationPrediction>],
    latency_s: f64,
    constant_network: bool,
    explain: &mut Vec<String>,
) -> Option<CallWait> {
    let ComponentKind::Server(s) = &spec.components[k].kind else {
        return None;
    };
    let name = &spec.components[k].name;
    let (mut mean, mut variance, mut exact) = (0.0, 0.0, true);
    let mut labels = Vec::new();
    for (i, step) in s.calls.iter().enumerate() {
        let mut times = Vec::with_capacity(step.targets.len());
        let mut all_exact = true;
        let mut names = Vec::new();
        for t in &step.targets {
            let (time, e, n) = target_time(spec, keys, t.index(), stations, latency_s)?;
            times.push(time);
            all_exact &= e;
            for x in n {
                if !names.contains(&x) {
                    names.push(x);
                }
            }
        }
        let count = times.len();
        let needed = match step.wait_for {
            WaitFor::All => count,
            WaitFor::Any => 1,
            WaitFor::Count(n) => usize::from(n).clamp(1, count),
        };
        let targets: Vec<&str> = step
            .targets
            .iter()
            .map(|t| spec.components[t.index()].name.as_str())
            .collect();
        let (step_mean, step_second) = order_statistic(&times, needed);
        let (m, e, label, how) = if count == 1 {
            let t = &times[0];
            (
                t.shift + t.mean,
                all_exact,
                names.join(" + "),
                format!(
                    "its time {} + network {} (means add)",
                    fmt_s(t.mean),
                    fmt_s(t.shift)
                ),
            )
        } else if let Some((lambda, mu)) = identical_fork_join(
            spec,
            step,
            stations,
            caller_rps,
            constant_network,
            &times,
            needed,
        ) {
            let (r, e) = fork_join_mm1(count as u32, lambda, mu);
            let rho = lambda / mu;
            let (label, how) = if count == 2 {
                (
                    "fork-join 2 x M/M/1".to_string(),
                    format!(
                        "fork-join of 2 identical M/M/1, {}: (12 - rho)/8 x 1/(mu - lambda) = {} x {} = {}",
                        if all_exact {
                            "exact"
                        } else {
                            "exact for Poisson arrivals, which these only nearly are"
                        },
                        g((12.0 - rho) / 8.0),
                        fmt_s(1.0 / (mu - lambda)),
                        fmt_s(r)
                    ),
                )
            } else {
                let ratio = harmonic(count as u32) / harmonic(2);
                (
                    format!("fork-join {count} x M/M/1 (Nelson-Tantawi)"),
                    format!(
                        "fork-join of {count} identical M/M/1, Nelson-Tantawi approximation (runs 1-3 % low): [H_K/H_2 + 4/11 (1 - H_K/H_2) rho] (12 - rho)/8 x 1/(mu - lambda) = {} x {} x {} = {}",
                        g(ratio + 4.0 / 11.0 * (1.0 - ratio) * rho),
                        g((12.0 - rho) / 8.0),
                        fmt_s(1.0 / (mu - lambda)),
                        fmt_s(r)
                    ),
                )
            };
            (r + times[0].shift, e && all_exact, label, how)
        } else {
            let what = if needed == count {
                format!("max of {count}")
            } else if needed == 1 {
                format!("min of {count}")
            } else {
                format!("{} of {count}", ordinal(needed))
            };
            let shaped = times.iter().filter(|t| t.shape.is_some()).count();
            let kind = if shaped == count {
                "service times"
            } else if shaped > 0 {
                "service times/exponentials"
            } else {
                "exponentials"
            };
            (
                step_mean,
                false,
                format!("{what} {kind}"),
                format!(
                    "approximation: the {what} independent {kind} (targets that almost never queue take their service-time distribution, others an exponential with their mean; + network) = {}",
                    fmt_s(step_mean)
                ),
            )
        };
        explain.push(format!(
            "{name}: call step {} to {} (wait for {needed} of {count}): {how}",
            i + 1,
            targets.join(", ")
        ));
        if step.hedge_after.is_some() {
            explain.push(format!(
                "{name}: call step {} hedges after {}: not modelled (the estimate is the unhedged time)",
                i + 1,
                fmt_s(step.hedge_after.map_or(0.0, |d| d.as_nanos() as f64 / 1e9))
            ));
            exact = false;
        }
        mean += m;
        variance += (step_second - step_mean * step_mean).max(0.0);
        exact &= e;
        labels.push(label);
    }
    if s.calls.len() > 1 {
        explain.push(format!(
            "{name}: calls in sequence: downstream = {}",
            fmt_s(mean)
        ));
    }
    if s.mode == CallMode::Thread {
        exact = false;
    }
    Some(CallWait {
        mean,
        second: variance + mean * mean,
        exact,
        label: labels.join(" then "),
    })
}

/// For a step waiting for all of K >= 2 distinct M/M/1 servers fed
/// only by this caller (same lambda and mu, same network shift): (lambda, mu).
fn identical_fork_join(
    spec: &ModelSpec,
    step: &sysdes_models::CallStep,
    stations: &[Option<StationPrediction>],
    caller_rps: f64,
    constant_network: bool,
    times: &[TargetTime],
    needed: usize,
) -> Option<(f64, f64)> {
    if needed != step.targets.len() || !(constant_network || times[0].shift == 0.0) {
        return None;
    }
    let mut first: Option<(f64, f64)> = None;
    for (i, t) in step.targets.iter().enumerate() {
        if step.targets[..i].contains(t)
            || !matches!(spec.components[t.index()].kind, ComponentKind::Server(_))
            || times[i].shift != times[0].shift
        {
            return None;
        }
        let (lambda, mu) = mm1(stations[t.index()].as_ref()?)?;
        let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
        if !same(lambda, caller_rps) {
            return None;
        }
        match first {
            None => first = Some((lambda, mu)),
            Some((l, m)) if same(l, lambda) && same(m, mu) => {}
            Some(_) => return None,
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(mean: f64) -> TargetTime {
        TargetTime {
            shift: 0.0,
            mean,
            shape: None,
        }
    }

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol * b.abs(), "{a} vs {b}");
    }

    #[test]
    fn order_statistics_of_exponentials_match_closed_forms() {
        // Max of two Exp(1): 1 + 1/2; variance 1 + 1/4.
        let (m, s) = order_statistic(&[exp(1.0), exp(1.0)], 2);
        close(m, 1.5, 1e-6);
        close(s - m * m, 1.25, 1e-6);
        // Min of three Exp(1): 1/3.
        close(
            order_statistic(&[exp(1.0), exp(1.0), exp(1.0)], 1).0,
            1.0 / 3.0,
            1e-6,
        );
        // Second of three: 1/3 + 1/2.
        close(
            order_statistic(&[exp(1.0), exp(1.0), exp(1.0)], 2).0,
            1.0 / 3.0 + 0.5,
            1e-6,
        );
        // Max of Exp(1) and Exp(2) (rates 1 and 1/2): 1 + 2 - 1/(1 + 1/2).
        close(
            order_statistic(&[exp(1.0), exp(2.0)], 2).0,
            3.0 - 2.0 / 3.0,
            1e-6,
        );
        // Max of K = 10 identical: H_10.
        close(
            order_statistic(&vec![exp(1.0); 10], 10).0,
            harmonic(10),
            1e-6,
        );
        // A shift adds; a single target is its own mean.
        let shifted = TargetTime {
            shift: 0.5,
            mean: 2.0,
            shape: None,
        };
        close(order_statistic(&[shifted], 1).0, 2.5, 1e-6);
        // Widely different scales are resolved.
        close(
            order_statistic(&[exp(1e-3), exp(1.0)], 1).0,
            1.0 / 1001.0,
            1e-5,
        );
    }

    #[test]
    fn fork_join_formulas() {
        // rho 0.8, mu 1: K = 2 is exactly 7.0 service times.
        let (r2, exact) = fork_join_mm1(2, 0.8, 1.0);
        close(r2, 7.0, 1e-12);
        assert!(exact);
        // K = 10: 11.73 (validation.md), an approximation.
        let (r10, exact) = fork_join_mm1(10, 0.8, 1.0);
        close(r10, 11.7286, 1e-4);
        assert!(!exact);
        close(fork_join_mm1(1, 0.8, 1.0).0, 5.0, 1e-12);
    }

    #[test]
    fn distribution_functions() {
        use sysdes_kernel::SimDuration;
        let ms = 1e6;
        close(
            cdf(&Distribution::Exponential { mean_ns: ms }, 1e-3),
            1.0 - (-1.0f64).libm_exp(),
            1e-12,
        );
        close(
            cdf(
                &Distribution::LogNormal {
                    median_ns: ms,
                    sigma: 0.4,
                },
                1e-3,
            ),
            0.5,
            1e-6,
        );
        close(normal_cdf(1.0), 0.841_344_7, 1e-6);
        close(
            cdf(
                &Distribution::Erlang {
                    k: 2,
                    mean_ns: 2.0 * ms,
                },
                1e-3,
            ),
            1.0 - 2.0 * (-1.0f64).libm_exp(),
            1e-9,
        );
        close(
            cdf(
                &Distribution::Uniform {
                    low_ns: ms,
                    high_ns: 3.0 * ms,
                },
                2e-3,
            ),
            0.5,
            1e-12,
        );
        assert_eq!(
            cdf(&Distribution::Constant(SimDuration::from_millis(1)), 0.9e-3),
            0.0
        );
        // Max of two constants is the constant; of 2 uniform(0, 1): 2/3.
        let c = TargetTime {
            shift: 0.0,
            mean: 1e-3,
            shape: Some(Distribution::Constant(SimDuration::from_millis(1))),
        };
        close(order_statistic(&[c.clone(), c], 2).0, 1e-3, 1e-6);
        let u = TargetTime {
            shift: 0.0,
            mean: 0.5,
            shape: Some(Distribution::Uniform {
                low_ns: 0.0,
                high_ns: 1e9,
            }),
        };
        close(order_statistic(&[u.clone(), u], 2).0, 2.0 / 3.0, 1e-6);
    }
}
