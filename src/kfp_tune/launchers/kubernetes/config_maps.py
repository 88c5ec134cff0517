"""Katib's ``trialTemplate.configMap`` read on the cluster: the experiment's first step reads the
template ConfigMap with the pipeline's service account (``manifests/rbac-trial-templates.yaml``
grants ``get`` on it, by name), before the experiment is created or resumed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kfp_tune.core.errors import KfpTuneError, clipped

WHERE = "on this cluster (read by the run's first step, with the pipeline's service account)"


def read_config_map(namespace: str, name: str, api_client: Any = None, sleep: Callable[[float], None] = time.sleep) -> dict[str, str] | None:
    """The ConfigMap's ``data``; None when there is none of that name (404). 429, 5xx and a lost
    connection are retried as the launcher retries its calls (:meth:`KubernetesLauncher.call`:
    backoff, Retry-After, for ``apiRetrySeconds``' default), else the run's first step failed on
    one 503. Refused access (403) says which RBAC rule is missing; other failures quote what the
    API server's Status said. ``sleep``: how it waits before a retry (tests record the waits)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from kfp_tune.launchers.kubernetes.launcher import STATUS_MESSAGE_LIMIT, KubernetesConfig, KubernetesLauncher, is_connection_error, status_message

    launcher = KubernetesLauncher(KubernetesConfig(namespace=namespace), api_client=api_client, sleep=sleep)
    failed = f"reading ConfigMap {namespace}/{name} (the trial template) failed"

    def read() -> Any:
        try:
            return client.CoreV1Api(launcher.api).read_namespaced_config_map(name, namespace)
        except ApiException as exc:
            if exc.status in (401, 403, 404):
                return exc  # an answer, not a fault to retry
            raise

    try:
        found = launcher.call("get", "configmaps", name, read)
    except ApiException as exc:
        said = status_message(exc)
        raise KfpTuneError(f"{failed}: {exc.status} {exc.reason}" + (f": {clipped(said, STATUS_MESSAGE_LIMIT)}" if said else "")) from None
    except Exception as exc:
        if not is_connection_error(exc):
            raise
        raise KfpTuneError(f"{failed}: the API server did not answer for {launcher.config.api_retry_seconds:g} s ({type(exc).__name__}: {exc})") from None
    if isinstance(found, ApiException):
        if found.status == 404:
            return None
        raise KfpTuneError(
            f"reading ConfigMap {namespace}/{name} (the trial template) was refused ({found.status}): the pipeline's service account "
            f"needs 'get' on configmaps named {name!r} in namespace {namespace!r} (see manifests/rbac-trial-templates.yaml)"
        )
    return {str(k): str(v) for k, v in (found.data or {}).items()}
