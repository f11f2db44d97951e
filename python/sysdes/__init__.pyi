"""Type hints of the sysdes package (see __init__.py for the docstrings)."""

import os
from typing import Any, Dict, List, Mapping, Optional, Union

import pandas as pd

Scenario = Union[str, os.PathLike[str], Mapping[str, Any]]
PathLike = Union[str, os.PathLike[str]]

__version__: str

class ScenarioError(ValueError):
    problems: List[Dict[str, Any]]
    file: str
    line: int
    column: int
    message: str
    help: Optional[str]
    def __init__(self, problems: List[Dict[str, Any]]) -> None: ...

class RunError(RuntimeError): ...

class Result:
    json: str
    data: Dict[str, Any]
    table: str
    stop: str
    unstable: bool
    scenario_yaml: str
    @property
    def summary(self) -> Dict[str, Any]: ...
    @property
    def components(self) -> pd.DataFrame: ...
    @property
    def workloads(self) -> pd.DataFrame: ...
    @property
    def series(self) -> pd.DataFrame: ...
    @property
    def latency_cdf(self) -> pd.DataFrame: ...
    @property
    def scopes(self) -> pd.DataFrame: ...
    @property
    def verdict(self) -> str: ...
    @property
    def theory(self) -> pd.DataFrame: ...
    def to_polars(self) -> Dict[str, Any]: ...
    def _repr_html_(self) -> str: ...

class Estimate:
    json: str
    data: Dict[str, Any]
    table: str
    def _repr_html_(self) -> str: ...

def run(
    scenario: Scenario,
    set: Optional[Mapping[str, Any]] = ...,
    seed: Optional[int] = ...,
    *,
    max_events: Optional[int] = ...,
    max_in_flight: Optional[int] = ...,
) -> Result: ...
def estimate(
    scenario: Scenario,
    set: Optional[Mapping[str, Any]] = ...,
    seed: Optional[int] = ...,
    *,
    explain: bool = ...,
) -> Estimate: ...
def sweep(
    scenario: Scenario,
    vary: Optional[Mapping[str, Any]] = ...,
    replications: Optional[int] = ...,
    jobs: int = ...,
    out: Optional[PathLike] = ...,
    *,
    set: Optional[Mapping[str, Any]] = ...,
    seed: Optional[int] = ...,
    resume: bool = ...,
    shard: Optional[str] = ...,
    auto_warmup: bool = ...,
    form: str = ...,
) -> pd.DataFrame: ...
def read_parquet(path: PathLike) -> pd.DataFrame: ...
def read_long(path: PathLike) -> pd.DataFrame: ...
def read_summary_long(path: PathLike) -> pd.DataFrame: ...
def summary(runs: pd.DataFrame) -> pd.DataFrame: ...
