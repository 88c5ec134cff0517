"""An experiment stored without ``metadata.namespace`` (sent to a host by a client given a
namespace, or stored by a pipeline's suggest step: the run's namespace is not written into it)
is in a namespace the store does not know, so a KatibClient of any namespace acts on it (review D
of session 37, finding 1); one stored with another namespace stays refused. ``get_job_logs``'
namespace is where the trial's pod is read, as Katib's (finding 8)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import quadratic_experiment
from kfp_tune import KatibClient
from kfp_tune import katib_client as katib_client_module
from kfp_tune.cli import main


def _stored_without_namespace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store holding 'sent-yaml' run from a YAML without metadata.namespace, off-cluster."""
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    monkeypatch.setattr(katib_client_module, "SERVICE_ACCOUNT_NAMESPACE", tmp_path / "no-such-file")  # Katib's default: "default"
    document = quadratic_experiment(**{"metadata.name": "sent-yaml", "spec.maxTrialCount": 2, "spec.parallelTrialCount": 1})
    document["metadata"].pop("namespace", None)
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(document))
    store = str(tmp_path / "store")
    assert main(["run", str(tmp_path / "e.yaml"), "--store", store, "--engine", "inline"]) == 0
    assert KatibClient(store=store).get_experiment("sent-yaml").metadata.namespace is None
    return store


def test_a_client_of_any_namespace_reads_an_experiment_stored_without_one(tmp_path, monkeypatch):
    store = _stored_without_namespace(tmp_path, monkeypatch)
    team_c = KatibClient(store=store, namespace="team-c")
    assert team_c.get_experiment("sent-yaml").metadata.name == "sent-yaml"
    team_c.wait_for_experiment_condition("sent-yaml", timeout=2, polling_interval=1)
    assert team_c.get_optimal_hyperparameters("sent-yaml") is not None
    assert [e.metadata.name for e in team_c.list_experiments()] == ["sent-yaml"]
    assert len(team_c.list_trials("sent-yaml")) == 2
    trial = team_c.list_trials("sent-yaml")[0].metadata.name
    assert team_c.get_trial(trial).metadata.name == trial
    assert KatibClient(store=store).get_experiment("sent-yaml", namespace="kubeflow").metadata.name == "sent-yaml"


def test_an_experiment_stored_with_another_namespace_stays_refused_naming_it(tmp_path, monkeypatch):
    store = _stored_without_namespace(tmp_path, monkeypatch)
    document = quadratic_experiment(**{"metadata.name": "kept", "metadata.namespace": "kubeflow", "spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    KatibClient(store=store).create_experiment(document)
    with pytest.raises(RuntimeError, match=r"^Failed to get Katib Experiment: team-c/kept: .*metadata.namespace 'kubeflow'.*namespace='kubeflow'"):
        KatibClient(store=store, namespace="team-c").get_experiment("kept")
    assert [e.metadata.name for e in KatibClient(store=store, namespace="team-c").list_experiments()] == ["sent-yaml"]


def test_get_job_logs_namespace_is_where_the_pod_is_read(tmp_path, monkeypatch):
    store = _stored_without_namespace(tmp_path, monkeypatch)
    document = quadratic_experiment(**{"metadata.name": "kept", "metadata.namespace": "kubeflow", "spec.maxTrialCount": 1, "spec.parallelTrialCount": 1, "spec.maxFailedTrialCount": 1})
    katib = KatibClient(store=store)
    katib.create_experiment(document)
    trial = katib.list_trials("kept")[0].metadata.name
    asked: list[object] = []
    real = katib.client.get_trial_logs

    def recording(trial_ref, container=None, namespace=None):
        asked.append(namespace)
        return real(trial_ref, container, namespace)

    monkeypatch.setattr(katib.client, "get_trial_logs", recording)
    assert list(katib.get_job_logs("kept", trial, namespace="team-a")) == list(katib.get_job_logs("kept", trial))
    assert asked == ["team-a", None]
