"""A running trial's log read from the cluster (``kfp-tune logs``, ``Client.get_trial_logs``)
without ``--namespace`` / ``namespace=`` is read where the trial recorded it ran (its started
record's clusterNamespace), not in the experiment's metadata.namespace (QA multiuser, session 37,
finding 6): a Katib example keeps ``metadata.namespace: kubeflow`` and is run, as the guide
advises on multi-user KFP, with launcher_config namespace team-a. A 403 there is the person's
kubeconfig identity's, said as ``kfp-tune cleanup``'s is, not the launch-trial service account's."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from conftest import quadratic_experiment
from kfp_tune import Client
from kfp_tune.client import NoLogYet
from kfp_tune.core.errors import KfpTuneError
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords, TrialStarted, utc_now
from kfp_tune.core.state import ExperimentView
from kfp_tune.core.trials import trial_run
from kfp_tune.launchers.kubernetes import KubernetesConfig, KubernetesLauncher
from kfp_tune.steps.suggest import suggest
from kfp_tune.stores import LocalStore

LINE = "step=0 loss=0.5 accuracy=0.5"


@pytest.fixture
def running_in_team_a(tmp_path: Path) -> Any:
    """Experiment quad (metadata.namespace kubeflow) with one trial running as a Job in team-a,
    its started record saying so: (the fake cluster, the trial's name)."""
    from fake_kube import Script, serve

    experiment = load_experiment(quadratic_experiment(**{"metadata.namespace": "kubeflow"}))
    records = ExperimentRecords(LocalStore(tmp_path / "store"), experiment.name)
    (name,) = suggest(records, "run-1-r000", 1, experiment, n=1)
    view = ExperimentView(records)
    view.record_trial(name, TrialStarted(trial=name, time=utc_now(), at=time.time(), run="run-1", attempt="a1", owner="elsewhere/1",
                                         cluster_namespace="team-a"))
    kube, server = serve()
    try:
        kube.script = lambda manifest: Script(run_seconds=3600, log=[(0.0, LINE)])
        launcher = KubernetesLauncher(KubernetesConfig(namespace="team-a"), api_client=kube.api_client())
        launcher.create_or_adopt(launcher.prepare(trial_run(experiment, view.state.trial(name), "team-a")))
        yield kube, name
    finally:
        server.shutdown()
        server.server_close()


def test_the_log_is_read_where_the_trial_recorded_it_ran(running_in_team_a: Any, tmp_path: Path) -> None:
    kube, name = running_in_team_a
    client = Client(str(tmp_path / "store"), kubernetes_client=kube.api_client())
    assert client.get_trial_logs(("quad", name)) == LINE + "\n"
    with pytest.raises(NoLogYet, match="no pod of it runs in namespace 'kubeflow'"):  # a namespace given still wins
        client.get_trial_logs(("quad", name), namespace="kubeflow")


def test_a_403_names_the_persons_identity_and_what_logs_needs(running_in_team_a: Any, tmp_path: Path) -> None:
    from fake_kube import Fault

    kube, name = running_in_team_a
    said = 'pods is forbidden: User "alice@example.com" cannot list resource "pods" in API group "" in the namespace "team-a"'
    kube.faults = [Fault("GET", "/pods$", 403, times=100, message=said, reason="Forbidden")]
    with pytest.raises(KfpTuneError) as refused:
        Client(str(tmp_path / "store"), kubernetes_client=kube.api_client()).get_trial_logs(("quad", name))
    message = str(refused.value)
    assert f"(403 Forbidden: {said})" in message, message
    assert "kfp-tune logs calls the API as your kubeconfig's identity" in message and "list on pods and get on pods/log" in message, message
    assert "launch-trial service account" not in message, message
