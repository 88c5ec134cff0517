"""FunctionLauncher, the launcher behind ``kfp_tune.tune``: the objective gets typed values,
what it returns becomes the trial's metrics, and its failures fail the trial, not the run."""

from __future__ import annotations

import math
from typing import Any

import pytest

from kfp_tune.core.errors import RunInterrupted
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.observation import MetricLog
from kfp_tune.core.space import Parameter, SearchSpace
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.function import FunctionLauncher

SPACE = SearchSpace(
    (
        Parameter("lr", "double", low=0.0, high=1.0),
        Parameter("layers", "int", low=1, high=8),
        Parameter("batch", "discrete", choices=("16", "32.5", "1e2")),
        Parameter("optimizer", "categorical", choices=("sgd", "adam")),
    )
)
ASSIGNMENT = {"lr": "0.25", "layers": "3", "batch": "16", "optimizer": "adam"}


def trial(assignment: dict[str, str] | None = None) -> TrialRun:
    return TrialRun(experiment="exp", trial="exp-t1", manifest={}, assignment=assignment or ASSIGNMENT, primary_container="main")


def run(objective: Any, assignment: dict[str, str] | None = None):
    return FunctionLauncher(objective, SPACE, "loss").run(trial(assignment))


def test_the_objective_gets_typed_values():
    seen: list[dict[str, Any]] = []
    run(lambda params: seen.append(params) or 0.0)
    assert seen == [{"lr": 0.25, "layers": 3, "batch": 16, "optimizer": "adam"}]
    assert [type(v) for v in seen[0].values()] == [float, int, int, str]


@pytest.mark.parametrize(("text", "expected"), [("32.5", 32.5), ("1e2", 100.0)])
def test_a_discrete_value_written_as_a_float_stays_a_float(text: str, expected: float):
    seen: list[Any] = []
    run(lambda params: seen.append(params["batch"]) or 0.0, {**ASSIGNMENT, "batch": text})
    assert seen == [expected] and isinstance(seen[0], float)


def test_a_number_returned_is_the_objective_metric():
    outcome = run(lambda params: 0.125)
    assert outcome.phase == LaunchPhase.SUCCEEDED and outcome.reason == "" and outcome.message == ""
    assert outcome.pushed == [MetricLog("loss", 0.125, 0)]
    assert outcome.logs == {"main": "loss=0.125\n"}


def test_an_integer_returned_is_reported_as_a_float():
    outcome = run(lambda params: 3)
    assert outcome.pushed == [MetricLog("loss", 3.0, 0)] and isinstance(outcome.pushed[0].value, float)


def test_a_dict_returned_reports_every_metric_in_its_order():
    outcome = run(lambda params: {"loss": 0.5, "accuracy": 1, "f1": 0.75})
    assert outcome.phase == LaunchPhase.SUCCEEDED
    assert outcome.pushed == [MetricLog("loss", 0.5, 0), MetricLog("accuracy", 1.0, 0), MetricLog("f1", 0.75, 0)]
    assert outcome.logs["main"] == "loss=0.5\naccuracy=1.0\nf1=0.75\n"


def test_non_finite_metrics_are_left_out():
    """A NaN or an infinity never reaches an algorithm; the finite metrics still count."""
    outcome = run(lambda params: {"loss": math.nan, "accuracy": 0.5, "f1": math.inf, "g": -math.inf})
    assert outcome.phase == LaunchPhase.SUCCEEDED
    assert outcome.pushed == [MetricLog("accuracy", 0.5, 0)]
    assert run(lambda params: math.nan).pushed == []


def test_a_scalar_held_in_a_0_d_array_or_tensor_is_a_metric():
    """``return {"loss": loss}`` where ``loss.item()`` was meant: NumPy's and PyTorch's 0-d
    values are numbers to ``float()``, as Optuna takes them; they were refused (InvalidResult)."""
    import numpy as np

    torch = pytest.importorskip("torch")
    outcome = run(lambda params: {"loss": np.array(0.25), "accuracy": torch.tensor(0.5)})
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome.message
    assert outcome.pushed == [MetricLog("loss", 0.25, 0), MetricLog("accuracy", 0.5, 0)]
    assert run(lambda params: np.array(0.75, dtype=np.float32)).pushed == [MetricLog("loss", 0.75, 0)]
    assert outcome.logs["main"] == "loss=0.25\naccuracy=0.5\n"


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("numpy-vector", "metric 'loss' is ndarray of shape (2,) (a metric is one number"),
        ("numpy-one", "metric 'loss' is ndarray of shape (1,)"),
        ("numpy-bool", "metric 'loss' is ndarray"),
        ("numpy-complex", "metric 'loss' is ndarray, which float() refuses"),
        ("torch-vector", "metric 'loss' is Tensor of shape (3,)"),
        ("torch-bool", "metric 'loss' is Tensor"),
    ],
)
def test_an_array_of_more_than_one_value_or_of_booleans_is_no_metric(kind: str, words: str):
    import numpy as np

    torch = pytest.importorskip("torch")
    value = {
        "numpy-vector": lambda: np.array([0.1, 0.2]), "numpy-one": lambda: np.array([0.1]), "numpy-bool": lambda: np.array(True),
        "numpy-complex": lambda: np.array(1 + 2j), "torch-vector": lambda: torch.zeros(3), "torch-bool": lambda: torch.tensor(True),
    }[kind]()
    outcome = run(lambda params: {"loss": value})
    assert (outcome.phase, outcome.reason, outcome.pushed) == (LaunchPhase.FAILED, "InvalidResult", [])
    assert words in outcome.message, outcome.message


@pytest.mark.parametrize(
    ("returned", "words"),
    [
        ("0.5", "returned str"),
        ([0.5], "returned list"),
        (True, "returned bool"),
        ({"loss": "0.5"}, "metric 'loss' is str"),
        ({"loss": 0.1, "ok": True}, "metric 'ok' is bool"),
        ({"loss": None}, "metric 'loss' is NoneType"),
    ],
)
def test_a_result_that_is_not_numbers_fails_the_trial_saying_what_it_was(returned: Any, words: str):
    outcome = run(lambda params: returned)
    assert outcome.phase == LaunchPhase.FAILED and outcome.reason == "InvalidResult"
    assert words in outcome.message and outcome.pushed == []


def test_an_exception_fails_the_trial_with_its_traceback_as_the_log():
    def objective(params: dict[str, Any]) -> float:
        raise ValueError(f"diverged at lr={params['lr']}")

    outcome = run(objective)
    assert outcome.phase == LaunchPhase.FAILED and outcome.reason == "Error"
    assert outcome.message == "ValueError: diverged at lr=0.25"
    assert list(outcome.logs) == ["main"]
    assert "Traceback (most recent call last)" in outcome.logs["main"] and "in objective" in outcome.logs["main"]


def test_after_an_interrupt_no_objective_call_starts():
    calls: list[dict[str, Any]] = []
    launcher = FunctionLauncher(lambda params: calls.append(params) or 0.0, SPACE, "loss")
    launcher.run(trial())
    launcher.interrupt()
    with pytest.raises(RunInterrupted):
        launcher.run(trial())
    assert len(calls) == 1
