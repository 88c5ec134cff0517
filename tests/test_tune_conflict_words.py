"""A ``tune()`` cell run again under the same ``name=`` with changed arguments is refused as Katib
refuses a changed spec (only the budgets may change, and a completed experiment stays completed);
the refusal names the ``tune()`` arguments that changed, with their stored and given values, not
Katib's YAML paths (``spec.parameters[y] (added), spec.trialTemplate changed``), says "To run more
trials" only when more were asked for, and gives no "in its YAML" advice a ``tune()`` user cannot
follow (QA notebook, session 36, finding 6). ``kfp-tune run``'s YAML wording is unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kfp_tune import search, tune
from kfp_tune.core.errors import ExperimentConflict

BASE: dict[str, Any] = {"parameters": {"x": search.double(0, 1)}, "max_trial_count": 3, "name": "conf", "algorithm": "random",
                        "algorithm_settings": {"random_state": 5}}


def _objective(p: dict[str, Any]) -> float:
    return float(p["x"])


@pytest.fixture
def completed(tmp_path: Path) -> str:
    store = str(tmp_path / "store")
    assert tune(_objective, store=store, **BASE).status == "Succeeded"
    return store


def _refusal(store: str, **changed: Any) -> str:
    with pytest.raises(ExperimentConflict) as refused:
        tune(_objective, store=store, **{**BASE, **changed})
    text = str(refused.value)
    assert "spec." not in text and "YAML" not in text and "resumePolicy" not in text, text  # nothing the caller never wrote
    assert text.startswith("tune(): experiment 'conf' in "), text
    return text


def test_fewer_trials_on_a_completed_experiment_name_the_argument_and_do_not_say_to_run_more(completed: str) -> None:
    text = _refusal(completed, max_trial_count=2)
    assert "has completed (Succeeded, ExperimentMaxTrialsReached)" in text and "max_trial_count (3 stored, 2 given)" in text, text
    assert "run more trials" not in text, text
    assert "tune(..., max_trial_count=3) returns its result" in text, text


def test_only_the_parallel_count_changed_does_not_say_to_run_more(completed: str) -> None:
    text = _refusal(completed, parallel_trial_count=2)
    assert "parallel_trial_count (1 stored, 2 given)" in text and "run more trials" not in text, text
    assert "tune(..., parallel_trial_count=1) returns its result" in text, text


def test_more_trials_on_a_completed_experiment_say_how_to_run_more(completed: str) -> None:
    text = _refusal(completed, max_trial_count=5)
    assert "max_trial_count (3 stored, 5 given)" in text and "To run more trials, start a new experiment: pass another name=" in text, text


@pytest.mark.parametrize(("changed", "said"), [
    ({"parameters": {"x": search.double(0, 1), "y": search.int(1, 3)}}, "parameters['y'] added (search.int(1, 3))"),
    ({"parameters": {"x": search.double(0, 2)}}, "parameters['x'] (search.double(0, 1) stored, search.double(0, 2) given)"),
    ({"parameters": {"z": search.categorical(["a", "b", "c"])}}, "parameters['x'] removed, parameters['z'] added (search.categorical(['a', 'b', 'c']))"),
    ({"objective_type": "maximize"}, "objective_type ('minimize' stored, 'maximize' given)"),
    ({"objective_metric_name": "loss"}, "objective_metric_name ('objective' stored, 'loss' given)"),
    ({"goal": 0.1}, "goal (None stored, 0.1 given)"),
    ({"algorithm_settings": {"random_state": 6}}, "algorithm_settings ({'random_state': '5'} stored, {'random_state': '6'} given)"),
    ({"algorithm": "sobol"}, "algorithm ('random' stored, 'sobol' given)"),
])
def test_another_search_space_or_objective_names_the_arguments_that_changed(completed: str, changed: dict[str, Any], said: str) -> None:
    text = _refusal(completed, **changed)
    assert f"was made with other arguments: {said};" in text, text
    assert ("only max_trial_count, parallel_trial_count and max_failed_trial_count may change under the same name; "
            "pass another name= to start a new experiment") in text, text
    assert "trialTemplate" not in text and "metricStrategies" not in text


def test_kfp_tune_run_keeps_its_yaml_words(completed: str, tmp_path: Path) -> None:
    """The same refusal met by a YAML user (the step itself) still speaks of the spec."""
    from kfp_tune.api import _function_experiment_of
    from kfp_tune.core.records import ExperimentRecords
    from kfp_tune.steps.prepare import resume_refusal
    from kfp_tune.stores import as_store

    experiment = _function_experiment_of({**BASE, "objective": _objective, "objective_metric_name": "objective", "objective_type": "minimize",
                                          "parallel_trial_count": 1, "max_failed_trial_count": None, "goal": None,
                                          "additional_metric_names": None, "max_trial_count": 2})
    refusal = resume_refusal(ExperimentRecords(as_store(completed), "conf"), experiment)
    assert refusal is not None and "spec.resumePolicy" in str(refusal)


def test_a_budget_under_the_trials_of_an_unfinished_experiment_names_the_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kfp_tune.api
    from kfp_tune.core.errors import RunInterrupted
    from kfp_tune.steps.slots import Checkpoint

    real_run = kfp_tune.api.run_inline

    def two_trials_then_interrupted(*args: Any, **kwargs: Any) -> None:
        real_run(*args, checkpoint=Checkpoint(trials=2), **kwargs)
        raise RunInterrupted("SIGINT", 0)

    monkeypatch.setattr(kfp_tune.api, "run_inline", two_trials_then_interrupted)
    store = str(tmp_path / "store")
    with pytest.raises(RunInterrupted):
        tune(_objective, store=store, **BASE)
    monkeypatch.undo()
    text = _refusal(store, max_trial_count=2)
    assert text.endswith("already has 2 trial(s) (trials killed by an interrupted run do not count): max_trial_count (3 stored, 2 given) "
                         "must be greater than 2 to resume it with another budget; tune(..., max_trial_count=3) resumes it as it was"), text
