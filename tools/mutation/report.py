"""The score of a mutation run made by tools/mutation.sh, per module and per package.

Run in $MUTATION_WORKDIR with the package names (``core launchers stores``). Reads mutmut's
results in each package's copy, prints a table, and writes ``survivors.txt`` there: the diff of
every mutant that no test killed, grouped by module, for review. A mutant counts as killed when
a test failed, it timed out, or it crashed the test process; it counts against the score when
every test passed or no test ran the mutated function.

A package's ``testing.py`` is a contract test suite shipped for other implementations (the
StoreContract): its mutants change a test, not the code under test, and most of them only
change the test's data (a key spelled otherwise), which no test can or should notice. The
package's score is given with it and without it.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

from mutmut.configuration import reset_config
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "caught by type check", "segfault"}
MISSED = {"survived", "no tests", "suspicious"}


def module_of(meta: Path, mutants: Path) -> str:
    """src/kfp_tune/core/records.py.meta -> kfp_tune/core/records.py"""
    return meta.relative_to(mutants / "src").as_posix().removesuffix(".meta")


def report(package: str) -> tuple[int, int] | None:
    """Prints one package's table; returns (killed, scored) or None when it has no results."""
    copy = Path(package).resolve()
    mutants = copy / "mutants"
    metas = sorted((mutants / "src").rglob("*.py.meta")) if mutants.is_dir() else []
    if not metas:
        print(f"{package}: no results (see {copy}/mutmut-run.log)")
        return None
    os.chdir(copy)
    reset_config()
    totals: Counter[str] = Counter()
    suites: Counter[str] = Counter()  # the shipped contract suites' own mutants
    survivors: list[str] = []
    print(f"{package}:")
    print(f"  {'module':<45} {'mutants':>7} {'killed':>7} {'survived':>8} {'no test':>7} {'score':>6}")
    for meta in metas:
        codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        counts = Counter(status_by_exit_code[code] for code in codes.values())
        killed = sum(counts[s] for s in KILLED)
        scored = killed + sum(counts[s] for s in MISSED)
        totals.update(counts)
        module = module_of(meta, mutants)
        if module.endswith("/testing.py"):
            suites.update(counts)
        score = f"{100 * killed / scored:5.1f}%" if scored else "  -"
        print(f"  {module:<45} {len(codes):>7} {killed:>7} {counts['survived']:>8} {counts['no tests']:>7} {score:>6}")
        source = Path("src") / module
        for name, code in sorted(codes.items()):
            status = status_by_exit_code[code]
            if status in MISSED:
                survivors.append(f"# {name}: {status}\n{get_diff_for_mutant(name, path=source)}\n")
    killed = sum(totals[s] for s in KILLED)
    scored = killed + sum(totals[s] for s in MISSED)
    unchecked = sum(totals.values()) - scored
    total_score = f"{100 * killed / scored:5.1f}%" if scored else "  -"  # nothing checked: the run failed at its start
    print(f"  {'total':<45} {sum(totals.values()):>7} {killed:>7} {totals['survived']:>8} {totals['no tests']:>7} {total_score:>6}")
    if suites:
        code = totals - suites
        code_killed = sum(code[s] for s in KILLED)
        code_scored = code_killed + sum(code[s] for s in MISSED)
        if code_scored:
            print(f"  {'total without testing.py (a test suite)':<45} {sum(code.values()):>7} {code_killed:>7} {code['survived']:>8} {code['no tests']:>7} {100 * code_killed / code_scored:5.1f}%")
    if not scored:
        print(f"  (no mutant was checked: the tests failed on the unmutated source, or the run stopped at its start; see {copy}/mutmut-run.log)")
        return None
    if unchecked:
        print(f"  ({unchecked} mutants not checked: the run was interrupted)")
    (copy / "survivors.txt").write_text("\n".join(survivors))
    print(f"  survivors: {copy / 'survivors.txt'}")
    return killed, scored


def main(packages: list[str]) -> int:
    start = Path.cwd()
    results = []
    for package in packages:
        os.chdir(start)
        results.append(report(package))
        print()
    done = [r for r in results if r is not None]
    if done:
        killed, scored = sum(k for k, _ in done), sum(s for _, s in done)
        print(f"all: {killed} of {scored} mutants killed, {100 * killed / scored:.1f}%")
    return 0 if len(done) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["core", "launchers", "stores"]))
