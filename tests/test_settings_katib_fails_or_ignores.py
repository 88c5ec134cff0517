"""Algorithm settings that kfp-tune runs but Katib's services fail on or ignore: validate notes
each, and run, submit and tune() say what the run will not read before it starts."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

import kfp_tune.pipelines.submit
from conftest import quadratic_experiment, validation_errors
from kfp_tune import search, tune
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes

SETTINGS = "spec.algorithm.algorithmSettings"


def _algorithm(name: str, *settings: tuple[str, str]) -> dict[str, Any]:
    return quadratic_experiment(**{"spec.algorithm": {"algorithmName": name, "algorithmSettings": [{"name": k, "value": v} for k, v in settings]}})


def _notes(doc: dict[str, Any]) -> dict[str, str]:
    return {note.path: note.message for note in katib_notes(load_experiment(doc))}


@pytest.mark.parametrize("acq_func, runs_as", [("EIps", "EI"), ("PIps", "PI")])
def test_an_acq_func_per_second_that_katibs_skopt_fails_on_at_its_first_tell_is_noted(acq_func: str, runs_as: str) -> None:
    notes = _notes(_algorithm("bayesianoptimization", ("acq_func", acq_func)))
    assert notes[f"{SETTINGS}[0].value"] == (
        f"Katib's skopt service fails the experiment once a trial has succeeded with acq_func {acq_func}: it tells scikit-optimize the "
        "objective alone, and EIps and PIps need (objective, run time) pairs (skopt/base_service.py, getSuggestions: 'expected y to be "
        f"a list of (func_val, t)'); kfp-tune runs it as {runs_as}")
    assert _notes(_algorithm("bayesianoptimization", ("acq_func", "EI"))) == {}


@pytest.mark.parametrize("estimator", ["RF", "ET", "GBRT"])
def test_a_tree_estimator_with_lbfgs_that_scikit_optimize_refuses_to_build_is_noted(estimator: str) -> None:
    notes = _notes(_algorithm("bayesianoptimization", ("acq_optimizer", "lbfgs"), ("base_estimator", estimator)))
    assert list(notes) == [f"{SETTINGS}[0].value"]
    assert notes[f"{SETTINGS}[0].value"].startswith(
        f"Katib's skopt service fails its first suggestion with base_estimator {estimator} and acq_optimizer lbfgs: scikit-optimize refuses")
    assert notes[f"{SETTINGS}[0].value"].endswith("kfp-tune optimises the acquisition by sampling")
    for fine in (("acq_optimizer", "sampling"), ("acq_optimizer", "auto")):
        assert _notes(_algorithm("bayesianoptimization", fine, ("base_estimator", estimator))) == {}
    assert _notes(_algorithm("bayesianoptimization", ("acq_optimizer", "lbfgs"))) == {}  # the GP has a gradient


@pytest.mark.parametrize("estimator, random_until", [
    (None, "two trials have results (the Gaussian process needs two: 0 runs as 2)"), ("RF", "a trial has a result")])
def test_the_n_initial_points_0_note_says_when_the_model_starts(estimator: str | None, random_until: str) -> None:
    settings = [("n_initial_points", "0"), *([("base_estimator", estimator)] if estimator else [])]
    assert _notes(_algorithm("bayesianoptimization", *settings))[f"{SETTINGS}[0].value"].endswith(
        f"kfp-tune's suggestions are random until {random_until}")


def _sobol_sequence(random_state: Any, store: Path, name: str) -> tuple[list[float], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = tune(lambda p: p["x"], {"x": search.double(0.0, 1.0)}, algorithm="sobol", algorithm_settings={"random_state": random_state},
                      max_trial_count=3, store=str(store), name=name)
    return sorted(t.parameters["x"] for t in result.trials), [str(w.message) for w in caught]


def test_tune_warns_that_a_sobol_random_state_that_is_no_seed_runs_unseeded(tmp_path: Path) -> None:
    first, said = _sobol_sequence(3.0, tmp_path / "s", "a")
    second, _ = _sobol_sequence(3.0, tmp_path / "s", "b")
    assert first != second  # what the warning is for: no seed, each new experiment another sequence (from its uid)
    assert said == ["tune(): algorithm_settings: random_state '3.0': Katib's goptuna service never reads random_state for sobol, and kfp-tune "
                    "ignores this one too (its seed is an integer >= 0): the experiment is seeded from its uid, as without random_state"]
    seeded, said = _sobol_sequence(3, tmp_path / "s", "c")
    assert said == [] and seeded == _sobol_sequence(3, tmp_path / "s", "d")[0]


def _written(tmp_path: Path, doc: dict[str, Any]) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


MISSPELT = "Katib's goptuna service ignores 'random_stat', a setting it does not know, and so does kfp-tune; did you mean 'random_state'?"


def test_run_prints_validates_notes_of_the_settings_it_never_reads_before_the_first_trial(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _algorithm("cmaes", ("random_stat", "5"), ("sigma", "0.2"), ("sigma0", "0.2"))
    doc["spec"]["maxTrialCount"] = 2
    assert main(["run", _written(tmp_path, doc), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0
    err = capsys.readouterr().err
    assert f"note: {SETTINGS}[0].name: {MISSPELT}\n" in err
    assert f"note: {SETTINGS}[2].name: Katib's goptuna service ignores 'sigma0', a setting it does not know, and so does kfp-tune; did you mean 'sigma'?\n" in err
    assert err.count("note: ") == 2  # validate's other notes (none here) are not the run's


@pytest.mark.parametrize("algorithm, settings", [
    ("sobol", {"random_state": "3.0", "random_stat": "3"}),
    ("cmaes", {"random_stat": "5", "sigma": "0.2"}),
    ("sobol", {"random_state": "3"}),
])
def test_tune_and_run_give_the_same_settings_the_same_verdict(algorithm: str, settings: dict[str, str], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Two rules decided "never read" apart: for sobol's random_state '3.0' tune() said it ran
    unseeded, run that it was seeded from its uid, and they noted other algorithms' names
    otherwise. Both run a new experiment seeded from its new uid: one verdict."""
    parameters = {"x": search.double(0.0, 1.0), "y": search.double(0.0, 1.0)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tune(lambda p: p["x"] + p["y"], parameters, algorithm=algorithm, algorithm_settings=settings, max_trial_count=2, store=str(tmp_path / "t"), name="same")
    told = [str(w.message).removeprefix("tune(): algorithm_settings: ") for w in caught if str(w.message).startswith("tune(): algorithm_settings: ")]
    doc = _algorithm(algorithm, *settings.items())
    doc["spec"]["maxTrialCount"] = 2
    assert main(["run", _written(tmp_path, doc), "--engine", "inline", "--store", str(tmp_path / "r")]) == 0
    printed = [line.split(": ", 2)[2] for line in capsys.readouterr().err.splitlines() if line.startswith(f"note: {SETTINGS}")]
    assert told == printed
    assert bool(told) == (settings != {"random_state": "3"})


def test_submit_prints_the_same_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    sent = []
    monkeypatch.setattr(kfp_tune.pipelines.submit, "submit", lambda source, **kwargs: sent.append(source) or SimpleNamespace(
        id="r1", url="http://kfp/r1", kfp_experiment_id="e1", store="s3://team-bucket/p"))
    path = _written(tmp_path, _algorithm("cmaes", ("random_stat", "5")))
    assert main(["submit", path, "--host", "http://localhost:1", "--store", "s3://team-bucket/p"]) == 0
    assert len(sent) == 1
    assert f"note: {SETTINGS}[0].name: {MISSPELT}\n" in capsys.readouterr().err


def test_both_names_of_tpes_candidate_count_are_refused_together() -> None:
    """hyperopt's n_EI_candidates and Optuna's n_ei_candidates are one setting: given both, one
    always won whatever the order; Katib's service for either algorithm takes only one name."""
    for algorithm in ("tpe", "multivariate-tpe"):
        errors = validation_errors(_algorithm(algorithm, ("n_ei_candidates", "5"), ("n_EI_candidates", "50")))
        assert [(e.path, e.message) for e in errors] == [(
            f"{SETTINGS}[1].name", "n_EI_candidates and n_ei_candidates are both given: expected one of them (the same setting, hyperopt's "
            "name and Optuna's; Katib's service for each algorithm takes only one of them and refuses the other)")]
    assert validation_errors(_algorithm("cmaes", ("n_ei_candidates", "5"), ("n_EI_candidates", "50"))) == []  # names cmaes ignores


def test_the_candidate_cap_says_it_is_kfp_tunes_own_limit() -> None:
    errors = validation_errors(_algorithm("tpe", ("n_EI_candidates", "100001")))
    assert [e.message for e in errors] == [
        "n_EI_candidates: expected at most 100000 (kfp-tune's own limit, which Katib does not set: candidates scored at every suggestion), got 100001"]
