"""A function's trial runs on a thread of this process, so it has no ``KATIB_TRIAL_NAME`` of its
own (Katib's webhook sets it in every trial pod, and Katib objectives read it to name a per-trial
folder): ``kfp_tune.trial_name()`` gives the running trial's name, else ``$KATIB_TRIAL_NAME``,
else a clear error; a function that reads the variable fails with a message naming it."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

import kfp_tune
from kfp_tune import search, tune
from kfp_tune.core.errors import KfpTuneError


def test_each_parallel_function_trial_gets_its_own_name(tmp_path: Any) -> None:
    both_running = threading.Barrier(2, timeout=60)
    names: dict[float, str] = {}

    def objective(params: dict[str, Any]) -> float:
        both_running.wait()  # both trials run at once: a name kept for the process would be one of them
        names[params["x"]] = kfp_tune.trial_name()
        return params["x"]

    result = tune(objective, {"x": search.double(0, 1)}, max_trial_count=2, parallel_trial_count=2, store=str(tmp_path),
                  name="named", algorithm_settings={"random_state": 3})
    assert sorted(names.values()) == sorted(t.name for t in result.trials)
    assert all(names[t.metrics["objective"]] == t.name for t in result.trials), (names, result.trials)


def test_outside_a_function_trial_it_is_katib_trial_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KATIB_TRIAL_NAME", "exp-abc12345")
    assert kfp_tune.trial_name() == "exp-abc12345"
    monkeypatch.delenv("KATIB_TRIAL_NAME")
    with pytest.raises(KfpTuneError) as refused:
        kfp_tune.trial_name()
    message = str(refused.value)
    assert message.startswith("trial_name: no trial's name here: this thread runs no function trial") and "$KATIB_TRIAL_NAME" in message
    assert "runs in no trial" not in message


def test_outside_any_trial_it_says_how_a_component_trial_gets_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """A KFP component trial has no KATIB_TRIAL_NAME: its name comes with its kfp_tune_trial input."""
    monkeypatch.delenv("KATIB_TRIAL_NAME", raising=False)
    with pytest.raises(KfpTuneError) as refused:
        kfp_tune.trial_name()
    assert str(refused.value).endswith("in a KFP component trial (kfp_tune.component_trials) it is "
                                       "kfp_tune.TrialReporter(kfp_tune_trial).place.trial, from the component's kfp_tune_trial input")
    place = kfp_tune.TrialReporter('{"store": "s3://b/p", "s3_endpoint": "", "experiment": "e", "trial": "e-abc12345"}').place
    assert place is not None and place.trial == "e-abc12345", "the spelling the refusal gives works"


def test_a_thread_with_no_trial_names_katib_trial_name_not_kfp_tunes_variables(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KATIB_TRIAL_NAME", "from-env")
    failures: list[str] = []

    def objective(params: dict[str, Any]) -> float:
        def work() -> None:
            try:
                kfp_tune.trial_name()
            except KfpTuneError as exc:
                failures.append(str(exc))

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return 0.5

    tune(objective, {"x": search.double(0, 1)}, max_trial_count=1, parallel_trial_count=1, store=str(tmp_path), name="from-env")
    (failure,) = failures
    assert "$KATIB_TRIAL_NAME is not read then" in failure and "KFP_TUNE_" not in failure, failure


def test_a_thread_the_trial_starts_is_refused_with_the_way_out(tmp_path: Any) -> None:
    failures: list[str] = []

    def objective(params: dict[str, Any]) -> float:
        def work() -> None:
            try:
                kfp_tune.trial_name()
            except KfpTuneError as exc:
                failures.append(str(exc))

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return 0.5

    tune(objective, {"x": search.double(0, 1)}, max_trial_count=1, parallel_trial_count=1, store=str(tmp_path), name="threaded")
    assert len(failures) == 1 and "contextvars.copy_context().run" in failures[0], failures


def test_a_function_reading_katib_trial_name_fails_naming_trial_name(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KATIB_TRIAL_NAME", raising=False)

    def katib_objective(params: dict[str, Any]) -> float:
        os.makedirs(os.path.join(str(tmp_path), os.environ["KATIB_TRIAL_NAME"]))
        return 0.5

    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"):
        result = tune(katib_objective, {"x": search.double(0, 1)}, max_trial_count=1, parallel_trial_count=1, store=str(tmp_path / "s"),
                      name="env")
    (trial,) = result.trials
    assert trial.status == "Failed"
    assert trial.message.endswith("KeyError: 'KATIB_TRIAL_NAME'; a function trial run in this process has no KATIB_TRIAL_NAME "
                                  "(its trials share one environment): kfp_tune.trial_name() gives its trial's name; with a host each trial "
                                  "is a container that has it"), trial.message


def test_another_key_error_is_as_it_was(tmp_path: Any) -> None:
    with pytest.warns(UserWarning, match="none of the 1 trials succeeded"):
        result = tune(lambda p: {}["lr"], {"x": search.double(0, 1)}, max_trial_count=1, parallel_trial_count=1, store=str(tmp_path), name="k")
    assert result.trials[0].message.endswith("KeyError: 'lr'") and "trial_name" not in result.trials[0].message
