"""The fake API server created PyTorchJobs with two Masters or a lower-case ``master`` replica,
and XGBoostJobs with no Master, which the Training Operator v1.9's webhooks refuse on every
create, so launcher tests accepted what a cluster refuses. It plays those rules now, as
validation does (QA operators, session 36, finding 4)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from fake_kube import TRAINING_OPERATOR, FakeKube, serve

NS = "team-a"


@pytest.fixture
def cluster() -> Iterator[FakeKube]:
    fake, server = serve(TRAINING_OPERATOR)
    yield fake
    server.shutdown()
    server.server_close()


def _replicas(container: str) -> dict[str, Any]:
    return {"replicas": 1, "template": {"spec": {"containers": [{"name": container, "image": "trainer:1"}]}}}


def _job(plural: str) -> dict[str, Any]:
    kind, field, container, types = {
        "pytorchjobs": ("PyTorchJob", "pytorchReplicaSpecs", "pytorch", ("Master", "Worker")),
        "xgboostjobs": ("XGBoostJob", "xgbReplicaSpecs", "xgboost", ("Master", "Worker")),
        "tfjobs": ("TFJob", "tfReplicaSpecs", "tensorflow", ("Chief", "Worker")),
    }[plural]
    return {"apiVersion": "kubeflow.org/v1", "kind": kind, "metadata": {"name": "trial-1"},
            "spec": {field: {t: _replicas(container) for t in types}}}


def _create(cluster: FakeKube, plural: str, change: Callable[[dict[str, Any]], Any]) -> tuple[int, str]:
    body = copy.deepcopy(_job(plural))
    change(body["spec"])
    try:
        client.CustomObjectsApi(cluster.api_client()).create_namespaced_custom_object("kubeflow.org", "v1", NS, plural, body)
    except ApiException as exc:
        return int(exc.status), str(exc.body)
    return 201, ""


def _pt(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["pytorchReplicaSpecs"]


@pytest.mark.parametrize(("plural", "change", "says"), [
    ("pytorchjobs", lambda s: _pt(s)["Master"].update(replicas=2), "Master].replicas: Forbidden: must be 1"),
    ("pytorchjobs", lambda s: _pt(s).update(master=_pt(s).pop("Master")), "Unsupported value: 'master'"),
    ("pytorchjobs", lambda s: _pt(s)["Worker"].update(replicas=0), "must be at least 1"),
    ("xgboostjobs", lambda s: s["xgbReplicaSpecs"].pop("Master"), "[Master]: Required value: must be present"),
    ("xgboostjobs", lambda s: s["xgbReplicaSpecs"]["Master"].update(replicas=2), "must be 1"),
    ("tfjobs", lambda s: s["tfReplicaSpecs"].update(Master=_replicas("tensorflow")), "more than 1 Chief or Master"),
])
def test_what_the_operators_webhooks_refuse_is_refused(cluster: FakeKube, plural: str, change: Callable[[dict[str, Any]], Any], says: str) -> None:
    status, message = _create(cluster, plural, change)
    assert status == 422 and says in message, message
    assert cluster.stored(plural) == []


@pytest.mark.parametrize("plural", ["pytorchjobs", "xgboostjobs", "tfjobs"])
def test_what_the_webhooks_admit_is_created(cluster: FakeKube, plural: str) -> None:
    assert _create(cluster, plural, lambda spec: None) == (201, "")
    assert len(cluster.stored(plural)) == 1


def test_a_master_with_no_count_is_refused_as_the_webhook_reads_it_before_any_default(cluster: FakeKube) -> None:
    """v1.9's webhook tests ``rSpec.Replicas == nil || *rSpec.Replicas != 1``: its CRD defaults nothing."""
    status, message = _create(cluster, "pytorchjobs", lambda s: _pt(s)["Master"].pop("replicas"))
    assert status == 422 and "Master].replicas: Forbidden: must be 1" in message, message
