"""A plug-in early-stopping rule that raises (in ``should_stop``, or while its factory builds it)
is named as the rule's error, as a plug-in algorithm's is: the run stops, the trials it was
judging are given back (Killed, counted towards neither maxTrialCount nor maxFailedTrialCount),
never Failed, and a run after the fix resumes the experiment (QA plugin, session 37, finding 1)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import quadratic_experiment
from kfp_tune.algorithms import early_stopping
from kfp_tune.collectors.running import EarlyStoppingRuleError
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.core.vocabulary import TrialStatus
from kfp_tune.inline_runner import run_inline
from kfp_tune.launchers import LocalLauncher, local
from kfp_tune.stores import LocalStore

BROKEN = {"should_stop": False, "factory": False, "answer": None}
"""What the plug-in rule does wrong now (the tests set it, then 'fix the plug-in')."""


class FlakyRule:
    """A plug-in rule: stops a trial after 3 reports, unless BROKEN says otherwise."""

    name = "flaky-stop"

    def __init__(self, settings: dict[str, Any]):
        if BROKEN["factory"]:
            raise KeyError("patience")

    def should_stop(self, objective_type: str, completed: Sequence[Sequence[float]], current: Sequence[float]) -> bool:
        if BROKEN["should_stop"]:
            raise RuntimeError("my bug in should_stop")
        if BROKEN["answer"] is not None:
            return BROKEN["answer"]  # type: ignore[return-value]
        return False


@pytest.fixture
def flaky_rule(clean_plugin_registries: None, monkeypatch: pytest.MonkeyPatch) -> None:
    early_stopping.register("flaky-stop", FlakyRule, settings=())
    monkeypatch.setattr(local, "POLL_SECONDS", 3600.0)  # judged once each trial has ended: no timing in the test
    for key in BROKEN:
        monkeypatch.setitem(BROKEN, key, None if key == "answer" else False)


def experiment(parallel: int = 2) -> dict[str, Any]:
    trial = "for step in range(3):\n    print('loss=1.0')\n"
    return quadratic_experiment(**{
        "metadata.name": "flaky",
        "spec.objective": {"type": "minimize", "objectiveMetricName": "loss"},
        "spec.algorithm": {"algorithmName": "grid"},
        "spec.earlyStopping": {"algorithmName": "flaky-stop"},
        "spec.parallelTrialCount": parallel,
        "spec.maxTrialCount": 3,
        "spec.maxFailedTrialCount": 1,
        "spec.parameters": [{"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["1", "2", "3"]}}],
        "spec.trialTemplate.trialParameters": [{"name": "x", "reference": "x"}],
        "spec.trialTemplate.trialSpec.spec.template.spec.containers": [
            {"name": "main", "image": "python:3.11", "command": ["python3", "-c", shlex.quote(trial), "${trialParameters.x}"]}
        ],
    })


def statuses(store: LocalStore) -> list[TrialStatus]:
    return [t.status for t in sorted(load_state(ExperimentRecords(store, "flaky")).trials, key=lambda t: t.index)]


@pytest.mark.usefixtures("flaky_rule")
def test_a_rule_raising_in_should_stop_is_named_fails_no_trial_and_the_fixed_plugin_resumes(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    BROKEN["should_stop"] = True
    with pytest.raises(EarlyStoppingRuleError) as caught:
        run_inline(store, load_experiment(experiment()), LocalLauncher())
    message = str(caught.value)
    assert isinstance(caught.value, KfpTuneError), type(caught.value)  # the CLI says it as is, not as "a defect in kfp-tune"
    assert "early-stopping rule 'flaky-stop'" in message and f"({__name__}.FlakyRule)" in message, message
    assert "raised RuntimeError: my bug in should_stop" in message and "in should_stop)" in message, message
    assert "the error is in that rule, not in kfp-tune" in message, message
    state = load_state(ExperimentRecords(store, "flaky"))
    # each trial is judged once it has ended (POLL_SECONDS): it keeps its own end, not given back
    # (tests/steps/test_plugin_rule_errors_ended_trials.py; a running one is given back there)
    assert state.trials and all(t.status == TrialStatus.SUCCEEDED and not t.given_back for t in state.trials), [(t.status, t.given_back) for t in state.trials]
    assert not any(t.status == TrialStatus.FAILED for t in state.trials)

    BROKEN["should_stop"] = False  # the plug-in fixed: the same experiment goes on to its end
    decision = run_inline(store, load_experiment(experiment()), LocalLauncher())
    assert decision.finished, decision
    assert statuses(store) == [TrialStatus.SUCCEEDED] * 3, statuses(store)  # none trained twice


@pytest.mark.usefixtures("flaky_rule")
def test_a_rule_whose_factory_raises_is_named_before_any_trial_starts(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    BROKEN["factory"] = True
    with pytest.raises(EarlyStoppingRuleError) as caught:
        run_inline(store, load_experiment(experiment()), LocalLauncher())
    message = str(caught.value)
    assert "early-stopping rule 'flaky-stop'" in message and "raised KeyError: 'patience'" in message and "in __init__)" in message, message
    assert "the trial about to start with it was not started" in message, message
    state = load_state(ExperimentRecords(store, "flaky"))
    assert all(t.started is None and not t.is_terminal for t in state.trials), [(t.name, t.status) for t in state.trials]

    BROKEN["factory"] = False
    decision = run_inline(store, load_experiment(experiment()), LocalLauncher())
    assert decision.finished, decision
    assert statuses(store) == [TrialStatus.SUCCEEDED] * 3


@pytest.mark.usefixtures("flaky_rule")
@pytest.mark.parametrize("answer", ["no", 0.0, 1])
def test_a_rule_answer_that_is_no_bool_is_the_rules_error_not_a_stop(tmp_path: Path, answer: object) -> None:
    """"no" stopped every trial, as bool("no") is True (QA plugin, finding 12): an answer is
    held to True or False, as EarlyStoppingContract holds it."""
    store = LocalStore(tmp_path / "store")
    BROKEN["answer"] = answer
    with pytest.raises(EarlyStoppingRuleError) as caught:
        run_inline(store, load_experiment(experiment()), LocalLauncher())
    message = str(caught.value)
    assert f"early-stopping rule 'flaky-stop' ({__name__}.FlakyRule) answered {answer!r} ({type(answer).__name__}); expected True or False" in message, message
    assert TrialStatus.EARLY_STOPPED not in statuses(store) and TrialStatus.FAILED not in statuses(store), statuses(store)


@pytest.mark.usefixtures("flaky_rule")
def test_a_numpy_bool_answer_is_taken(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    BROKEN["answer"] = np.bool_(True)
    run_inline(store, load_experiment(experiment(parallel=1)), LocalLauncher())
    assert statuses(store) == [TrialStatus.EARLY_STOPPED] * 3, statuses(store)
