"""A stop (the notebook's stop button, Ctrl-C) that lands in ``tune()``'s own work before or after
the run (the pre-flight checks of the experiment, reading the result back) gives the same
:class:`kfp_tune.api.TuneInterrupted` as a stop during the run, its note naming the experiment and
the call that resumes it or returns its result: it was a bare KeyboardInterrupt from inside the
store, with no note, and without ``name=`` the user did not learn the completed experiment's name
(QA notebook, session 36, finding 7). The signal is raised from a stand-in for the step it lands
in, so no timing decides where."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from kfp_tune import search, tune
from kfp_tune.api import TuneInterrupted
from kfp_tune.reports import summarize
from kfp_tune.stores import as_store

pytestmark = pytest.mark.usefixtures("usual_sigint")  # tests/conftest.py


def _tune(store: Path, name: str | None = "late") -> Any:
    return tune(lambda p: p["x"] ** 2, {"x": search.double(-1, 1)}, algorithm="random", algorithm_settings={"random_state": 7},
                max_trial_count=3, store=str(store), name=name)


def _stop_button() -> None:
    signal.raise_signal(signal.SIGINT)  # KeyboardInterrupt here, as the kernel's stop button gives


def test_a_stop_while_the_result_is_read_says_the_experiment_ended_and_how_to_get_its_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kfp_tune.api

    real_read = kfp_tune.api.tune_result

    def stopped_while_read(store: Any, name: str, *rest: Any) -> Any:
        _stop_button()
        return real_read(store, name, *rest)

    monkeypatch.setattr(kfp_tune.api, "tune_result", stopped_while_read)
    with pytest.raises(TuneInterrupted) as stopped:
        _tune(tmp_path / "store", name=None)
    name = stopped.value.experiment
    assert stopped.value.__notes__ == [
        f"tune() stopped (SIGINT) once experiment {name!r} in {(tmp_path / 'store').as_uri()} had ended: Succeeded (ExperimentMaxTrialsReached), "
        f"no trial stopped; a call without name= starts a new experiment: tune(..., name={name!r}) returns this one's result"]
    assert stopped.value.ended == ("Succeeded", "ExperimentMaxTrialsReached")
    monkeypatch.undo()
    with pytest.warns(UserWarning, match="has already completed"):
        result = _tune(tmp_path / "store", name=name)
    assert (result.status, len(result.trials)) == ("Succeeded", 3)


def test_a_stop_in_the_checks_before_the_run_names_the_experiment_and_the_call_that_resumes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kfp_tune.steps

    real_prepare = kfp_tune.steps.prepare

    def stopped_while_checked(*args: Any, **kwargs: Any) -> Any:
        real_prepare(*args, **kwargs)
        _stop_button()

    monkeypatch.setattr(kfp_tune.steps, "prepare", stopped_while_checked)
    with pytest.raises(TuneInterrupted) as stopped:
        _tune(tmp_path / "store")
    assert stopped.value.__notes__[0] == (
        f"tune() stopped (SIGINT): experiment 'late' in {(tmp_path / 'store').as_uri()} is left unfinished, "
        "no trial was running, so none was stopped or recorded Killed; the same call resumes it: tune(..., name='late')")
    assert stopped.value.ended is None
    monkeypatch.undo()
    result = _tune(tmp_path / "store")
    assert (result.status, len(result.trials)) == ("Succeeded", 3)
    assert summarize(as_store(str(tmp_path / "store")), "late")["status"] == "Succeeded"


def test_a_stop_while_the_no_success_warning_is_weighed_is_a_tune_interrupted_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kfp_tune.remote

    def stopped(*args: Any, **kwargs: Any) -> str:
        _stop_button()
        return ""

    monkeypatch.setattr(kfp_tune.remote, "no_trial_succeeded", stopped)
    with pytest.raises(TuneInterrupted) as interrupted:
        _tune(tmp_path / "store")
    assert interrupted.value.ended == ("Succeeded", "ExperimentMaxTrialsReached")
