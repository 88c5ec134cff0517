"""What the KFP components run: build the store and launcher from their inputs, call one step.

Kept free of kfp imports so it can be tested directly. Component bodies are the entry points
here, so these functions configure logging; the library never does.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from kfp_tune.core import steps
from kfp_tune.core.records import ExperimentRecords
from kfp_tune.core.spec import load_experiment
from kfp_tune.engine import round_id
from kfp_tune.launchers import launcher_from_config
from kfp_tune.stores import open_store


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def suggest_step(
    store_uri: str, experiment_name: str, run_id: str, round_index: int, rounds_total: int, experiment_spec: str = "", take_over: bool = False
) -> list[str]:
    _setup_logging()
    records = ExperimentRecords(open_store(store_uri), experiment_name)
    experiment = None
    if experiment_spec:
        data = json.loads(experiment_spec)
        data.setdefault("metadata", {})["name"] = experiment_name  # a run may start a fresh experiment
        experiment = load_experiment(data)
    names = steps.suggest(records, round_id(run_id, round_index), rounds_total - round_index, experiment, run_id=run_id, take_over=take_over)
    logging.getLogger("kfp_tune.suggest").info("round %d of %d: %d trial(s): %s", round_index + 1, rounds_total, len(names), names)
    return names


def launch_trial_step(store_uri: str, experiment_name: str, trial_name: str, launcher_config: str, run_id: str) -> str:
    _setup_logging()
    records = ExperimentRecords(open_store(store_uri), experiment_name)
    return steps.launch_trial(records, launcher_from_config(launcher_config), trial_name, run_id=run_id)


def collect_metrics_step(store_uri: str, experiment_name: str, trial_name: str, run_id: str) -> dict[str, Any]:
    _setup_logging()
    records = ExperimentRecords(open_store(store_uri), experiment_name)
    return steps.collect_metrics(records, trial_name, run_id=run_id)


def decide_stop_step(store_uri: str, experiment_name: str, run_id: str, round_index: int, rounds_total: int) -> bool:
    """True when the next round should run."""
    _setup_logging()
    records = ExperimentRecords(open_store(store_uri), experiment_name)
    decision = steps.decide_stop(records, round_id(run_id, round_index), rounds_total - round_index - 1, run_id=run_id)
    logging.getLogger("kfp_tune.decide").info("%s: %s (%s)", decision.phase, decision.reason, decision.message)
    return decision.phase == "Running"
