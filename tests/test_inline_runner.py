"""The inline runner (``kfp_tune.tune``, ``kfp-tune run --engine inline``) while a run goes on:
a budget edited under it, a spec damaged under it, a store that fails its claim's release."""

from __future__ import annotations

import json
import warnings

import pytest

import kfp_tune.inline_runner as inline_runner
from kfp_tune import Client, search, tune
from kfp_tune.core import claims
from kfp_tune.core.errors import RunInterrupted, StoreError
from kfp_tune.core.records import DamagedRecord, ExperimentRecords
from kfp_tune.stores import LocalStore

POINTS = {"x": search.discrete([1, 2, 3, 4, 5, 6, 7, 8])}


def _grid_run(store: str, name: str, objective, max_trial_count: int = 6):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tune(objective, POINTS, algorithm="grid", max_trial_count=max_trial_count, store=store, name=name)


def test_a_budget_lowered_while_the_run_goes_on_ends_it_at_the_new_count(tmp_path):
    """Katib's controller reads maxTrialCount on every reconcile: lowered from 6 to 3 from inside
    the second trial (one at a time), the run makes its third and stops there, as each trial's
    end reads the stored budget again (a run that read it only after its slots ended made all 6)."""
    store = str(tmp_path / "store")
    calls: list[int] = []

    def objective(params):
        calls.append(params["x"])
        if len(calls) == 2:
            Client(store).edit_experiment_budget("lower", max_trial_count=3)
        return float(params["x"])

    result = _grid_run(store, "lower", objective)
    assert (result.status, result.reason, len(result.trials), len(calls)) == ("Succeeded", "ExperimentMaxTrialsReached", 3, 3)
    assert Client(store).get_experiment("lower").spec.max_trial_count == 3


def test_a_spec_damaged_while_the_run_goes_on_stops_it_naming_the_experiment_record(tmp_path):
    """The budget is read from the stored spec as each trial ends: a spec that no longer parses
    there is a DamagedRecord naming experiment.json, not a NameError from the reader."""
    store = tmp_path / "store"
    records = ExperimentRecords(LocalStore(store), "damaged")

    def objective(params):
        head = records.read(records.experiment_key(), "Experiment")
        document = json.loads(json.dumps(head["spec"]))
        document["spec"]["maxTrialCount"] = "many"
        records.write(records.experiment_key(), "Experiment", {**{k: v for k, v in head.items() if k not in ("kind", "version")}, "spec": document})
        return float(params["x"])

    with pytest.raises(DamagedRecord, match=r"record experiments/damaged/experiment\.json is damaged: its spec cannot be read") as raised:
        _grid_run(str(store), "damaged", objective)
    assert raised.value.key == records.experiment_key()


def test_an_interrupted_run_whose_claim_cannot_be_released_says_so(tmp_path, monkeypatch):
    """The trials were stopped and recorded Killed, but the store refused the claim's release:
    the interrupt still reaches the caller, saying what the store left unrecorded (the CLI
    prints it), so the user knows the next run will find a claim that looks held."""
    class ReleaseRefused:
        """The claims module as the inline runner sees it, whose release alone fails (the
        slots record the interrupt through the real one)."""

        def release(self, records: ExperimentRecords, run_id: str, reason: str) -> None:
            raise StoreError("the bucket is gone")

        def __getattr__(self, name: str):
            return getattr(claims, name)

    monkeypatch.setattr(inline_runner, "claims", ReleaseRefused())

    def objective(params):
        raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as raised:
        _grid_run(str(tmp_path / "store"), "stopped", objective)
    assert raised.value.unrecorded == "the store could not record the claim's release (the bucket is gone)"
