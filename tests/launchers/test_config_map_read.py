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
