"""A run that claims an experiment says at once that it runs it (steps.prepare.mark_running)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import quadratic_experiment
from kfp_tune.core import claims
from kfp_tune.core.decision import interrupted
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, utc_now
from kfp_tune.core.state import load_state
from kfp_tune.reports import experiment_status
from kfp_tune.steps.decide_stop import write_status
from kfp_tune.steps.prepare import prepare
from kfp_tune.stores import LocalStore


def running_condition(store: LocalStore, name: str) -> dict[str, Any]:
    """The Running condition ``kfp-tune status --json`` prints."""
    status, _ = experiment_status(store, name)
    return next(c for c in status["conditions"] if c["type"] == "Running")


def test_a_resumed_run_replaces_the_interrupted_status_when_it_claims(tmp_path: Path) -> None:
    """The QA's slow4 case: after Ctrl-C the status said ExperimentRunInterrupted, "run the same
    command again to resume", and kept saying it while the resumed run drove the experiment, until
    its first trial ended (a user who followed the advice was refused as busy)."""
    store = LocalStore(tmp_path)
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(store, experiment.name)
    prepare(records, experiment, "run-1")
    state = load_state(records)
    write_status(records, state, interrupted(state, "SIGINT", 2), utc_now())
    claims.release(records, "run-1", claims.INTERRUPTED)
    assert running_condition(store, experiment.name)["reason"] == "ExperimentRunInterrupted"

    prepare(records, experiment)  # a check before a run (kfp-tune run's pre-flight) claims nothing: nothing changes
    assert running_condition(store, experiment.name)["reason"] == "ExperimentRunInterrupted"

    prepare(records, experiment, "run-2")
    condition = running_condition(store, experiment.name)
    assert (condition["status"], condition["reason"], condition["message"]) == ("True", "ExperimentRunning", "Experiment is running")


def test_a_run_of_a_completed_experiment_leaves_its_status(tmp_path: Path) -> None:
    """A completed experiment that a run only reports stays as it ended."""
    from kfp_tune.inline_runner import run_inline
    from kfp_tune.launchers import LocalLauncher

    store = LocalStore(tmp_path)
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1}))
    run_inline(store, experiment, LocalLauncher())
    before = store.get(ExperimentRecords(store, experiment.name).status_key())
    assert before is not None and b'"Succeeded"' in before
    prepare(ExperimentRecords(store, experiment.name), experiment, "run-again")
    assert store.get(ExperimentRecords(store, experiment.name).status_key()) == before


def test_status_json_s_running_condition_keeps_its_times_while_unchanged(tmp_path: Path) -> None:
    """Each write of status.json reads the one before: the Running condition's lastTransitionTime
    stays the experiment's creation, and its lastUpdateTime moves only when its reason changes
    (Katib's setCondition); both moved to every write's time."""
    from kfp_tune.core.decision import decide
    from kfp_tune.core.vocabulary import RecordKind

    store = LocalStore(tmp_path)
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(store, experiment.name)
    prepare(records, experiment, "run-1")
    state = load_state(records)

    def written() -> dict[str, Any]:
        saved = records.read(records.status_key(), RecordKind.EXPERIMENT_STATUS)
        assert saved is not None
        return next(c for c in saved["status"]["conditions"] if c["type"] == "Running")

    write_status(records, state, decide(state, rounds_left=1), "2099-01-01T00:00:01Z")
    assert (written()["lastUpdateTime"], written()["lastTransitionTime"]) == (state.created, state.created)
    write_status(records, state, interrupted(state, "SIGINT", 2), "2099-01-01T00:00:02Z")
    write_status(records, state, interrupted(state, "SIGINT", 2), "2099-01-01T00:00:03Z")
    assert (written()["reason"], written()["lastUpdateTime"], written()["lastTransitionTime"]) == (
        "ExperimentRunInterrupted", "2099-01-01T00:00:02Z", state.created,
    )
