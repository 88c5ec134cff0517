"""Notes on what Katib itself would refuse in an experiment kfp-tune runs (core.portability),
each rule read from Katib's source (its webhook and its default suggestion services)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import KATIB_EXAMPLES, KATIB_REFUSES, quadratic_experiment
from kfp_tune import search, tune
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment, read_experiment_source
from kfp_tune.core.portability import katib_notes


@pytest.mark.parametrize("path", [p for p in KATIB_EXAMPLES if p.name not in KATIB_REFUSES], ids=lambda p: p.name)
def test_katibs_own_examples_have_no_notes(path: Path) -> None:
    """Every example Katib admits and runs: nothing to say (a note there would be a false alarm)."""
    assert katib_notes(load_experiment(path), read_experiment_source(path)) == []


def _notes(**overrides: object) -> dict[str, str]:
    return {note.path: note.message for note in katib_notes(load_experiment(quadratic_experiment(**overrides)))}


def test_a_name_katib_refuses_as_too_long() -> None:
    assert _notes(**{"metadata.name": "a" * 40}) == {}
    (message,) = _notes(**{"metadata.name": "a" * 41}).values()
    assert message == "Katib refuses names longer than 40 characters (this one has 41)"


@pytest.mark.parametrize(
    "algorithm, setting, service",
    [("tpe", "n_startup_trials", "hyperopt"), ("tpe", "n_ei_candidates", "hyperopt"), ("multivariate-tpe", "gamma", "optuna"),
     ("multivariate-tpe", "prior_weight", "optuna"), ("bayesianoptimization", "kappa", "skopt"), ("bayesianoptimization", "xi", "skopt")],
)
def test_settings_katibs_default_service_refuses(algorithm: str, setting: str, service: str) -> None:
    notes = _notes(**{"spec.algorithm": {"algorithmName": algorithm, "algorithmSettings": [{"name": "random_state", "value": "1"}, {"name": setting, "value": "5" if "n_" in setting else "0.5"}]}})
    assert list(notes) == ["spec.algorithm.algorithmSettings[1].name"]  # random_state is Katib's too
    assert f"Katib's {service} service, which runs {algorithm} in its default configuration, refuses {setting!r}" in notes["spec.algorithm.algorithmSettings[1].name"]


def test_settings_katib_requires_and_kfp_tune_defaults() -> None:
    hyperband = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "hyperband", "algorithmSettings": [{"name": "resource_name", "value": "y"}]}})
    hyperband["spec"]["parameters"][1] = {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}
    (note,) = katib_notes(load_experiment(hyperband))
    assert note.message == "Katib's hyperband service requires 'r_l'; kfp-tune gives it a default"
    pbt = quadratic_experiment(**{"spec.algorithm": {"algorithmName": "pbt", "algorithmSettings": [{"name": "n_population", "value": "5"}]}})
    assert [note.message for note in katib_notes(load_experiment(pbt))] == [
        f"Katib's pbt service requires {name!r}; kfp-tune gives it a default" for name in ("suggestion_trial_dir", "truncation_threshold")]


def test_a_grid_smaller_than_max_trial_count() -> None:
    grid = {"algorithmName": "grid"}
    space = [{"name": "x", "parameterType": "categorical", "feasibleSpace": {"list": ["a", "b"]}},
             {"name": "y", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "3"}}]
    assert _notes(**{"spec.algorithm": grid, "spec.parameters": space, "spec.maxTrialCount": 6}) == {}
    notes = _notes(**{"spec.algorithm": grid, "spec.parameters": space, "spec.maxTrialCount": 7})
    assert notes == {"spec.maxTrialCount": "Katib's grid refuses a maxTrialCount above the grid's 6 points (got 7); kfp-tune runs every point and ends with ExperimentSuggestionEndReached"}


def test_validate_prints_the_notes_and_still_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(quadratic_experiment(**{"spec.algorithm": {"algorithmName": "tpe", "algorithmSettings": [{"name": "n_startup_trials", "value": "5"}]}})))
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert "valid experiment 'quad'" in captured.out
    assert captured.err.startswith("note: spec.algorithm.algorithmSettings[0].name: Katib's hyperopt service")


def test_grid_takes_katibs_random_state_and_runs_every_point_in_order(tmp_path: Path) -> None:
    """Katib's grid takes random_state (its Optuna service checks it is >= 0); here it is accepted
    and changes nothing: the same points, in the same order, as without it."""
    space = {"a": search.categorical(["p", "q"]), "b": search.int(1, 3)}
    runs = [
        tune(lambda p: {"loss": 1.0}, space, objective_metric_name="loss", algorithm="grid", algorithm_settings=settings,
             max_trial_count=6, parallel_trial_count=1, store=str(tmp_path / str(i)), name="g")
        for i, settings in enumerate(({}, {"random_state": 7}))
    ]
    orders = [[(t.parameters["a"], t.parameters["b"]) for t in run.trials] for run in runs]
    assert orders[0] == orders[1] and len(set(orders[0])) == 6


def test_a_normal_distribution_katibs_optuna_service_fails_on() -> None:
    normal = [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "1", "distribution": "normal"}},
              {"name": "y", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "1", "distribution": "logUniform"}}]
    notes = _notes(**{"spec.algorithm": {"algorithmName": "multivariate-tpe"}, "spec.parameters": normal})
    assert list(notes) == ["spec.parameters[0].feasibleSpace.distribution"]
    assert notes["spec.parameters[0].feasibleSpace.distribution"].startswith("Katib's optuna service, which runs multivariate-tpe")
    assert _notes(**{"spec.algorithm": {"algorithmName": "tpe"}, "spec.parameters": normal}) == {}  # hyperopt samples it


def test_conditions_katib_requires_for_a_training_kind_it_does_not_default() -> None:
    """Katib's webhook defaults the conditions of Job, TFJob, PyTorchJob, XGBoostJob, MPIJob and
    TrainJob only; kfp-tune defaults MXJob's too. Told apart by the document as written."""
    doc = quadratic_experiment(**{"spec.trialTemplate.trialSpec": {
        "apiVersion": "kubeflow.org/v1", "kind": "MXJob",
        "spec": {"mxReplicaSpecs": {"Scheduler": {"replicas": 1, "template": {"spec": {"containers": [
            {"name": "main", "image": "mxnet:1", "command": ["python3", "t.py", "x=${trialParameters.x}", "y=${trialParameters.y}"]}]}}}}}}})
    notes = {n.path: n.message for n in katib_notes(load_experiment(doc), doc)}
    assert list(notes) == ["spec.trialTemplate.successCondition", "spec.trialTemplate.failureCondition"]
    assert notes["spec.trialTemplate.successCondition"].startswith("Katib's webhook requires it for kind MXJob")
    assert katib_notes(load_experiment(doc)) == []  # without the document as written: not told
    written = quadratic_experiment(**{"spec.trialTemplate.trialSpec": doc["spec"]["trialTemplate"]["trialSpec"],
                                      "spec.trialTemplate.successCondition": "status.done", "spec.trialTemplate.failureCondition": "status.failed"})
    assert katib_notes(load_experiment(written), written) == []
