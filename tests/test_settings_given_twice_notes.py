"""The notes of algorithm settings Katib's services never read or fail on, where a mutation pass
found them unchecked: ``kfp-tune run`` prints the note of a sobol random_state that is no seed,
and with a setting given twice (both Katib and kfp-tune take the last value) the note's path, its
value and tune()'s warning are the last one's."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune import search, tune
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes, unread_setting_notes

SETTINGS = "spec.algorithm.algorithmSettings"
UNREAD = ("Katib's goptuna service never reads random_state for sobol, and kfp-tune ignores this one too (its seed is an integer >= 0): "
          "the experiment is seeded from its uid, as without random_state")


def _doc(name: str, *settings: tuple[str, str], **overrides: Any) -> dict[str, Any]:
    return quadratic_experiment(**{"spec.algorithm": {"algorithmName": name, "algorithmSettings": [{"name": n, "value": v} for n, v in settings]}, **overrides})


def test_run_prints_the_note_of_a_sobol_random_state_that_is_no_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_doc("sobol", ("random_state", "3.0"), **{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})))
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0
    assert f"note: {SETTINGS}[0].value: random_state '3.0': {UNREAD}\n" in capsys.readouterr().err


def test_a_random_state_given_twice_is_noted_at_the_last_one_which_is_the_one_read() -> None:
    unseeded_last = load_experiment(_doc("sobol", ("random_state", "7"), ("random_state", "3.0")))
    assert [(n.path, n.message) for n in unread_setting_notes(unseeded_last)] == [(f"{SETTINGS}[1].value", f"random_state '3.0': {UNREAD}")]
    assert unread_setting_notes(load_experiment(_doc("sobol", ("random_state", "3.0"), ("random_state", "7")))) == []  # the seed 7 is read


def test_tune_warns_of_the_last_random_state_given(tmp_path: Path) -> None:
    """tune() takes algorithm_settings as a dict, one value a name: it warns what
    unread_setting_notes says of the value given, the verdict run prints."""
    for settings, said in (({"random_state": "3.0"}, [f"tune(): algorithm_settings: random_state '3.0': {UNREAD}"]), ({"random_state": "7"}, [])):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tune(lambda p: p["x"], {"x": search.double(0.0, 1.0)}, algorithm="sobol", algorithm_settings=settings, max_trial_count=1,
                 store=str(tmp_path / "store"), name=f"s{len(said)}")
        assert [str(w.message) for w in caught if str(w.message).startswith("tune(): algorithm_settings")] == said


def test_a_skopt_setting_given_twice_is_noted_at_the_last_one_which_is_the_one_read() -> None:
    experiment = load_experiment(_doc("bayesianoptimization", ("n_initial_points", "5"), ("acq_func", "gp_hedge"), ("n_initial_points", "0")))
    fails = [n.path for n in katib_notes(experiment) if "n_initial_points 0" in n.message]
    assert fails == [f"{SETTINGS}[2].value"]
