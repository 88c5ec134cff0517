"""Where a File or TensorFlowEvent collector's metrics land: the folder a launcher gives the
trial (a temporary folder locally, a shared volume on a cluster) and reading it back."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kfp_tune.core.template import primary_container


def metrics_root(
    manifest: Mapping[str, Any], container_name: str, path: str, kind: str,
    primary_pod_labels: Mapping[str, str] | None = None, pod_labels: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """(folder to give the trial, the collector path relative to it) for a File or
    TensorFlowEvent collector: the shortest folder above the path that the command names as
    such (``--log-path=/logs`` with a collector path ``/logs/test``), else the path's own
    folder. A folder is named only by an argument that is that folder, never by one that is a
    file under it: ``python /opt/app/train.py`` beside a collector path ``/opt/logs/m.log`` must
    not make ``/opt`` the trial's metrics folder, which would hide (on a cluster: shadow with a
    volume) the training script itself. The command read is the primary pod's
    (:func:`~kfp_tune.launchers.replicas.local_primary`: a PyTorchJob's Master whatever the
    YAML's order), where Katib's collector reads the file; ``primary_pod_labels`` and
    ``pod_labels`` as there."""
    from kfp_tune.launchers.replicas import local_primary  # here: replicas reads the kinds, whose package's manifests import this module

    path = posixpath.normpath(path)
    base = path if kind == "Directory" else posixpath.dirname(path)
    runs = local_primary(manifest, container_name, primary_pod_labels, pod_labels)
    container = runs[1] if runs is not None else primary_container(manifest, container_name) or {}
    texts = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    texts += [str(item.get("value", "")) for item in container.get("env") or []]
    root = ancestor = base
    while ancestor not in ("/", ""):
        if any(_names_path(text, ancestor) for text in texts):
            root = ancestor
        ancestor = posixpath.dirname(ancestor)
    return root, posixpath.relpath(path, root)


def read_metrics_files(local: Path, kind: str) -> dict[str, bytes]:
    """What a trial wrote to its metrics path, seen at ``local``: a File collector's file under
    its own name, or every file in a Directory by its path below it."""
    if kind != "Directory":
        return {local.name: local.read_bytes()} if local.is_file() else {}
    return {p.relative_to(local).as_posix(): p.read_bytes() for p in sorted(local.rglob("*")) if p.is_file()}


def _names_path(text: str, path: str) -> bool:
    """Whether an argument is the folder ``path`` (alone, or after ``=``; a trailing ``/`` allowed)."""
    values = [text] + ([text.split("=", 1)[1]] if "=" in text else [])
    return any(value.rstrip("/") == path for value in values if value)
