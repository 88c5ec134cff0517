"""Calls of a tuning step inside a user's pipeline, task by task as KFP runs them (each
component's ``python_func``): each call is a run of its own, a second call of one pipeline run
on the same experiment is refused before it stages anything, and its exit handler leaves the
first call alone; a later run with other data, or a name Katib refuses, stores nothing."""

# No `from __future__ import annotations`: KFP reads the annotations of what it calls here.
import json
from pathlib import Path
from typing import Any

import pytest
from kfp import dsl

from conftest import quadratic_experiment
from kfp_tune.components import best_trial, decide_stop, launch_trial, stage_inputs, suggest
from kfp_tune.core import claims
from kfp_tune.core.errors import ExperimentConflict, InputError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.stores import LocalStore


def dataset(tmp_path: Path, name: str, target: float) -> Any:
    path = tmp_path / name / "data"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"target": target}))
    return dsl.Dataset(name="dataset", uri=str(path))


def reports(tmp_path: Path, tag: str) -> dict[str, Any]:
    (tmp_path / tag).mkdir(exist_ok=True)
    return {"trials_table": dsl.Markdown(uri=str(tmp_path / tag / "t.md")), "report": dsl.HTML(uri=str(tmp_path / tag / "r.html"))}


def test_a_second_call_of_one_run_is_refused_before_it_stages_and_its_exit_handler_leaves_the_first_alone(tmp_path):
    """QA conc.py: two calls of one run at once (KFP runs two branches in parallel) shared the
    claim: B's suggest reused A's claim, B's exit handler released it while A ran (A failed
    'has already ended', a trial stayed Running), and B's data overwrote A's."""
    store = str(tmp_path / "store")
    spec = json.dumps(load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 2})).to_dict())
    handles = dict(store_uri=store, experiment_name="quad")
    a = stage_inputs.python_func(**handles, run_id="job-1", call_id="11", dataset=dataset(tmp_path, "a", 1.0))
    assert (a.run_id, a.files) == ("job-1.call-11", 1)
    assert suggest.python_func(**handles, run_id=a.run_id, round_index=0, rounds_total=1, experiment_spec=spec, trial_count=0) == []

    with pytest.raises(ExperimentConflict, match=r"experiment 'quad' is already tuned by another call in this pipeline run \('job-1', call '11'; this is call '22'\)"):
        stage_inputs.python_func(**handles, run_id="job-1", call_id="22", dataset=dataset(tmp_path, "b", -3.0))
    staged = sorted(p.read_text() for p in (tmp_path / "store" / "artifacts" / "quad" / "inputs").glob("sha256-*/dataset/data"))
    assert staged == [json.dumps({"target": 1.0})]  # B's data is nowhere in the store
    b_run = claims.call_run_id("job-1", "22")
    assert decide_stop.python_func(**handles, run_id=b_run, round_index=1, rounds_total=1, final=True, **reports(tmp_path, "b")) is True
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    current = claims.latest_claim(records)
    assert current is not None and current.run == a.run_id and not current.ended  # B's exit handler left A's claim alone
    assert records.store.get(records.status_key()) is None  # and wrote no status beside A's

    phase = launch_trial.python_func(**handles, launcher_config='{"kind": "local"}', run_id=a.run_id, checkpoint_index=0, checkpoints_total=1)
    assert phase == "Succeeded"
    assert decide_stop.python_func(**handles, run_id=a.run_id, round_index=1, rounds_total=1, final=True, **reports(tmp_path, "a")) is False
    model = dsl.Model(uri=str(tmp_path / "model"))
    best = best_trial.python_func(**handles, run_id=a.run_id, best_model=model)
    assert best.best_trial.startswith("quad-") and model.metadata["inputs"]["dataset"]["uri"].endswith("/a/data")


def test_a_later_run_with_other_data_or_a_bad_name_is_refused_before_anything_is_stored(tmp_path):
    """QA pipe1.py (TARGET=4.0): the second run handed on the old best without a trial; QA
    runcase2.py (experiment_name=Bad_Name): stage-inputs stored the dataset under a name no
    experiment can have, and nothing could delete it."""
    store = str(tmp_path / "store")
    spec = json.dumps(load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})).to_dict())
    handles = dict(store_uri=store, experiment_name="quad")
    first = stage_inputs.python_func(**handles, run_id="job-1", call_id="11", dataset=dataset(tmp_path, "monday", 1.5))
    suggest.python_func(**handles, run_id=first.run_id, round_index=0, rounds_total=1, experiment_spec=spec, trial_count=0)
    launch_trial.python_func(**handles, launcher_config='{"kind": "local"}', run_id=first.run_id, checkpoint_index=0, checkpoints_total=1)
    decide_stop.python_func(**handles, run_id=first.run_id, round_index=1, rounds_total=1, final=True, **reports(tmp_path, "first"))

    before = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "store").rglob("*"))
    with pytest.raises(ExperimentConflict, match=r"experiment 'quad' was tuned on other inputs: its 1 trial\(s\) read 'dataset' .*/monday/data\), and this run brings"):
        stage_inputs.python_func(**handles, run_id="job-2", call_id="33", dataset=dataset(tmp_path, "tuesday", 4.0))
    after = [p for p in sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "store").rglob("*")) if "/runs/calls/" not in p]
    assert after == [p for p in before if "/runs/calls/" not in p]
    again = stage_inputs.python_func(**handles, run_id="job-3", call_id="44", dataset=dataset(tmp_path, "monday-again", 1.5))
    assert again.files == 1  # the same data resumes, stored once

    with pytest.raises(InputError, match=r"experiment_name: expected lower case letters, digits or '-'.*got 'Bad_Name'"):
        stage_inputs.python_func(store_uri=store, experiment_name="Bad_Name", run_id="job-4", call_id="55", dataset=dataset(tmp_path, "bad", 0.0))
    assert not (tmp_path / "store" / "artifacts" / "Bad_Name").exists() and not (tmp_path / "store" / "experiments" / "Bad_Name").exists()
