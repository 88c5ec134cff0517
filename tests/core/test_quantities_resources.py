"""A trial template's resource amounts, checked as Kubernetes' pod validation checks them
(pkg/apis/core/validation: ``ValidateResourceRequirements``, ``ValidateResourceQuantityValue``;
pkg/api/pod/warnings.go): a part of a byte is only warned about, a part of an extended resource
(``nvidia.com/gpu``) refused (validation QA pass)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.quantities import trial_resource_amounts

RESOURCES = "spec.trialTemplate.trialSpec.spec.template.spec.containers.0.resources"
PRIMARY = "spec.trialTemplate.trialSpec (container 'main') resources"


def _validate(tmp_path, capsys, doc: dict[str, Any]) -> tuple[int, str]:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(doc))
    capsys.readouterr()
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("amount", ["0.5", "1500m"])
def test_a_part_of_a_byte_of_ephemeral_storage_is_taken_as_of_memory(tmp_path, capsys, amount):
    """Kubernetes creates the pod (a warning only, for memory and ephemeral-storage alike)."""
    doc = quadratic_experiment(**{RESOURCES: {"limits": {"ephemeral-storage": amount, "memory": amount}}})
    assert trial_resource_amounts(load_experiment(doc))["ephemeral-storage"] == Fraction(amount.rstrip("m")) / (1000 if amount.endswith("m") else 1)
    assert _validate(tmp_path, capsys, doc) == (0, "")



# --- requests and limits of every container, as Kubernetes' ValidateResourceRequirements -------


def _errors(doc: dict[str, Any]) -> list[str]:
    from kfp_tune.core.errors import SpecError

    try:
        trial_resource_amounts(load_experiment(doc))
    except SpecError as exc:
        return [str(e) for e in exc.errors]
    return []


@pytest.mark.parametrize(
    ("resources", "told"),
    [
        ({"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "2"}},
         f"{PRIMARY}.requests.nvidia.com/gpu: expected '2', its limit (Kubernetes does not overcommit nvidia.com/gpu: a request must equal the limit), got '1'"),
        ({"requests": {"nvidia.com/gpu": "0.5"}, "limits": {"nvidia.com/gpu": "1"}},
         f"{PRIMARY}.requests.nvidia.com/gpu: expected a whole number of nvidia.com/gpu, got '0.5'"),
        ({"requests": {"nvidia.com/gpu": "1"}},
         f"{PRIMARY}.limits.nvidia.com/gpu: required: a limit for nvidia.com/gpu, equal to its request '1' (Kubernetes does not overcommit "
         "nvidia.com/gpu: it needs a limit, and a request equal to it)"),
        ({"requests": {"hugepages-2Mi": "2Mi"}, "limits": {"hugepages-2Mi": "4Mi"}},
         f"{PRIMARY}.requests.hugepages-2Mi: expected '4Mi', its limit (Kubernetes does not overcommit hugepages-2Mi: a request must equal the limit), got '2Mi'"),
        ({"requests": {"cpu": "2"}, "limits": {"cpu": "1"}},
         f"{PRIMARY}.requests.cpu: expected at most '1', its limit (Kubernetes refuses a request above the limit), got '2'"),
    ],
)
def test_a_request_kubernetes_refuses_beside_its_limit_is_refused(tmp_path, capsys, resources, told):
    """The request was not read where a limit was given, so each of these passed validate."""
    doc = quadratic_experiment(**{RESOURCES: resources})
    assert _errors(doc) == [told]
    code, err = _validate(tmp_path, capsys, doc)
    assert code == 2 and told in err.splitlines()


@pytest.mark.parametrize(
    "resources",
    [
        {"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": 1}},  # equal amounts, written apart
        {"limits": {"nvidia.com/gpu": "2"}},  # the request defaults to the limit
        {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        {"requests": {"cpu": "2"}},  # cpu and memory need no limit
        {"requests": {"nvidia.com/gpu": "${trialParameters.x}"}, "limits": {"nvidia.com/gpu": "${trialParameters.x}"}},
    ],
)
def test_requests_and_limits_kubernetes_takes_are_taken(resources):
    assert _errors(quadratic_experiment(**{RESOURCES: resources})) == []


def test_every_container_is_checked_not_only_the_primary_one(tmp_path, capsys):
    """A sidecar's and an initContainer's part of a GPU, and every replica's, passed validate."""
    doc = quadratic_experiment()
    pod = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
    pod["containers"].append({"name": "sidecar", "image": "busybox", "resources": {"limits": {"nvidia.com/gpu": "0.5"}}})
    pod["initContainers"] = [{"name": "init", "image": "busybox", "resources": {"requests": {"example.com/fpga": "1"}}}]
    told = [
        "spec.trialTemplate.trialSpec.spec.template.spec.containers[1].resources.limits.nvidia.com/gpu: expected a whole number of nvidia.com/gpu, got '0.5'",
        "spec.trialTemplate.trialSpec.spec.template.spec.initContainers[0].resources.limits.example.com/fpga: required: a limit for "
        "example.com/fpga, equal to its request '1' (Kubernetes does not overcommit example.com/fpga: it needs a limit, and a request equal to it)",
    ]
    assert sorted(_errors(doc)) == told
    code, err = _validate(tmp_path, capsys, doc)
    assert code == 2 and all(line in err.splitlines() for line in told)


def test_a_pytorchjob_workers_containers_are_checked():
    from conftest import load_katib_example

    doc = load_katib_example("kubeflow-training-operator_pytorchjob-mnist.yaml")
    worker = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]
    worker["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "0.5"}}
    worker["initContainers"] = [{"name": "init", "image": "busybox", "resources": {"limits": {"nvidia.com/gpu": "1"}, "requests": {"nvidia.com/gpu": "0"}}}]
    where = "spec.trialTemplate.trialSpec.spec.pytorchReplicaSpecs.Worker.template.spec"
    assert _errors(doc) == [
        f"{where}.containers[0].resources.limits.nvidia.com/gpu: expected a whole number of nvidia.com/gpu, got '0.5'",
        f"{where}.initContainers[0].resources.requests.nvidia.com/gpu: expected '1', its limit (Kubernetes does not overcommit nvidia.com/gpu: "
        "a request must equal the limit), got '0'",
    ]


@pytest.mark.parametrize(
    ("amount", "told"),
    [("0.5", "expected a whole number of nvidia.com/gpu, got '0.5'"), ("lots", "expected a Kubernetes quantity such as 2, 500m or 4Gi, got 'lots'")],
)
def test_a_trainjobs_resources_per_node_are_checked(amount, told):
    from conftest import load_katib_example

    doc = load_katib_example("kubeflow-trainer_trainjob-pytorch.yaml")
    assert _errors(doc) == []
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["trainer"]["resourcesPerNode"] = {"limits": {"nvidia.com/gpu": amount}}
    assert _errors(doc) == [f"spec.trialTemplate.trialSpec.spec.trainer.resourcesPerNode.limits.nvidia.com/gpu: {told}"]


def test_the_primary_containers_amounts_are_read_as_before():
    """What the compiled pipeline asks for (times parallelTrialCount) is unchanged: a limit wins."""
    doc = quadratic_experiment(**{RESOURCES: {"requests": {"cpu": "500m", "nvidia.com/gpu": "2"}, "limits": {"cpu": "1", "nvidia.com/gpu": "2"}}})
    assert trial_resource_amounts(load_experiment(doc)) == {"cpu": Fraction(1), "nvidia.com/gpu": Fraction(2)}


def test_a_negative_cpu_limit_is_refused_at_its_field(tmp_path, capsys):
    code, err = _validate(tmp_path, capsys, quadratic_experiment(**{RESOURCES: {"limits": {"cpu": "-1"}}}))
    assert code == 2
    assert f"{PRIMARY}.limits.cpu: expected an amount of 0 or more, got '-1'" in err.splitlines()
