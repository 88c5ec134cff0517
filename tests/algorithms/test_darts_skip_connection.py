"""A darts ``skip_connection`` given parameters is still the one primitive ``skip_connection``.

Katib's ``get_search_space`` (pkg/suggestion/v1beta1/nas/darts/service.py) appends
``skip_connection`` as it is and never reads its parameters; Katib's own validation
(nas/common/validation.py, validate_operations) wants parameters on every operation, so a spec
that runs on Katib gives skip_connection some, often a filter size."""

from __future__ import annotations

import json

import numpy as np

from conftest import load_katib_example
from kfp_tune import load_experiment
from kfp_tune.algorithms import registry
from kfp_tune.algorithms.darts import primitives
from kfp_tune.core.catalogue import DARTS_PARAMETERLESS
from kfp_tune.core.portability import katib_notes
from kfp_tune.steps.designer import problem_of

FILTER_SIZE = {"name": "filter_size", "parameterType": "categorical", "feasibleSpace": {"list": ["3"]}}


def test_a_skip_connection_with_a_filter_size_is_one_primitive_without_a_size() -> None:
    nas = {"operations": [{"operationType": "separable_convolution", "parameters": [{**FILTER_SIZE, "feasibleSpace": {"list": ["3", "5"]}}]},
                          {"operationType": DARTS_PARAMETERLESS, "parameters": [FILTER_SIZE]}]}
    assert primitives(nas) == ["separable_convolution_3x3", "separable_convolution_5x5", DARTS_PARAMETERLESS]


def test_katibs_darts_gpu_example_with_skip_connection_parameters_gives_katibs_search_space() -> None:
    """darts-gpu as Katib's validation admits it (its skip_connection with a filter size): the
    trial's search-space ends with skip_connection as it is, and validate has nothing to note."""
    doc = load_katib_example("nas_darts-gpu.yaml")
    operations = doc["spec"]["nasConfig"]["operations"]
    (skip,) = [op for op in operations if op["operationType"] == DARTS_PARAMETERLESS]
    skip["parameters"] = [FILTER_SIZE]
    experiment = load_experiment(doc)
    assert katib_notes(experiment) == []
    problem = problem_of(experiment, "uid1")
    [assignment] = registry.create("darts", problem.settings).suggest(problem, [], [], 1, np.random.default_rng(0)).assignments
    expected = [f"{op['operationType']}_{size}x{size}" for op in operations if op is not skip for size in op["parameters"][0]["feasibleSpace"]["list"]]
    assert json.loads(str(assignment["search-space"]).replace("'", '"')) == [*expected, DARTS_PARAMETERLESS]
