"""``kfp-tune validate``, ``run`` and ``compile`` given a compiled KFP pipeline (QA pipeline,
session 36, finding 10, and review C): a user's own pipeline got "apiVersion: required ... kind:
required", one ``kfp-tune compile`` wrote "expected exactly one YAML document (one Experiment per
file), found 2". Each now says the file is a compiled pipeline, not a Katib Experiment, what the
command takes and what to do with the package instead, exit 2, through one check that
recognises the package as submit does."""


import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from own_pipeline import kfp_tune_package, own_package

COMMANDS = {
    "validate": (lambda path, tmp: ["validate", str(path)], "kfp-tune submit"),
    "run": (lambda path, tmp: ["run", str(path), "--store", str(tmp / "store")], "to run a compiled pipeline use kfp.local or kfp-tune submit"),
    "compile": (lambda path, tmp: ["compile", str(path), "-o", str(tmp / "again.yaml")], "it is compiled already: kfp-tune submit sends it as it is"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("package", [kfp_tune_package, own_package], ids=["kfp-tune-compile", "own-pipeline"])
def test_a_compiled_pipeline_is_told_as_one(tmp_path, capsys, package, command):
    path = package(tmp_path)
    capsys.readouterr()
    argv, instead = COMMANDS[command]
    assert main(argv(path, tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: a compiled KFP pipeline, not a Katib Experiment: {command} takes the experiment's YAML"), err
    assert instead in err, err
    assert "apiVersion: required" not in err and "exactly one YAML document" not in err
    assert not (tmp_path / "store").exists() and not (tmp_path / "again.yaml").exists()


def test_an_experiment_is_still_compiled(tmp_path):
    assert kfp_tune_package(tmp_path).is_file()


def test_an_experiment_is_still_validated(tmp_path, capsys):
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(yaml.safe_dump(quadratic_experiment()))
    assert main(["validate", str(experiment)]) == 0
    assert f"{experiment}: valid experiment 'quad'" in capsys.readouterr().out
