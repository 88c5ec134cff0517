"""A refused call gives back only a claim it took itself (steps.prepare): two calls of one pipeline
run on one experiment (two dsl.ParallelFor iterations, one run id) share the run's claim, and the
second's refusal (its spec differs) ended the claim the first held, whose steps then failed with
"run ... has already ended" (QA pipeline, session 36, finding 2)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from conftest import quadratic_experiment
from kfp_tune.components import suggest
from kfp_tune.core import claims
from kfp_tune.core.errors import ExperimentConflict
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps.prepare import prepare
from kfp_tune.stores import LocalStore


def _spec(extra_arg: str = "") -> str:
    doc = copy.deepcopy(quadratic_experiment(**{"spec.maxTrialCount": 4}))
    if extra_arg:
        doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0].setdefault("args", []).append(extra_arg)
    return json.dumps(doc)


def test_a_second_call_of_the_run_refused_leaves_the_first_calls_claim(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    common = dict(store_uri=store, experiment_name="quad", run_id="run-1", round_index=0, rounds_total=1, trial_count=0)
    assert suggest.python_func(experiment_spec=_spec(), **common) == []  # iteration 0: claims and prepares
    with pytest.raises(ExperimentConflict, match="already exists with another spec"):
        suggest.python_func(experiment_spec=_spec("off=5"), **common)  # iteration 1: another spec
    records = ExperimentRecords(LocalStore(store), "quad")
    current = claims.latest_claim(records)
    assert current is not None and (current.seq, current.run, current.ended) == (1, "run-1", False), "iteration 0's claim goes on"
    assert not records.store.list(records.runs_prefix() + "000001.end")
    assert claims.check(records, "run-1").run == "run-1", "iteration 0's next step goes on"


def test_a_call_refused_after_taking_the_claim_gives_it_back(tmp_path: Path) -> None:
    """The claim it took itself: the next run need not wait for its TTL."""
    records = ExperimentRecords(LocalStore(tmp_path), "quad")
    prepare(records, load_experiment(json.loads(_spec())), "run-1")
    claims.release(records, "run-1", "Succeeded")
    with pytest.raises(ExperimentConflict):
        prepare(records, load_experiment(json.loads(_spec("off=5"))), "run-2")
    current = claims.latest_claim(records)
    assert current is not None and (current.seq, current.run, current.ended, current.reason) == (2, "run-2", True, "refused")
    claims.refuse_if_busy(records)
