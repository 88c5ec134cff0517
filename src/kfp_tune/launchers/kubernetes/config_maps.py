"""Katib's ``trialTemplate.configMap`` read on the cluster: the experiment's first step reads the
template ConfigMap with the pipeline's service account (``manifests/rbac-trial-templates.yaml``
grants ``get`` on it, by name), before the experiment is created or resumed."""

from __future__ import annotations

from typing import Any

from kfp_tune.core.errors import KfpTuneError

WHERE = "on this cluster (read by the run's first step, with the pipeline's service account)"


def read_config_map(namespace: str, name: str, api_client: Any = None) -> dict[str, str] | None:
    """The ConfigMap's ``data``; None when there is none of that name (404). Refused access
    (403) says which RBAC rule is missing; other failures say what the API answered."""
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException

    if api_client is None:
        try:
            config.load_incluster_config()
        except config.ConfigException:
            config.load_kube_config()
        api_client = client.ApiClient()
    try:
        found = client.CoreV1Api(api_client).read_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        if exc.status in (401, 403):
            raise KfpTuneError(
                f"reading ConfigMap {namespace}/{name} (the trial template) was refused ({exc.status}): the pipeline's service account "
                f"needs 'get' on configmaps named {name!r} in namespace {namespace!r} (see manifests/rbac-trial-templates.yaml)"
            ) from None
        raise KfpTuneError(f"reading ConfigMap {namespace}/{name} (the trial template) failed: {exc.status} {exc.reason}") from None
    return {str(k): str(v) for k, v in (found.data or {}).items()}
