"""The algorithm benchmarks (benchmarks/algorithms.py, and benchmarks/bbob.py, which calls its
runner) measure what a user gets: with the same seed, their runner tries, trial for trial, the
points that ``tune()`` runs with one slot (the inline engine: slots scheduler, store, the suggest
step's designer). The compiled pipeline on kfp.local gives the inline engine's trials for the
same seed (tests/pipelines/test_pipeline.py), so the chain reaches the path a user takes."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import folder_module
from kfp_tune import search, tune
from kfp_tune.core.space import Parameter, SearchSpace

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def benchmark() -> ModuleType:
    return folder_module(BENCHMARKS, "algorithms")


def branin(p: dict[str, Any]) -> float:
    x, y = p["x"], p["y"]
    return float((y - 5.1 / (4 * math.pi**2) * x * x + 5 / math.pi * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10)


@pytest.mark.parametrize("algorithm", ["bayesianoptimization", "tpe", "cmaes"])
def test_the_benchmark_runner_tries_the_points_tune_runs(benchmark: ModuleType, algorithm: str, tmp_path: Path) -> None:
    trials = 14  # past bayesianoptimization's and tpe's 10 random starts: the model's picks count
    result = tune(
        branin,
        {"x": search.double(-5.0, 10.0), "y": search.double(0.0, 15.0)},
        algorithm=algorithm,
        algorithm_settings={"random_state": 7},
        max_trial_count=trials,
        store=str(tmp_path),
    )
    task = benchmark.Task("branin", SearchSpace((Parameter("x", "double", -5.0, 10.0), Parameter("y", "double", 0.0, 15.0))), branin, 0.0)
    measured = benchmark.ours(algorithm)(task, 7, trials)
    assert [t.metrics["objective"] for t in result.trials] == measured
    assert len(set(measured)) == trials  # distinct points, so the equality is about each trial


def test_the_report_names_the_reference_libraries_versions(benchmark: ModuleType) -> None:
    """The "ref:" rows are only comparable with the library versions that made them (Optuna 5
    changed TPESampler's defaults), so the report's header states them."""
    import importlib.metadata

    header = benchmark.report({}, {}, {}, seeds=3, trials=10, seconds=60.0).splitlines()[3]
    for name in ("optuna", "scikit-optimize", "scikit-learn", "torch"):
        try:
            expected = f"{name} {importlib.metadata.version(name)}"
        except importlib.metadata.PackageNotFoundError:
            expected = f"{name} not installed"
        assert expected in header
