"""The exit handler (decide-stop with ``final=True``) of one's own pipeline wired with another
``fresh_experiment`` than its suggest's ended quietly, "experiment Created (ExperimentNotCreated:
the run ended before the experiment was created)", though the run made its experiment: the
run's status was never written, its claim never given back, and nothing said why (session 36,
left over from 1269588). It now fails as the run's other steps do, naming the experiment the
store holds and the value to give, and closes the run on the experiment it did make (its status
written, its claim given back), so the next run, wired right, is not refused (review A of session
37, finding 4); where that fails it says what the next run must do. A run that made no experiment
under either name still ends quietly: the step that failed first says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps as steps_package
from kfp_tune.core import claims
from kfp_tune.core.errors import ExperimentNotFound, StoreError
from kfp_tune.core.naming import per_run_experiment_name
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps.entrypoints import decide_stop_step, suggest_step

SPEC = json.dumps(quadratic_experiment(**{"spec.maxTrialCount": 2}))


def test_an_exit_handler_without_the_fresh_experiment_its_suggest_had_says_so(local_store, tmp_path: Path):
    suggest_step(local_store.uri, "fresh", "r8", 0, 1, experiment_spec=SPEC, trial_count=0, fresh_experiment=True)
    with pytest.raises(ExperimentNotFound) as missing:
        decide_stop_step(local_store.uri, "fresh", "r8", 0, 1, markdown_path=str(tmp_path / "t.md"), final=True)
    said = str(missing.value)
    assert said.startswith(f"no experiment 'fresh' in {local_store.uri}"), said
    fresh = per_run_experiment_name("fresh", "r8")
    assert said.endswith(f"this run's fresh experiment {fresh!r} is in the store: give this step fresh_experiment=True, as its suggest had"), said
    assert said.count("fresh_experiment=") == 1, said
    assert f"this exit handler closed run 'r8' of experiment {fresh!r} in its place (its status written, its claim given back)" in said, said
    made = ExperimentRecords(local_store, fresh)
    closed = claims.latest_claim(made)
    assert closed is not None and closed.run == "r8" and closed.ended and closed.reason == "RunEnded", "the run's real experiment's claim is given back"
    status = json.loads(local_store.get(made.status_key()))
    assert status["status"]["conditions"][-1]["reason"] == "ExperimentRunStepFailed", status["status"]["conditions"][-1]


def test_an_exit_handler_given_fresh_experiment_its_suggest_had_not_says_so(local_store):
    suggest_step(local_store.uri, "plain", "r8", 0, 1, experiment_spec=SPEC, trial_count=0)
    with pytest.raises(ExperimentNotFound) as missing:
        decide_stop_step(local_store.uri, "plain", "r8", 0, 1, fresh_experiment=True, final=True)
    said = str(missing.value)
    assert said.startswith(f"no experiment {per_run_experiment_name('plain', 'r8')!r} in {local_store.uri}"), said
    assert said.endswith("experiment 'plain' is in the store, not this run's fresh one: give this step fresh_experiment=False, as its suggest had"), said
    # the pipeline wired right runs next: not refused by this run's claim (review A of session 37, finding 4)
    suggest_step(local_store.uri, "plain", "r9", 0, 1, experiment_spec=SPEC, trial_count=0)
    assert claims.latest_claim(ExperimentRecords(local_store, "plain")).run == "r9"  # type: ignore[union-attr]


def test_an_exit_handler_that_cannot_close_the_runs_experiment_says_what_the_next_run_must_do(local_store, monkeypatch):
    suggest_step(local_store.uri, "plain", "r8", 0, 1, experiment_spec=SPEC, trial_count=0)
    real = steps_package.close_run

    def refused(records, *args, **kwargs):
        if records.experiment == "plain":
            raise StoreError("the store refused the write (403)")
        return real(records, *args, **kwargs)

    monkeypatch.setattr(steps_package, "close_run", refused)
    with pytest.raises(ExperimentNotFound) as missing:
        decide_stop_step(local_store.uri, "plain", "r8", 0, 1, fresh_experiment=True, final=True)
    said = str(missing.value)
    assert "could not close run 'r8' of experiment 'plain' in its place (the store refused the write (403))" in said, said
    assert "the next run of it is refused until run 'r8' has shown no sign of life for 60 s" in said and "take_over=True" in said, said
    assert said.endswith("give this step fresh_experiment=False, as its suggest had"), said


def test_an_exit_handler_of_a_run_that_made_no_experiment_still_ends_quietly(local_store, tmp_path: Path):
    table = tmp_path / "t.md"
    assert decide_stop_step(local_store.uri, "fresh", "r8", 0, 1, markdown_path=str(table), final=True) is False
    assert "the run ended before it was created" in table.read_text()
