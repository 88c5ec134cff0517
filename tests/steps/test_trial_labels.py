"""The labels an algorithm gives its trials (pbt's generation and parent), over a real store:
written in the round, folded into the trial's state, given back to the algorithm (finished and
pending), put on the trial's resource; and the designer's checks of what an algorithm returns
(labels one per suggestion; repeats only when it says it repeats on purpose)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import PendingAssignment, Suggestions
from kfp_tune.core.checkpoints import GENERATION_LABEL, PARENT_LABEL
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.interfaces import Launcher, LaunchOutcome, TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import DamagedRecord, ExperimentRecords, round_labels
from kfp_tune.core.state import ExperimentView, TrialState, load_state
from kfp_tune.core.trials import render_trial, trial_run
from kfp_tune.core.vocabulary import LaunchPhase, RecordKind
from kfp_tune.steps.designer import check_suggestions, history_of, next_suggestions, problem_of

CHECKPOINTS = "/var/log/katib/checkpoints/"


def _pbt(**overrides: Any) -> dict[str, Any]:
    settings = [{"name": "suggestion_trial_dir", "value": CHECKPOINTS}, {"name": "n_population", "value": "5"}]
    return quadratic_experiment(**{"spec.algorithm": {"algorithmName": "pbt", "algorithmSettings": settings}, **overrides})


def test_labels_are_stored_in_the_round_and_come_back_to_the_algorithm(local_store):
    experiment = load_experiment(_pbt())
    records = ExperimentRecords(local_store, experiment.name)
    names = steps.suggest(records, "r0", 3, experiment)
    stored = records.read(records.round_key("r0"), RecordKind.ROUND)
    assert stored is not None and [t["labels"] for t in stored["trials"]] == [{GENERATION_LABEL: "0"}] * len(names)
    state = load_state(records)  # a fresh process folds them back in
    assert [t.labels for t in state.trials] == [{GENERATION_LABEL: "0"}] * len(names)
    _, pending = history_of(state, problem_of(state.experiment, state.uid).space)
    assert all(isinstance(p, PendingAssignment) for p in pending)
    assert [(p.name, p.labels) for p in pending] == [(t.name, t.labels) for t in state.trials]
    # finished, the algorithm gets them in its history
    launcher = _Quick()
    for name in names:
        steps.launch_trial(records, launcher, name)
        steps.collect_metrics(records, name)
    history, _ = history_of(load_state(records), problem_of(state.experiment, state.uid).space)
    assert [t.labels for t in history] == [{GENERATION_LABEL: "0"}] * len(names)


def test_an_algorithm_without_labels_writes_rounds_as_before(local_store):
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(local_store, experiment.name)
    steps.suggest(records, "r0", 3, experiment)
    stored = records.read(records.round_key("r0"), RecordKind.ROUND)
    assert stored is not None and all("labels" not in t for t in stored["trials"])
    assert all(t.labels == {} for t in load_state(records).trials)


def test_the_trials_resource_carries_its_labels_and_its_checkpoint_folder(local_store):
    experiment = load_experiment(_pbt())
    records = ExperimentRecords(local_store, experiment.name)
    steps.suggest(records, "r0", 3, experiment)
    trial = copy.copy(load_state(records).trials[0])
    trial.labels = {GENERATION_LABEL: "2", PARENT_LABEL: "quad-parent"}
    manifest = render_trial(experiment, trial)
    assert manifest["metadata"]["labels"][GENERATION_LABEL] == "2" and manifest["metadata"]["labels"][PARENT_LABEL] == "quad-parent"
    assert manifest["metadata"]["labels"]["kfp-tune.kubeflow.org/trial"] == trial.name  # kfp-tune's own stay
    run = trial_run(experiment, trial)
    assert (run.checkpoint_path, run.checkpoint_parent) == (CHECKPOINTS, "quad-parent")
    assert trial_run(load_experiment(quadratic_experiment()), trial).checkpoint_path == ""  # no suggestion_trial_dir, no folder


def test_a_template_can_name_the_parent_as_katib_lets_it():
    doc = _pbt()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "parent", "reference": f"${{trialSpec.Labels[{PARENT_LABEL}]}}"})
    container = template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
    container["args"].append("--resume-from=${trialParameters.parent}")
    experiment = load_experiment(doc)
    trial = TrialState("quad-child", 7, "r3", {"x": "0.5", "y": "0.5"}, "", labels={GENERATION_LABEL: "1", PARENT_LABEL: "quad-parent"})
    args = render_trial(experiment, trial)["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[-1] == "--resume-from=quad-parent"


@pytest.mark.parametrize("labels", [["generation"], {"generation": 0}, {1: "x"}])
def test_damaged_labels_in_a_round_are_reported_with_the_key(labels: Any):
    record = {"kind": "Round", "version": 1, "created": "2026-11-30T12:00:00Z", "trials": [{"name": "t", "index": 0, "assignment": {}}, {"name": "u", "index": 1, "assignment": {}, "labels": labels}]}
    with pytest.raises(DamagedRecord) as info:
        round_labels(record, "experiments/x/rounds/r0.json")
    assert info.value.key == "experiments/x/rounds/r0.json" and "trials[1].labels" in info.value.problem


class _Quick(Launcher):
    """A launcher whose trials succeed at once, their log the quadratic's metrics."""

    def run(self, trial: TrialRun) -> LaunchOutcome:
        return LaunchOutcome(LaunchPhase.SUCCEEDED, logs={trial.primary_container: "loss=0.5\naccuracy=0.5\n"})


class _Plugin:
    """A plug-in that returns whatever it is told to."""

    name = "random"

    def __init__(self, result: Suggestions):
        self.result = result

    def suggest(self, problem, history, pending, n, rng) -> Suggestions:
        return self.result


def _state_with_one_trial(local_store):
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(local_store, experiment.name)
    steps.suggest(records, "r0", 3, experiment, n=1)
    state = ExperimentView(records).state
    return state, problem_of(state.experiment, state.uid)


def test_a_repeat_is_refused_unless_the_algorithm_repeats_on_purpose(local_store, monkeypatch):
    state, problem = _state_with_one_trial(local_store)
    taken = problem.space.parse(state.trials[0].assignment)
    monkeypatch.setitem(registry._FACTORIES, "random", lambda settings: _Plugin(Suggestions([dict(taken)])))
    with pytest.raises(KfpTuneError, match="suggested a point twice"):
        next_suggestions(state, problem, 1, 1)
    monkeypatch.setitem(registry._FACTORIES, "random", lambda settings: _Plugin(Suggestions([dict(taken), dict(taken)], repeats=True)))
    assert next_suggestions(state, problem, 2, 1).assignments == [taken, taken]
    with pytest.raises(KfpTuneError, match="infeasible"):  # the other checks still hold
        check_suggestions(problem, [{**taken, "x": 7.0}], False, 1, set(), repeats=True)


def test_labels_must_be_one_mapping_of_strings_per_suggestion(local_store, monkeypatch):
    state, problem = _state_with_one_trial(local_store)
    point = {"x": 0.25, "y": 0.75}
    for labels, words in (([], "labels for 0 suggestions"), ([{"g": 0}], "mapping of strings")):
        monkeypatch.setitem(registry._FACTORIES, "random", lambda settings, labels=labels: _Plugin(Suggestions([point], labels=labels)))
        with pytest.raises(KfpTuneError, match=words):
            next_suggestions(state, problem, 1, 1)


def test_pending_assignments_are_plain_dicts_to_every_other_algorithm(local_store):
    state, problem = _state_with_one_trial(local_store)
    _, pending = history_of(state, problem.space)
    result = registry.create("random", problem.settings).suggest(problem, [], pending, 2, np.random.default_rng(0))
    assert pending == [problem.space.parse(state.trials[0].assignment)]
    assert len(result.assignments) == 2 and problem.space.key(pending[0]) not in {problem.space.key(a) for a in result.assignments}
