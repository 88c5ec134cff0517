"""Launchers: run a trial and wait for its end. Local subprocesses and in-process Python functions
here; Kubernetes resources in :mod:`kfp_tune.launchers.kubernetes`."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

from kfp_tune.core.checkpoints import trial_dir_of
from kfp_tune.core.errors import FieldError, shown
from kfp_tune.core.interfaces import Launcher
from kfp_tune.core.spec import Experiment
from kfp_tune.core.template import primary_container
from kfp_tune.core.vocabulary import FUNCTION_TRIAL_KIND, STORE_VARIABLE, CollectorKind
from kfp_tune.launchers.local import LocalLauncher, missing_command


def launcher_from_config(config: str | dict[str, Any], store_uri: str = "", s3_endpoint: str = "", experiment_namespace: str = "") -> Launcher:
    """A launcher from its JSON config, as the launch-trial component receives it.

    ``{"kind": "local", "mounts": {"/opt/app": "/home/me/app"}, "timeoutSeconds": 600}``, or
    ``{"kind": "kubernetes", "namespace": ..., ...}`` (see
    :class:`kfp_tune.launchers.kubernetes.KubernetesConfig`). ``store_uri`` and ``s3_endpoint``
    tell a Kubernetes trial where to report metrics. Trials are created in the config's
    ``namespace``, else the experiment's ``metadata.namespace`` (``experiment_namespace``), as
    Katib creates them, else the namespace the step runs in."""
    try:
        data = json.loads(config) if isinstance(config, str) else dict(config)
    except ValueError:
        raise ValueError(f"launcher_config: expected a JSON object such as {{\"kind\": \"local\"}}, got {shown(config)}") from None
    if not isinstance(data, dict):
        raise ValueError(f"launcher_config: expected a JSON object such as {{\"kind\": \"local\"}}, got {shown(config)}")
    from_experiment = data.get("kind") == "kubernetes" and not data.get("namespace") and bool(experiment_namespace)
    if from_experiment:
        data["namespace"] = experiment_namespace
    kind = data.get("kind", "local")
    if kind == "local":
        env = {STORE_VARIABLE: store_uri} if store_uri else {}
        mounts, timeout = _local_config(data)
        return LocalLauncher(mounts=mounts, timeout_seconds=timeout, env=env)
    if kind == "kubernetes":
        from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher, launcher_env

        kube_config = dataclasses.replace(KubernetesConfig.from_dict(data), namespace_from_experiment=from_experiment)
        return KubernetesLauncher(kube_config, env=launcher_env(store_uri, s3_endpoint) if store_uri else None)
    raise ValueError(f"launcher kind {kind!r}: expected 'local' or 'kubernetes'")


LOCAL_CONFIG_KEYS = ("kind", "mounts", "timeoutSeconds")


def _local_config(data: Mapping[str, Any]) -> tuple[dict[str, str], float | None]:
    """(mounts, timeout) of a local launcher config, each checked (ValueError naming the key and
    what it takes): a typo such as ``mount`` was ignored, and ``"mounts": 3`` or a timeout
    ``"600"`` failed with Python's own words, the latter only once a trial ran."""
    unknown = sorted(set(data) - set(LOCAL_CONFIG_KEYS))
    if unknown:
        raise ValueError(f"launcher_config: unknown key(s) {unknown} for the local launcher; expected some of {list(LOCAL_CONFIG_KEYS)}")
    mounts = data.get("mounts")
    if mounts is None:
        mounts = {}
    if not (isinstance(mounts, Mapping) and all(isinstance(k, str) and k.startswith("/") and isinstance(v, str) and v for k, v in mounts.items())):
        raise ValueError(f"launcher_config mounts: expected a mapping of container path (absolute) to local folder, e.g. "
                         f'{{"/opt/app": "/home/me/app"}}, got {shown(mounts)}')
    timeout = data.get("timeoutSeconds")
    if timeout is not None and not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and math.isfinite(timeout) and timeout >= 0):
        raise ValueError(f"launcher_config timeoutSeconds: expected a number of seconds, more than 0 (0 or null: no limit), got {shown(timeout)}")
    return dict(mounts), float(timeout) if timeout else None



def function_experiment_problems(experiment: Experiment) -> list[FieldError]:
    """A tune() function experiment's spec (kfp-tune's :data:`FUNCTION_TRIAL_KIND` record: the
    function is not stored with it), given to compile, submit, schedule or validate as a file:
    no pipeline and no launcher but tune()'s own can run it, said before anything is sent."""
    template = experiment.spec.trial_template
    if template is None or not template.trial_spec or template.trial_spec.get("kind") != FUNCTION_TRIAL_KIND:
        return []
    return [FieldError("spec.trialTemplate.trialSpec", missing_command(template.primary_container_name, FUNCTION_TRIAL_KIND))]

def check_experiment(launcher: Launcher, experiment: Experiment) -> None:
    """Refuse, before any trial is made, an experiment this launcher's config cannot run
    (ValueError naming the field): on a cluster, trials with checkpoint folders
    (``suggestion_trial_dir``) need the config's ``checkpointVolume``, and every service account
    the template names must be one the config allows; locally, the trial's container needs a
    command (the image's entrypoint is not known here), and trials that report to the store
    themselves (Push, Custom) cannot reach an S3 store, whose credentials a local trial is never
    given."""
    from kfp_tune.launchers.kubernetes.launcher import check_checkpoints, check_service_accounts

    check_checkpoints(launcher, trial_dir_of(experiment))
    template = experiment.spec.trial_template
    check_service_accounts(launcher, template.trial_spec if template is not None else None)
    if isinstance(launcher, LocalLauncher) and template is not None and template.trial_spec is not None:
        container = primary_container(template.trial_spec, template.primary_container_name)
        if container is None:
            kind_name = template.trial_spec.get("kind")
            raise ValueError(
                f"spec.trialTemplate.trialSpec: kind {kind_name} has no container named {template.primary_container_name!r} "
                "(primaryContainerName) where a pod template holds it, so it cannot run on this machine: its controller makes "
                "that container on a cluster (an Argo Workflow's steps are Argo's). Run it on a cluster (kfp-tune compile or "
                "submit, with the Kubernetes launcher)"
            )
        if not container.get("command"):
            raise ValueError(f"spec.trialTemplate.trialSpec: {missing_command(template.primary_container_name, template.trial_spec.get('kind'))}")
    kind = experiment.spec.collector_kind
    if isinstance(launcher, LocalLauncher) and kind == CollectorKind.CUSTOM.value:
        from kfp_tune.collectors.custom import collector_spec, custom_container, missing_custom_command

        if not custom_container(collector_spec(experiment)).get("command"):
            raise ValueError(missing_custom_command())
    if isinstance(launcher, LocalLauncher) and kind in REPORTING_KINDS and launcher.env.get(STORE_VARIABLE, "").startswith("s3://"):
        raise ValueError(
            f"spec.metricsCollectorSpec.collector.kind: a {kind} trial reports its metrics to the store itself, and a local trial is "
            "never given the S3 store's credentials; run it on a cluster, with a local store folder (--store DIR), or with the "
            "StdOut or File collector"
        )


REPORTING_KINDS = (CollectorKind.PUSH.value, CollectorKind.CUSTOM.value)
"""Collectors whose trials (or collector processes) write their metrics to the store."""


__all__ = ["LocalLauncher", "check_experiment", "launcher_from_config"]
