"""The Python package against the CLI: same scenario and seed, same numbers.

Needs the wheel installed and the CLI built (``target/release/sysdes``, or
``SYSDES_BIN``); ``.ci/python`` does both.
"""

import csv
import io
import json
import math
import os
import re
import subprocess
import threading
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import sysdes

ROOT = Path(__file__).resolve().parents[2]
TIDY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def tidy(name):
    """The name a wide Parquet file gives a CSV column (docs/python.md, Tidy files)."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return "x" + out if out[:1].isdigit() else out
BIN = os.environ.get("SYSDES_BIN", str(ROOT / "target" / "release" / "sysdes"))

MM1 = """name: py-mm1
seed: 11
duration: 300s
warmup: 20s
workloads:
  - name: users
    target: server
    arrival: { poisson: 0.8/s }
components:
  server:
    type: server
    workers: 1
    service_time: { exponential: 1s }
"""

CACHE_SWEEP = """name: py-cache-sweep
seed: 5
duration: 4s
warmup: 1s
workloads:
  - name: users
    target: cache
    arrival: { poisson: 400/s }
    keys: { zipf: { n: 500, s: 1.0 } }
components:
  cache:
    type: cache
    capacity: 50
    policy: lru
    hit_time: 0.2ms
    backend: db
  db:
    type: server
    workers: 4
    service_time: { exponential: 5ms }
sweep:
  vary:
    components.cache.capacity: [10, 100]
  replications: 2
"""


# pandas' default float parser may be one unit in the last place off;
# sysdes writes the shortest text that reads back exactly, so tests read with
# float_precision="round_trip".


def cli(*args, check=True):
    out = subprocess.run([BIN, *args], cwd=ROOT, capture_output=True, text=True)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def without_wall(value):
    """The JSON with every key containing `wall` removed (wall-clock figures)."""
    if isinstance(value, dict):
        return {k: without_wall(v) for k, v in value.items() if "wall" not in k}
    if isinstance(value, list):
        return [without_wall(v) for v in value]
    return value


def csv_without_wall(path):
    rows = list(csv.reader(io.StringIO(Path(path).read_text())))
    keep = [i for i, name in enumerate(rows[0]) if "wall" not in name]
    return [[row[i] for i in keep] for row in rows]


@pytest.fixture()
def mm1(tmp_path):
    path = tmp_path / "mm1.yaml"
    path.write_text(MM1)
    return path


def test_run_gives_the_cli_json_for_the_same_scenario_and_seed(mm1):
    expected = json.loads(cli("run", str(mm1), "--format", "json", "--seed", "3", "--set", "duration=200s").stdout)
    result = sysdes.run(mm1, set={"duration": "200s"}, seed=3)
    assert without_wall(result.data) == without_wall(expected)
    assert without_wall(json.loads(result.json)) == without_wall(expected)
    # The shipped scenario too, by its path as text.
    expected = json.loads(cli("run", "scenarios/hockey-stick.yaml", "--format", "json", "--set", "duration=200s").stdout)
    result = sysdes.run(str(ROOT / "scenarios/hockey-stick.yaml"), set={"duration": "200s"})
    assert without_wall(result.data) == without_wall(expected)


def test_a_scenario_as_text_or_dict_runs_like_its_file(mm1):
    from_file = without_wall(sysdes.run(mm1).data)
    assert without_wall(sysdes.run(MM1).data) == from_file
    as_dict = {
        "name": "py-mm1",
        "seed": 11,
        "duration": "300s",
        "warmup": "20s",
        "workloads": [{"name": "users", "target": "server", "arrival": {"poisson": "0.8/s"}}],
        "components": {"server": {"type": "server", "workers": 1, "service_time": {"exponential": "1s"}}},
    }
    assert without_wall(sysdes.run(as_dict).data) == from_file


def test_result_tables_are_dataframes_with_the_cli_figures(mm1):
    r = sysdes.run(mm1)
    assert r.summary["completed"] == r.data["requests"]["completed"]
    assert isinstance(r.summary["completed"], int)
    assert r.summary["latency_p99_ms"] == r.data["latency_ms"]["p99"]
    assert list(r.components["name"]) == ["server"]
    assert r.components.loc[0, "utilization"] == r.data["components"]["server"]["utilization"]
    assert r.components.loc[0, "latency_mean_ms"] == r.data["components"]["server"]["latency_ms"]["mean"]
    assert list(r.workloads["name"]) == ["users"]
    series = cli("run", str(mm1), "--out", str(mm1.parent / "out"))
    assert series.returncode == 0
    assert r.series.equals(pd.read_csv(mm1.parent / "out" / "series.csv", float_precision="round_trip"))
    assert r.latency_cdf.equals(pd.read_csv(mm1.parent / "out" / "latency_cdf.csv", float_precision="round_trip"))
    assert r.verdict == r.data["verdict"] and r.verdict
    theory = r.theory.set_index(["scope", "name"])
    assert theory.loc[("component", "server"), "method"] == "M/M/1"
    assert theory.loc[("component", "server"), "mean_ms"] == r.data["components"]["server"]["theory"]["mean_ms"]
    html = r._repr_html_()
    assert "<table" in html and "<svg" in html and r.verdict.split()[0] in html


def test_errors_carry_file_line_column_and_help(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MM1.replace("target: server", "target: sever"))
    with pytest.raises(sysdes.ScenarioError) as info:
        sysdes.run(bad)
    e = info.value
    assert (e.file, e.line, e.column) == (str(bad), 7, 13)
    assert e.help == "did you mean `server`?"
    # The CLI says the same, at the same place.
    out = cli("validate", str(bad), check=False)
    assert out.returncode == 2 and f"{bad}:7:13" in out.stderr
    with pytest.raises(sysdes.ScenarioError) as info:
        sysdes.run(MM1, set={"components.server.wokers": 2})
    assert "workers" in (info.value.help or "")
    with pytest.raises(sysdes.ScenarioError) as info:
        sysdes.run(MM1.replace("0.8/s", "0.8/fortnight"))
    assert info.value.file == "<string>" and info.value.line == 8


def test_a_sweep_equals_the_cli_sweep(tmp_path):
    scenario = tmp_path / "cache.yaml"
    scenario.write_text(CACHE_SWEEP)
    cli("sweep", str(scenario), "--out", str(tmp_path / "cli"), "--jobs", "2")
    summary = sysdes.sweep(scenario, out=tmp_path / "py", jobs=2, form="summary")
    for name in ("summary.csv", "runs.csv"):
        assert csv_without_wall(tmp_path / "py" / name) == csv_without_wall(tmp_path / "cli" / name), name
    assert (tmp_path / "py" / "runs_long.csv").read_text().count("\n") > 0
    cli_summary = pd.read_csv(tmp_path / "cli" / "summary.csv", float_precision="round_trip")
    assert list(summary.columns) == [tidy(c) for c in cli_summary.columns]
    for column in ("latency_mean_ms_mean", "hit_ratio:cache_mean", "replications"):
        assert list(summary[tidy(column)].astype(float)) == list(cli_summary[column].astype(float))
    # The long summary: the same figures, one row per point and metric.
    long = summary.sysdes.summary
    assert long.equals(sysdes.summary(summary))
    assert long.equals(sysdes.read_summary_long(tmp_path / "py" / "summary_long.csv"))
    hit = long[(long.component == "cache") & (long.metric == "hit_ratio")]
    assert list(hit["mean"]) == list(cli_summary["hit_ratio:cache_mean"])
    assert list(hit["ci_high"]) == list(cli_summary["hit_ratio:cache_ci95_high"])
    assert list(hit["n"]) == [2, 2]
    assert summary.attrs["runs"] == 4 and summary.attrs["out"] == str(tmp_path / "py")


def test_the_long_form_is_one_row_per_run_and_metric(tmp_path):
    scenario = tmp_path / "cache.yaml"
    scenario.write_text(CACHE_SWEEP)
    long = sysdes.sweep(scenario, jobs=2)
    assert list(long.columns[:4]) == ["run", "point", "replication", "seed"]
    assert list(long.columns[-3:]) == ["component", "metric", "value"]
    assert all(c.replace("_", "").isalnum() for c in long.columns)
    hit = long[(long.component == "cache") & (long.metric == "hit_ratio")]
    assert len(hit) == 4 and hit["value"].between(0, 1).all()
    assert set(hit["components_cache_capacity_value"]) == {10.0, 100.0}
    wide = sysdes.sweep(scenario, jobs=1, form="wide")
    assert str(wide["completed"].dtype) == "UInt64" and str(wide["bottleneck"].dtype) == "string"
    merged = hit.merge(wide, left_on="run", right_on="run_index")
    assert (merged["value"] == merged["hit_ratio_cache"]).all()
    by_form = sysdes.sweep(scenario, jobs=1, form="summary_long")
    assert by_form.equals(by_form.sysdes.summary) and len(by_form) > 0
    assert list(by_form.columns[-6:]) == ["component", "metric", "n", "mean", "ci_low", "ci_high"]


def test_every_tidy_column_name_is_plain(tmp_path):
    """pandas, R's read.csv and Polars keep these names unchanged."""
    scenario = tmp_path / "cache.yaml"
    scenario.write_text(CACHE_SWEEP)
    cli("sweep", str(scenario), "--out", str(tmp_path / "d"))
    names = {}
    for stem in ("runs", "summary", "summary_long"):
        names[f"{stem}.parquet"] = pq.read_table(tmp_path / "d" / f"{stem}.parquet").schema.names
    for stem in ("runs_long", "summary_long"):
        names[f"{stem}.csv"] = list(pd.read_csv(tmp_path / "d" / f"{stem}.csv", nrows=1).columns)
    run = [BIN, "run", str(scenario), "--format", "parquet", "--out", str(tmp_path / "r")]
    assert subprocess.run(run, cwd=ROOT, capture_output=True).returncode == 0
    for stem in ("summary", "components", "workloads", "series", "latency_cdf"):
        names[f"run {stem}.parquet"] = pq.read_table(tmp_path / "r" / f"{stem}.parquet").schema.names
    for file, columns in names.items():
        assert columns, file
        for c in columns:
            assert TIDY.match(c), f"{file}: {c}"
    # The run's tables: the component figures long, the series as series.csv.
    components = pq.read_table(tmp_path / "r" / "components.parquet").to_pandas()
    result = json.loads((tmp_path / "r" / "result.json").read_text())
    hit = components[(components.component == "cache") & (components.metric == "hit_ratio")]
    assert list(hit["value"]) == [result["components"]["cache"]["hit_ratio"]]
    series = pq.read_table(tmp_path / "r" / "series.parquet").to_pandas()
    series_csv = pd.read_csv(tmp_path / "r" / "series.csv", float_precision="round_trip")
    assert list(series.columns) == [tidy(c) for c in series_csv.columns]
    assert series["cache_hit_ratio"].equals(series_csv["cache.hit_ratio"])  # NaN where empty
    assert len(series) == len(series_csv) > 0


def test_vary_and_replications_arguments_act_like_the_cli(tmp_path):
    scenario = tmp_path / "mm1.yaml"
    scenario.write_text(MM1.replace("300s", "40s"))
    cli(
        "sweep",
        str(scenario),
        "--vary",
        "workloads.users.arrival.poisson=0.2/s,0.5/s",
        "--set",
        "sweep.replications=3",
        "--out",
        str(tmp_path / "cli"),
    )
    sysdes.sweep(
        scenario,
        vary={"workloads.users.arrival.poisson": ["0.2/s", "0.5/s"]},
        replications=3,
        out=tmp_path / "py",
    )
    assert csv_without_wall(tmp_path / "py" / "summary.csv") == csv_without_wall(tmp_path / "cli" / "summary.csv")


def test_a_sweep_resumes_in_its_directory_and_refuses_another(tmp_path):
    scenario = tmp_path / "cache.yaml"
    scenario.write_text(CACHE_SWEEP)
    first = sysdes.sweep(scenario, out=tmp_path / "d", form="wide")
    again = sysdes.sweep(scenario, out=tmp_path / "d", resume=True, form="wide")
    assert again.attrs["executed"] == 0 and again.attrs["skipped"] == 4
    assert first.drop(columns="wall_time_s").equals(again.drop(columns="wall_time_s"))
    with pytest.raises(sysdes.RunError):
        sysdes.sweep(scenario, out=tmp_path / "d", resume=True, seed=99)


def test_parquet_files_read_back_with_pyarrow_equal_the_csvs(tmp_path):
    scenario = tmp_path / "cache.yaml"
    scenario.write_text(CACHE_SWEEP)
    cli("sweep", str(scenario), "--out", str(tmp_path / "d"))
    for stem in ("runs", "summary"):
        table = pq.read_table(tmp_path / "d" / f"{stem}.parquet").to_pandas()
        frame = pd.read_csv(tmp_path / "d" / f"{stem}.csv", keep_default_na=False, dtype=str)
        assert list(table.columns) == [tidy(c) for c in frame.columns]
        for column in frame.columns:
            for typed, text in zip(table[tidy(column)], frame[column]):
                if text == "":
                    assert typed is None or (isinstance(typed, float) and math.isnan(typed)), column
                elif isinstance(typed, (bool,)) or str(type(typed)).endswith("bool_'>"):
                    assert str(bool(typed)).lower() == text, column
                elif isinstance(typed, str):
                    assert typed == text, column
                else:
                    assert float(typed) == float(text), column
        # The same file through the package's own reader, without pyarrow.
        ours = sysdes.read_parquet(tmp_path / "d" / f"{stem}.parquet")
        assert list(ours.columns) == list(table.columns)
    runs = pq.read_table(tmp_path / "d" / "runs.parquet").schema
    assert str(runs.field("completed").type) == "uint64"
    assert str(runs.field("latency_mean_ms").type) == "double"
    assert str(runs.field("bottleneck").type) == "string"
    # run --format parquet: the CSV of one run, typed.
    out = subprocess.run([BIN, "run", str(scenario), "--format", "parquet"], cwd=ROOT, capture_output=True)
    assert out.returncode == 0, out.stderr
    (tmp_path / "r.parquet").write_bytes(out.stdout)
    one = pq.read_table(tmp_path / "r.parquet").to_pandas()
    assert list(one["scope"]) == ["system", "workload", "component", "component"]
    assert str(pq.read_table(tmp_path / "r.parquet").schema.field("completed").type) == "uint64"


def test_estimate_gives_the_cli_json(mm1):
    expected = json.loads(cli("estimate", str(mm1), "--format", "json").stdout)
    assert sysdes.estimate(mm1).data == expected


def test_runs_release_the_gil():
    """Python code goes on while a run simulates: the native call releases the
    GIL (held, the loop below would not run at all until the run returns)."""
    results = []
    worker = threading.Thread(target=lambda: results.append(sysdes.run(MM1, set={"duration": "2000000s"})))
    worker.start()
    spins = 0
    while worker.is_alive():
        spins += 1
    worker.join()
    assert len(results) == 1 and results[0].summary["completed"] > 1_000_000
    assert spins > 10_000, spins


def test_to_polars_gives_the_pandas_frames_as_polars(mm1):
    # .ci/python installs polars (pinned); without it only this test is skipped.
    pytest.importorskip("polars")
    r = sysdes.run(mm1, set={"duration": "60s"})
    frames = r.to_polars()
    assert sorted(frames) == ["components", "latency_cdf", "scopes", "series", "workloads"]
    for name, frame in frames.items():
        ours = getattr(r, name)
        assert frame.columns == list(ours.columns), name
        assert frame.height == len(ours) > 0, name
    assert frames["series"]["completed"].to_list() == r.series["completed"].tolist()
    assert frames["latency_cdf"]["fraction"].to_list() == r.latency_cdf["fraction"].tolist()
    server = frames["components"].filter(frames["components"]["name"] == "server")
    assert server["utilization"].to_list() == [r.data["components"]["server"]["utilization"]]


NOTEBOOK = ROOT / "docs" / "python-hockey-stick.ipynb"


def test_the_notebook_cells_run_and_print_what_the_notebook_shows(monkeypatch, capsys):
    """docs/python-hockey-stick.ipynb, without Jupyter: its code cells run in
    order (from docs/, as the notebook does) and print exactly the text
    outputs committed with it (a sweep is deterministic)."""
    matplotlib = pytest.importorskip("matplotlib")  # .ci/python installs it (pinned)
    matplotlib.use("Agg")
    notebook = json.loads(NOTEBOOK.read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code, "the notebook has code cells"
    monkeypatch.chdir(NOTEBOOK.parent)
    namespace = {"__name__": "__main__"}
    for cell in code:
        exec(compile("".join(cell["source"]), str(NOTEBOOK), "exec"), namespace)
        printed = capsys.readouterr().out
        shown = "".join(
            "".join(o["text"]) for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stdout"
        )
        assert printed == shown, "".join(cell["source"])
    import matplotlib.pyplot as plt

    assert namespace["table"].shape == (10, 2)
    plt.close("all")
