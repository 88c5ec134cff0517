"""Compiled for the local launcher, the launch-trial pod asks for the accelerator the trial template
names, whatever its resource name (QA gpu, finding 7): a MIG slice, an AMD GPU or an FPGA was
dropped, with no note, and the pod landed on a CPU node. KFP's ``set_accelerator_type`` takes
any resource name, but one per task: an extended resource the pod cannot ask for too is said
at compile time (a ``LocalTrialResourcesWarning``)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.pipelines.builder import LocalTrialResourcesWarning, compile_pipeline, local_trial_resources


def experiment_asking(slots: int, limits: dict[str, Any]) -> dict[str, Any]:
    doc = quadratic_experiment(**{"spec.parallelTrialCount": slots, "spec.maxTrialCount": slots, "spec.maxFailedTrialCount": 1})
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": dict(limits)}
    return doc


def launch_trial_accelerators(path: Path) -> list[tuple[str, str]]:
    """(type, count) of each launch-trial task's accelerator, as KFP's IR writes it."""
    ir = next(yaml.safe_load_all(path.read_text()))
    asked = [e["container"]["resources"].get("accelerator") or {} for name, e in ir["deploymentSpec"]["executors"].items() if "launch-trial" in name]
    return [(a.get("resourceType", ""), str(a.get("resourceCount", ""))) for a in asked]


@pytest.mark.parametrize("name", ["nvidia.com/mig-1g.10gb", "amd.com/gpu", "gpu.intel.com/i915", "xilinx/aws-vu9p-f1"])
def test_the_launch_trial_pod_asks_for_the_accelerator_as_the_trial_names_it(name: str, tmp_path: Path):
    experiment = load_experiment(experiment_asking(2, {name: 1, "cpu": "1"}))
    assert local_trial_resources(experiment) == {"cpu": "2250m", name: "2"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalTrialResourcesWarning)  # one accelerator: nothing to say
        path = compile_pipeline(experiment, tmp_path / "p.yaml", launcher_config={"kind": "local"})
    asked = launch_trial_accelerators(path)
    assert asked and all(a == (name, "2") for a in asked), asked


def test_an_accelerator_of_none_is_not_asked_for_and_the_one_asked_wins(tmp_path: Path):
    """``nvidia.com/gpu: 0`` (the way to say "none" where the config's gpus would fill one in)
    beside an AMD GPU: the pod asks for the AMD GPU."""
    experiment = load_experiment(experiment_asking(1, {"nvidia.com/gpu": 0, "amd.com/gpu": 1}))
    assert local_trial_resources(experiment) == {"amd.com/gpu": "1"}


def test_what_the_pod_cannot_ask_for_is_said_at_compile_time(tmp_path: Path):
    doc = experiment_asking(2, {"nvidia.com/gpu": 1, "amd.com/gpu": 1, "rdma/hca_shared_devices_a": 1})
    with pytest.warns(LocalTrialResourcesWarning) as told:
        path = compile_pipeline(load_experiment(doc), tmp_path / "p.yaml", launcher_config={"kind": "local"})
    message = str(told[0].message)
    assert "amd.com/gpu" in message and "rdma/hca_shared_devices_a" in message and "nvidia.com/gpu" in message, message
    asked = launch_trial_accelerators(path)
    assert asked and all(a == ("nvidia.com/gpu", "2") for a in asked), asked
    # the CLI says it too, on stderr (a process of its own: pytest records the warnings of its own)
    source = tmp_path / "exp.yaml"
    source.write_text(yaml.safe_dump(doc))
    command = [sys.executable, "-m", "kfp_tune.cli", "compile", str(source), "-o", str(tmp_path / "c.yaml"), "--launcher-config", '{"kind": "local"}']
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "rdma/hca_shared_devices_a" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_the_kubernetes_launcher_pipeline_says_nothing_of_the_trials_accelerators(tmp_path: Path):
    doc = experiment_asking(2, {"nvidia.com/gpu": 1, "amd.com/gpu": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error", LocalTrialResourcesWarning)
        compile_pipeline(load_experiment(doc), tmp_path / "p.yaml", launcher_config={"kind": "kubernetes"})
