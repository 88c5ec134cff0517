"""Every kfp-tune algorithm beside the reference implementations, in one run.

    python benchmarks/algorithms.py [--seeds 10] [--trials 50] [--out docs/benchmarks.md]
                                    [--only NAME ... [--quality-only]]

Quality: median regret (gap to the known optimum; for the scikit-learn task, to the best value
any run found) after 10, 25 and 50 trials, over the seeds, on Branin, Hartmann6, a mixed space
(categorical + int + log-scale double + double) and an SVM tuned by cross-validation on
scikit-learn's breast cancer data. Trials are sequential (one suggestion per round).
Speed: median time of one suggestion with 50, 200 and 1,000 finished trials (Hartmann6).
Budget: random search with full training, with medianstop, and hyperband, at equal total epochs
on a real learning curve (an MLP on scikit-learn's digits, trained epoch by epoch).

``--only`` measures the quality of some optimizers again and merges them into the last run's
results (the regrets of a task without a known optimum stay measured from one best value, kept
in the JSON); ``--quality-only`` keeps that run's speed and budget tables too.

Our algorithms are called exactly as the suggest step calls them: rebuilt from the history on
every call. References: numpy random search, scikit-optimize ``gp_minimize`` with Katib's
settings, Optuna's TPE, GPSampler and CMA-ES (GPSampler needs torch).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kfp_tune.algorithms import registry
from kfp_tune.algorithms.base import FinishedTrial, Problem
from kfp_tune.core.catalogue import ALGORITHMS, parse_settings
from kfp_tune.core.space import Parameter, SearchSpace, Value
from kfp_tune.steps.designer import call_rng

warnings.filterwarnings("ignore")

# --- problems ---------------------------------------------------------------------------------


@dataclass
class Task:
    name: str
    space: SearchSpace
    fn: Callable[[dict[str, Value]], float]
    optimum: float | None  # None: regret against the best value any run found


def branin(a: dict[str, Value]) -> float:
    x, y = float(a["x1"]), float(a["x2"])
    b, c, r, s, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - r) ** 2 + s * (1 - t) * math.cos(x) + s


HARTMANN_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
HARTMANN_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991], [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(a: dict[str, Value]) -> float:
    x = np.array([float(a[f"x{i}"]) for i in range(6)])
    return float(-(HARTMANN_ALPHA * np.exp(-(HARTMANN_A * (x - HARTMANN_P) ** 2).sum(1))).sum())


def mixed(a: dict[str, Value]) -> float:
    """Minimum 0 at optimizer=adam, layers=4, lr=1e-3, dropout=0.2."""
    penalty = {"adam": 0.0, "sgd": 0.3, "rmsprop": 0.15}[str(a["optimizer"])]
    return penalty + 0.05 * (int(a["layers"]) - 4) ** 2 + (math.log10(float(a["lr"])) + 3) ** 2 / 4 + (float(a["dropout"]) - 0.2) ** 2 * 4


def svm_task() -> Callable[[dict[str, Value]], float]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    x, y = load_breast_cancer(return_X_y=True)
    cache: dict[tuple, float] = {}

    def error(a: dict[str, Value]) -> float:
        key = (float(a["C"]), float(a["gamma"]), str(a["kernel"]))
        if key not in cache:
            model = make_pipeline(StandardScaler(), SVC(C=key[0], gamma=key[1], kernel=key[2]))
            cache[key] = 1.0 - float(cross_val_score(model, x, y, cv=3).mean())
        return cache[key]

    return error


def tasks() -> list[Task]:
    return [
        Task("branin", SearchSpace((Parameter("x1", "double", -5.0, 10.0), Parameter("x2", "double", 0.0, 15.0))), branin, 0.397887),
        Task("hartmann6", SearchSpace(tuple(Parameter(f"x{i}", "double", 0.0, 1.0) for i in range(6))), hartmann6, -3.32237),
        Task(
            "mixed",
            SearchSpace(
                (
                    Parameter("optimizer", "categorical", choices=("sgd", "adam", "rmsprop")),
                    Parameter("layers", "int", 1, 8),
                    Parameter("lr", "double", 1e-5, 1e-1, distribution="logUniform"),
                    Parameter("dropout", "double", 0.0, 0.5),
                )
            ),
            mixed,
            0.0,
        ),
        Task(
            "svm-breast-cancer",
            SearchSpace(
                (
                    Parameter("C", "double", 1e-2, 1e3, distribution="logUniform"),
                    Parameter("gamma", "double", 1e-4, 1.0, distribution="logUniform"),
                    Parameter("kernel", "categorical", choices=("rbf", "sigmoid")),
                )
            ),
            svm_task(),
            None,
        ),
    ]


# --- optimizers ---------------------------------------------------------------------------------

Runner = Callable[[Task, int, int], list[float]]  # (task, seed, trials) -> objective per trial


def ours(name: str, settings: dict[str, Any] | None = None) -> Runner:
    parsed, errors = parse_settings(ALGORITHMS[name], [(k, str(v)) for k, v in (settings or {}).items()], "")
    assert not errors, errors

    def run(task: Task, seed: int, trials: int) -> list[float]:
        problem = Problem(task.space, "minimize", "y", {**parsed, "random_state": seed}, seed=seed)
        algorithm = registry.create(name, problem.settings)
        history: list[FinishedTrial] = []
        for index in range(trials):
            result = algorithm.suggest(problem, history, [], 1, call_rng(problem, index))
            for a in result.assignments:
                history.append(FinishedTrial(f"t{len(history)}", a, "Succeeded", task.fn(a)))
            if result.exhausted:
                break
        return [t.objective for t in history]  # type: ignore[misc]

    return run


def reference_random(task: Task, seed: int, trials: int) -> list[float]:
    from kfp_tune.algorithms.random_search import sample_assignment

    rng = np.random.default_rng(10_000 + seed)
    return [task.fn(sample_assignment(task.space, rng)) for _ in range(trials)]


def _skopt_space(space: SearchSpace) -> list[Any]:
    from skopt.space import Categorical, Integer, Real

    out = []
    for p in space:
        if p.type == "categorical":
            out.append(Categorical(list(p.choices)))
        elif p.type == "int":
            out.append(Integer(int(p.low), int(p.high)))  # type: ignore[arg-type]
        else:
            out.append(Real(p.low, p.high, prior="log-uniform" if p.is_log else "uniform"))
    return out


SKOPT_INITIAL_POINTS = 10
"""Katib's default n_initial_points (pkg/suggestion/v1beta1/skopt/base_service.py, BaseSkoptService):
gp_minimize refuses a budget below it."""


def skopt_katib(task: Task, seed: int, trials: int) -> list[float]:
    """gp_minimize as Katib uses scikit-optimize: GP, gp_hedge, Katib's initial points."""
    from skopt import gp_minimize

    names = task.space.names
    result = gp_minimize(lambda x: task.fn(dict(zip(names, x, strict=True))), _skopt_space(task.space), n_calls=trials, n_initial_points=SKOPT_INITIAL_POINTS, acq_func="gp_hedge", random_state=seed)
    return list(result.func_vals)


def optuna_runner(kind: str) -> Runner:
    def run(task: Task, seed: int, trials: int) -> list[float]:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = {
            "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
            "gp": lambda: optuna.samplers.GPSampler(seed=seed),
            "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False),
        }[kind]()
        study = optuna.create_study(sampler=sampler)

        def objective(trial: Any) -> float:
            a: dict[str, Value] = {}
            for p in task.space:
                if p.type == "categorical":
                    a[p.name] = trial.suggest_categorical(p.name, list(p.choices))
                elif p.type == "int":
                    a[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high))  # type: ignore[arg-type]
                else:
                    a[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.is_log)  # type: ignore[arg-type]
            return task.fn(a)

        study.optimize(objective, n_trials=trials)
        return [t.value for t in study.trials]  # type: ignore[misc]

    return run


TORCH_CPU_WHEEL = "pip install torch --index-url https://download.pytorch.org/whl/cpu"
"""How torch is installed for Optuna's GPSampler, as the Makefile and the guide say: a plain
``pip install torch`` brings the multi-GB CUDA build."""


def optimizers() -> dict[str, Runner]:
    out: dict[str, Runner] = {
        "ours: random": ours("random"),
        "ours: sobol": ours("sobol"),
        "ours: tpe": ours("tpe"),
        "ours: multivariate-tpe": ours("multivariate-tpe"),
        "ours: cmaes": ours("cmaes"),
        "ours: bayesianoptimization (GP)": ours("bayesianoptimization"),
        "ours: bayesianoptimization (RF, skopt)": ours("bayesianoptimization", {"base_estimator": "RF"}),
        "ref: random": reference_random,
        "ref: skopt gp_minimize (Katib defaults)": skopt_katib,
        "ref: optuna TPE": optuna_runner("tpe"),
        "ref: optuna CMA-ES": optuna_runner("cmaes"),
    }
    try:
        import torch  # noqa: F401

        out["ref: optuna GPSampler"] = optuna_runner("gp")
    except ImportError:
        print(f"torch is not installed: skipping Optuna's GPSampler ({TORCH_CPU_WHEEL})", file=sys.stderr)
    return out


# --- measurements -----------------------------------------------------------------------------

CHECKPOINTS = (10, 25, 50)
MIN_TRIALS = max(CHECKPOINTS[0], SKOPT_INITIAL_POINTS)
"""Fewer trials reach no checkpoint (an empty quality table) and are below what gp_minimize accepts."""


def quality(seeds: int, trials: int, selected: dict[str, Runner], known: dict[str, float] | None = None) -> tuple[dict[str, dict[str, dict[int, float]]], dict[str, float]]:
    """task -> optimizer -> checkpoint -> median regret, and task -> the optimum the regrets are
    measured from: the task's own, else the best value any run found, here or (``known``, an
    earlier run's optima) before."""
    out: dict[str, dict[str, dict[int, float]]] = {}
    optima: dict[str, float] = {}
    for task in tasks():
        curves: dict[str, list[list[float]]] = {}
        for name, runner in selected.items():
            started = time.time()
            curves[name] = [list(np.minimum.accumulate(runner(task, seed, trials))) for seed in range(seeds)]
            print(f"  {task.name:18s} {name:42s} {time.time() - started:7.1f} s", file=sys.stderr)
        optimum = task.optimum if task.optimum is not None else min([min(c) for runs in curves.values() for c in runs] + [(known or {}).get(task.name, math.inf)])
        optima[task.name] = optimum
        out[task.name] = {
            name: {k: float(statistics.median(c[min(k, len(c)) - 1] - optimum for c in runs)) for k in CHECKPOINTS if k <= trials}
            for name, runs in curves.items()
        }
    return out, optima


def speed(selected: list, sizes: tuple[int, ...] = (50, 200, 500, 1000), repeats: int = 3) -> dict[str, dict[int, float | None]]:
    """algorithm -> history size -> median seconds for one suggestion (Hartmann6)."""
    task = tasks()[1]
    rng = np.random.default_rng(0)
    from kfp_tune.algorithms.random_search import sample_assignment

    out: dict[str, dict[int, float | None]] = {}
    for label in selected:
        name, settings = label
        parsed, _ = parse_settings(ALGORITHMS[name], [(k, str(v)) for k, v in settings.items()], "")
        out[f"ours: {name}{' (' + settings['base_estimator'] + ')' if 'base_estimator' in settings else ''}"] = row = {}
        for size in sizes:
            history = [FinishedTrial(f"t{i}", a, "Succeeded", task.fn(a)) for i, a in enumerate(sample_assignment(task.space, rng) for _ in range(size))]
            problem = Problem(task.space, "minimize", "y", parsed, seed=0)
            times = []
            for r in range(repeats):
                started = time.perf_counter()
                registry.create(name, parsed).suggest(problem, history, [], 1, np.random.default_rng(r))
                times.append(time.perf_counter() - started)
            row[size] = statistics.median(times)
    # references: scikit-optimize refitted from scratch (as Katib does), Optuna rebuilt from the history
    out["ref: skopt Optimizer (Katib defaults)"] = _reference_speed(task, sizes, _skopt_suggest_once, limit=500)
    out["ref: optuna TPE (study rebuilt)"] = _reference_speed(task, sizes, _optuna_suggest_once("tpe"))
    try:
        import torch  # noqa: F401

        out["ref: optuna GPSampler (study rebuilt)"] = _reference_speed(task, sizes, _optuna_suggest_once("gp"), limit=500)
    except ImportError:
        pass
    return out


def _reference_speed(task: Task, sizes: tuple[int, ...], once: Callable[[Task, list], None], limit: int | None = None) -> dict[int, float | None]:
    from kfp_tune.algorithms.random_search import sample_assignment

    rng = np.random.default_rng(0)
    row: dict[int, float | None] = {}
    for size in sizes:
        if limit is not None and size > limit:
            row[size] = None
            continue
        points = [sample_assignment(task.space, rng) for _ in range(size)]
        data = [(p, task.fn(p)) for p in points]
        started = time.perf_counter()
        once(task, data)
        row[size] = time.perf_counter() - started
    return row


def _skopt_suggest_once(task: Task, data: list) -> None:
    from skopt import Optimizer

    optimizer = Optimizer(_skopt_space(task.space), base_estimator="GP", acq_func="gp_hedge", n_initial_points=10, random_state=0)
    names = task.space.names
    optimizer.tell([[p[n] for n in names] for p, _ in data], [v for _, v in data])
    optimizer.ask()


def _optuna_suggest_once(kind: str) -> Callable[[Task, list], None]:
    def once(task: Task, data: list) -> None:
        import optuna
        from optuna.distributions import FloatDistribution

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        distributions = {p.name: FloatDistribution(p.low, p.high) for p in task.space}  # type: ignore[arg-type]
        sampler = optuna.samplers.TPESampler(seed=0) if kind == "tpe" else optuna.samplers.GPSampler(seed=0)
        study = optuna.create_study(sampler=sampler)
        study.add_trials([optuna.trial.create_trial(params=p, distributions=distributions, value=v) for p, v in data])
        study.ask(distributions)

    return once


# --- budget: early stopping and hyperband at equal epochs ---------------------------------------


def learning_curve_task() -> tuple[SearchSpace, Callable[[dict[str, Value], int], list[float]]]:
    """An MLP on digits; returns validation error after each epoch, up to ``epochs``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    classes = np.unique(y)
    cache: dict[tuple, list[float]] = {}

    def curve(a: dict[str, Value], epochs: int) -> list[float]:
        key = (float(a["lr"]), float(a["alpha"]), int(a["hidden"]))
        if key not in cache or len(cache[key]) < epochs:
            model = MLPClassifier(hidden_layer_sizes=(key[2],), alpha=key[1], learning_rate_init=key[0], batch_size=64, random_state=0)
            errors = []
            for _ in range(epochs):
                model.partial_fit(x_train, y_train, classes=classes)
                errors.append(1.0 - model.score(x_test, y_test))
            cache[key] = errors
        return cache[key][:epochs]

    space = SearchSpace(
        (
            Parameter("lr", "double", 1e-5, 1.0, distribution="logUniform"),
            Parameter("alpha", "double", 1e-6, 1.0, distribution="logUniform"),
            Parameter("hidden", "int", 2, 64),
            Parameter("epochs", "int", 1, 9),
        )
    )
    return space, curve


def budget(seeds: int, max_epochs: int = 9, total_epochs: int = 9 * 30) -> dict[str, float]:
    """Median best final validation error within the same total epochs."""
    from kfp_tune.algorithms.early_stopping import MedianStop
    from kfp_tune.algorithms.hyperband import adjust_space

    space, curve = learning_curve_task()
    results: dict[str, list[float]] = {"random, full training": [], "random + medianstop": [], "hyperband": []}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        from kfp_tune.algorithms.random_search import sample_assignment

        # random search, every trial trained for max_epochs
        best, used = 1.0, 0
        while used + max_epochs <= total_epochs:
            errors = curve(sample_assignment(space, rng), max_epochs)
            used += max_epochs
            best = min(best, errors[-1])
        results["random, full training"].append(best)
        # random + medianstop
        rule = MedianStop({"min_trials_required": 3, "start_step": 2})
        rng = np.random.default_rng(seed)
        best, used, completed = 1.0, 0, []
        while used < total_epochs:
            errors = curve(sample_assignment(space, rng), max_epochs)
            ran = max_epochs
            for step in range(1, max_epochs + 1):
                if rule.should_stop("minimize", completed, errors[:step]):
                    ran = step
                    break
            ran = min(ran, total_epochs - used)
            used += ran
            if ran == max_epochs:
                completed.append(errors)
                best = min(best, errors[-1])
        results["random + medianstop"].append(best)
        # hyperband over epochs, trials rebuilt from history, until the budget is spent
        settings = {"resource_name": "epochs", "r_l": max_epochs, "eta": 3}
        problem = Problem(adjust_space(space, settings), "minimize", "y", settings, seed=seed)
        algorithm = registry.create("hyperband", settings)
        history: list[FinishedTrial] = []
        best, used, index = 1.0, 0, 0
        while used < total_epochs:
            result = algorithm.suggest(problem, history, [], 1, np.random.default_rng([seed, index]))
            index += 1
            if not result.assignments:
                if result.exhausted:
                    history = []  # start the brackets again with what is left of the budget
                    problem = Problem(problem.space, "minimize", "y", settings, seed=seed + 1000 * index)
                continue
            a = result.assignments[0]
            epochs = min(int(a["epochs"]), total_epochs - used)
            errors = curve(a, epochs)
            used += epochs
            if int(a["epochs"]) == max_epochs and epochs == max_epochs:
                best = min(best, errors[-1])
            history.append(FinishedTrial(f"t{len(history)}", a, "Succeeded", errors[-1]))
        results["hyperband"].append(best)
    return {name: float(statistics.median(values)) for name, values in results.items()}


# --- report -----------------------------------------------------------------------------------


def reference_versions() -> str:
    """The reference libraries' versions, so a reader knows which Optuna the refs are."""
    found = []
    for name in ("optuna", "scikit-optimize", "scikit-learn", "torch"):
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


# What the whole file holds: this script writes the first three sections, the other benchmarks
# the rest (kept_sections), so a reader landing here finds them all.
CONTENTS = (
    "In this file: the algorithms on four problems (quality, speed, budget: this script); then, from the other "
    "benchmarks, the schedule (continuous slots against rounds), suggestion time and cost per trial as an "
    "experiment grows, architecture search, component trials, and BBOB, the standard black-box suite, where "
    "[bayesianoptimization stands](#where-bayesianoptimization-stands-2026-12-03) against Optuna 5 and Ax (issue 17)."
)


def report(quality_table: dict, speed_table: dict, budget_table: dict, seeds: int, trials: int, seconds: float, only: list[str] | None = None, quality_only: bool = False) -> str:
    lines = [
        "# Algorithm benchmarks",
        "",
        f"Reproduce: `python benchmarks/algorithms.py --seeds {seeds} --trials {trials}` "
        "(needs `pip install -e '.[benchmarks]'`, and torch's CPU wheel for Optuna's GPSampler, "
        f"`{TORCH_CPU_WHEEL}`: a plain `torch` from PyPI is the multi-GB CUDA build; without torch the GPSampler "
        "row is left out).",
        f"Measured on {platform.machine()} with {__import__('os').cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}, {reference_versions()}; the last run took {seconds / 60:.0f} min"
        + (f" (quality of {', '.join(only)} only; the other rows and the speed and budget tables are from the run before)." if only and quality_only
           else f" (quality of {', '.join(only)} only; the other quality rows are from the run before)." if only else "."),
        "",
        CONTENTS,
        "",
        "## Quality: median regret after 10 / 25 / 50 trials",
        "",
        f"Median over {seeds} seeds of (best value found - optimum); for the SVM, the optimum is the best "
        "validation error any run found. Lower is better; the best entry of each column is in bold.",
        "",
    ]
    for task, table in quality_table.items():
        lines += [f"### {task}", "", "| optimizer | " + " | ".join(f"@{k}" for k in CHECKPOINTS if k <= trials) + " |", "|---|" + "---:|" * len([k for k in CHECKPOINTS if k <= trials])]
        columns = [k for k in CHECKPOINTS if k <= trials]
        best = {k: min(row[k] for row in table.values()) for k in columns}
        for name, row in table.items():
            cells = [(f"**{row[k]:.4g}**" if row[k] == best[k] else f"{row[k]:.4g}") for k in columns]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    sizes = sorted({s for row in speed_table.values() for s in row})
    lines += ["## Speed: median seconds for one suggestion", "", "With that many finished trials (Hartmann6, 6 doubles); each call rebuilds the algorithm from the history.", "",
              "| algorithm | " + " | ".join(f"{s} trials" for s in sizes) + " |", "|---|" + "---:|" * len(sizes)]
    for name, row in speed_table.items():
        lines.append(f"| {name} | " + " | ".join("not run" if row.get(s) is None else f"{row[s]:.3f}" for s in sizes) + " |")
    lines += ["", "## Budget: early stopping and hyperband at equal total epochs", "",
              "Best validation error after full training (9 epochs; median over seeds) of an MLP on digits, 270 epochs in all "
              "for each method (30 full trainings for random search). medianstop: min_trials_required 3, start_step 2; "
              "hyperband: r_l 9, eta 3, brackets started again while epochs are left.", "",
              "| method | best error |", "|---|---:|"]
    for name, value in budget_table.items():
        lines.append(f"| {name} | {value:.4f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="seeds per optimizer and task (default 10, as docs/benchmarks.md's tables)")
    parser.add_argument("--trials", type=int, default=50, help=f"trials per optimizer, seed and task (at least {MIN_TRIALS})")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md")
    parser.add_argument(
        "--only", nargs="*",
        help="re-measure the quality of these optimizers only (substring match) and merge them into the existing results",
    )
    parser.add_argument(
        "--quality-only", action="store_true",
        help="with --only: keep the speed and budget tables of the last full run (from the JSON beside --out) instead of "
        "measuring them again, e.g. while other benchmarks load the cores",
    )
    args = parser.parse_args(argv)
    if args.trials < MIN_TRIALS:
        parser.error(f"--trials must be at least {MIN_TRIALS}, got {args.trials}: regret is reported after {', '.join(map(str, CHECKPOINTS))} "
                     f"trials, and scikit-optimize's gp_minimize (Katib's bayesianoptimization) needs {SKOPT_INITIAL_POINTS} initial points")
    previous = args.out.with_suffix(".json")
    if args.quality_only and not (args.only and previous.exists()):
        parser.error(f"--quality-only needs --only and the results of a full run in {previous}")
    started = time.time()
    selected = optimizers()
    if args.only:
        selected = {k: v for k, v in selected.items() if any(o in k for o in args.only)}
    print("quality", file=sys.stderr)
    earlier = json.loads(previous.read_text()) if args.only and previous.exists() else None
    unaligned = [t.name for t in tasks() if t.optimum is None and earlier and t.name not in earlier.get("optima", {})]
    if unaligned:
        parser.error(f"--only: {previous} holds no optimum for {', '.join(unaligned)} (made before optima were stored), "
                     "so new rows cannot be measured from the same best value: run the full benchmark")
    quality_table, optima = quality(args.seeds, args.trials, selected, earlier.get("optima") if earlier else None)
    if earlier:
        merged = earlier["quality"]
        for task, rows in quality_table.items():
            # the earlier rows measured from the earlier optimum: moved to the new one where a new run found better
            shift = earlier.get("optima", {}).get(task, optima[task]) - optima[task]
            merged[task] = {name: {k: v + shift for k, v in row.items()} for name, row in merged.get(task, {}).items()}
            merged[task].update(rows)
        quality_table = {task: {name: {int(k): v for k, v in row.items()} for name, row in rows.items()} for task, rows in merged.items()}
    if args.quality_only and earlier:  # earlier is set: --quality-only was refused above without it
        speed_table = {name: {int(k): v for k, v in row.items()} for name, row in earlier["speed"].items()}
        budget_table = earlier["budget"]
    else:
        print("speed", file=sys.stderr)
        speed_table = speed([("random", {}), ("sobol", {}), ("tpe", {}), ("multivariate-tpe", {}), ("cmaes", {}), ("bayesianoptimization", {}), ("bayesianoptimization", {"base_estimator": "RF"})])
        print("budget", file=sys.stderr)
        budget_table = budget(args.seeds)
    text = report(quality_table, speed_table, budget_table, args.seeds, args.trials, time.time() - started, args.only, args.quality_only)
    args.out.write_text(text + kept_sections(args.out))
    args.out.with_suffix(".json").write_text(json.dumps({"quality": quality_table, "optima": optima, "speed": {k: {str(s): v for s, v in r.items()} for k, r in speed_table.items()}, "budget": budget_table}, indent=1))
    print(text)


OWN_SECTIONS = ("## Quality", "## Speed", "## Budget")


def kept_sections(path: Path) -> str:
    """The sections other benchmarks wrote into the same file (``## ...`` after ours): kept."""
    if not path.exists():
        return ""
    text = path.read_text()
    heads = [i for i in range(len(text)) if text.startswith("\n## ", i)]
    others = [i for i in heads if not text.startswith(OWN_SECTIONS, i + 1)]
    later = [i for i in others if any(h < i for h in heads if text.startswith(OWN_SECTIONS, h + 1))]
    return "\n" + text[later[0] + 1:] if later else ""


if __name__ == "__main__":
    main()
