"""A ConfigMap named as the experiment's anchor (``kfp-tune-<experiment>``) that kfp-tune did not
make (QA multiuser finding 3): ``anchor()`` refuses it, and so do the cleanup calls. It owns no
trial of kfp-tune's, and ``delete_anchor`` leaves it alone, saying whose it is not."""

from __future__ import annotations

import logging
import time

import pytest

from fake_kube import FakeKube
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

FOREIGN = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kfp-tune-quad", "labels": {"app": "theirs"}}, "data": {"mine": "yes"}}


def _launcher(kube: FakeKube) -> KubernetesLauncher:
    return KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05, api_retry_seconds=0.0), api_client=kube.api_client(), env={},
                              sleep=time.sleep)


@pytest.mark.parametrize("labels", [{"app": "theirs"}, {"kfp-tune.kubeflow.org/managed-by": "kfp-tune", "kfp-tune.kubeflow.org/experiment": "other"}])
def test_delete_anchor_leaves_a_config_map_that_is_not_the_anchor_alone(kube: FakeKube, labels: dict[str, str], caplog) -> None:
    kube.put({**FOREIGN, "metadata": {**FOREIGN["metadata"], "labels": labels}}, "team-a")
    launcher = _launcher(kube)
    with caplog.at_level(logging.WARNING, logger="kfp_tune"):
        assert launcher.delete_anchor("quad", dry_run=True) is False
        assert launcher.delete_anchor("quad") is False
    assert [o["metadata"]["name"] for o in kube.stored("configmaps")] == ["kfp-tune-quad"]
    assert not [c for c in kube.calls if c.method == "DELETE"]
    assert "configmap 'kfp-tune-quad' in namespace 'team-a' exists and is not kfp-tune's anchor for experiment 'quad'" in caplog.text


def test_a_config_map_that_is_not_the_anchor_owns_nothing_and_is_named(kube: FakeKube) -> None:
    foreign = kube.put(FOREIGN, "team-a")
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "kfp-tune-quad", "uid": foreign["metadata"]["uid"]}
    labels = {"kfp-tune.kubeflow.org/managed-by": "kfp-tune", "kfp-tune.kubeflow.org/experiment": "quad", "kfp-tune.kubeflow.org/trial": "quad-aaaa1111"}
    kube.put({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "quad-aaaa1111", "labels": labels, "ownerReferences": [owner]}}, "team-a")
    launcher = _launcher(kube)
    listing = launcher.owned_resources("quad")
    assert listing.owned == [] and "is not kfp-tune's anchor for experiment 'quad'" in listing.not_the_anchor
    swept = launcher.sweep("quad")
    assert swept.deleted == [] and swept.not_the_anchor == listing.not_the_anchor
    assert [o["metadata"]["name"] for o in kube.stored("jobs")] == ["quad-aaaa1111"]


def test_the_anchor_itself_is_deleted_on_the_uid_read_orphaning_what_it_owns(kube: FakeKube) -> None:
    """Deleted on the uid read: one made again between the read and the delete is not taken.
    The options go in the body, where the API server reads them (it reads the query's only
    without one). Orphan, not Background (review B of session 37, finding 5): cleanup deletes
    the anchor only once it has deleted everything of its own the anchor owned, so what the
    anchor owns by then is a trial created since its listing, by another store's run of the
    experiment's name, which that run follows by name: the garbage collector took it."""
    launcher = _launcher(kube)
    uid = launcher.anchor("quad")["metadata"]["uid"]
    assert launcher.owned_resources("quad").not_the_anchor == ""
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "kfp-tune-quad", "uid": uid}
    labels = {"kfp-tune.kubeflow.org/managed-by": "kfp-tune", "kfp-tune.kubeflow.org/experiment": "quad", "kfp-tune.kubeflow.org/trial": "quad-bbbb2222"}
    kube.put({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "quad-bbbb2222", "labels": labels, "ownerReferences": [owner]}}, "team-a")
    assert launcher.delete_anchor("quad") is True and kube.stored("configmaps") == []
    (delete,) = [c for c in kube.calls if c.method == "DELETE"]
    assert delete.body["propagationPolicy"] == "Orphan" and delete.body["preconditions"] == {"uid": uid}
    (job,) = kube.stored("jobs")
    assert job["metadata"]["name"] == "quad-bbbb2222" and not job["metadata"].get("ownerReferences")
