"""Compiled pipeline size against checkpoints and trials: python benchmarks/pipeline_size.py

Prints one line per case: maxTrialCount, parallelTrialCount, checkpoints compiled, bytes of KFP
IR YAML. Checkpoints are unrolled and nested, so the YAML grows with them; trials are made at
run time by launch-trial's slots, so maxTrialCount changes nothing. The budget: under 1 MiB (KFP
run objects must stay well under etcd's 1.5 MiB).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from kfp_tune.core.loading import load_experiment, read_experiment_source
from kfp_tune.pipelines import compile_pipeline
from kfp_tune.pipelines.builder import DEFAULT_CHECKPOINTS

EXAMPLE = Path(__file__).resolve().parent.parent / "images" / "sklearn-digits" / "experiment.yaml"
CASES = [(10, 1, None), (1000, 1, None), (100000, 3, None), (1000, 1, 1), (1000, 1, 5), (1000, 1, 20), (1000, 1, 30)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)  # no options: --help describes the measurement instead of running it
    with tempfile.TemporaryDirectory() as tmp:
        print("maxTrialCount  parallelTrialCount  checkpoints  bytes")
        for max_trials, parallel, rounds in CASES:
            data = read_experiment_source(EXAMPLE)
            data["spec"].update(maxTrialCount=max_trials, parallelTrialCount=parallel)
            experiment = load_experiment(data)
            used = rounds or DEFAULT_CHECKPOINTS
            path = compile_pipeline(experiment, Path(tmp) / "p.yaml", rounds=used)
            print(f"{max_trials:13d}  {parallel:18d}  {used:11d}  {path.stat().st_size:,}")


if __name__ == "__main__":
    main()
