"""Compiled pipeline size against rounds and trials: python benchmarks/pipeline_size.py

Prints one line per case: maxTrialCount, parallelTrialCount, rounds compiled, bytes of KFP IR
YAML. Rounds are unrolled and nested, so the YAML grows with them; trials per round are decided
at run time from the store, so maxTrialCount changes nothing but the default number of rounds
(at most 10, or 20 for hyperband's rungs). The budget: under 1 MiB (KFP run objects must stay
well under etcd's 1.5 MiB).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from kfp_tune.core.loading import load_experiment, read_experiment_source
from kfp_tune.pipelines import compile_pipeline
from kfp_tune.steps.schedule import plan_rounds

EXAMPLE = Path(__file__).resolve().parent.parent / "images" / "sklearn-digits" / "experiment.yaml"
CASES = [(10, 1, None), (100, 1, None), (1000, 1, None), (1000, 3, None), (1000, 1, 1), (1000, 1, 5), (1000, 1, 20), (1000, 1, 30)]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print("maxTrialCount  parallelTrialCount  rounds  bytes")
        for max_trials, parallel, rounds in CASES:
            data = read_experiment_source(EXAMPLE)
            data["spec"].update(maxTrialCount=max_trials, parallelTrialCount=parallel)
            experiment = load_experiment(data)
            used = rounds or plan_rounds(experiment)
            path = compile_pipeline(experiment, Path(tmp) / "p.yaml", rounds=used)
            print(f"{max_trials:13d}  {parallel:18d}  {used:6d}  {path.stat().st_size:,}")


if __name__ == "__main__":
    main()
