"""The progress the CLI's bar shows while a run goes, read from the store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from conftest import quadratic_experiment
from kfp_tune import Client
from kfp_tune.cli import main
from kfp_tune.core.loading import load_experiment
from kfp_tune.progress import ProgressWatcher
from kfp_tune.stores import LocalStore


def test_progress_counts_finished_trials_and_follows_an_edited_budget(tmp_path: Path) -> None:
    """A budget raised while a run goes is followed by the run (inline_runner), so the bar's
    total follows the stored budget too: it kept the starting maxTrialCount."""
    doc = quadratic_experiment(**{"spec.maxTrialCount": 2, "spec.parallelTrialCount": 1, "spec.resumePolicy": "LongRunning"})
    path = tmp_path / "quad.yaml"
    path.write_text(yaml.safe_dump(doc))
    store = tmp_path / "store"
    assert main(["run", str(path), "--engine", "inline", "--store", str(store)]) == 0
    seen: list[tuple[int, dict[str, Any]]] = []
    watcher = ProgressWatcher(LocalStore(store), load_experiment(doc), lambda done, info: seen.append((done, info)))
    watcher.poll()
    assert [(done, info["total"]) for done, info in seen] == [(2, 2)] and "loss" in seen[0][1]["best"]
    Client(str(store)).edit_experiment_budget("quad", max_trial_count=5)
    watcher.poll()
    assert (seen[-1][0], seen[-1][1]["total"]) == (2, 5)
