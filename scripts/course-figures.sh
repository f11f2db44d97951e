#!/bin/sh
# Regenerates every figure of the course (docs/course/figures/) into OUTDIR.
#
#   scripts/course-figures.sh OUTDIR
#
# Each figure is one run or sweep of a scenario in scenarios/, drawn by
# `sysdes plot --format svg`. The scenarios run at their full length, as the
# course pages quote them; the whole set takes a few seconds of CPU.
# Uses $SYSDES if set, else target/release/sysdes (build it with
# `cargo build --release`). tests/suite/course_pages.rs runs this script
# and fails when a committed figure differs from a fresh one by one byte;
# to accept a legitimate change, run
#
#   scripts/course-figures.sh docs/course/figures
#
# and review the diff. SVG, not PNG, is committed: it is a tenth of the
# size, and GitHub, browsers and slides render it sharp (`sysdes plot
# --format png` on the same directory gives the PNG for an LMS).
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
SYSDES=${SYSDES:-$ROOT/target/release/sysdes}
[ -x "$SYSDES" ] || { echo "$0: no sysdes at $SYSDES (cargo build --release, or set SYSDES)" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"

# run NAME PLOT SCENARIO [ARGS...]: `sysdes run --out`, keep PLOT.svg as NAME.svg.
run() {
    name=$1 plot=$2 file=$3
    shift 3
    # Exit 1 is an unstable system (retry-storm); it still writes its results.
    "$SYSDES" run "scenarios/$file.yaml" "$@" --out "$WORK/$name" >/dev/null 2>"$WORK/$name.err" ||
        [ $? -eq 1 ] || { cat "$WORK/$name.err" >&2; exit 1; }
    "$SYSDES" plot "$WORK/$name" --format svg --out "$WORK/$name.fig" >/dev/null
    cp "$WORK/$name.fig/$plot.svg" "$OUT/$name.svg"
}

# sweep NAME PLOT SLO SCENARIO [ARGS...]: `sysdes sweep --out`, then
# `sysdes plot` (with `--slo SLO` unless SLO is -), keep PLOT.svg as NAME.svg.
# PLOT `latency_vs_param` is the latency plot against whatever the sweep
# varies (`latency_vs_load` for a rate, else `latency_vs_PARAM`).
sweep() {
    name=$1 plot=$2 slo=$3 file=$4
    shift 4
    "$SYSDES" sweep "scenarios/$file.yaml" "$@" --out "$WORK/$name" >/dev/null 2>"$WORK/$name.err" ||
        { cat "$WORK/$name.err" >&2; exit 1; }
    if [ "$slo" = - ]; then
        "$SYSDES" plot "$WORK/$name" --format svg --out "$WORK/$name.fig" >/dev/null
    else
        "$SYSDES" plot "$WORK/$name" --format svg --slo "$slo" --out "$WORK/$name.fig" >/dev/null
    fi
    if [ "$plot" = latency_vs_param ]; then
        for f in "$WORK/$name.fig"/latency_vs_*.svg; do
            case $f in */latency_vs_utilization.svg) ;; *) plot=$(basename "$f" .svg) ;; esac
        done
    fi
    cp "$WORK/$name.fig/$plot.svg" "$OUT/$name.svg"
}

# latency-vs-throughput.md
sweep hockey-stick latency_vs_load p99=100ms hockey-stick-sweep
sweep hockey-stick-utilization latency_vs_utilization p99=100ms hockey-stick-sweep
# back-of-envelope.md
sweep ride-hailing-load latency_vs_load p99=100ms ride-hailing-eta \
    --vary workloads.riders.arrival.poisson=60/s:480/s:60/s
# deployment-strategies.md
run deploy-canary timeseries deploy-canary
# load-balancing.md
sweep lb-policies latency_by_value - lb-policies-sweep
# caching.md
sweep cache-capacity latency_vs_param - cache-capacity-sweep
# cap-and-quorums.md
sweep quorum-grid heatmap - quorum-sweep
run cap-partition timeseries cap-cp-vs-ap
# replication.md
run leader-failover timeseries leader-failover
# async-messaging.md
run queue-burst timeseries queue-burst
# fan-out-and-tail.md: the fan-out root alone, fan-out 1 to 100
sweep fan-out latency_vs_param - tail-at-scale \
    --set 'workloads=[{name: fan-out, target: root, arrival: {poisson: 20/s}}]' \
    --vary components.root.calls.0.fan_out=1,2,5,10,20,50,100
# retries-and-timeouts.md
run retry-storm timeseries retry-storm
run retry-budget timeseries retry-storm --set workloads.users.retries.budget=0.1
# inference-batching.md
sweep batching latency_vs_param - batching-sweep
# llm-serving.md
sweep llm-load latency_vs_load - llm-serving \
    --vary workloads.chat-users.arrival.poisson=2/s,4/s,6/s,8/s,10/s,12/s
# autoscaling.md
run autoscale-vm-vs-container timeseries autoscale-vm-vs-container
run gpu-autoscale timeseries gpu-autoscale
# rag-pipeline.md
sweep rag-llm-slots latency_vs_param - rag-pipeline --vary components.llm.slots=3,4,5,6,8
# recommendation-funnel.md
sweep recommendation-funnel-workers latency_vs_param - recommendation-funnel \
    --vary components.api.workers=8,9,10,12,16,32,64
# feature-stores.md
run feature-store-batch timeseries feature-store-batch
# lambda-vs-kappa.md
run kappa-reprocessing timeseries kappa-reprocessing
# faults.md
run fault-crash timeseries fault-crash
# dns-failover.md
run dns-failover timeseries dns-failover
# distributed-training.md
run training-stragglers timeseries training-stragglers
# vision-human-review.md
run vision-review timeseries vision-review
# geo-latency.md
sweep geo-latency-db-zone latency_by_value - geo-latency --vary components.db.zone=us,eu
# vm-container-serverless.md
sweep function-vs-container-cost cost_vs_poisson - cost-function-vs-container-sweep
# storage-tiers.md
sweep storage-tiers latency_vs_param - storage-tiers-sweep
# economics-spot-and-egress.md
run spot-vs-on-demand timeseries cost-spot-vs-on-demand
run spot-replicas timeseries cost-spot-replicas
sweep geo-egress-replicas cost_vs_replicas - cost-geo-egress \
    --vary components.kv.replicas=1,2,3 --set components.kv.read_quorum=1 \
    --set components.kv.write_quorum=1 --set sweep.replications=3
