"""Deterministic, DNS-1123-safe names for trials and the resources they create."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from kfp_tune.core.errors import shown

# Operator kinds append suffixes such as "-worker-12" to pod names (63 characters at most),
# so trial names stay at or under 45 characters.
MAX_TRIAL_NAME = 45
SUFFIX_LENGTH = 8
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
"""Kubernetes' DNS-1123 subdomain: the names of service accounts, Secrets, claims, label prefixes."""


def is_dns_subdomain(name: object) -> TypeGuard[str]:
    """Whether ``name`` is a string Kubernetes takes as a DNS-1123 subdomain (253 characters at most)."""
    return isinstance(name, str) and len(name) <= 253 and DNS_SUBDOMAIN.fullmatch(name) is not None


_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE_RULE = "63 characters at most, alphanumeric at both ends, '-', '_' or '.' between"


def label_field_problems(labels: Mapping[str, Any], path: str) -> list[tuple[str, str]]:
    """(field, problem) for what the API server would refuse in these labels, or in a selector
    made of them: a key is ``[prefix/]name`` (prefix a DNS subdomain of 253 characters at most;
    name 63 at most), a value 63 characters at most; names and values alphanumeric at both ends,
    ``-``, ``_``, ``.`` between. One rule for an Experiment's ``metadata.labels`` (validate) and
    every label the Kubernetes launcher sets."""
    problems = []
    for key, value in labels.items():
        prefix, slash, name = str(key).rpartition("/")
        if (slash and (not prefix or not is_dns_subdomain(prefix))) or len(name) > 63 or not _LABEL_NAME.match(name):
            problems.append((path, f"{key!r} is not a valid label key"))
        if not isinstance(value, str) or (value and (len(value) > 63 or not _LABEL_NAME.match(value))):
            problems.append((f"{path}.{key}", f"{value!r} is not a valid label value ({LABEL_VALUE_RULE})"))
    return problems


def label_problems(labels: Mapping[str, Any], path: str) -> list[str]:
    """:func:`label_field_problems` as ``field: problem`` lines."""
    return [f"{field}: {problem}" for field, problem in label_field_problems(labels, path)]


MAX_NAMESPACE_LENGTH = 63


def namespace_problem(namespace: object) -> str | None:
    """What is wrong with a Kubernetes namespace (a DNS-1123 label), or None: one rule for an
    experiment's ``metadata.namespace`` and the ``namespace`` a run is sent to, whose store path
    (``s3://mlpipeline/private/<namespace>/``) it also becomes."""
    if is_dns_subdomain(namespace) and "." not in namespace and len(namespace) <= MAX_NAMESPACE_LENGTH:
        return None
    return (
        f"expected a Kubernetes namespace, a DNS-1123 label (lower case letters, digits and '-', starting and ending with a letter "
        f"or digit, at most {MAX_NAMESPACE_LENGTH} characters), got {shown(namespace)}"
    )


LABEL_HASH_LENGTH = 6
MIN_LABEL_LENGTH = 1 + 1 + LABEL_HASH_LENGTH
"""The shortest max_length dns_label accepts: a letter, a dash and the hash of a changed text."""


def dns_label(text: str, max_length: int = 63) -> str:
    """A DNS-1123 label derived from text: lower case, [a-z0-9-], starts with a letter, ends with
    a letter or digit. Text that had to change gets a short hash so different inputs stay apart.

    Never longer than max_length; a max_length below MIN_LABEL_LENGTH is refused (ValueError),
    whatever the text, as no changed text would fit beside its hash."""
    if max_length < MIN_LABEL_LENGTH:
        raise ValueError(f"max_length {max_length} is too short for a DNS label with its hash: it must be at least {MIN_LABEL_LENGTH}")
    label = re.sub(r"[^a-z0-9-]+", "-", text.lower())
    label = re.sub(r"-{2,}", "-", label).strip("-")
    if not label or not label[0].isalpha():
        label = "x" + (("-" + label) if label else "")
    if label != text or len(label) > max_length:
        digest = short_hash(text, LABEL_HASH_LENGTH)
        label = label[: max_length - len(digest) - 1].rstrip("-") + "-" + digest
    return label


def short_hash(text: str, length: int = SUFFIX_LENGTH) -> str:
    """``length`` characters of [a-z0-9] from a SHA-256 of text."""
    number = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")
    out = []
    for _ in range(length):
        number, digit = divmod(number, len(_ALPHABET))
        out.append(_ALPHABET[digit])
    return "".join(out)


def trial_name(experiment_name: str, experiment_uid: str, index: int) -> str:
    """The name of an experiment's index-th trial, as Katib shapes it: ``<experiment>-<8 chars>``.

    The suffix hashes the experiment's uid and the index, so a re-created experiment of the same
    name never meets the trials (or retained jobs) of the old one."""
    prefix = dns_label(experiment_name, MAX_TRIAL_NAME - SUFFIX_LENGTH - 1)
    return f"{prefix}-{short_hash(f'{experiment_uid}/{index}')}"


def per_run_experiment_name(experiment_name: str, run_id: str, max_length: int = 63) -> str:
    """The fresh experiment a pipeline run tunes when each run starts its own (a recurring run
    with ``fresh_experiment``): the name, then a hash of the run id, so every run gets its own
    and a retried step of the same run gets the same one."""
    suffix = short_hash(run_id, 6)
    return f"{dns_label(experiment_name, max_length - len(suffix) - 1)}-{suffix}"


NEW_EXPERIMENT_NAMING = "another metadata.name, kfp-tune run --name NEW, or tune(name=...)"
"""How a user names a new experiment, on every path that can meet a refused resume or a
completed experiment (the YAML, the CLI, tune())."""

LABEL_PREFIX = "kfp-tune.kubeflow.org"
MANAGED_BY = "kfp-tune"


def experiment_selector(experiment: str) -> str:
    """The label selector of every trial resource kfp-tune made for the experiment: the sweep
    lists by it, and cleanup may print it in a ``kubectl delete -l``."""
    return f"{LABEL_PREFIX}/managed-by={MANAGED_BY},{LABEL_PREFIX}/experiment={experiment}"


def labels_for(experiment: str, trial: str, round_id: str = "") -> dict[str, str]:
    """The labels every trial resource carries, so a sweep finds what kfp-tune made."""
    labels = {f"{LABEL_PREFIX}/experiment": experiment, f"{LABEL_PREFIX}/trial": trial, f"{LABEL_PREFIX}/managed-by": MANAGED_BY}
    if round_id:
        labels[f"{LABEL_PREFIX}/round"] = round_id[-63:].lstrip("-_.")
    return labels
