"""A whole number written as a float in the trial template (``backoffLimit: 1.0``) reaches the
trial as an integer, as kubectl and Katib send it: Kubernetes turns YAML into JSON, where Go
writes ``float64(1)`` as ``1``, and the API server refuses ``1.0`` for an int32 field; a number
that is not whole stays a float."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.errors import SpecError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.template_source import resolve_trial_template
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher, render_manifest

JOB_FIELDS = "  backoffLimit: 1.0\n  completions: !!float 1\n  parallelism: 1.\n"
"""Three spellings of a whole float in a Job's spec, as a user may write them in YAML."""


def _yaml_with_job_fields(doc: dict[str, Any]) -> str:
    """The experiment as YAML, the Job's spec given :data:`JOB_FIELDS` as written."""
    job_spec = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]
    job_spec["backoffLimit"] = "BACKOFF"
    text = yaml.safe_dump(doc, sort_keys=False)
    line = next(line for line in text.splitlines() if "backoffLimit: BACKOFF" in line)
    indent = line[: len(line) - len(line.lstrip())]
    return text.replace(line + "\n", "".join(indent + field.strip() + "\n" for field in JOB_FIELDS.splitlines()))


def _job_spec(experiment: Any) -> dict[str, Any]:
    return experiment.spec.trial_template.trial_spec["spec"]


def test_whole_floats_in_the_inline_template_are_integers_from_every_source() -> None:
    from_yaml = load_experiment(_yaml_with_job_fields(quadratic_experiment()))
    assert {key: (value, type(value)) for key, value in _job_spec(from_yaml).items() if key != "template"} == {
        "backoffLimit": (1, int), "completions": (1, int), "parallelism": (1, int)}
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"].update(backoffLimit=2.0, activeDeadlineSeconds=600.0)
    from_dict = _job_spec(load_experiment(doc))
    assert type(from_dict["backoffLimit"]) is int and type(from_dict["activeDeadlineSeconds"]) is int
    assert type(_job_spec(load_experiment(load_experiment(doc)))["backoffLimit"]) is int  # a model too
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["ttlSecondsAfterFinished"] = 0.5  # not whole: still refused
    with pytest.raises(SpecError, match=r"trialSpec\.spec\.ttlSecondsAfterFinished: expected an integer, got 0\.5"):
        load_experiment(doc)


def test_render_prints_and_the_kubernetes_launcher_sends_an_integer(tmp_path: Path, capsys: Any, clusters: Any) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(_yaml_with_job_fields(quadratic_experiment()))
    assert main(["render", str(path), "--assign", "x=0.5"]) == 0
    printed = capsys.readouterr().out
    assert "backoffLimit: 1\n" in printed and "completions: 1\n" in printed and "1.0" not in printed
    experiment = load_experiment(path)
    assert type(render_manifest(experiment, {"x": "0.5"})["spec"]["backoffLimit"]) is int
    kube = clusters()
    launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05), api_client=kube.api_client(), env={})
    trial = TrialState(name="quad-abcd1234", index=0, round="run-1-r000", assignment={"x": "0.5", "y": "0.25"}, created="")
    launcher.run(trial_run(experiment, trial))
    (created,) = [call.body for call in kube.calls if call.method == "POST" and call.body.get("kind") == "Job"]
    assert [(created["spec"][key], type(created["spec"][key])) for key in ("backoffLimit", "completions", "parallelism")] == [(1, int)] * 3


def test_a_config_map_template_keeps_whole_floats_whole_and_a_float_parameter_a_float() -> None:
    """Katib reads a ConfigMap's template with Kubernetes' YAML decoder too; a parameter
    substituted whole into a number field keeps its value's type (``0.5`` a float, ``1.0`` an int)."""
    doc = quadratic_experiment()
    template = doc["spec"]["trialTemplate"]
    inline = template.pop("trialSpec")
    template["configMap"] = {"configMapName": "templates", "configMapNamespace": "team-a", "templatePath": "t.yaml"}
    template["successCondition"] = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
    template["failureCondition"] = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    inline["spec"]["activeDeadlineSeconds"] = "PARAMETER"
    text = yaml.safe_dump(inline).replace("activeDeadlineSeconds: PARAMETER", "activeDeadlineSeconds: ${trialParameters.x}\n  backoffLimit: 3.0")
    experiment = resolve_trial_template(load_experiment(doc), lambda ns, name: {"t.yaml": text}, "in the test")
    job_spec = _job_spec(experiment)
    assert (job_spec["backoffLimit"], type(job_spec["backoffLimit"])) == (3, int)
    for value, expected in (("0.5", 0.5), ("1.0", 1)):
        rendered = render_manifest(experiment, {"x": value})["spec"]["activeDeadlineSeconds"]
        assert (rendered, type(rendered)) == (expected, type(expected))
