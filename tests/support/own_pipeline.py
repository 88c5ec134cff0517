"""The two kinds of compiled KFP package every package test hands the commands: a user's own
pipeline of one step, and the one ``kfp-tune compile`` writes for an experiment."""

# No `from __future__ import annotations`: KFP reads the pipeline's annotations.
from pathlib import Path

import yaml
from kfp import compiler, dsl

from conftest import quadratic_experiment
from kfp_tune.cli import main


@dsl.component
def say(word: str) -> str:
    return word


@dsl.pipeline(name="own-pipeline")
def own_pipeline(word: str = "hi") -> None:
    say(word=word)


def own_package(folder: Path, name: str = "own.yaml") -> Path:
    """The user's own pipeline compiled by KFP's compiler to ``folder/name`` (YAML, or JSON by
    the name's suffix)."""
    out = folder / name
    compiler.Compiler().compile(own_pipeline, str(out))
    return out


def kfp_tune_package(folder: Path) -> Path:
    """The package ``kfp-tune compile`` writes for the quadratic experiment, in ``folder``."""
    experiment = folder / "exp.yaml"
    experiment.write_text(yaml.safe_dump(quadratic_experiment()))
    out = folder / "compiled.yaml"
    assert main(["compile", str(experiment), "-o", str(out)]) == 0
    return out
