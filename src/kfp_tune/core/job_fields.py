"""Fields a batch/v1 Job trial template may hold, checked as Katib's webhook checks them.

Katib converts a ``batch/v1`` ``Job`` trial template to Kubernetes' typed Job and refuses the
experiment if a field does not survive the conversion (validator.go, ``validateTrialJob``): a
misspelt ``nodeSelector`` or ``restartPolicy`` is an error at admission, not a setting the API
server drops later. Other kinds are not checked, as in Katib. The fields are those of the
Kubernetes Katib's webhook is built on (its go.mod's k8s.io/api), read from ``job_fields.json``,
which ``tools/job_fields.py`` writes from that version's OpenAPI schemas (the core imports no
Kubernetes package); resource limits and requests take any name, as in
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
from kfp_tune.core.template import TYPED_PARAMETER

JOB_API_VERSION, JOB_KIND = "batch/v1", "Job"
# The restart policies Kubernetes accepts in a Job's pod template; Always (a Pod's default) is refused
# when the Job is created, after Katib has admitted the experiment.
JOB_RESTART_POLICIES = ("OnFailure", "Never")
# Kubernetes' resource.Quantity, apimachinery's grammar (quantity.go): a signed number (1, 1.5, 1., .5)
# and a binary (Ki..Ei), decimal (n, u, m, k..E) or exponent (e3, E-3) suffix, and nothing after it
# (\Z: a trailing newline is refused, as ParseQuantity refuses it), in ASCII digits only (Go reads
# '0'..'9'; Python's \d takes any script's digits). Katib's conversion to a typed Job parses every
# limit and request.
QUANTITY = re.compile(r"\A[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?\Z")
_LIST = re.compile(r"^list\[(.+)\]$")
_MAP = re.compile(r"^dict\(str, (.+)\)$")


@cache
def _table() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources.files("kfp_tune.core").joinpath("job_fields.json").read_text())
    return loaded


def kubernetes_version() -> str:
    """The Kubernetes minor version (``1.34``) whose Job the field table holds: that of Katib's webhook."""
    major, minor, *_ = str(_table()["kubernetes"]).split(".")
    return f"{major}.{minor}"


def unknown_job_fields(trial_spec: Any, path: str) -> list[FieldError]:
    """Each field of a batch/v1 Job trial template that Kubernetes' Job does not have, at its
    path, with the nearest known name when one is close; empty for any other kind."""
    if not isinstance(trial_spec, dict) or trial_spec.get("apiVersion") != JOB_API_VERSION or trial_spec.get("kind") != JOB_KIND:
        return []
    problems: list[FieldError] = []
    _walk(trial_spec, _table()["root"], path, problems)
    return problems


# The table's scalar types (tools/job_fields.py): a quantity is a number or quantity text (resource.Quantity),
# and "any" is a field Kubernetes keeps as raw JSON (managedFields' fieldsV1), which any value converts to.
_QUANTITY, _ANY_VALUE = "quantity", "any"
_EXPECTED = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false", "datetime": "a time as text (RFC 3339)",
             "int-or-string": "an integer or a string (Kubernetes' IntOrString)"}


def object_meta_problems(metadata: dict[str, Any], path: str) -> list[FieldError]:
    """Each key of an object's metadata that Kubernetes' ObjectMeta does not have (``foo``,
    ``namespacex``), with the nearest field when one is close: the API server refuses an unknown
    metadata field. Every ObjectMeta field is taken (``kubectl get -o yaml`` writes uid,
    creationTimestamp, managedFields ...)."""
    fields = _table()["models"]["V1ObjectMeta"]
    problems = []
    for key in metadata:
        if key not in fields:
            near = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known: {', '.join(sorted(fields))}"
            problems.append(FieldError(f"{path}.{key}", f"unknown field (not part of Kubernetes' ObjectMeta){hint}"))
    return problems


def _walk(value: Any, kind: str, path: str, problems: list[FieldError]) -> None:
    """Each field against the type Kubernetes' Job gives it, as Katib's conversion to
    a typed Job (apimachinery's ``DefaultUnstructuredConverter.FromUnstructured``) reads it with
    JSON's rules: a string where an integer, a list or a mapping belongs, or a number where a
    string belongs, does not convert (validator.go ``validateTrialJob``)."""
    models: dict[str, dict[str, str]] = _table()["models"]
    if kind == _ANY_VALUE:
        return
    if typed_when_filled_in(value):
        return
    if (match := _LIST.match(kind)) is not None:
        if not isinstance(value, list):
            problems.append(_mistyped(path, f"a list (of {_shown_kind(match.group(1))})", value))
            return
        for index, item in enumerate(value):
            _walk(item, match.group(1), f"{path}[{index}]", problems)
    elif (match := _MAP.match(kind)) is not None:
        if not isinstance(value, dict):
            problems.append(_mistyped(path, f"a mapping (of names to {_shown_kind(match.group(1))})", value))
        elif match.group(1) == _QUANTITY:
            problems.extend(_bad_quantities(value, path))
        else:
            for key, item in value.items():
                _walk(item, match.group(1), f"{path}.{key}", problems)
    elif kind in models:
        if not isinstance(value, dict):
            problems.append(_mistyped(path, f"a mapping (Kubernetes' {_shown_kind(kind)})", value))
            return
        fields = models[kind]
        for key, item in value.items():
            if key in fields:
                if kind == "V1PodSpec" and key == "restartPolicy" and isinstance(item, str) and item not in JOB_RESTART_POLICIES:
                    problems.append(FieldError(f"{path}.{key}", f"expected {' or '.join(JOB_RESTART_POLICIES)} for a Job's pod (Kubernetes refuses to create a Job with another), got {shown(item)}"))
                _walk(item, fields[key], f"{path}.{key}", problems)
                continue
            near = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; known: {', '.join(sorted(fields))}"
            problems.append(
                FieldError(
                    f"{path}.{key}",
                    f"not a field of {_shown_kind(kind)} in a batch/v1 Job ({_katibs_webhook()} refuses a Job template it cannot convert){hint}",
                )
            )
    elif kind == _QUANTITY:
        problems.extend(_bad_quantities({path.rpartition(".")[2]: value}, path.rpartition(".")[0]))
    elif not _converts(value, kind):
        problems.append(_mistyped(path, _EXPECTED.get(kind, kind), value))


def _converts(value: Any, kind: str) -> bool:
    """Whether a scalar converts to the Go type behind the table's ``kind``, by JSON's rules:
    a whole float is an integer; no text is a number or a boolean, and no number is text."""
    if kind in ("str", "datetime"):
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "int-or-string":
        return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    return True


def typed_when_filled_in(value: Any) -> bool:
    """Whether a value is a ConfigMap template's unquoted whole placeholder (kept as
    ``${yaml:trialParameters.x}``): Katib fills a ConfigMap template in its YAML text, so such a
    value takes its value's YAML type at each trial (``replicas: 2``), and no field's type check
    can refuse it before. The one rule of every check of a template's field types."""
    return isinstance(value, str) and TYPED_PARAMETER.fullmatch(value) is not None


def placeholder_stays_text(value: Any) -> str:
    """Why a ``${trialParameters.x}`` placeholder where a number, a list or a mapping belongs is
    refused (it stays text when it is replaced), as a clause to add to the refusal; '' for another value."""
    if not (isinstance(value, str) and "${trialParameters." in value):
        return ""
    return ("; a placeholder in a trialSpec written in the Experiment stays text when it is replaced (as in Katib, which substitutes "
            "the JSON text), and so does a quoted one in a ConfigMap template: write the value, or use a ConfigMap template with the "
            "placeholder written unquoted as the whole value, which takes the value's type")


def _mistyped(path: str, expected: str, value: Any) -> FieldError:
    why = placeholder_stays_text(value)
    return FieldError(path, f"expected {expected}, got {shown(value)} ({_katibs_webhook()} refuses a Job template whose fields do not convert to Kubernetes' Job){why}")


def _shown_kind(kind: str) -> str:
    """``V1PodSpec`` as PodSpec; ``str`` as string."""
    return kind[2:] if kind.startswith("V1") else {"str": "strings", "int": "integers", "bool": "booleans", _QUANTITY: "quantities"}.get(kind, kind)


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


def _katibs_webhook() -> str:
    """Who refuses, and on which Kubernetes' Job: a later Katib, on a later Kubernetes, may take a field this one refuses."""
    return f"Katib's webhook, built on Kubernetes {kubernetes_version()} types,"
