"""The launcher config's ``gpus`` fills in ``nvidia.com/gpu`` only where the container asks for no
accelerator (QA gpu, finding 4): beside a MIG slice, an AMD or Intel GPU or an FPGA the template
asks for, a whole NVIDIA GPU made the pod unschedulable on those nodes. An extended resource that
is no accelerator (RDMA, SR-IOV) does not keep the GPUs away.

Pure: manifests are prepared with no cluster (``prepare_manifest``, what ``kfp-tune render``
prints through)."""

from __future__ import annotations

from typing import Any

import pytest

from kfp_tune.launchers.kubernetes.manifests import ClusterSettings, is_accelerator, prepare_manifest

SETTINGS = ClusterSettings(namespace="team-a", gpus=1)


def job_asking(part: str, resources: dict[str, Any]) -> dict[str, Any]:
    container = {"name": "main", "image": "python:3.11-slim", "command": ["python3", "/opt/train.py"], "resources": {part: dict(resources)}}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "t-1"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container]}}}}


def resources_of(manifest: dict[str, Any]) -> dict[str, Any]:
    return dict(manifest["spec"]["template"]["spec"]["containers"][0]["resources"])


ACCELERATORS = [
    "nvidia.com/gpu", "nvidia.com/mig-1g.10gb", "nvidia.com/gpu.shared", "amd.com/gpu", "gpu.intel.com/i915", "gpu.intel.com/xe",
    "xilinx/aws-vu9p-f1", "fpga.intel.com/arria10.dcp1.2-nlb0-orchestrated", "amd.com/xilinx_u250_gen3x16_xdma_shell_4_1-0",
    "habana.ai/gaudi", "aws.amazon.com/neuroncore", "google.com/tpu", "huawei.com/Ascend910", "cambricon.com/mlu", "qualcomm.com/qaic",
]
NOT_ACCELERATORS = ["cpu", "memory", "ephemeral-storage", "hugepages-2Mi", "rdma/hca_shared_devices_a", "intel.com/sriov_netdevice",
                    "nvidia.com/hostdev", "example.com/foo", "devices.kubevirt.io/kvm"]


@pytest.mark.parametrize("name", ACCELERATORS)
def test_a_container_asking_for_an_accelerator_gets_no_nvidia_gpu_beside_it(name: str):
    assert is_accelerator(name)
    for part in ("limits", "requests"):
        manifest = prepare_manifest(job_asking(part, {name: 1}), "main", SETTINGS, {})
        assert resources_of(manifest) == {part: {name: 1}}


@pytest.mark.parametrize("name", NOT_ACCELERATORS)
def test_a_resource_that_is_no_accelerator_leaves_the_gpus_to_the_config(name: str):
    assert not is_accelerator(name)
    manifest = prepare_manifest(job_asking("limits", {name: 1}), "main", SETTINGS, {})
    assert resources_of(manifest) == {"limits": {name: 1, "nvidia.com/gpu": 1}}


def test_a_trainjobs_trainer_asking_for_an_amd_gpu_gets_no_nvidia_gpu():
    manifest = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob", "metadata": {"name": "t-1"},
                "spec": {"runtimeRef": {"name": "torch-distributed"},
                         "trainer": {"image": "python:3.11-slim", "command": ["python3", "/opt/train.py"], "resourcesPerNode": {"limits": {"amd.com/gpu": 2}}}}}
    out = prepare_manifest(manifest, "node", SETTINGS, {})
    assert out["spec"]["trainer"]["resourcesPerNode"] == {"limits": {"amd.com/gpu": 2}}
