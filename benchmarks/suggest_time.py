"""How long one suggestion takes as the history grows, for every shipped algorithm.

    python benchmarks/suggest_time.py [--quick] [--sizes 10 100 1000 10000] [--repeats 3]
                                      [--only tpe cmaes ...] [--unbounded] [--noise 0.05]

Each algorithm is called as the engine calls it (``kfp_tune.steps.designer.next_suggestions``):
built from its settings, then ``suggest(problem, history, pending, n=1, rng)`` with every
finished trial as the history and the running ones as pending, one suggestion per trial. The
time includes building the algorithm; the table gives the median over the repetitions.

The problem has four parameters, as a typical tuning job: a log-uniform double (``lr``), a
uniform double (``momentum``), an int (``layers``) and a categorical (``optimizer``); grid gets
a step on each double (it needs one), hyperband an extra int resource parameter (``epochs``,
r_l 3**8 = 6561 and eta 3, the smallest schedule that holds 10,000 trials: hyperband ends after
its brackets). A history has N finished trials (about 5 % of them failed, no objective) and 3
pending; objectives come from a seeded smooth function of the parameters. The trials are random
draws, except for grid and hyperband, whose histories are their own suggestions in order (grid
skips the points it has tried, hyperband replays its brackets: random points would not be a
history either could have).

``--unbounded`` lifts the caps that keep a suggestion fast on a long history (how many trials
the surrogate models of ``bayesianoptimization`` see: ``bayesopt.MAX_MODEL_OBSERVATIONS`` for the
Gaussian process, ``skopt_adapter.MAX_MODEL_OBSERVATIONS`` for the tree models), to measure what
they save.
``--noise SD`` adds seeded Gaussian noise of sd SD to every objective (the function's values
span about 1): bayesianoptimization then fits its model twice, warped and not (``bayesopt.fit_model``).
``--quick`` is a smoke run: 10, 100 and 1,000 trials, one repetition.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.algorithms.random_search import sample_assignment
from kfp_tune.algorithms.unit_cube import encode_value
from kfp_tune.core.catalogue import ALGORITHMS, parse_settings
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.core.vocabulary import ObjectiveType, TrialStatus

SIZES = (10, 100, 1_000, 10_000)
PENDING = 3
FAILED_SHARE = 0.05
SLOW_SECONDS = 10.0  # one call slower than this is not repeated
HYPERBAND = {"resource_name": "epochs", "r_l": 3**8, "eta": 3}


@dataclass(frozen=True)
class Case:
    label: str
    name: str
    settings: dict[str, Any]
    own_history: bool = False  # history made of the algorithm's own suggestions
    stepped: bool = False  # every double gets a step (grid)
    resource: bool = False  # an extra resource parameter (hyperband)


CASES = (
    Case("random", "random", {}),
    Case("grid", "grid", {}, own_history=True, stepped=True),
    Case("sobol", "sobol", {}),
    Case("tpe", "tpe", {}),
    Case("multivariate-tpe", "multivariate-tpe", {}),
    Case("cmaes", "cmaes", {}),
    Case("bayesianoptimization (defaults: base_estimator GP)", "bayesianoptimization", {}),
    Case("bayesianoptimization (base_estimator RF)", "bayesianoptimization", {"base_estimator": "RF"}),
    Case("bayesianoptimization (base_estimator ET)", "bayesianoptimization", {"base_estimator": "ET"}),
    Case("bayesianoptimization (base_estimator GBRT)", "bayesianoptimization", {"base_estimator": "GBRT"}),
    Case("hyperband (r_l 6561, eta 3)", "hyperband", HYPERBAND, own_history=True, resource=True),
)


def space_for(case: Case) -> SearchSpace:
    stepped = case.stepped
    parameters = [
        Parameter("lr", "double", 1e-4, 1e-1, step=1e-4 if stepped else None, distribution="logUniform", decimals=4 if stepped else None),
        Parameter("momentum", "double", 0.5, 0.99, step=0.01 if stepped else None, decimals=2 if stepped else None),
        Parameter("layers", "int", 1, 8),
        Parameter("optimizer", "categorical", choices=("sgd", "adam", "rmsprop")),
    ]
    if case.resource:
        parameters.append(Parameter("epochs", "int", 1, 3**8))
    return SearchSpace(tuple(parameters))


def smooth_objective(space: SearchSpace, seed: int) -> Callable[[dict[str, Value]], float]:
    """A seeded smooth function: a weighted quadratic bowl with a ripple in the numeric
    parameters' unit-cube coordinates, an offset per category, and 1/epochs for the resource."""
    rng = np.random.default_rng([seed, 17])
    centre = {p.name: float(rng.uniform(0.2, 0.8)) for p in space}
    weight = {p.name: float(rng.uniform(0.5, 2.0)) for p in space}
    offset = {p.name: dict(zip(p.choices, rng.uniform(0.0, 0.5, len(p.choices)).tolist(), strict=True)) for p in space if p.choices}

    def value(assignment: dict[str, Value]) -> float:
        total = 0.0
        for parameter in space:
            v = assignment[parameter.name]
            if parameter.name == "epochs":
                total += 1.0 / float(v)
            elif parameter.choices:
                total += offset[parameter.name][str(v)]
            else:
                u = encode_value(parameter, v) - centre[parameter.name]
                total += weight[parameter.name] * u * u + 0.05 * math.sin(8.0 * u)
        return total

    return value


def parsed_settings(case: Case) -> dict[str, Any]:
    parsed, errors = parse_settings(ALGORITHMS[case.name], [(k, str(v)) for k, v in case.settings.items()], "settings")
    assert not errors, errors
    return parsed


def build(case: Case, size: int, seed: int, noise: float = 0.0) -> tuple[Problem, list[FinishedTrial], list[dict[str, Value]]]:
    """The problem, ``size`` finished trials and PENDING pending ones; ``noise``: the sd of
    Gaussian noise added to each objective."""
    settings = parsed_settings(case)
    space = registry.problem_space(case.name, space_for(case), settings)
    problem = Problem(space, ObjectiveType.MINIMIZE, "loss", settings, seed=seed)
    fn = smooth_objective(space, seed)
    rng = np.random.default_rng([seed, size])
    wanted = size + PENDING
    points: list[dict[str, Value]] = []
    history: list[FinishedTrial] = []

    def finish(assignment: dict[str, Value]) -> None:
        index = len(history)
        if rng.random() < FAILED_SHARE:
            history.append(FinishedTrial(f"t{index}", assignment, TrialStatus.FAILED))
        else:
            loss = fn(assignment) + (noise * float(rng.standard_normal()) if noise else 0.0)
            history.append(FinishedTrial(f"t{index}", assignment, TrialStatus.SUCCEEDED, loss, {"loss": loss}))

    if case.own_history:
        # Grid hands out its next points; hyperband one rung at a time (it waits for the rung below).
        algorithm = registry.create(case.name, settings)
        call = 0
        while len(points) < wanted:
            result = algorithm.suggest(problem, history, [], wanted - len(points), np.random.default_rng([seed, size, call, 1]))
            call += 1
            for assignment in result.assignments:
                points.append(assignment)
                finish(assignment)
            if result.exhausted and len(points) < wanted:
                raise SystemExit(f"{case.label}: the space ends after {len(points)} trials, fewer than {wanted}")
        return problem, history[:size], points[size:]
    seen: set[tuple[Value, ...]] = set()
    while len(points) < wanted:
        assignment = sample_assignment(space, rng)
        if space.key(assignment) not in seen:
            seen.add(space.key(assignment))
            points.append(assignment)
    for assignment in points[:size]:
        finish(assignment)
    return problem, history, points[size:]


def time_suggestion(case: Case, size: int, repeats: int, seed: int, noise: float = 0.0) -> float:
    problem, history, pending = build(case, size, seed, noise)
    times = []
    for repeat in range(repeats):
        started = time.perf_counter()
        algorithm = registry.create(case.name, problem.settings)
        result = algorithm.suggest(problem, history, pending, 1, np.random.default_rng([seed, size, repeat]))
        times.append(time.perf_counter() - started)
        assert len(result.assignments) == 1 or result.waiting or result.exhausted, result
        if times[-1] > SLOW_SECONDS:
            break
    return statistics.median(times)


def lift_bounds() -> None:
    """Let the surrogate models see every observation, as before the caps."""
    from kfp_tune.algorithms import bayesopt, skopt_adapter

    bayesopt.MAX_MODEL_OBSERVATIONS = sys.maxsize
    skopt_adapter.MAX_MODEL_OBSERVATIONS = sys.maxsize


def cell(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 10, 100 and 1,000 trials, one repetition")
    parser.add_argument("--sizes", type=int, nargs="+", help=f"history sizes (default {' '.join(map(str, SIZES))})")
    parser.add_argument("--repeats", type=int, help="repetitions per cell, the median is reported (default 3)")
    parser.add_argument("--only", nargs="+", help="the algorithms whose label contains one of these")
    parser.add_argument("--unbounded", action="store_true", help="lift the caps on the model size, to measure what they save")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", type=float, default=0.0, help="sd of Gaussian noise added to each objective (default 0)")
    args = parser.parse_args(argv)
    sizes = args.sizes or ((10, 100, 1_000) if args.quick else SIZES)
    repeats = args.repeats or (1 if args.quick else 3)
    cases = [c for c in CASES if not args.only or any(o in c.label for o in args.only)]
    if args.unbounded:
        lift_bounds()
    warnings.filterwarnings("ignore")  # scikit-optimize's chatter
    started = time.time()
    lines = [
        f"Median seconds for one suggestion (n=1, {PENDING} pending) over {repeats} repetition{'s' * (repeats > 1)}"
        f"{', caps lifted' if args.unbounded else ''}; {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, seed {args.seed}{f', noise sd {args.noise}' if args.noise else ''}; load average {os.getloadavg()[0]:.1f} at the start.",
        "",
        "| algorithm | " + " | ".join(f"{s:,} trials" for s in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for case in cases:
        time_suggestion(case, 20, 1, args.seed)  # warm-up: imports and first-call set-up stay out of the table
        row = []
        for size in sizes:
            seconds = time_suggestion(case, size, repeats, args.seed, args.noise)
            print(f"{case.label} @ {size}: {seconds:.3f} s", file=sys.stderr, flush=True)
            row.append(cell(seconds))
        lines.append(f"| {case.label} | " + " | ".join(row) + " |")
    print("\n".join(lines))
    print(f"\n(the run took {time.time() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
