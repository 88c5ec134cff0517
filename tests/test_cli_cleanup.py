"""kfp-tune cleanup against a cluster that cannot be reached: one clear error naming the API
server, after the short wait of a command a person waits on, never the token."""

from __future__ import annotations

import io
import random
from contextlib import redirect_stderr, redirect_stdout

import pytest
import yaml

from clock import FakeClock
from conftest import quadratic_experiment
from kfp_tune.cli import LOOK_RETRY_SECONDS, main
from kfp_tune.core.loading import load_experiment
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.steps import init_experiment
from kfp_tune.stores import LocalStore

TOKEN = "kfptune-kube-token-5e1f"
UNREACHABLE = "https://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture
def unreachable_cluster(tmp_path, monkeypatch):
    """A kubeconfig whose server refuses connections; the launcher's clock is fake, so its
    retries take no time, and what it waited is kept in ``clock.sleeps``."""
    from kubernetes.client import Configuration
    from kubernetes.config import kube_config

    import kfp_tune.launchers.kubernetes as kubernetes_launchers
    from kfp_tune.launchers.kubernetes import launcher as launcher_module

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "lab", "cluster": {"server": UNREACHABLE, "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "me"}}],
        "users": [{"name": "me", "user": {"token": TOKEN}}],
    }))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))  # read once, at import
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    clock = FakeClock()
    monkeypatch.setattr(launcher_module, "time", clock)
    monkeypatch.setattr(launcher_module, "random", random.Random(0))  # the retries' jitter, the same every run

    class ClockedLauncher(kubernetes_launchers.KubernetesLauncher):
        def __init__(self, config, api_client=None, env=None, sleep=None):
            super().__init__(config, api_client, env, sleep=clock.sleep)

    monkeypatch.setattr(kubernetes_launchers, "KubernetesLauncher", ClockedLauncher)
    saved = Configuration.get_default_copy()  # load_kube_config sets the process's default
    yield clock
    Configuration.set_default(saved)


def test_cleanup_of_an_unreachable_cluster_names_the_server_after_the_short_wait(unreachable_cluster, tmp_path):
    store = tmp_path / "store"
    init_experiment(ExperimentRecords(LocalStore(store), "quad"), load_experiment(quadratic_experiment()))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["cleanup", "quad", "--namespace", "team-a", "--store", str(store)])
    text = err.getvalue()
    assert code == 1, text
    assert f"error: the Kubernetes API server at {UNREACHABLE} cannot be reached (connection refused" in text
    assert "defect" not in text and "MaxRetryError" not in text and "nothing was deleted" in text
    assert TOKEN not in text + out.getvalue()
    # retried, for the 30 s of a command a person waits on, not a run's 120 s apiRetrySeconds
    # (the last wait ends at the deadline: the sum is 30 s but for the rounding of the sum itself)
    assert LOOK_RETRY_SECONDS - 1 < sum(unreachable_cluster.sleeps) <= LOOK_RETRY_SECONDS + 1e-6
