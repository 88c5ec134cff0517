"""A built-in algorithm that runs out of memory (enas with a huge ``controller_hidden_size``,
QA settings, session 38, finding 2) was reported as "the error is in that algorithm, not in
kfp-tune", sending the user to an algorithm that is kfp-tune's own. Its cause is the settings:
the error now says so, that nothing ran, and how to go on. A plug-in's MemoryError is still
named as the plug-in's."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.algorithms import register
from kfp_tune.algorithms.random_search import RandomSearch
from kfp_tune.core.catalogue import int_setting
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import ExperimentView
from kfp_tune.steps import prepare
from kfp_tune.steps.designer import AlgorithmError, next_suggestions, problem_of
from kfp_tune.stores import LocalStore


def _out_of_memory(*args: Any) -> Any:
    raise MemoryError("Unable to allocate 745. GiB for an array with shape (100021400000,) and data type float64")


def _suggest_once(tmp_path: Any, algorithm: str, settings: list[dict[str, str]]) -> AlgorithmError:
    experiment = load_experiment(quadratic_experiment(**{"spec.algorithm": {"algorithmName": algorithm, "algorithmSettings": settings}}))
    records = ExperimentRecords(LocalStore(tmp_path), experiment.name)
    prepare(records, experiment, "run-1")
    state = ExperimentView(records).state
    with pytest.raises(AlgorithmError) as caught:
        next_suggestions(state, problem_of(experiment, state.uid), 1, 0)
    return caught.value


def test_a_built_in_algorithm_out_of_memory_names_the_settings_not_the_algorithm(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RandomSearch, "suggest", _out_of_memory)
    message = str(_suggest_once(tmp_path, "random", [{"name": "random_state", "value": "3"}]))
    assert "not in kfp-tune" not in message and "the error is in that algorithm" not in message, message
    assert "algorithm 'random'" in message and "MemoryError" in message and "745. GiB" in message, message
    assert "random_state=3" in message, message  # the settings that asked for it
    assert "no trial was made" in message, message
    assert "algorithmSettings cannot change" in message and "new experiment" in message, message


class PluginRandom(RandomSearch):
    suggest = _out_of_memory  # type: ignore[assignment]


@pytest.mark.usefixtures("clean_plugin_registries")
def test_a_plugin_out_of_memory_is_still_the_plugin_s(tmp_path: Any) -> None:
    register("oom-plugin", PluginRandom, settings=[int_setting("random_state", None)], ends="never")
    message = str(_suggest_once(tmp_path, "oom-plugin", [{"name": "random_state", "value": "3"}]))
    assert f"({__name__}.PluginRandom)" in message and "the error is in that algorithm, not in kfp-tune" in message, message
