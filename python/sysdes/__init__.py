"""sysdes from Python: run, sweep and estimate scenarios; results as pandas DataFrames.

The simulation, the theory and every figure come from the same Rust
library crates as the ``sysdes`` command line (through the native module
``sysdes._native``), so a run here gives the same numbers, byte for byte,
as ``sysdes run --format json`` with the same scenario, overrides and seed.

>>> import sysdes
>>> r = sysdes.run("scenarios/mm1.yaml", set={"duration": "60s"}, seed=1)
>>> r.summary["throughput_rps"]          # doctest: +SKIP
>>> runs = sysdes.sweep("scenarios/hockey-stick-sweep.yaml")   # long form

See docs/python.md in the repository for the whole API.
"""

from __future__ import annotations

import html
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import pandas as pd

from . import _native

__all__ = [
    "run",
    "sweep",
    "estimate",
    "read_parquet",
    "read_long",
    "read_summary_long",
    "summary",
    "Result",
    "Estimate",
    "ScenarioError",
    "RunError",
    "__version__",
]

__version__ = _native.version()

Scenario = Union[str, "os.PathLike[str]", Mapping[str, Any]]


class ScenarioError(ValueError):
    """A scenario (or an override) is invalid: what the CLI reports with exit status 2.

    ``file``, ``line``, ``column``, ``message`` and ``help`` describe the
    first problem; ``problems`` lists every problem found (the loader
    collects them all), each a dict with the same keys and ``text``, the
    line the CLI prints.
    """

    def __init__(self, problems: List[Dict[str, Any]]):
        self.problems = problems
        first = problems[0] if problems else {}
        self.file: str = first.get("file", "")
        self.line: int = first.get("line", 0)
        self.column: int = first.get("column", 0)
        self.message: str = first.get("message", "")
        self.help: Optional[str] = first.get("help")
        super().__init__("\n".join(p.get("text", "") for p in problems))


class RunError(RuntimeError):
    """A valid scenario whose model could not be built or run (exit status 1 in the CLI)."""


def _source(scenario: Scenario):
    """(text or path, is_path, name) of a scenario given as a path, YAML text or a dict."""
    if isinstance(scenario, Mapping):
        # JSON is YAML: a dict is passed as its JSON text, so errors point
        # into that text (line 1, the column of the key).
        return json.dumps(scenario, indent=1), False, "<dict>"
    if isinstance(scenario, os.PathLike):
        return os.fspath(scenario), True, None
    if isinstance(scenario, str):
        if "\n" not in scenario and (os.path.exists(scenario) or scenario.endswith((".yaml", ".yml"))):
            return scenario, True, None
        return scenario, False, "<string>"
    raise TypeError(f"scenario must be a path, YAML text or a dict, not {type(scenario).__name__}")


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_value_text(v) for v in value)
    return str(value)


def _overrides(set: Optional[Mapping[str, Any]]) -> List[str]:
    return [f"{k}={_value_text(v)}" for k, v in (set or {}).items()]


def _check(answer: Dict[str, Any]) -> Dict[str, Any]:
    if answer["ok"]:
        return answer
    if "problems" in answer:
        raise ScenarioError(json.loads(answer["problems"]))
    raise RunError(answer.get("error", "the run failed"))


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), float_precision="round_trip")


def _flatten(obj: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    """A JSON object's figures under flat names, as the CSV files name them:
    ``requests.completed`` is ``completed``, ``latency_ms.p99`` is
    ``latency_p99_ms`` (``latency_ms.count`` is ``latency_count``), any other
    nested object's keys are joined with ``_``; ``theory`` objects are left
    out (see ``Result.theory``), lists are kept as they are."""
    out: Dict[str, Any] = {}
    for key, value in obj.items():
        if key == "theory":
            continue
        if key == "requests" and isinstance(value, Mapping):
            out.update(_flatten(value, prefix))
        elif key == "latency_ms" and isinstance(value, Mapping):
            for k, v in value.items():
                out[f"{prefix}latency_count" if k == "count" else f"{prefix}latency_{k}_ms"] = v
        elif isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}_"))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _frame(objects: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per named object (``workloads``, ``components``), ``name`` first."""
    return pd.DataFrame([{"name": name, **_flatten(o)} for name, o in objects.items()])


class Result:
    """One run's result.

    Attributes:
        json: the exact text ``sysdes run --format json`` prints (the result contract).
        data: that JSON parsed (a dict).
        summary: the system-wide figures, a dict under the CSV's names
            (``completed``, ``throughput_rps``, ``latency_p99_ms``, ...); counts are ints.
        components: one row per component (the JSON's ``components``, flattened), a DataFrame.
        workloads: one row per workload, a DataFrame.
        series: the time series (``series.csv``), a DataFrame.
        latency_cdf: the end-to-end latency CDF (``latency_cdf.csv``): ``latency_ms``, ``fraction``.
        table: the CLI's table (``sysdes run`` without ``--format``).
        verdict: the one-line verdict (stable, near capacity, unstable, ...).
        theory: what theory predicts, one row per workload and component with a
            prediction (the JSON's ``theory`` objects): method, exact, mean_ms, p99_ms, ...
        stop: why the run ended: ``drained``, ``event_limit`` or ``interrupted``.
        unstable: whether the backlog grew over the whole window (the CLI exits 1).
    """

    def __init__(self, answer: Dict[str, Any]):
        self.json: str = answer["json"]
        self.data: Dict[str, Any] = json.loads(self.json)
        self.table: str = answer["table"]
        self.stop: str = answer["stop"]
        self.unstable: bool = answer["unstable"]
        self.scenario_yaml: str = answer["scenario_yaml"]
        self._summary_csv: str = answer["summary_csv"]
        self._series_csv: str = answer["series_csv"]
        self._cdf_csv: str = answer["latency_cdf_csv"]

    @property
    def summary(self) -> Dict[str, Any]:
        return _flatten({k: v for k, v in self.data.items() if k not in ("workloads", "components")})

    @property
    def components(self) -> pd.DataFrame:
        return _frame(self.data.get("components", {}))

    @property
    def workloads(self) -> pd.DataFrame:
        return _frame(self.data.get("workloads", {}))

    @property
    def series(self) -> pd.DataFrame:
        return _csv(self._series_csv)

    @property
    def latency_cdf(self) -> pd.DataFrame:
        return _csv(self._cdf_csv)

    @property
    def scopes(self) -> pd.DataFrame:
        """The tidy summary, one row per scope (``sysdes run --format csv``)."""
        return _csv(self._summary_csv)

    @property
    def verdict(self) -> str:
        return self.data.get("verdict", "")

    @property
    def theory(self) -> pd.DataFrame:
        rows = []
        for scope in ("workloads", "components"):
            for name, o in self.data.get(scope, {}).items():
                if isinstance(o.get("theory"), Mapping):
                    rows.append({"scope": scope[:-1], "name": name, **o["theory"]})
        return pd.DataFrame(rows)

    def to_polars(self) -> Dict[str, Any]:
        """The DataFrames as Polars frames (needs ``polars``): a dict with
        ``components``, ``workloads``, ``series``, ``latency_cdf`` and ``scopes``."""
        import polars as pl

        return {
            "components": pl.from_pandas(self.components),
            "workloads": pl.from_pandas(self.workloads),
            "series": pl.read_csv(io.StringIO(self._series_csv)),
            "latency_cdf": pl.read_csv(io.StringIO(self._cdf_csv)),
            "scopes": pl.read_csv(io.StringIO(self._summary_csv)),
        }

    def _cdf_svg(self, width: int = 360, height: int = 160) -> str:
        cdf = self.latency_cdf
        if cdf.empty:
            return ""
        xs, ys = cdf["latency_ms"].tolist(), cdf["fraction"].tolist()
        top = max(xs) or 1.0
        points = " ".join(f"{30 + x / top * (width - 40):.1f},{height - 20 - y * (height - 30):.1f}" for x, y in zip(xs, ys))
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{points}"/>'
            f'<line x1="30" y1="{height - 20}" x2="{width - 10}" y2="{height - 20}" stroke="#888"/>'
            f'<line x1="30" y1="10" x2="30" y2="{height - 20}" stroke="#888"/>'
            f'<text x="{width - 10}" y="{height - 5}" font-size="10" text-anchor="end">{top:g} ms</text>'
            f'<text x="32" y="20" font-size="10">latency CDF</text></svg>'
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>{html.escape(self.data.get('scenario', ''))}</b>: {html.escape(self.verdict)}"
            f"{self.scopes.to_html(index=False, na_rep='')}{self._cdf_svg()}</div>"
        )

    def __repr__(self) -> str:
        return f"<sysdes.Result {self.data.get('scenario', '')!r}: {self.verdict}>"


class Estimate:
    """Theory only (``sysdes estimate``): ``json`` (the text ``--format json``
    prints), ``data`` (parsed) and ``table`` (with ``--explain`` steps when asked)."""

    def __init__(self, answer: Dict[str, Any]):
        self.json: str = answer["json"]
        self.data: Dict[str, Any] = json.loads(self.json)
        self.table: str = answer["table"]

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.table)}</pre>"

    def __repr__(self) -> str:
        return self.table


def run(
    scenario: Scenario,
    set: Optional[Mapping[str, Any]] = None,
    seed: Optional[int] = None,
    *,
    max_events: Optional[int] = None,
    max_in_flight: Optional[int] = None,
) -> Result:
    """Simulate a scenario once, as ``sysdes run`` does.

    Args:
        scenario: a path to a YAML file, YAML text, or a dict of the same keys.
        set: overrides, ``{"components.server.workers": 4}`` (``--set PATH=VALUE``).
        seed: replaces the scenario's seed (``--seed``).
        max_events: stop after this many events (``--max-events``); ``stop`` is then ``event_limit``.
        max_in_flight: requests in flight at which the system is declared unstable.

    Raises:
        ScenarioError: the scenario or an override is invalid (with file, line, column, help).
        RunError: the model could not be built or run.
    """
    source, is_path, name = _source(scenario)
    answer = _native.run(source, is_path, _overrides(set), seed, name, max_events, max_in_flight)
    return Result(_check(answer))


def estimate(
    scenario: Scenario,
    set: Optional[Mapping[str, Any]] = None,
    seed: Optional[int] = None,
    *,
    explain: bool = False,
) -> Estimate:
    """Predict from theory without simulating, as ``sysdes estimate`` does."""
    source, is_path, name = _source(scenario)
    return Estimate(_check(_native.estimate(source, is_path, _overrides(set), seed, name, explain)))


_DTYPES = {"uint64": "UInt64", "float64": "float64", "string": "string", "bool": "boolean"}


def read_parquet(path: Union[str, "os.PathLike[str]"]) -> pd.DataFrame:
    """A Parquet file written by sysdes (``runs.parquet``, ``summary.parquet``,
    ``run --format parquet``) as a typed DataFrame, without pyarrow: counts as
    nullable ``UInt64``, figures ``float64``, ids ``string``, flags ``boolean``."""
    columns = {}
    for name, kind, values in _native.read_parquet(os.fspath(path)):
        if kind == "float64":
            values = [float("nan") if v is None else v for v in values]
        columns[name] = pd.array(values, dtype=_DTYPES[kind])
    return pd.DataFrame(columns)


def read_long(path: Union[str, "os.PathLike[str]"]) -> pd.DataFrame:
    """``runs_long.csv`` of a sweep directory as a DataFrame (``component`` is
    empty for system-wide metrics)."""
    # round_trip: the values read back as the exact doubles sysdes wrote
    # (pandas' default parser may be one unit in the last place off).
    frame = pd.read_csv(
        path,
        dtype={"seed": "uint64", "component": "string", "metric": "string"},
        float_precision="round_trip",
    )
    frame["component"] = frame["component"].fillna("")
    return frame


_SUMMARY_LONG_DTYPES = {
    "point": "UInt64",
    "replications": "UInt64",
    "component": "string",
    "metric": "string",
    "n": "UInt64",
}


def _summary_long_frame(source: Any) -> pd.DataFrame:
    frame = pd.read_csv(source, dtype=_SUMMARY_LONG_DTYPES, float_precision="round_trip")
    frame["component"] = frame["component"].fillna("")
    return frame


def read_summary_long(path: Union[str, "os.PathLike[str]"]) -> pd.DataFrame:
    """``summary_long.csv`` of a sweep directory: one row per point and
    numeric metric, columns ``point``, each parameter and ``PARAM_value``,
    ``replications``, ``component``, ``metric``, ``n``, ``mean``, ``ci_low``,
    ``ci_high`` (Student-t 95 %)."""
    return _summary_long_frame(path)


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """The long summary of the sweep that returned ``runs`` (any ``form``):
    ``summary_long.csv``, one row per point and metric with ``n``, ``mean``,
    ``ci_low`` and ``ci_high``. Also ``runs.sysdes.summary``."""
    text = runs.attrs.get("summary_long_csv")
    if text is None:
        raise ValueError("this DataFrame did not come from sysdes.sweep (its attrs hold no summary)")
    return _summary_long_frame(io.StringIO(text))


@pd.api.extensions.register_dataframe_accessor("sysdes")
class _SweepAccessor:
    """``runs.sysdes.summary``: the long summary of the sweep that returned ``runs``."""

    def __init__(self, frame: pd.DataFrame):
        self._frame = frame

    @property
    def summary(self) -> pd.DataFrame:
        return summary(self._frame)


def sweep(
    scenario: Scenario,
    vary: Optional[Mapping[str, Any]] = None,
    replications: Optional[int] = None,
    jobs: int = 0,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    *,
    set: Optional[Mapping[str, Any]] = None,
    seed: Optional[int] = None,
    resume: bool = False,
    shard: Optional[str] = None,
    auto_warmup: bool = False,
    form: str = "long",
) -> pd.DataFrame:
    """Run a parameter sweep, as ``sysdes sweep`` does, in parallel with the GIL released.

    Args:
        scenario: a path, YAML text or dict, usually with a ``sweep:`` block.
        vary: ``{PATH: VALUES}``; VALUES a list (``[1, 2, 4]``), or the CLI's text
            (``"20/s:245/s:25/s"``, ``"1ms:1s:7:log"``) (``--vary PATH=VALUES``).
        replications: runs per point (``--set sweep.replications=N``).
        jobs: runs simulated at once, 0 for one per core; results do not depend on it.
        out: the sweep directory (every file the CLI writes, Parquet included);
            a temporary directory when None. With ``resume=True`` a sweep
            interrupted there continues, skipping finished runs.
        set, seed, shard, auto_warmup: as ``--set``, ``--seed``, ``--shard I/N``, ``--auto-warmup``.
        form: ``"long"`` (default; ``runs_long.csv``: one row per run and
            numeric metric, columns ``run, point, replication, seed``, each
            parameter and ``PARAM_value``, ``component, metric, value``),
            ``"wide"`` (``runs.parquet``: ``runs.csv``'s columns typed, names
            made of letters, digits and underscores: ``hit_ratio:cache`` is
            ``hit_ratio_cache``), ``"summary"`` (``summary.parquet``: per point,
            the mean and 95 % CI of each metric, wide) or ``"summary_long"``
            (``summary_long.csv``: one row per point and metric, ``n``,
            ``mean``, ``ci_low``, ``ci_high``).

    The returned DataFrame's ``attrs`` hold ``out`` (the directory, when it
    is kept) and ``runs``, ``executed``, ``skipped``, ``failed``; its
    ``.sysdes.summary`` (or ``sysdes.summary(frame)``) is the long summary.
    """
    if form not in ("long", "wide", "summary", "summary_long"):
        raise ValueError(f"form must be 'long', 'wide', 'summary' or 'summary_long', not {form!r}")
    source, is_path, name = _source(scenario)
    overrides = _overrides(set)
    if replications is not None:
        overrides.append(f"sweep.replications={int(replications)}")
    vary_args = [f"{k}={_value_text(v)}" for k, v in (vary or {}).items()]
    temporary = None
    if out is None:
        temporary = tempfile.TemporaryDirectory(prefix="sysdes-sweep-")
        out = temporary.name
    try:
        answer = _check(
            _native.sweep(
                source, is_path, overrides, vary_args, os.fspath(out), seed, name, jobs, resume, shard, auto_warmup
            )
        )
        directory = Path(out)
        if form == "long":
            frame = read_long(directory / "runs_long.csv")
        elif form == "wide":
            frame = read_parquet(directory / "runs.parquet")
        elif form == "summary":
            frame = read_parquet(directory / "summary.parquet")
        else:
            frame = read_summary_long(directory / "summary_long.csv")
        summary_text = (directory / "summary_long.csv").read_text()
    finally:
        if temporary is not None:
            temporary.cleanup()
    frame.attrs.update({k: answer[k] for k in ("runs", "executed", "skipped", "failed")})
    frame.attrs["summary_long_csv"] = summary_text
    if temporary is None:
        frame.attrs["out"] = os.fspath(out)
    return frame
