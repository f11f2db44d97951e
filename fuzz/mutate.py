#!/usr/bin/env python3
"""Mutation campaign for sysdes (issue 12): mutate the files in scenarios/,
run each mutant through `validate`, `run` and `estimate` of a release binary
under a timeout and an address-space cap, and count panics, aborts, hangs
and peak memory over 1 GiB. Offending inputs are kept in fuzz/mutants/.
See fuzz/README.md."""

import argparse
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTREME_INTS = ["0", "-1", "1", "65536", "2147483648", "4294967295", "1000000000", "18446744073709551615", "100000"]
EXTREME_TIMES = ["0s", "1ns", "18446744073s", "1e30s", "100000000s", "3153600000s"]
EXTREME_RATES = ["0/s", "1e12/s", "1e-12/s", "1000000/s"]
INT_RE = re.compile(r"(?<![\w.])\d+(?![\w.%/])")
TIME_RE = re.compile(r"\b\d+(\.\d+)?(ns|us|ms|s|m|h)\b")
RATE_RE = re.compile(r"\b\d+(\.\d+)?/s\b")
NAME_RE = re.compile(r"^  ([a-z][\w-]*):", re.M)
GIB = 1 << 30


def mutate(text: str, rng: random.Random) -> str:
    names = NAME_RE.findall(text)
    for _ in range(rng.randint(1, 3)):
        lines = text.split("\n")
        kind = rng.randrange(11)
        i = rng.randrange(len(lines))
        if kind == 0:
            ms = list(INT_RE.finditer(text))
            if ms:
                m = rng.choice(ms)
                text = text[: m.start()] + rng.choice(EXTREME_INTS) + text[m.end():]
        elif kind == 1:
            ms = list(TIME_RE.finditer(text))
            if ms:
                m = rng.choice(ms)
                text = text[: m.start()] + rng.choice(EXTREME_TIMES) + text[m.end():]
        elif kind == 2:
            ms = list(RATE_RE.finditer(text))
            if ms:
                m = rng.choice(ms)
                text = text[: m.start()] + rng.choice(EXTREME_RATES) + text[m.end():]
        elif kind == 3:
            del lines[i]
            text = "\n".join(lines)
        elif kind == 4:
            lines.insert(i, lines[i])
            text = "\n".join(lines)
        elif kind == 5 and ":" in lines[i]:
            k, v = lines[i].split(":", 1)
            lines[i] = k + rng.choice(["x", "_", ""]) + ":" + v
            text = "\n".join(lines)
        elif kind == 6 and len(names) >= 2:
            a, b = rng.sample(names, 2)
            # Redirect references to a into b (values only): cycles.
            text = re.sub(r"(?<=[\[ ,:])%s(?=[\], \n}])" % re.escape(a), b, text)
        elif kind == 7 and names:
            a = rng.choice(names)
            text = text.replace(a, "n" * 65536)
        elif kind == 8:
            lines.insert(i, "pad_" + "x" * 70000 + ": 1")
            text = "\n".join(lines)
        elif kind == 9:
            ms = list(TIME_RE.finditer(text))
            if ms:
                m = rng.choice(ms)
                text = text[: m.start()] + "{ pareto: { scale: 1ms, shape: 0.5 } }" + text[m.end():]
        elif kind == 10 and len(lines) > 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


def limit_memory():
    # 4 GiB of address space: a runaway allocation aborts instead of
    # swapping the shared machine; peak RSS is measured separately.
    resource.setrlimit(resource.RLIMIT_AS, (4 * GIB, 4 * GIB))
    os.setpgrp()


def run_one(binary, args, timeout):
    start = time.monotonic()
    p = subprocess.Popen([binary] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         preexec_fn=limit_memory, cwd=ROOT)
    # Read stderr on a thread so a chatty child never blocks.
    err = []
    reader = threading.Thread(target=lambda: err.append(p.stderr.read()))
    reader.start()
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > timeout:
            os.killpg(p.pid, signal.SIGKILL)
            pid, status, ru = os.wait4(p.pid, 0)
            reader.join()
            return "hang", ru.ru_maxrss * 1024, time.monotonic() - start, b""
        time.sleep(0.005)
    reader.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    code = p.returncode
    stderr = err[0] if err else b""
    if code < 0:
        outcome = "abort" if -code in (signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS) else f"signal{-code}"
    elif code == 101 or b"panicked" in stderr:
        outcome = "panic"
    elif code == 134:
        outcome = "abort"
    else:
        outcome = f"exit{code}"
    return outcome, ru.ru_maxrss * 1024, time.monotonic() - start, stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=20000, help="mutants to generate")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--binary", default=str(ROOT / "target/release/sysdes"))
    ap.add_argument("--timeout", type=float, default=15.0)
    ap.add_argument("--max-wall", default="5s")
    ap.add_argument("--deadline", type=float, default=0, help="stop after this many seconds (0: none)")
    a = ap.parse_args()
    sources = sorted((ROOT / "scenarios").glob("*.yaml"))
    texts = [s.read_text() for s in sources]
    keep = ROOT / "fuzz" / "mutants"
    counts = Counter()
    worst = {"rss": 0, "time": 0.0, "what": ""}
    lock = threading.Lock()
    started = time.monotonic()
    done = [0]
    tmpdir = Path(tempfile.mkdtemp(prefix="sysdes-mutants-"))

    def worker(index_iter):
        for n in index_iter:
            if a.deadline and time.monotonic() - started > a.deadline:
                return
            rng = random.Random(a.seed * 1_000_003 + n)
            base = rng.randrange(len(texts))
            text = mutate(texts[base], rng)
            path = tmpdir / f"m{n}.yaml"
            path.write_text(text)
            for cmd in (["validate", str(path)],
                        ["run", str(path), "--max-wall", a.max_wall, "--format", "json"],
                        ["estimate", str(path)]):
                outcome, rss, secs, stderr = run_one(a.binary, cmd, a.timeout)
                bad = outcome in ("panic", "abort", "hang") or outcome.startswith("signal") or rss > GIB
                with lock:
                    counts[(cmd[0], outcome)] += 1
                    if rss > GIB:
                        counts[(cmd[0], "over-1GiB")] += 1
                    worst["rss"] = max(worst["rss"], rss)
                    if secs > worst["time"]:
                        worst["time"] = secs
                        worst["what"] = f"{cmd[0]} of mutant {n} (seed {a.seed})"
                if bad:
                    keep.mkdir(exist_ok=True)
                    (keep / f"{cmd[0]}-{outcome}-{n}.yaml").write_text(text)
                    (keep / f"{cmd[0]}-{outcome}-{n}.stderr").write_bytes(stderr[-4000:])
            path.unlink()
            with lock:
                done[0] += 1
                if done[0] % 500 == 0:
                    print(f"{done[0]} mutants, {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)

    indices = iter(range(a.count))
    shared = threading.Lock()

    def next_index():
        while True:
            with shared:
                n = next(indices, None)
            if n is None:
                return
            yield n

    threads = [threading.Thread(target=worker, args=(next_index(),)) for _ in range(a.jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"mutants: {done[0]} (from {len(sources)} scenarios, seed {a.seed}), {time.monotonic() - started:.0f} s")
    for (cmd, outcome), c in sorted(counts.items()):
        print(f"  {cmd:9} {outcome:10} {c}")
    bad = sum(c for (cmd, o), c in counts.items() if o in ("panic", "abort", "hang", "over-1GiB") or o.startswith("signal"))
    print(f"peak RSS {worst['rss'] / 2**20:.0f} MiB, slowest command {worst['time']:.1f} s ({worst['what']}); offending: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
