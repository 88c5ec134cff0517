"""``kfp-tune validate`` given a compiled KFP pipeline (QA pipeline, session 36, finding 10): a
user's own pipeline got "apiVersion: required ... kind: required", one ``kfp-tune compile`` wrote
"expected exactly one YAML document (one Experiment per file), found 2". It now says the file is
a compiled pipeline, not a Katib Experiment, and what validate takes (submit checks a package),
exit 2, recognising the package as submit does."""

# No `from __future__ import annotations`: KFP reads the test pipeline's annotations.
from pathlib import Path

import pytest
import yaml
from kfp import compiler, dsl

from conftest import quadratic_experiment
from kfp_tune.cli import main


@dsl.component
def _say(word: str) -> str:
    return word


@dsl.pipeline(name="own-pipeline")
def _own_pipeline(word: str = "hi") -> None:
    _say(word=word)


def _kfp_tune_compiled(tmp_path: Path) -> Path:
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(yaml.safe_dump(quadratic_experiment()))
    out = tmp_path / "compiled.yaml"
    assert main(["compile", str(experiment), "-o", str(out)]) == 0
    return out


def _own_compiled(tmp_path: Path) -> Path:
    out = tmp_path / "own.yaml"
    compiler.Compiler().compile(_own_pipeline, str(out))
    return out


@pytest.mark.parametrize("package", [_kfp_tune_compiled, _own_compiled], ids=["kfp-tune-compile", "own-pipeline"])
def test_a_compiled_pipeline_is_told_as_one(tmp_path, capsys, package):
    path = package(tmp_path)
    capsys.readouterr()
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: a compiled KFP pipeline, not a Katib Experiment: validate takes the experiment's YAML"), err
    assert "kfp-tune submit" in err
    assert "apiVersion: required" not in err and "exactly one YAML document" not in err


def test_an_experiment_is_still_validated(tmp_path, capsys):
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(yaml.safe_dump(quadratic_experiment()))
    assert main(["validate", str(experiment)]) == 0
    assert f"{experiment}: valid experiment 'quad'" in capsys.readouterr().out
