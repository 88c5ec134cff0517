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
from kfp_tune.core.errors import SpecError
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


REPLICAS_NOTE = (
    "note: spec.trialTemplate.trialSpec: PyTorchJob: Worker (2 replicas) will not run locally; only the primary container 'main' (of Master) runs, "
    "once, as a single process with no peers; it gets the env a single-replica PyTorchJob's master gets from the Training "
    "Operator (WORLD_SIZE=1, RANK=0, MASTER_ADDR=127.0.0.1, MASTER_PORT a free port), each unless the container sets it\n"
)
RESOURCES_NOTE = (
    "note: spec.trialTemplate.trialSpec: container 'main' resources (cpu, memory, nvidia.com/gpu) are not applied locally: the trial uses "
    "this machine's CPUs, memory and GPUs as its process finds them\n"
)
NOTES = REPLICAS_NOTE + RESOURCES_NOTE
"""``run`` says both; ``validate`` the replicas only (nearly every Katib example names resources)."""


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
    validated = capsys.readouterr().err
    assert REPLICAS_NOTE in validated and RESOURCES_NOTE not in validated
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


def worker_listed_first(tmp_path: Path) -> dict[str, Any]:
    """A Master + 2 Workers PyTorchJob whose Worker comes first in the YAML and runs another script."""
    doc = pytorch_job(tmp_path / "master.py")
    specs = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]
    worker = yaml.safe_load(yaml.safe_dump(specs["Worker"]))
    worker["template"]["spec"]["containers"][0]["command"][1] = str(tmp_path / "worker.py")
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"] = {"Worker": worker, "Master": specs["Master"]}
    return doc


def test_the_master_runs_whatever_the_order_of_the_replica_types(tmp_path: Path) -> None:
    """Katib's primary pod is the Master's (primaryPodLabels job-role: master): that container
    runs, gets RANK=0, and the note names the Workers as not run, not the Master."""
    experiment = load_experiment(worker_listed_first(tmp_path))
    template = experiment.spec.trial_template
    assert template is not None and template.trial_spec is not None
    run = TrialRun(experiment="quad", trial="quad-t1", manifest=template.trial_spec, assignment={"x": "0.1", "y": "0.2"},
                   primary_container="main", primary_pod_labels=dict(template.primary_pod_labels or {}))
    argv, env, _ = LocalLauncher().command_for(run)
    assert str(tmp_path / "master.py") in " ".join(argv) and env["RANK"] == "0"
    notes = LocalLauncher().not_done_here(experiment)
    assert notes[0].startswith("PyTorchJob: Worker (2 replicas) will not run locally; only the primary container 'main' (of Master) runs")


def test_render_wraps_the_master_s_command_whatever_the_order_of_the_replica_types(tmp_path: Path) -> None:
    from kfp_tune.launchers.kubernetes import render_manifest

    rendered = render_manifest(load_experiment(worker_listed_first(tmp_path)), {"x": "0.1", "y": "0.2"}, trial_name="quad-t1")
    specs = rendered["spec"]["pytorchReplicaSpecs"]
    master = " ".join(map(str, specs["Master"]["template"]["spec"]["containers"][0]["command"]))
    worker = " ".join(map(str, specs["Worker"]["template"]["spec"]["containers"][0]["command"]))
    assert master == "sh -c" and worker.startswith("python3 "), (master, worker)  # Katib's StdOut collector wraps the primary pod's only


def test_two_live_trials_never_get_the_same_master_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The port drawn is held while its trial lives: a draw that gives a held one is drawn again;
    once the trial ends its port may be given again."""
    import kfp_tune.launchers.replicas as replicas

    draws = iter([5001, 5001, 5002, 5001, 5001, 5003])
    monkeypatch.setattr(replicas, "free_port", lambda: next(draws))
    doc = pytorch_job(tmp_path / "t.py")
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]["command"] = [
        "python3", "-c", "pass", "${trialParameters.x}", "${trialParameters.y}"]
    manifest = load_experiment(doc).spec.trial_template.trial_spec  # type: ignore[union-attr]
    launcher = LocalLauncher()

    def port(trial: str) -> str:
        return launcher.command_for(TrialRun(experiment="quad", trial=trial, manifest=manifest, assignment={}, primary_container="main"))[1]["MASTER_PORT"]

    assert (port("quad-t1"), port("quad-t2")) == ("5001", "5002")
    launcher._master_ports.pop("quad-t1")  # as run() does when the trial ends
    assert port("quad-t3") == "5001"
    assert port("quad-t4") == "5003"


def pytorch_notes(tmp_path: Path, specs: dict[str, Any], **spec: Any) -> list[str]:
    doc = pytorch_job(tmp_path / "t.py")
    job = doc["spec"]["trialTemplate"]["trialSpec"]["spec"]
    replicas = {name: {**job["pytorchReplicaSpecs"]["Master"], **given} for name, given in specs.items()}
    for replica in replicas.values():
        replica["template"]["spec"]["containers"][0].pop("resources", None)
    job.update({"pytorchReplicaSpecs": replicas, **spec})
    return LocalLauncher().not_done_here(load_experiment(doc))


def test_what_a_pytorchjob_s_notes_say_of_its_distributed_env(tmp_path: Path) -> None:
    """A Worker-only job (elastic too) gets no env, from the operator or here; nprocPerNode > 1
    runs one process here; a container's own WORLD_SIZE > 1 beside RANK=0 waits for peers that
    never start; a Master of 0 replicas, which the operator's webhook refuses, is refused by
    validation before any note (QA operators, session 36, finding 4)."""
    elastic = {"elasticPolicy": {"rdzvBackend": "c10d", "minReplicas": 1, "maxReplicas": 2}}
    for extra in ({}, elastic):
        (note,) = pytorch_notes(tmp_path, {"Worker": {"replicas": 2}}, **extra)
        assert note.startswith("PyTorchJob: Worker (1 more replica) will not run locally; only the primary container 'main' (of Worker) runs")
        assert "with no Master replica that runs, the Training Operator sets no WORLD_SIZE, RANK, MASTER_ADDR or MASTER_PORT" in note
    (note,) = pytorch_notes(tmp_path, {"Master": {"replicas": 1}}, nprocPerNode="2")
    assert note.startswith("PyTorchJob nprocPerNode 2: on a cluster torchrun starts 2 processes in each pod") and "WORLD_SIZE=1" in note
    doc_env = [{"name": "WORLD_SIZE", "value": "4"}]
    notes = pytorch_notes(tmp_path, {"Master": {"replicas": 1, "template": {"spec": {"containers": [
        {"name": "main", "image": "x", "command": ["python3", "t.py", "${trialParameters.x}", "${trialParameters.y}"], "env": doc_env, "resources": {}}]}}}})
    assert notes == ["container 'main' sets WORLD_SIZE=4 and gets RANK=0 here, with no peers: init_process_group waits for the other 3 ranks, "
                     "which never start, so the trial hangs until its deadline"]
    with pytest.raises(SpecError, match=r"pytorchReplicaSpecs\.Master\.replicas: expected 1 .*got 0.*must be 1"):
        pytorch_notes(tmp_path, {"Master": {"replicas": 0}, "Worker": {"replicas": 1}})


def test_the_resources_note_leaves_out_an_amount_of_zero() -> None:
    """``nvidia.com/gpu: 0`` asks for no GPU: the run's note names only what is asked for."""
    from conftest import quadratic_experiment
    from kfp_tune.core.loading import load_experiment
    from kfp_tune.launchers.local import LocalLauncher

    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": 0, "cpu": "1"}}
    notes = LocalLauncher().not_done_here(load_experiment(doc))
    assert notes == ["container 'main' resources (cpu) are not applied locally: the trial uses this machine's CPUs, memory and GPUs as its process finds them"]
    assert LocalLauncher().not_done_here(load_experiment(doc), with_resources=False) == []
