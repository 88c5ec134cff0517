"""An API server older than Kubernetes 1.29 (or 1.28 without SidecarContainers) drops
``initContainers[].restartPolicy`` from every pod, also from those an operator makes, though the
operator's CRD keeps the field and the create returned it: the collector's native sidecar runs as
a plain init container that never ends, and the trial hangs in Init. The launcher sees it on the
pods its start watch reads, deletes the trial and stops the run."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import load_katib_example
from fake_kube import TRAINING_OPERATOR, FakeKube
from kfp_tune.collectors.sidecar import CONTAINER_NAME
from kfp_tune.core.errors import TrialNotCreated
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

TFJOB_EXAMPLE = "kubeflow-training-operator_tfjob-mnist-with-summaries.yaml"  # TensorFlowEvent collector
PYTORCHJOB_EXAMPLE = "kubeflow-training-operator_pytorchjob-mnist.yaml"
FILE_COLLECTOR = {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/var/log/katib/metrics.log", "kind": "File"}}}


POLLS_ALLOWED = 50
"""A trial that hangs in Init never ends: a test stops the launcher after this many polls."""


class _Hung(Exception):
    pass


def _launcher(fake: FakeKube, polls_allowed: float = POLLS_ALLOWED) -> KubernetesLauncher:
    config = KubernetesConfig(namespace="team-a", poll_seconds=0.0)
    polls = []

    def sleep(seconds: float) -> None:
        polls.append(seconds)
        if len(polls) > polls_allowed:
            raise _Hung(f"still followed after {POLLS_ALLOWED} polls")

    return KubernetesLauncher(config, api_client=fake.api_client(), env={"KFP_TUNE_STORE": "s3://bucket/tuning"}, sleep=sleep)


def _trial(doc: dict[str, Any], name: str) -> Any:
    experiment = load_experiment(doc)
    assignment = {p["name"]: p["feasibleSpace"]["min"] for p in doc["spec"]["parameters"]}
    return trial_run(experiment, TrialState(name=name, index=0, round="run-1-r000", assignment=assignment, created=""))


def _pytorchjob_with_file_collector() -> dict[str, Any]:
    doc = load_katib_example(PYTORCHJOB_EXAMPLE)
    doc["spec"]["metricsCollectorSpec"] = FILE_COLLECTOR
    return doc


def _stored(fake: FakeKube) -> list[str]:
    return sorted(plural for (_, plural, _, _) in fake.objects if plural not in ("configmaps",))


@pytest.mark.parametrize(("example", "kind", "name"), [
    (TFJOB_EXAMPLE, "TFJob", "tf-abcd1234"),
    ("pytorch", "PyTorchJob", "pt-abcd1234"),
])
def test_an_operators_trial_on_an_api_server_older_than_1_29_is_deleted_and_the_run_stops(clusters, example, kind, name):
    fake = clusters(TRAINING_OPERATOR)
    fake.sidecar_containers = False  # Kubernetes 1.28 without the gate; the Training Operator v1.9's CRD keeps the field
    doc = _pytorchjob_with_file_collector() if example == "pytorch" else load_katib_example(example)
    with pytest.raises(TrialNotCreated) as raised:
        _launcher(fake).run(_trial(doc, name))
    message = str(raised.value)
    for words in (f"{kind} {name!r}", "initContainers[].restartPolicy", CONTAINER_NAME, "Kubernetes older than 1.29", "SidecarContainers",
                  "Kubernetes 1.29 or later", "its pods stay in Init", "it was deleted", "StdOut or Push"):
        assert words in message, (words, message)
    assert "Training Operator older than" not in message  # its CRD is not at fault
    assert _stored(fake) == []  # deleted, its pods with it: nothing hangs in Init
    assert [c.method for c in fake.calls if f"/{kind.lower()}s" in c.path and c.method != "GET"] == ["POST", "DELETE"]


def test_a_pod_the_operator_made_loses_the_field_and_stays_in_init_on_an_older_server(clusters):
    fake = clusters(TRAINING_OPERATOR)
    fake.sidecar_containers = False
    manifest = _launcher(fake).prepare(_trial(_pytorchjob_with_file_collector(), "pt-abcd1234"))
    fake.handle("POST", "/apis/kubeflow.org/v1/namespaces/team-a/pytorchjobs", manifest)
    (stored,) = fake.stored("pytorchjobs")
    master_init = stored["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["initContainers"]
    assert [c.get("restartPolicy") for c in master_init if c["name"] == CONTAINER_NAME] == ["Always"]  # the CRD keeps it
    pods = fake.pods_of("pt-abcd1234")
    assert pods, "the fake operator made no pod"
    for pod in pods:
        assert all("restartPolicy" not in c for c in pod["spec"].get("initContainers") or []), pod["metadata"]["name"]
    fake.handle("GET", "/api/v1/namespaces/team-a/pods", None)  # a read: the kubelet's time goes on
    (master,) = [p for p in fake.pods_of("pt-abcd1234") if p["metadata"]["name"].endswith("-master-0")]
    assert master["status"]["phase"] == "Pending"
    assert master["status"]["initContainerStatuses"][0]["name"] == CONTAINER_NAME
    assert {s["state"]["waiting"]["reason"] for s in master["status"]["containerStatuses"]} == {"PodInitializing"}
    fake.scripts["pt-abcd1234"].run_seconds = 0.0
    fake.handle("GET", "/apis/kubeflow.org/v1/namespaces/team-a/pytorchjobs/pt-abcd1234", None)
    assert not (fake.stored("pytorchjobs")[0].get("status") or {}).get("conditions")  # it never ends


def test_on_a_server_with_the_feature_the_operators_pods_keep_the_field_and_the_trial_runs(clusters):
    fake = clusters(TRAINING_OPERATOR)
    outcome = _launcher(fake, polls_allowed=float("inf")).run(_trial(_pytorchjob_with_file_collector(), "pt-abcd1234"))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome
