"""KatibClient's ``namespace`` selects, as Katib's SDK's does (QA migrator, finding 1): a call
given a namespace acts only on an experiment stored with that ``metadata.namespace`` (one stored
without is in a namespace the store does not know: any acts on it), else it fails as Katib's SDK fails ("Failed to
delete Katib Experiment: team-b/random"), nothing deleted or edited. A call with no namespace,
on a client made without one, acts on the store's experiment of that name, as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import quadratic_experiment
from kfp_tune import KatibClient, search, tune
from kfp_tune import katib_client as katib_client_module


def _objective(parameters):
    print(f"result={4 * int(parameters['a'])}")


def _tuned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KatibClient:
    """A store holding Katib's ``kubeflow/random`` (2 trials, Succeeded)."""
    monkeypatch.delenv("KF_PIPELINES_ENDPOINT", raising=False)
    monkeypatch.setattr(katib_client_module, "SERVICE_ACCOUNT_NAMESPACE", tmp_path / "no-such-file")  # Katib's default: "default"
    katib = KatibClient(store=str(tmp_path / "store"))
    katib.tune(name="random", namespace="kubeflow", objective=_objective, parameters={"a": search.int(min=1, max=3)},
               objective_metric_name="result", max_trial_count=2, parallel_trial_count=1, algorithm_settings=[{"name": "random_state", "value": "7"}])
    return katib


def test_a_namespaced_delete_or_edit_of_another_namespaces_experiment_fails_as_katibs_and_changes_nothing(tmp_path, monkeypatch):
    katib = _tuned(tmp_path, monkeypatch)
    with pytest.raises(RuntimeError, match=r"^Failed to delete Katib Experiment: team-b/random: ") as refused:
        katib.delete_experiment("random", namespace="team-b")
    assert "metadata.namespace 'kubeflow'" in str(refused.value) and "namespace='kubeflow'" in str(refused.value)
    with pytest.raises(RuntimeError, match=r"^Failed to edit Katib Experiment: team-b/random: "):
        katib.edit_experiment_budget("random", namespace="team-b", max_trial_count=4)
    assert [e.metadata.name for e in katib.list_experiments()] == ["random"]
    assert katib.get_experiment("random").spec.max_trial_count == 2
    # the experiment's own namespace reaches it (a completed one under resumePolicy Never: Katib's webhook refuses the edit)
    with pytest.raises(RuntimeError, match=r"^edit_experiment_budget: experiment 'random' is completed, and its budget cannot change"):
        katib.edit_experiment_budget("random", namespace="kubeflow", max_trial_count=4)
    katib.delete_experiment("random", namespace="kubeflow")
    assert katib.list_experiments() == []


def test_every_read_given_another_namespace_finds_nothing_as_katibs_does(tmp_path, monkeypatch):
    katib = _tuned(tmp_path, monkeypatch)
    trial = katib.list_trials("random")[0].metadata.name
    failing = {
        "get Katib Experiment": [lambda: katib.get_experiment("random", namespace="team-b"),
                                 lambda: katib.get_experiment_conditions("random", namespace="team-b"),
                                 lambda: katib.is_experiment_succeeded("random", namespace="team-b"),
                                 lambda: katib.get_optimal_hyperparameters("random", namespace="team-b"),
                                 lambda: katib.wait_for_experiment_condition("random", namespace="team-b", timeout=1, polling_interval=1)],
        "get Katib Trial": [lambda: katib.get_trial(trial, namespace="team-b"),
                            lambda: katib.get_trial_metrics(trial, namespace="team-b")],
    }
    for what, calls in failing.items():
        for call in calls:
            with pytest.raises(RuntimeError, match=rf"^Failed to {what}: team-b/"):
                call()
    assert katib.list_experiments(namespace="team-b") == [] and katib.list_trials("random", namespace="team-b") == []
    assert katib.list_trials(namespace="team-b") == [] and katib.get_success_trial_details("random", namespace="team-b") == []
    assert [e.metadata.name for e in katib.list_experiments(namespace="kubeflow")] == ["random"]
    assert len(katib.list_trials("random", namespace="kubeflow")) == 2 and len(katib.list_trials(namespace="kubeflow")) == 2
    assert katib.get_trial(trial, namespace="kubeflow").metadata.name == trial
    assert katib.is_experiment_succeeded("random", namespace="kubeflow")
    assert katib.get_optimal_hyperparameters("random", namespace="kubeflow") is not None


def test_a_client_made_with_a_namespace_selects_by_it_and_one_without_acts_on_any(tmp_path, monkeypatch):
    _tuned(tmp_path, monkeypatch)
    team_b = KatibClient(namespace="team-b", store=str(tmp_path / "store"))
    with pytest.raises(RuntimeError, match=r"^Failed to get Katib Experiment: team-b/random: "):
        team_b.get_experiment("random")
    with pytest.raises(RuntimeError, match=r"^Failed to delete Katib Experiment: team-b/random: "):
        team_b.delete_experiment("random")
    assert team_b.list_experiments() == []
    assert team_b.get_experiment("random", namespace="kubeflow").metadata.namespace == "kubeflow"  # the call's namespace first, as Katib's
    assert KatibClient(store=str(tmp_path / "store")).get_experiment("random").metadata.namespace == "kubeflow"


def test_an_experiment_stored_without_a_namespace_is_acted_on_by_any(tmp_path, monkeypatch):
    monkeypatch.setattr(katib_client_module, "SERVICE_ACCOUNT_NAMESPACE", tmp_path / "no-such-file")
    store = str(tmp_path / "store")
    tune(lambda p: float(p["x"]), {"x": search.discrete([1, 2])}, objective_metric_name="loss", algorithm="grid", max_trial_count=2, store=store, name="plain")
    katib = KatibClient(store=store)
    assert katib.get_experiment("plain").metadata.namespace is None
    assert katib.get_experiment("plain", namespace="default").metadata.name == "plain"
    assert katib.get_experiment("plain", namespace="kubeflow").metadata.name == "plain"
    (tmp_path / "sa-namespace").write_text("team-a\n")
    monkeypatch.setattr(katib_client_module, "SERVICE_ACCOUNT_NAMESPACE", tmp_path / "sa-namespace")  # in a pod: the same
    assert katib.get_experiment("plain", namespace="team-a").metadata.name == "plain"


def test_create_of_a_name_another_namespace_holds_says_a_store_keeps_one_per_name(tmp_path, monkeypatch):
    katib = _tuned(tmp_path, monkeypatch)
    doc = quadratic_experiment(**{"metadata.name": "random", "metadata.namespace": "team-b"})
    with pytest.raises(RuntimeError) as refused:
        katib.create_experiment(doc)
    text = str(refused.value)
    assert "'random'" in text and "namespace 'kubeflow'" in text and "'team-b'" in text and "one experiment per name" in text
    assert "refuses a second one of the same name" not in text
    assert katib.get_experiment("random").metadata.namespace == "kubeflow"
