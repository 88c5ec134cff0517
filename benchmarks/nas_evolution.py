"""Regularized evolution against random architecture search, at equal trials, on a real child
network: Katib-format architectures trained on scikit-learn's digits.

    python benchmarks/nas_evolution.py [--seeds 5] [--trials 40] [--epochs 2]

The child is ``images/enas-digits/child.py``'s ``train_child`` (torch, CPU): the architecture
and nn_config strings a trial gets, built into a small CNN and trained for ``--epochs`` epochs;
its validation accuracy is the objective (maximize). The search space is a 4-layer nasConfig
with 16 candidate operations (convolutions and separable convolutions of 8/16/32 filters, 3x3
or 5x5; depthwise convolutions; max and average pooling), 16**4 * 2**6 = 4,194,304
architectures.

Each run is sequential (one suggestion per round, rebuilt from the history as the suggest step
calls it). Within a seed every method scores an architecture the same (the child trains with
that seed), so the methods search the same landscape; a child trained once is not trained
again for another method. Methods: ``regularized-evolution`` (``--population-size``,
``--sample-size``), ``random`` (uniform architectures, never one twice) and, with
``--methods``, ``enas`` (Katib's defaults, or ``--enas-learning-rate``).

Prints, per method, the median over seeds of the best validation accuracy found after each
budget in ``--budgets``, and the median accuracy of the last ten trials (where each method
searches once it has a history).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem, Suggestions
from kfp_tune.algorithms.nas_space import NasSpace, last_architectures, unused_architecture, used_architectures
from kfp_tune.core.catalogue import ALGORITHMS, parse_settings
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.vocabulary import ObjectiveType

ROOT = Path(__file__).resolve().parent.parent
TEXT_SPACE = SearchSpace((Parameter("architecture", "text"), Parameter("nn_config", "text")))


def _categorical(name: str, values: Sequence[str]) -> dict[str, Any]:
    return {"name": name, "parameterType": "categorical", "feasibleSpace": {"list": list(values)}}


NAS_CONFIG: dict[str, Any] = {
    "graphConfig": {"numLayers": 4, "inputSizes": [8, 8, 1], "outputSizes": [10]},
    "operations": [
        {"operationType": "convolution", "parameters": [_categorical("filter_size", ["3", "5"]), _categorical("num_filter", ["8", "16", "32"])]},
        {"operationType": "separable_convolution", "parameters": [_categorical("filter_size", ["3", "5"]), _categorical("num_filter", ["8", "16", "32"])]},
        {"operationType": "depthwise_convolution", "parameters": [_categorical("filter_size", ["3", "5"])]},
        {
            "operationType": "reduction",
            "parameters": [
                _categorical("reduction_type", ["max_pooling", "avg_pooling"]),
                {"name": "pool_size", "parameterType": "int", "feasibleSpace": {"min": "2", "max": "2", "step": "1"}},
            ],
        },
    ],
}


class UniformArchitectures:
    """Random architecture search: uniform draws, never one tried or running."""

    def suggest(self, problem: Problem, history: Sequence[FinishedTrial], pending: Sequence[dict[str, Value]], n: int, rng: np.random.Generator) -> Suggestions:
        space = NasSpace.from_config(problem.nas_config)
        used = used_architectures(space, history, pending)
        last = last_architectures(space, used, n, rng)
        if last is not None:
            return last
        return Suggestions([space.assignment(unused_architecture(space, used, rng)) for _ in range(n)])


def load_child() -> Callable[..., float]:
    sys.path.insert(0, str(ROOT / "images" / "enas-digits"))
    import torch

    torch.set_num_threads(1)  # one core per child: the same cost whatever else runs
    from child import train_child

    return train_child


def problem_for(algorithm: str, settings: dict[str, str], seed: int) -> Problem:
    if algorithm == "random":
        parsed: dict[str, Any] = {}
    else:
        parsed, errors = parse_settings(ALGORITHMS[algorithm], list(settings.items()), "settings")
        assert not errors, errors
    return Problem(TEXT_SPACE, ObjectiveType.MAXIMIZE, "Validation-Accuracy", parsed, nas_config=NAS_CONFIG, seed=seed)


def run(method: str, algorithm: str, settings: dict[str, str], seed: int, trials: int, score: Callable[[str, str], float]) -> tuple[list[float], float]:
    """One sequential run: (accuracy of each trial in order, seconds spent suggesting)."""
    problem = problem_for(algorithm, settings, seed)
    history: list[FinishedTrial] = []
    suggesting = 0.0
    for round_index in range(trials):
        started = time.perf_counter()
        chooser = UniformArchitectures() if algorithm == "random" else registry.create(algorithm, problem.settings)
        result = chooser.suggest(problem, history, [], 1, np.random.default_rng([seed, round_index]))
        suggesting += time.perf_counter() - started
        for assignment in result.assignments:
            accuracy = score(str(assignment["architecture"]), str(assignment["nn_config"]))
            history.append(FinishedTrial(f"{method}-{seed}-{len(history)}", assignment, "Succeeded", accuracy, {"Validation-Accuracy": accuracy}))
    return [float(t.objective) for t in history if t.objective is not None], suggesting


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=2, help="epochs each child trains")
    parser.add_argument("--budgets", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--population-size", type=int, default=10)
    parser.add_argument("--sample-size", type=int, default=3)
    parser.add_argument("--methods", default="regularized-evolution,random", help="comma-separated: regularized-evolution, random, enas")
    parser.add_argument("--enas-learning-rate", type=float, help="controller_learning_rate for enas (default Katib's 5e-5)")
    parser.add_argument("--json", type=Path, help="write every run's accuracies here")
    args = parser.parse_args(argv)

    train_child = load_child()
    cache: dict[tuple[str, int], float] = {}
    children = {"trained": 0}

    def scorer(seed: int) -> Callable[[str, str], float]:
        def score(architecture: str, nn_config: str) -> float:
            key = (architecture, seed)
            if key not in cache:
                cache[key] = train_child(architecture, nn_config, epochs=args.epochs, seed=seed)
                children["trained"] += 1
            return cache[key]

        return score

    settings = {
        "regularized-evolution": {"population_size": str(args.population_size), "sample_size": str(args.sample_size)},
        "random": {},
        "enas": {"controller_learning_rate": str(args.enas_learning_rate)} if args.enas_learning_rate else {},
    }
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    budgets = [b for b in args.budgets if b <= args.trials]
    began = time.perf_counter()
    runs: dict[str, list[list[float]]] = {m: [] for m in methods}
    suggest_seconds: dict[str, float] = {m: 0.0 for m in methods}
    for seed in range(args.seeds):
        for method in methods:
            accuracies, seconds = run(method, method, settings[method], seed, args.trials, scorer(seed))
            runs[method].append(accuracies)
            suggest_seconds[method] += seconds
            print(f"seed {seed} {method}: best {max(accuracies):.4f} after {len(accuracies)} trials ({time.perf_counter() - began:.0f} s)", file=sys.stderr)
    elapsed = time.perf_counter() - began

    space = NasSpace.from_config(NAS_CONFIG)
    print(f"{space.num_operations} candidate operations, {space.num_layers} layers, {space.size:,} architectures; "
          f"{args.seeds} seeds x {args.trials} trials, children trained {args.epochs} epochs; "
          f"{children['trained']} children trained in {elapsed / 60:.1f} min ({platform.machine()}, Python {platform.python_version()})")
    print()
    print("| method | " + " | ".join(f"best @{b}" for b in budgets) + " | last 10 (median) | suggest s/run |")
    print("|---|" + "---:|" * (len(budgets) + 2))
    for method in methods:
        label = f"{method} (P={args.population_size}, S={args.sample_size})" if method == "regularized-evolution" else method
        cells = [f"{statistics.median(max(r[:b]) for r in runs[method]):.4f}" for b in budgets]
        tail = statistics.median(statistics.median(r[-10:]) for r in runs[method])
        print(f"| {label} | " + " | ".join(cells) + f" | {tail:.4f} | {suggest_seconds[method] / args.seeds:.1f} |")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
