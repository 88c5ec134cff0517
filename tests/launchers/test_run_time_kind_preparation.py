"""What the Kubernetes launcher refuses and adds when it prepares a trial whose pods are made at
run time (Argo Workflow here; a user's kind whose template does not show the primary
container): the same promises as for pod templates, in the places such a kind has.

Trials are prepared with ``KubernetesLauncher.prepare`` from a TrialRun written out here, as a
run patched at run time would reach the launcher (validation of the experiment is not relied on)."""

from __future__ import annotations

import copy
import shlex
from typing import Any

import pytest

from kfp_tune.core.interfaces import TrialRun
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

NAMESPACE = "team-a"
TRIAL_LABEL = "kfp-tune.kubeflow.org/trial"
CONTAINER = {"image": "python:3.11-slim", "command": ["python3", "/opt/train.py"], "args": ["--lr=0.1"]}


def workflow(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"labels": {TRIAL_LABEL: "wf-trial"}},
        "spec": {"entrypoint": "fit", "templates": [{"name": "fit", "container": copy.deepcopy(CONTAINER)}], **spec},
    }


def run(manifest: dict[str, Any], primary: str = "main", collector: str = "StdOut") -> TrialRun:
    return TrialRun("exp", "wf-trial", manifest, {}, primary, metrics_collector={"collector": {"kind": collector}})


def prepare(trial: TrialRun, **config: Any) -> dict[str, Any]:
    settings = {"namespace": NAMESPACE, "service_accounts": ("trainer",), **config}
    return KubernetesLauncher(KubernetesConfig(**settings), env={"KFP_TUNE_STORE": "s3://bucket/tuning"}).prepare(trial)


def step(manifest: dict[str, Any]) -> dict[str, Any]:
    return dict(manifest["spec"]["templates"][0]["container"])


@pytest.mark.parametrize(
    ("where", "unsafe"),
    [("spec.hostNetwork", {"hostNetwork": True}), ("spec.volumes[0].hostPath", {"volumes": [{"name": "node", "hostPath": {"path": "/"}}]})],
)
def test_settings_that_give_a_trial_the_node_are_refused(where: str, unsafe: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as info:
        prepare(run(workflow(**unsafe)))
    assert str(info.value).startswith(f"{where}: "), info.value


def test_a_privileged_step_is_refused() -> None:
    manifest = workflow()
    manifest["spec"]["templates"][0]["container"]["securityContext"] = {"privileged": True}
    with pytest.raises(ValueError, match=r"spec\.templates\[0\]\.container\.securityContext\.privileged: privileged containers are refused"):
        prepare(run(manifest))


def test_it_goes_to_the_launchers_namespace_with_its_labels_on_it_and_its_pods() -> None:
    manifest = workflow()
    manifest["metadata"]["namespace"] = "somewhere-else"
    out = prepare(run(manifest))
    assert out["metadata"]["namespace"] == NAMESPACE
    assert out["metadata"]["labels"][TRIAL_LABEL] == "wf-trial"
    assert out["spec"]["podMetadata"]["labels"][TRIAL_LABEL] == "wf-trial"


@pytest.mark.parametrize(
    ("where", "manifest_change"),
    [
        ("metadata.labels", lambda m: m["metadata"]["labels"].update({"team": "a b"})),
        ("spec.podMetadata.labels", lambda m: m["spec"].update({"podMetadata": {"labels": {"team": "-a"}}})),
    ],
)
def test_a_label_the_api_server_would_refuse_is_refused_naming_where(where: str, manifest_change: Any) -> None:
    manifest = workflow()
    manifest_change(manifest)
    with pytest.raises(ValueError) as info:
        prepare(run(manifest))
    assert str(info.value).startswith(f"{where}.team: "), info.value


def test_no_allowed_service_account_means_the_namespaces_default() -> None:
    assert prepare(run(workflow()), service_accounts=())["spec"]["serviceAccountName"] == "default"


def test_the_store_credentials_come_from_the_secret_never_as_values() -> None:
    env = step(prepare(run(workflow()), store_secret="minio-creds"))["env"]
    by_name = {item["name"]: item for item in env}
    assert by_name["AWS_ACCESS_KEY_ID"] == {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "minio-creds", "key": "accesskey"}}}
    assert by_name["AWS_SECRET_ACCESS_KEY"] == {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "minio-creds", "key": "secretkey"}}}
    assert by_name["KFP_TUNE_TRIAL"] == {"name": "KFP_TUNE_TRIAL", "value": "wf-trial"}


def test_a_variable_the_step_sets_itself_is_left_as_it_is() -> None:
    manifest = workflow()
    manifest["spec"]["templates"][0]["container"]["env"] = [{"name": "KFP_TUNE_STORE", "value": "s3://the-users-own/place"}]
    env = step(prepare(run(manifest)))["env"]
    assert [item for item in env if item["name"] == "KFP_TUNE_STORE"] == [{"name": "KFP_TUNE_STORE", "value": "s3://the-users-own/place"}]


@pytest.mark.parametrize("collector", ["StdOut", "Push"])
def test_the_step_runs_in_sh_c_only_under_a_collector_katib_wraps(collector: str) -> None:
    container = step(prepare(run(workflow(), collector=collector)))
    if collector == "StdOut":
        assert container["command"] == ["sh", "-c"] and shlex.split(container["args"][0])[:3] == ["python3", "/opt/train.py", "--lr=0.1"]
    else:
        assert (container["command"], container["args"]) == (CONTAINER["command"], CONTAINER["args"])


def test_preparing_leaves_the_trials_manifest_as_it_was() -> None:
    """The run keeps the TrialRun (a retry prepares it again): preparing must work on a copy."""
    trial = run(workflow())
    before = copy.deepcopy(trial.manifest)
    first = prepare(trial, gpus=1)
    assert trial.manifest == before
    assert prepare(trial, gpus=1) == first


USERS_KIND: dict[str, Any] = {
    "apiVersion": "example.com/v1", "kind": "TrainingRun", "metadata": {"labels": {TRIAL_LABEL: "wf-trial"}},
    "spec": {"launcher": {"template": {"spec": {"containers": [{"name": "launcher", "image": "launcher:1"}]}}}},
}


def test_a_users_kind_gets_the_trials_labels_on_the_pod_templates_it_shows() -> None:
    """Its primary container (``trainer``) is made by its controller, not shown in a template."""
    out = prepare(run(copy.deepcopy(USERS_KIND), primary="trainer"))
    assert out["spec"]["launcher"]["template"]["metadata"]["labels"][TRIAL_LABEL] == "wf-trial"


def test_a_users_kind_with_a_bad_label_in_a_pod_template_is_refused_naming_it() -> None:
    manifest = copy.deepcopy(USERS_KIND)
    manifest["spec"]["launcher"]["template"]["metadata"] = {"labels": {"team": "a b"}}
    with pytest.raises(ValueError) as info:
        prepare(run(manifest, primary="trainer"))
    assert str(info.value).startswith("spec.launcher.template.metadata.labels.team: "), info.value


def test_gpus_for_a_container_no_template_shows_are_refused() -> None:
    with pytest.raises(ValueError, match="the launcher's gpus cannot be given to this TrainingRun trial"):
        prepare(run(copy.deepcopy(USERS_KIND), primary="trainer"), gpus=1)


@pytest.mark.parametrize(
    ("where", "change"),
    [
        ("spec.serviceAccountName", lambda m: m["spec"].update({"serviceAccountName": "cluster-admin"})),
        ("spec.templates[0].serviceAccountName", lambda m: m["spec"]["templates"][0].update({"serviceAccountName": "cluster-admin"})),
        ("spec.executor.serviceAccountName", lambda m: m["spec"].update({"executor": {"serviceAccountName": "cluster-admin"}})),
    ],
)
def test_a_service_account_not_allowed_is_refused_wherever_the_kind_names_it(where: str, change: Any) -> None:
    """Argo takes a service account for the workflow, per template (in a list) and for its
    executor: each must be one the launcher allows."""
    manifest = workflow()
    change(manifest)
    with pytest.raises(ValueError) as info:
        prepare(run(manifest))
    assert str(info.value) == f"{where}: 'cluster-admin' is not in the launcher's allowed service accounts ['trainer']"
