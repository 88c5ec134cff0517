"""A compiled KFP pipeline package written as JSON (``Compiler().compile(p, "p.json")``, which
KFP's compiler writes beside YAML, and ``kfp.components.load_component_from_file`` reads) was no
package to kfp-tune, which took ``.yaml`` / ``.yml`` only (review A of session 37, rough edge 8):
validate, run, compile, submit and schedule all read it as an experiment, "apiVersion: required
... kind: required". It is now a package by the same rule as a YAML one
(``pipelines.submit.read_package``): validate, run and compile say so, submit and schedule send
it (as YAML, the only form ``kfp.Client`` uploads), a broken one is said to be broken, and an
experiment written as JSON is still an experiment."""

import json
import warnings
from pathlib import Path

import pytest

import kfp_tune
from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import SpecError
from own_pipeline import own_package


def _json_package(tmp_path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # KFP: "Compiling to JSON is deprecated"
        return own_package(tmp_path, "own.json")


def _sent_spec(fake_kfp_host, posted: str) -> dict:
    spec = fake_kfp_host.posted(posted)[-1]["pipeline_spec"]
    return spec.get("pipeline_spec", spec)  # beside its platform_spec, when it has one


COMMANDS = {
    "validate": (lambda path, tmp: ["validate", str(path)], "kfp-tune submit checks a compiled pipeline"),
    "run": (lambda path, tmp: ["run", str(path), "--store", str(tmp / "store")], "to run a compiled pipeline use kfp.local or kfp-tune submit"),
    "compile": (lambda path, tmp: ["compile", str(path), "-o", str(tmp / "again.yaml")], "it is compiled already: kfp-tune submit sends it as it is"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_validate_run_and_compile_tell_a_json_package_as_one(tmp_path, capsys, command):
    path = _json_package(tmp_path)
    argv, instead = COMMANDS[command]
    assert main(argv(path, tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: a compiled KFP pipeline, not a Katib Experiment: {command} takes the experiment's YAML"), err
    assert instead in err and "apiVersion: required" not in err, err
    assert not (tmp_path / "store").exists() and not (tmp_path / "again.yaml").exists()


@pytest.mark.parametrize("command", [["submit"], ["schedule", "--cron", "@daily"]], ids=["submit", "schedule"])
def test_the_cli_sends_a_json_package_as_it_is(fake_kfp_host, tmp_path, capsys, command):
    path = _json_package(tmp_path)
    assert main([command[0], str(path), "--host", fake_kfp_host.url, *command[1:]]) == 0, capsys.readouterr().err
    assert _sent_spec(fake_kfp_host, "runs" if command[0] == "submit" else "recurringruns") == json.loads(path.read_text())


@pytest.mark.parametrize("call", ["submit", "schedule"])
def test_the_python_calls_send_a_json_package_as_it_is(fake_kfp_host, tmp_path, call):
    path = _json_package(tmp_path)
    if call == "submit":
        kfp_tune.submit(str(path), host=fake_kfp_host.url, arguments={"word": "ho"})
        assert fake_kfp_host.posted("runs")[-1]["runtime_config"]["parameters"] == {"word": "ho"}
    else:
        kfp_tune.schedule(path, "0 0 2 * * *", host=fake_kfp_host.url)
    assert _sent_spec(fake_kfp_host, "runs" if call == "submit" else "recurringruns") == json.loads(path.read_text())


def test_a_broken_json_package_is_told_as_a_broken_one(fake_kfp_host, tmp_path, capsys):
    document = json.loads(_json_package(tmp_path).read_text())
    document.pop("pipelineInfo")
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    words = f"{path}: a compiled KFP pipeline package, not a Katib Experiment, and a broken one: pipelineInfo: missing (compile it again)"
    assert main(["submit", str(path), "--host", fake_kfp_host.url]) == 2
    assert capsys.readouterr().err == f"error: {words}\n"
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {words}; validate takes")
    with pytest.raises(SpecError, match="and a broken one: pipelineInfo: missing"):
        kfp_tune.submit(str(path), host=fake_kfp_host.url)
    assert fake_kfp_host.requests == []


def test_an_experiment_written_as_json_is_still_an_experiment(fake_kfp_host, tmp_path, capsys):
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(quadratic_experiment()))
    assert main(["validate", str(path)]) == 0
    assert f"{path}: valid experiment 'quad'" in capsys.readouterr().out
    assert main(["submit", str(path), "--host", fake_kfp_host.url]) == 0, capsys.readouterr().err
    assert _sent_spec(fake_kfp_host, "runs")["pipelineInfo"]["name"] == "kfp-tune-quad"
