"""kfp-tune cleanup without --namespace goes where the experiment's trials recorded they ran
(their started records' clusterNamespace, kept since 2026-12-06 for this), not to the experiment's
metadata.namespace (QA multiuser finding 6): a Katib example keeps ``metadata.namespace:
kubeflow`` and is run, as the guide advises on multi-user KFP, with launcher_config namespace
team-a; its trials are in team-a."""

from __future__ import annotations

import pytest

from cli_cleanup import run_cleanup
from conftest import quadratic_experiment
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.state import load_state
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.steps import init_experiment, launch_trial, suggest
from kfp_tune.stores import LocalStore


def _ended_trials(kube, store, metadata_namespace: str | None, *trial_namespaces: str) -> list[str]:
    """Experiment quad (retain: true) whose trials ran to their end, the i-th in
    ``trial_namespaces[i]`` (the launcher config's namespace), their Jobs kept."""
    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["retain"] = True
    if metadata_namespace is None:
        doc["metadata"].pop("namespace", None)
    else:
        doc["metadata"]["namespace"] = metadata_namespace
    records = ExperimentRecords(LocalStore(store), "quad")
    init_experiment(records, load_experiment(doc))
    names = suggest(records, "run-1-r000", 1, n=len(trial_namespaces))
    for name, namespace in zip(names, trial_namespaces, strict=True):
        launcher = KubernetesLauncher(KubernetesConfig(namespace=namespace, poll_seconds=0.05), api_client=kube.api_client(), env={})
        launch_trial(records, launcher, name)
    assert [t.started.cluster_namespace for t in load_state(records).trials if t.started] == list(trial_namespaces)
    return names


def _jobs(kube) -> list[tuple[str, str]]:
    return sorted((o["metadata"]["namespace"], o["metadata"]["name"]) for o in kube.stored("jobs"))


@pytest.mark.parametrize("metadata_namespace", ["kubeflow", None])
def test_cleanup_without_namespace_goes_where_the_trials_recorded_they_ran(kubeconfig_cluster, tmp_path, metadata_namespace):
    (ended,) = _ended_trials(kubeconfig_cluster, tmp_path / "store", metadata_namespace, "team-a")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"))
    assert code == 0, err
    assert out == f"deleted 1 trial resource(s) of 'quad' in 'team-a': {ended}, and its anchor configmap 'kfp-tune-quad'\n"
    assert _jobs(kubeconfig_cluster) == []


def test_cleanup_of_trials_recorded_in_several_namespaces_asks_which(kubeconfig_cluster, tmp_path):
    """The launcher config's namespace changed between runs: no one namespace is right, and
    cleanup deletes nothing until it is told one."""
    names = _ended_trials(kubeconfig_cluster, tmp_path / "store", "kubeflow", "team-a", "team-b")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"))
    assert code == 2 and out == ""
    assert "error: --namespace: the trials of experiment 'quad'" in err and "ran in 2 namespaces: 'team-a', 'team-b'" in err
    assert "give --namespace, and run cleanup once for each" in err
    assert _jobs(kubeconfig_cluster) == sorted(zip(["team-a", "team-b"], names, strict=True))
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"), "--namespace", "team-b")
    assert code == 0, err
    assert out.startswith(f"deleted 1 trial resource(s) of 'quad' in 'team-b': {names[1]}")


def test_cleanup_given_a_namespace_no_trial_ran_in_says_where_they_did(kubeconfig_cluster, tmp_path):
    (ended,) = _ended_trials(kubeconfig_cluster, tmp_path / "store", "kubeflow", "team-a")
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"), "--namespace", "kubeflow")
    assert code == 0, err
    assert out.startswith("deleted 0 trial resource(s) of 'quad' in 'kubeflow'")
    assert "note: the trials of experiment 'quad' recorded that they ran in 'team-a', not 'kubeflow'" in err
    assert _jobs(kubeconfig_cluster) == [("team-a", ended)]


def test_a_trial_whose_create_was_refused_did_not_run_where_its_started_record_says(kubeconfig_cluster, tmp_path):
    """Review B of session 37, finding 3: the guided multi-user path. A Katib example keeps
    metadata.namespace: kubeflow; its first run is refused 403 there (the trial ends Killed,
    TrialNotCreated, with a started record naming kubeflow, where nothing of it was created),
    and the rerun with launcher_config namespace team-a keeps its Job there. Cleanup looked in
    neither: 'ran in 2 namespaces: 'kubeflow', 'team-a'', exit 2."""
    from fake_kube import Fault
    from kfp_tune.core.state import TRIAL_NOT_CREATED

    doc = quadratic_experiment()
    doc["spec"]["trialTemplate"]["retain"] = True
    doc["metadata"]["namespace"] = "kubeflow"
    records = ExperimentRecords(LocalStore(tmp_path / "store"), "quad")
    init_experiment(records, load_experiment(doc))
    (refused,) = suggest(records, "run-1-r000", 1, n=1)
    kubeconfig_cluster.faults = [Fault("POST", "/jobs$", 403, times=100, message="jobs.batch is forbidden", reason="Forbidden")]
    with pytest.raises(Exception, match="403"):
        launch_trial(records, KubernetesLauncher(KubernetesConfig(namespace="kubeflow", poll_seconds=0.05, api_retry_seconds=0.0),
                                                 api_client=kubeconfig_cluster.api_client(), env={}), refused)
    kubeconfig_cluster.faults = []
    (ran,) = suggest(records, "run-2-r000", 1, n=1)
    launch_trial(records, KubernetesLauncher(KubernetesConfig(namespace="team-a", poll_seconds=0.05), api_client=kubeconfig_cluster.api_client(), env={}), ran)
    trials = {t.name: t for t in load_state(records).trials}
    assert trials[refused].started.cluster_namespace == "kubeflow" and trials[refused].ended.reason == TRIAL_NOT_CREATED
    assert _jobs(kubeconfig_cluster) == [("team-a", ran)]
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"), "--namespace", "kubeflow", "--dry-run")
    assert code == 0, err
    assert "note: the trials of experiment 'quad' recorded that they ran in 'team-a', not 'kubeflow'" in err
    code, out, err = run_cleanup("quad", "--store", str(tmp_path / "store"))
    assert code == 0, err
    assert out == f"deleted 1 trial resource(s) of 'quad' in 'team-a': {ran}, and its anchor configmap 'kfp-tune-quad'\n"
    assert _jobs(kubeconfig_cluster) == []
