"""Run the compiled pipeline on this machine with ``kfp.local`` (SubprocessRunner, no venv).

Called as a module so the CLI can keep kfp.local's own output in a log file while it shows
progress: ``python -m kfp_tune.pipelines.local_run SPEC_JSON STORE_URI LAUNCHER_JSON ROUNDS ROOT [TAKE_OVER]``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from kfp_tune.core.loading import load_experiment
from kfp_tune.core.spec import Experiment


def run_pipeline_locally(
    experiment: Experiment,
    store_uri: str,
    launcher_config: dict[str, Any],
    rounds: int | None,
    pipeline_root: str,
    take_over: bool = False,
    fresh_experiment: bool = False,
    checkpoint_trials: int = 0,
) -> None:
    """Run the experiment's pipeline under kfp.local; raises if a task fails. No checkpoint
    before the end unless ``checkpoint_trials`` asks for one."""
    from kfp import local

    from kfp_tune.core.claims import OWNER_VARIABLE, run_owner

    owned = OWNER_VARIABLE not in os.environ
    if owned:  # this process owns the run: its tasks are its children
        os.environ[OWNER_VARIABLE] = run_owner()

    from kfp_tune.pipelines.builder import build_pipeline

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=pipeline_root, raise_on_error=True)
    # kfp.local has no UI to refresh, and a checkpoint waits for the slowest running trial.
    pipeline = build_pipeline(
        experiment, rounds=rounds, store_uri=store_uri, launcher_config=launcher_config, checkpoint_trials=checkpoint_trials, checkpoint_seconds=0.0
    )
    # s3_endpoint "": the endpoint comes from this machine's environment, as for the CLI.
    try:
        pipeline(
            store_uri=store_uri,
            experiment_name=experiment.name,
            launcher_config=json.dumps(launcher_config, sort_keys=True),
            take_over=take_over,
            fresh_experiment=fresh_experiment,
            s3_endpoint="",
        )
    finally:
        if owned:
            del os.environ[OWNER_VARIABLE]


def main(argv: list[str]) -> int:
    spec_json, store_uri, launcher_json, rounds, root, *rest = argv
    experiment = load_experiment(json.loads(spec_json))
    run_pipeline_locally(experiment, store_uri, json.loads(launcher_json), int(rounds) or None, root, take_over=rest == ["take-over"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
