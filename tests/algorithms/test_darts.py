"""darts gives its one trial the three values Katib's DARTS service gives, byte for byte.

The expected strings are written out by hand from Katib's ``pkg/suggestion/v1beta1/nas/darts/
service.py``: ``get_algorithm_settings`` starts from its defaults dict (numbers) and puts each
given setting's string in place ("None" as None), ``get_search_space`` makes
``<operationType>_<size>x<size>`` per value of an operation's first parameter (and
``skip_connection`` as it is), both go through ``json.dumps`` and then every ``"`` becomes ``'``;
``num-layers`` is ``str(numLayers)``. Katib's trial (darts-cnn-cifar10/run_trial.py) turns the
``'`` back and reads JSON, which the tests do too."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from conftest import load_katib_example, merge
from kfp_tune import load_experiment
from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.darts import settings_value
from kfp_tune.algorithms.testing import GivenBackContract
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.space import SearchSpace
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus
from kfp_tune.steps.designer import problem_of

DARTS_CPU_SETTINGS = (
    "{'num_epochs': '1', 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, "
    "'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, "
    "'init_channels': '1', 'print_step': 50, 'num_nodes': '1', 'stem_multiplier': '1'}"
)
"""What Katib sends for darts-cpu.yaml (num_epochs, num_nodes, init_channels, stem_multiplier "1")."""

KATIB_DEFAULTS = (
    "{'num_epochs': 50, 'w_lr': 0.025, 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, "
    "'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': 128, 'num_workers': 4, "
    "'init_channels': 16, 'print_step': 50, 'num_nodes': 4, 'stem_multiplier': 3}"
)


def _filter_sizes(operation: str, *sizes: str, kind: str = "categorical") -> dict[str, Any]:
    return {
        "operationType": operation,
        "parameters": [
            {"name": "filter_size", "parameterType": kind, "feasibleSpace": {"list": list(sizes)}},
            # Katib reads only the first parameter: a second one changes nothing
            {"name": "ignored", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}},
        ],
    }


RICH_NAS = {
    "graphConfig": {"numLayers": 8},
    "operations": [
        _filter_sizes("separable_convolution", "3", "5"),
        _filter_sizes("dilated_convolution", "5", "3"),
        {"operationType": "skip_connection"},
        _filter_sizes("avg_pooling", "3"),
        _filter_sizes("convolution", "1", "7", kind="discrete"),
        {"operationType": "max_pooling", "parameters": [{"name": "filter_size", "parameterType": "categorical", "feasibleSpace": {"list": ["3"]}}]},
    ],
}


def _suggest(doc: dict[str, Any], n: int = 1, history: list[FinishedTrial] | None = None, pending: list[dict[str, Any]] | None = None) -> Suggestions:
    problem = problem_of(load_experiment(doc), "uid1")
    algorithm = registry.create("darts", problem.settings)
    return algorithm.suggest(problem, history or [], pending or [], n, np.random.default_rng(0))


def test_the_darts_cpu_example_gets_katibs_three_strings():
    result = _suggest(load_katib_example("nas_darts-cpu.yaml"))
    assert result.assignments == [{"algorithm-settings": DARTS_CPU_SETTINGS, "search-space": "['max_pooling_3x3']", "num-layers": "1"}]
    assert result.exhausted  # the one search, and nothing after it


def test_a_richer_nas_config_and_settings_in_katibs_order_and_form():
    """Primitives in nasConfig order, each filter size in its list's order (a discrete list too),
    skip_connection as it is; settings in Katib's order whatever the spec's, a given one as its
    string, "None" as null."""
    doc = merge(
        load_katib_example("nas_darts-gpu.yaml"),
        {
            "spec.nasConfig": RICH_NAS,
            "spec.algorithm.algorithmSettings": [
                {"name": "num_workers", "value": "0"},
                {"name": "batch_size", "value": "None"},
                {"name": "w_lr", "value": "0.01"},
            ],
        },
    )
    [assignment] = _suggest(doc).assignments
    assert assignment["search-space"] == (
        "['separable_convolution_3x3', 'separable_convolution_5x5', 'dilated_convolution_5x5', 'dilated_convolution_3x3', "
        "'skip_connection', 'avg_pooling_3x3', 'convolution_1x1', 'convolution_7x7', 'max_pooling_3x3']"
    )
    assert assignment["algorithm-settings"] == (
        "{'num_epochs': 50, 'w_lr': '0.01', 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, "
        "'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': null, 'num_workers': '0', "
        "'init_channels': 16, 'print_step': 50, 'num_nodes': 4, 'stem_multiplier': 3}"
    )
    assert assignment["num-layers"] == "8"
    # what Katib's trial does with them
    settings = json.loads(str(assignment["algorithm-settings"]).replace("'", '"'))
    assert (float(settings["w_lr"]), int(settings["num_workers"]), settings["batch_size"]) == (0.01, 0, None)
    assert json.loads(str(assignment["search-space"]).replace("'", '"'))[4] == "skip_connection"


def test_no_settings_give_katibs_defaults():
    doc = merge(load_katib_example("nas_darts-gpu.yaml"), {"spec.algorithm.algorithmSettings": []})
    assert _suggest(doc).assignments[0]["algorithm-settings"] == KATIB_DEFAULTS


def test_the_spec_text_of_each_setting_goes_as_katib_sends_it():
    """Given the spec's (name, text) pairs, every one is its text, even one equal to a default or
    written another way ("1e-2"), and "None" is null."""
    value = settings_value([("w_lr", "1e-2"), ("num_epochs", "50"), ("batch_size", "None")])
    assert value == (
        "{'num_epochs': '50', 'w_lr': '1e-2', 'w_lr_min': 0.001, 'w_momentum': 0.9, 'w_weight_decay': 0.0003, "
        "'w_grad_clip': 5.0, 'alpha_lr': 0.0003, 'alpha_weight_decay': 0.001, 'batch_size': null, 'num_workers': 4, "
        "'init_channels': 16, 'print_step': 50, 'num_nodes': 4, 'stem_multiplier': 3}"
    )
    assert settings_value([]) == KATIB_DEFAULTS


def test_one_trial_whatever_the_budget_then_exhausted():
    """Katib would hand the same values to every trial asked for; kfp-tune never repeats a
    point, so darts gives one and says it has no more: asked for 3, a pending trial, or a
    finished one (failed or not)."""
    doc = merge(load_katib_example("nas_darts-cpu.yaml"), {"spec.maxTrialCount": 5, "spec.parallelTrialCount": 3})
    first = _suggest(doc, n=3)
    assert len(first.assignments) == 1 and first.exhausted
    point = first.assignments[0]
    assert _suggest(doc, n=2, pending=[point]) == Suggestions([], exhausted=True)
    for status in (TrialStatus.FAILED, TrialStatus.SUCCEEDED):
        assert _suggest(doc, n=1, history=[FinishedTrial("t0", point, status)]) == Suggestions([], exhausted=True)
    assert _suggest(doc, n=0) == Suggestions([])


def test_a_search_given_back_is_given_again():
    """A trial given back (its run interrupted, or the trial never created) searched nothing:
    darts gives the same trial again (Katib's service gives the same values to every request,
    nas/darts/service.py GetSuggestions), marked as a repeat; after that one ends (not given back),
    it is exhausted."""
    doc = load_katib_example("nas_darts-cpu.yaml")
    point = _suggest(doc).assignments[0]
    killed = FinishedTrial("t0", point, TrialStatus.KILLED, given_back=True)
    assert _suggest(doc, history=[killed]) == Suggestions([point], exhausted=True, repeats=True)
    assert _suggest(doc, history=[killed], pending=[point]) == Suggestions([], exhausted=True)
    done = FinishedTrial("t1", point, TrialStatus.SUCCEEDED)
    assert _suggest(doc, history=[killed, done]) == Suggestions([], exhausted=True)


class TestDartsGivesBackTrialsAsTheContractSays(GivenBackContract):
    """The contract on trials given back: darts-cpu's one search, whatever the size asked for."""

    algorithm_name = "darts"

    def given_back_problem(self, finite: bool) -> Problem:
        return problem_of(load_experiment(load_katib_example("nas_darts-cpu.yaml")), "uid1")


def test_a_problem_without_a_nas_config_is_refused():
    problem = Problem(space=SearchSpace(()), objective_type=ObjectiveType.MAXIMIZE, objective_metric="Best-Genotype")
    with pytest.raises(KfpTuneError, match="nasConfig"):
        registry.create("darts", {}).suggest(problem, [], [], 1, np.random.default_rng(0))
