"""The schedule, measured through the paths users run: slot utilization, per-trial overhead, and
regret under parallel suggestions.

    python benchmarks/schedule.py [--quick] [--seed 0] [--repeats 3] [--parts slots,overhead,regret,components]

1. Slots: a Katib Experiment YAML (parallelTrialCount 3, maxTrialCount 30, one double, random
   search with ``random_state``) whose trial sleeps 0.6 s x lognormal(0, 1), capped at 8 s (the
   duration drawn from an RNG seeded by the benchmark seed and the parameter value, so a run is
   deterministic), and appends its own start and end ``time.time()`` to a ledger file. Each engine
   runs it through ``kfp-tune run EXP.yaml --engine inline|kfp-local --json`` as a subprocess.
   Reported: the work (sum of the trials' measured durations), the span (last end - first
   start), utilization = work / (3 x span), the ideal utilization of the same durations in the
   same start order with zero overhead (the heavy tail's own share) and the ratio of the two
   (the engine's own share), the hand-off (a trial's start - the end that freed its slot:
   median and max) and the command's wall time.
2. Overhead: the same with a trial that does nothing (it records its start and end and prints
   ``loss=x``), parallelTrialCount 1, maxTrialCount 40: (span - work) / trials per engine. The
   trial's own Python start-up counts as overhead; it is measured alone for comparison.
3. Regret: ``kfp_tune.tune()`` (which runs the same slots) with parallel_trial_count 1 and 4, and
   a reference loop that calls the designer directly, one suggestion per trial with the full
   history and no pending trial, seeded as the suggest step seeds it. Six-hump camel (2-D,
   bayesianoptimization) and Levy 4-D (tpe); median regret over the seeds (``random_state``).
   Also the same loop with 3 trials pending (trial i is suggested from trials 0..i-4, with
   i-3..i-1 pending): what parallel 4 sees once its slots are full, without the thread timing,
   so it is reproducible and cheap enough for many seeds (``--regret-methods reference,lagged
   --seeds 60``).
4. Components (not run unless asked: ``--parts components``): the cost of the static graph of
   ``kfp_tune.pipelines.component_trials`` against continuous slots, both on kfp.local with
   parallelTrialCount 2 (kfp.local runs at most 2 iterations of a ParallelFor at once).
   10 trials, a grid over an int x = 0..9, each sleeping 2 s x lognormal(0, 1), capped at 20 s,
   keyed by the seed and x, so both schedules run the same durations in the same order (the
   slots part's tail, longer: kfp.local starts each task as a fresh Python importing kfp, 1-3 s
   here, so trials of the slots part's 0.6 s scale would seldom overlap and the schedule would
   not show):
   (a) the Katib Experiment YAML through ``kfp-tune run --engine kfp-local`` (the trial the
   slots part's script), (b) the same experiment without a trial template, the trial a
   ``@dsl.component`` that sleeps and appends to the ledger, ``component_trials(...)`` run under
   ``kfp.local`` by a driver script in a subprocess, twice: the component as KFP's default makes
   it (its command pip-installs kfp, and kfp.local runs such a task holding a lock that one task
   at a time may hold), and with ``install_kfp_package=False`` (the static graph's own cost).
   All measured from the ledger as the slots part is, with the peak of trials running at once
   checked against parallelTrialCount.

Prints Markdown tables. Everything is seeded; thread timing under parallel slots is not (which
finished trials a parallel suggestion sees can vary from run to run).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

warnings.filterwarnings("ignore")

SLOTS = 3
SLOT_TRIALS = 30
OVERHEAD_TRIALS = 40
COMPONENT_SLOTS = 2
COMPONENT_TRIALS = 10
COMPONENT_SCALE = 2.0
COMPONENT_CAP = 20.0
HEAVY_SCALE = 0.6
HEAVY_CAP = 8.0

# --- trial scripts ----------------------------------------------------------------------------

HEAVY_TRIAL = '''\
"""A heavy-tailed trial: sleeps scale x lognormal(0, 1) s (capped), from an RNG keyed by x."""
import random
import sys
import time

start = time.time()
args = dict(a.split("=", 1) for a in sys.argv[1:])
rng = random.Random(args["seed"] + ":" + args["x"])
duration = min(float(args["cap"]), float(args["scale"]) * rng.lognormvariate(0.0, 1.0))
time.sleep(duration)
x = float(args["x"])
print("loss=%r" % ((x - 0.3) ** 2), flush=True)
end = time.time()
with open(args["ledger"], "a") as ledger:
    ledger.write("%s %r %r\\n" % (args["trial"], start, end))
'''

NOOP_TRIAL = '''\
"""A trial that does nothing: records its start and end, prints loss=x."""
import sys
import time

start = time.time()
args = dict(a.split("=", 1) for a in sys.argv[1:])
print("loss=" + args["x"], flush=True)
end = time.time()
with open(args["ledger"], "a") as ledger:
    ledger.write("%s %r %r\\n" % (args["trial"], start, end))
'''

COMPONENT_DRIVER = '''\
"""Runs component trials on kfp.local: the trial is a @dsl.component that sleeps the heavy-tailed
duration keyed by the seed and x (as the slots part's script does) and appends its own start and
end to the ledger. argv[1]: JSON {experiment, store, root, seed, scale, cap, ledger, install_kfp}
(install_kfp: the component's install_kfp_package). Prints the experiment's summary as one JSON
line, as `kfp-tune run --json` does."""
import json
import sys

from kfp import dsl, local


def heavy_trial(x: int, seed: str, scale: float, cap: float, ledger: str) -> float:
    """Sleeps scale x lognormal(0, 1) s (capped), from an RNG keyed by the seed and x."""
    import random
    import time

    start = time.time()
    rng = random.Random(seed + ":" + str(x))
    time.sleep(min(cap, scale * rng.lognormvariate(0.0, 1.0)))
    end = time.time()
    with open(ledger, "a") as handle:
        handle.write("x=%d %r %r\\n" % (x, start, end))
    return (x - 0.3) ** 2


def main():
    args = json.loads(sys.argv[1])
    from kfp_tune.pipelines import component_trials
    from kfp_tune.reports import summarize
    from kfp_tune.stores import LocalStore

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=args["root"], raise_on_error=True)
    component = dsl.component(heavy_trial, install_kfp_package=args["install_kfp"])
    pipeline = component_trials(args["experiment"], component, store_uri=args["store"])
    pipeline(seed=args["seed"], scale=args["scale"], cap=args["cap"], ledger=args["ledger"], s3_endpoint="")
    summary = summarize(LocalStore(args["store"]), args["experiment"]["metadata"]["name"])
    keys = ("experiment", "status", "reason", "trials", "succeeded", "failed", "best_trial")
    print(json.dumps({k: summary[k] for k in keys}, sort_keys=True))


main()
'''


def experiment_doc(name: str, script: Path, ledger: Path, parallel: int, trials: int, random_state: int, extra: list[str]) -> dict[str, Any]:
    """A Katib Experiment: one double x, random search, a python trial script, StdOut metrics."""
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": str(random_state)}]},
            "parallelTrialCount": parallel,
            "maxTrialCount": trials,
            "maxFailedTrialCount": 3,
            "metricsCollectorSpec": {"collector": {"kind": "StdOut"}},
            "parameters": [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0.0", "max": "1.0"}}],
            "trialTemplate": {
                "primaryContainerName": "main",
                "trialParameters": [
                    {"name": "x", "reference": "x"},
                    {"name": "trialName", "reference": "${trialSpec.Name}"},
                ],
                "trialSpec": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [{
                                    "name": "main",
                                    "image": "python:3.11-slim",
                                    "command": ["python3", str(script)],
                                    "args": ["x=${trialParameters.x}", "trial=${trialParameters.trialName}", f"ledger={ledger}", *extra],
                                }],
                                "restartPolicy": "Never",
                            }
                        }
                    },
                },
            },
        },
    }


# --- running the CLI --------------------------------------------------------------------------


def kfp_tune_command() -> list[str]:
    sibling = Path(sys.executable).parent / "kfp-tune"
    if sibling.exists():
        return [str(sibling)]
    found = shutil.which("kfp-tune")
    if found:
        return [found]
    raise SystemExit("kfp-tune not found next to this Python nor on PATH; pip install -e . first")


@dataclass
class EngineRun:
    engine: str
    name: str
    wall: float
    outcome: dict[str, Any]
    intervals: list[tuple[str, float, float]]  # (trial, start, end), in start order

    @property
    def work(self) -> float:
        return sum(end - start for _, start, end in self.intervals)

    @property
    def span(self) -> float:
        if not self.intervals:
            return float("nan")
        return max(end for _, _, end in self.intervals) - min(start for _, start, _ in self.intervals)


def run_cli(engine: str, doc: dict[str, Any], tmp: Path, ledger: Path, timeout: float) -> EngineRun:
    name = doc["metadata"]["name"]
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    ledger.unlink(missing_ok=True)
    argv = [*kfp_tune_command(), "run", str(path), "--store", str(tmp / "store"), "--name", name, "--engine", engine, "--json"]
    began = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    try:
        outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        outcome = {"status": f"exit {proc.returncode}", "reason": proc.stderr.strip()[-2000:]}
    if proc.returncode != 0:
        print(f"warning: {engine} {name}: exit {proc.returncode}: {outcome.get('status')} {outcome.get('reason')}", file=sys.stderr)
        print(proc.stderr[-3000:], file=sys.stderr)
    intervals = []
    if ledger.exists():
        for line in ledger.read_text().splitlines():
            trial, start, end = line.split()
            intervals.append((trial, float(start), float(end)))
    intervals.sort(key=lambda t: t[1])
    return EngineRun(engine, name, wall, outcome, intervals)


def handoffs(intervals: list[tuple[str, float, float]], slots: int) -> list[float]:
    """For each trial after the first ``slots`` (in start order), its start minus the end that
    freed its slot: the (i - slots)-th end in end order. Continuous slots make this the
    per-trial orchestration gap; a run that waits for all slots to drain shows it as a long one."""
    starts = [s for _, s, _ in intervals]
    ends = sorted(e for _, _, e in intervals)
    return [starts[i] - ends[i - slots] for i in range(slots, len(starts))]


def peak_running(intervals: list[tuple[str, float, float]]) -> int:
    """The most trials running at once (an end at the same instant as a start frees first)."""
    events = sorted([(s, 1) for _, s, _ in intervals] + [(e, -1) for _, _, e in intervals], key=lambda ev: (ev[0], ev[1]))
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def ideal_span(durations: list[float], slots: int) -> float:
    """Greedy list scheduling of the durations in this order on ``slots`` slots, zero overhead."""
    free = [0.0] * slots
    for d in durations:
        i = free.index(min(free))
        free[i] += d
    return max(free) if durations else float("nan")


def fmt(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}"


# --- 1. slots ---------------------------------------------------------------------------------


def bench_slots(engines: list[str], repeats: int, trials: int, seed: int, tmp: Path, timeout: float) -> list[EngineRun]:
    script = tmp / "heavy_trial.py"
    script.write_text(HEAVY_TRIAL)
    runs = []
    for r in range(repeats):
        for engine in engines:
            name = f"slots-{engine}-{r}"
            ledger = tmp / f"{name}.ledger"
            extra = [f"seed={seed + r}", f"scale={HEAVY_SCALE}", f"cap={HEAVY_CAP}"]
            doc = experiment_doc(name, script, ledger, SLOTS, trials, seed + r, extra)
            run = run_cli(engine, doc, tmp, ledger, timeout)
            runs.append(run)
            print(f"  slots {engine} repeat {r}: {len(run.intervals)} trials, wall {run.wall:.1f} s", file=sys.stderr)
    return runs


def slots_table(runs: list[EngineRun], slots: int = SLOTS) -> str:
    rows = [
        "| engine | run | trials | peak running | work (s) | span (s) | utilization | ideal utilization | utilization / ideal | hand-off median / max (s) | wall (s) | status |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        durations = [e - s for _, s, e in run.intervals]
        util = run.work / (slots * run.span) if run.intervals else float("nan")
        ideal = run.work / (slots * ideal_span(durations, slots)) if run.intervals else float("nan")
        gaps = handoffs(run.intervals, slots)
        gap = f"{fmt(statistics.median(gaps))} / {fmt(max(gaps))}" if gaps else "n/a"
        rows.append(
            f"| {run.engine} | {run.name} | {len(run.intervals)} | {peak_running(run.intervals)} | {fmt(run.work, 1)} | {fmt(run.span, 1)} | {fmt(util)} | {fmt(ideal)} | {fmt(util / ideal)} "
            f"| {gap} | {fmt(run.wall, 1)} | {run.outcome.get('status')} |"
        )
    return "\n".join(rows)


# --- 2. overhead ------------------------------------------------------------------------------


def python_startup(samples: int = 10) -> float:
    """Median wall time of starting this Python with -c pass (part of every trial's overhead)."""
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def bench_overhead(engines: list[str], repeats: int, trials: int, seed: int, tmp: Path, timeout: float) -> list[EngineRun]:
    script = tmp / "noop_trial.py"
    script.write_text(NOOP_TRIAL)
    runs = []
    for r in range(repeats):
        for engine in engines:
            name = f"overhead-{engine}-{r}"
            ledger = tmp / f"{name}.ledger"
            doc = experiment_doc(name, script, ledger, 1, trials, seed + r, [])
            run = run_cli(engine, doc, tmp, ledger, timeout)
            runs.append(run)
            print(f"  overhead {engine} repeat {r}: {len(run.intervals)} trials, wall {run.wall:.1f} s", file=sys.stderr)
    return runs


def overhead_table(runs: list[EngineRun]) -> str:
    rows = [
        "| engine | run | trials | work (s) | span (s) | (span - work) / trials (s) | gap median / max (s) | wall (s) | wall / trials (s) | status |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        n = len(run.intervals)
        per = (run.span - run.work) / n if n else float("nan")
        gaps = handoffs(run.intervals, 1)
        gap = f"{fmt(statistics.median(gaps))} / {fmt(max(gaps))}" if gaps else "n/a"
        rows.append(
            f"| {run.engine} | {run.name} | {n} | {fmt(run.work, 3)} | {fmt(run.span, 1)} | {fmt(per)} | {gap} "
            f"| {fmt(run.wall, 1)} | {fmt(run.wall / n if n else float('nan'))} | {run.outcome.get('status')} |"
        )
    return "\n".join(rows)


# --- 4. components ----------------------------------------------------------------------------

CONTINUOUS = "continuous slots"
COMPONENT_VARIANTS = {True: "component trials (@dsl.component)", False: "component trials (install_kfp_package=False)"}
"""The trial component as KFP's default makes it (its command pip-installs kfp) and without that
install: kfp.local runs a task whose command has ``pip install`` holding one lock for the whole
task (SubprocessRunner, ``kfp.local.subprocess_task_handler.environment``), so the default's
trials run one at a time whatever the ParallelFor's parallelism."""


def component_experiment_doc(name: str, script: Path, ledger: Path, trials: int, extra: list[str], template: bool) -> dict[str, Any]:
    """The slots part's experiment as a grid over an int x = 0..trials-1 (the same trials on both
    schedules; grid draws them in a random order, as Katib's does, seeded by random_state here so
    the order varies only where the two schedules' histories do), parallelTrialCount
    :data:`COMPONENT_SLOTS`; without a trial template when the trials are the component's."""
    doc = experiment_doc(name, script, ledger, COMPONENT_SLOTS, trials, 0, extra)
    doc["spec"]["algorithm"] = {"algorithmName": "grid", "algorithmSettings": [{"name": "random_state", "value": "0"}]}
    doc["spec"]["parameters"] = [{"name": "x", "parameterType": "int", "feasibleSpace": {"min": "0", "max": str(trials - 1)}}]
    if not template:
        del doc["spec"]["trialTemplate"]
    return doc


def read_ledger(ledger: Path) -> list[tuple[str, float, float]]:
    """The ledger's (trial, start, end) lines, in start order."""
    intervals = []
    if ledger.exists():
        for line in ledger.read_text().splitlines():
            trial, start, end = line.split()
            intervals.append((trial, float(start), float(end)))
    return sorted(intervals, key=lambda t: t[1])


def run_component_trials(doc: dict[str, Any], tmp: Path, ledger: Path, extra: dict[str, Any], install_kfp: bool, timeout: float) -> EngineRun:
    """``component_trials(...)`` under kfp.local, in a subprocess as the CLI runs (its wall time
    counts Python's start, the imports and the compile, as the CLI's does)."""
    name = doc["metadata"]["name"]
    driver = tmp / "component_driver.py"
    driver.write_text(COMPONENT_DRIVER)
    ledger.unlink(missing_ok=True)
    args = {"experiment": doc, "store": str(tmp / "store"), "root": str(tmp / f"{name}-root"), "ledger": str(ledger), "install_kfp": install_kfp, **extra}
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, str(driver), json.dumps(args)], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    try:
        outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        outcome = {"status": f"exit {proc.returncode}", "reason": proc.stderr.strip()[-2000:]}
    if proc.returncode != 0:
        print(f"warning: component trials {name}: exit {proc.returncode}", file=sys.stderr)
        print((proc.stderr or proc.stdout)[-3000:], file=sys.stderr)
    return EngineRun(COMPONENT_VARIANTS[install_kfp], name, wall, outcome, read_ledger(ledger))


def bench_components(repeats: int, trials: int, seed: int, tmp: Path, timeout: float) -> list[EngineRun]:
    """Repeat r: the durations of seed + r, on continuous slots, then as component trials (the
    component as KFP's default makes it, then without its kfp install)."""
    script = tmp / "heavy_trial.py"
    script.write_text(HEAVY_TRIAL)
    runs = []
    for r in range(repeats):
        extra = {"seed": str(seed + r), "scale": COMPONENT_SCALE, "cap": COMPONENT_CAP}
        name = f"continuous-{r}"
        ledger = tmp / f"{name}.ledger"
        doc = component_experiment_doc(name, script, ledger, trials, [f"{k}={v}" for k, v in extra.items()], template=True)
        run = run_cli("kfp-local", doc, tmp, ledger, timeout)
        runs.append(EngineRun(CONTINUOUS, run.name, run.wall, run.outcome, run.intervals))
        for install_kfp in (True, False):
            name = f"components-{r}" if install_kfp else f"components-no-install-{r}"
            ledger = tmp / f"{name}.ledger"
            doc = component_experiment_doc(name, script, ledger, trials, [], template=False)
            runs.append(run_component_trials(doc, tmp, ledger, extra, install_kfp, timeout))
        for run in runs[-3:]:
            print(f"  components {run.engine} repeat {r}: {len(run.intervals)} trials, wall {run.wall:.1f} s", file=sys.stderr)
    return runs


def components_notes(runs: list[EngineRun], trials: int) -> list[str]:
    """What the table implies: the extra wall time per trial, and any schedule that ran more
    trials at once than parallelTrialCount, or lost trials."""
    notes = []
    continuous = [run for run in runs if run.engine == CONTINUOUS]
    for variant in COMPONENT_VARIANTS.values():
        pairs = [(a, b) for a, b in zip(continuous, [run for run in runs if run.engine == variant], strict=True) if a.intervals and b.intervals]
        if pairs:
            extra = statistics.median((b.wall - a.wall) / trials for a, b in pairs)
            same = all(abs(a.work - b.work) < 0.05 * trials for a, b in pairs)
            notes.append(
                f"{variant}: {fmt(extra, 2)} s more wall time per trial than continuous slots (median over {len(pairs)} repeats); "
                f"the same work as continuous slots (within 0.05 s a trial) in every repeat: {'yes' if same else 'no'}."
            )
    for run in runs:
        peak = peak_running(run.intervals)
        if peak > COMPONENT_SLOTS:
            notes.append(f"DEFECT: {run.engine} {run.name} ran {peak} trials at once, more than parallelTrialCount {COMPONENT_SLOTS}.")
        if len(run.intervals) != trials:
            notes.append(f"{run.engine} {run.name}: {len(run.intervals)} of {trials} trials in the ledger.")
    return notes


# --- 3. regret --------------------------------------------------------------------------------

CAMEL_MIN = -1.0316284534898774


def six_hump_camel(p: dict[str, Any]) -> float:
    x1, x2 = float(p["x1"]), float(p["x2"])
    return (4 - 2.1 * x1**2 + x1**4 / 3) * x1**2 + x1 * x2 + (-4 + 4 * x2**2) * x2**2


def levy(p: dict[str, Any]) -> float:
    x = np.array([float(p[f"x{i}"]) for i in range(4)])
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    body = float(np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)))
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + body + tail)


@dataclass
class RegretProblem:
    name: str
    algorithm: str
    fn: Callable[[dict[str, Any]], float]
    optimum: float
    bounds: dict[str, tuple[float, float]]


def regret_problems() -> list[RegretProblem]:
    return [
        RegretProblem("six-hump camel (2-D)", "bayesianoptimization", six_hump_camel, CAMEL_MIN, {"x1": (-3.0, 3.0), "x2": (-2.0, 2.0)}),
        RegretProblem("levy (4-D)", "tpe", levy, 0.0, {f"x{i}": (-10.0, 10.0) for i in range(4)}),
    ]


def reference_loop(problem: RegretProblem, trials: int, seed: int, lag: int = 0) -> list[float]:
    """One suggestion per trial, the full history, nothing pending: the designer called as the
    suggest step calls it (``next_suggestions`` with ``call_seq`` = the trial's index, since the
    slots record one round per trial), values passed through their stored string form.

    ``lag`` > 0: trial i is suggested from trials 0..i-lag-1 with the ``lag`` before it pending,
    as in ``lag`` + 1 slots whose trials take equal time (deterministic, unlike the slots)."""
    from kfp_tune import search
    from kfp_tune.algorithms import registry
    from kfp_tune.algorithms.base import FinishedTrial
    from kfp_tune.api import function_experiment
    from kfp_tune.core.vocabulary import TrialStatus
    from kfp_tune.steps.designer import problem_of

    params = {k: search.double(lo, hi) for k, (lo, hi) in problem.bounds.items()}
    experiment = function_experiment(
        "reference", params, "loss", "minimize", problem.algorithm, {"random_state": seed}, trials, 1, None, None
    )
    prob = problem_of(experiment)
    history: list[FinishedTrial] = []
    values = []
    for i in range(trials):
        algorithm = registry.create(problem.algorithm, prob.settings)
        rng = np.random.default_rng([prob.seed, i])
        cut = max(0, i - lag)
        result = algorithm.suggest(prob, history[:cut], [t.assignment for t in history[cut:]], 1, rng)
        assignment = prob.space.parse(prob.space.format(result.assignments[0]))
        value = problem.fn(assignment)
        history.append(FinishedTrial(f"t{i}", assignment, TrialStatus.SUCCEEDED, value, {"loss": value}))
        values.append(value)
    return values


def tune_loop(problem: RegretProblem, trials: int, seed: int, parallel: int, store: Path) -> list[float]:
    """kfp_tune.tune(): the objective's values in trial order (the order the trials were created)."""
    from kfp_tune import search, tune

    params = {k: search.double(lo, hi) for k, (lo, hi) in problem.bounds.items()}
    result = tune(
        problem.fn, params, objective_metric_name="loss", objective_type="minimize", algorithm=problem.algorithm,
        algorithm_settings={"random_state": seed}, max_trial_count=trials, parallel_trial_count=parallel,
        store=str(store), name=f"{problem.algorithm}-p{parallel}-s{seed}",
    )
    if result.status != "Succeeded":
        print(f"warning: tune {problem.name} p{parallel} seed {seed}: {result.status}", file=sys.stderr)
    # trials come back in creation order (the trial index); see tune_result
    return [t.metrics["loss"] for t in result.trials if "loss" in t.metrics]


def best_after(values: list[float], n: int) -> float:
    return min(values[:n]) if values[:n] else float("nan")


REGRET_METHODS = {
    "reference": "one per trial (reference loop)",
    "parallel1": "tune(), parallel 1",
    "parallel4": "tune(), parallel 4",
    "lagged": "3 pending (lagged reference loop)",
}


def bench_regret(trials: int, seeds: int, seed: int, tmp: Path, which: list[str] | None = None) -> tuple[str, str, list[str]]:
    """``which``: keys of REGRET_METHODS (the reference loop always runs: the ratios need it)."""
    checkpoints = sorted({max(1, trials // 2), trials})
    keys = ["reference", *[k for k in (which or list(REGRET_METHODS)) if k != "reference"]]
    methods = [REGRET_METHODS[k] for k in keys]
    parallel = [m for k, m in zip(keys, methods, strict=True) if k in ("parallel4", "lagged")]
    table = [
        "| problem (algorithm) | method | " + " | ".join(f"median regret @{c}" for c in checkpoints) + " | wall (s) |",
        "|---|---|" + "---:|" * len(checkpoints) + "---:|",
    ]
    ratio = [
        "| problem (algorithm) | "
        + " | ".join(f"{'parallel 4' if m.startswith('tune') else '3 pending'} / one per trial @{c}" for m in parallel for c in checkpoints)
        + (" | tune() parallel 1 = reference loop |" if "parallel1" in keys else " |"),
        "|---|" + "---:|" * (len(checkpoints) * len(parallel)) + ("---|" if "parallel1" in keys else ""),
    ]
    notes: list[str] = []
    for problem in regret_problems():
        values: dict[str, list[list[float]]] = {m: [] for m in methods}
        walls: dict[str, float] = dict.fromkeys(methods, 0.0)
        for s in range(seed, seed + seeds):
            for key, method in zip(keys, methods, strict=True):
                began = time.perf_counter()
                if key == "reference":
                    v = reference_loop(problem, trials, s)
                elif key == "lagged":
                    v = reference_loop(problem, trials, s, lag=3)
                else:
                    v = tune_loop(problem, trials, s, 4 if key == "parallel4" else 1, tmp / "tune-store")
                walls[method] += time.perf_counter() - began
                values[method].append(v)
            print(f"  regret {problem.name} seed {s} done", file=sys.stderr)
        medians: dict[str, list[float]] = {}
        for method in methods:
            medians[method] = [statistics.median(best_after(v, c) - problem.optimum for v in values[method]) for c in checkpoints]
            table.append(
                f"| {problem.name} ({problem.algorithm}) | {method} | " + " | ".join(f"{m:.4g}" for m in medians[method])
                + f" | {walls[method]:.1f} |"
            )
        short = [m for m in methods if any(len(v) < trials for v in values[m])]
        if short:
            notes.append(f"{problem.name}: fewer than {trials} trials reported by {short}")
        ratios = []
        for method in parallel:
            for i in range(len(checkpoints)):
                ref = medians[methods[0]][i]
                par = medians[method][i]
                ratios.append(f"{par / ref:.2f}" if ref > 0 else "n/a (reference regret 0)")
        row = f"| {problem.name} ({problem.algorithm}) | " + " | ".join(ratios) + " |"
        if "parallel1" in keys:
            same = all(
                len(a) == len(b) and np.allclose(a, b, rtol=1e-9, atol=1e-12)
                for a, b in zip(values[methods[0]], values[REGRET_METHODS["parallel1"]], strict=True)
            )
            row += f" {'yes, identical values' if same else 'no'} |"
        ratio.append(row)
    return "\n".join(table), "\n".join(ratio), notes


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run: fewer trials, one repeat, two seeds")
    parser.add_argument("--seed", type=int, default=0, help="base seed (random_state, trial durations)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per engine for parts 1 and 2 (default 3, --quick 1)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds for part 3 (default 5, --quick 2)")
    parser.add_argument("--engines", default="inline,kfp-local", help="comma-separated engines for parts 1 and 2")
    parser.add_argument("--parts", default="slots,overhead,regret", help="comma-separated: slots, overhead, regret, components")
    parser.add_argument(
        "--regret-methods", default=",".join(REGRET_METHODS),
        help="comma-separated, for part 3: " + ", ".join(REGRET_METHODS) + " (the reference loop always runs)",
    )
    parser.add_argument("--keep", metavar="DIR", help="keep the experiments, ledgers and stores in DIR (default: a temp dir, removed)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds one kfp-tune run may take")
    parser.add_argument("--component-trials", type=int, default=None,
                        help=f"maxTrialCount for part 4 (default {COMPONENT_TRIALS}, --quick 6)")
    parser.add_argument("--slot-trials", type=int, default=None,
                        help=f"maxTrialCount for part 1 (default {SLOT_TRIALS}, --quick 12): more trials spread the tail's idle slots thinner")
    args = parser.parse_args(argv)

    repeats = args.repeats or (1 if args.quick else 3)
    seeds = args.seeds or (2 if args.quick else 5)
    slot_trials = args.slot_trials or (12 if args.quick else SLOT_TRIALS)
    overhead_trials = 10 if args.quick else OVERHEAD_TRIALS
    component_trials = args.component_trials or (6 if args.quick else COMPONENT_TRIALS)
    regret_trials = 20 if args.quick else 60
    engines = [e for e in args.engines.split(",") if e]
    parts = {p for p in args.parts.split(",") if p}
    which = [m for m in args.regret_methods.split(",") if m]
    unknown = sorted(set(which) - set(REGRET_METHODS))
    if unknown:
        parser.error(f"unknown --regret-methods {unknown}; known: {', '.join(REGRET_METHODS)}")

    if args.keep:
        tmp = Path(args.keep).resolve()
        tmp.mkdir(parents=True, exist_ok=True)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="kfp-tune-schedule-"))
    work = tmp / time.strftime("run-%Y%m%d-%H%M%S")  # a fresh store: the same names again would resume
    work.mkdir()
    began = time.perf_counter()
    cores = os.cpu_count()
    print("# The schedule: slots, overhead, regret\n")
    command = " ".join(["python benchmarks/schedule.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"Command: `{command}`  ")
    print(f"Machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}, {platform.system()}; "
          f"{time.strftime('%Y-%m-%d')}; load average (1 / 5 / 15 min) at the start {load()}\n")
    try:
        if "slots" in parts:
            print(f"## Slot utilization: {SLOTS} slots, {slot_trials} heavy-tailed trials "
                  f"({HEAVY_SCALE} s x lognormal(0, 1), capped at {HEAVY_CAP:g} s)\n", flush=True)
            print(slots_table(bench_slots(engines, repeats, slot_trials, args.seed, work, args.timeout)) + "\n", flush=True)
        if "overhead" in parts:
            startup = python_startup()
            print(f"## Per-trial overhead: 1 slot, {overhead_trials} trials that do nothing\n")
            print(f"A bare `python -c pass` starts in {startup:.3f} s here (median of 10); each trial pays it once.\n", flush=True)
            print(overhead_table(bench_overhead(engines, repeats, overhead_trials, args.seed, work, args.timeout)) + "\n", flush=True)
        if "regret" in parts:
            print(f"## Regret: {regret_trials} trials, median over {seeds} seeds (random_state {args.seed}..{args.seed + seeds - 1})\n", flush=True)
            table, ratio, notes = bench_regret(regret_trials, seeds, args.seed, work, which)
            print(table + "\n")
            print(ratio + "\n")
            for note in notes:
                print(f"- {note}")
        if "components" in parts:
            print(f"## Component trials against continuous slots (kfp.local): {COMPONENT_SLOTS} slots, {component_trials} heavy-tailed trials "
                  f"({COMPONENT_SCALE} s x lognormal(0, 1), capped at {COMPONENT_CAP:g} s)\n", flush=True)
            runs = bench_components(repeats, component_trials, args.seed, work, args.timeout)
            print(slots_table(runs, COMPONENT_SLOTS) + "\n")
            for note in components_notes(runs, component_trials):
                print(f"- {note}")
            print(flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nThe whole benchmark took {time.perf_counter() - began:.0f} s; load average at the end {load()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
