"""A change to bayesianoptimization measured on BBOB against the runs the reports already hold.

    python benchmarks/bbob_variant.py run VARIANT.json --noise gauss:0.01 --dims 5 --jobs 2
    python benchmarks/bbob_variant.py compare VARIANT.json --report docs/bbob-ax-d5-noise-four.json

``run`` makes bayesianoptimization's runs again, with the code as it is in the working tree (the
variant: edit ``algorithms/bayesopt.py`` first), on the problems of the reference runs (by default
docs/bbob-bo-rerun.json with docs/bbob-bo-repeat.json over it: the current code's runs of every
report's problems), each to the budgets its reference run has. ``--functions``, ``--instances``,
``--dims`` and ``--noise`` choose a slice. Checkpointed after every run as ``benchmarks/bbob.py``
does: start it again and it picks up where it stopped.

``compare`` pairs each variant run with its reference run: per dimension, budget and function
group, the mean of log10(variant regret / reference regret) ± its standard error (below 0: the
variant is better), and on how many runs it is better, worse or the same to the last digit.
With ``--report`` (a report's checkpoint, all solvers' runs), bayesianoptimization's place in
each group and its overall mean rank on that report's problems, its runs taken from the reference
and then from the variant: the measure issue 17's ranking target is written in.

A variant the reference runs were made with gives every run again to the last digit (the runs are
seeded), so a comparison that says "same" everywhere is the check that the slice and the budgets
are the reports' own. Needs what ``benchmarks/bbob.py`` needs (``pip install -e '.[benchmarks]'``).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REFERENCE = [HERE.parent / "docs" / "bbob-bo-rerun.json", HERE.parent / "docs" / "bbob-bo-repeat.json"]
# A regret of exactly 0 (the optimum reached) is counted as this in the log ratio.
REGRET_FLOOR = 1e-12


def _load_bbob() -> Any:
    """benchmarks/bbob.py, by path (benchmarks/ is not a package): its runs, problems and ranks."""
    name = "kfp_tune_benchmarks_bbob"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "bbob.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before running it: its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


def reference_results(paths: list[Path]) -> dict[str, Any]:
    """The runs of these checkpoints, a run in a later one replacing the same run in an earlier."""
    results: dict[str, Any] = {}
    for path in paths:
        if not path.exists():
            raise SystemExit(f"--reference: {path} does not exist")
        results.update(_load_bbob().load(path)["results"])
    return results


def select(reference: dict[str, Any], noises: list[str] | None, dims: list[int] | None, functions: list[int] | None, instances: list[int] | None) -> dict[tuple[int, ...], list[Any]]:
    """The focus solver's reference runs in the slice, grouped by the budgets (multipliers of d)
    each was run to."""
    bbob = _load_bbob()
    out: dict[tuple[int, ...], list[Any]] = defaultdict(list)
    for key, result in sorted(reference.items()):
        noise, d, f, i, s, solver = key.split("|")
        run = bbob.Run(noise, int(d[1:]), int(f[1:]), int(i[1:]), int(s[1:]), solver)
        if solver != bbob.FOCUS or (noises and noise not in noises) or (dims and run.dim not in dims):
            continue
        if (functions and run.function not in functions) or (instances and run.instance not in instances):
            continue
        out[tuple(sorted(int(m) for m in result["regret"]))].append(run)
    return dict(out)


def paired_log_ratios(variant: dict[str, Any], reference: dict[str, Any]) -> dict[tuple[int, int, str], list[float]]:
    """(dimension, budget multiplier, group) -> log10(variant / reference) of each paired run's
    final regret; group "all" as well."""
    bbob = _load_bbob()
    out: dict[tuple[int, int, str], list[float]] = defaultdict(list)
    for key, result in variant.items():
        if key not in reference:
            continue
        _, d, f, *_ = key.split("|")
        for multiplier, regret in result["regret"].items():
            before = reference[key]["regret"].get(multiplier)
            if before is None:
                continue
            ratio = math.log10(max(regret, REGRET_FLOOR) / max(before, REGRET_FLOOR))
            for group in (bbob.group_of(int(f[1:])), "all"):
                out[(int(d[1:]), int(multiplier), group)].append(ratio)
    return dict(out)


def ratio_lines(ratios: dict[tuple[int, int, str], list[float]]) -> list[str]:
    """One Markdown table row per (dimension, budget, group)."""
    lines = ["| d | budget | group | runs | mean log10(variant / reference) | better | worse | same |", "|---|---:|---|---:|---:|---:|---:|---:|"]
    for (dim, multiplier, group), values in sorted(ratios.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] != "all", item[0][2])):
        error = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
        better, worse = sum(v < 0 for v in values), sum(v > 0 for v in values)
        lines.append(f"| {dim} | {multiplier * dim} | {group} | {len(values)} | {statistics.mean(values):+.3f} ± {error:.3f} | {better} | {worse} | {len(values) - better - worse} |")
    return lines


def places(results: dict[str, Any], multiplier: int, noise: str, dim: int) -> tuple[dict[str, tuple[int, float]], tuple[int, float]]:
    """The focus solver's place and mean rank in each group, and overall, among the solvers of
    ``results`` on the problems they all finished (place: 1 + the solvers with a lower mean rank)."""
    bbob = _load_bbob()
    solvers = sorted({key.split("|")[5] for key in results if key.startswith(f"{noise}|d{dim}|")})
    if bbob.FOCUS not in solvers:
        return {}, (0, math.nan)
    rows: dict[str, list[list[float]]] = defaultdict(list)
    for (function, _, _), values in sorted(bbob.complete_problems(results, solvers, multiplier, noise, dim).items()):
        ranked = bbob.ranks([values[s] for s in solvers])
        rows[bbob.group_of(function)].append(ranked)
        rows["all"].append(ranked)
    focus = solvers.index(bbob.FOCUS)

    def place(group_rows: list[list[float]]) -> tuple[int, float]:
        means = [statistics.mean(row[j] for row in group_rows) for j in range(len(solvers))]
        return 1 + sum(m < means[focus] for m in means), means[focus]

    overall = rows.pop("all", [])
    return {group: place(group_rows) for group, group_rows in rows.items()}, place(overall) if overall else (0, math.nan)


def place_lines(report: dict[str, Any], reference: dict[str, Any], variant: dict[str, Any]) -> list[str]:
    """The focus solver's places on the report's problems, with the reference's runs and then the
    variant's in place of its own, for each (noise, dimension, budget) the variant ran."""
    bbob = _load_bbob()
    groups = list(bbob.GROUPS)
    lines = ["| noise | d | budget | runs of | " + " | ".join(groups) + " | overall |", "|---|---|---:|---|" + "---:|" * (len(groups) + 1)]
    settings = sorted({(k.split("|")[0], int(k.split("|")[1][1:]), int(m)) for k, r in variant.items() for m in r["regret"]})
    with_reference = {**report, **{k: v for k, v in reference.items() if k in report}}
    with_variant = {**with_reference, **{k: v for k, v in variant.items() if k in report}}
    for noise, dim, multiplier in settings:
        for label, results in (("reference", with_reference), ("variant", with_variant)):
            by_group, overall = places(results, multiplier, noise, dim)
            if not by_group:
                continue
            cells = [f"{by_group[g][0]} ({by_group[g][1]:.2f})" if g in by_group else "" for g in groups]
            lines.append(f"| {noise} | {dim} | {multiplier * dim} | {label} | " + " | ".join(cells) + f" | {overall[0]} ({overall[1]:.2f}) |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="make bayesianoptimization's reference runs again with the working tree's code")
    compare = commands.add_parser("compare", help="the variant's runs against the reference runs")
    for sub in (run, compare):
        sub.add_argument("variant", type=Path, help="the variant's checkpoint (JSON, as benchmarks/bbob.py writes)")
        sub.add_argument("--reference", type=Path, nargs="+", default=REFERENCE, help="the reference runs' checkpoints, later ones over earlier (default: docs/bbob-bo-rerun.json docs/bbob-bo-repeat.json)")
    run.add_argument("--noise", nargs="+", help="none and/or gauss:R (default: both, as the reference has them)")
    run.add_argument("--dims", type=int, nargs="+", help="dimensions (default: all the reference has)")
    run.add_argument("--functions", type=int, nargs="+", help="BBOB function numbers (default: all)")
    run.add_argument("--instances", type=int, nargs="+", help="instance numbers (default: all the reference has)")
    run.add_argument("--jobs", type=int, default=1, help="runs in parallel (processes; default 1)")
    compare.add_argument("--report", type=Path, nargs="+", default=[], help="reports' checkpoints (all solvers' runs): the places on their problems")
    args = parser.parse_args(argv)
    reference = reference_results(args.reference)
    if args.command == "run":
        chosen = select(reference, args.noise, args.dims, args.functions, args.instances)
        if not chosen:
            raise SystemExit("run: no reference run of bayesianoptimization in that slice (see --noise, --dims, --functions, --instances)")
        for multipliers, runs in chosen.items():
            _load_bbob().execute(runs, multipliers, args.variant, args.jobs)
        return
    if not args.variant.exists():
        raise SystemExit(f"compare: {args.variant} does not exist")
    variant = _load_bbob().load(args.variant)["results"]
    print("\n".join(ratio_lines(paired_log_ratios(variant, reference))))
    unpaired = sorted(set(variant) - set(reference))
    if unpaired:
        print(f"\n{len(unpaired)} of the variant's runs have no reference run and are not compared, e.g. {unpaired[0]}")
    for report in args.report:
        print(f"\nPlaces on the problems of {report} (mean rank in brackets):\n")
        print("\n".join(place_lines(reference_results([report]), reference, variant)))


if __name__ == "__main__":
    main()
