"""A Ctrl-C that lands as ``kfp-tune run`` ends: after the progress output's last look, when the
run no longer answers signals itself, so Python's own handler raises KeyboardInterrupt."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

import kfp_tune.progress
from kfp_tune.cli import main


def run_with_a_ctrl_c_after_its_end(experiment: str, store: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """``kfp-tune run EXPERIMENT --engine inline --store STORE --json`` with SIGINT raised right
    after the progress watcher's last look; its exit status (the test reads its output)."""
    last_look = kfp_tune.progress.ProgressWatcher.__exit__

    def last_look_then_ctrl_c(self: Any, *exc_info: Any) -> None:
        last_look(self, *exc_info)
        signal.raise_signal(signal.SIGINT)  # Python's own handler: the run's was taken down as it ended

    monkeypatch.setattr(kfp_tune.progress.ProgressWatcher, "__exit__", last_look_then_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return main(["run", experiment, "--engine", "inline", "--store", str(store), "--json"])
    finally:
        signal.signal(signal.SIGINT, previous)
