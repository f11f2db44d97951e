#!/usr/bin/env python3
"""Regenerates data/llm/a100-llama-3-8b-linear.csv (an iteration-time table
for `llm.iteration: { table: ... }`) from the Vidur profiling slice kept in
tests/data/vidur/ (MIT, see its README and LICENCE). Run from the repository
root: `python3 scripts/llm-vidur-table.py`.

time_us = 32 layers x the sum of the four linear layers' median times (ms per
layer) x 1000, rounded to the nanosecond; token counts profiled twice take
the mean of their rows."""

import csv

SOURCE = "tests/data/vidur/a100-Meta-Llama-3-8B-mlp-tp1.csv"
TARGET = "data/llm/a100-llama-3-8b-linear.csv"
HEADER = """\
# Measured iteration times for `llm.iteration: { table: ... }` (docs/llm-serving.md).
# Llama-3-8B (hidden 4096, MLP 14336, 32 heads, 8 KV heads, 32 layers), A100, TP1:
# the linear layers only (QKV projection, output projection, gated MLP up and
# down) of all 32 layers, as a function of the batch's tokens. Derived from
# microsoft/vidur (MIT, copyright Microsoft Corporation), commit
# 7d47513363ec447a741ac5e47241580b47724fbf,
# data/profiling/compute/a100/meta-llama/Meta-Llama-3-8B/mlp.csv, rows with
# num_tensor_parallel_workers 1 (the slice kept in tests/data/vidur/, with its
# licence): time_us = 32 x (attn_pre_proj + attn_post_proj + mlp_up_proj +
# mlp_down_proj medians, ms per layer) x 1000, rounded to the nanosecond; the
# five token counts profiled twice (2048, 4096, 8192, 16384, 32768) take the
# mean of their two rows. scripts/llm-vidur-table.py regenerates this file.
# Not included: attention over the KV cache, embedding and LM head, sampling,
# kernel launches; add them with the `iteration` keys beside `table`
# (e.g. `floor`, `per_context_token_ps`).
tokens,time_us
"""


def main():
    with open(SOURCE, newline="") as f:
        rows = list(csv.reader(f))[1:]
    times = {}
    for r in rows:
        times.setdefault(int(r[0]), []).append(sum(float(x) for x in r[1:5]) * 32)
    with open(TARGET, "w") as out:
        out.write(HEADER)
        for tokens, v in times.items():
            ns = round(sum(v) / len(v) * 1e6)
            out.write(f"{tokens},{ns / 1000:.3f}\n")


if __name__ == "__main__":
    main()
