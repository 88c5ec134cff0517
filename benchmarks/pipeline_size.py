"""Compiled pipeline size against rounds: python benchmarks/pipeline_size.py [ROUNDS ...]

Prints one line per round count: rounds, bytes of KFP IR YAML. The YAML grows with the rounds
(they are unrolled and nested); KFP run objects must stay well under etcd's 1.5 MiB.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from kfp_tune.core.spec import load_experiment
from kfp_tune.pipelines import compile_pipeline

EXAMPLE = Path(__file__).resolve().parent.parent / "images" / "sklearn-digits" / "experiment.yaml"


def main(argv: list[str]) -> None:
    experiment = load_experiment(EXAMPLE)
    with tempfile.TemporaryDirectory() as tmp:
        print("rounds  bytes")
        for rounds in [int(a) for a in argv] or [1, 5, 10, 20, 30]:
            path = compile_pipeline(experiment, Path(tmp) / f"p{rounds}.yaml", rounds=rounds)
            print(f"{rounds:6d}  {path.stat().st_size:,}")


if __name__ == "__main__":
    main(sys.argv[1:])
