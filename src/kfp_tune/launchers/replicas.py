"""What a trial of several replicas becomes on this machine, where one process runs: which
container that is (the one of Katib's primary pod, whatever the YAML's order), which replicas
do not start, and the env a PyTorchJob's master gets from the Training Operator, so that
``init_process_group`` works as on a one-replica job. Used by the local launcher and its notes."""

from __future__ import annotations

import socket
from collections.abc import Collection, Mapping
from typing import Any

from kfp_tune.core.spec import Experiment
from kfp_tune.core.template import is_train_job
from kfp_tune.launchers.kubernetes.kinds import primary_pod_container, primary_template_container


def local_primary(
    manifest: Mapping[str, Any], primary: str, primary_pod_labels: Mapping[str, str] | None, pod_labels: Mapping[str, str] | None = None
) -> tuple[str, dict[str, Any]] | None:
    """(pod template's path, container) of the one container a local run starts: the one
    Katib's primary pod runs (:func:`~kfp_tune.launchers.kubernetes.kinds.primary_template_container`),
    whatever the order of the replica types in the YAML."""
    return primary_template_container(manifest, primary, primary_pod_labels, pod_labels)


def local_container(experiment: Experiment) -> dict[str, Any] | None:
    """The trial template's container that a local run starts (:func:`local_primary`: a
    PyTorchJob's Master whatever the YAML order), else the first so named; what every local
    note about the container reads (its command, workingDir, env), so a note names what runs."""
    template = experiment.spec.trial_template
    if template is None or not isinstance(template.trial_spec, Mapping):
        return None
    return primary_pod_container(template.trial_spec, template.primary_container_name, template.primary_pod_labels, experiment.metadata.labels)  # pod_labels: the Experiment's


def replicas_not_run(
    manifest: Mapping[str, Any], primary: str, primary_pod_labels: Mapping[str, str] | None = None, pod_labels: Mapping[str, str] | None = None
) -> list[str]:
    """The replicas of a Training Operator kind's resource (its ``*ReplicaSpecs``) that a local
    run does not start, as ``Worker (2 replicas)``; the replica type whose container runs
    (:func:`local_primary`) is named only for its replicas past that one (``Master (1 more
    replica)``)."""
    spec = manifest.get("spec")
    found = [(key, value) for key, value in spec.items() if key.endswith("ReplicaSpecs") and isinstance(value, Mapping)] if isinstance(spec, Mapping) else []
    runs = local_primary(manifest, primary, primary_pod_labels, pod_labels)
    skipped = []
    for key, specs in found:
        for replica_type, replica in specs.items():
            if not isinstance(replica, Mapping):
                continue
            count = replica.get("replicas", 1)
            count = count if isinstance(count, int) else 1
            if runs is not None and runs[0] == f"spec.{key}.{replica_type}.template":
                if count > 1:
                    skipped.append(f"{replica_type} ({count - 1} more {'replica' if count == 2 else 'replicas'})")
            elif count > 0:
                skipped.append(f"{replica_type} ({count} {'replica' if count == 1 else 'replicas'})")
    return skipped


def train_job_trainer(manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Trainer's TrainJob's ``spec.trainer``, None for another kind: ``numNodes`` pods, each
    running ``numProcPerNode`` processes with ``resourcesPerNode``, where a local run starts one."""
    spec = manifest.get("spec")
    trainer = spec.get("trainer") if is_train_job(manifest) and isinstance(spec, Mapping) else None
    return trainer if isinstance(trainer, Mapping) else None


def count_of(value: Any) -> int | None:
    """A count written as a number or as digits (``numProcPerNode: "4"``); None otherwise (``auto``, a placeholder)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value.strip()) if isinstance(value, str) and value.strip().isdigit() else None


def pytorch_replicas(manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A PyTorchJob's ``pytorchReplicaSpecs``, None for another kind."""
    spec = manifest.get("spec")
    specs = spec.get("pytorchReplicaSpecs") if manifest.get("kind") == "PyTorchJob" and isinstance(spec, Mapping) else None
    return specs if isinstance(specs, Mapping) else None


def has_pytorch_master(manifest: Mapping[str, Any]) -> bool:
    """A PyTorchJob with a Master replica that runs: the Training Operator sets its distributed
    env (and only then: a Worker-only job, elastic or not, gets none of WORLD_SIZE, RANK,
    MASTER_ADDR, MASTER_PORT, pkg/controller.v1/pytorch/envvar.go ``setPodEnv``). ``Master:
    {replicas: 0}`` is none: the operator's webhook refuses any count but 1."""
    specs = pytorch_replicas(manifest)
    master = specs.get("Master") if specs is not None else None
    return isinstance(master, Mapping) and master.get("replicas", 1) != 0


MASTER_PORT_DRAWS = 20
"""How many free ports :func:`pytorch_master_env` draws, at most, for one not held by a live trial."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 free now (bound to 0 and closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pytorch_master_env(manifest: Mapping[str, Any], held: Collection[int] = ()) -> dict[str, str]:
    """For a PyTorchJob with a Master replica: the env the Training Operator gives a
    single-replica job's master (pkg/controller.v1/pytorch/envvar.go and master.go: WORLD_SIZE, the
    replicas in all; RANK, 0 for the master; MASTER_ADDR, the master's service; MASTER_PORT, its
    ``pytorchjob-port``), as the one process that runs here: its peers do not run, so the world
    is one process, at 127.0.0.1, on a port free at the draw and none of ``held`` (the ports of
    the launcher's live trials: drawn again on a clash). Another process may still take the port
    before the trial binds it. ``init_process_group`` (env://) then works as on a one-replica
    cluster job. Empty otherwise."""
    if not has_pytorch_master(manifest):
        return {}
    port = free_port()
    for _ in range(MASTER_PORT_DRAWS - 1):
        if port not in held:
            break
        port = free_port()
    return {"WORLD_SIZE": "1", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
