"""``Experiment.search_space_hash`` is written into every stored experiment record
(``searchSpaceHash``) and compared on each resume: a spec whose search space or objective
changed is refused, one whose budget changed resumes. Two things follow that
``test_spec.py`` and ``test_nas_config.py`` do not pin:

* the value itself is a stored format: a kfp-tune that hashed the same spec differently would
  refuse to resume every experiment already in a store, so the hashes below, recorded from
  kfp-tune 0.1.0, must not change (changing them on purpose needs a migration of stored records);
* the objective's metric strategies are part of the objective (Katib's ``metricStrategies``
  decide which value of each metric counts), so changing one is another objective.

The search space's other rule, which value of a parameter is feasible (``Parameter.contains``),
is pinned at the end.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from conftest import load_katib_example
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.space import Parameter

# A complete experiment of its own (not conftest's, which other tests may change).
EXPERIMENT: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "resume-me"},
    "spec": {
        "objective": {"type": "maximize", "objectiveMetricName": "accuracy", "additionalMetricNames": ["loss"]},
        "algorithm": {"algorithmName": "random"},
        "maxTrialCount": 4,
        "parameters": [
            {"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}},
            {"name": "layers", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4", "step": "1"}},
            {"name": "optimizer", "parameterType": "categorical", "feasibleSpace": {"list": ["sgd", "adam"]}},
        ],
        "trialTemplate": {
            "primaryContainerName": "main",
            "trialParameters": [
                {"name": "lr", "reference": "lr"},
                {"name": "layers", "reference": "layers"},
                {"name": "optimizer", "reference": "optimizer"},
            ],
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "main",
                                    "image": "python:3.11-slim",
                                    "command": [
                                        "python3",
                                        "-c",
                                        "print(1)",
                                        "${trialParameters.lr}",
                                        "${trialParameters.layers}",
                                        "${trialParameters.optimizer}",
                                    ],
                                }
                            ],
                            "restartPolicy": "Never",
                        }
                    }
                },
            },
        },
    },
}

# Recorded from kfp-tune 0.1.0 (the hash its stores hold for these specs).
STORED_HASH = "4e74105748d6111b45f7d0701f1ee13b347f74077c05e9b7863034b154f52c1a"
STORED_ENAS_HASH = "cbda56db6c17dba105c27fc1f4c929dbd0d12247f20deaf6782c0abe685c3843"  # Katib's nas_enas-cpu.yaml


def _with_strategies(strategies: list[dict[str, str]]) -> dict[str, Any]:
    doc = copy.deepcopy(EXPERIMENT)
    doc["spec"]["objective"]["metricStrategies"] = strategies
    return doc


def test_a_stored_experiments_hash_is_what_this_version_computes() -> None:
    assert load_experiment(EXPERIMENT).search_space_hash() == STORED_HASH


def test_a_stored_architecture_search_keeps_its_hash() -> None:
    """nasConfig enters the hash of an experiment that has one, and the value is stored alike."""
    assert load_experiment(load_katib_example("nas_enas-cpu.yaml")).search_space_hash() == STORED_ENAS_HASH


def test_the_metric_strategies_are_part_of_the_objective() -> None:
    """Katib defaults every metric's strategy to the objective's direction (max for maximize):
    writing that default out is no change; asking for another strategy is."""
    base = load_experiment(EXPERIMENT).search_space_hash()
    spelled_out = _with_strategies([{"name": "accuracy", "value": "max"}, {"name": "loss", "value": "max"}])
    assert load_experiment(spelled_out).search_space_hash() == base
    latest = _with_strategies([{"name": "accuracy", "value": "latest"}, {"name": "loss", "value": "max"}])
    assert load_experiment(latest).search_space_hash() != base


# ---------------------------------------------------------------- Parameter.contains
# Feasibility of a typed value: what holds every algorithm plug-in to its contract
# (steps/designer.check_suggestions) and what ``kfp-tune render --assign`` accepts.


def test_a_discrete_parameter_holds_its_own_list_values() -> None:
    discrete = Parameter("batch", "discrete", choices=("16", "32"))
    assert discrete.contains("32") and not discrete.contains("64") and not discrete.contains(32)


def test_an_int_parameter_holds_only_whole_ints() -> None:
    """Not a float, even a whole one, and not a bool (an int in Python, not in Katib)."""
    layers = Parameter("layers", "int", low=1.0, high=5.0)
    assert layers.contains(2) and layers.contains(5)
    assert not layers.contains(2.5) and not layers.contains(2.0) and not layers.contains(True)


@pytest.mark.parametrize("value", ["0.5", None, math.nan, math.inf])
def test_a_double_parameter_holds_only_finite_numbers(value: Any) -> None:
    assert not Parameter("lr", "double", low=0.0, high=1.0).contains(value)


@pytest.mark.parametrize("value", [-0.5, 1.5, 1.0 + 1e-6])
def test_a_double_parameter_refuses_values_past_its_bounds(value: float) -> None:
    assert not Parameter("lr", "double", low=0.0, high=1.0).contains(value)


def test_a_narrow_range_refuses_a_value_well_past_its_max() -> None:
    """A range 1e-8 wide (a tiny learning rate): 15% of its width past max is out, not noise."""
    tiny = Parameter("lr", "double", low=0.0, high=1e-8)
    assert tiny.contains(1e-8) and not tiny.contains(1e-8 + 1.5e-9)


def test_a_range_of_tiny_numbers_refuses_a_value_several_times_its_max() -> None:
    """The slack for rounding noise scales with the numbers: with 1e-10 .. 5e-10 (a weight decay,
    say) 1.4e-9 is almost three times max, not noise, while max reached through log space is."""
    tiny = Parameter("decay", "double", low=1e-10, high=5e-10)
    assert not tiny.contains(1.4e-9) and not tiny.contains(5e-10 * (1 + 1e-6))
    assert tiny.contains(math.exp(math.log(5e-10))) and tiny.contains(1e-10)


@pytest.mark.parametrize(("low", "high"), [(1.0, 1e7), (-1e8, 1e8)])
def test_rounding_noise_at_the_top_of_a_wide_range_is_inside(low: float, high: float) -> None:
    """A value computed in floating point (here through log space, as a log-scale draw at its
    top is) can land a rounding error past max; that noise grows with the range, a real step
    past max does not become noise."""
    at_top = math.exp(math.log(high))
    assert at_top > high, "the case needs a value just past max"
    wide = Parameter("x", "double", low=low, high=high)
    assert wide.contains(at_top) and not wide.contains(high * (1 + 1e-6))


def test_a_stepped_parameter_holds_the_grid_from_its_min() -> None:
    """Values are min, min + step, ...: 1, 4, 7 for min 1 step 3, whatever their remainder."""
    grid = Parameter("k", "int", low=1.0, high=9.0, step=3.0)
    assert [v for v in range(0, 11) if grid.contains(v)] == [1, 4, 7]
