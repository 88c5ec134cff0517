"""Kubernetes resource amounts in a trial template, read as Kubernetes reads them: what the
local launcher's pod asks for on the trials' behalf, and what validate, compile and every run
refuse before anything runs (a part of a GPU), whichever engine runs the trials. No kfp import:
``kfp-tune validate`` reads it too."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from kfp_tune.core.errors import FieldError, SpecError, shown
from kfp_tune.core.spec import Experiment
from kfp_tune.core.template import primary_container
from kfp_tune.core.validation import template_containers

WHOLE_RESOURCES_ONLY_EXCEPT = ("cpu", "memory", "ephemeral-storage")
"""The resources a pod may ask a part of (a part of a byte of memory or ephemeral-storage
Kubernetes only warns about, pkg/api/pod/warnings.go); any other (``nvidia.com/gpu``, an
extended resource) Kubernetes takes in whole units only (its pod validation,
``ValidateResourceQuantityValue``: "must be an integer"), so Katib's trial pod asking for 0.5
of a GPU is never created."""


QUANTITY_SUFFIXES: dict[str, Fraction] = {
    "": Fraction(1), "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9),
    "T": Fraction(10**12), "P": Fraction(10**15), "E": Fraction(10**18),
    "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40), "Pi": Fraction(2**50), "Ei": Fraction(2**60),
}
"""What each suffix of a Kubernetes quantity multiplies by (apimachinery's resource.Quantity)."""

MAX_QUANTITY = Fraction(2**63 - 1)
"""The most an amount counts for here. Kubernetes' ParseQuantity rounds an amount finer than a nano
up to the next nano, and caps one with a binary suffix at 2^63 - 1 (quantity.go); a larger decimal
one (``1e30``) it keeps, which is as much as no node has either way, so every amount is capped
here, and an exponent like ``1e9999999999`` is read at once."""


def quantity_value(amount: Any) -> Fraction:
    """A Kubernetes quantity (``1.5Gi``, ``500m``, ``129e6``, ``0.5``, or a YAML number) as an
    exact number, in bytes or cores; ValueError saying what was expected when it is none, or
    is negative. Katib's webhook reads a Job's amounts as Kubernetes does (validator.go,
    ``validateTrialJob``, through the typed Job), so this takes what it takes."""
    from kfp_tune.core.job_fields import QUANTITY

    expected = f"expected a Kubernetes quantity such as 2, 500m or 4Gi, got {shown(amount)}"
    if isinstance(amount, bool) or not isinstance(amount, (str, int, float)):
        raise ValueError(expected)
    text = str(amount) if not isinstance(amount, float) else repr(amount)
    match = QUANTITY.match(text)
    if match is None:
        raise ValueError(expected)
    number = Fraction(Decimal(text[: match.start(3)] if match.group(3) else text))
    suffix = match.group(3) or ""
    if suffix in QUANTITY_SUFFIXES:  # E is exa, Ei exbi
        scale = QUANTITY_SUFFIXES[suffix]
    else:  # an exponent, 129e6: held to where the cap or the rounding decides, never computing 10 ** 9999999999
        bound = len(text) + 20  # any amount written in len(text) characters is past 2^63 or below a nano beyond it
        scale = Fraction(10) ** max(-bound, min(bound, int(suffix[1:])))
    if number < 0:
        raise ValueError(f"expected an amount of 0 or more, got {shown(amount)}")
    value = min(number * scale, MAX_QUANTITY)
    nanos = value * 10**9
    return value if nanos.denominator == 1 else Fraction(math.ceil(nanos), 10**9)


def trial_resource_amounts(experiment: Experiment) -> dict[str, Fraction]:
    """What one trial's primary container asks for, by resource: its limits, else requests, as
    exact amounts (:func:`quantity_value`). An amount left to the trial (``${trialParameters...}``)
    is left out. Every container's amounts are checked first (:func:`resource_problems`) and
    what Kubernetes refuses (a part of a GPU, ``nvidia.com/gpu: "0.5"``) is refused (SpecError at
    its field), as Kubernetes refuses the trial's pod. A template kept in a ConfigMap not read
    yet asks for nothing here."""
    template = experiment.spec.trial_template
    if template is None or template.trial_spec is None:
        return {}
    container = primary_container(template.trial_spec, template.primary_container_name) or {}
    where = f"spec.trialTemplate.trialSpec (container {container.get('name') or template.primary_container_name!r})"
    errors = resource_problems(template.trial_spec, container, where)
    if errors:
        raise SpecError(errors)
    declared = container.get("resources") or {}
    wanted = {
        name: amount
        for part in ("requests", "limits")
        for name, amount in _mapping(declared.get(part) if isinstance(declared, dict) else None).items()
    }  # limits after requests: a limit wins
    return {name: quantity_value(amount) for name, amount in wanted.items() if "${" not in str(amount)}


def is_overcommittable(name: str) -> bool:
    """Whether Kubernetes lets a container's request of ``name`` be below its limit, or be given
    without one (``IsOvercommitAllowed``): a native resource (no domain, or a kubernetes.io one)
    other than ``hugepages-*``. An extended resource (``nvidia.com/gpu``) is not."""
    native = "/" not in name or "kubernetes.io/" in name
    return native and not name.startswith("hugepages-")


def resource_problems(trial_spec: Any, primary: Any = None, primary_where: str = "") -> list[FieldError]:
    """Every container's requests and limits (every replica's, initContainers, a TrainJob's
    ``spec.trainer.resourcesPerNode``) checked as Kubernetes' pod validation checks them
    (``ValidateResourceRequirements``): each a quantity of 0 or more, whole for all but cpu,
    memory and ephemeral-storage; a request at most its limit; for a resource Kubernetes does
    not overcommit (:func:`is_overcommittable`) a limit set and a request, if given, equal to it.
    Paths are the containers' (the primary one's ``primary_where``, as run and compile name it)."""
    problems: list[FieldError] = []
    for path, container in template_containers(trial_spec):
        if not isinstance(container, dict):
            continue  # told by validation
        key = "resourcesPerNode" if path.endswith(".trialSpec.spec.trainer") else "resources"
        where = f"{primary_where} {key}" if container is primary and key == "resources" else f"{path}.{key}"
        problems += requirement_problems(container.get(key), where)
    return problems


def requirement_problems(resources: Any, where: str) -> list[FieldError]:
    """One container's ``resources`` (``where``: its path) as :func:`resource_problems` checks
    them. An amount left to the trial (``${trialParameters...}``) is left to the cluster."""
    declared = resources if isinstance(resources, dict) else {}
    given = {part: _mapping(declared.get(part)) for part in ("requests", "limits")}
    values: dict[tuple[str, str], Fraction] = {}
    problems: list[FieldError] = []
    for part, amounts in given.items():
        for name, amount in amounts.items():
            if "${" in str(amount):
                continue
            try:
                value = quantity_value(amount)
            except ValueError as exc:
                problems.append(FieldError(f"{where}.{part}.{name}", str(exc)))
                continue
            if name not in WHOLE_RESOURCES_ONLY_EXCEPT and value.denominator != 1:
                problems.append(FieldError(f"{where}.{part}.{name}", f"expected a whole number of {name}, got {shown(amount)}"))
                continue
            values[part, name] = value
    limits = given["limits"]
    for name, amount in given["requests"].items():
        request, limit = values.get(("requests", name)), values.get(("limits", name))
        if not is_overcommittable(name):
            if name not in limits:
                problems.append(FieldError(
                    f"{where}.limits.{name}",
                    f"required: a limit for {name}, equal to its request {shown(amount)} (Kubernetes does not overcommit {name}: it needs a limit, "
                    "and a request equal to it)",
                ))
            elif request is not None and limit is not None and request != limit:
                problems.append(FieldError(
                    f"{where}.requests.{name}",
                    f"expected {shown(limits[name])}, its limit (Kubernetes does not overcommit {name}: a request must equal the limit), got {shown(amount)}",
                ))
        elif request is not None and limit is not None and request > limit:
            problems.append(FieldError(
                f"{where}.requests.{name}", f"expected at most {shown(limits[name])}, its limit (Kubernetes refuses a request above the limit), got {shown(amount)}"
            ))
    return problems


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else nothing: a wrong type is the Job fields' check's to name."""
    return value if isinstance(value, dict) else {}
