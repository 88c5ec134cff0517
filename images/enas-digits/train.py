"""An ENAS trial, as Katib runs one: ``--architecture`` and ``--nn_config`` (the values Katib's
enas suggestion gives), ``--num_epochs``; trains the child network they describe on
scikit-learn's digits (see child.py) and prints Katib's metric lines after every epoch:
``Validation-Accuracy=0.9622``, which the StdOut collector reads.

Trains on CPU: ``--num_gpus`` is accepted, as Katib's enas trial takes it, and not used (the
network is too small for a GPU to pay).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from child import build_child, parse_katib_json, train_child_epochs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--architecture", required=True, help="Katib's architecture: one [operation, skip bits...] list per layer")
    parser.add_argument("--nn_config", required=True, help="Katib's nn_config: num_layers, input_sizes, output_sizes, embedding")
    parser.add_argument("--num_epochs", type=int, default=4, help="epochs to train the child")
    parser.add_argument("--num_gpus", type=int, default=1, help="accepted for Katib's command lines; training is on CPU")
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights and the batch order (the data split is fixed)")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--learning_rate", type=float, default=3e-3)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch's CPU threads (default 1: the network is small, and trials often run side by side on few cores)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(max(args.threads, 1))

    try:
        architecture, nn_config = parse_katib_json(args.architecture), parse_katib_json(args.nn_config)
        model = build_child(architecture, nn_config)
    except ValueError as exc:  # json.JSONDecodeError is one
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(">>> architecture received by the trial:", architecture)
    print(">>> nn_config received by the trial:", nn_config)
    for layer in model.spec.layers:
        print(layer.describe())
    print(f"parameters: {model.parameter_count()}", flush=True)
    try:
        for result in train_child_epochs(
            architecture, nn_config, epochs=args.num_epochs, seed=args.seed, batch_size=args.batch_size, learning_rate=args.learning_rate
        ):
            print(f"\nEpoch {result.epoch}/{args.num_epochs}")
            print(f"Training-Accuracy={result.training_accuracy:.4f}")
            print(f"Training-Loss={result.training_loss:.4f}")
            print(f"Validation-Accuracy={result.validation_accuracy:.4f}")
            print(f"Validation-Loss={result.validation_loss:.4f}", flush=True)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
