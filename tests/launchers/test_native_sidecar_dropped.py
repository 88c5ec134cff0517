"""A cluster that drops ``initContainers[].restartPolicy`` (a Training Operator older than v1.8,
whose CRD schema lacks it; a Kubernetes API server older than 1.29) turns the collector's native
sidecar into a plain init container that never ends, and every trial would hang in Init: the
launcher sees it in the object the create returned, deletes that trial and stops the run."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import load_katib_example
from fake_kube import CRDS, TRAINING_OPERATOR, FakeKube, pruned, without_field
from kfp_tune.core.errors import TrialNotCreated
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.state import TrialState
from kfp_tune.core.trials import trial_run
from kfp_tune.core.vocabulary import LaunchPhase
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher

TFJOB = ("kubeflow.org/v1", "TFJob")
TFJOB_EXAMPLE = "kubeflow-training-operator_tfjob-mnist-with-summaries.yaml"  # TensorFlowEvent collector
JOB_EXAMPLE = "metrics-collector_file-metrics-collector.yaml"  # File collector


def _launcher(fake: FakeKube) -> KubernetesLauncher:
    config = KubernetesConfig(namespace="team-a", poll_seconds=0.0)
    return KubernetesLauncher(config, api_client=fake.api_client(), env={"KFP_TUNE_STORE": "s3://bucket/tuning"}, sleep=lambda seconds: None)


def _trial(doc: dict[str, Any], name: str) -> Any:
    experiment = load_experiment(doc)
    assignment = {p["name"]: p["feasibleSpace"]["min"] for p in doc["spec"]["parameters"]}
    return trial_run(experiment, TrialState(name=name, index=0, round="run-1-r000", assignment=assignment, created=""))


def _v17_tfjob_crd() -> dict[str, Any]:
    """The TFJob CRD's schema as Training Operator v1.7.0 has it (k8s.io/api v0.27.3): v1.9's,
    less ``initContainers[].restartPolicy``, the one field of kfp-tune's render it drops."""
    return without_field(CRDS[TFJOB], "initContainers", "restartPolicy")


def _stored_kinds(fake: FakeKube) -> list[str]:
    return sorted(plural for (_, plural, _, _) in fake.objects if plural not in ("configmaps",))


def test_the_older_crd_schema_prunes_the_collectors_restart_policy_and_nothing_else():
    doc = load_katib_example(TFJOB_EXAMPLE)
    manifest = _launcher(FakeKube(TRAINING_OPERATOR)).prepare(_trial(doc, "tf-abcd1234"))
    kept = pruned(manifest, _v17_tfjob_crd())
    sent_init = manifest["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["initContainers"][0]
    kept_init = kept["spec"]["tfReplicaSpecs"]["Worker"]["template"]["spec"]["initContainers"][0]
    assert sent_init["restartPolicy"] == "Always"
    assert kept_init == {k: v for k, v in sent_init.items() if k != "restartPolicy"}
    sent_init.pop("restartPolicy")
    assert kept == manifest


def test_a_tfjob_whose_crd_drops_the_sidecars_restart_policy_is_deleted_and_the_run_stops(clusters):
    fake = clusters(TRAINING_OPERATOR)
    fake.older_crds[TFJOB] = _v17_tfjob_crd()
    with pytest.raises(TrialNotCreated) as raised:
        _launcher(fake).run(_trial(load_katib_example(TFJOB_EXAMPLE), "tf-abcd1234"))
    message = str(raised.value)
    for words in ("TFJob 'tf-abcd1234'", "initContainers[].restartPolicy", "kfp-tune-metrics-collector", "Training Operator older than v1.8",
                  "upgrade", "StdOut or Push", "deleted"):
        assert words in message, (words, message)
    assert [c.method for c in fake.calls if "/tfjobs" in c.path] == ["POST", "DELETE"]
    assert _stored_kinds(fake) == []  # deleted, its pods with it: nothing hangs in Init


def test_a_job_on_an_api_server_without_sidecar_containers_is_deleted_and_the_run_stops(clusters):
    fake = clusters()
    fake.sidecar_containers = False  # Kubernetes 1.28 without the feature gate, or older
    with pytest.raises(TrialNotCreated) as raised:
        _launcher(fake).run(_trial(load_katib_example(JOB_EXAMPLE), "file-abcd1234"))
    message = str(raised.value)
    for words in ("Job 'file-abcd1234'", "initContainers[].restartPolicy", "Kubernetes older than 1.29", "SidecarContainers", "StdOut or Push"):
        assert words in message, (words, message)
    assert "Training Operator" not in message
    assert _stored_kinds(fake) == []


def test_a_stdout_trial_adds_no_sidecar_and_runs_on_the_older_operator(clusters):
    fake = clusters(TRAINING_OPERATOR)
    fake.older_crds[TFJOB] = _v17_tfjob_crd()
    doc = load_katib_example(TFJOB_EXAMPLE)
    doc["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "StdOut"}}
    outcome = _launcher(fake).run(_trial(doc, "tf-abcd1234"))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome


def test_with_the_field_in_the_crd_the_sidecar_trial_runs(clusters):
    fake = clusters(TRAINING_OPERATOR)
    outcome = _launcher(fake).run(_trial(load_katib_example(TFJOB_EXAMPLE), "tf-abcd1234"))
    assert outcome.phase == LaunchPhase.SUCCEEDED, outcome
