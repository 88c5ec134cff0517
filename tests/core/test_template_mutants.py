"""Trial templates at their edges (``kfp_tune.core.template``): which container trains, what a
``${trialSpec.*}`` reference reads when the manifest lacks the field, and what an error names.

The manifests are the shapes Katib users write: a batch Job, a JobSet (its pods under a list of
replicated jobs), a Job with an init container, and a Kubeflow Trainer v2 TrainJob, whose
trainer is ``spec.trainer`` rather than a named container."""

from __future__ import annotations

from typing import Any

import pytest

from kfp_tune.core.template import find_containers, find_primary_container, primary_container, resolve_meta_reference, substitute


def _job(*containers: dict[str, Any], init: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    pod: dict[str, Any] = {"volumes": [{"name": "main", "emptyDir": {}}], "containers": list(containers), "restartPolicy": "Never"}
    if init:
        pod["initContainers"] = list(init)
    return {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": pod}}}


# --- which container trains ----------------------------------------------------------------------


def test_the_primary_container_is_the_one_named_not_a_volume_of_that_name() -> None:
    """A volume named like the container is no container: only ``containers`` lists hold them."""
    manifest = _job({"name": "sidecar", "image": "busybox"}, {"name": "main", "image": "trainer:1"})
    container = primary_container(manifest, "main")
    assert container is not None and container["image"] == "trainer:1"
    assert [c["name"] for c in find_containers(manifest)] == ["sidecar", "main"]


def test_containers_are_found_inside_lists_of_pod_templates() -> None:
    """A JobSet keeps its pod templates in ``spec.replicatedJobs``, a list."""
    jobset = {
        "apiVersion": "jobset.x-k8s.io/v1alpha2",
        "kind": "JobSet",
        "spec": {"replicatedJobs": [
            {"name": "driver", "template": {"spec": {"template": {"spec": {"containers": [{"name": "driver", "image": "d:1"}]}}}}},
            {"name": "workers", "template": {"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "w:1"}]}}}}},
        ]},
    }
    assert [c["name"] for c in find_containers(jobset)] == ["driver", "main"]
    found = primary_container(jobset, "main")
    assert found is not None and found["image"] == "w:1"


def test_an_init_container_is_a_container_too() -> None:
    manifest = _job({"name": "main", "image": "trainer:1"}, init=({"name": "fetch-data", "image": "fetch:1"},))
    assert {c["name"] for c in find_containers(manifest)} == {"main", "fetch-data"}
    found = find_primary_container(manifest, "fetch-data")
    assert found is not None and found["image"] == "fetch:1"


def test_a_trainjobs_trainer_is_its_primary_container_whatever_name_is_asked() -> None:
    trainer = {"image": "trainer:2", "command": ["torchrun", "train.py"], "numNodes": 2}
    manifest = {
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "TrainJob",
        "spec": {"runtimeRef": {"name": "torch-distributed"}, "trainer": trainer},
    }
    assert primary_container(manifest, "node") == trainer
    assert primary_container(manifest, "main") == trainer


@pytest.mark.parametrize(
    "spec",
    [None, {}, {"runtimeRef": {"name": "torch-distributed"}}, {"trainer": "trainer:2"}, {"trainer": ["trainer:2"]}],
)
def test_a_trainjob_without_a_trainer_mapping_has_no_primary_container(spec: Any) -> None:
    """Even when a container named as asked sits elsewhere in it: a TrainJob trains in its trainer."""
    manifest: dict[str, Any] = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "containers": [{"name": "node"}]}
    if spec is not None:
        manifest["spec"] = spec
    assert primary_container(manifest, "node") is None


# --- ${trialSpec.*} references -----------------------------------------------------------------


@pytest.mark.parametrize("reference", ["${trialSpec.Name}", "${trialSpec.Namespace}", "${trialSpec.Kind}", "${trialSpec.APIVersion}"])
def test_a_reference_to_a_field_the_manifest_lacks_reads_as_empty(reference: str) -> None:
    """Go's object getters (Katib's GetNamespace, GetKind, ...) give "" for a field left out, and
    a trial run with no namespace (the local launcher) has none: the trial gets "", never the
    text ``None``."""
    manifests: list[dict[str, Any]] = [{}, {"metadata": {}}, {"metadata": {"labels": {"app": "x"}}}]
    for manifest in manifests:
        assert resolve_meta_reference(reference, manifest) == ""


@pytest.mark.parametrize("reference", ["${trialSpec.Labels[team]}", "${trialSpec.Annotations[owner]}"])
def test_a_label_or_annotation_absent_from_the_trial_reads_as_empty(reference: str) -> None:
    """Validation refuses a key that neither the template nor kfp-tune sets; what is left absent
    at render is a trial label an algorithm sets on some trials only (pbt's parent, not on the
    first generation): it reads as "", never the text ``None``."""
    manifests: list[dict[str, Any]] = [
        {}, {"metadata": {}}, {"metadata": {"labels": None, "annotations": None}}, {"metadata": {"labels": {"app": "x"}, "annotations": {"app": "y"}}},
    ]
    for manifest in manifests:
        assert resolve_meta_reference(reference, manifest) == ""
    present = {"metadata": {"labels": {"team": "vision"}, "annotations": {"owner": "vision"}}}
    assert resolve_meta_reference(reference, present) == "vision"


def test_a_reference_that_is_not_trial_metadata_is_refused_naming_it() -> None:
    with pytest.raises(ValueError) as info:
        resolve_meta_reference("${trialSpec.Image}", {"kind": "Job"})
    assert "${trialSpec.Image}" in str(info.value)


def test_a_placeholder_without_a_value_is_named_in_the_error() -> None:
    with pytest.raises(KeyError) as info:
        substitute({"args": ["--lr=${trialParameters.learningRate}"]}, {"batch": "32"})
    assert "${trialParameters.learningRate}" in str(info.value)
