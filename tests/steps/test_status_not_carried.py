"""An exported Katib experiment's ``status:`` (its trials, counts and best trial from ``kubectl
get -o yaml``) is not carried over, as a new cluster's API server drops it too (QA migrator,
finding 5); it was dropped without a word, and a migrator could take the run for a
continuation. The run that creates the experiment now says so once, with what is taken and
what to do about the trials already done."""

from __future__ import annotations

import logging

import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment, status_not_carried
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

STATUS = {"trials": 8, "trialsSucceeded": 5, "trialsRunning": 3, "currentOptimalTrial": {"bestTrialName": "quad-bf03873c"},
          "conditions": [{"type": "Running", "status": "True", "reason": "ExperimentRunning"}]}


def _exported(**status):
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 2})
    if status:
        doc["status"] = status
    return doc


def test_the_status_of_an_export_with_trials_is_said_not_to_be_carried_over_once(tmp_path, caplog):
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    with caplog.at_level(logging.WARNING, logger="kfp_tune"):
        init_experiment(records, load_experiment(_exported(**STATUS)))
    [said] = [r.getMessage() for r in caplog.records if "not carried over" in r.getMessage()]
    assert said.startswith("experiment 'quad': its status from Katib (8 trials: 5 succeeded, 3 running; best trial quad-bf03873c) is not carried over")
    assert "new experiment of maxTrialCount 2, from no trials" in said and "lower spec.maxTrialCount" in said
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kfp_tune"):
        init_experiment(records, load_experiment(_exported(**STATUS)))  # a resume: the experiment is kfp-tune's now
    assert "not carried over" not in caplog.text


def test_a_status_without_trials_says_nothing():
    assert status_not_carried(load_experiment(_exported())) == ""
    assert status_not_carried(load_experiment(_exported(conditions=[{"type": "Created", "status": "True"}], trials=0))) == ""
    assert "best trial quad-x" in status_not_carried(load_experiment(_exported(currentOptimalTrial={"bestTrialName": "quad-x"})))


def test_kfp_tune_run_of_an_export_with_trials_says_its_status_is_not_carried_over(tmp_path, caplog):
    """Once, as the run creates the experiment (the CLI prints the warning as 'warning: ...')."""
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(_exported(**STATUS)))
    with caplog.at_level(logging.WARNING, logger="kfp_tune"):
        assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0
    said = [r.getMessage() for r in caplog.records if "is not carried over" in r.getMessage()]
    assert len(said) == 1
    assert said[0].startswith("experiment 'quad': its status from Katib (8 trials: 5 succeeded, 3 running; best trial quad-bf03873c)")


def test_validate_says_the_status_is_not_carried_over_and_writes_nothing(tmp_path, capsys):
    """The same note from `kfp-tune validate`, where a migrator checks an export before running
    it; none for an export without trials."""
    path = tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump(_exported(**STATUS)))
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert "note: status: experiment 'quad': its status from Katib (8 trials: 5 succeeded, 3 running; best trial quad-bf03873c) is not carried over" in err, err
    path.write_text(yaml.safe_dump(_exported()))
    assert main(["validate", str(path)]) == 0
    assert "not carried over" not in capsys.readouterr().err
