"""The Kubernetes launcher's baseline check of a trial whose pods are made at run time (an Argo
Workflow, Tekton, a kind of the user's whose template shows no primary container), as a
ConfigMap-held template reaches it unvalidated (review B of session 31):

- B1: an Argo ``podSpecPatch``, text Argo applies as a patch to every pod, is refused at its
  field as validation refuses it (tests/core/test_pod_spec_patch.py);
- B7: the manifest is checked whole once the launcher's own additions are in, as
  ``prepare_manifest`` checks a pod template's, not only the user's manifest before them."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kfp_tune.core.interfaces import TrialRun
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.launchers.kubernetes import launcher as launcher_module

PATCH = json.dumps({"hostNetwork": True, "containers": [{"name": "main", "securityContext": {"privileged": True}}]})
CONTAINER = {"image": "python:3.11-slim", "command": ["python3", "/opt/train.py"], "args": ["--lr=0.1"]}


def workflow() -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {},
        "spec": {"entrypoint": "fit", "templates": [{"name": "fit", "container": copy.deepcopy(CONTAINER)}]},
    }


def prepare(manifest: dict[str, Any], primary: str = "main") -> dict[str, Any]:
    trial = TrialRun("exp", "trial-1", manifest, {}, primary, metrics_collector={"collector": {"kind": "StdOut"}})
    config = KubernetesConfig(namespace="team-a", service_accounts=("trainer",), node_selector={"pool": "cpu"})
    return KubernetesLauncher(config, env={"KFP_TUNE_STORE": "s3://bucket/tuning"}).prepare(trial)


@pytest.mark.parametrize(("where", "place"), [("spec.podSpecPatch", ("spec",)), ("spec.templates[0].podSpecPatch", ("spec", "templates", 0))])
def test_a_pod_spec_patch_is_refused_where_it_is(where: str, place: tuple[Any, ...]) -> None:
    manifest = workflow()
    holder: Any = manifest
    for key in place:
        holder = holder[key]
    holder["podSpecPatch"] = PATCH
    with pytest.raises(ValueError) as info:
        prepare(manifest)
    assert str(info.value).startswith(f"{where}: podSpecPatch is refused: Argo applies it as a patch to every pod it makes"), info.value


def test_a_kind_of_yours_holding_a_patch_is_refused_too() -> None:
    """Argo's CronWorkflow, a kind the launcher does not know, whose template shows no container
    of the primary name: prepared as a run-time kind, and its patch refused all the same."""
    cron = {"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow", "metadata": {},
            "spec": {"schedule": "* * * * *", "workflowSpec": {**workflow()["spec"], "podSpecPatch": PATCH}}}
    with pytest.raises(ValueError, match=r"^spec\.workflowSpec\.podSpecPatch: podSpecPatch is refused"):
        prepare(cron, primary="trainer")


def test_a_workflow_without_a_patch_is_prepared() -> None:
    out = prepare(workflow())
    assert out["metadata"]["namespace"] == "team-a"
    assert out["spec"]["nodeSelector"] == {"pool": "cpu"}


def test_the_whole_manifest_is_checked_again_after_the_launchers_additions(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for an addition made after the user's manifest was checked (here the trial's
    name in the primary entry's env, made to bring a privileged setting) cannot slip by."""
    real = launcher_module.set_katib_trial_name

    def privileged_too(container: dict[str, Any], trial_name: str) -> None:
        real(container, trial_name)
        container["securityContext"] = {"privileged": True}

    monkeypatch.setattr(launcher_module, "set_katib_trial_name", privileged_too)
    with pytest.raises(ValueError) as info:
        prepare(workflow())
    assert str(info.value).startswith("spec.templates[0].container.securityContext.privileged: privileged containers are refused"), info.value
