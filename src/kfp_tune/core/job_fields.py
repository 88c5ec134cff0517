"""Fields a batch/v1 Job trial template may hold, checked as Katib's webhook checks them.

Katib converts a ``batch/v1`` ``Job`` trial template to Kubernetes' typed Job and refuses the
experiment if a field does not survive the conversion (validator.go, ``validateTrialJob``): a
misspelt ``nodeSelector`` or ``restartPolicy`` is an error at admission, not a setting the API
server drops later. Other kinds are not checked, as in Katib. The fields are read from
``job_fields.json``, written from the ``kubernetes`` client's models by ``tools/job_fields.py``
(the core never imports ``kubernetes``); resource limits and requests take any name, as in
Katib (device plugins add their own), but each amount must be a Kubernetes quantity, as Katib parses it.
A pod ``restartPolicy`` other than OnFailure or Never passes Katib's webhook and then fails every
trial at creation (Kubernetes' Job validation), so it is refused here, before anything runs.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from importlib import resources
from typing import Any

from kfp_tune.core.errors import FieldError, shown

JOB_API_VERSION, JOB_KIND = "batch/v1", "Job"
# The restart policies Kubernetes accepts in a Job's pod template; Always (a Pod's default) is refused
# when the Job is created, after Katib has admitted the experiment.
JOB_RESTART_POLICIES = ("OnFailure", "Never")
# Kubernetes' resource.Quantity: a signed decimal number with a binary (Ki..Ei), decimal (m, k..E)
# or exponent (e3) suffix. Katib's conversion to a typed Job parses every limit and request.
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$")
_LIST = re.compile(r"^list\[(.+)\]$")
_MAP = re.compile(r"^dict\(str, (.+)\)$")


@cache
def _table() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources.files("kfp_tune.core").joinpath("job_fields.json").read_text())
    return loaded


def kubernetes_version() -> str:
    """The ``kubernetes`` client the field table was written from (its API is Kubernetes 1.N for client N)."""
    return str(_table()["kubernetes_client"])


def unknown_job_fields(trial_spec: Any, path: str) -> list[FieldError]:
    """Each field of a batch/v1 Job trial template that Kubernetes' Job does not have, at its
    path, with the nearest known name when one is close; empty for any other kind."""
    if not isinstance(trial_spec, dict) or trial_spec.get("apiVersion") != JOB_API_VERSION or trial_spec.get("kind") != JOB_KIND:
        return []
    problems: list[FieldError] = []
    _walk(trial_spec, _table()["root"], path, problems)
    return problems


def _walk(value: Any, kind: str, path: str, problems: list[FieldError]) -> None:
    models: dict[str, dict[str, str]] = _table()["models"]
    if (match := _LIST.match(kind)) and isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, match.group(1), f"{path}[{index}]", problems)
    elif (match := _MAP.match(kind)) and isinstance(value, dict):
        for key, item in value.items():
            _walk(item, match.group(1), f"{path}.{key}", problems)
    elif kind in models and isinstance(value, dict):
        fields = models[kind]
        for key, item in value.items():
            if key in fields:
                if kind == "V1ResourceRequirements" and key in ("limits", "requests") and isinstance(item, dict):
                    problems.extend(_bad_quantities(item, f"{path}.{key}"))
                if kind == "V1PodSpec" and key == "restartPolicy" and item not in JOB_RESTART_POLICIES:
                    problems.append(FieldError(f"{path}.{key}", f"expected {' or '.join(JOB_RESTART_POLICIES)} for a Job's pod (Kubernetes refuses to create a Job with another), got {shown(item)}"))
                _walk(item, fields[key], f"{path}.{key}", problems)
                continue
            near = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known: {', '.join(sorted(fields))}"
            problems.append(
                FieldError(
                    f"{path}.{key}",
                    f"not a field of {kind[2:] if kind.startswith('V1') else kind} in a batch/v1 Job (Katib's webhook refuses a Job "
                    f"template it cannot convert; fields of Kubernetes {_api_version()}){hint}",
                )
            )
    # scalars, and shapes that do not match (a string where a list belongs), are left to the checks
    # that already read them and to the API server: Katib's conversion reports them differently


def _bad_quantities(amounts: dict[str, Any], path: str) -> list[FieldError]:
    """Each limit or request that is not a Kubernetes quantity (``memory: lots``, ``cpu: 2 cores``):
    Katib's webhook cannot convert the Job and refuses it. A ``${trialParameters...}`` value is
    left to the cluster, where it is known."""
    problems = []
    for name, amount in amounts.items():
        if isinstance(amount, (int, float)) and not isinstance(amount, bool):
            continue
        if isinstance(amount, str) and (QUANTITY.match(amount) or "${" in amount):
            continue
        problems.append(FieldError(f"{path}.{name}", f"expected a Kubernetes quantity such as 2, 500m or 4Gi, got {shown(amount)}"))
    return problems


def _api_version() -> str:
    """Kubernetes 1.N for the ``kubernetes`` client N.x the table was written from."""
    major = kubernetes_version().split(".")[0]
    return f"1.{major}" if major.isdigit() else kubernetes_version()
