"""A DARTS trial, as Katib runs one: ``--algorithm-settings``, ``--search-space`` and
``--num-layers`` (the values Katib's darts suggestion gives); searches a small supernet on
scikit-learn's digits (see supernet.py), prints ``Validation-Accuracy=...`` after every epoch and
at the end ``Best-Genotype=Genotype(normal=[...],normal_concat=...,reduce=[...],reduce_concat=...)``,
the genotype of the epoch with the best validation accuracy, which the StdOut collector reads
with the metricsFormat ``([\\w-]+)=(Genotype.*)``.

Searches on CPU (the supernet is too small for a GPU to pay); ``--seed`` (not one of Katib's
arguments) seeds everything, so a run is repeatable.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from supernet import Settings, genotype_text, parse_katib_json, parse_search_space, search


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algorithm-settings", required=True, help="Katib's darts settings, a JSON object")
    parser.add_argument("--search-space", required=True, help="Katib's candidate operations, a JSON list")
    parser.add_argument("--num-layers", required=True, help="cells in the supernet")
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights, alpha and the batch order (the data split is fixed)")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch's CPU threads (default 1: the network is small, and trials often run side by side on few cores)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(max(args.threads, 1))

    try:
        raw_settings = parse_katib_json(args.algorithm_settings)
        if not isinstance(raw_settings, dict):
            raise ValueError(f"algorithm-settings must be a JSON object, got {raw_settings!r}")
        settings = Settings.parse(raw_settings)
        primitives = parse_search_space(parse_katib_json(args.search_space))
        num_layers = int(args.num_layers.strip().strip('"'))
    except ValueError as exc:  # json.JSONDecodeError is one
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(">>> Algorithm settings")
    for name, value in vars(settings).items():
        print(f"  {name}: {value}")
    print(f">>> Search space: {primitives} (and none)")
    print(f">>> Number of layers: {num_layers}", flush=True)

    best_accuracy, best_genotype = -1.0, None
    try:
        for result in search(primitives, num_layers, settings, seed=args.seed, log=lambda line: print(line, flush=True)):
            print(f"\nEpoch {result.epoch}/{settings.num_epochs}")
            print(f"Training-Accuracy={result.training_accuracy:.4f}")
            print(f"Training-Loss={result.training_loss:.4f}")
            print(f"Validation-Accuracy={result.validation_accuracy:.4f}")
            print(f"Validation-Loss={result.validation_loss:.4f}")
            print(f"Genotype after epoch {result.epoch}: {genotype_text(result.genotype)}", flush=True)
            if result.validation_accuracy > best_accuracy:
                best_accuracy, best_genotype = result.validation_accuracy, result.genotype
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    assert best_genotype is not None  # num_epochs >= 1
    print(f"\nBest validation accuracy: {best_accuracy:.4f}")
    print(f"Best-Genotype={genotype_text(best_genotype)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
