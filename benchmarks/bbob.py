"""BBOB, COCO's noiseless black-box suite, at hyperparameter-tuning budgets: kfp-tune's
algorithms against Optuna 5 and Ax on all 24 functions.

    python benchmarks/bbob.py --jobs 2 --out docs/bbob-results.md

The default run: functions 1-24, dimensions 2 and 5, instances 1 and 2, one seed per instance,
budgets 20·d and 50·d evaluations, noiseless and with Gaussian noise (``--noise none gauss:0.01``);
every solver. ``--dims 2 5 10`` adds d=10; ``--quick`` is a smoke run of a few minutes (one
function per group at d=2, one instance, noiseless, no Ax). Results are checkpointed to a JSON
file beside ``--out`` (``--checkpoint`` to choose another) after every run: start the same
command again and it picks up where it stopped. A run given only ``--checkpoint`` writes its
report beside it (``.md``), so a partial or resumed run never replaces the docs' report.
``--report-only`` writes the Markdown from the checkpoint without running anything. Parts run
apart (Ax on its own, or one process per core with its own ``--checkpoint``) come together with
``--merge THEIRS.json``.

Needs ``pip install coco-experiment==2.8.2 optuna==5.0.0 torch`` (the suite; Optuna's
GPSampler needs torch) and, for the Ax column, ``ax-platform`` (skipped with a note otherwise).

The problems come from ``cocoex`` (no download: the suite is compiled into the package). The
search space is the box [-5, 5]^d as continuous parameters. One run of one solver on one
(function, instance, dimension, seed, noise) goes to the largest budget; the smaller budgets are
its prefixes (no solver here is told the budget). Regret is f(x) - f_opt, f_opt read from COCO's
own optimum (``Problem._best_parameter``); it is *normalised* by the median of f - f_opt over
1,000 uniform random points of the same problem (1 = a typical random point, 0 = the optimum),
so functions of different scales can share a median.

Noise (``gauss:R``): each observed value is f(x) + R·s·N(0, 1), s the problem's normaliser above
(R = 0.01: noise of 1 % of a typical random point's gap to the optimum), seeded per run. The
solvers see the noisy values; the regret counted is the noiseless regret of the trial a user
would pick, the one with the best observed value. COCO's own ``bbob-noisy`` suite (functions
101-130) is in ``cocoex`` too, but it does not expose the noiseless value of a point, so the
regret of the picked trial cannot be measured on it; hence the additive noise on ``bbob``.

Solvers are called as in ``benchmarks/algorithms.py``: kfp-tune's algorithms exactly as the
suggest step calls them (rebuilt from the history on every call, one suggestion per trial),
Optuna's samplers with their defaults, Ax through its ``Client`` with its default generation
strategy. The report (Markdown): for each noise setting, dimension and budget, the mean rank of
each solver per function group (separable 1-5, moderate 6-9, ill-conditioned 10-14,
multimodal 15-19, weak structure 20-24; rank 1 = lowest regret among the solvers on that run,
ties averaged) and the median normalised regret; then per function, each solver's median final
regret over random search's (below 1: better than random).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kfp_tune.core.space import Parameter, SearchSpace, Value

warnings.filterwarnings("ignore")

HERE = Path(__file__).resolve().parent
GROUPS = {
    "separable": range(1, 6),
    "moderate": range(6, 10),
    "ill-conditioned": range(10, 15),
    "multimodal": range(15, 20),
    "weak structure": range(20, 25),
}
SCALE_POINTS = 1000
QUICK_FUNCTIONS = (1, 8, 10, 15, 21)
ALL_SOLVERS = (
    "ours: bayesianoptimization",
    "ours: tpe",
    "ours: multivariate-tpe",
    "ours: cmaes",
    "ours: random",
    "optuna: GPSampler",
    "optuna: TPESampler",
    "ax: Client (default)",
)
RANDOM = "ours: random"
# The solver the ranking target is about, and how its place per group is checked: the
# group's problem runs resampled with replacement this many times (seeded: the report is
# reproducible from the checkpoint).
FOCUS = "ours: bayesianoptimization"
RESAMPLES = 2000


def _load_algorithms_benchmark() -> Any:
    """benchmarks/algorithms.py, by path: its runners are the ones the algorithm benchmark uses."""
    name = "kfp_tune_benchmarks_algorithms"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "algorithms.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# --- problems -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One solver on one problem: the unit of work and of the checkpoint."""

    noise: str
    dim: int
    function: int
    instance: int
    seed: int
    solver: str

    @property
    def key(self) -> str:
        return f"{self.noise}|d{self.dim}|f{self.function}|i{self.instance}|s{self.seed}|{self.solver}"


def coco_problem(function: int, dim: int, instance: int) -> Any:
    import cocoex

    suite = cocoex.Suite("bbob", "", f"function_indices:{function} dimensions:{dim} instance_indices:{instance}")
    return next(iter(suite))


@contextlib.contextmanager
def _inside(folder: str) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def optimum(function: int, dim: int, instance: int) -> float:
    """f at COCO's optimum. cocoex only writes the optimum to a file in the working directory,
    so it is read in a temporary one; a separate problem object keeps the solved one untouched."""
    problem = coco_problem(function, dim, instance)
    with tempfile.TemporaryDirectory() as folder, _inside(folder):
        problem._best_parameter("print")
        x = np.atleast_1d(np.loadtxt("._bbob_problem_best_parameter.txt"))
    return float(problem(x))


def scale(problem: Any, f_opt: float, function: int, dim: int, instance: int) -> float:
    """The median gap to the optimum of uniform random points: the regret normaliser."""
    rng = np.random.default_rng([function, dim, instance, 7])
    points = rng.uniform(problem.lower_bounds, problem.upper_bounds, (SCALE_POINTS, dim))
    return float(np.median([problem(x) - f_opt for x in points]))


def space_of(dim: int) -> SearchSpace:
    return SearchSpace(tuple(Parameter(f"x{i}", "double", -5.0, 5.0) for i in range(dim)))


def noise_level(noise: str) -> float:
    """``none`` -> 0; ``gauss:R`` -> R (the noise's standard deviation over the normaliser)."""
    if noise == "none":
        return 0.0
    kind, _, size = noise.partition(":")
    if kind != "gauss" or not size:
        raise ValueError(f"unknown noise {noise!r}: use none or gauss:R (e.g. gauss:0.01)")
    return float(size)


# --- solvers ------------------------------------------------------------------------------------

Runner = Callable[[Any, int, int], list[float]]  # (task, seed, trials) -> observed values in order


def ax_runner(task: Any, seed: int, trials: int) -> list[float]:
    """Ax's Client with its default generation strategy (Sobol, then BoTorch's GP)."""
    from ax import Client, RangeParameterConfig

    for name in ("ax", "botorch", "gpytorch", "linear_operator"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for handler in logging.getLogger("ax").handlers:  # Ax's own stderr handler, at INFO: a line per trial otherwise
        handler.setLevel(logging.ERROR)
    client = Client(random_seed=seed)
    client.configure_experiment(parameters=[RangeParameterConfig(name=p.name, parameter_type="float", bounds=(float(p.low), float(p.high))) for p in task.space])
    client.configure_optimization(objective="-y")
    values: list[float] = []
    while len(values) < trials:
        for index, parameters in client.get_next_trials(max_trials=1).items():
            value = task.fn(dict(parameters))
            client.complete_trial(trial_index=index, raw_data={"y": value})
            values.append(value)
    return values


def solver_runner(name: str) -> Runner:
    bench = _load_algorithms_benchmark()
    if name.startswith("ours: "):
        runner: Runner = bench.ours(name.removeprefix("ours: "))
        return runner
    if name == "optuna: GPSampler":
        return bench.optuna_runner("gp")
    if name == "optuna: TPESampler":
        return bench.optuna_runner("tpe")
    if name == "ax: Client (default)":
        return ax_runner
    raise ValueError(f"unknown solver {name!r}; known: {', '.join(ALL_SOLVERS)}")


def available(name: str) -> str | None:
    """Why a solver cannot run here (a missing package), or None."""
    needs = {"optuna: GPSampler": ("optuna", "torch"), "optuna: TPESampler": ("optuna",), "ax: Client (default)": ("ax",)}.get(name, ())
    missing = [m for m in needs if importlib.util.find_spec(m) is None]
    return f"not installed: {', '.join(missing)}" if missing else None


# --- one run ------------------------------------------------------------------------------------


def run_one(run: Run, multipliers: tuple[int, ...]) -> dict[str, Any]:
    """The solver on the problem up to the largest budget; the normalised regret of the picked
    trial (best observed value) at each budget."""
    problem = coco_problem(run.function, run.dim, run.instance)
    f_opt = optimum(run.function, run.dim, run.instance)
    normaliser = scale(problem, f_opt, run.function, run.dim, run.instance)
    sd = noise_level(run.noise) * normaliser
    rng = np.random.default_rng([run.seed, run.function, run.dim, run.instance, 11])
    names = [f"x{i}" for i in range(run.dim)]
    true: list[float] = []
    observed: list[float] = []

    def fn(assignment: dict[str, Value]) -> float:
        value = float(problem(np.array([float(assignment[n]) for n in names])))
        true.append(value)
        observed.append(value + sd * float(rng.standard_normal()) if sd else value)
        return observed[-1]

    bench = _load_algorithms_benchmark()
    task = bench.Task(f"bbob-f{run.function}-i{run.instance}-d{run.dim}", space_of(run.dim), fn, f_opt)
    trials = max(multipliers) * run.dim
    started = time.process_time()
    wall = time.perf_counter()
    solver_runner(run.solver)(task, run.seed, trials)
    regret: dict[str, float] = {}
    for multiplier in multipliers:
        budget = min(multiplier * run.dim, len(true))
        picked = int(np.argmin(observed[:budget]))
        regret[str(multiplier)] = (true[picked] - f_opt) / normaliser
    return {"regret": regret, "evaluations": len(true), "cpu_s": time.process_time() - started, "wall_s": time.perf_counter() - wall, "f_opt": f_opt, "scale": normaliser}


def _worker_init() -> None:
    """One thread per worker: the jobs, not BLAS or torch, use the cores."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(1)


# --- checkpoint ---------------------------------------------------------------------------------


def load(path: Path) -> dict[str, Any]:
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    return {"results": {}}


def save(path: Path, data: dict[str, Any]) -> None:
    """Written to a temporary file and renamed, so a killed run leaves the last whole checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(data, indent=0, sort_keys=True))
    os.replace(partial, path)


def merge(checkpoint: Path, others: list[Path]) -> int:
    """Fold other checkpoints' runs (made on another machine, or beside this one with their own
    ``--checkpoint``) into ``checkpoint``; a run in both is taken from the other file. Returns
    how many runs came in."""
    data = load(checkpoint)
    count = 0
    for other in others:
        if not other.exists():
            raise SystemExit(f"--merge: {other} does not exist")
        incoming = load(other)
        data["results"].update(incoming["results"])
        count += len(incoming["results"])
        if "multipliers" not in data and "multipliers" in incoming:
            data["multipliers"] = incoming["multipliers"]
    save(checkpoint, data)
    return count


def execute(runs: list[Run], multipliers: tuple[int, ...], checkpoint: Path, jobs: int) -> dict[str, Any]:
    """Every run not in the checkpoint yet, saving after each."""
    data = load(checkpoint)
    data["multipliers"] = list(multipliers)
    # a run counts as done when it reached every requested budget (an earlier, shorter run is redone)
    todo = [r for r in runs if not set(map(str, multipliers)) <= set(data["results"].get(r.key, {}).get("regret", {}))]
    print(f"{len(runs) - len(todo)} of {len(runs)} runs already in {checkpoint}; {len(todo)} to go", file=sys.stderr)
    done = 0
    started = time.time()

    def record(run: Run, result: dict[str, Any]) -> None:
        nonlocal done
        data["results"][run.key] = result
        save(checkpoint, data)
        done += 1
        print(f"[{done}/{len(todo)} {time.time() - started:6.0f} s] {run.key}: {result['regret'][str(max(multipliers))]:.3g} ({result['wall_s']:.1f} s)", file=sys.stderr, flush=True)

    if jobs <= 1:
        _worker_init()
        for run in todo:
            record(run, run_one(run, multipliers))
        return data
    with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init) as pool:
        queue = iter(todo)
        running: dict[Future[dict[str, Any]], Run] = {}
        for run in queue:
            running[pool.submit(run_one, run, multipliers)] = run
            if len(running) >= 2 * jobs:
                break
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                record(running.pop(future), future.result())
                following = next(queue, None)
                if following is not None:
                    running[pool.submit(run_one, following, multipliers)] = following
    return data


# --- report -------------------------------------------------------------------------------------


def group_of(function: int) -> str:
    return next(name for name, members in GROUPS.items() if function in members)


def ranks(values: list[float]) -> list[float]:
    """Rank 1 for the lowest; ties share the average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def complete_problems(results: dict[str, Any], solvers: list[str], multiplier: int, noise: str, dim: int) -> dict[tuple[int, int, int], dict[str, float]]:
    """(function, instance, seed) -> each solver's regret at the budget, for the problems every
    solver finished."""
    by_problem: dict[tuple[int, int, int], dict[str, float]] = {}
    for key, result in results.items():
        n, d, f, i, s, solver = key.split("|")
        if n != noise or int(d[1:]) != dim or solver not in solvers or str(multiplier) not in result["regret"]:
            continue
        by_problem.setdefault((int(f[1:]), int(i[1:]), int(s[1:])), {})[solver] = result["regret"][str(multiplier)]
    return {p: v for p, v in by_problem.items() if len(v) == len(solvers)}


def summarise(results: dict[str, Any], solvers: list[str], multiplier: int, noise: str, dim: int) -> dict[str, Any]:
    """Per group: each solver's mean rank and median normalised regret; per function: the median
    regret of each solver. Only problems (function, instance, seed) every solver finished count."""
    complete = complete_problems(results, solvers, multiplier, noise, dim)
    group_ranks: dict[str, dict[str, list[float]]] = {g: {s: [] for s in solvers} for g in GROUPS}
    group_regret: dict[str, dict[str, list[float]]] = {g: {s: [] for s in solvers} for g in GROUPS}
    per_function: dict[int, dict[str, list[float]]] = {}
    for (function, _, _), values in sorted(complete.items()):
        group = group_of(function)
        for solver, rank in zip(solvers, ranks([values[s] for s in solvers]), strict=True):
            group_ranks[group][solver].append(rank)
            group_regret[group][solver].append(values[solver])
            per_function.setdefault(function, {}).setdefault(solver, []).append(values[solver])
    return {
        "problems": len(complete),
        "rank": {g: {s: statistics.mean(v) for s, v in rows.items() if v} for g, rows in group_ranks.items()},
        "regret": {g: {s: statistics.median(v) for s, v in rows.items() if v} for g, rows in group_regret.items()},
        "function": {f: {s: statistics.median(v) for s, v in rows.items()} for f, rows in per_function.items()},
    }


def place_and_top_two_share(results: dict[str, Any], solvers: list[str], multiplier: int, noise: str, dim: int, focus: str = FOCUS) -> dict[str, tuple[int, float]]:
    """Per group: ``focus``'s place by mean rank (1 + the solvers strictly ahead) and the share of
    ``RESAMPLES`` bootstrap resamples of the group's problem runs in which it is first or second.
    With one run per function and instance a group has 8-10 runs, and its mean ranks move by
    about half a place from run to run: the share says how much a place can be trusted."""
    complete = complete_problems(results, solvers, multiplier, noise, dim)
    index = solvers.index(focus)
    rng = np.random.default_rng(0)
    out: dict[str, tuple[int, float]] = {}
    for group, members in GROUPS.items():
        rows = np.array([ranks([values[s] for s in solvers]) for (function, _, _), values in sorted(complete.items()) if function in members])
        if not len(rows):
            continue
        mean = rows.mean(axis=0)
        samples = rows[rng.integers(0, len(rows), (RESAMPLES, len(rows)))].mean(axis=1)  # (resamples, solvers)
        ahead = (samples < samples[:, [index]]).sum(axis=1)
        out[group] = (int((mean < mean[index]).sum()) + 1, float((ahead <= 1).mean()))
    return out


def report(data: dict[str, Any], solvers: list[str], notes: list[str]) -> str:
    results = data["results"]
    multipliers = sorted(int(m) for m in data.get("multipliers", [20, 50]))
    keys = [k.split("|") for k in results]
    noises = sorted({k[0] for k in keys}, key=lambda n: (n != "none", n))
    dims = sorted({int(k[1][1:]) for k in keys})
    present = [s for s in solvers if any(k[5] == s for k in keys)]
    lines = ["## BBOB: kfp-tune's algorithms against Optuna and Ax", ""]
    lines += [f"- {note}" for note in notes]
    if notes:
        lines.append("")
    lines += [
        "Cells: mean rank among the solvers (1 = best; ties averaged) / median normalised regret "
        "(regret over the median regret of a uniform random point; 0 = optimum). Bold: the best mean rank.",
        "",
    ]
    for noise in noises:
        for dim in dims:
            for multiplier in multipliers:
                summary = summarise(results, _present(keys, present, noise, dim), multiplier, noise, dim)
                if not summary["problems"]:
                    continue
                groups = [g for g in GROUPS if summary["rank"][g]]
                lines += [f"### {'noiseless' if noise == 'none' else 'noise ' + noise}, d={dim}, budget {multiplier}·d = {multiplier * dim} ({summary['problems']} problem runs)", ""]
                lines += ["| solver | " + " | ".join(groups) + " | all |", "|---|" + "---:|" * (len(groups) + 1)]
                here = _present(keys, present, noise, dim)
                overall = {s: statistics.mean(summary["rank"][g][s] for g in groups) for s in here}  # each group weighs alike
                best = {g: min(summary["rank"][g].values()) for g in groups}
                for solver in here:
                    cells = []
                    for g in groups:
                        rank = summary["rank"][g][solver]
                        text = f"{rank:.2f}"
                        cells.append(f"{'**' + text + '**' if rank == best[g] else text} / {summary['regret'][g][solver]:.3g}")
                    total = f"{overall[solver]:.2f}"
                    cells.append(f"**{total}**" if overall[solver] == min(overall.values()) else total)
                    lines.append(f"| {solver} | " + " | ".join(cells) + " |")
                lines.append("")
    if FOCUS in present:
        lines += [
            f"### How sure: {FOCUS}'s place in each group",
            "",
            f"Cells: its place by mean rank (1 = first) / the share of {RESAMPLES:,} bootstrap resamples of the group's "
            "problem runs (drawn with replacement) in which it is first or second. Bold: below one half, where a "
            "place of first or second is more likely not than so.",
            "",
            "| noise, d, budget | " + " | ".join(GROUPS) + " |",
            "|---|" + "---:|" * len(GROUPS),
        ]
        for noise in noises:
            for dim in dims:
                here = _present(keys, present, noise, dim)
                for multiplier in multipliers:
                    places = place_and_top_two_share(results, here, multiplier, noise, dim) if FOCUS in here else {}
                    if not places:  # no problem every solver here finished
                        continue
                    cells = [(f"{places[g][0]} / **{places[g][1]:.2f}**" if places[g][1] < 0.5 else f"{places[g][0]} / {places[g][1]:.2f}") if g in places else "" for g in GROUPS]
                    lines.append(f"| {noise}, {dim}, {multiplier}·d | " + " | ".join(cells) + " |")
        lines.append("")
    final = max(multipliers)
    if RANDOM in present:
        lines += [
            f"### Per function: median final regret ({final}·d) over random search's",
            "",
            "Below 1: better than random search; above 1 (bold): worse. With noise, `≈` marks a ratio above 1 where the "
            "solver's median regret is under the noise's sd (e.g. 0.01 of the normaliser for gauss:0.01): the trials' "
            "observed values cannot tell a trial that close from the optimum.",
            "",
        ]
        for noise in noises:
            for dim in dims:
                here = _present(keys, present, noise, dim)
                others = [s for s in here if s != RANDOM]
                summary = summarise(results, here, final, noise, dim)
                if not summary["problems"] or RANDOM not in here:
                    continue
                lines += [f"{'Noiseless' if noise == 'none' else 'Noise ' + noise}, d={dim}:", "", "| f | " + " | ".join(others) + " |", "|---|" + "---:|" * len(others)]
                for function, row in sorted(summary["function"].items()):
                    lines.append(f"| {function} | " + " | ".join(_ratio_cell(row[s], row[RANDOM], noise_level(noise)) for s in others) + " |")
                lines.append("")
    return "\n".join(lines) + "\n"


def _present(keys: list[list[str]], solvers: list[str], noise: str, dim: int) -> list[str]:
    """The solvers with results for this noise and dimension (Ax may have run on a part only)."""
    return [s for s in solvers if any(k[0] == noise and k[1] == f"d{dim}" and k[5] == s for k in keys)]


def _ratio_cell(value: float, random: float, floor: float = 0.0) -> str:
    """The ratio to random search's regret, bold when above 1; with ``≈`` instead of bold when
    the solver's regret is under ``floor``, the noise's sd in normalised units: a trial that
    close to the optimum cannot be told from it by its observed values."""
    if random <= 0:
        return "=" if value <= 0 else ("≈" if value < floor else "**worse**")
    ratio = value / random
    if ratio <= 1:
        return f"{ratio:.3g}"
    return f"{ratio:.3g} ≈" if value < floor else f"**{ratio:.3g}**"


# --- command line -------------------------------------------------------------------------------


def plan(functions: list[int], dims: list[int], instances: int, seeds: int, solvers: list[str], noises: list[str]) -> list[Run]:
    """Every run, the slow large problems first so that the pool finishes together."""
    runs = [Run(n, d, f, i, s, solver) for n in noises for d in dims for f in functions for i in range(1, instances + 1) for s in range(seeds) for solver in solvers]
    return sorted(runs, key=lambda r: -r.dim)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=int, nargs="+", default=list(range(1, 25)), help="BBOB function numbers, 1-24 (default all)")
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 5], help="dimensions (default 2 5; COCO has 2 3 5 10 20 40)")
    parser.add_argument("--instances", type=int, default=2, help="instances 1..N of each function (default 2)")
    parser.add_argument("--seeds", type=int, default=1, help="solver seeds per instance (default 1)")
    parser.add_argument("--solvers", nargs="+", help="solvers whose name contains one of these (default all installed)")
    parser.add_argument("--noise", nargs="+", default=["none", "gauss:0.01"], help="none and/or gauss:R (default: none gauss:0.01)")
    parser.add_argument("--budget-multipliers", type=int, nargs="+", default=[20, 50], help="budgets as multiples of d (default 20 50)")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes; default 1)")
    parser.add_argument("--out", type=Path, help="the Markdown report (default: --checkpoint with .md, else docs/bbob-results.md)")
    parser.add_argument("--checkpoint", type=Path, help="results JSON (default: --out with .json)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: functions {QUICK_FUNCTIONS}, d=2, 1 instance, noiseless, no Ax")
    parser.add_argument("--report-only", action="store_true", help="write the report from the checkpoint, run nothing")
    parser.add_argument("--merge", type=Path, nargs="+", default=[], help="first fold these checkpoints' runs into --checkpoint (a run in both: the merged file's)")
    args = parser.parse_args(argv)
    if args.quick:
        args.functions, args.dims, args.instances, args.noise = list(QUICK_FUNCTIONS), [2], 1, ["none"]
    for noise in args.noise:
        noise_level(noise)
    chosen = [s for s in ALL_SOLVERS if not args.solvers or any(o in s for o in args.solvers)]
    if args.quick and not args.solvers:
        chosen = [s for s in chosen if not s.startswith("ax")]
    notes = []
    solvers = []
    for solver in chosen:
        reason = available(solver)
        if reason:
            notes.append(f"{solver}: skipped ({reason})")
            print(notes[-1], file=sys.stderr)
        else:
            solvers.append(solver)
    if args.out is None:
        args.out = args.checkpoint.with_suffix(".md") if args.checkpoint else HERE.parent / "docs" / "bbob-results.md"
    checkpoint = args.checkpoint or args.out.with_suffix(".json")
    multipliers = tuple(sorted(args.budget_multipliers))
    started = time.time()
    if args.merge:
        print(f"merged {merge(checkpoint, args.merge)} runs into {checkpoint}", file=sys.stderr)
    if args.report_only:
        data = load(checkpoint)
    else:
        data = execute(plan(args.functions, args.dims, args.instances, args.seeds, solvers, args.noise), multipliers, checkpoint, args.jobs)
    import cocoex

    notes.append(
        f"`python benchmarks/bbob.py {shlex.join(argv if argv is not None else sys.argv[1:])}`; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, cocoex {cocoex.__version__}; this invocation took {(time.time() - started) / 60:.1f} min."
    )
    text = report(data, solvers, notes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
