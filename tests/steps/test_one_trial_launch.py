"""launch-trial in one-trial mode (a ``dsl.ParallelFor`` over suggest's output, wired by hand):
it records the trial's result itself, keeps to parallelTrialCount, and refuses a bad
launcher_config in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import quadratic_experiment
from kfp_tune import steps
from kfp_tune.core.claims import this_process
from kfp_tune.core.errors import InputError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialEnded, TrialStarted, utc_now
from kfp_tune.core.state import ExperimentView, load_state
from kfp_tune.core.vocabulary import DEBUG_VARIABLE, LaunchPhase, TrialStatus
from kfp_tune.steps.entrypoints import best_trial_step, decide_stop_step, launch_trial_step
from kfp_tune.steps.launch_trial import wait_for_place

LOCAL = json.dumps({"kind": "local"})


def _suggested(store, n=3, **overrides):
    """An experiment (parallelTrialCount 2) with ``n`` trials suggested in one round of run-1."""
    experiment = load_experiment(quadratic_experiment(**{"spec.maxTrialCount": n, **overrides}))
    records = ExperimentRecords(store, experiment.name)
    return records, steps.suggest(records, "run-1-r0", 1, experiment, run_id="run-1", n=n)


def _start_elsewhere(records, name):
    """The ``started`` record another launch-trial, alive, wrote for ``name``."""
    started = TrialStarted(trial=name, time=utc_now(), at=time.time(), run="run-1", attempt="elsewhere", owner=this_process())
    ExperimentView(records).record_trial(name, started)


def test_a_one_trial_launch_records_the_result_so_decide_stop_and_best_trial_see_it(local_store, tmp_path):
    """suggest -> ParallelFor[launch-trial] -> decide-stop -> best-trial, with no collect-metrics:
    every trial is Succeeded with its metrics, the experiment ends, and best-trial has a result
    (before, each trial stayed Running, and best-trial failed "3 Running" run after run)."""
    records, names = _suggested(local_store)
    for name in names:
        assert launch_trial_step(local_store.uri, "quad", name, LOCAL, "run-1") == "Succeeded"
    state = load_state(records)
    assert [state.trial(n).status for n in names] == [TrialStatus.SUCCEEDED] * 3
    assert all("loss" in state.trial(n).metrics for n in names)
    assert steps.collect_metrics(records, names[0], run_id="run-1") == state.trial(names[0]).result  # a collect-metrics after it: the same result
    assert decide_stop_step(local_store.uri, "quad", "run-1", 0, 1) is False
    assert load_state(records).trial(names[0]).status == TrialStatus.SUCCEEDED
    _, _, best, _ = best_trial_step(local_store.uri, "quad", "run-1", str(tmp_path / "model"))
    assert best in names


def test_a_one_trial_launch_waits_while_parallel_trial_count_trials_hold_the_places(local_store):
    """At parallelTrialCount 2, with two trials running, the third waits until one ends."""
    records, (first, second, third) = _suggested(local_store)
    _start_elsewhere(records, first)
    _start_elsewhere(records, second)
    polls = []

    def first_ends(seconds):
        polls.append(seconds)
        ExperimentView(records).record_trial(first, TrialEnded.now(first, LaunchPhase.SUCCEEDED))

    wait_for_place(ExperimentView(records), third, "run-1", sleep=first_ends)
    assert len(polls) == 1


def test_iterations_started_at_once_count_the_trials_before_them(local_store):
    """A ParallelFor without parallelism= starts every iteration at once: with one trial
    running, the second trial of the round takes the last place and the third waits for it,
    though neither has started yet (places are taken with the store's create)."""
    records, (first, second, third) = _suggested(local_store)
    _start_elsewhere(records, first)

    def never(seconds):
        raise AssertionError("waited")

    wait_for_place(ExperimentView(records), second, "run-1", sleep=never)
    with pytest.raises(AssertionError, match="waited"):
        wait_for_place(ExperimentView(records), third, "run-1", sleep=never)


def test_a_retry_of_a_started_trial_never_waits_for_itself(local_store):
    records, (first, second, _third) = _suggested(local_store)
    _start_elsewhere(records, first)
    _start_elsewhere(records, second)

    def never(seconds):
        raise AssertionError("waited")

    wait_for_place(ExperimentView(records), second, "run-1", sleep=never)


class _Waited(Exception):
    pass


def test_the_launch_trial_step_starts_no_trial_past_parallel_trial_count(local_store, monkeypatch):
    """The step itself waits (its first pause stops the test): the third trial is not started."""
    records, (first, second, third) = _suggested(local_store)
    _start_elsewhere(records, first)
    _start_elsewhere(records, second)

    def stop(seconds):
        raise _Waited

    monkeypatch.setattr(time, "sleep", stop)
    with pytest.raises(_Waited):
        launch_trial_step(local_store.uri, "quad", third, LOCAL, "run-1")
    assert load_state(records).trial(third).started is None


def test_a_bad_launcher_config_is_refused_as_the_user_s_input_naming_the_field(local_store):
    """An InputError, which the step's hook prints in one line (a plain ValueError printed its
    traceback), and no trial started."""
    records, (first, *_rest) = _suggested(local_store)
    with pytest.raises(InputError, match=r"launcher_config timeoutSeconds: expected a number of seconds.*got 'abc'"):
        launch_trial_step(local_store.uri, "quad", first, json.dumps({"kind": "local", "timeoutSeconds": "abc"}), "run-1")
    assert load_state(records).trial(first).started is None


def test_a_bad_launcher_config_ends_the_slots_step_in_one_line_with_no_traceback(local_store, tmp_path):
    """The QA's runE4: the slots step, as its KFP process ends, prints the field and what was
    expected, not Python's traceback of a ValueError."""
    experiment = load_experiment(quadratic_experiment())
    records = ExperimentRecords(local_store, experiment.name)
    steps.suggest(records, "run-1-r0", 1, experiment, run_id="run-1", n=0)
    bad = json.dumps({"kind": "local", "timeoutSeconds": "abc"})
    script = (
        "from kfp_tune.steps.entrypoints import launch_trials_step; "
        f"launch_trials_step({local_store.uri!r}, 'quad', {bad!r}, 'run-1', 0, 1)"
    )
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env={**os.environ, DEBUG_VARIABLE: ""})
    assert ended.returncode == 1
    assert "Traceback" not in ended.stderr
    assert ended.stderr.strip().splitlines()[-1].startswith("kfp_tune.core.errors.InputError: launcher_config timeoutSeconds: expected a number of seconds")
