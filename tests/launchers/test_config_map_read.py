"""The trial template's ConfigMap read on the cluster (``launchers.kubernetes.config_maps``): the
data of the named ConfigMap, None when there is none, and a refusal that names the RBAC rule the
step is missing. Katib's ``trialTemplate.configMap`` as a whole is tested in
tests/core/test_template_source.py."""

from __future__ import annotations

import pytest

from kfp_tune.core.errors import KfpTuneError


def _config_map(text: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "templates", "namespace": "team-a"}, "data": {"quad.yaml": text}}


def test_the_cluster_read_through_the_kubernetes_api():
    from fake_kube import Fault, serve
    from kfp_tune.launchers.kubernetes.config_maps import read_config_map

    fake, server = serve()
    try:
        fake.put(_config_map("kind: Job"), "team-a")
        assert read_config_map("team-a", "templates", fake.api_client()) == {"quad.yaml": "kind: Job"}
        assert read_config_map("team-b", "templates", fake.api_client()) is None
        fake.faults = [Fault("GET", "/configmaps/templates$", 403)]
        with pytest.raises(KfpTuneError, match=r"needs 'get' on configmaps named 'templates' in namespace 'team-a'.*rbac-trial-templates.yaml"):
            read_config_map("team-a", "templates", fake.api_client())
        assert [c.verb for c in fake.calls if "configmaps" in c.path] == ["get", "get", "get"]
    finally:
        server.shutdown()


def test_a_503_is_retried_as_the_launcher_retries_and_an_outage_quotes_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's first step failed on one 503 (etcd changing leader), where the launcher
    retries its calls for apiRetrySeconds (120 s by default); and its error left out what the
    server's Status said. Now the read is retried as the launcher's are (one wait here), and an
    outage that outlasts the 120 s (on a clock the recorded waits move on) quotes the server."""
    import random
    import time
    import types

    from fake_kube import Fault, serve
    from kfp_tune.launchers.kubernetes import launcher as kube_launcher
    from kfp_tune.launchers.kubernetes.config_maps import read_config_map

    clock, waits = [0.0], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(kube_launcher, "time", types.SimpleNamespace(monotonic=lambda: clock[0], time=time.time, sleep=time.sleep))
    monkeypatch.setattr(kube_launcher, "random", random.Random(20261206))
    fake, server = serve()
    try:
        fake.put(_config_map("kind: Job"), "team-a")
        fake.faults = [Fault("GET", "/configmaps/templates$", 503, times=1, message="etcdserver: leader changed")]
        assert read_config_map("team-a", "templates", fake.api_client(), sleep=sleep) == {"quad.yaml": "kind: Job"}
        assert len(waits) == 1
        waits.clear()
        fake.faults = [Fault("GET", "/configmaps/templates$", 503, times=1000, message="etcdserver: leader changed")]
        with pytest.raises(KfpTuneError, match=r"templates \(the trial template\) failed: 503 Service Unavailable: etcdserver: leader changed$"):
            read_config_map("team-a", "templates", fake.api_client(), sleep=sleep)
        assert sum(waits) == pytest.approx(120.0)
    finally:
        server.shutdown()
