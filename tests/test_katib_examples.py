"""Every one of Katib's 33 example experiments (kubeflow/katib ``examples/v1beta1``, kept unchanged
in tests/data/katib-examples) through the commands a Katib user runs: ``validate``, ``render``
(the manifest checked against its kind's schema) and ``compile``; and ``run`` for every example
whose trial can run on this machine, with the training container swapped for a local stand-in
(tests/trials/katib_example.py) that reports the example's metrics in its collector's format.

An example Katib's own admission webhook refuses (its validator.go) is refused here for the same
field. Katib's NAS examples (enas, darts) run too: their trials get the values the algorithm makes,
quoted in the command as Katib's examples quote them (Katib's ``sh -c`` takes the quotes away)."""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import DATA, KATIB_EXAMPLES, KATIB_NAS, KATIB_REFUSES, TESTS
from fake_kube import schema_errors
from kfp_tune.cli import main

MOUNT = "/opt/kfp-tune-tests"
STAND_IN = f"{MOUNT}/katib_example.py"
"""The stand-in as the trial's command names it; ``run --mount`` makes it tests/trials/."""
TEMPLATES = DATA / "trial-templates.yaml"
"""A ConfigMap holding a template that fits trial-configmap-source.yaml (Katib's own ConfigMap,
tests/data/katib-manifests/trial-templates.yaml, does not: Katib refuses that pair too)."""

NEEDS_TEMPLATES = {"trial-template_trial-configmap-source.yaml"}
CLUSTER_ONLY = {
    "argo_argo-workflow.yaml": "an Argo Workflow: Argo's controller runs its steps",
    "metrics-collector_custom-metrics-collector.yaml": "its collector reports to Katib's DB manager over gRPC",
}
"""Examples whose trial cannot run on this machine, and why."""

LINE_FORMATS = {
    "metrics-collector_file-metrics-collector.yaml": "{{metricName: {name}, metricValue: {value}}}",
    "kubeflow-training-operator_xgboostjob-lightgbm.yaml": "{name} : {value}",
}
"""Examples whose collector reads a metricsFormat of its own: the stand-in writes that form."""


def _doc(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def _args(path: Path, *extra: str) -> list[str]:
    return [str(path), *(["--trial-templates", str(TEMPLATES)] if path.name in NEEDS_TEMPLATES else []), *extra]


def _runs_here(name: str) -> bool:
    return name not in KATIB_REFUSES and name not in CLUSTER_ONLY


def test_all_of_katibs_examples_are_here():
    assert len(KATIB_EXAMPLES) == 33
    assert all(_doc(p)["kind"] == "Experiment" for p in KATIB_EXAMPLES)


@pytest.mark.parametrize("path", KATIB_EXAMPLES, ids=lambda p: p.name)
def test_validate_render_and_compile(path, tmp_path, capsys):
    if path.name in KATIB_REFUSES:
        assert main(["validate", str(path)]) == 2
        assert KATIB_REFUSES[path.name] in capsys.readouterr().err
        return
    if path.name in KATIB_NAS:  # render: the values the algorithm would give a trial, given by hand, land where Katib puts them
        algorithm = _doc(path)["spec"]["algorithm"]["algorithmName"]
        searched = {"enas": ["architecture", "nn_config"], "darts": ["algorithm-settings", "search-space", "num-layers"]}[algorithm]
        assert main(["render", str(path)]) == 2
        assert f"--assign {searched[0]}=...: a trial of this {algorithm} experiment gets" in capsys.readouterr().err
        assert main(["render", str(path), *[a for name in searched for a in ("--assign", f"{name}=given-{name}")]]) == 0
        manifest = yaml.safe_load(capsys.readouterr().out)
        assert schema_errors(manifest) == []
        assert all(f"given-{name}" in json.dumps(manifest) for name in searched)
        assert main(["validate", str(path)]) == 0, capsys.readouterr().err
        output = tmp_path / "pipeline.yaml"
        assert main(["compile", str(path), "-o", str(output)]) == 0, capsys.readouterr().err
        assert output.stat().st_size > 0
        return
    assert main(["validate", *_args(path)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    # the trial's service account must be allowed, as for every kind (Argo's example runs as "argo")
    allowed = ["--launcher-config", json.dumps({"serviceAccounts": ["default", "argo"]})] if "argo" in path.name else []
    assert main(["render", *_args(path, *allowed)]) == 0, capsys.readouterr().err
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert manifest["metadata"]["namespace"] == (_doc(path)["metadata"].get("namespace") or "default")
    if "argo" not in path.name:  # no Argo CRD schema here; tests/launchers/test_any_kind.py runs it on the fake API
        assert schema_errors(manifest) == []
    output = tmp_path / "pipeline.yaml"
    assert main(["compile", *_args(path, "-o", str(output))]) == 0, capsys.readouterr().err
    assert output.stat().st_size > 0


def _local(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The example with its training container swapped for the stand-in, and a budget of 4
    trials (2 at a time) so that 25 examples run in seconds. Everything else is Katib's."""
    doc = copy.deepcopy(doc)
    spec = doc["spec"]
    objective = spec["objective"]
    metrics = [objective["objectiveMetricName"], *objective.get("additionalMetricNames", [])]
    collector = spec.get("metricsCollectorSpec", {})
    kind = collector.get("collector", {}).get("kind", "StdOut")
    source = collector.get("source", {}).get("fileSystemPath", {})
    output = {"File": "json" if source.get("format") == "JSON" else "text", "TensorFlowEvent": "tfevent"}.get(kind, "stdout")
    template = spec["trialTemplate"]
    # an architecture search's values hold spaces and quotes: quoted as Katib's NAS examples do
    quote = '"' if name in KATIB_NAS else ""
    parameters = [f"{p['name']}={quote}${{trialParameters.{p['name']}}}{quote}" for p in template.get("trialParameters", [])]
    # the command runs through sh -c, as Katib runs it: a word with spaces is quoted for the shell
    command = ["python3", STAND_IN, shlex.quote(f"metrics={','.join(metrics)}"), f"output={output}", *parameters]
    if spec["algorithm"]["algorithmName"] == "darts":  # the genotype is the objective: its own stand-in, with the example's arguments
        command = ["python3", f"{MOUNT}/darts_stand_in.py", *[a for a in _primary_command(template) if a.startswith("--")]]
    if name in LINE_FORMATS:
        command.append(shlex.quote(f"line={LINE_FORMATS[name]}"))
    if output != "stdout":
        command.append(f"log_path={source['path']}")
    if "earlyStopping" in spec:
        command.append("steps=6")
    trial_spec = template.get("trialSpec")
    if trial_spec is None:  # from the ConfigMap: the test's template holds the stand-in already
        trial_spec = {}
    for container in _containers(trial_spec):
        if container.get("name") == template["primaryContainerName"]:
            container["command"] = command
            container.pop("args", None)
    if trial_spec.get("kind") == "TrainJob":  # the trainer's command runs as the trial locally
        trial_spec["spec"]["trainer"]["command"] = command
        trial_spec["spec"]["trainer"].pop("args", None)
    spec["maxTrialCount"] = 4
    spec["parallelTrialCount"] = 2
    spec["maxFailedTrialCount"] = min(spec.get("maxFailedTrialCount", 3), 3)
    if spec.get("algorithm", {}).get("algorithmName") == "hyperband":
        spec["maxTrialCount"] = 9
    return doc


def _primary_command(template: dict[str, Any]) -> list[str]:
    for container in _containers(template.get("trialSpec", {})):
        if container.get("name") == template["primaryContainerName"]:
            return [str(a) for a in container.get("command", []) + container.get("args", [])]
    return []


def _containers(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [c for c in node.get("containers", []) if isinstance(c, dict)]
        for key, value in node.items():
            if key != "containers":
                found.extend(_containers(value))
        return found
    if isinstance(node, list):
        return [c for item in node for c in _containers(item)]
    return []


@pytest.mark.parametrize("path", [p for p in KATIB_EXAMPLES if _runs_here(p.name)], ids=lambda p: p.name)
def test_run_with_a_local_trial(path, tmp_path, capsys):
    doc = _local(_doc(path), path.name)
    local = tmp_path / path.name
    local.write_text(yaml.safe_dump(doc))
    code = main(["run", *_args(local, "--engine", "inline", "--store", str(tmp_path / "store"), "--mount", f"{MOUNT}={TESTS / 'trials'}", "--json")])
    captured = capsys.readouterr()
    outcome = json.loads(captured.out.strip().splitlines()[-1])
    assert code == 0, captured.err[-3000:]
    assert outcome["status"] == "Succeeded" and outcome["failed"] == 0, outcome
    objective = doc["spec"]["objective"]["objectiveMetricName"]
    assert objective in outcome["best_trial"]["metrics"], outcome


@pytest.mark.parametrize("name", sorted(CLUSTER_ONLY))
def test_an_example_that_runs_only_on_a_cluster_is_refused_before_any_trial(name, tmp_path, capsys):
    """Run here as it is (its container's command kept, the stand-in not swapped in): refused
    at once, naming the field, with nothing stored. Every trial used to start and fail, and the
    experiment was kept as Failed, so a fixed YAML of that name was refused after."""
    path = next(p for p in KATIB_EXAMPLES if p.name == name)
    store = tmp_path / "store"
    code = main(["run", str(path), "--engine", "inline", "--store", str(store)])
    err = capsys.readouterr().err
    field = {"argo_argo-workflow.yaml": "spec.trialTemplate.trialSpec: kind Workflow has no container named 'main'",
             "metrics-collector_custom-metrics-collector.yaml": "spec.metricsCollectorSpec.collector.customCollector.command: "}[name]
    assert code == 2 and err.startswith(f"error: {field}"), err
    assert not store.exists() or not [p for p in store.rglob("*") if p.is_file()]
