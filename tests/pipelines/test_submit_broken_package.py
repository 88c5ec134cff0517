"""``kfp-tune submit`` / ``schedule`` (and ``kfp_tune.submit`` / ``schedule``) given a compiled
KFP pipeline package whose ``pipelineInfo`` is missing or broken (edited by hand, cut by a
merge): validate, run and compile said it is a broken package (c7a247e), while submit and
schedule, which send packages, read one without ``pipelineInfo`` as an experiment ("apiVersion:
required ... kind: required") and one whose ``pipelineInfo`` is null as "got NoneType". Every
command now recognises a package by one rule (``pipelines.submit.read_package``) and says the
same of the same file, before anything is sent."""

from pathlib import Path
from typing import Any

import pytest
import yaml

import kfp_tune
from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import SpecError
from own_pipeline import kfp_tune_package, own_package


def _kfp_tune_compiled(tmp_path: Path) -> list[Any]:
    return list(yaml.safe_load_all(kfp_tune_package(tmp_path).read_text()))


def _own_compiled(tmp_path: Path) -> list[Any]:
    return list(yaml.safe_load_all(own_package(tmp_path).read_text()))


BROKEN = {  # how the package is broken: what every command says of it
    "no pipelineInfo": (lambda document: document.pop("pipelineInfo"), "pipelineInfo: missing"),
    "pipelineInfo null": (lambda document: document.__setitem__("pipelineInfo", None), "pipelineInfo: expected a mapping, as KFP's compiler writes it, got null"),
    "pipelineInfo a string": (lambda document: document.__setitem__("pipelineInfo", "quad"), "pipelineInfo: expected a mapping, as KFP's compiler writes it, got str"),
    "root a list": (lambda document: document.__setitem__("root", ["dag"]), "root: expected a mapping, as KFP's compiler writes it, got list"),
}


def _broken(tmp_path: Path, package: Any, broken: str) -> tuple[Path, str]:
    documents = package(tmp_path)
    breaks, problem = BROKEN[broken]
    breaks(documents[0])
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    return path, f"a compiled KFP pipeline package, not a Katib Experiment, and a broken one: {problem} (compile it again)"


PACKAGES = pytest.mark.parametrize("package", [_kfp_tune_compiled, _own_compiled], ids=["kfp-tune-compile", "own-pipeline"])


@pytest.mark.parametrize("call", ["submit", "schedule"])
@pytest.mark.parametrize("broken", sorted(BROKEN))
@PACKAGES
def test_the_python_calls_refuse_a_broken_package_as_one(fake_kfp_host, tmp_path, package, broken, call):
    path, words = _broken(tmp_path, package, broken)
    with pytest.raises(SpecError) as refused:
        if call == "submit":
            kfp_tune.submit(str(path), host=fake_kfp_host.url)
        else:
            kfp_tune.schedule(path, "0 0 2 * * *", host=fake_kfp_host.url)
    assert [(e.path, e.message) for e in refused.value.errors] == [(str(path), words)], str(refused.value)
    assert fake_kfp_host.requests == []


@pytest.mark.parametrize("command", [["submit"], ["schedule", "--cron", "@daily"]], ids=["submit", "schedule"])
@pytest.mark.parametrize("broken", sorted(BROKEN))
@PACKAGES
def test_the_cli_says_of_a_broken_package_what_validate_says(fake_kfp_host, tmp_path, capsys, package, broken, command):
    path, words = _broken(tmp_path, package, broken)
    capsys.readouterr()
    assert main([command[0], str(path), "--host", fake_kfp_host.url, *command[1:]]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {path}: {words}\n", err
    assert fake_kfp_host.requests == []
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {path}: {words}; validate takes the experiment's YAML")


@pytest.mark.parametrize("command", [["submit"], ["schedule", "--cron", "@daily"]], ids=["submit", "schedule"])
def test_the_cli_still_sends_a_package_and_an_experiment(fake_kfp_host, tmp_path, capsys, command):
    """The rule takes what it took: a whole package is sent as it is, an experiment compiled."""
    own_package(tmp_path)
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(yaml.safe_dump(quadratic_experiment()))
    posted = "runs" if command[0] == "submit" else "recurringruns"
    for sent, name in ((tmp_path / "own.yaml", "own-pipeline"), (experiment, "kfp-tune-quad")):
        assert main([command[0], str(sent), "--host", fake_kfp_host.url, *command[1:]]) == 0, capsys.readouterr().err
        spec = fake_kfp_host.posted(posted)[-1]["pipeline_spec"]
        spec = spec.get("pipeline_spec", spec)  # beside its platform_spec, when it has one
        assert spec["pipelineInfo"]["name"] == name, spec
