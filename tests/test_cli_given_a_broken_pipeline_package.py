"""``kfp-tune validate``, ``run`` and ``compile`` given a compiled KFP pipeline package whose
``pipelineInfo`` is missing or broken (edited by hand, cut by a merge): the package was not
recognised, so the file was read as an experiment, "apiVersion: required" (one document) or
"expected exactly one YAML document" (kfp-tune compile's two). It is now recognised by KFP's
other top-level keys and said to be a compiled pipeline package, with what is wrong with it, what
the command takes and what to do with a package instead, exit 2; a file without those keys is
read as an experiment, as before."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from kfp_tune.cli import main
from own_pipeline import kfp_tune_package, own_package


def _kfp_tune_compiled(tmp_path: Path) -> list[Any]:
    return list(yaml.safe_load_all(kfp_tune_package(tmp_path).read_text()))


def _own_compiled(tmp_path: Path) -> list[Any]:
    return list(yaml.safe_load_all(own_package(tmp_path).read_text()))


BROKEN = {  # how pipelineInfo is broken: what the error says of it
    "missing": (lambda document: document.pop("pipelineInfo"), "pipelineInfo: missing"),
    "a string": (lambda document: document.__setitem__("pipelineInfo", "quad"), "pipelineInfo: expected a mapping, as KFP's compiler writes it, got str"),
    "empty": (lambda document: document.__setitem__("pipelineInfo", None), "pipelineInfo: expected a mapping, as KFP's compiler writes it, got null"),
}

COMMANDS = {
    "validate": (lambda path, tmp: ["validate", str(path)], "kfp-tune submit checks a compiled pipeline"),
    "run": (lambda path, tmp: ["run", str(path), "--store", str(tmp / "store")], "to run a compiled pipeline use kfp.local or kfp-tune submit"),
    "compile": (lambda path, tmp: ["compile", str(path), "-o", str(tmp / "again.yaml")], "it is compiled already: kfp-tune submit sends it as it is"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("broken", sorted(BROKEN))
@pytest.mark.parametrize("package", [_kfp_tune_compiled, _own_compiled], ids=["kfp-tune-compile", "own-pipeline"])
def test_a_package_with_a_broken_pipeline_info_is_told_as_a_package(tmp_path, capsys, package, broken, command):
    documents = package(tmp_path)
    breaks, problem = BROKEN[broken]
    breaks(documents[0])
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    capsys.readouterr()
    argv, instead = COMMANDS[command]
    assert main(argv(path, tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: a compiled KFP pipeline package, not a Katib Experiment, and a broken one: {problem}"), err
    assert f"{command} takes the experiment's YAML" in err and instead in err, err
    assert "apiVersion: required" not in err and "exactly one YAML document" not in err, err
    assert err.count("\n") == 1, err
    assert not (tmp_path / "store").exists() and not (tmp_path / "again.yaml").exists()


@pytest.mark.parametrize("keys", [{"root": {}}, {"apiVersion": "kubeflow.org/v1beta1", "root": {}, "components": {}, "sdkVersion": "kfp-2"}])
def test_a_file_without_the_package_keys_is_still_read_as_an_experiment(tmp_path, capsys, keys):
    """One of KFP's keys alone, or beside an apiVersion, is no package: the experiment's own
    errors stand."""
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(keys))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "compiled KFP pipeline" not in err and ("apiVersion" in err or "kind" in err), err
