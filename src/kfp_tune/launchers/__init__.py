"""Launchers: run a trial and wait for its end. Local subprocesses and in-process Python functions
here; Kubernetes resources in :mod:`kfp_tune.launchers.kubernetes` (later)."""

from __future__ import annotations

import json
from typing import Any

from kfp_tune.core.interfaces import Launcher
from kfp_tune.launchers.local import LocalLauncher


def launcher_from_config(config: str | dict[str, Any]) -> Launcher:
    """A launcher from its JSON config, as the launch-trial component receives it.

    ``{"kind": "local", "mounts": {"/opt/app": "/home/me/app"}, "timeoutSeconds": 600}``"""
    data = json.loads(config) if isinstance(config, str) else dict(config)
    kind = data.get("kind", "local")
    if kind == "local":
        return LocalLauncher(mounts=data.get("mounts") or {}, timeout_seconds=data.get("timeoutSeconds"))
    raise ValueError(f"launcher kind {kind!r}: expected 'local' (the Kubernetes launcher is not in this version yet)")


__all__ = ["LocalLauncher", "launcher_from_config"]
