"""Katib's tune-train-from-func notebook, its logging as it is: the objective calls
``logging.basicConfig`` and logs ``accuracy=...``, and the notebook runs it once locally before
``tune()``, so the root logger's handler holds the notebook's stderr of that moment. Its lines
are each trial's output (Katib's StdOut collector reads the container's stdout and stderr), two
trials at once each get their own, and logging is left as it was."""

from __future__ import annotations

import io
import logging
import sys
import threading
from typing import Any

import pytest

from kfp_tune import search

both_running = threading.Barrier(2, timeout=60)  # the two trials log at the same time, so a line could cross


def train(parameters: dict[str, Any]) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)-8s %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ", level=logging.INFO)
    lr = float(parameters["lr"])
    logging.info(f"Epoch 1/2. accuracy={lr:.4f} - loss={1 - lr:.4f}")
    if parameters.get("together"):
        both_running.wait()
    logging.info(f"Epoch 2/2. accuracy={lr:.4f} - loss={1 - lr:.4f}")


def test_metrics_logged_through_a_handler_made_before_tune_are_each_trials_own(katib: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stderr", screen)
    handler = logging.StreamHandler()  # the notebook's earlier cell: basicConfig's handler, on the notebook's stderr
    handler.setFormatter(logging.Formatter("%(levelname)-8s %(message)s"))
    logging.root.addHandler(handler)  # (the root logger's handlers and level are put back after the test: conftest)
    logging.root.setLevel(logging.INFO)
    root_handlers = logging.root.handlers[:]
    train({"lr": "0.5"})  # the "Train Model locally" cell
    katib.tune(name="logged", objective=train, parameters={"lr": search.double(min=0.1, max=0.9), "together": True},
               objective_metric_name="accuracy", additional_metric_names=["loss"], max_trial_count=2, parallel_trial_count=2,
               algorithm_settings={"random_state": 7})
    trials = katib.list_trials("logged")
    assert [t.status.conditions[-1].type for t in trials] == ["Succeeded", "Succeeded"], [t.status.conditions[-1].message for t in trials]
    assert len({t.spec.parameter_assignments[0].value for t in trials}) == 2
    for trial in trials:
        lr = float(next(a.value for a in trial.spec.parameter_assignments if a.name == "lr"))
        metrics = {(m.metric.name, float(m.metric.value)) for m in katib.get_trial_metrics(trial.metadata.name)}
        assert metrics == {("accuracy", round(lr, 4)), ("loss", round(1 - lr, 4))}, (trial.metadata.name, lr, metrics)
        logs = list(katib.get_job_logs("logged", trial.metadata.name))
        assert len(logs) == 2 and all(f"accuracy={lr:.4f}" in line for line in logs), logs
    assert katib.get_optimal_hyperparameters("logged") is not None
    assert handler.stream is screen and sys.stderr is screen and logging.root.handlers == root_handlers
    shown = [line for line in screen.getvalue().splitlines() if "Epoch" in line]  # (kfp-tune's own INFO lines beside them)
    assert len(shown) == len(set(shown)) == 2 + 2 * 2, "each line once on the screen: the local run's 2, then each trial's 2"
