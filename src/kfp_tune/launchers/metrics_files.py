"""Where a File or TensorFlowEvent collector's metrics land: the folder a launcher gives the
trial (a temporary folder locally, a shared volume on a cluster) and reading it back."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def metrics_root(container: Mapping[str, Any], path: str, kind: str) -> tuple[str, str]:
    """(folder to give the trial, the collector path relative to it) for a File or
    TensorFlowEvent collector: the shortest folder above the path that ``container``'s command
    names as such (``--log-path=/logs`` with a collector path ``/logs/test``), else the path's
    own folder. A folder is named only by an argument that is that folder, never by one that is
    a file under it: ``python /opt/app/train.py`` beside a collector path ``/opt/logs/m.log``
    must not make ``/opt`` the trial's metrics folder, which would hide (on a cluster: shadow
    with a volume) the training script itself. ``container``: the primary pod's, where Katib's
    collector reads the file (a PyTorchJob's Master whatever the YAML's order:
    :func:`~kfp_tune.launchers.kubernetes.kinds.primary_pod_container`)."""
    path = posixpath.normpath(path)
    base = path if kind == "Directory" else posixpath.dirname(path)
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
