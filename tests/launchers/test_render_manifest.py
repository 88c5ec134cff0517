"""``kfp-tune render``: the resource the Kubernetes launcher would create for one trial, with the
values the user assigns (each checked against its feasible space) and the first value of every
parameter left out (docs/guide.md, "render")."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.naming import trial_name
from kfp_tune.core.space import Parameter
from kfp_tune.launchers.kubernetes import KubernetesConfig, render_manifest


def experiment() -> Any:
    doc = quadratic_experiment()
    doc["spec"]["parameters"] = [
        {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0.25", "max": "1"}},
        {"name": "y", "parameterType": "categorical", "feasibleSpace": {"list": ["adam", "sgd"]}},
    ]
    return load_experiment(doc)


def args(manifest: dict[str, Any]) -> list[str]:
    """The trial's args as it gets them: the words of its ``sh -c`` line (StdOut: Katib's shell
    form) after the command's two, ``python3`` and the script."""
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sh", "-c"] and len(container["args"]) == 1
    return shlex.split(container["args"][0])[2:]


def test_assigned_values_reach_the_trial_as_written():
    manifest = render_manifest(experiment(), {"x": "0.5", "y": "sgd"})
    assert args(manifest) == ["x=0.5", "y=sgd"]


def test_a_parameter_left_out_takes_its_first_value():
    assert args(render_manifest(experiment())) == ["x=0.25", "y=adam"]
    assert args(render_manifest(experiment(), {"y": "sgd"})) == ["x=0.25", "y=sgd"]


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ({"z": "1"}, "--assign z: not a parameter of the experiment; expected one of ['x', 'y']"),
        ({"x": "0.5", "w": "1", "a": "2"}, "--assign a: not a parameter"),  # the first unknown, in order
        ({"x": "fast"}, "--assign x: expected a number, got 'fast'"),
        ({"x": "2"}, "--assign x=2: outside its feasible space; expected double from 0.25 to 1.0"),
        ({"x": "0.1"}, "--assign x=0.1: outside its feasible space; expected double from 0.25 to 1.0"),
        ({"y": "rmsprop"}, "--assign y: 'rmsprop' is not one of ['adam', 'sgd']"),
    ],
)
def test_a_value_the_trial_could_not_get_is_refused(assignment: dict[str, str], message: str):
    with pytest.raises(ValueError) as info:
        render_manifest(experiment(), assignment)
    assert str(info.value).startswith(message)


def test_the_trial_name_and_namespace():
    default = render_manifest(experiment())
    assert default["metadata"]["name"] == trial_name("quad", "render", 0), "the name the launcher gives a first trial"
    assert default["metadata"]["namespace"] == "default"
    named = render_manifest(experiment(), trial_name="quad-by-hand", config=KubernetesConfig(namespace="team-a"))
    assert (named["metadata"]["name"], named["metadata"]["namespace"]) == ("quad-by-hand", "team-a")
    assert named["metadata"]["labels"]["kfp-tune.kubeflow.org/trial"] == "quad-by-hand"


def test_env_for_the_trial_reaches_its_container():
    manifest = render_manifest(experiment(), env={"KFP_TUNE_STORE": "s3://bucket/runs"})
    env = manifest["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "KFP_TUNE_STORE", "value": "s3://bucket/runs"} in env


def test_a_namespace_reference_is_the_namespace_rendered_into():
    doc = quadratic_experiment()
    template = doc["spec"]["trialTemplate"]
    template["trialParameters"].append({"name": "ns", "reference": "${trialSpec.Namespace}"})
    template["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["args"].append("ns=${trialParameters.ns}")
    manifest = render_manifest(load_experiment(doc), {"x": "0.5", "y": "0.5"}, config=KubernetesConfig(namespace="team-a"))
    assert args(manifest)[-1] == "ns=team-a"


def test_the_feasible_space_is_said_in_words():
    """What an --assign outside the space is told to give instead: bounds, step, choices."""
    assert Parameter("hidden", "int", 16.0, 128.0, 16.0).feasible_text() == "int from 16 to 128 in steps of 16 from 16"
    assert Parameter("lr", "double", 0.001, 0.1).feasible_text() == "double from 0.001 to 0.1"
    assert Parameter("opt", "categorical", choices=("adam", "sgd")).feasible_text() == "one of ['adam', 'sgd']"


@pytest.mark.parametrize(
    ("low", "high", "step", "inside", "outside"),
    [
        ("0", "1000000000", None, ["0", "1000000000"], ["1000000001", "-1"]),
        ("0", "4294967295", None, ["4294967295"], ["4294967296", "4294967299"]),
        ("-3000000000", "3000000000", "10000000", ["-2990000000", "3000000000"], ["-2989999999", "3000000001"]),
    ],
    ids=["billion", "seed", "stepped"],
)
def test_an_int_outside_a_large_range_or_off_its_step_is_refused_exactly(tmp_path, capsys, low, high, step, inside, outside):
    """Ints compare exactly: the float allowance for rounding (1e-9 of the range) is 1 or more
    on a range of 1e9, and let ``kfp-tune render --assign x=1000000001`` and ``x=-1`` through;
    one off a step of 1e7 is a millionth of a step, which the float check takes as on it."""
    doc = quadratic_experiment()
    feasible = {"min": low, "max": high, **({"step": step} if step else {})}
    doc["spec"]["parameters"][0] = {"name": "x", "parameterType": "int", "feasibleSpace": feasible}
    path = tmp_path / "bigint.yaml"
    path.write_text(yaml.safe_dump(doc))
    for value in inside:
        assert main(["render", str(path), "--assign", f"x={value}"]) == 0, capsys.readouterr().err
        assert args(yaml.safe_load(capsys.readouterr().out))[0] == f"x={value}"
    for value in outside:
        assert main(["render", str(path), "--assign", f"x={value}"]) == 2
        assert f"--assign x={value}: outside its feasible space; expected int from {low} to {high}" in capsys.readouterr().err


def test_the_python_render_places_the_trial_in_the_experiments_namespace():
    """render_manifest(experiment) without a config rendered every trial in ``default``, where
    ``kfp-tune render`` and the launcher use the experiment's metadata.namespace; an experiment
    without one still renders in ``default``."""
    doc = quadratic_experiment()
    doc["metadata"]["namespace"] = "team-a"
    assert render_manifest(load_experiment(doc), {"x": "0.5", "y": "0.5"})["metadata"]["namespace"] == "team-a"
    assert render_manifest(experiment(), {"x": "0.5", "y": "sgd"})["metadata"]["namespace"] == "default"
