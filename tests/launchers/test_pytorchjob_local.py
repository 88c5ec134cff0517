"""A PyTorchJob of Master + Worker replicas ran locally as one process with no distributed env, and
nothing said so: a script calling ``init_process_group("gloo")`` (env://) failed every trial with
"environment variable RANK expected". The primary process now gets the env the Training Operator
gives a one-replica job's master (WORLD_SIZE=1, RANK=0, MASTER_ADDR, a free MASTER_PORT) unless
its container sets them, and validate and run note the replicas that do not run here and the
resource limits not applied here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune.cli import main
from kfp_tune.core.interfaces import TrialRun
from kfp_tune.core.loading import load_experiment
from kfp_tune.launchers.local import LocalLauncher

DDP_TRIAL = """\
import sys
import torch
import torch.distributed as dist

args = dict(a.split("=", 1) for a in sys.argv[1:])
dist.init_process_group("gloo")  # env://: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
total = torch.tensor([float(args["x"])])
dist.all_reduce(total)
print(f"world={dist.get_world_size()} rank={dist.get_rank()}")
print(f"loss={(total.item() - 0.3) ** 2:.6f}")
print("accuracy=0.5")
dist.destroy_process_group()
"""

LIMITS = {"limits": {"cpu": "2", "memory": "2Gi", "nvidia.com/gpu": 1}}


def pytorch_job(script: Path, env: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The quadratic experiment with its trial as a PyTorchJob: a Master and 2 Workers, each
    with the container ``main`` (the Master's runs here) and GPU limits."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    container = {
        "name": "main", "image": "pytorch/pytorch:2.2.1", "command": ["python3", str(script), "x=${trialParameters.x}", "y=${trialParameters.y}"],
        "resources": LIMITS,
    }
    if env:
        container["env"] = env
    replica = {"restartPolicy": "OnFailure", "template": {"spec": {"containers": [container]}}}
    doc["spec"]["trialTemplate"]["trialSpec"] = {
        "apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
        "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, **replica}, "Worker": {"replicas": 2, **replica}}},
    }
    return doc


NOTES = (
    "note: spec.trialTemplate.trialSpec: PyTorchJob replicas Worker (2 replicas) will not run locally: only the primary container 'main' runs, "
    "once, as a single process with no peers; the primary process gets the env a single-replica PyTorchJob's master gets from the Training "
    "Operator (WORLD_SIZE=1, RANK=0, MASTER_ADDR=127.0.0.1, MASTER_PORT a free port), where the container sets none of them itself\n"
    "note: spec.trialTemplate.trialSpec: container 'main' resources (cpu, memory, nvidia.com/gpu) are not applied locally: the trial uses "
    "this machine's CPUs, memory and GPUs as its process finds them\n"
)


def test_a_pytorchjob_trial_that_joins_a_gloo_process_group_runs_locally_and_the_replicas_left_out_are_noted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch.distributed")
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):  # what the trial sees comes from the launcher
        monkeypatch.delenv(name, raising=False)
    script = tmp_path / "ddp_trial.py"
    script.write_text(DDP_TRIAL)
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(pytorch_job(script)))
    assert main(["validate", str(path)]) == 0
    assert NOTES in capsys.readouterr().err
    assert main(["run", str(path), "--engine", "inline", "--store", str(tmp_path / "store")]) == 0
    assert capsys.readouterr().err.startswith(NOTES)
    assert main(["logs", "quad", "--store", str(tmp_path / "store")]) == 0
    assert "world=1 rank=0" in capsys.readouterr().out


def test_the_container_s_own_distributed_env_is_kept(tmp_path: Path) -> None:
    """The container's env wins, as the names it sets are its own; the rest are still given."""
    doc = pytorch_job(tmp_path / "t.py", env=[{"name": "MASTER_PORT", "value": "29500"}, {"name": "WORLD_SIZE", "value": "4"}])
    experiment = load_experiment(doc)
    manifest = experiment.spec.trial_template.trial_spec  # type: ignore[union-attr]
    _, env, _ = LocalLauncher().command_for(TrialRun(experiment="quad", trial="quad-t1", manifest=manifest, assignment={}, primary_container="main"))
    assert (env["MASTER_PORT"], env["WORLD_SIZE"], env["RANK"], env["MASTER_ADDR"]) == ("29500", "4", "0", "127.0.0.1")


def test_a_job_gets_no_distributed_env_and_no_replica_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASTER_PORT", raising=False)
    experiment = load_experiment(quadratic_experiment())
    manifest = experiment.spec.trial_template.trial_spec  # type: ignore[union-attr]
    _, env, _ = LocalLauncher().command_for(TrialRun(experiment="quad", trial="quad-t1", manifest=manifest, assignment={}, primary_container="main"))
    assert "MASTER_PORT" not in env
    assert LocalLauncher().not_done_here(experiment) == []
