"""suggest given round / count inputs that cannot be meant (QA pipeline, session 36, finding 7):
``rounds_total=0`` and ``round_index`` past ``rounds_total`` ran a round ("round 4 of 2"),
``trial_count=-5`` was taken as -1, an empty ``run_id`` created the experiment and a claim by run
'' before failing on "unsafe name for a store key: '-r000'", and an ``experiment_spec`` given as
a dict (a ``python_func`` caller's) failed with json's TypeError. Each is now refused naming the
input and what it expects, before anything is stored."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune.components import suggest
from kfp_tune.core.errors import InputError
from kfp_tune.steps.entrypoints import suggest_step

SPEC = json.dumps(quadratic_experiment())


@pytest.mark.parametrize(
    ("inputs", "said"),
    [
        ({"rounds_total": 0}, "rounds_total: expected the rounds compiled into the run, 1 or more, got 0"),
        ({"round_index": 2, "rounds_total": 2}, "round_index: expected a round of the run's rounds_total (2): 0 to 1, got 2"),
        ({"round_index": 3, "rounds_total": 2}, "round_index: expected a round of the run's rounds_total (2): 0 to 1, got 3"),
        ({"trial_count": -5}, "trial_count: expected -1 (the round's share of the budget left), 0 (only claim and prepare the run) or a number of trials, got -5"),
        ({"run_id": ""}, "run_id: required: the pipeline run (dsl.PIPELINE_JOB_ID_PLACEHOLDER)"),
    ],
    ids=["rounds_total-0", "round_index-at-total", "round_index-past-total", "trial_count-5", "run_id-empty"],
)
def test_an_input_that_cannot_be_meant_is_refused_before_anything_is_stored(local_store, inputs, said):
    given: dict[str, Any] = {"run_id": "run-1", "round_index": 0, "rounds_total": 1, "trial_count": -1, **inputs}
    with pytest.raises(InputError) as refused:
        suggest_step(local_store.uri, "quad", given["run_id"], given["round_index"], given["rounds_total"], experiment_spec=SPEC, trial_count=given["trial_count"])
    assert str(refused.value).startswith(said), str(refused.value)
    assert not (local_store.root / "experiments").exists()


def test_an_experiment_spec_given_as_a_dict_says_to_pass_its_json(local_store):
    with pytest.raises(InputError) as refused:
        suggest.python_func(store_uri=local_store.uri, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=1,
                            experiment_spec=copy.deepcopy(quadratic_experiment()))
    assert str(refused.value).startswith("experiment_spec: expected the experiment as JSON text (a str), got a dict: pass json.dumps("), str(refused.value)
    assert not (local_store.root / "experiments").exists()


def test_the_last_round_and_an_explicit_count_still_run(local_store):
    """The bounds are the inputs' own: round_index rounds_total - 1, trial_count -1 and 1 are taken."""
    first = suggest_step(local_store.uri, "quad", "run-1", 0, 2, experiment_spec=SPEC, trial_count=1)
    last = suggest_step(local_store.uri, "quad", "run-1", 1, 2, trial_count=-1)
    assert len(first) == 1 and len(last) == 5  # maxTrialCount 6: the rest in the last round
