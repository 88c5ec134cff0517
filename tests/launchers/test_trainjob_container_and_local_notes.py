"""A TrainJob's primary container is Trainer's ``node`` whatever ``primaryContainerName`` says: the
launcher reads ``node``, and validate said nothing of another name (QA operators, session 36,
finding 7; the log is kept under ``node`` too: test_trainjob_log_under_node.py). A
TrainJob with ``numNodes`` > 1, ``numProcPerNode`` > 1 or GPUs in ``resourcesPerNode`` ran
locally as one process with no note, where a PyTorchJob gets the local-run notes (finding 8)."""

from __future__ import annotations

from typing import Any

from conftest import load_katib_example, merge
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.portability import katib_notes
from kfp_tune.launchers.local import LocalLauncher

EXAMPLE = "kubeflow-trainer_trainjob-pytorch.yaml"
PRIMARY = "spec.trialTemplate.primaryContainerName"
TRAINER_SPEC = "spec.trialTemplate.trialSpec.spec.trainer"


def trainjob(**overrides: Any) -> dict[str, Any]:
    return merge(load_katib_example(EXAMPLE), overrides)


def test_a_primary_container_name_other_than_node_is_noted() -> None:
    noted = {n.path: n.message for n in katib_notes(load_experiment(trainjob(**{PRIMARY: "pytorch"})))}
    assert "'node'" in noted[PRIMARY] and "'pytorch'" in noted[PRIMARY], noted
    assert PRIMARY not in {n.path for n in katib_notes(load_experiment(trainjob()))}


def local_notes(trainer: dict[str, Any], with_resources: bool = True) -> list[str]:
    return LocalLauncher().not_done_here(load_experiment(trainjob(**{f"{TRAINER_SPEC}.{k}": v for k, v in trainer.items()})), with_resources)


def test_a_trainjob_of_several_nodes_or_processes_gets_the_local_run_notes() -> None:
    notes = local_notes({"numNodes": 2, "numProcPerNode": 4, "resourcesPerNode": {"limits": {"nvidia.com/gpu": 4}}})
    assert any(n.startswith("TrainJob: numNodes 2") and "will not run locally" in n and "'node'" in n for n in notes), notes
    assert any(n.startswith("TrainJob numProcPerNode 4") and "one process" in n for n in notes), notes
    assert any("nvidia.com/gpu" in n and "not applied locally" in n for n in notes), notes
    assert not any("nvidia.com/gpu" in n for n in local_notes({"numNodes": 2, "resourcesPerNode": {"limits": {"nvidia.com/gpu": 4}}}, with_resources=False))


def test_a_trainjob_of_one_node_and_one_process_gets_none() -> None:
    assert local_notes({"numNodes": 1, "numProcPerNode": 1}) == []
    assert local_notes({"numNodes": 1, "numProcPerNode": "1"}) == []
